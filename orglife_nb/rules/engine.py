"""``run_checks``: every registered rule over the frames → one findings frame, in a stable order."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import OrglifeError
from .common import FINDING_COLUMNS
from .context import LEADERSHIP, Context
from .profile import load_profile
from .registry import RULES, SEVERITIES, Rule, get_rule

COLUMNS = ["rule", "severity", "branch_id", "branch_name", "meeting_id", "kind", "meeting_date", "subject",
           "subject_name", "message", "due", "days", "source", "family", "title"]


# Free texts no rule reads (the longest columns of the store): a whole-store check leaves them unread.
# tests/test_rules.py runs every rule with and without them.
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
               since: dt.date | None = None) -> pd.DataFrame:
    """Run the rules over ``frames`` (a ``Frames``) and return the findings.

    ``profile``: a Profile, a bundled name or a YAML path (None → default). ``as_of``: the day of the check (None →
    today); ``year``: narrows the cadence rules to one year; ``since``: where their analysed period starts (None →
    each branch's first meeting). Columns: see ``COLUMNS``; sorted by branch, meeting (date,
    id; cadence last), rule catalogue order, subject; stable within that.
    """
    ctx = context or make_context(frames, profile, as_of, year, since)
    parts = []
    for rule in select_rules(rules):
        found = rule.check(ctx.bind(rule))
        if len(found):
            parts.append(found[FINDING_COLUMNS].assign(rule=rule.id))
    return finish(ctx, parts)


def finish(ctx: Context, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Fill rule facts (severity default, source, family, title) and names; sort."""
    if not parts:
        return _empty()
    f = pd.concat(parts, ignore_index=True)
    table = pd.DataFrame({"rule": [r.id for r in RULES], "_order": np.arange(len(RULES)),
                          "_default": [r.severity for r in RULES], "source": [r.source for r in RULES],
                          "family": [r.family for r in RULES], "title": [r.title for r in RULES]})
    f = f.merge(table, on="rule", how="left")
    f["severity"] = f.severity.fillna(f._default)
    branches = ctx.branches[["branch_id", "branch_name"]].astype({"branch_id": object})
    meetings = ctx.meetings[["meeting_id", "kind", "date", "has_committee"]].rename(columns={"date": "meeting_date"})
    f = f.merge(branches, on="branch_id", how="left").merge(
        meetings.astype({"meeting_id": object, "kind": object}), on="meeting_id", how="left")
    f["source"] = _case_sources(f)
    f["subject_name"] = f.subject.map(ctx.names)
    # stable: within (branch, meeting, rule, subject) a rule's own order of findings stays
    f = f.sort_values(["branch_id", "meeting_date", "meeting_id", "_order", "subject"], na_position="last",
                      kind="mergesort")
    f = f[COLUMNS].reset_index(drop=True)
    for column in ("branch_id", "branch_name", "meeting_id", "kind", "subject", "subject_name"):
        f[column] = f[column].astype(object).where(f[column].notna(), None)
    f["due"] = pd.to_datetime(f.due)
    f["days"] = f.days.astype("Int64")
    return f


def _case_sources(f: pd.DataFrame) -> pd.Series:
    """Each finding's source: the part of its rule's source that governs its case (rules.md "The source fits the
    case"); findings without a meeting (cadence) cite the rule's catalogue source."""
    source = f.source.copy()
    narrowed = [r for r in RULES if r.cases]
    if not narrowed or not len(f):
        return source
    leadership = f.kind.eq(LEADERSHIP).fillna(False).to_numpy()
    no_committee = (~leadership) & f.meeting_id.notna().to_numpy() & ~f.has_committee.fillna(True).astype(bool)
    case = np.where(leadership, "leadership", np.where(no_committee, "no_committee", "branch"))
    case = np.where(f.meeting_id.isna().to_numpy(), "", case)
    for rule in narrowed:
        mine = f.rule.eq(rule.id).to_numpy()
        for name, text in rule.cases:
            source[mine & (case == name)] = text
    return source


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


def load_input(workbook: str | Path | None = None, db=None, branches=None, *, actor=None):
    """Frames from a workbook (read whole, problems → OrglifeError listing them) or from a store (``db``: a Store
    or what ``--db`` accepts; ``actor``: whose scope, see ``Store``)."""
    from .. import frames as frames_module

    if workbook is None:
        from ..store import using

        with using(db, actor=actor) as store:
            return frames_module.load(store, branches, skip=UNREAD_BY_RULES)
    from ..workbook.read import read_workbook

    path = Path(workbook)
    if not path.exists():
        raise OrglifeError(f"工作簿不存在：{path}")
    batch, problems = read_workbook(path)
    if problems:
        raise WorkbookProblems(path, problems)
    return frames_module.from_batch(batch)


class WorkbookProblems(OrglifeError):
    """The workbook has cell problems; ``problems`` lists them (each printable)."""

    def __init__(self, path: Path, problems) -> None:
        self.problems = list(problems)
        super().__init__(f"工作簿 {path} 有 {len(self.problems)} 处问题，未作检查")
