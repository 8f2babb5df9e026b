"""Membership and roles in time (rules.md / workbook.md revision 3): 党员.转入日期/转出日期 and the 任职 sheet
through the store (migration, merge rules, scope)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from orglife_nb.frames import load, subset
from orglife_nb.models import GROUP, Branch, Member, Tenure
from orglife_nb.store import Store, head_revision, migrate
from orglife_nb.store.scope import ScopeError

from test_scope import PASSWORD, as_, seed

D = dt.date


def _tenures(*rows) -> pd.DataFrame:
    return pd.DataFrame([{"member_id": m, "role": r, "start_date": s, "end_date": e} for m, r, s, e in rows])


def test_an_old_store_gets_the_dates_and_the_tenure_table_and_keeps_its_members(db_url):
    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0009")
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '老支部', 1)"))
        connection.execute(text("insert into members (member_id, branch_id, name, role, version) "
                                "values ('001-01', '001', '王伟', 'secretary', 1)"))
    engine.dispose()
    with Store(db_url) as opened:
        assert opened.revision == head_revision() >= "0010"
        members = opened.read(Member)
        assert members.name.tolist() == ["王伟"] and members.joined_on.isna().all() and members.left_on.isna().all()
        assert opened.read(Tenure).empty
        assert "ix_tenures_member_id" in {ix["name"] for ix in inspect(opened.engine).get_indexes("tenures")}


def test_tenure_rows_are_replaced_per_member_and_read_per_branch(store):
    seed(store)
    store.save({Member: pd.DataFrame([{"member_id": "M2", "branch_id": "B1", "name": "乙", "role": "secretary",
                                       "joined_on": D(2026, 7, 1), "left_on": None}]),
                Tenure: _tenures(("M1", "secretary", D(2020, 1, 1), D(2026, 9, 30)),
                                 ("M2", "secretary", D(2026, 10, 1), None),
                                 ("N1", "secretary", D(2021, 1, 1), None))})
    # M1's rows replaced by the new ones; M2's and N1's untouched (same rows: nothing changes)
    summary = store.save({Tenure: _tenures(("M1", "committee", D(2026, 10, 1), None),
                                           ("M1", "secretary", D(2020, 1, 1), D(2026, 9, 30)),
                                           ("M2", "secretary", D(2026, 10, 1), None))})
    assert summary.inserted[Tenure] == 2 and summary.unchanged[Tenure] == 1
    stored = store.read(Tenure)
    assert sorted(zip(stored.member_id, stored.role)) == [("M1", "committee"), ("M1", "secretary"),
                                                         ("M2", "secretary"), ("N1", "secretary")]
    assert store.read(Member, ["B1"]).set_index("member_id").joined_on["M2"] == D(2026, 7, 1)
    frames = load(store, ["B1"])
    assert set(frames.tenures.member_id) == {"M1", "M2"}  # N1 is B2's
    assert set(subset(load(store), ["B2"]).tenures.member_id) == {"N1"}
    # the change is logged under the member, with its branch
    history = store.history(branch="B1")
    replaced = history[(history.record == "tenures") & (history.action == "replace")]
    assert set(replaced.record_key) == {"M1", "M2"}


def test_a_secretary_writes_tenure_only_of_her_branchs_members(store):
    seed(store)
    with as_(store, "sec1") as mine:
        mine.save({Tenure: _tenures(("M1", "secretary", D(2020, 1, 1), None))})
        assert mine.read(Tenure).member_id.tolist() == ["M1"]
        with pytest.raises(ScopeError, match="无权修改支部 B2"):
            mine.save({Tenure: _tenures(("N1", "secretary", D(2020, 1, 1), None))})
        # nor through a member the batch claims to move into her branch
        with pytest.raises(ScopeError, match="无权修改支部 B2"):
            mine.save({Member: pd.DataFrame([{"member_id": "N2", "branch_id": "B1", "name": "丁"}]),
                       Tenure: _tenures(("N2", "committee", D(2020, 1, 1), None))})
    assert store.read(Tenure).member_id.tolist() == ["M1"]
    with as_(store, "sup") as superior:  # reads her branches' rows
        assert superior.read(Tenure, ["B1"]).member_id.tolist() == ["M1"]


# ---- the workbook: template notes, the three import problems, old workbooks -----------------------------------

from test_workbook import base_sheets, content, run, template_notes  # noqa: E402  (the workbook tests' helpers)
from test_workbook import wb  # noqa: E402,F401  (fixture)

TENURE_HEADER = ["党员编号", "职务", "起始日期", "终止日期"]


def _with_dates(sheets: dict, dates: dict[str, tuple]) -> dict:
    """base_sheets()' 党员 with 转入日期/转出日期 columns (member → (转入, 转出))."""
    members = sheets["党员"]
    members[0] = members[0] + ["转入日期", "转出日期"]
    for row in members[1:]:
        row += list(dates.get(row[0], (None, None)))
    return sheets


