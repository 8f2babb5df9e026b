"""Electronic anonymous 民主测评: one-time codes, a shuffled ballot box, turnout, closing the count.

The one place for the rules of a phone vote (the CLI, the forms and the phone page call these through ``Store``):

- opening issues N high-entropy codes (plus codes for invited 群众代表); the plain codes are returned once, for the
  slips, and stored only as SHA-256 hashes (``ballot_codes``, shuffled, state ``issued``), with no time;
- a vote (under the store's write lock) adds its code's hash to the poll's spent list, kept sorted, and puts the
  ballot at a uniformly random place in the poll's box (one JSON list): two values rewritten in place, one row
  each. The code's own row is not touched, so nothing stored orders the codes or the ballots in time; nothing
  about the vote is audited or logged. On SQLite the write-ahead log is then truncated (``scrub``), with freed
  pages zeroed (``secure_delete``), so the files hold the box and the spent list as they are now, not as they were
  before each vote;
- closing stops the votes, sets every code's final state (used | void) in one statement per state, empties the
  spent list and writes the box's ballots into ``ballots`` (what the checks and the paper count read) in the box's
  random order under the next ballot numbers, with one close stamp; it refuses when members' ballots (phone +
  paper) would outnumber the members present, so EVAL-BALLOTS' "ballots ≤ voters" holds by construction; the audit
  trail gets counts only. Then the log is truncated (SQLite) or the two tables rewritten (PostgreSQL VACUUM FULL).

What this protects against: anyone who copies the store's files, or reads the database with the app's own login,
at one moment — during the poll or after it — finds the used codes and the ballots as two unordered sets and
nothing that pairs them or orders them in time (PostgreSQL: every code row's ``xmin`` is the open's or the
close's transaction; the box's earlier versions are dead rows, which SQL does not return).

Its limits: someone who reads the store before and after one vote (a copy after every vote, a reader kept open
while watching the turnout, two backups, or a copy taken in the tens of milliseconds between a vote's commit and
its scrub, when the log holds the new state and the file the old) sees what that vote changed: which code and which
ballot. An SQLite reader that keeps one transaction open pins the log, which cannot be truncated until that reader
ends (the close's ``scrub`` waits for it up to the store's write wait, a vote's a fifth of a second; the next vote
or close tries again). On PostgreSQL the server's own files (dead row versions until vacuumed, ``pg_wal`` and its
archives) keep earlier states: they belong to the database administrator, not to the app's login.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from ..errors import OrglifeError
from ..models import (GROUP, SCHEME_LEVELS, VOTING_PRESENCE, Attendance, Ballot, Branch, Meeting, MeetingKind, Member,
                      MemberStatus, RatingScheme, VoterType)
from .schema import BALLOT_CODES, BALLOT_POLLS, BALLOT_SPENT, table_of

# Crockford's base32 (no I, L, O, U): 12 characters = 60 random bits, typed as three groups of four.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_READS_AS = {"O": "0", "I": "1", "L": "1", "U": "V"}  # what a person may type for a character not in the alphabet
VALID_HOURS = 72  # a poll's codes expire this long after opening unless the count is closed first
MAX_CODES = 2000
ISSUED, USED, VOID = "issued", "used", "void"


class VoteRefused(OrglifeError):
    """A code that cannot vote (unknown, used, expired, closed) or a ballot that cannot be stored, in Chinese."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


UNKNOWN = "测评码不正确：请核对测评票上的测评码后重新输入。"
SPENT = "这个测评码已经投过票，每个测评码只能投一次。如果是您刚刚提交的，您的测评票已经收到，不必再投。"
EXPIRED = "这个测评码已过有效期，不能再投票。请向支部书记询问。"
CLOSED = "本次民主测评已经结束计票，不能再投票。"


# ---- codes ----------------------------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str:
    """What was typed or scanned → the code: case, spaces and dashes do not matter, O/I/L read as 0/1/1."""
    text = "".join(ch for ch in str(code).upper() if ch.isalnum())
    return "".join(_READS_AS.get(ch, ch) for ch in text)


