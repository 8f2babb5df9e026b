"""``run_checks``: every registered rule over the frames → one findings frame, in a stable order."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from . import fork
from .common import FINDING_COLUMNS
from .context import LEADERSHIP, Context
from .profile import load_profile
from .registry import CASES, RULES, SEVERITIES, Rule, get_rule

COLUMNS = ["rule", "severity", "branch_id", "branch_name", "meeting_id", "kind", "meeting_date", "subject",
           "subject_name", "message", "due", "days", "source", "family", "title"]


# Free texts no rule reads (the longest columns of the store): a whole-store check leaves them unread.
# tests/test_rules.py runs every rule with and without them; the CLI reads the store without them.
UNREAD_BY_RULES = ("criticisms.content", "opinions.content", "talks.summary", "studies.content")


def select_rules(rules: Iterable[str | Rule] | None = None) -> list[Rule]:
    """Rules by id (or Rule), in catalogue order; None → all."""
    if rules is None:
        return list(RULES)
    wanted = {r.id if isinstance(r, Rule) else get_rule(r).id for r in rules}
    return [r for r in RULES if r.id in wanted]


def make_context(frames, profile=None, as_of: dt.date | None = None, year: int | None = None,
                 since: dt.date | None = None) -> Context:
    return Context(frames, load_profile(profile), as_of or dt.date.today(), year, since)


def run_checks(frames, profile=None, as_of: dt.date | None = None, rules: Iterable[str | Rule] | None = None,
               year: int | None = None, context: Context | None = None,
               since: dt.date | None = None, workers: int | None = None) -> pd.DataFrame:
    """Run the rules over ``frames`` (a ``Frames``) and return the findings.

    ``profile``: a Profile, a bundled name or a YAML path (None → default). ``as_of``: the day of the check (None →
    today); ``year``: narrows the cadence rules to one year; ``since``: where their analysed period starts (None →
    each branch's first meeting). ``workers``: processes sharing the rules (``rules.fork``; None → two on a large
    input where that is safe, one otherwise); the findings are the same either way. Columns: see ``COLUMNS``;
    sorted by branch, meeting (date, id; cadence last), rule catalogue order, subject; stable within that.
    """
    ctx = context or make_context(frames, profile, as_of, year, since)
    chosen = select_rules(rules)
    units = fork.families(chosen)
    if fork.workers_for(ctx.frames.rows, len(units), workers) > 1:
        ctx.warm()  # before the fork: computed once, shared by both processes
        found = fork.run_shared(units, lambda unit: _run(ctx, unit))
    else:
        found = _run(ctx, chosen)
    return finish(ctx, [found[rule.id] for rule in chosen if rule.id in found])


def _run(ctx: Context, rules: list[Rule]) -> dict[str, pd.DataFrame]:
    """Each rule's findings (rules that found nothing left out)."""
    found = {}
    for rule in rules:
        out = check_one(ctx, rule)
        if out is not None:
            found[rule.id] = out
    return found


def check_one(ctx: Context, rule: Rule) -> pd.DataFrame | None:
    """One rule's findings as ``finish`` takes them (None: nothing found)."""
    out = rule.check(ctx.bind(rule))
    return out[FINDING_COLUMNS].assign(rule=rule.id) if len(out) else None


