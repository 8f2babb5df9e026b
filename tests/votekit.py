"""A small branch for the phone-vote tests: 12 members, one meeting with 民主评议 (四档), 10 present."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, inspect, text

from orglife_nb.auth import add_account
from orglife_nb.models import Attendance, Branch, Meeting, Member
from orglife_nb.store import Store

MEETING = "B1-2026-R2"
MEMBERS = [f"M{i:02d}" for i in range(1, 13)]
PRESENT = 10
NAMES = ["王建国", "李红梅", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏", "徐涛", "孙燕"]


def fill(store: Store, unit_type: str = "community") -> None:
    store.save({
        Branch: pd.DataFrame([{"branch_id": "B1", "name": "幸福里社区党支部", "unit_type": unit_type}]),
        Member: pd.DataFrame([{"member_id": m, "branch_id": "B1", "name": n} for m, n in zip(MEMBERS, NAMES)]),
        Meeting: pd.DataFrame([{"meeting_id": MEETING, "branch_id": "B1", "date": dt.date(2026, 11, 20),
                                "kind": "regular", "with_evaluation": True, "rating_scheme": "four"}]),
        Attendance: pd.DataFrame([{"meeting_id": MEETING, "member_id": m,
                                   "presence": "present" if i < PRESENT else "leave"}
                                  for i, m in enumerate(MEMBERS)]),
    })


SHOTS = os.environ.get("ORGLIFE_SHOTS")  # a folder to keep the screenshots in, for a person to look at


def branch_store(folder: Path, *accounts: tuple, unit_type: str = "community") -> str:
    """An SQLite store in ``folder`` holding the small branch (``fill``) and the ``accounts`` (arguments of
    ``add_account`` after the store); its URL."""
    db = f"sqlite:///{folder / 'store.db'}"
    with Store(db) as store:
        fill(store, unit_type)
        for name, role, password, *branches in accounts:
            add_account(store, name, role, password, branches=list(branches))
    return db


def shot(page, name: str, full_page: bool = False) -> None:
    """A screenshot named ``name`` in ``ORGLIFE_SHOTS`` when it is set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in the order the database returns them without ORDER BY."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(text(f'select * from "{name}"'))]
                    for name in inspect(connection).get_table_names()}
    finally:
        engine.dispose()


# ---- what the storage engine keeps (issue 25) ----------------------------------------------------------------

BOX = re.compile(rb'\[(?:"[mp][0-9.]+",?)+\]')  # a box as stored: a JSON list of packed ballots
SPENT_LIST = re.compile(rb'\[(?:"[0-9a-f]{64}"(?:, )?)+\]')  # a spent list as stored


def raw_files(db_url: str) -> bytes:
    """The bytes of the store's files as someone copying them would get them: the file, its log, a rollback
    journal and the log's index."""
    from sqlalchemy.engine import make_url

    path = make_url(db_url).database
    return b"".join(Path(path + suffix).read_bytes() for suffix in ("", "-wal", "-journal", "-shm")
                    if Path(path + suffix).exists())


def one_state(raw: bytes, used: list[str], packed: list[str]) -> None:
    """The files hold the box and the spent list as they are now and no earlier state of either: every box found is
    the whole box, every spent list the whole sorted list, and each used code's hash and each ballot occurs as often
    as every other (an earlier state would hold the earlier voters' ones more often: their order, and by difference
    which code came with which ballot)."""
    boxes = [sorted(json.loads(found)) for found in BOX.findall(raw)]
    assert all(box == sorted(packed) for box in boxes), boxes
    lists = [json.loads(found) for found in SPENT_LIST.findall(raw)]
    assert all(found == sorted(used) for found in lists), [len(found) for found in lists]
    assert len({raw.count(code.encode()) for code in used}) == 1
    assert len({raw.count(b'"' + ballot.encode() + b'"') for ballot in packed}) <= 1
