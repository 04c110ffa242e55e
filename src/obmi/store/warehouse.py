"""Bulk reads for the warehouse export (obmi.publish.warehouse): rows straight into Arrow, in
chunks, never one Python object per row of a large table.

PostgreSQL streams `COPY (SELECT …) TO STDOUT (FORMAT csv)` into Arrow's CSV reader (the values
never become Python objects); SQLite fetches chunks of tuples from its cursor and turns each
column into an Arrow array at once. Both run inside the caller's transaction (the operation's
`unit.conn`), so one export reads one state of the database.
"""

from __future__ import annotations

import io
import itertools
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Integer, Select, String, and_, cast, literal, null, select

from obmi.store.tables import (
    area,
    area_level,
    area_link,
    budget_line,
    kpi,
    kpi_measurement,
    observation,
    organisation,
    plan,
    plan_amount,
    plan_item,
    plan_version,
    reporting_period,
    signal,
    status_update,
)

CHUNK_ROWS = 250_000

# The raw columns of an observation as the export reads them (publish applies the rules).
OBSERVATION_SCHEMA = pa.schema([
    ("area_id", pa.int64()), ("period", pa.string()), ("value", pa.float64()), ("numerator", pa.float64()),
    ("denominator", pa.float64()), ("n", pa.float64()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
    ("status", pa.string()), ("origin", pa.string()), ("disclosure", pa.string()),
])


def _sql(conn: Connection, stmt: Select[Any]) -> str:
    return str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


class _CopyStream(io.RawIOBase):
    """A file over the chunks of a psycopg COPY … TO STDOUT, for Arrow's streaming CSV reader."""

    def __init__(self, chunks: Iterator[Any]):
        self._chunks, self._rest = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def stream(conn: Connection, stmt: Select[Any], schema: pa.Schema, *, chunk_rows: int = CHUNK_ROWS
           ) -> Iterator[pa.RecordBatch]:
    """The rows of `stmt` (its columns in the order and names of `schema`) as record batches."""
    if conn.dialect.name == "postgresql":
        yield from _stream_copy(conn, stmt, schema)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_sql(conn, stmt))
        while rows := cursor.fetchmany(chunk_rows):
            columns = list(zip(*rows))
            yield pa.record_batch([_array(col, f.type) for col, f in zip(columns, schema)], schema=schema)
    finally:
        cursor.close()


def _array(values: Any, type_: pa.DataType) -> pa.Array:
    if pa.types.is_boolean(type_):  # SQLite stores booleans as 0 and 1
        return pa.array(values, type=pa.int8()).cast(type_)
    return pa.array(values, type=type_)


def _stream_copy(conn: Connection, stmt: Select[Any], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY ({_sql(conn, stmt)}) TO STDOUT (FORMAT csv)") as copy:
            chunks = iter(copy)
            first = next(chunks, None)
            if first is None:
                return  # no rows (Arrow's reader refuses an empty file)
            reader = pacsv.open_csv(
                io.BufferedReader(_CopyStream(itertools.chain([first], chunks)), buffer_size=1 << 20),
                read_options=pacsv.ReadOptions(column_names=schema.names, block_size=8 << 20),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                # COPY writes NULL as an empty unquoted field and "" as a quoted one.
                convert_options=pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True,
                                                     quoted_strings_can_be_null=False, null_values=[""],
                                                     true_values=["t"], false_values=["f"]))
            for batch in reader:
                if batch.num_rows:
                    yield batch.cast(schema) if batch.schema != schema else batch


