"""beleidsopvolging: plans, versions, items, amounts, reporting, KPIs, milestones

The tables of obmi.plans (see obmi.store.tables): budget entities and plans with their versions
(the original meerjarenplan and each aanpassing), items whose per-version content (titles,
hierarchy, amounts) sits in plan_item_version and plan_amount, the reporting periods, status
updates with attachments, KPIs with measurements, milestones, and sent reminders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:48:49
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_entity',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('organisation', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], name=op.f('fk_budget_entity_organisation_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_entity')),
    sa.UniqueConstraint('organisation', 'code', name='uq_budget_entity_org_code')
    )
    op.create_table('plan_config',
    sa.Column('organisation', sa.String(length=40), nullable=False),
    sa.Column('rollup', sa.JSON(), nullable=False),
    sa.Column('priority_propagation', sa.String(length=10), nullable=False),
    sa.Column('reporting_scheme', sa.String(length=10), nullable=False),
    sa.Column('remind_days_before', sa.Integer(), nullable=False),
    sa.Column('remind_every_days', sa.Integer(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], name=op.f('fk_plan_config_organisation_organisation')),
    sa.PrimaryKeyConstraint('organisation', name=op.f('pk_plan_config'))
    )
    op.create_table('reporting_period',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('organisation', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('label_nl', sa.String(length=100), nullable=False),
    sa.Column('label_en', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], name=op.f('fk_reporting_period_organisation_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_period')),
    sa.UniqueConstraint('organisation', 'code', name='uq_reporting_period_org_code')
    )
    op.create_table('plan',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('organisation', sa.String(length=40), nullable=False),
    sa.Column('budget_entity_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('start_year', sa.Integer(), nullable=False),
    sa.Column('end_year', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['budget_entity_id'], ['budget_entity.id'], name=op.f('fk_plan_budget_entity_id_budget_entity')),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], name=op.f('fk_plan_organisation_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan')),
    sa.UniqueConstraint('organisation', 'code', name='uq_plan_org_code')
    )
    op.create_table('reminder_sent',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['reporting_period.id'], name=op.f('fk_reminder_sent_period_id_reporting_period'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sent')),
    sa.UniqueConstraint('user_name', 'period_id', 'kind', 'sent_on', name='uq_reminder_sent_user_name')
    )
    op.create_table('plan_item',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('mandataris', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('publish', sa.Boolean(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_item_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_item')),
    sa.UniqueConstraint('plan_id', 'code', name='uq_plan_item_plan_code')
    )
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.create_index('ix_plan_item_owner', ['owner'], unique=False)

    op.create_table('plan_version',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('motivering', sa.Text(), nullable=False),
    sa.Column('layout', sa.String(length=40), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['import_run.id'], name=op.f('fk_plan_version_import_id_import_run')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_version_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_plan_version_plan_number')
    )
    op.create_table('kpi',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('indicator', sa.String(length=80), nullable=True),
    sa.Column('area_level', sa.String(length=40), nullable=True),
    sa.Column('area_code', sa.String(length=40), nullable=True),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('baseline_period', sa.String(length=20), nullable=True),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('tolerance_pct', sa.Float(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('target_steps', sa.JSON(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_kpi_item_id_plan_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi'))
    )
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_item', ['item_id'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('depends_on', sa.JSON(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_milestone_item_id_plan_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_item', ['item_id'], unique=False)

    op.create_table('plan_amount',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('beleidsitem', sa.String(length=10), nullable=True),
    sa.Column('account', sa.String(length=20), nullable=True),
    sa.Column('envelope', sa.String(length=40), nullable=True),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_plan_amount_item_id_plan_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['plan_version.id'], name=op.f('fk_plan_amount_version_id_plan_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_amount'))
    )
    with op.batch_alter_table('plan_amount', schema=None) as batch_op:
        batch_op.create_index('ix_plan_amount_version_item', ['version_id', 'item_id'], unique=False)

    op.create_table('plan_item_version',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title_short', sa.String(length=500), nullable=False),
    sa.Column('title_long', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('beleidsdomein', sa.String(length=2), nullable=True),
    sa.Column('beleidsveld', sa.String(length=4), nullable=True),
    sa.Column('beleidsitem', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_plan_item_version_item_id_plan_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['plan_item.id'], name=op.f('fk_plan_item_version_parent_id_plan_item')),
    sa.ForeignKeyConstraint(['version_id'], ['plan_version.id'], name=op.f('fk_plan_item_version_version_id_plan_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'item_id', name=op.f('pk_plan_item_version'))
    )
    with op.batch_alter_table('plan_item_version', schema=None) as batch_op:
        batch_op.create_index('ix_plan_item_version_item', ['item_id'], unique=False)

    op.create_table('status_update',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=True),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('knelpunten', sa.Text(), nullable=False),
    sa.Column('no_change', sa.Boolean(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_status_update_item_id_plan_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['period_id'], ['reporting_period.id'], name=op.f('fk_status_update_period_id_reporting_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_update')),
    sa.UniqueConstraint('item_id', 'period_id', name='uq_status_update_item_period')
    )
    with op.batch_alter_table('status_update', schema=None) as batch_op:
        batch_op.create_index('ix_status_update_period', ['period_id', 'state'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['status_update.id'], name=op.f('fk_attachment_update_id_status_update'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_update', ['update_id'], unique=False)

    op.create_table('kpi_measurement',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('step', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_kpi_measurement_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_measurement')),
    sa.UniqueConstraint('kpi_id', 'period', name='uq_kpi_measurement_kpi_period')
    )


def downgrade() -> None:
    op.drop_table('kpi_measurement')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_update')

    op.drop_table('attachment')
    with op.batch_alter_table('status_update', schema=None) as batch_op:
        batch_op.drop_index('ix_status_update_period')

    op.drop_table('status_update')
    with op.batch_alter_table('plan_item_version', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_item_version_item')

    op.drop_table('plan_item_version')
    with op.batch_alter_table('plan_amount', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_amount_version_item')

    op.drop_table('plan_amount')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_item')

    op.drop_table('milestone')
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_item')

    op.drop_table('kpi')
    op.drop_table('plan_version')
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_item_owner')

    op.drop_table('plan_item')
    op.drop_table('reminder_sent')
    op.drop_table('plan')
    op.drop_table('reporting_period')
    op.drop_table('plan_config')
    op.drop_table('budget_entity')
