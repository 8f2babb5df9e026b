"""accounts: who may log in, with which role and scope

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('superior', sa.Text(), nullable=True),
    sa.Column('confidential', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_accounts'))
    )
    op.create_table('account_branches',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['accounts.name'], name=op.f('fk_account_branches_account_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.branch_id'],
                            name=op.f('fk_account_branches_branch_id_branches')),
    sa.PrimaryKeyConstraint('account', 'branch_id', name=op.f('pk_account_branches'))
    )


def downgrade() -> None:
    op.drop_table('account_branches')
    op.drop_table('accounts')
