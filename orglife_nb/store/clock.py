"""The store's clock: one time stamp format for rows, audit entries and polls (no microseconds). Its own module so
the writer and the audit trail need not import the store package that imports them."""
from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)
