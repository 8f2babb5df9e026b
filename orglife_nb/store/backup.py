"""``orglife backup`` / ``orglife restore``: a consistent copy of a store, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the whole file in one step under one read
snapshot, so the copy is consistent while the forms or an import keep writing (WAL: they do not wait for it).
Restore copies the backup into a temporary file next to the target, checks it is an orglife store no newer than
this program, verifies every table (rows and a content checksum) against the backup and the backup's audit trail
(its hash chain whole, not cut short: a rewritten backup is refused), upgrades an older schema, and only then
replaces the target's schema and rows in ONE write transaction on the target (``_swap``): under the store's write
lock, checked against the copy and recorded in the audit trail before its commit, so writers wait for it, readers
see the old or the new store, and a failure anywhere leaves the old store as it was.

PostgreSQL: ``pg_dump -Fc`` / ``pg_restore`` (README: 备份与恢复), run here when they are on PATH; the password goes
to them through PGPASSWORD, never on a command line. The dump's audit trail is verified from its COPY text before
``pg_restore --single-transaction``; the restore's own entry follows in a transaction of its own.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, MetaData, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ..errors import OrglifeError
from . import MIGRATIONS, WRITE_WAIT_SECONDS, Store, _display, _known, _reason, audit, existing_url, resolve_url

README_RECIPE = "请按 README“备份与恢复”一节用 pg_dump -Fc / pg_restore 操作"


def table_digests(connection: Connection) -> dict[str, tuple[int, str]]:
    """Every table of the database on ``connection`` (reflected, so an older schema too): its row count and a
    SHA-256 of its rows in primary-key order. Two stores hold the same content when these are equal."""
    reflected = MetaData()
    reflected.reflect(connection)
    digests = {}
    for name, table in sorted(reflected.tables.items()):
        order = list(table.primary_key.columns) or list(table.columns)
        digest, count = hashlib.sha256(), 0
        for row in connection.execute(select(table).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
            count += 1
        digests[name] = (count, digest.hexdigest())
    return digests


def sqlite_digests(path: Path) -> dict[str, tuple[int, str]]:
    """``table_digests`` of an SQLite file, opened without the store's settings (nothing in the file changes)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return table_digests(connection)
    finally:
        engine.dispose()


def _rows(digests: dict[str, tuple[int, str]]) -> int:
    return sum(count for name, (count, _) in digests.items() if name != "alembic_version")


def _sqlite_revision(path: Path, what: str) -> str:
    """The schema version (alembic revision) of an orglife SQLite file; OrglifeError if it is not one."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = {n for (n,) in connection.execute("select name from sqlite_master where type = 'table'")}
        if "alembic_version" not in names:
            raise OrglifeError(f"{what} {path} 不是 orglife 数据库（没有结构版本表）")
        row = connection.execute("select version_num from alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise OrglifeError(f"{what} {path} 不是 SQLite 数据库文件（{error}）") from None
    finally:
        connection.close()
    if row is None:
        raise OrglifeError(f"{what} {path} 不是 orglife 数据库（结构版本为空）")
    return row[0]


def _backup_kind(path: Path) -> str | None:
    """"sqlite" or "pg_dump" (a custom-format archive) by the file's first bytes; None for anything else."""
    with open(path, "rb") as stream:
        head = stream.read(16)
    return "sqlite" if head.startswith(b"SQLite format 3") else "pg_dump" if head.startswith(b"PGDMP") else None


def _expect_kind(path: Path, wanted: str, target: str) -> None:
    kind = _backup_kind(path)
    if kind == wanted:
        return
    said = {"sqlite": "SQLite 数据库的备份", "pg_dump": "PostgreSQL 的 pg_dump 备份"}
    what = f"是 {said[kind]}" if kind else "既不是 SQLite 备份也不是 pg_dump 备份"
    raise OrglifeError(f"备份文件 {path} {what}，不能恢复到{target}数据库，未作任何改动")


def _check_revision(revision: str, path) -> None:
    from alembic.script import ScriptDirectory

    if not _known(ScriptDirectory(str(MIGRATIONS)), revision):
        raise OrglifeError(f"备份 {path} 的数据库结构版本 {revision} 比本程序新，请先升级 orglife-nb，未作任何改动")


