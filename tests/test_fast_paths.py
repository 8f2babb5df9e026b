"""The load and check shortcuts (Arrow typing, shared read queue, code-keyed matches) give what the plain paths
give."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orglife_nb import frames
from orglife_nb.models import Meeting, Opinion
from orglife_nb.rules.coverage import matched


def _raw(values: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same raw columns as Python objects and as Arrow-backed text (what a bulk store read gives)."""
    plain = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in values.items()})
    arrow = pd.DataFrame({k: pd.Series(v, dtype=pd.StringDtype("pyarrow", na_value=np.nan)) for k, v in values.items()})
    return plain, arrow


@pytest.mark.parametrize("dates", [["2025-03-01", None, "2024-12-31"], ["2025-03-01 10:00:00", None, "2025-03-02 00:00:00"]])
def test_arrow_typing_matches_the_pandas_typing(dates):
    values = {"meeting_id": ["m1", "m2", None], "date": dates, "method": ["talk", "bogus", None],
              "feedback_date": [None, None, None]}
    plain, arrow = _raw(values)
    expected = frames.typed(Opinion, plain)
    got = frames.typed(Opinion, arrow)
    pd.testing.assert_frame_equal(got.astype({"meeting_id": object}), expected.astype({"meeting_id": object}))
    assert list(got.dtypes) == list(frames.typed(Opinion, plain).dtypes)


def test_a_bad_date_still_fails_the_arrow_way():
    # the Arrow path must refuse the text as the plain path does (a date parse error naming the value), not turn
    # it into NaT or fail on something else
    plain, arrow = _raw({"meeting_id": ["m1"], "date": ["not a date"]})
    for raw in (plain, arrow):
        with pytest.raises(ValueError, match="not a date"):
            frames.typed(Meeting, raw)
    assert frames.typed(Meeting, _raw({"meeting_id": ["m1"], "date": ["2025-03-01"]})[1]).date.notna().all()


def test_matched_on_codes_equals_a_merge():
    ids = pd.CategoricalDtype(["a", "b", "c"], ordered=True)
    left = pd.DataFrame({"x": pd.Categorical(["a", "b", None, "c", None], dtype=ids), "n": [1, 2, 3, 0, 4]})
    right = pd.DataFrame({"x": pd.Categorical(["a", None, "c", "a"], dtype=ids), "n": [1, 3, 1, 1]})
    expected = left.merge(right.drop_duplicates().assign(_f=True), on=["x", "n"], how="left")._f.fillna(False)
    assert matched(left, right, ["x", "n"]).tolist() == expected.astype(bool).tolist() == [True, False, True,
                                                                                           False, False]
    # object keys: the merge itself
    assert matched(left.astype({"x": object}), right.astype({"x": object}), ["x", "n"]).tolist() == \
        expected.astype(bool).tolist()


def test_read_sqlite_returns_every_query_in_order(tmp_path):
    from orglife_nb.store.arrow import read_sqlite

    path = tmp_path / "q.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (n INTEGER, s TEXT)")
        connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(50)])
    connection.close()
    queries = [f"SELECT n, s FROM t WHERE n < {k} ORDER BY n" for k in range(7)]
    out = read_sqlite(str(path), queries, weights=[3, 1, 4, 1, 5, 9, 2])
    assert [len(f) for f in out] == list(range(7))
    assert out[6].s.tolist() == [f"v{i}" for i in range(6)]


def test_read_sqlite_parts_join_in_order_and_agree_on_types(tmp_path):
    # text missing for the first 2,000 rows: more than the driver's default batch, and all of the first part
    from orglife_nb.store.arrow import read_sqlite

    path = tmp_path / "p.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT, x REAL)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)",
                               [(i, None if i < 2000 else f"v{i}", i / 2 if i % 3 else i) for i in range(3000)])
    connection.close()
    whole = "SELECT n, s, x FROM t ORDER BY n"
    parts = [f"SELECT n, s, x FROM t WHERE n >= {a} AND n < {b} ORDER BY n" for a, b in
             [(0, 2000), (2000, 2500), (2500, 2500), (2500, 3000)]]
    one, joined = read_sqlite(str(path), [whole, parts], weights=[1, 1])
    assert one.n.tolist() == list(range(3000)) and one.s.iloc[2000] == "v2000" and one.s.iloc[:2000].isna().all()
    pd.testing.assert_frame_equal(joined, one)


# ---- the code-keyed joins and reductions of the rules (issue 14's benchmark) -----------------------------------


IDS = pd.CategoricalDtype(["a", "b", "c", "d"], ordered=True)
_ids = st.lists(st.sampled_from(["a", "b", "c", "d", None]), max_size=30)


@settings(max_examples=150, deadline=None)
@given(_ids, _ids, st.sampled_from(["first", "last", False]))
def test_duplicated_on_codes_equals_pandas(first, second, keep):
    from orglife_nb.rules.facts import duplicated

    n = min(len(first), len(second))
    frame = pd.DataFrame({"x": pd.Categorical(first[:n], dtype=IDS), "y": pd.Categorical(second[:n], dtype=IDS)})
    assert duplicated(frame, ["x", "y"], keep=keep).tolist() == frame.duplicated(["x", "y"], keep=keep).tolist()


