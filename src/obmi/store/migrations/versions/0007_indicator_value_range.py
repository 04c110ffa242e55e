"""indicator: the range a delivered value must lie in

`min` and `max` of an indicator definition (obmi.indicators.values): an import refuses a value
outside them with its line. Empty (the default of the indicator's unit applies) for every
definition from before this revision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('max')
        batch_op.drop_column('min')
