"""Bulk SQLite reads through ADBC straight into Arrow columns, then pandas: no Python object per value.

Measured on 5 million rows (10,000 demo branches): ~3.5 s, against 11.9 s for the DBAPI cursor and ~40 s through
SQLAlchemy rows. The SELECTs are still built by SQLAlchemy (same columns, filter and order as ``Store.read``).

The ADBC driver links its own SQLite. Two SQLite libraries on one file in one process corrupt each other's view
(POSIX locks are per process; measured here: after an ADBC read, rows written through the store's connection stay
invisible to later ADBC reads). So the driver runs in a short-lived child process and the columns come back as
Arrow IPC files in a temporary folder, mapped into memory here (a pipe measured twice as slow).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import OrglifeError

READER = Path(__file__).with_name("arrow_reader.py")


def read_sqlite(database: str, queries: list[str], weights: list[int] | None = None) -> list[pd.DataFrame]:
    """Run ``queries`` (SQL text) on the SQLite file ``database``; one DataFrame per query, in order.

    With two or more cores the queries are split over two child processes, balanced by ``weights`` (row counts).
    """
    import pyarrow as pa

    groups = _balanced(weights or [1] * len(queries), min(2, os.cpu_count() or 1))
    # /dev/shm: the files never touch a disk (Linux); elsewhere the system temp folder
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="orglife-read-", dir=shm) as folder:
        children = []
        for group in groups:
            job = json.dumps([[number, queries[number]] for number in group]).encode()
            child = subprocess.Popen([sys.executable, "-I", str(READER), database, folder], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            children.append((child, job))
        for child, job in children:
            _, error = child.communicate(job)
            if child.returncode != 0:
                lines = error.decode(errors="replace").strip().splitlines()
                reason = lines[-1] if lines else f"退出码 {child.returncode}"
                raise OrglifeError(f"读取数据库 {database} 失败：{reason}")
        frames = []
        for number in range(len(queries)):
            with pa.memory_map(f"{folder}/{number}.arrow") as source:
                frames.append(pa.ipc.open_file(source).read_all().to_pandas())
        return frames


def _balanced(weights: list[int], parts: int) -> list[list[int]]:
    """Indexes of ``weights`` in ``parts`` groups of similar total weight (largest first, to the lightest group)."""
    groups: list[list[int]] = [[] for _ in range(max(1, parts))]
    totals = [0] * len(groups)
    for number in sorted(range(len(weights)), key=lambda n: -weights[n]):
        lightest = totals.index(min(totals))
        groups[lightest].append(number)
        totals[lightest] += weights[number]
    return [g for g in groups if g]
