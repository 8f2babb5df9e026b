"""Batch report runs: one HTML (and PDF) per branch plus the summary, a manifest and an index page.

A failing branch is recorded with its error and the run goes on; files appear only complete (written under a
temporary name, then renamed), so an interrupted run leaves no half-written report.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import OrglifeError
from ..resources import resource_root
from .html import esc

NOTEBOOKS = resource_root() / "notebooks"
BRANCH_NOTEBOOK = NOTEBOOKS / "branch_report.ipynb"
SUMMARY_NOTEBOOK = NOTEBOOKS / "summary_report.ipynb"
AUDIENCES = ("internal", "public")


@dataclass
class Job:
    """One notebook run: everything a worker process needs, picklable."""

    key: str  # branch id, or "summary"
    notebook: Path
    parameters: dict
    html: Path
    ipynb: Path | None = None
    engine: str = "papermill"


@dataclass
class Outcome:
    key: str
    status: str  # done | failed | skipped
    seconds: float = 0.0
    html: str = ""
    pdf: str = ""
    error: str = ""


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
        return (f"完成 {len(done)} 份，失败 {self.failed} 份，跳过 {self.count('skipped')} 份；"
                f"共 {self.seconds:.1f} 秒，平均每份 {per:.2f} 秒")


def safe_name(key: str) -> str:
    """A file name for an id that may hold any character; distinct ids never collide."""
    cleaned = re.sub(r"[^\w.-]", "_", key)
    if cleaned != key:
        import hashlib

        cleaned += "-" + hashlib.sha1(key.encode()).hexdigest()[:6]
    return cleaned


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


def execute_job(job: Job) -> Outcome:
    """Run one notebook and export it; every failure becomes a recorded outcome, never an exception."""
    from .engines import make_engine
    from .export import notebook_to_html

    started = time.perf_counter()
    try:
        notebook = make_engine(job.engine).execute(job.notebook, job.parameters)
        if job.ipynb is not None:
            import nbformat

            atomic_write(job.ipynb, nbformat.writes(notebook))
        atomic_write(job.html, notebook_to_html(notebook))
        return Outcome(job.key, "done", time.perf_counter() - started, html=str(job.html))
    except Exception as error:  # noqa: BLE001 - one branch's failure must not stop the batch
        return Outcome(job.key, "failed", time.perf_counter() - started, error=_describe(error))


def _describe(error: Exception) -> str:
    name = type(error).__name__
    text = str(error).strip()
    if name == "PapermillExecutionError":  # the useful part is the kernel's own exception line
        text = f"{getattr(error, 'ename', '')}: {getattr(error, 'evalue', '')}"
    return f"{name}: {text.splitlines()[-1] if text else ''}"[:500] if text else name


def _run_all(jobs: list[Job], workers: int, progress: bool, description: str) -> list[Outcome]:
    from tqdm import tqdm

    outcomes: list[Outcome] = []
    with tqdm(total=len(jobs), desc=description, unit="份", disable=not progress, dynamic_ncols=True) as bar:
        if workers <= 1:
            for job in jobs:
                outcomes.append(execute_job(job))
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(execute_job, job) for job in jobs]
                for future in as_completed(futures):
                    outcomes.append(future.result())
                    bar.update(1)
    order = {job.key: i for i, job in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[o.key])


def run_reports(db: str | None = None, *, branches: Iterable[str] | None = None, as_of: dt.date | None = None,
                out: Path = Path("reports"), audience: str = "internal", pdf: bool = False, workers: int = 1,
                profile: str | None = None, engine: str = "papermill", progress: bool = True,
                echo: Callable[[str], None] = print) -> RunSummary:
    """Run the branch report for every (or the given) branch and the summary; write index and manifest."""
    from ..store import Store

    if audience not in AUDIENCES:
        raise OrglifeError(f"--audience 只能是 {' 或 '.join(AUDIENCES)}，而不是 {audience}")
    as_of = as_of or dt.date.today()
    with Store(db) as store:
        url = store.url
        known = store.branch_names()
    wanted = list(branches) if branches else list(known)
    unknown = [b for b in wanted if b not in known]
    if unknown:
        raise OrglifeError(f"数据库中没有这些支部：{'、'.join(unknown)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    common = {"db": url, "as_of": as_of.isoformat(), "audience": audience, "profile": profile or ""}
    jobs = [Job(key=b, notebook=BRANCH_NOTEBOOK, parameters={**common, "branch_id": b},
                html=out / "branches" / f"{safe_name(b)}.html", engine=engine) for b in wanted]
    started = time.perf_counter()
    summary = RunSummary(out=out)
    summary.outcomes = _run_all(jobs, max(1, workers), progress, "支部报告")
    summary_job = Job(key="summary", notebook=SUMMARY_NOTEBOOK,
                      parameters={**common, "branch_ids": wanted if branches else []},
                      html=out / "summary.html", engine=engine)
    summary_outcome = execute_job(summary_job)
    if pdf:
        _print_pdfs([*summary.outcomes, summary_outcome], echo)
    summary.seconds = time.perf_counter() - started
    write_manifest(out, summary.outcomes, summary_outcome)
    write_index(out, summary.outcomes, summary_outcome, known, as_of, audience)
    summary.outcomes.append(summary_outcome)
    return summary


def _print_pdfs(outcomes: list[Outcome], echo) -> None:
    from .export import html_to_pdf

    done = [o for o in outcomes if o.status == "done"]
    try:
        pairs = [(Path(o.html), Path(o.html).with_suffix(".pdf")) for o in done]
        html_to_pdf(pairs)
        for outcome, (_, pdf_path) in zip(done, pairs):
            outcome.pdf = str(pdf_path)
    except OrglifeError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken browser should not lose the HTML reports
        echo(f"警告：PDF 打印失败：{error}")
        for outcome in done:
            outcome.error = f"PDF 打印失败：{error}"


def write_manifest(out: Path, outcomes: list[Outcome], summary: Outcome | None) -> None:
    import csv
    import io

    rows = [asdict(o) for o in outcomes] + ([asdict(summary)] if summary else [])
    for row in rows:
        row["seconds"] = round(row["seconds"], 3)
        for key in ("html", "pdf"):
            row[key] = os.path.relpath(row[key], out) if row[key] else ""
    atomic_write(out / "manifest.json", json.dumps(rows, ensure_ascii=False, indent=1))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["key", "status", "seconds", "html", "pdf", "error"])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out / "manifest.csv", "\ufeff" + buffer.getvalue())  # BOM: Excel opens it as UTF-8


def write_index(out: Path, outcomes: list[Outcome], summary: Outcome, names: dict[str, str], as_of: dt.date,
                audience: str) -> None:
    status_label = {"done": "完成", "failed": "失败", "skipped": "跳过（数据未变）"}
    rows = []
    for o in outcomes:
        link = (f'<a href="{esc(os.path.relpath(o.html, out))}">{esc(names.get(o.key, o.key))}</a>'
                if o.html and o.status != "failed" else esc(names.get(o.key, o.key)))
        pdf = f' · <a href="{esc(os.path.relpath(o.pdf, out))}">PDF</a>' if o.pdf else ""
        rows.append(f"<tr class=\"{esc(o.status)}\"><td>{esc(o.key)}</td><td>{link}{pdf}</td>"
                    f"<td>{esc(status_label.get(o.status, o.status))}</td><td>{o.seconds:.2f}</td>"
                    f"<td>{esc(o.error)}</td></tr>")
    summary_link = (f'<a href="summary.html">汇总报告</a>' if summary.status == "done"
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
