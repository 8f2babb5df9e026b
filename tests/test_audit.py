"""The audit trail: every write leaves entries (who, when, what, old → new) in its own transaction; ballots and
confidential texts leave only counts and marks; the trail cannot be changed through the app or its connection."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from orglife_nb.auth import add_account, set_disabled, set_password
from orglife_nb.auth.accounts import end_sessions, log_login
from orglife_nb.cli import cli
from orglife_nb.forms import Session
from orglife_nb.forms.session import Edit
from orglife_nb.models import Attendance, Ballot, Branch, Criticism, Meeting, Member
from orglife_nb.store import Store
from orglife_nb.store.audit import HIDDEN, headline

DAY = dt.date(2026, 6, 20)
PASSWORD = "audit-test-pass-1"


def entries(store: Store, **where) -> list[dict]:
    frame = Store(store.url).history(**where)
    return [{**row, "detail": json.loads(row["detail"]) if isinstance(row["detail"], str) else None}
            for row in frame.to_dict("records")]


@pytest.fixture
def seeded(store):
    store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部", "superior": "机关党委"}]),
                Member: pd.DataFrame([{"member_id": "M1", "branch_id": "B1", "name": "甲", "role": "secretary"},
                                      {"member_id": "M2", "branch_id": "B1", "name": "乙"}]),
                Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular", "topic": "旧主题",
                                        "date": DAY, "summary": "保密小结原文"}])})
    add_account(store, "sec1", "secretary", PASSWORD, branches=["B1"])
    return store


def test_a_batch_write_leaves_inserts_and_updates_with_old_and_new_values(seeded):
    first = entries(seeded, meeting="MT")
    assert [(e["action"], e["record"], e["actor"]) for e in first] == [("insert", "meetings", None)]
    assert first[0]["detail"]["topic"] == "旧主题" and first[0]["detail"]["summary"] == HIDDEN
    seeded.save({Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular",
                                         "topic": "新主题", "date": DAY, "summary": "新的保密小结"}]),
                 Criticism: pd.DataFrame([{"meeting_id": "MT", "seq": 1, "stage": "assembly", "target": "M1",
                                           "speaker": "M1", "act": "self_criticism", "content": "批评原文"}])},
                source="支部.xlsx")
    seeded.save({Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular",
                                         "topic": "新主题", "date": DAY, "summary": "新的保密小结"}])})  # unchanged
    latest = entries(seeded, meeting="MT")[1:]
    update, replace = latest
    assert update["action"] == "update" and update["detail"] == {"topic": ["旧主题", "新主题"], "summary": HIDDEN}
    assert replace["action"] == "replace" and replace["record"] == "criticisms"
    assert replace["detail"] == {"before": 0, "after": 1} and replace["branch_id"] == "B1"
    imports = [e for e in _all(seeded) if e["action"] == "import"]
    assert [e["record_key"] for e in imports] == ["支部.xlsx"]
    everything = json.dumps(_all(seeded), ensure_ascii=False, default=str)
    assert "批评原文" not in everything and "保密小结原文" not in everything and "新的保密小结" not in everything


def _all(store: Store) -> list[dict]:
    with store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(text("select * from audit order by id")).mappings()]


def test_form_edits_are_logged_with_the_account_and_ballots_only_as_counts(seeded):
    session = Session(seeded, actor="sec1")
    session.save([Edit(Attendance, {"meeting_id": "MT", "member_id": "M2", "presence": "present"})])
    row = session.rows(Attendance, meeting_id="MT").iloc[0]
    session.save([Edit(Attendance, {"meeting_id": "MT", "member_id": "M2", "presence": "leave", "reason": "出差"},
                       version=int(row.version), row_id=int(row.row_id))])
    session.save([Edit(Ballot, {"meeting_id": "MT", "ballot_no": n, "rated_id": m, "level": "good"})
                  for n in (1, 2) for m in ("M1", "M2")])
    session.close_count("MT")
    logged = [e for e in entries(seeded, meeting="MT") if e["actor"] == "sec1"]
    assert [(e["action"], e["record"]) for e in logged] == [
        ("insert", "attendance"), ("update", "attendance"), ("insert", "ballots"), ("close_count", None)]
    assert logged[1]["detail"] == {"presence": ["present", "leave"], "reason": [None, "出差"]}
    assert logged[2]["detail"] == {"rows": 4} and logged[2]["record_key"] is None  # no ballot number, no order
    assert all(e["branch_id"] == "B1" for e in logged)


def test_accounts_and_logins_are_logged_without_secrets(seeded):
    set_password(seeded, "sec1", "another-pass-2")
    set_disabled(seeded, "sec1")
    log_login(seeded, "sec1", False, "10.0.0.7")
    log_login(seeded, "my-password-typed-here", False, "10.0.0.7")
    logged = [e for e in _all(seeded) if e["record"] == "accounts"]
    assert [(e["action"], e["record_key"]) for e in logged] == [
        ("account", "sec1"), ("account", "sec1"), ("account", "sec1"), ("login_failed", "sec1"),
        ("login_failed", "（不存在的账号）")]
    dumped = json.dumps(logged, ensure_ascii=False, default=str)
    assert PASSWORD not in dumped and "another-pass-2" not in dumped and "argon2" not in dumped
    assert "my-password-typed-here" not in dumped


def test_the_trail_cannot_be_changed_or_removed(seeded):
    before = _all(seeded)
    for statement in ("update audit set actor = 'someone'", "delete from audit"):
        with pytest.raises(DBAPIError, match="audit rows cannot be changed"):
            with seeded.engine.begin() as connection:
                connection.execute(text(statement))
    assert _all(seeded) == before
    assert not any(name.startswith(("delete", "edit", "clear")) for name in dir(seeded) if "history" in name)


def test_history_is_scoped_and_printed(seeded, tmp_path):
    seeded.save({Branch: pd.DataFrame([{"branch_id": "B2", "name": "二支部"}])})
    with Store(seeded.url, actor="sec1") as mine:
        assert set(mine.history(user=None).branch_id) == {"B1"}  # B2's entries and logins are not hers
        with pytest.raises(Exception, match="无权查看支部 B2"):
            mine.history(branch="B2")
    if seeded.dialect != "sqlite":
        return
    db = seeded.url.removeprefix("sqlite:///")
    shown = subprocess.run(["orglife", "history", "--meeting", "MT", "--db", db], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "命令行  新增  会议 MT  B1 MT" in shown.stdout and "主题：旧主题" in shown.stdout
    assert "会议类型：组织生活会" in shown.stdout and "保密小结原文" not in shown.stdout
    refused = subprocess.run(["orglife", "history", "--branch", "B2", "--db", db, "--as", "sec1"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "无权查看支部 B2" in refused.stderr
    both = subprocess.run(["orglife", "history", "--db", db], capture_output=True, text=True)
    assert both.returncode == 2 and "三者之一" in both.stderr


def test_an_accounts_history_holds_its_logins_and_logouts(seeded):
    add_account(seeded, "sec2", "secretary", PASSWORD, branches=["B1"])
    log_login(seeded, "sec1", False, "10.0.0.7")
    log_login(seeded, "sec1", True, "10.0.0.7")
    log_login(seeded, "sec2", True, "10.0.0.8")
    end_sessions(seeded, "sec1", "10.0.0.7")
    with Store(seeded.url, actor="sec1") as mine:
        mine.save({Member: pd.DataFrame([{"member_id": "M3", "branch_id": "B1", "name": "丙"}])})
    own = entries(seeded, user="sec1")
    # stored without an actor (nobody is logged in yet), still the account's own
    assert [(e["action"], e["record_key"], e["actor"]) for e in own] == [
        ("login_failed", "sec1", None), ("login", "sec1", None), ("logout", "sec1", None), ("insert", "M3", "sec1")]
    assert {headline(row)["actor"] for row in own} == {"sec1"}  # shown as hers, not as the command line's
    if seeded.dialect == "sqlite":  # the command prints the same
        db = seeded.url.removeprefix("sqlite:///")
        shown = CliRunner().invoke(cli, ["history", "--user", "sec1", "--db", db])
        assert shown.exit_code == 0 and "sec1  登录  账号 sec1" in shown.output and "共 4 条" in shown.output
        cli_only = CliRunner().invoke(cli, ["history", "--user", "命令行", "--db", db])
        assert "登录" not in cli_only.output and "退出" not in cli_only.output


# ---- the hash chain: ``orglife history --verify`` ------------------------------------------------------------------


def verify(capsys, store: Store, *extra: str) -> tuple[int, str, str]:
    from orglife_nb.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["history", "--verify", "--db", store.url, *extra])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def tamper(store: Store, *statements: str) -> None:
    """What the app's own database user can do: lift the append-only triggers, then change the trail."""
    with store.engine.begin() as connection:
        if store.dialect == "sqlite":
            connection.execute(text("drop trigger if exists audit_no_update"))
            connection.execute(text("drop trigger if exists audit_no_delete"))
        else:
            connection.execute(text("alter table audit disable trigger user"))
        for statement in statements:
            connection.execute(text(statement))


