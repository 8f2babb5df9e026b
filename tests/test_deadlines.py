"""The deadline timeline: offsets per kind, working days against Chinese holidays (and the 2027 fallback), .ics."""
from __future__ import annotations

import datetime as dt
import re

import chinese_calendar
import pytest
from icalendar import Calendar

from orglife_nb.cli import main
from orglife_nb.deadlines import (COLUMNS, FALLBACK_SOURCE, HolidayCalendar, event_uid, format_table, timeline,
                                  to_ics)
from orglife_nb.errors import OrglifeError
from orglife_nb.rules.profile import load_profile
from orglife_nb.rules.registry import get_rule
from orglife_nb.sources import cite
from orglife_nb.textable import display_width
from clikit import cli as run

D = dt.date
WEDNESDAY = D(2026, 6, 24)  # notice (−10) falls on Sunday 2026-06-14; 端午 is Friday 2026-06-19


def by_key(frame):
    return {row.key: row for row in frame.itertuples()}


def days(n):
    return dt.timedelta(days=n)


# ---- offsets -------------------------------------------------------------------------------------------------


def test_regular_timeline_offsets():
    frame = timeline("regular", WEDNESDAY)
    assert list(frame.columns) == list(COLUMNS)
    rows = by_key(frame)
    assert rows["notice"].due == WEDNESDAY - days(10) and rows["notice"].offset == -10
    assert rows["superior_notice"].due == WEDNESDAY - days(7)
    assert rows["report"].due == WEDNESDAY + days(10) and rows["report"].offset == 10
    assert rows["meeting"].due == WEDNESDAY and rows["meeting"].relation == "当天"
    assert rows["notice"].relation == "不晚于" and rows["notice"].basis == "规定"
    assert rows["plan"].basis == "建议" and rows["plan"].rule == "PREP-PLAN"
    assert list(frame["offset"]) == sorted(frame["offset"])  # date order
    assert set(frame["stage"]) == {"会前准备", "召开会议", "会后整改"}


def test_leadership_timeline_offsets():
    meeting = D(2026, 12, 16)
    rows = by_key(timeline("leadership", meeting))
    assert rows["plan"].due == meeting - days(15) and rows["plan"].rule == "PREP-PLAN-DEADLINE"
    assert rows["plan"].basis == "规定" and rows["plan"].source == "003 民主 二.2"
    assert rows["public_notice"].due == meeting - days(15) and rows["public_notice"].rule == "PREP-PUBLIC-NOTICE"
    assert rows["report"].due == meeting + days(15)
    # one calendar month (rules.md rev 3): 12-16 → 01-16
    assert rows["public_report"].due == D(2027, 1, 16) and rows["public_report"].rule == "POST-PUBLIC-REPORT"
    assert "3天左右" in rows["study"].step and "003 民主 二.4" == rows["study"].source


def test_steps_follow_the_kind():
    keys = {kind: set(timeline(kind, WEDNESDAY)["key"]) for kind in ("regular", "special", "leadership")}
    assert keys["regular"] == keys["special"]
    assert {"superior_notice", "rectification_public"} <= keys["regular"] - keys["leadership"]
    assert {"public_notice"} <= keys["leadership"] - keys["regular"]
    # rules.md revision 2: every kind tells cadres and masses within the month (POST-PUBLIC-REPORT)
    assert "public_report" in keys["regular"] & keys["leadership"]
    special_meeting = by_key(timeline("special", WEDNESDAY))["meeting"]
    assert special_meeting.rule == "MEET-DURATION" and "4 小时" in special_meeting.note


def test_kind_by_chinese_label_and_bad_kind():
    assert timeline("民主生活会", WEDNESDAY).attrs["kind"] == "leadership"
    with pytest.raises(OrglifeError, match="会议类型“党员大会”无效"):
        timeline("党员大会", WEDNESDAY)


def test_profile_moves_the_deadlines(tmp_path):
    assert by_key(timeline("regular", WEDNESDAY, load_profile("lenient")))["notice"].due == WEDNESDAY - days(5)
    path = tmp_path / "p.yaml"
    path.write_text("report_days: 7\npublic_report_months: 2\n", encoding="utf-8")
    profile = load_profile(path)
    assert by_key(timeline("regular", WEDNESDAY, profile))["report"].due == WEDNESDAY + days(7)
    # calendar months (rules.md rev 3): 06-24 + 2 months
    assert by_key(timeline("leadership", WEDNESDAY, profile))["public_report"].due == D(2026, 8, 24)


