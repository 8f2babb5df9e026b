"""Looking inside an .xlsx before calamine reads it: limits, far cells, and what calamine would read silently.

calamine allocates a sheet's whole rectangle from A1 to its farthest cell, and inflates every XML part it
reads without a bound: one cell at XFD1048576 asks for 512 GB (the process aborts), a 1 MB zip of repetitive XML
inflates to 1 GB. So the archive is opened with ``zipfile`` first: the file, its member count and the declared
sizes are checked, every part calamine would read is inflated (streaming, so a size that lies ends in a CRC
error, not in memory), and each of our sheets' XML is scanned in chunks for

- the real extent of its cell references (the declared ``<dimension>`` can lie; the ``r="…"`` of every cell and
  row is read, vectorised with numpy over the bytes, so the scan costs a fraction of calamine's own read),
- formula cells without a cached value (calamine reads them as empty),
- merged ranges (calamine reads the non-anchor cells as empty), hidden rows,

and ``xl/workbook.xml`` for hidden sheets. The limits are in README.md ("导入限制").

calamine finds elements by their local name, whatever their prefix or namespace (``<x:c>`` is a cell), and places
a cell or row without ``r="…"`` after the one before it. The byte scan takes element prefixes off and reads the
layout every common writer uses (``r`` first); a sheet that departs from it anywhere is read again with a real XML
parser, element by element, the way calamine reads it (``_parse``).
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Callable
from xml.parsers import expat

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from defusedxml import ElementTree
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from ..errors import OrglifeError

MiB = 2**20
MAX_FILE_BYTES = 100 * MiB  # the .xlsx itself
MAX_MEMBERS = 1_000  # parts in the zip (a workbook of 12 sheets has about 60)
MAX_MEMBER_BYTES = 256 * MiB  # one part, inflated
MAX_TOTAL_BYTES = 1024 * MiB  # all parts, inflated
MAX_RATIO = 100  # inflated / compressed of one part larger than RATIO_FROM (real sheets: 10–25)
RATIO_FROM = 1 * MiB
MAX_ROWS = 1_000_000  # per sheet
MAX_COLUMNS = 256  # per sheet (our widest sheet has 29 columns; extra columns are allowed)
MAX_CELLS = 10_000_000  # rows × columns of a sheet's used area: what calamine allocates

_CHUNK = 8 * MiB
_CARRY_MAX = 64 * MiB  # a chunk without any cell end is carried over at most this far
# An r="…" value is read from its first bytes: up to 3 letters (XFD is Excel's last column) and 7 digits;
# a longer run is beyond every limit and counts as _BIG.
_MAX_LETTERS, _MAX_DIGITS = 3, 7
_WINDOW = _MAX_LETTERS + 1 + _MAX_DIGITS + 1
_LAST_COLUMN = 18_278  # ZZZ: the farthest column three letters name
_BIG = 2**31 - 1  # int32: every array of the scan is int32 (half the memory traffic of int64)
_PREFIX_SPAN = 8  # bytes after a "<" looked at together for the end of an element's name
_MAX_PREFIXES = 4  # prefixes taken off one piece of a sheet before it is parsed instead
_COLON_BLOCK = 65_536  # colons looked at together
_NAME_ENDS = b' \t\r\n>/"\'=!?<'  # bytes that end an element's name (or show a "<" opens no element)
_NAME_END = np.zeros(256, bool)
_NAME_END[list(_NAME_ENDS)] = True
_QNAME = re.compile(rb"[^" + re.escape(_NAME_ENDS) + rb"]*")
_SCANNED = {b"c", b"row", b"f", b"v", b"mergeCell"}  # the elements the byte scan reads
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_CELL_REF = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,3})(\d+)["\']')
_TEXT_RESULT = re.compile(rb'\st\s*=\s*["\']str["\']')
_HIDDEN = re.compile(rb'\shidden\s*=\s*["\'](?:1|true)["\']')
_ROW_REF = re.compile(rb'\sr\s*=\s*["\'](\d+)["\']')
_REF = re.compile(r"([A-Za-z]*)(\d+)")
_MERGE_REF = re.compile(rb"([A-Za-z]{1,3})(\d+)(?::([A-Za-z]{1,3})(\d+))?")
_MERGE = re.compile(rb'<mergeCell\s+ref\s*=\s*["\']' + _MERGE_REF.pattern + rb'["\']')


def column_number(letters: bytes) -> int:
    return column_index_from_string(letters.decode("ascii").upper())


def _mb(size: int) -> str:
    return f"{size / MiB:,.0f} MB" if size >= MiB else f"{size / 1024:,.0f} KB"


@dataclass
class SheetScan:
    """What one sheet's XML holds beyond its cell values (rows and columns 1-based, as Excel shows them)."""

    name: str
    state: str = "visible"  # or "hidden", "veryHidden"
    rows: int = 0  # farthest row of any cell
    columns: int = 0  # farthest column of any cell
    far_row: str = ""  # the cell (or row) that reaches ``rows``
    far_column: str = ""
    formulas: list[tuple[int, int]] = field(default_factory=list)  # formula cells without a cached value
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row1, col1, row2, col2)
    hidden_rows: list[int] = field(default_factory=list)

    # ---- the scan of one piece of XML: ``buffer[:end]`` holds whole cells (see ``_inflate``) ------------------

    def feed(self, buffer: bytes, end: int) -> None:
        for _ in range(_MAX_PREFIXES + 1):
            a = np.frombuffer(buffer, np.uint8)
            # every tag start once: which kinds of element this piece has (cells, rows, formulas, merged ranges)
            lt = np.flatnonzero(a[:max(0, min(end, len(a) - 2))] == 0x3C)
            prefix = _prefix(a, buffer, lt, end)
            if prefix is None:
                return self._scan(buffer, end, a, lt)
            # calamine reads <x:c> as <c>, whatever x stands for: the same piece without the prefix
            piece = buffer[:end].replace(b"<" + prefix + b":", b"<").replace(b"</" + prefix + b":", b"</")
            buffer, end = piece + buffer[end:], len(piece)
        raise _Irregular  # more prefixes than a writer uses: parsed instead

    def _scan(self, buffer: bytes, end: int, a: np.ndarray, lt: np.ndarray) -> None:
        name, after = a[lt + 1], a[lt + 2]
        closed = (after == 0x20) | (after == 0x3E) | (after == 0x2F) | (after == 0x0A) | (after == 0x09)
        cell_tags = lt[(name == 0x63) & closed]  # <c …>
        row_elements = lt[(name == 0x72) & (after == 0x6F)]
        row_elements = row_elements[a.take(row_elements + 3, mode="clip") == 0x77]  # <row …>
        # Excel, WPS, LibreOffice and openpyxl write r="…" first: <c r="A1" …>, <row r="1" …>. Then the values
        # start at fixed offsets; any other layout (r= later or missing) is parsed instead (``_parse``)
        cells_first = _attribute_first(a, cell_tags, 2)
        rows_first = _attribute_first(a, row_elements, 4)
        if len(cells_first) < len(cell_tags) or len(rows_first) < len(row_elements):
            raise _Irregular
        cells, row_tags = self._extent(a, np.concatenate([cells_first, rows_first]))
        if cells < len(cell_tags) or row_tags < len(row_elements):  # an r="…" that names no cell or row
            raise _Irregular
        formulas = lt[(name == 0x66) & closed]  # <f …>
        if len(formulas):
            self._formulas(buffer, formulas)
        if np.any((name == 0x6D) & (after == 0x65)):  # <mergeCell …>
            for c1, r1, c2, r2 in _MERGE.findall(buffer, 0, end):
                self.merge(c1, r1, c2, r2)
        if buffer.find(b"hidden", 0, end) >= 0:
            for match in _HIDDEN.finditer(buffer, 0, end):
                start = buffer.rfind(b"<", 0, match.start())
                if buffer.startswith(b"<row", start):
                    row = _ROW_REF.search(buffer, start, buffer.find(b">", match.start()))
                    if row:
                        self.hidden_rows.append(int(row.group(1)))

    def _extent(self, a: np.ndarray, starts: np.ndarray) -> tuple[int, int]:
        """The farthest row and column named by the r="…" values (cells: letters and digits; rows: digits only)
        beginning at ``starts``; returns how many of them name a cell and how many a row."""
        columns = np.ascontiguousarray(_windows(a, starts, _WINDOW).T).astype(np.int32)  # a row per byte position
        n = columns.shape[1]
        upper = columns & 0xDF
        letter = (upper >= 65) & (upper <= 90)
        column = np.zeros(n, np.int32)
        count = np.zeros(n, np.int32)  # leading letters
        going = np.ones(n, bool)
        for i in range(_MAX_LETTERS + 1):
            going &= letter[i]
            column = np.where(going, column * 26 + upper[i] - 64, column)
            count += going
        column[count > _MAX_LETTERS] = _BIG
        digit = (columns >= 48) & (columns <= 57)
        row = np.zeros(n, np.int32)  # wraps beyond 9 digits: such a row is _BIG below anyway
        digits = np.zeros(n, np.int32)
        going = np.zeros(n, bool)
        for i in range(_WINDOW):
            going = digit[i] & ((count == i) | going)
            row = np.where(going, row * 10 + columns[i] - 48, row)
            digits += going
        row[digits > _MAX_DIGITS] = _BIG
        cells = (column > 0) & (row > 0)
        rows = (column == 0) & (row > 0)
        if cells.any():
            at = np.flatnonzero(cells)
            far = at[np.argmax(row[at])]
            if row[far] > self.rows:
                self.rows, self.far_row = int(row[far]), self._ref(column[far], row[far])
            far = at[np.argmax(column[at])]
            if column[far] > self.columns:
                self.columns, self.far_column = int(column[far]), self._ref(column[far], row[far])
        return int(cells.sum()), int(rows.sum())

    def merge(self, c1: bytes, r1: bytes, c2: bytes, r2: bytes) -> None:
        """A merged range from its references' letters and digits (a single cell: c2 and r2 empty)."""
        first = (int(r1), column_number(c1))
        last = (int(r2), column_number(c2)) if c2 else first
        self.merged.append((min(first[0], last[0]), min(first[1], last[1]),
                            max(first[0], last[0]), max(first[1], last[1])))

    def reach(self, row: int, column: int) -> None:
        """A cell at (row, column): the extent grows to it."""
        if row > self.rows:
            self.rows, self.far_row = row, self._ref(column, row)
        if column > self.columns:
            self.columns, self.far_column = column, self._ref(column, row)

    @staticmethod
    def _ref(column: int, row: int) -> str:
        if column <= _LAST_COLUMN:
            return f"{get_column_letter(int(column))}{int(row)}"
        return f"第 {int(row)} 行第 {int(column):,} 列" if column < _BIG else f"第 {int(row)} 行的远端单元格"

    def _formulas(self, buffer: bytes, positions: np.ndarray) -> None:
        for position in positions.tolist():
            start = buffer.rfind(b"<c", 0, position)
            end = buffer.find(b"</c>", position)
            if start < 0 or end < 0:
                continue
            value = buffer.find(b"<v", position, end)
            # no cached value: no <v>, or an empty one on a cell that is not a text result (openpyxl writes
            # <v></v>; Excel writes t="str" with an empty <v> for a formula whose result is "")
            empty = value >= 0 and (buffer.startswith(b"<v/>", value) or buffer.startswith(b"<v></v>", value))
            if value >= 0 and not (empty and not _TEXT_RESULT.search(buffer, start, position)):
                continue
            ref = _CELL_REF.search(buffer, start, position)
            if ref:
                self.formulas.append((int(ref.group(2)), column_number(ref.group(1))))

    def finish(self, workbook: str) -> None:
        """Refuse a sheet beyond the limits, naming the cell that reaches out."""
        where = f"{workbook} 的工作表“{self.name}”"
        if self.rows > MAX_ROWS:
            raise OrglifeError(f"{where}用到第 {self.rows:,} 行（单元格 {self.far_row}），超过每表 {MAX_ROWS:,} "
                               f"行的上限；请删除远处的单元格后再导入")
        if self.columns > MAX_COLUMNS:
            raise OrglifeError(f"{where}用到第 {self.columns:,} 列（单元格 {self.far_column}），超过每表 "
                               f"{MAX_COLUMNS} 列（{get_column_letter(MAX_COLUMNS)} 列）的上限；请删除远处的单元格后再导入")
        if self.rows * self.columns > MAX_CELLS:
            raise OrglifeError(f"{where}的使用范围 A1:{get_column_letter(self.columns)}{self.rows} 有 "
                               f"{self.rows * self.columns:,} 个单元格（最远处：{self.far_row}、{self.far_column}），"
                               f"超过每表 {MAX_CELLS:,} 个的上限；请删除远处的单元格后再导入")


