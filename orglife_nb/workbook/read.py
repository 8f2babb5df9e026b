"""Reading the exchange workbook: cells → a batch of record frames, every problem of the file at once.

Speed matters (a province exports hundreds of thousands of rows), so nothing here validates row by row:
python-calamine reads each sheet into Python values, each column's *unique* values go once through the field's
parser (``FieldSpec.parse``), and required cells, unique ids and references are checked with pandas on whole
columns. Only the cells that fail become ``Problem`` rows.

A file is stored only when it has no problem at all, in one transaction (``Store.save``).
"""
from __future__ import annotations

import datetime as dt
import difflib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

import numpy as np
import pandas as pd
import python_calamine
from openpyxl.utils.cell import get_column_letter
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import OrglifeError
from ..models import (BY_SHEET, BY_TABLE, RECORDS, CellError, FieldSpec, Meeting, Member, Record, Role, Tenure,
                      blank, field_of, fields_of, parse_text)
from ..store import Store, table_of, write_failed
from ..store.writer import SaveSummary
from .archive import Inspection, SheetScan, inspect_xlsx

Source = str | os.PathLike | bytes | BinaryIO
Known = dict[str, dict[str, Any]]
_SHEET_ORDER = {record: index for index, record in enumerate(RECORDS)}


@dataclass(frozen=True, order=True)
class Problem:
    """One bad cell (or a sheet-level problem, then ``row`` is the header row): where, what, why."""

    sheet: str
    row: int
    header: str
    value: str
    why: str

    def line(self) -> str:
        shown = f"“{self.value}”" if self.value != "" else "（空）"
        where = [self.sheet, f"第 {self.row} 行"] + ([self.header] if self.header else [])
        return " · ".join(where + [shown, self.why])


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """The problems as a table (for the forms' upload page)."""
    return pd.DataFrame([(p.sheet, p.row, p.header, p.value, p.why) for p in problems],
                        columns=["工作表", "行", "列", "值", "问题"])


@dataclass
class ImportResult:
    """What happened to one file: stored (``summary``), rejected for ``problems``, or unreadable (``error``)."""

    name: str
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    summary: SaveSummary | None = None
    rows: int = 0

    @property
    def stored(self) -> bool:
        return self.summary is not None

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.name}：{self.error}"]
        if self.problems:
            head = f"{self.name}：发现 {len(self.problems)} 个问题，本文件未写入任何内容："
            return [head] + ["  " + problem.line() for problem in self.problems]
        return [f"{self.name}：已写入（{self.rows} 行）：{self.summary.describe()}"]


# ---------------------------------------------------------------------------------------------------------------
# Opening the file


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return getattr(source, "name", None) or "上传的工作簿"


def _ours(sheet_name: str) -> bool:
    return sheet_name.strip() in BY_SHEET


@dataclass
class OpenedWorkbook:
    """A workbook that passed the archive inspection (``open_workbook``), with calamine's reader over it.

    ``read_workbook`` fills ``keys`` (table → ids of the file's keyed rows) and ``notes`` (what was read that the
    user may not see: hidden sheets and rows). ``claimed`` is set by ``import_files``: ids that an earlier file of
    the same command added to the store (table → id → that file's name); this file may not add them again.
    """

    name: str
    book: python_calamine.CalamineWorkbook
    inspection: Inspection
    claimed: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def sheet_names(self) -> list[str]:
        return self.book.sheet_names


def open_workbook(source: Source, name: str | None = None) -> OpenedWorkbook:
    """Inspect the archive against the limits (``archive.inspect_xlsx``), then open it with calamine; or
    OrglifeError with a one-line Chinese reason. Every reader of a workbook (import, ``check FILE``, the forms'
    upload) comes through here."""
    if isinstance(source, OpenedWorkbook):
        return source
    name = name or _name(source)
    stream: BinaryIO | None = None
    try:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.exists():
                raise OrglifeError(f"找不到文件：{source}")
            if not path.is_file():
                raise OrglifeError(f"不是文件：{source}")
            stream = path.open("rb")
            data = stream
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = io.BytesIO(source)
        else:
            data = source if source.seekable() else io.BytesIO(source.read())
        size = data.seek(0, io.SEEK_END)
        data.seek(0)
        inspection = inspect_xlsx(data, size, name, _ours)
        data.seek(0)
        # the very bytes inspected are the ones calamine reads (no second open of the path)
        return OpenedWorkbook(name, python_calamine.CalamineWorkbook.from_filelike(data), inspection)
    except OrglifeError:
        raise
    except python_calamine.PasswordError:
        raise OrglifeError(f"无法读取 {name}：工作簿有密码保护，请先取消密码") from None
    except OSError as error:
        raise OrglifeError(f"无法读取 {name}：{error.strerror or error}") from None
    except Exception as error:  # calamine's zip/xml/format errors: not an Excel workbook
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise OrglifeError(f"无法读取 {name}：不是有效的 .xlsx 工作簿（{reason}）") from None
    finally:
        if stream is not None:
            stream.close()