# ---- working days --------------------------------------------------------------------------------------------


def test_weekend_deadline_is_flagged_with_the_earlier_working_day():
    notice = by_key(timeline("regular", WEDNESDAY))["notice"]
    assert (notice.due, notice.weekday, notice.workday, notice.holiday) == (D(2026, 6, 14), "周日", False, "")
    assert notice.suggested == D(2026, 6, 12)  # Friday
    assert "建议提前至 2026-06-12（周五）" in notice.note


def test_national_day_deadline_is_flagged():
    notice = by_key(timeline("regular", D(2026, 10, 11)))["notice"]
    assert notice.due == D(2026, 10, 1) and not notice.workday
    assert notice.holiday == "国庆节"
    assert notice.suggested == D(2026, 9, 30)


def test_a_make_up_working_saturday_is_not_flagged():
    saturday = D(2026, 10, 10)
    # chinese_calendar's own data: a Saturday listed as a 调休 working day
    assert saturday.weekday() == 5 and saturday in chinese_calendar.workdays
    rows = by_key(timeline("regular", saturday))
    meeting = rows["meeting"]
    assert meeting.workday and meeting.holiday == "" and meeting.suggested is None
    assert meeting.note == "调休上班日（国庆节）"
    # a Sunday meeting stays on its Sunday (the meeting date is a fact); its notice moves to a working day
    sunday = by_key(timeline("regular", D(2026, 10, 11)))
    assert sunday["meeting"].due == D(2026, 10, 11) and sunday["meeting"].suggested is None
    assert sunday["meeting"].day_off == "周日（休息日）召开"


def test_suggestions_are_earlier_working_days_and_stay_after_the_meeting():
    calendar = HolidayCalendar()
    for kind in ("regular", "leadership"):
        for meeting in (D(2026, 1, 30), D(2026, 5, 6), D(2026, 10, 8), D(2026, 12, 28)):
            for row in timeline(kind, meeting, holidays=calendar).itertuples():
                assert (row.suggested is None) == row.workday or row.offset >= 0
                if row.suggested is not None:
                    assert row.suggested < row.due and calendar.is_workday(row.suggested)
                    assert row.offset <= 0 or row.suggested > meeting


def test_a_2027_date_uses_the_holidays_fallback_and_says_so():
    frame = timeline("regular", D(2027, 10, 11))
    assert set(frame["calendar"]) == {FALLBACK_SOURCE}
    assert all("holidays.China" in note for note in frame["note"])
    assert "2027" in frame.attrs["holiday_note"] and "holidays.China" in frame.attrs["holiday_note"]
    assert "不含调休" in frame.attrs["holiday_note"]
    notice = by_key(frame)["notice"]
    assert notice.due == D(2027, 10, 1) and notice.holiday == "国庆节" and notice.suggested == D(2027, 9, 30)


def test_covered_year_says_chinese_calendar_only():
    frame = timeline("regular", WEDNESDAY)
    assert set(frame["calendar"]) == {"chinese-calendar"}
    assert "holidays.China" not in frame.attrs["holiday_note"]


def test_user_holiday_list_yaml_and_csv(tmp_path):
    yaml_file = tmp_path / "h.yaml"
    yaml_file.write_text("holidays:\n  2027-09-28: 单位活动日\nworkdays:\n  - 2027-09-26\n", encoding="utf-8")
    csv_file = tmp_path / "h.csv"
    csv_file.write_text("日期,名称,类型\n2027-09-28,单位活动日,放假\n2027/9/26,,上班\n", encoding="utf-8-sig")
    for path in (yaml_file, csv_file):
        calendar = HolidayCalendar.from_file(path)
        assert calendar.is_workday(D(2027, 9, 26))  # a Sunday made a working day
        assert not calendar.is_workday(D(2027, 9, 28)) and calendar.holiday_name(D(2027, 9, 28)) == "单位活动日"
        notice = by_key(timeline("regular", D(2027, 10, 8), holidays=calendar))["notice"]
        assert notice.due == D(2027, 9, 28) and notice.suggested == D(2027, 9, 27)
        assert notice.calendar == "用户清单" and path.name in timeline(
            "regular", D(2027, 10, 8), holidays=calendar).attrs["holiday_note"]


