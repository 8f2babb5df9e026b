"""The rules shared by two processes (``rules.fork``): the same findings as one process, every unit run once,
a failing or killed child covered by the parent, and forking only where it is safe."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading

import pandas as pd
import pytest

from orglife_nb import demo, frames
from orglife_nb.cli import main
from orglife_nb.rules import fork, run_checks
from orglife_nb.rules.registry import RULES

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


@pytest.fixture(scope="module")
def demo_frames():
    return frames.from_batch(demo.generate())


def test_two_processes_find_exactly_what_one_finds(demo_frames):
    one = run_checks(demo_frames, as_of=demo.DEMO_AS_OF, workers=1)
    two = run_checks(demo_frames, as_of=demo.DEMO_AS_OF, workers=2)
    assert len(one) > 100 and one.rule.nunique() > 30  # the demo's planted cases: most rules find something
    pd.testing.assert_frame_equal(two, one)


def _units(n: int = 6):
    """``n`` units of one rule each (``run_shared`` only hands them out; the rule is not run)."""
    return [[rule] for rule in RULES[:n]]


def _both_work(parent: int):
    """A ``run`` that tags each unit's result with the process that ran it. The parent waits (up to a minute: a
    hang, not a race) until the child has taken a unit, so that both processes surely take part."""
    started = multiprocessing.get_context("fork").Event()

    def run(unit):
        if os.getpid() == parent:
            assert started.wait(60), "the child never took a unit"
        else:
            started.set()
        return {unit[0].id: pd.DataFrame({"pid": [os.getpid()]})}

    return run


def test_every_unit_is_run_once_and_both_processes_take_part():
    units = _units()
    found = fork.run_shared(units, _both_work(os.getpid()))
    assert set(found) == {unit[0].id for unit in units}
    pids = {int(frame.pid.iat[0]) for frame in found.values()}
    assert os.getpid() in pids and len(pids) == 2


@pytest.mark.parametrize("how", ["raises", "killed"])
def test_what_the_child_does_not_report_is_run_in_the_parent(how, capfd):
    parent = os.getpid()
    units = _units()
    base = _both_work(parent)

    def run(unit):
        out = base(unit)
        if os.getpid() != parent:
            if how == "raises":
                raise RuntimeError("boom in the child")
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    found = fork.run_shared(units, run)
    assert set(found) == {unit[0].id for unit in units}
    assert {int(frame.pid.iat[0]) for frame in found.values()} == {parent}
    assert "boom" not in capfd.readouterr().err  # no traceback of the child reaches the user


def test_an_error_of_a_rule_reaches_the_caller_as_without_the_child():
    def run(unit):
        if unit[0].id == RULES[2].id:
            raise ValueError("broken rule")
        return {}

    with pytest.raises(ValueError, match="broken rule"):
        fork.run_shared(_units(), run)


def test_units_are_families_largest_first():
    units = fork.families(list(RULES))
    assert [len(u) for u in units] == sorted((len(u) for u in units), reverse=True)
    assert sorted(r.id for u in units for r in u) == sorted(r.id for r in RULES)
    assert all(len({r.family for r in u}) == 1 for u in units)


def test_forks_only_where_safe_and_large(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    big, small = fork.PARALLEL_FROM_ROWS, fork.PARALLEL_FROM_ROWS - 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert fork.workers_for(big, 6, None) == 2
    assert fork.workers_for(small, 6, None) == 1
    assert fork.workers_for(big, 1, None) == 1  # one unit: nothing to share
    assert fork.workers_for(small, 6, 2) == 2 and fork.workers_for(big, 6, 1) == 1  # asked for
    seen = []
    thread = threading.Thread(target=lambda: seen.append(fork.workers_for(big, 6, None)))
    thread.start()
    thread.join()
    assert seen == [1]  # not from a thread: forking copies only the caller's
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    assert fork.workers_for(big, 6, None) == 1  # not in a kernel
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert fork.workers_for(big, 6, None) == 1  # one core


def _check(capsys, args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return exit_info.value.code, capsys.readouterr().out


def test_check_command_prints_the_same_with_two_processes(demo_store, monkeypatch, capsys):
    args = ["check", "--db", demo_store, "--as-of", demo.DEMO_AS_OF.isoformat(), "--format", "csv"]
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(fork, "PARALLEL_FROM_ROWS", 10**12)
    one = _check(capsys, args)
    calls = []
    shared = fork.run_shared
    monkeypatch.setattr(fork, "run_shared", lambda *a: calls.append(1) or shared(*a))
    monkeypatch.setattr(fork, "PARALLEL_FROM_ROWS", 0)
    two = _check(capsys, args)
    assert calls == [1]
    assert one[0] == two[0]
    assert two[1] == one[1] and one[1].count("\n") > 100


def test_without_a_semaphore_the_units_run_here(monkeypatch):
    context = multiprocessing.get_context("fork")

    def no_semaphore(*_args, **_kw):
        raise OSError("no sem_open here")

    monkeypatch.setattr(type(context), "Value", no_semaphore)
    found = fork.run_shared(_units(), lambda unit: {unit[0].id: pd.DataFrame({"pid": [os.getpid()]})})
    assert set(found) == {unit[0].id for unit in _units()}
    assert {int(f.pid.iat[0]) for f in found.values()} == {os.getpid()}


def test_without_a_second_process_the_units_run_here(monkeypatch):
    def no_process(self):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_process)
    found = fork.run_shared(_units(), lambda unit: {unit[0].id: pd.DataFrame({"pid": [os.getpid()]})})
    assert set(found) == {unit[0].id for unit in _units()}
