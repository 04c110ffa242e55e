"""Public HTML pages ("Stad in cijfers"). Server-rendered; JavaScript only adds the linked map,
charts and table sorting on top of content that is complete without it."""

from __future__ import annotations

from typing import Annotated, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import parse_area_key
from obmi.operations import ObservationQuery
from obmi.operations.statistics import Series
from obmi.publish.classify import METHODS, PALETTES, classify
from obmi.web.api import parse_refs
from obmi.web.deps import CtxDep, LangDep
from obmi.web.rendering import render, script_json
from obmi.web.serialize import factsheet_json, observation_json, series_json

router = APIRouter(include_in_schema=False)
DEFAULT_LEVELS = ("gemeente", "ggw7", "provincie")


def themes_of(indicators) -> dict[str, list]:
    themes: dict[str, list] = {}
    for ind in indicators:
        for theme in ind.themes or ["overige"]:
            themes.setdefault(theme, []).append(ind)
    return themes


HEADLINE = ("pop_total", "share_65plus", "share_non_belgian", "inc_mean_per_inhabitant", "land_built_share")


def _headline(ctx, indicators) -> list[tuple]:
    """Latest published value of a few key indicators for Flanders: key figures first."""
    known = {i.code: i for i in indicators}
    codes = [c for c in HEADLINE if c in known]
    try:
        series = ops.area_series(ctx, codes, [("gewest", "2000")])
    except NotFound:
        return []
    figures = []
    for code in codes:
        points = [p for rows in (series.rows.get((code, a.id), []) for a in series.areas) for p in rows
                  if p.value is not None]
        if points:
            figures.append((known[code], points[-1]))
    return figures


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: CtxDep, lang: LangDep):
    indicators = ops.list_indicators(ctx)
    return render(request, "index.html", lang, themes=themes_of(indicators), indicator_count=len(indicators),
                  headline=_headline(ctx, indicators),
                  dashboards=ops.list_dashboards(ctx), stories=ops.list_stories(ctx))


@router.get("/themas/{theme}", response_class=HTMLResponse)
def theme_page(request: Request, ctx: CtxDep, lang: LangDep, theme: str):
    indicators = themes_of(ops.list_indicators(ctx)).get(theme)
    if not indicators:
        raise NotFound(f"unknown theme {theme!r}")
    return render(request, "theme.html", lang, theme=theme, indicators=indicators)


def _indicator_view(ctx, code: str, level: Optional[str], period: Optional[str], within: Optional[str],
                    method: str, palette: str, areas: list[str]) -> dict:
    available = ops.indicator_availability(ctx, code)
    if not available.levels:
        raise NotFound(f"no data for indicator {code!r}")
    level = level or next((lvl for lvl in DEFAULT_LEVELS if lvl in available.levels), available.levels[0])
    periods = ops.indicator_availability(ctx, code, level).periods
    period = period if period in periods else (periods[-1] if periods else None)
    if method not in METHODS or palette not in PALETTES:
        raise ValidationError("unknown classification or palette",
                              {"classes": [f"one of {', '.join(METHODS)}"], "palette": [f"one of {', '.join(PALETTES)}"]})
    result = ops.query_observations(ctx, ObservationQuery(code, level, period, (),
                                                          parse_area_key(within, "within") if within else None))
    reference = _flemish_value(ctx, code, period)
    classes = classify([r.value for r in result.rows], method, palette, reference)
    selected = [a for a in areas if any(r.area_code == a for r in result.rows)]
    series = ops.area_series(ctx, [code], [(level, a) for a in selected], with_ancestors=True) if selected else None
    return {"indicator": result.indicator, "level": level, "last_update": available.last_update,
            "levels": available.levels, "period": period,
            "periods": periods, "within": within, "method": method, "palette": palette, "rows": result.rows,
            "classes": classes, "reference": reference, "selected": selected,
            "series": series_json(series) if series else None}


def _flemish_value(ctx, code: str, period: Optional[str]) -> Optional[float]:
    if period is None:
        return None
    try:
        rows = ops.query_observations(ctx, ObservationQuery(code, "gewest", period, ("2000",))).rows
    except NotFound:  # no regions in this geography
        return None
    return rows[0].value if rows else None