def grouped(code: str) -> str:
    """The code as printed on a slip: ``K7Q2-M9ZX-R4PD``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(f"orglife-ballot:{normalize(code)}".encode()).hexdigest()


def well_formed(code: str) -> bool:
    text = normalize(code)
    return len(text) == CODE_LENGTH and all(ch in ALPHABET for ch in text)


# ---- what a poll is -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slip:
    code: str
    voter_type: str  # VoterType value


@dataclass
class Poll:
    """A meeting's phone count as the secretary sees it: turnout, never the votes."""

    meeting_id: str
    scheme: str
    rated: list[str]
    member_codes: int
    public_codes: int
    opened_at: dt.datetime
    expires_at: dt.datetime
    closed_at: dt.datetime | None
    used_member: int = 0
    used_public: int = 0
    title: str = ""  # branch and meeting, as the slips and the phone page head them
    slips: list[Slip] = field(default_factory=list)  # only right after opening: the plain codes, never stored

    @property
    def issued(self) -> int:
        return self.member_codes + self.public_codes

    @property
    def used(self) -> int:
        return self.used_member + self.used_public

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def turnout(self) -> str:
        text = f"已投票 {self.used} / 发放测评码 {self.issued}"
        if self.public_codes:
            text += f"（党员 {self.used_member}/{self.member_codes}，群众代表 {self.used_public}/{self.public_codes}）"
        return text


@dataclass(frozen=True)
class BallotPage:
    """What a code may see before voting: whom to rate and how."""

    meeting_id: str
    title: str
    scheme: RatingScheme
    members: list[tuple[str, str]]  # (member id, name)
    voter_type: str


def _poll(connection: Connection, meeting_id: str, *, full: bool = True) -> Poll | None:
    """The poll; ``full=False`` leaves out the turnout and the title (what a vote does not need)."""
    row = connection.execute(select(BALLOT_POLLS).where(BALLOT_POLLS.c.meeting_id == meeting_id)).mappings().first()
    if row is None:
        return None
    poll = Poll(meeting_id=row["meeting_id"], scheme=row["scheme"], rated=json.loads(row["rated"]),
                member_codes=row["member_codes"], public_codes=row["public_codes"], opened_at=row["opened_at"],
                expires_at=row["expires_at"], closed_at=row["closed_at"])
    if not full:
        return poll
    if poll.is_open:  # the codes' rows say "issued" until the close: the spent list says which were used
        spent = set(spent_hashes(connection, meeting_id))
        used = Counter(voter for code, voter in connection.execute(select(
            BALLOT_CODES.c.code_hash, BALLOT_CODES.c.voter_type).where(BALLOT_CODES.c.meeting_id == meeting_id))
            if code in spent)
    else:
        used = dict(connection.execute(
            select(BALLOT_CODES.c.voter_type, func.count()).where(
                BALLOT_CODES.c.meeting_id == meeting_id, BALLOT_CODES.c.state == USED)
            .group_by(BALLOT_CODES.c.voter_type)).all())
    poll.used_member, poll.used_public = used.get(VoterType.member.value, 0), used.get(VoterType.public.value, 0)
    poll.title = meeting_title(connection, _meeting(connection, meeting_id))
    return poll


def spent_hashes(connection: Connection, meeting_id: str) -> list[str]:
    """The sorted hashes of the codes an open poll has spent."""
    raw = connection.execute(select(BALLOT_SPENT.c.hashes).where(BALLOT_SPENT.c.meeting_id == meeting_id)).scalar()
    return json.loads(raw) if raw else []


def meeting_title(connection: Connection, meeting: dict) -> str:
    """``幸福里社区党支部 · 2026年11月20日组织生活会``."""
    branches = table_of(Branch)
    branch = connection.execute(select(branches.c.name).where(
        branches.c.branch_id == meeting["branch_id"])).scalar() or meeting["branch_id"]
    kind = MeetingKind(meeting["kind"]).label if meeting.get("kind") else "会议"
    day = meeting.get("date")
    when = f"{day.year}年{day.month}月{day.day}日" if isinstance(day, dt.date) else ""
    return f"{branch} · {when}{kind}"


def read_poll(connection: Connection, meeting_id: str) -> Poll | None:
    return _poll(connection, meeting_id)


def _meeting(connection: Connection, meeting_id: str) -> dict:
    meetings = table_of(Meeting)
    row = connection.execute(select(meetings).where(meetings.c.meeting_id == meeting_id)).mappings().first()
    if row is None:
        raise OrglifeError(f"没有编号为 {meeting_id} 的会议")
    return dict(row)


