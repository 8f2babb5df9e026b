"""The store: SQLAlchemy engine on SQLite (default) or PostgreSQL, schema kept by alembic migrations.

``Store`` is the one facade the rest of the package talks to (as nbgrader's Gradebook): it opens or creates the
database, upgrades an older schema on open, and reads and writes record batches in single transactions.

Writers take turns: every write goes through ``Store.transaction()`` (``write_transaction``), which holds the
store's one write lock from its first statement to its commit, so what a writer reads inside it (stored child
rows, known ids, versions) cannot change under it. SQLite: ``BEGIN IMMEDIATE`` (pysqlite would otherwise begin
lazily, at the first INSERT, after the reads). PostgreSQL: a transaction-level advisory lock, the same one-writer
rule as SQLite (SERIALIZABLE would instead abort and redo a whole large import whenever a form saved meanwhile).
Readers never wait for it. A writer that waits longer than ``write_wait`` seconds gets a Chinese OrglifeError.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pandas as pd
from sqlalchemy import Connection, create_engine, event, func, inspect, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ..errors import OrglifeError
from ..models import RECORDS, Ballot, Record, fields_of
from . import audit
from .clock import now
from .review import check_unlocked, read as read_review_rows
from .schema import REVIEWS, ROW_ID, TABLES, metadata, table_of
from .scope import Account, AccountRole, ScopeError, acting_as, check_write, redact, visible

DEFAULT_DB = "orglife.db"
# Reading more branches than this (or all) from an SQLite file goes through ADBC/Arrow in a child process; a few
# branches (one report, one form) read faster through the cursor than a process starts.
BULK_READ_FROM_BRANCHES = 200
# Rows of one part of a bulk read (``_bulk_parts``): small enough that the two readers finish together, large
# enough that a part's start (a query, a file) stays a small share of it.
BULK_PART_ROWS = 250_000
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(db: str | os.PathLike | None = None) -> str:
    """``--db`` value → SQLAlchemy URL: a URL stays, a path means an SQLite file; default ORGLIFE_DB, ./orglife.db."""
    value = str(db) if db is not None else os.environ.get("ORGLIFE_DB") or DEFAULT_DB
    if "://" in value:
        try:
            make_url(value)
        except ArgumentError:
            raise OrglifeError(f"数据库地址无效：{value}") from None
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries the password instead (libpq's PGPASSWORD):
    what is handed to notebooks, workers and kernels, so that no parameter, saved notebook or report holds it."""
    parsed = make_url(url)
    if parsed.password is None or parsed.get_backend_name() != "postgresql":
        return url, {}
    bare = URL.create(parsed.drivername, username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query)  # .set(password=None) would keep it
    return bare.render_as_string(hide_password=False), {"PGPASSWORD": str(parsed.password)}


def existing_url(db: str | os.PathLike | None = None) -> str:
    """``resolve_url`` for commands that only read: an SQLite file that does not exist is an error, not a new
    empty store (a mistyped path would otherwise give empty results and a stray file)."""
    url = resolve_url(db)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and not Path(
            parsed.database).exists():
        raise OrglifeError(f"数据库文件不存在：{parsed.database}")
    return url


# How long a writer waits for the write lock (another import or save in progress) before giving up.
WRITE_WAIT_SECONDS = 60.0
# Execution option marking a connection whose transaction writes (see ``write_transaction``).
_WRITE = "orglife_write"
# pg_advisory_xact_lock key of the store's write lock (any constant; "orglife" in ASCII).
_PG_WRITE_LOCK = 0x6F72676C696665


def _sqlite_setup(write_wait: float):
    def on_connect(dbapi_connection, _record) -> None:
        # SQLAlchemy's pysqlite recipe: the driver must not begin transactions itself (it would begin lazily, at
        # the first INSERT, after a writer's reads); the ``begin`` event below emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (reports, forms) do not block a writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(write_wait * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster bulk writes
        cursor.close()

    return on_connect


