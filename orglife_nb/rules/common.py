"""Helpers the rule functions share: vectorised Chinese messages, findings rows, deadlines (pending vs late)."""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import arrow_text
from ..models import MeetingKind
from .context import LEADERSHIP, day_count

FINDING_COLUMNS = ["branch_id", "meeting_id", "subject", "message", "severity", "due", "days"]
_FORMATTER = string.Formatter()
KIND_LABELS = {k.value: k.label for k in MeetingKind}
MISSING = "—"  # how a message shows a value that is not recorded
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what ``astype(str)`` gives


def text(series: pd.Series, spec: str = "") -> pd.Series:
    """Values as display text: dates ISO, numbers compact, missing as '—'."""
    return pd.Series(pd.array(_text(series, spec), dtype=_STR), index=series.index)


def _text(series: pd.Series, spec: str = "") -> pa.Array:
    """``text`` as an Arrow string array (no nulls). Each distinct value is formatted once, then taken by code:
    findings repeat few distinct dates, counts and names (formatting 150,000 values one by one cost ~0.1 s)."""
    arrow = arrow_text(series)
    if arrow is not None and not spec:  # bulk-read text: already the words, Arrow to Arrow
        arrow = arrow.combine_chunks() if arrow.num_chunks != 1 else arrow.chunk(0)
        return pc.fill_null(arrow.cast(pa.string()), MISSING)  # one string type: the joins take no mixed types
    if series.dtype == np.float64:  # distinct bit patterns: hashing the values would merge -0.0 and 0.0
        codes, bits = pd.factorize(series.to_numpy().view(np.int64))
        uniques = pd.Series(bits.view(np.float64))
    elif pd.api.types.is_float_dtype(series):
        return pa.array(_words(series, spec).to_numpy(), pa.string())
    else:
        codes, uniques = pd.factorize(series)
        uniques = pd.Series(uniques)
    words = pa.array(list(_words(uniques, spec)) + [MISSING], pa.string())
    return words.take(np.where(codes < 0, len(uniques), codes))


def _words(series: pd.Series, spec: str) -> pd.Series:
    """``text`` of a (small) series, value by value."""
    if pd.api.types.is_datetime64_any_dtype(series):
        iso = np.datetime_as_string(series.to_numpy(dtype="datetime64[D]"), unit="D")  # C speed, unlike strftime
        out = pd.Series(iso, index=series.index, dtype=object).where(series.notna())
    elif pd.api.types.is_float_dtype(series) and not spec:
        out = series.map(lambda v: f"{v:g}", na_action="ignore")  # 4.0 → "4", 3.5 → "3.5"
    elif spec:
        out = series.map(lambda v: format(v, spec), na_action="ignore")
    else:
        out = series.astype(object)
    return out.astype(object).where(out.notna(), MISSING).astype(str)


def _joined(template: str, fields) -> pa.Array | str:
    """``template`` over ``fields`` (a frame, or a dict of Arrow string arrays already worded), joined row by row
    in Arrow; a template without fields is its text."""
    pieces: list = []
    for literal, field, spec, _conv in _FORMATTER.parse(template):
        if literal:
            pieces.append(literal)
        if field is not None:
            value = fields[field]
            pieces.append(value if isinstance(value, pa.Array) else _text(value, spec or ""))
    if not any(isinstance(p, pa.Array) for p in pieces):
        return "".join(pieces)
    return pc.binary_join_element_wise(*pieces, "")


def _messages(*parts: pa.Array | str, index: pd.Index) -> pd.Series:
    """Message parts (Arrow string arrays of ``len(index)`` or constant text) joined → object Series of str."""
    if not any(isinstance(p, pa.Array) for p in parts):
        return pd.Series("".join(parts), index=index, dtype=object)
    joined = pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=index, dtype=object)


def fmt(template: str, frame: pd.DataFrame) -> pd.Series:
    """``str.format`` applied column-wise: ``fmt("{name} 未出席", rows)`` → one message per row (no row loop).

    Built in Arrow: one pass joins all pieces (repeated Series ``+`` copied every message once per piece)."""
    return _messages(_joined(template, frame), index=frame.index)


