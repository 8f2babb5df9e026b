"""Every deadline and threshold of rules.md's profile table at its edge: day N is compliant, the day past it is a
violation (and, for a missing date, the deadline day is still pending, the day after it a violation).

The dates are literal and worked out by hand from the compliant baseline (demo.baseline_batch): 组织生活会
B001-2025-R1 on 2025-06-20, 专题 B001-2025-S1 on 2025-09-19, 民主生活会 B001-2025-L1 on 2025-11-21, year-end
B001-2025-R2 on 2025-12-12. A rule moved by one day (``<`` for ``<=``, 10 → 11) fails one of these tests.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from orglife_nb import frames
from orglife_nb.demo import BASELINE_MEETINGS, baseline_batch
from orglife_nb.models import Attendance, Rectification, Study
from orglife_nb.rules.status import status

from test_rules import _with_meeting, check

D = dt.date
R1, S1, L1, R2 = (BASELINE_MEETINGS[k] for k in ("regular_h1", "special", "leadership", "regular_h2"))


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def _rule_days(batch, rule, as_of=D(2025, 12, 31)):
    """(severity, days) of each finding of ``rule``."""
    found = check(batch, as_of=as_of, rules=[rule])
    return list(zip(found.severity, found.days.astype(object)))


# ---- dates before the meeting: "≥ N days before" ------------------------------------------------------------

BEFORE = [
    # (rule, meeting key, column, last compliant date (exactly N days before), N)
    ("PREP-NOTICE", "regular_h1", "notice_date", D(2025, 6, 10), 10),              # notice_days
    ("PREP-NOTICE", "leadership", "notice_date", D(2025, 11, 11), 10),
    ("PREP-SUPERIOR-NOTICE", "regular_h1", "superior_notice_date", D(2025, 6, 13), 7),  # superior_notice_days
    ("PREP-SUPERIOR-NOTICE", "special", "superior_notice_date", D(2025, 9, 12), 7),
    ("PREP-PLAN-DEADLINE", "leadership", "plan_sent", D(2025, 11, 6), 15),         # leadership_plan_days
    ("PREP-PUBLIC-NOTICE", "leadership", "public_notice_date", D(2025, 11, 6), 15),  # leadership_public_notice_days
]


@pytest.mark.parametrize("rule, meeting, column, last_ok, n", BEFORE, ids=[f"{b[0]}-{b[1]}" for b in BEFORE])
def test_before_meeting_day_n_is_compliant_day_n_minus_1_is_late(baseline, rule, meeting, column, last_ok, n):
    assert check(_with_meeting(baseline, meeting, **{column: last_ok}), rules=[rule]).empty
    assert check(_with_meeting(baseline, meeting, **{column: last_ok - dt.timedelta(days=1)}), rules=[rule]).empty
    found = check(_with_meeting(baseline, meeting, **{column: last_ok + dt.timedelta(days=1)}), rules=[rule])
    assert found.severity.tolist() == ["error"] and found.days.tolist() == [1]
    assert f"距召开仅 {n - 1} 天，应至少提前 {n} 天（不晚于 {last_ok.isoformat()}）" in found.message[0]


@pytest.mark.parametrize("rule, meeting, column, last_ok, n", BEFORE, ids=[f"{b[0]}-{b[1]}" for b in BEFORE])
def test_before_meeting_missing_date_pending_until_its_deadline(baseline, rule, meeting, column, last_ok, n):
    batch = _with_meeting(baseline, meeting, **{column: None})
    assert _rule_days(batch, rule, as_of=last_ok) == [("info", 0)]
    assert _rule_days(batch, rule, as_of=last_ok + dt.timedelta(days=1)) == [("error", 1)]


# ---- dates after the meeting: "≤ N days after" --------------------------------------------------------------

AFTER = [
    # (rule, meeting key, column, last compliant date (exactly N days after), N)
    # (…, the limit as messages state it)
    ("POST-REPORT", "regular_h1", "report_sent", D(2025, 6, 30), 10, "10 天"),            # report_days
    ("POST-REPORT", "special", "report_sent", D(2025, 9, 29), 10, "10 天"),
    ("POST-REPORT", "leadership", "report_sent", D(2025, 12, 6), 15, "15 天"),            # leadership_report_days
    # public_report_months: one calendar month (11-21 → 12-21)
    ("POST-PUBLIC-REPORT", "leadership", "public_report_date", D(2025, 12, 21), 30, "1 个月"),
]


@pytest.mark.parametrize("rule, meeting, column, last_ok, n, within", AFTER, ids=[f"{a[0]}-{a[1]}" for a in AFTER])
def test_after_meeting_day_n_is_compliant_day_n_plus_1_is_late(baseline, rule, meeting, column, last_ok, n, within):
    assert check(_with_meeting(baseline, meeting, **{column: last_ok}), rules=[rule]).empty
    found = check(_with_meeting(baseline, meeting, **{column: last_ok + dt.timedelta(days=1)}), rules=[rule])
    assert found.severity.tolist() == ["error"] and found.days.tolist() == [1]
    assert f"为会后第 {n + 1} 天，应在会后 {within}内（不晚于 {last_ok.isoformat()}）" in found.message[0]


@pytest.mark.parametrize("rule, meeting, column, last_ok, n, within", AFTER, ids=[f"{a[0]}-{a[1]}" for a in AFTER])
def test_after_meeting_missing_date_pending_on_day_n_late_on_n_plus_1(baseline, rule, meeting, column, last_ok, n,
                                                                       within):
    batch = _with_meeting(baseline, meeting, **{column: None})
    assert _rule_days(batch, rule, as_of=last_ok) == [("info", 0)]
    assert _rule_days(batch, rule, as_of=last_ok + dt.timedelta(days=1)) == [("error", 1)]


# ---- follow-up due with the report (report_days) -----------------------------------------------------------


def test_absentee_not_told_pending_on_report_day_late_after(baseline):
    batch = {k: v.copy() for k, v in baseline.items()}
    att = batch[Attendance]
    att.loc[att.meeting_id.eq(R1) & att.presence.eq("leave"), "informed_date"] = None
    assert _rule_days(batch, "POST-ABSENTEE-INFORMED", as_of=D(2025, 6, 30)) == [("info", 0)]  # 06-20 + 10
    assert _rule_days(batch, "POST-ABSENTEE-INFORMED", as_of=D(2025, 7, 1)) == [("error", 1)]


def test_rectification_list_not_published_pending_on_report_day_late_after(baseline):
    batch = _with_meeting(baseline, "regular_h1", rectification_published=None)
    assert _rule_days(batch, "RECT-PUBLIC", as_of=D(2025, 6, 30)) == [("info", 0)]  # 06-20 + 10
    assert _rule_days(batch, "RECT-PUBLIC", as_of=D(2025, 7, 1)) == [("error", 1)]
    # a 民主生活会 tells cadres and masses within a month instead (rules.md revision 2: POST-PUBLIC-REPORT)
    batch = _with_meeting(baseline, "leadership", rectification_published=None)
    assert _rule_days(batch, "RECT-PUBLIC", as_of=D(2025, 12, 7)) == []


# ---- study hours (study_*_days × hours_per_day) --------------------------------------------------------------


def _with_study(batch, meeting_id, hours: dict[str, float], date: dt.date | None = None):
    """The meeting's study sessions replaced by one per form with the given hours (and date)."""
    batch = {k: v.copy() for k, v in batch.items()}
    s = batch[Study]
    mine = s[s.meeting_id.eq(meeting_id)]
    template = mine.iloc[0]
    rows = [dict(template, form=form, hours=h, date=date or template.date) for form, h in hours.items()]
    batch[Study] = pd.concat([s[s.meeting_id.ne(meeting_id)], pd.DataFrame(rows)], ignore_index=True)
    return batch