def _copy(source: Path, target: Path) -> None:
    """The whole of ``source`` into ``target`` in one step of the backup API (one snapshot of the source, one
    transaction on the target)."""
    with sqlite3.connect(source, timeout=60) as src, sqlite3.connect(target, timeout=60) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _single_file(path: Path) -> None:
    """Leave ``path`` as one self-contained file (no -wal beside it), checked by SQLite."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    if result != "ok":
        raise OrglifeError(f"副本 {path} 未通过完整性检查（{result}）")


def _temporary(near: Path, purpose: str) -> Path:
    return near.with_name(f".{near.name}.{purpose}-{os.getpid()}.tmp")


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if parsed.database in (None, "", ":memory:"):
        raise OrglifeError("内存数据库无法备份或恢复，请给出数据库文件")
    return Path(parsed.database)


# ---------------------------------------------------------------------------------------------------------------


def backup(out: str | os.PathLike, db: str | None = None) -> str:
    """``orglife backup OUT``: a consistent copy of the store in ``out`` (replaced only once complete); a summary."""
    url = existing_url(db)
    out = Path(out).expanduser().resolve()
    if not out.parent.is_dir():
        raise OrglifeError(f"备份文件所在目录不存在：{out.parent}")
    source = _sqlite_path(url)
    if source is None:
        return _pg_dump(url, out)
    if out == source.resolve():
        raise OrglifeError(f"备份文件不能是数据库本身：{out}")
    revision = _sqlite_revision(source, "数据库")
    temporary = _temporary(out, "backup")
    try:
        _copy(source, temporary)
        _single_file(temporary)
        digests = sqlite_digests(temporary)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return f"已备份到 {out}：{len(digests) - 1} 张表，共 {_rows(digests)} 行（结构版本 {revision}）"


def restore(source: str | os.PathLike, db: str | None = None, *, force: bool = False) -> str:
    """``orglife restore IN``: put a backup back as the store ``db`` (see the module doc); a summary."""
    source = Path(source).expanduser().resolve()
    if not source.is_file():
        raise OrglifeError(f"备份文件不存在：{source}")
    url = resolve_url(db)
    target = _sqlite_path(url)
    if target is None:
        _expect_kind(source, "pg_dump", " PostgreSQL ")
        return _pg_restore(source, url, force)
    _expect_kind(source, "sqlite", " SQLite ")
    target = target.resolve()
    if target == source:
        raise OrglifeError(f"备份文件就是要恢复的数据库本身：{source}")
    if not target.parent.is_dir():
        raise OrglifeError(f"数据库文件所在目录不存在：{target.parent}")
    revision = _sqlite_revision(source, "备份文件")
    _check_revision(revision, source)
    existed = target.exists()
    if existed and not force:
        _refuse_overwrite(_stored_rows(target), target)
    temporary = _temporary(target, "restore")
    try:
        _copy(source, temporary)
        _single_file(temporary)
        backed_up = sqlite_digests(source)
        if sqlite_digests(temporary) != backed_up:
            raise OrglifeError(f"恢复校验失败：副本与备份 {source} 的内容不一致，未作任何改动")
        chain = _verified_chain(temporary, source, revision)
        with Store(temporary) as opened:  # an older backup is upgraded here, before it replaces anything
            upgraded = opened.revision != revision
        restored = sqlite_digests(temporary) if upgraded else backed_up
        _single_file(temporary)
        before = _swap(temporary, target, restored, source)
    except (sqlite3.DatabaseError, SQLAlchemyError) as error:
        if not existed:
            _remove(target)
        raise OrglifeError(f"无法写入数据库 {target}（{_reason(error)}），原数据库未改动") from None
    except OrglifeError:
        if not existed:
            _remove(target)
        raise
    finally:
        _remove(temporary)
    return (f"已从 {source} 恢复到 {target}：{len(restored) - 1} 张表，共 {_rows(restored)} 行，逐表核对一致"
            f"{'，已升级结构' if upgraded else ''}；{chain}；已记入审计记录（恢复前 {before['rows_before']} 行）")


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


def _verified_chain(path: Path, source, revision: str) -> str:
    """Refuse a backup whose audit trail breaks its hash chain; the words for the summary."""
    with _opened(path) as connection:
        found = inspect(connection)
        if not found.has_table("audit") or "hash" not in {c["name"] for c in found.get_columns("audit")}:
            return _unchained(revision, source)
        return _chain_words(audit.verify(connection), source)


CHAIN_REVISION = "0009"  # the migration that chains the audit trail (revision ids are numbered in order)


def _unchained(revision: str, source) -> str:
    """A backup without the chain: from before it (nothing to check it against), else one that lost it."""
    if revision >= CHAIN_REVISION:
        raise OrglifeError(f"备份 {source} 的结构版本为 {revision}，却没有审计记录哈希链（被改动过），"
                           "拒绝恢复，未作任何改动")
    return "备份早于审计记录哈希链，无法核对其审计记录"


def _chain_words(verdict: "audit.Verdict", source) -> str:
    if verdict.problem is not None:
        raise OrglifeError(f"备份 {source} 的{verdict.describe()}，拒绝恢复，未作任何改动")
    return f"备份的审计记录完整（{verdict.count} 条）"


@contextmanager
def _opened(path: Path, *attach: tuple[Path, str]) -> Iterator[Connection]:
    """A plain connection to an SQLite file (no store settings; foreign keys off, so tables can be dropped and
    created in any order) with other files attached; the caller begins and commits."""
    raw = sqlite3.connect(path, timeout=WRITE_WAIT_SECONDS, isolation_level=None)
    engine = create_engine("sqlite://", creator=lambda: raw, poolclass=StaticPool)
    try:
        raw.execute("PRAGMA foreign_keys=OFF")
        for other, name in attach:
            raw.execute(f"ATTACH DATABASE ? AS {name}", (str(other),))
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()
        raw.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _swap(temporary: Path, target: Path, restored: dict, source: Path) -> dict:
    """Replace everything in ``target`` by ``temporary``'s schema and rows in ONE write transaction on the target
    (the store's write lock, as every writer takes it: a form or import saving meanwhile waits and then writes on
    the restored store), check it against ``restored`` and record the restore in its audit trail before the
    commit. Anything wrong rolls back: the target is then as it was. Readers see the old store or the new one."""
    with _opened(target, (temporary, "restored")) as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        before = _held(connection)
        master = "SELECT type, name, sql FROM {}.sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL"
        for kind, name, _ in connection.exec_driver_sql(master.format("main")).all():
            if kind in ("table", "view"):  # indexes and triggers go with their tables
                connection.exec_driver_sql(f"DROP {kind.upper()} IF EXISTS main.{_quoted(name)}")
        objects = connection.exec_driver_sql(master.format("restored")).all()
        for kind, name, sql in objects:
            if kind == "table":
                connection.exec_driver_sql(sql)
                connection.exec_driver_sql(f"INSERT INTO main.{_quoted(name)} SELECT * FROM restored.{_quoted(name)}")
        for kind, name, sql in objects:
            if kind != "table":
                connection.exec_driver_sql(sql)
        if table_digests(connection) != restored:
            raise OrglifeError(f"恢复校验失败：写入 {target} 的内容与备份不一致，已撤销，原数据库未改动")
        audit.append(connection, None, [_restore_entry(source, before)])
        connection.commit()
    return before


def _held(connection: Connection) -> dict:
    """What the target holds before a restore (for the restore's audit entry): rows, audit entries, newest hash."""
    reflected = MetaData()
    reflected.reflect(connection)
    counts = {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
              for name, table in reflected.tables.items() if name != "alembic_version"}
    held = {"rows_before": sum(counts.values()), "audit_before": counts.get("audit", 0)}
    if "audit" in reflected.tables and "hash" in reflected.tables["audit"].c:
        held["hash_before"] = audit.last_entry(connection)[1]
    return held


def _restore_entry(source: Path, before: dict) -> dict:
    """The restore in the history: from which file, by which system user, what the store held before."""
    return audit.entry("restore", key=str(source), detail={"os_user": _os_user(), **before})


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (a container without a passwd entry)
        return None


def _stored_rows(target: Path) -> int:
    """Rows in the existing file at ``target`` (0 for an empty file or store)."""
    if target.stat().st_size == 0:
        return 0
    try:
        return _rows(sqlite_digests(target))
    except Exception:  # not a database we can read: certainly something we must not overwrite silently
        return -1


def _refuse_overwrite(rows: int, target) -> None:
    if rows:
        held = "已有其他内容" if rows < 0 else f"已有数据（{rows} 行）"
        raise OrglifeError(f"目标数据库 {target} {held}，恢复会覆盖它；确认覆盖请加 --force，未作任何改动")


# ---- PostgreSQL -------------------------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OrglifeError(f"PostgreSQL 数据库的备份与恢复需要 {name}（本机找不到）；{README_RECIPE}")
    return path


def _pg_env(url: str) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore: the password travels in the environment, not in argv."""
    parsed = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                       ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run(argv: list[str], url: str, what: str) -> str:
    done = subprocess.run(argv, env=_pg_env(url), capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"退出码 {done.returncode}"])[-1]
        raise OrglifeError(f"{what}失败（{reason}）：{_display(url)}")
    return done.stdout


def _pg_dump(url: str, out: Path) -> str:
    tool = _pg_tool("pg_dump")
    with Store(url) as store:
        counts = store.counts()
    temporary = _temporary(out, "backup")
    try:
        # -Fc: one compressed file for pg_restore; a dump is one snapshot of the database (consistent)
        _run([tool, "-Fc", "--no-owner", "--no-privileges", "-f", str(temporary)], url, "pg_dump 备份")
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return f"已用 pg_dump 备份到 {out}（{_display(url)}，备份时约 {sum(counts.values())} 行）"


def _pg_restore(source: Path, url: str, force: bool) -> str:
    tool = _pg_tool("pg_restore")
    listing = _run([tool, "--data-only", "--table=alembic_version", "-f", "-", str(source)], url,
                   f"读取备份 {source} ")
    match = re.search(r"COPY \S*alembic_version \(version_num\) FROM stdin;\n(\S+)\n", listing)
    if match is None:
        raise OrglifeError(f"备份 {source} 不是 orglife 数据库的 pg_dump 备份（没有结构版本）")
    revision = match.group(1)
    _check_revision(revision, source)
    chain = _pg_chain(_run([tool, "--data-only", "--table=audit", "-f", "-", str(source)], url,
                           f"读取备份 {source} "), source, revision)
    with Store(url, upgrade=False) as store:
        rows = sum(store.counts().values()) if store.revision is not None else 0
        with store.engine.connect() as connection:
            before = _held(connection)
    if not force:
        _refuse_overwrite(rows, _display(url))
    # one transaction: a failing restore leaves the database as it was
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "-d", make_url(url).database, str(source)], url, "pg_restore 恢复")
    with Store(url) as store:  # upgrades an older backup
        with store.transaction() as connection:
            store.log(connection, [_restore_entry(source, before)])
        with store.engine.connect() as connection:
            digests = table_digests(connection)
    return (f"已从 {source} 恢复到 {_display(url)}：{len(digests) - 1} 张表，共 {_rows(digests)} 行；{chain}；"
            f"已记入审计记录（恢复前 {before['rows_before']} 行）")


def _pg_chain(dump: str, source: Path, revision: str) -> str:
    """Verify the audit trail in a pg_restore text of the audit table's data (COPY … FROM stdin)."""
    match = re.search(r"^COPY \S*audit \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", dump, re.M | re.S)
    names = [name.strip().strip('"') for name in match.group(1).split(",")] if match else []
    if "hash" not in names:
        return _unchained(revision, source)
    rows = []
    for line in match.group(2).split("\n")[:-1]:  # rows end in \n (text may hold U+2028); physical order
        row = dict(zip(names, map(_copy_value, line.split("\t"))))
        rows.append({**row, "id": int(row["id"]), "at": dt.datetime.fromisoformat(row["at"])})
    return _chain_words(audit.verify_rows(sorted(rows, key=lambda row: row["id"])), source)


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_value(text: str) -> str | None:
    """One field of PostgreSQL's COPY text format: \\N is NULL, backslash escapes the rest."""
    if text == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)
