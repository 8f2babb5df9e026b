"""The audit trail: who changed what, when, from which value to which — appended in the same transaction as the
change itself, never changed (the database refuses UPDATE and DELETE on the table: see migration 0004), and
tamper-evident: each entry carries a SHA-256 over its fields and the previous entry's hash (``seal``, migration
0009), so an entry changed, removed or slipped in by someone who got past the triggers (the database's owner can
drop them) breaks the chain, and ``verify`` names the first such entry.

What an entry holds:
- a record with an id (branch, member, meeting, rectification item): the new values of an insert, the changed
  fields old → new of an update, the old values of a deletion;
- rows without ids of their own (talks, attendance, criticism, ballots, …): per meeting, how many rows there were
  and are — ballots and other confidential rows never leave more than counts;
- a confidential field (summary, superior's comment, criticism text) shows only that it changed;
- imports, logins (and failed ones), account changes, closing a ballot count, the review steps.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, select

from ..models import RECORDS, Record, fields_of
from ..present.values import missing, plain
from .clock import now
from .schema import ACCOUNTS, AUDIT, REVIEWS, TABLES

ACTIONS = {"insert": "新增", "update": "修改", "delete": "删除", "replace": "替换", "import": "导入",
           "login": "登录", "login_failed": "登录失败", "logout": "退出", "account": "账号变更",
           "close_count": "结束计票", "open_vote": "开启手机测评", "restore": "恢复备份", "submit": "提交", "approve": "审核通过", "return": "退回", "reopen": "重新打开"}
HIDDEN = "（保密内容，已改动）"
SESSION_ACTIONS = ("login", "login_failed", "logout")
_BY_TABLE = {record.table: record for record in RECORDS}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)) and not missing(value):  # pd.NaT is a datetime too
        return value.isoformat()
    return plain(value)


def _confidential(record: type[Record]) -> set[str]:
    return {spec.name for spec in fields_of(record) if spec.confidential or record.confidential}


def values_detail(record: type[Record], values: dict[str, Any]) -> dict[str, Any]:
    """An inserted or deleted record's values, confidential ones replaced by a mark."""
    hidden = _confidential(record)
    return {name: (HIDDEN if name in hidden and value is not None else _plain(value))
            for name, value in values.items() if value is not None}


