"""The cut-out slips of an electronic 民主测评: one A4 sheet of eight slips per page, each with a QR code of its vote
URL and the code to type, as PDF (Chromium prints the HTML) and .docx (python-docx).

A slip carries no number and no name: nothing printed on it can tie the code to the person it was handed to.
The plain codes exist only here (the store keeps hashes), so the slips are written inside the transaction that
issues the codes (``Store.open_poll(deliver=…)``): if they cannot be written, no code is issued.
"""
from __future__ import annotations

import html
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from ..errors import OrglifeError
from ..models import VoterType
from ..outputs import output_dir, replacing
from ..store.voting import Poll, Slip, grouped

VOTE_URL_ENV = "ORGLIFE_VOTE_URL"  # the server's address for phones (orglife serve sets it for the forms)
PER_PAGE = 8  # 2 × 4 slips of 95 × 69 mm on A4
VOTE_PATH = "vote"


def vote_base(url: str) -> str:
    """The server's address as given (``--url``) → the phone page's address, without a code."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise OrglifeError(f"网址无效：{url}（应为服务器的地址，如 https://dangjian.example.gov.cn/）")
    base = url.strip()
    if base.rstrip("/").endswith(f"/{VOTE_PATH}"):  # the phone page's own address given: its server
        base = base.rstrip("/")[:-len(VOTE_PATH)]
    return base if base.endswith("/") else base + "/"


def vote_url(base: str, code: str) -> str:
    """What the QR code holds: the code in the fragment, which browsers never send to a server or a log."""
    return f"{base}{VOTE_PATH}#{code}"


def _who(slip: Slip) -> str:
    return "群众代表" if slip.voter_type == VoterType.public.value else "党员"


def _instructions(base: str) -> list[str]:
    return ["用手机扫描二维码（微信“扫一扫”即可），为每位同志选择等次后提交；",
            f"或在手机浏览器打开 {base}{VOTE_PATH} ，输入上面的测评码。",
            "每个测评码只能投一次。测评不记名，系统不记录投票人。"]


# ---- PDF ------------------------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; color: #000; }
.sheet { display: grid; grid-template-columns: 95mm 95mm; grid-auto-rows: 69mm; page-break-after: always;
         width: 190mm; border-top: 0.3mm dashed #777; border-left: 0.3mm dashed #777; }
.sheet:last-child { page-break-after: auto; }
.slip { border-right: 0.3mm dashed #777; border-bottom: 0.3mm dashed #777; padding: 4mm 4.5mm; display: grid; grid-template-columns: 31mm 1fr;
        grid-template-rows: auto 1fr auto; column-gap: 4mm; overflow: hidden; }
.slip h2 { grid-column: 1 / 3; margin: 0 0 2mm; font-size: 12.5pt; border-bottom: 0.3mm solid #b71c1c;
           padding-bottom: 1.2mm; color: #b71c1c; }
.slip h2 small { font-size: 9.5pt; color: #000; font-weight: normal; margin-left: 2mm; }
.qr { grid-row: 2 / 4; width: 31mm; height: 31mm; }
.code { align-self: start; }
.code .label { font-size: 9pt; }
.code .value { font-family: "DejaVu Sans Mono", "Noto Sans Mono", monospace; font-size: 15pt; font-weight: bold;
               letter-spacing: 0.3mm; white-space: nowrap; }
.meeting { font-size: 8.5pt; margin-top: 1mm; }
ol { grid-column: 1 / 3; margin: 2mm 0 0; padding-left: 4.5mm; font-size: 8pt; line-height: 1.35; }
"""


def slips_html(poll: Poll, base: str) -> str:
    import segno

    steps = "".join(f"<li>{html.escape(line)}</li>" for line in _instructions(base))
    meeting = "<br>".join(html.escape(part) for part in poll.title.split(" · "))
    pages = []
    for start in range(0, len(poll.slips), PER_PAGE):
        cells = []
        for slip in poll.slips[start:start + PER_PAGE]:
            qr = segno.make(vote_url(base, slip.code), error="m")
            cells.append(
                f'<div class="slip"><h2>民主测评票<small>{_who(slip)}</small></h2>'
                f'<img class="qr" alt="二维码" src="{qr.svg_data_uri(scale=4, border=2)}">'
                f'<div class="code"><div class="label">测评码</div><div class="value">{grouped(slip.code)}</div>'
                f'<div class="meeting">{meeting}</div></div><ol>{steps}</ol></div>')
        pages.append(f'<div class="sheet">{"".join(cells)}</div>')
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>民主测评票</title>'
            f'<style>{_CSS}</style></head><body>{"".join(pages)}</body></html>')


