"""Facts about a meeting that many outputs state: whether it is held or planned at a date, how many ballots it
has. One definition each, so that a report's heading, its tables and charts, a finding, a form and a document
never disagree (issue 14: "已召开 6 次" above 8 meetings; a chart's 17 张票 beside a finding's 15 张).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import VoterType
from .keys import category_key

HELD, PLANNED = "已召开", "计划召开"
BALLOT_COLUMNS = ["total", "public", "members"]


def is_held(dates: pd.Series, as_of) -> pd.Series:
    """True where a meeting on ``dates`` is held at ``as_of``: a meeting on the day itself is held (its records
    follow it); one after ``as_of`` is planned, so its missing records are pending, never "缺"."""
    return dates.le(pd.Timestamp(as_of)).fillna(False).astype(bool)


def belongs(date, joined: pd.Series, left: pd.Series) -> np.ndarray:
    """Membership in time (rules.md rev 3): whether members with 转入日期 ``joined`` and 转出日期 ``left`` belonged to
    the branch on ``date`` (one day or a Series): on or after 转入 (blank: always), before 转出 (blank: still)."""
    return ((joined.isna() | joined.le(date)) & (left.isna() | left.gt(date))).to_numpy(dtype=bool)


def held(date, as_of) -> bool:
    """``is_held`` for one meeting date."""
    return bool(pd.notna(date) and pd.Timestamp(date) <= pd.Timestamp(as_of))


def state_label(date, as_of) -> str:
    """已召开 / 计划召开 for one meeting date."""
    return HELD if held(date, as_of) else PLANNED


def planned_mark(date, as_of) -> str:
    """'（计划召开）' after the title of a meeting still ahead at ``as_of``; '' for a held (or undated) one."""
    return "" if pd.isna(date) or held(date, as_of) else f"（{PLANNED}）"


# ---- ballots -------------------------------------------------------------------------------------------------


def ballot_counts(ballots: pd.DataFrame) -> pd.DataFrame:
    """Per meeting (index ``meeting_id``): ``total`` ballots (distinct 票号), ``public`` ones (a ballot with any
    群众代表 line) and ``members`` (the rest). Rows of the ballots table are one member's level on one ballot, so
    counting rows or rated members would count a ballot several times."""
    if ballots.empty:
        return pd.DataFrame(columns=BALLOT_COLUMNS, dtype=int).rename_axis("meeting_id")
    papers = ballots[["meeting_id", "ballot_no"]]
    papers = papers[~duplicated(papers, ["meeting_id", "ballot_no"])]
    public = ballots.voter_type.eq(VoterType.public.value).fillna(False).to_numpy(dtype=bool)
    public = ballots.loc[public, ["meeting_id", "ballot_no"]]
    public = public[~duplicated(public, ["meeting_id", "ballot_no"])]
    counts = pd.DataFrame({"total": papers.groupby("meeting_id", observed=True).size(),
                           "public": public.groupby("meeting_id", observed=True).size()}).fillna(0).astype(int)
    counts["members"] = counts.total - counts.public
    return counts[BALLOT_COLUMNS].rename_axis("meeting_id")


def duplicated(frame: pd.DataFrame, columns: list[str], keep: str | bool = "first") -> np.ndarray:
    """``frame.duplicated(columns, keep=keep)`` as a boolean array; categorical columns are compared by their codes
    through one int64 key (millions of ballot lines: several times faster than the general path)."""
    key = category_key(frame, columns)
    if key is not None:
        if keep is False or keep == "first":
            # a stable sort keeps equal keys in row order: a repeat equals the key before it. Rows come nearly
            # in key order (ballots paper by paper), where timsort runs in about linear time
            order = np.argsort(key, kind="stable")
            ordered = key[order]
            again = np.r_[False, ordered[1:] == ordered[:-1]]
            if keep is False:
                again |= np.r_[again[1:], False]
            out = np.empty(len(key), dtype=bool)
            out[order] = again
            return out
        return pd.Series(key).duplicated(keep=keep).to_numpy()
    return frame.duplicated(columns, keep=keep).to_numpy()


def ballot_count_text(counts: pd.DataFrame, meeting_id, noun: str = "") -> str:
    """'17 张测评票（党员 15 张、群众代表 2 张）' (``noun`` 测评票) for one meeting of ``ballot_counts``: the chart,
    the finding, the form and the document all say it this way."""
    total, public = (0, 0) if meeting_id not in counts.index else (int(counts.at[meeting_id, c]) for c in
                                                                   ("total", "public"))
    detail = f"（党员 {total - public} 张、群众代表 {public} 张）" if public else ""
    return f"{total} 张{noun}{detail}"
