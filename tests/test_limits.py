"""Bounds that keep one bad branch from taking the machine: chart labels, report kernels' memory and time, report
sizes. A regression must fail, not hang the suite: risky work runs in a subprocess under RLIMIT_AS and a timeout."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHART_MEMORY = 1536 * 2**20  # bytes: RLIMIT_AS of the chart subprocess (a Python with pandas and pygal ≈ 0.5 GiB)


def _bounded_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter limited to CHART_MEMORY of address space and ``timeout`` seconds."""
    limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({CHART_MEMORY}, {CHART_MEMORY}))\n"
    try:
        return subprocess.run([sys.executable, "-c", limit + textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"超过 {timeout} 秒仍未画完（pygal 的标题拆分死循环？）")


@pytest.mark.parametrize("length", [105, 200, 10_000])
def test_a_long_member_name_draws_the_evaluation_chart_quickly(length):
    result = _bounded_python(f"""
        import pandas as pd
        from orglife_nb.reports import charts

        names = ["张" * {length}, "李四", "王" * {length} + "五"]
        tally = pd.DataFrame({{"优秀": [3, 1, 0], "合格": [1, 2, 4], "基本合格": [0, 1, 0]}}, index=names)
        svg = charts.stacked_bars(tally, title="测评票分布" * {length}, xlabel="票数" * {length})
        print(len(svg), svg.count("…"))
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    size, ellipses = map(int, result.stdout.split())
    assert size < 100_000 and ellipses >= 2  # the long names are cut, visibly


def test_clip_bounds_display_width():
    from orglife_nb.textable import clip, display_width

    assert clip("张三", 24) == "张三" and clip("a" * 24, 24) == "a" * 24
    assert clip("张" * 12, 24) == "张" * 12
    assert clip("张" * 13, 24) == "张" * 11 + "…"
    assert clip("x" * 10_000_000, 24) == "x" * 23 + "…"
    for text in ("张" * 200, "ab张" * 50, "a\u0301" * 100):
        assert display_width(clip(text, 24)) <= 24


# ---- report kernels: memory and time caps -----------------------------------------------------------------------

LIMITS_NOTEBOOK = Path(__file__).parent / "notebooks" / "limits_for_one.ipynb"
AS_OF = "2026-07-15"


@pytest.mark.parametrize("engine", ["warm", "papermill"])
def test_a_report_past_its_memory_or_time_cap_fails_alone(demo_store, tmp_path, monkeypatch, capsys, engine):
    """B001's report allocates without end, B002's never finishes: each fails with its reason, the kernel is
    replaced, B003, B004 and the summary are done, and the run exits 1."""
    from orglife_nb.cli import main
    from orglife_nb.reports import runner

    monkeypatch.setattr(runner, "BRANCH_NOTEBOOK", LIMITS_NOTEBOOK)
    args = ["report", "--db", demo_store, "--as-of", AS_OF, "--out", str(tmp_path), "--engine", engine,
            "--max-memory", "2048", "--timeout", "20"]
    for branch in ("B001", "B002", "B003", "B004"):
        args += ["--branch", branch]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "失败：B001：超出内存上限 2048 MB" in err and "失败：B002：超时 20 秒" in err
    manifest = {row["key"]: row for row in json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))}
    assert {key: row["status"] for key, row in manifest.items()} == {
        "B001": "failed", "B002": "failed", "B003": "done", "B004": "done", "summary": "done"}
    assert manifest["B001"]["error"] == "超出内存上限 2048 MB" and manifest["B002"]["error"] == "超时 20 秒"
    assert "报告 B003" in (tmp_path / "branches" / "B003.html").read_text(encoding="utf-8")
    assert not (tmp_path / "branches" / "B001.html").exists()


# ---- report sizes and PDFs: a failure is counted, never silent -------------------------------------------------


def test_long_free_texts_print_in_a_report_of_ordinary_size(demo_store, tmp_path):
    """A topic of 32,767 characters (the most a workbook cell holds) and member names of 10,000: the report shows
    their beginnings, stays small, and its PDF prints."""
    import shutil

    from sqlalchemy import text

    from orglife_nb.reports import runner
    from orglife_nb.store import Store

    path = tmp_path / "store.db"
    shutil.copy(demo_store.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction() as connection:
        connection.execute(text("update meetings set topic = :t where branch_id = 'B001'"), {"t": "议" * 32_767})
        connection.execute(text("update members set name = :n || member_id where branch_id = 'B001'"),
                           {"n": "名" * 10_000})
        connection.execute(text("update branches set name = :n where branch_id = 'B001'"), {"n": "支" * 10_000})
    summary = runner.run_reports(url, branches=["B001"], as_of=dt.date(2026, 7, 15), out=tmp_path / "out",
                                 pdf=True, progress=False)
    assert summary.failed == 0, [o.error for o in summary.outcomes]
    html = (tmp_path / "out" / "branches" / "B001.html").read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 2 * 2**20 and "议" * 100 in html and "议" * 1001 not in html
    assert "名" * 5 + "…（B001-01）" in html and "名" * 1001 not in html  # cut, and still told apart
    assert (tmp_path / "out" / "branches" / "B001.pdf").stat().st_size > 10_000
    for page in ("index.html", "summary.html", "branches/B001.html"):
        assert "支" * 1001 not in (tmp_path / "out" / page).read_text(encoding="utf-8"), page


def test_a_report_whose_pdf_fails_is_counted_failed(tmp_path):
    from orglife_nb.reports import runner

    outcomes = []
    for key in ("A", "B", "C"):
        html = tmp_path / f"{key}.html"
        if key != "B":  # B's page is gone by the time it is printed: Chromium cannot load it
            html.write_text(f"<!DOCTYPE html><html><body><p>报告 {key}</p></body></html>", encoding="utf-8")
        outcomes.append(runner.Outcome(key, "done", html=str(html)))
    runner._print_pdfs(outcomes)
    assert [o.status for o in outcomes] == ["done", "failed", "done"]
    assert outcomes[1].error.startswith("PDF 打印失败：") and not (tmp_path / "B.pdf").exists()
    assert (tmp_path / "A.pdf").read_bytes().startswith(b"%PDF") and (tmp_path / "C.pdf").exists()
    assert runner.RunSummary(tmp_path, outcomes).failed == 1
    assert "失败 1 份" in runner.RunSummary(tmp_path, outcomes).describe()


def test_an_oversized_report_fails_with_its_size(tmp_path, monkeypatch):
    from orglife_nb.reports import runner

    monkeypatch.setattr(runner, "MAX_HTML_MB", 0.005)  # the misbehave notebook's page is ~8 KB
    job = runner.Job(key="big", notebook=Path(__file__).parent / "notebooks" / "misbehave.ipynb",
                     parameters={"mode": "ok"}, html=tmp_path / "big.html")
    try:
        outcome = runner.execute_job(job)
    finally:
        runner.close_worker_engines()
    assert outcome.status == "failed" and re.fullmatch(r"报告过大：[\d.]+ MB，超过上限 0.005 MB", outcome.error)
    assert not job.html.exists()
