"""Sheet layout of the exchange workbook, shared by the blank template and the export.

Everything here is read off ``models.fields_of``: headers, header notes (what goes there, allowed values),
drop-down lists on enumerated and 是/否 columns, date and text formats, column widths. Sheets are written with
openpyxl's write-only mode (it keeps comments, data validations, frozen panes and column formats) so that an
export of a large store streams instead of building every cell in memory.
"""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..models import BY_TABLE, RECORDS, FieldSpec, Record, fields_of
from ..outputs import check_target, replacing

DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"  # Excel keeps what is typed into an id column as text, so 001 stays 001
YES, NO = "是", "否"
LAST_ROW = 1_048_576
AUTHOR = "orglife"

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_FONT = Font(bold=True)
_REQUIRED_FONT = Font(bold=True, color="C00000")
_KIND_WIDTH = {"id": 12, "date": 12, "bool": 8, "int": 8, "number": 10, "text": 24}
_KIND_HINT = {
    "date": "日期：Excel 日期，或文本 YYYY-MM-DD、YYYY/MM/DD、YYYY年M月D日",
    "bool": f"填 {YES} 或 {NO}（也可填 Y/N、true/false、1/0）",
    "int": "整数",
    "number": "数字（不能为负）",
    "id": "编号按文本处理（001 保持为 001）",
}


def display_width(text: str) -> int:
    """Columns a string takes in Excel: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def header_note(spec: FieldSpec) -> str:
    """The comment on a header cell: what goes there and which values are allowed."""
    lines = [spec.note] if spec.note else []
    if spec.required:
        lines.append("必填")
    if spec.enum is not None:
        lines.append("可选值：" + "、".join(spec.enum.labels()))
    elif spec.kind in _KIND_HINT and not (spec.kind == "id" and spec.ref):
        lines.append(_KIND_HINT[spec.kind])
    if spec.ref:
        target = BY_TABLE[spec.ref].sheet
        extra = f"，或填“{spec.ref_or}”" if spec.ref_or else ""
        lines.append(f"须为“{target}”表或数据库中已有的编号{extra}")
    if spec.confidential:
        lines.append("保密内容")
    return "\n".join(lines)


def column_width(spec: FieldSpec) -> float:
    options = [display_width(spec.header) + 3, _KIND_WIDTH.get(spec.kind, 12)]
    if spec.enum is not None:
        options.append(max(display_width(label) for label in spec.enum.labels()) + 4)
    return max(options)


def choices(spec: FieldSpec) -> list[str] | None:
    """The drop-down list of a column, or None."""
    if spec.enum is not None:
        return spec.enum.labels()
    if spec.kind == "bool":
        return [YES, NO]
    return None


def _validation(spec: FieldSpec, letter: str) -> DataValidation:
    values = choices(spec)
    validation = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle=spec.header,
                                error="请从下拉列表中选择：" + "、".join(values))
    validation.add(f"{letter}2:{letter}{LAST_ROW}")
    return validation


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def add_sheet(workbook: Workbook, record: type[Record]):
    """A write-only sheet for ``record`` with its header row written; the caller appends the data rows."""
    sheet = workbook.create_sheet(record.sheet)
    specs = fields_of(record)
    header = []
    for index, spec in enumerate(specs, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]  # column styles must be set before the first row
        dimension.width = column_width(spec)
        if spec.kind == "date":
            dimension.number_format = DATE_FORMAT
        elif spec.kind == "id":
            dimension.number_format = TEXT_FORMAT
        if choices(spec):
            sheet.data_validations.append(_validation(spec, letter))
        cell = WriteOnlyCell(sheet, value=spec.header)
        cell.font = _REQUIRED_FONT if spec.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        comment = Comment(header_note(spec), AUTHOR)
        comment.width, comment.height = 260, 110
        cell.comment = comment
        header.append(cell)
    sheet.freeze_panes = "A2"
    sheet.append(header)
    return sheet


def save(workbook: Workbook, out: str | os.PathLike) -> Path:
    """Write the workbook to ``out`` whole or not at all (``outputs.replacing``); OrglifeError if it cannot.

    Callers check the target (``outputs.check_target``) before building the workbook; a failure only the write
    reveals (no permission, a full disk) still closes every sheet's stream, so nothing is left for the garbage
    collector to finish noisily ("Exception ignored in: <generator …>")."""
    try:
        with replacing(out) as temp:
            workbook.save(temp)
    except BaseException:
        _discard(workbook)
        raise
    return Path(out)


def _discard(workbook: Workbook) -> None:
    """Close the write-only sheets a failed save left open (their rows go to openpyxl's own temporary files)."""
    for sheet in workbook.worksheets:
        if not sheet.closed:
            try:
                sheet.close()
            except Exception:  # noqa: BLE001 - the save's own error is the one to report
                pass


def write_template(out: str | os.PathLike) -> Path:
    """The blank exchange workbook: every sheet, headers with notes, drop-downs, formats."""
    check_target(out)  # before any sheet is started
    workbook = new_workbook()
    for record in RECORDS:
        add_sheet(workbook, record)
    return save(workbook, out)