# 预备党员 vote but are not rated (民主评议 rates full members; the demo's ballots follow the same rule)
NOT_RATED = MemberStatus.probationary.value


def on_the_day(meeting: dict):
    """The condition on ``members`` of belonging to the meeting's branch on its day (rules.md rev 3: on or after
    转入日期, before 转出日期; blank: always / still)."""
    members = table_of(Member)
    return and_(members.c.branch_id == meeting["branch_id"],
                members.c.joined_on.is_(None) | (members.c.joined_on <= meeting["date"]),
                members.c.left_on.is_(None) | (members.c.left_on > meeting["date"]))


def rated_members(connection: Connection, meeting: dict) -> list[tuple[str, str]]:
    """(member id, name) of those a meeting's ballot rates: the branch's full members of its day; at a 民主生活会
    the leadership."""
    members = table_of(Member)
    query = select(members.c.member_id, members.c.name).where(
        on_the_day(meeting), (members.c.status.is_(None)) | (members.c.status != NOT_RATED))
    if meeting["kind"] == MeetingKind.leadership.value:
        query = query.where(members.c.leadership_member.is_(True))
    return [tuple(row) for row in connection.execute(query.order_by(members.c.member_id))]


GROUP_LINE = "支部班子（整体）"  # how a ballot names its line on the 班子


def rated_lines(connection: Connection, meeting: dict) -> list[tuple[str, str]]:
    """(id, name) of a meeting's ballot lines: its rated members, then, at a regular or special meeting of a branch
    with a committee, the 班子 as a whole (EVAL-GROUP-BALLOT, rules.md rev 3)."""
    lines = rated_members(connection, meeting)
    if meeting["kind"] != MeetingKind.leadership.value and connection.execute(
            select(table_of(Branch).c.has_committee).where(
                table_of(Branch).c.branch_id == meeting["branch_id"])).scalar():
        lines.append((GROUP, GROUP_LINE))
    return lines


def _scheme(meeting: dict) -> RatingScheme:
    # a meeting not combined with 民主评议 has no scheme: ballots default to 四档, as on the paper form
    return RatingScheme(meeting.get("rating_scheme") or RatingScheme.four.value)


def present_members(connection: Connection, meeting_id: str) -> int | None:
    """Members recorded as attending (None: no attendance recorded yet)."""
    table = table_of(Attendance)
    rows = connection.execute(select(table.c.presence).where(table.c.meeting_id == meeting_id)).scalars().all()
    if not rows:
        return None
    return sum(1 for presence in rows if presence in VOTING_PRESENCE)


def paper_ballots(connection: Connection, meeting_id: str) -> tuple[int, int, list[int]]:
    """(members' ballots, 群众代表's ballots, numeric ballot numbers) already in ``ballots`` for the meeting."""
    table = table_of(Ballot)
    rows = connection.execute(select(table.c.ballot_no, table.c.voter_type).where(
        table.c.meeting_id == meeting_id)).all()
    public = {no for no, voter in rows if voter == VoterType.public.value}
    numbers = {no for no, _ in rows}
    numeric = [int(no) for no in numbers if str(no).isdigit()]
    return len(numbers - public), len(public), numeric


# ---- the secretary's side ---------------------------------------------------------------------------------------


