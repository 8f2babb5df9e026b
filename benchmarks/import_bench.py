"""Goal: importing a 500-branch workbook takes ≤ 3× ``pandas.read_excel(..., sheet_name=None, engine="calamine")``.

Builds the workbook from ``orglife_nb.demo.generate(branches=N)`` (written with our own export), then times on the
same file: the raw pandas read, our read + validation (``read_workbook``; the archive check before calamine,
``workbook/archive.py``, is also timed alone), and the store write (``Store.save``
into a fresh SQLite file, or ``--db``). Prints rows, rows/s, peak RSS and the ratio to the raw read.

    python benchmarks/import_bench.py [--branches 500] [--keep DIR] [--db URL] [--repeat 2]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from orglife_nb.demo import generate
from orglife_nb.store import Store
from orglife_nb.workbook import read_workbook, write_workbook
from orglife_nb.workbook.archive import inspect_xlsx
from orglife_nb.workbook.read import _ours


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def best_of(repeat: int, action):
    """(fastest seconds, result of the last run)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the workbook in")
    parser.add_argument("--db", default=None, help="store URL for the write (default: a fresh SQLite file)")
    parser.add_argument("--repeat", type=int, default=2, help="reads are timed best of N")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="orglife-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-{args.branches}.xlsx"
    if not path.exists():
        start = time.perf_counter()
        batch = generate(branches=args.branches, seed=args.seed)
        generated = time.perf_counter() - start
        start = time.perf_counter()
        write_workbook(path, batch)
        print(f"workbook: generated in {generated:.1f} s, written in {time.perf_counter() - start:.1f} s "
              f"({path.stat().st_size / 2**20:.1f} MiB) → {path}")
        del batch

    raw_seconds, raw = best_of(args.repeat, lambda: pd.read_excel(path, sheet_name=None, engine="calamine"))
    rows = sum(len(frame) for frame in raw.values())
    del raw
    rss_after_raw = peak_rss_mb()

    def inspect():
        with path.open("rb") as stream:
            return inspect_xlsx(stream, path.stat().st_size, path.name, _ours)

    inspect_seconds, _ = best_of(args.repeat, inspect)
    read_seconds, (batch, problems) = best_of(args.repeat, lambda: read_workbook(path))
    if problems:
        print(f"unexpected: {len(problems)} problems, first: {problems[0].line()}", file=sys.stderr)
        sys.exit(1)
    assert sum(len(frame) for frame in batch.values()) == rows
    rss_after_read = peak_rss_mb()

    url = args.db or f"sqlite:///{folder / 'bench.db'}"
    if args.db is None:
        (folder / "bench.db").unlink(missing_ok=True)
    with Store(url) as store:
        start = time.perf_counter()
        store.save(batch)
        write_seconds = time.perf_counter() - start
        dialect = store.dialect

    print(f"branches                    {args.branches}")
    print(f"rows                        {rows:,}")
    print(f"pandas.read_excel calamine  {raw_seconds:7.2f} s   ({rows / raw_seconds:,.0f} rows/s)")
    print(f"read + validate (ours)      {read_seconds:7.2f} s   ({rows / read_seconds:,.0f} rows/s)")
    print(f"  of which archive check    {inspect_seconds:7.2f} s   (limits, far cells, formulas, merged/hidden)")
    print(f"ratio ours / raw read       {read_seconds / raw_seconds:7.2f}   (goal ≤ 3)")
    print(f"store write ({dialect:10s})     {write_seconds:7.2f} s   ({rows / write_seconds:,.0f} rows/s)")
    print(f"import total                {read_seconds + write_seconds:7.2f} s")
    print(f"peak RSS                    {rss_after_raw:7.0f} MiB after raw read, {rss_after_read:.0f} MiB after "
          f"ours, {peak_rss_mb():.0f} MiB at the end")


if __name__ == "__main__":
    main()
