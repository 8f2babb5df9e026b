"""rules.md revision 2: records entered after the meeting (pending until the report deadline), 三档 ballots with
four-level ratings, cadence across years (a January check sees last year), 灵活参加 and frail members, sources
that fit the case, the new columns and the 回应 sheet in the workbook and the store."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from orglife_nb import frames
from orglife_nb.demo import BASELINE_AS_OF, BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch
from orglife_nb.models import (GROUP, Attendance, Ballot, CellError, Criticism, Meeting, Member, Rating,
                               Rectification, Response, parse_time)
from orglife_nb.rules import get_rule, run_checks

H1 = BASELINE_MEETINGS["regular_h1"]
H1_DATE = dt.date(2025, 6, 20)
AFTER_MEETING = (Attendance, Criticism, Response, Ballot, Rating, Rectification)
MEETING_DAY = ("superior_attendee", "superior_comment", "summary", "minutes_kept", "opinions_reported",
               "prior_rectification_reported", "rectification_published", "report_sent", "public_report_date")


def check(batch, as_of=BASELINE_AS_OF, **kw) -> pd.DataFrame:
    return run_checks(frames.from_batch(batch), as_of=as_of, **kw)


def copy(batch):
    return {k: v.copy() for k, v in batch.items()}


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def _entered_nothing_after(batch, meeting_id=H1):
    """The meeting as it stands at the end of its day before anything from it was entered."""
    batch = copy(batch)
    for record in AFTER_MEETING:
        frame = batch[record]
        batch[record] = frame[frame.meeting_id.ne(meeting_id)]
    meetings = batch[Meeting]
    for column in MEETING_DAY:
        meetings.loc[meetings.meeting_id.eq(meeting_id), column] = None
    return batch


def _of(found, meeting_id=H1):
    return found[found.meeting_id.eq(meeting_id)]


# ---- records are entered after the meeting ---------------------------------------------------------------------


def test_meeting_day_without_after_meeting_records_has_no_error_or_warning(baseline):
    found = _of(check(_entered_nothing_after(baseline), as_of=H1_DATE))
    assert len(found) and found.severity.eq("info").all(), found[["rule", "severity", "message"]].to_string()
    # what rests on absent records is there, as pending with the days left to the report deadline
    assert {"MEET-MINUTES", "MEET-SUMMARY", "MEET-SUPERIOR-COMMENT", "MEET-ATTENDANCE"} <= set(found.rule)
    minutes = found[found.rule.eq("MEET-MINUTES")]
    assert minutes.days.tolist() == [10] and "还剩 10 天" in minutes.message.iloc[0]


def test_report_deadline_edge_day_10_pending_day_11_violation(baseline):
    batch = _entered_nothing_after(baseline)
    day10 = _of(check(batch, as_of=H1_DATE + dt.timedelta(days=10), rules=["MEET-MINUTES", "MEET-SUMMARY"]))
    assert day10.severity.tolist() == ["info", "info"] and day10.days.tolist() == [0, 0]
    day11 = _of(check(batch, as_of=H1_DATE + dt.timedelta(days=11), rules=["MEET-MINUTES", "MEET-SUMMARY"]))
    assert day11.severity.tolist() == ["error", "error"]
    assert not day11.message.str.contains("待办|补录").any()


def test_a_wrong_record_is_a_violation_on_the_meeting_day(baseline):
    batch = _entered_nothing_after(baseline)
    absentee = BASELINE_ROLES["absentee"]
    batch[Attendance] = pd.concat([batch[Attendance], pd.DataFrame([{
        "meeting_id": H1, "member_id": absentee, "presence": "absent"}])], ignore_index=True)
    found = _of(check(batch, as_of=H1_DATE, rules=["MEET-ATTENDANCE"]))
    unexcused = found[found.subject.eq(absentee)]
    assert unexcused.severity.tolist() == ["error"] and "无故缺席" in unexcused.message.iloc[0]


# ---- ballots and ratings ---------------------------------------------------------------------------------------


def test_three_level_ballots_with_four_level_ratings_are_silent(baseline):
    batch = copy(baseline)
    r2 = BASELINE_MEETINGS["regular_h2"]
    meetings = batch[Meeting]
    meetings.loc[meetings.meeting_id.eq(r2), "rating_scheme"] = "three"
    ballots = batch[Ballot]
    mine = ballots.meeting_id.eq(r2)
    ballots.loc[mine, "level"] = ballots.loc[mine, "level"].map({"excellent": "good", "qualified": "good"})
    assert set(batch[Rating].level) <= {"excellent", "qualified"}
    assert check(batch).empty
    # a four-level mark on a 三档 ballot is not of its scheme
    ballots.loc[ballots.index[mine][0], "level"] = "qualified"
    found = check(batch)
    assert found.rule.tolist() == ["EVAL-BALLOTS"] and "不属于三档测评方案" in found.message.iloc[0]


def test_a_three_level_final_rating_is_refused_where_it_enters():
    from orglife_nb.models import field_of

    parse = field_of(Rating, "level").parse
    assert parse("合格") == "qualified"
    with pytest.raises(CellError, match="优秀/合格/基本合格/不合格"):
        parse("一般")


def test_mostly_poor_ballots_need_a_helper(baseline):
    batch = copy(baseline)
    member = BASELINE_ROLES["ordinary"]
    ballots = batch[Ballot]
    mine = ballots.rated_id.eq(member)
    ballots.loc[mine, "level"] = "basic"  # every ballot low, the final rating still 合格
    found = check(batch)
    assert found.rule.tolist() == ["EVAL-HELP"] and found.subject.tolist() == [member]
    assert found.severity.tolist() == ["warning"] and "多数票" in found.message.iloc[0]
    ratings = batch[Rating]
    ratings.loc[ratings.member_id.eq(member), "helper"] = BASELINE_ROLES["secretary"]
    assert check(batch).empty


# ---- attendance ---------------------------------------------------------------------------------------------


def _attended(batch, member: str, presence: str, reason: str | None = None, **more):
    """``member``'s attendance at H1 recorded as ``presence`` without a written statement (``more``: other
    columns, e.g. ``informed_date``)."""
    values = {"presence": presence, "reason": reason, "written_statement": None, "read_out": None, **more}
    att = batch[Attendance]
    att.loc[att.meeting_id.eq(H1) & att.member_id.eq(member), list(values)] = list(values.values())
    return batch


def test_flexible_participation_counts_as_attending(baseline):
    assert check(_attended(copy(baseline), BASELINE_ROLES["absentee"], "flexible", "送学上门",
                           informed_date=None)).empty


def test_a_frail_member_absent_is_a_warning_to_the_branch(baseline):
    batch = copy(baseline)
    absentee = BASELINE_ROLES["absentee"]
    members = batch[Member]
    members.loc[members.member_id.eq(absentee), "situation"] = "frail"
    found = check(_attended(batch, absentee, "absent"))
    assert found.rule.tolist() == ["MEET-ATTENDANCE"] and found.severity.tolist() == ["warning"]
    assert found.subject.isna().all()  # addressed to the branch, not an unexcused absence of the member
    assert "支部应以灵活多样的形式组织其参加" in found.message.iloc[0] and "无故" not in found.message.iloc[0]


# ---- cadence --------------------------------------------------------------------------------------------------


def test_a_january_check_reports_last_years_gaps(baseline):
    gone = [BASELINE_MEETINGS["regular_h2"], BASELINE_MEETINGS["special"]]  # a special one counts too (rev 3)
    batch = {record: frame[~frame.meeting_id.isin(gone)] if "meeting_id" in frame.columns else frame
             for record, frame in baseline.items()}
    january = check(batch, as_of=dt.date(2026, 1, 10), rules=["FREQ-HALF-YEAR", "FREQ-LEADERSHIP-YEAR"])
    errors = january[january.severity.eq("warning")]  # rules.md rev 3: "一般每年年中、年底各召开1次"
    assert errors.rule.tolist() == ["FREQ-HALF-YEAR"] and "2025 年下半年未召开组织生活会" in errors.message.iloc[0]
    # 2026 has begun without any meeting: pending, not a violation
    assert set(january[january.severity.eq("info")].rule) == {"FREQ-HALF-YEAR", "FREQ-LEADERSHIP-YEAR"}
    # --year narrows to one year; --since after the gap leaves it out
    assert check(batch, as_of=dt.date(2026, 1, 10), rules=["FREQ-HALF-YEAR"], year=2026).severity.eq("info").all()
    later = check(batch, as_of=dt.date(2026, 1, 10), rules=["FREQ-HALF-YEAR"], since=dt.date(2026, 1, 1))
    assert later.severity.eq("info").all()
    # a later year with every meeting: the periods before the branch's first meeting are not asked for
    assert check(baseline, as_of=dt.date(2026, 1, 10), rules=["FREQ-HALF-YEAR"]).severity.eq("info").all()


# ---- sources fit the case ---------------------------------------------------------------------------------------


def test_sources_fit_the_case():
    batch = _entered_nothing_after(baseline_batch(has_committee=False), BASELINE_MEETINGS["leadership"])
    found = check(batch, as_of=dt.date(2026, 2, 1))
    leadership = found[found.meeting_id.eq(BASELINE_MEETINGS["leadership"])]
    for rule in ("MEET-SUMMARY", "MEET-MINUTES", "MEET-SUPERIOR-COMMENT"):
        sources = leadership[leadership.rule.eq(rule)].source
        assert len(sources) and sources.str.startswith("003 民主").all(), (rule, sources.tolist())
    # a no-committee 党员大会 out of order cites the no-committee sections, not the 支委会 ones
    crit = batch[Criticism]
    mine = crit.meeting_id.eq(H1) & crit.stage.eq("assembly")
    first_seq = crit.loc[mine, "seq"].min()
    crit.loc[mine & crit.seq.eq(first_seq), "seq"] = crit.seq.max() + 1
    order = check(batch, rules=["MEET-ORDER"])
    order = order[order.meeting_id.eq(H1)]
    assert len(order) and order.source.eq("000 第三篇 第三步 1；003 三.1").all()
    assert "二.2" not in get_rule("EVAL-BALLOTS").source


def test_rect_public_is_for_branch_meetings_public_report_for_all(baseline):
    batch = copy(baseline)
    meetings = batch[Meeting]
    meetings.loc[meetings.meeting_id.eq(BASELINE_MEETINGS["leadership"]), "rectification_published"] = None
    assert check(batch).empty  # a 民主生活会 tells cadres and masses instead (POST-PUBLIC-REPORT)
    meetings.loc[meetings.meeting_id.eq(H1), "public_report_date"] = None
    found = check(batch)
    assert found.rule.tolist() == ["POST-PUBLIC-REPORT"] and found.severity.tolist() == ["warning"]


# ---- named questions, the 党员大会 -----------------------------------------------------------------------------


def test_a_question_the_superior_named_needs_an_answer(baseline):
    batch = copy(baseline)
    batch[Response] = pd.concat([batch[Response], pd.DataFrame([{
        "meeting_id": H1, "source": "superior", "question": "会风会纪是否严肃", "responder": None,
        "summary": None}])], ignore_index=True)
    found = check(batch)
    assert found.rule.tolist() == ["MEET-UNIT-RESPONSES"] and "会风会纪是否严肃" in found.message.iloc[0]
    batch[Response].loc[batch[Response].index[-1], "summary"] = "已对照检查，会风会纪总体严肃"
    assert check(batch).empty


def test_peer_review_severity_follows_the_profile(baseline):
    from orglife_nb.mutations import apply_mutation
    from orglife_nb.rules import load_profile

    batch, subject = apply_mutation(baseline, "MEET-PEER-REVIEW")
    assert check(batch).severity.tolist() == ["warning"]
    info = load_profile("default").model_copy(update={"peer_review": "info"})
    off = load_profile("default").model_copy(update={"peer_review": "off"})
    assert check(batch, profile=info).severity.tolist() == ["info"]
    assert check(batch, profile=off).empty


def test_group_records_open_the_stage(baseline):
    batch = copy(baseline)
    crit = batch[Criticism]
    report = crit.meeting_id.eq(H1) & crit.act.eq("report") & crit.stage.eq("assembly")
    assert crit.loc[report, "target"].tolist() == [GROUP]
    crit.loc[report, "seq"] = crit.loc[crit.meeting_id.eq(H1), "seq"].max() + 1
    found = check(batch)
    assert found.rule.tolist() == ["MEET-ORDER"] and "先班子后个人" in found.message.iloc[0]


# ---- the model, workbook and store -----------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("9:30", "09:30"), ("09:30:00", "09:30"), ("14时30分", "14:30"),
                                             ("８点", "08:00"), (dt.time(8, 5), "08:05"), (0.375, "09:00")])
def test_start_time_cells(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["25:00", "9:75", "上午", 1.5])
def test_bad_start_time_cells(value):
    with pytest.raises(CellError):
        parse_time(value)


def test_a_workbook_written_before_revision_2_still_imports(tmp_path, baseline):
    from orglife_nb.workbook.read import read_workbook
    from orglife_nb.workbook.write import write_workbook

    path = tmp_path / "old.xlsx"
    write_workbook(path, baseline)
    book = openpyxl.load_workbook(path)
    del book["回应"]
    for sheet, header in (("会议", "开始时间"), ("会议", "通报征求意见"), ("评定", "帮促人"), ("整改", "承诺")):
        ws = book[sheet]
        column = next(c.column for c in ws[1] if c.value == header)
        ws.delete_cols(column)
    book.save(path)
    batch, problems = read_workbook(path)
    assert problems == []
    typed = frames.from_batch(batch)  # a missing column is "not recorded"
    assert typed.meetings.opinions_reported.isna().all() and typed.ratings.helper.isna().all()
    assert typed.responses.empty and len(typed.criticisms) == len(baseline[Criticism])
    assert check(batch).rule.isin(["MEET-OPINIONS-REPORTED", "MEET-UNIT-RESPONSES", "RECT-PERSONAL"]).all()


def test_an_older_store_is_upgraded_and_takes_group_records(db_url):
    from sqlalchemy import create_engine, text

    from orglife_nb.store import Store, head_revision, migrate

    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0005")
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '老支部', 1)"))
        connection.execute(text("insert into members (member_id, branch_id, name, version) "
                                "values ('001-01', '001', '张三', 1)"))
        connection.execute(text("insert into meetings (meeting_id, branch_id, date, version) "
                                "values ('M1', '001', '2025-06-20', 1)"))
        connection.execute(text("insert into criticisms (meeting_id, seq, stage, target, speaker, act, version) "
                                "values ('M1', 1, 'assembly', '001-01', '001-01', 'self_criticism', 1)"))
    engine.dispose()
    with Store(db_url) as store:
        assert store.revision == head_revision()
        assert store.read(Criticism).target.tolist() == ["001-01"]
        assert store.read(Meeting).opinions_reported.isna().all()
        store.save({Criticism: pd.DataFrame([
            {"meeting_id": "M1", "seq": 1, "stage": "assembly", "target": "001-01", "speaker": "001-01",
             "act": "self_criticism"},
            {"meeting_id": "M1", "seq": 0, "stage": "assembly", "target": GROUP, "speaker": "001-01",
             "act": "report"}]),
            Response: pd.DataFrame([{"meeting_id": "M1", "source": "required", "question": "担当意识",
                                     "responder": "001-01", "summary": "较强"}])})
        assert sorted(store.read(Criticism).target) == ["001-01", GROUP]
        assert store.read(Response).question.tolist() == ["担当意识"]


def test_a_long_findings_table_is_one_line_per_finding_short_one_wraps():
    """rich lays a table out to the terminal's width at ~1 ms a meeting: a 10,000-branch check (270,000 findings)
    printed that way took minutes. Beyond WRAP_LIMIT each finding is one aligned line."""
    from orglife_nb import demo
    from orglife_nb.reports.text import WRAP_LIMIT, to_table

    found = run_checks(frames.from_batch(demo.generate()), as_of=demo.DEMO_AS_OF)
    long_message = found.message.str.len().idxmax()
    wrapped = to_table(found, demo.DEMO_AS_OF, wrap=True)
    plain = to_table(found, demo.DEMO_AS_OF, wrap=False)
    message = found.message[long_message]
    assert message in plain and message not in wrapped  # wrapped onto a second line at 100 columns
    lines = [line for line in plain.splitlines() if line.startswith("    ")]
    assert len(lines) == len(found)
    assert len(found) < WRAP_LIMIT and to_table(found, demo.DEMO_AS_OF) == wrapped
