"""Who must talk with whom before a meeting, and who must criticise whom in it — beside what was recorded.

These frames are the one place where the expected pairs are worked out: the PREP-TALKS / MEET-CRITICISM /
MEET-SELF-CRITICISM rules report the gaps, reports and forms draw the coverage matrices from the same rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import SUPERIOR, CriticismAct, CriticismStage, MeetingKind

SELF, CRIT, RESPONSE = (a.value for a in CriticismAct)
LEADERSHIP = MeetingKind.leadership.value
ACT_MARKS = {SELF: "自", CRIT: "批", RESPONSE: "表"}


def _before(talks: pd.DataFrame, meeting_date: pd.Series) -> pd.Series:
    """A talk counts when dated before the meeting (an undated talk is taken as before)."""
    return talks.date.isna() | talks.date.lt(meeting_date)


def talk_needs(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """Required talk pairs of ``meetings`` with ``done`` (a talk before the meeting covers the pair both ways).

    Secretary ↔ every other expected attendee; 班子 members pairwise; the superior ↔ the secretary.
    Columns: meeting_id, branch_id, date, held, a, b, subject, pair (secretary|group|superior), done.
    """
    r = ctx.only(ctx.roster, meetings)
    r = r.loc[r.secretary_id.notna(), ["meeting_id", "branch_id", "date", "held", "member_id", "secretary_id",
                                       "is_secretary", "in_group"]]
    cols = ["meeting_id", "branch_id", "date", "held", "a", "b", "subject", "pair"]
    with_secretary = r[~r.is_secretary].assign(a=r.secretary_id, b=r.member_id, subject=r.member_id, pair="secretary")
    g = r[r.in_group & ~r.is_secretary]
    between = g.merge(g[["meeting_id", "member_id"]], on="meeting_id", suffixes=("", "_other"))
    between = between[between.member_id_other < between.member_id]
    between = between.assign(a=between.member_id_other, b=between.member_id, subject=between.member_id, pair="group")
    lead = r[r.is_secretary]
    superior = lead.assign(a=SUPERIOR, b=lead.secretary_id, subject=lead.secretary_id, pair="superior")
    need = pd.concat([with_secretary[cols], between[cols], superior[cols]], ignore_index=True)

    person = ctx.frames.talks.talker.dtype  # the context's person ids (categorical): pairs as integer codes
    # a person unknown to the talks (-1) never matches a talk
    a = person.categories.get_indexer(need.a.astype(object))
    b = person.categories.get_indexer(need.b.astype(object))
    # a secretary–委员 pair is also a 班子 pair: keep the first (compared as integer codes)
    first = ~_duplicated([need.meeting_id.cat.codes.to_numpy(), _distinct_codes(need.a, a),
                          _distinct_codes(need.b, b)])
    need = need[first].assign(lo=np.minimum(a, b)[first], hi=np.maximum(a, b)[first])
    need["done"] = matched(need, talks_done(ctx, meetings, codes=True), ["meeting_id", "lo", "hi"])
    return need.drop(columns=["lo", "hi"]).reset_index(drop=True)


def _duplicated(codes: list[np.ndarray]) -> np.ndarray:
    """``DataFrame.duplicated`` of integer code columns (≥ -1), through one int64 key when it fits."""
    radixes = [int(c.max(initial=-1)) + 2 for c in codes]
    if np.prod([float(r) for r in radixes]) >= 2.0**62:
        return pd.DataFrame(dict(enumerate(codes))).duplicated().to_numpy()
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column, radix in zip(codes, radixes):
        key = key * radix + (column.astype(np.int64) + 1)
    return pd.Series(key).duplicated().to_numpy()


def _distinct_codes(values: pd.Series, codes: np.ndarray) -> np.ndarray:
    """``codes`` (category positions, -1 when unknown) with each distinct unknown value given a code of its own."""
    unknown = codes < 0
    if not unknown.any():
        return codes
    extra, _ = pd.factorize(values.to_numpy(dtype=object)[unknown], use_na_sentinel=False)
    out = codes.astype(np.int64)
    out[unknown] = codes.max(initial=-1) + 1 + extra
    return out


def talks_done(ctx, meetings: pd.DataFrame, codes: bool = False) -> pd.DataFrame:
    """Pairs (lo, hi) that talked before each meeting, one row per pair (``codes``: the ids' category codes)."""
    t = ctx.only(ctx.frames.talks, meetings).merge(
        meetings[["meeting_id", "date"]].rename(columns={"date": "meeting_date"}), on="meeting_id")
    t = t[_before(t, t.meeting_date)]
    if codes:
        talker, talkee = t.talker.cat.codes.to_numpy(), t.talkee.cat.codes.to_numpy()
        done = pd.DataFrame({"meeting_id": t.meeting_id, "lo": np.minimum(talker, talkee),
                             "hi": np.maximum(talker, talkee), "done": True})
        return done.drop_duplicates(["meeting_id", "lo", "hi"])
    lo = np.minimum(t.talker.astype(str), t.talkee.astype(str))
    hi = np.maximum(t.talker.astype(str), t.talkee.astype(str))
    done = pd.DataFrame({"meeting_id": t.meeting_id.astype(object), "lo": lo, "hi": hi, "done": True})
    return done.drop_duplicates(["meeting_id", "lo", "hi"])


def criticism_stage(meetings: pd.DataFrame) -> pd.Series:
    """The stage where mutual criticism happens: 民主生活会 for leadership meetings, else 支委会."""
    return pd.Series(np.where(meetings.kind.eq(LEADERSHIP).fillna(False), CriticismStage.leadership.value,
                              CriticismStage.committee.value), index=meetings.index)


def criticism_needs(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """Every criticism record the held ``meetings`` must have, with ``done``.

    Mutual stage (支委会 with a committee; every 民主生活会): each present 班子 member's self-criticism, each other
    present member's criticism of them, then their response. 党员大会 (regular/special): each present member's
    self-criticism. Columns: meeting_id, branch_id, stage, member_id (the one examined), speaker, act, done.
    """
    c = ctx.only(ctx.frames.criticisms, meetings[meetings.held])
    stage, act = c.stage.dtype, c.act.dtype
    # stage and act as categoricals of the criticisms' own dtypes from the start: the concat below then joins
    # integer codes (object strings cost ~0.3 s on 10,000 branches) and the match compares codes
    m = meetings[meetings.held]
    mutual = m[m.kind.eq(LEADERSHIP).fillna(False) | m.has_committee]
    mutual = mutual.assign(stage=pd.Categorical(criticism_stage(mutual), dtype=stage))
    present = ctx.present[["meeting_id", "branch_id", "member_id", "in_group"]]
    p = ctx.only(present, mutual)
    p = p.loc[p.in_group, ["meeting_id", "branch_id", "member_id"]].merge(mutual[["meeting_id", "stage"]],
                                                                            on="meeting_id")
    own = pd.concat([p.assign(speaker=p.member_id, act=_constant(SELF, act, len(p))),
                     p.assign(speaker=p.member_id, act=_constant(RESPONSE, act, len(p)))])
    others = p.merge(p[["meeting_id", "member_id"]].rename(columns={"member_id": "speaker"}), on="meeting_id")
    others = others[others.speaker.ne(others.member_id)]
    others = others.assign(act=_constant(CRIT, act, len(others)))

    assembly_meetings = m[m.kind.isin([MeetingKind.regular.value, MeetingKind.special.value])]
    a = ctx.only(present, assembly_meetings)[["meeting_id", "branch_id", "member_id"]]
    assembly = a.assign(stage=_constant(CriticismStage.assembly.value, stage, len(a)), speaker=a.member_id,
                        act=_constant(SELF, act, len(a)))

    cols = ["meeting_id", "branch_id", "stage", "member_id", "speaker", "act"]
    need = pd.concat([own[cols], others[cols], assembly[cols]], ignore_index=True).astype(
        {"stage": stage, "act": act})
    keys = ["meeting_id", "stage", "member_id", "speaker", "act"]
    done = pd.DataFrame({"meeting_id": c.meeting_id, "stage": c.stage, "member_id": c.target,
                         "speaker": c.speaker, "act": c.act})
    need["done"] = matched(need, done, keys)
    return need


def _constant(value: str, dtype: pd.CategoricalDtype, n: int) -> pd.Categorical:
    """``n`` times ``value`` as a categorical of ``dtype`` (missing when ``value`` is not one of its categories,
    as ``astype(dtype)`` would make it)."""
    code = dtype.categories.get_indexer([value])[0]
    return pd.Categorical.from_codes(np.full(n, code, dtype=np.int64), dtype=dtype)


def matched(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Whether each row of ``left`` has a row of ``right`` with equal ``keys`` (missing equals missing, as in a
    merge): one int64 per row from the keys' codes, then a hash lookup instead of a many-key merge."""
    row_keys = _row_keys(left, right, keys)
    if row_keys is not None:
        return pd.Series(row_keys[0]).isin(row_keys[1]).to_numpy()
    found = left[keys].merge(right[keys].drop_duplicates().assign(_found=True), on=keys, how="left")._found
    return found.fillna(False).astype(bool).to_numpy()


def _row_keys(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> list[np.ndarray] | None:
    """Mixed-radix int64 keys of both frames' rows (categorical codes + 1, or integers ≥ -1 plus 1); None unless
    every key is a categorical of one dtype on both sides or plain integers, and the key fits 62 bits."""
    out = [np.zeros(len(left), dtype=np.int64), np.zeros(len(right), dtype=np.int64)]
    span = 1
    for name in keys:
        columns = (left[name], right[name])
        if all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
            if columns[0].dtype != columns[1].dtype:
                return None
            codes = [c.cat.codes.to_numpy().astype(np.int64) + 1 for c in columns]
            radix = len(columns[0].dtype.categories) + 1
        elif all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iu" for c in columns):
            codes = [c.to_numpy().astype(np.int64) + 1 for c in columns]
            if any(len(k) and k.min() < 0 for k in codes):
                return None
            radix = max((int(k.max()) for k in codes if len(k)), default=0) + 1
        else:
            return None
        span *= radix
        if span >= 2**62:
            return None
        out = [key * radix + code for key, code in zip(out, codes)]
    return out


def _base(ctx):
    """The Context itself, also when given a rule's Scope (memos live on the Context, shared by all rules)."""
    return getattr(ctx, "ctx", ctx)


def all_talk_needs(ctx) -> pd.DataFrame:
    """``talk_needs`` of every meeting, computed once per context (PREP-TALKS and the matrices share it)."""
    base = _base(ctx)
    return base.memo("talk_needs", lambda: talk_needs(base, base.meetings))


def held_criticism_needs(ctx) -> pd.DataFrame:
    """``criticism_needs`` of every held meeting, computed once per context (MEET-CRITICISM,
    MEET-SELF-CRITICISM and the matrices share it)."""
    base = _base(ctx)
    return base.memo("criticism_needs", lambda: criticism_needs(base, base.meetings[base.meetings.held]))


# ---- matrices for reports and forms ---------------------------------------------------------------------------


def _people(ctx, meeting_id: str) -> list[str]:
    r = ctx.roster
    return list(r.loc[r.meeting_id == meeting_id, "member_id"].astype(str))


def talk_matrix(ctx, meeting_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(talked, missing): square boolean frames over the meeting's people plus 上级; symmetric."""
    meetings = ctx.meetings[ctx.meetings.meeting_id == meeting_id]
    people = _people(ctx, meeting_id) + [SUPERIOR]
    talked = pd.DataFrame(False, index=people, columns=people)
    missing = talked.copy()
    for frame, target in ((talks_done(ctx, meetings), talked),):
        for lo, hi in zip(frame.lo, frame.hi):  # a branch's handful of pairs
            if lo in target.index and hi in target.index:
                target.loc[lo, hi] = target.loc[hi, lo] = True
    need = all_talk_needs(ctx)
    need = need[need.meeting_id == meeting_id]
    for a, b in zip(need.a[~need.done], need.b[~need.done]):
        if a in missing.index and b in missing.index:
            missing.loc[a, b] = missing.loc[b, a] = True
    return talked, missing


def criticism_matrix(ctx, meeting_id: str, stage: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(marks, missing) for one stage: rows speak, columns are examined; marks are 自/批/表; None when unused."""
    meetings = ctx.meetings[ctx.meetings.meeting_id == meeting_id]
    c = ctx.frames.criticisms
    c = c[(c.meeting_id == meeting_id) & c.stage.eq(stage)]
    need = held_criticism_needs(ctx)
    need = need[(need.meeting_id == meeting_id) & (need.stage == stage)]
    if c.empty and need.empty:
        return None, None
    people = list(dict.fromkeys(_people(ctx, meeting_id) + list(c.speaker.astype(str)) + list(c.target.astype(str))))
    marks = pd.DataFrame("", index=people, columns=people)
    for speaker, target, act in zip(c.speaker.astype(str), c.target.astype(str), c.act.astype(str)):
        mark = ACT_MARKS.get(act, "")
        if mark and mark not in marks.loc[speaker, target]:
            marks.loc[speaker, target] += mark
    missing = pd.DataFrame(False, index=people, columns=people)
    for speaker, target in zip(need.speaker[~need.done].astype(str), need.member_id[~need.done].astype(str)):
        missing.loc[speaker, target] = True
    return marks, missing
