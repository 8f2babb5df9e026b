"""Report runs at scale: the warm-kernel engine against stock papermill, confidentiality between branches in one
kernel, lost kernels, resume, interruption, and runs on a Dask LocalCluster."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from orglife_nb.reports import runner
from orglife_nb.reports.engines import make_engine
from orglife_nb.reports.export import notebook_to_html
from orglife_nb.store import Store

FIXTURES = Path(__file__).parent / "notebooks"
FACTS = FIXTURES / "branch_facts.ipynb"
MISBEHAVE = FIXTURES / "misbehave.ipynb"
AS_OF = dt.date(2026, 7, 15)


def normalised(html: str) -> str:
    """Rendered output without what differs between any two runs: the injected cell's random id, timestamps."""
    html = re.sub(r'id="cell-id=[0-9a-f]{8}(-[0-9a-f-]+)?"', 'id="cell-id=*"', html)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "<time>", html)


@pytest.fixture(scope="module")
def branches(demo_store):
    with Store(demo_store) as store:
        return list(store.branch_names())


@pytest.fixture(scope="module")
def warm():
    engine = make_engine("warm")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def stock_facts(demo_store, branches):
    """Stock papermill (a fresh kernel) on the fixture notebook for branch B, and the executed notebook."""
    node = make_engine("papermill").execute(FACTS, {"db": demo_store, "branch_id": branches[1]})
    return node, notebook_to_html(node)


# ---- 1. warm kernel -------------------------------------------------------------------------------------------


