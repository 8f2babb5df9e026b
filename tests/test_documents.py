"""Meeting documents (.docx): what each one says, what the public list and the ballot must never say, the CLI."""
from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from docx import Document

from orglife_nb import demo
from orglife_nb.cli import main
from orglife_nb.errors import OrglifeError
from orglife_nb.frames import from_batch
from orglife_nb.models import Ballot, Branch, Criticism, Meeting, Member, Opinion, Rating, Rectification, Talk
from orglife_nb import documents
from orglife_nb.documents import document_context, meeting_context, render_documents, roster
from orglife_nb.store import Store

AS_OF = demo.BASELINE_AS_OF
EVALUATED = demo.BASELINE_MEETINGS["regular_h2"]     # combined with 民主评议党员, four levels
PLAIN = demo.BASELINE_MEETINGS["regular_h1"]         # no evaluation
TOPIC = "学习<党章>&“两学一做” 'a' \"b\" </w:t> {{ x }}"
PROBLEM = "制度执行 <不到位> & 学习不够"
UNQUALIFIED = demo.BASELINE_ROLES["ordinary"]
SENTINELS = {
    "criticism": "哨兵-批评内容-7f3a",
    "summary": "哨兵-会议小结-51c2",
    "comment": "哨兵-上级点评-9d0e",
    "handling": "哨兵-处理意见-2b84",
    "opinion": "哨兵-意见内容-c613",
    "talk": "哨兵-谈话摘要-e4a9",
}


def _batch() -> dict:
    """The compliant baseline with sentinels planted in every confidential text, XML-special text, one 不合格
    rating, and no minutes for the evaluated meeting (so the report has a finding: MEET-MINUTES)."""
    batch = demo.baseline_batch()
    meetings = batch[Meeting]
    row = meetings.meeting_id == EVALUATED
    meetings.loc[row, "topic"] = TOPIC
    meetings.loc[row, "minutes_kept"] = False
    meetings["summary"] = SENTINELS["summary"]
    meetings["superior_comment"] = SENTINELS["comment"]
    batch[Criticism]["content"] = SENTINELS["criticism"]
    batch[Opinion]["content"] = SENTINELS["opinion"]
    batch[Talk]["summary"] = SENTINELS["talk"]
    ratings = batch[Rating]
    bad = (ratings.meeting_id == EVALUATED) & (ratings.member_id == UNQUALIFIED)
    ratings.loc[bad, "level"] = "unqualified"
    ratings.loc[bad, "handling"] = SENTINELS["handling"]
    items = batch[Rectification]
    first = items.index[items.meeting_id == EVALUATED][0]
    items.loc[first, "problem"] = PROBLEM
    return batch


@pytest.fixture(scope="module")
def batch():
    return _batch()


@pytest.fixture(scope="module")
def frames(batch):
    return from_batch(batch)


@pytest.fixture(scope="module")
def findings(frames):
    from orglife_nb.rules import run_checks

    return run_checks(frames, as_of=AS_OF)


