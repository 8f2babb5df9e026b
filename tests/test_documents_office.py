"""The meeting documents as their readers open them: LibreOffice converts every kind for a regular, a special and a
leadership meeting and a meeting not yet held; text shaped as Simplified Chinese; the report speaks as of its date."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile

import pytest
from docx import Document
from lxml import etree

from orglife_nb import demo
from orglife_nb.documents import TEMPLATE_DIR, render_documents
from orglife_nb.documents.meeting import RULE_ID
from orglife_nb.store import Store

pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdffonts")),
                                reason="LibreOffice and poppler-utils are needed (.ci/run installs them)")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HELD = ("B001-2025-R2", "B001-2025-L1", "B003-2025-S1")  # regular (evaluated), leadership, special (社区, no 班子)
NOT_HELD = "B001-2026-R2"
# where the 落款 once stood alone on the last page (整改清单 or 会议情况报告)
SIGNED_ALONE = ("B009-2025-R2", "B010-2025-R2", "B002-2025-R2", "B005-2025-R2")
PAGE_NUMBER = re.compile(r"^\s*—\s*(\d+)\s*—\s*$")
CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("office")
    with Store(root / "demo.db") as store:
        demo.save_demo(store, progress=False)
        said: list[str] = []
        paths = {m: render_documents(store, m, root / m, demo.DEMO_AS_OF, ballot=True, echo=said.append)
                 for m in (*HELD, NOT_HELD)}
        paths.update({m: render_documents(store, m, root / m, demo.DEMO_AS_OF, only=["report", "rectification"])
                      for m in SIGNED_ALONE})
    return paths, said


@pytest.fixture(scope="module")
def pdfs(written, tmp_path_factory):
    """Every .docx converted in one LibreOffice run (private profile: tests never touch the user's), with the
    shipped fonts.conf installed as its guide tells a user to (a machine without the GB2312 faces, like this one)."""
    out = tmp_path_factory.mktemp("pdf")
    docs = [str(p) for paths in written[0].values() for p in paths]
    config = tmp_path_factory.mktemp("config")
    (config / "fontconfig" / "conf.d").mkdir(parents=True)
    shutil.copy(TEMPLATE_DIR / "fonts.conf", config / "fontconfig" / "conf.d" / "60-orglife-gb2312.conf")
    env = {**os.environ, "HOME": str(tmp_path_factory.mktemp("home")), "XDG_CONFIG_HOME": str(config)}
    done = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), *docs], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return {p: out / (os.path.basename(p)[:-5] + ".pdf") for p in docs}


def test_every_document_converts(pdfs, written):
    paths, said = written
    assert len(paths[NOT_HELD]) == 2 and [p.name.split("-")[0] for p in paths[NOT_HELD]] == ["会议通知", "民主测评表"]
    assert any("尚未举行" in line and "会议情况报告" in line and "整改清单" in line for line in said)
    assert all(len(paths[m]) == 4 for m in HELD) and all(len(paths[m]) == 2 for m in SIGNED_ALONE)
    for docx, pdf in pdfs.items():
        assert pdf.is_file() and pdf.stat().st_size > 5000, docx


def test_text_is_tagged_and_shaped_as_simplified_chinese(pdfs):
    for docx in pdfs:
        with zipfile.ZipFile(docx) as z:
            assert b"ja-JP" not in z.read("word/styles.xml") + z.read("word/settings.xml"), docx
            body = etree.fromstring(z.read("word/document.xml"))
        runs = list(body.iter(f"{W}r"))
        untagged = [r for r in runs if r.find(f"{W}rPr/{W}lang[@{W}eastAsia='zh-CN']") is None]
        assert runs and not untagged, docx
    # LibreOffice 7.4 names every Noto CJK face of the collection after its shared CFF (…CJKjp…, even for an
    # explicit "Noto Sans CJK SC"), so pdffonts tells the family, not the glyph forms: the zh-CN tag above does
    for pdf in pdfs.values():
        faces = re.findall(r"^\w{6}\+(\S+)", subprocess.run(["pdffonts", str(pdf)], capture_output=True,
                                                            text=True).stdout, re.M)
        assert faces and all(re.match(r"Noto(Sans|Serif)CJK|DejaVu", face) for face in faces), (pdf, faces)


def _cn(day: str) -> tuple[int, int, int]:
    return tuple(int(x) for x in CN_DATE.search(day).groups())


def test_report_speaks_as_of_its_date_without_rule_ids(written):
    for meeting in HELD:
        (report,) = [p for p in written[0][meeting] if p.name.startswith("会议情况报告")]
        doc = Document(str(report))
        text = "\n".join(p.text for p in doc.paragraphs)
        cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
        assert not RULE_ID.search(text + cells) and "错误" not in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)
        assert "（由党支部填写）" not in text
        signed = _cn(doc.paragraphs[-1].text.split("\n")[-1])  # the 落款: name, line break, date
        for table in doc.tables:
            header = [c.text for c in table.rows[0].cells]
            if "状态" in header:
                column = header.index("状态")
                for row in table.rows[1:]:
                    for day in CN_DATE.findall(row.cells[column].text):
                        assert tuple(map(int, day)) <= signed, (meeting, row.cells[column].text)
        if meeting == "B001-2025-L1":
            assert "民主评议党员情况" not in text  # a 民主生活会 has no such section


def test_header_rows_repeat_and_headings_keep_with_tables(pdfs):
    for docx in pdfs:
        doc = Document(docx)
        for table in doc.tables:
            assert table.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None, docx
            before = table._tbl.getprevious()
            if before is not None and before.tag == f"{W}p" and "".join(before.itertext()).strip():
                assert before.find(f"{W}pPr/{W}keepNext") is not None, (docx, "".join(before.itertext()))


def _pages(pdf) -> list[list[str]]:
    """Each page's non-blank lines (pdftotext, layout kept)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in text.split("\f")[:-1]]


def test_every_page_is_numbered_odd_right_even_left(pdfs):
    """GB/T 9704 7.5: "— N —" under the type area of every page, the first too; odd pages right, even left."""
    for pdf in pdfs.values():
        pages = _pages(pdf)
        assert pages, pdf
        words = etree.fromstring(subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True)
                                 .stdout.replace(b"<!DOCTYPE", b"<!-- ").replace(b'.dtd">', b'.dtd -->'),
                                 etree.XMLParser(recover=True))
        boxes = [p for p in words.iter() if p.tag.endswith("page")]
        for number, (lines, box) in enumerate(zip(pages, boxes), start=1):
            assert PAGE_NUMBER.match(lines[-1]) and PAGE_NUMBER.match(lines[-1])[1] == str(number), (pdf, lines[-1])
            width = float(box.get("width"))
            digits = max((w for w in box if w.tag.endswith("word") and w.text == str(number)),
                         key=lambda w: float(w.get("yMin")))  # the lowest: under the type area
            x = (float(digits.get("xMin")) + float(digits.get("xMax"))) / 2
            assert (x > width * 0.75) if number % 2 else (x < width * 0.25), (pdf, number, x, width)


