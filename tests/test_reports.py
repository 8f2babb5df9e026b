"""Branch and summary reports: every section on every demo branch without a kernel; then real papermill +
nbconvert runs of the notebooks, the public audience against planted sentinels (HTML and PDF text), and user
text payloads opened in real Chromium."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import numpy as np
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
        assert headings[0] == "一、总体结论" and headings[1] == "二、会议召开情况" and headings[-1] == "十一、审核情况"
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
    assert "其余" not in reading  # the ledger's catch-all bucket is named for readers


def test_the_ledgers_state_words_and_dates_never_break_in_their_narrow_columns(demo_frames):
    from bs4 import BeautifulSoup

    for audience in ("internal", "public"):
        report = BranchReport(branch_id="B003", as_of=AS_OF, frames=demo_frames, audience=audience)
        table = BeautifulSoup(str(report.rectification()), "html.parser").find("table")
        heads = [th.get_text() for th in table.find("thead").find_all("th")]
        for row in table.find("tbody").find_all("tr"):
            cells = dict(zip(heads, row.find_all("td")))
            for column in ("编号", "时限", "状态"):
                if cells[column].get_text():
                    assert cells[column].find("span", class_="nowrap") is not None, (audience, column)


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


def test_public_reports_number_their_own_sections_and_show_one_state_column(demo_frames):
    report = BranchReport(branch_id="B003", as_of=AS_OF, frames=demo_frames, audience="public")
    html = _render(report, BRANCH_SECTIONS)
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["一、会议召开情况", "二、整改清单", "三、审核情况"]
    head = re.search(r"<thead>(.*?)</thead>", str(report.rectification())).group(1)
    assert head.count("<th>状态</th>") == 1 and "分档" not in head and "其余" not in html
    assert report.header().title == f"{report.branch['name']} 公示信息"
    summary = SummaryReport(as_of=AS_OF, frames=demo_frames, audience="public")
    assert re.findall(r"<h2>(.*?)</h2>", _render(summary, SUMMARY_SECTIONS))[0] == "一、整改超期情况"
    assert summary.header().title == "组织生活会汇总报告（公示）"


def test_summary_of_some_branches_does_not_say_all(demo_frames):
    from orglife_nb.frames import subset

    some = ["B001", "B002", "B003"]
    header = str(SummaryReport(branch_ids=some, as_of=AS_OF, frames=subset(demo_frames, some)).header())
    assert "所选支部" in header and "支部 3 个" in header and "全部支部" not in header
    assert "全部支部" in str(SummaryReport(as_of=AS_OF, frames=demo_frames).header())


def test_the_lowest_compliance_reading_names_a_tie_as_a_tie():
    from orglife_nb.reports.summary import _lowest_reading

    ranked = pd.DataFrame({"规则": ["甲", "乙", "丙", "丁", "戊"], "有问题的支部": [2, 2, 2, 2, 1],
                           "合规率": [.8, .8, .8, .8, .9]})
    assert _lowest_reading(ranked, 10) == ("10 个支部中，4 项规则并列合规率最低（80%，各有 2 个支部有问题）："
                                           "“甲”、“乙”、“丙”等。")
    assert "合规率最低的规则是“戊”" in _lowest_reading(ranked.iloc[4:], 10)


def test_report_lateness_counts_whole_days_with_on_time_at_zero():
    from orglife_nb.reports.charts import day_counts

    svg = day_counts(pd.Series([-3.0, 0.0, 0.0, 2.0, None]).clip(lower=0), title="t", xlabel="天", zero="按时")
    labels = re.findall(r'<text[^>]*class="[^"]*"[^>]*>([^<]*)</text>', svg)
    assert "0（按时）" in labels and "1" in labels and "2" in labels and "0.5" not in labels


def test_sources_name_their_documents():
    from orglife_nb.sources import cite

    assert cite("003 民主 二.2") == "《党员领导干部民主生活会制度》二.2"
    assert cite("000 第一篇 2.2；第五篇 (二)1；003 三.1") == \
        "《组织生活会程序》第一篇 2.2；第五篇 (二)1；《基层组织生活会制度》三.1"


def test_findings_name_rules_in_chinese_and_their_sources(demo_frames):
    report = BranchReport(branch_id="B002", as_of=AS_OF, frames=demo_frames)
    html = str(report.findings_list())
    head = re.search(r"<thead>(.*?)</thead>", html).group(1)
    assert re.findall(r"<th>(.*?)</th>", head)[:2] == ["规则", "级别"]
    assert "《" in html and "依据说明" in html and "003 民主" not in html
    verdict = str(report.verdict())
    assert "<th>违规</th>" in verdict and "错误" not in verdict and "警告" not in verdict


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
    from orglife_nb.present.html import table

    frame = pd.DataFrame({"值": [1, 1.0, True, "<b>", None, "2026-07-01", "<b>"]})
    cells = re.findall(r"<td>(.*?)</td>", table(frame))
    assert cells == ["1", "1.0", "True", "&lt;b&gt;", "", '<span class="nowrap">2026-07-01</span>', "&lt;b&gt;"]


# ---- print size: charts, footers, the rule table ---------------------------------------------------------------


def _printed_font_pt(svg: str) -> list[float]:
    """Every pixel font size a chart's own stylesheet sets, in points as printed (report.css scales the chart)."""
    from orglife_nb.reports import charts

    _, _, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    scale = charts.print_scale(height, width)
    return [float(px) * scale * 0.75 for px in re.findall(r"font-size:\s*([\d.]+)px", svg)]


