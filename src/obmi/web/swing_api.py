"""The read API of an ABF Swing site, at the site root, so that a city's scripts written for its
Swing "Stad in cijfers" keep working when pointed at OBMi (docs/swing-api.md):

    /jiveservices/odata/GeoLevels, GeoLevels('LEVEL')/GeoItems, PeriodLevels, Variables,
        Variables('CODE')/GeoLevels, Variables('CODE')/GeoLevels('LEVEL')/PeriodLevels (and /GeoItems)
    /jive/selectiontableasjson.ashx?var=CODE&geolevel=LEVEL&periodlevel=year&period=P|mrp

Every answer is built from the operations, as the caller may see it (the anonymous public: public
data only), with disclosure control applied: a suppressed cell leaves as `""` and never as a
number. Answers carry the same ETag and Cache-Control as the JSON API (obmi.web.caching). Errors
answer `{"error": "..."}` (Swing's scripts read no `detail`): 400 for parameters, 404 for an
unknown level, indicator or area. Not in the OpenAPI document: it is a compatibility shim with
Swing's shapes, not OBMi's own API (/api/v1)."""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import NotFound, ObmiError, ValidationError
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import NO_VALUE_STATUSES, Observation
from obmi.indicators.periods import PERIOD_TYPES, parse_period, period_type_of
from obmi.operations import ObservationQuery
from obmi.web.caching import cached
from obmi.web.deps import CtxDep
from obmi.web.errors import CHALLENGE, STATUS
from obmi.web.params import in_words

ODATA = "/jiveservices/odata"
# Swing's own page size: its public Python client asks `$skip=0,10,20,…` and stops at an empty
# page, so a page of exactly 10 returns every indicator once. `$top` asks for another size.
VARIABLES_PAGE = 10
MAX_TOP = 1000
ODATA_OPTIONS = frozenset({"$skip", "$top", "$format"})
# Options of Swing's selection table that OBMi does not offer yet: refused, never ignored, so a
# script does not take an unsplit or uncompared table for what it asked.
UNSUPPORTED_SELECTION = ("geocompare", "geocompare_item", "geosplit", "dimlevel")
PERIOD_LEVEL_NAMES = {"year": "Jaar", "quarter": "Kwartaal", "month": "Maand", "date": "Dag", "edition": "Editie"}
MOST_RECENT = "mrp"
# The area and period columns hold codes as text ("44021", "2015"): type "Text". The value
# column is "Numeric" (every OBMi indicator is numeric), which Swing's clients test before float().
GEO_HEADER = {"name": "Geo", "type": "Text"}
PERIOD_HEADER = {"name": "Perioden", "type": "Text"}


# --- errors ---------------------------------------------------------------------------------

def error_response(exc: ObmiError) -> JSONResponse:
    """`{"error": …}` with the status of obmi.web.errors, except that invalid input is a 400 (what
    Swing answers), not FastAPI's 422."""
    status = 400 if isinstance(exc, ValidationError) else next((c for cls, c in STATUS if isinstance(exc, cls)), 400)
    message = exc.args[0] if exc.args else type(exc).__name__
    headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class SwingRoute(APIRoute):
    """Answers domain errors — also those of the dependencies, such as an invalid token — as
    `{"error": …}` JSON, whatever the client's Accept header (the site's error handlers would
    render an HTML page for a browser outside /api/)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ObmiError as exc:
                return error_response(exc)
            except RequestValidationError as exc:
                return JSONResponse({"error": f"invalid request: {in_words(exc)}"}, status_code=400)
        return answer


router = APIRouter(include_in_schema=False, route_class=SwingRoute)


# --- parameters -----------------------------------------------------------------------------

def query_params(request: Request) -> dict[str, str]:
    """The query parameters with lower-case names (Swing, an ASP.NET site, ignores their case);
    empty values count as absent, as Swing's client leaves out the options it does not use."""
    return {k.lower(): v.strip() for k, v in request.query_params.items() if v.strip()}


