"""The exchange workbook (spec: workbook.md): blank template, import (every problem at once), export.

- ``template.write_template(out)``: the blank workbook; ``template`` also lays out the sheets for export.
- ``read.read_workbook(source, known)`` → ``(batch, problems)``; ``read.import_file`` / ``read.import_files`` store.
- ``write.write_workbook(out, batch)`` / ``write.export_store(out, db, branches)``.
"""
from __future__ import annotations

from .read import ImportResult, Problem, import_file, import_files, known_ids, problems_frame, read_workbook
from .template import write_template
from .write import export_store, write_workbook

__all__ = ["ImportResult", "Problem", "import_file", "import_files", "known_ids", "problems_frame", "read_workbook",
           "write_template", "export_store", "write_workbook"]
