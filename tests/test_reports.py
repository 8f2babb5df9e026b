"""Branch and summary reports: every section on every demo branch without a kernel; then real papermill +
nbconvert runs of the notebooks, the public audience against planted sentinels (HTML and PDF text), and user
text payloads opened in real Chromium."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from orglife_nb import demo
from orglife_nb.frames import load
from orglife_nb.models import RECORDS, Meeting, Member, Opinion, Rectification, fields_of
from orglife_nb.reports.branch import BranchReport
from orglife_nb.reports.summary import SummaryReport
from orglife_nb.store import Store

AS_OF = dt.date(2026, 11, 25)
BRANCH_SECTIONS = ("header", "verdict", "meetings_list", "timelines", "talk_coverage", "criticism_coverage",
                   "attendance", "evaluation", "rectification", "cadence", "findings_list", "review_status")
SUMMARY_SECTIONS = ("header", "compliance_by_rule", "branch_ranking", "overdue_rectification", "cadence_grid",
                    "report_lateness", "review_by_superior")
CONFIDENTIAL_SECTIONS = ("verdict", "timelines", "talk_coverage", "criticism_coverage", "attendance", "evaluation",
                         "cadence", "findings_list")


def _render(report, sections) -> str:
    return "".join(str(part) for part in (getattr(report, name)() for name in sections) if part is not None)


@pytest.fixture(scope="module")
def demo_frames(demo_store):
    return load(demo_store)


# ---- sections, without a kernel -----------------------------------------------------------------------------


def test_every_section_renders_for_every_demo_branch(demo_frames):
    for branch_id in demo_frames.branches.branch_id:
        report = BranchReport(branch_id=branch_id, as_of=AS_OF, frames=demo_frames)
        html = _render(report, BRANCH_SECTIONS)
        assert report.branch["name"] in html
        # every section is there with its reading, in order
        headings = re.findall(r"<h2>(.*?)</h2>", html)
        assert headings[0] == "一、总体结论" and headings[-1] == "十、审核情况"
        assert html.count('<p class="reading">') == len(headings)


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_a_prepared_chunk_gives_each_report_what_it_computes_alone(demo_store, demo_frames, audience):
    """Batch runs load and check a chunk of branches once (reports/batch.py); every section must read the same."""
    from orglife_nb.reports import batch

    branch_ids = list(demo_frames.branches.branch_id)
    sections = BRANCH_SECTIONS if audience == "internal" else ("header", "meetings_list", "rectification",
                                                               "review_status")
    alone = {b: _render(BranchReport(demo_store, b, as_of=AS_OF, audience=audience), sections) for b in branch_ids}
    batch.prepare(demo_store, branch_ids, AS_OF.isoformat(), None)
    try:
        for branch_id in branch_ids:
            report = BranchReport(demo_store, branch_id, as_of=AS_OF, audience=audience)
            assert report.chunk is not None
            assert _render(report, sections) == alone[branch_id], branch_id
        # a report the chunk does not cover (another day) computes its own
        assert BranchReport(demo_store, branch_ids[0], as_of="2026-01-01", audience=audience).chunk is None
    finally:
        batch.release()
    assert BranchReport(demo_store, branch_ids[0], as_of=AS_OF, audience=audience).chunk is None


def test_verdict_counts_match_the_checks(demo_frames):
    report = BranchReport(branch_id="B001", as_of=AS_OF, frames=demo_frames)
    f = report.findings
    reading = re.search(r'<p class="reading">(.*?)</p>', str(report.verdict())).group(1)
    assert f"发现违规 {int(f.severity.eq('error').sum())} 条" in reading
    assert f"待办 {int(f.severity.eq('info').sum())} 条" in reading


def test_compliant_branches_report_no_violation(demo_frames):
    for branch_id in demo.COMPLIANT_BRANCHES:
        report = BranchReport(branch_id=branch_id, as_of=demo.BASELINE_AS_OF, frames=demo_frames)
        assert not report.findings.severity.eq("error").any()
        assert "未发现违规" in str(report.verdict())


def test_rectification_buckets_add_up(demo_frames):
    report = BranchReport(branch_id="B003", as_of=AS_OF, frames=demo_frames)
    ledger = report.ledger
    reading = re.search(r'<p class="reading">(.*?)</p>', str(report.rectification())).group(1)
    assert f"整改事项 {len(ledger)} 项" in reading
    for bucket, count in ledger.bucket.value_counts().items():
        assert f"{bucket} {count} 项" in reading


def test_summary_sections_cover_every_branch(demo_frames):
    summary = SummaryReport(as_of=AS_OF, frames=demo_frames)
    html = _render(summary, SUMMARY_SECTIONS)
    for name in demo_frames.branches["name"]:
        assert name in html
    assert html.count("<svg") >= 1  # the lateness histogram
    assert html.count('<td class="cell-ok">已开</td>') + html.count('<td class="missing">未开</td>') >= len(
        demo_frames.branches)  # every branch has a row in the cadence grid


def test_summary_under_one_superior(demo_frames):
    superior = demo_frames.branches.superior.iloc[0]
    summary = SummaryReport(superior=superior, as_of=AS_OF, frames=demo_frames)
    assert set(summary.frames.branches.superior) == {superior}
    assert f"支部 {len(summary.frames.branches)} 个" in str(summary.header())


def test_public_report_has_no_confidential_section(demo_frames):
    report = BranchReport(branch_id="B001", as_of=AS_OF, frames=demo_frames, audience="public")
    for name in CONFIDENTIAL_SECTIONS:
        assert getattr(report, name)() is None, name
    html = _render(report, BRANCH_SECTIONS)
    assert "整改清单" in html and "公示信息" in html


def test_unknown_branch_and_audience_are_chinese_errors(demo_frames):
    from orglife_nb.errors import OrglifeError

    with pytest.raises(OrglifeError, match="没有支部 B999"):
        BranchReport(branch_id="B999", frames=demo_frames)
    with pytest.raises(OrglifeError, match="audience"):
        BranchReport(branch_id="B001", frames=demo_frames, audience="everyone")


# ---- real notebook runs: the public report against planted sentinels ----------------------------------------


def _sentinel_batch() -> tuple[dict, list[str]]:
    """The baseline branch with a distinct sentinel in every text field of a confidential record or field."""
    batch = demo.baseline_batch()
    planted = []
    for record in RECORDS:
        frame = batch[record].copy()
        for spec in fields_of(record):
            if spec.kind == "text" and (record.confidential or spec.confidential) and len(frame):
                sentinel = f"SENTINEL{record.table.upper()}{spec.name.upper().replace('_', '')}"
                frame[spec.name] = [f"{sentinel}{i}" for i in range(len(frame))]
                planted.append(sentinel)
        batch[record] = frame
    return batch, planted


@pytest.fixture(scope="module")
def sentinel_runs(tmp_path_factory):
    from orglife_nb.reports.runner import run_reports

    root = tmp_path_factory.mktemp("sentinel")
    batch, planted = _sentinel_batch()
    url = f"sqlite:///{root / 'store.db'}"
    with Store(url) as store:
        store.save(batch)
    runs = {audience: run_reports(url, as_of=demo.BASELINE_AS_OF, out=root / audience, audience=audience,
                                  pdf=audience == "public", progress=False, echo=lambda _: None)
            for audience in ("internal", "public")}
    return runs, planted, batch


def test_sentinels_were_planted_and_show_in_the_internal_report(sentinel_runs):
    runs, planted, _ = sentinel_runs
    assert {"SENTINELCRITICISMSCONTENT", "SENTINELMEETINGSSUMMARY", "SENTINELMEETINGSSUPERIORCOMMENT"} <= set(planted)
    assert runs["internal"].failed == 0
    internal = (runs["internal"].out / "branches" / f"{demo.BASELINE_BRANCH}.html").read_text(encoding="utf-8")
    # the internal report shows the rating handling (处理意见): the planting reached the notebook
    assert "SENTINELRATINGSHANDLING" in internal


def test_public_html_and_pdf_contain_no_confidential_text(sentinel_runs):
    runs, planted, batch = sentinel_runs
    public = runs["public"]
    assert public.failed == 0, [o.error for o in public.outcomes]
    for outcome in public.outcomes:
        html = open(outcome.html, encoding="utf-8").read()
        leaked = [s for s in planted if s in html]
        assert not leaked, (outcome.key, leaked)
        assert outcome.pdf, outcome.key
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", outcome.pdf, "-"], capture_output=True, text=True,
                              check=True).stdout
        assert not [s for s in planted if s in text.replace("\n", "")], outcome.key
    branch_html = (public.out / "branches" / f"{demo.BASELINE_BRANCH}.html").read_text(encoding="utf-8")
    # what is publishable is there: topics and the rectification list
    assert batch[Meeting].topic.iloc[0] in branch_html
    assert batch[Rectification].problem.iloc[0] in branch_html
    pdf_text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(public.out / "branches" / f"{demo.BASELINE_BRANCH}.pdf"),
                               "-"], capture_output=True, text=True, check=True).stdout
    assert "整改清单" in pdf_text and batch[Meeting].topic.iloc[0][:6] in pdf_text


def test_report_html_is_print_ready_and_offline(sentinel_runs):
    runs, _, _ = sentinel_runs
    html = (runs["internal"].out / "branches" / f"{demo.BASELINE_BRANCH}.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched from the network
    assert "<script" not in html.split("</head>")[1]  # no code, no widgets runtime in the body
    assert "jp-InputArea" not in html and "In&nbsp;[" not in html  # no input cells, no prompts
    assert "remove-cell" not in html and "papermill" not in html.lower().split("</head>")[1]
    assert "@page" in html and "Noto" in html


def test_manifest_and_index_list_every_run(sentinel_runs):
    runs, _, _ = sentinel_runs
    out = runs["public"].out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {row["key"] for row in manifest} == {demo.BASELINE_BRANCH, "summary"}
    assert all(row["status"] == "done" and row["html"] and row["pdf"] for row in manifest)
    assert (out / "manifest.csv").read_bytes().startswith("\ufeff".encode())
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="branches/{demo.BASELINE_BRANCH}.html"' in index and 'href="summary.html"' in index


# ---- user text is escaped: payloads opened in real Chromium -------------------------------------------------

PAYLOADS = ('<script>window.__xss = "script"</script>', '<img src=x onerror="window.__xss = \'img\'">')


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory):
    from orglife_nb.reports.runner import run_reports

    root = tmp_path_factory.mktemp("payload")
    batch = demo.baseline_batch()
    script, img = PAYLOADS
    batch[Meeting] = batch[Meeting].assign(topic=f"主题{script}", place=img)
    batch[Rectification] = batch[Rectification].assign(problem=f"问题{img}", measures=script)
    batch[Opinion] = batch[Opinion].assign(content=img)
    members = batch[Member].copy()
    members.loc[members.index[-1], "name"] = f"王{img}"
    batch[Member] = members
    url = f"sqlite:///{root / 'store.db'}"
    with Store(url) as store:
        store.save(batch)
    run = run_reports(url, as_of=demo.BASELINE_AS_OF, out=root, progress=False, echo=lambda _: None)
    assert run.failed == 0, [o.error for o in run.outcomes]
    return root


@pytest.mark.parametrize("page_name", ["branch", "summary"])
def test_payloads_show_as_text_and_run_nothing(payload_report, page, page_name):
    path = payload_report / ("summary.html" if page_name == "summary" else f"branches/{demo.BASELINE_BRANCH}.html")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    # the load event comes after every image has loaded or failed (an injected onerror would have run by then)
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    assert page.evaluate("window.__xss") is None
    assert not dialogs
    text = page.inner_text("body")
    if page_name == "branch":
        assert f"主题{PAYLOADS[0]}" in text and f"问题{PAYLOADS[1]}" in text
    assert page.locator("img[src=x]").count() == 0


def test_chart_text_is_drawn_inside_its_chart(sentinel_runs, page):
    """Titles, axis labels and legends of every chart lie within the chart's box (nothing clipped), in Chromium."""
    runs, _, _ = sentinel_runs
    out = runs["internal"].out
    checked = 0
    for path in [out / "summary.html", *sorted((out / "branches").glob("*.html"))]:
        page.goto(path.as_uri(), wait_until="load")
        outside = page.evaluate("""() => [...document.querySelectorAll('figure > svg')].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
                const r = t.getBoundingClientRect();
                return (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
                        r.bottom > box.bottom + 1) ? t.textContent : null;
            }).filter(Boolean);
        })""")
        assert outside == [], (path.name, outside)
        checked += page.locator("figure > svg").count()
    assert checked >= 3  # the vote and burn-down charts of a branch and the summary's histogram