@pytest.fixture(scope="module")
def written(frames, findings, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    paths = render_documents(frames, EVALUATED, out, as_of=AS_OF, findings=findings)
    return {path.name.split("-")[0]: path for path in paths}


def full_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def names(frames, member_ids) -> list[str]:
    members = frames.members.set_index("member_id").name
    return [members[m] for m in member_ids]


# ---- the context, without Word ----------------------------------------------------------------------------------


def test_context_carries_no_confidential_text_except_the_unqualified_handling(frames):
    context = meeting_context(frames, EVALUATED, as_of=AS_OF)
    everything = repr(context)
    for key in ("criticism", "summary", "comment", "opinion", "talk"):
        assert SENTINELS[key] not in everything, key
    assert SENTINELS["handling"] in repr(context["report"]["evaluation"])  # 000 第二篇 二.4: 处理意见 is reported
    public = repr(document_context(context, "rectification"))
    assert SENTINELS["handling"] not in public and PROBLEM in public
    basics = {f["label"]: f["value"] for f in context["report"]["basics"]}
    assert basics["会议小结"] == "已作小结" and basics["会议记录"] == "否"


def test_context_counts_and_names(frames):
    report = meeting_context(frames, EVALUATED, as_of=AS_OF)["report"]
    basics = {f["label"]: f["value"] for f in report["basics"]}
    assert basics["出席情况"] == "应到9人，实到8人，请假1人，缺席0人"
    assert [a["name"] for a in report["absentees"]] == names(frames, [demo.BASELINE_ROLES["absentee"]])
    evaluation = report["evaluation"]
    excellent, bad = names(frames, [demo.BASELINE_ROLES["excellent"], UNQUALIFIED])
    assert evaluation["excellent"] == f"{excellent}（经大会表决通过）"
    assert evaluation["unqualified"] == f"{bad}（处理意见：{SENTINELS['handling']}）"
    outcome = {f["label"]: f["value"] for f in evaluation["facts"]}["评定结果"]
    assert outcome == "优秀1人、合格5人、不合格1人"
    stages = {row["stage"]: row for row in report["criticism"]}
    assert set(stages) == {"支委会", "党员大会"} and stages["支委会"]["criticism"] == "6"
    assert report["findings"] == []  # no findings were given


def test_roster_orders_by_role_and_tells_namesakes_apart(frames):
    members = frames.members.copy()
    members.loc[members.member_id == "B001-09", "name"] = members.loc[members.member_id == "B001-08", "name"].iloc[0]
    listed = roster(members.iloc[::-1])
    assert listed.member_id.iloc[0] == demo.BASELINE_ROLES["secretary"]
    twins = listed[listed.member_id.isin(["B001-08", "B001-09"])].display
    assert twins.str.endswith(("（B001-08）", "（B001-09）")).all()


def test_unknown_meeting_names_the_id(frames):
    with pytest.raises(OrglifeError, match="没有编号为 NO-SUCH 的会议"):
        meeting_context(frames, "NO-SUCH")
    with pytest.raises(OrglifeError, match="NO-SUCH"):
        render_documents(frames, "NO-SUCH", ".")


# ---- the Word files ----------------------------------------------------------------------------------------------


def test_four_documents_with_chinese_names(written):
    assert sorted(written) == sorted(d.title for d in documents.DOCUMENTS)
    assert all(path.name == f"{title}-{EVALUATED}.docx" for title, path in written.items())
    assert not [p for p in next(iter(written.values())).parent.iterdir() if p.suffix != ".docx"]  # no temp files
    for path in written.values():  # every template tag was consumed (the planted topic holds the only "{{")
        assert "{%" not in full_text(path) and "{{" not in full_text(path).replace(TOPIC, "")


def test_notice(written, frames):
    body = full_text(written["会议通知"])
    assert "市财政局机关第一党支部" in body and TOPIC in body  # XML-special characters survive as text
    assert all(name in body for name in frames.members.name)
    assert "2025年12月12日" in body and "对照检查材料" in body


def test_report_has_facts_and_findings_but_no_confidential_text(written, frames):
    body = full_text(written["会议情况报告"])
    from orglife_nb.rules.registry import get_rule

    # the finding speaks the reader's language: the rule's title, never its id or a severity word
    assert TOPIC in body and f"1. {get_rule('MEET-MINUTES').title}：" in body and "已作小结" in body
    assert "MEET-MINUTES" not in body and "错误" not in body
    assert SENTINELS["handling"] in body
    for key in ("criticism", "summary", "comment", "opinion", "talk"):
        assert SENTINELS[key] not in body, key


def test_rectification_list_is_publishable(written, frames):
    body = full_text(written["整改清单"])
    problems = frames.rectifications[frames.rectifications.meeting_id == EVALUATED].problem
    assert PROBLEM in body and all(problem in body for problem in problems)
    for sentinel in SENTINELS.values():
        assert sentinel not in body


def test_ballot_is_blank_and_anonymous(written, frames):
    doc = Document(str(written["民主测评表"]))
    (table,) = doc.tables
    header = [cell.text for cell in table.rows[0].cells]
    assert header == ["序号", "姓名", "优秀", "合格", "基本合格", "不合格"]
    rated = frames.members[frames.members.status == "full"].name
    listed = [row.cells[1].text for row in table.rows[1:]]
    assert sorted(listed) == sorted(rated)
    assert all(cell.text == "" for row in table.rows[1:] for cell in row.cells[2:])
    body = full_text(written["民主测评表"])
    for voter_field in ("投票人", "测评人", "签名", "票号", "联系电话"):
        assert voter_field not in body
    assert "不记名" in body


def test_ballot_follows_a_three_level_scheme_and_is_skipped_without_evaluation(batch, findings, tmp_path):
    changed = {record: frame.copy() for record, frame in batch.items()}
    changed[Meeting].loc[changed[Meeting].meeting_id == EVALUATED, "rating_scheme"] = "three"
    for record in (Ballot, Rating):  # their four-level rows would not fit the changed scheme
        changed[record] = changed[record].iloc[0:0]
    frames = from_batch(changed)
    (path,) = render_documents(frames, EVALUATED, tmp_path, as_of=AS_OF, only=["ballot"])
    assert [c.text for c in Document(str(path)).tables[0].rows[0].cells] == ["序号", "姓名", "好", "一般", "差"]
    said: list[str] = []
    paths = render_documents(frames, PLAIN, tmp_path / "plain", as_of=AS_OF, findings=findings, echo=said.append)
    assert len(paths) == 3 and "民主测评表" in said[0] and "--ballot" in said[0]
    forced = render_documents(frames, PLAIN, tmp_path / "forced", as_of=AS_OF, ballot=True, only=["ballot"])
    assert [c.text for c in Document(str(forced[0])).tables[0].rows[0].cells][2:] == ["优秀", "合格", "基本合格", "不合格"]


def test_a_meeting_with_only_the_required_fields(tmp_path):
    batch = {Branch: pd.DataFrame([{"branch_id": "X1", "name": "测试支部"}]),
             Member: pd.DataFrame([{"member_id": "m1", "branch_id": "X1", "name": "甲"}]),
             Meeting: pd.DataFrame([{"meeting_id": "2026/01 a", "branch_id": "X1", "date": dt.date(2026, 3, 1)}])}
    paths = render_documents(from_batch(batch), "2026/01 a", tmp_path, as_of=dt.date(2026, 3, 5), ballot=True)
    assert [p.name for p in paths] == [f"{d.title}-2026_01_a.docx" for d in documents.DOCUMENTS]
    report = full_text(paths[1])
    assert "测试支部于2026年3月1日召开组织生活会。" in report and "会议类型未填写" in report
    assert "甲" in full_text(paths[3])


def test_templates_are_what_the_build_script_writes(tmp_path):
    script = documents.TEMPLATE_DIR / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for built in module.build(tmp_path):
        assert built.read_bytes() == (documents.TEMPLATE_DIR / built.name).read_bytes(), built.name


# ---- the command -------------------------------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_cli_writes_and_lists_the_files(batch, tmp_path, capsys):
    db = tmp_path / "store.db"
    with Store(db) as store:
        store.save(batch)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "docs", "--meeting", EVALUATED, "--db", str(db), "--out", str(out),
                            "--as-of", "2025-12-31")
    assert code == 0, err
    listed = [line.strip() for line in stdout.splitlines() if line.strip().endswith(".docx")]
    assert len(listed) == 4 and all(Path(line).is_file() for line in listed)
    assert f"会议情况报告-{EVALUATED}.docx" in stdout

    code, stdout, err = run(capsys, "docs", "--meeting", "NO-SUCH", "--db", str(db), "--out", str(out))
    assert code == 2 and err.startswith("错误：") and "NO-SUCH" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err

    code, _, err = run(capsys, "docs", "--meeting", EVALUATED, "--db", str(tmp_path / "absent.db"))
    assert code == 2 and "数据库文件不存在" in err and not (tmp_path / "absent.db").exists()


def test_dates_default_to_as_of_when_the_store_has_none(batch, tmp_path):
    changed = {record: frame.copy() for record, frame in batch.items()}
    changed[Meeting]["notice_date"] = None
    context = meeting_context(from_batch(changed), EVALUATED, as_of=dt.date(2025, 11, 1))
    assert context["notice"]["date"] == "2025年11月1日"