def test_the_template_explains_the_dates_and_the_tenure_sheet(tmp_path):
    notes = template_notes(tmp_path)
    members, notes = notes["党员"], notes["任职"]
    assert "空白表示早于所有已登记的会议" in members["转入日期"] and "空白表示仍是本支部党员" in members["转出日期"]
    assert list(notes) == TENURE_HEADER
    assert "空白表示现任" in notes["终止日期"] and "09-30" in notes["终止日期"] and "含当天" in notes["起始日期"]


def test_an_old_workbook_without_the_dates_and_the_sheet_imports_as_before(wb, db_url, capsys):
    code, out, _ = run(capsys, "import", wb(), "--db", db_url)
    assert code == 0, out
    stored = content(db_url)
    assert stored["tenures"] == [] and len(stored["members"]) == 5


def test_dates_and_tenures_import_and_export_alike(wb, db_url, tmp_path, capsys):
    sheets = _with_dates(base_sheets(), {"M003": (D(2026, 7, 1), None), "M102": (D(2020, 1, 1), D(2026, 9, 30))})
    sheets["任职"] = [TENURE_HEADER, ["M001", "委员", D(2020, 1, 1), D(2026, 9, 30)],
                    ["M001", "书记", D(2026, 10, 1), None], ["M002", "书记", D(2021, 3, 1), D(2026, 9, 30)],
                    ["M002", "委员", "2026-10-01", None]]
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 0 and "任职 新增 4 行" in out, out
    out_path = tmp_path / "export.xlsx"
    assert run(capsys, "export", out_path, "--db", db_url)[0] == 0
    again = f"sqlite:///{tmp_path / 'again.db'}"
    assert run(capsys, "import", out_path, "--db", again)[0] == 0
    assert content(again) == content(db_url)
    assert ("M002", "committee", D(2026, 10, 1), None) in content(db_url)["tenures"]


@pytest.mark.parametrize("case, sheet, row, header, why", [
    ("left before joined", "党员", 4, "转出日期", "转出日期早于转入日期（2026-07-01）：应在转入之后"),
    ("overlap", "任职", 3, "起始日期", "同一党员的任职期间不能重叠：与第 2 行（2020-01-01 至 2026-10-01）重叠"),
    ("two secretaries", "任职", 3, "职务",
     "同一支部同一天只能有一名书记：支部 001 与第 2 行党员 M001 的书记任期（2020-01-01 至 2026-09-30）重叠"),
    ("end before start", "任职", 2, "终止日期", "终止日期早于起始日期（2026-10-01）"),
    ("unknown member", "任职", 2, "党员编号", "党员编号不存在"),
])
def test_each_import_problem_names_sheet_row_column_and_nothing_is_written(wb, sqlite_url, capsys, case, sheet,
                                                                           row, header, why):
    db_url = sqlite_url  # validation: one backend is enough
    assert run(capsys, "import", wb(), "--db", db_url)[0] == 0
    before = content(db_url, store_columns=True)
    sheets = _with_dates(base_sheets(), {"M003": (D(2026, 7, 1), D(2026, 6, 30) if case == "left before joined"
                                                  else None)})
    sheets["任职"] = {
        "left before joined": [TENURE_HEADER, ["M001", "书记", D(2020, 1, 1), None]],
        "overlap": [TENURE_HEADER, ["M001", "委员", D(2020, 1, 1), D(2026, 10, 1)],
                    ["M001", "书记", D(2026, 10, 1), None]],  # a handover is 09-30 / 10-01, not 10-01 twice
        "two secretaries": [TENURE_HEADER, ["M001", "书记", D(2020, 1, 1), D(2026, 9, 30)],
                            ["M002", "书记", D(2026, 9, 30), None]],
        "end before start": [TENURE_HEADER, ["M001", "书记", D(2026, 10, 1), D(2026, 9, 30)]],
        "unknown member": [TENURE_HEADER, ["M404", "书记", D(2026, 10, 1), None]],
    }[case]
    code, out, _ = run(capsys, "import", wb(sheets), "--db", db_url)
    assert code == 2 and "未写入任何内容" in out
    line = next(line for line in out.splitlines() if f"{sheet} · 第 {row} 行 · {header}" in line)
    assert why in line, out
    assert content(db_url, store_columns=True) == before


