"""ballot_spent: a vote no longer updates its code's row (the order of use was readable from row versions)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00

A poll open at the upgrade keeps its votes: its used codes move into the poll's sorted spent list and their rows
go back to issued (all in this one transaction), as if the poll had been opened under this revision.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    spent = op.create_table('ballot_spent',
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('hashes', sa.Text(), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_ballot_spent_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_ballot_spent'))
    )
    connection = op.get_bind()
    polls = sa.table('ballot_polls', sa.column('meeting_id'), sa.column('closed_at'))
    codes = sa.table('ballot_codes', sa.column('code_hash'), sa.column('meeting_id'), sa.column('state'))
    for (meeting_id,) in connection.execute(sa.select(polls.c.meeting_id).where(polls.c.closed_at.is_(None))).all():
        used = sorted(connection.execute(sa.select(codes.c.code_hash).where(
            codes.c.meeting_id == meeting_id, codes.c.state == 'used')).scalars())
        connection.execute(spent.insert().values(meeting_id=meeting_id, hashes=json.dumps(used)))
        connection.execute(codes.update().where(codes.c.meeting_id == meeting_id, codes.c.state == 'used')
                           .values(state='issued'))


def downgrade() -> None:
    connection = op.get_bind()
    spent = sa.table('ballot_spent', sa.column('meeting_id'), sa.column('hashes'))
    codes = sa.table('ballot_codes', sa.column('code_hash'), sa.column('meeting_id'), sa.column('state'))
    for meeting_id, hashes in connection.execute(sa.select(spent.c.meeting_id, spent.c.hashes)).all():
        for code in json.loads(hashes):
            connection.execute(codes.update().where(codes.c.code_hash == code).values(state='used'))
    op.drop_table('ballot_spent')