# ---------------------------------------------------------------------------------------------------------------
# Cells → typed columns


_SHOWN_MAX = 60  # characters of a cell quoted in a problem


def _shown(value: Any) -> str:
    """A raw cell as the user sees it, for problem messages."""
    try:
        return parse_text(value) or ""
    except Exception:
        return str(value)


def _factorize(cells: tuple) -> tuple[np.ndarray, list]:
    """Codes and unique values of a column. True == 1 in Python: keep a boolean cell apart from a number."""
    codes, uniques = pd.factorize(np.asarray(cells, dtype=object))
    uniques = list(uniques)
    if any(type(u) in (int, float, bool) and u in (0, 1) for u in uniques) \
            and any(type(v) is bool for v in cells):
        index: dict = {}
        codes = np.fromiter((index.setdefault((type(v) is bool, v), len(index)) for v in cells),
                            dtype=np.intp, count=len(cells))
        uniques = [key[1] for key in index]
    return codes, uniques


@dataclass
class _Column:
    spec: FieldSpec
    position: int  # 0-based column in the sheet
    values: np.ndarray  # parsed Python values (None for blank)
    raw: np.ndarray  # the cells as read
    blank: np.ndarray  # bool: cell is empty or spaces
    errors: dict[int, tuple[np.ndarray, str]]  # unique code → (mask of cells, Chinese reason)

    @classmethod
    def parse(cls, spec: FieldSpec, position: int, cells: tuple) -> "_Column":
        codes, uniques = _factorize(cells)
        parsed, blanks, errors = [], [], {}
        for code, value in enumerate(uniques):
            blanks.append(blank(value))
            try:
                parsed.append(spec.parse(value))
            except CellError as error:
                parsed.append(None)
                errors[code] = str(error)
        parsed.append(None)  # code -1 (a None cell) lands here
        blanks.append(True)
        codes = np.where(codes < 0, len(uniques), codes)
        table = np.empty(len(parsed), dtype=object)
        table[:] = parsed
        return cls(spec, position, table[codes], np.asarray(cells, dtype=object),
                   np.asarray(blanks, dtype=bool)[codes],
                   {code: (codes == code, why) for code, why in errors.items()})

    def keep(self, mask: np.ndarray) -> None:
        self.values, self.raw, self.blank = self.values[mask], self.raw[mask], self.blank[mask]
        self.errors = {code: (where[mask], why) for code, (where, why) in self.errors.items()}


@dataclass
class _Sheet:
    """One sheet read and parsed: its columns (by field name) and the Excel row number of every data row."""

    record: type[Record]
    header_row: int
    rows: np.ndarray
    columns: dict[str, _Column]

    def problem(self, index: int | None, header: str, value: Any, why: str) -> Problem:
        row = self.header_row if index is None else int(self.rows[index])
        shown = value.strip() if isinstance(value, str) else _shown(value)
        if len(shown) > _SHOWN_MAX:  # a 10 MB cell is named by its start, not printed whole
            shown = shown[:_SHOWN_MAX] + "…"
        return Problem(self.record.sheet, row, header, shown, why)

    def series(self, name: str) -> pd.Series:
        column = self.columns.get(name)
        if column is None:
            return pd.Series([None] * len(self.rows), dtype=object)
        return pd.Series(column.values, dtype=object)

    def frame(self) -> pd.DataFrame:
        """The sheet's columns only: a column absent from the sheet is not given (see ``import_file``)."""
        return pd.DataFrame({spec.name: self.series(spec.name) for spec in fields_of(self.record)
                             if spec.name in self.columns})


_HEADER_SEARCH = 20  # rows scanned for the header row (ledgers often put a title above it)


