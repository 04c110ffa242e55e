"""Reads of the geography: levels, areas and their GeoJSON (no observations, so no disclosure
control is needed here)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, func, select

from obmi.errors import NotFound, ValidationError
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


def list_levels(conn: Connection) -> list[LevelInfo]:
    counts = dict(conn.execute(select(area.c.level, func.count()).group_by(area.c.level)).all())
    shaped = dict(conn.execute(select(area.c.level, func.count()).join(area_geometry, area_geometry.c.area_id == area.c.id)
                               .group_by(area.c.level)).all())
    rows = conn.execute(select(area_level).order_by(area_level.c.sort_order, area_level.c.code))
    return [LevelInfo(r.code, r.name_nl, r.name_en, r.family, r.is_current, r.valid_from, r.valid_to,
                      r.user_defined, counts.get(r.code, 0), shaped.get(r.code, 0)) for r in rows]


METRES_PER_DEGREE = 111_320  # at the equator; Flanders (51°N) is narrower east-west: good enough to
# pick a tolerance, which is all this is used for.


def _simplified(text: str, tolerance: float | None) -> dict:
    geometry = json.loads(text)
    if not tolerance:
        return geometry
    simple = shape(geometry).simplify(tolerance / METRES_PER_DEGREE, preserve_topology=True)
    return json.loads(shapely.to_geojson(shapely.set_precision(simple, 1e-6)))


def feature_collection(conn: Connection, level: str, *, within: tuple[str, str] | None = None,
                       detail: str = "web", tolerance: float | None = None) -> dict:
    """GeoJSON FeatureCollection (WGS84) of a level's areas; `detail` is `web` (simplified when
    imported) or `full`; `tolerance` (metres) simplifies the full geometry further on request."""
    if detail not in ("web", "full"):
        raise ValidationError("detail must be web or full", {"detail": [f"got {detail!r}"]})
    if tolerance is not None and not 0 <= tolerance <= 10000:
        raise ValidationError("tolerance must be between 0 and 10000 metres", {"tolerance": [str(tolerance)]})
    if tolerance is not None:
        detail = "full"
    if conn.execute(select(area_level.c.code).where(area_level.c.code == level)).first() is None:
        raise NotFound(f"unknown level {level!r}")
    column = area_geometry.c.geometry_web if detail == "web" else area_geometry.c.geometry
    stmt = (select(area.c.code, area.c.name, column.label("geometry"))
            .join(area_geometry, area_geometry.c.area_id == area.c.id)
            .where(area.c.level == level).order_by(area.c.code))
    if within:
        parent = conn.execute(select(area.c.id).where(area.c.level == within[0], area.c.code == within[1])).first()
        if parent is None:
            raise NotFound(f"unknown area {within[1]!r} at level {within[0]!r}")
        stmt = stmt.where(area.c.id.in_(select(area_link.c.child_id).where(
            area_link.c.parent_id == parent.id, area_link.c.relation == "parent")))
    features = [{"type": "Feature", "id": r.code, "properties": {"code": r.code, "name": r.name},
                 "geometry": _simplified(r.geometry, tolerance)} for r in conn.execute(stmt)]
    return {"type": "FeatureCollection", "features": features}
