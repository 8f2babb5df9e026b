"""What the benchmarks share: memory of a whole process tree (the process, its bulk-read children, workers,
kernels) and whole-command timing, so that a figure covers what the user waits for and what the machine holds."""
from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator


class TreeMemory:
    """Samples the resident memory of ``root`` and every process under it until stopped: per-process peaks and
    the peak of their sum (what the machine must hold at once).

    ``proportional``: the sum adds proportional set sizes (PSS) instead of RSS. A forked child shares its parent's
    pages until either writes them (the checks' second process, ``rules.fork``); adding RSS counts those pages
    twice. Reading PSS walks the whole page table of each process (~1–5 ms for 2 GB, under the process's memory
    lock): sample it every 0.25 s or so, or it slows what it measures (every 50 ms cost a check ~1 s)."""

    def __init__(self, root: int, every: float = 0.05, proportional: bool = False) -> None:
        self.root, self.every, self.peaks, self.names, self.peak_total = root, every, {}, {}, 0
        self.proportional = proportional
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.root)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    held = _proportional(process, rss) if self.proportional else rss
                    kind = ("main" if process.pid == self.root else
                            "kernel" if "ipykernel" in " ".join(process.cmdline()) else "worker")
                    self.names.setdefault(process.pid, kind)
                except psutil.Error:
                    continue
                total += held
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(self.every)

    def stop(self) -> dict[str, list[float]]:
        """Per kind of process (main, worker, kernel), the peaks in MiB, largest first."""
        self._stop.set()
        self._thread.join()
        out: dict[str, list[float]] = {}
        for pid, peak in self.peaks.items():
            out.setdefault(self.names.get(pid, "worker"), []).append(peak / 2**20)
        return {kind: sorted(values, reverse=True) for kind, values in out.items()}

    @property
    def peak_total_mb(self) -> float:
        return self.peak_total / 2**20


def _proportional(process, rss: int) -> int:
    """The process's PSS (its own pages, plus its share of pages shared with others); RSS where not available."""
    import psutil

    try:
        return getattr(process.memory_full_info(), "pss", rss)
    except (psutil.AccessDenied, AttributeError, NotImplementedError):
        return rss


def peak_rss_mb() -> tuple[float, float]:
    """(this process's peak RSS, the largest peak RSS of its waited-for children) in MiB (Linux: ru_maxrss in KiB).
    The children's figure is a maximum, not a sum: ``TreeMemory`` gives the sum at one moment."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def timed(command: list[str], *, memory: bool = False, ok: tuple[int, ...] = (0,),
          stdout=subprocess.DEVNULL, proportional: bool = False) -> tuple[float, TreeMemory | None]:
    """Wall time of a whole command (interpreter start, imports, output included) and, if asked, its tree's
    memory (``proportional``: as PSS, see ``TreeMemory``). A return code outside ``ok`` stops the benchmark with
    the command's error output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True)
    sampler = (TreeMemory(process.pid, every=0.25 if proportional else 0.05, proportional=proportional)
               if memory else None)
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    if sampler:
        sampler.stop()
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(command[:3])} … 失败（{process.returncode}）：{err[-2000:]}")
    if process.returncode:
        print(f"  注意：{' '.join(command[:3])} 退出码 {process.returncode}", file=sys.stderr)
    return seconds, sampler


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank on the sorted values; no interpolation)."""
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


@contextmanager
def scratch_postgres(admin_url: str, prefix: str = "orglife_bench") -> Iterator[str]:
    """A fresh PostgreSQL database for one run (``admin_url`` may create databases): its URL, dropped afterwards
    even when the run fails."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
