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

from ..models import BY_TABLE, DATE_MAX, DATE_MIN, RECORDS, FieldSpec, Record, fields_of
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


def _excel_date(day) -> str:
    return f"DATE({day.year},{day.month},{day.day})"


def _validation(spec: FieldSpec, letter: str) -> DataValidation | None:
    """The drop-down of an enumerated or 是/否 column, or the date check of a date column.

    是/否 and dates warn instead of refusing: the header note allows Y/N, true/false, 1/0 and dates typed as text
    (YYYY/MM/DD, YYYY年M月D日), which the import reads but a strict validation would reject as typed."""
    values = choices(spec)
    if values:
        lenient = spec.kind == "bool"
        error = ("请从下拉列表中选择：" + "、".join(values) +
                 ("（也可填 Y/N、true/false、1/0；选“是”保留所填内容）" if lenient else ""))
        validation = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                    showErrorMessage=True, errorTitle=spec.header, error=error,
                                    errorStyle="warning" if lenient else "stop")
    elif spec.kind == "date":
        validation = DataValidation(type="date", operator="between", formula1=_excel_date(DATE_MIN),
                                    formula2=_excel_date(DATE_MAX), allow_blank=True, showErrorMessage=True,
                                    errorStyle="warning", errorTitle=spec.header,
                                    error=f"请填 {DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d} 之间的日期；文本 YYYY-MM-DD、"
                                          "YYYY/MM/DD、YYYY年M月D日 也可以，选“是”保留所填内容")
    else:
        return None
    validation.add(f"{letter}2:{letter}{LAST_ROW}")
    return validation


PORTRAIT_WIDTH = 90  # column-width units across a portrait A4 page; wider sheets print landscape
MAX_WIDTH = 60  # a column fits its longest value up to this; longer text is cut off on screen, whole in the cell


# East Asian wide and full-width ranges (what ``display_width`` counts double), for a whole column at once
_WIDE = "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"


def fitted_width(values, least: float = 0) -> float:
    """A column width that fits the longest of ``values`` (CJK characters count double), within MAX_WIDTH; measured
    column-wise (an export has a million cells)."""
    return min(MAX_WIDTH, max(least, longest_width(values) + 2))


def longest_width(values) -> int:
    """The display width of the longest of ``values`` (CJK characters count double)."""
    import pandas as pd

    texts = pd.Series(values, dtype=object).dropna().astype(str)
    return int((texts.str.len() + texts.str.count(_WIDE)).max()) if len(texts) else 0


LANDSCAPE_WIDTH = 135  # column-width units across a landscape A4 page
BODY_POINTS, LEAST_POINTS = 11, 8  # the workbook's font size, and the smallest a printed page may shrink it to


def fits_one_page_wide(widths: list[float]) -> bool:
    """Whether the columns fit across one A4 page (landscape) with the text still at least LEAST_POINTS."""
    return sum(widths) * LEAST_POINTS / BODY_POINTS <= LANDSCAPE_WIDTH


def print_setup(sheet, widths: list[float]) -> None:
    """A4, the header row on every printed page, landscape when the columns are wider than a portrait page; one
    page wide (as many tall as it takes) while the text stays at least LEAST_POINTS, otherwise at full size across
    pages with the key (first) column repeated on each (before: the export's 会议 sheet printed at ~3 pt)."""
    sheet.print_title_rows = "1:1"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.orientation = "landscape" if sum(widths) > PORTRAIT_WIDTH else "portrait"
    if fits_one_page_wide(widths):
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0  # as many pages tall as needed
    else:
        sheet.print_title_cols = "A:A"
    sheet.print_options.gridLines = True


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def add_sheet(workbook: Workbook, record: type[Record], frame=None):
    """A write-only sheet for ``record`` with its header row written and its print setup; the caller appends the
    data rows (``frame``, when given, widens text columns to fit its longest value)."""
    sheet = workbook.create_sheet(record.sheet)
    specs = fields_of(record)
    header, widths = [], []
    for index, spec in enumerate(specs, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]  # column styles must be set before the first row
        width = column_width(spec)
        if frame is not None and spec.kind in ("id", "text") and spec.name in frame:
            width = fitted_width(frame[spec.name].tolist(), width)
        dimension.width = width
        widths.append(width)
        if spec.kind == "date":
            dimension.number_format = DATE_FORMAT
        elif spec.kind == "id":
            dimension.number_format = TEXT_FORMAT
        validation = _validation(spec, letter)
        if validation is not None:
            sheet.data_validations.append(validation)
        cell = WriteOnlyCell(sheet, value=spec.header)
        cell.font = _REQUIRED_FONT if spec.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        comment = Comment(header_note(spec), AUTHOR)
        comment.width, comment.height = 260, 110
        cell.comment = comment
        header.append(cell)
    sheet.freeze_panes = "A2"
    print_setup(sheet, widths)
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
