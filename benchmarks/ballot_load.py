"""Goal (issue 16): 200 members vote on their phones within 60 s against a real ``orglife serve``: p99 submit latency
< 300 ms on this 2-core machine, no ballot lost or duplicated; server memory before and after.

The server is what ``orglife serve`` runs (``voila.start`` with the login, the forms notebook and a preheated kernel);
its phone page ``/vote`` has no kernel. Each voter is an asyncio task with its own httpx client (its own cookies,
as a phone): it arrives at a random moment within ``--window`` seconds, opens ``/vote`` (the QR link's page; the
code is in the fragment, so the browser asks for the page without it), posts the code, gets the ballot, takes
``--think`` seconds to choose a level for every member and submits. Every ``--double``-th voter taps submit twice
at once (both requests sent concurrently). Submit latency = POST of the ballot → the "已经收到" page.

Checked afterwards (the count is closed through the store, as the secretary's 结束计票 does): every voter got the
receipt once; the stored ballots, as a multiset of (member → level) maps, equal the ballots submitted (no ballot
lost, none stored twice, none altered); codes used = voters. Exits 1 otherwise.

    python benchmarks/ballot_load.py [--voters 200] [--members 200] [--window 60] [--pg ADMIN_URL] [--no-sqlite]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import percentile, scratch_postgres  # noqa: E402  (benchmarks/measure.py, beside this script)

MEETING = "LOAD-2026-R2"
LEVELS = ("excellent", "qualified", "basic", "unqualified")
XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')


def seed(db: str, members: int, voters: int) -> list[str]:
    """A branch of ``members`` members, all present at a meeting with 民主评议 (四档); ``voters`` codes issued."""
    import datetime as dt

    import pandas as pd

    from orglife_nb.auth import add_account
    from orglife_nb.models import Attendance, Branch, Meeting, Member
    from orglife_nb.store import Store

    ids = [f"L{i:04d}" for i in range(members)]
    with Store(db) as store:
        store.save({
            Branch: pd.DataFrame([{"branch_id": "LOAD", "name": "机关第一党支部", "unit_type": "organ"}]),
            Member: pd.DataFrame([{"member_id": m, "branch_id": "LOAD", "name": f"党员{i:03d}"}
                                  for i, m in enumerate(ids)]),
            Meeting: pd.DataFrame([{"meeting_id": MEETING, "branch_id": "LOAD", "date": dt.date(2026, 11, 20),
                                    "kind": "regular", "with_evaluation": True, "rating_scheme": "four"}]),
            Attendance: pd.DataFrame([{"meeting_id": MEETING, "member_id": m, "presence": "present"} for m in ids]),
        })
        add_account(store, "admin", "admin", "ballot-load-密码")
        poll = store.open_poll(MEETING, voters)
    return [slip.code for slip in poll.slips]


async def voter(client, url: str, code: str, arrive: float, think: float, double: bool, rng: random.Random,
                members: list[str]) -> dict:
    await asyncio.sleep(arrive)
    page = await client.get(url + "vote")
    token = XSRF.search(page.text).group(1)
    ballot_page = await client.post(url + "vote", data={"_xsrf": token, "code": code})
    assert "提交测评票" in ballot_page.text, ballot_page.text[-400:]
    token = XSRF.search(ballot_page.text).group(1)
    levels = {m: rng.choice(LEVELS) for m in members}
    await asyncio.sleep(think * rng.random() * 2)
    fields = {"_xsrf": token, "code": code, "submit": "1", **{f"level-{m}": v for m, v in levels.items()}}
    began = time.perf_counter()
    taps = 2 if double else 1
    answers = await asyncio.gather(*[client.post(url + "vote", data=fields) for _ in range(taps)])
    seconds = time.perf_counter() - began
    receipts = sum("您的测评票已经收到，谢谢" in a.text for a in answers)
    return {"levels": levels, "seconds": seconds, "receipts": receipts, "taps": taps,
            "statuses": [a.status_code for a in answers]}


async def crowd(url: str, codes: list[str], members: list[str], window: float, think: float, double: int,
                seed_value: int) -> tuple[list[dict], float]:
    import httpx

    rng = random.Random(seed_value)
    limits = httpx.Limits(max_connections=4)
    clients = [httpx.AsyncClient(timeout=120, limits=limits) for _ in codes]  # one phone, one cookie jar each
    began = time.perf_counter()
    try:
        results = await asyncio.gather(*[
            voter(client, url, code, rng.random() * window, think, bool(double) and i % double == 0,
                  random.Random(rng.random()), members)
            for i, (client, code) in enumerate(zip(clients, codes))])
    finally:
        for client in clients:
            await client.aclose()
    return results, time.perf_counter() - began


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def run(db: str, label: str, voters: int, members: int, window: float, think: float, double: int) -> bool:
    from orglife_nb.models import Ballot
    from orglife_nb.store import Store
    from orglife_nb.serving import ServeSettings
from orglife_nb.voila import start

    codes = seed(db, members, voters)
    ids = [f"L{i:04d}" for i in range(members)]
    with tempfile.TemporaryDirectory(prefix="orglife-ballot-load-") as folder:
        log = Path(folder) / "serve.log"
        server = start("forms.ipynb", db=db, preheat=True, pool_size=1, log=log, login=ServeSettings())
        try:
            time.sleep(15)  # the preheated kernel runs the forms notebook first: measure the server at rest
            before = rss_mb(server.process.pid)
            results, wall = asyncio.run(crowd(server.url, codes, ids, window, think, double, 16))
            after = rss_mb(server.process.pid)
        finally:
            server.stop()
        logged = log.read_text(errors="replace")
    with Store(db) as store:
        used = store.poll(MEETING).used
        store.close_count(MEETING)
        stored = store.read(Ballot)
    got = Counter(tuple(sorted(zip(g.rated_id, g.level))) for _, g in stored.groupby("ballot_no"))
    want = Counter(tuple(sorted(r["levels"].items())) for r in results)
    lost = sum((want - got).values())
    extra = sum((got - want).values())
    receipts = Counter(r["receipts"] for r in results)
    latencies = [r["seconds"] for r in results]
    leaked = sum(code in logged for code in codes)
    print(f"{label}: {voters} voters × {members} members rated, arriving within {window:.0f} s "
          f"({sum(r['taps'] == 2 for r in results)} tapped submit twice); run {wall:.1f} s")
    print(f"  submit latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"  ballots stored {stored.ballot_no.nunique()}, codes used {used}; lost {lost}, duplicated or altered "
          f"{extra}; voters with one receipt {receipts.get(1, 0)}/{voters}")
    print(f"  server memory (RSS of the serving process): {before:.0f} MB before, {after:.0f} MB after "
          f"({after - before:+.0f} MB); codes in the server log: {leaked}")
    return lost == 0 and extra == 0 and receipts.get(1, 0) == voters and used == voters and leaked == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--members", type=int, default=200, help="members rated on every ballot (all present)")
    parser.add_argument("--window", type=float, default=60, help="seconds within which the voters arrive")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between the ballot and submit")
    parser.add_argument("--double", type=int, default=10, help="every N-th voter taps submit twice (0: none)")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL: a fresh database is made and dropped")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if args.voters > args.members:
        parser.error("--voters: at most --members (members' ballots ≤ members present)")
    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="orglife-ballot-load-") as folder:
            ok &= run(f"sqlite:///{Path(folder) / 'vote.db'}", "SQLite", args.voters, args.members, args.window,
                      args.think, args.double)
    if args.pg:
        with scratch_postgres(args.pg, "orglife_ballot_load") as url:
            ok &= run(url, "PostgreSQL", args.voters, args.members, args.window, args.think, args.double)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
