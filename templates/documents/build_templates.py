"""Build the docxtpl templates of the meeting documents: ``python templates/documents/build_templates.py``.

The .docx files next to this script are generated here (python-docx), so a template change is a reviewable code
change and the files can be rebuilt byte for byte (fixed zip timestamps and core properties). The Jinja tags are
docxtpl's: ``{%p ...%}`` for a paragraph of its own, ``{%tr ...%}`` for a table row, ``{%tc ...%}`` for a column.
Every tag sits in a single run (python-docx writes each string as one run), as docxtpl requires.

Variables the templates read are built by ``orglife_nb.documents.meeting_context``; every value is text.
"""
from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip member times: identical bytes on every build

BODY_FONT = "仿宋"      # 党政机关公文: 正文仿宋, 标题小标宋/黑体 (GB/T 9704); fonts found on every Windows/WPS
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
BODY_SIZE = Pt(14)      # 四号: readable when printed, fits A4 tables better than 三号
TABLE_SIZE = Pt(10.5)   # 五号


# ---- low-level helpers -------------------------------------------------------------------------------------------


def _set_fonts(target, name: str, size=None, bold: bool | None = None) -> None:
    """Latin and East Asian typeface (python-docx's font.name sets only the Latin ones)."""
    target.font.name = name
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        target.font.size = size
    if bold is not None:
        target.font.bold = bold