# (meeting, total advised, concentrated, the total below which it is a warning: 民主生活会 "3天左右" → 2.5 days)
@pytest.mark.parametrize("meeting, need_total, need_concentrated, least", [(R1, 8.0, 4.0, 8.0), (L1, 24.0, 8.0, 20.0)])
def test_study_at_the_required_hours_is_enough_half_an_hour_less_is_not(baseline, meeting, need_total,
                                                                       need_concentrated, least):
    rest = need_total - need_concentrated
    assert check(_with_study(baseline, meeting, {"concentrated": need_concentrated, "self_study": rest}),
                 rules=["PREP-STUDY"]).empty
    assert check(_with_study(baseline, meeting, {"concentrated": need_concentrated,
                                                 "self_study": least - need_concentrated}), rules=["PREP-STUDY"]).empty
    short_total = check(_with_study(baseline, meeting, {"concentrated": need_concentrated,
                                                        "self_study": least - need_concentrated - 0.5}),
                        rules=["PREP-STUDY"])
    assert short_total.severity.tolist() == ["warning"]
    assert f"共 {least - 0.5:g} 小时，" in short_total.message[0]
    assert f"{need_total / 8:g} 天{'左右' if meeting == L1 else ''}（{need_total:g} 小时）" in short_total.message[0]
    short_conc = check(_with_study(baseline, meeting, {"concentrated": need_concentrated - 0.5,
                                                       "self_study": rest + 0.5}), rules=["PREP-STUDY"])
    assert short_conc.severity.tolist() == ["error"]
    assert f"集中学习 {need_concentrated - 0.5:g} 小时，应不少于 {need_concentrated / 8:g} 天" in short_conc.message[0]