def _print(markup: str, target: Path) -> None:
    from ..browser import chromium_page

    def run() -> None:  # in a thread of its own: Playwright's sync API refuses a thread with a running loop
        with chromium_page() as page:
            page.set_content(markup, wait_until="load")
            with replacing(target) as temp:
                page.pdf(path=str(temp), format="A4", print_background=True, prefer_css_page_size=True)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


# ---- .docx ----------------------------------------------------------------------------------------------------


def _fonts(run, name: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    run.font.size = Pt(size_pt)
    run.font.bold = bold


def _dashed(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        for key, value in (("val", "dashed"), ("sz", "6"), ("space", "0"), ("color", "777777")):
            edge.set(qn(f"w:{key}"), value)
        borders.append(edge)
    table._tbl.tblPr.append(borders)


def _zh_cn(doc) -> None:
    """Every run, and the styles' defaults (text typed into the file later), in Simplified Chinese: Word picks
    fonts and line breaking for the Han characters by it (the stock template says en-US)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    # the template's Word 2010 copy of the styles would keep its en-US default there: styles.xml is the one kept
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rid)
    defaults = doc.styles.element.findall(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    for rpr in [run.get_or_add_rPr() for run in doc.element.body.iter(qn("w:r"))] + defaults:
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")


def slips_docx(poll: Poll, base: str) -> bytes:
    import segno
    from docx import Document
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(1.0)
    section.left_margin = section.right_margin = Cm(1.0)
    doc.core_properties.title, doc.core_properties.author = "民主测评票", "orglife-nb"
    steps = _instructions(base)
    # one table; four rows of fixed height that may not split fill a page, so Word breaks between them
    table = doc.add_table(rows=(len(poll.slips) + 1) // 2, cols=2)
    table.autofit = False
    _dashed(table)
    for row in table.rows:
        row.height, row.height_rule = Cm(6.75), WD_ROW_HEIGHT_RULE.EXACTLY
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for i, slip in enumerate(poll.slips):
        cell = table.cell(i // 2, i % 2)
        cell.width = Cm(9.5)
        head = cell.paragraphs[0]
        head.paragraph_format.space_after = Pt(2)
        run = head.add_run("民主测评票")
        _fonts(run, "黑体", 13)
        run.font.color.rgb = RGBColor(0xB7, 0x1C, 0x1C)
        _fonts(head.add_run(f"　{_who(slip)}"), "仿宋_GB2312", 10)
        picture = io.BytesIO()
        segno.make(vote_url(base, slip.code), error="m").save(picture, kind="png", scale=8, border=2)
        picture.seek(0)
        qr = cell.add_paragraph()
        qr.alignment = WD_ALIGN_PARAGRAPH.LEFT
        qr.paragraph_format.space_after = Pt(0)
        qr.add_run().add_picture(picture, width=Cm(2.9))
        _fonts(qr.add_run("　测评码 "), "仿宋_GB2312", 9)
        _fonts(qr.add_run(grouped(slip.code)), "Courier New", 14, bold=True)
        title = cell.add_paragraph()
        title.paragraph_format.space_after = Pt(1)
        _fonts(title.add_run(poll.title.replace(" · ", "　")), "仿宋_GB2312", 8.5)
        for n, line in enumerate(steps, 1):
            p = cell.add_paragraph()
            p.paragraph_format.space_after = Pt(0)
            p.paragraph_format.line_spacing = 1.0
            _fonts(p.add_run(f"{n}. {line}"), "仿宋_GB2312", 8)
    # the paragraph a document must end with: tiny, so it never spills onto a page of its own
    last = doc.paragraphs[-1] if doc.paragraphs else doc.add_paragraph()
    last.paragraph_format.space_after = last.paragraph_format.space_before = Pt(0)
    _fonts(last.add_run(""), "仿宋_GB2312", 1)
    last.paragraph_format.line_spacing = Pt(1)
    _zh_cn(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write_slips(poll: Poll, out_dir: str | os.PathLike, url: str) -> list[Path]:
    """``out_dir/slips.pdf`` and ``out_dir/slips.docx`` for the poll's freshly issued codes."""
    if not poll.slips:
        raise OrglifeError("没有可写出的测评码")
    base = vote_base(url)
    out = output_dir(out_dir)
    docx_path, pdf_path = out / "slips.docx", out / "slips.pdf"
    data = slips_docx(poll, base)
    with replacing(docx_path) as temp:
        temp.write_bytes(data)
    try:
        _print(slips_html(poll, base), pdf_path)
    except Exception as error:
        docx_path.unlink(missing_ok=True)  # both or neither: the codes will not be issued
        if isinstance(error, OrglifeError):
            raise
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise OrglifeError(f"无法打印 PDF {pdf_path}：{first}") from None
    return [pdf_path, docx_path]