def _read_sheet(record: type[Record], cells: list[list], problems: list[Problem]) -> _Sheet | None:
    by_header = {spec.header: spec for spec in fields_of(record)}
    # the header row: the first row naming one of our columns, else the first row with anything in it
    start = next((i for i, row in enumerate(cells[:_HEADER_SEARCH]) if any(_shown(v) in by_header for v in row)),
                 None)
    if start is None:
        start = next((i for i, row in enumerate(cells) if any(not blank(v) for v in row)), None)
    if start is None:
        return None
    headers = [_shown(v) for v in cells[start]]
    header_row = start + 1
    data = cells[start + 1:]
    positions: dict[str, int] = {}
    for position, header in enumerate(headers):
        spec = by_header.get(header)
        if spec is None:
            continue  # extra columns are ignored
        if spec.name in positions:
            first = positions[spec.name] + 1
            problems.append(Problem(record.sheet, header_row, header, "",
                                    f"表头重复：第 {first} 列和第 {position + 1} 列都是“{header}”"))
            continue
        positions[spec.name] = position
    transposed = list(zip(*data)) if data else []
    columns = {spec.name: _Column.parse(spec, positions[spec.name],
                                        transposed[positions[spec.name]] if transposed else ())
               for spec in fields_of(record) if spec.name in positions}
    rows = np.arange(header_row + 1, header_row + 1 + len(data))
    # a row blank in every recognised column is skipped (extra columns do not count)
    keep = ~np.logical_and.reduce([c.blank for c in columns.values()]) if columns else np.zeros(len(data), bool)
    for column in columns.values():
        column.keep(keep)
    sheet = _Sheet(record, header_row, rows[keep], columns)
    missing = [spec for spec in fields_of(record) if spec.required and spec.name not in columns]
    # without a required column the sheet cannot be read; say so once per column if the sheet holds anything
    if missing and (len(sheet.rows) or any(not blank(v) for row in data for v in row)):
        for spec in missing:
            problems.append(sheet.problem(None, spec.header, "", "缺少必填列（表头中找不到这一列）"))
    return sheet


def _cell_problems(sheet: _Sheet, problems: list[Problem]) -> None:
    """Unreadable cells and empty required cells."""
    for column in sheet.columns.values():
        header = column.spec.header
        for where, why in column.errors.values():
            for index in np.flatnonzero(where):
                problems.append(sheet.problem(index, header, column.raw[index], why))
        if column.spec.required:
            for index in np.flatnonzero(column.blank):
                problems.append(sheet.problem(index, header, "", "必填，不能为空"))


# ---------------------------------------------------------------------------------------------------------------
# Checks across rows and sheets: unique ids, references, one secretary per branch


def _unique_ids(sheet: _Sheet, problems: list[Problem]) -> None:
    if not sheet.record.key or sheet.record.key[0] not in sheet.columns:
        return
    spec = sheet.columns[sheet.record.key[0]].spec
    ids = sheet.series(spec.name)
    present = ids.notna()
    repeated = ids.duplicated(keep="first") & present
    if not repeated.any():
        return
    first_row = dict(zip(ids[present & ~repeated], sheet.rows[(present & ~repeated).to_numpy()]))
    for index in np.flatnonzero(repeated.to_numpy()):
        value = ids.iat[index]
        problems.append(sheet.problem(index, spec.header, value, f"编号重复：与第 {first_row[value]} 行相同"))


def _duplicate_rows(sheet: _Sheet, problems: list[Problem]) -> None:
    """Rows without an id of their own (attendance, talks, ballots …) that repeat an earlier row of the sheet in
    every column: the same member twice in a meeting's attendance is a mistake, never two facts."""
    if sheet.record.key or len(sheet.rows) < 2:
        return
    frame = sheet.frame()
    involved = np.flatnonzero(frame.duplicated(keep=False).to_numpy())
    if not len(involved):
        return
    # the few rows that repeat, grouped: each repeat names the first row of its group
    groups = frame.iloc[involved].groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
    first: dict[int, int] = {}
    spec = sheet.columns[sheet.record.parent].spec if sheet.record.parent in sheet.columns else None
    for index, group in zip(involved.tolist(), groups.tolist()):
        if group not in first:
            first[group] = int(sheet.rows[index])
            continue
        problems.append(sheet.problem(index, spec.header if spec else "", frame[spec.name].iat[index] if spec else "",
                                      f"与第 {first[group]} 行完全相同：重复的行只能填一次"))


