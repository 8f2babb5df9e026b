"""Row keys as one int64: several integer columns (category codes) packed as mixed-radix digits, so that rows are
compared, sorted and looked up as plain numbers (millions of ballot, criticism and attendance rows: several times
faster than hashing the columns together)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def packed(columns: list[np.ndarray], radixes: list[int]) -> np.ndarray | None:
    """One int64 per row from columns of integers in [0, radix); None when the key would not fit in 62 bits."""
    if np.prod([float(r) for r in radixes]) >= 2.0**62:
        return None
    key = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    for column, radix in zip(columns, radixes):
        key = key * radix + column
    return key


def category_key(frame: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """``packed`` of categorical ``columns`` by their codes, missing as a value of its own (code -1 → digit 0,
    so missing equals missing); None when a column is not categorical or the key would not fit. Frames whose
    columns share dtypes get comparable keys."""
    if not all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in columns):
        return None
    return packed([frame[c].cat.codes.to_numpy().astype(np.int64) + 1 for c in columns],
                  [len(frame[c].cat.categories) + 1 for c in columns])