def test_warm_kernel_renders_what_stock_papermill_renders(warm, demo_store, branches, stock_facts):
    stock_node, stock_html = stock_facts
    node = warm.execute(FACTS, {"db": demo_store, "branch_id": branches[1]})
    assert normalised(notebook_to_html(node)) == normalised(stock_html)
    # the saved notebook carries papermill's injected cell and metadata, as a stock run's does
    injected = [c for c in node.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f'branch_id = "{branches[1]}"' in injected[0].source
    assert [c.source for c in node.cells] == [c.source for c in stock_node.cells]
    for key in ("parameters", "default_parameters", "input_path", "version", "exception"):
        assert node.metadata.papermill[key] == stock_node.metadata.papermill[key], key
    assert node.metadata.papermill["duration"] > 0
    assert all("papermill" in cell.metadata for cell in node.cells)


def test_a_branch_run_after_another_in_one_kernel_equals_it_run_alone(warm, demo_store, branches, stock_facts):
    first, second = branches[0], branches[1]
    pid = warm.execute(FACTS, {"db": demo_store, "branch_id": first}) and warm.pid
    node = warm.execute(FACTS, {"db": demo_store, "branch_id": second})
    assert warm.pid == pid  # the same kernel ran both
    html = notebook_to_html(node)
    assert normalised(html) == normalised(stock_facts[1])
    assert "之前的支部： None" in html and first not in html  # nothing of the first branch is reachable


def test_the_real_branch_report_is_the_same_warm_and_stock(warm, demo_store, branches):
    parameters = {"db": demo_store, "branch_id": branches[2], "as_of": AS_OF.isoformat(), "audience": "internal",
                  "profile": ""}
    stock = notebook_to_html(make_engine("papermill").execute(runner.BRANCH_NOTEBOOK, parameters))
    warm.execute(runner.BRANCH_NOTEBOOK, {**parameters, "branch_id": branches[3]})  # another branch first
    assert normalised(notebook_to_html(warm.execute(runner.BRANCH_NOTEBOOK, parameters))) == normalised(stock)


def test_the_report_exporter_gives_the_stock_html_exporter_page(warm, demo_store, branches):
    """Ours skips only the stock exporter's closing re-parse (focus marks on notebook areas, placeholder alt),
    which finds nothing to mark in a report: parsed, the two pages are the same document."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from orglife_nb.reports.export import REPORT_TEMPLATE, TEMPLATES, html_exporter

    ours = html_exporter()
    stock = HTMLExporter(template_name=REPORT_TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                         exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    stock.language_code = ours.language_code
    stock.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
    assert type(ours).__mro__[1] is HTMLExporter
    node = warm.execute(runner.BRANCH_NOTEBOOK, {"db": demo_store, "branch_id": branches[2],
                                                 "as_of": AS_OF.isoformat(), "audience": "internal", "profile": ""})
    html = notebook_to_html(node)  # first: it titles the notebook after the report's header
    stock_html = stock.from_notebook_node(node)[0]
    assert "tabindex" not in stock_html and 'alt="No description' not in stock_html
    assert str(BeautifulSoup(html, "html.parser")) == stock_html
    assert "<svg" in html and "八、整改台账" in html and re.search(r"<title>\S+ 组织生活会情况报告</title>", html)


def test_a_chunk_shares_one_load_and_renders_what_single_runs_render(warm, demo_store, branches, tmp_path):
    """render_chunk tells the kernel the chunk's branches first; each report must still be the one it is alone."""
    parameters = {"db": demo_store, "as_of": AS_OF.isoformat(), "audience": "internal", "profile": ""}
    chosen = branches[:3]
    alone = {b: notebook_to_html(warm.execute(runner.BRANCH_NOTEBOOK, {**parameters, "branch_id": b}))
             for b in chosen}
    jobs = [runner.Job(key=b, notebook=runner.BRANCH_NOTEBOOK, parameters={**parameters, "branch_id": b},
                       html=tmp_path / f"{b}.html") for b in chosen]
    try:
        rendered = list(runner.render_chunk(jobs))
        engine = runner.worker_engine(jobs[0].engine)
        # the kernel had the chunk while it ran and let go of it after
        node = engine.execute(FACTS, {"db": demo_store, "branch_id": chosen[0]})
    finally:
        runner.close_worker_engines()
    assert [r.outcome.key for r in rendered] == chosen and {r.outcome.status for r in rendered} == {"done"}
    for r in rendered:
        assert normalised(r.html) == normalised(alone[r.outcome.key]), r.outcome.key
    assert "之前的支部： None" in notebook_to_html(node)


def test_chunks_balance_workers_and_keep_the_summary_alone(tmp_path):
    jobs = [runner.Job(key=f"B{i:03}", notebook=runner.BRANCH_NOTEBOOK, parameters={}, html=tmp_path / "x")
            for i in range(1000)] + [runner.Job(key="summary", notebook=runner.SUMMARY_NOTEBOOK, parameters={},
                                                html=tmp_path / "s")]
    for threads in (1, 2, 8):
        for count in (3, 24, 1001):
            parts = runner.chunks(jobs[-count:], threads)
            assert sorted(j.key for part in parts for j in part) == sorted(j.key for j in jobs[-count:])
            summary = [part for part in parts if any(j.key == "summary" for j in part)]
            assert summary == [[jobs[-1]]]
            assert parts.index(summary[0]) == (0 if threads > 1 else len(parts) - 1)
            sizes = [len(part) for part in parts if part != summary[0]]
            assert max(sizes) <= runner.MAX_CHUNK
            assert len(sizes) >= min(threads, count - 1)  # every worker thread gets work…
            assert max(sizes) - min(sizes) <= max(1, max(sizes) // 2)  # …in shares of about one size
            if count - 1 <= threads * runner.MAX_CHUNK:
                assert len(sizes) == min(threads, count - 1)  # and as few chunks as that takes


def test_a_kernel_that_dies_is_replaced_and_the_branch_retried_once(tmp_path):
    engine = make_engine("warm", timeout=60)
    try:
        marker = tmp_path / "died-once"
        node = engine.execute(MISBEHAVE, {"mode": "die-once", "marker": str(marker)})
        assert marker.exists() and engine.restarts == 1  # the first attempt killed its kernel
        assert "正常完成 die-once" in node.cells[-1].outputs[0].text
        with pytest.raises(Exception, match="内核意外退出.*重试一次") as failure:
            engine.execute(MISBEHAVE, {"mode": "die"})
        assert type(failure.value).__name__ == "KernelLost" and engine.restarts == 3
        # the next branch runs on the replacement kernel
        assert "正常完成 ok" in engine.execute(MISBEHAVE, {"mode": "ok"}).cells[-1].outputs[0].text
    finally:
        engine.close()


def test_a_hung_kernel_fails_its_branch_and_the_batch_goes_on(tmp_path):
    jobs = [runner.Job(key=mode, notebook=MISBEHAVE, parameters={"mode": mode}, html=tmp_path / f"{mode}.html",
                       timeout=2) for mode in ("hang", "fail", "ok")]
    outcomes = {o.key: o for o in runner._run_all(jobs, 1, False, "测试")}
    assert outcomes["hang"].status == "failed" and outcomes["hang"].error == "超时 2 秒"  # not retried: it would hang again
    assert outcomes["fail"].status == "failed" and "笔记本自身出错" in outcomes["fail"].error
    assert outcomes["ok"].status == "done" and "正常完成 ok" in (tmp_path / "ok.html").read_text(encoding="utf-8")
    assert not (tmp_path / "hang.html").exists() and not list(tmp_path.glob("*.part"))


# ---- 2. resume and interruption -------------------------------------------------------------------------------


def _manifest(out: Path) -> dict[str, dict]:
    return {row["key"]: row for row in json.loads((out / "manifest.json").read_text(encoding="utf-8"))}


def _touch_branch(url: str, branch: str) -> None:
    """A data change as the store records one: a row of the branch updated, with its time stamp."""
    from sqlalchemy import text

    with Store(url) as store, store.transaction() as connection:
        connection.execute(text("update meetings set topic = topic || '（修订）', updated_at = :now "
                                "where meeting_id = (select min(meeting_id) from meetings where branch_id = :b)"),
                           {"now": dt.datetime.now().replace(microsecond=0), "b": branch})


@pytest.fixture
def own_store(tmp_path, demo_store):
    """A copy of the demo store this test may change."""
    import shutil

    path = tmp_path / "store.db"
    shutil.copy(demo_store.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def test_resume_skips_reports_newer_than_their_data(own_store, branches, tmp_path):
    out = tmp_path / "out"
    chosen = branches[:2]
    first = runner.run_reports(own_store, branches=chosen, as_of=AS_OF, out=out, progress=False)
    assert first.failed == 0 and first.count("done") == 3, [o.error for o in first.outcomes]
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*.html") if p.name != "index.html"}

    again = runner.run_reports(own_store, branches=chosen, as_of=AS_OF, out=out, progress=False, resume=True)
    assert again.count("skipped") == 3 and again.count("done") == 0
    assert {p: p.stat().st_mtime_ns for p in written} == written  # nothing rewritten
    assert {row["status"] for row in _manifest(out).values()} == {"skipped"}

    _touch_branch(own_store, chosen[1])
    third = runner.run_reports(own_store, branches=chosen, as_of=AS_OF, out=out, progress=False, resume=True)
    status = {o.key: o.status for o in third.outcomes}
    assert status == {chosen[0]: "skipped", chosen[1]: "done", "summary": "done"}
    assert "（修订）" in (out / "branches" / f"{chosen[1]}.html").read_text(encoding="utf-8")

    # other parameters are another report: nothing skipped
    public = runner.run_reports(own_store, branches=chosen, as_of=AS_OF, out=out, audience="public",
                                progress=False, resume=True)
    assert public.count("skipped") == 0


def test_a_newer_notebook_makes_its_reports_stale(tmp_path):
    notebook = tmp_path / "report.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    job = runner.Job(key="B1", notebook=notebook, parameters={}, html=tmp_path / "B1.html", data="x|1")
    job.html.write_text("<html></html>", encoding="utf-8")
    done = {"status": "done", "fingerprint": job.fingerprint, "data": "x|1"}
    os.utime(notebook, (time.time() - 100,) * 2)
    assert runner.fresh(job, done, dt.datetime.now() - dt.timedelta(minutes=5), pdf=False)
    assert not runner.fresh(job, done, dt.datetime.now() + dt.timedelta(minutes=5), pdf=False)  # data changed
    assert not runner.fresh(job, {**done, "data": "x|0"}, None, pdf=False)  # a row was deleted
    assert not runner.fresh(job, done, None, pdf=True)  # a PDF is wanted and there was none
    os.utime(notebook, (time.time() + 100,) * 2)
    assert not runner.fresh(job, done, None, pdf=False)  # the notebook changed after the report


def test_an_interrupted_run_leaves_whole_files_and_a_manifest_of_what_is_done(demo_store, branches, tmp_path,
                                                                             monkeypatch):
    out = tmp_path / "out"
    (out / "branches").mkdir(parents=True)
    (out / "branches" / "B000.html.part").write_text("<html><body>半", encoding="utf-8")  # a killed run's leftover
    real = runner.worker_engine
    calls = []

    class CtrlC:
        """Ctrl-C arrives while the second report runs."""

        timeout = 600

        def execute(self, notebook, parameters, **kwargs):
            calls.append(parameters.get("branch_id"))
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real("warm").execute(notebook, parameters, **kwargs)

    monkeypatch.setattr(runner, "worker_engine", lambda name: CtrlC())
    chosen = branches[:3]
    with pytest.raises(KeyboardInterrupt):
        runner.run_reports(demo_store, branches=chosen, as_of=AS_OF, out=out, progress=False)
    manifest = _manifest(out)
    assert {k: r["status"] for k, r in manifest.items()} == {chosen[0]: "done", chosen[1]: "pending",
                                                              chosen[2]: "pending", "summary": "pending"}
    assert not list(out.rglob("*.part"))
    assert [p.name for p in (out / "branches").iterdir()] == [f"{chosen[0]}.html"]
    assert (out / "branches" / f"{chosen[0]}.html").read_text(encoding="utf-8").rstrip().endswith("</html>")

    monkeypatch.setattr(runner, "worker_engine", real)
    resumed = runner.run_reports(demo_store, branches=chosen, as_of=AS_OF, out=out, progress=False, resume=True)
    assert {o.key: o.status for o in resumed.outcomes} == {chosen[0]: "skipped", chosen[1]: "done",
                                                           chosen[2]: "done", "summary": "done"}


# The command as a user runs it, except that in each worker process every report after the first waits for the
# Ctrl-C (the stop event the parent sets): the run cannot finish before the signal, whatever the machine's speed.
# "stuck" workers ignore the stop instead (a worker hung on a lock, a kernel that does not answer): the command
# must still end, after a grace shortened here to 3 s, killing them and their kernels.
HOLD_AFTER_FIRST = """
import sys, time
from orglife_nb.reports import runner

real, started, stuck = runner.render_job, [], sys.argv.pop(1) == "stuck"
runner.STOP_GRACE = 3.0

def held(job, engine=None):
    if started and runner._stop is not None:
        if stuck:
            time.sleep(300)
        runner._stop.wait(300)  # set by the parent on Ctrl-C (bounded: a broken stop fails the test, not hangs it)
        return job.failed("已中止")
    started.append(job.key)
    return real(job, engine)

runner.render_job = held
from orglife_nb.cli import main
main(sys.argv[1:])
"""

# When the Ctrl-C comes: as the run starts (workers being forked, kernels starting), after a first report is done,
# and after a first report with workers that never end on their own.
FIRST_DONE = rb"\b[1-9]\d*/\d+ \["
INTERRUPTS = {"startup": rb"\b0/\d+ ", "after-first": FIRST_DONE, "stuck": FIRST_DONE}


def _kernels(pid: int) -> dict[int, Path]:
    """The kernels the command runs now (pid → the connection file it was started with, ``-f PATH``)."""
    import psutil

    found = {}
    for process in psutil.Process(pid).children(recursive=True):
        try:
            cmdline = process.cmdline()
        except psutil.Error:  # ended meanwhile
            continue
        if "ipykernel_launcher" in cmdline and "-f" in cmdline:
            found[process.pid] = Path(cmdline[cmdline.index("-f") + 1])
    return found


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("when", list(INTERRUPTS))
def test_ctrl_c_on_the_command_stops_cleanly(demo_store, tmp_path, when):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", HOLD_AFTER_FIRST, "stuck" if when == "stuck" else "held",
                                "report", "--db", demo_store, "--as-of", AS_OF.isoformat(), "--out", str(out),
                                "--workers", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    # the progress bar shows the moment: 0/N as the pool starts, a count ≥ 1 once a report is written and recorded
    deadline, progress = time.monotonic() + 180, b""
    while not re.search(INTERRUPTS[when], progress):
        assert time.monotonic() < deadline, progress.decode(errors="replace")
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"the run ended before the moment: {progress.decode(errors='replace')}"
            progress += chunk
    kernels = _kernels(process.pid)  # at startup some may not have started yet: those started later end too
    assert kernels or when == "startup"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    _, rest = process.communicate(timeout=180)
    err = progress.decode(errors="replace") + rest
    assert process.returncode == 130 and "已中止" in err and "Traceback" not in err, err[-2000:]
    assert not list(out.rglob("*.part"))
    assert not [pid for pid in kernels if _running(pid)]  # no kernel outlives the command (stuck ones killed) ...
    assert not [path for path in kernels.values() if path.exists()]  # ... or leaves its connection file
    manifest = _manifest(out)
    assert "pending" in {row["status"] for row in manifest.values()}
    done = [k for k, row in manifest.items() if row["status"] == "done"]
    for key in done:
        assert (out / manifest[key]["html"]).read_text(encoding="utf-8").rstrip().endswith("</html>")
    if when != "startup":
        assert done


# ---- 3. Dask --------------------------------------------------------------------------------------------------


def test_a_dask_cluster_fills_out_as_a_local_run_does(demo_store, branches, tmp_path):
    import psutil
    from distributed import Client, LocalCluster

    chosen = branches[:4]
    local = runner.run_reports(demo_store, branches=chosen, as_of=AS_OF, out=tmp_path / "local", progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = runner.run_reports(demo_store, branches=chosen, as_of=AS_OF, out=tmp_path / "dask", progress=False,
                                    scheduler=cluster.scheduler_address)
        with Client(cluster) as client:
            per_worker = client.run(lambda: [engine.pid for engine in runner._engines.values()])
    kernels = [pid for pids in per_worker.values() for pid in pids]
    assert remote.failed == 0, [o.error for o in remote.outcomes]
    assert kernels and all(len(pids) <= 1 for pids in per_worker.values())  # one warm kernel per worker
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.html"))
    assert files == sorted(p.relative_to(tmp_path / "dask") for p in (tmp_path / "dask").rglob("*.html"))
    for path in files:
        if path.name != "index.html":  # the index holds timings
            assert normalised((tmp_path / "dask" / path).read_text(encoding="utf-8")) == normalised(
                (tmp_path / "local" / path).read_text(encoding="utf-8")), path
    assert {o.key: o.status for o in remote.outcomes} == {o.key: o.status for o in local.outcomes}
    deadline = time.monotonic() + 30  # the worker plugin stopped the kernels with their workers
    while any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in kernels):
        assert time.monotonic() < deadline, "kernels outlived their Dask workers"
        time.sleep(0.2)


# ---- 4. progress and summary ----------------------------------------------------------------------------------


def test_the_command_prints_progress_and_the_summary(demo_store, branches, tmp_path, capsys):
    from orglife_nb.cli import main

    args = ["report", "--db", demo_store, "--branch", branches[0], "--as-of", AS_OF.isoformat(), "--out",
            str(tmp_path), "--ipynb"]
    with pytest.raises(SystemExit) as first:
        main(args)
    captured = capsys.readouterr()
    assert first.value.code == 0
    assert re.search(r"2/2 \[\d\d:\d\d<\d\d:\d\d", captured.err)  # one tqdm bar: elapsed<ETA
    assert re.search(r"完成 2 份，失败 0 份，跳过 0 份；共 [\d.]+ 秒，平均每份 [\d.]+ 秒", captured.out)
    saved = nbformat.read(tmp_path / "notebooks" / f"{branches[0]}.ipynb", as_version=4)  # as papermill saves it
    assert saved.metadata.papermill.parameters["branch_id"] == branches[0]
    assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in saved.cells)
    with pytest.raises(SystemExit):
        main(args + ["--resume"])
    assert "完成 0 份，失败 0 份，跳过 2 份" in capsys.readouterr().out


def test_a_chunk_that_breaks_off_in_a_worker_fails_its_branches_and_the_run_ends(tmp_path):
    """A chunk whose worker cannot render (here: no such engine) is recorded, not waited for."""
    jobs = [runner.Job(key=f"B{i}", notebook=MISBEHAVE, parameters={"mode": "ok"}, html=tmp_path / f"B{i}.html",
                       engine="no-such-engine") for i in range(4)]
    results = list(runner.run_local(jobs, 2))
    assert sorted(r.outcome.key for r in results) == [job.key for job in jobs]
    assert {r.outcome.status for r in results} == {"failed"}
    assert all("工作进程出错" in r.outcome.error and "no-such-engine" in r.outcome.error for r in results)
