"""Benchmark: load frames from a store and run every rule, for 1,000 and 10,000 demo branches.

Goal (spec): 10,000 branches in < 10 s and < 3 GB. Stores are built once with ``demo.save_demo`` and cached under
/tmp (``ORGLIFE_BENCH_DIR``). Prints seconds, rows processed, rows/s and peak RSS of each phase.

    python benchmarks/checks_bench.py            # 1000 and 10000, frames.load and the raw read path
    python benchmarks/checks_bench.py 1000       # one size, frames.load
    python benchmarks/checks_bench.py --raw 1000 # one size, the proposed raw read path
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


def raw_load(path: Path) -> frames.Frames:
    """Proposed faster read path: the same SELECT as ``Store.read`` sent through the DBAPI cursor, skipping
    SQLAlchemy's per-value result processing (dates stay ISO text; ``frames.typed`` parses them vectorised)."""
    import pandas as pd
    from sqlalchemy import select

    from orglife_nb.models import RECORDS, fields_of
    from orglife_nb.store import table_of

    parts = {}
    with Store(path) as store, store.engine.connect() as connection:
        for record in RECORDS:
            table = table_of(record)
            names = [f.name for f in fields_of(record)]
            sql = str(select(*[table.c[n] for n in names]).compile(store.engine))
            rows = connection.exec_driver_sql(sql).cursor.fetchall()
            parts[record.table] = frames.typed(record, pd.DataFrame.from_records(rows, columns=names,
                                                                                  coerce_float=False))
    return frames.Frames(**parts)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench(branches: int, loader=frames.load, label: str = "frames.load") -> dict:
    path = store_for(branches)
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss / 2**20
    started = time.perf_counter()
    data = loader(path)
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
    """Each size in a fresh process (peak RSS is per process): ``checks_bench.py [--raw] [N ...]``."""
    raw = "--raw" in argv
    sizes = [int(a) for a in argv if a != "--raw"] or [1000, 10000]
    if len(sizes) > 1 or not argv:
        import subprocess

        for size in sizes:
            store_for(size)
        for size in sizes:
            for flag in ([], ["--raw"]):
                subprocess.run([sys.executable, __file__, *flag, str(size)], check=True)
        return
    if raw:
        bench(sizes[0], raw_load, "raw read")
    else:
        bench(sizes[0])


if __name__ == "__main__":
    main(sys.argv[1:])
