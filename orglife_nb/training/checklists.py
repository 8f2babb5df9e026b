"""Printable checklists per meeting kind: HTML through the report template, PDF through the system Chromium."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..deadlines import meeting_kind
from ..models import MeetingKind
from .views import checklist_html


def checklist_notebook(kind: MeetingKind | str, profile=None, meeting_date: dt.date | None = None):
    """A notebook whose one output is the checklist: what ``notebook_to_html`` and the report template expect."""
    import nbformat

    kind = meeting_kind(kind)
    cell = nbformat.v4.new_code_cell(source="")
    cell.outputs = [nbformat.v4.new_output("display_data",
                                           data={"text/html": checklist_html(kind, profile, meeting_date).markup})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["title"] = f"{kind.label}工作清单"
    return notebook


def checklist_document(kind: MeetingKind | str, profile=None, meeting_date: dt.date | None = None) -> str:
    """The checklist as a standalone HTML page (report template: A4, local CJK fonts, no scripts)."""
    from ..reports.export import notebook_to_html

    return notebook_to_html(checklist_notebook(kind, profile, meeting_date))


def file_stem(kind: MeetingKind | str, meeting_date: dt.date | None = None) -> str:
    kind = meeting_kind(kind)
    return f"checklist-{kind.value}" + (f"-{meeting_date.isoformat()}" if meeting_date else "")


def write_checklists(out: str | Path, kinds=None, profile=None, meeting_date: dt.date | None = None,
                     pdf: bool = True) -> list[Path]:
    """Write checklist-<kind>.html (and .pdf) for each kind (default: all three) into ``out``; returns the paths."""
    from ..outputs import output_dir, write_text
    from ..reports.export import html_to_pdf

    out = output_dir(out)
    written, pairs = [], []
    for kind in kinds or list(MeetingKind):
        html_path = out / f"{file_stem(kind, meeting_date)}.html"
        write_text(html_path, checklist_document(kind, profile, meeting_date))
        written.append(html_path)
        pairs.append((html_path, html_path.with_suffix(".pdf")))
    if pdf:
        html_to_pdf(pairs)
        written += [p for _, p in pairs]
    return written


def checklist_pdf_bytes(kind: MeetingKind | str, profile=None, meeting_date: dt.date | None = None) -> bytes:
    """The PDF of one checklist (for the notebook's download button), printed in a scratch directory."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="orglife-checklist-") as scratch:
        paths = write_checklists(scratch, [kind], profile, meeting_date, pdf=True)
        return paths[-1].read_bytes()