def test_chart_text_prints_at_8_points_or_more():
    from orglife_nb.reports import charts

    rows = charts.rows_per_chart()
    votes = pd.DataFrame({"优秀": range(rows), "合格": range(rows)}, index=[f"党员{i:02d}号" for i in range(rows)])
    days = pd.date_range("2026-01-01", periods=200, freq="D")
    drawn = {"votes": charts.stacked_bars(votes, title="测评票分布", xlabel="票数"),
             "burn-down": charts.lines({"未完成事项": pd.Series(range(200), index=days)}, title="整改进度"),
             "lateness": charts.day_counts(pd.Series(np.arange(40.0)), title="超期天数", xlabel="天")}
    for name, svg in drawn.items():
        sizes = _printed_font_pt(svg)
        assert sizes and min(sizes) >= charts.MIN_PRINT_PT, (name, min(sizes))
    # the burn-down's dates stand upright: six of them fit across the chart
    assert "rotate(" not in drawn["burn-down"].split('class="axis x', 1)[1].split("</g>", 2)[0]
    css = (charts.__file__.rsplit("orglife_nb", 1)[0] + "templates/report/report.css")
    assert f"max-height: {charts.PRINT_HEIGHT_MM}mm" in open(css, encoding="utf-8").read()


def test_a_vote_chart_of_many_members_is_split_into_readable_parts():
    from orglife_nb.reports import charts

    rows = charts.rows_per_chart()
    assert [(p.start, p.stop) for p in charts.split(30, rows)] == [(0, 15), (15, 30)]
    assert [(p.start, p.stop) for p in charts.split(5, rows)] == [(0, 5)]
    # a part of ``rows`` bars is scaled by the page's width only, never shrunk further by its height
    table = pd.DataFrame({"优秀": [1] * rows}, index=[f"党员{i}" for i in range(rows)])
    height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', charts.stacked_bars(table, title="t")).group(1))
    assert charts.print_scale(height) == charts.print_scale(1)


def test_the_pdf_footer_prints_at_8_points_or_more():
    from orglife_nb.reports.export import PDF_FOOTER

    size = re.search(r"font-size:\s*([\d.]+)(pt|px)", PDF_FOOTER)
    assert float(size[1]) * (1 if size[2] == "pt" else 0.75) >= 8


def test_the_rule_table_of_the_summary_speaks_chinese(demo_frames):
    from orglife_nb.rules.registry import rule_table

    html = str(SummaryReport(as_of=AS_OF, frames=demo_frames).compliance_by_rule())
    headers = re.findall(r"<th>(.*?)</th>", html)
    assert headers == ["规则", "类别", "有问题的支部", "合规率", "依据"]
    assert not [rule for rule in rule_table().rule if rule in html]  # no rule id (PREP-PLAN …) in the table
    assert "《基层组织生活会制度》" in html and "依据说明" in html
