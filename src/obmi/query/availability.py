"""What data exists: periods and levels per indicator, last update, search."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from obmi.indicators.periods import sort_periods
from obmi.store.tables import area, area_level, import_run, indicator, observation
from obmi.timeutil import as_utc


def periods_of(conn: Connection, code: str, level: str) -> list[str]:
    rows = conn.execute(select(observation.c.period).distinct().join(area, area.c.id == observation.c.area_id)
                        .where(observation.c.indicator == code, area.c.level == level))
    return sort_periods(r.period for r in rows)


def indicators_of_area(conn: Connection, area_id: int) -> set[str]:
    """Indicators with any stored value for one area (an index-only scan of ix_observation_area)."""
    rows = conn.execute(select(observation.c.indicator).distinct().where(observation.c.area_id == area_id))
    return {r.indicator for r in rows}


def levels_of(conn: Connection, code: str) -> list[str]:
    rows = conn.execute(select(area.c.level, area_level.c.sort_order).distinct()
                        .join(observation, observation.c.area_id == area.c.id)
                        .join(area_level, area_level.c.code == area.c.level)
                        .where(observation.c.indicator == code).order_by(area_level.c.sort_order))
    return [r.level for r in rows]


def last_update(conn: Connection, code: str):
    """When the delivered data of an indicator last changed (an import that wrote it)."""
    return conn.execute(select(func.max(import_run.c.finished))
                        .where(import_run.c.id.in_(select(observation.c.import_id).distinct()
                                                   .where(observation.c.indicator == code)))).scalar()


def search(conn: Connection, text: str, visible: set[str], limit: int = 20) -> dict[str, list[dict]]:
    """Indicators among `visible` (code, names, definitions) and areas (names) containing every word."""
    words = [w for w in text.lower().split() if w][:6]
    if not words:
        return {"indicators": [], "areas": []}
    ind_cols = (indicator.c.code, indicator.c.name_nl, indicator.c.name_en, indicator.c.definition_nl,
                indicator.c.definition_en)
    ind_query = (select(indicator.c.code, indicator.c.name_nl, indicator.c.name_en, indicator.c.unit)
                 .where(indicator.c.code.in_(sorted(visible))))
    area_query = (select(area.c.level, area.c.code, area.c.name, area_level.c.name_nl.label("level_name"))
                  .join(area_level, area_level.c.code == area.c.level)
                  .where(area.c.is_unknown.is_(False), area_level.c.is_current.is_(True)))
    for word in words:
        pattern = f"%{word}%"
        ind_query = ind_query.where(or_(*(func.lower(c).like(pattern) for c in ind_cols)))
        area_query = area_query.where(or_(func.lower(area.c.name).like(pattern), area.c.code == word))
    area_query = area_query.order_by(area_level.c.sort_order.desc(), area.c.name).limit(limit)
    return {"indicators": [dict(r._mapping) for r in conn.execute(ind_query.order_by(indicator.c.code).limit(limit))],
            "areas": [dict(r._mapping) for r in conn.execute(area_query)]}


# --- what the open-data catalogue says of each indicator (obmi.publish.dcat) ------------------

def coverage(conn: Connection, codes: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """Indicator → level → its periods with stored observations, in time order."""
    wanted = sorted(set(codes))
    found: dict[str, dict[str, set[str]]] = {}
    if wanted:
        rows = conn.execute(select(observation.c.indicator, area.c.level, observation.c.period).distinct()
                            .join(area, area.c.id == observation.c.area_id)
                            .where(observation.c.indicator.in_(wanted)))
        for row in rows:
            found.setdefault(row.indicator, {}).setdefault(row.level, set()).add(row.period)
    return {code: {level: sort_periods(periods) for level, periods in levels.items()} for code, levels in found.items()}


def provenance(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Indicator → (first, last) moment its published state was written, from the provenance
    records: the finished imports behind its stored observations, and the last change of its
    definition."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    runs = (select(observation.c.indicator, observation.c.import_id).distinct()
            .where(observation.c.indicator.in_(wanted), observation.c.import_id.is_not(None)).subquery())
    spans = {row.indicator: (as_utc(row.first), as_utc(row.last)) for row in conn.execute(
        select(runs.c.indicator, func.min(import_run.c.finished).label("first"),
               func.max(import_run.c.finished).label("last"))
        .join(import_run, import_run.c.id == runs.c.import_id).group_by(runs.c.indicator))}
    out: dict[str, tuple[datetime | None, datetime | None]] = {}
    for row in conn.execute(select(indicator.c.code, indicator.c.updated_at).where(indicator.c.code.in_(wanted))):
        first, last = spans.get(row.code, (None, None))
        defined = as_utc(row.updated_at)
        out[row.code] = (first or defined, max((t for t in (last, defined) if t is not None), default=None))
    return out


def areas_with_data(conn: Connection, level: str, codes: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Indicator → (code, name) of the areas of `level` with stored observations (not the
    unknown-location codes), by code."""
    wanted = sorted(set(codes))
    found: dict[str, set[tuple[str, str]]] = {}
    if wanted:
        rows = conn.execute(select(observation.c.indicator, area.c.code, area.c.name).distinct()
                            .join(area, area.c.id == observation.c.area_id)
                            .where(observation.c.indicator.in_(wanted), area.c.level == level,
                                   area.c.is_unknown.is_(False)))
        for row in rows:
            found.setdefault(row.indicator, set()).add((row.code, row.name))
    return {code: sorted(areas) for code, areas in found.items()}