def _sqlite_begin(connection: Connection) -> None:
    # a writer takes the write lock at BEGIN, before it reads; a reader's deferred BEGIN gives it one snapshot
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, write_wait: float = WRITE_WAIT_SECONDS) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise OrglifeError(f"数据库文件所在目录不存在：{folder}")
        engine = create_engine(url, connect_args={"timeout": write_wait})
        event.listen(engine, "connect", _sqlite_setup(write_wait))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise OrglifeError(f"不支持的数据库类型：{parsed.get_backend_name()}（支持 SQLite 和 PostgreSQL）")


# ---------------------------------------------------------------------------------------------------------------
# Migrations


def _alembic_config(connection: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def migrate(connection: Connection, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (alembic upgrade) inside the caller's transaction."""
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


@contextmanager
def write_transaction(engine: Engine, write_wait: float = WRITE_WAIT_SECONDS) -> Iterator[Connection]:
    """The one way to write: a transaction holding the store's write lock from its start to its commit.

    Waiting longer than ``write_wait`` seconds for the lock is an OrglifeError (nothing written)."""
    with engine.connect() as connection:
        try:
            if connection.dialect.name == "sqlite":
                transaction = connection.execution_options(**{_WRITE: True}).begin()  # BEGIN IMMEDIATE
            else:
                transaction = connection.begin()
                if connection.dialect.name == "postgresql":
                    # bounded wait for the lock only; LOCAL ends with the transaction
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(write_wait * 1000)}")
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")
                    connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        except OperationalError as error:
            if _busy(error):
                raise StoreBusy(write_wait) from None
            raise
        with transaction:
            yield connection


class StoreBusy(OrglifeError):
    """Another writer held the store's write lock for longer than this one would wait."""

    def __init__(self, write_wait: float) -> None:
        super().__init__(f"数据库正忙：另一个导入或保存正在写入，等待 {write_wait:g} 秒仍未轮到，"
                         "未写入任何内容，请稍后再试")


def _busy(error: OperationalError) -> bool:
    """The driver's "waited too long for a lock" (SQLite: locked/busy; PostgreSQL: lock_not_available)."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "55P03":
        return True
    return "locked" in str(original) or "busy" in str(original)


def newest_migration() -> str:
    """The head revision as the newest migration file names it (``0009_audit_chain.py`` → 0009: the ids are
    numbered in order, tests/test_store.py holds them to alembic's head). An up-to-date store opens on it without
    importing alembic (~0.35 s of every command)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def _stored_revisions(connection: Connection) -> list[str] | None:
    """The revisions in the store's alembic_version table, None without one (a new or foreign database)."""
    try:
        return [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
    except SQLAlchemyError:
        return None


def _ensure_schema(engine: Engine, url: str, write_wait: float = WRITE_WAIT_SECONDS) -> str:
    newest = newest_migration()
    with engine.connect() as connection:  # the usual case, an up-to-date store, takes no write lock (nor alembic)
        if _stored_revisions(connection) == [newest]:
            return newest
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    with engine.connect() as connection:
        if current_revision(connection) == head:
            return head
    with write_transaction(engine, write_wait) as connection:
        revision = current_revision(connection)  # again under the lock: another process may have just migrated
        if revision == head:
            return head
        if revision is None:
            foreign = set(inspect(connection).get_table_names()) - {"alembic_version"}
            if foreign:
                # never build over (or recreate) a database we did not make
                raise OrglifeError(f"该数据库已有其他数据表，不是 orglife 数据库，未作任何改动：{_display(url)}")
        elif not _known(script, revision):
            raise OrglifeError(f"数据库结构版本 {revision} 比本程序新，请升级 orglife-nb：{_display(url)}")
        migrate(connection)
    return head


def _known(script, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises on unknown revision ids
        return False


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------------------------------------------------------
# The facade


class Store:
    """An open store. ``Store(db)`` accepts what ``--db`` accepts; the schema is created or upgraded on open.

    ``write_wait``: seconds a write waits for another writer to finish before it gives up (``StoreBusy``).
    ``actor``: the account (or an account name) every read and write is checked against (``store.scope``);
    None = the command line, trusted as admin (whoever holds the store's file or credentials)."""

    def __init__(self, db: str | os.PathLike | None = None, *, upgrade: bool = True,
                 write_wait: float = WRITE_WAIT_SECONDS, actor: Account | str | None = None) -> None:
        self.url = resolve_url(db)
        self.actor = actor  # who is asking: None is the command line acting as admin
        self.write_wait = write_wait
        self.engine = make_engine(self.url, write_wait=write_wait)
        try:
            if upgrade:
                self.revision = _ensure_schema(self.engine, self.url, write_wait)
            else:
                with self.engine.connect() as connection:
                    self.revision = current_revision(connection)
        except OrglifeError:
            self.engine.dispose()
            raise
        except (OperationalError, SQLAlchemyError) as error:
            self.engine.dispose()
            raise OrglifeError(f"无法打开数据库 {_display(self.url)}：{_reason(error)}") from None
        if isinstance(actor, str):  # an account name (--as NAME): it must exist and be enabled
            try:
                with self.engine.connect() as connection:
                    self.actor = acting_as(connection, actor)
            except OrglifeError:
                self.engine.dispose()
                raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({_display(self.url)!r})"

    def as_actor(self, actor: Account | str | None) -> "Store":
        """The same database seen by another actor (shares the engine: no new connections)."""
        if isinstance(actor, str):
            with self.engine.connect() as connection:
                actor = acting_as(connection, actor)
        other = object.__new__(Store)
        other.__dict__.update(self.__dict__)
        other.actor = actor
        return other

    def visible(self, branch_ids: Iterable[str] | None = None, connection: Connection | None = None):
        """Branch ids a read may return (None: all): the actor's scope, refusing named branches outside it."""
        if self.actor is None:
            return None if branch_ids is None else list(branch_ids)
        if connection is None:
            with self.engine.connect() as connection:
                return visible(connection, self.actor, branch_ids)
        return visible(connection, self.actor, branch_ids)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One all-or-nothing unit of work, holding the store's write lock throughout (``write_transaction``):
        read what the write depends on inside it."""
        with write_transaction(self.engine, self.write_wait) as connection:
            yield connection

    # ---- reading ---------------------------------------------------------------------------------------------

    def counts(self) -> dict[type[Record], int]:
        with self.engine.connect() as connection:
            return {record: connection.execute(select(func.count()).select_from(table_of(record))).scalar_one()
                    for record in RECORDS}

    def read(self, record: type[Record], branch_ids: Iterable[str] | None = None,
             *, store_columns: bool = False, raw: bool = False) -> pd.DataFrame:
        """Rows of one record kind as a DataFrame of Python values (frames.load adds dtypes).

        ``raw`` hands over the driver's values untouched (SQLite: dates as ISO text, yes/no as 0/1) for
        ``frames.typed`` to convert whole columns at once: SQLAlchemy's per-value result processing is most of the
        time of a bulk read (figures in benchmarks/checks_bench.py).
        """
        frame = self._read(record, _columns(record, store_columns), self.visible(branch_ids), raw=raw)
        return redact(self.actor, record, frame)

    def _read(self, record: type[Record], names: list[str], branch_ids, *, raw: bool) -> pd.DataFrame:
        with self.engine.connect() as connection:
            result = connection.execute(_query(record, names, branch_ids))
            if raw:
                return pd.DataFrame.from_records(result.cursor.fetchall(), columns=names, coerce_float=False)
            return pd.DataFrame(result.fetchall(), columns=names)

    def read_many(self, records: Iterable[type[Record]], branch_ids: Iterable[str] | None = None,
                  skip: Iterable[str] = (), then: Callable[[type[Record], pd.DataFrame], Any] | None = None
                  ) -> dict[type[Record], Any]:
        """Raw reads (see ``read``) of several record kinds, without the ``table.column`` names in ``skip``. A
        large read of an SQLite file goes through ADBC into Arrow (``store.arrow``): about 3× faster than the
        cursor on the whole store. ``then(record, frame)``: applied to each record's frame as soon as it is read
        (a bulk read goes on meanwhile: ``frames.load`` types one table while the next is read)."""
        then = then or (lambda _record, frame: frame)
        records = list(records)
        skip = set(skip)
        columns = {r: [c for c in _columns(r) if f"{r.table}.{c}" not in skip] for r in records}
        ids = self.visible(branch_ids)
        database = make_url(self.url).database
        bulk = ids is None or len(ids) > BULK_READ_FROM_BRANCHES
        if self.dialect == "sqlite" and bulk and database and database != ":memory:":
            from .arrow import read_sqlite

            with self.engine.connect() as connection:
                sizes = {r: _bulk_parts(connection, r) for r in records}
            queries = [[str(_query(r, columns[r], ids, part).compile(dialect=self.engine.dialect,
                                                                     compile_kwargs={"literal_binds": True}))
                        for part in sizes[r][1]] for r in records]
            # the readers' work goes with the values read (~0.25 s a million on 10,000 branches)
            weights = [sizes[r][0] * (len(columns[r]) + 1) for r in records]
            return dict(zip(records, read_sqlite(database, queries, weights, lambda n, frame: then(
                records[n], redact(self.actor, records[n], frame)))))
        return {r: then(r, redact(self.actor, r, self._read(r, columns[r], ids, raw=True))) for r in records}

    def read_reviews(self, branch_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """The stored review rows (``store.review.rows``) of the meetings of the branches in scope; a meeting
        without one is a draft (``store.review.per_meeting``)."""
        ids = self.visible(branch_ids)
        with self.engine.connect() as connection:
            return read_review_rows(connection, None if ids is None else _branch_filter(REVIEWS, list(ids)))

    def id_index(self, connection: Connection | None = None) -> dict[str, dict[str, str]]:
        """Known ids for reference checks: branch ids, member → branch, meeting → branch (read on ``connection``,
        e.g. inside a write transaction, when given)."""
        if connection is None:
            with self.engine.connect() as connection:
                return self.id_index(connection)
        branches, members, meetings = (table_of(r) for r in RECORDS[:3])
        return {
            "branches": {b: b for (b,) in connection.execute(select(branches.c.branch_id))},
            "members": dict(connection.execute(select(members.c.member_id, members.c.branch_id)).all()),
            "meetings": dict(connection.execute(select(meetings.c.meeting_id, meetings.c.branch_id)).all()),
        }

    def branch_ids(self) -> list[str]:
        return list(self.branch_names())

    def branch_names(self) -> dict[str, str]:
        """Branch id → name, in id order."""
        table = table_of(RECORDS[0])
        with self.engine.connect() as connection:
            query = select(table.c.branch_id, table.c.name).order_by(table.c.branch_id)
            ids = self.visible(None, connection)
            if ids is not None:
                query = query.where(table.c.branch_id.in_(ids))
            return dict(connection.execute(query).all())

    def versioned(self, record: type[Record], **equal) -> pd.DataFrame:
        """Stored rows of ``record`` whose columns equal ``equal`` (``branch_id=…`` or ``meeting_id=…``), with
        ``version`` (and ``row_id``): what a form reads before it edits. The branch must be in scope."""
        from .writer import versioned_rows

        with self.engine.connect() as connection:
            ids = self._check_rows_scope(connection, equal, record)
            rows = versioned_rows(connection, record, **equal)
            if ids is not None:  # no branch named (the branch list itself): the branches in scope
                rows = rows[rows["branch_id"].isin(ids)].reset_index(drop=True)
            return redact(self.actor, record, rows)

    def count_closed(self, meeting_id: str) -> bool:
        from .writer import closed_counts

        with self.engine.connect() as connection:
            self._check_rows_scope(connection, {"meeting_id": meeting_id})
            return bool(closed_counts(connection, [meeting_id]))

    def _check_rows_scope(self, connection: Connection, equal: dict, record: type[Record] | None = None):
        """Refuse rows of a branch outside the scope; with no branch or meeting named, the ids in scope to filter
        on (None: no filter needed)."""
        if self.actor is None:
            return None
        branch = equal.get("branch_id")
        if branch is None and "meeting_id" in equal:
            meetings = TABLES[RECORDS[2]]
            branch = connection.execute(select(meetings.c.branch_id).where(
                meetings.c.meeting_id == equal["meeting_id"])).scalar()
            if branch is None:  # no such meeting: nothing to show, nothing revealed
                return None
        if branch is None:
            if record is None or "branch_id" not in record.model_fields:
                raise ScopeError("读取记录必须指明支部或会议")
            return self.visible(None, connection)
        self.visible([branch], connection)
        return None

    # ---- writing ---------------------------------------------------------------------------------------------

    def apply(self, edits) -> tuple:
        """Single-record edits (the forms) in one transaction with version checks (writer.apply_edits), within
        the actor's scope."""
        from .writer import apply_edits

        edits = list(edits)
        batch: dict = {}
        row_ids: dict = {}
        for edit in edits:
            batch.setdefault(edit.record, []).append(edit.values)
            if edit.row_id is not None:
                row_ids.setdefault(edit.record, []).append(edit.row_id)
        frames = {record: pd.DataFrame(values) for record, values in batch.items()}
        with self.transaction() as connection:
            self._check_write(connection, frames, row_ids)
            summary, versions = apply_edits(connection, edits)
            self._audited(connection, summary)
            return summary, versions

    def close_count(self, meeting_id: str):
        """Close a meeting's ballot count; a phone vote still open is closed with it (``voting.close_poll``: votes
        stop, unused codes are voided, the box's ballots join the paper ones)."""
        from .voting import close_poll
        from .writer import close_count

        with self.transaction() as connection:
            self._check_write(connection, {Ballot: pd.DataFrame({"meeting_id": [meeting_id]})})
            check_unlocked(connection, [meeting_id])
            stamp = now()
            poll, written = close_poll(connection, meeting_id, now=stamp)
            closed = close_count(connection, meeting_id)
            detail = None if poll is None else {"phone_ballots": written, "codes_issued": poll.issued,
                                                "codes_void": poll.issued - poll.used}
            self.log(connection, [audit.entry("close_count", meeting=meeting_id, detail=detail)])
        if poll is not None:
            from .voting import scrub

            scrub(self.engine, wait=self.write_wait, closed=True)
        return closed

    # ---- electronic 民主测评 (store.voting) ------------------------------------------------------------------------

    def open_poll(self, meeting_id: str, voters: int, public: int = 0, *, hours: int | None = None,
                  deliver=None):
        """Issue one-time codes for a meeting's 民主测评 on phones; the returned poll's ``slips`` hold the plain
        codes, which exist nowhere else afterwards. The actor must be allowed to write the meeting's ballots.

        ``deliver(poll)`` runs before the codes are committed (it writes the slips): if it fails, none is issued."""
        from . import voting

        with self.transaction() as connection:
            self._check_write(connection, {Ballot: pd.DataFrame({"meeting_id": [meeting_id]})})
            check_unlocked(connection, [meeting_id])
            poll = voting.open_poll(connection, meeting_id, voters, public, now=now(),
                                    hours=hours or voting.VALID_HOURS)
            if deliver is not None:
                deliver(poll)
            self.log(connection, [audit.entry("open_vote", meeting=meeting_id,
                                              detail={"member_codes": voters, "public_codes": public})])
            return poll

    def poll(self, meeting_id: str):
        """The meeting's phone count (turnout only), None when none was opened; the meeting must be in scope."""
        from .voting import read_poll

        with self.engine.connect() as connection:
            self._check_rows_scope(connection, {"meeting_id": meeting_id})
            return read_poll(connection, meeting_id)

    def ballot_page(self, code: str):
        """Whom a code may rate and how (``VoteRefused`` otherwise). No account: the code is the credential."""
        from .voting import ballot_page

        with self.engine.connect() as connection:
            return ballot_page(connection, code, now=now())

    def cast_vote(self, code: str, levels: dict[str, str], *, scrub: bool = True) -> None:
        """Spend a one-time code on one anonymous ballot (``VoteRefused`` if the code cannot vote). Not audited:
        an entry per vote would give each ballot a time. Once committed, the storage engine's log of the earlier
        state is dropped (``scrub_votes``), unless ``scrub=False``: then the caller calls ``scrub_votes`` itself,
        before it takes the next vote (the phone page answers the voter first)."""
        from .voting import cast_vote

        with self.transaction() as connection:
            cast_vote(connection, code, levels, now=now())
        if scrub:
            self.scrub_votes()

    def scrub_votes(self) -> bool:
        """Drop what the storage engine keeps of the state before the last vote (``voting.scrub``)."""
        from .voting import VOTE_SCRUB_WAIT, scrub

        return scrub(self.engine, wait=VOTE_SCRUB_WAIT)

    def _check_write(self, connection: Connection, batch: dict, row_ids: dict | None = None) -> None:
        """The gate before every write: the actor's scope (the review lock is checked on what actually changes,
        in ``_audited``, so re-importing an approved meeting unchanged is no error)."""
        check_write(connection, self.actor, batch, row_ids)

    @property
    def actor_name(self) -> str | None:
        return None if self.actor is None else self.actor.name

    def log(self, connection: Connection, entries: list[dict]) -> None:
        """Append audit entries in the caller's write transaction, filling in each entry's branch."""
        missing = [e["meeting_id"] for e in entries if e.get("branch_id") is None and e.get("meeting_id")]
        if missing:
            branches = audit.meeting_branches(connection, missing)
            for e in entries:
                if e.get("branch_id") is None and e.get("meeting_id"):
                    e["branch_id"] = branches.get(e["meeting_id"])
        audit.append(connection, self.actor_name, entries)

    def _audited(self, connection: Connection, summary, source: str | None = None):
        """Refuse the write if it changed an approved meeting's records — moved out of it or into it, edited,
        deleted — (the caller's transaction rolls back), else log what it changed."""
        entries = list(summary.audit)
        check_unlocked(connection, summary.meetings)
        if source is not None:
            entries.append(audit.entry("import", key=source, detail={"summary": summary.describe()}))
        self.log(connection, entries)
        return summary

    def history(self, *, meeting: str | None = None, branch: str | None = None,
                user: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """The audit trail within the actor's scope (``orglife history``, the forms' record history); ``limit``:
        only the latest so many entries (still oldest first)."""
        with self.engine.connect() as connection:
            if branch is not None:
                self.visible([branch], connection)
            if meeting is not None:
                self._check_rows_scope(connection, {"meeting_id": meeting})
            return audit.history(connection, meeting=meeting, branch=branch, user=user,
                                 branches=self.visible(None, connection), limit=limit)

    def verify_history(self, anchor: str | None = None) -> "audit.Verdict":
        """Walk the whole audit trail's hash chain (``orglife history --verify``), which must hold ``anchor`` (a
        hash kept elsewhere) when given: the command line and admins only, as it reads every entry."""
        if self.actor is not None and self.actor.role is not AccountRole.admin:
            raise ScopeError("只有管理员可以核对全部审计记录")
        with self.engine.connect() as connection:
            return audit.verify(connection, anchor)

    def save(self, batch: dict[type[Record], pd.DataFrame], *, connection: Connection | None = None,
             source: str | None = None):
        """Store a validated batch in one transaction (see writer.save_batch for the merge rules), with its audit
        entries; ``source`` names where it came from (an imported file) for one more entry."""
        from .writer import save_batch

        if connection is not None:
            self._check_write(connection, batch)
            return self._audited(connection, save_batch(connection, batch), source)
        try:
            with self.transaction() as connection:
                self._check_write(connection, batch)
                return self._audited(connection, save_batch(connection, batch), source)
        except SQLAlchemyError as error:
            raise write_failed(error) from None


@contextmanager
def using(db: "Store | str | os.PathLike | None", *, actor: Account | str | None = None,
          must_exist: bool = True) -> Iterator[Store]:
    """A store for one command: ``db`` itself when it is an open Store (the caller owns it), else opened here
    (an SQLite file that does not exist is an error when ``must_exist``) and closed afterwards."""
    if isinstance(db, Store):
        yield db if actor is None else db.as_actor(actor)
        return
    store = Store(existing_url(db) if must_exist else db, actor=actor)
    try:
        yield store
    finally:
        store.close()


def write_failed(error: SQLAlchemyError) -> OrglifeError:
    """A driver's failure during a batch write, as the one-line Chinese error (the transaction was rolled back)."""
    return OrglifeError(f"写入数据库失败，未保存任何内容：{_reason(error)}")


def _columns(record: type[Record], store_columns: bool = False) -> list[str]:
    return [f.name for f in fields_of(record)] + (["version", "updated_at"] if store_columns else [])


def _query(record: type[Record], names: list[str], branch_ids: Iterable[str] | None,
           rows: tuple[int | None, int | None] | None = None):
    """The SELECT of ``Store.read``: the columns, optionally some branches' rows, in key order; ``rows``: only
    the row ids in [first, end), None for no bound (a part of a bulk read, ``_bulk_parts``)."""
    table = table_of(record)
    query = select(*[table.c[n] for n in names])
    if branch_ids is not None:
        query = query.where(_branch_filter(table, list(branch_ids)))
    first, end = rows or (None, None)
    if first is not None:
        query = query.where(table.c[ROW_ID] >= first)
    if end is not None:
        query = query.where(table.c[ROW_ID] < end)
    if not record.key:
        return query.order_by(table.c[ROW_ID])
    return query.order_by(*[table.c[k] for k in record.key])


def _bulk_parts(connection: Connection, record: type[Record]
                ) -> tuple[int, list[tuple[int | None, int | None] | None]]:
    """About how many rows ``record`` has, and the parts a bulk read takes it in: a table in row-id order as
    ranges of about ``BULK_PART_ROWS`` rows, which the two readers share (one whole table would keep one reader
    busy long after the other is done); [None]: in one piece (a small table, or one in key order). The first
    range is open below and the last above: rows written since the bounds were taken are read all the same."""
    table = table_of(record)
    if record.key:
        return connection.execute(select(func.count()).select_from(table)).scalar_one(), [None]
    row_id = table.c[ROW_ID]
    # one aggregate a SELECT: SQLite reads a lone min() or max() of the row id off the tree's edge, both together
    # by a scan of the whole table
    low, high = connection.execute(select(select(func.min(row_id)).scalar_subquery(),
                                          select(func.max(row_id)).scalar_subquery())).one()
    if low is None:
        return 0, [None]
    rows = high + 1 - low  # the rows, and any deleted between them: counting them would read a whole index
    if rows <= BULK_PART_ROWS:
        return rows, [None]
    count = -(-rows // BULK_PART_ROWS)
    bounds = [None] + [low + rows * n // count for n in range(1, count)] + [None]
    return rows, list(zip(bounds[:-1], bounds[1:]))


def _branch_filter(table, ids: list[str]):
    """Rows of ``table`` that belong to the branches: by their branch column, else through their meeting (任职:
    through their member)."""
    if "branch_id" in table.c:
        return table.c.branch_id.in_(ids)
    if "meeting_id" not in table.c:
        members = TABLES[RECORDS[1]]
        return table.c.member_id.in_(select(members.c.member_id).where(members.c.branch_id.in_(ids)))
    meetings = TABLES[RECORDS[2]]
    return table.c.meeting_id.in_(select(meetings.c.meeting_id).where(meetings.c.branch_id.in_(ids)))


def _reason(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0]


__all__ = ["Store", "StoreBusy", "using", "without_password", "write_transaction", "write_failed", "resolve_url", "existing_url", "make_engine", "migrate",
           "head_revision", "current_revision", "metadata", "TABLES", "table_of", "now"]
