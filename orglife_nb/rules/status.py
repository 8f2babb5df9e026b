"""What is still open, and by when: per-meeting countdowns and the rectification ledger in buckets.

``status(frames, as_of, profile)`` is shared by ``orglife status``, the reports and the forms; it returns frames.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models import Presence, RectStatus
from .common import KIND_LABELS
from .context import Context, day_count
from .engine import make_context
from .rectification import items
from .steps import STEPS

BUCKETS = ("已销号", "超期", "10 天内到期", "20 天内到期", "20 天后或未定时限")  # as readers see them, everywhere
STEP_COLUMNS = ["branch_id", "branch_name", "meeting_id", "kind", "kind_label", "meeting_date", "step", "rule", "due",
                "days_left", "overdue"]


@dataclass
class Status:
    """``steps``: one row per open step of a meeting (not done yet; days_left < 0 = overdue);
    ``ledger``: every rectification item with its ``bucket``; ``buckets``: items per branch × bucket."""

    as_of: pd.Timestamp
    steps: pd.DataFrame
    ledger: pd.DataFrame
    buckets: pd.DataFrame


def open_steps(ctx: Context) -> pd.DataFrame:
    """Dated steps still to do: before-meeting steps of meetings not yet held; after-meeting steps of held ones
    (publishing the list only where there are items); telling absentees (due with the report)."""
    m = ctx.meetings
    parts = []
    for step in STEPS.values():
        rule_kinds = _rule_kinds(step.rule)
        rows = m[m.kind.isin(rule_kinds) & m[step.column].isna() & (m.held != step.before)]
        if step.rule == "RECT-PUBLIC":
            rows = rows[rows.meeting_id.isin(ctx.frames.rectifications.meeting_id)]
        _, due = step.due(ctx.profile, rows)
        parts.append(rows.assign(step=f"{step.what}（{step.verb}）", rule=step.rule, due=due))
    r = ctx.only(ctx.roster, m[m.held])
    away = r[r.presence.isin([Presence.leave.value, Presence.absent.value]) & r.informed_date.isna()]
    away = away.merge(m[["meeting_id", "branch_name", "report_due"]], on="meeting_id")
    parts.append(away.assign(step="会后转告缺席人 " + away["name"].astype(str), rule="POST-ABSENTEE-INFORMED",
                             due=away.report_due))
    steps = pd.concat([p[["branch_id", "branch_name", "meeting_id", "kind", "date", "step", "rule", "due"]]
                       for p in parts], ignore_index=True)
    steps = steps.rename(columns={"date": "meeting_date"})
    steps["kind_label"] = steps.kind.astype(object).map(KIND_LABELS)
    steps["days_left"] = day_count(steps.due - ctx.as_of)
    steps["overdue"] = steps.days_left.lt(0)
    return steps.sort_values(["branch_id", "meeting_date", "meeting_id", "due"], kind="mergesort")[
        STEP_COLUMNS].reset_index(drop=True)


def _rule_kinds(rule_id: str) -> tuple[str, ...]:
    from .registry import get_rule

    return get_rule(rule_id).applies_to


def ledger(ctx: Context) -> pd.DataFrame:
    """Every rectification item with ``bucket``: 已销号 (已完成/已销号), 超期, due within 10 / 20 days, later or
    without a deadline."""
    r = items(ctx, ctx.meetings)
    r = r.merge(ctx.meetings[["meeting_id", "branch_name", "kind"]], on="meeting_id")
    days_left = day_count(r.deadline - ctx.as_of)
    bucket = np.select([r.finished, days_left.lt(0).fillna(False), days_left.le(10).fillna(False),
                        days_left.le(20).fillna(False)], BUCKETS[:4], BUCKETS[4])
    r = r.assign(days_left=days_left, bucket=pd.Categorical(bucket, categories=BUCKETS, ordered=True),
                 owner_name=ctx.name_of(r.owner.astype(object)),
                 status_label=r.status.astype(object).map({s.value: s.label for s in RectStatus}))
    r = r.rename(columns={"date": "meeting_date"})
    columns = ["branch_id", "branch_name", "meeting_id", "meeting_date", "item_id", "problem", "category", "goal",
               "measures", "owner", "owner_name", "deadline", "status", "status_label", "done_date", "finished",
               "days_left", "bucket"]
    return r.sort_values(["bucket", "deadline", "branch_id", "item_id"], kind="mergesort")[columns].reset_index(
        drop=True)


def status(frames, as_of: dt.date | None = None, profile=None) -> Status:
    """Open steps per meeting and the rectification ledger at ``as_of`` (default today)."""
    ctx = make_context(frames, profile, as_of)
    book = ledger(ctx)
    buckets = (book.groupby(["branch_id", "bucket"], observed=False).size().unstack("bucket", fill_value=0)
               if len(book) else pd.DataFrame(columns=list(BUCKETS)))
    return Status(ctx.as_of, open_steps(ctx), book, buckets.reindex(columns=list(BUCKETS), fill_value=0))
