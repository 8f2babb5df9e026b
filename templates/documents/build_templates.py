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
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from orglife_nb.documents.layout import (BALLOT_PT, BODY_PT, CELL_MARGIN_MM, CHAR_SPACING_TWIPS, LANDSCAPE,
                                          LINE_PITCH_TWIPS, PAGE_NUMBER_PT, PORTRAIT, SMALL_TABLE_PT, TABLE_PT,
                                          TITLE_PT)

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip member times: identical bytes on every build

# GB/T 9704 (党政机关公文格式): title 小标宋 二号, level-1 headings 黑体, level-2 楷体, body 仿宋_GB2312 三号.
# Each face names its usual stand-in (w:altName, taken by Word/WPS where the face is missing); LibreOffice picks a
# substitute by the text's language instead, hence zh-CN on every run (the old ja-JP default gave Japanese glyphs).
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
FONTS = {  # name → (altName, w:family, panose-1)
    TITLE_FONT: ("宋体", "roman", "02010600030101010101"),
    HEADING_FONT: ("SimHei", "modern", "02010609060101010101"),
    SUBHEADING_FONT: ("楷体", "roman", "02010609030101010101"),
    BODY_FONT: ("仿宋", "roman", "02010609030101010101"),
}
LANGUAGE = "zh-CN"
TITLE_SIZE, BODY_SIZE, TABLE_SIZE, BALLOT_SIZE = Pt(TITLE_PT), Pt(BODY_PT), Pt(TABLE_PT), Pt(BALLOT_PT)
SMALL_TABLE_SIZE = Pt(SMALL_TABLE_PT)
# 22 lines of 28 characters on the 156 × 225 mm type area (GB/T 9704 5.2.2): orglife_nb.documents.layout
LINE_PITCH = Pt(LINE_PITCH_TWIPS / 20)  # the grid's own pitch: body lines sit on it
INDENT = Pt(2 * BODY_PT)  # two characters of 三号
PAGE_NUMBER_FONT = "宋体"
PAGE_NUMBER_SIZE = Pt(PAGE_NUMBER_PT)


# ---- low-level helpers -------------------------------------------------------------------------------------------


def _set_fonts(target, name: str, size=None, bold: bool | None = None) -> None:
    """Latin and East Asian typeface (python-docx's font.name sets only the Latin ones)."""
    target.font.name = name
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        target.font.size = size
    if bold is not None:
        target.font.bold = bold


def _language(rpr) -> None:
    """East-Asian language zh-CN on one w:rPr (Latin text stays en-US)."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), LANGUAGE)


def _chinese(doc) -> None:
    """zh-CN as the style default, the theme language and on every run; the fonts' stand-ins in the font table."""
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), BODY_FONT)
    _language(defaults)
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), LANGUAGE)
    section = doc.sections[0]
    for part in (doc.element.body, section.footer._element, section.even_page_footer._element):
        for run in part.iter(qn("w:r")):
            _language(run.get_or_add_rPr())


def _font_table(xml: bytes) -> bytes:
    """Add the four faces to word/fontTable.xml with their stand-ins and the GB2312 character set."""
    from lxml import etree

    root = etree.fromstring(xml)
    for name, (alt, family, panose) in FONTS.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alt), ("w:panose1", panose), ("w:charset", "86"), ("w:family", family),
                           ("w:pitch", "variable")):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def line_grid(section) -> None:
    """GB/T 9704 5.2.2: 22 lines a page, as a document grid of lines that Word, WPS and LibreOffice set body text
    on; the 28 characters a line are the Normal style's spacing (``condensed``; documents/layout.py says why not a
    character grid). Titles, tables and footers opt out (``off_grid``)."""
    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    doc_grid = OxmlElement("w:docGrid")
    doc_grid.set(qn("w:type"), "lines")
    doc_grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    sect_pr.append(doc_grid)  # the last child of w:sectPr (schema order)


def condensed(style) -> None:
    """Characters set 0.25 pt closer (w:spacing, twentieths of a point): 28 of 三号 fit the 156 mm line."""
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_SPACING_TWIPS))
    style.element.get_or_add_rPr().insert_element_before(
        spacing, "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
        "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish",
        "w:oMath")


