"""The store: schema by migrations, upgrade on open, SQLite settings, merge rules, frames' dtypes."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from orglife_nb import frames as frames_module
from orglife_nb.errors import OrglifeError
from orglife_nb.models import (Attendance, Branch, Meeting, Member, RECORDS, Talk, fields_of)
from orglife_nb.store import Store, head_revision, migrate, newest_migration, resolve_url


def _batch():
    return {
        Branch: pd.DataFrame([{"branch_id": "001", "name": "第一党支部", "unit_type": "organ",
                               "has_committee": True, "has_leadership_group": False}]),
        Member: pd.DataFrame([
            {"member_id": "001-01", "branch_id": "001", "name": "王伟", "role": "secretary", "status": "full"},
            {"member_id": "001-02", "branch_id": "001", "name": "李娜", "role": "member", "status": "probationary"},
        ]),
        Meeting: pd.DataFrame([{"meeting_id": "M1", "branch_id": "001", "kind": "regular", "year": 2026,
                                "half": "first", "topic": "学习", "date": dt.date(2026, 6, 20), "hours": 3.5,
                                "host_id": "001-01", "minutes_kept": True}]),
        Talk: pd.DataFrame([{"meeting_id": "M1", "date": dt.date(2026, 6, 1), "talker": "001-01",
                             "talkee": "001-02"},
                            {"meeting_id": "M1", "date": dt.date(2026, 6, 2), "talker": "上级",
                             "talkee": "001-01"}]),
        Attendance: pd.DataFrame([{"meeting_id": "M1", "member_id": "001-01", "presence": "present"},
                                  {"meeting_id": "M1", "member_id": "001-02", "presence": "leave",
                                   "reason": "出差", "written_statement": True}]),
    }


def _versions(store: Store, record) -> list[int]:
    return store.read(record, store_columns=True)["version"].tolist()


def test_new_store_is_at_the_head_revision(store):
    assert store.revision == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {r.table for r in RECORDS} | {"alembic_version"} <= tables


def test_the_newest_migration_file_names_the_head():
    # an up-to-date store opens on this without importing alembic: it must be alembic's head
    assert newest_migration() == head_revision()


def test_models_and_migrations_agree(store):
    """The migrations build exactly the tables the models describe (no drift between the two)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from orglife_nb.store.schema import metadata

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_sqlite_settings(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as opened:
        with opened.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_an_older_store_is_upgraded_on_open_and_keeps_its_rows(db_url):
    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0001")
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '老支部', 1)"))
    engine.dispose()
    with Store(db_url) as opened:
        assert opened.revision == head_revision() != "0001"
        assert opened.read(Branch)["name"].tolist() == ["老支部"]
        indexes = {ix["name"] for ix in inspect(opened.engine).get_indexes("talks")}
        assert "ix_talks_meeting_id" in indexes


