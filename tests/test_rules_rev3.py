"""rules.md revision 3: lawful variations are silent, periods as the seeds count them.

Each case: the lawful variation of the baseline is silent, and the nearest unlawful one is found with the right
subject and severity (the helpers are tests/test_rules_rev2.py's)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from orglife_nb.demo import BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch
from orglife_nb.models import Attendance, Ballot, Meeting, Study, Talk
from orglife_nb.rules.profile import load_profile

from test_rules_rev2 import check, copy

D = dt.date
H1, H2, L1 = BASELINE_MEETINGS["regular_h1"], BASELINE_MEETINGS["regular_h2"], BASELINE_MEETINGS["leadership"]


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def _set_meeting(batch, meeting_id, **values):
    meetings = batch[Meeting]
    for column, value in values.items():
        meetings.loc[meetings.meeting_id.eq(meeting_id), column] = value
    return batch


# ---- 1. "一个月内" is a calendar month --------------------------------------------------------------------------


def test_a_month_is_the_same_day_of_the_next_month_else_its_last_day():
    from orglife_nb.rules.profile import months_after

    assert months_after(D(2026, 10, 23), 1) == D(2026, 11, 23)
    assert months_after(D(2027, 1, 31), 1) == D(2027, 2, 28)
    assert months_after(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert months_after(D(2026, 12, 31), 1) == D(2027, 1, 31)
    dates = pd.Series(pd.to_datetime(["2027-01-31", "2026-03-31", None]))
    assert months_after(dates, 1).tolist()[:2] == [pd.Timestamp(2027, 2, 28), pd.Timestamp(2026, 4, 30)]


@pytest.mark.parametrize("meeting_date, last_ok", [(D(2025, 10, 23), D(2025, 11, 23)),  # 31 days: not 30
                                                   (D(2025, 1, 31), D(2025, 2, 28))])   # month end
def test_public_report_within_one_calendar_month(baseline, meeting_date, last_ok):
    rule = ["POST-PUBLIC-REPORT"]
    batch = _set_meeting(copy(baseline), L1, date=pd.Timestamp(meeting_date), public_report_date=pd.Timestamp(last_ok))
    assert check(batch, rules=rule).empty
    _set_meeting(batch, L1, public_report_date=pd.Timestamp(last_ok + dt.timedelta(days=1)))
    found = check(batch, rules=rule)
    assert found.meeting_id.tolist() == [L1] and found.severity.tolist() == ["error"]
    assert found.subject.isna().all() and found.days.tolist() == [1]
    assert f"应在会后 1 个月内（不晚于 {last_ok.isoformat()}）" in found.message.iloc[0]
    # a branch meeting: the same month, a warning
    batch = _set_meeting(copy(baseline), H1, date=pd.Timestamp(meeting_date),
                         public_report_date=pd.Timestamp(last_ok))
    assert check(batch, rules=rule).empty
    _set_meeting(batch, H1, public_report_date=pd.Timestamp(last_ok + dt.timedelta(days=1)))
    assert check(batch, rules=rule).severity.tolist() == ["warning"]


def test_public_report_missing_is_pending_through_the_last_day_of_february(baseline):
    batch = _set_meeting(copy(baseline), L1, date=pd.Timestamp(2025, 1, 31), public_report_date=None)
    pending = check(batch, as_of=D(2025, 2, 28), rules=["POST-PUBLIC-REPORT"])
    assert pending[["severity", "days"]].values.tolist() == [["info", 0]]
    late = check(batch, as_of=D(2025, 3, 1), rules=["POST-PUBLIC-REPORT"])
    assert late[["severity", "days"]].values.tolist() == [["error", 1]]


def test_an_old_profile_naming_the_30_days_is_read_as_one_month_with_a_notice(tmp_path, capsys):
    from orglife_nb.cli import main

    old = tmp_path / "old.yaml"
    old.write_text("notice_days: 7\nleadership_public_report_days: 30\n", encoding="utf-8")
    notices: list[str] = []
    profile = load_profile(old, notices=notices)
    assert profile.public_report_months == 1 and profile.notice_days == 7
    assert len(notices) == 1 and "leadership_public_report_days" in notices[0] and "public_report_months" in notices[0]
    with pytest.raises(SystemExit) as exit_:
        main(["deadlines", "--kind", "leadership", "--date", "2027-01-31", "--profile", str(old)])
    assert exit_.value.code in (0, None)
    captured = capsys.readouterr()
    assert captured.err.count("leadership_public_report_days") == 1 and len(captured.err.strip().splitlines()) == 1
    assert "2027-02-28" in captured.out  # the 通报 of a 01-31 meeting: the last day of February


# ---- 2. a 民主生活会 plan is not approved by the superior ----------------------------------------------------------


def test_a_leadership_plan_needs_no_superior_approval(baseline):
    batch = _set_meeting(copy(baseline), L1, plan_approved=False)
    assert check(batch).empty  # 审定 by the 主要负责同志, then sent up (PREP-PLAN-DEADLINE)
    _set_meeting(batch, L1, plan_sent=None)
    found = check(batch)
    assert found.rule.tolist() == ["PREP-PLAN"] and found.severity.tolist() == ["error"]
    assert found.meeting_id.tolist() == [L1] and found.subject.isna().all()
    assert "上级纪委和组织部门" in found.message.iloc[0] and found.source.tolist() == ["003 民主 二.2"]
    # a branch meeting's plan still needs 审核把关
    found = check(_set_meeting(copy(baseline), H1, plan_approved=False))
    assert found.rule.tolist() == ["PREP-PLAN"] and found.meeting_id.tolist() == [H1]
    assert found.source.tolist() == ["003 二.1；000 第五篇 (一)3"]


# ---- 3. 灵活参加 members are eligible voters ------------------------------------------------------------------------


def _presence(batch, meeting_id, member, presence, reason=None, **more):
    values = {"presence": presence, "reason": reason, "written_statement": None, "read_out": None,
              "informed_date": None, **more}
    att = batch[Attendance]
    att.loc[att.meeting_id.eq(meeting_id) & att.member_id.eq(member), list(values)] = list(values.values())
    return batch


def _more_member_ballots(batch, meeting_id, n):
    """``n`` more member ballots at the meeting (copies of its last one under new numbers)."""
    ballots = batch[Ballot]
    mine = ballots[ballots.meeting_id.eq(meeting_id)]
    last = mine[mine.ballot_no.eq(mine.ballot_no.max())]
    count = mine.ballot_no.nunique()
    extra = [last.assign(ballot_no=f"{count + k:03d}", voter_type="member") for k in range(1, n + 1)]
    batch[Ballot] = pd.concat([ballots, *extra], ignore_index=True)
    return batch


def test_a_ballot_from_a_member_taking_part_flexibly_counts(baseline):
    frail = BASELINE_ROLES["absentee"]
    batch = _presence(copy(baseline), H2, frail, "flexible", "年老体弱，送学上门")
    batch = _more_member_ballots(batch, H2, 1)  # the ballot filled in at home
    assert check(batch).empty
    found = check(_more_member_ballots(batch, H2, 1))  # one more than present + 灵活参加
    assert found.rule.tolist() == ["EVAL-BALLOTS"] and found.severity.tolist() == ["error"]
    assert found.subject.isna().all() and "9 人" in found.message.iloc[0]


# ---- 6. a talk on the meeting day counts ------------------------------------------------------------------------


def test_a_talk_on_the_morning_of_the_meeting_counts(baseline):
    member = BASELINE_ROLES["ordinary"]
    batch = copy(baseline)
    talks = batch[Talk]
    pair = talks.meeting_id.eq(H1) & talks.talkee.eq(member) & talks.talker.eq(BASELINE_ROLES["secretary"])
    assert pair.sum() == 1
    talks.loc[pair, "date"] = pd.Timestamp(2025, 6, 20)  # the meeting day
    assert check(batch).empty
    talks.loc[pair, "date"] = pd.Timestamp(2025, 6, 21)  # the day after: not before the meeting
    found = check(batch)
    assert found.rule.tolist() == ["PREP-TALKS"] and found.subject.tolist() == [member]
    assert found.severity.tolist() == ["error"]


# ---- 7. leadership study "一般安排3天左右" ----------------------------------------------------------------------


def _leadership_study(batch, self_study_hours):
    studies = batch[Study]
    studies.loc[studies.meeting_id.eq(L1) & studies.form.eq("self_study"), "hours"] = self_study_hours
    return batch


def test_22_hours_of_leadership_study_are_about_three_days(baseline):
    assert check(_leadership_study(copy(baseline), 6.0)).empty  # 16 h concentrated + 6 h = 22 h
    found = check(_leadership_study(copy(baseline), 3.5))  # 19.5 h: below 2.5 days
    assert found.rule.tolist() == ["PREP-STUDY"] and found.severity.tolist() == ["warning"]
    assert found.meeting_id.tolist() == [L1] and found.subject.isna().all()
    assert "一般应安排 3 天左右（24 小时），不足 2.5 天（20 小时）" in found.message.iloc[0]


# ---- 8. a 领导干部 excused -----------------------------------------------------------------------------------------


def test_a_leading_cadre_on_leave_with_a_reason_is_a_warning_to_verify(baseline):
    cadre = BASELINE_ROLES["cadre"]
    informed = {"written_statement": True, "read_out": True, "informed_date": pd.Timestamp(2025, 6, 23)}
    batch = _presence(copy(baseline), H1, cadre, "leave", "住院治疗", **informed)
    found = check(batch)
    assert found.rule.tolist() == ["MEET-ATTENDANCE"] and found.severity.tolist() == ["warning"]
    assert found.subject.tolist() == [cadre] and "请核实" in found.message.iloc[0]
    # without a reason: an error, as an absence without one
    found = check(_presence(copy(baseline), H1, cadre, "leave", None, **informed))
    assert found.rule.tolist() == ["MEET-ATTENDANCE"] and found.severity.tolist() == ["error"]
    assert found.subject.tolist() == [cadre]
    # a 班子成员 excused from the 民主生活会 (因故不能出席) is silent
    assert check(_presence(copy(baseline), L1, cadre, "leave", "住院治疗", **informed)).empty


# ---- 4./5. periods as the seeds count them ------------------------------------------------------------------------

FREQ = ["FREQ-HALF-YEAR", "FREQ-LEADERSHIP-YEAR"]
S1 = BASELINE_MEETINGS["special"]


def _without(batch, meeting_id):
    return {record: frame[frame.meeting_id.ne(meeting_id)] if "meeting_id" in frame.columns else frame
            for record, frame in batch.items()}


def _gaps(found, severity=None):
    found = found if severity is None else found[found.severity.eq(severity)]
    return found[["rule", "severity", "message"]].values.tolist()


def test_a_mid_year_meeting_on_07_02_recorded_first_half_counts_for_it(baseline):
    since = D(2025, 1, 1)
    batch = _set_meeting(copy(baseline), H1, date=pd.Timestamp(2025, 7, 31))  # the grace's last day
    assert check(batch, rules=FREQ + ["EVAL-COMBINED"], since=since).empty
    _set_meeting(batch, H1, date=pd.Timestamp(2025, 8, 1))  # one day past: counts for 下半年 by its date
    found = check(batch, rules=FREQ + ["EVAL-COMBINED"], since=since)
    assert found.rule.tolist() == ["FREQ-HALF-YEAR"] and found.severity.tolist() == ["warning"]
    assert found.subject.isna().all() and found.meeting_id.isna().all()
    assert "2025 年上半年未召开组织生活会" in found.message.iloc[0]


def test_a_special_meeting_counts_for_the_half_year(baseline):
    batch = _without(copy(baseline), BASELINE_MEETINGS["regular_h2"])
    # S1 (09-19, 专题) counts for 2025 下半年: no cadence gap; being the only one, it carries the 民主评议
    found = check(batch, rules=FREQ + ["EVAL-COMBINED"])
    assert found.rule.tolist() == ["EVAL-COMBINED"] and found.meeting_id.tolist() == [S1]
    assert "2025 年下半年（年底）专题组织生活会未结合开展民主评议党员" in found.message.iloc[0]
    found = check(_without(batch, S1), rules=FREQ + ["EVAL-COMBINED"])
    assert _gaps(found) == [["FREQ-HALF-YEAR", "warning", "2025 年下半年未召开组织生活会"]]


def test_a_year_end_meeting_held_in_january_counts_for_last_year(baseline):
    rules = FREQ + ["EVAL-COMBINED"]
    batch = _set_meeting(copy(baseline), BASELINE_MEETINGS["regular_h2"], date=pd.Timestamp(2026, 1, 20))
    assert check(batch, as_of=D(2026, 2, 1), rules=rules).severity.eq("info").all()  # 2026 上半年 in progress
    _set_meeting(batch, BASELINE_MEETINGS["regular_h2"], with_evaluation=False)
    found = check(batch, as_of=D(2026, 2, 1), rules=rules)
    assert _gaps(found, "error") == [["EVAL-COMBINED", "error", "2025 年下半年（年底）组织生活会未结合开展民主评议党员"]]


def test_a_half_year_whose_meeting_is_planned_inside_the_grace_is_pending(baseline):
    since = D(2025, 1, 1)
    batch = _set_meeting(copy(baseline), H1, date=pd.Timestamp(2025, 7, 10))
    found = check(batch, as_of=D(2025, 7, 1), rules=["FREQ-HALF-YEAR"], since=since)
    first = found[found.message.str.contains("2025 年上半年")]
    assert first[["severity", "days"]].values.tolist() == [["info", 30]]  # up to 07-31
    assert "计划于 2025-07-10 召开" in first.message.iloc[0]
    # recorded for 上半年 but planned past the grace: it will count for 下半年, so 上半年 is reported
    _set_meeting(batch, H1, date=pd.Timestamp(2025, 8, 5))
    found = check(batch, as_of=D(2025, 7, 1), rules=["FREQ-HALF-YEAR"], since=since)
    assert _gaps(found[found.message.str.contains("2025 年上半年")]) == [
        ["FREQ-HALF-YEAR", "warning", "2025 年上半年未召开组织生活会"]]


def test_a_leadership_meeting_held_by_march_counts_for_last_year(baseline):
    rules = ["FREQ-LEADERSHIP-YEAR", "EVAL-RATING", "EVAL-SELF"]
    batch = _set_meeting(copy(baseline), L1, date=pd.Timestamp(2026, 3, 31))  # 2025-12-31 + 90 days
    found = check(batch, as_of=D(2026, 4, 10), rules=rules)
    assert found.severity.eq("info").all() and not found.message.str.contains("2025").any()  # 2026 in progress
    _set_meeting(batch, L1, date=pd.Timestamp(2026, 4, 1))  # one day past the grace: counts for 2026
    found = check(batch, as_of=D(2026, 4, 10), rules=rules)
    late = found[found.severity.ne("info")]
    assert _gaps(late[late.rule.eq("FREQ-LEADERSHIP-YEAR")]) == [
        ["FREQ-LEADERSHIP-YEAR", "warning", "2025 年未召开民主生活会"]]
    # and the cadre it exempted from 2025's branch rating is no longer exempt
    assert late[late.rule.ne("FREQ-LEADERSHIP-YEAR")].subject.unique().tolist() == [BASELINE_ROLES["exempt_cadre"]]
    # planned inside the grace: pending
    _set_meeting(batch, L1, date=pd.Timestamp(2026, 1, 15))
    found = check(batch, as_of=D(2026, 1, 10), rules=["FREQ-LEADERSHIP-YEAR"])
    last_year = found[found.message.str.contains("2025")]
    assert last_year.severity.tolist() == ["info"] and "计划于 2026-01-15 召开" in last_year.message.iloc[0]


# ---- 10. sources fit the case --------------------------------------------------------------------------------------

# rules.md rev 3: the rules that still cited both kinds' sections, or branch sections on a 民主生活会
STILL_MIXING = ("PREP-TOPIC", "PREP-STUDY", "POST-REPORT", "POST-ABSENTEE-INFORMED", "MEET-WRITTEN-STATEMENT",
                "MEET-PRIOR-RECTIFICATION", "RECT-PRESENT", "PREP-PLAN", "RECT-FOUR-CLEAR", "RECT-OVERDUE")


def _documents(source: str) -> set[str]:
    """The documents a source cites (a part without a code goes on in the document before it)."""
    found, current = set(), None
    for part in source.split("；"):
        part = part.strip()
        current = "003 民主" if part.startswith("003 民主") else part[:3] if part[:3] in ("000", "003") else current
        found.add(current)
    return found


@pytest.mark.parametrize("rule", STILL_MIXING)
def test_each_case_cites_its_own_sections(rule):
    from orglife_nb.rules import get_rule

    r = get_rule(rule)
    assert _documents(r.source_for("leadership")) == {"003 民主"}
    for case in ("branch", "no_committee"):
        assert "003 民主" not in _documents(r.source_for(case)), case


def test_a_late_report_on_a_leadership_meeting_cites_the_leadership_section(baseline):
    batch = _set_meeting(copy(baseline), L1, report_sent=pd.Timestamp(2025, 12, 20))
    batch = _set_meeting(batch, H1, report_sent=pd.Timestamp(2025, 7, 20))
    found = check(batch, rules=["POST-REPORT"])
    assert dict(zip(found.meeting_id, found.source)) == {H1: "000 第一篇 3.1；003 四.2", L1: "003 民主 四.2"}
