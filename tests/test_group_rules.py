"""rules.md revision 3, the 班子's steps: MEET-GROUP-CHECK at branch meetings with a committee, the new
PREP-GROUP-OPINIONS-REPORTED and EVAL-GROUP-BALLOT; 会议.班子意见通报日期 and 测评 lines on the 班子 through the
workbook and the store (migration 0011)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from orglife_nb.demo import BASELINE_MEETINGS, baseline_batch
from orglife_nb.models import BRANCH_LEADERSHIP, GROUP, Ballot, Criticism, Meeting, Opinion
from orglife_nb.store import Store, head_revision, migrate

from test_rules_rev2 import check, copy
from test_workbook import base_sheets, content, run, template_notes
from test_workbook import wb  # noqa: F401  (fixture)

D = dt.date
T = pd.Timestamp
H1, SP, H2, L1 = (BASELINE_MEETINGS[k] for k in ("regular_h1", "special", "regular_h2", "leadership"))
SECRETARY, DEPUTY = "B001-01", "B001-02"


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def _only(found: pd.DataFrame, rule: str) -> pd.DataFrame:
    return found[found.rule.eq(rule)]


# ---- MEET-GROUP-CHECK: the 支委会 opens with the 班子's 对照检查 -------------------------------------------------


def _group_report(batch, meeting_id, stage):
    c = batch[Criticism]
    return c.meeting_id.eq(meeting_id) & c.stage.eq(stage) & c.act.eq("report") & c.target.eq(GROUP)


def _without_group_report(batch, meeting_id, stage="committee"):
    batch = copy(batch)
    batch[Criticism] = batch[Criticism][~_group_report(batch, meeting_id, stage)]
    return batch


def test_the_lawful_meetings_are_silent(baseline):
    rules = ["MEET-GROUP-CHECK", "PREP-GROUP-OPINIONS-REPORTED", "EVAL-GROUP-BALLOT", "EVAL-BALLOTS", "EVAL-HELP"]
    assert check(baseline, rules=rules).empty
    # each branch meeting's 支委会 does open with the secretary's 通报 on the 班子
    c = baseline[Criticism]
    for meeting in (H1, SP, H2):
        first = c[c.meeting_id.eq(meeting) & c.stage.eq("committee")].sort_values("seq").iloc[0]
        assert (first.target, first.speaker, first.act) == (GROUP, SECRETARY, "report")


@pytest.mark.parametrize("meeting, stage, severity, source", [
    (H1, "committee", "warning", "000 第二篇 一(二)1"),
    (SP, "committee", "warning", "000 第二篇 一(二)1"),
    (L1, "leadership", "error", "003 民主 三.2③、三.3"),
])
def test_a_missing_group_check_is_found_with_the_severity_and_source_of_its_kind(baseline, meeting, stage, severity,
                                                                                 source):
    found = check(_without_group_report(baseline, meeting, stage), rules=["MEET-GROUP-CHECK"])
    assert found.meeting_id.tolist() == [meeting] and found.severity.tolist() == [severity]
    assert found.source.tolist() == [source] and found.subject.isna().all()
    if stage == "committee":
        assert "书记" in found.message.iloc[0] and "在支委会上代表班子作对照检查" in found.message.iloc[0]
    else:
        assert "主要负责同志" in found.message.iloc[0]


def test_a_missing_group_check_is_pending_until_the_report_deadline(baseline):
    batch = _without_group_report(baseline, H2)
    on_the_day = check(batch, as_of=D(2025, 12, 12), rules=["MEET-GROUP-CHECK"])
    assert on_the_day.severity.tolist() == ["info"] and "会后补录：应不晚于 2025-12-22" in on_the_day.message.iloc[0]
    assert check(batch, as_of=D(2025, 12, 23), rules=["MEET-GROUP-CHECK"]).severity.tolist() == ["warning"]


def test_the_group_check_by_another_member_is_found_at_once(baseline):
    batch = copy(baseline)
    batch[Criticism].loc[_group_report(batch, H1, "committee"), "speaker"] = DEPUTY
    found = check(batch, as_of=D(2025, 6, 20), rules=["MEET-GROUP-CHECK"])
    assert found.meeting_id.tolist() == [H1] and found.severity.tolist() == ["warning"]
    assert "应由书记" in found.message.iloc[0] and "实际由" in found.message.iloc[0]


def test_the_assembly_report_does_not_stand_for_the_committee_stage(baseline):
    # the 党员大会's 通报 (MEET-ASSEMBLY-REPORT's) is still there: the 支委会 lacks its own
    batch = _without_group_report(baseline, H1)
    assert _group_report(batch, H1, "assembly").any()
    assert check(batch, rules=["MEET-GROUP-CHECK"]).meeting_id.tolist() == [H1]


def test_a_branch_without_a_committee_has_no_committee_stage_to_open():
    batch = baseline_batch(has_committee=False)
    assert not batch[Criticism].stage.eq("committee").any()
    assert check(batch, rules=["MEET-GROUP-CHECK", "PREP-GROUP-OPINIONS-REPORTED", "EVAL-GROUP-BALLOT"]).empty


# ---- PREP-GROUP-OPINIONS-REPORTED: opinions on the 支部班子 reach the committee before the meeting --------------


def _reported(batch, meeting_id, value):
    batch = copy(batch)
    batch[Meeting].loc[batch[Meeting].meeting_id.eq(meeting_id), "group_opinions_reported_on"] = value
    return batch


RULE = ["PREP-GROUP-OPINIONS-REPORTED"]


def test_reported_on_the_meeting_day_is_in_time(baseline):
    assert check(_reported(baseline, H1, D(2025, 6, 20)), rules=RULE).empty


@pytest.mark.parametrize("as_of, severity", [(D(2025, 6, 10), "info"), (D(2025, 6, 20), "info"),
                                             (D(2025, 6, 21), "warning")])
def test_a_missing_date_is_pending_through_the_meeting_day_then_a_warning(baseline, as_of, severity):
    found = check(_reported(baseline, H1, None), as_of=as_of, rules=RULE)
    assert found.meeting_id.tolist() == [H1] and found.severity.tolist() == [severity]
    assert found.source.tolist() == ["003 二.3"] and "班子意见通报日期" in found.message.iloc[0]
    if severity == "info":
        assert "待办：应不晚于 2025-06-20" in found.message.iloc[0]


def test_a_date_after_the_meeting_is_an_error(baseline):
    found = check(_reported(baseline, SP, D(2025, 9, 22)), as_of=D(2025, 9, 25), rules=RULE)
    assert found.meeting_id.tolist() == [SP] and found.severity.tolist() == ["error"]
    assert "2025-09-22 才向支部委员通报，晚于会议（2025-09-19）" in found.message.iloc[0]


def test_without_an_opinion_on_the_group_nothing_is_to_report(baseline):
    batch = _reported(baseline, H1, None)
    opinions = batch[Opinion]
    assert opinions[opinions.meeting_id.eq(H1)].target.eq(BRANCH_LEADERSHIP).any()
    batch[Opinion] = opinions[~(opinions.meeting_id.eq(H1) & opinions.target.eq(BRANCH_LEADERSHIP))]
    assert check(batch, rules=RULE).empty


def test_a_leadership_meeting_is_not_concerned(baseline):
    assert baseline[Meeting].set_index("meeting_id").group_opinions_reported_on.isna()[L1]
    assert check(baseline, rules=RULE).empty


# ---- EVAL-GROUP-BALLOT: the 班子 is rated; its lines are no member's ----------------------------------------------


def _ballots(batch, keep):
    batch = copy(batch)
    batch[Ballot] = batch[Ballot][keep(batch[Ballot])].reset_index(drop=True)
    return batch


def _no_group_lines(b: pd.DataFrame) -> pd.Series:
    return ~(b.meeting_id.eq(H2) & b.rated_id.eq(GROUP))


def test_ballots_without_the_group_are_found_after_the_report_deadline(baseline):
    batch = _ballots(baseline, _no_group_lines)
    found = check(batch, rules=["EVAL-GROUP-BALLOT"])
    assert found.meeting_id.tolist() == [H2] and found.severity.tolist() == ["warning"]
    assert found.source.tolist() == ["000 第二篇 二.2"] and "支部班子" in found.message.iloc[0]
    pending = check(batch, as_of=D(2025, 12, 15), rules=["EVAL-GROUP-BALLOT"])
    assert pending.severity.tolist() == ["info"] and "还剩 7 天" in pending.message.iloc[0]


def test_one_line_on_the_group_is_enough(baseline):
    b = baseline[Ballot]
    first = b.index[b.meeting_id.eq(H2) & b.rated_id.eq(GROUP)][0]
    batch = _ballots(baseline, lambda b: _no_group_lines(b) | b.index.isin([first]))
    assert check(batch, rules=["EVAL-GROUP-BALLOT"]).empty


def test_ballots_on_the_group_alone_are_no_member_ballots(baseline):
    batch = _ballots(baseline, lambda b: ~b.meeting_id.eq(H2) | b.rated_id.eq(GROUP))
    found = check(batch, rules=["EVAL-BALLOTS", "EVAL-GROUP-BALLOT"])
    assert found.rule.tolist() == ["EVAL-BALLOTS"] and "无测评票" in found.message.iloc[0]


def test_papers_rating_only_the_group_do_not_count_against_the_voters(baseline):
    extra = pd.DataFrame([{"meeting_id": H2, "ballot_no": f"9{n:02d}", "rated_id": GROUP, "level": "qualified",
                           "voter_type": "member"} for n in range(20)])
    batch = copy(baseline)
    batch[Ballot] = pd.concat([batch[Ballot], extra], ignore_index=True)
    assert check(batch, rules=["EVAL-BALLOTS"]).empty
    # the same papers rating a member are more member ballots than members present
    batch[Ballot] = pd.concat([baseline[Ballot], extra.assign(rated_id="B001-04")], ignore_index=True)
    assert "党员票多于到会党员" in check(batch, rules=["EVAL-BALLOTS"]).message.iloc[0]


def test_a_poor_rating_of_the_group_asks_no_helper(baseline):
    batch = copy(baseline)
    group = batch[Ballot].meeting_id.eq(H2) & batch[Ballot].rated_id.eq(GROUP)
    batch[Ballot].loc[group, "level"] = "unqualified"
    assert check(batch, rules=["EVAL-HELP", "EVAL-BALLOTS", "EVAL-GROUP-BALLOT"]).empty
    # a level outside the meeting's scheme is refused on the group's line as on a member's
    batch[Ballot].loc[group, "level"] = "poor"
    found = check(batch, rules=["EVAL-BALLOTS"])
    assert len(found) == group.sum() == batch[Ballot][batch[Ballot].meeting_id.eq(H2)].ballot_no.nunique()
    assert found.message.str.contains("对 班子 评为“差”，不属于四档测评方案").all()


# ---- the workbook and the store ------------------------------------------------------------------------------


def _group_sheets(reported_on="2026-06-18", rated=GROUP) -> dict:
    sheets = base_sheets()
    meetings = sheets["会议"]
    meetings[0] = meetings[0] + ["班子意见通报日期"]
    meetings[1] = meetings[1] + [reported_on]
    meetings[2] = meetings[2] + [None]
    sheets["测评"] = sheets["测评"] + [["G1", "P01", rated, "合格", "党员"]]
    return sheets


def test_the_template_explains_the_new_column_and_the_group_line(tmp_path):
    notes = template_notes(tmp_path)
    reported = notes["会议"]["班子意见通报日期"]
    assert "向支部委员通报的日期" in reported and "不晚于召开日期" in reported
    assert "或“班子”" in notes["测评"]["被测评人"]


def test_group_lines_and_the_date_import_export_and_import_alike(wb, db_url, tmp_path, capsys):
    code, out, _ = run(capsys, "import", wb(_group_sheets()), "--db", db_url)
    assert code == 0, out
    stored = content(db_url)
    with Store(db_url) as store:
        meetings = store.read(Meeting).set_index("meeting_id")
        ballots = store.read(Ballot)
    assert meetings.group_opinions_reported_on["G1"] == D(2026, 6, 18)
    assert pd.isna(meetings.group_opinions_reported_on["G2"])
    assert (ballots.rated_id.eq(GROUP) & ballots.level.eq("qualified")).sum() == 1
    out_path = tmp_path / "export.xlsx"
    assert run(capsys, "export", out_path, "--db", db_url)[0] == 0
    again = f"sqlite:///{tmp_path / 'again.db'}"
    assert run(capsys, "import", out_path, "--db", again)[0] == 0
    assert content(again) == stored


@pytest.mark.parametrize("sheets, sheet, row, header, why", [
    (_group_sheets(reported_on="六月"), "会议", 2, "班子意见通报日期", "日期"),
    (_group_sheets(rated="班子们"), "测评", 5, "被测评人", "党员编号不存在（本文件“党员”表和数据库中都没有），也不是“班子”"),
])
def test_bad_cells_name_sheet_row_and_column(wb, sqlite_url, capsys, sheets, sheet, row, header, why):
    code, out, _ = run(capsys, "import", wb(sheets), "--db", sqlite_url)
    assert code == 2 and "未写入任何内容" in out
    line = next(line for line in out.splitlines() if f"{sheet} · 第 {row} 行 · {header}" in line)
    assert why in line, out


def test_an_old_store_gets_the_column_and_takes_group_lines(db_url):
    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0010")
        connection.execute(text("insert into branches (branch_id, name, has_committee, version) "
                                "values ('001', '老支部', true, 1)"))
        connection.execute(text("insert into meetings (meeting_id, branch_id, date, version) "
                                "values ('G1', '001', '2026-06-20', 1)"))
    engine.dispose()
    with Store(db_url) as opened:
        assert opened.revision == head_revision() >= "0011"
        assert opened.read(Meeting).group_opinions_reported_on.isna().all()
        assert not [fk for fk in inspect(opened.engine).get_foreign_keys("ballots")
                    if fk["constrained_columns"] == ["rated_id"]]
        opened.save({Ballot: pd.DataFrame([{"meeting_id": "G1", "ballot_no": "1", "rated_id": GROUP,
                                            "level": "good", "voter_type": "member"}])})
        assert opened.read(Ballot).rated_id.tolist() == [GROUP]


def test_the_downgrade_drops_the_group_lines_and_restores_the_foreign_key(db_url):
    from alembic import command

    from orglife_nb.store import _alembic_config

    with Store(db_url):  # a new store, at the head
        pass
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '支部', 1)"))
        connection.execute(text("insert into members (member_id, branch_id, name, version) "
                                "values ('M1', '001', '甲', 1)"))
        connection.execute(text("insert into meetings (meeting_id, branch_id, date, version) "
                                "values ('G1', '001', '2026-06-20', 1)"))
        for rated in ("M1", GROUP):
            connection.execute(text("insert into ballots (meeting_id, ballot_no, rated_id, level, version) "
                                    "values ('G1', '1', :rated, 'good', 1)"), {"rated": rated})
        command.downgrade(_alembic_config(connection), "0010")
        assert [row[0] for row in connection.execute(text("select rated_id from ballots"))] == ["M1"]
        assert "group_opinions_reported_on" not in {c["name"] for c in inspect(connection).get_columns("meetings")}
        assert [fk["referred_table"] for fk in inspect(connection).get_foreign_keys("ballots")
                if fk["constrained_columns"] == ["rated_id"]] == ["members"]
    engine.dispose()


def test_the_tally_shows_the_group_line_without_adding_it_to_the_members_totals():
    from orglife_nb.models import RatingScheme
    from orglife_nb.store.voting import GROUP_LINE, tally_table

    ballots = pd.DataFrame({"rated_id": ["M1", GROUP, "M1", GROUP], "level": ["good", "good", "fair", "poor"]})
    tally = tally_table(ballots, RatingScheme.three, {"M1": "甲", GROUP: GROUP_LINE})
    assert tally.loc[GROUP_LINE].to_dict() == {"好": 1, "一般": 0, "差": 1, "合计": 2}
    assert tally.loc["合计"].to_dict() == {"好": 1, "一般": 1, "差": 0, "合计": 2}



def test_the_branch_report_names_the_group_line_as_the_ballots_do(baseline):
    """The chart of a meeting's 测评票 shows the 班子's line under the ballots' own name, never the bare id."""
    from orglife_nb.frames import from_batch
    from orglife_nb.reports.branch import BranchReport
    from orglife_nb.rows import BASELINE_AS_OF
    from orglife_nb.store.voting import GROUP_LINE

    frames = from_batch(baseline)
    assert frames.ballots.rated_id.eq(GROUP).any()  # the baseline rates its 班子
    chart = str(BranchReport(branch_id="B001", as_of=BASELINE_AS_OF, frames=frames).evaluation())
    assert GROUP_LINE in chart and f">{GROUP}<" not in chart


