"""Typed pandas frames, one per record kind: what checks, reports and notebooks read.

Dtypes come from the models: dates → ``datetime64[ns]``, enums → ``category`` (categories = the enum codes, so
labels are one ``.map`` away), yes/no → nullable ``boolean``, integers → ``Int64``, numbers → ``float64``, ids and
text → pandas strings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from .errors import OrglifeError
from .models import RECORDS, Record, fields_of
from .store import Store
from .store import review as review_store


def _dtype(spec) -> object:
    if spec.kind == "enum":
        return pd.CategoricalDtype([m.value for m in spec.enum])
    return {"date": "datetime64[ns]", "bool": "boolean", "int": "Int64", "number": "float64"}.get(spec.kind, "string")


def arrow_text(series: pd.Series):
    """The Arrow (chunked) array under an Arrow-backed text column (a bulk store read), else None."""
    if not isinstance(series.dtype, pd.StringDtype) or series.dtype.storage != "pyarrow":
        return None
    import pyarrow as pa

    return pa.chunked_array(series.array.__arrow_array__())


def _arrow_typed(spec, column: pd.Series, dtype, index: pd.Index) -> pd.Series | None:
    """Enum codes and ISO dates of Arrow-backed text converted in Arrow (no Python object per value: ~10× faster
    than pandas on a whole store); None when the column is not such text or the dates are not plain ISO days."""
    arrow = arrow_text(column) if spec.kind in ("enum", "date") else None
    if arrow is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    if spec.kind == "enum":
        if not all(isinstance(c, str) for c in dtype.categories):
            return None
        # like astype(category): a value outside the categories (or missing) → code -1 (missing)
        codes = pc.fill_null(pc.index_in(arrow, value_set=pa.array(list(dtype.categories), pa.string())), -1)
        return pd.Series(pd.Categorical.from_codes(codes.to_numpy(), dtype=dtype), index=index)
    try:  # strict YYYY-MM-DD within datetime64[ns]; anything else takes the general parser (same values or error)
        stamps = arrow.cast(pa.date32()).cast(pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(stamps.to_numpy(), index=index, dtype="datetime64[ns]")


def _no_text(index: pd.Index) -> pd.Series:
    """A text column with every value missing, as one Arrow null array: what ``astype("string")`` makes of a None
    per row, ~100× faster (the columns a check skips are 3 million values on 10,000 branches: 0.55 s that way)."""
    import pyarrow as pa

    return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="string"), index=index)


def typed(record: type[Record], frame: pd.DataFrame) -> pd.DataFrame:
    """Give ``frame`` (model field columns, Python values) the dtypes of ``record``'s fields."""
    out = {}
    for spec in fields_of(record):
        dtype = _dtype(spec)
        column = frame[spec.name] if spec.name in frame.columns else None
        # a skipped column, or one that is all missing (which a bulk read gives as numbers, not text)
        if dtype == "string" and (column is None or (not isinstance(column.dtype, pd.StringDtype)
                                                     and column.isna().all())):
            out[spec.name] = _no_text(frame.index)
            continue
        if column is None:
            column = pd.Series([None] * len(frame), dtype=object)
        fast = _arrow_typed(spec, column, dtype, frame.index)
        if fast is not None:
            out[spec.name] = fast
        elif spec.kind == "date":
            # ISO text (a raw SQLite read) parses fastest with the format named; date objects need no format
            iso = column.dtype == object and isinstance(column.dropna().iat[0] if column.notna().any() else None, str)
            out[spec.name] = pd.to_datetime(column, errors="raise", format="ISO8601" if iso else None).astype(
                "datetime64[ns]")
        elif spec.kind == "bool":
            out[spec.name] = column.astype("boolean")
        elif isinstance(dtype, pd.CategoricalDtype):
            # a code outside the enum becomes missing, as the Arrow path does (validation reports it elsewhere)
            out[spec.name] = column.where(column.isin(dtype.categories)).astype(dtype)
        else:
            out[spec.name] = column.astype(dtype)
    extra = [c for c in frame.columns if c not in out]
    result = pd.DataFrame(out, index=frame.index)
    for name in extra:  # store columns (version, updated_at) ride along
        result[name] = frame[name]
    return result.reset_index(drop=True)