@dataclass
class _Index:
    """Ids the file may refer to: the file's own rows over what the store already holds."""

    branches: set[str]
    member_branch: dict[str, str]
    meeting_branch: dict[str, str]
    secretaries: dict[str, list[str]]
    secretary_terms: dict[str, list[tuple]]  # branch → stored 书记 任职 periods (member, start, end)

    @classmethod
    def build(cls, sheets: dict[type[Record], _Sheet], known: Known) -> "_Index":
        def pairs(record: type[Record], key: str) -> dict[str, str]:
            sheet = sheets.get(record)
            if sheet is None:
                return {}
            ids, branches = sheet.series(key), sheet.series("branch_id")
            ok = ids.notna() & branches.notna()
            return dict(zip(ids[ok], branches[ok]))

        branch_sheet = sheets.get(BY_TABLE["branches"])
        file_branches = set(branch_sheet.series("branch_id").dropna()) if branch_sheet else set()
        return cls(branches=set(known.get("branches", ())) | file_branches,
                   member_branch={**known.get("members", {}), **pairs(BY_TABLE["members"], "member_id")},
                   meeting_branch={**known.get("meetings", {}), **pairs(BY_TABLE["meetings"], "meeting_id")},
                   secretaries={b: list(m) for b, m in known.get("secretaries", {}).items()},
                   secretary_terms=known.get("secretary_terms", {}))


def _missing_ref(ref: str) -> str:
    target = BY_TABLE[ref]
    return f"{fields_of(target)[0].header}不存在（本文件“{target.sheet}”表和数据库中都没有）"


def _references(sheet: _Sheet, index: _Index, problems: list[Problem]) -> None:
    record = sheet.record
    # the branch a row belongs to: its own branch (meetings) or its meeting's branch (child rows); 任职 rows have
    # none but their member's
    if "branch_id" in record.model_fields:
        context = sheet.series("branch_id")
    elif "meeting_id" in record.model_fields:
        context = sheet.series("meeting_id").map(index.meeting_branch)
    else:
        context = None
    for name, column in sheet.columns.items():
        spec = column.spec
        if not spec.ref:
            continue
        values = sheet.series(name)
        checked = values.notna() & (values != spec.ref_or) if spec.ref_or else values.notna()
        if spec.ref == "branches":
            bad = checked & ~values.isin(index.branches)
        elif spec.ref == "meetings":
            bad = checked & ~values.isin(index.meeting_branch.keys())
        elif context is None:
            owner = values.map(index.member_branch)
            bad = checked & owner.isna()
        else:
            owner = values.map(index.member_branch)
            bad = checked & context.notna() & (owner != context)
        for i in np.flatnonzero(bad.to_numpy()):
            value = values.iat[i]
            if spec.ref == "members" and isinstance(owner.iat[i], str):
                why = f"该党员属于支部 {owner.iat[i]}，不是本会议所在的支部 {context.iat[i]}"
            else:
                why = _missing_ref(spec.ref) + (f"，也不是“{spec.ref_or}”" if spec.ref_or else "")
            problems.append(sheet.problem(i, spec.header, value, why))


def _one_secretary(sheet: _Sheet, index: _Index, problems: list[Problem]) -> None:
    if "role" not in sheet.columns:
        return
    members, branches, roles = sheet.series("member_id"), sheet.series("branch_id"), sheet.series("role")
    in_file = set(members.dropna())
    seen: dict[str, int] = {}  # branch → row index of its first secretary in the file
    header = sheet.columns["role"].spec.header
    for i in np.flatnonzero((roles == Role.secretary.value).to_numpy()):
        branch = branches.iat[i]
        if branch is None:
            continue
        stored = [m for m in index.secretaries.get(branch, []) if m not in in_file]
        if stored:
            why = f"每个支部只能有一名书记：支部 {branch} 在数据库中已有书记 {stored[0]}"
        elif branch in seen:
            why = f"每个支部只能有一名书记：支部 {branch} 的书记已在第 {sheet.rows[seen[branch]]} 行"
        else:
            seen[branch] = i
            continue
        problems.append(sheet.problem(i, header, Role.secretary.label, why))


def _membership_dates(sheet: _Sheet, problems: list[Problem]) -> None:
    """转出日期 before 转入日期 cannot be (the same day: joined and left at once, allowed)."""
    joined, left = sheet.series("joined_on"), sheet.series("left_on")
    header = field_of(Member, "left_on").header
    for i in np.flatnonzero((joined.notna() & left.notna()).to_numpy()):
        if left.iat[i] < joined.iat[i]:
            problems.append(sheet.problem(i, header, left.iat[i],
                                          f"转出日期早于转入日期（{_day(joined.iat[i])}）：应在转入之后"))


def _day(value: dt.date | None) -> str:
    return "至今" if value is None else value.isoformat()


def _period(start: dt.date, end: dt.date | None) -> str:
    return f"{_day(start)} 至今" if end is None else f"{_day(start)} 至 {_day(end)}"


