"""The forms' access to the store: reads with versions, saves as single transactions with version checks.

One ``Session`` per kernel (one visitor in Voila); every widget goes through it, so the forms can be driven
without a kernel in tests.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Iterable

import pandas as pd
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..errors import OrglifeError
from ..models import Meeting, Member, Record
from ..store import Store
from ..store.scope import Account
from ..store.writer import CountClosed, Edit, SaveSummary, VersionConflict

__all__ = ["Session", "Edit", "VersionConflict", "CountClosed"]


class Session:
    def __init__(self, db: Store | str | os.PathLike | None = None, *, as_of: dt.date | None = None,
                 profile=None, actor: Account | None = None) -> None:
        from ..rules import load_profile

        # every read and save goes through the store with the visitor's account: scope is checked there
        store = db if isinstance(db, Store) else Store(db)
        self.store = store.as_actor(actor) if actor is not None else store
        self._as_of = as_of
        self.profile = load_profile(profile)

    @property
    def as_of(self) -> dt.date:
        return self._as_of or dt.date.today()  # a kernel left open overnight follows the calendar

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    # ---- reading ---------------------------------------------------------------------------------------------

    def branches(self) -> dict[str, str]:
        # no store: the forms are being built before the login's visitor is known, and show no branch yet
        return {} if self.store is None else self.store.branch_names()

    def rows(self, record: type[Record], **equal) -> pd.DataFrame:
        return self.store.versioned(record, **equal)

    def members(self, branch_id: str | None) -> pd.DataFrame:
        return self.rows(Member, branch_id=branch_id)

    def meetings(self, branch_id: str | None) -> pd.DataFrame:
        return self.rows(Meeting, branch_id=branch_id)

    def count_closed(self, meeting_id: str) -> bool:
        return self.store.count_closed(meeting_id)

    def frames(self, branch_id: str):
        """The branch's typed frames (a one-branch read goes through this process's own connection, so a form
        sees its own save at once)."""
        from ..frames import load

        return load(self.store, [branch_id])

    # ---- writing: all or nothing -----------------------------------------------------------------------------

    def save(self, edits: Iterable[Edit]) -> SaveSummary:
        """Apply the edits in one transaction; VersionConflict / CountClosed leave the store untouched."""
        try:
            summary, _ = self.store.apply(edits)
            return summary
        except (VersionConflict, CountClosed):
            raise
        except IntegrityError as error:
            raise OrglifeError(f"保存失败，未写入任何内容：记录之间的关联不成立（{_reason(error)}）") from None
        except SQLAlchemyError as error:
            raise OrglifeError(f"保存失败，未写入任何内容：{_reason(error)}") from None

    def close_count(self, meeting_id: str) -> dt.datetime:
        try:
            return self.store.close_count(meeting_id)
        except IntegrityError:  # the secretary on another PC closed it a moment earlier
            raise CountClosed(f"会议 {meeting_id} 的测评已经结束计票") from None


def _reason(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0]
