"""Reads of the geography: levels, areas, where an area lies, and GeoJSON. The one place that
answers "which level", "which area" and "which areas lie within" for every caller (pages, API,
fact sheets, PDF reports). No observations, so no disclosure control is needed here."""

from __future__ import annotations

import json
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, Select, and_, func, literal, or_, select

from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import AreaKey
from obmi.store.tables import area, area_geometry, area_level, area_link


@dataclass(frozen=True)
class LevelInfo:
    code: str
    name_nl: str
    name_en: str
    family: str
    is_current: bool
    valid_from: str | None
    valid_to: str | None
    user_defined: bool
    areas: int
    with_geometry: int
    sort_order: int = 0


@dataclass(frozen=True)
class AreaRef:
    id: int
    level: str
    code: str
    name: str
    level_name: str


def list_levels(conn: Connection) -> list[LevelInfo]:
    counts: dict[str, int] = {r[0]: r[1] for r in conn.execute(
        select(area.c.level, func.count()).group_by(area.c.level))}
    shaped: dict[str, int] = {r[0]: r[1] for r in conn.execute(
        select(area.c.level, func.count()).join(area_geometry, area_geometry.c.area_id == area.c.id)
        .group_by(area.c.level))}
    rows = conn.execute(select(area_level).order_by(area_level.c.sort_order, area_level.c.code))
    return [LevelInfo(r.code, r.name_nl, r.name_en, r.family, r.is_current, r.valid_from, r.valid_to,
                      r.user_defined, counts.get(r.code, 0), shaped.get(r.code, 0), r.sort_order) for r in rows]


def level_orders(conn: Connection) -> dict[str, int]:
    """Level → sort order (fine levels small): for "public from level X up"."""
    return {r.code: r.sort_order for r in conn.execute(select(area_level.c.code, area_level.c.sort_order))}


def check_level(conn: Connection, level: str) -> None:
    if conn.execute(select(area_level.c.code).where(area_level.c.code == level)).first() is None:
        known = ", ".join(r.code for r in conn.execute(select(area_level.c.code).order_by(area_level.c.sort_order)))
        raise NotFound(f"unknown level {level!r} (known: {known})")


def find_area(conn: Connection, level: str, code: str) -> AreaRef:
    row = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name, area_level.c.name_nl)
                       .join(area_level, area_level.c.code == area.c.level)
                       .where(area.c.level == level, area.c.code == code)).first()
    if row is None:
        check_level(conn, level)
        raise NotFound(f"unknown area {code!r} at level {level!r}")
    return AreaRef(row.id, row.level, row.code, row.name, row.name_nl)


def _unsplit_old_areas() -> Select:
    """Ids of the old-version areas with one version link: each lies wholly in the new area it
    leads to (gemeente2024 Gent → gemeente Gent; Borsbeek 2024 → Antwerpen 2025). An old area
    split over several new ones lies in none of them."""
    return (select(area_link.c.child_id).where(area_link.c.relation == "version")
            .group_by(area_link.c.child_id).having(func.count() == 1))


def _whole_versions(parent_ids) -> Select:
    """Ids of the old-version areas that lie wholly in one of `parent_ids` (a select)."""
    return select(area_link.c.child_id).where(area_link.c.relation == "version", area_link.c.parent_id.in_(parent_ids),
                                              area_link.c.child_id.in_(_unsplit_old_areas()))


def within_ids(conn: Connection, parent: AreaKey) -> Select:
    """Subquery of the ids of areas lying directly in `parent` (its children at every level),
    also through an old version of it: the wijken on the 2024 sectors lie in today's Gent."""
    ref = find_area(conn, *parent)
    old = _whole_versions(select(literal(ref.id)))
    return select(area_link.c.child_id).where(
        area_link.c.relation == "parent", or_(area_link.c.parent_id == ref.id, area_link.c.parent_id.in_(old)))


REGION_LEVEL = "gewest"


def check_regions(conn: Connection, regions: tuple[str, ...]) -> None:
    """Every code in `regions` is a region (level gewest) of the geography."""
    known = [r.code for r in conn.execute(select(area.c.code).where(area.c.level == REGION_LEVEL,
                                                                    area.c.is_unknown.is_(False))
                                          .order_by(area.c.code))]
    unknown = [code for code in regions if code not in known]
    if unknown:
        raise ValidationError(f"unknown region {', '.join(unknown)} (known: {', '.join(known) or 'none'})",
                              {"region": [f"one or more of {', '.join(known)}"]})


def region_ids(conn: Connection, regions: tuple[str, ...]) -> Select:
    """Subquery of the ids of the regions (gewest codes) and of every area lying in them at any
    depth: down the hierarchy and back through the geography versions (today's Antwerpen leads to
    Borsbeek 2024, which leads to Borsbeek 2018), so that the old levels filter like the new."""
    check_regions(conn, regions)
    seed = select(area.c.id).where(area.c.level == REGION_LEVEL, area.c.code.in_(regions))
    found = seed.cte("in_region", recursive=True)
    step = (select(area_link.c.child_id).join(found, area_link.c.parent_id == found.c.id)
            .where(area_link.c.relation.in_(("parent", "version"))))
    found = found.union(step)
    return select(found.c.id)


