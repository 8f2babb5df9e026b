"""Cadence rules (频次), per branch over the analysed period: from the branch's first recorded meeting (or the
check's ``since``) to as_of, every half-year / year in it (``year`` narrows to one calendar year). A branch with no
meeting at all is looked at from the start of as_of's year.

A period that ended on or before as_of without a meeting is a violation (a check in January still reports last
year's gaps); the period in progress without any meeting (not even one scheduled) is pending (info, days left);
later periods are not looked at.
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


def _periods(years: range, months: int) -> pd.DataFrame:
    """The periods of ``months`` months of each year: start, end (last day), label."""
    rows = [(pd.Timestamp(year, s, 1), pd.Timestamp(year, s, 1) + pd.DateOffset(months=months) - pd.Timedelta(days=1),
             _period_label(year, s, months)) for year in years for s in range(1, 13, months)]
    return pd.DataFrame(rows, columns=["start", "end", "label"])


def _analysed_from(ctx, branches: pd.DataFrame) -> pd.Series:
    """Per branch, the first day looked at: ``year``'s 1 January, else ``since``, else the first recorded meeting
    (any kind), else 1 January of as_of's year."""
    if ctx.year is not None or not len(branches):
        return pd.Series(pd.Timestamp(ctx.year or ctx.as_of.year, 1, 1), index=branches.index, dtype="datetime64[ns]")
    if ctx.since is not None:
        return pd.Series(ctx.since, index=branches.index)
    every_kind = getattr(ctx, "ctx", ctx).meetings  # a rule's Scope sees only its own kinds
    first = every_kind.groupby("branch_id", observed=True).date.min()
    start = pd.Series(first.reindex(branches.branch_id.astype(object)).to_numpy(), index=branches.index)
    return pd.to_datetime(start).fillna(pd.Timestamp(ctx.as_of.year, 1, 1))


def _uncovered(ctx, branches: pd.DataFrame, kind: str, months: int, what: str) -> pd.DataFrame:
    """Findings for (branch, period) without a meeting of ``kind``: ended → violation, in progress → info."""
    branches = branches[["branch_id"]].assign(_from=_analysed_from(ctx, branches).to_numpy())
    last_year = ctx.year if ctx.year is not None else ctx.as_of.year
    first_year = int(branches._from.min().year) if len(branches) else last_year
    periods = _periods(range(min(first_year, last_year), last_year + 1), months)
    periods = periods[periods.start.le(ctx.as_of)]
    grid = branches.merge(periods, how="cross")
    grid = grid[grid.end.ge(grid._from)].drop(columns="_from")  # periods from the one holding the first day
    m = ctx.meetings
    m = m[m.kind.eq(kind).fillna(False)]
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
