"""Batch report runs: one HTML (and PDF) per branch plus the summary, a manifest and an index page.

Workers only compute (run the notebook, export HTML) and hand the text back; this process writes every file under a
temporary name and renames it, so an interrupted run (Ctrl-C) leaves no half-written report, and the manifest is
rewritten as results arrive, so it always says what is done. A failing branch is recorded with its error and the
run goes on. ``resume`` skips branches whose report is newer than their data and the notebook.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import OrglifeError
from ..outputs import PART, csv_text, output_dir, write_text
from ..resources import resource_root
from ..textable import clip
from .engines import DEFAULT_ENGINE, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, ENGINES, LimitExceeded
from ..present.html import HEADING_WIDTH, esc

NOTEBOOKS = resource_root() / "notebooks"
BRANCH_NOTEBOOK = NOTEBOOKS / "branch_report.ipynb"
SUMMARY_NOTEBOOK = NOTEBOOKS / "summary_report.ipynb"
AUDIENCES = ("internal", "public")
MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while a run goes on
MAX_CHUNK = 50  # branches that share one load and one run of the checks, at most: bounds a worker's memory
# A report page larger than this fails instead of being written: with free text bounded (html.CELL_WIDTH) the
# largest demo-like branch report is well under 2 MB; far more means something runaway (once: 63 MB from one
# topic, whose PDF then never printed).
MAX_HTML_MB = 20


@dataclass
class Job:
    """One notebook run: everything a worker needs, picklable (local processes and Dask workers alike)."""

    key: str  # branch id, or "summary"
    notebook: Path
    parameters: dict
    html: Path
    ipynb: Path | None = None
    engine: str = DEFAULT_ENGINE
    data: str = ""  # the branch's data signature (last change, row count) when the job was planned
    timeout: float = DEFAULT_TIMEOUT  # seconds the whole report may take
    memory: int | None = DEFAULT_MEMORY_MB  # MB of data its kernel may hold

    @property
    def fingerprint(self) -> str:
        """What the report depends on besides data: notebook and parameters (as_of, audience, profile…)."""
        text = json.dumps([self.notebook.name, self.parameters], sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def failed(self, error: str, seconds: float = 0.0) -> "Rendered":
        return Rendered(Outcome(self.key, "failed", seconds, error=error[:500], fingerprint=self.fingerprint,
                                data=self.data))


@dataclass
class Outcome:
    key: str
    status: str  # done | failed | skipped | pending (not reached: the run was interrupted)
    seconds: float = 0.0
    html: str = ""
    pdf: str = ""
    error: str = ""
    fingerprint: str = ""
    data: str = ""


@dataclass
class Rendered:
    """A worker's result: the outcome and the files' text, written by the process that owns ``--out``."""

    outcome: Outcome
    html: str = ""
    ipynb: str = ""


@dataclass
class RunSummary:
    out: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def describe(self) -> str:
        done = [o for o in self.outcomes if o.status == "done"]
        per = sum(o.seconds for o in done) / len(done) if done else 0.0
        wall = f"，墙钟每份 {self.seconds / len(done):.2f} 秒" if done else ""
        return (f"完成 {len(done)} 份，失败 {self.failed} 份，跳过 {self.count('skipped')} 份；"
                f"共 {self.seconds:.1f} 秒，平均每份 {per:.2f} 秒{wall}")


def safe_name(key: str) -> str:
    """A file name for an id that may hold any character; distinct ids never collide."""
    cleaned = re.sub(r"[^\w.-]", "_", key)
    if cleaned != key:
        cleaned += "-" + hashlib.sha1(key.encode()).hexdigest()[:6]
    return cleaned


def atomic_write(path: Path, text: str) -> None:
    output_dir(path.parent)
    write_text(path, text)


def sweep_parts(out: Path) -> None:
    """Remove temporary files a killed run may have left (their final names were never written)."""
    for part in out.rglob(f"*{PART}"):
        part.unlink(missing_ok=True)


# ---- worker side ----------------------------------------------------------------------------------------------

_engines: dict[tuple[int, str], object] = {}  # (thread, engine name) → engine: one warm kernel per worker thread
_engines_lock = threading.Lock()


def worker_engine(name: str):
    """This worker thread's engine, created on first use and kept (with its kernel) until close_worker_engines."""
    from .engines import make_engine

    key = (threading.get_ident(), name)
    with _engines_lock:
        engine = _engines.get(key)
    if engine is None:
        engine = make_engine(name)
        with _engines_lock:
            _engines[key] = engine
    return engine


