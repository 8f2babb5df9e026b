"""Who must talk with whom before a meeting, and who must criticise whom in it — beside what was recorded.

These frames are the one place where the expected pairs are worked out: the PREP-TALKS / MEET-CRITICISM /
MEET-SELF-CRITICISM rules report the gaps, reports and forms draw the coverage matrices from the same rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..models import SUPERIOR, CriticismAct, CriticismStage, MeetingKind
from .keys import packed

SELF, CRIT, RESPONSE, REPORT = (CriticismAct.self_criticism.value, CriticismAct.criticism.value,
                                CriticismAct.response.value, CriticismAct.report.value)
LEADERSHIP = MeetingKind.leadership.value
ACT_MARKS = {SELF: "自", CRIT: "批", RESPONSE: "表", REPORT: "通"}
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what a column of words is by default


def _before(talks: pd.DataFrame, meeting_date: pd.Series) -> pd.Series:
    """A talk counts when dated before the meeting: on its day at the latest, as opinions, materials and study
    (rules.md rev 3: a talk on the meeting morning counts); an undated talk is taken as before."""
    return talks.date.isna() | talks.date.le(meeting_date)


def talk_needs(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """Required talk pairs of ``meetings`` with ``done`` (a talk before the meeting covers the pair both ways).

    Secretary ↔ every other expected attendee; 班子 members pairwise; the superior ↔ the secretary.
    Columns: meeting_id, branch_id, date, held, a, b, subject, pair (secretary|group|superior), done.
    """
    r = ctx.roster  # columns chosen before the rows: the roster is wide
    r = ctx.only(r.loc[r.secretary_id.notna(), ["meeting_id", "branch_id", "date", "held", "member_id", "secretary_id",
                                                "is_secretary", "in_group"]], meetings).reset_index(drop=True)
    # each need as a row of r and its pair (a, b): the roster's columns are taken once, for the needs kept
    lead = np.flatnonzero(r.is_secretary.to_numpy())
    others = np.flatnonzero(~r.is_secretary.to_numpy())
    g = r[r.in_group & ~r.is_secretary]
    g = pd.DataFrame({"meeting_id": g.meeting_id, "member_id": g.member_id, "row": g.index})
    between = g.merge(g, on="meeting_id", suffixes=("", "_other"))
    between = between[between.member_id_other < between.member_id]
    other, row = between.row_other.to_numpy(), between.row.to_numpy()
    rows = np.concatenate([others, row, lead])
    kinds = np.repeat(np.arange(3), [len(others), len(row), len(lead)])  # secretary, group, superior
    a = pd.concat([r.secretary_id.take(others), r.member_id.take(other),
                   pd.Series(SUPERIOR, index=lead, dtype=_STR)], ignore_index=True)
    b = pd.concat([r.member_id.take(others), r.member_id.take(row), r.secretary_id.take(lead)], ignore_index=True)

    person = ctx.frames.talks.talker.dtype  # the context's person ids (categorical): pairs as integer codes
    # a person unknown to the talks (-1) never matches a talk
    members, secretaries = _person_codes(r.member_id, person), _person_codes(r.secretary_id, person)
    superior = person.categories.get_indexer([SUPERIOR])
    a_codes = np.concatenate([secretaries[others], members[other], np.repeat(superior, len(lead))])
    b_codes = np.concatenate([members[others], members[row], secretaries[lead]])
    meeting = r.meeting_id.cat.codes.to_numpy()[rows]
    # a secretary–委员 pair is also a 班子 pair: keep the first (compared as integer codes)
    first = ~_duplicated([meeting, _distinct_codes(a, a_codes), _distinct_codes(b, b_codes)])
    b = b[first].reset_index(drop=True)
    need = r[["meeting_id", "branch_id", "date", "held"]].take(rows[first]).reset_index(drop=True).assign(
        a=a[first].reset_index(drop=True), b=b, subject=b,
        pair=pd.array(pa.array(["secretary", "group", "superior"]).take(kinds[first]), dtype=_STR))
    t = _talked(ctx, meetings)
    talker, talkee = t.talker.cat.codes.to_numpy(), t.talkee.cat.codes.to_numpy()
    done = pd.DataFrame({"meeting_id": t.meeting_id, "lo": np.minimum(talker, talkee),
                         "hi": np.maximum(talker, talkee)})
    pairs = pd.DataFrame({"meeting_id": need.meeting_id, "lo": np.minimum(a_codes, b_codes)[first],
                          "hi": np.maximum(a_codes, b_codes)[first]})
    need["done"] = matched(pairs, done, ["meeting_id", "lo", "hi"])
    return need


def _person_codes(ids: pd.Series, person: pd.CategoricalDtype) -> np.ndarray:
    """Category codes of ``ids`` in ``person`` (-1: unknown or missing)."""
    if ids.dtype == person:
        return ids.cat.codes.to_numpy()
    return person.categories.get_indexer(ids.astype(object))


def _duplicated(codes: list[np.ndarray]) -> np.ndarray:
    """``DataFrame.duplicated`` of integer code columns (≥ -1), through one int64 key when it fits."""
    key = packed([c.astype(np.int64) + 1 for c in codes], [int(c.max(initial=-1)) + 2 for c in codes])
    if key is None:
        return pd.DataFrame(dict(enumerate(codes))).duplicated().to_numpy()
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


def _talked(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """The talks of ``meetings`` held before the meeting: meeting_id, talker, talkee."""
    t = ctx.only(ctx.frames.talks[["meeting_id", "date", "talker", "talkee"]], meetings).merge(
        meetings[["meeting_id", "date"]].rename(columns={"date": "meeting_date"}), on="meeting_id")
    return t[_before(t, t.meeting_date)]


def talks_done(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """Pairs (lo, hi) that talked before each meeting, one row per pair."""
    t = _talked(ctx, meetings)
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
    c = ctx.frames.criticisms[["meeting_id", "stage", "target", "speaker", "act"]]  # not the text (Arrow takes)
    c = ctx.only(c, meetings[meetings.held])
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
    own = _stack([p.assign(speaker=p.member_id, act=_constant(SELF, act, len(p))),
                  p.assign(speaker=p.member_id, act=_constant(RESPONSE, act, len(p)))], list(p.columns) + ["speaker", "act"])
    others = p.merge(p[["meeting_id", "member_id"]].rename(columns={"member_id": "speaker"}), on="meeting_id")
    others = others[others.speaker.ne(others.member_id)]
    others = others.assign(act=_constant(CRIT, act, len(others)))

    assembly_meetings = m[m.kind.isin([MeetingKind.regular.value, MeetingKind.special.value])]
    a = ctx.only(present, assembly_meetings)[["meeting_id", "branch_id", "member_id"]]
    assembly = a.assign(stage=_constant(CriticismStage.assembly.value, stage, len(a)), speaker=a.member_id,
                        act=_constant(SELF, act, len(a)))

    cols = ["meeting_id", "branch_id", "stage", "member_id", "speaker", "act"]
    need = _stack([own, others, assembly], cols).astype({"stage": stage, "act": act})
    keys = ["meeting_id", "stage", "member_id", "speaker", "act"]
    done = pd.DataFrame({"meeting_id": c.meeting_id, "stage": c.stage, "member_id": c.target,
                         "speaker": c.speaker, "act": c.act})
    need["done"] = matched(need, done, keys)
    return need


def _stack(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """``pd.concat(parts, ignore_index=True)[columns]``; a categorical column whose parts share its categories is
    joined as codes (pandas' own concat hashes each part's 130,000 person ids again to compare the dtypes)."""
    out = {}
    for column in columns:
        first = parts[0][column]
        if isinstance(first.dtype, pd.CategoricalDtype) and all(
                isinstance(part[column].dtype, pd.CategoricalDtype)
                and (part[column].dtype is first.dtype
                     or (part[column].dtype.ordered == first.dtype.ordered
                         and part[column].dtype.categories.equals(first.dtype.categories))) for part in parts):
            codes = np.concatenate([part[column].cat.codes.to_numpy() for part in parts])
            out[column] = pd.Categorical.from_codes(codes, dtype=first.dtype)
        else:
            out[column] = pd.concat([part[column] for part in parts], ignore_index=True)
    return pd.DataFrame(out)


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
        return _isin(*row_keys)
    found = left[keys].merge(right[keys].drop_duplicates().assign(_found=True), on=keys, how="left")._found
    return found.fillna(False).astype(bool).to_numpy()


def _isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin`` for int64 keys by binary search in the sorted ``among``: rows come meeting by meeting, so the keys
    are nearly sorted and this is ~3× faster than a hash set on a million criticism records."""
    if not len(among):
        return np.zeros(len(values), dtype=bool)
    among = np.sort(among)
    at = np.minimum(np.searchsorted(among, values), len(among) - 1)
    return among[at] == values