def changes_detail(record: type[Record], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Changed fields as {field: [old, new]} (confidential ones: only that they changed)."""
    hidden = _confidential(record)
    detail = {}
    for name, value in new.items():
        before = _plain(old.get(name))
        after = _plain(value)
        if before != after:
            detail[name] = HIDDEN if name in hidden else [before, after]
    return detail


def entry(action: str, *, record: type[Record] | str | None = None, key: Any = None, branch: str | None = None,
          meeting: str | None = None, detail: dict | None = None) -> dict[str, Any]:
    table = record if isinstance(record, str) or record is None else record.table
    return {"action": action, "record": table, "record_key": None if key is None else str(key),
            "branch_id": branch, "meeting_id": meeting,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None}


# The chain: an entry's hash covers its fields (not its id: the order is the chain itself) and the hash before it.
GENESIS = "0" * 64
CHAINED = ("at", "actor", "action", "record", "record_key", "branch_id", "meeting_id", "detail")


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one a call


def seal(row: dict[str, Any], previous: str, at: str | None = None) -> str:
    """The hash of an entry whose predecessor's hash is ``previous``: SHA-256 of a canonical JSON of its fields
    (``at``: its time already as text, when many entries share it)."""
    if at is None:
        at = row["at"].isoformat(sep=" ") if isinstance(row["at"], dt.datetime) else row["at"]
    text = _CANONICAL([at, *(row[name] for name in CHAINED[1:])])
    return hashlib.sha256(f"{previous}{text}".encode("utf-8", "surrogatepass")).hexdigest()


def last_entry(connection: Connection) -> tuple[int, str]:
    """The id and hash of the newest entry ((0, GENESIS) for none)."""
    row = connection.execute(select(AUDIT.c.id, AUDIT.c.hash).order_by(AUDIT.c.id.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (row[0], row[1] or GENESIS)


def append(connection: Connection, actor: str | None, entries: Iterable[dict[str, Any]],
           at: dt.datetime | None = None) -> int:
    """Add entries on ``connection`` (inside the change's own write transaction, which holds the store's one write
    lock: the newest entry read here stays the newest until the commit). Returns how many."""

    stamp = at or now()
    text = stamp.isoformat(sep=" ")
    number, previous = last_entry(connection)  # one read per write, not per entry
    rows = []
    for item in entries:
        number += 1
        row = {**item, "at": stamp, "actor": actor, "id": number, "prev_hash": previous}
        row["hash"] = previous = seal(row, previous, text)
        rows.append(row)
    for start in range(0, len(rows), 5000):
        connection.execute(AUDIT.insert(), rows[start:start + 5000])
    return len(rows)


@dataclass
class Verdict:
    """What ``verify`` found: how many entries, the newest one's hash, and the first entry that breaks the chain
    (None: the trail is whole) with the reason in words."""

    count: int
    last_hash: str
    problem: str | None = None
    entry_id: int | None = None

    def describe(self) -> str:
        if self.problem is None:
            return f"审计记录完整：{self.count} 条（最新哈希 {self.last_hash}）"
        return f"审计记录不完整：{self.problem}"


_WINDOW = 1000  # recent entries an out-of-place link is looked up among (inserted entries)


def verify_rows(rows: Iterable[dict[str, Any]], anchor: str | None = None) -> Verdict:
    """Walk entries in id order (dicts with id, the CHAINED fields, prev_hash and hash) along the chain; ``anchor``:
    a hash kept elsewhere earlier, which must still be in it (a chain cut or recomputed as a whole is whole too)."""
    previous, count, anchored = GENESIS, 0, anchor is None
    recent: deque = deque([(GENESIS, None)], maxlen=_WINDOW)  # (hash, entry) of the latest entries
    stream = iter(rows)
    row = next(stream, None)
    while row is not None:
        following = next(stream, None)
        linked = row["prev_hash"] == previous
        sealed = row["hash"] is not None and row["prev_hash"] is not None and seal(row, row["prev_hash"]) == row["hash"]
        if not (linked and sealed):
            return Verdict(count, previous, *_break(row, following, previous, linked, sealed, recent))
        previous, count = row["hash"], count + 1
        anchored = anchored or previous == anchor
        recent.append((previous, row))
        row = following
    if not anchored:
        return Verdict(count, previous, f"留存的哈希 {anchor} 不在记录链中：审计记录被截短或整条重算过")
    return Verdict(count, previous)


def _break(row, following, previous: str, linked: bool, sealed: bool, recent: deque) -> tuple[str, int]:
    """Why the chain breaks at ``row``, naming the first entry concerned."""
    if following is not None and following["prev_hash"] == previous:  # the chain goes on around this entry
        return f"{_named(row)}是插入的，不在原来的记录链上", row["id"]
    if not sealed:
        if row["hash"] is None:
            return f"{_named(row)}没有哈希，不是本程序写入的（被插入或改动）", row["id"]
        return f"{_named(row)}被改动过（内容与其哈希不符）", row["id"]
    hashes = [h for h, _ in recent]
    if row["prev_hash"] in hashes[:-1]:  # it links to an older entry: the ones after that were slipped in
        first = recent[hashes.index(row["prev_hash"]) + 1][1]
        return f"{_named(first)}是插入的，不在原来的记录链上", first["id"]
    before = recent[-1][1]
    where = f"{_named(before)}与{_named(row)}之间" if before is not None else f"{_named(row)}之前"
    return f"{where}原有的记录被删除了（或被改写）", row["id"]


def _named(row) -> str:
    words = headline(row)
    return f"编号 {row['id']} 的记录（{words['at']} {words['actor']} {words['action']} {words['record'].strip()}）"


def read_chain(connection: Connection) -> Iterator[dict[str, Any]]:
    """Every entry in id order with what the chain covers, streamed."""
    names = ("id", *CHAINED, "prev_hash", "hash")
    query = select(*[AUDIT.c[name] for name in names]).order_by(AUDIT.c.id).execution_options(yield_per=5000)
    for row in connection.execute(query).mappings():
        yield dict(row)


def verify(connection: Connection, anchor: str | None = None) -> Verdict:
    """Check the whole trail on ``connection``: its chain, then that it was not cut short (``unaccounted``)."""
    verdict = verify_rows(read_chain(connection), anchor)
    if verdict.problem is None:
        verdict.problem = unaccounted(connection)
    return verdict


def _keyed_tables() -> list[tuple[Any, str]]:
    """Tables whose every row's writes leave entries naming the row's key (record, record_key)."""
    return ([(TABLES[record], record.key[0]) for record in RECORDS if record.key]
            + [(ACCOUNTS, "name"), (REVIEWS, "meeting_id")])


def unaccounted(connection: Connection) -> str | None:
    """A cut trail (the newest entries removed: the chain of what is left is whole): a record written since the
    trail began that no entry names. Rows older than the first entry (a store from before the trail) are left out."""
    first = connection.execute(select(AUDIT.c.at).order_by(AUDIT.c.id).limit(1)).scalar()
    if first is None:
        return None
    for table, key in _keyed_tables():
        named = (select(AUDIT.c.record_key).where(AUDIT.c.record == table.name, AUDIT.c.record_key.is_not(None))
                 .distinct().subquery())
        found = connection.execute(  # an anti-join: one pass over each side on both backends
            select(table.c[key]).select_from(table.outerjoin(named, named.c.record_key == table.c[key]))
            .where(named.c.record_key.is_(None), table.c.updated_at >= first).limit(1)).scalar()
        if found is not None:
            return (f"{record_label(table.name)} {found} 写入于审计记录开始之后，审计记录中却没有它："
                    "最新的审计记录被删除了（记录链被截短）")
    return None


def meeting_branches(connection: Connection, meeting_ids: Iterable[str]) -> dict[str, str]:
    meetings = TABLES[RECORDS[2]]
    ids = sorted({m for m in meeting_ids if m is not None})
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        found.update(connection.execute(select(meetings.c.meeting_id, meetings.c.branch_id).where(
            meetings.c.meeting_id.in_(ids[start:start + 500]))).all())
    return found


def history(connection: Connection, *, meeting: str | None = None, branch: str | None = None,
            user: str | None = None, branches: Iterable[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    """Entries, oldest first, filtered by meeting, branch or acting account; ``branches`` limits them to a scope
    (entries about no branch — logins, accounts — are then left out); ``limit``: only the latest so many."""
    query = select(AUDIT).order_by(AUDIT.c.id.desc() if limit is not None else AUDIT.c.id)
    if meeting is not None:
        query = query.where(AUDIT.c.meeting_id == meeting)
    if branch is not None:
        query = query.where(AUDIT.c.branch_id == branch)
    if user is not None:
        # an account's logins and logouts are stored without an actor (nobody is logged in yet): they are its too
        own_sessions = (AUDIT.c.actor.is_(None) & (AUDIT.c.record == "accounts") & (AUDIT.c.record_key == user)
                        & AUDIT.c.action.in_(SESSION_ACTIONS))
        query = query.where((AUDIT.c.actor == user) | own_sessions)
    if branches is not None:
        query = query.where(AUDIT.c.branch_id.in_(list(branches)))
    if limit is not None:
        query = query.limit(limit)
    rows = connection.execute(query).mappings().all()
    if limit is not None:
        rows = rows[::-1]
    return pd.DataFrame([dict(row) for row in rows], columns=[c.name for c in AUDIT.columns], dtype=object)


def record_label(table: str | None) -> str | None:
    """A table's name as people say it (the workbook's sheet name)."""
    if table in ("accounts", "reviews"):
        return {"accounts": "账号", "reviews": "审核"}[table]
    return _BY_TABLE[table].sheet if table in _BY_TABLE else table


def headline(row) -> dict[str, str]:
    """One entry's who/when/what as words (its detail is ``describe``): the terminal and the forms show the same."""
    key = row["record_key"] if isinstance(row["record_key"], str) else ""
    who = row["actor"] or (key if row["action"] in SESSION_ACTIONS else "命令行")  # a login is its account's
    return {"at": str(row["at"])[:19], "actor": who,
            "action": ACTIONS.get(row["action"], row["action"]),
            "record": f"{record_label(row['record']) or ''} {key}",
            "where": " ".join(str(v) for v in (row["branch_id"], row["meeting_id"]) if isinstance(v, str))}