def test_a_secretary_term_may_not_overlap_a_stored_one_unless_the_file_replaces_it(wb, db_url, capsys):
    sheets = base_sheets()
    sheets["任职"] = [TENURE_HEADER, ["M001", "书记", D(2020, 1, 1), None]]
    assert run(capsys, "import", wb(sheets), "--db", db_url)[0] == 0
    newcomer = {"任职": [TENURE_HEADER, ["M002", "书记", D(2026, 10, 1), None]]}
    code, out, _ = run(capsys, "import", wb(newcomer), "--db", db_url)
    assert code == 2 and "支部 001 与数据库中党员 M001 的书记任期（2020-01-01 至今）重叠" in out
    # the same file ends M001's term the day before: a handover
    newcomer["任职"].append(["M001", "书记", D(2020, 1, 1), D(2026, 9, 30)])
    code, out, _ = run(capsys, "import", wb(newcomer), "--db", db_url)
    assert code == 0, out
    # the other branch's secretary on the same days is no conflict
    other = {"任职": [TENURE_HEADER, ["M101", "书记", D(2020, 1, 1), None]]}
    assert run(capsys, "import", wb(other), "--db", db_url)[0] == 0


# ---- the rules: each member expected only at meetings they belonged to; roles on the meeting's day --------------

from orglife_nb.demo import BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch  # noqa: E402
from orglife_nb.models import RECORDS, Attendance, Ballot, Criticism, Meeting  # noqa: E402

from test_rules_rev2 import check, copy  # noqa: E402

H1, S1, L1, H2 = (BASELINE_MEETINGS[k] for k in ("regular_h1", "special", "leadership", "regular_h2"))
ORDINARY, SECRETARY, DEPUTY = BASELINE_ROLES["ordinary"], BASELINE_ROLES["secretary"], BASELINE_ROLES["deputy"]
PERSON = {"member_id", "talker", "talkee", "target", "speaker", "rated_id", "owner", "responder", "helper"}


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def _set_member(batch, member, **values):
    members = batch[Member]
    for column, value in values.items():
        if column not in members:
            members[column] = None
        members[column] = members[column].astype(object)
        members.loc[members.member_id.eq(member), column] = value
    return batch


def _without(batch, member, meeting):
    """The batch with no row of ``meeting`` about ``member`` (no attendance, talk, criticism, rating …): what a
    branch records for someone who was not yet (or no longer) its member."""
    batch = copy(batch)
    c = batch[Criticism]
    # whom they criticised hears it from the secretary instead (the 党员互评 stays whole)
    c.loc[c.meeting_id.eq(meeting) & c.speaker.eq(member) & c.target.ne(member), "speaker"] = SECRETARY
    b = batch[Ballot]  # and one member ballot fewer was cast
    mine = b.meeting_id.eq(meeting) & b.voter_type.eq("member")
    if mine.any():
        batch[Ballot] = b[~(mine & b.ballot_no.eq(b.ballot_no[mine].iloc[-1]))].reset_index(drop=True)
    for record in RECORDS:
        frame = batch.get(record)
        if frame is None or "meeting_id" not in frame or record is Meeting:
            continue
        about = frame.meeting_id.eq(meeting) & frame[[c for c in PERSON if c in frame]].eq(member).any(axis=1)
        batch[record] = frame[~about].reset_index(drop=True)
    return batch


