"""Where a meeting stands as of the check date: the one reading of its findings.

The forms' guidance, the 会议情况报告's 对照制度自查情况 and the branch report's 总体结论 all take a meeting's
findings from ``standing``, so none of them can keep, drop or count a finding the others do not: every finding of
``run_checks`` for the meeting and that date, of every severity. Whatever was due only after the check date is not
among them (pending steps are 'info'; ``engine.finish`` drops late steps recorded after that date).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from .engine import counts
from .registry import SEVERITIES

SHORTCOMINGS = ("error", "warning")  # not done as required, by a deadline already passed
PENDING = ("info",)                  # not yet done, its deadline still ahead


@dataclass(frozen=True)
class Standing:
    meeting_id: str | None   # None: the branch's cadence findings (no meeting)
    findings: pd.DataFrame   # the meeting's rows of ``run_checks``, in its order

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.findings)

    @property
    def complete(self) -> bool:
        """Everything done as required: only then may a document say so (no finding of any severity)."""
        return self.findings.empty

    def of(self, severities: Iterable[str]) -> pd.DataFrame:
        return self.findings[self.findings.severity.isin(list(severities))]

    def said(self, severities: Iterable[str] = SEVERITIES) -> list[str]:
        """Each finding in words: the rule's title, then what is missing and by when (its message)."""
        part = self.of(severities)
        return [f"{title}：{message}" for title, message in zip(part.title, part.message)]


def standing(findings: pd.DataFrame, meeting_id: str | None) -> Standing:
    """The findings of ``run_checks`` (as of the day the reader needs) for one meeting."""
    rows = findings.meeting_id.isna() if meeting_id is None else findings.meeting_id.eq(meeting_id)
    return Standing(meeting_id, findings[rows.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True))


def standings(findings: pd.DataFrame, meeting_ids: Iterable[str]) -> dict[str | None, Standing]:
    """``standing`` of each meeting, plus key None for the cadence findings."""
    return {m: standing(findings, m) for m in [*meeting_ids, None]}
