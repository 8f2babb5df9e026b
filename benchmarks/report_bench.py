"""Benchmark: report runs at scale, stock papermill against the warm-kernel runner, locally and on Dask.

    python benchmarks/report_bench.py [--branches 24 96] [--baseline-sample N] [--big 1000] [--skip-dask]

In one run, on generated demo branches (each batch size in turn): the stock ``papermill`` CLI per branch, one after another and two
processes in parallel (the baselines; they do not even export HTML),
``orglife report --workers 1``, ``--workers 2`` and ``--scheduler`` on a 2-worker ``distributed.LocalCluster``.
Each command is timed end to end (process start, kernel start, the summary report included) and divided by the
number of branch reports; the ratios are each baseline's seconds per report ÷ this run's (--workers 1 against the
serial baseline, 2 workers against the two-in-parallel one). ``--big N`` also runs N branches
with ``--workers 2`` and prints wall time and the peak memory of each worker process and of each kernel (sampled).
A second table splits one warm report into its parts (engine round trips, the notebook's cells, HTML export).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

AS_OF = "2026-07-15"


def timed(command: list[str], *, memory: bool = False) -> tuple[float, dict]:
    """A whole command's wall time and, if asked, each process's peak memory (1 = some report failed: still a
    measurement, said on stderr)."""
    seconds, sampler = measure.timed(command, memory=memory, ok=(0, 1))
    return seconds, sampler.stop() if sampler else {}


def make_store(folder: Path, branches: int) -> tuple[str, list[str]]:
    from orglife_nb.demo import save_demo
    from orglife_nb.store import Store

    url = f"sqlite:///{folder / f'bench-{branches}.db'}"
    with Store(url) as store:
        save_demo(store, branches=branches)
        return url, list(store.branch_names())


def orglife(url: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "orglife_nb.cli", "report", "--db", url, "--as-of", AS_OF, "--out", str(out),
            *extra]


def split_one_report(url: str, branches: list[str]) -> list[tuple[str, float]]:
    """Where one warm report's time goes inside a prepared chunk, as in a batch run (median over 5 branches; the
    first report of the chunk, which loads and checks the chunk, is shown on its own)."""
    from statistics import median

    from orglife_nb.reports.batch import prepare_code
    from orglife_nb.reports.engines import make_engine
    from orglife_nb.reports.export import notebook_to_html
    from orglife_nb.reports.runner import BRANCH_NOTEBOOK

    engine = make_engine("warm")
    chunk = [{"db": url, "branch_id": branch, "as_of": AS_OF, "audience": "internal", "profile": ""}
             for branch in branches[:8]]
    rows: dict[str, list[float]] = {}
    try:
        engine.execute(BRANCH_NOTEBOOK, chunk[-1])  # the kernel's imports
        engine.run_code(prepare_code(chunk[:6]))
        for attempt, parameters in enumerate(chunk[:6]):
            started = time.perf_counter()
            node = engine.execute(BRANCH_NOTEBOOK, parameters)
            executed = time.perf_counter()
            notebook_to_html(node)
            exported = time.perf_counter()
            if attempt == 0:
                rows["first report of the chunk (loads and checks the chunk's 6 branches)"] = [exported - started]
                continue
            cells = [(c.source.splitlines()[-1] if c.source else "", c.metadata.papermill.get("duration") or 0.0)
                     for c in node.cells if c.cell_type == "code"]
            in_kernel = sum(seconds for _, seconds in cells)
            rows.setdefault("engine: papermill bookkeeping + zmq round trips", []).append(
                executed - started - in_kernel)
            for source, seconds in cells:
                rows.setdefault(f"cell: {source[:60]}", []).append(seconds)
            rows.setdefault("export: nbconvert HTML", []).append(exported - executed)
            rows.setdefault("whole report", []).append(exported - started)
    finally:
        engine.close()
    return [(name, median(values)) for name, values in rows.items()]


def compare(folder: Path, args) -> None:
    sizes = args.branches
    stores = {size: make_store(folder, size) for size in sizes}
    load = os.getloadavg()
    print(f"演示支部 {'、'.join(map(str, sizes))} 个，{os.cpu_count()} 核，开始时负载 {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f}")
    rows: list[tuple[str, float, int]] = []

    from orglife_nb.reports.runner import BRANCH_NOTEBOOK

    url, branches = stores[sizes[0]]
    sample = branches[: args.baseline_sample or len(branches)]

    def stock(branch: str) -> None:
        timed(["papermill", str(BRANCH_NOTEBOOK), str(folder / f"stock-{branch}.ipynb"), "-p", "db", url,
               "-p", "branch_id", branch, "-p", "as_of", AS_OF, "-p", "audience", "internal", "--no-progress-bar"])

    # the baselines export no HTML at all: that only flatters them
    started = time.perf_counter()
    for branch in sample:
        stock(branch)
    serial = (time.perf_counter() - started) / len(sample)
    rows.append(("stock papermill CLI, one branch after another", serial * len(sample), len(sample)))
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:  # two stock processes at a time: the fair match for --workers 2
        list(pool.map(stock, sample))
    parallel = (time.perf_counter() - started) / len(sample)
    rows.append(("stock papermill CLI, two processes in parallel", parallel * len(sample), len(sample)))

    for size in sizes:
        url, branches = stores[size]
        for workers in (1, 2):
            seconds, _ = timed(orglife(url, folder / f"w{workers}-{size}", "--workers", str(workers)))
            rows.append((f"{size} 支部: orglife report --workers {workers}", seconds, len(branches)))
        if not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                seconds, _ = timed(orglife(url, folder / f"dask-{size}", "--scheduler", cluster.scheduler_address))
            rows.append((f"{size} 支部: --scheduler (LocalCluster, 2 workers)", seconds, len(branches)))

    print(f"\n{'run':<56}{'reports':>8}{'wall s':>9}{'s/report':>10}{'× serial':>10}{'× 2 parallel':>14}")
    for name, seconds, count in rows:
        per = seconds / count
        print(f"{name:<56}{count:>8}{seconds:>9.1f}{per:>10.3f}{serial / per:>10.1f}{parallel / per:>14.1f}")
    print("(wall time of the whole command ÷ branch reports: process and kernel start, the chunk loads and the "
          "summary report are included. Compare like with like: --workers 1 with the serial baseline, --workers 2 "
          "and the 2-worker cluster with the two-in-parallel baseline)")

    url, branches = stores[sizes[0]]
    print("\nwhere one warm report's time goes (seconds, median of 5 reports in a prepared chunk):")
    for name, seconds in split_one_report(url, branches):
        print(f"  {seconds:8.3f}  {name}")


def big(folder: Path, branches: int) -> None:
    url, _ = make_store(folder, branches)
    load = os.getloadavg()[0]
    seconds, peaks = timed(orglife(url, folder / "big", "--workers", "2"), memory=True)
    print(f"\n{branches} 个支部，--workers 2（开始时负载 {load:.1f}）：墙钟 {seconds:.0f} 秒"
          f"（{seconds / branches:.3f} 秒/份）")
    for kind, values in peaks.items():
        print(f"  峰值内存 {kind}: " + "、".join(f"{v:.0f} MB" for v in values[:4]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, nargs="+", default=[24, 96],
                        help="batch sizes to time (the stock baseline runs on a sample of the first)")
    parser.add_argument("--baseline-sample", type=int, default=None,
                        help="run stock papermill on only this many of the branches (default: all)")
    parser.add_argument("--big", type=int, default=0, help="also run this many branches with --workers 2")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--big-only", action="store_true", help="only the --big run")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="report-bench-"))
    if not args.big_only:
        compare(folder, args)
    if args.big:
        big(folder, args.big)
    print(f"\n负载（结束时）{os.getloadavg()[0]:.1f}；输出在 {folder}")


if __name__ == "__main__":
    main()
