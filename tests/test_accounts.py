"""Accounts: roles, scopes, argon2 passwords that never show, and the `orglife user` commands."""
from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from sqlalchemy import select

from orglife_nb.auth import (AccountRole, add_account, authenticate, branches_in_scope, get_account, list_accounts,
                             set_disabled, set_password)
from orglife_nb.errors import OrglifeError
from orglife_nb.models import Branch
from orglife_nb.store import Store
from orglife_nb.store.schema import ACCOUNTS

PASSWORD = "correct horse 9"


@pytest.fixture
def branches_store(store):
    store.save({Branch: pd.DataFrame([
        {"branch_id": "B1", "name": "一支部", "superior": "机关党委"},
        {"branch_id": "B2", "name": "二支部", "superior": "机关党委"},
        {"branch_id": "B3", "name": "三支部", "superior": "街道党工委"},
    ])})
    return store


def test_roles_and_their_scopes(branches_store):
    store = branches_store
    add_account(store, "王书记", "secretary", PASSWORD, branches=["B1"])
    add_account(store, "sup", "superior", PASSWORD, superior="机关党委")
    add_account(store, "ana", "analyst", PASSWORD, confidential=True)
    add_account(store, "root", "admin", PASSWORD)
    with store.engine.connect() as connection:
        scopes = {a.name: branches_in_scope(connection, a) for a in list_accounts(store)}
    assert scopes == {"王书记": {"B1"}, "sup": {"B1", "B2"}, "ana": None, "root": None}
    assert get_account(store, "ana").confidential and not get_account(store, "王书记").confidential


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "secretary"}, "至少要指定一个支部"),
    ({"role": "secretary", "branches": ["B9"]}, "支部 B9 不存在"),
    ({"role": "superior"}, "要指定上级党组织名称"),
    ({"role": "superior", "superior": "机关党委", "branches": ["B1"]}, "不用 --branch"),
    ({"role": "admin", "branches": ["B1"]}, "不设支部范围"),
    ({"role": "secretary", "branches": ["B1"], "confidential": True}, "只用于分析人员"),
    ({"role": "boss"}, "角色“boss”无效"),
])
def test_scope_options_must_fit_the_role(branches_store, kwargs, message):
    kwargs = dict(kwargs)
    role = kwargs.pop("role")
    with pytest.raises(OrglifeError, match=message):
        add_account(branches_store, "x1", role, PASSWORD, **kwargs)
    assert list_accounts(branches_store) == []


@pytest.mark.parametrize("name, password, message", [
    ("a b", PASSWORD, "账号名“a b”无效"),
    ("", PASSWORD, "账号名“”无效"),
    ("x" * 65, PASSWORD, "账号名"),
    ("ok", "1234567", "密码太短"),
    ("ok", " leading-space", "不能以空格开头"),
    ("ok", "bell\x07bell-1", "控制字符"),
])
def test_bad_names_and_passwords_are_refused(store, name, password, message):
    with pytest.raises(OrglifeError, match=message):
        add_account(store, name, "admin", password)


def test_passwords_are_argon2_hashes_and_verify(store):
    add_account(store, "root", "admin", PASSWORD)
    with store.engine.connect() as connection:
        digest = connection.execute(select(ACCOUNTS.c.password_hash)).scalar_one()
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    assert authenticate(store, "root", PASSWORD).role is AccountRole.admin
    assert authenticate(store, "root", PASSWORD + "x") is None
    assert authenticate(store, "nobody", PASSWORD) is None
    assert authenticate(store, "bad name", PASSWORD) is None
    set_password(store, "root", "another pass 7")
    assert authenticate(store, "root", PASSWORD) is None
    assert authenticate(store, "root", "another pass 7") is not None


def _stored_hash(store) -> str:
    with store.engine.connect() as connection:
        return connection.execute(select(ACCOUNTS.c.password_hash)).scalar_one()


