"""Scope is checked at one point, the store: a secretary of B1 reads and writes only B1, a superior sees exactly her
branches, an analyst reads no confidential text without the grant — through the store API, the forms' session and
the command line's ``--as``."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from orglife_nb.auth import add_account
from orglife_nb.forms import Session
from orglife_nb.forms.session import Edit
from orglife_nb.frames import load
from orglife_nb.models import Attendance, Branch, Criticism, Meeting, Member, Rating, Rectification, Talk
from orglife_nb.store import Store
from orglife_nb.store.scope import ScopeError
from clikit import orglife

PASSWORD = "scope-test-pass-1"
DAY = dt.date(2026, 6, 20)


def seed(store: Store) -> Store:
    store.save({
        Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部", "superior": "机关党委"},
                              {"branch_id": "B2", "name": "二支部", "superior": "机关党委"},
                              {"branch_id": "B3", "name": "三支部", "superior": "街道党工委"}]),
        Member: pd.DataFrame([{"member_id": m, "branch_id": b, "name": n, "role": r}
                              for m, b, n, r in [("M1", "B1", "甲", "secretary"), ("M2", "B1", "乙", "member"),
                                                 ("N1", "B2", "丙", "secretary"), ("N2", "B2", "丁", "member"),
                                                 ("P1", "B3", "戊", "secretary")]]),
        Meeting: pd.DataFrame([{"meeting_id": f"{b}-MT", "branch_id": b, "kind": "regular", "topic": f"{b} 会议",
                                "date": DAY, "summary": f"{b} 的小结（保密）"} for b in ("B1", "B2", "B3")]),
        Criticism: pd.DataFrame([{"meeting_id": f"{b}-MT", "seq": 1, "stage": "assembly", "target": s,
                                  "speaker": s, "act": "self_criticism", "content": f"{b} 批评内容"}
                                 for b, s in (("B1", "M1"), ("B2", "N1"))]),
        Attendance: pd.DataFrame([{"meeting_id": "B2-MT", "member_id": "N2", "presence": "present"}]),
        Rectification: pd.DataFrame([{"item_id": "R-B2", "meeting_id": "B2-MT", "problem": "二支部的问题"}]),
    })
    for name, role, extra in [("sec1", "secretary", {"branches": ["B1"]}), ("sup", "superior", {"superior": "机关党委"}),
                              ("ana", "analyst", {}), ("ana2", "analyst", {"confidential": True})]:
        add_account(store, name, role, PASSWORD, **extra)
    return store


@pytest.fixture
def two_branches(store):
    return seed(store)


def as_(store: Store, name: str) -> Store:
    return Store(store.url, actor=name)


def test_a_secretary_reads_only_her_branch(two_branches):
    with as_(two_branches, "sec1") as mine:
        assert mine.branch_names() == {"B1": "一支部"}
        assert set(mine.read(Member).branch_id) == {"B1"}
        assert set(mine.read(Criticism).meeting_id) == {"B1-MT"}
        assert mine.read(Attendance).empty  # B2's attendance row is not hers
        assert mine.versioned(Branch).branch_id.tolist() == ["B1"]  # the forms' branch list
        frames = load(mine)
        assert set(frames.meetings.branch_id) == {"B1"} and set(frames.members.member_id) == {"M1", "M2"}
        for ask in (lambda: mine.read(Member, ["B2"]), lambda: mine.read_many([Member], ["B1", "B2"]),
                    lambda: load(mine, ["B2"]), lambda: mine.versioned(Meeting, branch_id="B2"),
                    lambda: mine.versioned(Criticism, meeting_id="B2-MT"), lambda: mine.count_closed("B2-MT")):
            with pytest.raises(ScopeError, match="无权查看支部 B2"):
                ask()


def test_a_secretary_writes_only_her_branch(two_branches):
    with as_(two_branches, "sec1") as mine:
        mine.save({Member: pd.DataFrame([{"member_id": "M3", "branch_id": "B1", "name": "新党员"}])})
        refused = [
            {Member: pd.DataFrame([{"member_id": "N3", "branch_id": "B2", "name": "外人"}])},
            # moving B2's member into B1 touches B2 as well
            {Member: pd.DataFrame([{"member_id": "N2", "branch_id": "B1", "name": "丁"}])},
            {Talk: pd.DataFrame([{"meeting_id": "B2-MT", "talker": "N1", "talkee": "N2", "date": DAY}])},
            {Meeting: pd.DataFrame([{"meeting_id": "B2-MT", "branch_id": "B1", "kind": "regular", "date": DAY}])},
            # B2's rectification item re-hung on B1's meeting: the item lives in B2 now
            {Rectification: pd.DataFrame([{"item_id": "R-B2", "meeting_id": "B1-MT", "problem": "挪走"}])},
        ]
        for batch in refused:
            with pytest.raises(ScopeError, match="无权修改支部 B2"):
                mine.save(batch)
        session = Session(mine)
        row = session.rows(Attendance, meeting_id="B1-MT")
        assert row.empty
        session.save([Edit(Attendance, {"meeting_id": "B1-MT", "member_id": "M2", "presence": "present"})])
        stored = two_branches.read(Attendance)
        b2_row = int(two_branches.versioned(Attendance, meeting_id="B2-MT").row_id.iloc[0])
        with pytest.raises(ScopeError, match="无权修改支部 B2"):  # an edit naming B1 but aimed at B2's row
            session.save([Edit(Attendance, {"meeting_id": "B1-MT", "member_id": "M2", "presence": "absent"},
                               version=1, row_id=b2_row)])
        with pytest.raises(ScopeError):
            session.close_count("B2-MT")
    after = two_branches.read(Attendance)
    assert after.equals(stored)
    assert set(two_branches.read(Member).member_id) == {"M1", "M2", "M3", "N1", "N2", "P1"}
    assert two_branches.read(Member).set_index("member_id").branch_id["N2"] == "B2"


def test_a_superior_sees_exactly_her_branches_and_writes_nothing(two_branches):
    with as_(two_branches, "sup") as hers:
        assert list(hers.branch_names()) == ["B1", "B2"]
        assert set(hers.read(Criticism).content) == {"B1 批评内容", "B2 批评内容"}  # reviewers read the minutes
        with pytest.raises(ScopeError, match="无权查看支部 B3"):
            hers.read(Meeting, ["B3"])
        with pytest.raises(ScopeError, match="只能查看和审核"):
            hers.save({Member: pd.DataFrame([{"member_id": "M9", "branch_id": "B1", "name": "x"}])})


def test_an_analyst_reads_confidential_text_only_when_granted(two_branches):
    with as_(two_branches, "ana") as plain, as_(two_branches, "ana2") as granted:
        assert list(plain.branch_names()) == ["B1", "B2", "B3"]
        assert plain.read(Criticism).empty and plain.read(Rating).empty
        assert plain.read(Meeting).summary.isna().all() and plain.read(Meeting).topic.notna().all()
        frames = load(plain)
        assert frames.criticisms.empty and frames.meetings.summary.isna().all()
        assert len(granted.read(Criticism)) == 2 and granted.read(Meeting).summary.notna().all()
        with pytest.raises(ScopeError, match="只能查看"):
            plain.save({Member: pd.DataFrame([{"member_id": "M9", "branch_id": "B1", "name": "x"}])})


def test_unknown_and_disabled_accounts_cannot_act(two_branches):
    from orglife_nb.auth import set_disabled
    from orglife_nb.errors import OrglifeError

    with pytest.raises(OrglifeError, match="账号“ghost”不存在"):
        Store(two_branches.url, actor="ghost")
    set_disabled(two_branches, "sec1")
    with pytest.raises(OrglifeError, match="账号“sec1”已停用"):
        Store(two_branches.url, actor="sec1")


def test_the_command_line_as_an_account(tmp_path):
    db = str(tmp_path / "store.db")
    with Store(db) as store:
        seed(store)
    checked = orglife("check", "--db", db, "--as", "sec1", "--format", "json", "--as-of", "2026-12-31")
    assert checked.returncode == 0, checked.stderr
    assert '"B2"' not in checked.stdout and '"B1"' in checked.stdout
    refused = orglife("check", "--db", db, "--as", "sec1", "--branch", "B2")
    assert refused.returncode == 2 and "无权查看支部 B2" in refused.stderr and "Traceback" not in refused.stderr
    exported = tmp_path / "out.xlsx"
    done = orglife("export", str(exported), "--db", db, "--as", "ana")
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(exported, read_only=True)
    assert len(list(book["批评"].iter_rows(min_row=2))) == 0  # no confidential rows for an analyst
    assert len(list(book["会议"].iter_rows(min_row=2))) == 3
    docs = orglife("docs", "--meeting", "B2-MT", "--db", db, "--as", "sec1", "--out", str(tmp_path / "docs"))
    assert docs.returncode == 2 and "无权查看支部 B2" in docs.stderr
    assert not (tmp_path / "docs").exists() or not any((tmp_path / "docs").iterdir())
    status = orglife("status", "--db", db, "--as", "ghost")
    assert status.returncode == 2 and "账号“ghost”不存在" in status.stderr

