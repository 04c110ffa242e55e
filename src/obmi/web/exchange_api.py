"""Open data formats under /api/v1 (docs/open-data-formats.md): JSON-stat 2.0 datasets and theme
collections, Frictionless Data Packages and SDMX (SDMX-CSV 2.0, SDMX-JSON 2.0 data, the structure).

Every answer is built from the operations (`exchange_tables`, `exchange_theme`), so access rules
and disclosure control hold as in every other channel: a non-public indicator does not exist for
the public (404), a suppressed cell leaves with its status and no number. Every answer carries the
ETag and Cache-Control of obmi.web.caching, tied to the data version."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import ValidationError
from obmi.geo.codes import AreaKey, parse_area_key
from obmi.publish import datapackage, jsonstat, sdmx
from obmi.web.caching import cached, encode_json
from obmi.web.deps import CtxDep
from obmi.web.params import AREA_KEY, MAX_CODE, Code, CodeItem, OptionalCode, OptionalPeriod
from obmi.web.ratelimit import open_data_rate_limit
from obmi.web.schemas import responses

router = APIRouter(prefix="/api/v1", tags=["open data"], dependencies=[Depends(open_data_rate_limit)])
Lang = Literal["nl", "en"]
SdmxFormat = Literal["csv", "json", "structure"]
SDMX_MEDIA = {"csv": sdmx.SDMX_CSV, "json": sdmx.SDMX_JSON, "structure": sdmx.SDMX_STRUCTURE}
ZIP = "application/zip"
Indicators = Annotated[Optional[list[CodeItem]], Query(description="Indicator code (repeatable).")]
RequiredIndicators = Annotated[list[CodeItem], Query(description="Indicator code (repeatable).")]
LangQuery = Annotated[Lang, Query(description="Language of the labels: nl or en.")]
PeriodQuery = OptionalPeriod
WithinQuery = Annotated[Optional[str], Query(max_length=MAX_CODE, pattern=AREA_KEY,
                                             description="LEVEL:CODE: only the areas lying in that area.")]


class JsonStatOut(BaseModel):
    """A JSON-stat 2.0 dataset (`class: dataset`) or collection (`class: collection`)."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: Literal["2.0"]
    class_: Literal["dataset", "collection"] = Field(alias="class")
    href: str
    label: str
    source: str | None = None
    updated: str | None = None
    note: list[str] | None = None
    id: list[str] | None = Field(None, description="dataset: the dimensions, indicator × area × period")
    size: list[int] | None = None
    role: dict[str, list[str]] | None = None
    dimension: dict[str, Any] | None = None
    value: list[float | None] | None = Field(None, description="dataset: row-major values, null without a number")
    status: dict[str, str] | None = Field(None, description="dataset: status letter per value index (not final)")
    link: dict[str, list[dict[str, Any]]] | None = Field(None, description="collection: the datasets as `item`s")
    extension: dict[str, Any] | None = None


def _file_schema(media: str) -> dict[str, Any]:
    """A JSON message (SDMX-JSON) is an object; anything else a file."""
    return {"type": "object"} if media.split(";")[0].endswith("+json") else {"type": "string", "format": "binary"}


def _file_responses(media: list[str], description: str) -> dict[int | str, dict[str, Any]]:
    return {**responses(JsonStatOut, 403, 404, 409, 429),
            200: {"content": {m: {"schema": _file_schema(m)} for m in media},
                  "description": description}}


def _within(text: str | None) -> AreaKey | None:
    return parse_area_key(text, "within") if text else None


def _need(values: list[str] | None, what: str) -> list[str]:
    found = [v for v in values or [] if v.strip()]
    if not found:
        raise ValidationError(f"parameter {what} is required", {what: ["required"]})
    return found


def _download(response: Response, name: str) -> Response:
    if response.status_code == 200:
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _tables(ctx: Context, indicators: list[str], level: str, period: str | None, within: str | None,
            *, with_rows: bool = True) -> ops.ExchangeView:
    return ops.exchange_tables(ctx, indicators, level, period=period, within=_within(within), with_rows=with_rows)