def test_verify_an_untouched_trail(seeded, capsys):
    log_login(seeded, "sec1", True, "10.0.0.7")
    count = len(_all(seeded))
    code, out, _ = verify(capsys, seeded)
    assert code == 0 and out.startswith(f"审计记录完整：{count} 条") and count == 6
    code, _, err = verify(capsys, seeded, "--as", "sec1")
    assert code == 2 and "只有管理员可以核对全部审计记录" in err


def test_verify_names_a_rewritten_entry_after_the_trigger_was_dropped(seeded, capsys):
    tamper(seeded, "update audit set actor = 'someone' where id = 2")
    code, out, _ = verify(capsys, seeded)
    assert code == 1 and out.startswith("审计记录不完整：编号 2 的记录（") and "被改动过" in out


def test_verify_names_where_an_entry_was_removed(seeded, capsys):
    tamper(seeded, "delete from audit where id = 3")
    code, out, _ = verify(capsys, seeded)
    assert code == 1 and "编号 2 的记录" in out and "编号 4 的记录" in out and "被删除" in out
    tamper_first = Store(seeded.url)
    with tamper_first.engine.begin() as connection:
        connection.execute(text("delete from audit where id = 1"))
    code, out, _ = verify(capsys, seeded)
    assert code == 1 and "编号 2 的记录" in out and "之前原有的记录被删除" in out
    tamper_first.close()


