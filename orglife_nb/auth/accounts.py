"""Accounts: who may log in, with which role and which branches in scope.

Passwords are hashed with argon2 (argon2-cffi, the hasher jupyter_server itself uses); the clear text is never
stored, printed or logged. Every account change goes through the functions here, so the CLI and (later) the
forms' admin page share one set of checks.
"""
from __future__ import annotations

import re
import time
import unicodedata

from sqlalchemy import Connection, delete, select

from ..errors import OrglifeError
from ..store import Store, audit, now
from ..store.schema import ACCOUNT_BRANCHES, ACCOUNTS, TABLES
from ..models import Branch
from ..store.scope import Account, AccountRole, branches_in_scope, load_account
from .throttle import LoginGate

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 would hash anything; a bound keeps a pasted file from costing seconds
_NAME = re.compile(r"^[\w.@-]{1,64}$")  # \w includes CJK: 王书记 is a fine account name


# Argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, 2 iterations, 1 lane), not below.
# argon2-cffi's default (64 MiB, 3 iterations, 4 lanes) took 0.27 s per login here on 2 shared cores, 0.5 s under
# load (benchmarks/login_bench.py); this takes about a sixth. Hashes made with other parameters are rehashed at
# the next successful login (``authenticate``).
ARGON2 = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}


def _hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(**ARGON2, type=Type.ID)


def check_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").strip()
    if not _NAME.match(text):
        raise OrglifeError(f"账号名“{name}”无效：应为 1–64 个字母、数字、汉字或 . _ - @，不能有空格")
    return text


def login_key(name: str) -> str:
    """A typed account name as the lookup sees it (``check_name``: NFKC, trimmed): the login throttle, the lookup
    and the audit trail all use this one form, so ``ｓec-B002`` is ``sec-B002`` for each of them. A name that is
    no valid account name is kept in the same normal form (it cannot log in)."""
    try:
        return check_name(name)
    except OrglifeError:
        return unicodedata.normalize("NFKC", name or "").strip()[:64]


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


def add_account(store: Store, name: str, role: str | AccountRole, password: str, *, branches: list[str] = (),
                superior: str | None = None, confidential: bool = False) -> Account:
    name, role, password = check_name(name), _role(role), check_password(password)
    digest = _hasher().hash(password)
    stamp = now()
    with store.transaction() as connection:
        if load_account(connection, name) is not None:
            raise OrglifeError(f"账号“{name}”已存在（改密码用 orglife user passwd）")
        branches, superior = _scope(connection, role, list(branches), superior, confidential)
        connection.execute(ACCOUNTS.insert().values(
            name=name, role=role.value, password_hash=digest, superior=superior, confidential=confidential,
            disabled=False, created_at=stamp, updated_at=stamp, version=1))
        if branches:
            connection.execute(ACCOUNT_BRANCHES.insert(), [{"account": name, "branch_id": b} for b in branches])
        _log(store, connection, name, {"add": role.value, "branches": branches or None, "superior": superior,
                                       "confidential": confidential or None})
        return load_account(connection, name)


def _log(store: Store, connection: Connection, name: str, detail: dict) -> None:
    """An account change in the audit trail (never the password or its hash)."""
    store.log(connection, [audit.entry("account", record="accounts", key=name,
                                       detail={k: v for k, v in detail.items() if v is not None})])


def log_login(store: Store, name: str, ok: bool, address: str) -> None:
    """A login or failed login in the audit trail. A name that is no account is not kept: people type their
    password into the name field by mistake."""
    with store.transaction() as connection:
        known = ok or load_account(connection, name) is not None
        store.log(connection, [audit.entry("login" if ok else "login_failed", record="accounts",
                                           key=name if known else "（不存在的账号）", detail={"address": address})])


def login(store: Store, gate: LoginGate, name: str, password: str, address: str) -> Account | None:
    """One login try on the login page or the hub: throttled per account and per address (raises Throttled),
    checked, written to the audit trail; the account, or None when the name or password is wrong."""
    key = login_key(name)
    # admitted and counted before the check: tries at the same time cannot overtake the limit (the login page
    # checks one at a time; the hub's threads may wait here for the tries before them)
    while not gate.take(key, address):
        time.sleep(0.05)
    account = None
    try:
        account = authenticate(store, key, password) if key and password else None
        log_login(store, key, account is not None, address)
    finally:
        gate.settle(key, address, failed=account is None)
    return account


def session_generation(store: Store, name: str) -> int | None:
    """The account's session generation, None when it cannot log in (unknown or disabled).

    A login cookie carries the generation it was issued at and counts only while it is still the account's: a
    password change, disabling or enabling, and a logout (``end_sessions``) raise the account's ``version`` and so
    end every session the account had."""
    with store.engine.connect() as connection:
        row = connection.execute(select(ACCOUNTS.c.version, ACCOUNTS.c.disabled)
                                 .where(ACCOUNTS.c.name == name)).first()
    return None if row is None or row.disabled else row.version


def end_sessions(store: Store, name: str, address: str) -> None:
    """Logout: every session of the account ends (on every device), logged like the login."""
    with store.transaction() as connection:
        connection.execute(ACCOUNTS.update().where(ACCOUNTS.c.name == name).values(version=ACCOUNTS.c.version + 1))
        store.log(connection, [audit.entry("logout", record="accounts", key=name, detail={"address": address})])


def _existing(connection: Connection, name: str) -> Account:
    account = load_account(connection, check_name(name))
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
        _log(store, connection, account.name, {"password": "已更改"})


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
        _log(store, connection, account.name, {"disabled": [account.disabled, disabled]})
        return load_account(connection, account.name)


def list_accounts(store: Store) -> list[Account]:
    with store.engine.connect() as connection:
        names = connection.execute(select(ACCOUNTS.c.name).order_by(ACCOUNTS.c.name)).scalars().all()
        return [load_account(connection, name) for name in names]


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
    if hasher.check_needs_rehash(digest):  # made with other parameters (ARGON2) than today's
        with store.transaction() as connection:
            connection.execute(ACCOUNTS.update().where(ACCOUNTS.c.name == name).values(
                password_hash=hasher.hash(password)))
    with store.engine.connect() as connection:
        return load_account(connection, name)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash("orglife-no-such-account"))
    return _DUMMY[0]