@router.get("/jsonstat", responses=responses(JsonStatOut, 403, 404, 409, 429))
def get_jsonstat(request: Request, ctx: CtxDep, level: Code, indicator: OptionalCode = None,
                 theme: OptionalCode = None, lang: LangQuery = "nl", period: PeriodQuery = None,
                 within: WithinQuery = None) -> Response:
    """JSON-stat 2.0: the dataset of one `indicator` at one `level` (indicator × area × period,
    status per cell, unit, source, updated), or with `theme` the collection of that theme's
    datasets at the level. Suppressed cells are `null` with status `c`."""
    if (indicator is None) == (theme is None):
        raise ValidationError("give either indicator (a dataset) or theme (a collection)",
                              {"indicator": ["indicator or theme"], "theme": ["indicator or theme"]})

    def build() -> dict[str, Any]:
        if theme is not None:
            found = ops.exchange_theme(ctx, theme, level)
            return jsonstat.collection(found.theme, found.level, found.tables, lang=lang, publisher=found.publisher)
        view = _tables(ctx, [indicator or ""], level, period, within)
        return jsonstat.dataset(view.tables[0], lang=lang, publisher=view.publisher, period=period, within=within)
    return cached(request, ctx, build)


@router.get("/datapackage", response_class=Response,
            responses=_file_responses([ZIP], "A zip: datapackage.json and one CSV per indicator"))
def get_datapackage(request: Request, ctx: CtxDep, level: Code, indicator: RequiredIndicators,
                    lang: LangQuery = "nl", period: PeriodQuery = None, within: WithinQuery = None) -> Response:
    """A Frictionless Data Package (v2) of one or more indicators at one level: a CSV per
    indicator and datapackage.json with its Table Schema, licence, sources and contributors."""
    codes = indicator

    def build() -> bytes:
        view = _tables(ctx, codes, level, period, within)
        return datapackage.package_zip(view.tables, lang=lang, publisher=view.publisher, period=period, within=within)
    name = f"{'_'.join(codes) if len(codes) <= 3 else f'{len(codes)}-indicatoren'}-{level}.zip"
    return _download(cached(request, ctx, build, media_type=ZIP, encode=_bytes), name)


@router.get("/sdmx", response_class=Response, responses=_file_responses(list(SDMX_MEDIA.values()),
                                               "SDMX-CSV 2.0, SDMX-JSON 2.0 data, or the structure (SDMX-JSON 2.0)"))
def get_sdmx(request: Request, ctx: CtxDep, level: Code, indicator: Indicators = None,
             format: Annotated[SdmxFormat, Query(description="csv, json (data) or structure")] = "csv",
             lang: LangQuery = "nl", period: PeriodQuery = None, within: WithinQuery = None) -> Response:
    """SDMX data of one or more indicators at one level (dataflow OBMI:DF_<LEVEL>: dimensions
    INDICATOR, REF_AREA, TIME_PERIOD; attributes OBS_STATUS, UNIT_MEASURE), as SDMX-CSV 2.0 or
    SDMX-JSON 2.0; `format=structure`: the code lists, concept scheme, DSD and dataflow (without
    `indicator`: every indicator you may see at the level)."""
    codes = (indicator or []) if format == "structure" else _need(indicator, "indicator")

    def build() -> bytes:
        if format == "structure":
            view = _tables(ctx, codes, level, None, within, with_rows=False)
            areas = [(a.code, a.name) for a in view.areas]
            return sdmx.structure_json(view.tables, view.level, areas, lang=lang, publisher=view.publisher,
                                       partial_areas=within is not None).encode()
        view = _tables(ctx, codes, level, period, within)
        if format == "csv":
            return sdmx.data_csv(view.tables, view.level)
        return encode_json(sdmx.data_json(view.tables, view.level, lang=lang, publisher=view.publisher))
    extension = "csv" if format == "csv" else "json"
    name = f"{'_'.join(codes) or 'structure'}-{level}{'-structure' if format == 'structure' and codes else ''}"
    return _download(cached(request, ctx, build, media_type=SDMX_MEDIA[format], encode=_bytes),
                     f"{name[:120]}.{extension}")


def _bytes(body: Any) -> bytes:
    return bytes(body)