def _row_keys(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> list[np.ndarray] | None:
    """Mixed-radix int64 keys of both frames' rows (categorical codes + 1, or integers ≥ -1 plus 1); None unless
    every key is a categorical of one dtype on both sides or plain integers, and the key fits 62 bits."""
    sides: list[list[np.ndarray]] = [[], []]
    radixes = []
    for name in keys:
        columns = (left[name], right[name])
        if all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
            if columns[0].dtype != columns[1].dtype:
                return None
            codes = [c.cat.codes.to_numpy().astype(np.int64) + 1 for c in columns]
            radixes.append(len(columns[0].dtype.categories) + 1)
        elif all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iu" for c in columns):
            codes = [c.to_numpy().astype(np.int64) + 1 for c in columns]
            if any(len(k) and k.min() < 0 for k in codes):
                return None
            radixes.append(max((int(k.max()) for k in codes if len(k)), default=0) + 1)
        else:
            return None
        for side, column in zip(sides, codes):
            side.append(column)
    keys = [packed(side, radixes) for side in sides]
    return None if keys[0] is None else keys


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


def _grouped(ctx, name: str, build, keys: list[str], columns: list[str]):
    """``build()``'s rows grouped by ``keys`` once per context: (row positions per key, each column as strings).

    The matrices are drawn meeting after meeting (a report draws all of its branch's; a batch holds a chunk of
    branches): each lookup is then a dictionary access, not a filter over the whole context."""
    base = _base(ctx)

    def group():
        frame = build(base)
        positions = frame.groupby(keys if len(keys) > 1 else keys[0], observed=True, sort=False).indices
        return positions, {c: frame[c].astype(object).astype(str).to_numpy() for c in columns}

    return base.memo(f"matrix:{name}", group)


def _rows(grouped, key, *columns) -> list[np.ndarray]:
    positions, values = grouped
    at = positions.get(key)
    return [values[c][at] if at is not None else np.array([], dtype=object) for c in columns]


def _people(ctx, meeting_id: str) -> list[str]:
    """The meeting's expected attendees, in roster order."""
    (people,) = _rows(_grouped(ctx, "people", lambda base: base.roster, ["meeting_id"], ["member_id"]),
                      meeting_id, "member_id")
    return list(people)


def _grid(people: list[str], first: np.ndarray, second: np.ndarray, symmetric: bool) -> np.ndarray:
    """A boolean people × people grid with the given (row, column) pairs set; pairs naming others are ignored."""
    at = {person: n for n, person in enumerate(people)}
    rows = np.array([at.get(p, -1) for p in first], dtype=np.intp)
    columns = np.array([at.get(p, -1) for p in second], dtype=np.intp)
    known = (rows >= 0) & (columns >= 0)
    grid = np.zeros((len(people), len(people)), dtype=bool)
    grid[rows[known], columns[known]] = True
    if symmetric:
        grid[columns[known], rows[known]] = True
    return grid


def talk_matrix(ctx, meeting_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(talked, missing): square boolean frames over the meeting's people plus 上级; symmetric."""
    people = _people(ctx, meeting_id) + [SUPERIOR]
    talked = _rows(_grouped(ctx, "talked", lambda base: talks_done(base, base.meetings), ["meeting_id"],
                            ["lo", "hi"]), meeting_id, "lo", "hi")
    gaps = _rows(_grouped(ctx, "talk gaps", lambda base: _undone(all_talk_needs(base)), ["meeting_id"],
                          ["a", "b"]), meeting_id, "a", "b")
    return (pd.DataFrame(_grid(people, *talked, symmetric=True), index=people, columns=people),
            pd.DataFrame(_grid(people, *gaps, symmetric=True), index=people, columns=people))


def _undone(need: pd.DataFrame) -> pd.DataFrame:
    return need[~need.done]


def criticism_matrix(ctx, meeting_id: str, stage: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(marks, missing) for one stage: rows speak, columns are examined; marks are 自/批/表; None when unused."""
    speakers, targets, acts = _rows(_grouped(ctx, "criticisms", lambda base: base.frames.criticisms,
                                             ["meeting_id", "stage"], ["speaker", "target", "act"]),
                                    (meeting_id, stage), "speaker", "target", "act")
    gap_speakers, gap_members = _rows(_grouped(ctx, "criticism gaps",
                                               lambda base: _undone(held_criticism_needs(base)),
                                               ["meeting_id", "stage"], ["speaker", "member_id"]),
                                      (meeting_id, stage), "speaker", "member_id")
    if not len(speakers) and not _has_need(ctx, meeting_id, stage):
        return None, None
    people = list(dict.fromkeys(_people(ctx, meeting_id) + list(speakers) + list(targets)))
    at = {person: n for n, person in enumerate(people)}
    marks = np.full((len(people), len(people)), "", dtype=object)
    for speaker, target, act in zip(speakers, targets, acts):  # one meeting's handful of records
        mark = ACT_MARKS.get(act, "")
        cell = (at[speaker], at[target])
        if mark and mark not in marks[cell]:
            marks[cell] += mark
    missing = _grid(people, gap_speakers, gap_members, symmetric=False)
    return (pd.DataFrame(marks, index=people, columns=people),
            pd.DataFrame(missing, index=people, columns=people))


def _has_need(ctx, meeting_id: str, stage: str) -> bool:
    """Whether the meeting must have criticism records at this stage (done or not)."""
    positions, _ = _grouped(ctx, "criticism needs", held_criticism_needs, ["meeting_id", "stage"], [])
    return (meeting_id, stage) in positions
