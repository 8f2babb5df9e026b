"""The review chain 草稿 → 已提交 → 已审核 / 退回: who may take which step, the checks at submission, the lock on an
approved meeting's records (forms, import, batch writes), reopening, the audit entries — on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from orglife_nb.auth import add_account
from orglife_nb.auth.review import review
from orglife_nb.errors import OrglifeError
from orglife_nb.forms import Session
from orglife_nb.forms.session import Edit
from orglife_nb.cli import main
from orglife_nb.models import Attendance, Branch, Meeting, Member, Rectification
from orglife_nb.store import Store
from orglife_nb.store.review import Locked, review_frame
from orglife_nb.store.scope import ScopeError
from clikit import cli

DAY = dt.date(2026, 6, 20)
AFTER = dt.date(2026, 9, 1)  # past every deadline of the meeting: what is missing is an error
PASSWORD = "review-test-pass-1"


def seed(store: Store) -> Store:
    store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部", "superior": "机关党委"},
                                      {"branch_id": "B2", "name": "二支部", "superior": "街道党工委"}]),
                Member: pd.DataFrame([{"member_id": "M1", "branch_id": "B1", "name": "甲", "role": "secretary"},
                                      {"member_id": "M2", "branch_id": "B1", "name": "乙"}]),
                Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular", "topic": "主题",
                                        "date": DAY}])})
    add_account(store, "sec1", "secretary", PASSWORD, branches=["B1"])
    add_account(store, "sup1", "superior", PASSWORD, superior="机关党委")
    add_account(store, "sup2", "superior", PASSWORD, superior="街道党工委")
    return store


@pytest.fixture
def chain(store):
    return seed(store)


def as_(store: Store, name: str) -> Store:
    return store.as_actor(name)


def state(store: Store) -> str:
    with store.engine.connect() as connection:
        return review_frame(connection, ["MT"]).state.iloc[0]


def test_submit_needs_an_explanation_while_violations_remain(chain):
    with pytest.raises(OrglifeError, match=r"会议 MT 还有 \d+ 处违规：.*用 --reason 说明原因后提交"):
        review(as_(chain, "sec1"), "submit", "MT", as_of=AFTER)
    assert state(chain) == "draft"
    assert review(as_(chain, "sec1"), "submit", "MT", as_of=AFTER, reason="会议记录正在整理") == "已提交"
    with chain.engine.connect() as connection:
        row = review_frame(connection, ["MT"]).iloc[0]
    assert row.explanation == "会议记录正在整理" and row.updated_by == "sec1"


def test_the_whole_chain_with_its_refusals(chain):
    sec, sup, other = as_(chain, "sec1"), as_(chain, "sup1"), as_(chain, "sup2")
    with pytest.raises(OrglifeError, match="现在是“草稿”，不能审核通过"):
        review(sup, "approve", "MT")
    review(sec, "submit", "MT", as_of=AFTER, reason="说明")
    with pytest.raises(ScopeError, match="不能审核通过：只有上级党组织、管理员可以"):
        review(sec, "approve", "MT")
    with pytest.raises(ScopeError, match="无权查看支部 B1"):
        review(other, "approve", "MT")  # another superior's branch
    with pytest.raises(OrglifeError, match="退回须说明理由"):
        review(sup, "return", "MT")
    assert review(sup, "return", "MT", reason="缺少会议记录") == "退回"
    assert review(sec, "submit", "MT", as_of=AFTER, reason="已补充") == "已提交"
    assert review(sup, "approve", "MT") == "已审核"
    with pytest.raises(OrglifeError, match="现在是“已审核”，不能提交"):
        review(sec, "submit", "MT", as_of=AFTER, reason="再交一次")
    assert review(sup, "reopen", "MT", reason="主题有误") == "退回"
    steps = [(e["action"], e["actor"]) for e in chain.history(meeting="MT").to_dict("records")
             if e["record"] == "reviews"]
    assert steps == [("submit", "sec1"), ("return", "sup1"), ("submit", "sec1"), ("approve", "sup1"),
                     ("reopen", "sup1")]
    with pytest.raises(OrglifeError, match="要指明账号"):
        review(chain, "submit", "MT")


def test_an_approved_meeting_is_locked_for_every_writer_until_reopened(chain):
    review(as_(chain, "sec1"), "submit", "MT", as_of=AFTER, reason="说明")
    review(as_(chain, "sup1"), "approve", "MT")
    sec = as_(chain, "sec1")
    session = Session(sec)
    with pytest.raises(Locked, match="会议 MT 已审核，记录已锁定"):
        session.save([Edit(Attendance, {"meeting_id": "MT", "member_id": "M2", "presence": "present"})])
    changed = {Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular", "topic": "改了",
                                       "date": DAY}])}
    with pytest.raises(Locked):
        sec.save(changed)
    with pytest.raises(Locked):
        chain.save(changed)  # the command line too: the lock is in the store, not in the forms
    # the same records unchanged (a branch re-imported as exported) are no change and pass
    chain.save({Meeting: pd.DataFrame([{"meeting_id": "MT", "branch_id": "B1", "kind": "regular", "topic": "主题",
                                        "date": DAY}])})
    # a member of the branch is not a meeting's record: still editable
    sec.save({Member: pd.DataFrame([{"member_id": "M3", "branch_id": "B1", "name": "丙"}])})
    assert chain.read(Meeting).topic.tolist() == ["主题"] and chain.read(Attendance).empty
    review(as_(chain, "sup1"), "reopen", "MT", reason="补录出席")
    session.save([Edit(Attendance, {"meeting_id": "MT", "member_id": "M2", "presence": "present"})])
    assert len(chain.read(Attendance)) == 1


def test_the_review_command(tmp_path):
    db = tmp_path / "store.db"
    with Store(db) as store:
        seed(store)

    def orglife(*argv):
        return subprocess.run(["orglife", *argv, "--db", str(db)], capture_output=True, text=True)

    refused = orglife("review", "submit", "--meeting", "MT", "--as", "sec1", "--as-of", "2026-09-01")
    assert refused.returncode == 2 and "处违规" in refused.stderr and "Traceback" not in refused.stderr
    done = orglife("review", "submit", "--meeting", "MT", "--as", "sec1", "--as-of", "2026-09-01",
                   "--reason", "记录整理中")
    assert done.returncode == 0 and done.stdout.strip() == "会议 MT：已提交"
    assert orglife("review", "approve", "--meeting", "MT", "--as", "sup1").stdout.strip() == "会议 MT：已审核"
    wrong = orglife("review", "approve", "--meeting", "MT", "--as", "sup2")
    assert wrong.returncode == 2 and "无权查看支部 B1" in wrong.stderr
    missing = orglife("review", "approve", "--meeting", "MT")
    assert missing.returncode == 2 and "缺少选项 --as" in missing.stderr
    history = orglife("history", "--meeting", "MT")
    assert "sup1  审核通过  审核 MT" in history.stdout and "状态：已提交 → 已审核" in history.stdout
    status = orglife("status", "--as-of", "2026-09-01", "--as", "sup1")
    assert status.returncode == 0, status.stderr
    assert "三、审核状态\n  草稿 0 个，已提交 0 个，已审核 1 个，退回 0 个" in status.stdout


def test_a_meeting_is_not_submitted_or_approved_while_its_phone_vote_is_open(chain):
    sec, sup = as_(chain, "sec1"), as_(chain, "sup1")
    chain.save({Attendance: pd.DataFrame([{"meeting_id": "MT", "member_id": m, "presence": "present"}
                                          for m in ("M1", "M2")])})
    sec.open_poll("MT", 2)
    with pytest.raises(OrglifeError, match=r"手机测评还没有结束计票（已投票 0 / 发放测评码 2），不能提交：先结束计票"):
        review(sec, "submit", "MT", as_of=AFTER, reason="说明")
    assert state(chain) == "draft"
    sec.close_count("MT")
    assert review(sec, "submit", "MT", as_of=AFTER, reason="说明") == "已提交"
    assert review(sup, "approve", "MT") == "已审核"


# ---- the lock holds on where a record is, not only where it is going (issue 25.1) ----------------------------


@pytest.fixture
def approved(chain):
    """MT approved with one attendance row and one 整改 item; MT2 a draft of the same branch."""
    chain.save({Meeting: pd.DataFrame([{"meeting_id": "MT2", "branch_id": "B1", "kind": "regular",
                                        "topic": "另一次", "date": DAY}]),
                Attendance: pd.DataFrame([{"meeting_id": "MT", "member_id": "M2", "presence": "present"},
                                          {"meeting_id": "MT2", "member_id": "M1", "presence": "present"}]),
                Rectification: pd.DataFrame([{"item_id": "R1", "meeting_id": "MT", "problem": "学习不够"},
                                             {"item_id": "R2", "meeting_id": "MT2", "problem": "制度不全"}])})
    review(as_(chain, "sec1"), "submit", "MT", as_of=AFTER, reason="说明")
    review(as_(chain, "sup1"), "approve", "MT")
    return chain


def snapshot(store: Store) -> tuple:
    """Everything a refused change must leave as it was: the records and the history."""
    with store.engine.connect() as connection:
        return (tuple(connection.execute(text(f"select * from {table} order by 1")).all()
                      for table in ("meetings", "attendance", "rectifications", "ballot_counts", "audit")))


def moved(store: Store, record, source: str, target: str) -> Edit:
    """An edit moving the first ``record`` row of meeting ``source`` to meeting ``target``."""
    row = store.versioned(record, meeting_id=source).iloc[0]
    values = {name: (None if pd.isna(row[name]) else row[name]) for name in record.model_fields}
    return Edit(record, values | {"meeting_id": target}, version=int(row.version),
                row_id=None if record.key else int(row.row_id))


def test_a_record_moved_out_of_or_into_an_approved_meeting_is_refused(approved):
    sec = as_(approved, "sec1")
    before = snapshot(approved)
    with pytest.raises(Locked, match="会议 MT 已审核，记录已锁定，未写入任何内容"):
        Session(sec).save([moved(sec, Attendance, "MT", "MT2")])  # the forms: out of MT as its secretary
    with pytest.raises(Locked, match="会议 MT 已审核"):
        sec.apply([moved(sec, Rectification, "MT", "MT2")])
    with pytest.raises(Locked, match="会议 MT 已审核"):
        sec.apply([moved(sec, Rectification, "MT2", "MT")])  # into MT
    row = sec.versioned(Attendance, meeting_id="MT").iloc[0]
    with pytest.raises(Locked, match="会议 MT 已审核"):
        sec.apply([Edit(Attendance, {"meeting_id": "MT", "member_id": "M2", "presence": "present"},
                        version=int(row.version), row_id=int(row.row_id), delete=True)])
    out = {Rectification: pd.DataFrame([{"item_id": "R1", "meeting_id": "MT2", "problem": "学习不够"}])}
    into = {Rectification: pd.DataFrame([{"item_id": "R2", "meeting_id": "MT", "problem": "制度不全"}])}
    for batch in (out, into):  # a batch write, as the workbook import makes it
        with pytest.raises(Locked, match="会议 MT 已审核"):
            sec.save(batch)
    assert snapshot(approved) == before
    review(as_(approved, "sup1"), "reopen", "MT", reason="整改事项归属有误")
    sec.save(out)
    assert approved.read(Rectification).set_index("item_id").meeting_id.to_dict() == {"R1": "MT2", "R2": "MT2"}
    for meeting in ("MT", "MT2"):  # the history of the meeting it left shows the move too
        last = approved.history(meeting=meeting).iloc[-1]
        assert (last.action, last.record_key, last.branch_id) == ("update", "R1", "B1")
        assert json.loads(last.detail) == {"meeting_id": ["MT", "MT2"]}


def test_ballots_cannot_be_counted_or_opened_on_an_approved_meeting(approved):
    sec = as_(approved, "sec1")
    before = snapshot(approved)
    with pytest.raises(Locked, match="会议 MT 已审核，记录已锁定"):
        sec.close_count("MT")
    with pytest.raises(Locked, match="会议 MT 已审核，记录已锁定"):
        sec.open_poll("MT", 2)
    assert snapshot(approved) == before and sec.poll("MT") is None
    sec.open_poll("MT2", 1)  # a draft meeting: both are allowed
    sec.close_count("MT2")
    assert sec.count_closed("MT2")


def test_an_import_moving_a_rectification_out_of_an_approved_meeting_is_refused(approved, tmp_path, capsys):
    path = tmp_path / "b1.xlsx"
    assert cli(capsys, "export", path, "--db", approved.url, "--branch", "B1")[0] == 0
    book = openpyxl.load_workbook(path)
    sheet = book["整改"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("整改编号")].value == "R1")
    row[header.index("会议编号")].value = "MT2"
    book.save(path)
    before = snapshot(approved)
    code, out, err = cli(capsys, "import", path, "--db", approved.url)
    assert code == 2 and "会议 MT 已审核，记录已锁定，未写入任何内容" in out and "Traceback" not in out + err
    assert snapshot(approved) == before


def test_a_workbook_import_is_audited_and_meets_the_lock(approved, tmp_path, capsys):
    """The import writes through the store's audited save: its entries (the change, the file) are in the history,
    and a change to an approved meeting's rows in the file is refused."""
    path = tmp_path / "b1.xlsx"
    assert cli(capsys, "export", path, "--db", approved.url, "--branch", "B1")[0] == 0
    book = openpyxl.load_workbook(path)
    sheet = book["整改"]
    header = [c.value for c in sheet[1]]
    rows = {r[header.index("整改编号")].value: r for r in sheet.iter_rows(min_row=2)}
    rows["R2"][header.index("问题")].value = "制度仍不全"  # a draft meeting's item: stored and logged
    book.save(tmp_path / "draft.xlsx")
    rows["R1"][header.index("问题")].value = "学习仍不够"  # … and the approved meeting's: refused
    book.save(tmp_path / "locked.xlsx")
    code, out, _ = cli(capsys, "import", tmp_path / "locked.xlsx", "--db", approved.url)
    assert code == 2 and "会议 MT 已审核" in out
    assert approved.read(Rectification).set_index("item_id").problem.to_dict() == {"R1": "学习不够", "R2": "制度不全"}
    assert cli(capsys, "import", tmp_path / "draft.xlsx", "--db", approved.url)[0] == 0
    logged = [(e["action"], e["record"], e["record_key"]) for e in approved.history(meeting="MT2").to_dict("records")]
    assert logged[-1] == ("update", "rectifications", "R2")
    with approved.engine.connect() as connection:
        sources = connection.execute(text("select record_key from audit where action = 'import'")).scalars().all()
    assert sources == ["draft.xlsx"]
