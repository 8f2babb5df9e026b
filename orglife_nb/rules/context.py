"""What every rule reads: the frames, the profile, ``as_of`` and the joins several rules share, computed once.

A rule receives a :class:`Scope` (the context bound to that rule): ``scope.meetings`` is already restricted to the
rule's meeting kinds, everything else is the shared context.
"""
from __future__ import annotations

import datetime as dt
import os
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..models import MeetingKind, Presence, Role
from .facts import belongs, duplicated, is_held
from .keys import category_key
from .periods import attributed

if TYPE_CHECKING:  # pragma: no cover
    from ..frames import Frames
    from .profile import Profile
    from .registry import Rule

LEADERSHIP = MeetingKind.leadership.value
COMMITTEE_ROLES = (Role.secretary.value, Role.deputy.value, Role.committee.value)


def _flag(series: pd.Series) -> pd.Series:
    """Nullable yes/no → plain bool (unknown counts as no)."""
    return series.fillna(False).astype(bool)


def day_count(delta: pd.Series) -> pd.Series:
    """Timedelta → whole days as nullable Int64."""
    return delta.dt.days.astype("Int64")


# id columns that name the same things: one shared, ordered categorical dtype per domain makes the many merges and
# isin() of the rules hash integers instead of strings (10–20× faster on 10,000 branches)
ID_DOMAINS = {
    "branch": {"branches": ["branch_id"], "members": ["branch_id"], "meetings": ["branch_id"]},
    "meeting": {table: ["meeting_id"] for table in ("meetings", "studies", "opinions", "talks", "materials",
                                                   "attendance", "criticisms", "responses", "ballots", "ratings",
                                                   "rectifications")},
    "person": {"members": ["member_id"], "meetings": ["host_id"], "opinions": ["target"],
               "talks": ["talker", "talkee"], "materials": ["member_id"], "attendance": ["member_id"],
               "criticisms": ["target", "speaker"], "responses": ["responder"], "ballots": ["rated_id"],
               "ratings": ["member_id", "helper"],
               "rectifications": ["owner"], "tenures": ["member_id"]},
    "ballot": {"ballots": ["ballot_no"]},
}


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` (codes, uniques; missing → -1) of an id column (uniques as an Arrow array or objects).

    Arrow-backed strings (what ``frames.load`` gives) are hashed by Arrow's ``dictionary_encode``: no Python
    string object per value (converting 5 million ids to objects cost more than hashing them).
    """
    from ..frames import arrow_text

    arrow = arrow_text(series)
    if arrow is not None:
        # the chunks (a bulk read's parts) are encoded against one growing dictionary: codes already given stay,
        # so the last chunk's dictionary serves all of them and no chunk is copied to join them first
        encoded = pc.dictionary_encode(arrow)
        if encoded.num_chunks == 0:  # no rows (Arrow may give an empty column no chunk at all)
            return np.empty(0, dtype=np.intp), pa.array([], pa.large_string())
        codes = np.concatenate([pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
                                for chunk in encoded.chunks]).astype(np.intp, copy=False)
        return codes, encoded.chunk(encoded.num_chunks - 1).dictionary  # Arrow: ``_union`` merges them in Arrow
    values = series.to_numpy(dtype=object, na_value=None)
    if len(values) < 2:
        return pd.factorize(values)
    # hash only the heads of runs of equal values: child rows come meeting by meeting, so in long runs
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    if len(starts) > len(values) // 2:
        return pd.factorize(values)
    head_codes, uniques = pd.factorize(values[starts])
    return np.repeat(head_codes, np.diff(np.r_[starts, len(values)])), uniques


def _union(uniques: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the concatenated ``uniques`` in their union, the union (objects) and its sorted order (sorted
    categories: ordered comparisons work). Arrow arrays (Arrow-backed columns) are merged and sorted by Arrow."""
    import pyarrow as pa

    if uniques and all(isinstance(u, pa.Array) for u in uniques):
        encoded = pc.dictionary_encode(pa.concat_arrays([u.cast(pa.large_string()) for u in uniques]))
        everything = encoded.dictionary
        # UTF-8 byte order is code point order: the order numpy's str sort gives
        order = pc.sort_indices(everything).to_numpy()
        return encoded.indices.to_numpy(), everything.to_numpy(zero_copy_only=False), order
    uniques = [u.to_numpy(zero_copy_only=False) if isinstance(u, pa.Array) else np.asarray(u, dtype=object)
               for u in uniques]
    merged, everything = pd.factorize(np.concatenate(uniques) if uniques else np.array([], dtype=object))
    return merged, everything, np.argsort(everything.astype(str), kind="stable")


def categorised(frames: "Frames") -> "Frames":
    """A shallow copy of ``frames`` whose id columns are categoricals sharing one dtype per domain."""
    from ..frames import Frames

    from concurrent.futures import ThreadPoolExecutor

    tables = {name: getattr(frames, name) for name in frames.__dataclass_fields__}
    converted: dict[str, dict[str, pd.Series]] = {name: {} for name in tables}
    # one hashing pass per column (factorize), then only the small unique sets are merged and sorted; Arrow's
    # hashing releases the GIL, so the 29 columns (~10 million ids on 10,000 branches) share the cores
    jobs = [(t, c) for columns in ID_DOMAINS.values() for t, cs in columns.items() for c in cs]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        factored = dict(zip(jobs, pool.map(lambda job: _factorize(tables[job[0]][job[1]]), jobs)))
    for columns in ID_DOMAINS.values():
        factors = {(t, c): factored[t, c] for t, cs in columns.items() for c in cs}
        merged, everything, order = _union([u for _, u in factors.values()])
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        dtype = pd.CategoricalDtype(pd.Index(everything[order], dtype=object), ordered=True)
        offset = 0
        for (table, column), (codes, unique) in factors.items():
            position = np.append(rank[merged[offset:offset + len(unique)]], -1)  # code -1 (missing) stays missing
            offset += len(unique)
            converted[table][column] = pd.Series(pd.Categorical.from_codes(position[codes], dtype=dtype),
                                                 index=tables[table].index)
    return Frames(**{name: frame.assign(**converted[name]) if converted[name] else frame
                     for name, frame in tables.items()})


def _left_lookup(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``left.merge(right, on=keys, how="left")`` for ``right`` unique on ``keys``, matched on the keys' shared
    category codes (half a million attendance rows: a two-key hash merge cost a quarter of the roster); the merge
    itself when the keys are not such categoricals or a column name clashes."""
    from pandas.api.extensions import take

    others = [c for c in right.columns if c not in keys]
    if any(c in left.columns for c in others) or not all(
            isinstance(left[k].dtype, pd.CategoricalDtype) and left[k].dtype == right[k].dtype for k in keys):
        return left.merge(right, on=keys, how="left")
    left_key, right_key = category_key(left, keys), category_key(right, keys)  # same dtypes: same digits
    if left_key is None or right_key is None:
        return left.merge(right, on=keys, how="left")
    at = pd.Index(right_key).get_indexer(left_key)  # -1: no row on the right → missing values, as a merge
    extra = {c: take(right[c].array if isinstance(right[c].dtype, pd.api.extensions.ExtensionDtype)
                     else right[c].to_numpy(), at, allow_fill=True) for c in others}
    return left.assign(**{c: pd.Series(v, index=left.index) for c, v in extra.items()})


class Context:
    """Frames + profile + as_of, with the precomputed joins the rules share (each computed on first use)."""

    def __init__(self, frames: "Frames", profile: "Profile", as_of: dt.date | pd.Timestamp,
                 year: int | None = None, since: dt.date | None = None) -> None:
        self.source = frames
        self.frames = categorised(frames)
        self.profile = profile
        self.as_of = pd.Timestamp(as_of).normalize()
        # cadence: None → every period from each branch's first meeting (or ``since``) to as_of; a year → that one
        self.year = int(year) if year is not None else None
        self.since = pd.Timestamp(since).normalize() if since is not None else None
        self._by_kinds: dict[tuple[str, ...], pd.DataFrame] = {}
        self._memo: dict[str, object] = {}

    # ---- branches and members --------------------------------------------------------------------------------

    @cached_property
    def branches(self) -> pd.DataFrame:
        b = self.frames.branches
        return pd.DataFrame({
            "branch_id": b.branch_id, "branch_name": b["name"], "superior": b.superior, "unit_type": b.unit_type,
            "has_committee": _flag(b.has_committee), "has_leadership_group": _flag(b.has_leadership_group),
        })

    @cached_property
    def members(self) -> pd.DataFrame:
        m = self.frames.members
        return m.assign(leading_cadre=_flag(m.leading_cadre), leadership_member=_flag(m.leadership_member),
                        full=m.status.eq("full").fillna(False).astype(bool))

    @cached_property
    def names(self) -> pd.Series:
        """member_id → name, for messages."""
        m = self.frames.members.drop_duplicates("member_id")
        return pd.Series(m["name"].to_numpy(), index=m.member_id.to_numpy())

    def name_of(self, ids: pd.Series) -> pd.Series:
        """Names for member ids (the id itself when unknown, e.g. '上级')."""
        if isinstance(ids.dtype, pd.CategoricalDtype) and len(ids) and not ids.isna().any():
            # person ids: look up each category once, then take by code (findings list a person many times)
            codes = ids.cat.codes.to_numpy()
            return self._category_names(ids.dtype).take(codes).set_axis(ids.index)
        ids = ids.astype(object)
        return ids.map(self.names).fillna(ids).astype(str)

    def _category_names(self, dtype: pd.CategoricalDtype) -> pd.Series:
        """``name_of`` of every category of ``dtype`` (memoised per dtype: the person ids share one)."""
        for known, names in self._memo.setdefault("_category_names", []):
            if known is dtype or known == dtype:
                return names
        categories = pd.Series(dtype.categories, dtype=object)
        members = self.frames.members.drop_duplicates("member_id")
        if members.member_id.dtype is dtype:  # the person ids share this dtype: place each name by its code
            named = np.asarray(categories, dtype=object).copy()  # unknown ids (上级) stand for themselves
            codes = members.member_id.cat.codes.to_numpy()
            given = members["name"].to_numpy(dtype=object, na_value=None)
            keep = (codes >= 0) & pd.notna(given)
            named[codes[keep]] = given[keep]
            names = pd.Series(named, dtype=object).astype(str)
        else:  # hashing 130,000 ids against the names costs ~0.25 s
            names = categories.map(self.names).fillna(categories).astype(str)
        self._memo["_category_names"].append((dtype, names))
        return names

    @cached_property
    def secretaries(self) -> pd.DataFrame:
        """One secretary per branch (the first by member id when the data name several)."""
        m = self.members
        s = m[m.role.eq(Role.secretary.value).fillna(False)].drop_duplicates("branch_id")
        return pd.DataFrame({"branch_id": s.branch_id, "secretary_id": s.member_id, "secretary_name": s["name"]})

    # ---- membership and roles in time (rules.md rev 3) -------------------------------------------------------

    @cached_property
    def in_time(self) -> bool:
        """Whether the data date anything: a 转入日期/转出日期 or a 任职 row. Without, every member belongs to every
        meeting in the role 党员.职务 gives, as before revision 3 (and the roster takes no extra pass)."""
        m = self.frames.members
        return bool(len(self.frames.tenures) or m.joined_on.notna().any() or m.left_on.notna().any())

    def belonging(self, people: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``people`` (a meeting's ``date`` with a member's columns) whose member belonged to the branch on
        that day: on or after 转入日期 (blank: always) and before 转出日期 (blank: still a member); ``role`` the
        member's role that day (``role_on``)."""
        if not self.in_time:
            return people
        people = people[belongs(people.date, people.joined_on, people.left_on)]
        return people.assign(role=self.role_on(people)) if len(self.frames.tenures) else people

    def belonged(self, rows: pd.DataFrame, column: str = "member_id") -> np.ndarray:
        """A mask over a meeting's child rows (``meeting_id`` and a person ``column``): whether the person was a
        member of the branch on the meeting's day (rows naming no member, e.g. 上级, are kept). What reports show."""
        if not self.in_time or rows.empty:
            return np.ones(len(rows), dtype=bool)
        source = self.source
        meetings = pd.Series(source.meetings.date.to_numpy(), index=source.meetings.meeting_id.astype(object))
        members = source.members.set_index(source.members.member_id.astype(object))[["joined_on", "left_on"]]
        people = rows[column].astype(object)
        date = rows.meeting_id.astype(object).map(meetings)
        return belongs(date, people.map(members.joined_on), people.map(members.left_on))

    def role_on(self, people: pd.DataFrame) -> pd.Series:
        """Each row's role on its ``date``: the 任职 period covering it (both days inclusive); a member with 任职
        rows none of which covers the day was an ordinary 党员 then; a member without any, 党员.职务."""
        t = self.frames.tenures
        role = people.role
        recorded = people.member_id.isin(t.member_id).to_numpy(dtype=bool)
        if not recorded.any():
            return role
        at = np.flatnonzero(recorded)
        asked = pd.DataFrame({"at": at, "member_id": people.member_id.array.take(at),
                              "date": people.date.to_numpy()[at]})
        found = asked.merge(t[["member_id", "role", "start_date", "end_date"]], on="member_id")
        found = found[found.start_date.le(found.date) & (found.end_date.isna() | found.date.le(found.end_date))]
        found = found.drop_duplicates("at")  # periods do not overlap (an import problem); the first if they do
        codes = np.asarray(role.cat.codes).copy()
        codes[at] = role.cat.categories.get_loc(Role.member.value)
        codes[found["at"].to_numpy()] = pd.Categorical(found.role, dtype=role.dtype).codes
        return pd.Series(pd.Categorical.from_codes(codes, dtype=role.dtype), index=people.index)

    def meeting_secretaries(self, meetings: pd.DataFrame) -> pd.DataFrame:
        """The secretary of each meeting on its day (meeting_id, secretary_id, secretary_name): the member whose
        role that day is 书记 — one recorded in 任职 before one whose 党员.职务 says so, then the first by id."""
        m, t = self.members, self.frames.tenures
        named = m.member_id.isin(t.member_id[t.role.eq(Role.secretary.value).fillna(False)])
        candidates = m[(m.role.eq(Role.secretary.value).fillna(False) | named).to_numpy(dtype=bool)]
        people = meetings[["meeting_id", "branch_id", "date"]].merge(
            candidates[["branch_id", "member_id", "name", "role", "joined_on", "left_on"]], on="branch_id")
        people = self.belonging(people)
        people = people[people.role.eq(Role.secretary.value).fillna(False).to_numpy(dtype=bool)]
        people = people.assign(_plain=~people.member_id.isin(t.member_id)).sort_values(
            ["_plain", "member_id"], kind="stable").drop_duplicates("meeting_id")
        return pd.DataFrame({"meeting_id": people.meeting_id, "secretary_id": people.member_id,
                             "secretary_name": people["name"]})

    # ---- meetings --------------------------------------------------------------------------------------------

    @cached_property
    def meetings(self) -> pd.DataFrame:
        """Meetings with their branch, secretary, ``held`` (on or before as_of), year/half and the report due date."""
        m = self.frames.meetings.merge(self.branches, on="branch_id", how="left", validate="many_to_one")
        if self.in_time:  # the secretary on the meeting's day (a 换届 mid-year changes only later meetings')
            m = m.merge(self.meeting_secretaries(m), on="meeting_id", how="left")
        else:
            m = m.merge(self.secretaries, on="branch_id", how="left")
        m["has_committee"] = _flag(m.has_committee)
        m["has_leadership_group"] = _flag(m.has_leadership_group)
        m["held"] = is_held(m.date, self.as_of)
        # the period each meeting counts for (recorded 年度/半年 within the grace, else its date): before the blanks
        # below are filled from the date
        m["counts_year"], m["counts_half"] = attributed(m, self.profile)
        m["year"] = m.year.fillna(m.date.dt.year).astype("Int64")
        m["half"] = m.half.astype(object).where(m.half.notna(), np.where(m.date.dt.month <= 6, "first", "second"))
        leadership = m.kind.eq(LEADERSHIP).fillna(False)
        report_days = np.where(leadership, self.profile.report_days_for(LEADERSHIP),
                               self.profile.report_days_for(MeetingKind.regular))
        m["report_due"] = m.date + pd.to_timedelta(report_days, unit="D")
        return m

    def meetings_of(self, kinds: Iterable[str]) -> pd.DataFrame:
        key = tuple(kinds)
        if key not in self._by_kinds:
            m = self.meetings
            self._by_kinds[key] = m[m.kind.isin(key)] if key else m
        return self._by_kinds[key]

    def held_of(self, kinds: Iterable[str]) -> pd.DataFrame:
        """``meetings_of(kinds)`` already held at as_of (once per set of kinds: rules ask for it many times)."""
        return self.memo("held:" + ",".join(kinds), lambda: (lambda m: m[m.held])(self.meetings_of(kinds)))

    # ---- who is expected at each meeting ---------------------------------------------------------------------

    @cached_property
    def roster(self) -> pd.DataFrame:
        """One row per (meeting, expected attendee): every branch member on the meeting's day (``belonging``), or
        for 民主生活会 the group members; ``role`` the member's role that day.

        ``in_group`` marks the meeting's 班子: committee members (roles 书记/副书记/委员) where the branch has a
        committee, the secretary alone where it has none (000 第三篇 第一步 3), every group member at 民主生活会.
        ``presence`` comes from attendance (NA when not recorded).
        """
        m = self.meetings[["meeting_id", "branch_id", "kind", "date", "held", "has_committee", "secretary_id"]]
        r = self.belonging(m.merge(self.members, on="branch_id", how="inner"))
        leadership = r.kind.eq(LEADERSHIP).fillna(False)
        r = r[~leadership | r.leadership_member]
        leadership = r.kind.eq(LEADERSHIP).fillna(False)
        committee = r.role.isin(COMMITTEE_ROLES) & r.has_committee
        r = r.assign(is_secretary=r.member_id.eq(r.secretary_id).fillna(False),
                     in_group=leadership | committee | r.member_id.eq(r.secretary_id).fillna(False))
        a = self.frames.attendance
        a = a[~duplicated(a, ["meeting_id", "member_id"])]
        return _left_lookup(r.reset_index(drop=True), a, ["meeting_id", "member_id"])

    @cached_property
    def present(self) -> pd.DataFrame:
        r = self.roster
        return r[r.presence.eq(Presence.present.value).fillna(False)]

    @cached_property
    def leadership_attendees(self) -> pd.DataFrame:
        """(member_id, year) of everyone present at a held 民主生活会: they may skip the branch rating of the year
        the meeting counts for (the 2025 年度 meeting held in January 2026 exempts from 2025's rating)."""
        p = self.present
        p = p[p.kind.eq(LEADERSHIP).fillna(False) & p.held]
        year = p[["meeting_id"]].merge(self.meetings[["meeting_id", "counts_year"]], on="meeting_id", how="left")
        return pd.DataFrame({"member_id": p.member_id.reset_index(drop=True),
                             "year": year.counts_year.astype("Int64")}).drop_duplicates()

    def warm(self) -> None:
        """Compute now what nearly every rule family reads (the meetings, the roster, the names): before the
        rules are shared by two processes (``rules.fork``), so that it is computed and held once."""
        self.present, self.names  # noqa: B018  (cached properties: reading them computes them)

    def memo(self, key: str, compute):
        """``compute()`` once per context (joins two rules share, e.g. the criticism coverage)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def attach(self, frame: pd.DataFrame, meetings: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """``frame.merge(meetings[["meeting_id", *columns]], on="meeting_id")`` (rows of ``meetings`` only, in
        ``frame``'s order, a fresh index), looked up by the shared meeting codes: a hash merge of millions of
        criticism or ballot rows costs ~10× more. Falls back to the merge when the ids are not the context's."""
        key, ids = frame.meeting_id, meetings.meeting_id
        if not (isinstance(key.dtype, pd.CategoricalDtype) and key.dtype == ids.dtype and ids.notna().all()
                and not ids.duplicated().any()):
            return frame.merge(meetings[["meeting_id", *columns]], on="meeting_id")
        # position of each meeting by its code; the extra last slot answers code -1 (missing id): no meeting
        position = np.full(len(key.cat.categories) + 1, -1, dtype=np.intp)
        position[ids.cat.codes.to_numpy()] = np.arange(len(meetings))
        at = position[key.cat.codes.to_numpy()]
        keep = at >= 0
        rows = frame[keep].reset_index(drop=True)
        extra = meetings[columns].iloc[at[keep]].reset_index(drop=True)
        return pd.concat([rows, extra], axis=1)

    def only(self, frame: pd.DataFrame, meetings: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` that belong to ``meetings``."""
        return frame[frame.meeting_id.isin(meetings.meeting_id)]

    def bind(self, rule: "Rule") -> "Scope":
        return Scope(self, rule)


class Scope:
    """The context as one rule sees it: ``meetings`` restricted to the rule's kinds; ``rule`` itself."""

    def __init__(self, ctx: Context, rule: "Rule") -> None:
        self.ctx = ctx
        self.rule = rule

    def __getattr__(self, name: str):
        return getattr(self.ctx, name)

    @property
    def meetings(self) -> pd.DataFrame:
        return self.ctx.meetings_of(self.rule.applies_to)

    def shared(self, name: str, compute):
        """``compute(scope)`` once per context and set of meeting kinds: rows several rules of the same kinds read
        (millions of criticism records, the roster of held meetings). ``compute`` may depend on nothing else."""
        return self.ctx.memo(f"{name}:{','.join(self.rule.applies_to)}", lambda: compute(self))

    @property
    def held(self) -> pd.DataFrame:
        """The rule's meetings already held at as_of (meeting-day and after-meeting rules look only at these)."""
        return self.ctx.held_of(self.rule.applies_to)