def open_poll(connection: Connection, meeting_id: str, voters: int, public: int = 0, *,
              now: dt.datetime, hours: int = VALID_HOURS) -> Poll:
    """Issue the codes (inside the caller's write transaction; scope and lock already checked)."""
    from .writer import closed_counts

    meeting = _meeting(connection, meeting_id)
    if public and meeting["kind"] == MeetingKind.leadership.value:
        # a 民主生活会 rates the leadership group among themselves; 群众代表 take part in 民主评议党员
        raise OrglifeError(f"会议 {meeting_id} 是民主生活会，不发放群众代表测评码（--public）")
    if voters < 1 and public < 1:
        raise OrglifeError("测评码张数须至少为 1（--voters）")
    if voters < 0 or public < 0 or voters + public > MAX_CODES:
        raise OrglifeError(f"测评码张数须在 1 到 {MAX_CODES} 之间")
    if closed_counts(connection, [meeting_id]):
        raise OrglifeError(f"会议 {meeting_id} 的测评已经结束计票，不能再开启手机测评")
    existing = _poll(connection, meeting_id)
    if existing is not None:
        raise OrglifeError(f"会议 {meeting_id} 已开启手机测评（{existing.turnout()}）；测评码只在开启时写出一次，"
                           "不能重新生成")
    members = rated_lines(connection, meeting)
    if not members[:1] or members[0][0] == GROUP:
        raise OrglifeError(f"会议 {meeting_id} 没有可测评的党员（先录入支部党员）")
    branch_members = connection.execute(select(func.count()).select_from(table_of(Member)).where(
        on_the_day(meeting))).scalar_one()  # everyone of the day votes, 预备党员 too
    paper_member, _, _ = paper_ballots(connection, meeting_id)
    present = present_members(connection, meeting_id)
    limit, why = (branch_members, f"支部党员 {branch_members} 人") if present is None else (
        present, f"到会党员 {present} 人")
    if voters + paper_member > limit:
        extra = f"，已录入纸质党员测评票 {paper_member} 张" if paper_member else ""
        raise OrglifeError(f"党员测评码 {voters} 个多于可投票的党员（{why}{extra}），未生成任何测评码")
    slips = [Slip(new_code(), VoterType.member.value) for _ in range(voters)]
    slips += [Slip(new_code(), VoterType.public.value) for _ in range(public)]
    stored = [{"code_hash": code_hash(s.code), "meeting_id": meeting_id, "voter_type": s.voter_type,
               "state": ISSUED} for s in slips]
    secrets.SystemRandom().shuffle(stored)  # the table's row order is not the slips' order
    connection.execute(BALLOT_CODES.insert(), stored)
    connection.execute(BALLOT_POLLS.insert().values(
        meeting_id=meeting_id, scheme=_scheme(meeting).value, rated=json.dumps([m for m, _ in members]),
        member_codes=voters, public_codes=public, opened_at=now, expires_at=valid_until(meeting, now, hours),
        closed_at=None, box="[]", version=1))
    connection.execute(BALLOT_SPENT.insert().values(meeting_id=meeting_id, hashes="[]"))
    poll = _poll(connection, meeting_id)
    poll.slips = slips
    return poll


def open_poll_of(connection: Connection, meeting_id: str) -> Poll | None:
    """The meeting's phone vote while its count is not closed (its ballots are still in the box), else None."""
    poll = _poll(connection, meeting_id)
    return poll if poll is not None and poll.is_open else None


def valid_until(meeting: dict, now: dt.datetime, hours: int) -> dt.datetime:
    """When a poll's codes expire: ``hours`` after opening, or after the start of the meeting day when the poll is
    opened ahead of it (slips are printed days before; they must still work at the meeting)."""
    start = now
    if meeting.get("date") is not None:
        day = meeting["date"]
        day = day.date() if isinstance(day, dt.datetime) else day
        start = max(now, dt.datetime.combine(day, dt.time()))
    return start + dt.timedelta(hours=hours)


def close_poll(connection: Connection, meeting_id: str, *, now: dt.datetime) -> tuple[Poll, int]:
    """Stop the votes, void unused codes, move the box into ``ballots`` (inside the caller's write transaction,
    before the count itself is marked closed). Returns the poll and how many ballots were written."""
    from .writer import _insert

    poll = _poll(connection, meeting_id)
    if poll is None or not poll.is_open:
        return poll, 0
    forget_box(connection)
    box = json.loads(connection.execute(select(BALLOT_POLLS.c.box).where(
        BALLOT_POLLS.c.meeting_id == meeting_id)).scalar_one())
    paper_member, _, numbers = paper_ballots(connection, meeting_id)
    box = [unpack(ballot, poll) for ballot in box]
    phone_member = sum(1 for voter, _ in box if voter == VoterType.member.value)
    present = present_members(connection, meeting_id)
    if present is None:
        raise OrglifeError(f"会议 {meeting_id} 还没有录入出席情况：先录入出席，才能结束计票"
                           "（党员测评票不能多于到会党员）")
    if phone_member + paper_member > present:
        raise OrglifeError(f"党员测评票（手机 {phone_member} 张、纸质 {paper_member} 张）多于到会党员 {present} 人："
                           "请核对纸质测评票和出席情况，未结束计票")
    start = max(numbers, default=0) + 1
    rows = [(meeting_id, str(start + i), member, level, voter)
            for i, (voter, levels) in enumerate(box) for member, level in levels.items()]
    _insert(connection, Ballot, rows, now)
    spent = spent_hashes(connection, meeting_id)
    for part in range(0, len(spent), 500):  # (SQLite's bound-parameter limit)
        connection.execute(BALLOT_CODES.update().where(
            BALLOT_CODES.c.meeting_id == meeting_id, BALLOT_CODES.c.code_hash.in_(spent[part:part + 500]))
            .values(state=USED))
    connection.execute(BALLOT_CODES.update().where(
        BALLOT_CODES.c.meeting_id == meeting_id, BALLOT_CODES.c.state == ISSUED).values(state=VOID))
    connection.execute(BALLOT_SPENT.update().where(BALLOT_SPENT.c.meeting_id == meeting_id).values(hashes="[]"))
    connection.execute(BALLOT_POLLS.update().where(BALLOT_POLLS.c.meeting_id == meeting_id).values(
        closed_at=now, box="[]", version=BALLOT_POLLS.c.version + 1))
    return _poll(connection, meeting_id), len(box)