def test_study_on_the_meeting_day_counts_the_day_after_does_not(baseline):
    on_day = _with_study(baseline, R1, {"concentrated": 4.0, "self_study": 4.0}, date=D(2025, 6, 20))
    assert check(on_day, rules=["PREP-STUDY"]).empty
    after = _with_study(baseline, R1, {"concentrated": 4.0, "self_study": 4.0}, date=D(2025, 6, 21))
    assert set(check(after, rules=["PREP-STUDY"]).severity) == {"error", "warning"}


# ---- organ special meeting: organ_special_min_hours ----------------------------------------------------------


def test_organ_special_meeting_of_4_hours_is_enough_3_and_a_half_is_not(baseline):
    assert check(_with_meeting(baseline, "special", hours=4.0), rules=["MEET-DURATION"]).empty
    found = check(_with_meeting(baseline, "special", hours=3.5), rules=["MEET-DURATION"])
    assert found.severity.tolist() == ["warning"]
    assert found.message[0] == "机关专题组织生活会只开了 3.5 小时，原则上应不少于 4 小时（半天）"


# ---- RECT-OVERDUE: 时限 --------------------------------------------------------------------------------------


def _with_item(batch, item_id, **changes):
    batch = {k: v.copy() for k, v in batch.items()}
    r = batch[Rectification]
    for name, value in changes.items():
        r.loc[r.item_id.eq(item_id), name] = value
    return batch


def test_item_done_on_its_deadline_is_on_time_a_day_later_is_late(baseline):
    # B001-2025-R1-Z1: 时限 2025-10-18
    on_time = _with_item(baseline, "B001-2025-R1-Z1", status="closed", done_date=D(2025, 10, 18))
    assert check(on_time, rules=["RECT-OVERDUE"]).empty
    late = _with_item(baseline, "B001-2025-R1-Z1", status="closed", done_date=D(2025, 10, 19))
    found = check(late, rules=["RECT-OVERDUE"])
    assert found.days.tolist() == [1] and found.severity.tolist() == ["error"]
    assert "于 2025-10-19 才完成，超过时限 2025-10-18 1 天" in found.message[0]


def test_open_item_is_overdue_only_after_its_deadline_day(baseline):
    due_today = _with_item(baseline, "B001-2025-S1-Z1", status="open", done_date=None, deadline=D(2025, 12, 31))
    assert check(due_today, rules=["RECT-OVERDUE"]).empty  # as_of = 2025-12-31 is the deadline day
    due_yesterday = _with_item(baseline, "B001-2025-S1-Z1", status="open", done_date=None, deadline=D(2025, 12, 30))
    found = check(due_yesterday, rules=["RECT-OVERDUE"])
    assert found.days.tolist() == [1] and "时限 2025-12-30 已过，仍未完成销号（逾期 1 天）" in found.message[0]


# ---- the status ledger's buckets (-1 | 0..10 | 11..20 | 21..) ----------------------------------------------


@pytest.mark.parametrize("deadline, days_left, bucket", [
    (D(2025, 12, 30), -1, "超期"),
    (D(2025, 12, 31), 0, "10 天内到期"),
    (D(2026, 1, 10), 10, "10 天内到期"),
    (D(2026, 1, 11), 11, "20 天内到期"),
    (D(2026, 1, 20), 20, "20 天内到期"),
    (D(2026, 1, 21), 21, "20 天后或未定时限"),
])
def test_ledger_bucket_edges(baseline, deadline, days_left, bucket):
    batch = _with_item(baseline, "B001-2025-S1-Z1", status="open", done_date=None, deadline=deadline)
    book = status(frames.from_batch(batch), D(2025, 12, 31)).ledger.set_index("item_id")
    assert book.loc["B001-2025-S1-Z1", "days_left"] == days_left
    assert book.loc["B001-2025-S1-Z1", "bucket"] == bucket


def test_status_countdown_of_a_missing_report_reaches_zero_on_its_deadline(baseline):
    batch = _with_meeting(baseline, "regular_h2", report_sent=None)  # 2025-12-12 + 10 = 12-22
    for as_of, left, overdue in ((D(2025, 12, 22), 0, False), (D(2025, 12, 23), -1, True)):
        steps = status(frames.from_batch(batch), as_of).steps
        report = steps[steps.rule.eq("POST-REPORT")]
        assert report.days_left.tolist() == [left] and report.overdue.tolist() == [overdue]


# ---- status: the open steps of a held meeting and the ledger, literally --------------------------------------