def _overlap(a: tuple, b: tuple) -> bool:
    """Two periods (start, end or None: current), both days inclusive (rules.md rev 3, precisely 7)."""
    return (b[1] is None or a[0] <= b[1]) and (a[1] is None or b[0] <= a[1])


def tenure_problems(terms: list[tuple], member_branch: dict[str, str], stored: dict[str, list[tuple]],
                    where: Callable[[int], str]) -> list[tuple[int, str, Any, str]]:
    """What is wrong with 任职 rows ``terms`` (member, role, start, end): 终止 before 起始, periods of one member that
    overlap, two 书记 of a branch on one day — counting ``stored`` 书记 periods (branch → (member, start, end)) of
    members ``terms`` do not list (their rows replace those members' rows). (row index, field, value, why) each;
    ``where(i)`` names another row in a message (the import: its Excel row)."""
    periods: dict[str, list[int]] = {}
    found: list[tuple[int, str, Any, str]] = []
    for i, (member, _, start, end) in enumerate(terms):
        if member is None or start is None:
            continue  # already a problem (required)
        if end is not None and end < start:
            found.append((i, "end_date", end, f"终止日期早于起始日期（{_day(start)}）"))
            continue
        periods.setdefault(member, []).append(i)
    for rows in periods.values():
        for later, i in enumerate(rows):
            earlier = next((j for j in rows[:later] if _overlap(terms[i][2:], terms[j][2:])), None)
            if earlier is not None:
                found.append((i, "start_date", terms[i][2],
                              f"同一党员的任职期间不能重叠：与{where(earlier)}（{_period(*terms[earlier][2:])}）"
                              "重叠；交接时前任写 09-30、后任写 10-01"))
    by_branch: dict[str, list[tuple]] = {}  # branch → (start, end, member, row index or None: stored)
    for member, rows in periods.items():
        branch = member_branch.get(member)
        for i in rows:
            if branch is not None and terms[i][1] == Role.secretary.value:
                by_branch.setdefault(branch, []).append((terms[i][2], terms[i][3], member, i))
    for branch, secretaries in by_branch.items():
        others = [(start, end, member, None) for member, start, end in stored.get(branch, [])
                  if member not in periods]
        for later, (start, end, member, i) in enumerate(secretaries):
            other = next((t for t in others + secretaries[:later] if t[2] != member and _overlap((start, end), t)),
                         None)
            if other is None:
                continue
            whose = "数据库中" if other[3] is None else where(other[3])
            found.append((i, "role", Role.secretary.label, f"同一支部同一天只能有一名书记：支部 {branch} 与{whose}党员 "
                                                          f"{other[2]} 的书记任期（{_period(other[0], other[1])}）重叠"))
    return found


def _tenures(sheet: _Sheet, index: _Index, problems: list[Problem]) -> None:
    """任职 rows as ``tenure_problems`` finds them, named by sheet, row and column."""
    header = {f.name: f.header for f in fields_of(sheet.record)}
    columns = [sheet.series(name) for name in ("member_id", "role", "start_date", "end_date")]
    terms = list(zip(*(column.tolist() for column in columns)))
    for i, name, value, why in tenure_problems(terms, index.member_branch, index.secretary_terms,
                                               lambda j: f"第 {sheet.rows[j]} 行"):
        problems.append(sheet.problem(i, header[name], value, why))


def _outside_membership(sheets: dict[type[Record], _Sheet], known: Known) -> list[str]:
    """Rows naming a member at a meeting held outside their membership (before 转入日期, on or after 转出日期): not
    a problem, but neither expected nor counted by the checks (rules.md rev 3, precisely 6): said as a notice."""
    dates = dict(known.get("member_dates", {}))
    members = sheets.get(Member)
    if members is not None and {"joined_on", "left_on"} & set(members.columns):
        for member, joined, left in zip(*(members.series(n) for n in ("member_id", "joined_on", "left_on"))):
            dates[member] = (joined, left)
    if not any(joined or left for joined, left in dates.values()):
        return []
    days = dict(known.get("meeting_dates", {}))
    meetings = sheets.get(Meeting)
    if meetings is not None:
        days.update(zip(meetings.series("meeting_id"), meetings.series("date")))
    notes = []
    for record, sheet in sheets.items():
        if record.parent != "meeting_id":
            continue
        outside: set[int] = set()
        meeting_days = sheet.series("meeting_id").map(days)
        for spec in fields_of(record):
            if spec.ref != "members" or spec.name not in sheet.columns:
                continue
            for i, (person, day) in enumerate(zip(sheet.series(spec.name), meeting_days)):
                joined, left = dates.get(person, (None, None))
                if isinstance(day, dt.date) and ((joined and day < joined) or (left and day >= left)):
                    outside.add(int(sheet.rows[i]))
        if outside:
            rows = sorted(outside)
            shown = "、".join(map(str, rows[:5])) + ("…" if len(rows) > 5 else "")
            notes.append(f"注意：工作表“{record.sheet}”有 {len(rows)} 行（第 {shown} 行）所涉党员在会议召开时不是本支部党员"
                         "（会议日期早于其转入日期或不早于其转出日期），已导入，但检查时不作要求、也不计入")
    return notes


