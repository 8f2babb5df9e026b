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


# ---- wrapping that never breaks a date, a number and its unit, or an id --------------------------------------------

# A line may not start with these (closing marks) or end with these (opening marks): Chinese line-breaking rules.
_NO_START = set("，。、；：！？）》」』】〕〉”’…—%％,.;:!?)]}")
_NO_END = set("（《「『【〔〈“‘([{")


def _is_word_char(char: str) -> bool:
    """Characters that run together into one unbreakable word: ASCII letters, digits and joiners (dates, ids)."""
    return char.isascii() and not char.isspace()


def units(text: str) -> list[str]:
    """``text`` cut where a line may break: between two Chinese characters, at spaces; never inside an ASCII run
    (2026-12-04, B001-2026-R2, PREP-PLAN), nor between a number and the unit after it ("13 天"), nor before a
    closing or after an opening mark. Spaces stay in the units; the wrapper drops them at line ends."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if _is_word_char(char):
            j = i
            while j < n and _is_word_char(text[j]):
                j += 1
            unit = text[i:j]
            # a number keeps its unit: "13 天", "5 项"
            if unit[-1].isdigit() and j + 1 < n and text[j] == " " and not text[j + 1].isascii():
                unit, j = unit + text[j:j + 2], j + 2
            out.append(unit)
            i = j
        else:
            out.append(char)
            i += 1
    merged: list[str] = []
    for unit in out:
        if merged and (unit in _NO_START or merged[-1][-1] in _NO_END) and not unit.isspace():
            merged[-1] += unit
        else:
            merged.append(unit)
    return merged


def longest_unit(text: str) -> int:
    """Display columns of the widest piece of ``text`` that may not be broken."""
    return max((display_width(u) for u in units(text) if not u.isspace()), default=0)


def wrap(text: str, width: int, *, indent: str = "", hang: str = "") -> list[str]:
    """``text`` as lines of at most ``width`` display columns (``indent`` before the first, ``hang`` before the
    rest), broken only where ``units`` allows; a single unit wider than a line is folded as a last resort."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = indent if not lines else hang
        start = used = display_width(line)
        for unit in units(paragraph):
            size = display_width(unit)
            if unit.isspace() and used == start:
                continue  # no space at a line's start
            if used + size > width and used > start:
                lines.append(line.rstrip())
                line = hang
                start = used = display_width(hang)
                if unit.isspace():
                    continue
            while used + size > width and size > 1:  # one unit wider than a whole line: fold it
                cut = max(1, len(clip(unit, width - used + 1)) - 1)
                lines.append(line + unit[:cut])
                unit, line = unit[cut:], hang
                size, start = display_width(unit), display_width(hang)
                used = start
            line += unit
            used += size
        lines.append(line.rstrip())
    return lines


@lru_cache(maxsize=4)
def _console(width: int):
    """A plain-text rich console of ``width`` columns (made once: ``check`` prints a table per meeting)."""
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, highlight=False,
                   emoji=False, markup=False, soft_wrap=False)


def fit(lines: Iterable[str], width: int | None = None) -> str:
    """Lines of running text fitted to ``width`` (default: the terminal): a long line goes on under its own indent
    plus two, broken only where ``units`` allows (a date or "13 天" is never split by the terminal)."""
    width = width or terminal_width()
    out: list[str] = []
    for line in lines:
        lead = line[:len(line) - len(line.lstrip(" "))]
        out += wrap(line[len(lead):], width, indent=lead, hang=lead + "  ") if line.strip() else [""]
    return "\n".join(out)


GAP = 2  # spaces between two table columns
NARROWEST = 12  # a wrapping column narrower than this reads as a ribbon of characters: the rows are stacked instead


