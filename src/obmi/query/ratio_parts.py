"""When a ratio's numerator and denominator may leave with it.

A ratio cell is published by its own disclosure decision, but its stored numerator and
denominator are the values of two other indicators (a share of non-Belgians: the number of
non-Belgians over the population). Those carry their own decisions and access rules: the number of
non-Belgians of a small municipality may be withheld, or the numerator may be an indicator only an
organisation's analysts see. So a ratio row shows its parts only where the caller sees both part
indicators at that level and both publish a number for that area and period. One rule, for every
channel that carries the parts (the JSON API, downloads, the warehouse)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import VALUE_STATUSES
from obmi.query.visibility import CatalogueView
from obmi.store.tables import area, observation

Cell = tuple[int, str]  # (area id, period)


def has_parts(ind: Indicator) -> bool:
    return ind.aggregation == "ratio" and bool(ind.numerator) and bool(ind.denominator)


def _published_cells(conn: Connection, code: str, levels: list[str], area_ids: Iterable[int] | None,
                     periods: Iterable[str] | None) -> set[Cell]:
    o = observation.c
    stmt = (select(o.area_id, o.period).join(area, area.c.id == o.area_id)
            .where(o.indicator == code, area.c.level.in_(levels), o.disclosure.is_(None), o.value.is_not(None),
                   o.status.in_([str(s) for s in VALUE_STATUSES])))
    if area_ids is not None:
        stmt = stmt.where(o.area_id.in_(sorted(set(area_ids))))
    if periods is not None:
        stmt = stmt.where(o.period.in_(sorted(set(periods))))
    return {(a, p) for a, p in conn.execute(stmt)}


def shown_parts(conn: Connection, view: CatalogueView, ind: Indicator, levels: Iterable[str], *,
                area_ids: Iterable[int] | None = None, periods: Iterable[str] | None = None) -> set[Cell]:
    """The cells of ratio `ind` (at `levels`, optionally only these areas and periods) whose
    numerator and denominator the caller may see; empty when `ind` has no parts to show."""
    if not has_parts(ind):
        return set()
    found: set[Cell] | None = None
    for code in (ind.numerator, ind.denominator):
        part = view.visible.get(code or "")
        seen = [lv for lv in levels if part is not None and view.sees_level(part, lv)]
        if not seen:
            return set()
        cells = _published_cells(conn, code or "", seen, area_ids, periods)
        found = cells if found is None else found & cells
    return found or set()
