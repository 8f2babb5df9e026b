"""The practice case: a compliant sample branch with a seed-chosen handful of planted defects, a list of candidate
statements (real findings mixed with plausible decoys) and the scoring of a trainee's ticks.

The answer key is what the real checks (``run_checks``) find on the case, not the list of planted mutations: if two
defects interact, the trainee is scored against what the rules actually report.

Decoys are findings too, only not of this case: each is what a check *would* report after one more (unplanted)
mutation. Every decoy is verified not to coincide with a real finding (same rule and meeting), so ticking it is
always wrong and its wording is always realistic.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from functools import cached_property

import pandas as pd

from ..demo import BASELINE_AS_OF, BASELINE_MEETINGS, baseline_batch
from ..frames import Frames, from_batch
from ..models import MeetingKind
from ..mutations import MUTATIONS, NotApplicable, apply_mutation
from ..rules import get_rule, run_checks
from ..rules.registry import SEVERITY_LABELS
from .procedures import as_profile

DEFAULT_SEED = 1
DEFAULT_PROBLEMS = 4
PROBLEM_SEVERITIES = ("error", "warning")  # 'info' is a pending step, not a problem a trainee should find
# baseline variants a seed may pick (each is compliant: verified by the tests). The baseline's names and dates stay,
# and they belong to a 机关 branch, so only the committee and the leadership group vary.
VARIANTS = tuple(dict(has_committee=committee, unit_type="organ", leadership_group=group)
                 for committee in (True, False) for group in (True, False))
# A mutation that drops a whole meeting would empty the tables the other defects live in.
_WHOLE_MEETING = "*"


@dataclass(frozen=True)
class Candidate:
    """One statement the trainee may tick. ``real``: the checks report it on this case."""

    key: str  # stable within a case: c01, c02 … in display order
    text: str  # what the trainee reads: meeting, then the finding's message
    real: bool
    rule: str
    meeting_id: str | None
    subject: str | None
    message: str
    severity: str

    @property
    def title(self) -> str:
        return get_rule(self.rule).title

    @property
    def source(self) -> str:
        return get_rule(self.rule).source


@dataclass
class Result:
    """A scored answer: each real problem found earns its share of 100, each decoy ticked takes one share back
    (so ticking everything scores 0, ticking nothing scores 0, the full key scores 100)."""

    hits: list[Candidate]
    misses: list[Candidate]
    false_alarms: list[Candidate]

    @property
    def real(self) -> int:
        return len(self.hits) + len(self.misses)

    @property
    def score(self) -> int:
        if not self.real:
            return 0 if self.false_alarms else 100
        return max(0, round(100 * (len(self.hits) - len(self.false_alarms)) / self.real))

    @property
    def perfect(self) -> bool:
        return not self.misses and not self.false_alarms

    def summary(self) -> str:
        return (f"得分 {self.score} 分（满分 100）：真实问题 {self.real} 个，找到 {len(self.hits)} 个，"
                f"漏掉 {len(self.misses)} 个，误判 {len(self.false_alarms)} 个")


@dataclass
class PracticeCase:
    """A generated branch (``frames``), the answer key (``findings``) and the ``candidates`` to judge."""

    seed: int
    variant: dict
    planted: list[str]
    frames: Frames
    findings: pd.DataFrame
    candidates: list[Candidate]
    as_of: dt.date = BASELINE_AS_OF
    profile: object = field(default=None, repr=False)

    @property
    def real(self) -> list[Candidate]:
        return [c for c in self.candidates if c.real]

    @property
    def decoys(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.real]

    @cached_property
    def branch_name(self) -> str:
        return str(self.frames.branches["name"].iloc[0])

    def score(self, ticked) -> Result:
        """Score the keys the trainee ticked (unknown keys are ignored: they cannot be right or wrong)."""
        chosen = set(ticked)
        hits = [c for c in self.real if c.key in chosen]
        misses = [c for c in self.real if c.key not in chosen]
        false_alarms = [c for c in self.decoys if c.key in chosen]
        return Result(hits, misses, false_alarms)


def meeting_label(frames: Frames, meeting_id: str | None) -> str:
    """'2025-06-20 组织生活会' for a meeting id; '全年' for cadence findings (no meeting)."""
    if meeting_id is None:
        return "全年"
    row = frames.meetings.loc[frames.meetings.meeting_id.eq(meeting_id)].iloc[0]
    return f"{row.date:%Y-%m-%d} {MeetingKind(row.kind).label}"


def _problems(findings: pd.DataFrame) -> pd.DataFrame:
    return findings[findings.severity.isin(PROBLEM_SEVERITIES)].reset_index(drop=True)


def _candidate(frames: Frames, row, real: bool) -> Candidate:
    return Candidate("", f"{meeting_label(frames, row.meeting_id)}：{row.message}", real, row.rule, row.meeting_id,
                     row.subject, row.message, row.severity)


def _target(rule: str) -> tuple[str | None, str]:
    mutation = MUTATIONS[rule]
    return BASELINE_MEETINGS[mutation.on or mutation.meeting], mutation.touches


def make_case(seed: int = DEFAULT_SEED, problems: int = DEFAULT_PROBLEMS, decoys: int | None = None,
              profile=None) -> PracticeCase:
    """The practice case of ``seed``: same seed, same case (branch, defects, statements and their order).

    ``problems`` defects are planted (fewer if the variant offers fewer targets); ``decoys`` (default: as many as
    real findings) false statements are mixed in.
    """
    rng = random.Random(f"orglife-training/{seed}")
    profile = as_profile(profile)
    variant = rng.choice(VARIANTS)
    batch = baseline_batch(**variant)
    order = [rule for rule in MUTATIONS if MUTATIONS[rule].touches != _WHOLE_MEETING]
    rng.shuffle(order)
    planted, used = [], set()
    for rule in order:
        if len(planted) == problems:
            break
        if _target(rule) in used:  # two defects on the same records of one meeting would blur each other
            continue
        try:
            batch, _ = apply_mutation(batch, rule)
        except NotApplicable:
            continue
        planted.append(rule)
        used.add(_target(rule))
    frames = from_batch(batch)
    findings = run_checks(frames, profile, BASELINE_AS_OF)
    real = [_candidate(frames, row, True) for row in _problems(findings).itertuples(index=False)]
    wanted = len(real) if decoys is None else decoys
    fakes = _decoys(batch, frames, findings, [r for r in order if r not in planted], wanted, profile)
    candidates = real + fakes
    rng.shuffle(candidates)
    candidates = [replace(c, key=f"c{i:02d}") for i, c in enumerate(candidates, start=1)]
    return PracticeCase(seed, variant, planted, frames, findings, candidates, BASELINE_AS_OF, profile)


def _decoys(batch: dict, frames: Frames, findings: pd.DataFrame, rules: list[str], wanted: int,
            profile) -> list[Candidate]:
    """Up to ``wanted`` false statements: each the finding one more mutation would cause, checked not to be (or
    resemble) a real finding of the case: a different rule-and-meeting pair and a different message."""
    real_pairs = set(zip(findings.rule, findings.meeting_id))
    real_messages = set(findings.message)
    out: list[Candidate] = []
    for rule in rules:
        if len(out) == wanted:
            break
        try:
            mutated, _ = apply_mutation(batch, rule)
        except NotApplicable:
            continue
        found = _problems(run_checks(from_batch(mutated), profile, BASELINE_AS_OF, rules=[rule]))
        fresh = found[[(r, m) not in real_pairs and msg not in real_messages
                       for r, m, msg in zip(found.rule, found.meeting_id, found.message)]]
        if len(fresh):
            # the message names people and dates of the original records, which the mutation did not rename
            out.append(_candidate(frames, next(fresh.itertuples(index=False)), False))
    return out


def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)
