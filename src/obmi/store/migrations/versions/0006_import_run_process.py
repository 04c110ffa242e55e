"""import_run: the process that runs the import

An import killed mid-way (kill -9, a crash, a reboot) rolls back its work but leaves its run row
`running` for ever. The run now records its process (host, pid, start time), so a later start or
`obmi imports --cleanup` can tell that the process is gone and mark the run `interrupted`. Runs
from before this revision have no process recorded and are left as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('process_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('process_started', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_column('process_started')
        batch_op.drop_column('process_id')
        batch_op.drop_column('process_host')
