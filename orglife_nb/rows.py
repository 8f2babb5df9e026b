"""Records as plain rows (``Rows``: record class → list of dicts) and the rule baseline's fixed facts: what the demo
generator (``demo``) and the rule mutations (``mutations``) share. Neither imports the other for these, so the demo
can plant its problems with the mutations without an import circle."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .models import RECORDS, Record, fields_of

if TYPE_CHECKING:  # pandas costs start-up time; imported where frames are built
    import pandas as pd

Rows = dict[type[Record], list[dict]]

BASELINE_AS_OF = dt.date(2025, 12, 31)
BASELINE_BRANCH = "B001"
BASELINE_MEETINGS: dict[str, str] = {
    "regular_h1": "B001-2025-R1",
    "special": "B001-2025-S1",
    "regular_h2": "B001-2025-R2",
    "leadership": "B001-2025-L1",
}

HOURS_PER_DAY = 8
COMMITTEE_ROLES = ("secretary", "deputy", "committee")


def secretary_of(members: list[dict]) -> dict:
    return next(m for m in members if m["role"] == "secretary")


def on_day(members: list[dict], tenures: list[dict], day: dt.date) -> list[dict]:
    """The members who belonged to the branch on ``day`` (转入日期 ≤ day < 转出日期, blank: always / still), each
    with its role that day: the 任职 period covering it (both days inclusive), outside a member's periods 党员,
    without any 党员.职务 (rules.md rev 3; the rows' reading of ``rules.context.Context.belonging``). A member
    whose role is the same is the same dict."""
    periods: dict[str, list[dict]] = {}
    for term in tenures:
        periods.setdefault(term["member_id"], []).append(term)
    found = []
    for m in members:
        if (m.get("joined_on") and day < m["joined_on"]) or (m.get("left_on") and day >= m["left_on"]):
            continue
        if m["member_id"] in periods:
            role = next((t["role"] for t in periods[m["member_id"]] if t["start_date"] <= day
                         and (t["end_date"] is None or day <= t["end_date"])), "member")
            if role != m["role"]:
                m = dict(m, role=role)
        found.append(m)
    return found


def to_batch(rows: Rows) -> dict[type[Record], "pd.DataFrame"]:
    """Rows → the batch ``Store.save`` takes: one object-dtype DataFrame per record kind, model field columns."""
    import pandas as pd

    batch = {}
    for record in RECORDS:
        names = [f.name for f in fields_of(record)]
        items = rows.get(record, [])
        batch[record] = pd.DataFrame([[r.get(n) for n in names] for r in items], columns=names, dtype=object)
    return batch


def to_rows(batch: dict[type[Record], "pd.DataFrame"]) -> Rows:
    """A batch (any dtypes) → plain-Python rows; NaN/NA/NaT become None, Timestamps dates."""
    import pandas as pd

    from .store.writer import frame_rows

    rows: Rows = {}
    for record in RECORDS:
        names = [f.name for f in fields_of(record)]
        frame = batch.get(record)
        items = [] if frame is None else frame_rows(record, frame)
        rows[record] = [{n: (None if v is pd.NA else v) for n, v in zip(names, row)} for row in items]
    return rows
