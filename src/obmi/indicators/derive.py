"""Derivation: re-express data on newer geography versions, aggregate up the hierarchy, and
compute ratio and formula indicators — in dependency order, for the periods a change touched.

Only `origin='source'` rows are delivered; everything else is recomputed here and synced
(insert/update/delete only what differs), so re-running changes nothing. The write pipeline
(obmi.operations.pipeline) calls this after every change of data, definitions or geography.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from sqlalchemy import Connection, select

from obmi.geo.graph import Geography, cached_geography
from obmi.indicators.aggregation import combine, combined_status
from obmi.indicators.catalogue import Indicator, dependants, dependency_order, load_catalogue
from obmi.indicators.formula import Reference, parse_formula, shift_period
from obmi.indicators.observation import Observation, Origin, Status, same_values
from obmi.indicators.periods import sort_periods
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
    shared: dict[int, Observation] = {}  # new area id → the value of the group of split areas it is in
    groups: dict[int, frozenset[int]] = {}

    def weight_of(area_id: int) -> float | None:
        w = (weights or {}).get(area_id)
        return w.value if w is not None and w.usable else None

    data_levels = {geo.level_of[a] for a in source}
    for level in geo.levels_above(data_levels):
        mapping = geo.parts.get(level, {})
        for members, old_ids in split_groups(mapping).items():
            if not all(a in values for a in old_ids) or any(m in values for m in members):
                continue
            result = combine(ind, [(a, values[a]) for a in old_ids], weight_of, indicator=ind.code,
                             area_id=min(members), period=period, origin=Origin.REEXPRESSED)
            if result is None:
                continue
            if len(members) == 1:
                values[result.area_id] = derived[result.area_id] = result
            else:  # an old area split over several new ones: known only as their sum
                for member in members:
                    shared[member], groups[member] = result, members
        if mapping and level not in data_levels and any(o in values for olds in mapping.values() for o in olds):
            _no_predecessor(ind, level, mapping, geo, values, derived, period)
        for parent_id, by_level in geo.children.get(level, {}).items():
            if parent_id in values:
                continue
            parts = _complete_children(by_level, values, geo, groups)
            if parts is None:
                continue
            observed = [(k, values[k]) for k in parts if k in values]
            observed += [(min(g), shared[min(g)]) for g in {groups[k] for k in parts if k not in values}]
            result = combine(ind, observed, weight_of, indicator=ind.code,
                             area_id=parent_id, period=period, origin=Origin.AGGREGATED)
            if result is not None:
                values[parent_id] = derived[parent_id] = result
    return derived


def split_groups(mapping: Mapping[int, list[int]]) -> dict[frozenset[int], list[int]]:
    """The new areas of a version mapping grouped so that no old area is split between groups:
    {new area ids: old area ids}. A new area made of whole old areas is a group of its own; an old
    area mapped to several new ones puts them in one group, whose value is only known as a whole."""
    owner: dict[int, int] = {}  # old area → the first new area it maps to
    parent: dict[int, int] = {new: new for new in mapping}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for new, olds in mapping.items():
        for old in olds:
            if old in owner:
                parent[root(new)] = root(owner[old])
            else:
                owner[old] = new
    members: dict[int, set[int]] = defaultdict(set)
    for new in mapping:
        members[root(new)].add(new)
    return {frozenset(m): sorted({o for n in m for o in mapping[n]}) for m in members.values()}


def _no_predecessor(ind: Indicator, level: str, mapping: Mapping[int, list[int]], geo: Geography,
                    values: dict[int, Observation], derived: dict[int, Observation], period: str) -> None:
    """An area of a new division that no old area maps to (a sector new in 2024) holds nothing
    of data delivered on the old division: empty, so the totals above it can still be made."""
    for area_id, area_level in geo.level_of.items():
        if area_level == level and area_id not in mapping and area_id not in values:
            values[area_id] = derived[area_id] = Observation(ind.code, area_id, period, None, Status.EMPTY,
                                                             origin=Origin.REEXPRESSED)


def _complete_children(by_level: dict[str, list[int]], values: dict[int, Observation],
                       geo: Geography, groups: Mapping[int, frozenset[int]] | None = None) -> list[int] | None:
    """The children to sum, from the finest child level that has data; None unless every known
    child has a value (a partial sum would be a wrong total). 'Unknown location' children count
    when present. A child known only through the group of split areas it is in counts when its
    whole group lies among these children."""
    groups = groups or {}
    with_data = [lvl for lvl, kids in by_level.items() if any(k in values or k in groups for k in kids)]
    if not with_data:
        return None
    kids = by_level[min(with_data, key=lambda lvl: geo.sort_order.get(lvl, 0))]
    here = set(kids)
    if any(k not in values and not (k in groups and groups[k] <= here) for k in kids if k not in geo.unknown):
        return None
    # An unknown-location parent (provincie 99991) has only unknown children: their sum is it.
    return [k for k in kids if k in values or (k in groups and groups[k] <= here)]


def compute_from_inputs(ind: Indicator, inputs: Mapping[str | Reference, dict[int, Observation]],
                        period: str) -> dict[int, Observation]:
    """Ratio-of-indicators and formula indicators, for every area where all inputs have a value.
    `inputs` holds the values of each reference: a code (or `(code, 0)`) those of `period`,
    `(code, offset)` those of the offset period (`data_from_period`). A reference without values
    there (a period not loaded) gives no value."""
    refs = {(k, 0) if isinstance(k, str) else k: v for k, v in inputs.items()}
    keys = sorted(refs)
    areas = set.intersection(*(set(refs[k]) for k in keys)) if keys else set()
    formula = parse_formula(ind.formula) if ind.formula else None
    result = {}
    for area_id in areas:
        parts = [refs[k][area_id] for k in keys]
        if not all(p.usable for p in parts):
            continue
        numerator = denominator = None
        if formula is not None:
            value = formula.evaluate({k: refs[k][area_id].value for k in keys})
        else:
            numerator = refs[(ind.numerator, 0)][area_id].value  # type: ignore[index]
            denominator = refs[(ind.denominator, 0)][area_id].value  # type: ignore[index]
            value = numerator / denominator * ind.scale if denominator else None  # type: ignore[operator]
        if value is not None and math.isfinite(value):  # an overflow (1e200 * 1e200) is no value
            result[area_id] = Observation(ind.code, area_id, period, value, combined_status(parts),
                                          numerator, denominator, origin=Origin.DERIVED)
    return result


def periods_to_compute(catalogue: Mapping[str, Indicator], order: list[str], touched: set[str],
                       periods: set[str]) -> dict[str, set[str]]:
    """The periods in which each indicator of `order` must be recomputed: `periods`, and for an
    indicator using another period's value (`data_from_period(x, "-1")`) also the periods that
    value feeds (x changed in 2020: the two-year average changes in 2020 and 2021), transitively.
    An indicator whose definition changed (`touched`) is recomputed wherever its inputs' periods
    reach."""
    out: dict[str, set[str]] = {}
    for code in order:
        todo = set(periods)
        for ref, offset in catalogue[code].references():
            base = out[ref] if ref in out else (periods if code in touched else set())
            if offset:
                todo |= {q for p in base if (q := shift_period(p, -offset)) is not None}
            else:
                todo |= base
        out[code] = todo
    return out


def derive(conn: Connection, touched: set[str], periods: set[str], import_id: int | None) -> DeriveCounts:
    """Recompute everything that depends on `touched` indicators in `periods` (and in the periods
    that formulas with `data_from_period` reach from them)."""
    catalogue = load_catalogue(conn)
    affected = dependants(catalogue, touched & set(catalogue))
    order = [c for c in dependency_order(catalogue) if c in affected]
    scope = periods_to_compute(catalogue, order, touched, periods)
    refs = {c: catalogue[c].references() for c in order}
    computed_periods = set(periods).union(*scope.values())
    read_periods = computed_periods | {q for c in order for p in scope[c] for _, off in refs[c]
                                       if off and (q := shift_period(p, off)) is not None}
    needed = affected | {ref for c in affected for ref in catalogue[c].inputs()}
    existing = obs_store.fetch(conn, needed, read_periods)
    geo = cached_geography(conn, _data_levels(conn, affected, computed_periods))
    by_key: dict[tuple[str, str], dict[int, Observation]] = defaultdict(dict)  # current values, all origins
    for obs in existing.values():
        by_key[(obs.indicator, obs.period)][obs.area_id] = obs
    wanted: dict[Key, Observation] = {}
    # Indicator by indicator in dependency order, each in all its periods: an input is complete
    # in every period (also those a data_from_period reaches) before anything uses it.
    for code in order:
        ind = catalogue[code]
        for period in sort_periods(scope[code]):
            source = {a: o for a, o in by_key[(code, period)].items() if o.origin == Origin.SOURCE}
            if ind.is_derived:
                inputs: dict[str | Reference, dict[int, Observation]] = {}
                for ref, off in refs[code]:
                    at = shift_period(period, off)
                    inputs[(ref, off)] = by_key[(ref, at)] if at is not None else {}
                computed = compute_from_inputs(ind, inputs, period)
            else:
                weights = by_key[(ind.weight, period)] if ind.weight else None
                computed = derive_from_parts(ind, source, geo, weights, period)
            computed = {a: o for a, o in computed.items() if a not in source}  # delivered data wins
            by_key[(code, period)] = {**source, **computed}
            for area_id, obs in computed.items():
                wanted[(code, area_id, period)] = obs
    counts = _sync(conn, existing, wanted, scope, import_id)
    for code in affected:
        counts.scope[code] |= scope[code]
    return counts


def _data_levels(conn: Connection, indicators: set[str], periods: set[str]) -> set[str]:
    o = observation.c
    rows = conn.execute(select(area.c.level).distinct().join(observation, o.area_id == area.c.id)
                        .where(o.indicator.in_(sorted(indicators)), o.period.in_(sorted(periods)),
                               o.origin == Origin.SOURCE))
    return {r.level for r in rows}


def _sync(conn: Connection, existing: dict[Key, Observation], wanted: dict[Key, Observation],
          scope: Mapping[str, set[str]], import_id: int | None) -> DeriveCounts:
    """Write what differs; delete computed values no longer computed — only of the indicators and
    periods recomputed (`scope`): other periods were read as inputs, not recomputed."""
    counts = DeriveCounts()
    inserts: list[Observation] = []
    updates: list[Observation] = []
    deletes: list[int | None] = []
    for key, stored in existing.items():
        if key[2] in scope.get(key[0], ()) and stored.origin != Origin.SOURCE and key not in wanted:
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
