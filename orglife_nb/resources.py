"""Where the notebooks and templates live: the repository checkout (editable install), else the copies a
regular install puts under ``<prefix>/share/orglife-nb`` (pyproject's data-files)."""
from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from .errors import OrglifeError

_CHECKOUT = Path(__file__).resolve().parents[1]
_SHARED = Path(sys.prefix) / "share" / "orglife-nb"


@cache
def resource_root() -> Path:
    for root in (_CHECKOUT, _SHARED):
        if (root / "notebooks").is_dir() and (root / "templates").is_dir():
            return root
    raise OrglifeError(f"找不到 orglife-nb 的笔记本和模板（查找了 {_CHECKOUT} 和 {_SHARED}）：请重新安装本软件包")


def notebook(name: str) -> Path:
    """``notebooks/<name>`` (e.g. ``branch_report.ipynb``)."""
    return resource_root() / "notebooks" / name


def templates() -> Path:
    return resource_root() / "templates"
