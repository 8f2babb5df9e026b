"""Plain-text tables for the terminal that stay aligned with Chinese text (CJK characters take two columns)."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters count 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def render(headers: Sequence[str], rows: Iterable[Sequence[object]], gap: str = "  ") -> str:
    """Left-aligned columns, a rule under the header; None shows as an empty cell."""
    body = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in body:
        widths = [max(w, display_width(cell)) for w, cell in zip(widths, row)]
    lines = [gap.join(pad(h, w) for h, w in zip(headers, widths)).rstrip(),
             gap.join("─" * w for w in widths)]
    lines += [gap.join(pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in body]
    return "\n".join(lines)