@dataclass
class Inspection:
    """The archive looked at: each of the wanted sheets' scan, by its name in the workbook."""

    sheets: dict[str, SheetScan]


class _Irregular(Exception):
    """The byte scan met a layout it does not read the way calamine does: the sheet is parsed instead."""


def _windows(a: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes from each of ``starts`` (one row each), zero-padded past the end of ``a``."""
    inside = starts <= len(a) - width
    window = sliding_window_view(a, width)[starts[inside]]
    if inside.all():
        return window
    padded = np.zeros(len(a) + width, np.uint8)  # a value within the last bytes of the buffer
    padded[:len(a)] = a
    return np.vstack([window, sliding_window_view(padded, width)[starts[~inside]]])


def _prefix(a: np.ndarray, buffer: bytes, lt: np.ndarray, end: int) -> bytes | None:
    """The prefix of the first element in ``a[:end]`` that the scan looks for (a cell, row, formula, value, merged
    range) and that has one (b"x" for ``<x:c``); None when none has (``lt``: every "<" of the piece). A prefix is a
    colon reached from the "<" before it through name characters only: colons elsewhere (in values, in attributes
    such as x14ac:dyDescent) sit after a space, quote or ">"; prefixed elements of other names (Excel's
    <mc:AlternateContent>, <x14:dataValidation>) do no harm."""
    everywhere = np.flatnonzero(a[:end] == 0x3A)
    for block in range(0, len(everywhere), _COLON_BLOCK):  # in document order: a prefixed sheet ends at once
        colons = everywhere[block:block + _COLON_BLOCK]
        before = np.searchsorted(lt, colons) - 1
        colons, opener = colons[before >= 0], lt[before[before >= 0]]
        # the first bytes after each "<" tell most colons apart at once; the few left are looked at one by one
        ends = _NAME_END[_windows(a, opener + 1, _PREFIX_SPAN)]
        first_end = np.where(ends.any(axis=1), ends.argmax(axis=1), _PREFIX_SPAN)
        for start in opener[first_end >= np.minimum(colons - opener - 1, _PREFIX_SPAN)].tolist():
            prefix, _, local = _QNAME.match(buffer, start + 1).group().rpartition(b":")
            if prefix and local in _SCANNED:
                return prefix
    return None


class _Walk:
    """One sheet's XML as calamine reads it, fed to ``scan``: elements by local name; a row without r="…" is the
    one after the row before, a cell without it the one after the cell before in its row (the first: column A)."""

    def __init__(self, scan: SheetScan) -> None:
        self.scan = scan
        self.row = self.column = 0  # the current row; the column of the row's last cell
        self.cell: tuple[int, int, str | None] | None = None  # (row, column, t=) while inside a <c>
        self.formula = self.cached = self.in_value = False

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            row, column = _position(attributes.get("r"), self.row, self.column + 1)
            self.column = column
            self.scan.reach(row, column)
            self.cell, self.formula, self.cached = (row, column, attributes.get("t")), False, False
        elif local == "row":
            self.row = _position(attributes.get("r"), self.row + 1, 0)[0]
            self.column = 0
            if attributes.get("hidden") in ("1", "true"):
                self.scan.hidden_rows.append(self.row)
        elif local == "f" and self.cell:
            self.formula = True
        elif local == "v" and self.cell:
            self.in_value, self.cached = True, self.cell[2] == "str"  # an empty text result is a result
        elif local == "mergeCell":
            match = _MERGE_REF.fullmatch(attributes.get("ref", "").encode())
            if match:
                self.scan.merge(*match.groups(default=b""))

    def text(self, data: str) -> None:
        if self.in_value and data:
            self.cached = True

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "v":
            self.in_value = False
        elif local == "c" and self.cell:
            if self.formula and not self.cached:
                self.scan.formulas.append(self.cell[:2])
            self.cell = None


def _position(ref: str | None, row: int, column: int) -> tuple[int, int]:
    """(row, column) of an r="…" (a row's: digits only), or the given ones by order when there is none."""
    match = _REF.fullmatch(ref or "")
    if match is None:
        return row, column
    letters, digits = match.groups()
    number = int(digits) if len(digits) <= _MAX_DIGITS else _BIG
    if not letters:
        return number, column
    return number, column_number(letters.encode()) if len(letters) <= _MAX_LETTERS else _BIG


def _forbidden(*_) -> None:
    raise _Refused("含有 DTD 或实体声明")


class _Refused(Exception):
    """A sheet's XML that is not read at all (why, in Chinese)."""


def _parse(archive: zipfile.ZipFile, info: zipfile.ZipInfo, scan: SheetScan) -> None:
    """Read one sheet's XML with expat, streaming (no DTD or entity is accepted), into ``scan``."""
    walk = _Walk(scan)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = walk.start, walk.end
    parser.CharacterDataHandler = walk.text
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _forbidden
    try:
        with archive.open(info) as stream:
            while data := stream.read(_CHUNK):
                parser.Parse(data, False)
            parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise _Refused(f"XML 无法解析：{expat.errors.messages.get(error.code, error.code)}"
                       f"（第 {error.lineno} 行）") from None


def _attribute_first(a: np.ndarray, tags: np.ndarray, space: int) -> np.ndarray:
    """Where the r="…" values start, for the tags (positions of "<") whose first attribute is r: the space before
    it is ``space`` bytes after the "<" (2 for <c, 4 for <row)."""
    quote = a.take(tags + space + 3, mode="clip")
    first = (a.take(tags + space, mode="clip") == 0x20) & (a.take(tags + space + 1, mode="clip") == 0x72) & (
        a.take(tags + space + 2, mode="clip") == 0x3D) & ((quote == 0x22) | (quote == 0x27))
    return tags[first] + space + 4


def _refuse(workbook: str, why: str) -> OrglifeError:
    return OrglifeError(f"无法读取 {workbook}：{why}")


def _xml(archive: zipfile.ZipFile, member: str, workbook: str):
    try:
        return ElementTree.fromstring(archive.read(member))
    except KeyError:
        raise _refuse(workbook, f"不是有效的 .xlsx 工作簿（缺少 {member}）") from None
    except Exception as error:  # defusedxml refuses entities; a broken part is as bad
        raise _refuse(workbook, f"不是有效的 .xlsx 工作簿（{member} 无法解析：{type(error).__name__}）") from None


def _sheet_parts(archive: zipfile.ZipFile, workbook: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(workbook part, [(sheet name, state, part)]) from the package relationships."""
    part = "xl/workbook.xml"
    if "_rels/.rels" in archive.namelist():
        for rel in _elements(_xml(archive, "_rels/.rels", workbook), "Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                part = rel.get("Target", part).lstrip("/")
    root = _xml(archive, part, workbook)
    folder = posixpath.dirname(part)
    rels_part = posixpath.join(folder, "_rels", posixpath.basename(part) + ".rels")
    targets = {}
    if rels_part in archive.namelist():
        for rel in _elements(_xml(archive, rels_part, workbook), "Relationship"):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            targets[rel.get("Id")] = path
    sheets = []
    for sheet in _elements(root, "sheet"):
        # the relationship id is the namespaced attribute "id" (r:id; its namespace differs in Strict OOXML)
        rel = next((value for key, value in sheet.attrib.items() if key.startswith("{") and _local(key) == "id"), "")
        sheets.append((sheet.get("name", ""), sheet.get("state", "visible"), targets.get(rel, "")))
    return part, sheets


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _elements(root, local: str):
    """The elements named ``local`` in any namespace, as calamine finds them (Transitional and Strict OOXML)."""
    return (element for element in root.iter() if isinstance(element.tag, str) and _local(element.tag) == local)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
             feed: Callable[[bytes, int], None] | None = None) -> None:
    """Stream one part through (zipfile stops at the declared size and checks the CRC: a lying header fails
    here); ``feed(buffer, end)`` gets whole cells at a time: ``buffer[:end]`` ends after a ``</c>`` or ``</row>``,
    the rest is carried into the next call."""
    carry = b""
    with archive.open(info) as stream:
        while True:
            data = stream.read(_CHUNK)
            if feed is None:
                if not data:
                    return
                continue
            buffer = carry + data if carry else data
            if not data:
                feed(buffer, len(buffer))
                return
            cut = max(buffer.rfind(b"</c>") + 4, buffer.rfind(b"</row>") + 6,  # also </x:c>: the cut is no scan
                      buffer.rfind(b":c>") + 3, buffer.rfind(b":row>") + 5)
            if cut < 6:  # no cell ends in this chunk (one huge cell, or only empty ones)
                if len(buffer) < _CARRY_MAX:
                    carry = buffer
                    continue
                cut = buffer.rfind(b">") + 1 or len(buffer)
            feed(buffer, cut)
            carry = buffer[cut:]


def inspect_xlsx(stream: IO[bytes], size: int, workbook: str, wanted: Callable[[str], bool]) -> Inspection:
    """Check an .xlsx against the limits and scan the sheets ``wanted(name)`` picks; OrglifeError when refused.

    ``stream`` is a seekable binary file of ``size`` bytes; ``workbook`` names it in messages.
    """
    if size > MAX_FILE_BYTES:
        raise _refuse(workbook, f"文件过大（{_mb(size)}），上限为 {_mb(MAX_FILE_BYTES)}")
    if stream.read(len(_OLE_MAGIC)) == _OLE_MAGIC:  # an encrypted .xlsx (or an old .xls) is an OLE file, not a zip
        raise _refuse(workbook, "工作簿有密码保护（或是旧的 .xls 格式），请先取消密码并另存为 .xlsx")
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(workbook, "不是有效的 .xlsx 工作簿（不是 zip 压缩包；请在 Excel/WPS 中另存为 .xlsx）") from None
    try:
        with archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _refuse(workbook, f"压缩包内有 {len(members):,} 个文件，超过上限 {MAX_MEMBERS:,}")
            total = 0
            for info in members:
                total += info.file_size
                if info.file_size > MAX_MEMBER_BYTES:
                    raise _refuse(workbook, f"其中 {info.filename} 解压后 {_mb(info.file_size)}，超过单个部件 "
                                            f"{_mb(MAX_MEMBER_BYTES)} 的上限")
                if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise _refuse(workbook, f"其中 {info.filename} 的压缩比异常（{_mb(info.compress_size)} 解压为 "
                                            f"{_mb(info.file_size)}），疑为压缩炸弹，拒绝读取")
            if total > MAX_TOTAL_BYTES:
                raise _refuse(workbook, f"解压后共 {_mb(total)}，超过上限 {_mb(MAX_TOTAL_BYTES)}")
            part, sheets = _sheet_parts(archive, workbook)
            scans = {name: SheetScan(name, state) for name, state, _ in sheets if wanted(name)}
            ours = {target: scans[name] for name, _, target in sheets if name in scans}
            others = {target for name, _, target in sheets if name not in scans}
            for info in members:
                if info.filename in others or info.is_dir():
                    continue  # calamine never opens the sheets that are not ours
                scan = ours.pop(info.filename, None)
                try:  # ours are scanned; the rest calamine reads (shared strings, styles …) are only inflated
                    try:
                        _inflate(archive, info, scan.feed if scan else None)
                    except _Irregular:
                        scan = scans[scan.name] = SheetScan(scan.name, scan.state)
                        _parse(archive, info, scan)
                except _Refused as why:
                    raise _refuse(workbook, f"工作表“{scan.name}”（{info.filename}）{why}") from None
                except (zipfile.BadZipFile, EOFError, zlib.error):
                    raise _refuse(workbook, f"其中 {info.filename} 已损坏，或解压后的大小与声明不符") from None
                except NotImplementedError:
                    raise _refuse(workbook, f"其中 {info.filename} 的压缩方式不受支持，请在 Excel/WPS 中另存为 .xlsx") \
                        from None
                if scan:
                    scan.finish(workbook)
            if ours:  # a sheet of ours whose XML is not where the workbook says: calamine would read it unscanned
                missing = "、".join(f"“{scan.name}”（{target}）" for target, scan in ours.items())
                raise _refuse(workbook, f"不是有效的 .xlsx 工作簿（找不到工作表 {missing} 的内容）")
    except OrglifeError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _refuse(workbook, f"不是有效的 .xlsx 工作簿（{reason}）") from None
    return Inspection(scans)
