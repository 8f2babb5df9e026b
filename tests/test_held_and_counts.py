"""One answer to "held or planned?" and to "how many ballots?" in every output, and opinion findings that say which
record they mean (issue 14 items 9, 10, 11)."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from orglife_nb.demo import BASELINE_AS_OF, BASELINE_MEETINGS, BASELINE_ROLES, baseline_batch
from orglife_nb.documents.meeting import meeting_context, tight
from orglife_nb.forms.guidance import meeting_guidance
from orglife_nb.frames import from_batch
from orglife_nb.models import Ballot, Meeting, Opinion, Talk
from orglife_nb.mutations import apply_mutation
from orglife_nb.reports.branch import BranchReport
from orglife_nb.rules import run_checks
from orglife_nb.rules.facts import PLANNED, ballot_count_text, ballot_counts, is_held
from orglife_nb.reports.text import status_text
from orglife_nb.rules.status import status

H1, H2 = BASELINE_MEETINGS["regular_h1"], BASELINE_MEETINGS["regular_h2"]
BEFORE_H2 = dt.date(2025, 12, 1)  # H2 (2025-12-12) is still ahead: planned; the other three are held


def _drop(batch, record, mask):
    batch[record] = batch[record][~mask].reset_index(drop=True)


@pytest.fixture(scope="module")
def gaps_everywhere():
    """The baseline with one talk missing from held H1 and every talk missing from planned H2, H2's notice unsent."""
    batch = baseline_batch()
    talks = batch[Talk]
    first_h1 = talks.index[talks.meeting_id.eq(H1)][0]
    _drop(batch, Talk, talks.meeting_id.eq(H2) | (talks.index == first_h1))
    meetings = batch[Meeting].copy()
    meetings.loc[meetings.meeting_id.eq(H2), "notice_date"] = None
    batch[Meeting] = meetings
    return from_batch(batch)


def _section_of(html: str, title_part: str) -> str:
    """The subsection (h3 and what follows up to the next h3) whose title contains ``title_part``."""
    parts = re.split(r"(?=<h3>)", html)
    return next(p for p in parts if p.startswith("<h3>") and title_part in p.split("</h3>")[0])


# ---- 10: held or planned --------------------------------------------------------------------------------------


def test_a_meeting_on_the_day_is_held_and_one_after_is_planned():
    dates = pd.Series(pd.to_datetime(["2025-11-30", "2025-12-01", "2025-12-02"]))
    assert is_held(dates, BEFORE_H2).tolist() == [True, True, False]


def test_report_shows_the_planned_meeting_as_planned_with_its_talks_pending(gaps_everywhere):
    report = BranchReport(branch_id="B001", as_of=BEFORE_H2, frames=gaps_everywhere)
    listed = str(report.meetings_list())
    assert "已召开 3 次会议，另有 1 次计划召开" in listed and listed.count(f"<td>{PLANNED}</td>") == 1
    verdict = str(report.verdict())
    assert f"2025-12-12（{PLANNED}）" in verdict and "其中 1 次计划召开" in verdict
    talks = str(report.talk_coverage())
    planned = _section_of(talks, H2)
    assert f"（{PLANNED}）" in planned.split("</h3>")[0]
    assert ">缺<" not in planned and 'class="missing"' not in planned and ">待<" in planned
    held = _section_of(talks, H1)  # a held meeting's gap stays a red 缺
    assert held.count(">缺<") == 2 and PLANNED not in held  # one pair, both ways
    assert "缺 1 对" in talks and "尚待谈" in talks
    assert f"{H2}（{PLANNED}）" in str(report.attendance()) and f"{H1}（" not in str(report.attendance())
    steps = str(report.timelines())  # the meeting step of a planned meeting is not "按时" for lack of a date
    meeting_row = next(r for r in _section_of(steps, H2).split("<tr>") if "召开组织生活会" in r)
    assert f"<td>{PLANNED}</td>" in meeting_row and "按时" not in meeting_row
    assert "按时" in next(r for r in _section_of(steps, H1).split("<tr>") if "召开组织生活会" in r)


def test_status_marks_the_planned_meeting(gaps_everywhere):
    result = status(gaps_everywhere, BEFORE_H2)
    text = status_text(result)
    header = next(line for line in text.splitlines() if H2 in line)
    assert header.endswith(f"2025-12-12（{PLANNED}）")
    assert not any(H1 in line and PLANNED in line for line in text.splitlines())


def test_forms_guidance_shows_pending_talks_for_a_planned_meeting(gaps_everywhere):
    page = meeting_guidance(gaps_everywhere, H2, None, BEFORE_H2)
    talks = page.split("<div class='g-talks'>")[1].split("</div>")[0]
    assert "会议计划召开，待谈" in page and "missing" not in talks and ">待<" in talks
    held = meeting_guidance(gaps_everywhere, H1, None, BEFORE_H2)
    assert "缺 1 对" in held and 'class="missing"' in held


# ---- 11: one ballot count -------------------------------------------------------------------------------------


def test_chart_finding_and_document_state_one_ballot_count():
    batch, _ = apply_mutation(baseline_batch(), "EVAL-BALLOTS")
    frames = from_batch(batch)
    counts = ballot_counts(frames.ballots)
    meeting = counts.index[counts.public.gt(0)][0]  # a meeting with 群众代表 ballots: two numbers to confuse
    said = ballot_count_text(counts, meeting, "测评票")
    ballots = frames.ballots[frames.ballots.meeting_id.eq(meeting)]
    total = ballots.ballot_no.nunique()
    assert said.startswith(f"{total} 张测评票（党员 ") and len(ballots) > total  # lines are not ballots

    finding = run_checks(frames, None, BASELINE_AS_OF, rules=["EVAL-BALLOTS"])
    finding = finding[finding.meeting_id.eq(meeting)]
    assert len(finding) == 1 and said in finding.message.iloc[0]
    chart = str(BranchReport(branch_id="B001", as_of=BASELINE_AS_OF, frames=frames).evaluation())
    assert f"民主测评票分布：{said}" in chart
    document = meeting_context(frames, meeting, as_of=BASELINE_AS_OF)["report"]["evaluation"]
    facts = {f["label"]: f["value"] for f in document["facts"]}
    # the same count, set as a document sets Chinese text (no space between a number and a Chinese character)
    assert facts["收回测评票"] == tight(ballot_count_text(counts, meeting))


# ---- 9: opinion findings name their record ---------------------------------------------------------------------


def test_each_unfed_opinion_finding_names_its_record_and_identical_ones_are_one():
    batch = baseline_batch()
    member = BASELINE_ROLES["deputy"]  # a committee member: opinions about them must be fed back
    day = dt.date(2025, 12, 1)
    row = dict(meeting_id=H2, date=day, target=member, content="意见", feedback_date=None)
    extra = [dict(row, method="forum", source="member"), dict(row, method="form", source="public"),
             dict(row, method="form", source="public", content="另一条意见")]
    batch[Opinion] = pd.concat([batch[Opinion], pd.DataFrame(extra)], ignore_index=True)
    found = run_checks(from_batch(batch), None, BASELINE_AS_OF, rules=["PREP-OPINIONS-FEEDBACK"])
    found = found[found.meeting_id.eq(H2)]
    assert found.subject.eq(member).all() and found.message.is_unique
    assert len(found) == 2, found.message.tolist()
    forum, form = sorted(found.message, key=lambda m: "集体座谈" not in m)
    assert "2025-12-01 征求，集体座谈，来自党员" in forum and "条" not in forum
    assert "的 2 条意见（2025-12-01 征求，征求意见表，来自群众）" in form