def close_worker_engines() -> None:
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.close()


def render_chunk(jobs: list[Job], stop=None) -> Iterator[Rendered]:
    """Render a chunk of jobs one after another on this thread's warm engine.

    The kernel is told the chunk's branches first (``batch.prepare``), so their reports share one load and one
    run of the checks; if that fails, each report computes its own (same result, slower). ``stop`` (an Event)
    ends the chunk early between two reports."""
    from .batch import RELEASE_CODE, prepare_code

    if not jobs:
        return
    engine = worker_engine(jobs[0].engine)
    setup = getattr(engine, "run_code", None)  # engines without a kept kernel have nothing to prepare
    code = prepare_code([job.parameters for job in jobs]) if setup else None
    if code:
        try:
            setup(code)
        except Exception:  # noqa: BLE001 - the reports run without it; a lost kernel is replaced by the first
            code = None
    try:
        for job in jobs:
            if stop is not None and stop.is_set():
                return
            yield render_job(job, engine)
    finally:
        if code:
            try:
                setup(RELEASE_CODE)
            except Exception:  # noqa: BLE001 - a replaced kernel has nothing to release
                pass


def chunks(jobs: list[Job], threads: int) -> list[list[Job]]:
    """Jobs split for ``threads`` worker threads: as few chunks as keep every thread busy with equal shares (each
    chunk pays one load and one run of the checks, ~1 s however small it is), at most MAX_CHUNK jobs each (a
    worker's memory). The summary, the longest job, goes alone: first when there are several threads (it runs
    beside the branches), else last."""
    alone = [[job] for job in jobs if job.key == "summary"]
    rest = [job for job in jobs if job.key != "summary"]
    threads = max(1, threads)
    rounds = max(1, math.ceil(len(rest) / (threads * MAX_CHUNK)))  # chunks per thread
    size = max(1, math.ceil(len(rest) / (threads * rounds)))
    parts = [rest[i:i + size] for i in range(0, len(rest), size)]
    return alone + parts if threads > 1 else parts + alone


def render_job(job: Job, engine=None) -> Rendered:
    """Run one notebook and export it; every failure becomes a recorded outcome, never an exception."""
    from .export import notebook_to_html

    started = time.perf_counter()
    try:
        engine = engine or worker_engine(job.engine)
        engine.timeout = job.timeout
        engine.memory = job.memory
        notebook = engine.execute(_local_notebook(job.notebook), job.parameters)
        ipynb = ""
        if job.ipynb is not None:
            import nbformat

            ipynb = nbformat.writes(notebook)
        html = notebook_to_html(notebook)
        size = len(html.encode("utf-8")) / 2**20
        if size > MAX_HTML_MB:
            return job.failed(f"报告过大：{size:.1f} MB，超过上限 {MAX_HTML_MB} MB", time.perf_counter() - started)
        outcome = Outcome(job.key, "done", time.perf_counter() - started, html=str(job.html),
                          fingerprint=job.fingerprint, data=job.data)
        return Rendered(outcome, html, ipynb)
    except Exception as error:  # noqa: BLE001 - one branch's failure must not stop the batch
        return job.failed(_describe(error), time.perf_counter() - started)


def _local_notebook(path: Path) -> Path:
    """The notebook as installed here: a Dask worker may have the package at another path than the client."""
    path = Path(path)
    return path if path.exists() else NOTEBOOKS / path.name


def execute_job(job: Job) -> Outcome:
    """Run one job in this process and write its files (the one-off path: the summary, tests)."""
    return write_rendered(job, render_job(job))


def write_rendered(job: Job, rendered: Rendered) -> Outcome:
    if rendered.outcome.status == "done":
        if job.ipynb is not None:
            atomic_write(job.ipynb, rendered.ipynb)
        atomic_write(job.html, rendered.html)
    return rendered.outcome


def _describe(error: Exception) -> str:
    if isinstance(error, LimitExceeded):  # its message is the whole reason
        return str(error)
    name = type(error).__name__
    if name == "PapermillExecutionError":  # the useful part is the kernel's exception and its first line
        lines = str(getattr(error, "evalue", "")).strip().splitlines()
        return f"{name}: {getattr(error, 'ename', '')}: {lines[0] if lines else ''}"[:500]
    lines = str(error).strip().splitlines()
    return f"{name}: {lines[-1]}"[:500] if lines else name


