"""Reading and writing observation rows in bulk (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

from typing import Collection, Iterable

from sqlalchemy import Connection, bindparam, delete, select, update

from obmi.store.tables import observation

VALUE_FIELDS = ("value", "numerator", "denominator", "n", "ci_low", "ci_high", "status")
Key = tuple[str, int, str]  # (indicator, area id, period)


def fetch(conn: Connection, indicators: Collection[str], periods: Collection[str] | None = None,
          area_ids: Collection[int] | None = None) -> dict[Key, dict]:
    o = observation.c
    query = select(observation).where(o.indicator.in_(list(indicators)))
    if periods is not None:
        query = query.where(o.period.in_(list(periods)))
    if area_ids is not None:
        query = query.where(o.area_id.in_(list(area_ids)))
    return {(r.indicator, r.area_id, r.period): dict(r._mapping) for r in conn.execute(query)}


def same_values(a: dict, b: dict) -> bool:
    for f in VALUE_FIELDS:
        x, y = a.get(f), b.get(f)
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) > 1e-9 * max(1.0, abs(x), abs(y)):
                return False
        elif x != y:
            return False
    return True


INSERT_COLUMNS = ["indicator", "area_id", "period", "period_type", *VALUE_FIELDS, "origin", "import_id"]


def _copy_insert(conn: Connection, rows: list[dict]) -> None:
    columns = INSERT_COLUMNS
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY observation ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(c) for c in columns])


def write(conn: Connection, *, inserts: list[dict], updates: list[dict], deletes: Iterable[int]) -> None:
    if inserts:
        if conn.dialect.name == "postgresql":
            _copy_insert(conn, inserts)
        else:  # the driver's executemany with tuples: a third of the cost of SQLAlchemy's path
            placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
            conn.exec_driver_sql(f"INSERT INTO observation ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders})",
                                 [tuple(row.get(c) for c in INSERT_COLUMNS) for row in inserts])
    if updates:
        fields = [*VALUE_FIELDS, "origin", "import_id", "period_type"]
        stmt = (update(observation).where(observation.c.id == bindparam("_id"))
                .values({f: bindparam("b_" + f) for f in fields}))  # b_: names may not clash with columns
        conn.execute(stmt, [{"_id": u["id"], **{"b_" + f: u.get(f) for f in fields}} for u in updates])
    ids = list(deletes)
    for start in range(0, len(ids), 5000):
        conn.execute(delete(observation).where(observation.c.id.in_(ids[start:start + 5000])))
