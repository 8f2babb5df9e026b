"""A plain table (a data frame with Chinese headers) as an .xlsx worksheet for people: check results and the like.

Text is written as text (``write.text_writer``: a value starting with ``=`` never becomes a formula), the header
row is frozen and filterable, and the sheet prints on A4 with the header repeated (``template.print_setup``).
"""
from __future__ import annotations

import io
import math

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from ..present.values import missing
from .template import (_HEADER_FILL, _HEADER_FONT, display_width, fitted_width, longest_width, new_workbook,
                       print_setup)
from .write import text_writer

_WRAP = Alignment(wrap_text=True, vertical="top")
LINE_POINTS = 15  # a line of the workbook's 11-pt text


def write_frame(frame: pd.DataFrame, title: str) -> bytes:
    """``frame`` as the one sheet ``title`` of a workbook; the file's bytes."""
    workbook = new_workbook()
    sheet = workbook.create_sheet(title)
    widths = [fitted_width(frame[name].tolist(), display_width(str(name)) + 3) for name in frame.columns]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    print_setup(sheet, widths)
    sheet.freeze_panes = "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    text = text_writer(sheet)
    # a column whose text is longer than its (bounded) width wraps, or its end is cut off on screen and in print
    wrapped = {position for position, (name, width) in enumerate(zip(frame.columns, widths))
               if longest_width(frame[name].tolist()) + 2 > width}
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        values = [text(v) if isinstance(v, str) else (None if missing(v) else v) for v in row]
        lines = 1
        for position in wrapped:
            if isinstance(row[position], str):  # written as text (a string, or a cell when it looks like a formula)
                cell = values[position]
                if isinstance(cell, str):
                    cell = values[position] = WriteOnlyCell(sheet, value=cell)
                cell.alignment = _WRAP
                lines = max(lines, math.ceil(display_width(row[position]) / (widths[position] - 2)))
        if lines > 1:  # a row's height is not grown to its wrapped text on opening (LibreOffice): set it
            sheet.row_dimensions[number].height = LINE_POINTS * lines
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
