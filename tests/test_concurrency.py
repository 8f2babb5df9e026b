"""Writers at the same time, in real processes: imports and the forms' saves take turns on the store.

Each race is made certain, not left to luck: every child process patches one function of ``store.writer`` (the
point just before it writes, after it has read what the write depends on) to wait at a barrier shared with the
other child. Before the fix both writers met there and wrote from the same stale read; with the write lock the
second writer is still waiting for the lock, so the first one's wait runs out (``BARRIER_WAIT``), it writes, and
the second one reads what the first wrote.
"""
from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pandas as pd
import pytest

from orglife_nb.demo import generate
from orglife_nb.models import Branch, Criticism, Meeting, Member, Rectification, Role
from orglife_nb.store import Store, StoreBusy, table_of
from orglife_nb.workbook import write_workbook

BARRIER_WAIT = 3.0  # seconds the first writer waits for the second at the barrier
SPAWN = multiprocessing.get_context("spawn")  # children start clean: no engine or lock inherited from pytest


def _child(task: str, db: str, argument, hook: str, barrier, out: str) -> None:
    """Run one writer with ``store.writer.<hook>`` waiting (once) for the other writer; result as JSON in ``out``."""
    from orglife_nb.errors import OrglifeError
    from orglife_nb.store import writer

    original = getattr(writer, hook)
    waited: list[bool] = []

    def meet_then_go(*args, **kwargs):
        if not waited:
            waited.append(True)
            try:
                barrier.wait(BARRIER_WAIT)
            except threading.BrokenBarrierError:  # the other writer did not come (it waits for the lock)
                pass
        return original(*args, **kwargs)

    setattr(writer, hook, meet_then_go)
    if task == "import":
        from orglife_nb.workbook.read import import_files

        lines: list[str] = []
        result = {"ok": import_files([argument], db, echo=lines.append), "lines": lines}
    else:
        from orglife_nb.forms import Session
        from orglife_nb.models import Member

        session = Session(db)
        try:
            session.save([writer.Edit(Member, argument)])
            result = {"ok": True, "lines": []}
        except OrglifeError as error:
            result = {"ok": False, "lines": [str(error)], "conflict": isinstance(error, writer.VersionConflict)}
        finally:
            session.close()
    Path(out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def race(tmp_path: Path, db: str, task: str, arguments: list, hook: str) -> list[dict]:
    """Run two writers at once (see the module doc); their results in order."""
    barrier = SPAWN.Barrier(len(arguments))
    outs = [tmp_path / f"result-{i}.json" for i in range(len(arguments))]
    children = [SPAWN.Process(target=_child, args=(task, db, argument, hook, barrier, str(out)))
                for argument, out in zip(arguments, outs)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0] * len(children)
    return [json.loads(out.read_text(encoding="utf-8")) for out in outs]


def _rows(db: str, record) -> list[tuple]:
    with Store(db) as store:
        frame = store.read(record).astype(object)
    return sorted((tuple(None if isinstance(v, float) and v != v else v for v in row)
                   for row in frame.itertuples(index=False, name=None)), key=repr)


# ---------------------------------------------------------------------------------------------------------------


def test_two_large_imports_of_child_rows_at_once_do_not_double_them(tmp_path, db_url):
    """The reported crash: both imports read a meeting's (no) stored rows before either wrote, then each added
    its own, so every meeting held both files' rows. Now the store holds exactly one file's rows."""
    batch = generate(branches=14, seed=3)
    parents = {record: batch.pop(record) for record in (Branch, Member, Meeting, Rectification)}
    with Store(db_url) as store:
        store.save(parents)
    revised = {record: frame.copy() for record, frame in batch.items()}
    revised[Criticism]["content"] = revised[Criticism]["content"].map(lambda text: f"{text}（修订）")
    paths = [tmp_path / "first.xlsx", tmp_path / "second.xlsx"]
    write_workbook(paths[0], batch)
    write_workbook(paths[1], revised)
    child_rows = sum(len(frame) for frame in batch.values())
    assert child_rows > 5000

    results = race(tmp_path, db_url, "import", [str(p) for p in paths], hook="_insert")

    assert [r["ok"] for r in results] == [True, True], results
    with Store(db_url) as store:
        counts = store.counts()
    assert {r: counts[r] for r in batch} == {r: len(frame) for r, frame in batch.items()}
    with Store(db_url) as store:
        stored = sorted(store.read(Criticism)["content"])
    assert stored in (sorted(batch[Criticism]["content"]), sorted(revised[Criticism]["content"]))


def _branch_without_secretary(db: str) -> None:
    with Store(db) as store:
        store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "新建支部", "unit_type": "organ"}]),
                    Member: pd.DataFrame([{"member_id": "B1-01", "branch_id": "B1", "name": "王党员",
                                           "role": "member", "status": "full"}])})