def emit(rows: pd.DataFrame, message: pd.Series | str, *, subject: str | None = None,
         severity: pd.Series | str | None = None, due: pd.Series | None = None,
         days: pd.Series | None = None) -> pd.DataFrame:
    """Findings rows from ``rows`` (which carry branch_id and, except cadence, meeting_id).

    ``severity`` None means the rule's default (filled by the engine); pass 'info' (or a Series) for pending.
    """
    def values(value, dtype=object):
        if value is None:
            return pd.Series(pd.NA, index=rows.index, dtype=dtype)
        if isinstance(value, pd.Series):
            return value.reindex(rows.index)
        return pd.Series(value, index=rows.index, dtype=dtype)

    return pd.DataFrame({
        "branch_id": rows.branch_id.astype(object),
        "meeting_id": rows.meeting_id.astype(object) if "meeting_id" in rows else values(None),
        "subject": rows[subject].astype(object) if subject else values(None),
        "message": values(message),
        "severity": values(severity),
        "due": values(due, "datetime64[ns]") if due is None else due.reindex(rows.index),
        "days": values(days, "Int64") if days is None else days.reindex(rows.index).astype("Int64"),
    })


def empty() -> pd.DataFrame:
    return emit(pd.DataFrame({"branch_id": [], "meeting_id": []}), "")


def concat(*parts: pd.DataFrame) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else empty()


# ---- time ---------------------------------------------------------------------------------------------------


