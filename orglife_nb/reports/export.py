"""Executed report notebooks → print-ready HTML (our nbconvert template) → PDF (system Chromium).

Stock ``nbconvert --to webpdf`` wants Playwright's own Chromium download, which these machines cannot fetch; the
exported HTML is printed with Playwright driving the Debian ``chromium`` instead.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..browser import chromium_page
from ..outputs import replacing
from ..resources import templates

TEMPLATES = templates()
REPORT_TEMPLATE = "report"

# Chromium draws the footer at the size given (8px printed as 6 pt): 9 pt reads at print size
PDF_FOOTER = ('<div style="width:100%;font-size:9pt;color:#59636e;text-align:center;'
              'font-family:\'Noto Sans CJK SC\',sans-serif;">第 <span class="pageNumber"></span> 页 / '
              '共 <span class="totalPages"></span> 页</div>')


def report_exporter_class():
    """``HTMLExporter`` without its closing BeautifulSoup pass.

    Stock ``HTMLExporter.from_notebook_node`` re-parses the finished page to make notebook input/output areas
    keyboard-focusable and to give ``<img>`` without ``alt`` a placeholder. A report is read and printed, not
    navigated cell by cell, and its charts are inline SVG; that pass was 0.2 s of a 0.25 s export (it walks every
    table cell and SVG path). Everything else is the stock exporter: same template, filters and preprocessors.
    nbconvert has no option or hook for that pass (it is inside the method), so the method's head is copied:
    tests/test_upstream.py fails when the stock method changes; pyproject.toml pins nbconvert to the tested minor.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


@lru_cache(maxsize=1)
def html_exporter():
    """One configured exporter per process: building it (template lookup, Jinja env) costs more than using it."""
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = report_exporter_class()(template_name=REPORT_TEMPLATE, extra_template_basedirs=[str(TEMPLATES)])
    # the notebooks' explanatory markdown is for people opening them in JupyterLab, not for the report
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
    exporter.language_code = "zh-CN"  # <html lang>: Chinese line breaking and font selection
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def notebook_to_html(notebook) -> str:
    title = report_title(notebook)
    if title:
        notebook.metadata["title"] = title  # the page's <title>, and the PDF's
    body, _ = html_exporter().from_notebook_node(notebook)
    return body


def report_title(notebook) -> str | None:
    """The title the report's header gave (``html.Html(title=…)``), e.g. the branch's name and the audience's."""
    from ..present.html import TITLE_KEY

    for cell in notebook.cells:
        for output in cell.get("outputs", ()):
            title = output.get("metadata", {}).get(TITLE_KEY)
            if title:
                return str(title)
    return None


PDF_TIMEOUT = 120  # seconds Chromium may take to load one report before its PDF counts as failed


def print_pdf(page, html_path: Path, pdf_path: Path, timeout: float = PDF_TIMEOUT) -> None:
    page.goto(html_path.resolve().as_uri(), wait_until="load", timeout=timeout * 1000)
    with replacing(pdf_path) as temp:  # never leave a half-written PDF under the final name
        # the CSS page size wins: sections with wide matrices print on landscape pages (report.css @page wide)
        page.pdf(path=str(temp), format="A4", prefer_css_page_size=True, print_background=True,
                 display_header_footer=True,
                 header_template="<span></span>", footer_template=PDF_FOOTER,
                 margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})


def _reason(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:300]


def print_pdfs(pairs: Iterable[tuple[Path, Path]], timeout: float = PDF_TIMEOUT) -> dict[Path, str]:
    """Print each HTML file to its PDF with one browser; returns HTML path → why, for each PDF that failed.

    One failure (a page too slow to load, a full disk) costs only its own PDF: the page is replaced and the rest
    are printed. A browser that will not start raises. Runs in a thread of its own: Playwright's sync API refuses a
    thread whose asyncio loop is running (a Jupyter kernel, or a test session where pytest-playwright already drives
    a browser).
    """
    from concurrent.futures import ThreadPoolExecutor

    pairs = list(pairs)

    def print_all() -> dict[Path, str]:
        failed: dict[Path, str] = {}
        with chromium_page() as page:
            for html_path, pdf_path in pairs:
                try:
                    print_pdf(page, html_path, pdf_path, timeout)
                except Exception as error:  # noqa: BLE001 - recorded for this report; the others go on
                    failed[html_path] = _reason(error)
                    page = _fresh_page(page)
        return failed

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(print_all).result()


def _fresh_page(page):
    """A new page in the same browser, for the PDFs after a failed one (that page may be stuck loading)."""
    browser = page.context.browser
    try:
        page.close()
    except Exception:  # noqa: BLE001 - a crashed page cannot be closed; the new one is what matters
        pass
    return browser.new_page()


def html_to_pdf(pairs: Iterable[tuple[Path, Path]]) -> None:
    """Print each HTML file to its PDF; OrglifeError naming the first that failed."""
    from ..errors import OrglifeError

    failed = print_pdfs(pairs)
    if failed:
        path, why = next(iter(failed.items()))
        raise OrglifeError(f"无法打印 PDF {path.with_suffix('.pdf')}：{why}")
