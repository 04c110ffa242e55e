"""Derivation: re-express data on newer geography versions, aggregate up the hierarchy, and
compute ratio and formula indicators — in dependency order, for the periods a change touched.

Only `origin='source'` rows are delivered; everything else is recomputed here and synced
(insert/update/delete only what differs), so re-running changes nothing. The write pipeline
(obmi.operations.pipeline) calls this after every change of data, definitions or geography.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from obmi.geo.graph import Geography, cached_geography
from obmi.indicators.aggregation import combine, combined_status
from obmi.indicators.catalogue import Indicator, dependants, dependency_order, load_catalogue
from obmi.indicators.formula import parse_formula
from obmi.indicators.observation import Observation, Origin, same_values
from obmi.store import observations as obs_store
from obmi.store.tables import area, observation

Key = tuple[str, int, str]  # (indicator, area id, period)


@dataclass
class DeriveCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    # indicator → periods recomputed (what disclosure control must decide again)
    scope: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted

    def add(self, other: DeriveCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        for code, periods in other.scope.items():
            self.scope[code] |= periods


def derive_from_parts(ind: Indicator, source: dict[int, Observation], geo: Geography,
                      weights: dict[int, Observation] | None, period: str) -> dict[int, Observation]:
    """{area id: observation} for every area that can be computed from the source areas."""
    values: dict[int, Observation] = dict(source)
    derived: dict[int, Observation] = {}

    def weight_of(area_id: int) -> float | None:
        w = (weights or {}).get(area_id)
        return w.value if w is not None and w.usable else None

    data_levels = {geo.level_of[a] for a in source}
    for level in geo.levels_above(data_levels):
        for new_id, old_ids in geo.parts.get(level, {}).items():
            if new_id not in values and all(a in values for a in old_ids):
                result = combine(ind, [(a, values[a]) for a in old_ids], weight_of, indicator=ind.code,
                                 area_id=new_id, period=period, origin=Origin.REEXPRESSED)
                if result is not None:
                    values[new_id] = derived[new_id] = result
        for parent_id, by_level in geo.children.get(level, {}).items():
            if parent_id in values:
                continue
            parts = _complete_children(by_level, values, geo)
            if parts is None:
                continue
            result = combine(ind, [(k, values[k]) for k in parts], weight_of, indicator=ind.code,
                             area_id=parent_id, period=period, origin=Origin.AGGREGATED)
            if result is not None:
                values[parent_id] = derived[parent_id] = result
    return derived


def _complete_children(by_level: dict[str, list[int]], values: dict[int, Observation],
                       geo: Geography) -> list[int] | None:
    """The children to sum, from the finest child level that has data; None unless every known
    child has a value (a partial sum would be a wrong total). 'Unknown location' children count
    when present."""
    with_data = [lvl for lvl, kids in by_level.items() if any(k in values for k in kids)]
    if not with_data:
        return None
    kids = by_level[min(with_data, key=lambda lvl: geo.sort_order.get(lvl, 0))]
    known = [k for k in kids if k not in geo.unknown]
    if not known or any(k not in values for k in known):
        return None
    return [k for k in kids if k in values]


def compute_from_inputs(ind: Indicator, inputs: dict[str, dict[int, Observation]],
                        period: str) -> dict[int, Observation]:
    """Ratio-of-indicators and formula indicators, for every area where all inputs have a value."""
    codes = sorted(inputs)
    areas = set.intersection(*(set(inputs[c]) for c in codes)) if codes else set()
    formula = parse_formula(ind.formula) if ind.formula else None
    result = {}
    for area_id in areas:
        parts = [inputs[c][area_id] for c in codes]
        if not all(p.usable for p in parts):
            continue
        numerator = denominator = None
        if formula is not None:
            value = formula.evaluate({c: inputs[c][area_id].value for c in codes})
        else:
            numerator = inputs[ind.numerator][area_id].value  # type: ignore[index]
            denominator = inputs[ind.denominator][area_id].value  # type: ignore[index]
            value = numerator / denominator * ind.scale if denominator else None  # type: ignore[operator]
        if value is not None:
            result[area_id] = Observation(ind.code, area_id, period, value, combined_status(parts),
                                          numerator, denominator, origin=Origin.DERIVED)
    return result


def derive(conn: Connection, touched: set[str], periods: set[str], import_id: int | None) -> DeriveCounts:
    """Recompute everything that depends on `touched` indicators in `periods`."""
    catalogue = load_catalogue(conn)
    affected = dependants(catalogue, touched & set(catalogue))
    order = [c for c in dependency_order(catalogue) if c in affected]
    needed = affected | {ref for c in affected for ref in catalogue[c].inputs()}
    existing = obs_store.fetch(conn, needed, periods)
    geo = cached_geography(conn, _data_levels(conn, affected, periods))
    by_key: dict[tuple[str, str], dict[int, Observation]] = defaultdict(dict)  # current values, all origins
    for obs in existing.values():
        by_key[(obs.indicator, obs.period)][obs.area_id] = obs
    wanted: dict[Key, Observation] = {}
    for period in sorted(periods):
        for code in order:
            ind = catalogue[code]
            source = {a: o for a, o in by_key[(code, period)].items() if o.origin == Origin.SOURCE}
            if ind.is_derived:
                computed = compute_from_inputs(ind, {ref: by_key[(ref, period)] for ref in ind.inputs()}, period)
            else:
                weights = by_key[(ind.weight, period)] if ind.weight else None
                computed = derive_from_parts(ind, source, geo, weights, period)
            computed = {a: o for a, o in computed.items() if a not in source}  # delivered data wins
            by_key[(code, period)] = {**source, **computed}
            for area_id, obs in computed.items():
                wanted[(code, area_id, period)] = obs
    counts = _sync(conn, existing, wanted, affected, import_id)
    for code in affected:
        counts.scope[code] |= periods
    return counts


def _data_levels(conn: Connection, indicators: set[str], periods: set[str]) -> set[str]:
    o = observation.c
    rows = conn.execute(select(area.c.level).distinct().join(observation, o.area_id == area.c.id)
                        .where(o.indicator.in_(sorted(indicators)), o.period.in_(sorted(periods)),
                               o.origin == Origin.SOURCE))
    return {r.level for r in rows}


def _sync(conn: Connection, existing: dict[Key, Observation], wanted: dict[Key, Observation],
          affected: set[str], import_id: int | None) -> DeriveCounts:
    counts = DeriveCounts()
    inserts: list[Observation] = []
    updates: list[Observation] = []
    deletes: list[int | None] = []
    for key, stored in existing.items():
        if key[0] in affected and stored.origin != Origin.SOURCE and key not in wanted:
            deletes.append(stored.id)
    for key, obs in wanted.items():
        old = existing.get(key)
        if old is not None and old.origin == obs.origin and same_values(old, obs):
            counts.unchanged += 1
            continue
        row = obs._replace(import_id=import_id)
        if old is None:
            inserts.append(row)
        else:
            updates.append(row._replace(id=old.id))
    obs_store.write(conn, inserts=inserts, updates=updates, deletes=[d for d in deletes if d is not None])
    counts.inserted, counts.updated, counts.deleted = len(inserts), len(updates), len(deletes)
    return counts


def periods_with_data(conn: Connection, indicators: set[str]) -> set[str]:
    """Periods in which any of `indicators` has a stored value (for re-deriving a definition)."""
    rows = conn.execute(select(observation.c.period).distinct().where(observation.c.indicator.in_(sorted(indicators))))
    return {r.period for r in rows}


def derive_everything(conn: Connection, import_id: int | None) -> DeriveCounts:
    """Recompute all derived values, e.g. after the geography changed (a new level, a new
    version mapping): every indicator, every period that has delivered data."""
    rows = conn.execute(select(observation.c.indicator, observation.c.period).distinct()
                        .where(observation.c.origin == Origin.SOURCE))
    by_period: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_period[r.period].add(r.indicator)
    total = DeriveCounts()
    for period, indicators in sorted(by_period.items()):
        total.add(derive(conn, indicators, {period}, import_id))
    return total