def describe(row) -> str:
    """One entry's detail in words, for the terminal and the forms."""
    detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else {}
    record = _BY_TABLE.get(row["record"])
    specs = {spec.name: spec for spec in fields_of(record)} if record else {}
    if row["action"] == "replace":
        return f"{record.sheet if record else row['record']}：{detail.get('before', 0)} 行 → {detail.get('after', 0)} 行"
    parts = []
    for name, value in detail.items():
        spec = specs.get(name)
        label = spec.header if spec else _WORDS.get(name, name)
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{label}：{_shown(value[0], spec)} → {_shown(value[1], spec)}")
        else:
            parts.append(f"{label}：{_shown(value, spec)}")
    return "；".join(parts)


_WORDS = {"rows": "行数", "summary": "结果", "address": "地址", "add": "新建账号，角色", "branches": "支部",
          "superior": "上级党组织", "confidential": "可读保密内容", "password": "密码", "disabled": "停用",
          "reason": "理由", "state": "状态", "errors": "提交时的违规条数",
          "member_codes": "党员测评码", "public_codes": "群众代表测评码", "phone_ballots": "手机测评票",
          "codes_issued": "发放测评码", "codes_void": "作废测评码", "os_user": "系统用户",
          "rows_before": "恢复前的行数", "audit_before": "恢复前的审计记录条数", "hash_before": "恢复前的最新审计哈希"}


def _shown(value: Any, spec=None) -> str:
    if spec is not None and spec.enum is not None and isinstance(value, str) and value != HIDDEN:
        try:
            return spec.enum(value).label
        except ValueError:
            return value
    if isinstance(value, list):
        return "、".join(map(str, value))
    if value is None:
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)