@dataclass
class Frames:
    """One typed DataFrame per record kind, named by table (``frames.meetings``) or reached by record class;
    plus ``reviews``, the stored review rows of the meetings (not a workbook record: iteration, ``rows`` and the
    checks leave it out; a meeting without a row is a draft, ``store.review.per_meeting``)."""

    branches: pd.DataFrame
    members: pd.DataFrame
    meetings: pd.DataFrame
    studies: pd.DataFrame
    opinions: pd.DataFrame
    talks: pd.DataFrame
    materials: pd.DataFrame
    attendance: pd.DataFrame
    criticisms: pd.DataFrame
    responses: pd.DataFrame
    ballots: pd.DataFrame
    ratings: pd.DataFrame
    rectifications: pd.DataFrame
    tenures: pd.DataFrame
    reviews: pd.DataFrame = field(default_factory=lambda: review_store.rows([]))

    def __getitem__(self, record: type[Record] | str) -> pd.DataFrame:
        return getattr(self, record if isinstance(record, str) else record.table)

    def __iter__(self) -> Iterator[tuple[type[Record], pd.DataFrame]]:
        return iter((record, self[record]) for record in RECORDS)

    @property
    def rows(self) -> int:
        return sum(len(frame) for _, frame in self)


assert [f.name for f in fields(Frames)] == [r.table for r in RECORDS] + ["reviews"]  # model order, then reviews


def owners(frames: Frames) -> dict[str, pd.Series]:
    """The branch of every row, per table (object ids): its own branch column, else its parent's branch (the
    meeting's; 任职: the member's)."""
    parents = {"meeting_id": frames.meetings, "member_id": frames.members}
    branch_of = {column: pd.Series(frame.branch_id.to_numpy(dtype=object), index=frame[column].to_numpy(dtype=object))
                 for column, frame in parents.items()}
    return {record.table: frame.branch_id.astype(object) if "branch_id" in frame.columns else
            frame[record.parent].astype(object).map(branch_of[record.parent]) for record, frame in frames}


def subset(frames: Frames, branch_ids: Iterable[str]) -> Frames:
    """The rows of ``frames`` that belong to the given branches (directly or through their meetings/members)."""
    wanted = set(branch_ids)
    meetings = set(frames.meetings.meeting_id[frames.meetings.branch_id.isin(wanted)])
    branch = owners(frames)
    parts = {record.table: frame[branch[record.table].isin(wanted).to_numpy()].reset_index(drop=True)
             for record, frame in frames}
    return Frames(**parts, reviews=frames.reviews[frames.reviews.meeting_id.isin(meetings)].reset_index(drop=True))


def from_batch(batch: dict[type[Record], pd.DataFrame]) -> Frames:
    """Frames of an unsaved batch (a workbook read straight into checks, or generated demo data)."""
    empty = {r: pd.DataFrame(columns=[f.name for f in fields_of(r)]) for r in RECORDS}
    return Frames(**{r.table: typed(r, batch.get(r, empty[r])) for r in RECORDS})


def load(db: Store | str | os.PathLike | None = None, branches: Iterable[str] | None = None,
         skip: Iterable[str] = ()) -> Frames:
    """Read the store (a ``Store`` or what ``--db`` accepts) into typed frames, optionally for some branches.

    ``skip``: ``table.column`` names left unread (all missing in the frames), e.g. free texts a job never reads.
    The review rows come along (one small query in the same scope): what reports and ``orglife status`` show.
    """
    store = db if isinstance(db, Store) else Store(db)
    try:
        ids = None if branches is None else list(branches)
        records = {r.table: frame for r, frame in store.read_many(RECORDS, ids, skip, then=typed).items()}
        return Frames(**records, reviews=store.read_reviews(ids))
    finally:
        if store is not db:
            store.close()


def load_input(workbook: str | Path | None = None, db=None, branches=None, *, actor=None,
               skip: Iterable[str] = ()) -> Frames:
    """Frames from a workbook (read whole, problems → ``WorkbookProblems`` listing them) or from a store (``db``: a
    Store or what ``--db`` accepts; ``actor``: whose scope, see ``Store``; ``skip``: as for ``load``)."""
    if workbook is None:
        from .store import using

        with using(db, actor=actor) as store:
            return load(store, branches, skip=skip)
    from .workbook.read import read_workbook

    path = Path(workbook)
    if not path.exists():
        raise OrglifeError(f"工作簿不存在：{path}")
    batch, problems = read_workbook(path)
    if problems:
        raise WorkbookProblems(path, problems)
    return from_batch(batch)


class WorkbookProblems(OrglifeError):
    """The workbook has cell problems; ``problems`` lists them (each printable)."""

    def __init__(self, path: Path, problems) -> None:
        self.problems = list(problems)
        super().__init__(f"工作簿 {path} 有 {len(self.problems)} 处问题，未作检查")