def test_payload_in_branch_name_is_escaped_in_the_index(tmp_path):
    from orglife_nb.reports.runner import Outcome, write_index

    outcome = Outcome("B<1>", "failed", error="<script>x</script>")
    write_index(tmp_path, [outcome], Outcome("summary", "done", html=str(tmp_path / "summary.html")),
                {"B<1>": "<img src=x onerror=alert(1)>"}, AS_OF, "internal")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in index and "&lt;img src=x onerror=alert(1)&gt;" in index
    assert "<script>x" not in index


def test_pdftotext_is_available():
    # the public-PDF test above is only meaningful with poppler's pdftotext (CI installs poppler-utils)
    assert shutil.which("pdftotext")


def test_a_failing_branch_is_recorded_and_the_command_exits_1(demo_store, tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from orglife_nb.cli import main
    from orglife_nb.reports import runner

    monkeypatch.setattr(runner, "BRANCH_NOTEBOOK", Path(__file__).parent / "notebooks" / "fails_for_one.ipynb")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--db", demo_store, "--branch", "B001", "--branch", "B002", "--branch", "B003",
              "--as-of", AS_OF.isoformat(), "--out", str(tmp_path)])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "失败：B002" in captured.err and "数据无法出报告" in captured.err
    manifest = {row["key"]: row for row in json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))}
    assert manifest["B002"]["status"] == "failed" and "支部 B002 的数据无法出报告" in manifest["B002"]["error"]
    assert manifest["B001"]["status"] == manifest["B003"]["status"] == "done"  # the others went on
    assert not (tmp_path / "branches" / "B002.html").exists()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<tr class="failed"><td>B002</td>.*?支部 B002 的数据无法出报告', index)
    assert 'href="branches/B001.html"' in index and 'href="branches/B003.html"' in index


def test_report_on_a_missing_or_empty_store_is_a_chinese_error(tmp_path, capsys):
    from orglife_nb.cli import main
    from orglife_nb.store import Store

    absent = tmp_path / "absent.db"
    with pytest.raises(SystemExit) as missing:
        main(["report", "--db", str(absent), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert missing.value.code == 2 and "数据库文件不存在" in err and not absent.exists()
    Store(tmp_path / "empty.db").close()
    with pytest.raises(SystemExit) as empty:
        main(["report", "--db", str(tmp_path / "empty.db"), "--out", str(tmp_path / "out")])
    assert empty.value.code == 2 and "没有任何支部" in capsys.readouterr().err


def test_table_formats_each_value_as_itself_and_escapes_it():
    from orglife_nb.reports.html import table

    frame = pd.DataFrame({"值": [1, 1.0, True, "<b>", None, "2026-07-01", "<b>"]})
    cells = re.findall(r"<td>(.*?)</td>", table(frame))
    assert cells == ["1", "1.0", "True", "&lt;b&gt;", "", '<span class="nowrap">2026-07-01</span>', "&lt;b&gt;"]