def areas_of_level(conn: Connection, level: str, *, within: AreaKey | None = None,
                   include_unknown: bool = True, regions: tuple[str, ...] = ()) -> Select:
    """Select of (id, code, name, is_unknown) of a level's areas, optionally only those within
    an area and/or lying in one of `regions` (gewest codes); ordered by code."""
    check_level(conn, level)
    stmt = (select(area.c.id, area.c.code, area.c.name, area.c.is_unknown)
            .where(area.c.level == level).order_by(area.c.code))
    if within is not None:
        stmt = stmt.where(area.c.id.in_(within_ids(conn, within)))
    if regions:
        stmt = stmt.where(area.c.id.in_(region_ids(conn, regions)))
    if not include_unknown:
        stmt = stmt.where(area.c.is_unknown.is_(False))
    return stmt


@dataclass(frozen=True)
class Merger:
    """An area of a level made of several areas of an older geography version (a municipal
    merger): its figures cover the old areas for every year."""

    code: str
    name: str
    parts: tuple[str, ...]  # names of the old areas, alphabetical
    old_level: str


def mergers(conn: Connection, level: str) -> list[Merger]:
    """The areas of `level` formed from two or more areas of an older version (the 2025 mergers
    for today's municipalities, the 2019 ones for gemeente2024), by name."""
    check_level(conn, level)
    new, old = area.alias("new"), area.alias("old")
    rows = conn.execute(select(new.c.code, new.c.name, old.c.name.label("part"), old.c.level.label("old_level"))
                        .join(area_link, area_link.c.parent_id == new.c.id)
                        .join(old, old.c.id == area_link.c.child_id)
                        .where(new.c.level == level, area_link.c.relation == "version")
                        .order_by(new.c.name, new.c.code, old.c.name)).all()
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.code, []).append(row)
    return [Merger(code, parts[0].name, tuple(p.part for p in parts), parts[0].old_level)
            for code, parts in grouped.items() if len(parts) > 1]


def ancestors(conn: Connection, area_id: int) -> list[AreaRef]:
    """Every area this one lies in (parent links, transitively, and the one version link of an
    old area that lies wholly in a new one), nearest first."""
    found, frontier, seen = [], [area_id], {area_id}
    whole = _unsplit_old_areas()
    while frontier:
        rows = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name, area_level.c.name_nl,
                                   area_level.c.sort_order)
                            .join(area_link, area_link.c.parent_id == area.c.id)
                            .join(area_level, area_level.c.code == area.c.level)
                            .where(area_link.c.child_id.in_(frontier),
                                   or_(area_link.c.relation == "parent",
                                       and_(area_link.c.relation == "version", area_link.c.child_id.in_(whole))))
                            ).all()
        frontier = [r.id for r in rows if r.id not in seen]
        seen.update(frontier)
        found += [(r.sort_order, AreaRef(r.id, r.level, r.code, r.name, r.name_nl)) for r in rows if r.id in frontier]
    return [ref for _, ref in sorted(found, key=lambda x: x[0])]


METRES_PER_DEGREE = 111_320  # at the equator; Flanders (51°N) is narrower east-west: good enough to
# pick a tolerance, which is all this is used for.


def _simplified(text: str, tolerance: float | None) -> dict:
    geometry = json.loads(text)
    if not tolerance:
        return geometry
    simple = shape(geometry).simplify(tolerance / METRES_PER_DEGREE, preserve_topology=True)
    return json.loads(shapely.to_geojson(shapely.set_precision(simple, 1e-6)))


def feature_collection(conn: Connection, level: str, *, within: AreaKey | None = None,
                       detail: str = "web", tolerance: float | None = None, regions: tuple[str, ...] = ()) -> dict:
    """GeoJSON FeatureCollection (WGS84) of a level's areas (optionally only those within an area
    or in `regions`); `detail` is `web` (simplified when imported) or `full`; `tolerance` (metres)
    simplifies the full geometry further on request."""
    if detail not in ("web", "full"):
        raise ValidationError("detail must be web or full", {"detail": [f"got {detail!r}"]})
    if tolerance is not None and not 0 <= tolerance <= 10000:
        raise ValidationError("tolerance must be between 0 and 10000 metres", {"tolerance": [str(tolerance)]})
    if tolerance is not None:
        detail = "full"
    column = area_geometry.c.geometry_web if detail == "web" else area_geometry.c.geometry
    areas = areas_of_level(conn, level, within=within, regions=regions).subquery()
    stmt = (select(areas.c.code, areas.c.name, column.label("geometry"))
            .join(area_geometry, area_geometry.c.area_id == areas.c.id).order_by(areas.c.code))
    features = [{"type": "Feature", "id": r.code, "properties": {"code": r.code, "name": r.name},
                 "geometry": _simplified(r.geometry, tolerance)} for r in conn.execute(stmt)]
    return {"type": "FeatureCollection", "features": features}
