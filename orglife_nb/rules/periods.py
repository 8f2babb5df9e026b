"""Which half-year or year a meeting counts for (rules.md revision 3, "Periods and months").

A 组织生活会 / 专题组织生活会 counts for the half-year recorded in its 年度 + 半年 when both are filled and it is held
no later than ``period_grace_days`` after that half-year's end (a "年中" meeting on 07-02 recorded 上半年 counts for
上半年); a 民主生活会 counts for its recorded 年度 when held no later than ``leadership_grace_days`` after that
year's end (the 2026 年度 meeting held in January–March 2027). Otherwise a meeting counts for the period of its
date. FREQ-* and EVAL-COMBINED read this one attribution.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import MeetingKind

LEADERSHIP = MeetingKind.leadership.value
FIRST, SECOND = "first", "second"


def _day(years: pd.Series, months: np.ndarray, days: np.ndarray) -> pd.Series:
    """Dates from year, month and day columns (missing year → NaT)."""
    known = years.notna().to_numpy()
    out = pd.Series(pd.NaT, index=years.index, dtype="datetime64[ns]")
    if known.any():
        out[known] = pd.to_datetime(pd.DataFrame({"year": years[known].astype("int64").to_numpy(),
                                                  "month": months[known], "day": days[known]}))
    return out


def attributed(meetings: pd.DataFrame, profile) -> tuple[pd.Series, pd.Series]:
    """(year, half) each meeting counts for; ``meetings`` carry kind, date and the recorded year and half (blank
    when not recorded)."""
    date = pd.to_datetime(meetings.date)
    year = pd.to_numeric(meetings.year, errors="coerce").astype("Int64")
    half = meetings.half.astype(object)
    first = half.eq(FIRST).fillna(False).to_numpy()
    leadership = meetings.kind.eq(LEADERSHIP).fillna(False).to_numpy()
    half_end = _day(year, np.where(first, 6, 12), np.where(first, 30, 31))
    year_end = _day(year, np.full(len(year), 12), np.full(len(year), 31))
    in_half = (half.isin([FIRST, SECOND]) & year.notna()).to_numpy() & date.le(
        half_end + pd.Timedelta(days=profile.period_grace_days)).fillna(False).to_numpy()
    in_year = year.notna().to_numpy() & date.le(
        year_end + pd.Timedelta(days=profile.leadership_grace_days)).fillna(False).to_numpy()
    recorded = np.where(leadership, in_year, in_half)
    own_year = date.dt.year.astype("Int64")
    own_half = pd.Series(np.where(date.dt.month.le(6).fillna(True), FIRST, SECOND), index=meetings.index)
    counts_year = own_year.where(~recorded, year)
    counts_half = own_half.where(~(recorded & ~leadership), half)
    return counts_year, pd.Series(pd.Categorical(counts_half, categories=[FIRST, SECOND]), index=meetings.index)
