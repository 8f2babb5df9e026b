"""Electronic 民主测评 in the store: one-time codes kept as hashes, a box that forgets arrival order, turnout, the
close that joins paper and phone ballots, scope, and a sweep of every table for anything linking a ballot to a code
or a time (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from orglife_nb.auth import add_account
from orglife_nb.errors import OrglifeError
from orglife_nb.models import Ballot
from orglife_nb.store import Store
from orglife_nb.store.scope import ScopeError
from orglife_nb.store.voting import CLOSED, EXPIRED, SPENT, UNKNOWN, VoteRefused, code_hash, grouped

from votekit import BOX, MEETING, MEMBERS, PRESENT, SPENT_LIST, dump, fill, one_state, raw_files

LEVELS = ("excellent", "qualified", "basic", "unqualified")


@pytest.fixture
def voting_store(db_url):
    with Store(db_url) as store:
        fill(store)
        yield store


def ballot(i: int) -> dict[str, str]:
    """A distinct ballot per voter (the first three members' levels spell i in base 4)."""
    return {MEMBERS[0]: LEVELS[i % 4], MEMBERS[1]: LEVELS[i // 4 % 4], MEMBERS[2]: LEVELS[i // 16 % 4],
            MEMBERS[3]: "qualified"}


def test_codes_work_once_and_are_stored_as_hashes_only(voting_store, db_url):
    poll = voting_store.open_poll(MEETING, 5, public=2)
    assert poll.issued == 7 and poll.used == 0 and len({s.code for s in poll.slips}) == 7
    tables = dump(db_url)
    everything = repr(tables)
    for slip in poll.slips:
        assert slip.code not in everything and grouped(slip.code) not in everything
        assert code_hash(slip.code) in everything
    code = poll.slips[0].code
    page = voting_store.ballot_page(grouped(code).lower())  # typed with dashes, in lower case: the same code
    assert [m for m, _ in page.members] == MEMBERS and page.voter_type == "member"
    voting_store.cast_vote(code, ballot(1))
    with pytest.raises(VoteRefused) as refused:
        voting_store.cast_vote(code, ballot(2))
    assert str(refused.value) == SPENT
    with pytest.raises(VoteRefused) as refused:
        voting_store.ballot_page("ZZZZ-ZZZZ-ZZZZ")
    assert str(refused.value) == UNKNOWN
    with pytest.raises(VoteRefused):
        voting_store.cast_vote(poll.slips[1].code, {"M99": "excellent"})  # not someone this ballot rates
    with pytest.raises(VoteRefused):
        voting_store.cast_vote(poll.slips[1].code, {MEMBERS[0]: "good"})  # a 三档 level on a 四档 ballot
    assert voting_store.poll(MEETING).used == 1  # the refused ballots spent nothing
    with voting_store.engine.begin() as connection:
        connection.execute(text("update ballot_polls set expires_at = :t"), {"t": dt.datetime(2020, 1, 1)})
    with pytest.raises(VoteRefused) as refused:
        voting_store.cast_vote(poll.slips[1].code, ballot(3))
    assert str(refused.value) == EXPIRED


def test_the_same_code_submitted_at_once_from_many_threads_stores_one_ballot(voting_store):
    poll = voting_store.open_poll(MEETING, 3)
    code = poll.slips[0].code
    outcomes = []
    barrier = threading.Barrier(6)

    def submit():
        barrier.wait()
        try:
            voting_store.cast_vote(code, ballot(5))
            outcomes.append("stored")
        except VoteRefused as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stored"] + ["used"] * 5
    voting_store.close_count(MEETING)
    assert voting_store.read(Ballot).ballot_no.nunique() == 1


def test_close_joins_paper_ballots_voids_unused_codes_and_the_tally_equals_the_ballots(voting_store, db_url):
    from orglife_nb.store.writer import Edit

    voting_store.apply([Edit(Ballot, {"meeting_id": MEETING, "ballot_no": "1", "rated_id": MEMBERS[0],
                                      "level": "basic", "voter_type": "member"})])  # one paper slip
    poll = voting_store.open_poll(MEETING, PRESENT - 1, public=2)
    submitted = [ballot(i) for i in range(6)]
    for slip, levels in zip(poll.slips, submitted):
        voting_store.cast_vote(slip.code, levels)
    voting_store.cast_vote(poll.slips[-1].code, {MEMBERS[5]: "excellent"})  # a 群众代表
    assert voting_store.poll(MEETING).turnout() == "已投票 7 / 发放测评码 11（党员 6/9，群众代表 1/2）"
    assert voting_store.read(Ballot).ballot_no.nunique() == 1  # nothing of the box shows before the close
    voting_store.close_count(MEETING)
    with pytest.raises(VoteRefused) as refused:
        voting_store.cast_vote(poll.slips[7].code, ballot(0))  # an unused code after the close
    assert str(refused.value) == CLOSED
    stored = voting_store.read(Ballot)
    phone = stored[stored.ballot_no != "1"]
    assert sorted(phone.ballot_no.unique(), key=int) == [str(n) for n in range(2, 9)]
    got = sorted(tuple(sorted(zip(group.rated_id, group.level))) for _, group in phone.groupby("ballot_no"))
    want = sorted(tuple(sorted(b.items())) for b in submitted + [{MEMBERS[5]: "excellent"}])
    assert got == want
    assert set(phone[phone.rated_id == MEMBERS[5]].voter_type) >= {"public"}
    states = {(voter, state): n for voter, state, n in _states(voting_store)}
    assert states == {("member", "used"): 6, ("member", "void"): 3, ("public", "used"): 1, ("public", "void"): 1}
    history = voting_store.history(meeting=MEETING)
    closing = history[history.action == "close_count"].detail.iloc[0]
    assert '"phone_ballots": 7' in closing and '"codes_void": 4' in closing


def _states(store):
    with store.engine.connect() as connection:
        return connection.execute(text(
            "select voter_type, state, count(*) from ballot_codes group by voter_type, state")).all()


def test_no_more_member_ballots_than_members_present(voting_store):
    with pytest.raises(OrglifeError, match="多于可投票的党员"):
        voting_store.open_poll(MEETING, PRESENT + 1)
    from orglife_nb.models import Meeting

    with Store(voting_store.url) as other:
        other.save({Meeting: pd.DataFrame([{"meeting_id": "B1-2026-L1", "branch_id": "B1", "kind": "leadership",
                                            "date": dt.date(2026, 12, 1)}])})
        with pytest.raises(OrglifeError, match="民主生活会，不发放群众代表测评码"):
            other.open_poll("B1-2026-L1", 0, public=1)
    assert voting_store.poll(MEETING) is None  # nothing half-written
    poll = voting_store.open_poll(MEETING, PRESENT)
    for i, slip in enumerate(poll.slips):
        voting_store.cast_vote(slip.code, ballot(i))
    from orglife_nb.store.writer import Edit

    voting_store.apply([Edit(Ballot, {"meeting_id": MEETING, "ballot_no": "99", "rated_id": MEMBERS[0],
                                      "level": "basic", "voter_type": "member"})])  # one paper slip too many
    with pytest.raises(OrglifeError, match="多于到会党员"):
        voting_store.close_count(MEETING)
    assert voting_store.poll(MEETING).is_open


def test_scope_opening_and_reading_turnout(voting_store):
    add_account(voting_store, "sec-B1", "secretary", "pass-word-1", branches=["B1"])
    add_account(voting_store, "analyst", "analyst", "pass-word-1")
    with pytest.raises(ScopeError):
        voting_store.as_actor("analyst").open_poll(MEETING, 3)
    poll = voting_store.as_actor("sec-B1").open_poll(MEETING, 3)
    assert poll.issued == 3
    with pytest.raises(OrglifeError, match="已开启手机测评"):
        voting_store.as_actor("sec-B1").open_poll(MEETING, 3)
    with pytest.raises(ScopeError):
        voting_store.as_actor("analyst").close_count(MEETING)


def test_anonymity_sweep_finds_nothing_linking_a_ballot_to_a_code_or_a_time(voting_store, db_url):
    poll = voting_store.open_poll(MEETING, PRESENT)
    time.sleep(1.1)  # the store's clock has whole seconds: keep the open and the close outside the voting window
    started = dt.datetime.now().replace(microsecond=0)
    for i, slip in enumerate(poll.slips):  # a known arrival order, one distinct ballot per voter
        voting_store.cast_vote(slip.code, ballot(i))
        time.sleep(0.05)
    ended = dt.datetime.now()
    during = dump(db_url)
    time.sleep(1.1)
    voting_store.close_count(MEETING)
    after = dump(db_url)
    codes = [s.code for s in poll.slips]
    for tables in (during, after):
        text_all = repr(tables)
        assert not any(c in text_all or grouped(c) in text_all for c in codes)
        # no stored time falls within the voting window: no vote left a time anywhere
        for name, rows in tables.items():
            for row in rows:
                for value in row:
                    if isinstance(value, dt.datetime):
                        assert not started < value <= ended, (name, row)
                    if isinstance(value, str) and len(value) >= 19 and value[:2] == "20" and value[4] == "-":
                        try:
                            stamp = dt.datetime.fromisoformat(value[:19])
                        except ValueError:
                            continue
                        assert not started < stamp <= ended, (name, row)
        # the hashes of the codes are only in the code table and the sorted spent list, which name no ballot
        for name, rows in tables.items():
            if name not in ("ballot_codes", "ballot_spent"):
                assert not any(code_hash(c) in repr(rows) for c in codes), name
    # the ballots come out in an order unrelated to arrival: the box, then the ballot rows
    arrival = [ballot(i) for i in range(PRESENT)]
    import json

    from orglife_nb.store.voting import unpack

    box = [unpack(b, poll)[1] for b in json.loads(next(row for row in during["ballot_polls"])[8])]
    assert sorted(map(str, box)) == sorted(map(str, arrival))
    assert box != arrival and box != arrival[::-1]
    stored = voting_store.read(Ballot).sort_values("ballot_no", key=lambda s: s.astype(int))
    order = [dict(zip(g.rated_id, g.level)) for _, g in stored.groupby("ballot_no", sort=False)]
    assert sorted(map(str, order)) == sorted(map(str, arrival)) and order != arrival
    if voting_store.dialect == "sqlite":  # nor do the files keep the box's earlier states (freed pages, the log)
        from sqlalchemy.engine import make_url

        from orglife_nb.store.voting import _pack

        path = make_url(db_url).database
        raw = b"".join(Path(path + suffix).read_bytes() for suffix in ("", "-wal") if Path(path + suffix).exists())
        packed = [_pack("member", b, poll).encode() for b in arrival]
        assert not [p for p in packed if p in raw]
    # the audit trail: opening and closing with counts, nothing per vote
    history = voting_store.history(meeting=MEETING)
    assert list(history.action[~history.action.isin(["insert", "replace"])]) == ["open_vote", "close_count"]
    assert pd.to_datetime(history['at']).between(started, ended).sum() == 0  # (the fixture's own inserts came before the open)
    assert not any(level in repr(list(history.detail)) for level in LEVELS)


def test_codes_opened_days_before_the_meeting_last_through_it():
    from orglife_nb.store.voting import valid_until

    opened = dt.datetime(2026, 11, 20, 15, 30)
    # opened on or after the meeting day: the hours count from opening
    assert valid_until({"date": dt.date(2026, 11, 20)}, opened, 72) == dt.datetime(2026, 11, 23, 15, 30)
    assert valid_until({"date": dt.date(2026, 11, 18)}, opened, 72) == dt.datetime(2026, 11, 23, 15, 30)
    assert valid_until({"date": None}, opened, 2) == dt.datetime(2026, 11, 20, 17, 30)
    # slips printed five days ahead still work at the meeting and for the hours after its day begins
    assert valid_until({"date": dt.date(2026, 11, 25)}, opened, 72) == dt.datetime(2026, 11, 28, 0, 0)
    assert valid_until({"date": dt.datetime(2026, 11, 25)}, opened, 72) == dt.datetime(2026, 11, 28, 0, 0)


# ---- what the storage engine keeps: SQLite's raw files, PostgreSQL's system columns (issue 25) ---------------------

def test_the_sqlite_files_never_hold_an_earlier_state_of_the_box_or_the_spent_codes(voting_store, db_url):
    if voting_store.dialect != "sqlite":
        pytest.skip("SQLite's own files")
    from orglife_nb.store.voting import _pack

    poll = voting_store.open_poll(MEETING, PRESENT)
    arrival = poll.slips[:6]
    packed = [_pack("member", ballot(i), poll) for i in range(len(arrival))]
    used = [code_hash(slip.code) for slip in arrival]
    for done, (slip, levels) in enumerate(zip(arrival, map(ballot, range(len(arrival)))), start=1):
        voting_store.cast_vote(slip.code, levels)
        raw = raw_files(db_url)  # a copy taken between any two votes
        one_state(raw, used[:done], packed[:done])
    assert BOX.findall(raw) and SPENT_LIST.findall(raw)  # (the sweep does see the current ones)
    # a reader that holds its snapshot while the count closes: the close waits for it, then empties the log
    reader = voting_store.engine.connect()
    reader.execute(text("select count(*) from ballot_codes")).scalar()
    release = threading.Timer(0.5, reader.close)
    release.start()
    voting_store.close_count(MEETING)
    release.join()
    raw = raw_files(db_url)
    assert not BOX.findall(raw) and not SPENT_LIST.findall(raw)
    assert not [p for p in packed if b'"' + p.encode() + b'"' in raw]
    hashes = [code_hash(slip.code) for slip in poll.slips]
    assert len({raw.count(code.encode()) for code in hashes}) == 1  # used and void codes alike: one row each


def _system_columns(connection, table: str) -> list[tuple]:
    return connection.execute(text(
        f"select xmin::text, cmin::text, ctid::text, * from {table} where meeting_id = :m order by ctid"),
        {"m": MEETING}).all()


def test_postgresql_system_columns_neither_order_the_codes_nor_pair_them_with_ballots(voting_store):
    if voting_store.dialect != "postgresql":
        pytest.skip("PostgreSQL's system columns")
    poll = voting_store.open_poll(MEETING, PRESENT)
    with voting_store.engine.connect() as connection:  # what the app's own login reads
        opened = _system_columns(connection, "ballot_codes")
    for i, slip in enumerate(poll.slips):
        voting_store.cast_vote(slip.code, ballot(i))
        with voting_store.engine.connect() as connection:
            # no code row was written by a vote: same versions (xmin, ctid) as at the open, whatever was used
            assert _system_columns(connection, "ballot_codes") == opened
            (spent,) = connection.execute(text("select hashes from ballot_spent where meeting_id = :m"),
                                          {"m": MEETING}).one()
            assert json.loads(spent) == sorted(code_hash(s.code) for s in poll.slips[:i + 1])
    voting_store.close_count(MEETING)
    with voting_store.engine.connect() as connection:
        closed = _system_columns(connection, "ballot_codes")
        assert len({row[0] for row in closed}) == 1 and len({row[1] for row in closed}) <= 2  # one transaction
        by_place = {row[3]: row[2] for row in closed}  # code hash → ctid: no arrival order among the used codes
        ballots = connection.execute(text(
            "select xmin::text, ballot_no, rated_id, level from ballots where meeting_id = :m order by ctid"),
            {"m": MEETING}).all()
    assert len({row[0] for row in ballots}) == 1  # all written by the close
    order = list(dict.fromkeys(row[1] for row in ballots))
    stored = {no: {r[2]: r[3] for r in ballots if r[1] == no} for no in order}
    arrival = [ballot(i) for i in range(PRESENT)]
    assert sorted(map(str, stored.values())) == sorted(map(str, arrival))
    assert [stored[no] for no in order] != arrival  # the physical order is the box's, not the arrival's
    used = [by_place[code_hash(s.code)] for s in poll.slips]
    assert used != sorted(used, key=lambda ctid: tuple(map(int, ctid.strip("()").split(","))))


def test_a_poll_open_under_the_previous_revision_keeps_its_votes_after_the_upgrade(voting_store, db_url):
    from alembic import command

    from orglife_nb.store import _alembic_config

    poll = voting_store.open_poll(MEETING, PRESENT)
    for i, slip in enumerate(poll.slips[:2]):
        voting_store.cast_vote(slip.code, ballot(i))
    with voting_store.engine.begin() as connection:  # back to 0007, where a vote marked its code's row used
        command.downgrade(_alembic_config(connection), "0007")
        assert sorted(state for (state,) in connection.execute(text("select state from ballot_codes"))) == (
            ["issued"] * (PRESENT - 2) + ["used"] * 2)
    voting_store.close()
    with Store(db_url) as upgraded:
        with upgraded.engine.connect() as connection:  # the order of use is gone from the rows again
            assert {state for (state,) in connection.execute(text("select state from ballot_codes"))} == {"issued"}
        assert upgraded.poll(MEETING).used == 2
        with pytest.raises(VoteRefused) as refused:
            upgraded.cast_vote(poll.slips[1].code, ballot(5))
        assert str(refused.value) == SPENT
        upgraded.cast_vote(poll.slips[2].code, ballot(2))
        upgraded.close_count(MEETING)
        assert upgraded.read(Ballot).ballot_no.nunique() == 3


def test_a_vote_changes_nothing_stored_but_the_box_and_the_sorted_spent_list(voting_store, db_url):
    """No counter, stamp or row state moves with a vote: nothing else could order the votes or pair them."""
    poll = voting_store.open_poll(MEETING, PRESENT)
    before = dump(db_url)
    for i, slip in enumerate(poll.slips[:4]):
        voting_store.cast_vote(slip.code, ballot(i))
        after = dump(db_url)
        changed = {(name, column) for name in after for old, new in zip(before[name], after[name])
                   for column, (a, b) in enumerate(zip(old, new)) if a != b}
        assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
        assert changed == {("ballot_polls", 8), ("ballot_spent", 1)}, changed
        assert json.loads(after["ballot_spent"][0][1]) == sorted(code_hash(s.code) for s in poll.slips[:i + 1])
        before = after


def test_a_reader_kept_open_through_the_close_finds_no_arrival_order_in_the_sqlite_files(voting_store, db_url):
    """The log cannot be truncated while a reader holds its snapshot: what it keeps is the state before the close
    (the whole box, the whole sorted spent list), never the states between votes."""
    if voting_store.dialect != "sqlite":
        pytest.skip("SQLite's own files")
    import sqlite3

    from sqlalchemy.engine import make_url

    from orglife_nb.store.voting import _pack

    poll = voting_store.open_poll(MEETING, PRESENT)
    arrival = poll.slips[:5]
    for i, slip in enumerate(arrival):
        voting_store.cast_vote(slip.code, ballot(i))
    reader = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    try:
        reader.execute("begin")
        reader.execute("select count(*) from ballot_polls").fetchone()  # holds its snapshot from here
        with Store(db_url, write_wait=0.5) as impatient:
            impatient.close_count(MEETING)
        raw = raw_files(db_url)
        assert Path(make_url(db_url).database + "-wal").stat().st_size > 0  # (the log was kept, as it must be)
        one_state(raw, [code_hash(s.code) for s in arrival], [_pack("member", ballot(i), poll) for i in range(5)])
    finally:
        reader.close()