def render(headers: Sequence[str], rows: Iterable[Sequence[object]], *, nowrap: Iterable[int] = (),
           width: int | None = None, indent: int = 0, header: bool = True,
           min_widths: Sequence[int] = (), drop_empty: bool = True, stack: bool = True) -> str:
    """A plain-text table (rich) that fits ``width`` (default: the terminal) after ``indent`` spaces.

    Columns in ``nowrap`` (ids, dates) are never broken; the others wrap where Chinese text may break (``units``:
    never inside a date, a number and its unit, or an id). Columns with no value in any row are left out
    (``drop_empty``). When the columns cannot all get their unbreakable width plus a readable minimum, each row is
    printed as a block instead (``stack``): its unbroken cells on one line, the rest as 标题：内容 lines under it —
    the way a phone-width terminal is still readable. ``min_widths`` (display columns, by position) lines up the
    columns of several tables printed one after another; None shows as empty."""
    body = [["" if cell is None else str(cell) for cell in row] for row in rows]
    keep = [n for n in range(len(headers)) if not drop_empty or any(n < len(r) and r[n] for r in body)]
    headers = [headers[n] for n in keep]
    fixed = {position for position, n in enumerate(keep) if n in set(nowrap)}
    least_given = [min_widths[n] if n < len(min_widths) else 0 for n in keep]
    body = [[row[n] if n < len(row) else "" for n in keep] for row in body]
    available = max(20, (width or terminal_width()) - indent)
    widths = _widths(headers if header else [""] * len(headers), body, fixed, least_given, available)
    if widths is None:
        if stack:
            return "\n".join(" " * indent + line if line else line
                             for line in _stacked(headers, body, fixed, available))
        widths = [max(1, w) for w in _least(headers, body, fixed, least_given)]
    lines: list[str] = []
    if header:
        lines += _row_lines([wrap(title, widths[p]) for p, title in enumerate(headers)], widths)
        lines.append((" " * GAP).join("─" * w for w in widths))
    for row in body:
        lines += _row_lines([[cell] if p in fixed else wrap(cell, widths[p]) for p, cell in enumerate(row)], widths)
    return "\n".join((" " * indent + line) if line else line for line in lines)


def _row_lines(cells: list[list[str]], widths: list[int]) -> list[str]:
    """One table row of wrapped cells side by side, each padded to its column's display width."""
    height = max(len(c) for c in cells)
    out = []
    for n in range(height):
        parts = [(c[n] if n < len(c) else "") for c in cells]
        out.append((" " * GAP).join(part + " " * (widths[p] - display_width(part)) for p, part in enumerate(parts)).rstrip())
    return out


def _least(headers, body, fixed, given) -> list[int]:
    """Per column, the narrowest it may be: a fixed column its widest cell, a wrapping one its widest unbreakable
    piece (at least NARROWEST, unless nothing in it is that wide)."""
    out = []
    for position, title in enumerate(headers):
        cells = [row[position] for row in body] + [title]
        if position in fixed:
            need = max(display_width(line) for cell in cells for line in cell.split("\n"))
        else:
            natural = max(display_width(line) for cell in cells for line in cell.split("\n"))
            need = min(natural, max(NARROWEST, max(longest_unit(cell) for cell in cells)))
        out.append(max(need, given[position]))
    return out


def _widths(headers, body, fixed, given, available) -> list[int] | None:
    """Column widths that fit ``available``: each column its natural width when all fit, else the wrapping columns
    share what is left in proportion to how much they would like; None when even the least widths do not fit."""
    least = _least(headers, body, fixed, given)
    natural = [max([least[p]] + [display_width(line) for cell in [row[p] for row in body] + [headers[p]]
                                 for line in cell.split("\n")]) for p in range(len(headers))]
    room = available - GAP * (len(headers) - 1)
    if sum(natural) <= room:
        return natural
    if sum(least) > room:
        return None
    spare, wants = room - sum(least), [natural[p] - least[p] for p in range(len(headers))]
    total = sum(wants) or 1
    widths = [least[p] + spare * wants[p] // total for p in range(len(headers))]
    for p in sorted(range(len(headers)), key=lambda p: wants[p] - (widths[p] - least[p]), reverse=True):
        if sum(widths) < room and widths[p] < natural[p]:
            widths[p] += 1  # hand out the columns the integer division left over
    return widths


def _stacked(headers, body, fixed, available) -> list[str]:
    """Each row as a block: the unbroken cells on its first line, every other non-empty cell as 标题：内容."""
    lines: list[str] = []
    for row in body:
        filled = [p for p, cell in enumerate(row) if cell]
        if filled == [0] and len(row) > 1:
            lines += wrap(row[0], available)  # a section heading row: 【会前准备】
            continue
        lead = "  ".join(row[p] for p in sorted(fixed) if row[p])
        if lead:
            lines += wrap(lead, available)
        for p, cell in enumerate(row):
            if p in fixed or not cell:
                continue
            title = headers[p]
            lines += wrap(f"{title}：{cell}" if title else cell, available, indent="  ", hang="    ")
    return lines
