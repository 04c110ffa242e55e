"""Stage validated observation rows and commit them: resolve areas, reject what does not fit,
upsert only what differs (idempotent), and record what changed for the write pipeline (which
then derives and decides disclosure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from obmi.changes import ChangeSet
from obmi.errors import ImportRejected
from obmi.imports.runs import ImportStats
from obmi.indicators.observation import Observation, Origin, same_values
from obmi.store import observations as obs_store
from obmi.store.tables import area

MAX_REJECTED = 10_000  # enough to fix a file; more only slows the report down


@dataclass(slots=True)
class StagedRow:
    """A row read from a file: where it came from and what it says, before its area is known."""
    line: int
    level: str
    code: str
    obs: Observation  # area_id 0 until resolved


def area_ids(conn: Connection, levels: set[str]) -> dict[tuple[str, str], int]:
    rows = conn.execute(select(area.c.id, area.c.level, area.c.code).where(area.c.level.in_(sorted(levels))))
    return {(r.level, r.code): r.id for r in rows}


def resolve(conn: Connection, rows: list[StagedRow], rejected: list[tuple[int, str]]
            ) -> dict[tuple[str, int, str], StagedRow]:
    """{(indicator, area id, period): row}; unknown areas and duplicate keys go to `rejected`."""
    ids = area_ids(conn, {r.level for r in rows})
    keyed: dict[tuple[str, int, str], StagedRow] = {}
    for row in rows:
        area_id = ids.get((row.level, row.code))
        if area_id is None:
            rejected.append((row.line, f"unknown area code {row.code!r} for level {row.level}"))
            continue
        key = (row.obs.indicator, area_id, row.obs.period)
        first = keyed.get(key)
        if first is not None:
            rejected.append((row.line, f"duplicate of line {first.line}: {row.obs.indicator}, "
                                       f"{row.level} {row.code}, {row.obs.period}"))
            continue
        keyed[key] = row
    return keyed


@dataclass(frozen=True)
class ClearScope:
    """Source values an import replaces: those of these indicators (every period and level), or
    of these (indicator, period, level) combinations. A value in scope that the file does not
    hold again is deleted (Swing's "clear" upload options)."""
    indicators: frozenset[str] | set[str] = frozenset()
    combinations: frozenset[tuple[str, str, str]] | set[tuple[str, str, str]] = frozenset()


def commit(conn: Connection, run_id: int, rows: list[StagedRow], stats: ImportStats,
           rejected: list[tuple[int, str]], what: str, changes: ChangeSet) -> None:
    keyed = resolve(conn, rows, rejected)
    if rejected:
        rejected.sort()
        raise ImportRejected(f"{what}: {len(rejected)} rows rejected, nothing imported",
                             rejected[:MAX_REJECTED], rows_in=stats.rows_in)
    write_keyed(conn, run_id, keyed, stats, changes)


def write_keyed(conn: Connection, run_id: int, keyed: dict[tuple[str, int, str], StagedRow], stats: ImportStats,
                changes: ChangeSet, *, clear: ClearScope | None = None) -> None:
    """Upsert what differs (idempotent), delete the cleared source values the file does not
    hold, and tell the write pipeline which indicators and periods changed."""
    stats.rows_ok = len(keyed)
    indicators = {k[0] for k in keyed} | set(clear.indicators if clear else ())
    wide = clear is not None and bool(clear.indicators)
    existing = obs_store.fetch(conn, indicators, None if wide else {k[2] for k in keyed})
    inserts, updates = [], []
    for key, row in keyed.items():
        new = row.obs._replace(area_id=key[1], origin=Origin.SOURCE, import_id=run_id)
        old = existing.get(key)
        if old is not None and old.origin == Origin.SOURCE and same_values(old, new):
            stats.unchanged += 1
            continue
        if old is None:
            inserts.append(new)
        else:
            updates.append(new._replace(id=old.id))
    deletes = _cleared(conn, existing, keyed, clear) if clear else []
    obs_store.write(conn, inserts=inserts, updates=updates, deletes=[o.id for o in deletes if o.id is not None])
    stats.inserted, stats.updated, stats.deleted = len(inserts), len(updates), len(deletes)
    touched: dict[str, set[str]] = defaultdict(set)
    for obs in inserts + updates + deletes:
        touched[obs.indicator].add(obs.period)
    for indicator, periods in touched.items():
        changes.observed(indicator, periods)


def _cleared(conn: Connection, existing: dict[tuple[str, int, str], Observation],
             keyed: dict[tuple[str, int, str], StagedRow], clear: ClearScope) -> list[Observation]:
    """The stored source values in the clear scope that the file does not hold again."""
    candidates = [o for key, o in existing.items() if o.origin == Origin.SOURCE and key not in keyed]
    if not clear.combinations:
        return [o for o in candidates if o.indicator in clear.indicators]
    query = select(area.c.id, area.c.level).where(area.c.level.in_(sorted({c[2] for c in clear.combinations})))
    level_of = {r.id: r.level for r in conn.execute(query)}
    return [o for o in candidates if o.indicator in clear.indicators
            or (o.indicator, o.period, level_of.get(o.area_id, "")) in clear.combinations]
