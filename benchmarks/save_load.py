"""Goal (issue 13): 20 users saving concurrently through the forms' store API lose no update; p95 save time.

Each user is its own process, logged in as its own account (a secretary, ``orglife_nb.auth``), and saves through
what the page's 保存 button runs: the generated ``RecordForm`` (``forms/record.py``) of 党员 on a ``Session`` with
that account (``forms/session.py``), so every save is a versioned, scope-checked, audited transaction. Most users
are alone in their branch; ``--pairs`` pairs share one branch and deliberately edit the SAME records (and enter
the same new 党员 ids), so stale versions meet. A user opens a record as the form last read it, pauses
(``--think``), renames it and clicks 保存; after a conflict it clicks 载入当前内容, as the page asks.

Prints, per backend (SQLite temp file; PostgreSQL with ``--pg``): saves attempted, landed, conflicts, errors; the
save time (click → message, what the user waits for: the transaction and the form's re-read) and the store
transaction alone, p50 / p95 / max; and the check that nothing was lost, against the store and its audit trail
(``Store.history``):
- per record, the landed saves' versions form one chain (no two successes from the same version), each audit
  entry's old value is the previous landed value, and the stored value is the last landed one;
- every landed save has its audit entry and nothing else does (a save refused as a conflict wrote nothing);
- every conflict was shown to its user (the form's conflict message) and is explained by another user's save.
Exits 1 when an update was lost (or a conflict went unreported).

    python benchmarks/save_load.py [--users 20] [--saves 20] [--pairs 4] [--think 0.5] [--pg ADMIN_URL]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import percentile, scratch_postgres  # noqa: E402  (benchmarks/measure.py, beside this script)

# forked after the parent imported the forms: 20 interpreters need not each import pandas and ipywidgets
FORK = multiprocessing.get_context("fork")
PASSWORD = "save-load-密码-2026"
RECORDS_PER_BRANCH = 3  # existing 党员 each user edits (a pair: the same three)
NEW_EVERY = 5  # every 5th save enters a new 党员 (a pair: the same new id, so one of them must be refused)


def plan(users: int, pairs: int) -> list[tuple[str, str]]:
    """(account, branch) per user: the first ``pairs`` pairs share a branch, the others have one each."""
    out = []
    for index in range(users):
        branch = f"S{index // 2:02d}" if index < 2 * pairs else f"S{index - pairs:02d}"
        out.append((f"书记{index:02d}", branch))
    return out


def seed(db: str, users: list[tuple[str, str]]) -> None:
    from orglife_nb.auth import add_account
    from orglife_nb.models import Branch, Member
    from orglife_nb.store import Store

    branches = sorted({branch for _, branch in users})
    with Store(db) as store:
        store.save({
            Branch: pd.DataFrame([{"branch_id": b, "name": f"并发支部{b}", "unit_type": "organ"} for b in branches]),
            Member: pd.DataFrame([{"member_id": f"{b}-M{k}", "branch_id": b, "name": f"党员{k}", "role": "member",
                                   "status": "full"} for b in branches for k in range(RECORDS_PER_BRANCH)]),
        })
        for account, branch in users:
            add_account(store, account, "secretary", PASSWORD, branches=[branch])


def user(db: str, index: int, account: str, branch: str, saves: int, think: float, start, results) -> None:
    """One user: logs in, opens the 党员 form of its branch, waits for the others, then saves ``saves`` times."""
    from orglife_nb.auth import authenticate
    from orglife_nb.forms import Session
    from orglife_nb.forms.record import NEW, RecordForm, Scope
    from orglife_nb.models import Member
    from orglife_nb.store import Store

    store = Store(db)
    if authenticate(store, account, PASSWORD) is None:
        raise SystemExit(f"{account} could not log in")
    session = Session(store, actor=account)
    transactions: list[float] = []
    save = session.save

    def timed_save(edits):  # the store transaction alone, inside the form's save
        t0 = time.perf_counter()
        try:
            return save(edits)
        finally:
            transactions.append(time.perf_counter() - t0)

    session.save = timed_save
    form = RecordForm(session, Member, Scope(branch_id=branch))
    rng = random.Random(index)
    attempts = []
    start.wait()
    began = time.perf_counter()
    for n in range(saves):
        if n % NEW_EVERY == NEW_EVERY - 1:
            key = f"{branch}-N{n}"  # a pair's two users try the same new id
            form.chooser.value = NEW
            form.set_values(member_id=key, role="member", status="full")
        else:
            key = f"{branch}-M{rng.randrange(RECORDS_PER_BRANCH)}"
            if form.chooser.value == key:
                form.load(key)  # a fresh open of the record as the form last read it (no re-read)
            form.chooser.value = key
        based_on = form.version
        time.sleep(rng.uniform(0, 2 * think))  # the user types
        name = f"{account}第{n}次"
        form.set_values(name=name)
        t0 = time.perf_counter()
        landed = form.save()
        took = time.perf_counter() - t0
        shown = form.status.value
        if landed:
            outcome = "landed"
        elif "f-conflict" in shown and "未写入任何内容" in shown:
            outcome = "conflict"
            form.reload_current()  # 载入当前内容, as the message asks
        else:
            outcome = "error"
        attempts.append({"user": account, "key": key, "based_on": based_on, "name": name, "outcome": outcome,
                         "seconds": took, "message": shown})
    results.put({"attempts": attempts, "transactions": transactions, "began": began, "ended": time.perf_counter()})
    store.close()


def verify(db: str, attempts: list[dict]) -> tuple[list[str], int]:
    """(problems: lost or unreported updates, conflicts not explained by another user's landed save)."""
    from orglife_nb.models import Member
    from orglife_nb.store import Store

    with Store(db) as store:
        stored = store.read(Member, store_columns=True).set_index("member_id")
        trail = store.history()
    trail = trail[(trail["record"] == Member.table) & trail["actor"].notna()
                  & trail["action"].isin(["insert", "update"])]
    problems: list[str] = []
    by_key: dict[str, list[dict]] = defaultdict(list)
    for attempt in attempts:
        by_key[attempt["key"]].append(attempt)
    for key, tries in sorted(by_key.items()):
        landed = [t for t in tries if t["outcome"] == "landed"]
        # the version each landed save produced: a new record is version 1, an update one past what it was based on
        produced = [1 if t["based_on"] is None else t["based_on"] + 1 for t in landed]
        if len(set(produced)) != len(produced):
            problems.append(f"{key}: two saves reported success from the same version {sorted(produced)}")
        entries = trail[trail["record_key"] == key]
        if len(entries) != len(landed):
            problems.append(f"{key}: {len(landed)} saves landed, {len(entries)} audit entries")
        # in audit order, each entry writes the value one landed save reported, on top of the previous one
        by_version = dict(zip(produced, landed))
        previous = None
        for version, (_, entry) in enumerate(entries.iterrows(), start=min(produced, default=1)):
            change = json.loads(entry["detail"]).get("name")
            old, new = (None, change) if entry["action"] == "insert" else change
            mine = by_version.get(version)
            if mine is None or mine["name"] != new or mine["user"] != entry["actor"]:
                problems.append(f"{key}: audit entry {entry['id']} ({entry['actor']}: {new}) matches no landed save "
                                f"of version {version}")
            if previous is not None and old != previous:
                problems.append(f"{key}: {entry['actor']}'s save replaced {old!r}, not the last landed {previous!r}")
            previous = new
        if landed:
            last = by_version[max(produced)]
            if key not in stored.index or stored.at[key, "name"] != last["name"] \
                    or int(stored.at[key, "version"]) != max(produced):
                problems.append(f"{key}: the store holds {stored.at[key, 'name'] if key in stored.index else None!r}, "
                                f"the last landed save was {last['name']!r} (version {max(produced)})")
    unexplained = 0
    for attempt in attempts:
        if attempt["outcome"] != "conflict":
            continue
        wanted = 1 if attempt["based_on"] is None else attempt["based_on"] + 1
        others = [t for t in by_key[attempt["key"]] if t["outcome"] == "landed" and t["user"] != attempt["user"]
                  and (1 if t["based_on"] is None else t["based_on"] + 1) == wanted]
        unexplained += not others
    return problems, unexplained


def run(db: str, label: str, users: int, pairs: int, saves: int, think: float) -> bool:
    people = plan(users, pairs)
    began = time.perf_counter()
    seed(db, people)
    seeded = time.perf_counter() - began
    start, results = FORK.Barrier(users), FORK.Queue()
    workers = [FORK.Process(target=user, args=(db, i, account, branch, saves, think, start, results))
               for i, (account, branch) in enumerate(people)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    attempts = [a for r in reports for a in r["attempts"]]
    outcomes = defaultdict(int)
    for attempt in attempts:
        outcomes[attempt["outcome"]] += 1
    clicks = [a["seconds"] for a in attempts]
    transactions = [x for r in reports for x in r["transactions"]]
    wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    problems, unexplained = verify(db, attempts)

    def figures(values: list[float]) -> str:
        return (f"p50 {statistics.median(values) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms, "
                f"max {max(values) * 1000:.0f} ms")

    print(f"{label}: {users} users ({pairs} pairs on the same records) × {saves} saves in {wall:.1f} s: "
          f"attempted {len(attempts)}, landed {outcomes['landed']}, conflicts {outcomes['conflict']} "
          f"(all shown to their user; {unexplained} not explained by another user's save), errors "
          f"{outcomes['error']}")
    print(f"  save (click → message): {figures(clicks)}")
    print(f"  store transaction:      {figures(transactions)}")
    print(f"  lost updates: {len(problems)}  (whole run {time.perf_counter() - began:.0f} s, of which seeding the "
          f"store and {users} accounts {seeded:.0f} s)")
    for problem in problems[:10]:
        print(f"    {problem}")
    for message in sorted({a["message"] for a in attempts if a["outcome"] == "error"})[:3]:
        print(f"  error: {message}")
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--saves", type=int, default=20, help="saves per user")
    parser.add_argument("--pairs", type=int, default=4, help="pairs of users editing the same records")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds a user types between opening a record and saving (uniform 0–2×)")
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL: a fresh database is made and dropped")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if 2 * args.pairs > args.users:
        parser.error("--pairs: at most half the users")
    import orglife_nb.forms.record  # noqa: F401  (imported once, before the users are forked)

    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="orglife-save-load-") as folder:
            ok &= run(f"sqlite:///{Path(folder) / 'save.db'}", "SQLite", args.users, args.pairs, args.saves,
                      args.think)
    if args.pg:
        with scratch_postgres(args.pg, "orglife_save_load") as url:
            ok &= run(url, "PostgreSQL", args.users, args.pairs, args.saves, args.think)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