def _whole_number(params: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ValidationError(f"{name} must be a whole number of 0 or more", {name: [f"got {raw!r}"]})
    value = int(raw)
    if name == "$top" and not 1 <= value <= MAX_TOP:
        raise ValidationError(f"$top must be between 1 and {MAX_TOP}", {name: [f"got {raw!r}"]})
    return value


@dataclass(frozen=True)
class Page:
    skip: int
    top: int | None  # None: everything from `skip` on

    def of(self, items: list[dict[str, str]]) -> list[dict[str, str]]:
        return items[self.skip:] if self.top is None else items[self.skip:self.skip + self.top]


def odata_page(request: Request, default_top: int | None = None) -> Page:
    """$skip and $top of an OData list; other system options ($filter, $orderby, …) are refused
    rather than ignored, since ignoring a filter would answer a different question."""
    params = query_params(request)
    unknown = sorted(k for k in params if k.startswith("$") and k not in ODATA_OPTIONS)
    if unknown:
        raise ValidationError(f"OData option(s) {', '.join(unknown)} not supported; supported: $skip, $top",
                              {k: ["not supported"] for k in unknown})
    if params.get("$format", "json").lower() != "json":
        raise ValidationError("only $format=json is supported", {"$format": [params["$format"]]})
    return Page(_whole_number(params, "$skip", 0) or 0, _whole_number(params, "$top", default_top))


def odata_list(pairs: Iterable[tuple[str, str]], page: Page) -> dict[str, list[dict[str, str]]]:
    """Swing's OData list: `{"value": [{"ExternalCode": code, "Name": name}, …]}`."""
    return {"value": page.of([{"ExternalCode": code, "Name": name} for code, name in pairs])}


def period_levels(periods: Iterable[str]) -> list[tuple[str, str]]:
    """The period types (Swing's period levels) among `periods`, in OBMi's order, named in Dutch."""
    types = set(periods)
    return [(kind, PERIOD_LEVEL_NAMES[kind]) for kind in PERIOD_TYPES if kind in types]


# --- the OData lists ------------------------------------------------------------------------

@router.get(ODATA + "/GeoLevels")
def geo_levels(request: Request, ctx: CtxDep) -> Response:
    """Every area level, named in Dutch."""
    page = odata_page(request)
    return cached(request, ctx, lambda: odata_list(((lvl.code, lvl.name_nl) for lvl in ops.list_levels(ctx)), page),
                  params={"page": page})


def _areas(ctx: Context, level: str) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in ops.list_areas(ctx, level)]


@router.get(ODATA + "/GeoLevels('{level}')/GeoItems")
def geo_items(request: Request, ctx: CtxDep, level: str) -> Response:
    """The areas of a level (full OBMi codes; unknown-location codes are not areas to list)."""
    page = odata_page(request)
    return cached(request, ctx, lambda: odata_list(_areas(ctx, level), page), params={"page": page})


@router.get(ODATA + "/PeriodLevels")
def all_period_levels(request: Request, ctx: CtxDep) -> Response:
    """The period types the indicators one may see are delivered in (their `frequency`)."""
    page = odata_page(request)
    return cached(request, ctx, lambda: odata_list(
        period_levels(ind.frequency for ind in ops.list_indicators(ctx)), page), params={"page": page})


@router.get(ODATA + "/Variables")
def variables(request: Request, ctx: CtxDep) -> Response:
    """The indicators one may see, by code, VARIABLES_PAGE at a time unless `$top` says otherwise."""
    page = odata_page(request, VARIABLES_PAGE)
    return cached(request, ctx, lambda: odata_list(((i.code, i.name_nl) for i in ops.list_indicators(ctx)), page),
                  params={"page": page})


@router.get(ODATA + "/Variables('{code}')/GeoLevels")
def variable_levels(request: Request, ctx: CtxDep, code: str) -> Response:
    """The levels with data of one indicator that one may see, fine to coarse."""
    page = odata_page(request)

    def build() -> dict[str, list[dict[str, str]]]:
        found = ops.indicator_availability(ctx, code)
        names = {lvl.code: lvl.name_nl for lvl in ops.list_levels(ctx)}
        return odata_list(((lvl, names.get(lvl, lvl)) for lvl in found.levels), page)
    return cached(request, ctx, build, params={"page": page})


@router.get(ODATA + "/Variables('{code}')/GeoLevels('{level}')/PeriodLevels")
def variable_period_levels(request: Request, ctx: CtxDep, code: str, level: str) -> Response:
    """The period types of one indicator's data at one level."""
    page = odata_page(request)

    def build() -> dict[str, list[dict[str, str]]]:
        found = ops.indicator_availability(ctx, code, level)
        return odata_list(period_levels(period_type_of(p) for p in found.periods), page)
    return cached(request, ctx, build, params={"page": page})


@router.get(ODATA + "/Variables('{code}')/GeoLevels('{level}')/GeoItems")
def variable_geo_items(request: Request, ctx: CtxDep, code: str, level: str) -> Response:
    """The areas of a level, if the indicator has data there that one may see (else none)."""
    page = odata_page(request)

    def build() -> dict[str, list[dict[str, str]]]:
        found = ops.indicator_availability(ctx, code, level)
        return odata_list(_areas(ctx, level) if found.periods else [], page)
    return cached(request, ctx, build, params={"page": page})


@router.get(ODATA + "/{rest:path}")
def odata_unknown(rest: str) -> Response:
    """Cubes are a known Swing resource OBMi lacks (400); anything else does not exist (404)."""
    if rest.startswith(("CubeVariables", "Dimensions", "DimLevels")):
        raise ValidationError("cubes (CubeVariables, Dimensions, DimLevels) are not supported yet: see docs/swing-api.md")
    raise NotFound(f"unknown OData resource {rest!r}; supported: GeoLevels, GeoLevels('LEVEL')/GeoItems, PeriodLevels, "
                   "Variables, Variables('CODE')/GeoLevels, Variables('CODE')/GeoLevels('LEVEL')/PeriodLevels")