def _about(found, member):
    return found[found.subject.astype(str).str.contains(member) | found.message.str.contains(member)]


def test_a_member_who_joined_on_07_01_is_not_expected_at_the_june_meeting(baseline):
    batch = _without(baseline, ORDINARY, H1)
    found = check(batch)
    assert set(found.meeting_id) == {H1} and {"MEET-ATTENDANCE", "PREP-TALKS"} <= set(found.rule)  # without dates
    _set_member(batch, ORDINARY, joined_on=pd.Timestamp(2025, 7, 1))
    assert check(batch).empty
    # the nearest unlawful case: joined on the meeting's day, so a member of it
    _set_member(batch, ORDINARY, joined_on=pd.Timestamp(2025, 6, 20))
    found = check(batch, rules=["MEET-ATTENDANCE", "PREP-TALKS"])
    assert set(found.meeting_id) == {H1} and found.severity.isin(["error", "warning"]).all()
    assert found[found.rule.eq("MEET-ATTENDANCE")].subject.astype(str).tolist() == [ORDINARY]
    assert _about(found[found.rule.eq("PREP-TALKS")], "周明").severity.tolist() == ["error"]


def test_a_member_who_joined_in_july_is_expected_at_the_later_meetings(baseline):
    batch = _set_member(_without(baseline, ORDINARY, H2), ORDINARY, joined_on=pd.Timestamp(2025, 7, 1))
    found = check(batch)
    assert set(found.meeting_id) == {H2} and {"MEET-ATTENDANCE", "PREP-TALKS", "EVAL-RATING"} <= set(found.rule)
    assert _about(found[found.rule.eq("MEET-ATTENDANCE")], ORDINARY).rule.tolist() == ["MEET-ATTENDANCE"]


@pytest.mark.parametrize("left_on, expected", [(pd.Timestamp(2025, 12, 1), False),
                                               (pd.Timestamp(2025, 12, 12), False),  # left on the meeting's day
                                               (pd.Timestamp(2025, 12, 13), True)])
def test_a_member_who_left_before_the_meeting_is_not_expected(baseline, left_on, expected):
    batch = _set_member(_without(baseline, ORDINARY, H2), ORDINARY, left_on=left_on)
    found = check(batch)
    assert (not found.empty) == expected, found[["rule", "meeting_id", "message"]].to_string()
    if expected:
        assert set(found.meeting_id) == {H2}
        assert _about(found[found.rule.eq("MEET-ATTENDANCE")], ORDINARY).rule.tolist() == ["MEET-ATTENDANCE"]


def _handover(batch, last_day_of_old: dt.date):
    """The secretary hands over to the deputy: 01 书记 up to ``last_day_of_old``, 02 书记 from the next day;
    党员.职务 now says 02 is the 书记, 01 the 副书记."""
    _set_member(batch, SECRETARY, role="deputy")
    _set_member(batch, DEPUTY, role="secretary")
    next_day = last_day_of_old + dt.timedelta(days=1)
    batch[Tenure] = _tenures((SECRETARY, "secretary", D(2020, 1, 1), last_day_of_old),
                             (SECRETARY, "deputy", next_day, None),
                             (DEPUTY, "deputy", D(2020, 1, 1), last_day_of_old),
                             (DEPUTY, "secretary", next_day, None))
    return batch