_results = None  # in a pool worker: the queue each rendered report goes back on, as soon as it is done
_stop = None  # in a pool worker: set by the parent on Ctrl-C, ends a chunk between two reports


def _pool_worker_init(results, stop) -> None:
    """Pool workers leave Ctrl-C to the parent (which stops the pool) and close their kernels on exit."""
    import signal
    from multiprocessing import util

    global _results, _stop
    _results, _stop = results, stop
    # the parent reads every result of a finished run; after Ctrl-C it reads no more, and a worker must then be
    # able to exit with reports still in the pipe (they were never written: the manifest says pending)
    results.cancel_join_thread()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # started with Ctrl-C blocked (see _ctrl_c_deferred): one that came before the line above is now dropped
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    util.Finalize(None, close_worker_engines, exitpriority=100)  # atexit does not run in pool workers


def _pool_render_chunk(jobs: list[Job]) -> None:
    for rendered in render_chunk(jobs, _stop):
        _results.put(rendered)


# ---- scheduling -----------------------------------------------------------------------------------------------

# Seconds a worker has after Ctrl-C to end its report in progress and shut its kernel down: a report takes a few
# seconds, a kernel's shutdown at most 5 (jupyter_client then kills it). A worker still running after that is stuck
# (on a lock a dying sibling held, a kernel that does not answer) and is killed with its kernels.
STOP_GRACE = 30.0


@contextmanager
def _ctrl_c_deferred():
    """Hold a Ctrl-C back while the pool starts, and raise it once the block is done: a KeyboardInterrupt raised
    half-way through ``submit`` (a worker forked but not yet known to the pool) would leave that worker waiting
    for work forever after the command ends. Ctrl-C is also blocked, so a forked or spawned worker cannot be hit
    by one before its initializer ignores it."""
    import signal

    if threading.current_thread() is not threading.main_thread():  # signals only reach the main thread
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)  # first: a blocked Ctrl-C arrives on unblocking, to the usual handler
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if caught:
        raise KeyboardInterrupt


def _connection_file(cmdline: list[str]) -> str | None:
    """The connection file a kernel was started with (``-f PATH``), which jupyter_client removes on a shutdown."""
    for flag, value in zip(cmdline, cmdline[1:]):
        if flag in ("-f", "--f"):
            return value
    for arg in cmdline:
        if arg.startswith(("-f=", "--f=")):
            return arg.split("=", 1)[1]
    return None


def _stop_workers(pool: ProcessPoolExecutor, grace: float) -> None:
    """End the pool after Ctrl-C (or an error): every worker is given ``grace`` seconds to finish its report in
    progress and close its kernel; whatever is left then is killed with its kernels, and their connection files
    are removed as a shutdown would have, so the command always returns and leaves no process or file behind."""
    import multiprocessing

    import psutil

    workers = []
    for child in multiprocessing.active_children():  # the pool's processes (not the resource tracker)
        try:
            workers.append(psutil.Process(child.pid))
        except psutil.NoSuchProcess:
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    _, stuck = psutil.wait_procs(workers, timeout=grace)
    kernels = []
    for worker in stuck:
        try:
            kernels += worker.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    files = []
    for kernel in kernels:
        try:
            files.append(_connection_file(kernel.cmdline()))
        except psutil.Error:
            pass
    for process in stuck + kernels:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(stuck + kernels, timeout=5)
    for name in filter(None, files):
        Path(name).unlink(missing_ok=True)
    pool.shutdown(wait=True)  # all its processes are gone: only the pool's threads are left to join


