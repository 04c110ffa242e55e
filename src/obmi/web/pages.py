"""Public HTML pages ("Stad in cijfers"). Server-rendered; JavaScript only adds the linked map,
charts and table sorting on top of content that is complete without it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import parse_area_key
from obmi.indicators.periods import period_sort_key
from obmi.operations import ObservationQuery
from obmi.operations.statistics import LevelInfo, Series
from obmi.publish.classify import METHODS, PALETTES, classify
from obmi.web import i18n
from obmi.web.api import parse_refs
from obmi.web.deps import CtxDep, LangDep
from obmi.web.rendering import origin_words, render, script_json
from obmi.web.serialize import factsheet_json, observation_json, series_json

router = APIRouter(include_in_schema=False)
DEFAULT_LEVELS = ("gemeente", "ggw7", "provincie")

# --- honest empty states ---------------------------------------------------------------------
# Wherever a level, period or area has no data (or no geometry) a page says so in words and
# offers links to what does exist; it never prints "None", draws an empty map or chart, or
# silently shows another period or level than the one asked for.

# Levels in sentences ("Geen gegevens voor wijken in 2015"), by level family; a version level
# keeps the bracketed part of its name ("gemeenten (tot 2018)"). Other levels use their name.
LEVEL_PLURALS = {
    "statsec": ("statistische sectoren", "statistical sectors"), "ggw7": ("wijken", "neighbourhoods"),
    "deelgemeente": ("deelgemeenten", "former municipalities"), "gemeente": ("gemeenten", "municipalities"),
    "arrondiss": ("arrondissementen", "districts"), "provincie": ("provincies", "provinces"),
    "gewest": ("gewesten", "regions"), "belgie": ("België", "Belgium"),
}
NEAREST_PERIODS = 3


@dataclass
class EmptyState:
    """What a page (or one tile) says when it has nothing to show: a sentence in words, more
    sentences, and links to what does exist. Rendered by macros.empty_state with role=status."""

    title: str
    lines: list[str] = field(default_factory=list)
    offers_label: str = ""
    offers: list[tuple[str, str]] = field(default_factory=list)  # (label, url)


def _t(lang: str, text: str, **values: object) -> str:
    """A UI sentence in the page's language, with %(name)s placeholders filled in."""
    translated = i18n.translate(lang, text)
    return translated % values if values else translated


def _levels_by_code(ctx) -> dict[str, LevelInfo]:
    return {lvl.code: lvl for lvl in ops.list_levels(ctx)}


def level_name(info: Optional[LevelInfo], code: str, lang: str) -> str:
    """A level's own name ("Wijk", "Gemeente (tot 2018)") for selectors and captions."""
    if info is None:
        return code
    return info.name_en if lang == "en" and info.name_en else info.name_nl


def level_words(info: Optional[LevelInfo], code: str, lang: str) -> str:
    """A level in a sentence, plural: "wijken", "gemeenten (tot 2018)", "neighbourhoods"."""
    name = level_name(info, code, lang)
    plural = LEVEL_PLURALS.get(info.family) if info is not None and not info.user_defined else None
    if plural is None:
        return name
    suffix = name[name.index("("):] if "(" in name else ""
    return f"{plural[1] if lang == 'en' else plural[0]} {suffix}".strip()


def _month_index(period: str) -> Optional[int]:
    key = period_sort_key(period)
    return None if key[0] == 9999 else key[0] * 12 + key[1]


def nearest_periods(wanted: str, periods: list[str], n: int = NEAREST_PERIODS) -> list[str]:
    """The `n` periods with data closest in time to `wanted` (in time order); the most recent
    ones when `wanted` is not a period at all."""
    target = _month_index(wanted)
    if target is None:
        return periods[-n:]

    def distance(p: str) -> tuple:
        at = _month_index(p)
        return (abs(at - target), -at) if at is not None else (10 ** 9, 0)
    return sorted(sorted(periods, key=distance)[:n], key=period_sort_key)