def test_argon2_parameters_are_at_least_the_owasp_minimum_and_old_hashes_are_renewed(store):
    from argon2 import PasswordHasher
    from argon2.low_level import Type

    add_account(store, "root", "admin", PASSWORD)
    params = dict(part.split("=") for part in _stored_hash(store).split("$")[3].split(","))
    # OWASP Password Storage Cheat Sheet, argon2id: 19 MiB with 2 iterations (or more memory with fewer), 1 lane
    assert int(params["m"]) >= 19 * 1024 and int(params["m"]) * int(params["t"]) >= 19 * 1024 * 2
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID).hash(PASSWORD)
    with store.transaction() as connection:
        connection.execute(ACCOUNTS.update().values(password_hash=old))
    assert authenticate(store, "root", PASSWORD) is not None
    renewed = _stored_hash(store)
    assert renewed != old and "m=19456,t=2,p=1" in renewed
    assert authenticate(store, "root", PASSWORD) is not None


def test_a_disabled_account_cannot_log_in_and_the_last_admin_stays(store):
    add_account(store, "root", "admin", PASSWORD)
    with pytest.raises(OrglifeError, match="唯一可用的管理员"):
        set_disabled(store, "root")
    add_account(store, "root2", "admin", PASSWORD)
    set_disabled(store, "root")
    assert authenticate(store, "root", PASSWORD) is None
    set_disabled(store, "root", False)
    assert authenticate(store, "root", PASSWORD) is not None


def test_duplicate_and_unknown_accounts(store):
    add_account(store, "root", "admin", PASSWORD)
    with pytest.raises(OrglifeError, match="已存在"):
        add_account(store, "root", "admin", PASSWORD)
    with pytest.raises(OrglifeError, match="不存在"):
        set_password(store, "ghost", PASSWORD)


def orglife(*argv, stdin: str | None = None):
    return subprocess.run(["orglife", *argv], capture_output=True, text=True, input=stdin)


def test_the_user_commands_never_show_the_password(tmp_path):
    db = tmp_path / "store.db"
    Store(db).close()
    secret = "s3cret-Passw0rd"
    added = orglife("user", "add", "root", "--role", "admin", "--db", str(db), stdin=secret + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "已添加账号 root（管理员；范围：全部支部（管理账号））"
    password_file = tmp_path / "pw.txt"
    password_file.write_text("new-Passw0rd-2\nignored second line\n", encoding="utf-8")
    changed = orglife("user", "passwd", "root", "--password-file", str(password_file), "--db", str(db))
    assert changed.returncode == 0, changed.stderr
    listed = orglife("user", "list", "--db", str(db))
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[2].split() == ["root", "管理员", "全部支部（管理账号）", "可读", "可用"]
    for result in (added, changed, listed):
        assert secret not in result.stdout + result.stderr and "argon2" not in result.stdout + result.stderr
    with Store(db) as store:
        assert authenticate(store, "root", "new-Passw0rd-2") is not None


@pytest.mark.parametrize("argv, stdin, message", [
    (["user", "add", "w", "--role", "secretary"], "long-enough-1\n", "至少要指定一个支部"),
    (["user", "add", "w", "--role", "admin"], "short\n", "密码太短"),
    (["user", "add", "w", "--role", "king"], "long-enough-1\n", "--role 的值无效"),
    (["user", "passwd", "ghost"], "long-enough-1\n", "账号“ghost”不存在"),
    (["user", "disable", "ghost"], None, "账号“ghost”不存在"),
    (["user", "add", "w", "--role", "admin", "--password-file", "/nonexistent/pw"], None, "无法读取密码文件"),
])
def test_user_command_errors_are_one_chinese_line(tmp_path, argv, stdin, message):
    db = tmp_path / "store.db"
    Store(db).close()
    result = orglife(*argv, "--db", str(db), stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.startswith("错误：") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_user_commands_refuse_a_missing_store(tmp_path):
    result = orglife("user", "list", "--db", str(tmp_path / "typo.db"))
    assert result.returncode == 2 and "数据库文件不存在" in result.stderr
    assert not (tmp_path / "typo.db").exists()
