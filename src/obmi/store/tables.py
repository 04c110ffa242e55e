"""All OBMi tables (SQLAlchemy Core). Migrations in `migrations/` must match this metadata
(a test compares them)."""

from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        Date,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

area_level = Table(
    "area_level", metadata,
    Column("code", String(40), primary_key=True),
    Column("name_nl", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    # Versions of one geography share a family (gemeente, gemeente2024, gemeente2018 → gemeente).
    Column("family", String(40), nullable=False),
    Column("is_current", Boolean, nullable=False, default=True),
    Column("valid_from", String(10)),
    Column("valid_to", String(10)),
    Column("sort_order", Integer, nullable=False, default=100),
    Column("user_defined", Boolean, nullable=False, default=False),
)

area = Table(
    "area", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("level", String(40), ForeignKey("area_level.code"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(300), nullable=False),
    Column("short_name", String(300)),
    # "Niet te lokaliseren", "Buiten Vlaanderen", …: kept for data, ignored for completeness.
    Column("is_unknown", Boolean, nullable=False, default=False),
    UniqueConstraint("level", "code", name="uq_area_level_code"),
)

# Geometry apart from `area`: reading the hierarchy must not drag megabytes of GeoJSON along.
area_geometry = Table(
    "area_geometry", metadata,
    Column("area_id", Integer, ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    Column("geometry", Text, nullable=False),  # GeoJSON geometry in WGS84, full resolution of the source
    Column("geometry_web", Text, nullable=False),  # simplified for web maps
)

# relation: "parent" (child lies in parent) or "version" (child = old version part of parent).
area_link = Table(
    "area_link", metadata,
    Column("child_id", Integer, ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    Column("parent_id", Integer, ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    Column("relation", String(10), primary_key=True),
    Column("weight", Float, nullable=False, default=1.0),
)
Index("ix_area_link_parent", area_link.c.parent_id)

indicator = Table(
    "indicator", metadata,
    Column("code", String(80), primary_key=True),
    Column("name_nl", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("definition_nl", Text, nullable=False, default=""),
    Column("definition_en", Text, nullable=False, default=""),
    Column("unit", String(40), nullable=False, default=""),
    Column("themes", JSON, nullable=False, default=list),
    Column("source", String(300), nullable=False, default=""),
    Column("licence", String(300), nullable=False, default=""),
    Column("aggregation", String(20), nullable=False, default="sum"),
    Column("numerator", String(80)),
    Column("denominator", String(80)),
    Column("scale", Float, nullable=False, default=1.0),
    Column("weight", String(80)),
    Column("formula", Text),
    Column("polarity", String(20), nullable=False, default="neutral"),
    Column("decimals", Integer, nullable=False, default=0),
    Column("is_count", Boolean, nullable=False, default=False),
    Column("threshold", Integer),
    Column("threshold_indicator", String(80)),
    # The range a delivered value must lie in (obmi.indicators.values); NULL: the unit's default.
    Column("min", Float),
    Column("max", Float),
    Column("levels", JSON, nullable=False, default=list),
    Column("frequency", String(20), nullable=False, default="year"),
    Column("updated_at", DateTime(timezone=True)),
    # Who owns and who sees it (auth.permissions.Access). organisation NULL: shared by the instance.
    Column("organisation", String(40), ForeignKey("organisation.code")),
    Column("owner", String(100)),  # user name of the editor who maintains it
    Column("access", String(10), nullable=False, default="public"),  # public, analysts, groups
    Column("access_groups", JSON, nullable=False, default=list),
    Column("public_from_level", String(40)),  # below this level only the privileged see it
)

observation = Table(
    "observation", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator", String(80), ForeignKey("indicator.code"), nullable=False),
    Column("area_id", Integer, ForeignKey("area.id"), nullable=False),
    Column("period", String(20), nullable=False),
    Column("period_type", String(10), nullable=False),
    Column("value", Float),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("n", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("status", String(16), nullable=False, default="final"),
    # source: delivered by an import; reexpressed/aggregated/derived: computed by OBMi.
    Column("origin", String(12), nullable=False, default="source"),
    Column("import_id", Integer, ForeignKey("import_run.id")),
    # Disclosure decision of the write pipeline: NULL publish; "primary"/"secondary" suppressed.
    Column("disclosure", String(12)),
    UniqueConstraint("indicator", "area_id", "period", name="uq_observation_key"),
)
Index("ix_observation_lookup", observation.c.indicator, observation.c.period, observation.c.area_id)
# Area-first reads (which indicators an area has, for fact sheets) and the area_id foreign key.
# Small thanks to B-tree deduplication: one entry per (area, indicator), not per period.
Index("ix_observation_area", observation.c.area_id, observation.c.indicator)

import_run = Table(
    "import_run", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(30), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_in", Integer, nullable=False, default=0),
    Column("rows_ok", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("rows_skipped", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("derived", Integer, nullable=False, default=0),
    Column("user", String(100), nullable=False, default=""),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running, ok, failed, dry_run, no_change, interrupted
    Column("message", Text, nullable=False, default=""),
    Column("user_id", Integer),  # no foreign key: provenance outlives accounts
    Column("organisation", String(40)),  # the importer's organisation (who may see the run)
    # The process that runs (ran) the import: a run still `running` whose process is gone was
    # killed, and is marked `interrupted` (obmi.imports.runs). The start time tells a reused pid apart.
    Column("process_host", String(255)),
    Column("process_id", Integer),
    Column("process_started", DateTime(timezone=True)),
)

rejected_row = Table(
    "rejected_row", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("import_run.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_rejected_row_import", rejected_row.c.import_id)

# --- accounts, access and audit ----------------------------------------------------------------

organisation = Table(
    "organisation", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False, default="gemeente"),  # gemeente, ocmw, agb, other
    # The host runs the installation and maintains the shared data (geography, Statbel).
    Column("is_host", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

user_account = Table(
    "user_account", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),  # sign-in name, lower case
    Column("display_name", String(200), nullable=False, default=""),
    Column("email", String(300), nullable=False, default=""),
    Column("organisation", String(40), ForeignKey("organisation.code")),
    Column("password_hash", String(200)),  # NULL: no local password (single sign-on, or not set yet)
    Column("external_issuer", String(300)),
    Column("external_subject", String(300)),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True)),
    UniqueConstraint("external_issuer", "external_subject", name="uq_user_account_external"),
)

user_role = Table(
    "user_role", metadata,
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), primary_key=True),
)

user_group = Table(
    "user_group", metadata,
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(80), primary_key=True),
)

api_token = Table(
    "api_token", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False, default=""),
    Column("prefix", String(20), nullable=False),  # shown in lists, to tell tokens apart
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(5), nullable=False),  # read, write
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

# Session ids are stored as SHA-256 digests: a copy of the database gives no usable cookies.
user_session = Table(
    "user_session", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(20)),  # logout, idle, absolute, disabled, restore
    Column("source_address", String(64), nullable=False, default=""),
    Column("method", String(10), nullable=False, default="password"),  # password, oidc, reset
)
Index("ix_user_session_user", user_session.c.user_id)

login_attempt = Table(
    "login_attempt", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("success", Boolean, nullable=False),
)
Index("ix_login_attempt_account", login_attempt.c.account, login_attempt.c.at)
Index("ix_login_attempt_address", login_attempt.c.address, login_attempt.c.at)

one_time_link = Table(
    "one_time_link", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(20), nullable=False),  # password_reset
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_by", String(100), nullable=False),
)

# Append-only: written by the operations registry in the transaction of the change; database
# triggers (migration 0003) refuse UPDATE and DELETE. No foreign keys: the log outlives accounts.
audit_event = Table(
    "audit_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),  # user name; "" the anonymous public
    Column("actor_id", Integer),
    Column("organisation", String(40)),
    Column("via", String(10), nullable=False),  # session, token, cli, system, anonymous
    Column("operation", String(80), nullable=False),
    Column("permission", String(60), nullable=False),
    Column("resource_type", String(40), nullable=False, default=""),
    Column("resource_id", String(200), nullable=False, default=""),
    Column("outcome", String(10), nullable=False),  # ok, refused, rejected, failed
    Column("before", JSON),
    Column("after", JSON),
    Column("message", Text, nullable=False, default=""),
    Column("request_id", String(64), nullable=False, default=""),
    Column("source_address", String(64), nullable=False, default=""),
)
Index("ix_audit_event_resource", audit_event.c.resource_type, audit_event.c.resource_id)
Index("ix_audit_event_at", audit_event.c.at)
Index("ix_audit_event_actor", audit_event.c.actor)

# One row: the data version every cache and ETag keys on, advanced by every write; the epoch
# tells two databases apart (a restore into another database never reuses an old ETag).
data_state = Table(
    "data_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch", String(36), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("default_threshold", Integer),  # the threshold the stored disclosure decisions used
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# --- beleidsopvolging (obmi.plans) -----------------------------------------------------------
# A plan's items keep their identity (code) across plan versions; what a version says about an
# item (title, place in the hierarchy, amounts) is in plan_item_version and plan_amount, so the
# original meerjarenplan and each aanpassing stand side by side. Follow-up (status updates,
# KPIs, milestones) belongs to the item, whatever version it is in.

budget_entity = Table(
    "budget_entity", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(40), ForeignKey("organisation.code"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    # gemeente_ocmw: gemeente and OCMW report jointly; agb: an autonomous municipal company apart
    Column("kind", String(20), nullable=False, default="gemeente_ocmw"),
    UniqueConstraint("organisation", "code", name="uq_budget_entity_org_code"),
)

plan = Table(
    "plan", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(40), ForeignKey("organisation.code"), nullable=False),
    Column("budget_entity_id", Integer, ForeignKey("budget_entity.id"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("start_year", Integer, nullable=False),
    Column("end_year", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("organisation", "code", name="uq_plan_org_code"),
)

plan_version = Table(
    "plan_version", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),  # 1: the original meerjarenplan; 2…: aanpassingen
    Column("kind", String(20), nullable=False),  # meerjarenplan, aanpassing
    Column("label", String(200), nullable=False, default=""),
    Column("motivering", Text, nullable=False, default=""),
    Column("layout", String(40), nullable=False, default=""),
    Column("import_id", Integer, ForeignKey("import_run.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False, default=""),
    UniqueConstraint("plan_id", "number", name="uq_plan_version_plan_number"),
)

plan_item = Table(
    "plan_item", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("kind", String(20), nullable=False),  # obmi.plans.model.ItemKind
    Column("priority", Boolean, nullable=False, default=False),  # as set; propagation is applied on read
    Column("owner", String(100)),  # user name of the person who reports on it
    Column("department", String(200)),
    Column("mandataris", String(200)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("tags", JSON, nullable=False, default=list),
    Column("weight", Float),  # for the "weights" roll-up rule
    Column("publish", Boolean, nullable=False, default=False),  # approved status on the public site
    Column("row_version", Integer, nullable=False, default=1),  # optimistic locking of edits
    Column("updated_at", DateTime(timezone=True)),
    Column("updated_by", String(100)),
    UniqueConstraint("plan_id", "code", name="uq_plan_item_plan_code"),
)
Index("ix_plan_item_owner", plan_item.c.owner)

plan_item_version = Table(
    "plan_item_version", metadata,
    Column("version_id", Integer, ForeignKey("plan_version.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), primary_key=True),
    Column("parent_id", Integer, ForeignKey("plan_item.id")),
    Column("position", Integer, nullable=False, default=0),
    Column("title_short", String(500), nullable=False, default=""),
    Column("title_long", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("beleidsdomein", String(2)),
    Column("beleidsveld", String(4)),
    Column("beleidsitem", String(10)),
)
Index("ix_plan_item_version_item", plan_item_version.c.item_id)

plan_amount = Table(
    "plan_amount", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("plan_version.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("direction", String(10), nullable=False, default="uitgave"),  # uitgave, ontvangst
    Column("beleidsitem", String(10)),
    Column("account", String(20)),  # algemene rekening
    Column("envelope", String(40)),  # investeringsenveloppe
    Column("amount", Float, nullable=False),
)
Index("ix_plan_amount_version_item", plan_amount.c.version_id, plan_amount.c.item_id)

plan_config = Table(
    "plan_config", metadata,
    Column("organisation", String(40), ForeignKey("organisation.code"), primary_key=True),
    Column("rollup", JSON, nullable=False, default=dict),  # obmi.plans.rollup.parse_rule
    Column("priority_propagation", String(10), nullable=False, default="up"),  # up, none
    Column("reporting_scheme", String(10), nullable=False, default="semester"),
    Column("remind_days_before", Integer, nullable=False, default=7),
    Column("remind_every_days", Integer, nullable=False, default=7),  # overdue reminders
    Column("row_version", Integer, nullable=False, default=1),
)

reporting_period = Table(
    "reporting_period", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(40), ForeignKey("organisation.code"), nullable=False),
    Column("code", String(20), nullable=False),
    Column("label_nl", String(100), nullable=False),
    Column("label_en", String(100), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    UniqueConstraint("organisation", "code", name="uq_reporting_period_org_code"),
)

status_update = Table(
    "status_update", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), nullable=False),
    Column("period_id", Integer, ForeignKey("reporting_period.id"), nullable=False),
    Column("state", String(10), nullable=False),  # obmi.plans.model.UpdateState
    Column("status", String(20), nullable=False),  # obmi.plans.model.ItemStatus
    Column("progress", Float),
    Column("narrative", Text, nullable=False, default=""),
    Column("knelpunten", Text, nullable=False, default=""),
    Column("no_change", Boolean, nullable=False, default=False),  # "geen wijziging" confirmed
    Column("author", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("submitted_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(100)),
    Column("decision_comment", Text, nullable=False, default=""),
    Column("row_version", Integer, nullable=False, default=1),
    UniqueConstraint("item_id", "period_id", name="uq_status_update_item_period"),
)
Index("ix_status_update_period", status_update.c.period_id, status_update.c.state)

# Attachments live in the database, not on disk: they go into backups, obey the same access
# checks and cannot be reached by a path.
attachment = Table(
    "attachment", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("update_id", Integer, ForeignKey("status_update.id", ondelete="CASCADE"), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_by", String(100), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_attachment_update", attachment.c.update_id)

kpi = Table(
    "kpi", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # obmi.plans.model.KpiKind
    Column("name", String(300), nullable=False),
    Column("unit", String(40), nullable=False, default=""),
    # statistic: values flow from the statistics store for this indicator and area
    Column("indicator", String(80)),
    Column("area_level", String(40)),
    Column("area_code", String(40)),
    Column("direction", String(4), nullable=False, default="up"),
    Column("baseline", Float),
    Column("baseline_period", String(20)),
    Column("targets", JSON, nullable=False, default=dict),  # {"2027": 1200.0}
    Column("tolerance_pct", Float, nullable=False, default=5.0),
    Column("steps", JSON, nullable=False, default=list),  # steps KPIs: the steps in order
    Column("target_steps", JSON, nullable=False, default=dict),  # {"2027": "uitvoering"}
    Column("row_version", Integer, nullable=False, default=1),
)
Index("ix_kpi_item", kpi.c.item_id)

kpi_measurement = Table(
    "kpi_measurement", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kpi_id", Integer, ForeignKey("kpi.id", ondelete="CASCADE"), nullable=False),
    Column("period", String(20), nullable=False),
    Column("value", Float),
    Column("step", String(100)),
    Column("note", Text, nullable=False, default=""),
    Column("recorded_by", String(100), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kpi_id", "period", name="uq_kpi_measurement_kpi_period"),
)

milestone = Table(
    "milestone", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("owner", String(100)),
    Column("planned_start", Date),
    Column("planned_end", Date, nullable=False),
    Column("actual_start", Date),
    Column("actual_end", Date),  # set: completed
    Column("depends_on", JSON, nullable=False, default=list),  # milestone ids
    Column("row_version", Integer, nullable=False, default=1),
)
Index("ix_milestone_item", milestone.c.item_id)

# Which reminder digests went out: sending again the same day sends nothing (idempotent).
reminder_sent = Table(
    "reminder_sent", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(100), nullable=False),
    Column("period_id", Integer, ForeignKey("reporting_period.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # before, overdue
    Column("sent_on", Date, nullable=False),
    UniqueConstraint("user_name", "period_id", "kind", "sent_on", name="uq_reminder_sent_user_name"),
)

# --- finance, signals, reports (obmi.finance, obmi.plans.signals, obmi.reports.opvolging) -----
# One row per line of a finance-package export: a raming (budget of a plan version) or a
# realisatie (booked, per quarter). Lines for an actie that is not in the plan are refused by
# default; imported with --keep-unplanned they keep their code and no item (reconciliation).
budget_line = Table(
    "budget_line", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
    Column("budget_entity_id", Integer, ForeignKey("budget_entity.id"), nullable=False),
    Column("version_id", Integer, ForeignKey("plan_version.id", ondelete="CASCADE")),  # ramingen: their version
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE")),  # NULL: not in the plan
    Column("item_code", String(40), nullable=False),
    Column("kind", String(12), nullable=False),  # obmi.finance.model.LineKind: raming, realisatie
    Column("year", Integer, nullable=False),
    Column("quarter", Integer),  # realisaties: 1-4
    Column("category", String(14), nullable=False),  # exploitatie, investering, financiering
    Column("direction", String(10), nullable=False),  # uitgave, ontvangst
    Column("beleidsitem", String(10)),
    Column("account", String(20)),  # algemene rekening
    Column("envelope", String(40)),  # investeringsenveloppe
    Column("amount", Float, nullable=False),  # positive; the direction says which way
    Column("import_id", Integer, ForeignKey("import_run.id"), nullable=False),
    Column("line", Integer, nullable=False),  # where the import read it
)
Index("ix_budget_line_plan", budget_line.c.plan_id, budget_line.c.kind, budget_line.c.year)
Index("ix_budget_line_item", budget_line.c.item_id)

# What the balance checks need beyond the budget lines (BBC 2020): the result carried over into
# the first plan year, the funds that are not available per year (bestemde gelden), and the
# corrected net periodic loan outlays that the corrected AFM uses instead of the booked ones.
plan_balance_input = Table(
    "plan_balance_input", metadata,
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("opening_result", Float),  # gecumuleerd budgettair resultaat vorig boekjaar (first year)
    Column("unavailable_funds", Float, nullable=False, default=0.0),  # onbeschikbare gelden
    Column("corrected_loan_outlays", Float),  # gecorrigeerde netto periodieke leningsuitgaven
    Column("row_version", Integer, nullable=False, default=1),
)

# Early-warning rules as an organisation tuned them (the built-in defaults apply otherwise).
signal_rule = Table(
    "signal_rule", metadata,
    Column("organisation", String(40), ForeignKey("organisation.code"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("params", JSON, nullable=False, default=dict),
    Column("row_version", Integer, nullable=False, default=1),
    Column("updated_by", String(100)),
    Column("updated_at", DateTime(timezone=True)),
)

# A signal that a rule raised: stays one row per (rule, subject) while it holds; resolved when
# the rule no longer fires. Acknowledging keeps it visible, marked, with the comment.
signal = Table(
    "signal", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(40), ForeignKey("organisation.code"), nullable=False),
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("plan_item.id", ondelete="CASCADE")),
    Column("rule", String(40), nullable=False),
    Column("subject", String(120), nullable=False),  # what it is about, e.g. "item:AC1", "kpi:12"
    Column("state", String(12), nullable=False, default="open"),  # open, acknowledged, resolved
    Column("severity", String(10), nullable=False, default="warning"),  # info, warning, critical
    Column("message_nl", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("evidence", JSON, nullable=False, default=dict),
    Column("owner", String(100)),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("acknowledged_by", String(100)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("comment", Text, nullable=False, default=""),
    Column("resolved_at", DateTime(timezone=True)),
    Column("notified_at", DateTime(timezone=True)),  # when the owner's digest first named it
    Column("row_version", Integer, nullable=False, default=1),
    UniqueConstraint("plan_id", "rule", "subject", name="uq_signal_plan_rule_subject"),
)
Index("ix_signal_org_state", signal.c.organisation, signal.c.state)

# The texts of a report (opvolgingsrapportering, college report): one row per section, drafted,
# submitted and approved like a status update; the audit log keeps every earlier text.
report_section = Table(
    "report_section", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False),
    Column("report", String(20), nullable=False),  # opvolging, college
    Column("period", String(20), nullable=False),  # the year (opvolging) or reporting period code
    Column("code", String(40), nullable=False),  # assumptions, risks, or an organisation's own
    Column("title_nl", String(300), nullable=False),
    Column("title_en", String(300), nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("body", Text, nullable=False, default=""),
    Column("state", String(10), nullable=False, default="draft"),  # obmi.plans.model.UpdateState
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(100)),
    Column("decision_comment", Text, nullable=False, default=""),
    Column("row_version", Integer, nullable=False, default=1),
    UniqueConstraint("plan_id", "report", "period", "code", name="uq_report_section_key"),
)

# Which data version changed what (kept small: one row per version and scope key), so that an
# incremental export (the warehouse) rewrites only what changed since its last run.
data_change = Table(
    "data_change", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", BigInteger, nullable=False),
    Column("scope", String(20), nullable=False),  # indicator, catalogue, geography, all, other
    Column("key", String(80), nullable=False, default=""),  # the indicator code for scope indicator
)
Index("ix_data_change_version", data_change.c.version)

# Order in which tables can be filled without breaking foreign keys (used by backup/restore).
TABLE_ORDER = (area_level, area, area_geometry, area_link, organisation, indicator, import_run, rejected_row,
               observation, user_account, user_role, user_group, api_token, one_time_link, budget_entity, plan,
               plan_version, plan_item, plan_item_version, plan_amount, plan_config, reporting_period, status_update,
               attachment, kpi, kpi_measurement, milestone, reminder_sent, budget_line, plan_balance_input,
               signal_rule, signal, report_section, audit_event)
# Not in backups: the data state is this database's own (restore advances it), sessions and
# sign-in attempts belong to the running installation (a restore signs everyone out).
LOCAL_TABLES = (data_state, data_change, user_session, login_attempt)
