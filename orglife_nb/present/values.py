"""One test for "this value is missing", whatever put the gap there.

A frame hands back None (object columns), NaN (float), NaT (datetimes) or ``pd.NA`` (pandas' nullable ``string``,
``Int64``, ``boolean`` columns — the default string dtype from pandas 3 on). ``pd.NA`` refuses a truth value
(``bool(pd.NA)`` raises), so ``if value:``, ``value or ""`` and ``value != value`` all break on it; every place that
asks whether a frame value is there asks here.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

_NA_TYPES = (type(pd.NA), type(pd.NaT))


def missing(value: Any) -> bool:
    """True for None, NaN (Python or numpy float), NaT (pandas or numpy) and ``pd.NA``; False for everything else,
    including falsy values that are really there (0, False, "", an empty list)."""
    if value is None or isinstance(value, _NA_TYPES):
        return True
    if isinstance(value, float):  # numpy.float64 is a float subclass
        return math.isnan(value)
    if isinstance(value, np.floating):
        return bool(np.isnan(value))
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def plain(value: Any) -> Any:
    """A frame scalar as a plain Python value (None for any gap; numpy scalars unwrapped; dates kept as dates)."""
    if missing(value):
        return None
    if isinstance(value, (str, dt.date)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return value


__all__ = ["missing", "plain"]
