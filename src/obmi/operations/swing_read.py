"""Reads that the Swing-compatible read API (obmi.web.swing_api) needs beyond the statistics
operations: the areas of one level as a plain list of codes and names. Swing's scripts list a
level's areas (`GeoLevels('gemeente')/GeoItems`) without geometry, which `area_geojson` cannot
give for levels without shapes (statistical sectors of older versions, user-defined levels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from obmi.operations.registry import Unit, operation
from obmi.query import areas as area_query

__all__ = ["AreaItem", "list_areas"]


@dataclass(frozen=True)
class AreaItem:
    code: str
    name: str
    is_unknown: bool  # an unknown-location code (99991, …ZZZZ): counts in totals, is not an area to show


@operation("geography.read")
def list_areas(unit: Unit, level: str, *, codes: Sequence[str] | None = None,
               include_unknown: bool = False) -> list[AreaItem]:
    """The areas of one level by code (optionally only `codes`), without geometry; unknown-location
    codes only when asked for, since they are not areas to show."""
    stmt = area_query.areas_of_level(unit.conn, level, include_unknown=include_unknown)
    if codes is not None:
        stmt = stmt.where(stmt.selected_columns.code.in_(list(codes)))
    return [AreaItem(code, name, bool(is_unknown)) for _, code, name, is_unknown in unit.conn.execute(stmt)]