def test_a_secretary_who_took_over_later_does_not_make_earlier_meetings_host_wrong(baseline):
    batch = _handover(copy(baseline), D(2025, 12, 31))
    assert check(batch).empty
    without_tenure = {**batch, Tenure: batch[Tenure].iloc[0:0]}  # 党员.职务 alone: 02 would be every meeting's 书记
    host = check(without_tenure, rules=["MEET-HOST"])
    assert set(host.meeting_id) == {H1, S1, L1, H2} and host.severity.eq("error").all()


@pytest.mark.parametrize("last_day, wrong", [(D(2025, 11, 21), {H2}),  # L1 on 11-21: the old term's last day
                                             (D(2025, 11, 20), {L1, H2})])  # L1 on the new term's first day
def test_a_meeting_hosted_by_the_secretary_of_another_term_is_found(baseline, last_day, wrong):
    found = check(_handover(copy(baseline), last_day), rules=["MEET-HOST"])
    assert set(found.meeting_id) == wrong and found.severity.eq("error").all()
    assert found.message.str.contains("应由书记 李红梅 主持").all()


def test_a_member_with_tenure_rows_is_an_ordinary_member_outside_them(baseline):
    # 02 became 书记 on 2026-01-01 and was no 副书记 before: in 2025 an ordinary member, so no 班子 talks expected
    # of the 副书记 role (the committee is 01 and 03 then), whatever 党员.职务 says now
    batch = _handover(copy(baseline), D(2025, 12, 31))
    batch[Tenure] = batch[Tenure][~(batch[Tenure].member_id.eq(DEPUTY) & batch[Tenure].role.eq("deputy"))]
    found = check(batch, rules=["MEET-HOST", "PREP-TALKS"])
    assert found.empty
    from orglife_nb.frames import from_batch
    from orglife_nb.rules.context import Context
    from orglife_nb.rules.profile import load_profile

    roster = Context(from_batch(batch), load_profile(), D(2025, 12, 31)).roster
    roles = roster[roster.member_id.astype(str).eq(DEPUTY)].role.astype(str).unique().tolist()
    assert roles == ["member"]


# ---- the demo: a lawful branch with a newcomer, a leaver and a 换届 stays silent; the nearest defects are found ---


@pytest.fixture(scope="module")
def demo_findings():
    from orglife_nb import demo
    from orglife_nb.frames import from_batch
    from orglife_nb.rules import run_checks

    batch = demo.generate()
    return batch, run_checks(from_batch(batch), as_of=demo.DEMO_AS_OF, year=2026)


def test_the_demo_branch_with_a_newcomer_a_leaver_and_a_handover_is_silent(demo_findings):
    from orglife_nb import demo

    batch, found = demo_findings
    assert "B008" in demo.COMPLIANT_BRANCHES
    members = batch[Member].set_index("member_id")
    assert members.joined_on["B008-05"] == D(2025, 7, 1) and members.left_on["B008-06"] == D(2026, 3, 1)
    assert set(batch[Tenure].member_id) >= {"B008-01", "B008-02"}
    attendance = batch[Attendance]
    newcomer = set(attendance.meeting_id[attendance.member_id.eq("B008-05")])
    assert newcomer and all(m >= "B008-2025-R2" or "-2026-" in m for m in newcomer) and "B008-2025-R1" not in newcomer
    assert "B008-2026-R1" not in set(attendance.meeting_id[attendance.member_id.eq("B008-06")])
    hosts = batch[Meeting].set_index("meeting_id").host_id
    assert hosts["B008-2025-R1"] == "B008-01" and hosts["B008-2025-R2"] == "B008-02"
    assert found[found.branch_id.eq("B008") & found.severity.ne("info")].empty  # pending steps of the next meetings only


def test_the_demo_plants_a_host_of_the_former_term_and_an_unrecorded_newcomer(demo_findings):
    batch, found = demo_findings
    names = dict(zip(batch[Member].member_id, batch[Member].name))
    host = found[found.branch_id.eq("B003") & found.rule.eq("MEET-HOST") & found.meeting_id.eq("B003-2026-R1")]
    assert host.message.tolist() == [f"会议由 {names['B003-01']} 主持，应由书记 {names['B003-02']} 主持"]
    attendance = found[found.branch_id.eq("B003") & found.rule.eq("MEET-ATTENDANCE")]
    assert attendance.subject.astype(str).tolist() == ["B003-10"]


