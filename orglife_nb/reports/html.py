"""Small HTML building blocks for reports. Every piece of user text goes through ``esc``: nothing is trusted.

Free text is shown up to a bound (``textable.clip``): a report is an overview, the full text stays in the store and
the workbook. A topic of 32,767 characters (the most a workbook cell holds) then prints like any other, and one
long text cannot grow a report by megabytes each time it is shown (headings repeat a meeting's topic).
"""
from __future__ import annotations

import math
import re
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..textable import clip
from ..present.html import esc

CELL_WIDTH = 2000  # display columns of free text in a table cell or reading (about 1,000 Chinese characters)
HEADING_WIDTH = 120  # of a section heading (two lines of an A4 page)
# A member × member matrix prints with one-character columns under vertical names. Up to PORTRAIT_COLUMNS people
# fit a portrait A4 page; a wider one goes on landscape pages, split into tables of at most LANDSCAPE_COLUMNS
# columns. Never wider than the page: Chromium would shrink the whole document to fit it.
PORTRAIT_COLUMNS = 24
LANDSCAPE_COLUMNS = 36


def landscape(people: int) -> bool:
    """Whether a matrix over ``people`` prints on landscape pages."""
    return people > PORTRAIT_COLUMNS


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
    columns = [_texts(frame.iloc[:, position].tolist(), formatters.get(name, text_cell))
               for position, name in enumerate(frame.columns)]
    labels = _texts(frame.index.tolist(), text_cell) if index else None
    return _assemble(head, labels, columns, classes.to_numpy() if classes is not None else None)


def _texts(values: list, formatter: Callable[[object], str]) -> list[str]:
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


def _assemble(head: list, labels: list[str] | None, columns: list[list[str]], css, matrix: bool = False) -> str:
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


def coverage_table(marks: pd.DataFrame, missing: pd.DataFrame, axis: str, name: Callable[[object], str],
                   pending: bool = False) -> str:
    """A member × member matrix (reports, forms) with names, missing pairs shown as “缺” and highlighted; with
    ``pending`` (a planned meeting) as “待”, not highlighted."""
    labels = [name(m) for m in marks.index]
    if not labels:
        return f'<p class="empty">{esc("（无）")}</p>'
    gaps = missing.to_numpy(dtype=bool)
    shown = np.where(gaps, "待" if pending else "缺", marks.to_numpy(dtype=object))
    css = np.where(gaps, "pending" if pending else "missing", "")
    columns = [_texts(shown[:, position].tolist(), esc) for position in range(len(labels))]
    rows = _texts(labels, esc)
    count = len(labels)
    parts = math.ceil(count / LANDSCAPE_COLUMNS) if landscape(count) else 1
    size = math.ceil(count / parts)  # balanced: 40 people give two tables of 20, not 36 and 4
    out = []
    for start in range(0, count, size):
        end = min(count, start + size)
        if parts > 1:
            out.append(f'<p class="matrix-part">{esc(f"第 {start + 1}–{end} 列（共 {count} 列）")}</p>')
        out.append(_assemble([axis, *labels[start:end]], rows, columns[start:end], css[:, start:end], matrix=True))
    return "".join(out)


def talk_coverage_table(ctx, meeting_id: str, name: Callable[[object], str]) -> tuple[str, int, int]:
    """A meeting's talk coverage as a table (✓ talked, “缺” missing; a talk covers both ways), the number of
    pairs missing and the number still to do: what a report section and the forms' guidance show. Before a
    planned meeting (after as_of) nothing is missing yet: its open pairs are “待” (pending), not red."""
    from ..rules.coverage import talk_matrix

    talked, missing = talk_matrix(ctx, meeting_id)
    marks = talked.replace({True: "✓", False: ""})
    planned = is_planned(ctx, meeting_id)
    gaps = int(missing.to_numpy().sum()) // 2
    table_html = coverage_table(marks, missing, "谈话双方", name, pending=planned)
    return (table_html, 0, gaps) if planned else (table_html, gaps, 0)


def is_planned(ctx, meeting_id: str) -> bool:
    """The meeting is after the context's as_of (``facts.is_held`` decided it in ``ctx.meetings``)."""
    planned = ctx.memo("planned meetings", lambda: set(ctx.meetings.meeting_id[~ctx.meetings.held].astype(str)))
    return str(meeting_id) in planned


def criticism_coverage_tables(ctx, meeting_id: str, name: Callable[[object], str]) -> list[tuple[object, str, int]]:
    """(stage, table, items missing) for each criticism stage the meeting has records or needs at; marks are
    自/批/表."""
    from ..models import CriticismStage
    from ..rules.coverage import criticism_matrix

    out = []
    for stage in CriticismStage:
        marks, missing = criticism_matrix(ctx, meeting_id, stage.value)
        if marks is not None:
            out.append((stage, coverage_table(marks, missing, "发言人 → 对象", name), int(missing.to_numpy().sum())))
    return out


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


def severity_badge(severity: str) -> str:
    from ..rules.registry import SEVERITY_LABELS

    label = SEVERITY_LABELS.get(severity, severity)
    return f'<span class="sev-{esc(severity)}">{esc(label)}</span>'


def join(parts: Iterable[str]) -> str:
    return "".join(parts)