def _url(path: str, params: list[tuple[str, Optional[str]]]) -> str:
    # ":" stays readable in LEVEL:CODE references, as in the links the templates write.
    return f"{path}?{urlencode([(k, v) for k, v in params if v is not None and v != ''], safe=':')}"


def _period_offers(wanted: str, periods: list[str], link) -> list[tuple[str, str]]:
    """Links to the nearest periods with data and to the most recent one."""
    offers = [(p, link(p)) for p in nearest_periods(wanted, periods)]
    if periods and periods[-1] not in [p for p, _ in offers]:
        offers.append((periods[-1], link(periods[-1])))
    return offers


def _published(points) -> bool:
    return any(p.value is not None for p in points)


def _published_points(points: list[dict]) -> bool:
    """The same for points as JSON (dashboard tiles)."""
    return any(p["value"] is not None for p in points)


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


def _indicator_view(ctx, lang: str, code: str, level: Optional[str], period: Optional[str], within: Optional[str],
                    method: str, palette: str, areas: list[str]) -> dict:
    if method not in METHODS or palette not in PALETTES:
        raise ValidationError("unknown classification or palette",
                              {"classes": [f"one of {', '.join(METHODS)}"], "palette": [f"one of {', '.join(PALETTES)}"]})
    available = ops.indicator_availability(ctx, code)  # NotFound: no such indicator (for this actor)
    ind = available.indicator
    infos = _levels_by_code(ctx)
    chosen = level or next((lvl for lvl in DEFAULT_LEVELS if lvl in available.levels),
                           available.levels[0] if available.levels else None)
    # NotFound for a level that does not exist; periods [] for a level without data.
    periods = ops.indicator_availability(ctx, code, chosen).periods if chosen else []
    words = level_words(infos.get(chosen), chosen, lang) if chosen else ""
    no_data = _t(lang, "geen gegevens")

    def link(**changes: Optional[str]) -> str:
        params = {"level": chosen, "period": period, "within": within,
                  "classes": None if method == "quantile" else method,
                  "palette": None if palette == "blues" else palette, **changes}
        return _url(f"/indicatoren/{code}", [*params.items(), *[("area", a) for a in areas], ("lang", lang)])

    # The level selector lists the levels with data; a requested level without data stays
    # selected, marked "geen gegevens", so the form never claims to show another level.
    shown_levels = list(available.levels) + ([chosen] if chosen and chosen not in available.levels else [])
    shown_levels.sort(key=lambda lvl: infos[lvl].sort_order if lvl in infos else 0)
    level_options = [(lvl, level_name(infos.get(lvl), lvl, lang)
                      + ("" if lvl in available.levels else f" ({no_data})")) for lvl in shown_levels]
    view: dict[str, Any] = {
        "indicator": ind, "level": chosen, "level_label": level_name(infos.get(chosen), chosen, lang) if chosen else "",
        "last_update": available.last_update, "level_options": level_options, "period": None, "periods": periods,
        "period_options": [(p, p) for p in periods], "within": within, "method": method, "palette": palette,
        "rows": [], "classes": classify([], method, palette), "reference": None, "selected": [], "series": None,
        "empty": None, "notice": None, "map_notice": None, "has_map": False, "has_chart": False, "origins": {}}
    other_levels = [(level_words(infos.get(lvl), lvl, lang), link(level=lvl, period=None, within=None))
                    for lvl in available.levels if lvl != chosen]

    if chosen is None:  # in the catalogue, but nothing delivered yet
        theme = ind.themes[0] if ind.themes else None
        view["empty"] = EmptyState(
            _t(lang, "Er zijn nog geen gegevens voor deze indicator."),
            offers_label=_t(lang, "Wel beschikbaar:") if theme else "",
            offers=[(_t(lang, "de andere indicatoren van dit thema"), _url(f"/themas/{theme}", [("lang", lang)]))]
            if theme else [])
        return view
    if not periods:
        view["empty"] = EmptyState(_t(lang, "Er zijn nog geen gegevens op het niveau %(level)s.", level=words),
                                   offers_label=_t(lang, "Wel gegevens voor:"), offers=other_levels)
        return view
    if period is not None and period not in periods:  # never silently another period
        view["period"] = period
        view["period_options"] = sorted(view["period_options"] + [(period, f"{period} ({no_data})")],
                                        key=lambda option: period_sort_key(option[0]))
        view["empty"] = EmptyState(
            _t(lang, "Geen gegevens voor %(level)s in %(period)s.", level=words, period=period),
            lines=[_t(lang, "Voor %(level)s zijn er gegevens van %(first)s tot en met %(last)s.",
                      level=words, first=periods[0], last=periods[-1])],
            offers_label=_t(lang, "Periodes met gegevens, het dichtst bij %(period)s:", period=period)
            if _month_index(period) is not None else _t(lang, "De meest recente periodes met gegevens:"),
            offers=_period_offers(period, periods, lambda p: link(period=p)))
        return view

    period = period or periods[-1]
    view["period"] = period
    within_key = parse_area_key(within, "within") if within else None
    result = ops.query_observations(ctx, ObservationQuery(code, chosen, period, (), within_key))
    rows = result.rows
    if not rows:  # e.g. within an area that has no areas of this level, or none with data
        within_name = ops.area_series(ctx, [], [within_key]).areas[0].name if within_key else ""
        view["empty"] = EmptyState(
            _t(lang, "Geen gegevens voor %(level)s in %(area)s in %(period)s.", level=words, area=within_name,
               period=period) if within_name else
            _t(lang, "Geen gegevens voor %(level)s in %(period)s.", level=words, period=period),
            offers_label=_t(lang, "Wel gegevens voor:"),
            offers=[(_t(lang, "alle %(level)s", level=words), link(within=None))] + other_levels)
        return view

    reference = _flemish_value(ctx, code, period)
    published = [r for r in rows if r.value is not None]
    classes = classify([r.value for r in rows], method, palette, reference)
    info = infos.get(chosen)
    shaped = info is not None and info.with_geometry > 0
    if not published:
        others = [p for p in periods if p != period]
        view["notice"] = EmptyState(
            _t(lang, "Geen gepubliceerde waarden voor %(level)s in %(period)s: alle waarden zijn onderdrukt "
                     "of ontbreken.", level=words, period=period),
            lines=[_t(lang, "Daarom zijn er geen kaart en geen rangorde; de tabel toont de status per gebied.")],
            offers_label=_t(lang, "Periodes met gegevens, het dichtst bij %(period)s:", period=period)
            if others else "",
            offers=_period_offers(period, others, lambda p: link(period=p)) if others else [])
    elif not shaped:
        view["map_notice"] = EmptyState(
            _t(lang, "Geen kaart voor %(level)s: voor dit niveau zijn er geen gebiedsgrenzen.", level=words),
            lines=[_t(lang, "De rangorde en de tabel tonen alle cijfers.")])
    selected = [a for a in areas if any(r.area_code == a for r in rows)]
    series = ops.area_series(ctx, [code], [(chosen, a) for a in selected], with_ancestors=True) if selected else None
    view.update(rows=rows, classes=classes, reference=reference, selected=selected, origins=_origins(ctx, lang, ind, rows),
                series=series_json(series) if series else None,
                has_map=bool(published) and shaped, has_chart=bool(published))
    return view