def off_grid(paragraph) -> None:
    """Lines at their own height, not on the body's 28.95 pt grid (a title of 二号, a table of 五号, a footer)."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    paragraph._p.get_or_add_pPr().insert_element_before(
        snap, "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
        "w:sectPr", "w:pPrChange")  # what follows w:snapToGrid in a w:pPr (schema order)


def new_document(title: str, *, landscape: bool = False):
    doc = Document()
    section = doc.sections[0]
    page = LANDSCAPE if landscape else PORTRAIT
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(page.width_mm), Mm(page.height_mm)
    section.top_margin, section.bottom_margin = Mm(page.top_mm), Mm(page.bottom_mm)
    section.left_margin, section.right_margin = Mm(page.left_mm), Mm(page.right_mm)
    line_grid(section)
    normal = doc.styles["Normal"]
    _set_fonts(normal, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.line_spacing = LINE_PITCH  # exact: 22 lines on a portrait page
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.widow_control = True
    condensed(normal)
    page_numbers(doc, section, above=section.bottom_margin - Cm(0.7))
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "orglife-nb", "orglife-nb"
    props.created = props.modified = datetime(*FIXED_TIME)
    props.revision = 1
    props.comments = props.subject = props.keywords = props.category = ""
    return doc


def _field_run(paragraph, text: str | None = None, *, char: str | None = None, instruction: str | None = None):
    """One run of a footer line in 4号 宋体: text, a w:fldChar (begin/separate/end) or a w:instrText."""
    run = paragraph.add_run(text or "")
    _set_fonts(run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    if char is not None:
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), char)
        run._r.append(fld)
    if instruction is not None:
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = instruction
        run._r.append(instr)
    return run


def page_numbers(doc, section, above) -> None:
    """GB/T 9704 7.5: the page number in 4号 半角 Arabic numerals with a 一字线 each side ("— 1 —"), 7 mm below the
    type area; odd pages right and even pages left, one character in; the first page numbered too."""
    doc.settings.odd_and_even_pages_header_footer = True
    section.different_first_page_header_footer = False
    # the footer's bottom edge from the page's: its top sits 7 mm under the type area (``above``)
    section.footer_distance = above - PAGE_NUMBER_SIZE
    for footer, align, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent"),
                                (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        p.paragraph_format.first_line_indent = Pt(0)
        setattr(p.paragraph_format, side, PAGE_NUMBER_SIZE)
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        off_grid(p)
        _field_run(p, "— ")
        _field_run(p, char="begin")
        _field_run(p, instruction=" PAGE ")
        _field_run(p, char="separate")
        _field_run(p, "1")
        _field_run(p, char="end")
        _field_run(p, " —")


def title(doc, text: str, *, size=TITLE_SIZE, font: str = TITLE_FONT) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = True
    off_grid(p)  # 二号 at its own size: meeting.py breaks a long title into lines of that size
    _set_fonts(p.add_run(text), font, size)


def heading(doc, text: str, *, font: str = HEADING_FONT) -> None:
    """A numbered heading (一、…: 黑体; （一）…: 楷体), kept on the page of what follows it."""
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = INDENT
    p.paragraph_format.keep_with_next = True
    _set_fonts(p.add_run(text), font)


def para(doc, text: str = "", *, indent: bool = True, align=None, bold: bool = False, size=None,
         keep: bool = False):
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = INDENT
    if align is not None:
        p.alignment = align
    if keep:
        p.paragraph_format.keep_with_next = True
    if text:
        run = p.add_run(text)
        if bold or size is not None:
            _set_fonts(run, BODY_FONT, size, bold=bold or None)
    return p


def tag(doc, text: str) -> None:
    """A paragraph that holds only a docxtpl ``{%p ...%}`` tag (docxtpl removes the paragraph)."""
    doc.add_paragraph(text)


def signature(doc, lines: list[str]) -> None:
    """The 落款 (name, date) one line below the text, right-aligned with a margin of four characters (GB/T 9704
    7.3.5.1), kept on the page of the last line of text above it: never alone on a page. One paragraph with line
    breaks, kept together: LibreOffice lets a chain of kept paragraphs at the end of a document break apart."""
    text_before = [p for p in doc.paragraphs if p.text.strip() and not p.text.startswith("{%p")]
    text_before[-1].paragraph_format.keep_with_next = True
    p = para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    p.paragraph_format.keep_together = True
    p.paragraph_format.space_before = LINE_PITCH  # the blank line above the 落款
    p.paragraph_format.right_indent = INDENT * 2
    for i, line in enumerate(lines):
        run = p.add_run(line)
        if i < len(lines) - 1:
            run.add_break()


def _cell(cell, text: str, *, bold: bool = False, center: bool = False, size=TABLE_SIZE) -> None:
    p = cell.paragraphs[0]
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    off_grid(p)
    p.paragraph_format.line_spacing = 1.0  # tables are set solid, not on the body's line grid
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if text:
        _set_fonts(p.add_run(text), HEADING_FONT if bold else BODY_FONT, size)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _cell_margins(table) -> None:
    """Narrow left and right cell margins for every cell of the table (w:tblCellMar), so a date fits its column."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(round(CELL_MARGIN_MM / 25.4 * 1440)))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription",
                                           "w:tblPrChange")


