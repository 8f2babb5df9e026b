"""Benchmark: generate N demo branches straight into a fresh SQLite file (goal: 10,000 branches in minutes).

    python benchmarks/demo_bench.py [--branches 10000] [--chunk 200] [--db PATH]

Prints seconds (generation alone and generation + save), rows, rows/s, store size in MB and peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=200, help="branches per Store.save (one transaction each)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a fresh temporary file)")
    parser.add_argument("--split", action="store_true", help="also time generation alone (a second pass)")
    parser.add_argument("--single-transaction", action="store_true", help="all chunks in one transaction")
    args = parser.parse_args(argv)

    from orglife_nb import demo
    from orglife_nb.store import Store

    folder = None if args.db else tempfile.TemporaryDirectory()
    path = args.db or Path(folder.name) / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    generation = None
    if args.split:
        start = time.perf_counter()
        for _ in demo.iter_batches(args.branches, chunk=args.chunk):
            pass
        generation = time.perf_counter() - start

    start = time.perf_counter()
    with Store(path) as store:
        rows = demo.save_demo(store, args.branches, chunk=args.chunk, single_transaction=args.single_transaction)
    seconds = time.perf_counter() - start
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    print(f"branches           {args.branches}")
    print(f"chunk (branches)   {args.chunk}{'  (one transaction)' if args.single_transaction else ''}")
    if generation is not None:
        print(f"generate only (s)  {generation:.1f}")
        print(f"save share (s)     {seconds - generation:.1f}  (approx.: total minus generate only)")
    print(f"generate+save (s)  {seconds:.1f}")
    print(f"rows               {rows}")
    print(f"rows/s             {rows / seconds:,.0f}")
    print(f"store size (MB)    {size / 1e6:.1f}")
    print(f"peak RSS (MB)      {peak_mb:.0f}")
    if folder is not None:
        folder.cleanup()


if __name__ == "__main__":
    sys.exit(main())