def _origins(ctx, lang: str, ind, rows) -> dict[str, dict]:
    """Where the table's values come from, per origin present (in the order of obmi.publish.signs):
    marker and words, a derived value naming the indicators it is computed from."""
    present = {r.origin for r in rows if r.origin}
    found = {}
    for origin in ("source", "aggregated", "reexpressed", "derived"):
        words = origin_words(origin, lang) if origin in present else None
        if words is None:
            continue
        if origin == "derived" and (ind.numerator or ind.formula):
            if ind.numerator:
                names = {i.code: i18n.pick(lang, i.name_nl, i.name_en) for i in ops.list_indicators(ctx)}
                parts = " / ".join(names.get(c, c) for c in (ind.numerator, ind.denominator) if c)
                words["label"] += f": {parts}"
            else:
                words["label"] += f" ({_t(lang, 'formule')}: {ind.formula})"
        found[origin] = words
    return found


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
    view = _indicator_view(ctx, lang, code, level, period, within, classes, palette, area or [])
    query = {"indicator": code, "level": view["level"] or "", "period": view["period"] or ""}
    if within:
        query["within"] = within
    query = {k: v for k, v in query.items() if v}
    ind = view["indicator"]
    page_data: dict[str, Any] = {"indicator": code, "level": view["level"], "lang": lang}
    if view["empty"] is None:
        page_data.update({
            "period": view["period"], "decimals": ind.decimals, "unit": ind.unit,
            "name": ind.name_en if lang == "en" and ind.name_en else ind.name_nl,
            "geojson": (f"/api/v1/levels/{view['level']}/geojson" + (f"?within={within}" if within else ""))
            if view["has_map"] else None,
            "chart": view["has_chart"],
            "rows": [{**observation_json(r), "colour": view["classes"].colour_of(r.value)} for r in view["rows"]],
            "selected": view["selected"], "series": view["series"], "reference": view["reference"],
        })
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
    empty = _area_empty_state(ctx, sheet, lang) if not sheet.sections else None
    return render(request, "area.html", lang, sheet=sheet, ref_query=ref_query, empty=empty,
                  page_json=script_json(factsheet_json(sheet)))


