"""Printed reports (Chromium PDF) of a 5-member and a 30-member branch: body text at one size, wide matrices on
landscape pages, no page that holds only a heading."""
from __future__ import annotations

import html as html_module
import random
import re
import shutil
import subprocess
from collections import Counter

import pytest

from orglife_nb import demo
from orglife_nb.store import Store

SIZES = {"B005": 5, "B030": 30}
pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) 未安装")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    from orglife_nb.reports.runner import run_reports

    root = tmp_path_factory.mktemp("print")
    rows: dict = {}
    for branch_id, size in SIZES.items():
        plan = demo.BranchPlan(branch_id, "organ", size, True, True, name=f"{size}人支部")
        demo.merge(rows, demo.branch_rows(plan, random.Random(branch_id), demo.DEMO_AS_OF))
    url = f"sqlite:///{root / 'store.db'}"
    with Store(url) as store:
        store.save(demo.to_batch(rows))
    runs = {audience: run_reports(url, as_of=demo.DEMO_AS_OF, out=root / audience, audience=audience, pdf=True,
                                  progress=False, echo=lambda _: None)
            for audience in ("internal", "public")}
    assert all(run.failed == 0 for run in runs.values())
    return {audience: run.out for audience, run in runs.items()}


def _pdfs(printed):
    for out in printed.values():
        yield from sorted((out / "branches").glob("*.pdf"))
        yield out / "summary.pdf"


def _word_heights(pdf) -> Counter:
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return Counter(round(float(y1) - float(y0), 1)
                   for y0, y1 in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', bbox))


def test_body_text_prints_at_one_size_whatever_the_branch_size(printed):
    out = printed["internal"] / "branches"
    small, large = (_word_heights(out / f"{branch}.pdf").most_common(1)[0][0] for branch in SIZES)
    # before: Chromium shrank a report whose matrices were wider than A4 (20 members printed at ~67 %)
    assert small == large


def test_wide_matrices_print_on_landscape_pages(printed):
    def orientations(pdf) -> set[str]:
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        return {"landscape" if float(w) > float(h) else "portrait"
                for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)}

    out = printed["internal"] / "branches"
    assert orientations(out / "B005.pdf") == {"portrait"}
    assert orientations(out / "B030.pdf") == {"portrait", "landscape"}


def _headings(html: str) -> list[str]:
    found = re.findall(r'<(h[1-4])[^>]*>(.*?)</\1>|class="(?:report-title|matrix-part)">(.*?)</', html, re.S)
    texts = [html_module.unescape(re.sub(r"<[^>]+>", "", a or b)) for _, a, b in found]
    return sorted({re.sub(r"\s+", "", text) for text in texts if text.strip()}, key=len, reverse=True)


def test_no_page_but_the_last_holds_only_a_heading(printed):
    for pdf in _pdfs(printed):
        headings = _headings(pdf.with_suffix(".html").read_text(encoding="utf-8"))
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        pages = text.split("\f")[:-1]
        assert len(pages) > 1 or pdf.name == "summary.pdf"
        for number, page in enumerate(pages[:-1], 1):
            rest = re.sub(r"\s+", "", page)
            rest = re.sub(r"第\d+页/共\d+页", "", rest)
            for heading in headings:
                rest = rest.replace(heading, "")
            assert rest, f"{pdf.name} 第 {number} 页只有标题"


def test_pages_and_pdfs_are_titled_with_the_branch_and_audience(printed):
    for audience, kind in (("internal", "组织生活会情况报告"), ("public", "公示信息")):
        page = printed[audience] / "branches" / "B005.html"
        assert f"<title>5人支部 {kind}</title>" in page.read_text(encoding="utf-8")
        info = subprocess.run(["pdfinfo", str(page.with_suffix(".pdf"))], capture_output=True, text=True).stdout
        assert re.search(rf"^Title:\s+5人支部 {kind}$", info, re.M)
    summary = (printed["public"] / "summary.html").read_text(encoding="utf-8")
    assert "<title>组织生活会汇总报告（公示）</title>" in summary


@pytest.mark.parametrize("people, tables", [(20, 1), (30, 1), (40, 2), (80, 3)])
def test_a_wide_matrix_is_split_into_balanced_tables(people, tables):
    import numpy as np
    import pandas as pd

    from orglife_nb.reports.html import LANDSCAPE_COLUMNS, coverage_table

    ids = [f"M{i:02d}" for i in range(people)]
    marks = pd.DataFrame("✓", index=ids, columns=ids)
    missing = pd.DataFrame(np.eye(people, dtype=bool), index=ids, columns=ids)
    html = coverage_table(marks, missing, "谈话双方", str)
    heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", html)
    widths = [head.count('<span class="vertical">') for head in heads]
    assert len(heads) == tables and sum(widths) == people and max(widths) <= LANDSCAPE_COLUMNS
    assert max(widths) - min(widths) <= 1  # balanced
    assert html.count("<tr><th>M00</th>") == tables  # every part keeps the row names
    assert html.count('class="missing"') == people


def _captions(html: str) -> list[str]:
    """What a reader takes for a chart's caption: its figcaption, or a subsection heading right above it."""
    found = re.findall(r"<figure><figcaption>([^<]*)</figcaption>|<h3>([^<]*)</h3><figure>", html)
    return [re.sub(r"\s+", "", html_module.unescape(a or b)) for a, b in found]


