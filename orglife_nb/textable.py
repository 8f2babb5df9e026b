"""Plain-text tables for the terminal that stay aligned with Chinese text (CJK characters take two columns)."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters count 2, combining marks 0."""
    return sum(map(_char_width, text))


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` display columns, an ellipsis marking the cut.

    The one bound on user text shown in a confined space (chart labels and titles, report headings and cells):
    a 10,000-character name costs as much as a 12-character one. Only the first ``width`` characters are looked
    at (none can take less than one column, combining marks aside)."""
    if len(text) * 2 <= width:  # even if every character were wide it fits
        return text
    head = text[:width + 1]
    if len(text) <= width and display_width(head) <= width:
        return text
    kept, used = [], 0
    for char in head:
        used += _char_width(char)
        if used > width - 1:  # one column for the ellipsis
            break
        kept.append(char)
    if len(kept) == len(text):
        return text
    return "".join(kept) + "…"


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
