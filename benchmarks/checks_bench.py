"""Benchmark: load frames from a store and run every rule, for 1,000 and 10,000 demo branches.

Goal (spec): 10,000 branches in < 10 s and < 3 GB. Stores are built once with ``demo.save_demo`` and cached under
/tmp (``ORGLIFE_BENCH_DIR``). Prints seconds, rows processed, rows/s and peak RSS of each phase.

    python benchmarks/checks_bench.py              # 1000 and 10000
    python benchmarks/checks_bench.py 1000         # one size
"""
from __future__ import annotations

import gc
import os
import resource
import sys
import time
from pathlib import Path

import psutil

from orglife_nb import demo, frames
from orglife_nb.rules import run_checks
from orglife_nb.rules.engine import UNREAD_BY_RULES
from orglife_nb.store import Store

CACHE = Path(os.environ.get("ORGLIFE_BENCH_DIR", "/tmp"))
AS_OF = demo.DEMO_AS_OF


def store_for(branches: int) -> Path:
    """The cached SQLite store of ``branches`` demo branches (built on first use)."""
    path = CACHE / f"orglife-bench-{branches}.db"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        with Store(partial) as store:
            rows = demo.save_demo(store, branches=branches, progress=False)
        partial.rename(path)
        print(f"built {path} ({rows:,} rows) in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench(branches: int, label: str = "load+checks") -> dict:
    path = store_for(branches)
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss / 2**20
    started = time.perf_counter()
    data = frames.load(path, skip=UNREAD_BY_RULES)  # as `orglife check` reads
    loaded = time.perf_counter()
    findings = run_checks(data, as_of=AS_OF)
    checked = time.perf_counter()
    rows = data.rows
    result = dict(branches=branches, rows=rows, load_s=loaded - started, check_s=checked - loaded,
                  findings=len(findings), rss_start_mb=before, peak_rss_mb=peak_rss_mb())
    print(f"{label:<11} {branches:>6} branches | {rows:>10,} rows | load {result['load_s']:6.2f} s "
          f"({rows / result['load_s']:>10,.0f} rows/s) | checks {result['check_s']:6.2f} s "
          f"({rows / result['check_s']:>10,.0f} rows/s) | total {result['load_s'] + result['check_s']:6.2f} s | "
          f"{len(findings):,} findings | peak RSS {result['peak_rss_mb']:,.0f} MB", flush=True)
    return result


def main(argv: list[str]) -> None:
    """Each size in a fresh process (peak RSS is per process): ``checks_bench.py [N ...]``."""
    sizes = [int(a) for a in argv] or [1000, 10000]
    if len(sizes) > 1 or not argv:
        import subprocess

        for size in sizes:
            store_for(size)
        for size in sizes:
            subprocess.run([sys.executable, __file__, str(size)], check=True)
        return
    bench(sizes[0])


if __name__ == "__main__":
    main(sys.argv[1:])
