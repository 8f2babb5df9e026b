"""Accounts: who may log in, with which role and which branches in scope.

Passwords are hashed with argon2 (argon2-cffi, the hasher jupyter_server itself uses); the clear text is never
stored, printed or logged. Every account change goes through the functions here, so the CLI and (later) the
forms' admin page share one set of checks.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, select

from ..errors import OrglifeError
from ..store import Store, now
from ..store.schema import ACCOUNT_BRANCHES, ACCOUNTS, TABLES
from ..models import Branch, LabeledEnum

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 would hash anything; a bound keeps a pasted file from costing seconds
_NAME = re.compile(r"^[\w.@-]{1,64}$")  # \w includes CJK: 王书记 is a fine account name


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


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").strip()
    if not _NAME.match(text):
        raise OrglifeError(f"账号名“{name}”无效：应为 1–64 个字母、数字、汉字或 . _ - @，不能有空格")
    return text


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise OrglifeError(f"密码太短：至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise OrglifeError(f"密码太长：至多 {MAX_PASSWORD} 个字符")
    if password != password.strip() or any(unicodedata.category(c).startswith("C") for c in password):
        raise OrglifeError("密码不能以空格开头或结尾，也不能含控制字符")
    return password


def _role(role: str | AccountRole) -> AccountRole:
    try:
        return AccountRole(role)
    except ValueError:
        raise OrglifeError(f"角色“{role}”无效，应为：{'、'.join(r.value for r in AccountRole)}") from None


def _scope(connection: Connection, role: AccountRole, branches: list[str], superior: str | None,
           confidential: bool) -> tuple[list[str], str | None]:
    """Check that the scope options fit the role and name branches that exist."""
    superior = (superior or "").strip() or None
    branches = list(dict.fromkeys(b.strip() for b in branches if b.strip()))
    if role is AccountRole.admin and (branches or superior):
        raise OrglifeError("管理员账号管理全部账号，不设支部范围：请去掉 --branch/--superior")
    if role is AccountRole.secretary and not branches:
        raise OrglifeError("支部书记账号至少要指定一个支部：--branch 支部编号")
    if role is AccountRole.secretary and superior:
        raise OrglifeError("支部书记账号按支部授权，不用 --superior")
    if role is AccountRole.superior and not superior:
        raise OrglifeError("上级党组织账号要指定上级党组织名称：--superior 名称（与工作簿“支部”表的“上级党组织”一致）")
    if role is AccountRole.superior and branches:
        raise OrglifeError("上级党组织账号的范围由 --superior 决定，不用 --branch")
    if confidential and role is not AccountRole.analyst:
        raise OrglifeError("--confidential 只用于分析人员账号（书记、上级党组织本就能看到其范围内的保密内容）")
    if branches:
        table = TABLES[Branch]
        known = set(connection.execute(select(table.c.branch_id).where(table.c.branch_id.in_(branches))).scalars())
        missing = [b for b in branches if b not in known]
        if missing:
            raise OrglifeError(f"支部 {'、'.join(missing)} 不存在（请先导入支部）")
    return branches, superior


def _stored(connection: Connection, name: str) -> Account | None:
    row = connection.execute(select(ACCOUNTS).where(ACCOUNTS.c.name == name)).mappings().first()
    if row is None:
        return None
    branches = connection.execute(
        select(ACCOUNT_BRANCHES.c.branch_id).where(ACCOUNT_BRANCHES.c.account == name)).scalars()
    return Account(name=row["name"], role=AccountRole(row["role"]), branches=frozenset(branches),
                   superior=row["superior"], confidential=bool(row["confidential"]), disabled=bool(row["disabled"]))


def add_account(store: Store, name: str, role: str | AccountRole, password: str, *, branches: list[str] = (),
                superior: str | None = None, confidential: bool = False) -> Account:
    name, role, password = check_name(name), _role(role), check_password(password)
    digest = _hasher().hash(password)
    stamp = now()
    with store.transaction() as connection:
        if _stored(connection, name) is not None:
            raise OrglifeError(f"账号“{name}”已存在（改密码用 orglife user passwd）")
        branches, superior = _scope(connection, role, list(branches), superior, confidential)
        connection.execute(ACCOUNTS.insert().values(
            name=name, role=role.value, password_hash=digest, superior=superior, confidential=confidential,
            disabled=False, created_at=stamp, updated_at=stamp, version=1))
        if branches:
            connection.execute(ACCOUNT_BRANCHES.insert(), [{"account": name, "branch_id": b} for b in branches])
        return _stored(connection, name)


def _existing(connection: Connection, name: str) -> Account:
    account = _stored(connection, check_name(name))
    if account is None:
        raise OrglifeError(f"账号“{name}”不存在（orglife user list 查看全部账号）")
    return account


def set_password(store: Store, name: str, password: str) -> None:
    password = check_password(password)
    digest = _hasher().hash(password)
    with store.transaction() as connection:
        account = _existing(connection, name)
        connection.execute(ACCOUNTS.update().where(ACCOUNTS.c.name == account.name).values(
            password_hash=digest, updated_at=now(), version=ACCOUNTS.c.version + 1))


def set_disabled(store: Store, name: str, disabled: bool = True) -> Account:
    with store.transaction() as connection:
        account = _existing(connection, name)
        if disabled and account.role is AccountRole.admin and not account.disabled:
            active_admins = connection.execute(select(ACCOUNTS.c.name).where(
                (ACCOUNTS.c.role == AccountRole.admin.value) & ~ACCOUNTS.c.disabled)).scalars().all()
            if active_admins == [account.name]:
                raise OrglifeError(f"“{account.name}”是唯一可用的管理员账号，不能停用（先添加另一个管理员）")
        connection.execute(ACCOUNTS.update().where(ACCOUNTS.c.name == account.name).values(
            disabled=disabled, updated_at=now(), version=ACCOUNTS.c.version + 1))
        return _stored(connection, account.name)


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


def list_accounts(store: Store) -> list[Account]:
    with store.engine.connect() as connection:
        names = connection.execute(select(ACCOUNTS.c.name).order_by(ACCOUNTS.c.name)).scalars().all()
        return [_stored(connection, name) for name in names]


def get_account(store: Store, name: str) -> Account:
    with store.engine.connect() as connection:
        return _existing(connection, name)


def authenticate(store: Store, name: str, password: str) -> Account | None:
    """The account when ``password`` is right and the account is enabled, else None.

    An unknown name still costs one argon2 verification, so timing does not tell which names exist."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    try:
        name = check_name(name)
    except OrglifeError:
        name = None
    row = None
    if name is not None:
        with store.engine.connect() as connection:
            row = connection.execute(select(ACCOUNTS.c.password_hash, ACCOUNTS.c.disabled)
                                     .where(ACCOUNTS.c.name == name)).first()
    digest = row[0] if row is not None else _dummy_hash()
    try:
        hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row[1]:
        return None
    if hasher.check_needs_rehash(digest):  # parameters were raised since it was set
        with store.transaction() as connection:
            connection.execute(ACCOUNTS.update().where(ACCOUNTS.c.name == name).values(
                password_hash=hasher.hash(password)))
    with store.engine.connect() as connection:
        return _stored(connection, name)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash("orglife-no-such-account"))
    return _DUMMY[0]

