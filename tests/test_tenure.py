"""Membership and roles in time (rules.md / workbook.md revision 3): 党员.转入日期/转出日期 and the 任职 sheet
through the store (migration, merge rules, scope)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from orglife_nb.frames import load, subset
from orglife_nb.models import Branch, Member, Tenure
from orglife_nb.store import Store, head_revision, migrate
from orglife_nb.store.scope import ScopeError

from test_scope import PASSWORD, as_, seed

D = dt.date


def _tenures(*rows) -> pd.DataFrame:
    return pd.DataFrame([{"member_id": m, "role": r, "start_date": s, "end_date": e} for m, r, s, e in rows])


def test_an_old_store_gets_the_dates_and_the_tenure_table_and_keeps_its_members(db_url):
    engine = create_engine(db_url)
    with engine.begin() as connection:
        migrate(connection, "0009")
        connection.execute(text("insert into branches (branch_id, name, version) values ('001', '老支部', 1)"))
        connection.execute(text("insert into members (member_id, branch_id, name, role, version) "
                                "values ('001-01', '001', '王伟', 'secretary', 1)"))
    engine.dispose()
    with Store(db_url) as opened:
        assert opened.revision == head_revision() == "0010"
        members = opened.read(Member)
        assert members.name.tolist() == ["王伟"] and members.joined_on.isna().all() and members.left_on.isna().all()
        assert opened.read(Tenure).empty
        assert "ix_tenures_member_id" in {ix["name"] for ix in inspect(opened.engine).get_indexes("tenures")}


def test_tenure_rows_are_replaced_per_member_and_read_per_branch(store):
    seed(store)
    store.save({Member: pd.DataFrame([{"member_id": "M2", "branch_id": "B1", "name": "乙", "role": "secretary",
                                       "joined_on": D(2026, 7, 1), "left_on": None}]),
                Tenure: _tenures(("M1", "secretary", D(2020, 1, 1), D(2026, 9, 30)),
                                 ("M2", "secretary", D(2026, 10, 1), None),
                                 ("N1", "secretary", D(2021, 1, 1), None))})
    # M1's rows replaced by the new ones; M2's and N1's untouched (same rows: nothing changes)
    summary = store.save({Tenure: _tenures(("M1", "committee", D(2026, 10, 1), None),
                                           ("M1", "secretary", D(2020, 1, 1), D(2026, 9, 30)),
                                           ("M2", "secretary", D(2026, 10, 1), None))})
    assert summary.inserted[Tenure] == 2 and summary.unchanged[Tenure] == 1
    stored = store.read(Tenure)
    assert sorted(zip(stored.member_id, stored.role)) == [("M1", "committee"), ("M1", "secretary"),
                                                         ("M2", "secretary"), ("N1", "secretary")]
    assert store.read(Member, ["B1"]).set_index("member_id").joined_on["M2"] == D(2026, 7, 1)
    frames = load(store, ["B1"])
    assert set(frames.tenures.member_id) == {"M1", "M2"}  # N1 is B2's
    assert set(subset(load(store), ["B2"]).tenures.member_id) == {"N1"}
    # the change is logged under the member, with its branch
    history = store.history(branch="B1")
    replaced = history[(history.record == "tenures") & (history.action == "replace")]
    assert set(replaced.record_key) == {"M1", "M2"}


def test_a_secretary_writes_tenure_only_of_her_branchs_members(store):
    seed(store)
    with as_(store, "sec1") as mine:
        mine.save({Tenure: _tenures(("M1", "secretary", D(2020, 1, 1), None))})
        assert mine.read(Tenure).member_id.tolist() == ["M1"]
        with pytest.raises(ScopeError, match="无权修改支部 B2"):
            mine.save({Tenure: _tenures(("N1", "secretary", D(2020, 1, 1), None))})
        # nor through a member the batch claims to move into her branch
        with pytest.raises(ScopeError, match="无权修改支部 B2"):
            mine.save({Member: pd.DataFrame([{"member_id": "N2", "branch_id": "B1", "name": "丁"}]),
                       Tenure: _tenures(("N2", "committee", D(2020, 1, 1), None))})
    assert store.read(Tenure).member_id.tolist() == ["M1"]
    with as_(store, "sup") as superior:  # reads her branches' rows
        assert superior.read(Tenure, ["B1"]).member_id.tolist() == ["M1"]
