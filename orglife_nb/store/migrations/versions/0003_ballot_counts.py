"""ballot counts: which meetings' anonymous ballot count the secretary has closed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_counts',
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_ballot_counts_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_ballot_counts'))
    )


def downgrade() -> None:
    op.drop_table('ballot_counts')