def _widths(table, widths_cm: list[float]) -> None:
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)


def _row(row, *, header: bool = False, height=None) -> None:
    """A row never splits over two pages; a header row repeats on every page (w:tblHeader)."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))
    if height is not None:
        row.height, row.height_rule = height, WD_ROW_HEIGHT_RULE.AT_LEAST


def loop_table(doc, headers: list[str], cells: list[str], loop: str, widths_cm: list[float],
               centered: tuple[int, ...] = (0,), empty: str | None = None, size=TABLE_SIZE,
               row_height=None, keep_empty: bool = False) -> None:
    """Header row, then one data row repeated by ``{%tr for <loop> %}`` … ``{%tr endfor %}``.

    With ``empty`` the table is left out when the list is empty, and ``empty`` (if not "") is said instead (kept
    with what follows when ``keep_empty``: a signature after it)."""
    items = loop.split(" in ", 1)[1]
    if empty is not None:
        tag(doc, "{%p if " + items + " %}")
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(headers):
        _cell(table.cell(0, i), text, bold=True, center=True, size=size)
    _cell(table.cell(1, 0), "{%tr for " + loop + " %}")
    for i, text in enumerate(cells):
        _cell(table.cell(2, i), text, center=i in centered, size=size)
    _cell(table.cell(3, 0), "{%tr endfor %}")
    _widths(table, widths_cm)
    _cell_margins(table)
    _row(table.rows[0], header=True)
    _row(table.rows[2], height=row_height)
    if empty:
        tag(doc, "{%p else %}")
        para(doc, empty, keep=keep_empty)
    if empty is not None:
        tag(doc, "{%p endif %}")


def facts_table(doc, rows: str, widths_cm=(4.0, 11.6)) -> None:
    """Two columns (item, value) filled from a list of ``{"label": …, "value": …}``."""
    loop_table(doc, ["项目", "情况"], ["{{ f.label }}", "{{ f.value }}"], f"f in {rows}", list(widths_cm),
               centered=())


def when(doc, condition: str, text: str, *, indent: bool = True, keep: bool = False) -> None:
    """A paragraph shown only when ``condition`` holds."""
    tag(doc, "{%p if " + condition + " %}")
    para(doc, text, indent=indent, keep=keep)
    tag(doc, "{%p endif %}")


def letter(name: str, heading_text: str, addressee: str, opening: str):
    """A document titled like an official letter: title, addressee line, then the opening paragraph."""
    doc = new_document(name)
    title(doc, heading_text)
    para(doc)
    para(doc, addressee + "：", indent=False)
    para(doc, opening)
    return doc


def save(doc, path: Path) -> None:
    """Save with fixed zip member times and order, so a rebuild gives the same bytes."""
    _chinese(doc)
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            data = src.read(name)
            dst.writestr(info, _font_table(data) if name == "word/fontTable.xml" else data)
    path.write_bytes(out.getvalue())


# ---- the four templates ------------------------------------------------------------------------------------------


def notice():
    doc = letter("会议通知", "{{ notice.title }}", "{{ notice.addressee }}",
                 "经研究，定于{{ meeting.date }}{{ meeting.time }}召开{{ meeting.kind }}。现将有关事项通知如下：")
    heading(doc, "一、会议主题")
    para(doc, "{{ meeting.topic }}")
    heading(doc, "二、时间和地点")
    para(doc, "时间：{{ meeting.date }}{{ meeting.time }}{{ meeting.hours_note }}")
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
    doc = letter("会议情况报告", "{{ report.title }}", "{{ report.addressee }}",
                 "{{ report.opening }}")
    heading(doc, "{{ report.no.basics }}、会议基本情况")
    facts_table(doc, "report.basics")
    heading(doc, "（一）请假和缺席人员", font=SUBHEADING_FONT)
    loop_table(doc, ["姓名", "出席情况", "原因", "书面发言", "会上宣读"],
               ["{{ a.name }}", "{{ a.presence }}", "{{ a.reason }}", "{{ a.written }}", "{{ a.read_out }}"],
               "a in report.absentees", [3, 2.5, 5.1, 2.5, 2.5], centered=(0, 1, 3, 4),
               empty="无请假或缺席人员。")
    heading(doc, "{{ report.no.preparation }}、会前准备情况")
    facts_table(doc, "report.preparation")
    heading(doc, "{{ report.no.criticism }}、开展批评与自我批评情况")
    loop_table(doc, ["阶段", "自我批评（次）", "批评（次）", "表态（次）", "发言人数"],
               ["{{ c.stage }}", "{{ c.self_criticism }}", "{{ c.criticism }}", "{{ c.response }}",
                "{{ c.speakers }}"], "c in report.criticism", [3.6, 3, 3, 3, 3], centered=(0, 1, 2, 3, 4),
               empty="未登记批评与自我批评情况。")
    para(doc, "{{ report.criticism_note }}")
    tag(doc, "{%p if report.evaluation %}")
    heading(doc, "{{ report.no.evaluation }}、民主评议党员情况")
    facts_table(doc, "report.evaluation.facts")
    para(doc, "评为优秀的党员（予以表扬）：{{ report.evaluation.excellent }}")
    para(doc, "评为不合格的党员及处理意见：{{ report.evaluation.unqualified }}")
    tag(doc, "{%p endif %}")
    heading(doc, "{{ report.no.rectifications }}、检查出来的主要问题及整改措施")
    loop_table(doc, ["序号", "问题", "责任类别", "责任人", "整改措施", "时限", "状态"],
               ["{{ r.no }}", "{{ r.problem }}", "{{ r.category }}", "{{ r.owner }}", "{{ r.measures }}",
                "{{ r.deadline }}", "{{ r.status }}"],
               "r in report.rectifications", [0.9, 2.8, 1.5, 1.3, 2.9, 3.1, 3.1], centered=(0, 2, 3, 5, 6),
               size=SMALL_TABLE_SIZE,
               empty="未列出整改事项。")
    heading(doc, "{{ report.no.checks }}、对照制度自查情况")
    para(doc, "{{ report.checks_note }}")
    tag(doc, "{%p for g in report.check_groups %}")
    para(doc, "{{ g.heading }}", keep=True)
    tag(doc, "{%p for k in g.lines %}")
    para(doc, "{{ loop.index }}. {{ k }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")
    para(doc)
    tag(doc, "{%p for a in report.attachments %}")
    para(doc, "{% if loop.first %}附件：{% else %}　　　{% endif %}{{ loop.index }}. {{ a }}", indent=False,
         keep=True)
    tag(doc, "{%p endfor %}")
    signature(doc, ["{{ report.signer }}", "{{ report.date }}"])
    return doc


def rectification():
    doc = new_document("整改清单", landscape=True)
    title(doc, "{{ rectification.title }}")
    para(doc, "{{ rectification.subtitle }}", indent=False,
         align=WD_ALIGN_PARAGRAPH.CENTER, keep=True)
    loop_table(doc, ["序号", "问题", "责任类别", "整改目标", "整改措施", "责任人", "整改时限", "完成情况"],
               ["{{ r.no }}", "{{ r.problem }}", "{{ r.category }}", "{{ r.goal }}", "{{ r.measures }}",
                "{{ r.owner }}", "{{ r.deadline }}", "{{ r.status }}"],
               "r in rectification.entries", [1.0, 4.6, 1.7, 3.6, 4.7, 1.5, 3.6, 4.0], centered=(0, 2, 5, 6, 7),
               empty="本次会议未列出整改事项。", keep_empty=True)
    when(doc, "rectification.entries",
         "以上整改事项予以公示，接受党员群众监督。如有意见建议，请向{{ branch.name }}反映。")
    signature(doc, ["{{ branch.name }}", "{{ rectification.date }}"])
    return doc


def ballot():
    doc = new_document("民主测评表")
    title(doc, "民主评议党员测评表")
    para(doc, "{{ ballot.subtitle }}", indent=False,
         align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{{ ballot.instruction }}")
    when(doc, "ballot.voter_types", "身份类别（只勾选类别）：{{ ballot.voter_types }}", indent=False,
         keep=True)
    # level columns come from the meeting's scheme: {%tc for %} repeats the cell between the two tag cells
    levels = "{%tc for level in ballot.levels %}"
    loop_table(doc, ["序号", "姓名", levels, "{{ level }}", "{%tc endfor %}"],
               ["{{ m.no }}", "{{ m.name }}", levels, "", "{%tc endfor %}"], "m in ballot.members",
               [1.5, 4.0, 0.1, 2.5, 0.1], centered=(0, 1, 3), size=BALLOT_SIZE, row_height=Cm(1.1))
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