def new_document(title: str, *, landscape: bool = False):
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    # GB/T 9704 margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm); tighter when landscape for the table
    section.top_margin, section.bottom_margin = (Cm(2.5), Cm(2.5)) if landscape else (Cm(3.7), Cm(3.5))
    section.left_margin, section.right_margin = (Cm(2.5), Cm(2.5)) if landscape else (Cm(2.8), Cm(2.6))
    normal = doc.styles["Normal"]
    _set_fonts(normal, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.line_spacing = 1.25
    normal.paragraph_format.space_after = Pt(0)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "orglife-nb", "orglife-nb"
    props.created = props.modified = datetime(*FIXED_TIME)
    props.revision = 1
    props.comments = props.subject = props.keywords = props.category = ""
    return doc


def title(doc, text: str, *, size=Pt(22)) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(6)
    _set_fonts(p.add_run(text), TITLE_FONT, size, bold=True)


def heading(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Cm(0.99)
    p.paragraph_format.space_before = Pt(6)
    _set_fonts(p.add_run(text), HEADING_FONT)


def para(doc, text: str = "", *, indent: bool = True, align=None, bold: bool = False, size=None):
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Cm(0.99)  # two characters of 四号
    if align is not None:
        p.alignment = align
    if text:
        run = p.add_run(text)
        if bold or size is not None:
            _set_fonts(run, BODY_FONT, size, bold=bold or None)
    return p


def tag(doc, text: str) -> None:
    """A paragraph that holds only a docxtpl ``{%p ...%}`` tag (docxtpl removes the paragraph)."""
    doc.add_paragraph(text)


def signature(doc, lines: list[str]) -> None:
    para(doc)
    for line in lines:
        para(doc, line, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)


def _cell(cell, text: str, *, bold: bool = False, center: bool = False) -> None:
    p = cell.paragraphs[0]
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Cm(0)
    p.paragraph_format.line_spacing = 1.0
    if text:
        _set_fonts(p.add_run(text), BODY_FONT, TABLE_SIZE, bold=bold or None)


def _widths(table, widths_cm: list[float]) -> None:
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)


def loop_table(doc, headers: list[str], cells: list[str], loop: str, widths_cm: list[float],
               centered: tuple[int, ...] = (0,), empty: str | None = None) -> None:
    """Header row, then one data row repeated by ``{%tr for <loop> %}`` … ``{%tr endfor %}``.

    With ``empty`` the table is left out when the list is empty, and ``empty`` (if not "") is said instead."""
    items = loop.split(" in ", 1)[1]
    if empty is not None:
        tag(doc, "{%p if " + items + " %}")
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(headers):
        _cell(table.cell(0, i), text, bold=True, center=True)
    _cell(table.cell(1, 0), "{%tr for " + loop + " %}")
    for i, text in enumerate(cells):
        _cell(table.cell(2, i), text, center=i in centered)
    _cell(table.cell(3, 0), "{%tr endfor %}")
    _widths(table, widths_cm)
    if empty:
        tag(doc, "{%p else %}")
        para(doc, empty)
    if empty is not None:
        tag(doc, "{%p endif %}")


def facts_table(doc, rows: str, widths_cm=(4.5, 11.1)) -> None:
    """Two columns (item, value) filled from a list of ``{"label": …, "value": …}``."""
    loop_table(doc, ["项目", "情况"], ["{{ f.label }}", "{{ f.value }}"], f"f in {rows}", list(widths_cm),
               centered=())


def when(doc, condition: str, text: str, *, indent: bool = True) -> None:
    """A paragraph shown only when ``condition`` holds."""
    tag(doc, "{%p if " + condition + " %}")
    para(doc, text, indent=indent)
    tag(doc, "{%p endif %}")


def titled(name: str, subtitle: str):
    """A document headed by the branch name over the document's own title."""
    doc = new_document(name)
    title(doc, "{{ branch.name }}")
    title(doc, subtitle, size=Pt(18))
    return doc


def letter(name: str, subtitle: str, addressee: str, opening: str):
    """A titled document that begins like a letter: addressee line, then the opening paragraph."""
    doc = titled(name, subtitle)
    para(doc, addressee + "：", indent=False)
    para(doc, opening)
    return doc


def save(doc, path: Path) -> None:
    """Save with fixed zip member times and order, so a rebuild gives the same bytes."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    path.write_bytes(out.getvalue())


# ---- the four templates ------------------------------------------------------------------------------------------


def notice():
    doc = letter("会议通知", "关于召开{{ meeting.title_kind }}的通知", "{{ notice.addressee }}",
                 "经研究，定于{{ meeting.date }}召开{{ meeting.kind }}。现将有关事项通知如下：")
    heading(doc, "一、会议主题")
    para(doc, "{{ meeting.topic }}")
    heading(doc, "二、时间和地点")
    para(doc, "时间：{{ meeting.date }}{{ meeting.hours_note }}")
    para(doc, "地点：{{ meeting.place }}")
    heading(doc, "三、主持人")
    para(doc, "{{ meeting.host }}")
    heading(doc, "四、参加人员")
    para(doc, "{{ notice.attendees }}（共{{ notice.attendee_count }}人）。")
    when(doc, "notice.superior_attendee", "上级党组织派员：{{ notice.superior_attendee }}。")
    heading(doc, "五、会前准备")
    tag(doc, "{%p for ask in notice.asks %}")
    para(doc, "{{ loop.index }}. {{ ask }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if notice.studies %}")
    para(doc, "已安排的学习：")
    tag(doc, "{%p for s in notice.studies %}")
    para(doc, "（{{ loop.index }}）{{ s }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    heading(doc, "六、其他事项")
    para(doc, "{{ notice.leave_rule }}")
    signature(doc, ["{{ branch.name }}", "{{ notice.date }}"])
    return doc


def report():
    doc = letter("会议情况报告", "关于召开{{ meeting.title_kind }}情况的报告", "{{ report.addressee }}",
                 "{{ report.opening }}")
    heading(doc, "一、会议基本情况")
    facts_table(doc, "report.basics")
    para(doc, "缺席人员：", indent=False)
    loop_table(doc, ["姓名", "出席情况", "原因", "书面发言", "会上宣读"],
               ["{{ a.name }}", "{{ a.presence }}", "{{ a.reason }}", "{{ a.written }}", "{{ a.read_out }}"],
               "a in report.absentees", [3, 2.5, 5.1, 2.5, 2.5], centered=(0, 1, 3, 4),
               empty="无请假或缺席人员。")
    heading(doc, "二、会前准备情况")
    facts_table(doc, "report.preparation")
    heading(doc, "三、开展批评与自我批评情况")
    loop_table(doc, ["阶段", "自我批评（次）", "批评（次）", "表态（次）", "发言人数"],
               ["{{ c.stage }}", "{{ c.self_criticism }}", "{{ c.criticism }}", "{{ c.response }}",
                "{{ c.speakers }}"], "c in report.criticism", [3.6, 3, 3, 3, 3], centered=(0, 1, 2, 3, 4),
               empty="未登记批评与自我批评情况。")
    para(doc, "{{ report.criticism_note }}")
    heading(doc, "四、民主评议党员情况")
    tag(doc, "{%p if report.evaluation %}")
    facts_table(doc, "report.evaluation.facts")
    para(doc, "评为优秀的党员（予以表扬）：{{ report.evaluation.excellent }}")
    para(doc, "评为不合格的党员及处理意见：{{ report.evaluation.unqualified }}")
    tag(doc, "{%p else %}")
    para(doc, "本次会议未结合开展民主评议党员。")
    tag(doc, "{%p endif %}")
    heading(doc, "五、检查出来的主要问题及整改措施")
    loop_table(doc, ["序号", "问题", "责任类别", "责任人", "整改措施", "时限", "状态"],
               ["{{ r.no }}", "{{ r.problem }}", "{{ r.category }}", "{{ r.owner }}", "{{ r.measures }}",
                "{{ r.deadline }}", "{{ r.status }}"],
               "r in report.rectifications", [1.2, 3.8, 1.8, 1.8, 3.8, 2.0, 1.2], centered=(0, 2, 3, 5, 6),
               empty="未列出整改事项。")
    heading(doc, "六、对照制度检查情况")
    para(doc, "{{ report.checks_note }}")
    loop_table(doc, ["规则", "级别", "情况"], ["{{ k.rule }}", "{{ k.severity }}", "{{ k.message }}"],
               "k in report.findings", [4.2, 1.6, 9.8], centered=(1,), empty="")
    heading(doc, "七、对上级党组织的意见建议")
    para(doc, "（由党支部填写）")
    para(doc)
    para(doc, "附件：1. 会议原始记录复印件", indent=False)
    para(doc, "　　　2. 领导班子和个人征求意见汇总材料", indent=False)
    signature(doc, ["{{ branch.name }}", "{{ report.date }}"])
    return doc


def rectification():
    doc = new_document("整改清单", landscape=True)
    title(doc, "{{ branch.name }}{{ meeting.title_kind }}问题整改清单")
    para(doc, "（会议日期：{{ meeting.date }}　主题：{{ meeting.topic }}）", indent=False,
         align=WD_ALIGN_PARAGRAPH.CENTER)
    loop_table(doc, ["序号", "问题", "责任类别", "整改目标", "整改措施", "责任人", "整改时限", "完成情况"],
               ["{{ r.no }}", "{{ r.problem }}", "{{ r.category }}", "{{ r.goal }}", "{{ r.measures }}",
                "{{ r.owner }}", "{{ r.deadline }}", "{{ r.status }}"],
               "r in rectification.entries", [1.2, 5.2, 2.0, 4.0, 5.6, 2.2, 2.6, 2.6], centered=(0, 2, 5, 6, 7),
               empty="本次会议未列出整改事项。")
    para(doc, "以上整改事项予以公示，接受党员群众监督。如有意见建议，请向{{ branch.name }}反映。")
    signature(doc, ["{{ branch.name }}", "{{ rectification.date }}"])
    return doc


def ballot():
    doc = titled("民主测评表", "民主评议党员测评表")
    para(doc, "（{{ meeting.title_kind }}　{{ meeting.date }}）", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{{ ballot.instruction }}")
    when(doc, "ballot.voter_types", "身份类别（只勾选类别）：{{ ballot.voter_types }}", indent=False)
    # level columns come from the meeting's scheme: {%tc for %} repeats the cell between the two tag cells
    levels = "{%tc for level in ballot.levels %}"
    loop_table(doc, ["序号", "姓名", levels, "{{ level }}", "{%tc endfor %}"],
               ["{{ m.no }}", "{{ m.name }}", levels, "", "{%tc endfor %}"], "m in ballot.members",
               [1.5, 4.0, 0.1, 2.5, 0.1], centered=(0, 1, 3))
    para(doc)
    para(doc, "{{ ballot.footer }}", indent=False)
    return doc


TEMPLATES = {"notice": notice, "report": report, "rectification": rectification, "ballot": ballot}


def build(out_dir: Path = HERE) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in TEMPLATES.items():
        path = out_dir / f"{name}.docx"
        save(make(), path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(written)
