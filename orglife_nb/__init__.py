"""orglife-nb: records, store, checks, reports and forms for Party branch 组织生活会 / 民主生活会 / 民主评议党员."""
from __future__ import annotations

__version__ = "0.1.0"


def load(db=None, branches=None):
    """One typed DataFrame per record kind from the store (see ``orglife_nb.frames.load``)."""
    from .frames import load as _load

    return _load(db, branches)


__all__ = ["load", "__version__"]
