"""reviews: the review chain of a meeting's records (草稿 → 已提交 → 已审核 / 退回)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reviews',
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_reviews_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_reviews'))
    )


def downgrade() -> None:
    op.drop_table('reviews')