REVISION_3 = {"党员": ("转入日期", "转出日期"), "会议": ("班子意见通报日期",)}


def _revision_3(path, out, *, drop: bool):
    """The demo's workbook with workbook.md revision 3's columns and sheet left out (an old workbook), or kept
    and left blank."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    for sheet, headers in REVISION_3.items():
        ws = book[sheet]
        for column in sorted((c.column for c in ws[1] if c.value in headers), reverse=True):
            if drop:
                ws.delete_cols(column)
            else:
                for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                    cell.value = None
    tenures = book["任职"]
    if drop:
        book.remove(tenures)
    else:
        tenures.delete_rows(2, tenures.max_row)
    book.save(out)
    return out


def test_an_old_workbook_checks_as_one_with_the_revision_3_columns_blank(demo_store, tmp_path, capsys):
    """Without the revision's columns and sheet a workbook reads as before: 'always a member', the 党员 sheet's
    role, no 通报 date — the same findings, row for row, as the same workbook with them present and blank."""
    exported = tmp_path / "demo.xlsx"
    assert run(capsys, "export", exported, "--db", demo_store)[0] == 0
    found = {}
    for drop in (True, False):
        book = _revision_3(exported, tmp_path / f"{'old' if drop else 'blank'}.xlsx", drop=drop)
        code, out, err = run(capsys, "check", book, "--as-of", "2026-12-31", "--format", "csv")
        assert code in (0, 1) and out.count("\n") > 100, err  # exit 1: there are errors, as in the demo
        found[drop] = out
    assert found[True] == found[False]
    # not vacuous: the demo's own dates, 任职 rows and 通报 dates change its findings
    assert run(capsys, "check", exported, "--as-of", "2026-12-31", "--format", "csv")[1] != found[True]