@router.get("/indicatoren/{code}", response_class=HTMLResponse)
def indicator_page(request: Request, ctx: CtxDep, lang: LangDep, code: str,
                   level: Optional[str] = None, period: Optional[str] = None, within: Optional[str] = None,
                   classes: str = "quantile", palette: str = "blues",
                   area: Annotated[Optional[list[str]], Query()] = None):
    view = _indicator_view(ctx, code, level, period, within, classes, palette, area or [])
    query = {"indicator": code, "level": view["level"], "period": view["period"] or ""}
    if within:
        query["within"] = within
    page_data = {
        "indicator": code, "level": view["level"], "period": view["period"], "lang": lang,
        "decimals": view["indicator"].decimals, "unit": view["indicator"].unit,
        "name": view["indicator"].name_en if lang == "en" else view["indicator"].name_nl,
        "geojson": f"/api/v1/levels/{view['level']}/geojson" + (f"?within={within}" if within else ""),
        "rows": [{**observation_json(r), "colour": view["classes"].colour_of(r.value)} for r in view["rows"]],
        "selected": view["selected"], "series": view["series"], "reference": view["reference"],
    }
    return render(request, "indicator.html", lang, **view, query=urlencode(query),
                  page_json=script_json(page_data), methods=METHODS, palettes=PALETTES)


# Registered before /gebieden/{level}/{code}: that route would otherwise take "44021.pdf" as the code.
@router.get("/gebieden/{level}/{code}.pdf")
def area_pdf(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str,
             ref: Annotated[Optional[list[str]], Query()] = None):
    refs = parse_refs(ref, code)
    pdf = ops.factsheet_pdf(ctx, level, code, refs, lang)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="steekkaart-{level}-{code}.pdf"'})


@router.get("/gebieden/{level}/{code}", response_class=HTMLResponse)
def area_page(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str,
              ref: Annotated[Optional[list[str]], Query()] = None):
    refs = parse_refs(ref, code)
    sheet = ops.area_factsheet(ctx, level, code, refs)
    ref_query = urlencode([("ref", f"{r.level}:{r.code}") for r in sheet.references]) if ref else ""
    return render(request, "area.html", lang, sheet=sheet, ref_query=ref_query,
                  page_json=script_json(factsheet_json(sheet)))


@router.get("/vergelijk", response_class=HTMLResponse)
def compare_page(request: Request, ctx: CtxDep, lang: LangDep,
                 area: Annotated[Optional[list[str]], Query()] = None,
                 indicator: Annotated[Optional[list[str]], Query()] = None):
    areas = [parse_area_key(a) for a in (area or [])][:12]
    all_indicators = ops.list_indicators(ctx)
    codes = [c for c in (indicator or []) if any(i.code == c for i in all_indicators)][:20] or \
        ["pop_total", "share_65plus", "share_non_belgian", "inc_mean_per_inhabitant", "land_built_share"]
    series = ops.area_series(ctx, codes, areas) if areas else Series([], {})
    return render(request, "compare.html", lang, areas=series.areas, codes=codes,
                  indicators={i.code: i for i in all_indicators}, rows=series.rows,
                  page_json=script_json(series_json(series)),
                  query=urlencode([("area", f"{lvl}:{c}") for lvl, c in areas] + [("indicator", c) for c in codes]))


@router.get("/zoeken", response_class=HTMLResponse)
def search_page(request: Request, ctx: CtxDep, lang: LangDep, q: str = ""):
    results = ops.search(ctx, q) if q.strip() else {"indicators": [], "areas": []}
    return render(request, "search.html", lang, q=q, results=results)


@router.get("/dashboards/{slug}", response_class=HTMLResponse)
def dashboard_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str,
                   area: Optional[str] = None, period: Optional[str] = None):
    view = ops.dashboard_view(ctx, slug, area=area, period=period, lang=lang)
    return render(request, "dashboard.html", lang, board=view.board, tiles=view.tiles, area=view.area, period=period,
                  page_json=script_json({"tiles": [t.data for t in view.tiles]}))


@router.get("/verhalen/{slug}", response_class=HTMLResponse)
def story_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str):
    view = ops.story_view(ctx, slug, lang=lang)
    tiles = [t for kind, t in view.segments if kind == "tile"]
    return render(request, "story.html", lang, story=view.story, segments=view.segments,
                  page_json=script_json({"tiles": [t.data for t in tiles]}))
