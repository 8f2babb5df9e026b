"""Writing records back into the exchange workbook (the template's layout, filled in).

Cells are written as a person would type them: Chinese enum labels, 是/否, real Excel dates, ids as text, so that
importing the export gives the same store content.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..errors import OrglifeError
from ..models import RECORDS, FieldSpec, Record, fields_of
from ..outputs import check_target
from ..store import using
from ..store.writer import frame_rows
from .template import NO, YES, add_sheet, new_workbook, save


def text_writer(sheet) -> Callable[[Any], Any]:
    def cell(value: Any) -> Any:
        if value is None:
            return None
        value = str(value)
        if ILLEGAL_CHARACTERS_RE.search(value):  # control characters cannot be stored in xlsx
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):  # text, not a formula
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"
            return written
        return value

    return cell


def _converter(spec: FieldSpec, sheet) -> Callable[[Any], Any] | None:
    """Stored value → cell value; None where the value is written as it is."""
    if spec.enum is not None:
        labels = {member.value: member.label for member in spec.enum}
        return lambda value: None if value is None else labels.get(value, value)
    if spec.kind == "bool":
        return lambda value: None if value is None else (YES if value else NO)
    if spec.kind in ("id", "text"):
        return text_writer(sheet)
    if spec.kind == "date":
        return lambda value: value.date() if isinstance(value, dt.datetime) else value
    if spec.kind == "int":  # a frame column with gaps holds floats: 2026.0 → 2026
        return lambda value: None if value is None else int(value)
    return None


def _append_rows(sheet, record: type[Record], frame: pd.DataFrame) -> int:
    rows = frame_rows(record, frame)  # plain Python values in field order
    if not rows:
        return 0
    columns = list(zip(*rows))
    for position, spec in enumerate(fields_of(record)):
        convert = _converter(spec, sheet)
        if convert is not None:
            columns[position] = [convert(value) for value in columns[position]]
    for row in zip(*columns):
        sheet.append(row)
    return len(rows)


def write_workbook(out: str | os.PathLike, batch: dict[type[Record], pd.DataFrame]) -> dict[type[Record], int]:
    """Write every sheet (empty ones with headers only); returns rows written per record kind."""
    check_target(out)  # before any sheet is started
    workbook = new_workbook()
    written = {}
    for record in RECORDS:
        frame = batch.get(record)
        sheet = add_sheet(workbook, record, frame)
        written[record] = 0 if frame is None else _append_rows(sheet, record, frame)
    save(workbook, out)
    return written


def export_store(out: str | os.PathLike, db=None, branches: list[str] | None = None, *, actor=None) -> str:
    """``orglife export``: the store (optionally some branches' rows of every sheet) → workbook; a Chinese summary.
    ``actor``: whose scope (an account or its name; see ``Store``): only its branches, confidential sheets only
    when it may read them."""
    check_target(out)  # a wrong path fails before the store is read
    with using(db, actor=actor) as store:  # a mistyped path is an error, not a new empty store
        if branches:
            store.visible(branches)  # a branch outside the actor's scope is refused as such
            missing = sorted(set(branches) - set(store.branch_ids()))
            if missing:
                raise OrglifeError(f"数据库中没有这些支部：{'、'.join(missing)}")
        batch = {record: store.read(record, branches) for record in RECORDS}
    written = write_workbook(out, batch)
    parts = [f"{record.sheet} {count} 行" for record, count in written.items() if count]
    return "、".join(parts) if parts else "数据库中没有记录，只写出了表头"


__all__ = ["write_workbook", "export_store"]
