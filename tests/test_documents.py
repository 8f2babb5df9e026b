"""Meeting documents (.docx): what each one says, what the public list and the ballot must never say, the CLI."""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
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
from clikit import cli as run

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
    assert report["check_groups"] == [] and report["checks_note"] == "未进行制度检查。"  # no findings were given


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
    listed = full_text(paths[2])  # nothing listed, so nothing is put up for public scrutiny
    assert "本次会议未列出整改事项。" in listed and "予以公示" not in listed


def test_templates_are_what_the_build_script_writes(tmp_path):
    script = documents.TEMPLATE_DIR / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for built in module.build(tmp_path):
        assert built.read_bytes() == (documents.TEMPLATE_DIR / built.name).read_bytes(), built.name


# ---- the command -------------------------------------------------------------------------------------------------


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


# ---- 对照制度自查: the checks as of the report's date, in words ----------------------------------------------------

SEVERITY_MEETINGS = {  # meeting → the severity its report date finds (None: nothing at all)
    "error": PLAIN, "warning": demo.BASELINE_MEETINGS["special"], "info": EVALUATED,
    None: demo.BASELINE_MEETINGS["leadership"]}


def _self_check_batch() -> dict:
    """The compliant baseline with, as of each report's date: R1 no minutes (error) and a 通报 made late but only
    after the report (due after the report: not a shortcoming yet); S1 a member refusing his personal measures
    (warning); R2 one rating not yet entered, reported the day after the meeting (info); L1 nothing."""
    batch = {record: frame.copy() for record, frame in demo.baseline_batch().items()}
    meetings = batch[Meeting]
    at = meetings.set_index("meeting_id").date
    error, warning, info = SEVERITY_MEETINGS["error"], SEVERITY_MEETINGS["warning"], SEVERITY_MEETINGS["info"]
    meetings.loc[meetings.meeting_id == error, ["minutes_kept", "report_sent", "public_report_date"]] = [
        False, at[error] + pd.Timedelta(days=5), at[error] + pd.Timedelta(days=45)]
    items = batch[Rectification]
    refused = items.index[(items.meeting_id == warning) & (items.category == "individual")][:1]
    items.loc[(items.meeting_id == warning) & (items.owner == items.loc[refused[0], "owner"]), "commitment"] = None
    items.loc[refused, "commitment"] = False
    meetings.loc[meetings.meeting_id == info, "report_sent"] = at[info] + pd.Timedelta(days=1)
    ratings = batch[Rating]
    ratings.loc[ratings.index[(ratings.meeting_id == info) & (ratings.member_id == UNQUALIFIED)], "level"] = None
    return batch


