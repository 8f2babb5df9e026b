"""Sphinx configuration of the orglife-nb documentation (Markdown pages through MyST, as Jupyter projects do).

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (tests/test_docs.py does the same).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the package of this checkout, installed or not

project = "orglife-nb"
author = "orglife-nb"
copyright = "orglife-nb"
language = "zh_CN"

extensions = ["myst_parser", "orglife_reference", "cjk_breaks"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # `[…](page.md#标题)` links to a section by its heading

# pydata-sphinx-theme: the theme of the JupyterHub, Jupyter Server and JupyterLab documentation, so a maintainer
# coming from them finds the same layout; it keeps the page table of contents on wide screens and folds the
# navigation into a menu on a phone, and ships its icons and scripts itself (no outside requests).
html_theme = "pydata_sphinx_theme"
html_title = "orglife-nb 文档"
html_static_path = ["_static"]
html_css_files = ["cjk.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
# without the theme's "Collapse Sidebar" button: its label has no Chinese translation
# the two generated references are wide tables: they take the navigation column's room (the header links remain)
html_sidebars = {"**": ["sidebar-nav-bs"], "reference/rules": [], "reference/workbook": []}
html_show_sourcelink = False
