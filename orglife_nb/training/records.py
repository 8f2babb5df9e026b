"""The practice case's records as readable Chinese tables: model headers, enum labels, 是/否, names for ids.

Everything shown comes from ``models`` (headers, labels), so the tables read like the exchange workbook.
"""
from __future__ import annotations

import pandas as pd

from ..frames import Frames
from ..models import RECORDS, Branch, Meeting, Record, fields_of
from ..present.values import missing
from ..present.words import YES_NO
from ..present.html import Html, esc, table

# ids are shown as names; the meeting id as its date and kind (one column says which meeting a row belongs to)
_HIDDEN = {"branch_id"}


def _cell(spec, names: dict[str, str]):
    def show(value) -> str:
        if missing(value):
            return ""
        if spec.kind == "enum":
            return spec.enum(value).label
        if spec.kind == "bool":
            return YES_NO[bool(value)]
        if spec.kind == "date":
            return f"{pd.Timestamp(value):%Y-%m-%d}"
        if spec.kind == "number":
            return f"{value:g}"
        if spec.ref == "members":
            return names.get(value, str(value))
        return str(value)

    return show


def readable(record: type[Record], frame: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """``frame`` (typed rows of ``record``) with Chinese headers and display text in every cell."""
    from .practice import meeting_label

    names = dict(zip(frames.members.member_id, frames.members["name"]))
    out = {}
    for spec in fields_of(record):
        if spec.name in _HIDDEN and record is not Branch:
            continue
        column = frame[spec.name]
        if spec.name == "meeting_id" and record is not Meeting:
            out["会议"] = column.map(lambda m: meeting_label(frames, m))
        else:
            # a member reference shows the name, so '党员编号' becomes '党员'
            header = spec.header.removesuffix("编号") if spec.ref == "members" else spec.header
            out[header] = column.map(_cell(spec, names)).astype(object)
    return pd.DataFrame(out, index=frame.index)


def record_tables(frames: Frames) -> dict[str, pd.DataFrame]:
    """One readable table per record kind that has rows, keyed by the record's Chinese label, in workbook order.

    Meetings are transposed (one column per meeting): thirty fields read better down than across.
    """
    tables = {}
    for record in RECORDS:
        frame = frames[record]
        if frame.empty:
            continue
        shown = readable(record, frame, frames)
        if record is Meeting:
            from .practice import meeting_label

            shown = shown.set_axis([meeting_label(frames, m) for m in frame.meeting_id]).T
            shown.index.name = "项目"
        tables[record.label] = shown
    return tables


def record_tables_html(frames: Frames) -> Html:
    """All record tables, each under its heading (for papermill output and printing)."""
    parts = []
    for label, shown in record_tables(frames).items():
        parts.append(f"<h3>{esc(label)}</h3>" + table(shown, index=shown.index.name is not None))
    return Html('<div class="practice-records">' + "".join(parts) + "</div>")
