"""Training (issue 8): practice case and scoring, decoys, walkthrough, deadline widget, checklists (HTML + PDF),
the ``orglife training --checklists`` command, and the notebook run headless by papermill with two seeds."""
from __future__ import annotations

import base64
import datetime as dt
import html
import re

import nbformat
import pytest

from orglife_nb.cli import main
from orglife_nb.deadlines import timeline, to_ics
from orglife_nb.demo import BASELINE_AS_OF, baseline_batch
from servekit import started_url
from orglife_nb.frames import from_batch
from orglife_nb.models import MeetingKind
from orglife_nb.rules import RULES, get_rule, run_checks
from orglife_nb.training import make_case
from orglife_nb.training.practice import PROBLEM_SEVERITIES, VARIANTS
from orglife_nb.training.procedures import EVIDENCE, PROCEDURES, procedure_table
from orglife_nb.training.views import checklist_html, result_html, timeline_html, walkthrough_html

SEEDS = (1, 2, 3, 7)


@pytest.fixture(scope="module")
def cases():
    return {seed: make_case(seed) for seed in SEEDS}


# ---- the practice case -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"committee={v['has_committee']},group={v['leadership_group']}")
def test_every_variant_starts_compliant(variant):
    """The case's problems are only the planted ones: its starting branch has no error or warning."""
    findings = run_checks(from_batch(baseline_batch(**variant)), None, BASELINE_AS_OF)
    assert not findings.severity.isin(PROBLEM_SEVERITIES).any(), findings[["rule", "message"]]


def test_same_seed_same_case_and_seeds_differ(cases):
    again = make_case(1)
    assert [(c.key, c.text, c.real) for c in again.candidates] == [(c.key, c.text, c.real) for c in cases[1].candidates]
    assert len({tuple(sorted(case.planted)) for case in cases.values()}) == len(cases)


def test_answer_key_is_the_real_checks(cases):
    for case in cases.values():
        problems = run_checks(case.frames, None, case.as_of)
        problems = problems[problems.severity.isin(PROBLEM_SEVERITIES)]
        key = sorted((c.rule, c.meeting_id, c.message) for c in case.real)
        assert key == sorted(zip(problems.rule, problems.meeting_id, problems.message))
        assert len(case.real) >= 3 and set(case.planted) <= {c.rule for c in case.real}


def test_decoys_are_plausible_and_never_a_real_finding(cases):
    for case in cases.values():
        assert len(case.decoys) == len(case.real)
        findings = case.findings
        pairs = set(zip(findings.rule, findings.meeting_id))
        for decoy in case.decoys:
            assert (decoy.rule, decoy.meeting_id) not in pairs
            assert decoy.message not in set(findings.message)
            # worded like a real finding: a real rule, a real meeting of the case, a Chinese message
            assert get_rule(decoy.rule) and decoy.meeting_id in set(case.frames.meetings.meeting_id)
            assert re.search(r"[\u4e00-\u9fff]", decoy.message)


def test_perfect_answers_score_full(cases):
    for case in cases.values():
        result = case.score([c.key for c in case.real])
        assert result.score == 100 and result.perfect
        assert not result.misses and not result.false_alarms
        assert "全部判断正确" in result_html(case, result).markup


def test_each_omission_is_a_named_miss(cases):
    case = cases[1]
    for left_out in case.real:
        result = case.score([c.key for c in case.real if c is not left_out])
        assert [c.key for c in result.misses] == [left_out.key]
        assert result.score == round(100 * (len(case.real) - 1) / len(case.real))
        page = result_html(case, result).markup
        rule = get_rule(left_out.rule)
        assert f'data-rule="{rule.id}"' in page
        for shown in (rule.id, rule.title, rule.source, left_out.message, EVIDENCE[rule.id]):
            assert html.escape(shown, quote=True) in page


def test_false_alarms_cost_points_and_are_explained(cases):
    case = cases[2]
    decoy = case.decoys[0]
    result = case.score([c.key for c in case.real] + [decoy.key])
    assert result.false_alarms == [decoy] and result.score < 100
    assert "误判" in result_html(case, result).markup
    assert case.score([c.key for c in case.candidates]).score == 0  # ticking everything is no strategy
    assert case.score([]).score == 0