FORMULA_WHY = "公式没有计算结果（文件由程序生成、未经 Excel/WPS 计算），会被读成空；请在 Excel/WPS 中打开并保存后再导入"
MERGED_WHY = "合并单元格：只有左上角的格子有值，其余格子会被读成空；请取消合并，每行填写完整后再导入"


def _layout(sheet: _Sheet, scan: SheetScan, problems: list[Problem], notes: list[str]) -> None:
    """What calamine reads without a word: formulas never calculated and merged cells (problems), hidden rows
    and hidden sheets (notes for the summary). Only our columns and the rows below the header count."""
    headers = {column.position + 1: column.spec.header for column in sheet.columns.values()}  # 1-based column
    first_data = sheet.header_row + 1
    for row, column in scan.formulas:
        if row >= first_data and column in headers:
            problems.append(Problem(sheet.record.sheet, row, headers[column], "", FORMULA_WHY))
    for row1, column1, row2, column2 in scan.merged:
        touched = [headers[c] for c in sorted(headers) if column1 <= c <= column2]
        # a merged range over rows that hold data (a blank merged area loses nothing)
        holds_data = bool(np.any((sheet.rows >= row1) & (sheet.rows <= row2)))
        if holds_data and touched and (row1, column1) != (row2, column2):
            area = f"{get_column_letter(column1)}{row1}:{get_column_letter(column2)}{row2}"
            problems.append(Problem(sheet.record.sheet, max(row1, first_data), touched[0], area, MERGED_WHY))
    name = f"工作表“{scan.name.strip()}”"
    if scan.state != "visible":
        how = "深度隐藏（veryHidden）" if scan.state == "veryHidden" else "隐藏"
        notes.append(f"注意：{name}是{how}的工作表，已一并读取")
    hidden = np.intersect1d(np.asarray(scan.hidden_rows, dtype=np.int64), sheet.rows) if scan.hidden_rows else []
    if len(hidden):
        shown = "、".join(map(str, hidden[:5])) + ("…" if len(hidden) > 5 else "")
        notes.append(f"注意：{name}有 {len(hidden)} 行被隐藏（第 {shown} 行），已一并读取")


def _ownership(sheet: _Sheet, known: Known, claimed: dict[str, dict[str, str]], problems: list[Problem]) -> None:
    """A stored member or meeting stays in its branch (its attendance, criticism and talk rows would otherwise
    cross branches); an id that an earlier file of the same command added may not be added again."""
    record = sheet.record
    if not record.key or record.key[0] not in sheet.columns:
        return
    ids = sheet.series(record.key[0])
    if "branch_id" in sheet.columns and record.table in known:
        stored, branches = ids.map(known[record.table]), sheet.series("branch_id")
        moved = stored.notna() & branches.notna() & (stored != branches)
        header = sheet.columns["branch_id"].spec.header
        for i in np.flatnonzero(moved.to_numpy()):
            problems.append(sheet.problem(i, header, branches.iat[i],
                                          f"该{record.label}（{ids.iat[i]}）在数据库中属于支部 {stored.iat[i]}，"
                                          f"不能改到支部 {branches.iat[i]}"))
    if claimed.get(record.table):
        earlier = ids.map(claimed[record.table])
        header = sheet.columns[record.key[0]].spec.header
        for i in np.flatnonzero(earlier.notna().to_numpy()):
            problems.append(sheet.problem(i, header, ids.iat[i], f"同一次导入的文件“{earlier.iat[i]}”已新增这个编号，"
                                                                 "两个文件不能新增同一编号（本文件整体不写入）"))


# ---------------------------------------------------------------------------------------------------------------
# Public entry points


