"""The JSON API's response schemas (pydantic). They are the OpenAPI documentation of every
endpoint, and a test validates real responses against them, so schema and behaviour agree.
Lists answer `{data, count}`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from obmi.timeutil import as_utc

Status = Literal["final", "provisional", "estimated", "suppressed", "not_applicable", "missing", "empty"]
Origin = Literal["source", "aggregated", "reexpressed", "derived"]


# A moment, in UTC with its zone (RFC 3339, as the schema says): SQLite keeps naive UTC timestamps.
Timestamp = Annotated[datetime, AfterValidator(as_utc)]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = Field(None, description="Per field or line: what is wrong.")


class IndicatorOut(Schema):
    code: str
    name_nl: str
    name_en: str
    definition_nl: str
    definition_en: str
    unit: str
    themes: list[str]
    source: str
    licence: str
    aggregation: str
    numerator: str | None
    denominator: str | None
    scale: float
    weight: str | None
    formula: str | None
    polarity: str
    decimals: int
    is_count: bool
    threshold: int | None
    threshold_indicator: str | None
    levels: list[str]
    frequency: str
    organisation: str | None = Field(description="Owning organisation; null: shared by the instance.")
    access: Literal["public", "analysts", "groups"]
    public_from_level: str | None = Field(description="Below this level only the privileged see it.")


class IndicatorList(Schema):
    data: list[IndicatorOut]
    count: int


class IndicatorDetail(IndicatorOut):
    levels: list[str] = Field(description="Levels with data that you may see, fine to coarse.")
    periods: list[str] = Field(description="Periods with data at `level`, in time order.")
    last_update: Timestamp | None


class LevelOut(Schema):
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
    sort_order: int


class LevelList(Schema):
    data: list[LevelOut]
    count: int


class FeatureProperties(Schema):
    code: str
    name: str


class Feature(Schema):
    type: Literal["Feature"]
    id: str
    properties: FeatureProperties
    geometry: dict[str, Any] = Field(description="GeoJSON geometry in WGS84.")


class FeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[Feature]


class ObservationOut(Schema):
    area_code: str
    area_name: str
    level: str
    period: str
    value: float | None = Field(description="null when suppressed, missing, empty or not applicable.")
    status: Status
    numerator: float | None
    denominator: float | None
    n: float | None
    ci_low: float | None
    ci_high: float | None
    origin: Origin | None = Field(None, description="source: delivered by the source (also for a higher level: "
                                                    "it wins over the computed value); aggregated: summed from "
                                                    "the areas within; reexpressed: computed on a newer division; "
                                                    "derived: a ratio or formula of other indicators; null: no "
                                                    "observation")


class ObservationPage(Schema):
    data: list[ObservationOut]
    count: int = Field(description="All rows before limit/offset.")
    limit: int
    offset: int
    indicator: str
    level: str
    unit: str
    decimals: int


class AreaOut(Schema):
    level: str
    code: str
    name: str
    level_name: str


class PointOut(Schema):
    period: str
    value: float | None
    status: Status


class SeriesOut(Schema):
    indicator: str
    area_level: str
    area_code: str
    area_name: str
    area_level_name: str
    points: list[PointOut]


class SeriesList(Schema):
    data: list[SeriesOut]
    count: int
    areas: list[AreaOut]


class ReferenceValue(AreaOut):
    value: float | None
    status: Status


class KeyFigureOut(Schema):
    indicator: str
    name_nl: str
    name_en: str
    unit: str
    decimals: int
    polarity: str
    period: str | None
    value: float | None
    status: Status
    change: float | None
    previous_period: str | None
    series: list[PointOut]
    references: list[ReferenceValue]


class ThemeOut(Schema):
    theme: str
    figures: list[KeyFigureOut]


class FactSheetOut(Schema):
    area: AreaOut
    references: list[AreaOut]
    themes: list[ThemeOut]
    sources: list[str]
    generated: str


class SearchIndicator(Schema):
    code: str
    name_nl: str
    name_en: str
    unit: str


class SearchArea(Schema):
    level: str
    code: str
    name: str
    level_name: str
    level_name_en: str = ""
    former: str | None = Field(None, description="The former municipality's name the area was found by.")
    former_level: str | None = None
    since: str | None = Field(None, description="Year since which the former municipality is part of this area.")


class SearchCombination(Schema):
    indicator: SearchIndicator
    area: SearchArea


class SearchCounts(Schema):
    indicators: int
    areas: int
    combinations: int


class SearchOut(Schema):
    indicators: list[SearchIndicator]
    areas: list[SearchArea]
    combinations: list[SearchCombination] = Field(
        default_factory=list, description="Indicator × area pairs that together match every word (\"gent inkomen\").")
    counts: SearchCounts | None = Field(None, description="How many of each there are in all (each list holds `limit`).")
    limit: int | None = None


class AreaSuggestion(SearchArea):
    key: str = Field(description="LEVEL:CODE, as pages and the API take it.")
    label: str = Field(description="What a picker shows, in the asked language: "
                                   "\"Borsbeek → Antwerpen (sinds 2025)\", \"Gent (gemeente)\".")
    exact: bool = Field(description="The typed text is the area's whole name or code.")


class AreaSuggestionList(Schema):
    data: list[AreaSuggestion]
    count: int = Field(description="How many areas match in all (data holds the best `limit`).")
    q: str


class RejectedRow(Schema):
    line: int
    reason: str


class ImportReport(Schema):
    import_id: int | None
    kind: str
    file_name: str
    status: Literal["ok", "no_change", "dry_run", "failed"]
    rows_in: int
    rows_ok: int
    rows_skipped: int
    inserted: int
    updated: int
    unchanged: int
    derived: int
    notes: list[str]
    message: str
    rejected_count: int
    rejected: list[RejectedRow] = Field(description="The first 1,000 rejected rows (all of them: GET /imports/{id}).")


class ImportRunOut(Schema):
    id: int
    kind: str
    file_name: str
    sha256: str = Field(description="SHA-256 of the imported file(s): the same file gives the same hash.")
    status: str
    rows_in: int
    rows_ok: int
    rows_rejected: int
    rows_skipped: int
    inserted: int
    updated: int
    unchanged: int
    derived: int
    user: str
    user_id: int | None
    organisation: str | None
    started: Timestamp
    finished: Timestamp | None
    message: str
    process_gone: bool | None = Field(None, description=(
        "For a run still `running`: true when the process running it has ended without finishing it "
        "(killed, crashed); the next import or `obmi imports --cleanup` marks it `interrupted`."))


class ImportRunList(Schema):
    data: list[ImportRunOut]
    count: int


class ImportRunDetail(ImportRunOut):
    rejected: list[RejectedRow]


class MeOut(Schema):
    name: str = Field(description="Empty for the anonymous public.")
    organisation: str | None
    roles: list[str]
    groups: list[str]
    via: str
    scope: str | None


def responses(model: type[BaseModel], *errors: int) -> dict:
    """The OpenAPI `responses` of an endpoint: its 200 model and the errors it can answer."""
    described = {400: "Bad request", 401: "Sign in or send a valid API token", 403: "Not allowed",
                 404: "Not found (or not visible to you)", 409: "Conflict", 422: "Invalid parameters",
                 429: "Too many requests: ask again after Retry-After seconds"}
    out: dict = {200: {"model": model}}
    for status in (*errors, 422):
        out[status] = {"model": ErrorOut, "description": described[status]}
    if 429 in errors:
        out[429]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    return out