def _level_has_data(ctx, level: str, indicators) -> bool:
    """Whether any indicator the actor sees has data at `level` (stops at the first that has)."""
    return any(level in ops.indicator_availability(ctx, ind.code).levels for ind in indicators)


def _areas_with_data(ctx, codes: list[str], areas) -> list:
    """Those of `areas` (AreaRefs) with at least one published value for one of `codes`."""
    if not areas or not codes:
        return []
    rows = ops.area_series(ctx, codes, [(a.level, a.code) for a in areas]).rows
    return [a for a in areas if any(_published(rows.get((c, a.id), [])) for c in codes)]


def _area_label(area, infos: dict[str, LevelInfo], lang: str) -> str:
    return f"{area.name} ({level_name(infos.get(area.level), area.level, lang).lower()})"


def _area_empty_state(ctx, sheet, lang: str) -> EmptyState:
    """A fact sheet without figures: say so, say whether the whole level lacks data, and link to
    the fact sheets of the areas it lies in that do have figures."""
    area = sheet.area
    infos = _levels_by_code(ctx)
    words = level_words(infos.get(area.level), area.level, lang)
    indicators = ops.list_indicators(ctx)
    lines = [_t(lang, "Er zijn nog geen gegevens op het niveau %(level)s.", level=words)
             if not _level_has_data(ctx, area.level, indicators) else
             _t(lang, "Voor andere %(level)s zijn er wel cijfers.", level=words)]
    found = _areas_with_data(ctx, [i.code for i in indicators], sheet.references)
    offers = [(_area_label(r, infos, lang), _url(f"/gebieden/{r.level}/{r.code}", [("lang", lang)])) for r in found]
    if not offers:
        lines.append(_t(lang, "Zoek een ander gebied met het zoekveld bovenaan de pagina."))
    return EmptyState(_t(lang, "Voor %(area)s zijn er (nog) geen cijfers.", area=area.name), lines=lines,
                      offers_label=_t(lang, "Wel cijfers voor:") if offers else "", offers=offers)


