"""The page of the meeting documents (GB/T 9704 党政机关公文格式) and how text is laid out on it.

One place for the geometry: ``templates/documents/build_templates.py`` sets the pages and the character grid from
it, and ``meeting`` breaks titles and subtitles by it, so a line that is computed to fit does fit.

- The type area of a portrait page is 156 × 225 mm: 22 lines of 28 characters of 三号 (16 pt). The lines are a
  document grid (``w:docGrid`` lines); the 28 characters come from setting them 0.25 pt closer (``w:spacing``).
  A character grid (``linesAndChars`` with a negative ``charSpace``, as Word's 公文 templates have) gives 28 in
  Word, but LibreOffice 7.4 then breaks lines at odd places, half empty: the spacing gives 28 in both. A landscape
  page (the 整改清单) keeps the same spacing.
- A title (二号 小标宋) longer than its line is broken by ``lines`` at a boundary of its parts into lines of
  balanced length, never leaving one character alone on the last line (GB/T 9704 7.3.1: 排列对称, 长短适宜).
- A subtitle's parts (a date, a topic) are kept whole: it is broken only between them, so no renderer ever has to
  break inside a date.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Sequence

MM_PER_PT = 25.4 / 72
TITLE_PT = 22.0      # 二号
BODY_PT = 16.0       # 三号
TABLE_PT = 10.5      # 五号
SMALL_TABLE_PT = 9.0  # 小五: the report's table of seven columns, two of them dates, on the 156 mm type area
BALLOT_PT = 14.0     # 四号: a ballot is read and marked by hand
PAGE_NUMBER_PT = 14.0  # 四号
CELL_MARGIN_MM = 1.0  # left and right in a table cell (Word's default 1.9 mm left a date no room)
LONGEST_DATE = "2025年12月28日"  # the widest a Chinese date is written (two-digit month and day)
CHARS_PER_LINE = 28
LINES_PER_PAGE = 22


@dataclass(frozen=True)
class Page:
    width_mm: float
    height_mm: float
    top_mm: float
    bottom_mm: float
    left_mm: float
    right_mm: float

    @property
    def type_width_pt(self) -> float:
        return (self.width_mm - self.left_mm - self.right_mm) / MM_PER_PT

    @property
    def type_height_pt(self) -> float:
        return (self.height_mm - self.top_mm - self.bottom_mm) / MM_PER_PT


# GB/T 9704 5.2: top 37 mm, bottom 35 mm, left 28 mm, right 26 mm → a type area of 156 × 225 mm; landscape (the
# 整改清单's wide table) with 25 mm margins all round
PORTRAIT = Page(210, 297, 37, 35, 28, 26)
LANDSCAPE = Page(297, 210, 25, 25, 25, 25)
# rounded down to what Word stores (twentieths of a point), so 22 lines and 28 characters do fit
LINE_PITCH_TWIPS = math.floor(PORTRAIT.type_height_pt / LINES_PER_PAGE * 20)
CHAR_SPACING_TWIPS = math.floor((PORTRAIT.type_width_pt / CHARS_PER_LINE - BODY_PT) * 20)  # -5: 0.25 pt closer


def fits(text: str, column_mm: float, size_pt: float = TABLE_PT) -> bool:
    """Whether ``text`` stays on one line of a table column ``column_mm`` wide (cell margins taken off)."""
    return width(text) * size_pt <= (column_mm - 2 * CELL_MARGIN_MM) / MM_PER_PT


def chars_per_line(page: Page) -> int:
    """Body characters (三号, set closer by CHAR_SPACING_TWIPS) one line of ``page`` holds."""
    return math.floor(page.type_width_pt / (BODY_PT + CHAR_SPACING_TWIPS / 20))


def width(text: str) -> float:
    """Width in ems as LibreOffice sets it where the GB2312 faces are missing, the widest of the likely renderers:
    a Chinese character or full-width sign is one em, a Latin letter or digit 0.62 (DejaVu, its Latin stand-in;
    仿宋_GB2312's are 0.5), and a fifth of an em between Chinese and Latin or digits (its Asian/non-Asian spacing,
    which it applies whatever the file's autoSpaceDE/DN say)."""
    wide = [unicodedata.east_asian_width(c) in "WF" for c in text if not unicodedata.category(c).startswith("C")]
    return sum(1.0 if w else 0.62 for w in wide) + 0.2 * sum(a != b for a, b in zip(wide, wide[1:]))


def capacity(page: Page, size_pt: float) -> float:
    """Ems of a paragraph off the grid (a title) one line of ``page`` holds at ``size_pt``."""
    return page.type_width_pt / size_pt


def lines(parts: Sequence[str], room: float, sep: str = "") -> str:
    """``parts`` (the units that must not break) joined by ``sep`` as one line if they fit in ``room`` ems, else
    as lines broken between parts ("\\n": docxtpl writes a line break; ``sep`` is dropped there), each fitting where
    it can, the longest as short as possible and the last never a single character. A part longer than a line
    stays whole on lines of its own (the renderer breaks it: only a free text such as a topic is that long)."""
    parts = [p for p in parts if p]
    if width(sep.join(parts)) <= room:
        return sep.join(parts)
    best: tuple | None = None
    for cut in _cuts(len(parts)):
        chunks = [sep.join(parts[a:b]) for a, b in zip((0, *cut), (*cut, len(parts)))]
        widths = [width(c) for c in chunks]
        over = sum(max(0.0, w - room) for w in widths)  # what the renderer would still have to break
        # fewest overflowing ems, then fewest lines, then the longest line shortest, then a longer first line
        # (GB/T 9704 prefers the inverted trapezoid), and never one character alone at the end
        score = (over, len(chunks), width(chunks[-1]) <= 1, max(widths), -widths[0])
        if best is None or score < best[0]:
            best = (score, chunks)
    return "\n".join(best[1])


def _cuts(n: int, most: int = 3):
    """Every way to cut ``n`` parts into at most ``most`` lines: tuples of the indexes where a new line starts."""
    from itertools import combinations

    for k in range(min(most, n)):
        yield from combinations(range(1, n), k)
