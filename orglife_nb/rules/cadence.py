"""Cadence rules (频次), per branch over the analysed period: from the branch's first recorded meeting (or the
check's ``since``) to as_of, every half-year / year in it (``year`` narrows to one calendar year). A branch with no
meeting at all is looked at from the start of as_of's year.

A meeting counts for the period ``periods.attributed`` gives it (its recorded 年度/半年 within the grace days, else
its date; rules.md rev 3). A period that ended on or before as_of with no meeting counted for it is reported (a
warning: "一般"/"原则上"; a check in January still reports last year's gaps), unless a meeting recorded for it is
planned inside the grace (pending, info); the period in progress without any meeting (not even one scheduled) is
pending (info, days left); later periods are not looked at.
"""
from __future__ import annotations

import pandas as pd

from ..models import MeetingKind
from .common import emit, fmt
from .context import day_count
from .registry import BRANCH_MEETINGS, LEADERSHIP_ONLY, REGULAR_ONLY, register

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


def _analysed_from(ctx, branches: pd.DataFrame, counted: pd.DataFrame) -> pd.Series:
    """Per branch, the first day looked at: ``year``'s 1 January, else ``since``, else the first recorded meeting
    (any kind) or the start of the period the rule's first ``counted`` meeting counts for, whichever is earlier,
    else 1 January of as_of's year."""
    if ctx.year is not None or not len(branches):
        return pd.Series(pd.Timestamp(ctx.year or ctx.as_of.year, 1, 1), index=branches.index, dtype="datetime64[ns]")
    if ctx.since is not None:
        return pd.Series(ctx.since, index=branches.index)
    every_kind = getattr(ctx, "ctx", ctx).meetings  # a rule's Scope sees only its own kinds
    first = pd.concat([every_kind[["branch_id", "date"]], counted[["branch_id", "start"]].rename(
        columns={"start": "date"})]).groupby("branch_id", observed=True).date.min()
    start = pd.Series(first.reindex(branches.branch_id.astype(object)).to_numpy(), index=branches.index)
    return pd.to_datetime(start).fillna(pd.Timestamp(ctx.as_of.year, 1, 1))


def _counted(ctx, kinds: tuple[str, ...], months: int) -> pd.DataFrame:
    """Meetings of ``kinds`` with the start of the period they count for: their attributed half-year or year
    (``periods.attributed``) when periods are half-years or years, else the period of their date."""
    m = getattr(ctx, "ctx", ctx).meetings
    m = m[m.kind.isin(kinds).to_numpy()]
    if months == 12:
        start = pd.to_datetime(pd.DataFrame({"year": m.counts_year.astype("int64"), "month": 1, "day": 1}))
    elif months == 6:
        start = pd.to_datetime(pd.DataFrame({"year": m.counts_year.astype("int64"),
                                             "month": m.counts_half.eq("first").map({True: 1, False: 7}), "day": 1}))
    else:
        first_month = (m.date.dt.month - 1) // months * months + 1  # the period a meeting falls in
        start = pd.to_datetime(pd.DataFrame({"year": m.date.dt.year, "month": first_month, "day": 1}))
    return m.assign(start=start)


def _uncovered(ctx, branches: pd.DataFrame, kinds: tuple[str, ...], months: int, grace: int,
               what: str) -> pd.DataFrame:
    """Findings for (branch, period) without a meeting of ``kinds`` counted for it: ended → the rule's severity,
    or pending while a meeting recorded for it is planned inside the ``grace`` days; in progress → info."""
    m = _counted(ctx, kinds, months)
    branches = branches[["branch_id"]].assign(_from=_analysed_from(ctx, branches, m).to_numpy())
    last_year = ctx.year if ctx.year is not None else ctx.as_of.year
    first_year = int(branches._from.min().year) if len(branches) else last_year
    periods = _periods(range(min(first_year, last_year), last_year + 1), months)
    periods = periods[periods.start.le(ctx.as_of)]
    grid = branches.merge(periods, how="cross")
    grid = grid[grid.end.ge(grid._from)].drop(columns="_from")  # periods from the one holding the first day
    ended = grid.end.le(ctx.as_of)
    held = m[m.held][["branch_id", "start"]].drop_duplicates().assign(held=True)
    planned = m[~m.held].groupby(["branch_id", "start"], observed=True).date.min().rename("planned").reset_index()
    grid = grid.merge(held, on=["branch_id", "start"], how="left").merge(planned, on=["branch_id", "start"],
                                                                           how="left")
    unheld = grid.held.isna().to_numpy()
    late = grid[ended.to_numpy() & unheld & grid.planned.isna().to_numpy()]
    late = late.assign(days=day_count(ctx.as_of - late.end))
    waiting = grid[ended.to_numpy() & unheld & grid.planned.notna().to_numpy()]
    waiting = waiting.assign(due=waiting.end + pd.Timedelta(days=grace))
    waiting = waiting.assign(days=day_count(waiting.due - ctx.as_of))
    pending = grid[~ended.to_numpy() & unheld & grid.planned.isna().to_numpy()]
    pending = pending.assign(days=day_count(pending.end - ctx.as_of))
    return pd.concat([
        emit(late, fmt("{label}未召开" + what, late), due=late.end, days=late.days),
        emit(waiting, fmt("{label}的" + what + "计划于 {planned} 召开（期末后 " + str(grace) + " 天内召开仍计入该期，"
                          "应不晚于 {due}，还剩 {days} 天）", waiting), severity="info", due=waiting.due,
             days=waiting.days),
        emit(pending, fmt("{label}尚未召开" + what + "（距期末 {end} 还剩 {days} 天）", pending),
             severity="info", due=pending.end, days=pending.days),
    ], ignore_index=True)


@register("FREQ-HALF-YEAR", "FREQ", "每半年召开组织生活会", "warning", REGULAR_ONLY, "003 一.2")
def half_year(ctx) -> pd.DataFrame:
    """A 组织生活会 (or 专题组织生活会) counted for every completed half-year (or the profile's shorter period: 000
    第五篇 allows quarterly); "一般每年年中、年底各召开1次": a warning."""
    return _uncovered(ctx, ctx.branches, BRANCH_MEETINGS, ctx.profile.regular_period_months,
                      ctx.profile.period_grace_days, MeetingKind.regular.label)


@register("FREQ-LEADERSHIP-YEAR", "FREQ", "每年召开民主生活会", "warning", LEADERSHIP_ONLY, "003 民主 一.2")
def leadership_year(ctx) -> pd.DataFrame:
    """A 民主生活会 counted for every completed year, for branches that have a leadership group (有领导班子);
    "原则上每年召开一次": a warning."""
    b = ctx.branches
    return _uncovered(ctx, b[b.has_leadership_group], LEADERSHIP_ONLY, 12, ctx.profile.leadership_grace_days,
                      MeetingKind.leadership.label)
