"""the 班子 in the evaluation and the preparation (rules.md/workbook.md revision 3): 会议.班子意见通报日期, and
测评.被测评人 may be 班子 (no longer a foreign key to members)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:00:00

Rows are kept: the new date starts empty ("not recorded").
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN: a batch would copy ``meetings``, which the other tables' foreign keys refuse
    op.add_column('meetings', sa.Column('group_opinions_reported_on', sa.Date(), nullable=True))
    # nothing refers to ``ballots``: on SQLite the batch may copy it to drop the constraint
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ballots_rated_id_members', type_='foreignkey')


def downgrade() -> None:
    # the 班子 lines cannot be kept under the foreign key of the older schema
    op.execute(sa.text("DELETE FROM ballots WHERE rated_id NOT IN (SELECT member_id FROM members)"))
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_ballots_rated_id_members', 'members', ['rated_id'], ['member_id'])
    op.drop_column('meetings', 'group_opinions_reported_on')