def test_a_foreign_database_is_refused_not_recreated(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table payroll (id integer)")
        connection.execute("insert into payroll values (7)")
    with pytest.raises(OrglifeError, match="不是 orglife 数据库"):
        Store(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("select id from payroll").fetchall() == [(7,)]
        names = {row[0] for row in connection.execute("select name from sqlite_master where type='table'")}
    assert names == {"payroll"}


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("update alembic_version set version_num = '9999'")
    with pytest.raises(OrglifeError, match="比本程序新"):
        Store(path)


def test_missing_folder_and_unknown_backend_are_clear_errors(tmp_path):
    with pytest.raises(OrglifeError, match="目录不存在"):
        Store(tmp_path / "no" / "such" / "dir.db")
    with pytest.raises(OrglifeError, match="不支持的数据库类型"):
        Store("mysql://u:p@localhost/x")


def test_resolve_url(monkeypatch, tmp_path):
    monkeypatch.delenv("ORGLIFE_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_url() == f"sqlite:///{tmp_path / 'orglife.db'}"
    monkeypatch.setenv("ORGLIFE_DB", str(tmp_path / "env.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url("postgresql+psycopg://a:b@h/db") == "postgresql+psycopg://a:b@h/db"
    assert resolve_url("x.db") == f"sqlite:///{tmp_path / 'x.db'}"


def test_save_upserts_by_id_and_replaces_child_rows_per_meeting(store):
    first = store.save(_batch())
    assert first.inserted[Member] == 2 and first.inserted[Talk] == 2

    again = store.save(_batch())  # same content: nothing changes, versions stay
    assert again.changed == 0
    assert _versions(store, Member) == [1, 1]
    stamps = store.read(Talk, store_columns=True)["updated_at"].tolist()

    batch = _batch()
    batch[Member].loc[1, "name"] = "李娜娜"
    batch[Talk] = batch[Talk].iloc[:1]
    changed = store.save(batch)
    assert changed.updated[Member] == 1 and changed.unchanged[Member] == 1
    members = store.read(Member, store_columns=True).set_index("member_id")
    assert members.loc["001-02", "name"] == "李娜娜" and members.loc["001-02", "version"] == 2
    assert members.loc["001-01", "version"] == 1
    talks = store.read(Talk, store_columns=True)
    assert talks["talker"].tolist() == ["001-01"]  # the meeting's talks were replaced by the file's one row
    assert talks["updated_at"].tolist()[0] >= stamps[0]
    assert store.read(Attendance)["member_id"].tolist() == ["001-01", "001-02"]  # other sheets untouched


def test_a_failed_save_stores_nothing(store):
    batch = _batch()
    batch[Member].loc[1, "branch_id"] = "999"  # foreign key violation in the middle of the batch
    with pytest.raises(OrglifeError, match="未保存任何内容"):
        store.save(batch)
    assert all(count == 0 for count in store.counts().values())


def _everything(store: Store) -> tuple[dict, int]:
    """Every table's rows with their versions and stamps, and the length of the audit trail."""
    return {record: store.read(record, store_columns=True) for record in RECORDS}, len(store.history())


@pytest.mark.parametrize("fails_at", ["Member", "Attendance", "audit"])
def test_a_save_failing_halfway_leaves_the_store_as_it_was(store, monkeypatch, fails_at):
    """A save is one transaction: when the database refuses a later table's rows (or the audit entries, the last
    write) the earlier tables' changes of the same save are gone too. A save running in autocommit, or committing
    per table, keeps the branch renamed here."""
    from sqlalchemy.exc import OperationalError

    from orglife_nb.store import audit, writer

    store.save(_batch())
    before = _everything(store)
    batch = _batch()
    batch[Branch].loc[0, "name"] = "第一党支部（改）"  # the first table: an update, written before the failure
    batch[Member].loc[1, "name"] = "李娜娜"
    batch[Talk] = batch[Talk].iloc[:1]
    batch[Attendance].loc[1, "reason"] = "培训"

    def refused(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    if fails_at == "audit":
        monkeypatch.setattr(audit, "append", refused)
    else:
        real = writer._insert
        monkeypatch.setattr(writer, "_insert", lambda connection, record, rows, stamp: (
            refused() if record.__name__ == fails_at else real(connection, record, rows, stamp)))
    with pytest.raises(OrglifeError, match="写入数据库失败，未保存任何内容"):
        store.save(batch)
    monkeypatch.undo()
    after = _everything(store)
    assert after[1] == before[1]
    for record in RECORDS:
        pd.testing.assert_frame_equal(after[0][record], before[0][record], obj=record.__name__)
    assert store.read(Branch)["name"].tolist() == ["第一党支部"]
    # the same save, not refused, does change the branch
    assert store.save(batch).changed and store.read(Branch)["name"].tolist() == ["第一党支部（改）"]


def test_frames_have_the_model_dtypes(store):
    store.save(_batch())
    loaded = frames_module.load(store)
    meetings = loaded.meetings
    assert str(meetings["date"].dtype) == "datetime64[ns]"
    assert isinstance(meetings["kind"].dtype, pd.CategoricalDtype)
    assert list(meetings["kind"].cat.categories) == ["regular", "special", "leadership"]
    assert str(meetings["minutes_kept"].dtype) == "boolean" and pd.isna(meetings["merged"].iloc[0])
    assert str(meetings["year"].dtype) == "Int64" and meetings["hours"].iloc[0] == 3.5
    assert loaded.members["member_id"].tolist() == ["001-01", "001-02"]
    assert loaded[Talk] is loaded.talks and len(list(loaded)) == len(RECORDS)
    for record, frame in loaded:
        assert list(frame.columns) == [f.name for f in fields_of(record)]
    only = frames_module.load(store, branches=["nope"])
    assert only.rows == 0


def test_orglife_load_is_the_public_entry_point(tmp_path):
    import orglife_nb

    path = tmp_path / "p.db"
    with Store(path) as opened:
        opened.save(_batch())
    assert len(orglife_nb.load(path).talks) == 2


def test_bulk_and_cursor_reads_give_the_same_frames(store, monkeypatch):
    """The whole-store read (ADBC/Arrow on SQLite) and the per-branch read (cursor) type to identical frames."""
    import orglife_nb.store as store_module
    from orglife_nb import demo

    store.save(demo.baseline_batch())
    bulk = frames_module.load(store)
    monkeypatch.setattr(store_module, "BULK_PART_ROWS", 7)  # every table in row-id order read in parts
    in_parts = frames_module.load(store)
    monkeypatch.setattr(store_module, "BULK_READ_FROM_BRANCHES", 10**9)
    by_cursor = frames_module.load(store, branches=store.branch_ids())
    for (record, a), (_, b), (_, c) in zip(bulk, by_cursor, in_parts):
        pd.testing.assert_frame_equal(a, b, obj=record.table)
        pd.testing.assert_frame_equal(c, b, obj=record.table)
    assert bulk.rows == sum(store.counts().values())


def test_bulk_reads_see_what_this_process_just_wrote(tmp_path):
    # measured: ADBC's own SQLite, loaded into this process, stopped seeing rows written through the store's
    # connection after its first read; the bulk reader now runs in child processes
    batch = _batch()
    with Store(tmp_path / "s.db") as store:
        store.save({record: batch[record] for record in (Branch, Member, Meeting)})
        assert frames_module.load(store).talks.empty
        store.save({Talk: batch[Talk]})
        assert len(frames_module.load(store).talks) == 2


def test_a_failing_bulk_read_is_a_chinese_error(tmp_path):
    from orglife_nb.store.arrow import read_sqlite

    with Store(tmp_path / "s.db"):
        pass
    with pytest.raises(OrglifeError, match="读取数据库 .* 失败"):
        read_sqlite(str(tmp_path / "s.db"), ["SELECT * FROM no_such_table"])
