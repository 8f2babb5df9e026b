"""Notebook execution engines for report runs, as plug-ins: stock papermill and the warm-kernel engine.

An engine turns (notebook, parameters) into an executed notebook node; the runner owns files and export.

Every report kernel runs under two bounds, so that one branch cannot take the machine (a chart bug once grew a
kernel to 11.6 GB in five minutes): a memory cap (RLIMIT_DATA set on the kernel process as it starts, see
``limited_kernel_manager``) and a time cap for the whole report (each cell may run only what is left of it). A
report past either fails alone with ``LimitExceeded`` (a Chinese reason), its kernel is replaced, it is not retried
(it would only fail again), and the rest of the batch goes on.
"""
from __future__ import annotations

import importlib
import resource
import sys
import time
from pathlib import Path
from typing import Protocol

KERNEL = "python3"
DEFAULT_ENGINE = "warm"
DEFAULT_MEMORY_MB = 4096  # RLIMIT_DATA of a report kernel; an idle one with pandas/pyarrow loaded counts ~1.4 GB
DEFAULT_TIMEOUT = 600  # seconds one report may take


class LimitExceeded(RuntimeError):
    """A report went past its memory or time cap; ``str()`` is the Chinese reason the manifest shows."""


def memory_exceeded(memory_mb: int) -> LimitExceeded:
    return LimitExceeded(f"超出内存上限 {memory_mb} MB")


def time_exceeded(seconds: float) -> LimitExceeded:
    return LimitExceeded(f"超时 {seconds:g} 秒")


def out_of_memory(error: BaseException) -> bool:
    """A notebook cell that failed with MemoryError (what RLIMIT_DATA makes of an allocation past the cap)."""
    return type(error).__name__ == "PapermillExecutionError" and getattr(error, "ename", "") == "MemoryError"


def limit_memory(pid: int | None, memory_mb: int | None) -> None:
    """Cap the data (heap and private mappings) of process ``pid``; None or 0 lifts the cap.

    Only the soft limit is set (the hard one stays as it was), so a later, higher cap for the same kernel needs no
    privilege to raise it again."""
    if pid is None:
        return
    _, hard = resource.prlimit(pid, resource.RLIMIT_DATA)
    cap = memory_mb * 2**20 if memory_mb else resource.RLIM_INFINITY
    if hard != resource.RLIM_INFINITY:
        cap = hard if cap == resource.RLIM_INFINITY else min(cap, hard)
    resource.prlimit(pid, resource.RLIMIT_DATA, (cap, hard))


def limited_kernel_manager(memory_mb: int | None):
    """nbclient's kernel manager class, whose kernels start under ``memory_mb`` (applied from outside, right after
    launch: no ``preexec_fn``, which is unsafe in a process with threads). The step overridden is private
    (start_kernel calls it by that name): tests/test_upstream.py watches it, jupyter_client is pinned."""
    from jupyter_client.manager import AsyncKernelManager

    class LimitedKernelManager(AsyncKernelManager):
        async def _async_post_start_kernel(self, **kw) -> None:
            limit_memory(getattr(getattr(self.provisioner, "process", None), "pid", None), memory_mb)
            await super()._async_post_start_kernel(**kw)

    return LimitedKernelManager


def cell_timeouts(seconds: float | None):
    """nbclient's ``timeout_func`` giving each cell what is left of ``seconds`` for the whole report."""
    if not seconds:
        return None
    deadline = time.monotonic() + seconds
    return lambda cell: max(1, deadline - time.monotonic())


class Engine(Protocol):
    name: str

    def execute(self, notebook: Path, parameters: dict, *, cwd: Path | None = None):
        """Run ``notebook`` with ``parameters`` injected as papermill does; return the executed NotebookNode."""

    def close(self) -> None:
        ...


class PapermillEngine:
    """Stock papermill: a new kernel per notebook (about 3.7 s per report on a 2-core machine)."""

    name = "papermill"

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, memory: int | None = DEFAULT_MEMORY_MB) -> None:
        self.timeout = timeout
        self.memory = memory

    def execute(self, notebook: Path, parameters: dict, *, cwd: Path | None = None):
        import papermill
        from nbclient.exceptions import CellTimeoutError

        try:
            return papermill.execute_notebook(str(notebook), None, parameters=parameters, kernel_name=KERNEL,
                                              progress_bar=False, log_output=False, cwd=str(cwd) if cwd else None,
                                              execution_timeout=self.timeout,
                                              timeout_func=cell_timeouts(self.timeout),
                                              kernel_manager_class=limited_kernel_manager(self.memory))
        except CellTimeoutError:
            raise time_exceeded(self.timeout) from None
        except Exception as error:
            if self.memory and out_of_memory(error):
                raise memory_exceeded(self.memory) from None
            raise

    def close(self) -> None:
        pass


# name → "module:class"; imported on use so a worker loads only the engine it runs
ENGINES = {"papermill": f"{__name__}:PapermillEngine", "warm": "orglife_nb.reports.warm:WarmEngine"}


def skip_iri_grammar() -> None:
    """Mark jsonschema's optional ``rfc3987_syntax`` absent before papermill/nbformat load in this process.

    jsonschema imports it (an IRI grammar compiled with lark at import) as soon as nbformat loads: ~1 s per process
    on this machine, 2.7 s under load, for an "iri" format check no notebook validation uses. With the module
    marked absent, jsonschema simply goes without that one checker (its import is optional there)."""
    sys.modules.setdefault("rfc3987_syntax", None)


def make_engine(name: str = DEFAULT_ENGINE, **options) -> Engine:
    skip_iri_grammar()
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