def _open_after_meeting(baseline):
    """Year-end meeting B001-2025-R2 (2025-12-12) with its report, list publication and absentee's briefing open;
    R1-Z1 finished by a done date alone (no 状态), R1-Z2 neither done nor marked (open, past its 时限)."""
    batch = _with_meeting(baseline, "regular_h2", report_sent=None, rectification_published=None)
    att = batch[Attendance]
    att.loc[att.meeting_id.eq(R2) & att.presence.eq("leave"), "informed_date"] = None
    batch = _with_item(batch, "B001-2025-R1-Z1", status=None, done_date=D(2025, 10, 1))
    return _with_item(batch, "B001-2025-R1-Z2", status=None, done_date=None)


def test_status_lists_exactly_the_open_steps_after_the_meeting(baseline):
    result = status(frames.from_batch(_open_after_meeting(baseline)), D(2025, 12, 20))
    steps = result.steps
    assert [(r.meeting_id, r.step, r.rule, r.due.date(), r.days_left, r.overdue) for r in steps.itertuples()] == [
        (R2, "情况报告报送（向上级报送会议情况报告和会议记录）", "POST-REPORT", D(2025, 12, 22), 2, False),
        (R2, "整改清单公示（公示整改清单）", "RECT-PUBLIC", D(2025, 12, 22), 2, False),
        (R2, "会后转告缺席人 孙丽娟", "POST-ABSENTEE-INFORMED", D(2025, 12, 22), 2, False),
    ]
    assert steps.kind_label.tolist() == ["组织生活会"] * 3 and steps.branch_name.eq("市财政局机关第一党支部").all()


def test_no_list_publication_step_for_a_meeting_without_items(baseline):
    batch = _with_meeting(baseline, "regular_h2", rectification_published=None)
    batch[Rectification] = batch[Rectification][batch[Rectification].meeting_id.ne(R2)]
    assert status(frames.from_batch(batch), D(2025, 12, 20)).steps.empty


def test_status_uses_the_given_profile(baseline):
    from orglife_nb.rules import load_profile

    batch = _with_meeting(baseline, "regular_h2", report_sent=None)
    longer = load_profile(None).model_copy(update={"report_days": 12})
    steps = status(frames.from_batch(batch), D(2025, 12, 20), longer).steps
    assert steps[steps.rule.eq("POST-REPORT")].due.dt.date.tolist() == [D(2025, 12, 24)]


def test_ledger_items_buckets_and_counts(baseline):
    result = status(frames.from_batch(_open_after_meeting(baseline)), D(2025, 12, 20))
    book = result.ledger
    shared = book[book.category.ne("individual")]  # the meetings' own items; the personal ones follow below
    assert [(r.item_id, r.bucket, r.days_left, r.finished, r.owner_name) for r in shared.itertuples()] == [
        ("B001-2025-R1-Z1", "已销号", -63, True, "张建国"),
        ("B001-2025-R1-Z2", "超期", -33, False, "张建国"),
        ("B001-2025-S1-Z1", "20 天后或未定时限", 28, False, "张建国"),
        ("B001-2025-S1-Z2", "20 天后或未定时限", 58, False, "张建国"),
        ("B001-2025-L1-Z1", "20 天后或未定时限", 91, False, "张建国"),
        ("B001-2025-R2-Z1", "20 天后或未定时限", 112, False, "张建国"),
        ("B001-2025-L1-Z2", "20 天后或未定时限", 121, False, "张建国"),
        ("B001-2025-R2-Z2", "20 天后或未定时限", 142, False, "张建国"),
        ("B001-2025-L1-Z3", "20 天后或未定时限", 151, False, "张建国"),
    ]
    # one personal item per member present (rules.md revision 2: RECT-PERSONAL); R1's were done before 12-20
    personal = book[book.category.eq("individual")]
    assert personal.groupby("meeting_id").size().to_dict() == {
        "B001-2025-R1": 8, "B001-2025-S1": 9, "B001-2025-L1": 3, "B001-2025-R2": 8}
    assert personal[personal.meeting_id.eq("B001-2025-R1")].bucket.eq("已销号").all()
    assert book.branch_name.eq("市财政局机关第一党支部").all()
    assert shared.status_label.iloc[2:].eq("未完成").all() and shared.status_label.iloc[:2].isna().all()
    assert list(result.buckets.columns) == ["已销号", "超期", "10 天内到期", "20 天内到期", "20 天后或未定时限"]
    assert result.buckets.loc["B001"].tolist() == [9, 1, 0, 0, 27]
    assert result.as_of == pd.Timestamp(2025, 12, 20)


def test_open_item_without_a_deadline_is_in_the_last_bucket(baseline):
    batch = _with_item(baseline, "B001-2025-S1-Z1", status="open", done_date=None, deadline=None)
    book = status(frames.from_batch(batch), D(2025, 12, 31)).ledger.set_index("item_id")
    assert book.loc["B001-2025-S1-Z1", "bucket"] == "20 天后或未定时限" and pd.isna(book.loc["B001-2025-S1-Z1", "days_left"])