# ---- reports: a member shown only at the meetings of their membership -------------------------------------------


def test_the_branch_report_shows_a_member_only_at_meetings_of_their_membership(baseline):
    from orglife_nb.frames import from_batch
    from orglife_nb.reports.branch import BranchReport

    def sections(batch):
        report = BranchReport(branch_id="B001", as_of=D(2025, 12, 31), frames=from_batch(batch))
        return report, {name: str(getattr(report, name)()) for name in ("header", "talk_coverage", "attendance")}

    name = "周明"  # ORDINARY: his rows at the June meeting stay, but he joined on 07-01 (and left on 12-20)
    batch = _set_member(copy(baseline), ORDINARY, joined_on=pd.Timestamp(2025, 7, 1),
                        left_on=pd.Timestamp(2025, 12, 20))
    html = sections(batch)[1]
    june, december = (html["talk_coverage"].split(f"（{m}）")[1].split("</table>")[0] for m in (H1, H2))
    assert name not in june and name in december
    def row(text, meeting):  # 出席 · 灵活参加 · 请假 · 缺席
        return text.split(f"<td>{meeting}</td>")[1].split("</tr>")[0]

    assert row(sections(baseline)[1]["attendance"], H1) == "<td>8</td><td>0</td><td>1</td><td>0</td>"
    assert row(html["attendance"], H1) == "<td>7</td><td>0</td><td>1</td><td>0</td>"  # not yet a member
    assert row(html["attendance"], H2) == "<td>8</td><td>0</td><td>1</td><td>0</td>"
    assert "党员 8 名（另有已转出 1 名）" in html["header"]


def test_a_meetings_documents_call_and_rate_only_the_members_of_its_day(baseline):
    from orglife_nb.documents import meeting_context
    from orglife_nb.frames import from_batch

    batch = _set_member(copy(baseline), ORDINARY, joined_on=pd.Timestamp(2025, 7, 1))
    frames = from_batch(batch)
    june, december = (meeting_context(frames, m, as_of=D(2025, 12, 31)) for m in (H1, H2))
    assert "周明" not in june["notice"]["attendees"] and june["notice"]["attendee_count"] == "8"
    assert "周明" in december["notice"]["attendees"] and december["notice"]["attendee_count"] == "9"
    assert "周明" in [m["name"] for m in december["ballot"]["members"]]


# ---- forms: 党员 dates and 任职 in the branch panel -------------------------------------------------------------


