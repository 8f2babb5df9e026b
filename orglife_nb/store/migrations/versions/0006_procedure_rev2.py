"""procedure fidelity, revision 2: 开始时间, 通报征求意见, 帮促人, 承诺, the 回应 sheet, criticism of the 班子

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 23:00:00

Rows are kept: the new columns start empty ("not recorded"), as a workbook without them imports. A criticism's
对象 may now be ``班子`` (the group), so it is no longer a foreign key to members.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_time', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('opinions_reported', sa.Boolean(), nullable=True))

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('helper', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ratings_helper_members'), 'members', ['helper'], ['member_id'])

    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commitment', sa.Boolean(), nullable=True))

    with op.batch_alter_table('criticisms', schema=None) as batch_op:
        batch_op.drop_constraint('fk_criticisms_target_members', type_='foreignkey')

    op.create_table('responses',
    sa.Column('row_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('meeting_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('responder', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.meeting_id'], name=op.f('fk_responses_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responder'], ['members.member_id'], name=op.f('fk_responses_responder_members')),
    sa.PrimaryKeyConstraint('row_id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_meeting_id', ['meeting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_meeting_id')
    op.drop_table('responses')
    with op.batch_alter_table('criticisms', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_criticisms_target_members', 'members', ['target'], ['member_id'])
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_column('commitment')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ratings_helper_members', type_='foreignkey')
        batch_op.drop_column('helper')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('opinions_reported')
        batch_op.drop_column('start_time')
