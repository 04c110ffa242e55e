"""Derivation: re-express data on newer geography versions, aggregate up the hierarchy, and
compute ratio and formula indicators — in dependency order, for the periods an import touched.

Only `origin='source'` rows are delivered; everything else is recomputed here and synced
(insert/update/delete only what differs), so re-running changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from functools import lru_cache

from sqlalchemy import Connection, select

from obmi.geo.graph import Geography, cached_geography
from obmi.indicators.aggregation import Obs, combine, combined_status, usable
from obmi.indicators.catalogue import Indicator, dependants, dependency_order, load_catalogue
from obmi.indicators.formula import parse_formula
from obmi.indicators.periods import parse_period
from obmi.store import observations as obs_store
from obmi.store.tables import area, observation


@dataclass
class DeriveCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted


def derive_from_parts(ind: Indicator, source: dict[int, Obs], geo: Geography,
                      weights: dict[int, Obs] | None) -> dict[int, tuple[Obs, str]]:
    """{area id: (obs, origin)} for every area that can be computed from the source areas."""
    values: dict[int, Obs] = dict(source)
    derived: dict[int, tuple[Obs, str]] = {}

    def weight_of(area_id: int) -> float | None:
        w = (weights or {}).get(area_id)
        return w["value"] if usable(w) else None

    data_levels = {geo.level_of[a] for a in source}
    for level in geo.levels_above(data_levels):
        for new_id, old_ids in geo.parts.get(level, {}).items():
            if new_id not in values:
                result = combine(ind, [(a, values.get(a)) for a in old_ids], weight_of)
                if result is not None:
                    values[new_id] = result
                    derived[new_id] = (result, "reexpressed")
        for parent_id, by_level in geo.children.get(level, {}).items():
            if parent_id in values:
                continue
            result = _aggregate(ind, by_level, values, geo, weight_of)
            if result is not None:
                values[parent_id] = result
                derived[parent_id] = (result, "aggregated")
    return derived


def _aggregate(ind, by_level: dict[str, list[int]], values: dict[int, Obs], geo: Geography, weight_of):
    """From the finest child level that has data; only when every known child has a value
    (a partial sum would be a wrong total). 'Unknown location' children count when present."""
    with_data = [lvl for lvl, kids in by_level.items() if any(k in values for k in kids)]
    if not with_data:
        return None
    kids = by_level[min(with_data, key=lambda l: geo.sort_order.get(l, 0))]
    known = [k for k in kids if k not in geo.unknown]
    if not known or any(k not in values for k in known):
        return None
    return combine(ind, [(k, values[k]) for k in kids if k in values], weight_of)


def compute_from_inputs(ind: Indicator, inputs: dict[str, dict[int, Obs]]) -> dict[int, Obs]:
    """Ratio-of-indicators and formula indicators, for every area where all inputs have a value."""
    codes = sorted(inputs)
    areas = set.intersection(*(set(inputs[c]) for c in codes)) if codes else set()
    formula = parse_formula(ind.formula) if ind.formula else None
    result = {}
    for area_id in areas:
        parts = [inputs[c][area_id] for c in codes]
        if not all(usable(p) for p in parts):
            continue
        row: Obs = {"status": combined_status(parts), "numerator": None, "denominator": None,
                    "n": None, "ci_low": None, "ci_high": None}
        if formula is not None:
            value = formula.evaluate({c: inputs[c][area_id]["value"] for c in codes})
        else:
            num, den = inputs[ind.numerator][area_id]["value"], inputs[ind.denominator][area_id]["value"]
            value = num / den * ind.scale if den else None
            row.update(numerator=num, denominator=den)
        if value is not None:
            row["value"] = value
            result[area_id] = row
    return result


def derive(conn: Connection, touched: set[str], periods: set[str], import_id: int | None) -> DeriveCounts:
    """Recompute everything that depends on `touched` indicators in `periods`."""
    catalogue = load_catalogue(conn)
    affected = dependants(catalogue, touched)
    order = [c for c in dependency_order(catalogue) if c in affected]
    needed = affected | {ref for c in affected for ref in catalogue[c].inputs()}
    existing = obs_store.fetch(conn, needed, periods)
    geo = cached_geography(conn, _data_levels(conn, affected, periods))
    by_key: dict[tuple[str, str], dict[int, Obs]] = defaultdict(dict)  # current values, all origins
    for (code, area_id, period), row in existing.items():
        by_key[(code, period)][area_id] = row
    wanted: dict[tuple[str, int, str], tuple[Obs, str]] = {}
    for period in sorted(periods):
        for code in order:
            ind = catalogue[code]
            current = by_key[(code, period)]
            source = {a: o for a, o in current.items() if o["origin"] == "source"}
            if ind.is_derived:
                computed = {a: (o, "derived") for a, o in compute_from_inputs(
                    ind, {ref: by_key[(ref, period)] for ref in ind.inputs()}).items()}
            else:
                weights = by_key[(ind.weight, period)] if ind.weight else None
                computed = derive_from_parts(ind, source, geo, weights)
            computed = {a: v for a, v in computed.items() if a not in source}  # delivered data wins
            by_key[(code, period)] = {**source, **{a: o for a, (o, _) in computed.items()}}
            for area_id, value in computed.items():
                wanted[(code, area_id, period)] = value
    return _sync(conn, existing, wanted, affected, import_id, geo)


def _data_levels(conn: Connection, indicators: set[str], periods: set[str]) -> set[str]:
    o = observation.c
    rows = conn.execute(select(area.c.level).distinct().join(observation, o.area_id == area.c.id)
                        .where(o.indicator.in_(sorted(indicators)), o.period.in_(sorted(periods)),
                               o.origin == "source"))
    return {r.level for r in rows}


def _sync(conn, existing, wanted, affected, import_id, geo) -> DeriveCounts:
    counts = DeriveCounts()
    inserts, updates, deletes = [], [], []
    for key, row in existing.items():
        if key[0] in affected and row["origin"] != "source" and key not in wanted:
            deletes.append(row["id"])
    for key, (obs, origin) in wanted.items():
        old = existing.get(key)
        new = {**obs, "origin": origin}
        if old is not None and obs_store.same_values(old, new) and old["origin"] == origin:
            counts.unchanged += 1
            continue
        row = {"indicator": key[0], "area_id": key[1], "period": key[2],
               "period_type": _period_type(key[2]), "import_id": import_id, **new}
        if old is None:
            inserts.append(row)
        else:
            updates.append({**row, "id": old["id"]})
    obs_store.write(conn, inserts=inserts, updates=updates, deletes=deletes)
    counts.inserted, counts.updated, counts.deleted = len(inserts), len(updates), len(deletes)
    return counts


@lru_cache(maxsize=4096)
def _period_type(period: str) -> str:
    return parse_period(period)[1]


def derive_everything(conn: Connection, import_id: int | None) -> DeriveCounts:
    """Recompute all derived values, e.g. after the geography changed (a new level, a new
    version mapping): every indicator, every period that has delivered data."""
    rows = conn.execute(select(observation.c.indicator, observation.c.period).distinct()
                        .where(observation.c.origin == "source"))
    by_period: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_period[r.period].add(r.indicator)
    total = DeriveCounts()
    for period, indicators in sorted(by_period.items()):
        counts = derive(conn, indicators, {period}, import_id)
        total.inserted += counts.inserted
        total.updated += counts.updated
        total.deleted += counts.deleted
        total.unchanged += counts.unchanged
    return total
