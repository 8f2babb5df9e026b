"""Benchmark: load frames from a store and run every rule, for 1,000 and 10,000 demo branches.

Goal (spec): 10,000 branches in < 10 s and < 3 GB. Stores are built once with ``demo.save_demo`` and cached under
/tmp (``ORGLIFE_BENCH_DIR``). Prints, in process: seconds, rows processed and rows/s of load and checks, and peak
RSS of this process and of its largest child (the load's two reader processes, the checks' forked second
process: RUSAGE_SELF alone misses them); nothing samples memory meanwhile, which would slow what is timed.
``ORGLIFE_CHECK_WORKERS=1`` checks in one process (the comparison). Then the whole command as the user runs it —
``orglife check --db …`` from interpreter start to its last line of output — with the peak memory of its whole
tree at once, as PSS (the forked process shares the frames' pages with its parent: RSS would count them twice).

    python benchmarks/checks_bench.py              # 1000 and 10000
    python benchmarks/checks_bench.py 1000         # one size
"""
from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import peak_rss_mb, timed  # noqa: E402  (benchmarks/measure.py, beside this script)

from orglife_nb import demo, frames
from orglife_nb.rules import run_checks
from orglife_nb.rules.engine import UNREAD_BY_RULES
from orglife_nb.store import Store

CACHE = Path(os.environ.get("ORGLIFE_BENCH_DIR", "/tmp"))
AS_OF = demo.DEMO_AS_OF
WORKERS = int(os.environ["ORGLIFE_CHECK_WORKERS"]) if os.environ.get("ORGLIFE_CHECK_WORKERS") else None


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


def bench(branches: int, label: str = "load+checks") -> dict:
    """In this process: load (two bulk-read child processes) and checks, with the peak memory of this process and
    of its largest child."""
    path = store_for(branches)
    gc.collect()
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    data = frames.load(path, skip=UNREAD_BY_RULES)  # as `orglife check` reads
    loaded = time.perf_counter()
    findings = run_checks(data, as_of=AS_OF, workers=WORKERS)
    checked = time.perf_counter()
    own, children = peak_rss_mb()
    rows = data.rows
    result = dict(branches=branches, rows=rows, load_s=loaded - started, check_s=checked - loaded,
                  findings=len(findings), rss_start_mb=before, peak_rss_mb=own, children_peak_mb=children)
    print(f"{label:<11} {branches:>6} branches | {rows:>10,} rows | load {result['load_s']:6.2f} s "
          f"({rows / result['load_s']:>10,.0f} rows/s) | checks {result['check_s']:6.2f} s "
          f"({rows / result['check_s']:>10,.0f} rows/s) | total {result['load_s'] + result['check_s']:6.2f} s | "
          f"{len(findings):,} findings\n{'':<11} peak RSS: this process {own:,.0f} MB, largest child (a bulk reader or "
          f"the checks' second process) {children:,.0f} MB", flush=True)
    return result


def whole_command(branches: int) -> tuple[float, float]:
    """What the user waits for: `orglife check` from interpreter start to the last line of its table, and the
    peak memory of its process tree (the command, its bulk-read children and the checks' second process) as PSS,
    sampled every 0.25 s."""
    path = store_for(branches)
    with tempfile.TemporaryFile() as out:
        seconds, tree = timed([sys.executable, "-m", "orglife_nb.cli", "check", "--db", str(path), "--as-of",
                               AS_OF.isoformat()], memory=True, ok=(0, 1), stdout=out,
                               proportional=True)
        size = out.tell()
    print(f"{'command':<11} {branches:>6} branches | orglife check (table to a file, {size / 2**20:,.1f} MB): "
          f"wall {seconds:6.2f} s | peak memory of the whole tree at once (PSS) {tree.peak_total_mb:,.0f} MB",
          flush=True)
    return seconds, tree.peak_total_mb


def main(argv: list[str]) -> None:
    """Each size in a fresh process (peak RSS is per process), then the whole command: ``checks_bench.py [N ...]``."""
    sizes = [int(a) for a in argv] or [1000, 10000]
    if len(sizes) > 1 or not argv:
        import subprocess

        for size in sizes:
            store_for(size)
        for size in sizes:
            subprocess.run([sys.executable, __file__, str(size)], check=True)
        return
    bench(sizes[0])
    whole_command(sizes[0])


if __name__ == "__main__":
    main(sys.argv[1:])
