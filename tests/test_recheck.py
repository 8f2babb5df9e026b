"""The forms' re-check after a save (rules/recheck.py): only the rules a change can affect run again, and the
findings are those of a full run, row for row."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from orglife_nb.frames import load
from orglife_nb.models import Meeting
from orglife_nb.rules.engine import make_context, run_checks
from orglife_nb.rules.recheck import Rechecker, reads
from orglife_nb.rules.registry import RULES
from orglife_nb.store import Store

AS_OF = dt.date(2026, 12, 5)


@pytest.fixture(scope="module")
def frames(demo_store):
    with Store(demo_store) as store:
        return load(store, ["B001"])


class _Recording:
    """Frames that note which tables are read."""

    def __init__(self, frames) -> None:
        object.__setattr__(self, "_frames", frames)
        object.__setattr__(self, "seen", set())

    def __getattr__(self, name: str):
        if name in self._frames.__dataclass_fields__:
            self.seen.add(name)
        return getattr(self._frames, name)


def test_each_rule_reads_no_table_beyond_what_its_code_names(demo_store):
    """The static reads cover what each rule is seen to read on the whole demo (every table populated)."""
    with Store(demo_store) as store:
        everything = load(store, None)
    for rule in RULES:
        ctx = make_context(everything, None, AS_OF)
        ctx.frames = recording = _Recording(ctx.frames)
        rule.check(ctx.bind(rule))
        tables, _ = reads(rule)
        assert recording.seen and recording.seen <= tables, (rule.id, recording.seen - tables)


def _with(frames, table: str, frame: pd.DataFrame):
    return dataclasses.replace(frames, **{table: frame})


def _edits(frames):
    """(what, edited frames): each table without its first row (the branch: renamed, its committee flags
    turned); each meeting column of a held meeting not recorded, or where it must be, given another meeting's
    value (but the columns every rule reads: a change there is a full run)."""
    for field in dataclasses.fields(frames):
        frame = getattr(frames, field.name)
        if field.name == "branches":  # a branch's rows without the branch: not a state the store can hold
            for column, value in (("name", "改名后的支部"), ("has_committee", ~frame.has_committee),
                                  ("has_leadership_group", ~frame.has_leadership_group)):
                yield f"branches.{column}", _with(frames, "branches", frame.assign(**{column: value}))
        elif len(frame):
            yield f"{field.name} -1", _with(frames, field.name, frame.iloc[1:].reset_index(drop=True))
    meetings = frames.meetings
    held = meetings.index[meetings.date.lt(pd.Timestamp(AS_OF))]
    first, other = held[0], held[-1]
    everyone = frozenset.intersection(*(reads(rule)[1] for rule in RULES))  # a change there reruns every rule
    for column in meetings.columns.drop(["meeting_id", *everyone]):
        if not Meeting.model_fields[column].is_required():  # not recorded (what most edits of a step undo)
            edited = meetings.copy()
            edited[column] = edited[column].where(edited.index != first)
            yield f"meetings.{column} none", _with(frames, "meetings", edited)
        elif not (meetings.at[first, column] == meetings.at[other, column] or pd.isna(meetings.at[other, column])):
            edited = meetings.copy()
            edited.loc[first, column] = meetings.at[other, column]
            yield f"meetings.{column} other", _with(frames, "meetings", edited)


def _assert_same(rechecker: Rechecker, edited, what: str, full: pd.DataFrame | None = None) -> None:
    _, found = rechecker.run(edited)
    pd.testing.assert_frame_equal(found, run_checks(edited, as_of=AS_OF) if full is None else full, obj=what)


def test_a_recheck_after_any_edit_finds_what_a_full_run_finds(frames):
    rechecker = Rechecker(as_of=AS_OF)
    _, unedited = rechecker.run(frames)
    pd.testing.assert_frame_equal(unedited, run_checks(frames, as_of=AS_OF))
    for what, edited in _edits(frames):
        _assert_same(rechecker, edited, what)
        _assert_same(rechecker, frames, f"{what} undone", unedited)


def test_a_talk_or_a_topic_runs_only_a_few_rules(frames):
    """What makes the hints quick: a saved talk runs only the rules that read talks; a topic, those that name it."""
    rechecker = Rechecker(as_of=AS_OF)
    rechecker.run(frames)
    assert len(rechecker.last_run) == len(RULES)
    talks = frames.talks.assign(summary=frames.talks.summary.where(frames.talks.index != 0, "改过的摘要"))
    _assert_same(rechecker, _with(frames, "talks", talks.iloc[1:]), "talks")
    assert 0 < len(rechecker.last_run) <= 3, rechecker.last_run
    meetings = frames.meetings.assign(topic=frames.meetings.topic.where(frames.meetings.index != 0))
    _assert_same(rechecker, _with(frames, "meetings", meetings), "topic")
    assert "PREP-TOPIC" in rechecker.last_run and len(rechecker.last_run) <= 5, rechecker.last_run
    _assert_same(rechecker, frames, "unchanged")  # back: the topic's rules again
    _assert_same(rechecker, frames, "unchanged")
    assert rechecker.last_run == []


def test_another_day_or_another_branch_runs_every_rule(demo_store, frames):
    rechecker = Rechecker()
    rechecker.run(frames)
    rechecker._as_of = pd.Timestamp(AS_OF) - pd.Timedelta(days=1)  # the kernel ran past midnight
    rechecker.run(frames)
    assert len(rechecker.last_run) == len(RULES)
    with Store(demo_store) as store:
        other = load(store, ["B009"])
    checked = Rechecker(as_of=AS_OF)
    checked.run(frames)
    _assert_same(checked, other, "B009 after B001")
    assert len(checked.last_run) == len(RULES)