@pytest.mark.parametrize("with_branch", [False, True], ids=["stored-branch", "branch-in-both-files"])
def test_two_imports_each_adding_a_secretary_to_one_branch_store_one(tmp_path, db_url, with_branch):
    """Both files passed the one-secretary check against a store without one, and both were stored (or, when
    both files also add the new branch, the loser printed English ``UNIQUE constraint failed``). Now one is
    stored and the other is refused with the Chinese one-secretary problem."""
    if not with_branch:
        _branch_without_secretary(db_url)
    paths = []
    for name, member in (("甲", "B1-81"), ("乙", "B1-82")):
        sheets = {Member: pd.DataFrame([{"member_id": member, "branch_id": "B1", "name": f"{name}书记",
                                         "role": Role.secretary.value, "status": "full"}])}
        if with_branch:
            sheets[Branch] = pd.DataFrame([{"branch_id": "B1", "name": "新建支部", "unit_type": "organ"}])
        paths.append(tmp_path / f"{member}.xlsx")
        write_workbook(paths[-1], sheets)

    results = race(tmp_path, db_url, "import", [str(p) for p in paths], hook="save_batch")

    assert sorted(r["ok"] for r in results) == [False, True], results
    loser = next(r for r in results if not r["ok"])
    assert any("每个支部只能有一名书记：支部 B1 在数据库中已有书记" in line for line in loser["lines"]), loser
    assert not any("UNIQUE" in line or "unique" in line for line in loser["lines"])
    secretaries = [row for row in _rows(db_url, Member) if row[3] == Role.secretary.value]
    assert len(secretaries) == 1


def test_two_forms_saving_the_same_new_id_get_the_conflict_message(tmp_path, db_url):
    """Two secretaries enter the same new 党员编号 at once: the second is told someone else entered it first
    (VersionConflict), not ``记录之间的关联不成立（UNIQUE…）``; the first one's record stays."""
    _branch_without_secretary(db_url)
    edits = [{"member_id": "B1-09", "branch_id": "B1", "name": name, "role": "member", "status": "full"}
             for name in ("甲", "乙")]

    results = race(tmp_path, db_url, "save", edits, hook="_current")

    assert sorted(r["ok"] for r in results) == [False, True], results
    loser = next(r for r in results if not r["ok"])
    assert loser["conflict"], loser
    assert "已被他人先录入" in loser["lines"][0] and "UNIQUE" not in loser["lines"][0].upper()
    winner = edits[[r["ok"] for r in results].index(True)]
    assert [row[:3] for row in _rows(db_url, Member) if row[0] == "B1-09"] == [("B1-09", "B1", winner["name"])]


def _hold_write_lock(db: str, holding, release) -> None:
    with Store(db) as store, store.transaction() as connection:
        from sqlalchemy import insert

        connection.execute(insert(table_of(Branch)).values(branch_id="B9", name="占锁支部", version=1))
        holding.set()
        release.wait(60)


def test_a_writer_that_waits_too_long_gets_a_chinese_message_and_readers_do_not_wait(db_url):
    with Store(db_url) as store:
        store.save({Branch: pd.DataFrame([{"branch_id": "B1", "name": "一支部", "unit_type": "organ"}])})
    holding, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=_hold_write_lock, args=(db_url, holding, release))
    holder.start()
    try:
        assert holding.wait(60)
        with Store(db_url, write_wait=0.5) as store:
            assert store.read(Branch)["branch_id"].tolist() == ["B1"]  # a reader does not wait for the writer
            with pytest.raises(StoreBusy) as refused:
                store.save({Branch: pd.DataFrame([{"branch_id": "B2", "name": "二支部", "unit_type": "organ"}])})
            assert str(refused.value).startswith("数据库正忙") and "locked" not in str(refused.value)
    finally:
        release.set()
        holder.join(60)
    assert holder.exitcode == 0
    with Store(db_url) as store:
        assert store.read(Branch)["branch_id"].tolist() == ["B1", "B9"]