def run_local(jobs: list[Job], workers: int) -> Iterator[Rendered]:
    """Results as they finish, report by report: in this process for one worker, else in a pool of warm workers
    that take chunks of branches and send each report back as soon as it is rendered."""
    parts = chunks(jobs, max(1, workers))
    workers = min(workers, len(parts))
    if workers <= 1:
        try:
            for part in parts:
                yield from render_chunk(part)
        finally:
            close_worker_engines()
        return
    import multiprocessing
    from queue import Empty

    results, stop, pool = multiprocessing.Queue(), multiprocessing.Event(), None
    try:
        with _ctrl_c_deferred():
            pool = ProcessPoolExecutor(max_workers=workers, initializer=_pool_worker_init, initargs=(results, stop))
            running = {pool.submit(_pool_render_chunk, part): part for part in parts}
        waiting = {job.key for job in jobs}
        while waiting:
            try:
                rendered = results.get(timeout=0.2)
            except Empty:  # quiet for a moment: whatever a finished chunk sent has arrived by now
                for future in [f for f in running if f.done()]:
                    part = running.pop(future)
                    error = future.exception()
                    for job in part:
                        if job.key in waiting and error is not None:  # the chunk broke off (or its process died)
                            waiting.discard(job.key)
                            yield job.failed(f"工作进程出错：{_describe(error)}")
                if not running and waiting:  # a chunk ended without all its reports: cannot happen unstopped
                    raise RuntimeError(f"未收到这些报告的结果：{'、'.join(sorted(waiting))}")
                continue
            waiting.discard(rendered.outcome.key)
            yield rendered
    finally:  # on Ctrl-C: chunks stop after the report in progress, the kernels are stopped with the workers
        stop.set()
        if pool is not None:
            _stop_workers(pool, STOP_GRACE)


