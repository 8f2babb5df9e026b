"""audit.prev_hash, audit.hash: the audit trail as a hash chain (tamper-evident), existing entries chained in id order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00
"""
from alembic import op
import sqlalchemy as sa

from orglife_nb.store.audit import CHAINED, GENESIS, seal


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_BATCH = 5000


def _triggers(enable: bool) -> None:
    """The append-only triggers of 0004 are lifted while the existing entries get their hashes (as the owner)."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"ALTER TABLE audit {'ENABLE' if enable else 'DISABLE'} TRIGGER audit_append_only")
    elif enable:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed or removed'); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")


def upgrade() -> None:
    op.add_column('audit', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit', sa.Column('hash', sa.String(length=64), nullable=True))
    audit = sa.table('audit', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                     *[sa.column(name, sa.Text) for name in CHAINED[1:]],
                     sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    bind = op.get_bind()
    _triggers(False)
    previous, last = GENESIS, None
    while True:  # in id order, a batch at a time (an old store may hold many entries)
        query = sa.select(audit).order_by(audit.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(audit.c.id > last)
        rows = [dict(row) for row in bind.execute(query).mappings()]
        if not rows:
            break
        for row in rows:
            row['prev_hash'] = previous
            row['hash'] = previous = seal(row, previous)
        bind.execute(audit.update().where(audit.c.id == sa.bindparam('_id'))
                     .values(prev_hash=sa.bindparam('prev_hash'), hash=sa.bindparam('hash')),
                     [{'_id': row['id'], 'prev_hash': row['prev_hash'], 'hash': row['hash']} for row in rows])
        last = rows[-1]['id']
    _triggers(True)


def downgrade() -> None:
    _triggers(False)
    op.drop_column('audit', 'hash')
    op.drop_column('audit', 'prev_hash')
    _triggers(True)