@router.get("/vergelijk", response_class=HTMLResponse)
def compare_page(request: Request, ctx: CtxDep, lang: LangDep,
                 area: Annotated[Optional[list[str]], Query()] = None,
                 indicator: Annotated[Optional[list[str]], Query()] = None):
    areas = [parse_area_key(a) for a in (area or [])][:12]
    all_indicators = ops.list_indicators(ctx)
    codes = [c for c in (indicator or []) if any(i.code == c for i in all_indicators)][:20] or \
        ["pop_total", "share_65plus", "share_non_belgian", "inc_mean_per_inhabitant", "land_built_share"]
    series = ops.area_series(ctx, codes, areas) if areas else Series([], {})
    empty = _compare_empty_states(ctx, series, codes, lang)
    any_data = any(_published(points) for points in series.rows.values())
    return render(request, "compare.html", lang, areas=series.areas, codes=codes,
                  indicators={i.code: i for i in all_indicators}, rows=series.rows, empty=empty, any_data=any_data,
                  page_json=script_json(series_json(series) if any_data else {}),
                  query=urlencode([("area", f"{lvl}:{c}") for lvl, c in areas] + [("indicator", c) for c in codes]))


def _compare_empty_states(ctx, series: Series, codes: list[str], lang: str) -> list[EmptyState]:
    """One notice per compared area without any published value for the chosen indicators,
    offering to compare the areas it lies in instead (those that have data)."""
    infos = _levels_by_code(ctx)
    keys = [(a.level, a.code) for a in series.areas]
    states = []
    for area in series.areas:
        if any(_published(series.rows.get((c, area.id), [])) for c in codes):
            continue
        parents = ops.area_series(ctx, [], [(area.level, area.code)], with_ancestors=True).areas[1:]
        offers = []
        for parent in _areas_with_data(ctx, codes, parents):
            swapped = [(parent.level, parent.code) if k == (area.level, area.code) else k for k in keys]
            if (parent.level, parent.code) in keys:
                swapped = [k for k in keys if k != (area.level, area.code)]
            offers.append((_area_label(parent, infos, lang), _url("/vergelijk", [
                *[("area", f"{lvl}:{c}") for lvl, c in dict.fromkeys(swapped)],
                *[("indicator", c) for c in codes], ("lang", lang)])))
        states.append(EmptyState(
            _t(lang, "Geen gegevens voor %(area)s bij deze indicatoren.", area=_area_label(area, infos, lang)),
            offers_label=_t(lang, "Vergelijk in de plaats daarvan met:") if offers else "", offers=offers))
    return states


@router.get("/zoeken", response_class=HTMLResponse)
def search_page(request: Request, ctx: CtxDep, lang: LangDep, q: str = ""):
    results = ops.search(ctx, q) if q.strip() else {"indicators": [], "areas": []}
    return render(request, "search.html", lang, q=q, results=results)


@router.get("/dashboards/{slug}", response_class=HTMLResponse)
def dashboard_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str,
                   area: Optional[str] = None, period: Optional[str] = None):
    view = ops.dashboard_view(ctx, slug, area=area, period=period, lang=lang)
    infos = _levels_by_code(ctx)

    def link(p: Optional[str]) -> str:
        return _url(f"/dashboards/{slug}", [("area", area), ("period", p), ("lang", lang)])
    states = [_tile_state(ctx, t, lang, infos, period, link) for t in view.tiles]
    notice = _dashboard_notice(ctx, view, lang, infos, slug, period)
    return render(request, "dashboard.html", lang, board=view.board, tiles=view.tiles, area=view.area, period=period,
                  states=states, notice=notice, page_json=script_json({"tiles": [t.data for t in view.tiles]}))


@router.get("/verhalen/{slug}", response_class=HTMLResponse)
def story_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str):
    view = ops.story_view(ctx, slug, lang=lang)
    tiles = [t for kind, t in view.segments if kind == "tile"]
    infos = _levels_by_code(ctx)
    states = [_tile_state(ctx, t, lang, infos, None, lambda p: "") for t in tiles]
    return render(request, "story.html", lang, story=view.story, segments=view.segments, states=states,
                  page_json=script_json({"tiles": [t.data for t in tiles]}))


