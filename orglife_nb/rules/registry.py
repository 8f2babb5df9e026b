"""The one rule table: every check, its id (public contract, spec/rules.md), family, title, severity and source.

Rules register themselves in catalogue order (the family modules are imported in spec order by the package):

    @register("PREP-TOPIC", "PREP", "会议主题", "error", ALL, "000 第一篇 1.1；003 民主 二.1")
    def topic_set(ctx): ...

CLI, reports, forms and training read ``RULES`` / ``rule_table()``; nothing else lists rule ids or titles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..models import MeetingKind

FAMILIES = {"PREP": "会前准备", "MEET": "召开会议", "EVAL": "民主评议党员", "RECT": "会后整改", "POST": "会后工作",
            "FREQ": "频次"}
SEVERITIES = ("error", "warning", "info")
SEVERITY_LABELS = {"error": "违规", "warning": "提醒", "info": "待办"}  # the words of reports and documents too

ALL = tuple(k.value for k in MeetingKind)
BRANCH_MEETINGS = (MeetingKind.regular.value, MeetingKind.special.value)
LEADERSHIP_ONLY = (MeetingKind.leadership.value,)
REGULAR_ONLY = (MeetingKind.regular.value,)


@dataclass(frozen=True)
class Rule:
    """One check. ``check(scope) -> DataFrame`` of findings (see ``common.emit``)."""

    id: str
    family: str
    title: str
    severity: str
    applies_to: tuple[str, ...]
    source: str
    check: Callable[..., pd.DataFrame]
    # the part of ``source`` that governs each case (rules.md "The source fits the case"): keys ``leadership``,
    # ``no_committee`` (a branch without a committee), ``branch`` (the rest); a missing case cites ``source``
    cases: tuple[tuple[str, str], ...] = ()

    def source_for(self, case: str) -> str:
        return dict(self.cases).get(case, self.source)

    @property
    def description(self) -> str:
        """The check function's docstring, first paragraph (what the rule asks, in English)."""
        doc = (self.check.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())

    @property
    def order(self) -> int:
        return RULES.index(self)


RULES: list[Rule] = []
_BY_ID: dict[str, Rule] = {}


CASES = ("leadership", "no_committee", "branch")


def register(rule_id: str, family: str, title: str, severity: str, applies_to: tuple[str, ...], source: str,
             **cases: str):
    """Decorator adding a check function to the rule table (in definition order). ``cases``: the source of the
    leadership / no_committee / branch case where it is narrower than the catalogue's ``source``."""
    if set(cases) - set(CASES):
        raise ValueError(f"unknown source cases {set(cases) - set(CASES)}")
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity}")

    def wrap(check: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        if rule_id in _BY_ID:
            raise ValueError(f"rule {rule_id} registered twice")
        rule = Rule(rule_id, family, title, severity, tuple(applies_to), source, check, tuple(cases.items()))
        RULES.append(rule)
        _BY_ID[rule_id] = rule
        return check

    return wrap


def get_rule(rule_id: str) -> Rule:
    from ..errors import OrglifeError

    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise OrglifeError(f"没有这条规则：{rule_id}") from None


# ``orglife rules`` and the documentation's rule reference print the catalogue with these headers
CATALOGUE_HEADERS = ("编号", "类别", "名称", "默认级别", "适用会议", "出处")


def catalogue_rows(table: pd.DataFrame) -> list[tuple[str, ...]]:
    """``rule_table()`` as people read it: one tuple per rule in ``CATALOGUE_HEADERS``' order, severities in words."""
    return list(zip(table.rule, table.family_label, table.title, table.severity.map(SEVERITY_LABELS),
                    table.applies_to, table.source))


def rule_table() -> pd.DataFrame:
    """The catalogue as a frame: id, family (+ Chinese), title, default severity, kinds (Chinese), source."""
    return pd.DataFrame({
        "rule": [r.id for r in RULES],
        "family": [r.family for r in RULES],
        "family_label": [FAMILIES[r.family] for r in RULES],
        "title": [r.title for r in RULES],
        "severity": [r.severity for r in RULES],
        "applies_to": ["、".join(MeetingKind(k).label for k in r.applies_to) for r in RULES],
        "source": [r.source for r in RULES],
        "description": [r.description for r in RULES],
    })