def _self_check(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The report's 对照制度自查 section: its first sentence and (group heading, item) for each item."""
    paragraphs = [p.text.strip() for p in Document(str(path)).paragraphs]
    start = next(i for i, p in enumerate(paragraphs) if p.endswith("对照制度自查情况")) + 1
    section = paragraphs[start:paragraphs.index("", start)]
    items, group = [], None
    for line in section[1:]:
        if line.endswith("项："):
            group = line
        else:
            number, said = line.split(". ", 1)
            assert number == str(sum(g == group for g, _ in items) + 1), line  # numbered within its group
            items.append((group, said))
    return section[0], items


def test_the_self_check_is_the_checks_as_of_the_report_date(tmp_path):
    """Every finding of ``run_checks`` for the meeting as of its report's date, of every severity, is said once
    (shortcomings apart from what is still pending), and nothing else; "均已按要求完成" only with no finding."""
    from orglife_nb.rules import run_checks
    from orglife_nb.rules.registry import get_rule

    frames = from_batch(_self_check_batch())
    seen = set()
    for severity, meeting in SEVERITY_MEETINGS.items():
        row = frames.meetings.set_index("meeting_id").loc[meeting]
        day = pd.Timestamp(row.report_sent).date()
        (report,) = render_documents(frames, meeting, tmp_path / meeting, as_of=AS_OF, only=["report"])
        expected = run_checks(frames, as_of=day)
        expected = expected[expected.meeting_id == meeting]
        note, items = _self_check(report)
        assert note.startswith(f"截至{documents.meeting.cn_date(day)}，对照制度规定逐项自查"), note
        seen |= set(expected.severity)
        if severity is None:
            assert expected.empty and note.endswith("各项均已按要求完成。") and items == []
            continue
        assert severity in set(expected.severity) and "均已按要求完成" not in note
        assert f"尚有{len(expected)}项" in note
        said = sorted((group.startswith("尚未完成"), item.split("：", 1)[0]) for group, item in items)
        assert said == sorted((s == "info", get_rule(r).title) for s, r in zip(expected.severity, expected.rule))
        for (group, item), name in zip(items, expected.subject_name):
            assert "  " not in item and (not isinstance(name, str) or name in item)
    assert seen == {"error", "warning", "info"}
    # what was due only after the report's date is not said: the late 通报 of R1 shows as of today, not then
    later = run_checks(frames, as_of=AS_OF)
    late = get_rule("POST-PUBLIC-REPORT").title
    assert late in set(later[later.meeting_id == PLAIN].title)
    assert all(late not in item for _, item in _self_check(tmp_path / PLAIN / f"会议情况报告-{PLAIN}.docx")[1])


@pytest.fixture(scope="module")
def self_check_documents(tmp_path_factory):
    """All four documents of each meeting of ``_self_check_batch``, and its frames."""
    frames = from_batch(_self_check_batch())
    out = tmp_path_factory.mktemp("self-check-docs")
    return frames, {m: render_documents(frames, m, out / m, as_of=AS_OF, ballot=True)
                    for m in frames.meetings.meeting_id}


# a space beside a Chinese character, not counting the one after a list number ("1. 评定等次", "附件：1. 会议…")
CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
CJK_SPACE = re.compile(rf"[{CJK}][ \t]|(?<!\d\.)[ \t][{CJK}]")


def test_no_space_beside_chinese_around_inserted_names(self_check_documents, written, frames):
    """Names, counts and dates put into running text (the checks' messages space them out) sit tight."""
    checked, names = 0, set(self_check_documents[0].members.name) | set(frames.members.name)
    for path in [p for paths in self_check_documents[1].values() for p in paths] + list(written.values()):
        doc = Document(str(path))
        for line in [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]:
            if TOPIC in line or PROBLEM in line:  # the user's own text is left as typed
                continue
            assert not CJK_SPACE.search(line), (path.name, line)
            checked += sum(name in line for name in names)
    assert checked > 50  # names were there to be looked at (rosters, items, findings)


def test_a_leadership_report_goes_to_the_discipline_and_organisation_departments(self_check_documents):
    """民主生活会: addressed to 上级纪委和组织部门, signed by the 领导班子, its collective items 领导班子's."""
    frames, paths = self_check_documents
    leadership, regular = demo.BASELINE_MEETINGS["leadership"], demo.BASELINE_MEETINGS["regular_h2"]
    branch = frames.branches.name.iloc[0]
    for meeting, addressee, signer, collective in (
            (leadership, "上级纪委和组织部门：", f"{branch}领导班子", "领导班子"),
            (regular, f"{frames.branches.superior.iloc[0]}：", branch, "党组织")):
        (report,) = [p for p in paths[meeting] if p.name.startswith("会议情况报告")]
        doc = Document(str(report))
        lines = [p.text for p in doc.paragraphs]
        assert addressee in lines and lines[-1].split("\n")[0] == signer, meeting
        (items,) = [t for t in doc.tables if "责任类别" in [c.text for c in t.rows[0].cells]]
        categories = {row.cells[2].text for row in items.rows[1:]}
        assert collective in categories and not categories & ({"党组织", "领导班子"} - {collective}), meeting


def test_every_document_has_page_numbers_in_its_footers(self_check_documents):
    """GB/T 9704 7.5 in the file itself: odd and even footers (w:evenAndOddHeaders), each "— PAGE —" in 四号, odd
    right and even left; no separate first page (it is numbered too)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for path in [p for paths in self_check_documents[1].values() for p in paths]:
        doc = Document(str(path))
        assert doc.settings.odd_and_even_pages_header_footer, path.name
        (section,) = doc.sections
        assert not section.different_first_page_header_footer, path.name
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            (p,) = footer.paragraphs
            field = [i.text for i in p._p.iter(qn("w:instrText"))]
            assert p.alignment == align and field == [" PAGE "], path.name
            assert p.text.startswith("— ") and p.text.endswith(" —"), (path.name, p.text)
            assert {r.font.size for r in p.runs} == {Pt(14)}, path.name


# ---- typesetting (GB/T 9704): titles, subtitles, times, brackets, the line grid, fonts, date columns ---------------

CJK_CHAR = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"


def test_a_long_title_breaks_into_balanced_lines_never_leaving_one_character():
    from orglife_nb.documents import layout
    from orglife_nb.documents.meeting import title

    # the title that once ended "…情况的报" / "告": broken between its parts, both lines on the 二号 line
    assert title("关于召开", "2026年度", "专题组织生活会", "情况的报告") == "关于召开2026年度\n专题组织生活会情况的报告"
    assert title("关于召开", "2025年度", "组织生活会", "的通知") == "关于召开2025年度组织生活会的通知"  # fits: one line
    room = layout.capacity(layout.PORTRAIT, layout.TITLE_PT)
    for parts in (("关于召开", "深入贯彻中央八项规定精神学习教育", "专题组织生活会", "的通知"),
                  ("关于召开", "“学习贯彻党的二十届四中全会精神”", "专题组织生活会", "的通知"),
                  ("关于召开", "2026年度", "专题组织生活会", "情况的报", "告")):
        lines = title(*parts).split("\n")
        assert len(lines) > 1 and all(layout.width(line) <= room for line in lines), lines
        assert layout.width(lines[-1]) > 1, lines  # never a character alone on the last line


def test_titles_of_every_document_fit_their_lines(frames):
    from orglife_nb.documents import layout

    context = meeting_context(frames, EVALUATED, as_of=AS_OF)
    for key, page in (("notice", layout.PORTRAIT), ("report", layout.PORTRAIT), ("rectification", layout.LANDSCAPE)):
        lines = context[key]["title"].split("\n")
        assert all(layout.width(line) <= layout.capacity(page, layout.TITLE_PT) for line in lines), (key, lines)
        assert layout.width(lines[-1]) > 1, (key, lines)


def test_a_subtitle_breaks_between_its_parts_never_inside_a_date():
    from orglife_nb.documents import layout
    from orglife_nb.documents.meeting import subtitle

    date = "会议日期：2025年12月18日"
    topic = "主题：" + "学习贯彻党的创新理论检视履职尽责情况" * 2
    lines = subtitle(date, topic, page=layout.LANDSCAPE).split("\n")
    assert lines == [f"（{date}", f"{topic}）"]  # apart where the line will not hold both; no 　 at a break
    assert layout.width(lines[0]) <= layout.chars_per_line(layout.LANDSCAPE)
    assert subtitle(date, "主题：学习", page=layout.LANDSCAPE) == f"（{date}　主题：学习）"
    ballot = subtitle("市财政局机关第一党支部", "2025年度专题组织生活会", "2025年12月18日").split("\n")
    assert len(ballot) == 2 and ballot[-1].endswith("2025年12月18日）")
    assert all(layout.width(line) <= layout.chars_per_line(layout.PORTRAIT) for line in ballot)


def test_the_notice_gives_the_time_on_the_24_hour_clock(batch):
    changed = {record: frame.copy() for record, frame in batch.items()}
    changed[Meeting]["start_time"] = "14:30"
    context = meeting_context(from_batch(changed), EVALUATED, as_of=AS_OF)
    assert context["meeting"]["time"] == "14:30"
    assert not re.search("上午|下午|晚上", repr(context))


def test_no_ascii_bracket_beside_chinese_in_any_document(written):
    from orglife_nb.documents.meeting import cn_brackets

    assert cn_brackets("时长(小时)") == "时长（小时）" and cn_brackets("f(x) = 1") == "f(x) = 1"
    for path in written.values():
        body = full_text(path).replace(TOPIC, "")  # the planted topic is user text with its own brackets
        assert not re.search(rf"{CJK_CHAR}[()]|[()]{CJK_CHAR}", body), path.name
    assert "时长（小时）" in full_text(written["会议情况报告"])


def test_22_lines_of_28_characters(written):
    """GB/T 9704 5.2.2 in the file: a line grid of 22 lines a page, characters set close enough for 28 a line."""
    from docx.oxml.ns import qn
    from orglife_nb.documents import layout

    for path in written.values():
        doc = Document(str(path))
        (section,) = doc.sections
        grid = section._sectPr.find(qn("w:docGrid"))
        assert grid is not None and grid.get(qn("w:type")) == "lines", path.name
        pitch = int(grid.get(qn("w:linePitch"))) / 20
        assert doc.styles["Normal"].paragraph_format.line_spacing.pt == pitch
        spacing = doc.styles["Normal"].element.rPr.find(qn("w:spacing"))
        size = doc.styles["Normal"].font.size.pt
        width = (section.page_width - section.left_margin - section.right_margin) / 12700
        height = (section.page_height - section.top_margin - section.bottom_margin) / 12700
        if section.page_width < section.page_height:  # portrait: exactly the 公文 page
            assert int(width // (size + int(spacing.get(qn("w:val"))) / 20)) == layout.CHARS_PER_LINE, path.name
            assert int(height // pitch) == layout.LINES_PER_PAGE, path.name


def test_each_gb2312_face_has_a_stand_in_declared(written):
    """Word and WPS read the font table's w:altName; LibreOffice asks fontconfig, which the shipped fonts.conf
    tells what each face is: the title, body and sub-headings serif, the headings sans-serif."""
    import zipfile

    from lxml import etree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    generic = {"方正小标宋简体": "serif", "仿宋_GB2312": "serif", "楷体_GB2312": "serif", "黑体": "sans-serif"}
    for path in written.values():
        with zipfile.ZipFile(path) as z:
            table = etree.fromstring(z.read("word/fontTable.xml"))
        alternates = {f.get(f"{w}name"): f.find(f"{w}altName").get(f"{w}val")
                      for f in table.iter(f"{w}font") if f.find(f"{w}altName") is not None}
        assert set(generic) <= set(alternates) and all(alternates[name] for name in generic), path.name
    conf = etree.parse(str(documents.TEMPLATE_DIR / "fonts.conf"))
    declared = {m.findtext("test/string"): [s.text for s in m.iter("string")][-1] for m in conf.iter("match")}
    assert {name: declared.get(name) for name in generic} == generic


def test_a_date_fits_on_one_line_of_its_table_column(written):
    from docx.oxml.ns import qn
    from orglife_nb.documents import layout

    date_columns = {"时限", "状态", "整改时限", "完成情况"}
    seen = 0
    for key in ("会议情况报告", "整改清单"):
        for table in Document(str(written[key])).tables:
            header = table.rows[0].cells
            for position, cell in enumerate(header):
                if cell.text in date_columns:
                    body = table.rows[1].cells[position]
                    size = {r.font.size.pt for p in body.paragraphs for r in p.runs} or {layout.TABLE_PT}
                    margin = int(table._tbl.tblPr.find(f"{qn('w:tblCellMar')}/{qn('w:left')}").get(qn("w:w")))
                    assert margin / 1440 * 25.4 == pytest.approx(layout.CELL_MARGIN_MM, abs=0.01)
                    assert layout.fits(layout.LONGEST_DATE, body.width.mm, max(size)), (key, cell.text)
                    seen += 1
    assert seen == 4
