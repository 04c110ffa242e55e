"""JSON API under /api/v1 (documented at /openapi.json). Lists answer {"data": [...], "count": N}.
Every endpoint calls one operation; what it may show depends on who asks (an API token, a
session, or the public)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Query, Request, Response
from pydantic import StringConstraints

from obmi import operations as ops
from obmi.geo.codes import parse_area_key
from obmi.operations import ObservationQuery
from obmi.operations.statistics import Series
from obmi.publish.labels import refs_in_language
from obmi.reports.factsheet import REFERENCE_PRESETS
from obmi.web.area_picker import suggestion_json
from obmi.web.caching import cached
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import (
    AREA_KEY,
    MAX_CODE,
    AreaKeyList,
    Code,
    CodeItem,
    CodeList,
    Offset,
    OptionalAreaKey,
    OptionalCode,
    OptionalPeriod,
    PathCode,
    RegionCodes,
    SearchText,
)
from obmi.web.region_choice import region_codes
from obmi.web.schemas import (
    AreaSuggestionList,
    FactSheetOut,
    FeatureCollection,
    IndicatorDetail,
    IndicatorList,
    LevelList,
    MeOut,
    ObservationPage,
    SearchOut,
    SeriesList,
    responses,
)
from obmi.web.serialize import factsheet_json, indicator_json, level_json, observation_json, series_json

router = APIRouter(prefix="/api/v1")
# A reference area: LEVEL:CODE, or the name of a preset of them.
REFERENCE = "|".join([AREA_KEY, *(f"^{name}$" for name in REFERENCE_PRESETS)])
AreaList = Annotated[Optional[list[CodeItem]], Query(description="Area code (repeatable).")]
ReferenceItem = Annotated[str, StringConstraints(max_length=MAX_CODE, pattern=REFERENCE)]
RefList = Annotated[Optional[list[ReferenceItem]], Query(description="LEVEL:CODE or a preset (centrumsteden); repeatable.")]


def parse_refs(texts: list[str] | None, subject: str | None = None) -> list[tuple[str, str]] | None:
    """LEVEL:CODE references, or a preset name (`centrumsteden`); None: the defaults."""
    if not texts:
        return None
    refs: list[tuple[str, str]] = []
    for text in texts:
        preset = REFERENCE_PRESETS.get(text)
        refs += [r for r in preset if r[1] != subject] if preset else [parse_area_key(text, "ref")]
    return refs


def _within(text: str | None) -> tuple[str, str] | None:
    return parse_area_key(text, "within") if text else None


@router.get("/indicators", tags=["indicators"], responses=responses(IndicatorList))
def list_indicators(request: Request, ctx: CtxDep, theme: OptionalCode = None) -> Response:
    """The indicators you may see, optionally of one theme."""
    def build() -> dict:
        items = [indicator_json(i) for i in ops.list_indicators(ctx, theme=theme)]
        return {"data": items, "count": len(items)}
    return cached(request, ctx, build)


@router.get("/indicators/{code}", tags=["indicators"], responses=responses(IndicatorDetail, 403, 404))
def get_indicator(request: Request, ctx: CtxDep, code: PathCode, level: OptionalCode = None) -> Response:
    """Definition and metadata, the levels with data and (for `level`) the periods."""
    def build() -> dict:
        found = ops.indicator_availability(ctx, code, level)
        return {**indicator_json(found.indicator), "levels": found.levels, "periods": found.periods,
                "last_update": found.last_update}
    return cached(request, ctx, build)


@router.get("/levels", tags=["geography"], responses=responses(LevelList))
def list_levels(request: Request, ctx: CtxDep) -> Response:
    """Area levels with their number of areas and of areas with geometry."""
    def build() -> dict:
        items = [level_json(level) for level in ops.list_levels(ctx)]
        return {"data": items, "count": len(items)}
    return cached(request, ctx, build)


@router.get("/levels/{level}/geojson", tags=["geography"], responses={
    **responses(FeatureCollection, 404),
    200: {"content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}},
          "model": FeatureCollection}})
def level_geojson(request: Request, ctx: CtxDep, level: PathCode, within: OptionalAreaKey = None,
                  detail: Literal["web", "full"] = "web",
                  tolerance: Annotated[Optional[float], Query(ge=0, le=10000, allow_inf_nan=False)] = None,
                  region: RegionCodes = None) -> Response:
    """Areas of a level as a GeoJSON FeatureCollection (WGS84): `detail=web` is simplified for
    maps, `detail=full` as imported; `tolerance` (metres) chooses another simplification;
    `region` (codes separated by commas, e.g. 2000) keeps the areas lying in those regions."""
    parent = _within(within)
    return cached(request, ctx, lambda: ops.area_geojson(ctx, level, within=parent, detail=detail, tolerance=tolerance,
                                                         regions=region_codes(region)),
                  media_type="application/geo+json")


@router.get("/observations", tags=["observations"], responses=responses(ObservationPage, 403, 404, 409))
def list_observations(request: Request, ctx: CtxDep, indicator: Code, level: Code,
                      period: OptionalPeriod = None, area: AreaList = None, within: OptionalAreaKey = None,
                      region: RegionCodes = None,
                      limit: Annotated[int, Query(ge=1, le=50000)] = 10000,
                      offset: Offset = 0) -> Response:
    """Observations of one indicator at one level. Suppressed values have status `suppressed`
    and no value. `count` is the total before `limit`/`offset`. `region` (codes separated by
    commas, e.g. 2000) keeps the areas lying in those regions."""
    def build() -> dict:
        query = ObservationQuery(indicator, level, period, tuple(area or ()), _within(within),
                                 regions=region_codes(region))
        result = ops.query_observations(ctx, query)
        rows = [observation_json(r) for r in result.rows]
        return {"data": rows[offset:offset + limit], "count": len(rows), "limit": limit, "offset": offset,
                "indicator": indicator, "level": level, "unit": result.indicator.unit,
                "decimals": result.indicator.decimals}
    return cached(request, ctx, build)


@router.get("/series", tags=["observations"], responses=responses(SeriesList, 404, 409))
def list_series(request: Request, ctx: CtxDep, indicator: CodeList, area: AreaKeyList,
                ancestors: bool = False, lang: Literal["nl", "en"] = "nl") -> Response:
    """Time series of indicators for areas; `ancestors=true` adds the areas they lie in;
    `lang=en` names the regions in English (as an English page's chart legend does)."""
    def build() -> dict:
        keys = [parse_area_key(a) for a in area]
        series = ops.area_series(ctx, indicator, keys, with_ancestors=ancestors)
        return series_json(Series(refs_in_language(series.areas, lang), series.rows))
    return cached(request, ctx, build)


@router.get("/factsheets/{level}/{code}", tags=["fact sheets"], responses=responses(FactSheetOut, 404, 409))
def get_factsheet(request: Request, ctx: CtxDep, level: PathCode, code: PathCode, ref: RefList = None) -> Response:
    """Key figures by theme for one area, with trends and reference areas (default: the
    municipality, province and region it lies in)."""
    refs = parse_refs(ref, code)
    return cached(request, ctx, lambda: factsheet_json(ops.area_factsheet(ctx, level, code, refs)))


@router.get("/search", tags=["search"], responses=responses(SearchOut))
def search(request: Request, ctx: CtxDep, q: SearchText, limit: Annotated[int, Query(ge=1, le=500)] = 20) -> Response:
    """Indicators and areas matching every word (accents and case ignored; former municipalities
    lead to today's), and indicator × area pairs that together do; `counts` has the totals."""
    return cached(request, ctx, lambda: ops.search(ctx, q, limit=limit))


@router.get("/areas/suggest", tags=["geography"], responses=responses(AreaSuggestionList))
def suggest_areas(request: Request, ctx: CtxDep, lang: LangDep, q: SearchText = "",
                  limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """Areas for a type-ahead: every typed word begins a word of the name (accents and case
    ignored), also everyday names (Vlaanderen) and former municipalities (Borsbeek → Antwerpen)."""
    def build() -> dict:
        matches, count = ops.suggest_areas(ctx, q, limit=limit)
        return {"data": [suggestion_json(m, lang) for m in matches], "count": count, "q": q}
    return cached(request, ctx, build, vary=lang)


@router.get("/me", tags=["accounts"], response_model=MeOut, responses=responses(MeOut, 401))
def me(ctx: CtxDep) -> MeOut:
    """Who the API takes you for (with a token: its user and scope)."""
    actor = ctx.actor
    return MeOut(name=actor.name, organisation=actor.organisation, roles=sorted(actor.roles),
                 groups=sorted(actor.groups), via=actor.via, scope=actor.scope)