@pytest.mark.parametrize("resealed", [False, True], ids=["copied-hash", "recomputed-hash"])
def test_verify_names_an_entry_inserted_out_of_order(seeded, capsys, resealed):
    """A replayed copy of the first entry slipped in as the third: the ids after it shifted up to make room; with
    the hash either copied or computed afresh (the algorithm is no secret) the chain shows where it came in."""
    from orglife_nb.store.audit import read_chain, seal

    with seeded.engine.connect() as connection:
        before = list(read_chain(connection))
    forged = {**before[0], "id": 3}
    if resealed:
        forged["prev_hash"] = before[1]["hash"]
        forged["hash"] = seal(forged, forged["prev_hash"])
    tamper(seeded, "update audit set id = id + 1000 where id >= 3", "update audit set id = id - 999 where id >= 1000")
    with seeded.engine.begin() as connection:
        connection.execute(text(f"insert into audit ({', '.join(forged)}) values ({', '.join(':' + c for c in forged)})"),
                           forged)
    assert len(_all(seeded)) == len(before) + 1
    code, out, _ = verify(capsys, seeded)
    assert code == 1 and out.startswith("审计记录不完整：编号 3 的记录（") and "是插入的" in out


def test_an_older_store_gets_its_entries_chained_on_upgrade(db_url, capsys):
    from sqlalchemy import create_engine

    from orglife_nb.store import migrate

    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0007")
        for n in range(3):
            connection.execute(text("insert into audit (at, actor, action, record, record_key, detail) values "
                                    "(:at, null, 'login', 'accounts', :key, :detail)"),
                               {"at": dt.datetime(2026, 1, 1, 8, n), "key": f"old{n}", "detail": '{"address": "旧"}'})
    engine.dispose()
    with Store(db_url) as upgraded:
        upgraded.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部"}])})
        assert upgraded.verify_history().count == 4
        code, out, _ = verify(capsys, upgraded)
        assert code == 0 and out.startswith("审计记录完整：4 条")
        with pytest.raises(DBAPIError, match="audit rows cannot be changed"):  # the triggers are back
            with upgraded.engine.begin() as connection:
                connection.execute(text("update audit set actor = 'x'"))


