"""Shared fixtures: a fresh store per test on SQLite and, where a server exists, on PostgreSQL.

PostgreSQL: ``ORGLIFE_TEST_PG`` names an admin URL (``.ci/run`` starts the Debian cluster and sets it); without it
the fixture tries to start the local Debian cluster itself. Each test gets its own database, dropped afterwards.
Locally the PostgreSQL tests skip only when no server binary exists; under CI a skip is a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager

import pytest

from orglife_nb.store import Store

PG_ADMIN_DEFAULT = "postgresql+psycopg://orglife:orglife@127.0.0.1:5432/orglife"


def _start_local_cluster() -> str | None:
    """Start the Debian PostgreSQL cluster as .ci/run does; None when there is no server here."""
    if not shutil.which("pg_lsclusters") or not shutil.which("pg_ctlcluster"):
        return None
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    if len(listing) < 2:
        return None
    version, cluster = listing[0], listing[1]
    subprocess.run(["pg_ctlcluster", version, cluster, "start"], capture_output=True)
    # SQL goes in on stdin: a shell between us and psql would expand the $$ of the DO block
    role = ("do $$ begin if not exists (select from pg_roles where rolname='orglife') then "
            "create role orglife login superuser password 'orglife'; end if; end $$;")
    subprocess.run(["su", "postgres", "-c", "psql -q"], input=role, capture_output=True, text=True)
    subprocess.run(["su", "postgres", "-c", "createdb -O orglife orglife"], capture_output=True)
    return PG_ADMIN_DEFAULT


@pytest.fixture(scope="session")
def pg_admin_url():
    url = os.environ.get("ORGLIFE_TEST_PG") or _start_local_cluster()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("CI 必须运行 PostgreSQL 测试，但没有找到 PostgreSQL 服务器")
        pytest.skip("本机没有 PostgreSQL 服务器程序")
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # a server binary exists but it would not answer: that is a real failure
        pytest.fail(f"PostgreSQL 无法连接：{error}")
    yield url
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_url):
    with pg_database(pg_admin_url) as url:
        yield url


@contextmanager
def pg_database(pg_admin_url: str):
    """A fresh database on the server, dropped afterwards (also for fixtures of a wider scope than pg_url)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"orglife_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    with Store(db_url) as opened:
        yield opened


# ---- browser tests: pytest-playwright drives the Debian chromium (Playwright's own download is unavailable) ----

# An expectation waits for its condition up to this bound (Playwright's default of 5 s is shorter than a loaded
# 2-core machine may take to refresh a widget after a save; the wait still ends as soon as the condition holds).
try:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=30_000)
except ImportError:  # the browser tests are skipped without playwright
    pass


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from orglife_nb.browser import launch_args

    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> str:
    """The bundled demo data in a SQLite store built once per test session (read-only for tests)."""
    from orglife_nb.demo import save_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    with Store(url) as store:
        save_demo(store)
    return url

