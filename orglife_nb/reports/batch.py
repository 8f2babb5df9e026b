"""What the branch reports of one chunk share, computed once for the chunk inside the warm kernel.

A branch report on its own loads its branch and runs every rule on it: forty rules' worth of pandas overhead
(~0.6 s) for a few dozen rows. In a batch run the warm kernel is first told which branches come next
(``prepare``, sent by the runner outside any notebook); the first report of the chunk then loads those branches
together and runs the checks, the rectification ledger and the meeting timelines once, vectorised, and every
report takes its own branch's slice. Each slice equals what the report computes alone (tested), so a report reads
the same either way; a report whose branch, ``db``, ``as_of`` or profile the chunk does not cover simply computes
its own (also after a replaced kernel, which has nothing prepared).

The prepared chunk lives in this module of the kernel, outside the notebook namespace the warm engine clears
before each report, and is dropped when the chunk ends (``release``). A report only ever takes its own slice.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

_prepared: "Chunk | None" = None


def _key(db, as_of, profile) -> tuple:
    """What a report's numbers depend on besides its branch (as the report reads its parameters)."""
    return str(db), pd.Timestamp(as_of or dt.date.today()).normalize(), profile or None


class Chunk:
    """Branches reported one after another with the same store, day and profile; computed on first use."""

    def __init__(self, db: str, branch_ids: list[str], as_of: str | None, profile: str | None) -> None:
        self.db = db
        self.branch_ids = list(branch_ids)
        self.key = _key(db, as_of, profile)
        self.covered = set(self.branch_ids)

    def covers(self, db, branch_id: str, as_of, profile) -> bool:
        return branch_id in self.covered and _key(db, as_of, profile) == self.key

    @cached_property
    def frames(self):
        from ..frames import load

        return load(self.db, self.branch_ids)

    @cached_property
    def _rows_by_branch(self) -> dict[str, dict[str, np.ndarray]]:
        """table → branch id → row positions (rows without a branch column belong to their parent's branch)."""
        from ..frames import owners

        return {table: owner.groupby(owner.to_numpy(), sort=False).indices
                for table, owner in owners(self.frames).items()}

    def frames_of(self, branch_id: str):
        """``frames.subset(self.frames, [branch_id])``, by positions grouped once for the chunk."""
        from ..frames import Frames

        parts = {}
        for record, frame in self.frames:
            rows = self._rows_by_branch[record.table].get(branch_id, np.array([], dtype=np.intp))
            parts[record.table] = frame.iloc[rows].reset_index(drop=True)
        reviews = self.frames.reviews
        return Frames(**parts, reviews=reviews[reviews.meeting_id.isin(parts["meetings"].meeting_id)]
                      .reset_index(drop=True))

    @cached_property
    def profile(self):
        from ..rules.profile import load_profile

        return load_profile(self.key[2])

    @cached_property
    def context(self):
        from ..rules.context import Context

        return Context(self.frames, self.profile, self.key[1])

    @cached_property
    def _findings(self) -> dict[str, pd.DataFrame]:
        from ..rules import run_checks

        return _by_branch(run_checks(self.frames, self.profile, self.key[1].date(), context=self.context))

    @cached_property
    def _ledger(self) -> dict[str, pd.DataFrame]:
        from ..rules.status import ledger

        return _by_branch(ledger(self.context))

    @cached_property
    def _progress(self) -> dict[str, pd.DataFrame]:
        from .progress import meeting_progress

        progress = meeting_progress(self.frames, self.key[1].date(), self.profile)
        branch_of = dict(zip(self.frames.meetings.meeting_id, self.frames.meetings.branch_id))
        return _by_branch(progress, progress.meeting_id.map(branch_of))

    def findings(self, branch_id: str) -> pd.DataFrame:
        return self._findings[branch_id]

    def ledger(self, branch_id: str) -> pd.DataFrame:
        return self._ledger[branch_id]

    def progress(self, branch_id: str) -> pd.DataFrame:
        return self._progress[branch_id]


class _Slices(dict):
    """branch id → that branch's rows (in the frame's order, index reset); an empty frame for a branch with none."""

    def __init__(self, frame: pd.DataFrame, by) -> None:
        super().__init__((key, part.reset_index(drop=True)) for key, part in frame.groupby(by, sort=False))
        self.empty = frame.iloc[0:0].reset_index(drop=True)

    def __missing__(self, key):
        return self.empty


def _by_branch(frame: pd.DataFrame, by=None) -> dict[str, pd.DataFrame]:
    return _Slices(frame, frame.branch_id.astype(object) if by is None else by)


def prepare(db: str, branch_ids: list[str], as_of: str | None, profile: str | None) -> None:
    """Announce the branches whose reports come next (nothing is computed until the first report asks)."""
    global _prepared
    _prepared = Chunk(db, branch_ids, as_of, profile)


def release() -> None:
    global _prepared
    _prepared = None


def prepared_for(db, branch_id: str, as_of, profile) -> Chunk | None:
    """The prepared chunk if it covers this report, else None (the report computes its own)."""
    chunk = _prepared
    return chunk if chunk is not None and chunk.covers(db, branch_id, as_of, profile) else None


def prepare_code(parameters: list[dict]) -> str | None:
    """The kernel code announcing a chunk of branch-report runs, or None when they do not share one store, day
    and profile (nothing to share then)."""
    branch_runs = [p for p in parameters if p.get("branch_id")]
    if len(branch_runs) < 2:
        return None
    shared = {_key(p.get("db"), p.get("as_of"), p.get("profile")) for p in branch_runs}
    if len(shared) != 1:
        return None
    first = branch_runs[0]
    arguments = (first.get("db"), [p["branch_id"] for p in branch_runs], first.get("as_of") or None,
                 first.get("profile") or None)
    return f"__import__('orglife_nb.reports.batch', fromlist=['prepare']).prepare(*{arguments!r})"


RELEASE_CODE = "__import__('orglife_nb.reports.batch', fromlist=['release']).release()"
