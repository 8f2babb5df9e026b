"""The HTML that needs the rules: the coverage matrices (talks, criticism stages) and severity badges, which reports
and the forms' guidance both show. The plain building blocks (tables, sections, ``Html``) are ``present.html``'s.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from ..present.html import assemble, cell_texts, esc

# A member × member matrix prints with one-character columns under vertical names. Up to PORTRAIT_COLUMNS people
# fit a portrait A4 page; a wider one goes on landscape pages, split into tables of at most LANDSCAPE_COLUMNS
# columns. Never wider than the page: Chromium would shrink the whole document to fit it.
PORTRAIT_COLUMNS = 24
LANDSCAPE_COLUMNS = 36


def landscape(people: int) -> bool:
    """Whether a matrix over ``people`` prints on landscape pages."""
    return people > PORTRAIT_COLUMNS


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
    columns = [cell_texts(shown[:, position].tolist(), esc) for position in range(len(labels))]
    rows = cell_texts(labels, esc)
    count = len(labels)
    parts = math.ceil(count / LANDSCAPE_COLUMNS) if landscape(count) else 1
    size = math.ceil(count / parts)  # balanced: 40 people give two tables of 20, not 36 and 4
    out = []
    for start in range(0, count, size):
        end = min(count, start + size)
        if parts > 1:
            out.append(f'<p class="matrix-part">{esc(f"第 {start + 1}–{end} 列（共 {count} 列）")}</p>')
        out.append(assemble([axis, *labels[start:end]], rows, columns[start:end], css[:, start:end], matrix=True))
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


def severity_badge(severity: str) -> str:
    from ..rules.registry import SEVERITY_LABELS

    label = SEVERITY_LABELS.get(severity, severity)
    return f'<span class="sev-{esc(severity)}">{esc(label)}</span>'
