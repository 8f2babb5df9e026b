"""accounts and the audit trail: who may log in, with which role and scope; who changed what

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


    op.create_table('audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('record', sa.String(length=32), nullable=True),
    sa.Column('record_key', sa.Text(), nullable=True),
    sa.Column('branch_id', sa.String(length=64), nullable=True),
    sa.Column('meeting_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit'))
    )
    op.create_index('ix_audit_branch_id', 'audit', ['branch_id'])
    op.create_index('ix_audit_meeting_id', 'audit', ['meeting_id'])
    op.create_index('ix_audit_actor', 'audit', ['actor'])
    # append-only, enforced by the database itself
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE FUNCTION orglife_audit_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'audit rows cannot be changed or removed'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                   "FOR EACH ROW EXECUTE FUNCTION orglife_audit_append_only()")
        op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION orglife_audit_append_only()")
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'audit rows cannot be changed or removed'); END")


def downgrade() -> None:
    op.drop_table('audit')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS orglife_audit_append_only()")
    op.drop_table('account_branches')
    op.drop_table('accounts')