def test_a_chart_prints_on_the_page_of_its_caption(printed):
    """Caption and chart are one block: never a caption (or its first line) at a page's foot and its chart on the
    next page (before: a vote chart moved on, leaving its caption and half a page empty)."""
    checked = 0
    for pdf in _pdfs(printed):
        captions = _captions(pdf.with_suffix(".html").read_text(encoding="utf-8"))
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        pages = [re.sub(r"第\d+页/共\d+页", "", re.sub(r"\s+", "", page)) for page in text.split("\f")[:-1]]
        for number, page in enumerate(pages, 1):
            for caption in captions:
                assert not any(page.endswith(caption[:end]) for end in range(8, len(caption) + 1)), \
                    f"{pdf.name} 第 {number} 页以图题（或其开头）结束，图在下一页"
                if caption in page:  # the chart's own text (its axis title) follows its caption on the same page
                    assert "票数" in page.split(caption, 1)[1], f"{pdf.name} 第 {number} 页只有图题"
                    checked += 1
    assert checked >= 2  # both branches' vote charts (the internal report shows them)


PHONES = (360, 390)


@pytest.mark.parametrize("width", PHONES)
def test_reports_do_not_scroll_sideways_on_a_phone(printed, page, width):
    """At phone width the page itself never scrolls sideways: wide tables (matrices, timelines) scroll in their own
    box, and text columns keep a few characters each instead of shrinking to one."""
    out = printed["internal"]
    page.set_viewport_size({"width": width, "height": 800})
    for path in (out / "branches" / "B030.html", out / "branches" / "B005.html", out / "summary.html",
                 printed["public"] / "summary.html"):
        page.goto(path.as_uri(), wait_until="load")
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, (path.name, width, scroll, client)
        narrowest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('table:not(.matrix) td')]
            .map(td => td.getBoundingClientRect().width / parseFloat(getComputedStyle(td).fontSize)))""")
        assert narrowest >= 4, (path.name, width, narrowest)  # ems: about four characters


def test_a_printed_chart_with_its_caption_takes_at_most_half_a_page(printed, page):
    """So it fits wherever half a page is left, and a page never ends above half its height to make room for it
    (before: the 30-member vote chart printed 240 mm tall and moved whole to the next page)."""
    page.emulate_media(media="print")
    page.goto((printed["internal"] / "branches" / "B030.html").as_uri(), wait_until="load")
    heights = page.evaluate("""() => [...document.querySelectorAll('figure')].map(figure => {
        const probe = document.createElement('div');
        probe.style.height = '132mm';  // half the A4 body (297 mm less 2 × 16 mm margins)
        document.body.appendChild(probe);
        const half = probe.getBoundingClientRect().height;
        probe.remove();
        return figure.getBoundingClientRect().height / half;
    })""")
    assert len(heights) >= 2 and max(heights) <= 1, heights


def test_page_footers_print_at_8_points_or_more(printed):
    """The "第 N 页 / 共 M 页" line Chromium draws under each page (before: 6 pt)."""
    for pdf in _pdfs(printed):
        bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        footers = [float(x1) - float(x0) for x0, x1 in
                   re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">第</word>', bbox)]
        assert footers and min(footers) >= 8, (pdf.name, min(footers or [0]))  # a Chinese glyph is 1 em wide


def test_names_in_a_matrix_are_never_broken(page):
    """A name, with the id that tells namesakes apart, stays on one line (rows) or in one upright column (header),
    on screen and in print (before: 欧阳建国（B001-03） wrapped inside the row header's 8 em)."""
    import pandas as pd

    from orglife_nb.reports.html import coverage_table
    from orglife_nb.resources import templates

    ids = [f"M{i}" for i in range(24)]
    names = {m: (f"欧阳建国（B001-{i:02d}）" if i % 3 == 0 else "司马相如" if i % 3 == 1 else "田明")
             for i, m in enumerate(ids)}
    matrix = coverage_table(pd.DataFrame("批", index=ids, columns=ids), pd.DataFrame(False, index=ids, columns=ids),
                            "发言人 → 对象", names.get)
    css = (templates() / "report" / "report.css").read_text(encoding="utf-8")
    page.set_content(f'<html lang="zh-CN"><head><meta charset="utf-8"><style>{css}</style></head>'
                     f'<body class="orglife-report">{matrix}</body></html>')
    for media, width in (("screen", 1200), ("screen", 390), ("print", 800)):
        page.emulate_media(media=media)
        page.set_viewport_size({"width": width, "height": 800})
        broken = page.evaluate("""() => [...document.querySelectorAll('table.matrix th')].filter(th => {
            const host = th.querySelector('.vertical') || th;
            const vertical = getComputedStyle(host).writingMode.startsWith('vertical');
            const walker = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
            const lines = new Set();
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (let i = 0; i < node.length; i++) {
                const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                const b = r.getBoundingClientRect();
                if (b.width > 0) lines.add(Math.round(vertical ? b.left : b.top));
              }
            }
            return lines.size > 1; }).map(th => th.textContent)""")
        assert broken == [], (media, width, broken)