def read_workbook(source: Source, known: Known | None = None) -> tuple[dict[type[Record], pd.DataFrame],
                                                                       list[Problem]]:
    """Read and validate a workbook. ``known`` = ids already stored (``known_ids(store)``; default none).

    Returns the batch (record class → frame of the model fields the sheet has, object columns of Python values;
    only sheets with rows) and every problem found, sorted by sheet, row and column. Raises OrglifeError when
    the file cannot be read at all.
    """
    workbook = open_workbook(source)
    if not any(_ours(name) for name in workbook.sheet_names):
        raise OrglifeError(f"工作簿中没有可识别的工作表（工作表名应为：{'、'.join(BY_SHEET)}）")
    problems: list[Problem] = []
    notes: list[str] = []
    sheets: dict[type[Record], _Sheet] = {}
    for name in workbook.sheet_names:
        record = BY_SHEET.get(name.strip())
        if record is None:  # not ours (instructions, notes, or a sheet renamed by mistake): said, not read
            like = difflib.get_close_matches(name.strip(), list(BY_SHEET), n=1, cutoff=0.5)
            notes.append(f"注意：工作表“{name}”不是可识别的工作表，未读取" + (f"（是否应为“{like[0]}”？）" if like else ""))
            continue
        if record in sheets:
            problems.append(Problem(record.sheet, 1, "", name, "工作表重复：同名工作表只能有一个"))
            continue
        try:
            cells = workbook.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as error:  # a corrupt sheet inside a readable zip
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise OrglifeError(f"无法读取工作表“{name}”：{reason}") from None
        sheet = _read_sheet(record, cells, problems)
        del cells
        if sheet is not None:
            sheets[record] = sheet
            _layout(sheet, workbook.inspection.sheets.get(name, SheetScan(name)), problems, notes)
    known = known or {}
    index = _Index.build(sheets, known)
    for record, sheet in sheets.items():
        _cell_problems(sheet, problems)
        _unique_ids(sheet, problems)
        _duplicate_rows(sheet, problems)
        _ownership(sheet, known, workbook.claimed, problems)
        _references(sheet, index, problems)
        if record is Member:
            _one_secretary(sheet, index, problems)
            _membership_dates(sheet, problems)
        if record is Tenure:
            _tenures(sheet, index, problems)
    notes += _outside_membership(sheets, known)
    workbook.notes = notes
    workbook.keys = {record.table: set(sheet.series(record.key[0]).dropna()) for record, sheet in sheets.items()
                     if record.key and record.key[0] in sheet.columns}
    columns = {(r.sheet, c.spec.header): c.position for r, sh in sheets.items() for c in sh.columns.values()}
    problems.sort(key=lambda p: (_SHEET_ORDER[BY_SHEET[p.sheet]], p.row, columns.get((p.sheet, p.header), -1)))
    batch = {record: sheet.frame() for record, sheet in sheets.items() if len(sheet.rows)}
    return batch, problems


def known_ids(store: Store, connection: Connection | None = None) -> Known:
    """What a file may refer to in the store: ``Store.id_index()`` plus each branch's stored secretary.

    ``connection``: read inside the caller's write transaction (``import_file``), so they cannot change before
    it writes."""
    if connection is None:
        with store.engine.connect() as connection:
            return known_ids(store, connection)
    known: Known = store.id_index(connection)
    table = table_of(Member)
    secretaries: dict[str, list[str]] = {}
    query = select(table.c.branch_id, table.c.member_id).where(table.c.role == Role.secretary.value)
    for branch, member in connection.execute(query):
        secretaries.setdefault(branch, []).append(member)
    known["secretaries"] = secretaries
    tenures, terms = table_of(Tenure), {}
    query = (select(table.c.branch_id, tenures.c.member_id, tenures.c.start_date, tenures.c.end_date)
             .join(table, table.c.member_id == tenures.c.member_id).where(tenures.c.role == Role.secretary.value)
             .order_by(tenures.c.row_id))
    for branch, member, start, end in connection.execute(query):
        terms.setdefault(branch, []).append((member, start, end))
    known["secretary_terms"] = terms
    # members with dates, and then the meetings' days: for the notice on rows outside a membership
    dated = select(table.c.member_id, table.c.joined_on, table.c.left_on).where(
        table.c.joined_on.is_not(None) | table.c.left_on.is_not(None))
    known["member_dates"] = {member: (joined, left) for member, joined, left in connection.execute(dated)}
    meetings = table_of(Meeting)
    known["meeting_dates"] = dict(connection.execute(select(meetings.c.meeting_id, meetings.c.date)).all()) \
        if known["member_dates"] else {}
    return known


