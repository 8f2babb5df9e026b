"""Voila forms: enter every stage of a meeting in the browser, validated, never losing an edit.

``app(db)`` builds the whole page (``notebooks/forms.ipynb`` just displays it); the pieces — generated record
forms, ballot entry, workbook transfer, guidance — work without a kernel, so tests drive them directly.
"""
from .app import TABS, FormsApp, app
from .ballots import BallotForm
from .record import NEW, RecordForm, Scope
from .session import Session
from .transfer import WorkbookPanel

__all__ = ["app", "FormsApp", "TABS", "BallotForm", "RecordForm", "Scope", "NEW", "Session", "WorkbookPanel"]
