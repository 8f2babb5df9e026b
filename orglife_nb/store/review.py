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


def review_frame(connection: Connection, meeting_ids: Iterable[str]) -> pd.DataFrame:
    """One row per meeting: state (草稿 when never submitted), reason, explanation, who and when."""
    ids = sorted(set(meeting_ids))
    rows = {}
    for start in range(0, len(ids), 500):
        for row in connection.execute(select(REVIEWS).where(REVIEWS.c.meeting_id.in_(ids[start:start + 500])))\
                .mappings():
            rows[row["meeting_id"]] = dict(row)
    return pd.DataFrame([rows.get(m, {"meeting_id": m, "state": "draft"}) for m in ids],
                        columns=[c.name for c in REVIEWS.columns])


__all__ = ["STATES", "Locked", "states", "check_unlocked", "review_frame"]
