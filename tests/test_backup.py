"""``orglife backup`` / ``orglife restore`` in real processes: consistent while writing, refusals, round trips."""
from __future__ import annotations

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

SPAWN = multiprocessing.get_context("spawn")
MEMBERS_PER_BATCH = 25


def orglife(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["orglife", *map(str, args)], capture_output=True, text=True, timeout=300)


def digests(url: str) -> dict:
    with Store(url) as store, store.engine.connect() as connection:
        return table_digests(connection)


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
    assert sqlite_digests(target) == sqlite_digests(source)
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
    assert sqlite_digests(target) == sqlite_digests(source)


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
        assert digests(fresh_url) == digests(pg_url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{fresh}" with (force)'))
        admin.dispose()