def open_state(ctx, due: pd.Series, pending: pd.Series | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """For something not (yet) done and due on ``due``: (pending?, severity, days left / days late)."""
    if pending is None:
        pending = due.ge(ctx.as_of).fillna(False)
    # plain bool: an empty object-dtype mask would select columns, not rows
    pending = pending.astype(bool)
    days = day_count((due - ctx.as_of).where(pending, ctx.as_of - due))
    return pending, pd.Series(np.where(pending, "info", None), index=due.index, dtype=object), days


def missing(ctx, rows: pd.DataFrame, message: str, *, due: pd.Series | None = None,
            subject: str | None = None) -> pd.DataFrame:
    """Findings for ``rows`` that lack something due on ``due`` (default: the meeting date, i.e. before the meeting).

    Before the due date the finding is pending ('info', days left); after it, the rule's severity (days late).
    ``message`` is a template over the rows' columns; the due date and count are appended.
    """
    # due on the meeting day: pending only while the meeting is still ahead (a meeting held today is held)
    pending, severity, days = open_state(ctx, rows.date, ~rows.held) if due is None else open_state(ctx, due)
    due = rows.date if due is None else due
    own_deadline = due.ne(rows.date)  # a deadline other than the meeting day is worth stating when passed
    fields = {"due": _text(due), "days": _text(days)}
    tail = pc.if_else(pending.to_numpy(), _joined("（待办：应不晚于 {due}，还剩 {days} 天）", fields),
                      pc.if_else((~pending & own_deadline).to_numpy(),
                                 _joined("（应不晚于 {due}，已逾期 {days} 天）", fields), ""))
    return emit(rows, _messages(_joined(message, rows), tail, index=rows.index), subject=subject, severity=severity,
                due=due, days=days.where(pending | own_deadline))


def recorded_after(ctx, rows: pd.DataFrame, message: pd.Series | str, *, subject: str | None = None,
                   severity: pd.Series | str | None = None) -> pd.DataFrame:
    """Findings that rest on a record being *absent* (no minutes, no summary, no criticism or rating rows …).

    Records of a held meeting are entered after it (rules.md): until the meeting's report deadline (inclusive) the
    finding is pending ('info', days left to enter it); after it, the rule's severity (or ``severity``).
    ``rows`` carry ``report_due``; ``message`` is final text (or a Series of it).
    """
    pending, info, days = open_state(ctx, rows.report_due)
    if isinstance(message, pd.Series):
        message = message.reindex(rows.index)
        message = pa.array(message.to_numpy(dtype=object, na_value=None), pa.string(), from_pandas=True)
    tail = pc.if_else(pending.to_numpy(), _joined("（会后补录：应不晚于 {due}，还剩 {days} 天）",
                                                  {"due": _text(rows.report_due), "days": _text(days)}), "")
    if severity is None:
        severity = info
    else:
        base = severity if isinstance(severity, pd.Series) else pd.Series(severity, index=rows.index, dtype=object)
        severity = base.reindex(rows.index).where(~pending, "info")
    return emit(rows, _messages(message, tail, index=rows.index), subject=subject, severity=severity,
                due=rows.report_due, days=days.where(pending))


def unset_or_refused(ctx, rows: pd.DataFrame, flag: pd.Series, message: str, *, subject: str | None = None,
                     severity: pd.Series | str | None = None) -> pd.DataFrame:
    """Findings for ``rows`` whose yes/no ``flag`` is not 是: not recorded → pending until the report deadline
    (``recorded_after``); recorded 否 → at once. ``message`` is a template over the rows' columns."""
    unset = rows[flag.isna().to_numpy()]
    refused = rows[flag.eq(False).fillna(False).astype(bool).to_numpy()]
    if isinstance(severity, pd.Series):
        severity = severity.reindex(rows.index)
    return concat(recorded_after(ctx, unset, fmt(message, unset), subject=subject, severity=severity),
                  emit(refused, fmt(message, refused), subject=subject, severity=severity))


@dataclass(frozen=True)
class Step:
    """A dated step of a meeting with a deadline in days before (``before``) or after the meeting.

    The one description of these deadlines: the rules (PREP-NOTICE …) and ``status`` countdowns both read it.
    """

    rule: str
    column: str
    what: str  # names the date, e.g. '通知'
    verb: str  # names the act, e.g. '将会议日期和议题通知应到会人员'
    before: bool
    days: Callable[[Any, pd.Series], pd.Series]  # (profile, meeting kinds) → days (calendar months: ``months``)
    months: bool = False  # "一个月内": ``days`` gives calendar months (profile.months_after)

    @property
    def unit(self) -> str:
        return " 个月" if self.months else " 天"

    def due(self, profile, rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """(days or months, due date) for each meeting row."""
        days = pd.Series(self.days(profile, rows.kind.astype(object)), index=rows.index).astype(int)
        if self.months:
            from .profile import months_after

            due = rows.date.copy()
            for n in days.unique():  # one offset per distinct number (one profile: one or two)
                at = days.eq(n).to_numpy()
                due[at] = months_after(rows.date[at], int(-n if self.before else n))
            return days, due
        offset = pd.to_timedelta(days, unit="D")
        return days, (rows.date - offset if self.before else rows.date + offset)


def by_kind(leadership: str, other: str) -> Callable[[Any, pd.Series], pd.Series]:
    """Days from the profile: ``leadership`` for 民主生活会, ``other`` for the rest."""
    def days(profile, kinds: pd.Series) -> pd.Series:
        return pd.Series(np.where(kinds.eq(LEADERSHIP), getattr(profile, leadership), getattr(profile, other)),
                         index=kinds.index)
    return days


def dated_step(ctx, rows: pd.DataFrame, step: Step) -> pd.DataFrame:
    """Findings of ``step`` for meeting ``rows``: a date later than allowed → the rule's severity with days late;
    missing and overdue → severity; missing and not yet due → info with days left."""
    days, due = step.due(ctx.profile, rows)
    frame = rows.assign(_n=days, _actual=rows[step.column], _due=due)
    done = frame._actual.notna()
    late = frame[done & frame._actual.gt(due)]
    if step.before:
        late = late.assign(_gap=day_count(late.date - late._actual))
        message = fmt(step.what + "日期 {_actual} 距召开仅 {_gap} 天，应至少提前 {_n}" + step.unit + "（不晚于 {_due}）",
                      late)
    else:
        late = late.assign(_gap=day_count(late._actual - late.date))
        message = fmt(step.what + "日期 {_actual} 为会后第 {_gap} 天，应在会后 {_n}" + step.unit + "内（不晚于 {_due}）",
                      late)
    late_findings = emit(late, message, due=late._due, days=day_count(late._actual - late._due))
    absent = frame[~done]
    when = ("会前 {_n}" if step.before else "会后 {_n}") + step.unit + ("" if step.before else "内")
    return concat(late_findings, missing(ctx, absent, f"{when}应{step.verb}，尚无{step.what}日期", due=absent._due))


def kind_label(rows: pd.DataFrame) -> pd.Series:
    return rows.kind.astype(object).map(KIND_LABELS)
