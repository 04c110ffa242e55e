"""Downloads of exactly what a table, chart or map shows, in every registered output format
(CSV, the Excel dialect of CSV, XLSX, JSON; the map and charts as SVG and PNG;
obmi.publish.renderers), built from the same operations as the page — so access rules and
disclosure control hold here too.

A table holds the values at their stored precision (the page rounds them to the indicator's
decimals) and, for a ratio, its numerator and denominator — which the query layer leaves only
where the caller may see both of those indicators' own cells (query/ratio_parts.py); elsewhere
the row has neither, and its value is the page's rounded one, so that the ratio's full digits
cannot give back the withheld count."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Query, Request, Response

from obmi import operations as ops
from obmi.errors import ValidationError
from obmi.geo.codes import parse_area_key
from obmi.indicators.catalogue import Indicator
from obmi.indicators.periods import period_sort_key
from obmi.operations import ObservationQuery
from obmi.operations.statistics import QueryResult
from obmi.publish import figures
from obmi.publish.classify import MANUAL, METHODS, PALETTES, Choice, classify, parse_choice
from obmi.publish.renderers import OutputRenderer, renderer
from obmi.publish.signs import origin_word, status_word
from obmi.web.api import parse_refs
from obmi.web.deps import CtxDep, LangDep
from obmi.web.pages import _t, classes_by_period, level_name
from obmi.web.region_choice import region_codes
from obmi.web.serialize import factsheet_json

router = APIRouter(prefix="/download", include_in_schema=False)
# A cell without a number stays empty (never a sign or a number in the value column); `status` is
# the code, as in the API, `status_label` its word in the download's language ("onderdrukt",
# "niet van toepassing", "onbekend", "geen gegevens"; obmi.publish.signs); `origin` says where the
# value comes from, as in the API, `origin_label` in words.
OBSERVATION_COLUMNS = ["indicator", "area_code", "area_name", "level", "period", "value", "unit", "status",
                       "status_label", "origin", "origin_label"]
SERIES_COLUMNS = ["indicator", "area_code", "area_name", "level", "period", "value", "status", "status_label"]
RATIO_COLUMNS = ["numerator", "denominator"]  # after `value`, for a ratio indicator


def send_table(fmt: str | OutputRenderer, name: str, columns: list[str], rows: list[dict], meta: dict) -> Response:
    output = renderer(fmt) if isinstance(fmt, str) else fmt
    return Response(output.render(columns, rows, meta), media_type=output.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{output.file_extension}"',
                             "Cache-Control": "private, no-cache"})


def value_columns(ind: Indicator, row: Any) -> dict[str, Any]:
    """The value and, for a ratio, its numerator and denominator: the query layer leaves those
    only where the caller may see both (and then the value keeps its full precision)."""
    if ind.aggregation != "ratio":
        return {"value": row.value}
    return {"value": row.value, "numerator": row.numerator, "denominator": row.denominator}


@router.get("/observations.{fmt}")
def observations(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, indicator: str, level: str,
                 period: Optional[str] = None, within: Optional[str] = None, region: Optional[str] = None,
                 area: Annotated[Optional[list[str]], Query()] = None) -> Response:
    output = renderer(fmt)  # refuse an unknown format before any work
    query = ObservationQuery(indicator, level, period, tuple(area or ()),
                             parse_area_key(within, "within") if within else None, rounded=False,
                             regions=region_codes(region))
    result = ops.query_observations(ctx, query)
    ind = result.indicator
    rows = [{"indicator": ind.code, "area_code": r.area_code, "area_name": r.area_name, "level": r.level,
             "period": r.period, **value_columns(ind, r), "unit": ind.unit, "status": r.status,
             "status_label": status_word(r.value, r.status, lang),
             "origin": str(r.origin) if r.origin else None, "origin_label": origin_word(r.origin, lang)}
            for r in result.rows]
    meta: dict[str, Any] = {"indicator": ind.code, "name": ind.name_nl, "unit": ind.unit, "source": ind.source,
                            "licence": ind.licence, "level": level, "period": period, "within": within}
    if ind.aggregation == "ratio":
        meta.update(numerator=ind.numerator, denominator=ind.denominator, scale=ind.scale)
        columns = OBSERVATION_COLUMNS[:6] + RATIO_COLUMNS + OBSERVATION_COLUMNS[6:]
    else:
        columns = OBSERVATION_COLUMNS
    return send_table(output, f"{ind.code}-{level}-{period or 'alle'}", columns, rows, meta)


@router.get("/factsheet/{level}/{code}.{fmt}")
def factsheet(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str, fmt: str,
              ref: Annotated[Optional[list[str]], Query()] = None) -> Response:
    output = renderer(fmt)
    built = ops.area_factsheet(ctx, level, code, parse_refs(ref, code))
    sheet = factsheet_json(built)
    if output.format == "json":  # the whole structure, as the API gives it
        return Response(json.dumps(sheet, ensure_ascii=False, indent=1).encode(), media_type=output.media_type,
                        headers={"Content-Disposition": f'attachment; filename="steekkaart-{level}-{code}.json"'})
    refs = sheet["references"]
    status_of = [f"{r['name']} (status)" for r in refs]  # a reference without a number says why
    columns = (["theme", "indicator", "name", "unit", "period", "value", "status", "status_label", "change"]
               + [r["name"] for r in refs] + status_of)
    rows = []
    for theme, section in zip(sheet["themes"], built.sections):
        for f, figure in zip(theme["figures"], section.figures):
            # A reference without a point in the period reads as the query layer's "missing" does.
            ref_words = [status_word(p.value if p else None, p.status if p else None, lang)
                         for _ref, p in figure.references]
            rows.append({"theme": theme["theme"], "indicator": f["indicator"], "name": f["name_nl"],
                         "unit": f["unit"], "period": f["period"], "value": f["value"], "status": f["status"],
                         "status_label": status_word(f["value"], f["status"], lang), "change": f["change"],
                         **{r["name"]: r["value"] for r in f["references"]}, **dict(zip(status_of, ref_words))})
    meta = {"area": sheet["area"]["name"], "level": level, "sources": "; ".join(sheet["sources"])}
    return send_table(output.format, f"steekkaart-{level}-{code}", columns, rows, meta)


@router.get("/series.{fmt}")
def series(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, indicator: Annotated[list[str], Query()],
           area: Annotated[list[str], Query()], ancestors: bool = False) -> Response:
    """Time series (the compare page and the time-series chart)."""
    output = renderer(fmt)
    result = ops.area_series(ctx, indicator, [parse_area_key(a) for a in area], with_ancestors=ancestors)
    by_id = {a.id: a for a in result.areas}
    rows = [{"indicator": code, "area_code": by_id[area_id].code, "area_name": by_id[area_id].name,
             "level": by_id[area_id].level, "period": r.period, "value": r.value, "status": r.status,
             "status_label": status_word(r.value, r.status, lang)}
            for (code, area_id), points in result.rows.items() for r in points]
    return send_table(output.format, "reeksen", SERIES_COLUMNS, rows, {"indicators": ", ".join(indicator)})


@router.get("/chart.{fmt}")
def chart(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, indicator: str, level: str,
          kind: str = "map", period: Optional[str] = None, within: Optional[str] = None,
          classes: Optional[str] = None, palette: Optional[str] = None, class_count: Optional[str] = None,
          breaks: Optional[str] = None, same_classes: Optional[str] = None, region: Optional[str] = None,
          area: Annotated[Optional[list[str]], Query()] = None) -> Response:
    """The indicator page's map, ranking or time series as an image (SVG or PNG), drawn on the
    server from the same disclosure-controlled read as the page (same parameters: level, period,
    region, classes): it needs no JavaScript."""
    output = renderer(fmt, kind="figure")
    if kind not in figures.KINDS:
        raise ValidationError(_t(lang, "Onbekende soort figuur %(kind)s: kies map, ranking of series.", kind=kind),
                              {"kind": list(figures.KINDS)})
    query = ObservationQuery(indicator, level, period or "latest", tuple(area or ()) if kind == "ranking" else (),
                             parse_area_key(within, "within") if within else None, regions=region_codes(region))
    if kind == "series":
        spec, shown_period = _series_figure(ctx, lang, query, area or []), "alle"
    else:
        result = ops.query_observations(ctx, query)
        shown_period = result.periods[0] if result.periods else (period or "")
        text = _figure_text(ctx, lang, result.indicator, level, shown_period)
        if kind == "map":
            choice = parse_choice(classes, palette, class_count, breaks, same_classes not in (None, "", "0"))
            spec = _map_figure(ctx, lang, query, result, text, choice)
        else:
            spec = figures.ranking_spec(result.rows, text)
    name = f"{indicator}-{level}-{shown_period or 'alle'}-{kind}"
    return send_table(output, name, [], [], {"spec": spec, "lang": lang})


def _figure_text(ctx: Any, lang: str, ind: Indicator, level: str, period: str) -> figures.FigureText:
    name = ind.name_en if lang == "en" and ind.name_en else ind.name_nl
    levels = {lvl.code: lvl for lvl in ops.list_levels(ctx)}
    source = _t(lang, "Bron: %(source)s · Licentie: %(licence)s", source=ind.source or "–",
                licence=ind.licence or "–")
    return figures.FigureText(f"{name} ({ind.unit})" if ind.unit else name,
                              " · ".join(p for p in (period, level_name(levels.get(level), level, lang)) if p),
                              source, lang, ind.decimals, ind.unit)


def _map_figure(ctx: Any, lang: str, query: ObservationQuery, result: QueryResult, text: figures.FigureText,
                choice: Choice) -> dict[str, Any]:
    """The choropleth in the page's classes and colours (the page's own classification, per
    period), on the level's simplified web geometry (the map's)."""
    if choice.problems:
        raise ValidationError(" ".join(_t(lang, p.message, **p.values) for p in choice.problems),
                              {"classes": [*METHODS, MANUAL], "palette": list(PALETTES)})
    shapes = ops.area_geojson(ctx, query.level, within=query.within)
    codes = {r.area_code for r in result.rows}
    features = [f for f in shapes.get("features", []) if str((f.get("properties") or {}).get("code")) in codes]
    if not features:
        raise ValidationError(_t(lang, "Dit niveau heeft geen kaart: download de rangorde of de tabel."),
                              {"kind": ["ranking", "series"]})
    period = result.periods[0] if result.periods else None
    by_period = classes_by_period(ctx, query.indicator, query.level, query.within, choice, query.regions)
    classes = (by_period.get(period) if period else None) or classify(
        [r.value for r in result.rows], choice.method, choice.palette, None, choice.count, choice.breaks)
    return figures.map_spec(features, result.rows, classes, text)


def _series_figure(ctx: Any, lang: str, query: ObservationQuery, areas: list[str]) -> dict[str, Any]:
    """The evolution of the chosen areas, with the areas they lie in (as on the page)."""
    if not areas:
        raise ValidationError(_t(lang, "Kies minstens één gebied (area=…) voor de evolutie."), {"area": ["required"]})
    keys = [parse_area_key(a) if ":" in a else (query.level, a) for a in areas]
    result = ops.area_series(ctx, [query.indicator], keys, with_ancestors=True)
    ind = ops.indicator_availability(ctx, query.indicator).indicator
    series = [(a.name, points) for a in result.areas if (points := result.rows.get((query.indicator, a.id)))]
    periods = sorted({p.period for _name, points in series for p in points}, key=period_sort_key)
    span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else "".join(periods)
    return figures.series_spec(series, _figure_text(ctx, lang, ind, query.level, span))
