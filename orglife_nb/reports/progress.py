"""Where each meeting stands against its timeline: the deadline of every step beside the date it was done.

The mapping below says which recorded date evidences which timeline step (deadlines.STEPS keys); reports,
``orglife status`` and the forms' countdowns read the same table.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..frames import Frames
from ..rules.facts import PLANNED, is_held

# step key → (table, date column, row filter) giving the evidence date; the latest matching row counts
MEETING_DATES = {
    "plan": "plan_sent",
    "public_notice": "public_notice_date",
    "notice": "notice_date",
    "superior_notice": "superior_notice_date",
    "meeting": "date",
    "report": "report_sent",
    "rectification_public": "rectification_published",
    "public_report": "public_report_date",
}
CHILD_DATES = {
    "study": ("studies", "date"),
    "opinions": ("opinions", "date"),
    "talks": ("talks", "date"),
    "materials": ("materials", "submitted"),
    "opinion_feedback": ("opinions", "feedback_date"),
    "materials_review": ("materials", "reviewed"),
    "absentee_inform": ("attendance", "informed_date"),
}
STATE_LABELS = {"on_time": "按时", "late": "逾期", "missing": "未完成（已过期）", "pending": "待办", "done": "已完成",
                "planned": PLANNED}


def evidence_dates(frames: Frames) -> pd.DataFrame:
    """meeting_id × step key → the latest date recorded for that step (NaT when nothing recorded)."""
    meetings = frames.meetings.set_index("meeting_id")
    out = pd.DataFrame({key: meetings[column] for key, column in MEETING_DATES.items()}, index=meetings.index)
    for key, (table, column) in CHILD_DATES.items():
        rows = frames[table]
        if key == "absentee_inform":
            rows = rows[rows["presence"].ne("present").fillna(True)]
        out[key] = rows.groupby("meeting_id")[column].max().reindex(out.index)
    return out


def meeting_progress(frames: Frames, as_of: dt.date, profile=None, meeting_ids: list[str] | None = None,
                     holidays=None) -> pd.DataFrame:
    """One row per (meeting, timeline step): due date, the recorded date, state and days late / left."""
    from ..deadlines import timeline

    evidence = evidence_dates(frames)
    as_of = pd.Timestamp(as_of)
    meetings = frames.meetings
    if meeting_ids is not None:
        meetings = meetings[meetings.meeting_id.isin(meeting_ids)]
    meetings = meetings.loc[meetings.kind.notna(), ["meeting_id", "kind", "date"]]
    # one timeline per (kind, day): branches told by one notice meet on the same days (a calendar each time)
    slots = meetings[["kind", "date"]].drop_duplicates()
    parts = []
    for kind, day in zip(slots.kind, slots.date):
        steps = timeline(kind, day.date(), profile, holidays)
        steps.insert(0, "kind", kind)
        steps.insert(1, "date", day)
        parts.append(steps)
    if not parts:
        return pd.DataFrame(columns=["meeting_id", "key", "step", "stage", "due", "actual", "state", "days",
                                     "rule", "source", "basis"])
    frame = meetings.merge(pd.concat(parts, ignore_index=True), on=["kind", "date"]).drop(columns=["kind", "date"])
    frame["due"] = pd.to_datetime(frame["due"])
    stacked = evidence.stack(future_stack=True).rename("actual").reset_index()
    stacked.columns = ["meeting_id", "key", "actual"]
    frame = frame.merge(stacked, on=["meeting_id", "key"], how="left")
    after = frame["offset"] > 0
    done = frame["actual"].notna()
    late_days = (frame["actual"] - frame["due"]).dt.days
    frame["state"] = "pending"
    frame.loc[done & (late_days <= 0), "state"] = "on_time"
    frame.loc[done & (late_days > 0), "state"] = "late"
    frame.loc[~done & (frame["due"] < as_of), "state"] = "missing"
    # before-meeting steps evidenced by rows dated any time before the meeting still count as on time
    frame.loc[done & ~after & (frame["key"] != "meeting") & (late_days > 0) & (frame["basis"] != "规定"),
              "state"] = "done"
    frame["days"] = late_days.where(done, (as_of - frame["due"]).dt.days).astype("Int64")
    # the meeting's own date is not evidence that it took place until it has come
    planned = frame["key"].eq("meeting") & done & ~is_held(frame["actual"], as_of)
    frame.loc[planned, ["state", "actual", "days"]] = ["planned", pd.NaT, pd.NA]
    return frame[["meeting_id", "key", "step", "stage", "due", "actual", "state", "days", "rule", "source",
                  "basis"]]
