"""One timeline, every output (issue 14 items 7 and 8): the terminal table, the .ics, the printable checklist and
the training widgets print the same dates with the same day-off marks; the meeting itself never moves; the
timeline's after-meeting steps fall on the deadlines the rules check."""
from __future__ import annotations

import datetime as dt
import html

import pytest
from icalendar import Calendar

from orglife_nb.deadlines import due_text, format_table, timeline, to_ics
from orglife_nb.demo import BASELINE_AS_OF, BASELINE_MEETINGS, baseline_batch
from orglife_nb.frames import from_batch
from orglife_nb.mutations import apply_mutation
from orglife_nb.rules import run_checks
from orglife_nb.training.views import checklist_html

D = dt.date
SUNDAY = D(2026, 12, 20)  # a 民主生活会 on a Sunday: its plan and notice days fall on weekends too
# a 组织生活会 whose notice (−10) falls on 2026-02-16, 除夕 (a 春节 holiday in the official calendar)
BEFORE_SPRING_FESTIVAL = D(2026, 2, 26)


def events(kind, day):
    data = to_ics(timeline(kind, day), day, kind, stamp=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    return {str(e["SUMMARY"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_ics_meeting_event_stays_on_its_sunday_while_earlier_deadlines_move():
    found = events("leadership", SUNDAY)
    meeting = found["【民主生活会】召开民主生活会"]
    assert meeting.decoded("DTSTART") == SUNDAY
    assert "周日（休息日）召开" in str(meeting["DESCRIPTION"])
    plan = found["【民主生活会】会议方案报上级纪委和组织部门"]  # due Saturday 12-05 → Friday 12-04
    assert plan.decoded("DTSTART") == D(2026, 12, 4)
    assert "建议提前至 2026-12-04（周五）" in str(plan["DESCRIPTION"])


def test_cli_ics_meeting_event_on_its_own_date(tmp_path):
    from orglife_nb.cli import main

    out = tmp_path / "l.ics"
    with pytest.raises(SystemExit) as exit_:
        main(["deadlines", "--kind", "leadership", "--date", "2026-12-20", "--format", "ics", "--out", str(out)])
    assert exit_.value.code in (None, 0)
    calendar = Calendar.from_ical(out.read_bytes())
    meeting = next(e for e in calendar.walk("VEVENT") if "召开民主生活会" in str(e["SUMMARY"]))
    assert meeting.decoded("DTSTART") == SUNDAY


@pytest.mark.parametrize("kind, day", [("leadership", SUNDAY), ("regular", BEFORE_SPRING_FESTIVAL),
                                       ("special", D(2026, 10, 11))])
def test_table_ics_checklist_and_widgets_show_one_timeline(kind, day, monkeypatch):
    from orglife_nb.training.widgets import ChecklistWidget, DeadlineCalculator

    monkeypatch.setenv("COLUMNS", "400")  # the terminal table unwrapped: each mark whole on its line

    frame = timeline(kind, day)
    marked = frame[frame.day_off.ne("")]
    assert len(marked) >= 2  # the dates chosen put several steps on days off
    table = format_table(frame)
    found = events(kind, day)
    checklist = html.unescape(checklist_html(kind, None, day).markup)
    calculator = DeadlineCalculator(kind, day)
    widget = ChecklistWidget(kind)
    widget.date.value = day
    calculator_page, widget_page = html.unescape(calculator.table.value), html.unescape(widget.view.value)
    for row in frame.itertuples():
        event = found[f"【{frame.attrs['kind_label']}】{row.step}"]
        assert event.decoded("DTSTART") == (row.suggested or row.due)
        # the checklist's date cell: the due date with the very mark the table, the .ics and the calculator print
        assert due_text(row.due, row.day_off) in checklist and due_text(row.due, row.day_off) in widget_page
        assert due_text(row.due) in table and due_text(row.due) in calculator_page
        if row.day_off:
            assert row.day_off in table and row.day_off in str(event["DESCRIPTION"])
            assert row.day_off in calculator_page
    spring = frame[frame.due.eq(D(2026, 2, 16))]
    if len(spring):  # 除夕 is named as the holiday it is, and the notice moves before it
        assert spring.day_off.str.startswith("春节休息，建议提前至").all()


def test_the_meeting_rules_on_a_sunday_carry_the_meetings_mark_in_the_checklist():
    page = html.unescape(checklist_html("regular", None, D(2026, 10, 11)).markup)
    meeting_day = due_text(D(2026, 10, 11), "周日（休息日）召开")
    # the meeting row and each meeting-day rule listed under it
    assert page.count(meeting_day) > 3
    assert "2026-10-11 周日（周日休息" not in page  # never advised to move


def test_absentee_step_falls_on_the_rules_deadline():
    """POST-ABSENTEE-INFORMED: the finding's due date is the timeline's date for telling absentees (one number)."""
    batch, subject = apply_mutation(baseline_batch(), "POST-ABSENTEE-INFORMED")
    findings = run_checks(from_batch(batch), None, BASELINE_AS_OF, rules=["POST-ABSENTEE-INFORMED"])
    meeting_id = BASELINE_MEETINGS["regular_h1"]
    finding = findings[findings.meeting_id.eq(meeting_id)].iloc[0]
    meetings = from_batch(batch).meetings.set_index("meeting_id")
    kind, day = meetings.loc[meeting_id, ["kind", "date"]]
    steps = timeline(kind, day.date()).set_index("key")
    assert finding.subject == subject
    assert finding.due.date() == steps.loc["absentee_inform", "due"] == steps.loc["report", "due"]
    # and for 民主生活会 the longer report deadline carries the step along
    lead = timeline("leadership", SUNDAY).set_index("key")
    assert lead.loc["absentee_inform", "due"] == lead.loc["report", "due"] == SUNDAY + dt.timedelta(days=15)


def test_a_profile_still_listing_a_retired_parameter_says_what_governs_now(tmp_path):
    from orglife_nb.errors import OrglifeError
    from orglife_nb.rules.profile import load_profile

    path = tmp_path / "old.yaml"
    path.write_text("absentee_inform_days: 7\n", encoding="utf-8")
    with pytest.raises(OrglifeError, match="absentee_inform_days 已取消.*report_days"):
        load_profile(path)
