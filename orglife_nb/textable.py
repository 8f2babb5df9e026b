"""Text for confined spaces: clipping to display columns (CJK characters take two), and terminal tables (rich)
that fit the terminal width."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


class _Widths(dict):
    """Character → columns, each character worked out once (a 10,000-branch check prints 39 million characters)."""

    def __missing__(self, char: str) -> int:
        width = self[char] = _char_width(char)
        return width


_WIDTHS = _Widths()


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters count 2, combining marks 0."""
    if text.isascii():  # no ASCII character is wide or combining
        return len(text)
    return sum(map(_WIDTHS.__getitem__, text))


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


def plain(headers: Sequence[str], rows: Iterable[Sequence[object]], *, indent: int = 0, header: bool = True,
          min_widths: Sequence[int] = (), gap: str = "  ") -> str:
    """Left-aligned columns without wrapping (the last column runs on): the fast table for files, pipes and long
    lists, where rich's layout would cost seconds per thousand rows and nobody reads at a terminal's width."""
    body = [["" if cell is None else str(cell) for cell in row] for row in rows]
    sizes = [[display_width(cell) for cell in row[:-1]] for row in body]  # the last column is not padded
    widths = [max(display_width(h) if header else 0, min_widths[n] if n < len(min_widths) else 0)
              for n, h in enumerate(headers)]
    for row in sizes:
        widths = [max(w, size) for w, size in zip(widths, row)] + widths[len(row):]
    widths[-1] = 0

    def line(cells, cell_sizes) -> str:
        cells = list(cells)[:len(widths)]
        padded = [cell + " " * max(0, w - size) for cell, size, w in zip(cells, cell_sizes, widths)]
        return (" " * indent + gap.join(padded + list(cells[len(padded):]))).rstrip()

    lines = [line(headers, [display_width(h) for h in headers[:-1]]),
             " " * indent + gap.join("─" * max(w, 4) for w in widths)] if header else []
    return "\n".join(lines + [line(row, row_sizes) for row, row_sizes in zip(body, sizes)])


def terminal_width() -> int:
    """Columns of the terminal the output goes to (``COLUMNS`` when set); 100 when it is not a terminal."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


@lru_cache(maxsize=4)
def _console(width: int):
    """A plain-text rich console of ``width`` columns (made once: ``check`` prints a table per meeting)."""
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, highlight=False,
                   emoji=False, markup=False, soft_wrap=False)


def render(headers: Sequence[str], rows: Iterable[Sequence[object]], *, nowrap: Iterable[int] = (),
           width: int | None = None, indent: int = 0, header: bool = True,
           min_widths: Sequence[int] = ()) -> str:
    """A plain-text table (rich) that fits ``width`` (default: the terminal) after ``indent`` spaces: columns wrap
    their text (CJK counted two columns wide), except those in ``nowrap`` (ids, dates); the header (unless
    ``header`` is false) with a rule under it; None shows as empty. ``min_widths`` (display columns, by position)
    lines up the columns of several tables printed one after another."""
    from rich import box
    from rich.table import Table

    keep = set(nowrap)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), header_style="",
                  expand=False, show_header=header)
    for position, title in enumerate(headers):
        least = min_widths[position] if position < len(min_widths) else None
        table.add_column(title, no_wrap=position in keep, overflow="fold", min_width=least)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console = _console(max(20, (width or terminal_width()) - indent))
    with console.capture() as captured:
        console.print(table)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    return "\n".join(" " * indent + line if line else line for line in lines)
