"""Who is asking: the actor every store call takes, its role and the branches in its scope.

The store enforces scope itself (``Store(db, actor=…)``), so the forms, uploads, exports, reports and the CLI's
``--as`` all obey one rule. Accounts are managed in ``orglife_nb.auth``; this module only describes them, so the
store needs nothing from the rooms above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd
from sqlalchemy import Connection, select

from ..errors import OrglifeError
from ..models import Branch, LabeledEnum, Meeting, Member, Record, fields_of
from .schema import ROW_ID, TABLES


class AccountRole(LabeledEnum):
    """What an account may do; the label is what the user sees."""

    secretary = "secretary", "支部书记"
    superior = "superior", "上级党组织"
    analyst = "analyst", "分析人员"
    admin = "admin", "管理员"


@dataclass(frozen=True)
class Account:
    """An account as stored (never with its password hash)."""

    name: str
    role: AccountRole
    branches: frozenset[str] = field(default_factory=frozenset)
    superior: str | None = None
    confidential: bool = False
    disabled: bool = False

    @property
    def reads_confidential(self) -> bool:
        """Minutes, criticism, ballots, ratings, summaries: the branch's own people and the reviewers read them; an
        analyst only when granted."""
        return self.role is not AccountRole.analyst or self.confidential

    @property
    def writes_records(self) -> bool:
        return self.role in (AccountRole.admin, AccountRole.secretary)

    @property
    def scope_text(self) -> str:
        """The scope in words, for listings and the page header."""
        if self.role is AccountRole.admin:
            return "全部支部（管理账号）"
        parts = []
        if self.branches:
            parts.append("支部 " + "、".join(sorted(self.branches)))
        if self.superior:
            parts.append(f"上级党组织为“{self.superior}”的支部")
        return "；".join(parts) or "全部支部"



def load_account(connection: Connection, name: str) -> Account | None:
    """The account with its branches, in one query (every page request and kernel of the login server asks)."""
    from .schema import ACCOUNT_BRANCHES, ACCOUNTS

    rows = connection.execute(
        select(ACCOUNTS.c.name, ACCOUNTS.c.role, ACCOUNTS.c.superior, ACCOUNTS.c.confidential, ACCOUNTS.c.disabled,
               ACCOUNT_BRANCHES.c.branch_id.label("scope_branch"))
        .outerjoin(ACCOUNT_BRANCHES, ACCOUNT_BRANCHES.c.account == ACCOUNTS.c.name)
        .where(ACCOUNTS.c.name == name)).mappings().all()
    if not rows:
        return None
    row = rows[0]
    branches = frozenset(r["scope_branch"] for r in rows if r["scope_branch"] is not None)
    return Account(name=row["name"], role=AccountRole(row["role"]), branches=branches,
                   superior=row["superior"], confidential=bool(row["confidential"]), disabled=bool(row["disabled"]))


def acting_as(connection: Connection, name: str) -> Account:
    """The account ``--as NAME`` acts with: it must exist and be enabled."""
    account = load_account(connection, name)
    if account is None:
        raise OrglifeError(f"账号“{name}”不存在（orglife user list 查看全部账号）")
    if account.disabled:
        raise OrglifeError(f"账号“{name}”已停用")
    return account


def branches_in_scope(connection: Connection, account: Account) -> set[str] | None:
    """Branch ids the account may see, None meaning every branch (admin; an analyst without limits)."""
    if account.role is AccountRole.admin or not (account.branches or account.superior):
        return None
    scope = set(account.branches)
    if account.superior:
        table = TABLES[Branch]
        scope.update(connection.execute(select(table.c.branch_id).where(
            table.c.superior == account.superior)).scalars())
    return scope


class ScopeError(OrglifeError):
    """The actor asked for branches or records outside its scope, or to write when it may only read."""


def visible(connection: Connection, actor: Account | None, branch_ids: Iterable[str] | None) -> list[str] | None:
    """The branch ids a read may return: ``branch_ids`` (all when None) within the actor's scope. Asking by name for
    a branch outside the scope is refused rather than silently answered with nothing."""
    scope = None if actor is None else branches_in_scope(connection, actor)
    if scope is None:
        return None if branch_ids is None else list(branch_ids)
    if branch_ids is None:
        return sorted(scope)
    ids = list(branch_ids)
    outside = [b for b in ids if b not in scope]
    if outside:
        raise ScopeError(f"账号 {actor.name} 无权查看支部 {'、'.join(outside)}（范围：{actor.scope_text}）")
    return ids


def redact(actor: Account | None, record: type[Record], frame: pd.DataFrame) -> pd.DataFrame:
    """Confidential records and fields removed for an actor who may not read them (the columns stay)."""
    if actor is None or actor.reads_confidential:
        return frame
    if record.confidential:
        return frame.iloc[0:0]
    hidden = [spec.name for spec in fields_of(record) if spec.confidential and spec.name in frame.columns]
    if hidden:
        frame = frame.copy()
        for name in hidden:
            frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame


def check_write(connection: Connection, actor: Account | None, batch: dict[type[Record], pd.DataFrame],
                row_ids: dict[type[Record], list[int]] | None = None) -> None:
    """Refuse a write that touches a branch outside the actor's scope: the branches the rows name, the branches
    stored rows with the same ids (or ``row_ids``) belong to now (no moving a record out of another branch), and
    the branches of the meetings child rows hang on."""
    if actor is None:
        return
    if not actor.writes_records:
        raise ScopeError(f"账号 {actor.name}（{actor.role.label}）只能查看{'和审核' if actor.role is AccountRole.superior else ''}，"
                         "不能修改支部的记录")
    scope = branches_in_scope(connection, actor)
    if scope is None:
        return
    meetings_table, meeting_key = TABLES[Meeting], "meeting_id"
    batch_meetings = batch.get(Meeting)
    meeting_branch = dict(zip(batch_meetings[meeting_key], batch_meetings["branch_id"])) \
        if batch_meetings is not None and "branch_id" in batch_meetings else {}
    touched: set = set()
    wanted_meetings: set = set()
    wanted_members: set = set()  # 任职 rows hang on a member: its branch (stored and as the batch moves it)
    for record, frame in batch.items():
        if frame is None or not len(frame):
            continue
        if "branch_id" in frame.columns:
            touched.update(frame["branch_id"].dropna())
        elif meeting_key in frame.columns:
            wanted_meetings.update(m for m in frame[meeting_key].dropna() if m not in meeting_branch)
        elif record.parent in frame.columns:
            wanted_members.update(frame[record.parent].dropna())
        if record.key and record.key[0] in frame.columns:
            # where a stored record with this id lives now: its branch, or the meeting it hangs on
            table, key = TABLES[record], record.key[0]
            home = "branch_id" if "branch_id" in record.model_fields else meeting_key
            ids = list(frame[key].dropna())
            for start in range(0, len(ids), 500):
                found = connection.execute(select(table.c[home]).where(
                    table.c[key].in_(ids[start:start + 500]))).scalars()
                (touched if home == "branch_id" else wanted_meetings).update(found)
    for record, ids in (row_ids or {}).items():
        table = TABLES[record]
        parent = record.parent or meeting_key
        (wanted_members if parent != meeting_key else wanted_meetings).update(connection.execute(
            select(table.c[parent]).where(table.c[ROW_ID].in_(ids))).scalars())
    members, batch_members = TABLES[Member], batch.get(Member)
    if batch_members is not None and "branch_id" in batch_members:
        touched.update(batch_members.branch_id[batch_members.member_id.isin(wanted_members)].dropna())
    listed = sorted(wanted_members)
    for start in range(0, len(listed), 500):
        touched.update(connection.execute(select(members.c.branch_id).where(
            members.c.member_id.in_(listed[start:start + 500]))).scalars())
    wanted = sorted(wanted_meetings)
    for start in range(0, len(wanted), 500):
        rows = connection.execute(select(meetings_table.c.meeting_id, meetings_table.c.branch_id).where(
            meetings_table.c.meeting_id.in_(wanted[start:start + 500])))
        meeting_branch.update(dict(rows.all()))
    touched.update(meeting_branch[m] for m in wanted_meetings if m in meeting_branch)
    outside = sorted(str(b) for b in touched if b not in scope)
    if outside:
        raise ScopeError(f"账号 {actor.name} 无权修改支部 {'、'.join(outside)} 的记录（范围：{actor.scope_text}），"
                         "未写入任何内容")