def test_the_branch_panel_edits_member_dates_and_tenures(db_url):
    from orglife_nb.forms import RecordForm, Scope, Session, app

    from test_forms import seed as seed_forms

    seed_forms(db_url)
    with Store(db_url) as store:  # another branch's member, never offered
        store.save({Branch: pd.DataFrame([{"branch_id": "B9", "name": "别的支部"}]),
                    Member: pd.DataFrame([{"member_id": "X1", "branch_id": "B9", "name": "外支部书记"}]),
                    Tenure: _tenures(("X1", "secretary", D(2020, 1, 1), None))})
    session = Session(db_url)
    try:
        forms = app(session, first_tab=0)
        assert [type(f).__name__ for f in forms.forms.values()] == ["RecordForm"] * 3
        member, tenure = forms.form(Member), forms.form(Tenure)
        assert {"joined_on", "left_on"} <= set(member.inputs)
        assert list(tenure.inputs) == ["member_id", "role", "start_date", "end_date"]
        assert [value for _, value in tenure.inputs["member_id"].input.options if value] == ["M1", "M2", "M3"]
        tenure.set_values(member_id="M1", role="secretary", start_date=D(2021, 1, 1), end_date=D(2026, 9, 30))
        assert tenure.save(), tenure.status.value
        tenure.set_values(member_id="M2", role="secretary", start_date=D(2026, 10, 1))
        assert tenure.save(), tenure.status.value
        rows = session.rows(Tenure, branch_id="B1")
        assert sorted(zip(rows.member_id, rows.role)) == [("M1", "secretary"), ("M2", "secretary")]
        assert len(tenure.chooser.options) == 3  # （新建） and the two rows
        member.chooser.value = "M3"
        member.set_values(joined_on=D(2026, 7, 1))
        assert member.save(), member.status.value
        assert session.rows(Member, branch_id="B1").set_index("member_id").joined_on["M3"] == D(2026, 7, 1)
        with Store(db_url) as store:
            history = store.history(branch="B1")
        assert (history.record == "tenures").sum() == 2  # logged under the branch
        # what the import refuses, the form refuses too: a second 书记 on the same days, an overlap
        tenure.set_values(member_id="M3", role="secretary", start_date=D(2026, 9, 30))
        assert not tenure.save()
        assert "同一支部同一天只能有一名书记：支部 B1 与已登记的一行党员 M1 的书记任期（2021-01-01 至 2026-09-30）重叠" \
            in tenure.status.value
        tenure.set_values(member_id="M1", role="committee", start_date=D(2026, 9, 30))
        assert not tenure.save() and "同一党员的任职期间不能重叠" in tenure.status.value
        assert len(session.rows(Tenure, branch_id="B1")) == 2
        # a bad date is refused in Chinese before anything is written
        fresh = RecordForm(session, Tenure, Scope(branch_id="B1"))
        fresh.inputs["start_date"].text = "2026-02-30"
        assert "该月没有这一天" in fresh.errors()["start_date"] and fresh.save_button.disabled
    finally:
        session.close()


def test_rows_outside_a_membership_import_with_a_notice(wb, sqlite_url, capsys):
    # M003 joined on 07-01: its rows of the June meeting G1 (出席 row 4, 测评 row 3, 评定 row 3) are said, not refused
    sheets = _with_dates(base_sheets(), {"M003": (D(2026, 7, 1), None)})
    code, out, _ = run(capsys, "import", wb(sheets), "--db", sqlite_url)
    assert code == 0, out
    assert "注意：工作表“出席”有 1 行（第 4 行）所涉党员在会议召开时不是本支部党员" in out
    assert "工作表“评定”有 1 行（第 3 行）" in out and "检查时不作要求、也不计入" in out
    # the dates stored, a later file of child rows alone is told the same
    code, out, _ = run(capsys, "import", wb({"出席": base_sheets()["出席"]}), "--db", sqlite_url)
    assert code == 0 and "工作表“出席”有 1 行（第 4 行）" in out
    # nothing to say without dates
    code, out, _ = run(capsys, "import", wb(), "--db", sqlite_url.rsplit("/", 1)[0] + "/other.db")
    assert code == 0 and "不是本支部党员" not in out


def test_a_ballot_rates_and_counts_only_the_members_of_the_meetings_day(sqlite_url):
    from orglife_nb.errors import OrglifeError
    from orglife_nb.forms import BallotForm, Scope, Session

    from test_forms import SOON, seed as seed_forms

    seed_forms(sqlite_url)
    with Store(sqlite_url) as store:  # 王党员 (M3) joins after MT1, on MT2's day
        store.save({Member: pd.DataFrame([{"member_id": "M3", "branch_id": "B1", "name": "王党员", "role": "member",
                                           "status": "full", "joined_on": SOON + dt.timedelta(days=2)}])})
        with pytest.raises(OrglifeError, match="多于可投票的党员（支部党员 2 人）"):
            store.open_poll("MT1", 3)
        # B1 has a committee: the ballot ends with a line on the 班子 as a whole (rules.md rev 3)
        assert store.open_poll("MT1", 2).rated == ["M1", "M2", GROUP]
        assert store.open_poll("MT2", 3).rated == ["M1", "M2", "M3", GROUP]
    session = Session(sqlite_url)
    try:
        form = BallotForm(session, Scope(branch_id="B1", meeting_id="MT1"))
        assert form._layout[2] == ("M1", "M2", GROUP)
    finally:
        session.close()
