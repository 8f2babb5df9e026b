"""Writing a validated batch: upsert records that have ids, replace a meeting's child rows per sheet.

The rules (workbook import and the demo generator share them):
- a record with a known id is updated, a new id inserted; an unchanged row is left alone (version and
  ``updated_at`` stay, so re-importing the same file changes nothing);
- rows of a sheet without ids (talks, attendance, …) replace that meeting's stored rows of the same sheet, but only
  for meetings whose rows actually differ (任职 rows: per member).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, bindparam, delete, select

from ..errors import OrglifeError
from ..models import RECORDS, Ballot, Record, fields_of
from ..present.values import plain
from . import audit
from .clock import now
from .schema import BALLOT_COUNTS, ROW_ID, table_of

_CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit


@dataclass
class SaveSummary:
    inserted: dict[type[Record], int] = field(default_factory=dict)
    updated: dict[type[Record], int] = field(default_factory=dict)
    unchanged: dict[type[Record], int] = field(default_factory=dict)
    deleted: dict[type[Record], int] = field(default_factory=dict)  # only single-record edits delete
    audit: list[dict] = field(default_factory=list)  # audit.entry() rows for the change, appended by the store
    # every meeting whose records the change touched, where they were as well as where they go: the review lock
    # is checked on these, so a record cannot be moved out of an approved meeting either
    meetings: set[str] = field(default_factory=set)

    @property
    def changed(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def describe(self) -> str:
        parts = []
        for record in RECORDS:
            new, upd = self.inserted.get(record, 0), self.updated.get(record, 0)
            gone = self.deleted.get(record, 0)
            if new or upd or gone:
                parts.append(f"{record.sheet} 新增 {new} 行" + (f"、更新 {upd} 行" if upd else "")
                             + (f"、删除 {gone} 行" if gone else ""))
        return "；".join(parts) if parts else "内容与数据库一致，无需改动"


def _chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _python(value: Any) -> Any:
    """pandas/numpy scalars → plain Python values the drivers and comparisons understand."""
    value = plain(value)
    return value.date() if isinstance(value, pd.Timestamp) else value


def frame_rows(record: type[Record], frame: pd.DataFrame) -> list[tuple]:
    names = [f.name for f in fields_of(record)]
    columns = [frame[n].tolist() if n in frame.columns else [None] * len(frame) for n in names]
    return [tuple(_python(v) for v in row) for row in zip(*columns)]


def _meeting_of(record: type[Record], values: dict | None) -> str | None:
    """The meeting a record belongs to (a meeting: itself; branches and members: none)."""
    if values is None or "meeting_id" not in record.model_fields:
        return None
    return values.get("meeting_id")


def _note(summary: SaveSummary, record: type[Record], entry: dict, new: dict | None, old: dict | None = None):
    """Add a change's audit entry and the meetings it touched. A record moved to another meeting is logged under
    the meeting it left too, so that meeting's history shows what it lost."""
    summary.audit.append(entry)
    where, was = _meeting_of(record, new), _meeting_of(record, old)
    summary.meetings.update(m for m in (where, was) if m is not None)
    if None not in (where, was) and where != was:
        summary.audit.append({**entry, "meeting_id": was, "branch_id": None})  # the store fills in its branch


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
    for row in new:
        values = dict(zip(names, row))
        _note(summary, record, _keyed_entry("insert", record, values), values)
    for row in changed:
        values, before = dict(zip(names, row)), dict(zip(names, existing[row[key_pos]]))
        _note(summary, record, _keyed_entry("update", record, values, before), values, before)
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
    changed = [parent for parent, new_rows in incoming.items()
               if sorted(new_rows, key=_sort_key) != sorted(stored.get(parent, []), key=_sort_key)]
    if record is Ballot and changed:  # a closed count stays as counted, whichever way new ballots arrive
        closed = closed_counts(connection, changed)
        if closed:
            raise CountClosed(_closed_message(closed))
    by_meeting = record.parent == "meeting_id"
    if by_meeting:
        summary.meetings.update(changed)
    replaced = [parent for parent in changed if parent in stored]
    for part in _chunks(replaced):
        connection.execute(delete(table).where(table.c[record.parent].in_(part)))
    inserted = _insert(connection, record, (row for parent in changed for row in incoming[parent]), stamp)
    summary.inserted[record] = inserted
    # a member's 任职 rows: logged under the member (as the member's own changes are), with its branch
    branches = {} if by_meeting else _member_branches(connection, changed)
    summary.audit += [audit.entry("replace", record=record, meeting=parent if by_meeting else None,
                                  key=None if by_meeting else parent, branch=branches.get(parent),
                                  detail={"before": len(stored.get(parent, [])), "after": len(incoming[parent])})
                      for parent in changed]
    summary.updated[record] = 0
    summary.unchanged[record] = len(rows) - inserted


