"""Store tables, derived from the record models (no second list of columns).

Every table carries the model's fields plus two store columns: ``version`` (bumped on every change, so that
forms can refuse a stale save) and ``updated_at`` (so report runs can tell what changed since they last ran).
Rows that belong to a meeting and have no id of their own get a surrogate ``row_id``.
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text)

from ..models import RECORDS, Record, fields_of

STORE_COLUMNS = ("version", "updated_at")
ROW_ID = "row_id"

_TYPES = {"id": lambda: String(64), "text": Text, "date": Date, "bool": Boolean, "int": Integer,
          "number": Float, "enum": lambda: String(32)}

# Naming convention so that constraint names are stable across SQLite and PostgreSQL (alembic needs names).
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

_REF_KEYS = {"branches": "branch_id", "members": "member_id", "meetings": "meeting_id"}


def _columns(record: type[Record]) -> list[Column]:
    columns: list[Column] = []
    if not record.key:
        columns.append(Column(ROW_ID, Integer, primary_key=True, autoincrement=True))
    for spec in fields_of(record):
        args = [_TYPES[spec.kind]()]
        # a side that may also name 上级 / 支部班子 cannot be a foreign key
        if spec.ref and not spec.ref_or:
            ondelete = "CASCADE" if spec.ref == "meetings" else None
            args.append(ForeignKey(f"{spec.ref}.{_REF_KEYS[spec.ref]}", ondelete=ondelete))
        columns.append(Column(spec.name, *args, primary_key=spec.name in record.key,
                              nullable=not (spec.required or spec.name in record.key)))
    columns.append(Column("version", Integer, nullable=False, server_default="1"))
    columns.append(Column("updated_at", DateTime, nullable=True))
    return columns


def _indexes(record: type[Record]) -> list[Index]:
    # the lookups every check and report makes: rows of a meeting, members/meetings of a branch (任职: of a member)
    wanted = [n for n in dict.fromkeys(("meeting_id", "branch_id", record.parent))
              if n in record.model_fields and n not in record.key]
    return [Index(f"ix_{record.table}_{name}", name) for name in wanted]


TABLES: dict[type[Record], Table] = {
    record: Table(record.table, metadata, *_columns(record), *_indexes(record)) for record in RECORDS
}


def table_of(record: type[Record]) -> Table:
    return TABLES[record]


# Not a workbook record: the forms' state of a meeting's anonymous ballot count. A row means the secretary has
# closed the count (the tally may be shown, the ballots may no longer change).
BALLOT_COUNTS = Table(
    "ballot_counts", metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id", ondelete="CASCADE"), primary_key=True),
    Column("closed_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)


# Electronic 民主测评 (orglife_nb.store.voting). A poll is a meeting's count opened for phones: its scheme, the members
# rated, how many codes were issued and, while it is open, the ballot box: one JSON list in which every arriving
# ballot takes a uniformly random place (no row per ballot, so neither a row id nor the physical order on disk can
# tell arrival order; nothing in it names a code, a time or a device). Closing moves the box into ``ballots``.
BALLOT_POLLS = Table(
    "ballot_polls", metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id", ondelete="CASCADE"), primary_key=True),
    Column("scheme", String(16), nullable=False),
    Column("rated", Text, nullable=False),  # JSON list of member ids, in the order the phone page shows them
    Column("member_codes", Integer, nullable=False),
    Column("public_codes", Integer, nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("closed_at", DateTime, nullable=True),
    Column("box", Text, nullable=False, server_default="[]"),
    Column("version", Integer, nullable=False, server_default="1"),
)

# One-time codes, as SHA-256 hashes of high-entropy codes only, with their state. A row is written at the open
# (issued, in shuffled order) and once more at the close (used or void, all rows of the poll in one statement): a
# vote never touches it, so no row version, PostgreSQL ``xmin`` or page image tells when or in which order codes
# were used.
BALLOT_CODES = Table(
    "ballot_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id", ondelete="CASCADE"), nullable=False),
    Column("voter_type", String(16), nullable=False),
    Column("state", String(8), nullable=False),
    Index("ix_ballot_codes_meeting_id", "meeting_id"),
)

# The codes spent so far in an open poll: one row per poll holding the sorted list of their hashes, rewritten in
# place by each vote (sorted: the list never shows which code came first). Emptied at the close, when the codes'
# states take over.
BALLOT_SPENT = Table(
    "ballot_spent", metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id", ondelete="CASCADE"), primary_key=True),
    Column("hashes", Text, nullable=False, server_default="[]"),
)

# Accounts of the people who use the forms and commands (not workbook records: never exported). A secretary's
# branches are rows of ACCOUNT_BRANCHES; a superior's scope is every branch whose 上级党组织 equals ``superior``.
ACCOUNTS = Table(
    "accounts", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("superior", Text, nullable=True),
    Column("confidential", Boolean, nullable=False, server_default="0"),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)

ACCOUNT_BRANCHES = Table(
    "account_branches", metadata,
    Column("account", String(64), ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", String(64), ForeignKey("branches.branch_id"), primary_key=True),
)

# The audit trail: appended by every change, never changed (the migration adds triggers that refuse UPDATE and
# DELETE on both backends), and chained: ``hash`` is SHA-256 over the entry and ``prev_hash``, the hash of the entry
# before it (audit.seal), so whoever gets past the triggers still cannot change, remove or insert an entry unseen.
AUDIT = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=True),  # None: the command line acting as admin
    Column("action", String(16), nullable=False),
    Column("record", String(32), nullable=True),  # table name
    Column("record_key", Text, nullable=True),
    Column("branch_id", String(64), nullable=True),
    Column("meeting_id", String(64), nullable=True),
    Column("detail", Text, nullable=True),  # JSON: old → new values, counts, reasons
    Column("prev_hash", String(64), nullable=True),  # NULL only in an entry someone slipped in
    Column("hash", String(64), nullable=True),
    Index("ix_audit_branch_id", "branch_id"),
    Index("ix_audit_meeting_id", "meeting_id"),
    Index("ix_audit_actor", "actor"),
)

# The review chain of a meeting's records: 草稿 → 已提交 → 已审核 / 退回. No row means a draft. An approved meeting's
# records are locked (the store refuses to change them) until a reviewer reopens it.
REVIEWS = Table(
    "reviews", metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),  # why it was returned or reopened
    Column("explanation", Text, nullable=True),  # the secretary's word on errors left at submission
    Column("updated_by", String(64), nullable=True),
    Column("updated_at", DateTime, nullable=False),
    Column("submitted_at", DateTime, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
)
