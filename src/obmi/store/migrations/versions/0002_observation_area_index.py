"""index observation (area_id, indicator)

Fact sheets ask which indicators have data for one area (`WHERE area_id = ?`): without an index
leading with area_id that is a scan of the whole observation table (≈1 s at 20 million rows on
PostgreSQL, see benchmarks/site_bench.py); with it, an index-only scan of a few hundred entries.
It also covers the area_id foreign key (deleting an area no longer scans observation).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:30:00
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_area', ['area_id', 'indicator'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_area')
