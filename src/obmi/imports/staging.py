"""Stage validated observation rows and commit them: resolve areas, reject what does not fit,
upsert only what differs (idempotent), then derive what depends on the changed data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from obmi.errors import ImportRejected
from obmi.imports.runs import ImportStats
from obmi.indicators.derive import derive
from obmi.store import observations as obs_store
from obmi.store.tables import area

MAX_REJECTED = 10_000  # enough to fix a file; more only slows the report down


@dataclass(slots=True)
class StagedRow:
    line: int
    indicator: str
    level: str
    code: str
    period: str
    period_type: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    status: str = "final"


def area_ids(conn: Connection, levels: set[str]) -> dict[tuple[str, str], int]:
    rows = conn.execute(select(area.c.id, area.c.level, area.c.code).where(area.c.level.in_(sorted(levels))))
    return {(r.level, r.code): r.id for r in rows}


def resolve(conn: Connection, rows: list[StagedRow], rejected: list[tuple[int, str]]) -> dict:
    """{(indicator, area id, period): row}; unknown areas and duplicate keys go to `rejected`."""
    ids = area_ids(conn, {r.level for r in rows})
    keyed: dict[tuple[str, int, str], StagedRow] = {}
    for row in rows:
        area_id = ids.get((row.level, row.code))
        if area_id is None:
            rejected.append((row.line, f"unknown area code {row.code!r} for level {row.level}"))
            continue
        key = (row.indicator, area_id, row.period)
        first = keyed.get(key)
        if first is not None:
            rejected.append((row.line, f"duplicate of line {first.line}: {row.indicator}, "
                                       f"{row.level} {row.code}, {row.period}"))
            continue
        keyed[key] = row
    return keyed


def commit(conn: Connection, run_id: int, rows: list[StagedRow], stats: ImportStats,
           rejected: list[tuple[int, str]], what: str) -> None:
    keyed = resolve(conn, rows, rejected)
    if rejected:
        rejected.sort()
        raise ImportRejected(f"{what}: {len(rejected)} rows rejected, nothing imported",
                             rejected[:MAX_REJECTED], rows_in=stats.rows_in)
    stats.rows_ok = len(keyed)
    existing = obs_store.fetch(conn, {k[0] for k in keyed}, {k[2] for k in keyed})
    inserts, updates = [], []
    for key, row in keyed.items():
        new = {"value": row.value, "numerator": row.numerator, "denominator": row.denominator, "n": row.n,
               "ci_low": row.ci_low, "ci_high": row.ci_high, "status": row.status}
        old = existing.get(key)
        if old is not None and old["origin"] == "source" and obs_store.same_values(old, new):
            stats.unchanged += 1
            continue
        full = {"indicator": key[0], "area_id": key[1], "period": key[2], "period_type": row.period_type,
                "origin": "source", "import_id": run_id, **new}
        (inserts if old is None else updates).append(full if old is None else {**full, "id": old["id"]})
    obs_store.write(conn, inserts=inserts, updates=updates, deletes=())
    stats.inserted, stats.updated = len(inserts), len(updates)
    if inserts or updates:
        touched = defaultdict(set)
        for r in inserts + updates:
            touched[r["indicator"]].add(r["period"])
        counts = derive(conn, set(touched), {p for ps in touched.values() for p in ps}, run_id)
        stats.derived = counts.written
