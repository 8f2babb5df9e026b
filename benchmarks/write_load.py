"""Goal: writers at once lose nothing. N processes × W writes each, mixing the forms' save API (single-record
versioned edits: a new 党员, then an update of it based on the version read) and small workbook imports (every
``--import-every``-th write: one new meeting with its talks), on SQLite (a temp file) and PostgreSQL (``--pg``).

Prints, per backend: writes/s over the whole run, p50/p95 latency of one write, writes refused (e.g. 数据库正忙)
and the loss count: acknowledged writes not found in the store afterwards, read back in full (must be 0).

    python benchmarks/write_load.py [--processes 4] [--writes 500] [--import-every 10] [--pg ADMIN_URL]
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import percentile, scratch_postgres  # noqa: E402  (benchmarks/measure.py, beside this script)

SPAWN = multiprocessing.get_context("spawn")
TALKS_PER_IMPORT = 5


def _workbook(path: Path, branch: str, meeting: str, talkers: list[str]) -> None:
    from orglife_nb.models import Meeting, Talk
    from orglife_nb.workbook import write_workbook

    day = dt.date(2026, 3, 1)
    write_workbook(path, {
        Meeting: pd.DataFrame([{"meeting_id": meeting, "branch_id": branch, "kind": "regular", "topic": "负载",
                                "date": day}]),
        Talk: pd.DataFrame([{"meeting_id": meeting, "date": day - dt.timedelta(days=k + 1),
                             "talker": talkers[k % len(talkers)], "talkee": talkers[(k + 1) % len(talkers)]}
                            for k in range(TALKS_PER_IMPORT)]),
    })


def _worker(db: str, index: int, writes: int, import_every: int, folder: str, start, results) -> None:
    """One writer process: prepares its workbooks, waits for the others, then writes and times each write."""
    from orglife_nb.errors import OrglifeError
    from orglife_nb.forms import Session
    from orglife_nb.forms.session import Edit
    from orglife_nb.models import Member
    from orglife_nb.workbook import import_file

    branch = f"P{index}"
    talkers = [f"{branch}-T{k}" for k in range(3)]
    plan = ["import" if import_every and (n + 1) % import_every == 0 else "form" for n in range(writes)]
    books = {}
    for n, kind in enumerate(plan):
        if kind == "import":
            books[n] = Path(folder) / f"{branch}-{n}.xlsx"
            _workbook(books[n], branch, f"{branch}-G{n}", talkers)
    session = Session(db)
    latencies, acknowledged, refused = [], [], []
    current: tuple[str, int] | None = None  # the member this process may update next, and its version
    start.wait()
    began = time.perf_counter()
    for n, kind in enumerate(plan):
        t0 = time.perf_counter()
        try:
            if kind == "import":
                result = import_file(books[n], session.store)
                if not result.stored:
                    raise OrglifeError("; ".join(result.lines()))
                acknowledged.append(("meeting", f"{branch}-G{n}", TALKS_PER_IMPORT))
            elif current is None or n % 2 == 0:  # a new 党员
                member = f"{branch}-M{n}"
                session.save([Edit(Member, {"member_id": member, "branch_id": branch, "name": f"党员{n}",
                                            "role": "member", "status": "full"})])
                current = (member, 1)
                acknowledged.append(("member", member, f"党员{n}", 1))
            else:  # an update of the last one, based on the version this process read
                member, version = current
                session.save([Edit(Member, {"member_id": member, "branch_id": branch, "name": f"改名{n}",
                                            "role": "member", "status": "full"}, version=version)])
                current = (member, version + 1)
                acknowledged = [a for a in acknowledged if a[:2] != ("member", member)]
                acknowledged.append(("member", member, f"改名{n}", version + 1))
        except OrglifeError as error:
            refused.append(str(error))
        latencies.append(time.perf_counter() - t0)
    results.put({"began": began, "ended": time.perf_counter(), "latencies": latencies,
                 "acknowledged": acknowledged, "refused": refused})
    session.close()


def _seed(db: str, processes: int) -> None:
    from orglife_nb.models import Branch, Member
    from orglife_nb.store import Store

    branches = [f"P{i}" for i in range(processes)]
    with Store(db) as store:
        store.save({
            Branch: pd.DataFrame([{"branch_id": b, "name": f"负载支部{b}", "unit_type": "organ"} for b in branches]),
            Member: pd.DataFrame([{"member_id": f"{b}-T{k}", "branch_id": b, "name": f"谈话人{k}", "role": "member",
                                   "status": "full"} for b in branches for k in range(3)]),
        })


def _losses(db: str, acknowledged: list[tuple]) -> int:
    """Acknowledged writes missing from (or different in) the store, read back in full."""
    from orglife_nb.models import Member, Talk
    from orglife_nb.store import Store

    with Store(db) as store:
        members = store.read(Member, store_columns=True).set_index("member_id")
        talks = store.read(Talk)["meeting_id"].value_counts()
    lost = 0
    for item in acknowledged:
        if item[0] == "member":
            _, member, name, version = item
            ok = member in members.index and members.at[member, "name"] == name \
                and int(members.at[member, "version"]) == version
        else:
            _, meeting, count = item
            ok = int(talks.get(meeting, 0)) == count
        lost += not ok
    return lost


def run(db: str, label: str, processes: int, writes: int, import_every: int) -> None:
    _seed(db, processes)
    start, results = SPAWN.Barrier(processes), SPAWN.Queue()
    with tempfile.TemporaryDirectory(prefix="orglife-load-") as folder:
        workers = [SPAWN.Process(target=_worker, args=(db, i, writes, import_every, folder, start, results))
                   for i in range(processes)]
        for worker in workers:
            worker.start()
        reports = [results.get(timeout=3600) for _ in workers]
        for worker in workers:
            worker.join()
    latencies = sorted(x for r in reports for x in r["latencies"])
    wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    acknowledged = [a for r in reports for a in r["acknowledged"]]
    refused = [e for r in reports for e in r["refused"]]
    imports = sum(1 for n in range(writes) if import_every and (n + 1) % import_every == 0) * processes
    print(f"{label}: {processes} processes × {writes} writes ({imports} imports, {len(latencies) - imports} form "
          f"saves) in {wall:.1f} s → {len(latencies) / wall:.0f} writes/s; latency p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} "
          f"ms, max {latencies[-1] * 1000:.0f} ms; refused {len(refused)}; lost {_losses(db, acknowledged)}")
    for message in sorted(set(refused))[:3]:
        print(f"  refused: {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--writes", type=int, default=500, help="writes per process")
    parser.add_argument("--import-every", type=int, default=10, help="every Nth write is a workbook import (0: none)")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL: a fresh database is made and dropped")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="orglife-load-db-") as folder:
            run(f"sqlite:///{Path(folder) / 'load.db'}", "SQLite", args.processes, args.writes, args.import_every)
    if args.pg:
        with scratch_postgres(args.pg, "orglife_load") as url:
            run(url, "PostgreSQL", args.processes, args.writes, args.import_every)


if __name__ == "__main__":
    main()
