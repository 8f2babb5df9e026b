"""Escaping for every piece of text a person's page shows: reports, forms, training, login and vote pages."""
from __future__ import annotations

import datetime as dt
import html

import pandas as pd

from .values import missing


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context; missing values show as an empty string."""
    if missing(value):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.date()
    return html.escape(str(value), quote=True)


__all__ = ["esc"]