def _member_branches(connection: Connection, member_ids: list[str]) -> dict[str, str]:
    members = table_of(RECORDS[1])
    found: dict[str, str] = {}
    for part in _chunks(member_ids):
        found.update(connection.execute(select(members.c.member_id, members.c.branch_id).where(
            members.c.member_id.in_(part))).all())
    return found


def _keyed_entry(action: str, record: type[Record], values: dict, old: dict | None = None) -> dict:
    detail = audit.changes_detail(record, old, values) if old is not None else audit.values_detail(record, values)
    return audit.entry(action, record=record, key=values.get(record.key[0]), branch=values.get("branch_id"),
                       meeting=values.get("meeting_id") if record.table != "meetings" else values.get(record.key[0]),
                       detail=detail)


def save_batch(connection: Connection, batch: dict[type[Record], pd.DataFrame]) -> SaveSummary:
    """Merge ``batch`` into the store on ``connection`` (the caller owns the transaction)."""

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


# ---------------------------------------------------------------------------------------------------------------
# Single-record edits with optimistic concurrency (the forms): each edit names the version it was based on; a
# stale version raises VersionConflict carrying the current values, and the whole unit of work is rolled back.


class VersionConflict(OrglifeError):
    """Someone else changed or removed the record since it was read; nothing of the save was written.

    ``current`` holds the stored field values now (None when the record is gone), ``version`` its version."""

    def __init__(self, record: type[Record], where: str, expected: int | None, current: dict[str, Any] | None,
                 version: int | None) -> None:
        self.record, self.where, self.expected, self.current, self.version = record, where, expected, current, version
        if expected is None:
            why = "已被他人先录入（编号已存在）"
        elif current is None:
            why = "已被他人删除"
        else:
            why = f"已被他人修改（您打开的是第 {expected} 版，现在是第 {version} 版）"
        super().__init__(f"{record.label}{where}{why}，本次保存未写入任何内容")


class CountClosed(OrglifeError):
    """Ballots of a meeting whose count the secretary has closed cannot change."""


@dataclass
class Edit:
    """One record to insert (``version`` None), update or delete, based on the stored ``version`` the user saw.

    ``values`` are the record's field values (plain Python); rows without an id of their own are addressed by
    ``row_id``."""

    record: type[Record]
    values: dict[str, Any]
    version: int | None = None
    row_id: int | None = None
    delete: bool = False


def _where(record: type[Record], edit: Edit) -> tuple[Any, str]:
    table = table_of(record)
    if record.key:
        key = record.key[0]
        value = edit.values.get(key)
        return table.c[key] == value, f"“{value}”"
    return table.c[ROW_ID] == edit.row_id, ""


def _current(connection: Connection, record: type[Record], condition) -> tuple[dict[str, Any] | None, int | None]:
    table = table_of(record)
    names = [f.name for f in fields_of(record)]
    row = connection.execute(select(*[table.c[n] for n in names], table.c.version).where(condition)).first()
    if row is None:
        return None, None
    return dict(zip(names, row[:-1])), row[-1]


def closed_counts(connection: Connection, meeting_ids: Iterable[str]) -> set[str]:
    """Meetings among ``meeting_ids`` whose ballot count is closed."""
    ids = list(dict.fromkeys(meeting_ids))
    closed: set[str] = set()
    for part in _chunks(ids):
        closed.update(connection.execute(
            select(BALLOT_COUNTS.c.meeting_id).where(BALLOT_COUNTS.c.meeting_id.in_(part))).scalars())
    return closed


def _closed_message(closed: set[str]) -> str:
    return f"会议 {'、'.join(sorted(closed))} 的测评已经结束计票，测评票不能再修改，未写入任何内容"


def close_count(connection: Connection, meeting_id: str) -> dt.datetime:
    """Close a meeting's ballot count (once; closing again is refused)."""

    if closed_counts(connection, [meeting_id]):
        raise CountClosed(f"会议 {meeting_id} 的测评已经结束计票")
    stamp = now()
    connection.execute(BALLOT_COUNTS.insert().values(meeting_id=meeting_id, closed_at=stamp, version=1))
    return stamp