# --- the selection table --------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """One request of Swing's selection table, checked."""
    indicator: str
    level: str
    period_level: str
    period: str  # a period of type period_level, or MOST_RECENT
    areas: tuple[str, ...]  # empty: every area of the level


def _required(params: Mapping[str, str], name: str) -> str:
    if name not in params:
        raise ValidationError(f"parameter {name} is required", {name: ["required"]})
    return params[name]


def _period(text: str, period_level: str) -> str:
    if text.lower() == MOST_RECENT:
        return MOST_RECENT
    try:
        period, kind = parse_period(text)
    except ValueError as exc:
        raise ValidationError(f"{exc}, or mrp (the most recent period)", {"period": [str(exc)]}) from None
    if kind != period_level:
        raise ValidationError(f"period {text!r} is a {kind}, but periodlevel is {period_level}",
                              {"period": [f"not a {period_level}"]})
    return period


def parse_selection(params: Mapping[str, str]) -> Selection:
    """The parameters of `selectiontableasjson.ashx`; periodlevel defaults to year, period to mrp."""
    unsupported = [name for name in UNSUPPORTED_SELECTION if name in params]
    if unsupported:
        raise ValidationError(f"{', '.join(unsupported)}: not supported yet by OBMi's Swing-compatible API "
                              "(docs/swing-api.md)", {name: ["not supported yet"] for name in unsupported})
    indicator, level = _required(params, "var"), _required(params, "geolevel")
    period_level = params.get("periodlevel", "year").lower()
    if period_level not in PERIOD_LEVEL_NAMES:
        raise ValidationError(f"unknown periodlevel {period_level!r} (known: {', '.join(PERIOD_LEVEL_NAMES)})",
                              {"periodlevel": [period_level]})
    period = _period(params.get("period", MOST_RECENT), period_level)
    codes = [params["geoitem"]] if "geoitem" in params else []
    codes += [c.strip() for c in params.get("geoitem_codes", "").split(",") if c.strip()]
    return Selection(indicator, level, period_level, period, tuple(dict.fromkeys(codes)))


def value_text(row: Observation, decimals: int) -> str:
    """A value as Swing's clients read it: a plain decimal (no thousands separator, no exponent)
    with the indicator's decimals, that float() parses; "" where there is no value to show
    (missing, suppressed — by the source or OBMi's disclosure control —, not applicable)."""
    value = row.value
    if value is None or row.status in NO_VALUE_STATUSES or not math.isfinite(value):
        return ""
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text  # never "-0"


def table(ind: Indicator, rows: list[Observation]) -> dict[str, list[Any]]:
    return {"headers": [GEO_HEADER, PERIOD_HEADER, {"name": ind.name_nl, "type": "Numeric"}],
            "rows": [[r.area_code, r.period, value_text(r, ind.decimals)] for r in rows]}


def _check_areas(ctx: Context, sel: Selection, rows: list[Observation]) -> None:
    """404 for asked area codes that are not areas of the level (an unknown-location code without
    data has no row either, but exists)."""
    absent = set(sel.areas) - {r.area_code for r in rows}
    if absent:
        known = {a.code for a in ops.list_areas(ctx, sel.level, codes=sorted(absent), include_unknown=True)}
        if absent - known:
            raise NotFound(f"unknown area(s) {', '.join(sorted(absent - known))} at level {sel.level!r}")


def selection_table(ctx: Context, sel: Selection) -> dict[str, list[Any]]:
    """Rows [area, period, value] of one indicator at one level and period; `mrp` is the most
    recent period of that type with data at that level."""
    period = sel.period
    if period == MOST_RECENT:
        found = ops.indicator_availability(ctx, sel.indicator, sel.level)
        periods = [p for p in found.periods if period_type_of(p) == sel.period_level]
        if not periods:
            return table(found.indicator, [])
        period = periods[-1]
    result = ops.query_observations(ctx, ObservationQuery(sel.indicator, sel.level, period, sel.areas))
    if sel.areas:
        _check_areas(ctx, sel, result.rows)
    return table(result.indicator, result.rows)


@router.get("/jive/selectiontableasjson.ashx")
def selection_table_json(request: Request, ctx: CtxDep) -> Response:
    """Swing's selection table as JSON: headers Geo, Perioden and the indicator's name; rows as text."""
    selection = parse_selection(query_params(request))
    return cached(request, ctx, lambda: selection_table(ctx, selection), params={"selection": selection})


@router.get("/jive/{rest:path}")
def jive_unknown(rest: str) -> Response:
    raise NotFound(f"unknown Swing resource {rest!r}: of /jive/ only selectiontableasjson.ashx is supported")
