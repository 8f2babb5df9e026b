"""Findings and status as text: terminal table, JSON array, CSV with BOM (Excel shows the Chinese), an xlsx sheet.

Outputs built from the findings (floor 5): the rules decide, this writes what they decided for people."""
from __future__ import annotations

import json

import pandas as pd

from ..outputs import csv_text
from ..rules.common import KIND_LABELS
from ..rules.engine import counts
from ..rules.facts import planned_mark
from ..rules.registry import CATALOGUE_HEADERS, SEVERITY_LABELS, catalogue_rows

DATE_COLUMNS = ("meeting_date", "due")
JSON_COLUMNS = ["rule", "severity", "branch_id", "branch_name", "meeting_id", "kind", "meeting_date", "subject",
                "subject_name", "message", "due", "days", "source", "title"]


def _plain(findings: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, missing as None: what JSON and CSV show."""
    import numpy as np

    out = findings[[c for c in JSON_COLUMNS if c not in DATE_COLUMNS]].astype(object)
    for column in DATE_COLUMNS:  # numpy's ISO days: strftime (or Timestamp objects) go one by one
        days = findings[column].to_numpy(dtype="datetime64[D]")
        out[column] = pd.Series(np.datetime_as_string(days, unit="D"), index=findings.index, dtype=object)
    out = out[JSON_COLUMNS]
    out["days"] = findings.days.astype(object)
    return out.where(findings[JSON_COLUMNS].notna(), None)


def to_json(findings: pd.DataFrame) -> str:
    """One JSON array of finding objects (dates ISO, null where absent)."""
    if findings.empty:
        return "[]"
    # the text json.dumps(records, indent=1) gives, written record by record: with an indent the json module falls
    # back to its pure-Python encoder (20 s for a 10,000-branch check); each value still goes through the C one
    value = json.JSONEncoder(ensure_ascii=False, default=int).encode
    out = _plain(findings)
    keys = [f"  {value(c)}: " for c in out.columns]
    columns = [out[c].to_numpy(dtype=object) for c in out.columns]
    records = (" {\n" + ",\n".join(key + value(v) for key, v in zip(keys, row)) + "\n }" for row in zip(*columns))
    return "[\n" + ",\n".join(records) + "\n]"


# Findings for people (CSV, xlsx): Chinese headers, labels for codes, sources naming their documents. JSON is the
# machine format and keeps the codes.
READABLE = {"branch_id": "支部编号", "branch_name": "支部名称", "meeting_id": "会议编号", "kind": "会议类型",
            "meeting_date": "会议日期", "severity": "级别", "title": "规则", "subject_name": "对象", "message": "问题",
            "due": "应完成日期", "days": "逾期天数", "source": "依据", "rule": "规则编号"}


def readable(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per finding with ``READABLE``'s Chinese headers, in that order."""
    from ..sources import cite

    out = _plain(findings)
    out["severity"] = findings.severity.map(SEVERITY_LABELS).astype(object)
    out["kind"] = findings.kind.map(KIND_LABELS).astype(object)
    out["source"] = findings.source.map({s: cite(s) for s in findings.source.dropna().unique()}).astype(object)
    out["subject_name"] = out.subject_name.where(out.subject_name.notna(), out.subject)
    return out[list(READABLE)].rename(columns=READABLE)


def to_csv(findings: pd.DataFrame) -> str:
    """CSV text starting with a UTF-8 BOM, safe to open in Excel/WPS (``outputs.csv_text``)."""
    return csv_text(readable(findings))


def to_xlsx(findings: pd.DataFrame) -> bytes:
    """The readable findings as one worksheet (header row frozen, filters, print setup), text written as text."""
    from ..workbook.sheets import write_frame

    return write_frame(readable(findings), "检查结果")


def summary_line(findings: pd.DataFrame) -> str:
    found = counts(findings)
    parts = "，".join(f"{SEVERITY_LABELS[s]}（{s}）{n} 条" for s, n in found.items())
    return f"共 {len(findings)} 条：{parts}"


# beyond this many findings the table is not laid out to the terminal's width (rich costs ~1 ms a meeting)
WRAP_LIMIT = 2000


def to_table(findings: pd.DataFrame, as_of=None, wrap: bool | None = None) -> str:
    """Readable in a terminal: grouped by branch and meeting (names, kind, date), counts per severity at the end.

    ``wrap``: messages wrap to the terminal's width (rich); default when at most ``WRAP_LIMIT`` findings. Otherwise
    (files, long runs) each finding is one line, the columns still aligned."""
    lines = []
    if as_of is not None:
        lines.append(f"检查日期：{pd.Timestamp(as_of):%Y-%m-%d}")
    if findings.empty:
        lines.append("未发现问题。")
    from ..textable import display_width, plain, render, terminal_width

    width = terminal_width()
    wrap = len(findings) <= WRAP_LIMIT if wrap is None else wrap
    # the same column widths in every meeting's table, so the findings line up down the page
    names = findings.subject_name.where(findings.subject_name.notna(), findings.subject).dropna().astype(str).unique()
    widths = (4, max(map(display_width, findings.rule.unique()), default=0),
              min(12, max(map(display_width, names), default=0)))
    # the 对象 column only when some finding has a subject (one decision for all tables, so they line up)
    headers = ["级别", "规则", "对象", "问题"] if len(names) else ["级别", "规则", "问题"]
    if not len(names):
        widths = widths[:2]
    branch_key = meeting_key = None
    group: list[tuple] = []

    def flush() -> None:  # a meeting's findings as a table that wraps its messages to the terminal's width
        if group:
            if wrap:
                lines.append(render(headers, group, nowrap=(0, 1), width=width, indent=4, header=False,
                                    min_widths=widths, drop_empty=False))
            else:
                lines.append(plain(headers, group, indent=4, header=False, min_widths=widths))
            group.clear()

    # plain Python values, dates as text, read once: iterating Arrow-backed columns and Timestamps row by row cost
    # more than the layout on a 10,000-branch check
    dates = findings.meeting_date.dt.strftime("%Y-%m-%d").astype(object).where(findings.meeting_date.notna(), "")
    columns = [findings[c].to_numpy(dtype=object) for c in ("branch_id", "branch_name", "meeting_id", "kind")]
    columns += [dates.to_numpy(dtype=object)]
    columns += [findings[c].to_numpy(dtype=object) for c in ("subject", "subject_name", "severity", "rule", "message")]
    for branch_id, branch_name, meeting_id, kind, date, subject, subject_name, severity, rule, message in zip(
            *columns):  # grouped by branch, then meeting
        if branch_id != branch_key:
            flush()
            branch_key, meeting_key = branch_id, object()
            lines += ["", f"支部 {branch_id} {branch_name or ''}".rstrip()]
        if meeting_id != meeting_key:
            flush()
            meeting_key = meeting_id
            if meeting_id is None:
                lines.append("  频次（全年）")
            else:
                lines.append(f"  会议 {meeting_id} {KIND_LABELS.get(kind, '')} {date}".rstrip())
        who = (subject_name or subject) if subject else ""
        group.append((SEVERITY_LABELS[severity], rule, who, message) if len(names)
                     else (SEVERITY_LABELS[severity], rule, message))
    flush()
    lines += ["", summary_line(findings)]
    return "\n".join(lines)


def status_text(result, reviews: pd.DataFrame | None = None) -> str:
    """``orglife status``: open steps per meeting with days left, the ledger by bucket, then (``reviews``: one row per
    meeting from ``store.review.per_meeting``) where each meeting stands in the review chain."""
    from ..textable import fit
    from ..rules.status import BUCKETS

    lines = [f"截至 {result.as_of:%Y-%m-%d}", "", "一、各会议未完成事项"]
    steps = result.steps
    if steps.empty:
        lines.append("  没有未完成的事项。")
    meeting_key = None
    for row in steps.itertuples(index=False):
        if row.meeting_id != meeting_key:
            meeting_key = row.meeting_id
            lines.append(f"  {row.branch_id} {row.branch_name} · {row.meeting_id} {row.kind_label} "
                         f"{row.meeting_date:%Y-%m-%d}{planned_mark(row.meeting_date, result.as_of)}")
        left = f"还剩 {row.days_left} 天" if row.days_left >= 0 else f"已超期 {-row.days_left} 天"
        lines.append(f"    {row.step}：应不晚于 {row.due:%Y-%m-%d}，{left}")
    lines += ["", "二、整改台账"]
    book = result.ledger
    totals = book.bucket.value_counts().reindex(list(BUCKETS), fill_value=0)
    lines.append("  " + "，".join(f"{bucket} {int(n)} 项" for bucket, n in totals.items()))
    for bucket in BUCKETS[1:4]:
        part = book[book.bucket.eq(bucket)]
        if part.empty:
            continue
        lines.append(f"  【{bucket}】")
        for row in part.itertuples(index=False):
            when = "时限未填" if pd.isna(row.deadline) else f"时限 {row.deadline:%Y-%m-%d}"
            left = "" if pd.isna(row.days_left) else (
                f"，还剩 {row.days_left} 天" if row.days_left >= 0 else f"，已超期 {-row.days_left} 天")
            lines.append(f"    {row.item_id} {row.problem}（{row.branch_name}，责任人 {row.owner_name}，{when}{left}）")
    if reviews is not None:
        lines += ["", *review_lines(reviews)]
    return fit(lines)


def review_lines(reviews: pd.DataFrame) -> list[str]:
    """The review chain in words: counts per state, then what waits for review and what was sent back."""
    from ..store.review import STATES, counts

    lines = ["三、审核状态", "  " + "，".join(f"{STATES[s]} {n} 个" for s, n in counts(reviews).items())]
    waiting = reviews[reviews.state.eq("submitted")].sort_values("submitted_at")
    for row in waiting.itertuples(index=False):
        note = f"；提交说明：{row.explanation}" if isinstance(row.explanation, str) else ""
        lines.append(f"  待审核 {row.meeting_id}（{row.updated_by} 于 {str(row.submitted_at)[:16]} 提交{note}）")
    for row in reviews[reviews.state.eq("returned")].itertuples(index=False):
        lines.append(f"  退回 {row.meeting_id}（{row.updated_by}：{row.reason}）")
    return lines


def rules_text(table: pd.DataFrame, fmt: str = "table") -> str:
    """The rule catalogue (``rule_table()``) as a terminal table, a JSON array or CSV with BOM."""
    if fmt == "json":
        return json.dumps(table.to_dict(orient="records"), ensure_ascii=False, indent=1)
    if fmt == "csv":
        return csv_text(table)
    from ..textable import render

    return render(list(CATALOGUE_HEADERS), catalogue_rows(table), nowrap=(0,))
