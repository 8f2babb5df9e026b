"""``orglife backup`` / ``orglife restore`` in real processes: consistent while writing, refusals, round trips."""
from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from orglife_nb.demo import save_demo
from orglife_nb.models import Branch, Member
from orglife_nb.store import Store, head_revision, migrate
from orglife_nb.store.backup import sqlite_digests, table_digests
from clikit import cli, orglife

SPAWN = multiprocessing.get_context("spawn")
MEMBERS_PER_BATCH = 25


def digests(url: str) -> dict:
    with Store(url) as store, store.engine.connect() as connection:
        return table_digests(connection)


def restored_from(target: dict, source: dict) -> bool:
    """Digests of a restored store against its backup's: every table equal, the audit trail one entry longer (the
    restore's own)."""
    target, source = dict(target), dict(source)
    return target.pop("audit")[0] == source.pop("audit")[0] + 1 and target == source


def _demo(url: str) -> None:
    with Store(url) as store:
        save_demo(store)


def _write_batches(db: str, written, stop) -> None:
    """Keep writing one branch with its members per transaction until ``stop``; count commits in ``written``."""
    with Store(db) as store:
        n = 0
        while not stop.is_set():
            branch = f"W{n:05d}"
            store.save({Branch: pd.DataFrame([{"branch_id": branch, "name": f"写入支部{n}", "unit_type": "organ"}]),
                        Member: pd.DataFrame([{"member_id": f"{branch}-{m:02d}", "branch_id": branch,
                                               "name": f"党员{m}", "role": "member", "status": "full"}
                                              for m in range(MEMBERS_PER_BATCH)])})
            n += 1
            with written.get_lock():
                written.value = n


def _wait_for(predicate, bound: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_backup_taken_while_another_process_writes_is_a_consistent_store(tmp_path):
    db = tmp_path / "live.db"
    Store(db).close()
    written, stop = SPAWN.Value("i", 0), SPAWN.Event()
    writer = SPAWN.Process(target=_write_batches, args=(str(db), written, stop))
    writer.start()
    try:
        assert _wait_for(lambda: written.value >= 5)
        done = orglife("backup", tmp_path / "copy.db", "--db", db)
        after_backup = written.value
        assert _wait_for(lambda: written.value >= after_backup + 3)  # the writer was never held up
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"已备份到 {tmp_path / 'copy.db'}")
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    branches = copy.execute("select count(*) from branches").fetchone()[0]
    members = copy.execute("select count(*) from members").fetchone()[0]
    copy.close()
    assert 5 <= branches <= written.value and members == branches * MEMBERS_PER_BATCH  # whole commits only
    assert not Path(f"{tmp_path / 'copy.db'}-wal").exists()  # one self-contained file
    with Store(tmp_path / "copy.db") as opened:
        assert opened.revision == head_revision() and len(opened.read(Branch)) == branches


def test_restore_round_trip_refuses_to_overwrite_without_force(tmp_path, demo_store):
    source = Path(demo_store.removeprefix("sqlite:///"))
    assert orglife("backup", tmp_path / "b.db", "--db", source).returncode == 0
    target = tmp_path / "restored.db"
    done = orglife("restore", tmp_path / "b.db", "--db", target)
    assert done.returncode == 0, done.stderr
    assert "逐表核对一致" in done.stdout
    assert restored_from(sqlite_digests(target), sqlite_digests(source))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left

    with Store(target) as store:  # the restored store is changed, then the restore is asked for again
        store.save({Branch: pd.DataFrame([{"branch_id": "NEW", "name": "新支部", "unit_type": "organ"}])})
    changed = sqlite_digests(target)
    refused = orglife("restore", tmp_path / "b.db", "--db", target)
    assert refused.returncode == 2
    assert refused.stderr.startswith("错误：目标数据库") and "--force" in refused.stderr
    assert sqlite_digests(target) == changed
    forced = orglife("restore", tmp_path / "b.db", "--db", target, "--force")
    assert forced.returncode == 0, forced.stderr
    assert restored_from(sqlite_digests(target), sqlite_digests(source))


