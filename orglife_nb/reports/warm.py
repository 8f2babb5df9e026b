"""Warm-kernel engine: one kernel per worker, reused for every report of a batch.

Stock papermill starts a kernel and re-imports pandas, pygal and the package for every notebook (seconds);
here that happens once per worker. Each run still goes through ``papermill.execute_notebook`` (registered as a
papermill engine), so parameters are injected and the notebook's papermill metadata written exactly as stock
papermill does; only the kernel is reused. Before each run the kernel's namespace is reset, so nothing of the
previous branch is reachable from the next one (confidentiality). A kernel that dies is replaced and the notebook
retried once; a report past its memory or time cap (``engines.LimitExceeded``) fails without a retry, and its kernel
is replaced for the next one.
"""
from __future__ import annotations

import os
import tempfile
import threading
import uuid
from pathlib import Path

from .engines import (DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, KERNEL, LimitExceeded, cell_timeouts, limit_memory,
                      limited_kernel_manager, memory_exceeded, out_of_memory, time_exceeded)

ENGINE_NAME = "orglife-warm"
# Sent to the kernel before every notebook; binds no name in the user namespace it clears.
RESET_CODE = "__import__('orglife_nb.reports.warm', fromlist=['kernel_reset']).kernel_reset({cwd!r})"
RESET_TIMEOUT = 30


def kernel_reset(cwd: str) -> None:
    """Runs inside the kernel: the user namespace, output history and open figures go; imported modules stay
    (that is the point). The cwd is restored because a notebook may chdir."""
    import gc
    import sys

    shell = get_ipython()  # noqa: F821 - defined in every IPython kernel
    collect = gc.collect
    gc.collect = lambda generation=2: 0  # IPython's reset forces a full collection (~0.1 s per report here)
    try:
        shell.reset(new_session=False, aggressive=False)
    finally:
        gc.collect = collect
    os.chdir(cwd)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


class KernelLost(RuntimeError):
    """The kernel died or hung; the worker replaced it."""


_registered = False


def _register() -> None:
    """Make our papermill engine known once per process (papermill's engines are plug-ins).

    The engine copies the stock one's argument handling and hands papermill's client a kernel client of ours;
    tests/test_upstream.py fails when that upstream code changes (papermill and nbclient are pinned to the tested
    minor releases)."""
    global _registered
    if _registered:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmClient(PapermillNotebookClient):
        """Papermill's client on a kernel client we keep: nbclient then neither starts nor stops anything."""

        def __init__(self, nb_man, km=None, kc=None, **kw):
            super().__init__(nb_man, km=km, **kw)
            self.kc = kc

    class WarmNBClientEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, km=None, kc=None,
                                     **kwargs):
            kwargs.pop("input_path", None)
            return WarmClient(nb_man, km=km, kc=kc, timeout=execution_timeout, startup_timeout=start_timeout,
                              kernel_name=kernel_name, log=_quiet_logger(), log_output=log_output,
                              stdout_file=stdout_file, stderr_file=stderr_file, **kwargs).execute()

    papermill_engines.register(ENGINE_NAME, WarmNBClientEngine)
    _registered = True


def _quiet_logger():
    import logging

    from papermill.log import logger

    # per-report chatter ("Executing notebook…", parameter-parsing notes) would drown the progress bar; real
    # failures still arrive as exceptions
    logger.setLevel(logging.ERROR)
    return logger


