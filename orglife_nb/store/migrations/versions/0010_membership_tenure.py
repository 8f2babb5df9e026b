"""membership and roles in time (rules.md/workbook.md revision 3): 党员.转入日期/转出日期, the 任职 table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:40:00

Rows are kept: the new columns start empty ("always a member"), and without 任职 rows 党员.职务 is every meeting's
role, as a workbook without them imports.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('left_on', sa.Date(), nullable=True))

    op.create_table('tenures',
    sa.Column('row_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_tenures_member_id_members')),
    sa.PrimaryKeyConstraint('row_id', name=op.f('pk_tenures'))
    )
    with op.batch_alter_table('tenures', schema=None) as batch_op:
        batch_op.create_index('ix_tenures_member_id', ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tenures', schema=None) as batch_op:
        batch_op.drop_index('ix_tenures_member_id')
    op.drop_table('tenures')
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch would copy and drop ``members``, which the other
    # tables' foreign keys refuse
    op.drop_column('members', 'left_on')
    op.drop_column('members', 'joined_on')
