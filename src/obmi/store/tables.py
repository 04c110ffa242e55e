"""All OBMi tables (SQLAlchemy Core). Migrations in `migrations/` must match this metadata
(a test compares them)."""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer,
                        MetaData, String, Table, Text, UniqueConstraint)

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
    Column("levels", JSON, nullable=False, default=list),
    Column("frequency", String(20), nullable=False, default="year"),
    Column("updated_at", DateTime(timezone=True)),
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
    Column("status", String(16), nullable=False),  # running, ok, failed, dry_run, no_change
    Column("message", Text, nullable=False, default=""),
)

rejected_row = Table(
    "rejected_row", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("import_run.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_rejected_row_import", rejected_row.c.import_id)

# Order in which tables can be filled without breaking foreign keys (used by backup/restore).
TABLE_ORDER = (area_level, area, area_geometry, area_link, indicator, import_run, rejected_row, observation)