# ---- the code-bearer's side (no account: the code is the credential) --------------------------------------------


def _refusal(connection: Connection, code: str, now: dt.datetime) -> tuple[dict, Poll, list[str]]:
    """The code's row, its poll and the poll's spent list, or VoteRefused with the reason a voter should read."""
    if not well_formed(code):
        raise VoteRefused(UNKNOWN, "unknown")
    row = connection.execute(select(BALLOT_CODES).where(
        BALLOT_CODES.c.code_hash == code_hash(code))).mappings().first()
    if row is None:
        raise VoteRefused(UNKNOWN, "unknown")
    poll = _poll(connection, row["meeting_id"], full=False)
    if poll is None or not poll.is_open or row["state"] != ISSUED:
        raise VoteRefused(CLOSED, "closed")
    spent = spent_hashes(connection, poll.meeting_id)
    if _holds(spent, row["code_hash"]):
        raise VoteRefused(SPENT, "used")
    if poll.expired(now):
        raise VoteRefused(EXPIRED, "expired")
    return dict(row), poll, spent


def _holds(spent: list[str], code: str) -> bool:
    place = bisect.bisect_left(spent, code)
    return place < len(spent) and spent[place] == code


def ballot_page(connection: Connection, code: str, *, now: dt.datetime) -> BallotPage:
    row, poll, _ = _refusal(connection, code, now)
    meeting = _meeting(connection, poll.meeting_id)
    names = dict(rated_lines(connection, meeting))
    return BallotPage(meeting_id=poll.meeting_id, title=meeting_title(connection, meeting), scheme=RatingScheme(poll.scheme),
                      members=[(m, names.get(m, m)) for m in poll.rated], voter_type=row["voter_type"])


def cast_vote(connection: Connection, code: str, levels: dict[str, str], *, now: dt.datetime) -> None:
    """Spend the code and put the ballot in the box (inside the caller's write transaction, whose lock makes the
    spent list read here the one this write replaces)."""
    row, poll, spent = _refusal(connection, code, now)
    forget_box(connection)
    allowed = {level.value for level in SCHEME_LEVELS[RatingScheme(poll.scheme)]}
    chosen = {member: level for member, level in levels.items() if level}
    if set(chosen) - set(poll.rated) or set(chosen.values()) - allowed:
        raise VoteRefused("测评票的内容不对（被测评人或等次不在本次测评中），未记录，请重新打开测评页面。", "invalid")
    if not chosen:
        raise VoteRefused("请至少为一位党员选择等次后再提交。", "empty")
    before = json.dumps(spent)
    bisect.insort(spent, row["code_hash"])  # sorted: the list never shows which code came first
    swapped = connection.execute(BALLOT_SPENT.update().where(
        BALLOT_SPENT.c.meeting_id == poll.meeting_id, BALLOT_SPENT.c.hashes == before).values(
        hashes=json.dumps(spent))).rowcount
    if swapped != 1:  # another vote rewrote the list since it was read (the write lock should make this impossible)
        raise VoteRefused(SPENT, "used")
    box = json.loads(connection.execute(select(BALLOT_POLLS.c.box).where(
        BALLOT_POLLS.c.meeting_id == poll.meeting_id)).scalar_one())
    ballot = _pack(row["voter_type"], chosen, poll)
    box.insert(secrets.randbelow(len(box) + 1), ballot)  # a uniformly random place: the box never shows arrival
    connection.execute(BALLOT_POLLS.update().where(BALLOT_POLLS.c.meeting_id == poll.meeting_id).values(
        box=json.dumps(box, separators=(",", ":"))))