def test_no_page_holds_only_the_signature(pdfs):
    """The 落款 (name and date) is kept with the text above it: no page carries it alone."""
    for docx, pdf in pdfs.items():
        lines = [line.strip() for p in Document(docx).paragraphs for line in p.text.split("\n") if line.strip()]
        if not CN_DATE.fullmatch(lines[-1]):  # the ballot has no 落款
            continue
        signature = set(lines[-2:])  # name and date
        for number, lines in enumerate(_pages(pdf), start=1):
            text = [line for line in lines if not PAGE_NUMBER.match(line)]
            assert not set(text) <= {CN_DATE.sub(lambda m: f"{m[1]} 年 {m[2]} 月 {m[3]} 日", s) for s in signature} | \
                signature, (pdf, number, text)


# ---- typesetting as printed ----------------------------------------------------------------------------------------

def _glyphs(line: str) -> str:
    return re.sub(r"\s+", "", line)  # pdftotext spaces out Chinese beside digits


def test_titles_print_on_the_lines_they_were_given(pdfs):
    """No renderer adds a break to a title (each line fits), so none ends in one character alone."""
    for docx, pdf in pdfs.items():
        wanted = [_glyphs(line) for line in Document(docx).paragraphs[0].text.split("\n")]
        printed = [_glyphs(line) for line in _pages(pdf)[0][:len(wanted)]]
        assert printed == wanted, (pdf.name, printed)
        assert all(len(line) > 1 for line in printed), (pdf.name, printed)


def test_body_lines_hold_28_characters(pdfs):
    """GB/T 9704: 28 characters of 三号 a line (LibreOffice once set 27); the notice is body text only.

    A line counts from the type area's left edge, so a paragraph's first line holds its two-character indent and
    26 glyphs: whatever the demo's words are, the widest line of Chinese text is 28 characters."""
    widest = 0
    for docx, pdf in pdfs.items():
        if "会议通知" not in pdf.name:
            continue
        layout = etree.fromstring(subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True)
                                  .stdout.replace(b"<!DOCTYPE", b"<!-- ").replace(b'.dtd">', b'.dtd -->'),
                                  etree.XMLParser(recover=True))
        for page in (p for p in layout.iter() if p.tag.endswith("page")):
            lines = [(float(line.get("xMin")), float(line.get("xMax")),
                      "".join(w.text or "" for w in line if w.tag.endswith("word")))
                     for line in page.iter() if line.tag.endswith("line")]
            left = min(x for x, _, text in lines if not PAGE_NUMBER.match(text))  # "— N —" sits apart
            for x_min, x_max, text in lines:
                if re.fullmatch(r"[\u3000-\u9fff\uff00-\uffef]+", text):
                    pitch = (x_max - x_min) / len(text)
                    widest = max(widest, round((x_min - left) / pitch) + len(text))
    assert widest == 28


def test_headings_and_body_stay_apart_without_the_gb2312_faces(pdfs):
    """With only Noto CJK installed, fonts.conf gives the body and title a serif and the headings a sans face."""
    for docx, pdf in pdfs.items():
        if "会议情况报告" in pdf.name:
            faces = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
            assert "NotoSerifCJK" in faces and "NotoSansCJK" in faces, (pdf.name, faces)


def test_no_date_is_broken_in_subtitles_or_date_columns(pdfs):
    """Every year printed in a 整改清单 or 测评表 (subtitle, 时限, 完成情况, 落款) has its month and day on its line;
    in a report, every row of the 整改 table does."""
    year = re.compile(r"\d{4}年(?!度)(?!\d{1,2}月\d{1,2}日)")
    for docx, pdf in pdfs.items():
        lines = [_glyphs(line) for page in _pages(pdf) for line in page]
        if "会议情况报告" in pdf.name:
            lines = [line for line in lines if re.search("未完成|已完成|已销号", line)]
        elif not ("整改清单" in pdf.name or "民主测评表" in pdf.name):
            continue
        assert not [line for line in lines if year.search(line)], pdf.name
