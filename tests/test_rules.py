"""The rule catalogue against the compliant baseline and one mutation per rule, plus the readings rules.md leaves
open (pending vs violation, 15- vs 10-day reports, no committee, probationary members, the 领导干部 exemption)."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from orglife_nb import demo, frames
from orglife_nb.demo import BASELINE_AS_OF, BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch
from orglife_nb.models import Meeting, Member, Rating
from orglife_nb.mutations import MUTATIONS, apply_mutation
from orglife_nb.rules import RULES, get_rule, load_profile, rule_table, run_checks
from clikit import cli as _run

RULE_IDS = [r.id for r in RULES]
SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec" / "rules.md"  # the contract's copy in the repository


def check(batch, as_of=BASELINE_AS_OF, **kw) -> pd.DataFrame:
    return run_checks(frames.from_batch(batch), as_of=as_of, **kw)


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


# rules.md revision 2 added these IDs
REVISION_2_IDS = ["PREP-LEADER-OPINIONS", "MEET-ASSEMBLY-REPORT", "MEET-PEER-REVIEW", "MEET-GROUP-CHECK",
                  "MEET-OPINIONS-REPORTED", "MEET-UNIT-RESPONSES", "EVAL-HELP", "RECT-PERSONAL"]
# rules.md revision 3 added these
REVISION_3_IDS = ["PREP-GROUP-OPINIONS-REPORTED", "EVAL-GROUP-BALLOT"]


def spec_rule_ids() -> list[str]:
    """Rule ids of rules.md: the first backticked cell of every table row that looks like an id."""
    text = SPEC.read_text(encoding="utf-8")
    return re.findall(r"^\|\s*`([A-Z]+(?:-[A-Z]+)+)`\s*\|", text, flags=re.M)


# ---- the catalogue ------------------------------------------------------------------------------------------


def test_every_rule_of_the_spec_is_registered_in_catalogue_order():
    ids = spec_rule_ids()
    assert len(ids) == 48 and set(REVISION_2_IDS) <= set(ids)
    # revision 3's two new IDs are named in its text, not in the tables: registered after their family's last
    text = SPEC.read_text(encoding="utf-8")
    assert all(f"`{rule}` (new)" in text for rule in REVISION_3_IDS)
    assert [r for r in RULE_IDS if r not in REVISION_3_IDS] == ids  # same rules, in the spec's order
    assert RULE_IDS.index("PREP-GROUP-OPINIONS-REPORTED") == ids.index("PREP-LEADER-OPINIONS") + 1
    assert RULE_IDS.index("EVAL-GROUP-BALLOT") == RULE_IDS.index("EVAL-BALLOTS") + 1


def test_every_registered_rule_has_a_mutation_and_a_source():
    assert set(RULE_IDS) == set(MUTATIONS)
    table = rule_table()
    assert table.rule.tolist() == RULE_IDS
    assert table.source.str.len().gt(0).all() and table.title.str.len().gt(0).all()
    assert table.description.str.len().gt(0).all()
    assert set(table.severity) <= {"error", "warning", "info"}


# ---- baseline and mutations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [{}, {"has_committee": False}, {"unit_type": "community"},
                                     {"leadership_group": False}, {"unit_type": "enterprise"}])
def test_baseline_has_no_finding(variant):
    found = check(baseline_batch(**variant))
    assert found.empty, found[["rule", "message"]].to_string()


@pytest.mark.parametrize("rule", RULE_IDS)
def test_mutation_breaks_exactly_its_rule(baseline, rule):
    batch, subject = apply_mutation(baseline, rule)
    found = check(batch)
    assert not check(baseline, rules=[rule]).size  # the rule alone is clean on the baseline
    assert len(found), f"{rule}: the mutation ({MUTATIONS[rule].description}) was not found"
    assert set(found.rule) == {rule}, found[["rule", "message"]].to_string()
    assert set(found.severity) <= {get_rule(rule).severity, "error", "warning"} and "info" not in set(found.severity)
    expected_meeting = BASELINE_MEETINGS.get(MUTATIONS[rule].meeting)
    assert set(found.meeting_id) == {expected_meeting}
    assert subject in set(found.subject), found[["subject", "message"]].to_string()
    # the source fits the case: the leadership sections for the 民主生活会, the branch ones for the rest
    case = {None: None, "leadership": "leadership"}.get(MUTATIONS[rule].meeting, "branch")
    expected_source = get_rule(rule).source if case is None else get_rule(rule).source_for(case)
    assert found.message.str.len().gt(5).all() and found.source.eq(expected_source).all()


# ---- pending vs violation ---------------------------------------------------------------------------------


def _with_meeting(batch, meeting_key, **changes):
    batch = {k: v.copy() for k, v in batch.items()}
    m = batch[Meeting]
    row = m.meeting_id.eq(BASELINE_MEETINGS[meeting_key])
    for name, value in changes.items():
        m.loc[row, name] = value
    return batch


def test_missing_report_is_pending_then_a_violation(baseline):
    batch = _with_meeting(baseline, "regular_h2", report_sent=None)  # meeting on 2025-12-12, due 12-22
    early = check(batch, as_of=dt.date(2025, 12, 20), rules=["POST-REPORT"])
    assert early.severity.tolist() == ["info"] and early.days.tolist() == [2]
    assert early.due.tolist() == [pd.Timestamp(2025, 12, 22)] and "还剩 2 天" in early.message[0]
    late = check(batch, as_of=dt.date(2025, 12, 31), rules=["POST-REPORT"])
    assert late.severity.tolist() == ["error"] and late.days.tolist() == [9]


def test_a_step_done_late_after_the_check_date_is_no_shortcoming_on_that_date(baseline):
    # report due 2025-12-22 and sent late on 12-28: as of 12-20 it was neither sent nor due, as of 12-31 it is late
    batch = _with_meeting(baseline, "regular_h2", report_sent=dt.date(2025, 12, 28))
    assert check(batch, as_of=dt.date(2025, 12, 20), rules=["POST-REPORT"]).empty
    late = check(batch, as_of=dt.date(2025, 12, 31), rules=["POST-REPORT"])
    assert late.severity.tolist() == ["error"] and late.days.tolist() == [6]


def test_future_meeting_only_preparation_deadlines_can_be_violations(baseline):
    # a meeting in 2026 with nothing done yet: notice deadline passed → error; the rest is pending or not looked at
    batch = _with_meeting(baseline, "regular_h1", date=dt.date(2026, 1, 8), notice_date=None,
                          superior_notice_date=None, year=2026, half="first")
    found = check(batch, as_of=dt.date(2025, 12, 31))
    mine = found[found.meeting_id.eq(BASELINE_MEETINGS["regular_h1"])]
    errors = mine[mine.severity.eq("error")]
    assert errors.rule.tolist() == ["PREP-NOTICE"] and errors.days.tolist() == [2]
    assert "应不晚于 2025-12-29" in errors.message.iloc[0]
    pending = mine[mine.severity.eq("info")]
    assert pending.rule.tolist() == ["PREP-SUPERIOR-NOTICE"] and pending.days.tolist() == [1]
    assert not mine.rule.str.startswith(("MEET-", "EVAL-", "RECT-", "POST-")).any()


def test_leadership_report_day_14_is_fine_regular_day_11_is_not(baseline):
    ld = dt.date(2025, 11, 21) + dt.timedelta(days=14)
    batch = _with_meeting(baseline, "leadership", report_sent=ld)
    assert check(batch, rules=["POST-REPORT"]).empty
    batch = _with_meeting(baseline, "leadership", report_sent=ld + dt.timedelta(days=2))
    assert check(batch, rules=["POST-REPORT"]).days.tolist() == [1]
    batch = _with_meeting(baseline, "regular_h1", report_sent=dt.date(2025, 6, 20) + dt.timedelta(days=11))
    found = check(batch, rules=["POST-REPORT"])
    assert found.severity.tolist() == ["error"] and found.days.tolist() == [1]
    assert "会后第 11 天" in found.message[0] and "10 天内" in found.message[0]


def test_leadership_plan_needs_15_days_regular_notice_10(baseline):
    batch = _with_meeting(baseline, "leadership", plan_sent=dt.date(2025, 11, 21) - dt.timedelta(days=14))
    found = check(batch, rules=["PREP-PLAN-DEADLINE"])
    assert found.days.tolist() == [1] and "仅 14 天" in found.message[0]
    batch = _with_meeting(baseline, "regular_h1", notice_date=dt.date(2025, 6, 10))
    assert check(batch, rules=["PREP-NOTICE"]).empty
    batch = _with_meeting(baseline, "regular_h1", notice_date=dt.date(2025, 6, 13))
    found = check(batch, rules=["PREP-NOTICE"])
    assert found.message[0].startswith("通知日期 2025-06-13 距召开仅 7 天，应至少提前 10 天")


def test_lenient_profile_changes_the_numbers(baseline):
    batch = _with_meeting(baseline, "regular_h1", notice_date=dt.date(2025, 6, 13))
    strict = check(batch, rules=["PREP-NOTICE"])
    lenient = check(batch, rules=["PREP-NOTICE"], profile=load_profile("lenient"))
    assert len(strict) == 1 and (load_profile("lenient").notice_days > 7 or lenient.empty)


# ---- branch shapes ----------------------------------------------------------------------------------------


def test_branch_without_committee_secretary_writes_materials_no_committee_stage():
    batch = baseline_batch(has_committee=False)
    assert check(batch).empty
    # the secretary's material is required; other members' are not
    mats = batch[demo.Material]
    secretary = BASELINE_ROLES["secretary"]
    meeting = BASELINE_MEETINGS["regular_h1"]
    assert set(mats[mats.meeting_id.eq(meeting)].member_id) == {secretary}
    less = {k: v.copy() for k, v in batch.items()}
    less[demo.Material] = mats[~(mats.meeting_id.eq(meeting) & mats.member_id.eq(secretary))]
    found = check(less)
    assert found.rule.tolist() == ["PREP-MATERIALS"] and found.subject.tolist() == [secretary]
    # no 支委会 stage and no committee talk pairs are asked for
    crit = batch[demo.Criticism]
    assert not crit[crit.meeting_id.eq(meeting)].stage.eq("committee").any()


def test_probationary_member_is_not_rated(baseline):
    probationary = BASELINE_ROLES["probationary"]
    ratings = baseline[Rating]
    assert probationary not in set(ratings.member_id)
    assert check(baseline, rules=["EVAL-SELF", "EVAL-RATING"]).empty
    batch = {k: v.copy() for k, v in baseline.items()}
    batch[Member].loc[batch[Member].member_id.eq(probationary), "status"] = "full"
    found = check(batch, rules=["EVAL-SELF", "EVAL-RATING"])
    assert set(found.rule) == {"EVAL-SELF", "EVAL-RATING"} and set(found.subject) == {probationary}


def test_leading_cadre_at_the_leadership_meeting_may_skip_the_branch_rating(baseline):
    cadre = BASELINE_ROLES["exempt_cadre"]
    assert cadre not in set(baseline[Rating].member_id)
    assert check(baseline, rules=["EVAL-RATING"]).empty
    # absent from the 民主生活会 → no exemption
    batch = {k: v.copy() for k, v in baseline.items()}
    att = batch[demo.Attendance]
    row = att.meeting_id.eq(BASELINE_MEETINGS["leadership"]) & att.member_id.eq(cadre)
    att.loc[row, ["presence", "reason"]] = ["leave", "因公出差"]
    found = check(batch, rules=["EVAL-RATING"])
    assert found.subject.tolist() == [cadre] and "未评定等次" in found.message[0]


def test_superior_comment_error_for_special_warning_for_regular(baseline):
    special = check(_with_meeting(baseline, "special", superior_comment=None), rules=["MEET-SUPERIOR-COMMENT"])
    regular = check(_with_meeting(baseline, "regular_h1", superior_attendee=None, superior_comment=None),
                    rules=["MEET-SUPERIOR-COMMENT"])
    assert special.severity.tolist() == ["error"] and regular.severity.tolist() == ["warning"]


def test_cadence_counts_only_ended_periods():
    batch = baseline_batch()
    m = batch[Meeting]
    batch = {k: v.copy() for k, v in batch.items()}
    gone = [BASELINE_MEETINGS["regular_h2"], BASELINE_MEETINGS["special"]]  # a special one counts too (rev 3)
    for record, frame in batch.items():
        if "meeting_id" in frame.columns and record is not Meeting:
            batch[record] = frame[~frame.meeting_id.isin(gone)]
    batch[Meeting] = m[~m.meeting_id.isin(gone)]
    mid = check(batch, as_of=dt.date(2025, 12, 1), rules=["FREQ-HALF-YEAR"])
    assert mid.severity.tolist() == ["info"] and mid.days.tolist() == [30] and mid.meeting_id.isna().all()
    end = check(batch, as_of=dt.date(2025, 12, 31), rules=["FREQ-HALF-YEAR"])
    assert end.severity.tolist() == ["warning"] and "2025 年下半年未召开组织生活会" in end.message[0]


# ---- the demo -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_findings():
    return run_checks(frames.from_batch(demo.generate()), as_of=demo.DEMO_AS_OF)


def test_demo_has_findings_of_every_family_and_clean_compliant_branches(demo_findings):
    found = demo_findings
    assert {r.family for r in RULES} == set(found.merge(rule_table(), on="rule").family_x)
    clean = found[found.branch_id.isin(demo.COMPLIANT_BRANCHES)]
    # revision 2: the compliant branches have no finding of any of the 48 rules (only what is pending)
    assert clean.severity.eq("info").all(), clean[["branch_id", "rule", "message"]].to_string()


def _keys(findings):
    errors = findings[findings.severity.isin(["error", "warning"])]
    return set(zip(errors.branch_id, errors.rule, errors.meeting_id.fillna("-"), errors.subject.fillna("-")))


def test_demo_planted_problems_are_found(demo_findings):
    keys = _keys(demo_findings)
    for item in demo.planted():
        assert (item.branch_id, item.rule, item.meeting_id or "-", item.subject or "-") in keys, item


def test_demo_planted_leadership_cadence_of_last_year_shows_now(demo_findings):
    # The planted gap is a 民主生活会 missing in 2025. Cadence covers every completed period since the branch's
    # first meeting, so a check at DEMO_AS_OF (2026-11-25) reports it; --year 2026 narrows it away.
    items = [p for p in demo.planted() if p.rule == "FREQ-LEADERSHIP-YEAR"]
    leadership = demo_findings[demo_findings.rule.eq("FREQ-LEADERSHIP-YEAR")]
    assert items and {(p.branch_id, p.rule) for p in items} <= set(zip(leadership.branch_id, leadership.rule))
    assert leadership.message.str.contains("2025 年未召开民主生活会").any()
    narrowed = run_checks(frames.from_batch(demo.generate()), as_of=demo.DEMO_AS_OF, year=2026,
                          rules=["FREQ-LEADERSHIP-YEAR"])
    assert not narrowed.severity.eq("error").any()


def test_no_rule_reads_the_texts_a_whole_store_check_skips(demo_findings, demo_db):
    from orglife_nb.rules.engine import UNREAD_BY_RULES

    full = frames.load(demo_db)
    blanked = frames.load(demo_db, skip=UNREAD_BY_RULES)
    for name in UNREAD_BY_RULES:
        table, column = name.split(".")
        assert full[table][column].notna().any() and blanked[table][column].isna().all()
    pd.testing.assert_frame_equal(run_checks(blanked, as_of=demo.DEMO_AS_OF), run_checks(full, as_of=demo.DEMO_AS_OF))


def test_findings_are_sorted_and_typed(demo_findings):
    f = demo_findings
    order = {r: i for i, r in enumerate(RULE_IDS)}
    assert f.branch_id.is_monotonic_increasing
    assert set(f.severity) <= {"error", "warning", "info"}
    assert str(f.due.dtype).startswith("datetime64") and str(f.days.dtype) == "Int64"
    one = f[f.meeting_id.eq(f.meeting_id.dropna().iloc[0])]
    assert one.rule.map(order).is_monotonic_increasing


# ---- status ---------------------------------------------------------------------------------------------------


def test_status_countdowns_and_ledger_buckets(baseline):
    from orglife_nb.rules.status import BUCKETS, status

    batch = _with_meeting(baseline, "regular_h2", report_sent=None)
    result = status(frames.from_batch(batch), dt.date(2025, 12, 20))
    steps = result.steps
    report = steps[steps.rule.eq("POST-REPORT")]
    assert report.meeting_id.tolist() == [BASELINE_MEETINGS["regular_h2"]] and report.days_left.tolist() == [2]
    assert list(result.buckets.columns) == list(BUCKETS)
    book = result.ledger
    assert set(book.bucket.astype(str)) <= set(BUCKETS) and book.bucket.eq("已销号").any()
    # an open item due in 5 days lands in the 10-day bucket; one 3 days late is 超期
    rect = batch[demo.Rectification].copy()
    rect.loc[rect.index[0], ["status", "done_date", "deadline"]] = ["open", None, dt.date(2025, 12, 25)]
    rect.loc[rect.index[1], ["status", "done_date", "deadline"]] = ["open", None, dt.date(2025, 12, 17)]
    batch[demo.Rectification] = rect
    book = status(frames.from_batch(batch), dt.date(2025, 12, 20)).ledger.set_index("item_id")
    assert book.loc[rect.item_id.iloc[0], "bucket"] == "10 天内到期"
    assert book.loc[rect.item_id.iloc[1], "bucket"] == "超期" and book.loc[rect.item_id.iloc[1], "days_left"] == -3


# ---- the check command ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from orglife_nb.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with Store(path) as store:
        demo.save_demo(store)
    return path


def test_check_json_is_one_array_with_the_contract_fields(capsys, demo_db):
    code, out, err = _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25", "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert isinstance(found, list) and found
    for key in ("rule", "severity", "branch_id", "meeting_id", "subject", "message", "source", "due", "days"):
        assert key in found[0]
    dated = [f for f in found if f["due"]]
    assert dated and re.fullmatch(r"\d{4}-\d{2}-\d{2}", dated[0]["due"])
    assert any(f["meeting_id"] is None for f in found)  # cadence findings


def test_check_csv_starts_with_bom_and_filters_apply(capsys, demo_db, tmp_path):
    out_file = tmp_path / "found.csv"
    code, out, _ = _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25", "--format", "csv",
                        "--severity", "error", "--branch", "B001", "--out", out_file)
    assert code == 0 and "已写出" in out
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out_file, encoding="utf-8-sig", dtype=str)
    # for people: Chinese headers and labels, sources naming their documents (JSON keeps the codes)
    assert list(table.columns[:7]) == ["支部编号", "支部名称", "会议编号", "会议类型", "会议日期", "级别", "规则"]
    assert len(table) and set(table["级别"]) == {"违规"} and set(table["支部编号"]) == {"B001"}
    assert "民主生活会" in set(table["会议类型"]) and table["依据"].str.contains("《").all()
    assert not table["依据"].str.contains(r"\b00[03]\b").any()
    code, out, _ = _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25", "--format", "json",
                        "--meeting", "B001-2025-L1", "--rule", "MEET-SEPARATE")
    found = json.loads(out)
    assert [(f["meeting_id"], f["rule"]) for f in found] == [("B001-2025-L1", "MEET-SEPARATE")]


def test_check_xlsx_holds_what_the_csv_holds_with_text_kept_as_text(capsys, demo_db, tmp_path):
    from openpyxl import load_workbook

    code, _, err = _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25", "--format", "xlsx")
    assert code == 2 and "--out" in err
    csv_file, xlsx_file = tmp_path / "found.csv", tmp_path / "found.xlsx"
    for fmt, path in (("csv", csv_file), ("xlsx", xlsx_file)):
        assert _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25", "--format", fmt, "--out", path)[0] == 0
    table = pd.read_csv(csv_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    sheet = load_workbook(xlsx_file).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(table.columns) and len(rows) == len(table) + 1
    assert [str(v) for v in rows[1][:6]] == list(table.iloc[0, :6])
    assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"
    # text longer than its column wraps (before: 问题 and 依据 ran past their columns and were cut off in print)
    wrapped = set()
    for column in sheet.iter_cols(min_row=2):
        texts = [cell for cell in column if isinstance(cell.value, str)]
        width = sheet.column_dimensions[column[0].column_letter].width
        # a Chinese character is two width units
        if any(sum(2 if ord(ch) > 0x2e7f else 1 for ch in cell.value) > width for cell in texts):
            assert all(cell.alignment.wrap_text for cell in texts), rows[0][column[0].column - 1]
            # and its row is as tall as the wrapped lines (LibreOffice does not grow it on opening)
            longest = max(texts, key=lambda cell: sum(2 if ord(ch) > 0x2e7f else 1 for ch in cell.value))
            assert (sheet.row_dimensions[longest.row].height or 15) >= 30
            wrapped.add(rows[0][column[0].column - 1])
    assert {"问题", "依据"} <= wrapped


def test_a_findings_sheet_never_turns_text_into_a_formula(tmp_path):
    from openpyxl import load_workbook

    from orglife_nb.workbook.sheets import write_frame

    path = tmp_path / "t.xlsx"
    path.write_bytes(write_frame(pd.DataFrame({"问题": ["=HYPERLINK(\"http://x\",\"y\")", "正常"], "天数": [3, None]}),
                                 "检查结果"))
    cell = load_workbook(path).active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_check_table_groups_and_counts(capsys, demo_db):
    code, out, _ = _run(capsys, "check", "--db", demo_db, "--as-of", "2026-11-25")
    assert code == 0
    assert "支部 B001 市财政局机关第一党支部" in out and "会议 B001-2025-L1 民主生活会 2025-" in out
    last = out.strip().splitlines()[-1]
    assert re.search(r"共 \d+ 条：违规（error）\d+ 条，提醒（warning）\d+ 条，待办（info）\d+ 条", last)


def test_check_reads_a_workbook(capsys, tmp_path, baseline):
    from orglife_nb.workbook.write import write_workbook

    path = tmp_path / "baseline.xlsx"
    write_workbook(path, apply_mutation(baseline, "PREP-NOTICE")[0])
    code, out, err = _run(capsys, "check", path, "--as-of", "2025-12-31", "--format", "json")
    assert code == 0, err
    assert [f["rule"] for f in json.loads(out)] == ["PREP-NOTICE"]


def test_check_exit_codes_on_bad_input(capsys, tmp_path, demo_db):
    code, _, err = _run(capsys, "check", tmp_path / "missing.xlsx")
    assert code == 2 and err.startswith("错误：") and "Traceback" not in err
    code, _, err = _run(capsys, "check", "--db", tmp_path / "missing.db")
    assert code == 2 and "数据库文件不存在" in err and not (tmp_path / "missing.db").exists()
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    code, _, err = _run(capsys, "check", broken)
    assert code == 2 and len(err.strip().splitlines()) == 1
    # an existing store, so that the format is what is refused (a missing --db would exit 2 before)
    code, out, err = _run(capsys, "check", "--db", demo_db, "--format", "yaml")
    assert code == 2 and out == ""
    assert err.strip() == "错误：--format 的值无效：“yaml”不是可选值，应为：table、json、csv、xlsx"


def test_check_workbook_problems_are_listed(capsys, tmp_path, baseline):
    from orglife_nb.workbook.write import write_workbook

    batch = {k: v.copy() for k, v in baseline.items()}
    batch[Meeting].loc[0, "notice_date"] = "not a date"
    path = tmp_path / "bad.xlsx"
    write_workbook(path, batch)
    code, out, err = _run(capsys, "check", path)
    assert code == 2 and "会议" in err and "not a date" in err


def test_status_command_prints_open_steps_and_buckets(capsys, demo_db):
    code, out, err = _run(capsys, "status", "--db", demo_db, "--as-of", "2026-11-25")
    assert code == 0, err
    assert "一、各会议未完成事项" in out and "还剩" in out
    assert re.search(r"已销号 \d+ 项，超期 \d+ 项，10 天内到期 \d+ 项，20 天内到期 \d+ 项，20 天后或未定时限 \d+ 项", out)


def test_rules_command_lists_the_catalogue(capsys):
    code, out, _ = _run(capsys, "rules", "--format", "json")
    assert code == 0 and [r["rule"] for r in json.loads(out)] == RULE_IDS
    code, out, _ = _run(capsys, "rules")
    assert code == 0 and "PREP-TOPIC" in out and "003 民主 一.2" in out


@pytest.mark.parametrize("keep", ["nothing", "first-half meetings only", "one meeting"])
def test_every_rule_runs_on_sparse_data(keep):
    # a rule that meets no rows at all must give no findings, not fail (e.g. no year-end meeting yet)
    batch = demo.baseline_batch()
    meetings = batch[Meeting]
    kept = {"nothing": meetings.iloc[0:0], "first-half meetings only": meetings[meetings.half.eq("first")],
            "one meeting": meetings.iloc[:1]}[keep]
    batch[Meeting] = kept
    batch = {record: (frame[frame.meeting_id.isin(kept.meeting_id)] if "meeting_id" in frame.columns
                      and record is not Meeting else frame) for record, frame in batch.items()}
    found = run_checks(frames.from_batch(batch), as_of=demo.BASELINE_AS_OF)
    assert set(found.columns) >= {"rule", "severity", "branch_id", "meeting_id", "message"}
    if keep == "nothing":
        assert set(found.rule) <= {r.id for r in RULES if r.id.startswith("FREQ-")}
