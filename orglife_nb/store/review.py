"""The review state of meetings as the store sees it: read it, and refuse changes to an approved meeting's records.

The transitions themselves (who may submit, approve, return, reopen; the checks run at submission) live in
``orglife_nb.auth.review``; the lock lives here, so every writer — forms, workbook import, API — meets it.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import Connection, select

from ..errors import OrglifeError
from .schema import REVIEWS

STATES = {"draft": "草稿", "submitted": "已提交", "approved": "已审核", "returned": "退回"}


class Locked(OrglifeError):
    """An approved meeting's records cannot change until a reviewer reopens it."""


def states(connection: Connection, meeting_ids: Iterable[str] | None = None) -> dict[str, str]:
    """meeting id → state (meetings without a row are drafts and are left out)."""
    query = select(REVIEWS.c.meeting_id, REVIEWS.c.state)
    if meeting_ids is not None:
        ids = sorted(set(meeting_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            found.update(connection.execute(query.where(REVIEWS.c.meeting_id.in_(ids[start:start + 500]))).all())
        return found
    return dict(connection.execute(query).all())


def check_unlocked(connection: Connection, meetings: Iterable[str]) -> None:
    approved = sorted(m for m, state in states(connection, meetings).items() if state == "approved")
    if approved:
        raise Locked(f"会议 {'、'.join(approved)} 已审核，记录已锁定，未写入任何内容；如需修改，请上级党组织先重新打开"
                     "（orglife review reopen）")


COLUMNS = [c.name for c in REVIEWS.columns]
_DTYPES = {"meeting_id": "string", "state": "string", "reason": "string", "explanation": "string",
           "updated_by": "string", "updated_at": "datetime64[ns]", "submitted_at": "datetime64[ns]", "version": "Int64"}
# Written for the branch and its superiors only (why a meeting was returned, why errors were left at submission):
# never in a public report.
INTERNAL = ("reason", "explanation")


def rows(records: Iterable) -> pd.DataFrame:
    """Stored review rows (tuples in REVIEWS column order, or dicts) as a frame with fixed dtypes; times may be
    datetimes or ISO text (SQLite's raw values)."""
    records = [tuple(r[c] for c in COLUMNS) if isinstance(r, dict) else r for r in records]
    # column by column: half the time of from_records + astype, paid on every load (mostly of no rows at all)
    columns = list(zip(*records)) or [()] * len(COLUMNS)
    return pd.DataFrame({name: _column(list(values), _DTYPES[name]) for name, values in zip(COLUMNS, columns)})


def _column(values: list, dtype: str) -> pd.Series:
    if dtype.startswith("datetime") and any(isinstance(v, str) for v in values):
        return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype=dtype)
    return pd.Series(values, dtype=dtype)


def read(connection: Connection, where=None) -> pd.DataFrame:
    """The stored rows (``where``: a condition on REVIEWS), by meeting id: the driver's values, converted by column
    (not SQLAlchemy's per-value datetime parsing)."""
    query = select(REVIEWS).order_by(REVIEWS.c.meeting_id)
    return rows(connection.execute(query if where is None else query.where(where)).cursor.fetchall())


def per_meeting(stored: pd.DataFrame, meeting_ids: Iterable[str]) -> pd.DataFrame:
    """One row per meeting of ``meeting_ids`` (their order, repeats and missing ids dropped): its stored row, or a
    draft (state ``draft``, the rest missing) when it has none — an old store, the demo, an unsaved batch."""
    ids = pd.Series(pd.unique(pd.Series(list(meeting_ids), dtype="string").dropna()), dtype="string")
    out = pd.DataFrame({"meeting_id": ids}).merge(stored, on="meeting_id", how="left")
    out["state"] = out.state.fillna("draft")
    return out


def counts(reviews: pd.DataFrame) -> pd.Series:
    """Meetings per state, every state in STATES order (``reviews``: ``per_meeting`` rows)."""
    return reviews.state.value_counts().reindex(list(STATES), fill_value=0).astype(int)


def review_frame(connection: Connection, meeting_ids: Iterable[str]) -> pd.DataFrame:
    """One row per meeting (sorted by id): state (draft when never submitted), reason, explanation, who and when."""
    ids = sorted(set(meeting_ids))
    stored = pd.concat([read(connection, REVIEWS.c.meeting_id.in_(ids[start:start + 500]))
                        for start in range(0, len(ids), 500)] or [rows([])], ignore_index=True)
    return per_meeting(stored, ids)


__all__ = ["STATES", "INTERNAL", "Locked", "states", "check_unlocked", "rows", "read", "per_meeting", "counts",
           "review_frame"]