def _keep_stored_values(connection: Connection, batch: dict[type[Record], pd.DataFrame]) -> None:
    """A column left out of a sheet keeps the stored values of records with ids (an old template must not
    blank them); for new records, and for child rows (replaced as a whole), it is simply empty. Read on the
    write transaction's ``connection``: the values kept are the ones stored when the file is written."""
    for record, frame in batch.items():
        absent = [spec.name for spec in fields_of(record) if spec.name not in frame.columns]
        if not (record.key and absent):
            continue
        table, key = table_of(record), record.key[0]
        ids = frame[key].tolist()
        stored: dict[str, tuple] = {}
        for start in range(0, len(ids), 500):
            query = select(table.c[key], *[table.c[n] for n in absent]).where(
                table.c[key].in_(ids[start:start + 500]))
            stored.update((row[0], tuple(row[1:])) for row in connection.execute(query))
        for position, name in enumerate(absent):
            frame[name] = pd.Series([stored[i][position] if i in stored else None for i in ids], dtype=object,
                                    index=frame.index)


def import_file(source: Source, store: Store, *, name: str | None = None) -> ImportResult:
    """Validate one workbook against the store and, when it has no problem, store it in one transaction.

    Parsing and validating (the slow part) runs before the store's write lock is taken, against the ids stored
    then. Inside the write transaction the ids are read again; only if another writer changed them meanwhile is
    the file validated again, there, so that what is written was checked against what is stored (two imports at
    once cannot both add a 书记 to one branch). The write's own reads (stored child rows, stored values) are made
    under the lock too, so two imports cannot both add a meeting's child rows."""
    result = ImportResult(name or _name(source))

    def validate(known: Known) -> dict[type[Record], pd.DataFrame]:
        batch, result.problems = read_workbook(workbook, known)
        result.rows = sum(len(frame) for frame in batch.values())
        return batch

    try:
        workbook = open_workbook(source)
        known = known_ids(store)
        batch = validate(known)
        if result.problems:
            return result
        with store.transaction() as connection:
            stored = known_ids(store, connection)
            if stored != known:
                batch = validate(stored)
            if not result.problems:
                _keep_stored_values(connection, batch)
                result.summary = store.save(batch, connection=connection, source=result.name)
    except SQLAlchemyError as error:
        result.error = str(write_failed(error))
    except OrglifeError as error:
        result.error = str(error)
    return result


def _stored_keys(store: Store) -> dict[str, set[str]]:
    """The ids of every keyed record kind in the store (table → ids)."""
    keys: dict[str, set[str]] = {}
    with store.engine.connect() as connection:
        for record in RECORDS:
            if record.key:
                column = table_of(record).c[record.key[0]]
                keys[record.table] = set(connection.execute(select(column)).scalars())
    return keys


def import_files(paths: list[str | os.PathLike], db: str | None = None,
                 echo: Callable[[str], Any] = print, *, actor: str | None = None) -> bool:
    """``orglife import``: each file stands or falls alone; True when every file was stored.

    An id new to the store belongs to the first file that adds it: a later file of the same command adding it
    again is rejected (it would silently overwrite the first file's record).
    """
    opened: dict[int, OpenedWorkbook] = {}
    unreadable: dict[int, str] = {}
    for i, path in enumerate(paths):
        try:
            opened[i] = open_workbook(path)
        except OrglifeError as error:
            unreadable[i] = str(error)
    if len(paths) == 1 and unreadable:
        raise OrglifeError(unreadable[0])  # the CLI prints the one line and exits 2
    results: list[ImportResult] = []
    store = Store(db, actor=actor) if opened else None  # the account's scope is checked where the batch is saved
    try:
        before = _stored_keys(store) if len(opened) > 1 else {}
        claimed: dict[str, dict[str, str]] = {}
        for i, path in enumerate(paths):
            if i in unreadable:
                result = ImportResult(Path(path).name, error=unreadable[i])
            else:
                opened[i].claimed = claimed
                result = import_file(opened[i], store, name=Path(path).name)
                if result.stored:
                    for table, ids in opened[i].keys.items():
                        for new in ids - before.get(table, set()):
                            claimed.setdefault(table, {}).setdefault(new, result.name)
            for line in result.lines() + ["  " + note for note in (opened[i].notes if i in opened else [])]:
                echo(line)
            results.append(result)
    finally:
        if store is not None:
            store.close()
    if len(results) > 1:
        stored = [r.name for r in results if r.stored]
        rejected = [r.name for r in results if not r.stored]
        echo(f"共 {len(results)} 个文件：已写入 {len(stored)} 个" + (f"（{'、'.join(stored)}）" if stored else "")
             + f"，被拒绝 {len(rejected)} 个" + (f"（{'、'.join(rejected)}）" if rejected else "") + "。")
    return all(r.stored for r in results)