def apply_edits(connection: Connection, edits: Iterable[Edit]) -> tuple[SaveSummary, list[int | None]]:
    """Apply ``edits`` on ``connection`` (the caller owns the transaction, so a conflict undoes all of them).

    Returns the summary and, per edit, the version now stored (None for a deletion); new child rows get their
    ``row_id`` filled in on the edit."""

    edits = list(edits)
    stamp = now()
    summary = SaveSummary()
    ballots = [e.values.get("meeting_id") for e in edits if e.record is Ballot]
    closed = closed_counts(connection, ballots) if ballots else set()
    if closed:
        raise CountClosed(_closed_message(closed))
    versions: list[int | None] = []
    for edit in edits:
        record, table = edit.record, table_of(edit.record)
        values = {f.name: _python(edit.values.get(f.name)) for f in fields_of(record)}
        condition, where = _where(record, edit)
        if edit.version is None:  # a new record
            stored = _current(connection, record, condition) if record.key else (None, None)
            if stored[0] is not None:
                raise VersionConflict(record, where, None, *stored)
            result = connection.execute(table.insert().values({**values, "version": 1, "updated_at": stamp}))
            if not record.key:
                edit.row_id = result.inserted_primary_key[0]
            summary.inserted[record] = summary.inserted.get(record, 0) + 1
            _note(summary, record, _edit_entry("insert", record, values, edit.row_id), values)
            versions.append(1)
            continue
        guarded = condition & (table.c.version == edit.version)
        before, _ = _current(connection, record, condition)  # for the audit trail: old → new
        if edit.delete:
            done = connection.execute(delete(table).where(guarded)).rowcount
        else:
            done = connection.execute(table.update().where(guarded).values(
                {**values, "version": table.c.version + 1, "updated_at": stamp})).rowcount
        if done != 1:
            raise VersionConflict(record, where, edit.version, *_current(connection, record, condition))
        counter = summary.deleted if edit.delete else summary.updated
        counter[record] = counter.get(record, 0) + 1
        if edit.delete:
            _note(summary, record, _edit_entry("delete", record, before, edit.row_id), before)
        else:
            _note(summary, record, _edit_entry("update", record, values, edit.row_id, before), values, before)
        versions.append(None if edit.delete else edit.version + 1)
    summary.audit = _ballots_as_counts(summary.audit)
    _member_rows_branch(connection, summary.audit)
    return summary, versions


def _member_rows_branch(connection: Connection, entries: list[dict]) -> None:
    """Entries of rows that hang on a member (任职) get the member's branch, so the branch's history shows them."""
    members = sorted({e["_member"] for e in entries if e.get("_member")})
    branches = _member_branches(connection, members) if members else {}
    for entry in entries:
        member = entry.pop("_member", None)
        if member is not None and entry["branch_id"] is None:
            entry["branch_id"] = branches.get(member)


def _edit_entry(action: str, record: type[Record], values: dict, row_id: int | None, old: dict | None = None):
    if record.key:
        return _keyed_entry(action, record, values, old)
    detail = audit.changes_detail(record, old, values) if old is not None else audit.values_detail(record, values)
    entry = audit.entry(action, record=record, key=row_id, meeting=values.get("meeting_id"),
                        detail=None if record is Ballot else detail)
    if record.parent == "member_id":  # its branch, filled in by _member_rows_branch
        entry["_member"] = values.get("member_id")
    return entry


def _ballots_as_counts(entries: list[dict]) -> list[dict]:
    """Ballot edits leave one entry per meeting and action with a count: nothing that could tie a slip to a time
    or an order of entry."""
    kept, counts = [], {}
    for item in entries:
        if item["record"] == Ballot.table:
            key = (item["action"], item["meeting_id"])
            counts[key] = counts.get(key, 0) + 1
        else:
            kept.append(item)
    kept += [audit.entry(action, record=Ballot, meeting=meeting, detail={"rows": number})
             for (action, meeting), number in sorted(counts.items(), key=str)]
    return kept


def versioned_rows(connection: Connection, record: type[Record], **equal: Any) -> pd.DataFrame:
    """Stored rows of ``record`` whose columns equal ``equal`` (e.g. meeting_id=…), with ``version`` (and
    ``row_id`` for rows without an id): what a form reads before it edits."""
    table = table_of(record)
    names = [f.name for f in fields_of(record)] + ["version"] + ([] if record.key else [ROW_ID])
    query = select(*[table.c[n] for n in names])
    for name, value in equal.items():
        if name == "branch_id" and name not in table.c:  # 任职: the rows of the branch's members
            members = table_of(RECORDS[1])
            query = query.where(table.c.member_id.in_(select(members.c.member_id).where(members.c.branch_id == value)))
        else:
            query = query.where(table.c[name] == value)
    query = query.order_by(*([table.c[k] for k in record.key] or [table.c[ROW_ID]]))
    return pd.DataFrame(connection.execute(query).fetchall(), columns=names)
