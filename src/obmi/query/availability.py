"""What data exists: periods and levels per indicator, last update, search."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from obmi.indicators.catalogue import Indicator
from obmi.indicators.periods import sort_periods
from obmi.query.area_names import NamedArea, candidates, match_areas, normalise, words_of
from obmi.query.visibility import CatalogueView
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
    """When the delivered data of an indicator last changed (an import that wrote it), in UTC."""
    return as_utc(conn.execute(select(func.max(import_run.c.finished))
                               .where(import_run.c.id.in_(select(observation.c.import_id).distinct()
                                                          .where(observation.c.indicator == code)))).scalar())


SEARCH_LIMIT = 20


def _indicator_texts(ind: Indicator) -> tuple[str, str, str]:
    """What an indicator is found by, best first: code and names; themes; definitions."""
    return (" ".join(normalise(t) for t in (ind.code, ind.name_nl, ind.name_en)),
            " ".join(normalise(t) for t in ind.themes),
            " ".join(normalise(t) for t in (ind.definition_nl, ind.definition_en)))


def _indicators_matching(indicators: Iterable[Indicator], typed: set[str], *, main_only: bool = False) -> list:
    """(rank, indicator) of those in which every typed word occurs (inside a word too: Dutch
    compounds, "inkomen" in "gezinsinkomen"); rank 0 when code and names suffice, 1 with the
    themes, 2 with the definitions (not with `main_only`)."""
    found = []
    for ind in indicators:
        texts = _indicator_texts(ind)[:2 if main_only else 3]
        rank = next((i for i in range(len(texts)) if all(any(t in x for x in texts[:i + 1]) for t in typed)), None)
        if rank is not None:
            found.append((rank, ind))
    return sorted(found, key=lambda x: (x[0], normalise(x[1].name_nl), x[1].code))


def _has_data(conn: Connection, code: str, level: str) -> bool:
    return conn.execute(select(observation.c.area_id).join(area, area.c.id == observation.c.area_id)
                        .where(observation.c.indicator == code, area.c.level == level).limit(1)).first() is not None


def _combinations(conn: Connection, view: CatalogueView, pool: list[NamedArea], text: str) -> list[tuple]:
    """(area match, indicator) where the area's name accounts for some of the typed words and
    the indicator's code, name or themes for all the others ("gent inkomen"), and that indicator
    has data the actor may see at the area's level."""
    typed = set(words_of(text))
    found, checked = [], {}
    for match in match_areas(pool, text, partial=True):
        rest = typed - match.matched
        if not rest or not match.matched:
            continue
        for _, ind in _indicators_matching(view.visible.values(), rest, main_only=True):
            key = (ind.code, match.area.level)
            if key not in checked:
                checked[key] = view.sees_level(ind, match.area.level) and _has_data(conn, *key)
            if checked[key]:
                found.append((match, ind))
    return found


def _indicator_json(ind: Indicator) -> dict:
    return {"code": ind.code, "name_nl": ind.name_nl, "name_en": ind.name_en, "unit": ind.unit}


def area_json(found: NamedArea) -> dict:
    return {"level": found.level, "code": found.code, "name": found.name, "level_name": found.level_name_nl,
            "level_name_en": found.level_name_en, "former": found.former, "former_level": found.former_level,
            "since": found.since}


def search(conn: Connection, text: str, view: CatalogueView, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Indicators (code, names, themes, definitions) and areas (names, everyday names, former
    municipalities) matching every word of `text`, accents and case ignored; and indicator ×
    area pairs that together match every word ("gent inkomen"). Each list holds its best
    `limit`; `counts` says how many there are in all."""
    typed = set(words_of(text))
    if not typed:
        return {"indicators": [], "areas": [], "combinations": [], "limit": limit,
                "counts": {"indicators": 0, "areas": 0, "combinations": 0}}
    indicators = [ind for _, ind in _indicators_matching(view.visible.values(), typed)]
    pool = candidates(conn)
    areas = match_areas(pool, text)
    pairs = _combinations(conn, view, pool, text)
    return {"indicators": [_indicator_json(i) for i in indicators[:limit]],
            "areas": [area_json(m.area) for m in areas[:limit]],
            "combinations": [{"indicator": _indicator_json(ind), "area": area_json(m.area)} for m, ind in pairs[:limit]],
            "counts": {"indicators": len(indicators), "areas": len(areas), "combinations": len(pairs)},
            "limit": limit}


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