def test_restore_refuses_a_newer_schema_a_foreign_file_and_a_damaged_backup(tmp_path, demo_store):
    source = Path(demo_store.removeprefix("sqlite:///"))
    backup = tmp_path / "b.db"
    assert orglife("backup", backup, "--db", source).returncode == 0
    target = tmp_path / "store.db"
    assert orglife("restore", backup, "--db", target).returncode == 0
    kept = sqlite_digests(target)

    def sqlite_file(name: str, sql: str, like: Path | None = None) -> Path:
        path = tmp_path / name
        if like is not None:
            path.write_bytes(like.read_bytes())
        with sqlite3.connect(path) as connection:
            connection.execute(sql)
        connection.close()
        return path

    newer = sqlite_file("newer.db", "update alembic_version set version_num = '9999_future'", like=backup)
    done = orglife("restore", newer, "--db", target, "--force")
    assert done.returncode == 2 and "结构版本 9999_future 比本程序新" in done.stderr

    foreign = sqlite_file("foreign.db", "create table t (x)")
    done = orglife("restore", foreign, "--db", target, "--force")
    assert done.returncode == 2 and "不是 orglife 数据库" in done.stderr

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    done = orglife("restore", damaged, "--db", target, "--force")
    assert done.returncode == 2 and done.stderr.startswith("错误：") and "Traceback" not in done.stderr

    assert sqlite_digests(target) == kept  # every refusal left the store as it was
    assert not (tmp_path / "nothing.db").exists()
    assert orglife("restore", newer, "--db", tmp_path / "nothing.db").returncode == 2
    assert not (tmp_path / "nothing.db").exists()


def test_an_older_backup_is_upgraded_on_restore_and_keeps_its_rows(tmp_path):
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as connection:
        migrate(connection, "0001")
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '老支部', 1)"))
    engine.dispose()
    done = orglife("restore", old, "--db", tmp_path / "new.db")
    assert done.returncode == 0, done.stderr
    assert "已升级结构" in done.stdout
    with Store(tmp_path / "new.db") as store:
        assert store.revision == head_revision()
        assert store.read(Branch)["name"].tolist() == ["老支部"]


