"""JSON API under /api/v1 (documented at /openapi.json). Lists answer {"data": [...], "count": N}."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request, Response

from obmi import operations as ops
from obmi.errors import ValidationError
from obmi.query import ObservationQuery
from obmi.web.caching import cached
from obmi.web.deps import CtxDep, DbDep
from obmi.web.serialize import factsheet_json, observation_json, series_json

router = APIRouter(prefix="/api/v1")
AreaList = Annotated[Optional[list[str]], Query(description="Area code (repeatable).")]
RefList = Annotated[Optional[list[str]], Query(description="LEVEL:CODE (repeatable).")]


def parse_refs(texts: list[str] | None, subject: str | None = None) -> list[tuple[str, str]] | None:
    """LEVEL:CODE references, or a preset name (`centrumsteden`); None: the defaults."""
    from obmi.reports.factsheet import REFERENCE_PRESETS
    if not texts:
        return None
    refs: list[tuple[str, str]] = []
    for text in texts:
        preset = REFERENCE_PRESETS.get(text)
        refs += [r for r in preset if r[1] != subject] if preset else [parse_ref(text)]
    return refs


def parse_ref(text: str) -> tuple[str, str]:
    level, sep, code = text.partition(":")
    if not sep or not level or not code:
        raise ValidationError(f"{text!r} is not LEVEL:CODE", {"area": ["expected LEVEL:CODE"]})
    return level, code


@router.get("/indicators", tags=["indicators"])
def list_indicators(request: Request, ctx: CtxDep, db: DbDep, theme: Optional[str] = None) -> Response:
    def build():
        items = [i.as_row() for i in ops.list_indicators(ctx, db) if theme is None or theme in i.themes]
        return {"data": items, "count": len(items)}
    return cached(request, ops.data_version(ctx, db), build)


@router.get("/indicators/{code}", tags=["indicators"])
def get_indicator(request: Request, ctx: CtxDep, db: DbDep, code: str, level: Optional[str] = None) -> Response:
    """Definition and metadata, the levels with data and (for `level`) the periods."""
    def build():
        ind = next((i for i in ops.list_indicators(ctx, db) if i.code == code), None)
        availability = ops.indicator_availability(ctx, db, code, level)
        return {**ind.as_row(), **availability}
    return cached(request, ops.data_version(ctx, db), build)


@router.get("/levels", tags=["geography"])
def list_levels(request: Request, ctx: CtxDep, db: DbDep) -> Response:
    def build():
        items = [vars(level) for level in ops.list_levels(ctx, db)]
        return {"data": items, "count": len(items)}
    return cached(request, ops.data_version(ctx, db), build)


@router.get("/levels/{level}/geojson", tags=["geography"])
def level_geojson(request: Request, ctx: CtxDep, db: DbDep, level: str, within: Optional[str] = None,
                  detail: str = "web", tolerance: Optional[float] = None) -> Response:
    """Areas of a level as a GeoJSON FeatureCollection (WGS84): `detail=web` is simplified for
    maps, `detail=full` as imported; `tolerance` (metres) chooses another simplification."""
    parent = parse_ref(within) if within else None
    return cached(request, ops.data_version(ctx, db),
                  lambda: ops.area_geojson(ctx, db, level, within=parent, detail=detail, tolerance=tolerance),
                  media_type="application/geo+json")


@router.get("/observations", tags=["observations"])
def list_observations(request: Request, ctx: CtxDep, db: DbDep, indicator: str, level: str,
                      period: Optional[str] = None, area: AreaList = None, within: Optional[str] = None,
                      limit: Annotated[int, Query(ge=1, le=50000)] = 10000,
                      offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """Observations of one indicator at one level. Suppressed values have status `suppressed`
    and no value. `count` is the total before `limit`/`offset`."""
    def build():
        query = ObservationQuery(indicator, level, period, tuple(area or ()), parse_ref(within) if within else None)
        result = ops.query_observations(ctx, db, query)
        rows = [observation_json(r) for r in result.rows]
        return {"data": rows[offset:offset + limit], "count": len(rows), "limit": limit, "offset": offset,
                "indicator": indicator, "level": level, "unit": result.indicator.unit,
                "decimals": result.indicator.decimals}
    return cached(request, ops.data_version(ctx, db), build)


@router.get("/series", tags=["observations"])
def list_series(request: Request, ctx: CtxDep, db: DbDep, indicator: Annotated[list[str], Query()],
                area: Annotated[list[str], Query(description="LEVEL:CODE (repeatable)")],
                ancestors: bool = False) -> Response:
    """Time series of indicators for areas; `ancestors=true` adds the areas they lie in."""
    def build():
        result = ops.area_series(ctx, db, indicator, [parse_ref(a) for a in area], with_ancestors=ancestors)
        return series_json(result)
    return cached(request, ops.data_version(ctx, db), build)


@router.get("/factsheets/{level}/{code}", tags=["fact sheets"])
def get_factsheet(request: Request, ctx: CtxDep, db: DbDep, level: str, code: str, ref: RefList = None) -> Response:
    """Key figures by theme for one area, with trends and reference areas (default: the
    municipality, province and region it lies in)."""
    refs = parse_refs(ref, code)
    return cached(request, ops.data_version(ctx, db),
                  lambda: factsheet_json(ops.area_factsheet(ctx, db, level, code, refs)))


@router.get("/search", tags=["search"])
def search(request: Request, ctx: CtxDep, db: DbDep, q: str) -> Response:
    return cached(request, ops.data_version(ctx, db), lambda: ops.search(ctx, db, q))