@dataclass
class TileState:
    """What a dashboard or story tile can show: nothing (`empty` says why), or its visual with
    a note on the areas without data (`missing`), or its table without a map (`no_map`)."""

    empty: Optional[EmptyState] = None
    no_map: Optional[EmptyState] = None
    missing: list[str] = field(default_factory=list)


def _tile_state(ctx, tile, lang: str, infos: dict[str, LevelInfo], period: Optional[str], link) -> TileState:
    d = tile.data
    state = TileState()
    if d.get("type") == "text":
        return state
    if "rows" in d:  # bar and map tiles: one indicator over the areas of a level
        level = d["level"]
        words = level_words(infos.get(level), level, lang)
        if not _published_points(d["rows"]):
            periods = ops.indicator_availability(ctx, d["indicators"][0]["code"], level).periods
            if not periods:
                state.empty = EmptyState(_t(lang, "Er zijn nog geen gegevens op het niveau %(level)s.", level=words))
            elif period and period not in periods:
                state.empty = EmptyState(
                    _t(lang, "Geen gegevens voor %(level)s in %(period)s.", level=words, period=period),
                    offers_label=_t(lang, "Periodes met gegevens, het dichtst bij %(period)s:", period=period),
                    offers=_period_offers(period, periods, link))
            else:
                state.empty = EmptyState(_t(lang, "Geen gepubliceerde waarden voor %(level)s in %(period)s: alle "
                                                  "waarden zijn onderdrukt of ontbreken.", level=words,
                                            period=period or periods[-1]))
        elif d["type"] == "map" and (level not in infos or infos[level].with_geometry == 0):
            state.no_map = EmptyState(
                _t(lang, "Geen kaart voor %(level)s: voor dit niveau zijn er geen gebiedsgrenzen.", level=words),
                lines=[_t(lang, "De tabel hieronder toont de cijfers.")])
        return state
    series = d.get("series", [])
    shown = {s["area"] for s in series if _published_points(s["points"])}
    if not shown:
        subject = series[0]["area"] if series else d.get("subject", "")
        state.empty = EmptyState(
            _t(lang, "Geen gegevens voor %(area)s tot en met %(period)s.", area=subject, period=period) if period else
            _t(lang, "Geen gegevens voor %(area)s.", area=subject),
            offers_label=_t(lang, "Wel beschikbaar:") if period else "",
            offers=[(_t(lang, "de meest recente cijfers"), link(None))] if period else [])
    else:
        state.missing = list(dict.fromkeys(s["area"] for s in series if s["area"] not in shown))
    return state


def _dashboard_notice(ctx, view, lang: str, infos: dict[str, LevelInfo], slug: str,
                      period: Optional[str]) -> Optional[EmptyState]:
    """The chosen area has no figure in any of the dashboard's area tiles: say so once, and offer
    the dashboard for the areas it lies in that do have figures."""
    about_area = [t for t in view.tiles if "series" in t.data and t.data.get("subject") == view.area]
    if not about_area or any(x["area_code"] == t.data["highlight"] and _published_points(x["points"])
                             for t in about_area for x in t.data["series"]):
        return None
    refs = ops.area_series(ctx, [], [parse_area_key(view.area)], with_ancestors=True).areas
    codes = list(dict.fromkeys(i["code"] for t in view.tiles for i in t.data.get("indicators", [])))
    if _areas_with_data(ctx, codes, refs[:1]):  # figures, only not up to this period: the tiles say so
        return None
    found = _areas_with_data(ctx, codes, refs[1:])
    offers = [(_area_label(r, infos, lang), _url(f"/dashboards/{slug}", [("area", f"{r.level}:{r.code}"),
                                                                        ("period", period), ("lang", lang)]))
              for r in found]
    return EmptyState(_t(lang, "Voor %(area)s zijn er (nog) geen cijfers in dit dashboard.",
                         area=_area_label(refs[0], infos, lang)),
                      offers_label=_t(lang, "Toon dit dashboard voor:") if offers else "", offers=offers)
