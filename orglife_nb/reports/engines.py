"""Notebook execution engines for report runs, as plug-ins: stock papermill and the warm-kernel engine.

An engine turns (notebook, parameters) into an executed notebook node; the runner owns files and export.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Protocol

KERNEL = "python3"
DEFAULT_ENGINE = "warm"


class Engine(Protocol):
    name: str

    def execute(self, notebook: Path, parameters: dict, *, cwd: Path | None = None):
        """Run ``notebook`` with ``parameters`` injected as papermill does; return the executed NotebookNode."""

    def close(self) -> None:
        ...


class PapermillEngine:
    """Stock papermill: a new kernel per notebook (about 3.7 s per report on a 2-core machine)."""

    name = "papermill"

    def __init__(self, timeout: float = 600) -> None:
        self.timeout = timeout

    def execute(self, notebook: Path, parameters: dict, *, cwd: Path | None = None):
        import papermill

        return papermill.execute_notebook(str(notebook), None, parameters=parameters, kernel_name=KERNEL,
                                          progress_bar=False, log_output=False, cwd=str(cwd) if cwd else None,
                                          execution_timeout=self.timeout)

    def close(self) -> None:
        pass


# name → "module:class"; imported on use so a worker loads only the engine it runs
ENGINES = {"papermill": f"{__name__}:PapermillEngine", "warm": "orglife_nb.reports.warm:WarmEngine"}


def skip_iri_grammar() -> None:
    """Mark jsonschema's optional ``rfc3987_syntax`` absent before papermill/nbformat load in this process.

    jsonschema imports it (an IRI grammar compiled with lark at import) as soon as nbformat loads: ~1 s per process
    on this machine, 2.7 s under load, for an "iri" format check no notebook validation uses. With the module
    marked absent, jsonschema simply goes without that one checker (its import is optional there)."""
    sys.modules.setdefault("rfc3987_syntax", None)


def make_engine(name: str = DEFAULT_ENGINE, **options) -> Engine:
    skip_iri_grammar()
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
