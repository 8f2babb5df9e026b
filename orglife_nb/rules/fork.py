"""The rules of one check shared by two processes: this one and a forked child.

Measured on 10,000 branches (6.1 million rows, 48 rules): the rules take ~7 s on one core, every one of them
0.02–0.9 s with no single large cost left, while a second core sits idle. After the context is built (its id codes
and the roster, which nearly every family reads) the process forks: the child sees the same frames without copying
them, and the two take the rule families one at a time, largest first, from a shared counter (a core slowed by
other work simply takes fewer). The child sends each family's findings as soon as they are found; the parent
gathers them with its own and sorts them once (``engine.finish``), so the findings are the same, row for row,
as one process gives.

A family the child does not report (it failed or was killed) is run again here: its error, if any, then happens
in this process, with the same message as without the child. Nothing of the child reaches the user.

Forking is used only where it is safe and pays: a ``fork`` start method, two usable cores, a large input, the main
thread of a process that is neither a multiprocessing daemon (a Dask worker may not have children) nor a Jupyter
kernel (its threads serve the frontend).
"""
from __future__ import annotations

import gc
import os
import pickle
import sys
import threading
from typing import Callable

import pandas as pd

from .registry import Rule

# below this many rows a check takes well under a second: the fork and the second process's share of the
# context's lazy joins would cost more than they save
PARALLEL_FROM_ROWS = 250_000

Found = dict[str, pd.DataFrame]  # rule id → its findings (only rules that found something)


def workers_for(rows: int, units: int, workers: int | None) -> int:
    """How many processes check: ``workers`` when given (1 or 2; 2 only where fork exists), else 2 when it pays."""
    import multiprocessing

    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if workers is not None:
        return 2 if workers >= 2 and can_fork and units >= 2 else 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    safe = (can_fork and threading.current_thread() is threading.main_thread()
            and not multiprocessing.current_process().daemon and "ipykernel" not in sys.modules)
    return 2 if safe and cores >= 2 and units >= 2 and rows >= PARALLEL_FROM_ROWS else 1


def families(rules: list[Rule]) -> list[list[Rule]]:
    """The rules in units of work: one per family (rules of a family share memoised joins), largest first."""
    units: dict[str, list[Rule]] = {}
    for rule in rules:
        units.setdefault(rule.family, []).append(rule)
    return sorted(units.values(), key=len, reverse=True)


def run_shared(units: list[list[Rule]], run: Callable[[list[Rule]], Found]) -> Found:
    """``run`` over every unit, shared with a forked child; the findings of all units."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    try:
        counter = fork.Value("i", 0)  # a POSIX semaphore guards it: some sandboxes have none
    except (OSError, ImportError):
        return _run_here(units, run)
    receive, send = fork.Pipe(duplex=False)

    def take() -> int | None:
        with counter.get_lock():
            n = counter.value
            counter.value += 1
        return n if n < len(units) else None

    child = fork.Process(target=_child, args=(units, run, take, receive, send), daemon=True)
    # the objects made so far move out of the collector's reach: its passes would write to their pages and so
    # copy them in both processes (Python's advice for fork; measured: the whole check 6 % faster)
    gc.freeze()
    try:
        child.start()
    except OSError:  # no process to be had (a process limit, no memory for the page tables): all of it here
        gc.unfreeze()
        receive.close()
        send.close()
        return _run_here(units, run)
    send.close()  # this end is the child's: the receiver sees the end of the pipe when the child is gone
    received: list[bytes] = []
    # read while this process works, so the child never waits on a full pipe
    reader = threading.Thread(target=_read_all, args=(receive, received), daemon=True)
    reader.start()
    found: Found = {}
    done: set[int] = set()
    try:
        while (n := take()) is not None:
            found.update(run(units[n]))
            done.add(n)
        child.join()
    finally:
        if child.is_alive():  # interrupted here: the child's work is of no use
            child.terminate()
            child.join()
        reader.join()  # the child is gone: its end of the pipe is closed
        receive.close()
        gc.unfreeze()
    for message in received:
        n, theirs = pickle.loads(message)
        found.update(theirs)
        done.add(n)
    found.update(_run_here([unit for n, unit in enumerate(units) if n not in done], run))  # the child's omissions
    return found


def _run_here(units: list[list[Rule]], run: Callable[[list[Rule]], Found]) -> Found:
    found: Found = {}
    for unit in units:
        found.update(run(unit))
    return found


def _child(units, run, take, receive, send) -> None:
    """Take units until none are left, sending each unit's findings; on any failure stop quietly (the parent runs
    what was not reported, and meets the error itself)."""
    receive.close()
    try:
        while (n := take()) is not None:
            send.send_bytes(pickle.dumps((n, run(units[n])), protocol=pickle.HIGHEST_PROTOCOL))
        send.close()
    except BaseException:
        os._exit(1)  # no traceback from here: the unit is run again in the parent


def _read_all(receive, into: list[bytes]) -> None:
    try:
        while True:
            into.append(receive.recv_bytes())
    except (EOFError, OSError):
        pass
