"""The load and check shortcuts (Arrow typing, shared read queue, code-keyed matches) give what the plain paths
give."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

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
