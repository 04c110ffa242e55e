"""The geography as a graph in memory: which areas make up which, per level, in derivation order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from obmi.store.tables import area, area_level, area_link, import_run


@dataclass
class Geography:
    level_of: dict[int, str] = field(default_factory=dict)
    code_of: dict[int, str] = field(default_factory=dict)
    unknown: set[int] = field(default_factory=set)
    sort_order: dict[str, int] = field(default_factory=dict)
    # parent level → parent id → child level → child ids
    children: dict[str, dict[int, dict[str, list[int]]]] = field(default_factory=dict)
    # new-version level → new area id → old-version area ids it is made of
    parts: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    up: dict[str, set[str]] = field(default_factory=dict)  # level → levels derived from it
    order: list[str] = field(default_factory=list)  # levels, every one after those it is made of

    def levels_above(self, levels: set[str]) -> list[str]:
        """Levels that can be derived from data on `levels`, in derivation order."""
        reach, todo = set(), list(levels)
        while todo:
            for nxt in self.up.get(todo.pop(), ()):
                if nxt not in reach:
                    reach.add(nxt)
                    todo.append(nxt)
        return [lvl for lvl in self.order if lvl in reach]


def _topological(levels: dict[str, int], edges: dict[str, set[str]]) -> list[str]:
    indegree = {lvl: 0 for lvl in levels}
    for targets in edges.values():
        for t in targets:
            indegree[t] = indegree.get(t, 0) + 1
    ready = sorted((lvl for lvl, d in indegree.items() if d == 0), key=lambda lvl: levels.get(lvl, 0))
    order = []
    while ready:
        lvl = ready.pop(0)
        order.append(lvl)
        for t in sorted(edges.get(lvl, ()), key=lambda other: levels.get(other, 0)):
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return order  # levels on a cycle (a broken geography) are left out: nothing derives to them


def _level_graph(conn: Connection) -> dict[str, set[str]]:
    child, parent = area.alias("c"), area.alias("p")
    rows = conn.execute(select(child.c.level, parent.c.level.label("parent_level")).distinct()
                        .select_from(area_link.join(child, child.c.id == area_link.c.child_id)
                                     .join(parent, parent.c.id == area_link.c.parent_id)))
    up: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        up[r.level].add(r.parent_level)
    return dict(up)


def load_geography(conn: Connection, data_levels: set[str] | None = None) -> Geography:
    """The geography needed to derive from `data_levels` (all of it when None): a population
    import on municipalities need not load 30,000 statistical sectors."""
    geo = Geography()
    geo.sort_order = {r.code: r.sort_order for r in conn.execute(select(area_level.c.code, area_level.c.sort_order))}
    geo.up = _level_graph(conn)
    geo.order = _topological(geo.sort_order, geo.up)
    levels = set(geo.sort_order) if data_levels is None else set(data_levels) | set(geo.levels_above(data_levels))
    for r in conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.is_unknown)
                          .where(area.c.level.in_(sorted(levels)))):
        geo.level_of[r.id] = r.level
        geo.code_of[r.id] = r.code
        if r.is_unknown:
            geo.unknown.add(r.id)
    children: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    parts: dict = defaultdict(lambda: defaultdict(list))
    child, parent = area.alias("c"), area.alias("p")
    links = (select(area_link.c.child_id, area_link.c.parent_id, area_link.c.relation)
             .join(child, child.c.id == area_link.c.child_id).join(parent, parent.c.id == area_link.c.parent_id)
             .where(child.c.level.in_(sorted(levels)), parent.c.level.in_(sorted(levels))))
    for link in conn.execute(links):
        parent_level = geo.level_of[link.parent_id]
        if link.relation == "version":
            parts[parent_level][link.parent_id].append(link.child_id)
        else:
            children[parent_level][link.parent_id][geo.level_of[link.child_id]].append(link.child_id)
    geo.children = {k: {p: dict(c) for p, c in v.items()} for k, v in children.items()}
    geo.parts = {k: dict(v) for k, v in parts.items()}
    return geo


_cache: dict[tuple, tuple[tuple, Geography]] = {}


def cached_geography(conn: Connection, data_levels: set[str]) -> Geography:
    """The geography changes only through geo imports: reuse it while nothing changed."""
    fingerprint = (
        tuple(conn.execute(select(func.count(), func.max(area.c.id)).select_from(area)).one()),
        conn.execute(select(func.count()).select_from(area_link)).scalar_one(),
        conn.execute(select(func.max(import_run.c.id)).where(import_run.c.kind == "geo")).scalar_one(),
    )
    key = (str(conn.engine.url), frozenset(data_levels))
    hit = _cache.get(key)
    if hit and hit[0] == fingerprint:
        return hit[1]
    geo = load_geography(conn, data_levels)
    _cache[key] = (fingerprint, geo)
    return geo
