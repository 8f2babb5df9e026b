"""Escaping for every piece of text a person's page shows (reports, forms, training, login and vote pages), and the
plain HTML building blocks they share: ``Html``, tables, sections, figures. Every piece of user text goes through
``esc``: nothing is trusted.

Free text is shown up to a bound (``textable.clip``): a report is an overview, the full text stays in the store and
the workbook. A topic of 32,767 characters (the most a workbook cell holds) then prints like any other, and one
long text cannot grow a report by megabytes each time it is shown (headings repeat a meeting's topic).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Callable, Iterable

import pandas as pd

from ..textable import clip
from .values import missing

CELL_WIDTH = 2000  # display columns of free text in a table cell or reading (about 1,000 Chinese characters)
HEADING_WIDTH = 120  # of a section heading (two lines of an A4 page)


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context; missing values show as an empty string."""
    if missing(value):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.date()
    return html.escape(str(value), quote=True)


TITLE_KEY = "orglife/title"  # output metadata: the report's title, which the exported page's <title> takes


class Html:
    """Rendered HTML that Jupyter displays as ``text/html`` (and nothing else: no text/plain fallback noise);
    ``title`` marks a report header, whose title names the exported page (and so its PDF)."""

    def __init__(self, markup: str, title: str | None = None) -> None:
        self.markup = markup
        self.title = title

    def _repr_html_(self) -> str:
        return self.markup

    def _repr_mimebundle_(self, include=None, exclude=None):
        if self.title:
            return {"text/html": self.markup}, {TITLE_KEY: self.title}
        return {"text/html": self.markup}

    def __str__(self) -> str:
        return self.markup


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def text_cell(value: object) -> str:
    """A table cell's default HTML: escaped, free text bounded to CELL_WIDTH."""
    return esc(clip(value, CELL_WIDTH) if isinstance(value, str) else value)


def table(frame: pd.DataFrame, *, classes: pd.DataFrame | None = None, index: bool = False,
          empty: str = "（无）", formatters: dict[str, Callable[[object], str]] | None = None) -> str:
    """An escaped HTML table; ``classes`` (same shape) puts a CSS class on individual cells (e.g. 'late')."""
    if frame.empty:
        return f'<p class="empty">{esc(empty)}</p>'
    formatters = formatters or {}
    head = ([frame.index.name or ""] if index else []) + list(frame.columns)
    # column by column (one Python list per column, no row Series): reports hold hundreds of these tables
    columns = [cell_texts(frame.iloc[:, position].tolist(), formatters.get(name, text_cell))
               for position, name in enumerate(frame.columns)]
    labels = cell_texts(frame.index.tolist(), text_cell) if index else None
    return assemble(head, labels, columns, classes.to_numpy() if classes is not None else None)


def cell_texts(values: list, formatter: Callable[[object], str]) -> list[str]:
    """Each value as cell HTML; a value seen before in the column is formatted once (matrices repeat a few)."""
    seen: dict = {}
    out = []
    for value in values:
        key = (value.__class__, value)  # 1, 1.0 and True are equal keys but read differently
        try:
            text = seen[key]
        except KeyError:
            text = seen[key] = _cell_text(formatter(value))
        except TypeError:  # unhashable
            text = _cell_text(formatter(value))
        out.append(text)
    return out


def nowrap(value: object) -> str:
    """A ``table`` formatter for short cells (an id, a state) that a narrow column must not break."""
    return f'<span class="nowrap">{text_cell(value)}</span>'


def assemble(head: list, labels: list[str] | None, columns: list[list[str]], css, matrix: bool = False) -> str:
    rows = []
    for row in range(len(columns[0]) if columns else 0):
        cells = [f"<th>{labels[row]}</th>"] if labels is not None else []
        for position, column in enumerate(columns):
            extra = css[row, position] if css is not None else ""
            cells.append(f'<td class="{esc(extra)}">{column[row]}</td>' if extra else f"<td>{column[row]}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = [esc(clip(c, HEADING_WIDTH) if isinstance(c, str) else c) for c in head]
    if matrix:  # names stand upright in one narrow column each
        header[1:] = [f'<span class="vertical">{text}</span>' for text in header[1:]]
    opening = '<table class="matrix">' if matrix else "<table>"
    # in its own box: on a narrow screen a wide table scrolls there, never the page (report.css .table-box)
    return (f'<div class="table-box">{opening}<thead><tr>{"".join(f"<th>{text}</th>" for text in header)}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>")


def _cell_text(text: str) -> str:
    if len(text) == 10 and _ISO_DATE.fullmatch(text):  # a date never breaks at its hyphens in a narrow column
        return f'<span class="nowrap">{text}</span>'
    return text


def section(title: str, reading: str, *parts: str, level: int = 2, wide: bool = False) -> Html:
    """A report section: heading, a one-line reading in Chinese, then tables/charts (already HTML); ``wide`` prints
    the whole section, heading included, on landscape pages."""
    css = "section wide" if wide else "section"
    return Html(f'<section class="{css}"><h{level}>{esc(clip(title, HEADING_WIDTH))}</h{level}>'
                f'<p class="reading">{esc(clip(reading, CELL_WIDTH))}</p>{"".join(parts)}</section>')


def subsection(title: str, *parts: str) -> str:
    return f"<h3>{esc(clip(title, HEADING_WIDTH))}</h3>{''.join(parts)}"


def figure(svg: str, caption: str = "") -> str:
    """A chart under its caption, one block: printed, caption and chart stay on one page (report.css)."""
    cap = f"<figcaption>{esc(clip(caption, HEADING_WIDTH))}</figcaption>" if caption else ""
    return f"<figure>{cap}{svg}</figure>"


def join(parts: Iterable[str]) -> str:
    return "".join(parts)