# A ballot in the box is one short string: the voter type's letter, then per rated member (in the poll's order) the
# index of the chosen level in the scheme, or "." for none. A 200-member ballot is 201 characters, so rewriting
# the box on every vote stays cheap (measured in benchmarks/ballot_load.py).
_VOTER_LETTER = {VoterType.member.value: "m", VoterType.public.value: "p"}


def _pack(voter_type: str, chosen: dict[str, str], poll: Poll) -> str:
    index = {level.value: str(i) for i, level in enumerate(SCHEME_LEVELS[RatingScheme(poll.scheme)])}
    return _VOTER_LETTER[voter_type] + "".join(index[chosen[m]] if m in chosen else "." for m in poll.rated)


def unpack(ballot: str, poll: Poll) -> tuple[str, dict[str, str]]:
    """(voter type, member → level) of a packed ballot."""
    levels = SCHEME_LEVELS[RatingScheme(poll.scheme)]
    voter = next(v for v, letter in _VOTER_LETTER.items() if letter == ballot[0])
    return voter, {m: levels[int(ch)].value for m, ch in zip(poll.rated, ballot[1:]) if ch != "."}


def forget_box(connection: Connection) -> None:
    """Inside a vote's or the close's transaction: freed pages and cells are zeroed (SQLite's secure_delete), so the
    box's and the spent list's earlier states do not linger in the database file."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete = ON")


# How long a vote's scrub waits for SQLite readers to leave the log: readers of this app hold a snapshot for
# milliseconds (a ballot page, a turnout), and the next vote waits for the scrub (a long report read must not
# make every vote wait long).
VOTE_SCRUB_WAIT = 0.2


def scrub(engine, *, wait: float, closed: bool = False) -> bool:
    """After a vote or the close committed: drop what the storage engine still keeps of earlier states. SQLite:
    checkpoint the write-ahead log into the file and truncate it to nothing, waiting up to ``wait`` seconds for
    readers to leave it. PostgreSQL, after the close: rewrite the poll's tables without their dead row versions
    (a vote leaves one dead version of the box and the spent list, which SQL never returns to the app's login).
    False when a reader kept the log (it holds earlier states until the next scrub)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # the driver's own connection: no BEGIN around the checkpoint
        try:
            cursor = raw.cursor()
            (previous,) = cursor.execute("PRAGMA busy_timeout").fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            try:
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {previous}")
            return busy == 0
        finally:
            raw.close()
    if engine.dialect.name == "postgresql" and closed:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM FULL ballot_polls, ballot_spent, ballot_codes")
    return True


def box_size(connection: Connection, meeting_id: str) -> int:
    raw = connection.execute(select(BALLOT_POLLS.c.box).where(BALLOT_POLLS.c.meeting_id == meeting_id)).scalar()
    return len(json.loads(raw)) if raw else 0


def tally_table(ballots: pd.DataFrame, scheme: RatingScheme, names: dict[str, str]) -> pd.DataFrame:
    """Votes per member (rows, by name) and level (columns, by label), with each member's total and the column
    totals (of the members: a line on the 班子 is shown, not added): the count the forms and ``orglife ballot
    close`` show."""
    levels = [level.value for level in SCHEME_LEVELS[scheme]]
    counts = pd.crosstab(ballots.rated_id, ballots.level) if len(ballots) else pd.DataFrame()
    counts = counts.reindex(columns=levels, fill_value=0)
    counts = counts.reindex(index=list(dict.fromkeys(list(names) + list(counts.index))), fill_value=0)
    counts["合计"] = counts.sum(axis=1)
    counts.loc["合计"] = counts.drop(index=GROUP, errors="ignore").sum(axis=0)  # the 班子's line is no member's
    counts.columns = [next((lvl.label for lvl in SCHEME_LEVELS[scheme] if lvl.value == c), c) for c in counts.columns]
    counts.index = [names.get(i, i) for i in counts.index]
    counts.index.name = "被测评人"
    return counts.astype(int)