def table(conn: Connection, stmt: Select[Any], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_batches(list(stream(conn, stmt, schema)), schema=schema)


# --- statistics ------------------------------------------------------------------------------

def observation_batches(conn: Connection, indicator: str, levels: Iterable[str] | None, *,
                        chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """An indicator's stored observations (raw values, status and disclosure decision), in
    period and area order; `levels` None: every level, else only areas of those levels."""
    o = observation.c
    stmt = select(o.area_id, o.period, o.value, o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.status,
                  o.origin, o.disclosure).where(o.indicator == indicator)
    if levels is not None:
        stmt = stmt.join(area, area.c.id == o.area_id).where(area.c.level.in_(sorted(levels)))
    yield from stream(conn, stmt.order_by(o.period, o.area_id), OBSERVATION_SCHEMA, chunk_rows=chunk_rows)


def observation_periods(conn: Connection, indicators: Iterable[str]) -> set[str]:
    codes = sorted(indicators)
    if not codes:
        return set()
    return {p for (p,) in conn.execute(select(observation.c.period).distinct().where(observation.c.indicator.in_(codes)))}


AREA_SCHEMA = pa.schema([("id", pa.int64()), ("level", pa.string()), ("code", pa.string()), ("name", pa.string()),
                         ("short_name", pa.string()), ("is_unknown", pa.bool_())])


def areas(conn: Connection) -> pa.Table:
    a = area.c
    return table(conn, select(a.id, a.level, a.code, a.name, a.short_name, a.is_unknown).order_by(a.id), AREA_SCHEMA)


def levels(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(area_level).order_by(area_level.c.sort_order,
                                                                      area_level.c.code)).mappings()]


def parent_links(conn: Connection) -> list[tuple[int, int, float]]:
    """(child, parent, weight) of the hierarchy (not of the mappings between versions)."""
    c = area_link.c
    return [tuple(r) for r in conn.execute(select(c.child_id, c.parent_id, c.weight)
                                           .where(c.relation == "parent"))]


def organisations(conn: Connection) -> list[dict[str, Any]]:
    c = organisation.c
    return [dict(r) for r in conn.execute(select(c.id, c.code, c.name, c.kind, c.is_host).order_by(c.id)).mappings()]


# --- plans -----------------------------------------------------------------------------------

def plan_versions(conn: Connection, plan_ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = sorted(plan_ids)
    if not ids:
        return []
    return [dict(r) for r in conn.execute(select(plan_version.c.id, plan_version.c.plan_id, plan_version.c.number)
                                          .where(plan_version.c.plan_id.in_(ids))).mappings()]


def approved_updates(conn: Connection, item_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Every approved status update of the items, with its reporting period."""
    ids = sorted(item_ids)
    if not ids:
        return []
    u, p = status_update.c, reporting_period.c
    query = (select(u.id, u.item_id, u.status, u.progress, u.narrative, u.knelpunten, u.no_change, u.decided_at,
                    u.decided_by, p.code.label("period"), p.start_date, p.end_date, p.deadline)
             .join(reporting_period, p.id == u.period_id)
             .where(u.state == "approved", u.item_id.in_(ids)).order_by(u.item_id, p.start_date))
    return [dict(r) for r in conn.execute(query).mappings()]


def kpis(conn: Connection, item_ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = sorted(item_ids)
    if not ids:
        return []
    k = kpi.c
    query = select(k.id, k.item_id, k.kind, k.name, k.unit, k.indicator, k.area_level, k.area_code, k.direction,
                   k.baseline, k.baseline_period, k.targets, k.tolerance_pct).where(k.item_id.in_(ids)).order_by(k.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def kpi_measurements(conn: Connection, kpi_ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = sorted(kpi_ids)
    if not ids:
        return []
    m = kpi_measurement.c
    query = (select(m.id, m.kpi_id, m.period, m.value, m.step, m.note, m.recorded_at)
             .where(m.kpi_id.in_(ids)).order_by(m.kpi_id, m.period))
    return [dict(r) for r in conn.execute(query).mappings()]


BUDGET_SCHEMA = pa.schema([
    ("line_id", pa.int64()), ("plan_id", pa.int64()), ("budget_entity_id", pa.int64()), ("version_id", pa.int64()),
    ("item_id", pa.int64()), ("item_code", pa.string()), ("kind", pa.string()), ("year", pa.int32()),
    ("quarter", pa.int32()), ("category", pa.string()), ("direction", pa.string()), ("beleidsitem", pa.string()),
    ("account", pa.string()), ("envelope", pa.string()), ("amount", pa.float64()), ("import_id", pa.int64()),
])


def budget_line_batches(conn: Connection, plan_ids: Iterable[int], kinds: Iterable[str], *,
                        chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """The imported finance lines (ramingen, realisaties) of the plans."""
    ids, wanted = sorted(plan_ids), sorted(kinds)
    if not ids or not wanted:
        return
    b = budget_line.c
    stmt = (select(b.id, b.plan_id, b.budget_entity_id, b.version_id, b.item_id, b.item_code, b.kind, b.year,
                   b.quarter, b.category, b.direction, b.beleidsitem, b.account, b.envelope, b.amount, b.import_id)
            .where(b.plan_id.in_(ids), b.kind.in_(wanted)).order_by(b.id))
    yield from stream(conn, stmt, BUDGET_SCHEMA, chunk_rows=chunk_rows)


def plan_amount_batches(conn: Connection, version_ids: Iterable[int], item_ids: Iterable[int] | None = None
                        ) -> Iterator[pa.RecordBatch]:
    """The plan's own planned amounts (plan_amount) in the budget line layout, kind "plan"."""
    ids = sorted(version_ids)
    if not ids:
        return
    a = plan_amount.c
    stmt = (select(a.id, plan_version.c.plan_id, plan.c.budget_entity_id, a.version_id, a.item_id, plan_item.c.code,
                   literal("plan", String), a.year, cast(null(), Integer), cast(null(), String), a.direction,
                   a.beleidsitem, a.account, a.envelope, a.amount, plan_version.c.import_id)
            .join(plan_version, plan_version.c.id == a.version_id).join(plan, plan.c.id == plan_version.c.plan_id)
            .join(plan_item, plan_item.c.id == a.item_id).where(a.version_id.in_(ids)))
    if item_ids is not None:
        stmt = stmt.where(a.item_id.in_(sorted(item_ids)))
    yield from stream(conn, stmt.order_by(a.id), BUDGET_SCHEMA)


def signals(conn: Connection, plan_ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = sorted(plan_ids)
    if not ids:
        return []
    s = signal.c
    query = select(s.id, s.organisation, s.plan_id, s.item_id, s.rule, s.subject, s.state, s.severity, s.message_nl,
                   s.message_en, s.owner, s.first_seen, s.last_seen, s.acknowledged_at, s.resolved_at).where(
        and_(s.plan_id.in_(ids))).order_by(s.id)
    return [dict(r) for r in conn.execute(query).mappings()]
