"""Report runs and trust: the store's password never lands in a parameter, saved notebook, report or manifest, and
``orglife report --as`` keeps to the account's branches and to the public audience without the grant."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from orglife_nb.auth import add_account
from orglife_nb.demo import save_demo
from orglife_nb.store import Store, without_password

SECRET = "Pw-" + uuid.uuid4().hex[:12]  # a password no report could contain by chance


def test_without_password_moves_it_into_the_environment():
    url, env = without_password(f"postgresql+psycopg://reporter:{SECRET}@127.0.0.1:5432/db")
    assert SECRET not in url and url == "postgresql+psycopg://reporter@127.0.0.1:5432/db"
    assert env == {"PGPASSWORD": SECRET}
    assert without_password("sqlite:////tmp/x.db") == ("sqlite:////tmp/x.db", {})


@pytest.mark.postgres
def test_no_saved_notebook_or_output_holds_the_store_password(pg_url, pg_admin_url, tmp_path):
    role = f"reporter_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"create role {role} login superuser password '{SECRET}'"))
    try:
        url = make_url(pg_url).set(username=role, password=SECRET).render_as_string(hide_password=False)
        with Store(url) as store:
            save_demo(store, branches=2)
        out = tmp_path / "reports"
        run = subprocess.run(["orglife", "report", "--db", url, "--out", str(out), "--ipynb", "--as-of",
                              "2026-11-25"], capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr
        written = [p for p in out.rglob("*") if p.is_file()]
        assert any(p.suffix == ".ipynb" for p in written) and any(p.suffix == ".html" for p in written)
        for path in written:
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
        assert SECRET not in run.stdout + run.stderr
    finally:  # the role owns the test database's tables: drop them there, then the role
        owned = create_engine(make_url(pg_admin_url).set(database=make_url(pg_url).database),
                              isolation_level="AUTOCOMMIT")
        with owned.connect() as connection:
            connection.execute(text(f"drop owned by {role} cascade"))
        owned.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"drop role {role}"))
        admin.dispose()


@pytest.fixture(scope="module")
def accounts_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report-trust") / "store.db"
    with Store(path) as store:
        save_demo(store)
        first = store.branch_ids()[0]
        add_account(store, "sec1", "secretary", "report-pass-1", branches=[first])
        add_account(store, "ana", "analyst", "report-pass-1")
    return path


def test_an_analyst_without_the_grant_gets_no_internal_reports(accounts_store, tmp_path):
    run = subprocess.run(["orglife", "report", "--db", str(accounts_store), "--out", str(tmp_path / "r"),
                          "--as", "ana", "--audience", "internal"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "未获授权查看保密内容" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "r").exists()


def test_a_secretary_reports_only_her_branch(accounts_store, tmp_path):
    with Store(accounts_store) as store:
        first, second = store.branch_ids()[:2]
    refused = subprocess.run(["orglife", "report", "--db", str(accounts_store), "--out", str(tmp_path / "x"),
                              "--as", "sec1", "--branch", second], capture_output=True, text=True)
    assert refused.returncode == 2 and f"无权查看支部 {second}" in refused.stderr
    out = tmp_path / "r"
    run = subprocess.run(["orglife", "report", "--db", str(accounts_store), "--out", str(out), "--as", "sec1",
                          "--as-of", "2026-11-25"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    assert sorted(p.stem for p in (out / "branches").glob("*.html")) == [first]
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert second not in summary
