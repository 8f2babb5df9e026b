"""The one test for a missing frame value (present.values): every gap pandas can hand back, none of the falsy values
that are really there."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from orglife_nb.present.values import missing, plain

GAPS = [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NaT, np.datetime64("NaT"),
        np.timedelta64("NaT"), pd.NA]
VALUES = [0, 0.0, False, "", " ", "文本", [], np.int64(0), np.bool_(False), dt.date(2026, 1, 1),
          pd.Timestamp("2026-01-01"), np.datetime64("2026-01-01"), float("inf")]


@pytest.mark.parametrize("value", GAPS, ids=repr)
def test_every_gap_is_missing(value):
    assert missing(value) is True
    assert plain(value) is None


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_falsy_values_are_there(value):
    assert missing(value) is False


@pytest.mark.parametrize("dtype", ["string", "Int64", "boolean", "Float64", "datetime64[ns]", "object", "float64"])
def test_every_nullable_dtype_gives_a_gap_missing_knows(dtype):
    """What a frame's empty cell is, for each dtype the store hands back (pd.NA in the nullable ones)."""
    column = pd.Series([None, None], dtype=dtype)
    assert all(missing(value) for value in column)
    assert all(missing(value) for value in column.to_list())
    assert missing(column.iloc[0]) and missing(pd.DataFrame({"c": column}).iloc[0].to_dict()["c"])


def test_plain_unwraps_numpy_scalars():
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert plain("a") == "a" and plain(dt.date(2026, 1, 2)) == dt.date(2026, 1, 2)


def test_a_superior_opens_a_cleanly_submitted_meeting(tmp_path):
    """The fresh-install blocker: a meeting submitted with no errors has no explanation, and the review row's text
    columns then hold pd.NA (pandas' string dtype); the bar tested that for truth and the page crashed for every
    account once such a meeting existed."""
    from orglife_nb.auth import add_account
    from orglife_nb.auth.review import review
    from orglife_nb.forms import FormsApp
    from orglife_nb.models import Branch, Meeting, Member
    from orglife_nb.store import Store
    from orglife_nb.store.review import review_frame

    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部", "superior": "机关党委"}]),
                    Member: pd.DataFrame([{"member_id": "M1", "branch_id": "B1", "name": "张三",
                                           "role": "secretary"}]),
                    # planned 40 days ahead: nothing is overdue, so the submission needs no explanation
                    Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular",
                                            "topic": "学习", "date": dt.date.today() + dt.timedelta(days=40)}])})
        add_account(store, "sec1", "secretary", "password-12345", branches=["B1"])
        add_account(store, "sup1", "superior", "password-12345", superior="机关党委")
        assert review(store.as_actor("sec1"), "submit", "MT") == "已提交"
        with store.engine.connect() as connection:
            row = review_frame(connection, ["MT"]).iloc[0]
        assert missing(row["explanation"]) and missing(row["reason"])
        app = FormsApp(store, actor="sup1", defer_guidance=True)
        assert "已提交" in app.review.state_html.value and "提交说明" not in app.review.state_html.value
        assert app.review.act("approve")
        assert "已审核" in app.review.state_html.value
