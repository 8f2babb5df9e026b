"""ballot_polls, ballot_codes: electronic anonymous 民主测评 (one-time codes, the shuffled ballot box)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 22:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_polls',
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('scheme', sa.String(length=16), nullable=False),
    sa.Column('rated', sa.Text(), nullable=False),
    sa.Column('member_codes', sa.Integer(), nullable=False),
    sa.Column('public_codes', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('box', sa.Text(), server_default='[]', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_ballot_polls_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_ballot_polls'))
    )
    op.create_table('ballot_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('voter_type', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_ballot_codes_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_ballot_codes'))
    )
    op.create_index('ix_ballot_codes_meeting_id', 'ballot_codes', ['meeting_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ballot_codes_meeting_id', table_name='ballot_codes')
    op.drop_table('ballot_codes')
    op.drop_table('ballot_polls')