@pytest.mark.parametrize("name, content, expected", [
    ("x.yaml", "holidays: [2027-02-30]\n", "不是有效的日期"),
    ("x.yaml", "holidayz: []\n", "未知项 holidayz"),
    ("x.yaml", "workdays: 2027-09-26\n", "workdays 应为日期列表"),
    ("x.csv", "名称\n国庆\n", "至少包含“日期”"),
    ("x.csv", "日期,类型\n2027-10-01,加班\n", "第 2 行类型“加班”无法识别"),
])
def test_bad_user_holiday_list(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OrglifeError, match=expected) as info:
        HolidayCalendar.from_file(path)
    assert str(info.value).startswith(f"节假日清单 {path}：")
    with pytest.raises(OrglifeError, match="文件不存在"):
        HolidayCalendar.from_file(tmp_path / "none.yaml")


# ---- calendar export -----------------------------------------------------------------------------------------


def test_ics_round_trip_one_event_per_step_with_stable_uids():
    meeting = D(2026, 6, 24)
    frame = timeline("regular", meeting)
    data = to_ics(frame, meeting, "regular", stamp=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    calendar = Calendar.from_ical(data)
    assert "orglife-nb" in str(calendar["PRODID"])
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(frame)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    again = Calendar.from_ical(to_ics(timeline("regular", meeting), meeting, "regular"))
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids  # re-export: same UIDs, no duplicates
    assert uids[0] == event_uid("regular", meeting, frame["key"][0])
    other = Calendar.from_ical(to_ics(timeline("regular", D(2026, 6, 25)), D(2026, 6, 25), "regular"))
    assert not set(uids) & {str(e["UID"]) for e in other.walk("VEVENT")}
    for event, row in zip(events, frame.itertuples()):
        start = event.decoded("DTSTART")
        assert type(start) is dt.date  # all-day
        assert start == (row.suggested or row.due)
        assert row.step in str(event["SUMMARY"]) and "组织生活会" in str(event["SUMMARY"])
        description = str(event["DESCRIPTION"])
        # readers get the rule's name and the regulation's title, never the internal codes (issue 27.11)
        assert f"规则：{get_rule(row.rule).title}" in description and f"依据：{cite(row.source)}" in description
        assert row.rule not in description and "003 " not in description and "000 " not in description
        alarms = list(event.walk("VALARM"))
        assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == dt.timedelta(hours=-15)
    notice = next(e for e in events if "通知应到会人员" in str(e["SUMMARY"]))
    assert notice.decoded("DTSTART") == D(2026, 6, 12) and "2026-06-14" in str(notice["DESCRIPTION"])


# ---- command line --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """A terminal wide enough that no table cell wraps (the tests read cells whole); narrower ones are tested last."""
    monkeypatch.setenv("COLUMNS", "250")


def test_cli_table_is_aligned_and_marks_days_off(capsys):
    code, out, err = run(capsys, "deadlines", "--kind", "民主生活会", "--date", "2026/10/10")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("民主生活会时间表：会议日期 2026-10-10（周六）")
    header = next(line for line in lines if line.startswith("日期"))
    column = display_width(header[:header.index("依据")])
    step_lines = [line for line in lines if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert len(step_lines) == 13
    for line in step_lines:  # every step cites its regulation by title, in one column
        start = line.index("《")
        assert display_width(line[:start]) == column, line
    assert not re.search(r"\b(PREP|MEET|POST|RECT)-|\b00[03] ", out)  # no internal codes for readers
    assert any("国庆节休息，建议提前至 2026-09-30（周三）" in line for line in lines)
    assert any("调休上班日（国庆节）" in line for line in lines)
    assert "chinese-calendar" in out


def test_cli_table_in_a_fallback_year_says_so(capsys):
    code, out, _ = run(capsys, "deadlines", "--kind", "regular", "--date", "2027-10-11")
    assert code == 0 and "2027 年超出其范围，改用 holidays.China" in out and "周五*" in out


def test_cli_ics_writes_the_file_and_prints_the_path(capsys, tmp_path, monkeypatch):
    out_file = tmp_path / "cal.ics"
    code, out, _ = run(capsys, "deadlines", "--kind", "special", "--date", "2026-06-24", "--format", "ics",
                       "--out", str(out_file))
    assert code == 0 and str(out_file) in out
    assert len(list(Calendar.from_ical(out_file.read_bytes()).walk("VEVENT"))) == 14
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "deadlines", "--kind", "leadership", "--date", "2026-06-24", "--format", "ics")
    assert code == 0 and "deadlines-leadership-2026-06-24.ics" in out
    assert (tmp_path / "deadlines-leadership-2026-06-24.ics").exists()


def test_cli_holiday_file(capsys, tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("holidays:\n  2027-09-28: 单位活动日\n", encoding="utf-8")
    code, out, _ = run(capsys, "deadlines", "--kind", "regular", "--date", "2027-10-08", "--holidays", str(path))
    assert code == 0 and "单位活动日休息，建议提前至 2027-09-27（周一）" in out and "h.yaml" in out


@pytest.mark.parametrize("argv, expected", [
    (["--kind", "weekly", "--date", "2026-06-24"], "--kind 的值无效：会议类型“weekly”无效"),
    (["--kind", "regular", "--date", "2026-02-30"], "--date 的值无效"),
    (["--kind", "regular", "--date", "2026-06-24", "--format", "pdf"], "--format 的值无效：“pdf”不是可选值"),
    (["--kind", "regular", "--date", "2026-06-24", "--profile", "nope.yaml"], "规则配置 nope.yaml：文件不存在"),
    (["--kind", "regular", "--date", "2026-06-24", "--holidays", "nope.csv"], "节假日清单 nope.csv：文件不存在"),
    (["--date", "2026-06-24"], "缺少选项 --kind"),
])
def test_cli_bad_input_is_one_chinese_line(capsys, argv, expected):
    code, out, err = run(capsys, "deadlines", *argv)
    assert code == 2 and out == ""
    assert err.startswith("错误：") and expected in err and len(err.strip().splitlines()) == 1


def test_cli_unwritable_ics(capsys, tmp_path):
    code, _, err = run(capsys, "deadlines", "--kind", "regular", "--date", "2026-06-24", "--format", "ics",
                       "--out", str(tmp_path / "missing" / "x.ics"))
    assert code == 2 and err.startswith("错误：无法写入")


def test_table_function_matches_the_frame():
    frame = timeline("regular", WEDNESDAY)
    text = format_table(frame)
    assert all(step in text for step in frame["step"])
    assert display_width("会前 10 天") == 10 and display_width("ab") == 2


@pytest.mark.parametrize("columns", [80, 120])
def test_terminal_tables_fit_the_terminal(capsys, monkeypatch, demo_store, columns):
    """deadlines, rules and check print tables no wider than the terminal (they were 140–197 columns); ids and
    dates are never cut."""
    commands = (("deadlines", "--kind", "leadership", "--date", "2026-10-10"), ("rules",),
                ("check", "--db", demo_store, "--as-of", "2026-11-25", "--branch", "B001"),
                ("status", "--db", demo_store, "--as-of", "2026-11-25"))
    wide = {}
    for argv in commands:  # the same outputs where nothing needs to wrap
        monkeypatch.setenv("COLUMNS", "400")
        wide[argv[0]] = run(capsys, *argv)[1]
    monkeypatch.setenv("COLUMNS", str(columns))
    outputs = {}
    for argv in commands:
        code, out, _ = run(capsys, *argv)
        assert code == 0
        widest = max(display_width(line) for line in out.splitlines())
        assert widest <= columns, (argv[0], widest)
        # no date and no "N 天" is broken across lines: each one the wide output holds is still whole
        for pattern in (r"\d{4}-\d\d-\d\d", r"\d+ 天"):
            assert re.findall(pattern, out) == re.findall(pattern, wide[argv[0]]), (argv[0], pattern)
        outputs[argv[0]] = out
    assert "《党员领导干部民主生活会制度》" in outputs["deadlines"] and "2026-09-25 周五" in outputs["deadlines"]
    assert all(rule in outputs["rules"] for rule in ("PREP-SUPERIOR-NOTICE", "MEET-PRIOR-RECTIFICATION"))
    assert "PREP-PLAN-DEADLINE" in outputs["check"] and "MEET-GROUP-CHECK" in outputs["check"]
