"""Writing a validated batch: upsert records that have ids, replace a meeting's child rows per sheet.

The rules (workbook import and the demo generator share them):
- a record with a known id is updated, a new id inserted; an unchanged row is left alone (version and
  ``updated_at`` stay, so re-importing the same file changes nothing);
- rows of a sheet without ids (talks, attendance, …) replace that meeting's stored rows of the same sheet, but only
  for meetings whose rows actually differ.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, bindparam, delete, select

from ..models import RECORDS, Record, fields_of
from .schema import table_of

_CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit


@dataclass
class SaveSummary:
    inserted: dict[type[Record], int] = field(default_factory=dict)
    updated: dict[type[Record], int] = field(default_factory=dict)
    unchanged: dict[type[Record], int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())

    def describe(self) -> str:
        parts = []
        for record in RECORDS:
            new, upd = self.inserted.get(record, 0), self.updated.get(record, 0)
            if new or upd:
                parts.append(f"{record.sheet} 新增 {new} 行" + (f"、更新 {upd} 行" if upd else ""))
        return "；".join(parts) if parts else "内容与数据库一致，无需改动"


def _chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _python(value: Any) -> Any:
    """pandas/numpy scalars → plain Python values the drivers and comparisons understand."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item") and not isinstance(value, (str, dt.date)):
        return value.item()
    return value


def frame_rows(record: type[Record], frame: pd.DataFrame) -> list[tuple]:
    names = [f.name for f in fields_of(record)]
    columns = [frame[n].tolist() if n in frame.columns else [None] * len(frame) for n in names]
    return [tuple(_python(v) for v in row) for row in zip(*columns)]


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in row)


def _has_rows(connection: Connection, record: type[Record]) -> bool:
    table = table_of(record)
    return connection.execute(select(table.c[fields_of(record)[0].name]).limit(1)).first() is not None


def _insert(connection: Connection, record: type[Record], rows: Iterable[tuple], stamp: dt.datetime) -> int:
    names = [f.name for f in fields_of(record)]
    payload = [dict(zip(names, row), version=1, updated_at=stamp) for row in rows]
    for part in _chunks(payload, 20_000):
        connection.execute(table_of(record).insert(), part)
    return len(payload)


def _upsert(connection: Connection, record: type[Record], rows: list[tuple], stamp: dt.datetime,
            summary: SaveSummary) -> None:
    names = [f.name for f in fields_of(record)]
    key = record.key[0]
    key_pos = names.index(key)
    table = table_of(record)
    existing: dict[str, tuple] = {}
    if _has_rows(connection, record):
        ids = [row[key_pos] for row in rows]
        columns = [table.c[n] for n in names]
        for part in _chunks(ids):
            for stored in connection.execute(select(*columns).where(table.c[key].in_(part))):
                existing[stored[key_pos]] = tuple(stored)
    new = [row for row in rows if row[key_pos] not in existing]
    changed = [row for row in rows if row[key_pos] in existing and existing[row[key_pos]] != row]
    summary.inserted[record] = _insert(connection, record, new, stamp)
    if changed:
        statement = (table.update().where(table.c[key] == bindparam("_key"))
                     .values({n: bindparam(n) for n in names if n != key}
                             | {"version": table.c.version + 1, "updated_at": stamp}))
        connection.execute(statement, [dict(zip(names, row), _key=row[key_pos]) for row in changed])
    summary.updated[record] = len(changed)
    summary.unchanged[record] = len(rows) - len(new) - len(changed)


def _replace_children(connection: Connection, record: type[Record], rows: list[tuple], stamp: dt.datetime,
                      summary: SaveSummary) -> None:
    names = [f.name for f in fields_of(record)]
    parent_pos = names.index(record.parent)
    table = table_of(record)
    incoming: dict[str, list[tuple]] = {}
    for row in rows:
        incoming.setdefault(row[parent_pos], []).append(row)
    stored: dict[str, list[tuple]] = {}
    if _has_rows(connection, record):
        columns = [table.c[n] for n in names]
        for part in _chunks(list(incoming)):
            for row in connection.execute(select(*columns).where(table.c[record.parent].in_(part))):
                stored.setdefault(row[parent_pos], []).append(tuple(row))
    changed = [meeting for meeting, new_rows in incoming.items()
               if sorted(new_rows, key=_sort_key) != sorted(stored.get(meeting, []), key=_sort_key)]
    replaced = [meeting for meeting in changed if meeting in stored]
    for part in _chunks(replaced):
        connection.execute(delete(table).where(table.c[record.parent].in_(part)))
    inserted = _insert(connection, record, (row for meeting in changed for row in incoming[meeting]), stamp)
    summary.inserted[record] = inserted
    summary.updated[record] = 0
    summary.unchanged[record] = len(rows) - inserted


def save_batch(connection: Connection, batch: dict[type[Record], pd.DataFrame]) -> SaveSummary:
    """Merge ``batch`` into the store on ``connection`` (the caller owns the transaction)."""
    from . import now

    stamp = now()
    summary = SaveSummary()
    for record in RECORDS:  # parents before children, for the foreign keys
        frame = batch.get(record)
        if frame is None or len(frame) == 0:
            continue
        rows = frame_rows(record, frame)
        if record.key:
            _upsert(connection, record, rows, stamp, summary)
        else:
            _replace_children(connection, record, rows, stamp, summary)
    return summary