@pytest.mark.postgres
def test_pg_dump_backup_restores_into_a_fresh_database_with_every_table_equal(tmp_path, pg_url, pg_admin_url):
    """The README recipe: ``orglife backup`` (pg_dump -Fc) → pg_restore into a fresh database → every table
    equal; and ``orglife restore`` does the same, refusing a non-empty database without --force."""
    from sqlalchemy.engine import make_url

    _demo(pg_url)
    dump = tmp_path / "store.dump"
    done = orglife("backup", dump, "--db", pg_url)
    assert done.returncode == 0, done.stderr
    password = make_url(pg_url).password
    assert f":{password}@" not in done.stdout + done.stderr  # the URL is shown with *** only

    fresh = f"orglife_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'create database "{fresh}"'))
    fresh_url = make_url(pg_url).set(database=fresh).render_as_string(hide_password=False)
    try:
        parsed = make_url(fresh_url)
        recipe = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "-h", parsed.host,
                                 "-p", str(parsed.port), "-U", parsed.username, "-d", fresh, str(dump)],
                                env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"}, capture_output=True,
                                text=True)
        assert recipe.returncode == 0, recipe.stderr
        assert digests(fresh_url) == digests(pg_url)

        refused = orglife("restore", dump, "--db", fresh_url)
        assert refused.returncode == 2 and "--force" in refused.stderr
        with Store(fresh_url) as store:
            store.save({Branch: pd.DataFrame([{"branch_id": "NEW", "name": "新支部", "unit_type": "organ"}])})
        done = orglife("restore", dump, "--db", fresh_url, "--force")
        assert done.returncode == 0, done.stderr
        assert f":{password}@" not in done.stdout + done.stderr  # the URL is shown with *** only
        assert restored_from(digests(fresh_url), digests(pg_url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{fresh}" with (force)'))
        admin.dispose()


# ---- honest restores: the backup's audit chain, the restore in the history, all or nothing ------------------------


def _seed(url: str, *branches: str) -> None:
    with Store(url) as store:
        for branch in branches:
            store.save({Branch: pd.DataFrame([{"branch_id": branch, "name": f"{branch} 支部", "unit_type": "organ"}]),
                        Member: pd.DataFrame([{"member_id": f"{branch}-01", "branch_id": branch, "name": "党员",
                                               "role": "member", "status": "full"}])})


def rewritten(backup: Path, name: str, *statements: str) -> Path:
    """A copy of ``backup`` rewritten by someone who dropped the audit trail's triggers first."""
    path = backup.with_name(name)
    path.write_bytes(backup.read_bytes())
    with sqlite3.connect(path) as connection:
        connection.execute("drop trigger audit_no_update")
        connection.execute("drop trigger audit_no_delete")
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return path


@pytest.mark.parametrize("statement, why", [
    ("update audit set actor = 'nobody' where id = 3", "编号 3 的记录（"),
    ("delete from audit where id > 5", "审计记录中却没有它"),  # cut to 5 rows: the chain left is whole
    ("drop table audit", "却没有审计记录哈希链"),
], ids=["rewritten-entry", "cut-to-5", "no-trail"])
def test_a_backup_with_a_rewritten_audit_trail_is_refused_and_the_store_kept(tmp_path, capsys, statement, why):
    store = tmp_path / "store.db"
    _seed(store, "B1", "B2", "B3", "B4")
    backup = tmp_path / "b.db"
    assert cli(capsys, "backup", backup, "--db", store)[0] == 0
    _seed(store, "B5")
    kept = sqlite_digests(store)
    code, _, err = cli(capsys, "restore", rewritten(backup, "bad.db", statement), "--db", store, "--force")
    assert code == 2 and why in err and "拒绝恢复，未作任何改动" in err
    assert sqlite_digests(store) == kept
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_honest_restore_is_written_into_the_history(tmp_path, capsys):
    """Restoring an older backup drops what was written since; the history says so: who, when, from which file,
    what the store held before (its rows, its audit entries and the newest entry's hash)."""
    store = tmp_path / "store.db"
    _seed(store, "B1")
    backup = tmp_path / "older.db"
    assert cli(capsys, "backup", backup, "--db", store)[0] == 0
    _seed(store, "B2")  # written after the backup: the restore takes it away
    with Store(store) as opened:
        held = opened.verify_history()
        rows = sum(opened.counts().values())
    code, out, _ = cli(capsys, "restore", backup, "--db", store, "--force")
    assert code == 0 and "备份的审计记录完整（2 条）" in out and "已记入审计记录" in out
    code, out, _ = cli(capsys, "history", "--user", "命令行", "--db", store)
    last = out.strip().splitlines()[-3:]
    assert last[0].split("  ")[1:3] == ["命令行", "恢复备份"] and str(backup) in last[0]
    assert f"恢复前的行数：{rows + held.count}" in last[1]  # the records and the audit entries
    assert f"恢复前的审计记录条数：{held.count}" in last[1] and f"恢复前的最新审计哈希：{held.last_hash}" in last[1]
    code, out, _ = cli(capsys, "history", "--verify", "--db", store)
    assert code == 0 and out.startswith("审计记录完整：3 条")


def test_a_restore_that_fails_at_its_last_write_leaves_the_store_as_it_was(tmp_path, capsys, monkeypatch):
    from orglife_nb.store import audit

    store = tmp_path / "store.db"
    _seed(store, "B1")
    backup = tmp_path / "b.db"
    assert cli(capsys, "backup", backup, "--db", store)[0] == 0
    _seed(store, "B2")
    kept = sqlite_digests(store)

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(audit, "append", disk_full)  # the restore's own entry, after every table was replaced
    code, _, err = cli(capsys, "restore", backup, "--db", store, "--force")
    assert code == 2 and "disk is full" in err and "原数据库未改动" in err
    assert sqlite_digests(store) == kept
    monkeypatch.undo()
    with Store(store) as opened:
        assert opened.verify_history().problem is None and len(opened.read(Branch)) == 2


def test_a_restore_while_another_process_writes_is_whole_and_recorded(tmp_path):
    """The restore takes the store's write lock like every writer: the writer waits, then writes on the restored
    store (before: "恢复校验失败" and the store replaced all the same)."""
    db = tmp_path / "live.db"
    _seed(db, "B1")
    backup = tmp_path / "b.db"
    assert orglife("backup", backup, "--db", db).returncode == 0
    written, stop = SPAWN.Value("i", 0), SPAWN.Event()
    writer = SPAWN.Process(target=_write_batches, args=(str(db), written, stop))
    writer.start()
    try:
        assert _wait_for(lambda: written.value >= 3)
        done = orglife("restore", backup, "--db", db, "--force")
        after_restore = written.value
        assert _wait_for(lambda: written.value >= after_restore + 2)  # the writer went on, on the restored store
    finally:
        stop.set()
        writer.join(60)
    assert writer.exitcode == 0
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        assert store.verify_history().problem is None
        restores = store.history(user=None)
        assert (restores.action == "restore").sum() == 1
        branches = store.read(Branch).branch_id
        assert "B1" in set(branches) and len(branches) < written.value + 1  # the restore removed earlier batches


def test_restore_compares_the_copy_with_the_backup_cell_by_cell(tmp_path, monkeypatch):
    """A copy that differs from the backup in one cell (same rows everywhere) is refused, the store kept."""
    from orglife_nb.errors import OrglifeError
    from orglife_nb.store import backup as backup_module

    store = tmp_path / "store.db"
    _seed(store, "B1", "B2")
    backup = tmp_path / "b.db"
    backup_module.backup(backup, str(store))
    kept = sqlite_digests(store)
    real_copy = backup_module._copy

    def altered(source: Path, target: Path) -> None:
        real_copy(source, target)
        if ".restore-" in target.name:
            with sqlite3.connect(target) as connection:
                connection.execute("update members set name = '别人' where member_id = 'B2-01'")
            connection.close()

    monkeypatch.setattr(backup_module, "_copy", altered)
    with pytest.raises(OrglifeError, match="恢复校验失败：副本与备份 .* 的内容不一致，未作任何改动"):
        backup_module.restore(backup, str(store), force=True)
    assert sqlite_digests(store) == kept


def test_table_digests_read_content_not_only_row_counts(tmp_path):
    one, other = tmp_path / "one.db", tmp_path / "other.db"
    _seed(one, "B1", "B2")
    other.write_bytes(one.read_bytes())
    with sqlite3.connect(other) as connection:
        connection.execute("update members set name = '别人' where member_id = 'B2-01'")
    connection.close()
    first, second = sqlite_digests(one), sqlite_digests(other)
    assert first["members"][0] == second["members"][0] == 2
    assert first["members"] != second["members"] and first["branches"] == second["branches"]


@pytest.mark.postgres
def test_pg_restore_refuses_a_dump_with_a_rewritten_trail_and_records_an_honest_one(tmp_path, pg_url, capsys):
    _seed(pg_url, "B1", "B2")
    honest = tmp_path / "honest.dump"
    assert cli(capsys, "backup", honest, "--db", pg_url)[0] == 0
    owner = create_engine(pg_url)
    with owner.begin() as connection:  # the owner role can lift the triggers
        connection.execute(text("alter table audit disable trigger user"))
        connection.execute(text("update audit set actor = 'nobody' where id = 2"))
        connection.execute(text("alter table audit enable trigger user"))
    owner.dispose()
    bad = tmp_path / "bad.dump"
    assert cli(capsys, "backup", bad, "--db", pg_url)[0] == 0
    _seed(pg_url, "B3")
    kept = digests(pg_url)
    code, _, err = cli(capsys, "restore", bad, "--db", pg_url, "--force")
    assert code == 2 and "审计记录不完整：编号 2 的记录（" in err and "拒绝恢复，未作任何改动" in err
    assert digests(pg_url) == kept
    code, out, _ = cli(capsys, "restore", honest, "--db", pg_url, "--force")
    assert code == 0 and "备份的审计记录完整（4 条）" in out and "已记入审计记录" in out
    with Store(pg_url) as store:
        verdict = store.verify_history()
        assert verdict.problem is None and verdict.count == 5
        last = store.history(user=None).iloc[-1]
        assert last.action == "restore" and last.record_key == str(honest)
        assert json.loads(last.detail)["audit_before"] == 6