def _context_of(meeting_ids: list, child_ids: list):
    """A bare Context-like object: ``attach`` reads nothing of the context but its arguments."""
    from orglife_nb.rules.context import Context

    meetings = pd.DataFrame({"meeting_id": pd.Categorical(meeting_ids, dtype=IDS),
                             "date": pd.to_datetime(["2026-01-0%d" % (n + 1) for n in range(len(meeting_ids))]),
                             "flag": [n % 2 == 0 for n in range(len(meeting_ids))]})
    child = pd.DataFrame({"meeting_id": pd.Categorical(child_ids, dtype=IDS), "seq": range(len(child_ids)),
                          "text": pd.Series([f"t{n}" for n in range(len(child_ids))], dtype="string")})
    return Context.attach(None, child, meetings, ["date", "flag"]), child.merge(meetings, on="meeting_id")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, max_size=4), _ids)
def test_attach_equals_an_inner_merge(meeting_ids, child_ids):
    got, expected = _context_of(meeting_ids, child_ids)
    pd.testing.assert_frame_equal(got, expected)


def test_attach_falls_back_to_the_merge_on_repeated_meetings():
    got, expected = _context_of(["a", "a", "b"], ["a", "b", "c", "a"])
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == 5  # "a" twice on each side of the merge


@settings(max_examples=100, deadline=None)
@given(_ids, _ids, st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12),
       st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12))
def test_left_lookup_equals_a_left_merge(left_x, left_y, right_x, right_y):
    from orglife_nb.rules.context import _left_lookup

    n, k = min(len(left_x), len(left_y)), min(len(right_x), len(right_y))
    left = pd.DataFrame({"x": pd.Categorical(left_x[:n], dtype=IDS), "y": pd.Categorical(left_y[:n], dtype=IDS),
                         "own": range(n)})
    right = pd.DataFrame({"x": pd.Categorical(right_x[:k], dtype=IDS), "y": pd.Categorical(right_y[:k], dtype=IDS),
                          "presence": pd.Categorical(["p"] * k), "note": pd.Series(["n"] * k, dtype="string"),
                          "said": pd.array([True] * k, dtype="boolean"),
                          "day": pd.to_datetime(["2026-01-01"] * k)}).drop_duplicates(["x", "y"])
    pd.testing.assert_frame_equal(_left_lookup(left, right, ["x", "y"]), left.merge(right, on=["x", "y"], how="left"))


def test_blank_by_dtype_equals_the_text_test():
    from orglife_nb.rules.meeting import blank

    def as_text(series: pd.Series) -> list:
        return (series.isna() | series.astype("string").str.strip().eq("")).fillna(True).astype(bool).tolist()

    columns = [pd.Series(pd.to_datetime(["2026-01-01", None])), pd.Series([1.5, np.nan]),
               pd.Series(pd.array([True, None], dtype="boolean")), pd.Series(pd.array([3, None], dtype="Int64")),
               pd.Series(pd.Categorical(["x", " ", None, "y"], categories=["x", "y", " "])),
               pd.Series(["x", "  ", None, ""], dtype=pd.StringDtype("pyarrow")),
               pd.Series(["x", "  ", None, ""], dtype=object)]
    for column in columns:
        assert blank(column).tolist() == as_text(column), column.dtype


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.lists(st.integers(0, 6), max_size=40))
def test_binary_search_isin_equals_numpy(values, among):
    from orglife_nb.rules.coverage import _isin

    values, among = np.array(values, dtype=np.int64), np.array(among, dtype=np.int64)
    assert _isin(values, among).tolist() == np.isin(values, among).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(0, 9))), max_size=40))
def test_one_pass_reduce_equals_a_groupby(rows):
    from orglife_nb.rules.meeting import _reduce

    groups = np.array([g for g, _ in rows], dtype=np.intp)
    values = np.array([np.nan if v is None else v for _, v in rows], dtype=float)
    for how in ("min", "max"):
        expected = getattr(pd.Series(values).groupby(groups), how)().reindex(range(5))
        got = _reduce(groups, 5, values, how)
        assert np.array_equal(got, expected.to_numpy(), equal_nan=True), how


def test_ids_in_several_arrow_chunks_factorise_like_one():
    # a bulk read joins its parts as chunks: the codes must index one dictionary across them
    import pyarrow as pa

    from orglife_nb.rules.context import _factorize

    chunks = [["a", "b", None, "a"], ["c", "a"], [], ["b", "d", None]]
    series = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
        [pa.array(c, pa.large_string()) for c in chunks], pa.large_string())))
    codes, uniques = _factorize(series)
    assert [None if c < 0 else uniques[c].as_py() for c in codes] == [v for c in chunks for v in c]
    assert sorted(u.as_py() for u in uniques) == ["a", "b", "c", "d"]
    # an empty column: Arrow encodes its one empty chunk into none at all
    codes, uniques = _factorize(pd.Series([], dtype=pd.StringDtype("pyarrow")))
    assert len(codes) == 0 and len(uniques) == 0