def finish(ctx: Context, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Fill rule facts (severity default, source, family, title) and names; sort.

    Worked on integer codes: each distinct rule, branch, meeting and subject is looked up (and ranked for the sort)
    once, then taken by code (merging and sorting 270,000 findings by their strings took ~1.5 s)."""
    if not parts:
        return _empty()
    f = pd.concat(parts, ignore_index=True)
    rule = _Keys(f.rule)
    branch = _Keys(f.branch_id)
    meeting = _Keys(f.meeting_id)
    subject = _Keys(f.subject)
    # per distinct meeting: its row in ctx.meetings (-1: unknown to the context)
    at = _rows(meeting.values, ctx.meetings.meeting_id)
    dates = _at(ctx.meetings.date.to_numpy(dtype="datetime64[ns]"), at, np.datetime64("NaT", "ns"))
    order = _rows(rule.values, pd.Series([r.id for r in RULES]))
    order[order < 0] = len(RULES)  # not a registered rule: after the others, without facts
    order = _at(order, rule.codes, len(RULES))  # rule codes from here on: positions in RULES

    # stable: within (branch, meeting, rule, subject) a rule's own order of findings stays
    last = np.iinfo(np.int64).max
    sort_dates = np.where(np.isnat(dates), last, dates.view(np.int64))  # missing last
    rows = np.lexsort([subject.ranks(), order, meeting.ranks(), _at(sort_dates, meeting.codes, last), branch.ranks()])
    for keys in (branch, meeting, subject):
        keys.codes = keys.codes[rows]
    rule = order[rows]
    meeting_row = _at(at, meeting.codes)

    def facts(values: list) -> pa.Array:  # per rule position, missing for an unregistered rule
        return pa.array([*values, None], pa.string()).take(rule)

    severity = f.severity.to_numpy(dtype=object)[rows]
    unset = pd.isna(severity)
    severity[unset] = facts([r.severity for r in RULES]).to_numpy(zero_copy_only=False)[unset]
    names = pd.Series(subject.values, dtype=object).map(ctx.names)
    columns = {
        "rule": f.rule.array.take(rows),
        "severity": severity,
        "branch_id": branch.taken(),
        "branch_name": _at(_objects(ctx.branches.branch_name), _rows(branch.values, ctx.branches.branch_id), None)[
            branch.codes],
        "meeting_id": meeting.taken(),
        "kind": _at(_objects(ctx.meetings.kind), meeting_row, None),
        "meeting_date": _at(dates, meeting.codes, np.datetime64("NaT", "ns")),
        "subject": subject.taken(),
        "subject_name": _at(_objects(names), subject.codes, None),
        "message": f.message.to_numpy(dtype=object)[rows],
        "due": pd.to_datetime(f.due).array.take(rows),
        "days": f.days.astype("Int64").array.take(rows),
        "source": _str_array(_case_sources(ctx, rule, meeting_row, meeting.codes < 0)),
        "family": _str_array(facts([r.family for r in RULES])),
        "title": _str_array(facts([r.title for r in RULES])),
    }
    # object columns stay objects (not inferred as str)
    out = pd.DataFrame({c: pd.Series(v, dtype=object if v.dtype == object else None) for c, v in columns.items()})
    # a step done late but recorded after the check date: on that date it was neither done nor yet due, so it is
    # no shortcoming as of then (a report dated before the late step must not name it)
    future = out.severity.ne("info").to_numpy() & (out.due > ctx.as_of).fillna(False).to_numpy(dtype=bool)
    return out[~future].reset_index(drop=True) if future.any() else out


class _Keys:
    """A key column as codes into its distinct values (-1: missing)."""

    def __init__(self, values: pd.Series) -> None:
        codes, uniques = pd.factorize(values)
        self.codes = codes
        self.values = np.asarray(uniques, dtype=object)

    def ranks(self) -> np.ndarray:
        """Sort key of each row: its value's rank; missing last."""
        ranks = np.empty(len(self.values), dtype=np.int64)
        ranks[np.argsort(self.values, kind="stable")] = np.arange(len(self.values))
        return _at(ranks, self.codes, len(self.values))

    def taken(self) -> np.ndarray:
        """The values, missing as None."""
        return _at(self.values, self.codes, None)


def _rows(keys: np.ndarray, table: pd.Series) -> np.ndarray:
    """Position in ``table`` of each key (its first occurrence; -1 when absent)."""
    table = pd.Index(table.astype(object))
    first = ~table.duplicated()
    rows = table[first].get_indexer(keys)
    return np.where(rows < 0, -1, np.flatnonzero(first)[rows])


def _at(values: np.ndarray, codes: np.ndarray, missing=-1) -> np.ndarray:
    """``values[codes]`` with ``missing`` where the code is -1 (codes index one past the end for it)."""
    return np.append(values, np.array([missing], dtype=values.dtype))[codes]


def _objects(series: pd.Series) -> np.ndarray:
    """Values as objects, missing as None."""
    return series.to_numpy(dtype=object, na_value=None)


def _str_array(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as the column type ``astype(str)`` gives."""
    return pd.array(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _case_sources(ctx: Context, rule: np.ndarray, meeting: np.ndarray, no_meeting: np.ndarray) -> pa.Array:
    """Each finding's source: the part of its rule's source that governs its case (rules.md "The source fits the
    case"); findings without a meeting (cadence) cite the rule's catalogue source.

    ``rule``: rule codes (``len(RULES)``: unknown); ``meeting``: rows of ``ctx.meetings`` (-1: unknown meeting)."""
    m = ctx.meetings
    leadership = m.kind.eq(LEADERSHIP).fillna(False).to_numpy()
    # case codes: 0 no meeting, then CASES' order (leadership, no_committee, branch)
    cases = np.where(leadership, 1, np.where(~m.has_committee.fillna(True).astype(bool).to_numpy(), 2, 3))
    case = _at(cases, meeting, 3)  # a meeting the context does not know: the branch case
    case[no_meeting] = 0
    table = [source for r in RULES for source in (r.source, *(r.source_for(c) for c in CASES))]
    return pa.array(table + [None] * (1 + len(CASES)), pa.string()).take(rule * (1 + len(CASES)) + case)


def _empty() -> pd.DataFrame:
    f = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    f["due"] = pd.Series(dtype="datetime64[ns]")
    f["meeting_date"] = pd.Series(dtype="datetime64[ns]")
    f["days"] = pd.Series(dtype="Int64")
    return f


def counts(findings: pd.DataFrame) -> dict[str, int]:
    """Findings per severity, in severity order (every severity present, 0 when none)."""
    found = findings.severity.value_counts()
    return {s: int(found.get(s, 0)) for s in SEVERITIES}


def filter_findings(findings: pd.DataFrame, branches=None, meetings=None, severities=None) -> pd.DataFrame:
    """Keep findings of these branches / meetings / severities (None or empty: no filter)."""
    keep = pd.Series(True, index=findings.index)
    for column, values in (("branch_id", branches), ("meeting_id", meetings), ("severity", severities)):
        if values:
            keep &= findings[column].isin(list(values))
    return findings[keep].reset_index(drop=True)
