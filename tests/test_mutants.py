"""Readings of rules.md that a one-line bug could change without any other test noticing (issue 25's mutation
audit): whose criticism counts, what a report is addressed to, where "mostly" begins, who is asked to commit."""
from __future__ import annotations

import pandas as pd
import pytest

from orglife_nb import frames
from orglife_nb.demo import BASELINE_AS_OF, BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch
from orglife_nb.models import GROUP, Ballot, Criticism, Rating, Rectification
from orglife_nb.rules import run_checks

H1 = BASELINE_MEETINGS["regular_h1"]
H2 = BASELINE_MEETINGS["regular_h2"]
LEADERSHIP = BASELINE_MEETINGS["leadership"]
SECRETARY = BASELINE_ROLES["secretary"]


@pytest.fixture(scope="module")
def baseline():
    return baseline_batch()


def copy(batch):
    return {record: frame.copy() for record, frame in batch.items()}


def _found(batch, rule: str, meeting_id: str) -> pd.DataFrame:
    """``rule``'s findings on ``meeting_id`` in ``batch`` as of the baseline's day."""
    found = run_checks(frames.from_batch(batch), as_of=BASELINE_AS_OF, rules=[rule])
    return found[found.meeting_id.eq(meeting_id)]


def _record(batch, meeting_id: str, stage: str, **where) -> pd.Index:
    """The index of the one criticism record of ``meeting_id``'s ``stage`` matching ``where`` (column: value)."""
    crit = batch[Criticism]
    mask = crit.meeting_id.eq(meeting_id) & crit.stage.eq(stage)
    for column, value in where.items():
        mask &= crit[column].eq(value)
    assert mask.sum() == 1, (where, crit[mask])
    return crit.index[mask]


# ---- MEET-ASSEMBLY-REPORT: the members criticise the 班子 and the secretary, not the secretary himself ---------


def test_the_secretarys_own_criticism_of_the_group_is_not_the_members(baseline):
    batch = copy(baseline)
    assert _found(batch, "MEET-ASSEMBLY-REPORT", H1).empty
    # H1's one member criticism of the 班子 at the 党员大会, spoken by the secretary instead
    heard = _record(batch, H1, "assembly", act="criticism", target=GROUP)
    batch[Criticism].loc[heard, "speaker"] = SECRETARY
    found = _found(batch, "MEET-ASSEMBLY-REPORT", H1)
    assert found.severity.tolist() == ["error"]
    assert "没有党员对支部班子和书记" in found.message.iloc[0]
    # the same criticism aimed at the secretary himself is his self-examination, not the members' either
    batch[Criticism].loc[heard, "target"] = SECRETARY
    assert "没有党员对支部班子和书记" in _found(batch, "MEET-ASSEMBLY-REPORT", H1).message.iloc[0]
    # by another member it counts
    batch[Criticism].loc[heard, "speaker"] = BASELINE_ROLES["committee"]
    assert _found(batch, "MEET-ASSEMBLY-REPORT", H1).empty


# ---- MEET-PEER-REVIEW: a member's criticism of himself is no 互评 ------------------------------------------------


def test_a_members_criticism_of_himself_is_not_peer_review(baseline):
    batch = copy(baseline)
    member = BASELINE_ROLES["ordinary"]
    assert _found(batch, "MEET-PEER-REVIEW", H1).empty
    # the one criticism of ``member`` after his self-criticism at H1's 党员大会, recorded as his own
    heard = _record(batch, H1, "assembly", act="criticism", target=member)
    batch[Criticism].loc[heard, "speaker"] = member
    found = _found(batch, "MEET-PEER-REVIEW", H1)
    assert found.subject.tolist() == [member] and found.severity.tolist() == ["warning"]
    assert "没有其他党员对其提出意见" in found.message.iloc[0]


# ---- MEET-GROUP-CHECK: the 对照检查 is given on the 班子's behalf -------------------------------------------------


def test_a_report_not_addressed_to_the_group_is_no_group_check(baseline):
    batch = copy(baseline)
    assert _found(batch, "MEET-GROUP-CHECK", LEADERSHIP).empty
    # the 主要负责同志's 通报 at the 民主生活会 addressed to himself rather than to the 班子
    report = _record(batch, LEADERSHIP, "leadership", act="report")
    assert batch[Criticism].loc[report, "target"].tolist() == [GROUP]
    batch[Criticism].loc[report, "target"] = SECRETARY
    found = _found(batch, "MEET-GROUP-CHECK", LEADERSHIP)
    assert found.severity.tolist() == ["error"] and "未代表班子作对照检查" in found.message.iloc[0]


# ---- EVAL-HELP: "mostly" is more than half ----------------------------------------------------------------------


@pytest.mark.parametrize("low, flagged", [(4, False), (5, False), (6, True)])
def test_mostly_low_ballots_begin_above_half(baseline, low, flagged):
    """The ordinary member's 10 ballots at H2 (final rating 合格, no helper): ``low`` of them 基本合格. Half is not
    most: 5 of 10 needs no helper, 6 of 10 does."""
    batch = copy(baseline)
    member = BASELINE_ROLES["ordinary"]
    ballots = batch[Ballot]
    mine = ballots.index[ballots.meeting_id.eq(H2) & ballots.rated_id.eq(member)]
    assert len(mine) == 10
    ratings = batch[Rating]
    assert ratings.loc[ratings.member_id.eq(member) & ratings.meeting_id.eq(H2), "helper"].isna().all()
    ballots.loc[mine, "level"] = "qualified"
    ballots.loc[mine[:low], "level"] = "basic"
    found = _found(batch, "EVAL-HELP", H2)
    assert found.subject.tolist() == ([member] if flagged else [])
    if flagged:
        assert "多数票" in found.message.iloc[0]


# ---- RECT-PERSONAL: a 民主生活会's 班子成员 has personal measures, no public 承诺 asked ------------------------------


def test_a_leadership_meeting_asks_no_commitment(baseline):
    batch = copy(baseline)
    items = batch[Rectification]
    personal = items.category.eq("individual")
    # every personal item with its 承诺 not recorded: the 民主生活会 stays silent, a 组织生活会 does not
    items.loc[personal, "commitment"] = None
    assert _found(batch, "RECT-PERSONAL", LEADERSHIP).empty
    h1 = _found(batch, "RECT-PERSONAL", H1)
    assert len(h1) and h1.message.str.contains("未公开作出整改承诺").all()
    # and said 否 outright
    items.loc[personal & items.meeting_id.eq(LEADERSHIP), "commitment"] = False
    assert _found(batch, "RECT-PERSONAL", LEADERSHIP).empty
