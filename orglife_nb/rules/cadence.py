"""Cadence rules (频次), per branch over the calendar year of as_of (or ``year``).

A period that ended on or before as_of without a meeting is a violation; the period in progress without any
meeting (not even one scheduled) is pending (info, days left); later periods are not looked at.
"""
from __future__ import annotations

import pandas as pd

from ..models import MeetingKind
from .common import emit, fmt
from .context import day_count
from .registry import LEADERSHIP_ONLY, REGULAR_ONLY, register

QUARTERS = "一二三四"


def _period_label(year: int, start: int, months: int) -> str:
    if months == 6:
        return f"{year} 年{'上' if start == 1 else '下'}半年"
    if months == 3:
        return f"{year} 年第{QUARTERS[(start - 1) // 3]}季度"
    if months == 12:
        return f"{year} 年"
    return f"{year} 年 {start}–{start + months - 1} 月"


def _periods(year: int, months: int) -> pd.DataFrame:
    """The year's periods of ``months`` months: start, end (last day), label."""
    starts = range(1, 13, months)
    return pd.DataFrame({
        "start": [pd.Timestamp(year, s, 1) for s in starts],
        "end": [pd.Timestamp(year, s, 1) + pd.DateOffset(months=months) - pd.Timedelta(days=1) for s in starts],
        "label": [_period_label(year, s, months) for s in starts],
    })


def _uncovered(ctx, branches: pd.DataFrame, kind: str, months: int, what: str) -> pd.DataFrame:
    """Findings for (branch, period) without a meeting of ``kind``: ended → violation, in progress → info."""
    periods = _periods(ctx.year, months)
    periods = periods[periods.start.le(ctx.as_of)]
    grid = branches[["branch_id"]].merge(periods, how="cross")
    m = ctx.meetings
    m = m[m.kind.eq(kind).fillna(False) & m.date.dt.year.eq(ctx.year)]
    first_month = (m.date.dt.month - 1) // months * months + 1  # the period a meeting falls in
    m = m.assign(start=pd.to_datetime(pd.DataFrame({"year": m.date.dt.year, "month": first_month, "day": 1})))
    ended = grid.end.le(ctx.as_of)
    held = m[m.held][["branch_id", "start"]].drop_duplicates().assign(held=True)
    scheduled = m[["branch_id", "start"]].drop_duplicates().assign(scheduled=True)
    grid = grid.merge(held, on=["branch_id", "start"], how="left").merge(scheduled, on=["branch_id", "start"],
                                                                           how="left")
    late = grid[ended.to_numpy() & grid.held.isna().to_numpy()]
    late = late.assign(days=day_count(ctx.as_of - late.end))
    pending = grid[~ended.to_numpy() & grid.scheduled.isna().to_numpy()]
    pending = pending.assign(days=day_count(pending.end - ctx.as_of))
    return pd.concat([
        emit(late, fmt("{label}未召开" + what, late), due=late.end, days=late.days),
        emit(pending, fmt("{label}尚未召开" + what + "（距期末 {end} 还剩 {days} 天）", pending),
             severity="info", due=pending.end, days=pending.days),
    ], ignore_index=True)


@register("FREQ-HALF-YEAR", "FREQ", "每半年召开组织生活会", "error", REGULAR_ONLY, "003 一.2")
def half_year(ctx) -> pd.DataFrame:
    """A 组织生活会 in every completed half-year (or the profile's shorter period: 000 第五篇 allows quarterly)."""
    return _uncovered(ctx, ctx.branches, MeetingKind.regular.value, ctx.profile.regular_period_months,
                      MeetingKind.regular.label)


@register("FREQ-LEADERSHIP-YEAR", "FREQ", "每年召开民主生活会", "error", LEADERSHIP_ONLY, "003 民主 一.2")
def leadership_year(ctx) -> pd.DataFrame:
    """A 民主生活会 in every completed year, for branches that have a leadership group (有领导班子)."""
    b = ctx.branches
    return _uncovered(ctx, b[b.has_leadership_group], MeetingKind.leadership.value, 12, MeetingKind.leadership.label)
