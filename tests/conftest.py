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
from pathlib import Path
from types import CodeType, FunctionType

import pytest

from orglife_nb.store import Store

PG_ADMIN_DEFAULT = "postgresql+psycopg://orglife:orglife@127.0.0.1:5432/orglife"


# ---- tiers: `pytest -m "not slow"` is the fast tier a developer runs after every change ----------------------
# A test is `browser` (and `slow`) when it uses Playwright's browser fixtures. It is `slow` when its module is one
# of SLOW_MODULES, it is one of SLOW_TESTS or uses one of SLOW_FIXTURES, it is a PostgreSQL variant outside the
# store's own tests, or when its body, one of its fixtures, or a helper of the tests' own they call (followed
# transitively) names one of SLOW_CALLS: a subprocess (an `orglife` command pays the pandas import), a report run
# through kernels, a Voila server, a Chromium print. Everything else (rules, store on both backends, workbook,
# models, the CLI in-process) stays in the fast tier. The lists name what a measured fast-tier run found slow.

BROWSER_FIXTURES = frozenset({"page", "browser", "context", "new_context"})
SLOW_MODULES = frozenset({
    "test_hub",  # a real JupyterHub and its proxy
    "test_login", "test_forms_ui", "test_forms_review_ui", "test_training_ui", "test_vote_forms_ui",
    "test_vote_phone",  # a Voila server per module, driven by Chromium
    "test_report_runs", "test_report_print", "test_report_trust", "test_escaping",  # full report runs
    "test_documents_office", "test_outputs",  # LibreOffice conversions
    "test_backup", "test_limits",  # many `orglife` subprocesses, kernels under memory caps
    "test_concurrency",  # processes spawned fresh, each importing the package
    "test_forms_review",  # whole review chains through the forms' widgets, 10-45 s each
})
SLOW_CALLS = frozenset({"subprocess", "Popen", "runner", "run_reports", "make_engine", "execute_notebook", "running",
                        "html_to_pdf", "print_pdfs", "chromium_page", "sync_playwright"})
SLOW_TESTS = frozenset({
    "test_demo.py::test_demo_command",  # `orglife demo` writes all 14 branch reports (in-process: no name shows it)
    "test_reports.py::test_every_section_renders_for_every_demo_branch",  # all 14 branches, every section
    "test_reports.py::test_a_prepared_chunk_gives_each_report_what_it_computes_alone",  # 14 branches, twice
    "test_hostile_workbooks.py::test_the_command_never_shows_a_traceback",  # every command on hostile input
    # the slowest of the fast tier as measured (5-30 s each on a loaded 2-core machine); their areas keep quicker
    # tests there (test_rules, test_workbook, test_fork, the other test_forms and test_reports tests)
    "test_demo.py::test_mutations_break_exactly_their_rule",  # every rule's planted mutation, all checks each
    "test_demo.py::test_planted_problems_are_what_the_checks_find",
    "test_hostile_workbooks.py::test_text_beyond_excels_cell_limit_is_a_problem_not_cut_on_export",
    "test_reports.py::test_compliant_branches_report_no_violation",
    "test_reports.py::test_summary_sections_cover_every_branch",
    "test_forms.py::test_named_questions_checklist_ticks_as_answers_are_saved",
    "test_fork.py::test_check_command_prints_the_same_with_two_processes",
    "test_recheck.py::test_a_recheck_after_any_edit_finds_what_a_full_run_finds",  # ~60 full checks
})
SLOW_FIXTURES = frozenset({
    "reviewed_url",  # test_report_review: a store taken through a dozen review steps per backend
})
FAST_POSTGRES_MODULES = frozenset({"test_store"})  # the store's API on both backends stays in the fast tier
_TESTS = Path(__file__).resolve().parent


def _own(code: CodeType) -> bool:
    """Code of a test module or helper (this file's fixtures are the shared, cheap ones: starting the PostgreSQL
    cluster once per session is no reason to call a test slow)."""
    path = Path(code.co_filename)
    return path.parent == _TESTS and path.name != "conftest.py"


def _calls_slow(code: CodeType, namespace: dict, seen: set) -> bool:
    """Whether ``code`` (or a nested function, or a test helper it names) names one of SLOW_CALLS."""
    if code in seen:
        return False
    seen.add(code)
    if SLOW_CALLS.intersection(code.co_names):
        return True
    for const in code.co_consts:
        if isinstance(const, CodeType) and _calls_slow(const, namespace, seen):
            return True
    for name in code.co_names:
        helper = namespace.get(name)
        if isinstance(helper, FunctionType) and _own(helper.__code__):
            if _calls_slow(helper.__code__, helper.__globals__, seen):
                return True
    return False


def _is_slow(item) -> bool:
    module = item.module.__name__.rpartition(".")[2]
    if module in SLOW_MODULES or item.nodeid.split("[")[0].endswith(tuple(SLOW_TESTS)):
        return True
    if SLOW_FIXTURES.intersection(item.fixturenames):
        return True
    if item.get_closest_marker("postgres") and module not in FAST_POSTGRES_MODULES:
        return True  # PostgreSQL doubles the suite; the full run (and CI) covers every variant
    function = getattr(item, "function", None)
    seen: set = set()
    if function is not None and _calls_slow(function.__code__, function.__globals__, seen):
        return True
    # the fixtures it uses (a module-scoped report run counts against every test that reads it)
    for definitions in getattr(item, "_fixtureinfo").name2fixturedefs.values():
        fixture = getattr(definitions[-1], "func", None)
        code = getattr(fixture, "__code__", None)
        if code is not None and _own(code):
            if _calls_slow(code, fixture.__globals__, seen):
                return True
    return False


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        elif _is_slow(item):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(autouse=True)
def _terminal_width(monkeypatch):
    """Terminal output at the width it has off a terminal (100), whoever runs the tests: a developer's own terminal
    or pytest-xdist's workers (which set COLUMNS=80) would otherwise rewrap what the tests read. Tests about widths
    set their own."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> str:
    """The bundled demo data in a SQLite store built once per test session (read-only for tests)."""
    from orglife_nb.demo import save_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    with Store(url) as store:
        save_demo(store)
    return url