# (real problems, found, decoys ticked) → score: each find earns 100/real, each decoy takes one share back, ≥ 0
SCORES = [
    (4, 4, 0, 100), (4, 3, 0, 75), (4, 2, 0, 50), (4, 1, 0, 25), (4, 0, 0, 0),
    (4, 4, 1, 75), (4, 3, 1, 50), (4, 2, 1, 25), (4, 1, 1, 0), (4, 4, 2, 50), (4, 1, 2, 0), (4, 4, 4, 0),
    (3, 1, 0, 33), (3, 2, 0, 67), (3, 3, 1, 67), (3, 2, 1, 33),
    (0, 0, 0, 100), (0, 0, 1, 0),
]


@pytest.mark.parametrize("real, found, wrong, score", SCORES)
def test_score_table(cases, real, found, wrong, score):
    from orglife_nb.training.practice import Result

    pool = cases[1].candidates
    result = Result(hits=pool[:found], misses=pool[found:real], false_alarms=pool[real:real + wrong])
    assert result.score == score
    assert result.summary() == (f"得分 {score} 分（满分 100）：真实问题 {real} 个，找到 {found} 个，"
                                f"漏掉 {real - found} 个，误判 {wrong} 个")


def test_score_of_the_default_case_from_ticks():
    """The notebook's default case (seed DEFAULT_SEED) has 4 real problems and 4 decoys: literal scores."""
    from orglife_nb.training.practice import DEFAULT_SEED

    case = make_case(DEFAULT_SEED)
    assert (len(case.real), len(case.decoys)) == (4, 4)
    real, decoys = [c.key for c in case.real], [c.key for c in case.decoys]
    assert case.score(real[1:]).score == 75
    assert case.score(real + decoys[:1]).score == 75
    assert case.score(real[:2] + decoys[:1]).score == 25
    assert case.score(real[:1] + decoys[:2]).score == 0


def test_result_html_escapes_statement_text(cases):
    from dataclasses import replace

    case = cases[1]
    planted = replace(case.real[0], text="<script>alert(1)</script>")
    result = case.score([])
    result.misses[0] = planted
    page = result_html(case, result).markup
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_record_tables_are_readable():
    from orglife_nb.training.records import record_tables

    tables = record_tables(make_case(3).frames)
    assert {"支部", "党员", "会议", "出席", "整改事项"} <= set(tables)
    meetings = tables["会议"]
    assert "召开日期" in meetings.index
    assert all(any(c.endswith(k.label) for k in MeetingKind) for c in meetings.columns)  # "2025-06-20 组织生活会"
    attendance = tables["出席"]
    assert "党员" in attendance.columns and set(attendance["出席情况"]) <= {"出席", "请假", "缺席"}
    assert not attendance["党员"].str.startswith("B001").any()  # names, not ids


# ---- walkthrough and checklists --------------------------------------------------------------------------------


def test_evidence_covers_exactly_the_rule_table():
    assert set(EVIDENCE) == {r.id for r in RULES}


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.key)
def test_walkthrough_lists_every_rule_with_its_source(procedure):
    frame = procedure_table(procedure.key)
    expected = {r.id for r in RULES if procedure.kind.value in r.applies_to and r.family in procedure.families}
    assert expected <= set(frame.rule) and set(frame.rule) - {""} <= expected
    page = walkthrough_html(procedure.key).markup
    for rule_id in expected:
        rule = get_rule(rule_id)
        assert rule.id in page and rule.title in page
    for source in frame.source:
        assert source in page
    if procedure.key != "evaluation":
        stages = list(dict.fromkeys(frame.stage))
        assert stages[:3] == ["会前准备", "召开会议", "会后整改"]


