"""``orglife backup`` / ``orglife restore``: a consistent copy of a store, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the whole file in one step under one read
snapshot, so the copy is consistent while the forms or an import keep writing (WAL: they do not wait for it).
Restore copies the backup into a temporary file next to the target, checks it is an orglife store no newer than
this program, verifies every table (rows and a content checksum) against the backup, upgrades an older schema,
and only then replaces the target: by renaming when there was none, else through the backup API into the target
(one transaction on the target, so its open readers see the old or the new store, never half of one). A failed
restore leaves the old store as it was.

PostgreSQL: ``pg_dump -Fc`` / ``pg_restore`` (README: 备份与恢复), run here when they are on PATH; the password goes
to them through PGPASSWORD, never on a command line.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Connection, MetaData, create_engine, select
from sqlalchemy.engine import make_url

from ..errors import OrglifeError
from . import MIGRATIONS, Store, _display, _known, existing_url, resolve_url

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
    if target.exists() and not force:
        _refuse_overwrite(_stored_rows(target), target)
    temporary = _temporary(target, "restore")
    try:
        _copy(source, temporary)
        _single_file(temporary)
        backed_up = sqlite_digests(source)
        if sqlite_digests(temporary) != backed_up:
            raise OrglifeError(f"恢复校验失败：副本与备份 {source} 的内容不一致，未作任何改动")
        Store(temporary).close()  # an older backup is upgraded here, before it replaces anything
        restored = sqlite_digests(temporary)
        _single_file(temporary)
        if target.exists():
            _copy(temporary, target)
            if sqlite_digests(target) != restored:
                raise OrglifeError(f"恢复校验失败：{target} 与备份内容不一致")
        else:
            os.replace(temporary, target)
    except sqlite3.DatabaseError as error:
        raise OrglifeError(f"无法写入数据库 {target}（{error}），原数据库未改动") from None
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)
    upgraded = "" if restored["alembic_version"] == backed_up["alembic_version"] else "，已升级结构"
    return (f"已从 {source} 恢复到 {target}：{len(restored) - 1} 张表，共 {_rows(restored)} 行，逐表核对一致"
            f"{upgraded}")


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
    _check_revision(match.group(1), source)
    with Store(url, upgrade=False) as store:
        rows = sum(store.counts().values()) if store.revision is not None else 0
    if not force:
        _refuse_overwrite(rows, _display(url))
    # one transaction: a failing restore leaves the database as it was
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "-d", make_url(url).database, str(source)], url, "pg_restore 恢复")
    with Store(url) as store:  # upgrades an older backup
        with store.engine.connect() as connection:
            digests = table_digests(connection)
    return f"已从 {source} 恢复到 {_display(url)}：{len(digests) - 1} 张表，共 {_rows(digests)} 行"