def test_verify_notices_a_trail_cut_short(seeded, capsys):
    """The newest entries removed leave a whole chain; the records they were about give the cut away."""
    kept = seeded.verify_history().last_hash  # what the README asks to note down elsewhere
    assert verify(capsys, seeded, "--anchor", kept)[0] == 0
    tamper(seeded, "delete from audit where id > 2")
    code, out, _ = verify(capsys, seeded)
    assert code == 1 and "党员 M2 写入于审计记录开始之后，审计记录中却没有它" in out and "截短" in out
    tamper(seeded, "delete from members where member_id = 'M2'", "delete from meetings", "delete from accounts")
    code, out, _ = verify(capsys, seeded)  # the records gone too: only the kept hash tells
    assert code == 0
    code, out, _ = verify(capsys, seeded, "--anchor", kept)
    assert code == 1 and f"留存的哈希 {kept} 不在记录链中" in out


@pytest.mark.postgres
def test_postgresql_app_role_that_does_not_own_the_audit_table(pg_url):
    """The deployment README describes: the owner role migrates, the app's role may only INSERT and SELECT on the
    audit table. Writes still leave their entries; UPDATE, DELETE, TRUNCATE and lifting the triggers are refused."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    Store(pg_url).close()  # the owner creates (and later upgrades) the schema
    role = f"orglife_app_{uuid.uuid4().hex[:8]}"
    owner = create_engine(pg_url)
    with owner.begin() as connection:
        for statement in (f"create role {role} login password 'app-pass-1'",
                          f"grant usage on schema public to {role}",
                          f"grant select, insert, update, delete on all tables in schema public to {role}",
                          f"grant usage, select on all sequences in schema public to {role}",
                          f"revoke update, delete, truncate on audit from {role}"):
            connection.execute(text(statement))
    app_url = make_url(pg_url).set(username=role, password="app-pass-1").render_as_string(hide_password=False)
    try:
        with Store(app_url) as app:
            app.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部"}])})
            add_account(app, "sec1", "secretary", PASSWORD, branches=["B1"])
            log_login(app, "sec1", True, "10.0.0.7")
            assert app.verify_history().count == 3
            for statement, refusal in (("update audit set actor = 'someone'", "permission denied"),
                                       ("delete from audit", "permission denied"),
                                       ("truncate audit", "permission denied"),
                                       ("alter table audit disable trigger user", "must be owner"),
                                       ("drop trigger audit_append_only on audit", "must be owner")):
                with pytest.raises(DBAPIError, match=refusal):
                    with app.engine.begin() as connection:
                        connection.execute(text(statement))
            verdict = app.verify_history()
            assert verdict.problem is None and verdict.count == 3
    finally:
        with owner.begin() as connection:
            connection.execute(text(f"drop owned by {role}"))  # its grants in this database
            connection.execute(text(f"drop role {role}"))
        owner.dispose()


def test_writers_at_the_same_time_leave_one_whole_chain(db_url):
    """Each write reads the newest entry once and chains on it under the store's write lock: writers in parallel
    (threads with their own connections) take turns, and the chain stays one line."""
    from concurrent.futures import ThreadPoolExecutor

    def writer(n: int) -> None:
        with Store(db_url) as store:
            for k in range(6):
                store.save({Branch: pd.DataFrame([{"branch_id": f"T{n}-{k}", "name": f"支部{n}-{k}"}])})
                log_login(store, "nobody", False, f"10.0.{n}.{k}")

    Store(db_url).close()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(writer, range(3)))
    with Store(db_url) as store:
        verdict = store.verify_history()
    assert verdict.problem is None and verdict.count == 3 * 6 * 2