def test_walkthrough_dates_follow_the_profile():
    default = procedure_table("regular").set_index("item")
    lenient = procedure_table("regular", "lenient").set_index("item")
    notice = next(i for i in default.index if i.startswith("通知应到会人员"))
    assert default.loc[notice, "when"] == "会前 10 天"
    assert lenient.loc[notice, "when"] != default.loc[notice, "when"]


@pytest.mark.parametrize("kind", list(MeetingKind), ids=lambda k: k.value)
def test_checklist_has_what_when_and_evidence(kind):
    date = dt.date(2026, 9, 30)
    frame = procedure_table(kind, None, date)
    page = checklist_html(kind, None, date).markup
    assert f"{kind.label}工作清单" in page
    for rule_id in set(frame.rule) - {""}:
        assert EVIDENCE[rule_id].replace("“", "&ldquo;") in page or EVIDENCE[rule_id] in page
    notice = timeline(kind, date).set_index("key").loc["notice"]
    assert notice.due.isoformat() in page  # dated for the given meeting, same deadline as `orglife deadlines`


def test_checklists_html_and_pdf(tmp_path):
    code = None
    try:
        main(["training", "--checklists", str(tmp_path), "--date", "2026-06-24"])
    except SystemExit as exit_:
        code = exit_.code
    assert code in (None, 0)
    for kind in MeetingKind:
        html = (tmp_path / f"checklist-{kind.value}-2026-06-24.html").read_text(encoding="utf-8")
        assert f"{kind.label}工作清单" in html and "<script" not in html.split("</head>")[1]
        text = pdf_text(tmp_path / f"checklist-{kind.value}-2026-06-24.pdf")
        assert f"{kind.label}工作清单" in text and "2026-06-24" in text


def pdf_text(pdf) -> str:
    """The text poppler's pdftotext reads from a PDF (a path or its bytes): a PDF by content, not by magic bytes."""
    import subprocess
    import tempfile

    if isinstance(pdf, bytes):
        with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as handle:
            handle.write(pdf)
        pdf = handle.name
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\n", "")


def ics_events(data: bytes) -> tuple[str, list[tuple[dt.date, dt.date, str]]]:
    """(calendar name, [(start, end, summary)]) of an .ics, read with the icalendar parser."""
    from icalendar import Calendar

    calendar = Calendar.from_ical(data)
    events = [(e.decoded("dtstart"), e.decoded("dtend"), str(e.get("summary"))) for e in calendar.walk("VEVENT")]
    return str(calendar.get("x-wr-calname")), events


# ---- deadline calculator ---------------------------------------------------------------------------------------


def test_timeline_table_flags_days_off_and_suggests_a_working_day():
    frame = timeline("regular", dt.date(2026, 10, 12))  # notice −10 = 2026-10-02, in the 国庆节 holiday
    page = timeline_html(frame).markup
    notice = frame.set_index("key").loc["notice"]
    assert not notice.workday and notice.holiday == "国庆节"
    assert notice.holiday in page and notice.suggested.isoformat() in page
    off = (~frame.workday.astype(bool)).sum()
    assert len(re.findall(r'<tr><td class="nowrap late">\d{4}-', page)) == off > 0
    assert len(re.findall(r"<tr>", page)) == len(frame) + 1


