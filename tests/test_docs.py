"""The documentation builds with warnings as errors, and its generated references cover the registry and the models."""
from __future__ import annotations

import importlib.util
import io
import os
import tomllib
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from orglife_nb.models import RECORDS, fields_of
from orglife_nb.rules import RULES

ROOT = Path(__file__).resolve().parents[1]
BUILD_PACKAGES = {"sphinx": "sphinx", "myst-parser": "myst_parser", "pydata-sphinx-theme": "pydata_sphinx_theme"}


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """``sphinx-build -W --keep-going -b html docs OUT``, run in this process (no second interpreter to start)."""
    absent = [name for name, module in BUILD_PACKAGES.items() if importlib.util.find_spec(module) is None]
    if absent:
        if os.environ.get("CI"):
            pytest.fail(f"CI 必须构建文档，但没有安装：{'、'.join(absent)}（pip install -e \".[test]\"）")
        pytest.skip(f"documentation build packages not installed: {', '.join(absent)} (pip install -e \".[docs]\")")
    from sphinx.cmd.build import build_main

    out = tmp_path_factory.mktemp("docs-html")
    doctrees = tmp_path_factory.mktemp("docs-doctrees")
    log = io.StringIO()
    # myst-parser's own deprecation notices about Sphinx's API are not this project's to fix: kept out of the report
    with redirect_stdout(log), redirect_stderr(log), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        code = build_main(["-W", "--keep-going", "-b", "html", "-d", str(doctrees), str(ROOT / "docs"), str(out)])
    assert code == 0, log.getvalue()[-5000:]
    return out


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_rule_reference_lists_every_registered_rule_in_catalogue_order(html):
    page = _soup(html / "reference" / "rules.html")
    first_cells = [row.find("td").get_text(strip=True) for row in page.select("article table tbody tr")]
    listed = [cell for cell in first_cells if cell in {r.id for r in RULES}]
    assert listed == [r.id for r in RULES]
    text = page.get_text()
    for rule in RULES:  # the row carries the rule's title and source as `orglife rules` prints them
        assert rule.title in text and rule.source in text


def test_workbook_reference_has_every_sheet_and_its_columns(html):
    page = _soup(html / "reference" / "workbook.html")
    headings = [h.get_text(strip=True).rstrip("#") for h in page.select("article section > h2")]
    assert headings == [record.sheet for record in RECORDS]
    for section, record in zip(page.select("article section:has(> h2)"), RECORDS):
        columns = [row.find("td").get_text(strip=True) for row in section.select("table tbody tr")]
        assert columns == [spec.header for spec in fields_of(record)], record.sheet


def test_the_index_leads_to_every_role_guide_and_the_spec_copies(html):
    links = {a["href"] for a in _soup(html / "index.html").select("article a[href]")}
    for page in ("guide/secretary", "guide/superior", "guide/analyst", "guide/admin", "reference/rules",
                 "reference/workbook", "architecture", "spec/index"):
        assert f"{page}.html" in links and (html / f"{page}.html").exists()
    for spec in ("rules", "workbook", "interfaces", "architecture"):
        assert (html / "spec" / f"{spec}.html").exists()


def test_the_test_extra_brings_the_docs_build_packages():
    """CI installs the test extra (README command 2): it must hold everything the docs extra needs."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert set(extras["docs"]) <= set(extras["test"])
    assert {requirement.split(">")[0] for requirement in extras["docs"]} == set(BUILD_PACKAGES)


def test_readme_points_into_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "docs/spec" in readme


def test_a_wrapped_chinese_line_joins_without_a_space(html):
    """Markdown makes a wrapped line's break a space: between two Chinese characters it is dropped (docs/_ext/
    cjk_breaks.py), beside a Latin word it stays, and a code block keeps its lines."""
    source = (ROOT / "docs" / "guide" / "secretary.md").read_text(encoding="utf-8")
    assert "即可。\n各工作表" in source  # the guide wraps this sentence in its source
    page = _soup(html / "guide" / "secretary.html")
    text = page.select_one("article").get_text()
    assert "即可。各工作表" in text and "即可。 各工作表" not in text
    block = page.select_one("article pre").get_text()
    assert "\norglife import" in block
    spec = _soup(html / "spec" / "workbook.html").select_one("article").get_text()
    assert "回应摘要For" not in spec