def _run_all(jobs: list[Job], workers: int, progress: bool, description: str, *, scheduler=None,
             on_outcome: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Run ``jobs`` under one tqdm bar (ETA included), writing each result as it arrives."""
    from tqdm import tqdm

    by_key = {job.key: job for job in jobs}
    if scheduler is not None:
        from .cluster import run_on_cluster

        results = run_on_cluster(jobs, scheduler, split=chunks, render=render_chunk, close=close_worker_engines)
    else:
        results = run_local(jobs, workers)
    outcomes: list[Outcome] = []
    with tqdm(total=len(jobs), desc=description, unit="份", disable=not progress, dynamic_ncols=True) as bar:
        for rendered in results:
            outcome = write_rendered(by_key[rendered.outcome.key], rendered)
            outcomes.append(outcome)
            on_outcome(outcome)
            bar.update(1)
    return outcomes


# ---- resume ---------------------------------------------------------------------------------------------------


def data_signatures(store) -> dict[str, tuple[dt.datetime | None, int]]:
    """Branch id → (last change across all its rows, row count). The count catches deletions, which leave no
    ``updated_at`` behind."""
    from sqlalchemy import func, select

    from ..models import RECORDS
    from ..store import table_of

    parents = {"meeting_id": table_of(RECORDS[2]), "member_id": table_of(RECORDS[1])}  # 任职: through the member
    signatures: dict[str, list] = {}
    with store.engine.connect() as connection:
        for record in RECORDS:
            table = table_of(record)
            if "branch_id" in table.c:
                query = select(table.c.branch_id, func.max(table.c.updated_at), func.count()).group_by(
                    table.c.branch_id)
            else:
                parent, key = parents[record.parent], record.parent
                query = (select(parent.c.branch_id, func.max(table.c.updated_at), func.count())
                         .select_from(table.join(parent, table.c[key] == parent.c[key]))
                         .group_by(parent.c.branch_id))
            for branch, stamp, count in connection.execute(query):
                last, rows = signatures.setdefault(branch, [None, 0])
                signatures[branch] = [max(filter(None, (last, stamp)), default=None), rows + count]
    return {branch: (last, rows) for branch, (last, rows) in signatures.items()}


def _signature_text(last: dt.datetime | None, rows: int) -> str:
    return f"{last.isoformat() if last else ''}|{rows}"


def previous_outcomes(out: Path) -> dict[str, dict]:
    try:
        rows = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {row.get("key"): row for row in rows if isinstance(row, dict)}


def fresh(job: Job, previous: dict | None, last_change: dt.datetime | None, pdf: bool) -> bool:
    """Whether the report on disk is still right: done for the same notebook, parameters and data, and written
    after the last data change and the notebook's last edit."""
    if not previous or previous.get("status") not in ("done", "skipped"):
        return False
    if previous.get("fingerprint") != job.fingerprint or previous.get("data") != job.data:
        return False
    if pdf and not previous.get("pdf"):
        return False
    if job.ipynb is not None and not job.ipynb.exists():
        return False
    try:
        written = job.html.stat().st_mtime
    except OSError:
        return False
    # updated_at has whole seconds: a change within the report's own second counts as after it
    changed = last_change.timestamp() + 1 if last_change else 0
    return written >= max(changed, job.notebook.stat().st_mtime)


def _skipped(job: Job, previous: dict, out: Path) -> Outcome:
    pdf = previous.get("pdf") or ""
    return Outcome(job.key, "skipped", html=str(job.html), pdf=str(out / pdf) if pdf else "",
                   fingerprint=job.fingerprint, data=job.data)


# ---- the batch ------------------------------------------------------------------------------------------------


def run_reports(db: str | None = None, *, branches: Iterable[str] | None = None, as_of: dt.date | None = None,
                out: Path = Path("reports"), audience: str = "internal", pdf: bool = False, workers: int = 1,
                profile: str | None = None, engine: str = DEFAULT_ENGINE, progress: bool = True,
                resume: bool = False, scheduler=None, timeout: float = DEFAULT_TIMEOUT,
                memory: int | None = DEFAULT_MEMORY_MB, notebooks: bool = False,
                echo: Callable[[str], None] = print, actor: str | None = None) -> RunSummary:
    """Run the branch report for every (or the given) branch and the summary; write index and manifest.

    ``resume`` skips reports still fresh from an earlier run into ``out``; ``scheduler`` (a Dask scheduler
    address or a ``distributed`` cluster/client) runs the reports there instead of in local processes;
    ``notebooks`` also keeps each executed notebook (papermill's injected cell and metadata) under ``notebooks/``;
    ``timeout`` (seconds) and ``memory`` (MB) bound each report's kernel: a report past either fails alone;
    ``actor`` (an account name): only the branches in its scope, and only the public audience unless it may read
    confidential texts."""
    from ..store import Store, existing_url, without_password

    if audience not in AUDIENCES:
        raise OrglifeError(f"--audience 只能是 {' 或 '.join(AUDIENCES)}，而不是 {audience}")
    if engine not in ENGINES:
        raise OrglifeError(f"--engine 只能是 {'、'.join(ENGINES)}，而不是 {engine}")
    as_of = as_of or dt.date.today()
    with Store(existing_url(db), actor=actor) as store:
        url = store.url
        known = store.branch_names()  # the actor's branches only
        signatures = data_signatures(store)
        if store.actor is not None and audience == "internal" and not store.actor.reads_confidential:
            raise OrglifeError(f"账号 {store.actor.name}（{store.actor.role.label}）未获授权查看保密内容，"
                               "不能出内部版报告；可出公示版（--audience public）")
        if branches:
            store.visible(branches)
    if not known:
        raise OrglifeError(f"数据库中没有任何支部，无报告可出：{_shown_url(url)}")
    # the password reaches workers and kernels through the environment, never as a notebook parameter
    url, secret = without_password(url)
    os.environ.update(secret)
    wanted = list(dict.fromkeys(branches)) if branches else list(known)
    unknown = [b for b in wanted if b not in known]
    if unknown:
        raise OrglifeError(f"数据库中没有这些支部：{'、'.join(unknown)}")
    out = output_dir(out)
    sweep_parts(out)
    common = {"db": url, "as_of": as_of.isoformat(), "audience": audience, "profile": profile or ""}
    jobs = [Job(key=b, notebook=BRANCH_NOTEBOOK, parameters={**common, "branch_id": b},
                html=out / "branches" / f"{safe_name(b)}.html", engine=engine, timeout=timeout, memory=memory,
                ipynb=out / "notebooks" / f"{safe_name(b)}.ipynb" if notebooks else None,
                data=_signature_text(*signatures.get(b, (None, 0)))) for b in wanted]
    last_any = max((last for last, _ in signatures.values() if last), default=None)
    summary_job = Job(key="summary", notebook=SUMMARY_NOTEBOOK,
                      parameters={**common, "branch_ids": wanted if branches or actor else []},
                      html=out / "summary.html", engine=engine, timeout=timeout, memory=memory,
                      ipynb=out / "notebooks" / "summary.ipynb" if notebooks else None,
                      data=_signature_text(last_any, sum(rows for _, rows in signatures.values())))

    # The summary does not depend on the branch reports: it runs in the same batch, on a warm worker.
    batch = [*jobs, summary_job]
    stamps = {job.key: signatures.get(job.key, (None, 0))[0] for job in jobs} | {"summary": last_any}
    previous = previous_outcomes(out) if resume else {}
    results: dict[str, Outcome] = {job.key: _skipped(job, previous[job.key], out) for job in batch
                                   if fresh(job, previous.get(job.key), stamps[job.key], pdf)}
    todo = [job for job in batch if job.key not in results]

    def current() -> list[Outcome]:
        return [results.get(job.key) or Outcome(job.key, "pending") for job in batch]

    written = [time.monotonic()]

    def on_outcome(outcome: Outcome) -> None:
        results[outcome.key] = outcome
        if time.monotonic() - written[0] >= MANIFEST_EVERY:  # a Ctrl-C or crash loses at most this much
            write_manifest(out, current(), None)
            written[0] = time.monotonic()

    started = time.perf_counter()
    try:
        _run_all(todo, max(1, workers), progress, "报告", scheduler=scheduler, on_outcome=on_outcome)
    except BaseException:  # KeyboardInterrupt included: say what is done, leave nothing half-written
        write_manifest(out, current(), None)
        sweep_parts(out)
        raise
    *outcomes, summary_outcome = current()
    if pdf:
        _print_pdfs([o for o in [*outcomes, summary_outcome] if o.status == "done"])
    summary = RunSummary(out=out, outcomes=outcomes, seconds=time.perf_counter() - started)
    write_manifest(out, outcomes, summary_outcome)
    write_index(out, outcomes, summary_outcome, known, as_of, audience)
    summary.outcomes.append(summary_outcome)
    return summary


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _print_pdfs(outcomes: list[Outcome]) -> None:
    """Print each done report's PDF; a report whose PDF fails (or whose browser will not start) fails with the
    reason: the run counts it and exits 1, its HTML stays for a look."""
    from .export import print_pdfs

    done = [o for o in outcomes if o.status == "done"]
    if not done:
        return
    pairs = [(Path(o.html), Path(o.html).with_suffix(".pdf")) for o in done]
    try:
        failed = print_pdfs(pairs)
    except OrglifeError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken browser fails the PDFs, not the HTML reports
        failed = {html: f"浏览器无法启动：{_describe(error)}" for html, _ in pairs}
    for outcome, (html, pdf_path) in zip(done, pairs):
        if html in failed:
            outcome.status, outcome.error = "failed", f"PDF 打印失败：{failed[html]}"[:500]
        else:
            outcome.pdf = str(pdf_path)


def write_manifest(out: Path, outcomes: list[Outcome], summary: Outcome | None) -> None:
    import pandas as pd

    rows = [asdict(o) for o in outcomes] + ([asdict(summary)] if summary else [])
    for row in rows:
        row["seconds"] = round(row["seconds"], 3)
        for key in ("html", "pdf"):
            row[key] = os.path.relpath(row[key], out) if row[key] else ""
    atomic_write(out / "manifest.json", json.dumps(rows, ensure_ascii=False, indent=1))
    columns = ["key", "status", "seconds", "html", "pdf", "error"]
    atomic_write(out / "manifest.csv", csv_text(pd.DataFrame(rows, columns=columns)))


def write_index(out: Path, outcomes: list[Outcome], summary: Outcome, names: dict[str, str], as_of: dt.date,
                audience: str) -> None:
    status_label = {"done": "完成", "failed": "失败", "skipped": "跳过（数据未变）", "pending": "未运行"}
    rows = []
    for o in outcomes:
        name = esc(clip(str(names.get(o.key, o.key)), HEADING_WIDTH))
        link = (f'<a href="{esc(os.path.relpath(o.html, out))}">{name}</a>'
                if o.html and o.status != "failed" else name)
        pdf = f' · <a href="{esc(os.path.relpath(o.pdf, out))}">PDF</a>' if o.pdf else ""
        rows.append(f"<tr class=\"{esc(o.status)}\"><td>{esc(o.key)}</td><td>{link}{pdf}</td>"
                    f"<td>{esc(status_label.get(o.status, o.status))}</td><td>{o.seconds:.2f}</td>"
                    f"<td>{esc(o.error)}</td></tr>")
    summary_link = ('<a href="summary.html">汇总报告</a>' if summary.status == "done"
                    else f"汇总报告生成失败：{esc(summary.error)}")
    failed = sum(o.status == "failed" for o in outcomes)
    audience_label = "内部" if audience == "internal" else "公示"
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>报告索引</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;max-width:60rem;margin:2rem auto;color:#1f2328}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}}
tr.failed td{{background:#fde8e7}}</style></head><body>
<h1>组织生活会报告索引</h1>
<p>截至 {esc(as_of.isoformat())} · {esc(audience_label)}版 · 支部 {len(outcomes)} 个，失败 {failed} 个 · {summary_link}</p>
<table><thead><tr><th>支部编号</th><th>报告</th><th>状态</th><th>秒</th><th>错误</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></body></html>"""
    atomic_write(out / "index.html", page)