def test_deadline_widget_uses_the_timeline_and_offers_the_ics():
    from orglife_nb.training.widgets import DeadlineCalculator

    calculator = DeadlineCalculator("special", dt.date(2026, 10, 12), "default")
    expected = timeline("special", dt.date(2026, 10, 12))
    assert list(calculator.frame.due) == list(expected.due)
    encoded = re.search(r'href="data:text/calendar;base64,([^"]+)"', calculator.download.value).group(1)
    name, events = ics_events(base64.b64decode(encoded))
    assert name == "专题组织生活会 2026-10-12 时间表"
    # one all-day event per step, on the due date or, where that is a day off (国庆), the working day before it
    assert [(start.isoformat(), summary) for start, _, summary in events] == [
        ("2026-09-24", "【专题组织生活会】会议方案报上级党组织审核"),
        ("2026-09-30", "【专题组织生活会】通知应到会人员（会议日期和议题）"),
        ("2026-09-30", "【专题组织生活会】报告上级党组织（以便派人参加）"),
        ("2026-09-30", "【专题组织生活会】完成会前学习（原则上不少于1天，其中集中学习不少于半天）"),
        ("2026-09-30", "【专题组织生活会】征求党员群众意见并形成书面汇总"),
        ("2026-09-30", "【专题组织生活会】完成谈心谈话（书记与每名党员、委员之间、上级与书记）"),
        ("2026-09-30", "【专题组织生活会】提交对照检查材料（或发言提纲）"),
        ("2026-10-09", "【专题组织生活会】涉及班子成员的意见反馈本人"),
        ("2026-10-10", "【专题组织生活会】上级审核把关对照检查材料"),
        ("2026-10-12", "【专题组织生活会】召开专题组织生活会"),
        ("2026-10-22", "【专题组织生活会】向缺席人员转告会议情况和批评意见"),  # due with the report (the rule's)
        ("2026-10-22", "【专题组织生活会】会议情况报告和会议记录报上级党组织"),
        ("2026-10-22", "【专题组织生活会】整改清单公示（目标、措施、责任人、时限）"),
        ("2026-11-12", "【专题组织生活会】向干部群众通报会议情况和整改措施"),  # every kind (rev 2), a calendar month (rev 3)
    ]
    assert all(end - start == dt.timedelta(days=1) for start, end, _ in events)
    assert 'download="deadlines-special-2026-10-12.ics"' in calculator.download.value
    calculator.kind.value = "leadership"  # the table follows the controls
    assert len(calculator.frame) == len(timeline("leadership", dt.date(2026, 10, 12)))


def test_practice_widget_scores_ticks():
    from orglife_nb.training.widgets import PracticeWidget

    widget = PracticeWidget(2)
    for candidate in widget.case.real[1:]:
        widget.boxes[candidate.key].value = True
    result = widget.show_result()
    assert [c.key for c in result.misses] == [widget.case.real[0].key]
    assert "漏掉的问题" in widget.result.value
    widget.load(3)  # 换一个案例
    assert widget.case.seed == 3 and widget.ticked() == []


# ---- the notebook under papermill ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 5])
def test_notebook_runs_headless_with_seed(tmp_path, seed):
    import papermill

    from orglife_nb.resources import notebook

    out = tmp_path / f"training-{seed}.ipynb"
    papermill.execute_notebook(str(notebook("training.ipynb")), str(out), parameters={"seed": seed},
                               kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    shown = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert f"BoundedIntText(value={seed}, description='案例编号'" in shown
    assert sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs) == 4


def test_orglife_training_starts_voila_and_stops_on_sigterm(tmp_path):
    """`orglife training --port N` serves the training notebook until a plain kill."""
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from orglife_nb.voila import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "orglife_nb.cli", "training", "--port", str(port), "--pool",
                                "1", "--log", str(tmp_path / "serve.log")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        url = started_url(process)  # printed once Voila answers, after a line saying it is starting
        assert url == f"http://127.0.0.1:{port}/", url
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as answer:
            page = answer.read().decode("utf-8")
        assert answer.status == 200 and "组织生活会培训" in page
    finally:
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        process.wait(timeout=30)
    assert time.monotonic() - started < 30 and process.returncode == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_checklist_widget_offers_html_and_pdf_downloads():
    from orglife_nb.training.widgets import ChecklistWidget

    widget = ChecklistWidget("leadership")
    assert "民主生活会工作清单" in widget.view.value
    assert 'download="checklist-leadership.html"' in widget.links.value
    widget.date.value = dt.date(2026, 11, 20)
    assert "2026-11-20" in widget.view.value and 'download="checklist-leadership-2026-11-20.html"' in widget.links.value
    widget.make_pdf()  # Chromium in a worker thread, as inside the kernel's event loop
    encoded = re.search(r'href="data:application/pdf;base64,([^"]+)"', widget.links.value).group(1)
    text = pdf_text(base64.b64decode(encoded))
    assert "民主生活会工作清单" in text and "2026-11-20" in text