class WarmEngine:
    """Keeps one kernel alive across ``execute`` calls; not thread-safe (one per worker thread)."""

    name = "warm"

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, startup_timeout: float = 120,
                 memory: int | None = DEFAULT_MEMORY_MB) -> None:
        self.timeout = timeout
        self.memory = memory  # MB; the runner may change it between reports (applied before the next one)
        self._memory_applied = memory
        self.startup_timeout = startup_timeout
        self.km = None
        self.kc = None
        self.cwd = os.getcwd()
        self.runs = 0  # notebooks run by the current kernel
        self.restarts = 0
        self.thread = threading.get_ident()  # the async kernel objects belong to this thread's event loop

    # ---- kernel lifecycle ----------------------------------------------------------------------------------

    def _start(self) -> None:
        from nbclient import NotebookClient
        from nbformat.v4 import new_notebook

        self.thread = threading.get_ident()
        # nbclient's own start path (same kernel manager class and arguments as a stock run)
        starter = NotebookClient(new_notebook(), kernel_name=KERNEL, startup_timeout=int(self.startup_timeout),
                                 kernel_manager_class=limited_kernel_manager(self.memory))
        self.km = starter.create_kernel_manager()
        # a local kernel talks over Unix sockets: no open TCP ports, and no "running over TCP without
        # encryption" warning from the kernel in the user's terminal
        self.km.transport = "ipc"
        self.km.ip = str(Path(tempfile.gettempdir()) / f"orglife-kernel-{uuid.uuid4().hex[:12]}")
        starter.start_new_kernel(cwd=self.cwd)
        self.kc = starter.start_new_kernel_client()
        self.runs = 0
        self._memory_applied = self.memory

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        km, kc, self.km, self.kc = self.km, self.kc, None, None
        if km is None:
            return
        if threading.get_ident() != self.thread:  # e.g. a Dask worker shutting down: no loop of ours here
            _kill(km)
            return
        for step in (kc.stop_channels if kc is not None else None, lambda: run_sync(km.shutdown_kernel)(now=True),
                     lambda: run_sync(km.cleanup_resources)()):
            try:
                if step is not None:
                    step()
            except Exception:  # noqa: BLE001 - closing a broken kernel must not mask the real error
                pass

    def replace(self) -> None:
        self.close()
        self.restarts += 1
        self._start()

    @property
    def pid(self) -> int | None:
        """The kernel's process id (tests and benchmarks look at it)."""
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def _reset(self, cwd: str) -> None:
        self._run_silently(RESET_CODE.format(cwd=cwd), "重置内核失败")

    def _run_silently(self, code: str, failure: str) -> None:
        from jupyter_core.utils import run_sync

        if not run_sync(self.km.is_alive)():  # the last notebook may have killed it on its way out
            raise KernelLost("内核意外退出")
        reply = run_sync(self.kc.execute_interactive)(code, silent=True, store_history=False,
                                                       timeout=RESET_TIMEOUT, output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise KernelLost(f"{failure}：{reply['content'].get('evalue', '')}")

    def run_code(self, code: str) -> None:
        """Run ``code`` in the kernel outside any notebook (no output, no history), e.g. to announce the branches
        of a chunk (``batch.prepare``); starts the kernel if needed. Raises ``KernelLost`` if it fails."""
        if self.km is None:
            self._start()
        try:
            self._run_silently(code, "内核准备失败")
        except TimeoutError:
            raise KernelLost(f"内核超过 {RESET_TIMEOUT} 秒无响应") from None

    # ---- running -------------------------------------------------------------------------------------------

    def execute(self, notebook: Path, parameters: dict, *, cwd: Path | None = None):
        """Run ``notebook`` with ``parameters``; a lost kernel is replaced and the run retried once."""
        _register()
        try:
            return self._execute_once(notebook, parameters, cwd)
        except LimitExceeded:
            self.replace()  # the next report gets a kernel with nothing of this one's allocations
            raise
        except KernelLost:
            self.replace()
        try:
            return self._execute_once(notebook, parameters, cwd)
        except KernelLost as error:
            self.replace()  # the next branch gets a sound kernel
            raise KernelLost(f"{error}（已换新内核重试一次，仍失败）") from None

    def _execute_once(self, notebook: Path, parameters: dict, cwd: Path | None):
        import papermill
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self.km is None:
            self._start()
        if self.memory != self._memory_applied:
            limit_memory(self.pid, self.memory)
            self._memory_applied = self.memory
        try:
            self._reset(str(Path(cwd).resolve()) if cwd else self.cwd)
            node = papermill.execute_notebook(str(notebook), None, parameters=parameters, engine_name=ENGINE_NAME,
                                              kernel_name=KERNEL, progress_bar=False, log_output=False,
                                              execution_timeout=self.timeout, timeout_func=cell_timeouts(self.timeout),
                                              km=self.km, kc=self.kc)
        except CellTimeoutError:
            raise time_exceeded(self.timeout) from None
        except DeadKernelError:
            raise KernelLost("内核意外退出") from None
        except TimeoutError:  # the reset itself hung
            raise KernelLost(f"内核超过 {RESET_TIMEOUT} 秒无响应") from None
        except Exception as error:
            if self.memory and out_of_memory(error):
                raise memory_exceeded(self.memory) from None
            raise
        self.runs += 1
        return node


def _kill(km) -> None:
    """Stop a kernel without its event loop: kill the process, remove its connection file."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    try:
        if process is not None:
            process.kill()
            process.wait(timeout=10)
        km.cleanup_connection_file()
        km.cleanup_ipc_files()
    except Exception:  # noqa: BLE001 - best effort at shutdown
        pass
