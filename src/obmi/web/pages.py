"""Public HTML pages ("Stad in cijfers"). Server-rendered; JavaScript only adds the linked map,
charts and table sorting on top of content that is complete without it."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obmi import operations as ops
from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import parse_area_key
from obmi.indicators.periods import period_sort_key
from obmi.operations import ObservationQuery
from obmi.operations.statistics import LevelInfo, Series
from obmi.publish import labels
from obmi.publish.classify import MANUAL, MAX_CLASSES, METHODS, MIN_CLASSES, PALETTES, Choice, Classes, classify, parse_choice
from obmi.reports.factsheet import change_words, merged_sources
from obmi.web import i18n
from obmi.web.api import parse_refs
from obmi.web.area_picker import is_area_key, look_up, picked, tree_in_language
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import SearchText
from obmi.web.region_choice import OFFERED, RegionChoice, filters_level, parse_region, region_name, region_options
from obmi.web.rendering import origin_words, render, script_json
from obmi.web.serialize import factsheet_json, observation_json, series_json

router = APIRouter(include_in_schema=False)
DEFAULT_LEVELS = ("gemeente", "ggw7", "provincie")

# --- honest empty states ---------------------------------------------------------------------
# Wherever a level, period or area has no data (or no geometry) a page says so in words and
# offers links to what does exist; it never prints "None", draws an empty map or chart, or
# silently shows another period or level than the one asked for.

NEAREST_PERIODS = 3


@dataclass
class EmptyState:
    """What a page (or one tile) says when it has nothing to show: a sentence in words, more
    sentences, and links to what does exist. Rendered by macros.empty_state with role=status."""

    title: str
    lines: list[str] = field(default_factory=list)
    offers_label: str = ""
    offers: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    unknown: bool = False  # what was asked for does not exist (the page answers 404)


def _t(lang: str, text: str, **values: object) -> str:
    """A UI sentence in the page's language, with %(name)s placeholders filled in."""
    translated = i18n.translate(lang, text)
    return translated % values if values else translated


def _levels_by_code(ctx) -> dict[str, LevelInfo]:
    return {lvl.code: lvl for lvl in ops.list_levels(ctx)}


def level_name(info: Optional[LevelInfo], code: str, lang: str) -> str:
    """A level's human name with its boundary version ("Gemeente (indeling 2025)", "Wijk") for
    selectors, captions and breadcrumbs (obmi.publish.labels)."""
    return labels.level_label(code, lang, info.name_nl, info.name_en) if info else labels.level_label(code, lang)


def level_words(info: Optional[LevelInfo], code: str, lang: str) -> str:
    """A level in a sentence, plural: "wijken", "gemeenten (tot 2018)", "neighbourhoods"."""
    if info is None:
        return labels.level_plural(code, None, lang)
    return labels.level_plural(code, info.family, lang, info.name_nl, info.name_en)


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
    return f"{path}?{urlencode([(k, v) for k, v in params if v is not None and v != ''], safe=':,')}"


def _period_offers(wanted: str, periods: list[str], link) -> list[tuple[str, str]]:
    """Links to the nearest periods with data and to the most recent one."""
    offers = [(p, link(p)) for p in nearest_periods(wanted, periods)]
    if periods and periods[-1] not in [p for p, _ in offers]:
        offers.append((periods[-1], link(periods[-1])))
    return offers


# A level or area in the URL that does not exist (a typo, an old link) is said in words, with
# links to the nearest valid choices: never an English error, never silently something else.
NEAREST_AREAS = 5


def unknown_level_state(ctx, lang: str, level: str, link, offered: Optional[list[str]] = None) -> EmptyState:
    """`level` is no area level: offer `offered` (default: every level with areas) as `link(code)`."""
    infos = _levels_by_code(ctx)
    codes = offered if offered is not None else [code for code, info in infos.items() if info.areas]
    return EmptyState(_t(lang, "Het gebiedsniveau “%(level)s” bestaat niet.", level=level),
                      offers_label=_t(lang, "Kies een van deze niveaus:") if codes else "",
                      offers=[(level_name(infos.get(code), code, lang), link(code)) for code in codes], unknown=True)


def nearest_areas(ctx, level: str, code: str, n: int = NEAREST_AREAS) -> list:
    """The `n` areas of `level` whose codes look most like `code`: longest common start, then
    the nearest number (a mistyped NIS code lands among its neighbours)."""
    def likeness(item) -> tuple:
        shared = len(os.path.commonprefix([item.code, code]))
        gap = abs(int(item.code) - int(code)) if item.code.isdigit() and code.isdigit() else 0
        return -shared, gap, item.code
    return sorted(ops.list_areas(ctx, level), key=likeness)[:n]


def unknown_area_state(ctx, lang: str, level: str, code: str, link) -> EmptyState:
    """No area `code` at `level`: offer the areas with the nearest codes (`link(code)`) and the level's list."""
    words = level_words(_levels_by_code(ctx).get(level), level, lang)
    offers = [(f"{item.name} ({item.code})", link(item.code)) for item in nearest_areas(ctx, level, code)]
    offers.append((_t(lang, "alle %(level)s", level=words), _url(f"/gebieden/{level}", [("lang", lang)])))
    return EmptyState(_t(lang, "Er is geen gebied met code “%(code)s” bij de %(level)s.", code=code, level=words),
                      offers_label=_t(lang, "Bedoelde u:"), offers=offers, unknown=True)


def area_key_problem(ctx, lang: str, text: str, link) -> tuple[Optional[tuple[str, str]], Optional[EmptyState]]:
    """A LEVEL:CODE from the URL as (key, None) when it names an area, else (None, what is wrong);
    `link(level, code)` is the page for another choice."""
    try:
        level, code = parse_area_key(text)
    except ValidationError:
        return None, EmptyState(_t(lang, "“%(given)s” is geen gebied: schrijf NIVEAU:CODE, bijvoorbeeld "
                                         "gemeente:44021.", given=text))
    if level not in _levels_by_code(ctx):
        return None, unknown_level_state(ctx, lang, level, lambda lvl: link(lvl, code), _levels_with_area(ctx, code))
    if not ops.list_areas(ctx, level, codes=[code], include_unknown=True):
        return None, unknown_area_state(ctx, lang, level, code, lambda other: link(level, other))
    return (level, code), None


def typed_areas(ctx, lang: str, texts: Optional[list[str]], link,
                presets: tuple[str, ...] = ()) -> tuple[list[str], list[EmptyState]]:
    """What an area picker sent: LEVEL:CODE (and `presets`) as they are, a name typed without
    JavaScript looked up as the type-ahead does — its area, or a notice offering the areas it
    may mean (`link(text, key)`: the page with that area instead). Empty fields are ignored."""
    kept: list[str] = []
    problems = []
    for text in (t.strip() for t in texts or []):
        if not text or is_area_key(text) or text in presets:
            kept += [text] if text else []
            continue
        found = look_up(ctx, text, lang)
        if found.key is not None:
            kept.append(found.key)
            continue
        problems.append(EmptyState(
            _t(lang, "Meerdere gebieden passen bij “%(given)s”.", given=text) if found.offers else
            _t(lang, "Geen gebied gevonden voor “%(given)s”.", given=text),
            lines=[] if found.offers else [_t(lang, "Typ het begin van een naam, bijvoorbeeld “Gent” of "
                                                    "“Borsbeek”, of kies uit de lijst.")],
            offers_label=_t(lang, "Bedoelde u:") if found.offers else "",
            offers=[(label, link(text, key)) for label, key in found.offers]))
    return list(dict.fromkeys(kept)), problems


def _levels_with_area(ctx, code: str) -> Optional[list[str]]:
    """The levels that have an area `code` (None: none has, so every level is worth offering)."""
    found = [lvl.code for lvl in ops.list_levels(ctx) if lvl.areas and ops.list_areas(ctx, lvl.code, codes=[code])]
    return found or None


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
    return render(request, "theme.html", lang, theme=theme, indicators=by_name(indicators, lang))


def by_name(indicators: list, lang: str) -> list:
    """Indicators in alphabetical order of their name in the page's language (accents and case
    ignored, as a reader looks them up), the code breaking ties."""
    def key(ind: Any) -> tuple[str, str]:
        name = unicodedata.normalize("NFKD", i18n.pick(lang, ind.name_nl, ind.name_en))
        return "".join(c for c in name if not unicodedata.combining(c)).casefold(), ind.code
    return sorted(indicators, key=key)


def _indicator_view(ctx, lang: str, code: str, level: Optional[str], period: Optional[str], within: Optional[str],
                    choice: Choice, areas: list[str], region: Optional[RegionChoice] = None) -> dict:
    method, palette = choice.method, choice.palette
    region = region or RegionChoice(OFFERED[:1], OFFERED[:1])
    available = ops.indicator_availability(ctx, code)  # NotFound: no such indicator (for this actor)
    ind = available.indicator
    infos = _levels_by_code(ctx)
    chosen = level or next((lvl for lvl in DEFAULT_LEVELS if lvl in available.levels),
                           available.levels[0] if available.levels else None)
    # periods [] for a level without data, or one that does not exist (said below, with the levels there are).
    periods = ops.indicator_availability(ctx, code, chosen).periods if chosen in infos else []
    words = level_words(infos.get(chosen), chosen, lang) if chosen else ""
    no_data = _t(lang, "geen gegevens")
    # The region choice filters the areas below the regions; at the regions and above it is moot.
    filtered = filters_level(chosen, {lvl: info.sort_order for lvl, info in infos.items()})
    regions = region.codes if filtered else ()

    def link(selection: Optional[list[str]] = None, **changes: Optional[str]) -> str:
        params = {"level": chosen, "period": period, "within": within, "region": region.param,
                  **_class_params(choice), **changes}
        picked = areas if selection is None else selection
        return _url(f"/indicatoren/{code}", [*params.items(), *[("area", a) for a in picked], ("lang", lang)])

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
        "choice": choice, "class_notices": [_t(lang, p.message, **p.values) for p in choice.problems],
        "period_classes": {}, "rows": [], "classes": classify([], method, palette), "reference": None, "selected": [],
        "series": None,
        "empty": None, "notice": None, "map_notice": None, "has_map": False, "has_chart": False, "origins": {}}
    view.update(region=region, regions=regions, region_options=region_options(lang) if filtered else [],
                references=[], region_notice=EmptyState(region.notice) if region.notice else None)
    other_levels = [(level_words(infos.get(lvl), lvl, lang), link(level=lvl, period=None, within=None))
                    for lvl in available.levels if lvl != chosen]

    if chosen is not None and chosen not in infos:  # no such level: the view shows none
        view["level"] = None
        view["empty"] = unknown_level_state(ctx, lang, chosen, lambda lvl: link(level=lvl, period=None, within=None),
                                            list(available.levels))
        return view
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
    result = ops.query_observations(ctx, ObservationQuery(code, chosen, period, (), within_key, regions=regions))
    rows = [r._replace(area_name=labels.area_name(r.level, r.area_code, r.area_name, lang)) for r in result.rows]
    if not rows:  # e.g. within an area that has no areas of this level, or none with data
        within_name = ops.area_series(ctx, [], [within_key]).areas[0].name if within_key else ""
        view["empty"] = EmptyState(
            _t(lang, "Geen gegevens voor %(level)s in %(area)s in %(period)s.", level=words, area=within_name,
               period=period) if within_name else
            _t(lang, "Geen gegevens voor %(level)s in %(period)s.", level=words, period=period),
            offers_label=_t(lang, "Wel gegevens voor:"),
            offers=[(_t(lang, "alle %(level)s", level=words), link(within=None))] + other_levels)
        return view

    if within_key:  # say that the page shows part of the level (after a change of level, too)
        inside = ops.area_series(ctx, [], [within_key]).areas[0]
        words_in = _t(lang, "%(level)s in %(area)s", level=words,
                      area=labels.area_name(inside.level, inside.code, inside.name, lang))
        view["within_note"] = (words_in[:1].upper() + words_in[1:],
                               _t(lang, "alle %(level)s", level=words), link(within=None))
    references = _region_references(ctx, lang, code, period, region.codes)
    reference = references[0][1] if references else None
    published = [r for r in rows if r.value is not None]
    view["period_classes"] = classes_by_period(ctx, code, chosen, within_key, choice, regions)
    classes = view["period_classes"].get(period) or classify([r.value for r in rows], method, palette, reference)
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
    view["area_notices"] = _unselectable_areas(ctx, lang, chosen, areas, [a for a in areas if a not in selected], link)
    series = _series_in_language(ops.area_series(ctx, [code], [(chosen, a) for a in selected], with_ancestors=True),
                                 lang) if selected else None
    view.update(rows=rows, classes=classes, reference=reference, references=references, selected=selected,
                origins=_origins(ctx, lang, ind, rows),
                series=series_json(series) if series else None,
                has_map=bool(published) and shaped, has_chart=bool(published))
    return view


def _unselectable_areas(ctx, lang: str, level: str, asked: list[str], codes: list[str], link) -> list[EmptyState]:
    """Why `codes` of the areas `asked` for with ?area= are not highlighted: no such area (with
    the nearest codes instead), or none of this table's rows."""
    states = []
    for code in codes:
        others = [a for a in asked if a != code]
        _, problem = area_key_problem(ctx, lang, f"{level}:{code}", lambda _lvl, c, rest=others: link(selection=[*rest, c]))
        states.append(problem or EmptyState(
            _t(lang, "Gebied %(code)s staat niet in deze tabel en is daarom niet aangeduid.", code=code),
            offers_label=_t(lang, "Wel beschikbaar:"), offers=[(_t(lang, "de pagina zonder dit gebied"),
                                                                link(selection=others))]))
    return states


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


# --- "Over deze indicator": what the figures are, when, on which boundaries ------------------

def _indicator_meta(ctx, lang: str, view: dict) -> dict:
    """The meta section's facts: numerator and denominator by name, what a share is measured
    against, the reference period of the figures next to the date of the last import, and the
    boundaries the figures are expressed on (with the mergers that make a journalist's Antwerpen
    2015 differ from Statbel's)."""
    ind = view["indicator"]
    catalogue = ops.list_indicators(ctx)
    names = {i.code: i18n.pick(lang, i.name_nl, i.name_en) for i in catalogue}
    definitions = {i.code: i.definition_nl for i in catalogue}
    parts = [(c, names.get(c, c)) for c in (ind.numerator, ind.denominator) if c]
    share_of = names.get(ind.denominator, ind.denominator) if ind.numerator and ind.unit == "%" else ""
    periods = view["periods"]
    on_first_of_january = any("op 1 januari" in definitions.get(c or "", "")
                              for c in (ind.code, ind.numerator, ind.denominator))
    latest = _period_words(periods[-1], lang, on_first_of_january) if periods else ""
    return {"ratio_parts": parts, "share_of": share_of, "latest_words": latest,
            "first_period": periods[0] if periods else None, "last_period": periods[-1] if periods else None,
            "last_update_words": i18n.date(view["last_update"], lang) if view["last_update"] else "",
            "boundaries": _boundaries(ctx, lang, view["level"], view["level_label"])}


def _period_words(period: str, lang: str, on_first_of_january: bool) -> str:
    """A period as its reference date: "toestand 1 januari 2015" (a stock counted on 1 January),
    "jaar 2015"; other periods as they are written."""
    if len(period) == 4 and period.isdigit():
        return _t(lang, "toestand op 1 januari %(year)s" if on_first_of_january else "jaar %(year)s", year=period)
    return period


def _boundaries(ctx, lang: str, level: Optional[str], label: str) -> Optional[dict]:
    """The boundaries of the figures in words, and per merged area the former areas it covers in
    every year ("Antwerpen omvat ook Borsbeek")."""
    if not level:
        return None
    merged = []
    for m in ops.level_mergers(ctx, level):
        others = [p for p in m.parts if p != m.name] if m.name in m.parts else list(m.parts)
        merged.append(_t(lang, "%(area)s omvat ook %(parts)s", area=m.name, parts=_and_list(others, lang)))
    return {"sentence": _t(lang, "%(level)s: de cijfers van alle jaren staan op deze grenzen.", level=label),
            "mergers": merged}


def _and_list(items: list[str], lang: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_t(lang, 'en')} {items[-1]}"


def _class_params(choice: Choice) -> dict[str, Optional[str]]:
    """The classification in a page's URL (what differs from the default)."""
    return {"classes": None if choice.method in ("quantile", MANUAL) else choice.method,
            "palette": None if choice.palette == "blues" else choice.palette,
            "class_count": None if choice.count == 5 else str(choice.count),
            "breaks": ";".join(f"{b:g}" for b in choice.breaks) or None,
            "same_classes": "1" if choice.same_for_all_periods else None}


def classes_by_period(ctx, code: str, level: str, within, choice: Choice,
                       regions: tuple[str, ...] = ()) -> dict[str, Classes]:
    """The classes of every period of the level, so that the period slider recolours the map as a
    page load would; with "same classes for all periods" one set over all of them (an animation
    then compares like with like). A diverging palette centres on each period's Flemish value
    (with the same classes: on the latest one's)."""
    rows = ops.query_observations(ctx, ObservationQuery(code, level, None, (), within, regions=regions)).rows
    values: dict[str, list[Optional[float]]] = {}
    for r in rows:
        values.setdefault(r.period, []).append(r.value)
    periods = sorted(values, key=period_sort_key)
    references = _flemish_values(ctx, code, regions[0] if regions else "2000")

    def make(data: list[Optional[float]], reference: Optional[float]) -> Classes:
        return classify(data, choice.method, choice.palette, reference, choice.count, choice.breaks)
    if choice.same_for_all_periods and periods:
        shared = make([v for p in periods for v in values[p]], references.get(periods[-1]))
        return {p: shared for p in periods}
    return {p: make(values[p], references.get(p)) for p in periods}


def _flemish_values(ctx, code: str, region: str = "2000") -> dict[str, Optional[float]]:
    """The reference region's value per period (the first region chosen; Flanders by default)."""
    try:
        rows = ops.query_observations(ctx, ObservationQuery(code, "gewest", None, (region,))).rows
    except NotFound:  # no regions in this geography
        return {}
    return {r.period: r.value for r in rows}


def _region_references(ctx, lang: str, code: str, period: Optional[str],
                       regions: tuple[str, ...]) -> list[tuple[str, Optional[float]]]:
    """(name, value) of each chosen region in `period`: the reference the page shows (the
    first is the middle of a diverging palette and the ranking's reference line)."""
    if period is None:
        return []
    try:
        rows = ops.query_observations(ctx, ObservationQuery(code, "gewest", period, regions)).rows
    except NotFound:  # no regions in this geography
        return []
    by_code = {r.area_code: r.value for r in rows}
    return [(region_name(c, lang), by_code[c]) for c in regions if by_code.get(c) is not None]


# --- another level: the chosen area follows ------------------------------------------------

def _area_on_level(ctx, key: tuple[str, str], level: str, regions: tuple[str, ...]):
    """ops.area_on_level, or None for an area or level that does not exist (the page says so)."""
    try:
        return ops.area_on_level(ctx, key, level, regions=regions)
    except NotFound:
        return None


def follow_level_change(ctx, old_level: str, new_level: str, areas: list[str], within: Optional[str],
                        regions: tuple[str, ...] = ()) -> tuple[list[str], Optional[str]]:
    """The chosen areas (of `old_level`) and `within` once the reader switched to `new_level`:
    each area becomes the area of the new level that contains it (a wijk → its gemeente, a
    gemeente → its provincie); going down, the first area with areas of the new level in it becomes
    `within` (a gemeente → its wijken). `within` stays while areas of the new level lie in it, else
    it becomes the chosen area when it is (or lies in) one of the new level. What has no place on
    the new level is dropped, so the page never highlights an area it does not show."""
    kept: list[str] = []
    inside: Optional[str] = None
    for code in areas:
        place = (_area_on_level(ctx, (old_level, code), new_level, regions)
                 or _area_on_level(ctx, (new_level, code), new_level, regions))  # already one of the new level
        if place is not None and place.code:
            kept.append(place.code)
        elif place is not None and place.contains and inside is None:
            inside = f"{old_level}:{code}"
    if within and inside is None:
        try:
            place = _area_on_level(ctx, parse_area_key(within, "within"), new_level, regions)
        except ValidationError:  # not LEVEL:CODE: left for the page to explain
            return list(dict.fromkeys(kept)), within
        if place is not None and place.contains:
            inside = within
        elif place is not None and place.code and not kept:
            kept.append(place.code)
    return list(dict.fromkeys(kept)), inside


def _level_change_redirect(request: Request, ctx, lang: str, old_level: str, new_level: Optional[str],
                           areas: list[str], within: Optional[str], region: Optional[str]) -> RedirectResponse:
    """The page of the new level with the areas carried over (follow_level_change), at its own
    address: a reader can bookmark or share what they see."""
    kept, inside = areas, within
    infos = _levels_by_code(ctx)
    if new_level in infos and old_level in infos and old_level != new_level:
        choice = parse_region(region, ctx.settings.home_region, lang)
        filtered = filters_level(new_level, {lvl: info.sort_order for lvl, info in infos.items()})
        kept, inside = follow_level_change(ctx, old_level, new_level, areas, within,
                                           choice.codes if filtered else ())
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("from_level", "area", "within")]
    url = _url(request.url.path, [*params, ("within", inside), *[("area", a) for a in kept]])
    return RedirectResponse(url, status_code=303)


@router.get("/indicatoren/{code}", response_class=HTMLResponse)
def indicator_page(request: Request, ctx: CtxDep, lang: LangDep, code: str,
                   level: Optional[str] = None, period: Optional[str] = None, within: Optional[str] = None,
                   classes: str = "quantile", palette: str = "blues", class_count: Optional[str] = None,
                   breaks: Optional[str] = None, same_classes: Optional[str] = None, region: Optional[str] = None,
                   area: Annotated[Optional[list[str]], Query()] = None, from_level: Optional[str] = None):
    if from_level:  # the form after a change of level: carry the chosen area over, then show that page
        return _level_change_redirect(request, ctx, lang, from_level, level, [a for a in area or [] if a],
                                      within, region)
    # Text, not int/bool: a bad value gets the default and a notice on the page, never a 422.
    choice = parse_choice(classes, palette, class_count, breaks, same_classes not in (None, "", "0"))
    regions = parse_region(region, ctx.settings.home_region, lang)
    view = _indicator_view(ctx, lang, code, level, period, within, choice, area or [], regions)
    view.update(_indicator_meta(ctx, lang, view))
    query = {"indicator": code, "level": view["level"] or "", "period": view["period"] or ""}
    if within:
        query["within"] = within
    if view["regions"]:  # downloads and the API give exactly the areas the page shows
        query["region"] = ",".join(view["regions"])
    query = {k: v for k, v in query.items() if v}
    ind = view["indicator"]
    page_data: dict[str, Any] = {"indicator": code, "level": view["level"], "lang": lang}
    if view["empty"] is None:
        page_data.update({
            "period": view["period"], "decimals": ind.decimals, "unit": ind.unit,
            "name": ind.name_en if lang == "en" and ind.name_en else ind.name_nl,
            "geojson": _url(f"/api/v1/levels/{view['level']}/geojson",
                            [("within", within), ("region", query.get("region"))]).rstrip("?")
            if view["has_map"] else None,
            "chart": view["has_chart"],
            "rows": [{**observation_json(r), "colour": view["classes"].colour_of(r.value)} for r in view["rows"]],
            "selected": view["selected"], "series": view["series"], "reference": view["reference"],
            "within": within, "region": query.get("region"), "periods": view["periods"],
            "sameClasses": view["choice"].same_for_all_periods,
            "classesByPeriod": {p: c.as_json() for p, c in view["period_classes"].items()},
            # The ranking's reference line per period (the slider), as classes_by_period centres on it.
            "referenceByPeriod": _flemish_values(ctx, code, (view["region"].codes or ("2000",))[0]),
            "referenceName": view["references"][0][0] if view["references"] else None,
        })
    status = 404 if view["empty"] is not None and view["empty"].unknown else 200  # a level that does not exist
    return render(request, "indicator.html", lang, status_code=status, **view, query=urlencode(query),
                  asked_areas=[a for a in dict.fromkeys(area or []) if a][:12],
                  page_json=script_json(page_data), methods=METHODS, palettes=PALETTES,
                  palette_labels=labels.palette_labels(lang, view["references"][0][0] if view["references"] else ""),
                  class_range=(MIN_CLASSES, MAX_CLASSES), manual=MANUAL, breaks_text=breaks or "")


# Registered before /gebieden/{level}/{code}: that route would otherwise take "44021.pdf" as the code.
@router.get("/gebieden/{level}/{code}.pdf")
def area_pdf(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str,
             ref: Annotated[Optional[list[str]], Query()] = None):
    problem = _area_problem(ctx, lang, level, code)
    if problem is not None:  # as the HTML fact sheet answers: in words, with the nearest choices
        return render(request, "area_index.html", lang, status_code=404, groups=[], notice=problem)
    refs = parse_refs(ref, code)
    pdf = ops.factsheet_pdf(ctx, level, code, refs, lang)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="steekkaart-{level}-{code}.pdf"'})


@router.get("/gebieden/{level}/{code}", response_class=HTMLResponse)
def area_page(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str,
              ref: Annotated[Optional[list[str]], Query()] = None):
    problem = _area_problem(ctx, lang, level, code)
    if problem is not None:
        return render(request, "area_index.html", lang, status_code=404, groups=[], notice=problem)
    from obmi.reports.factsheet import REFERENCE_PRESETS
    asked, picker_problems = typed_areas(ctx, lang, ref, lambda text, key: _url(f"/gebieden/{level}/{code}", [
        *[("ref", key if r == text else r) for r in ref or [] if r.strip()], ("lang", lang)]), tuple(REFERENCE_PRESETS))
    refs = parse_refs(asked, code) if ref else None
    sheet = _sheet_in_language(ops.area_factsheet(ctx, level, code, refs), lang)
    ref_query = urlencode([("ref", f"{r.level}:{r.code}") for r in sheet.references]) if ref else ""
    empty = _area_empty_state(ctx, sheet, lang) if not sheet.sections else None
    infos = _levels_by_code(ctx)
    # "niet te lokaliseren" pseudo-areas have no shape to locate
    unplaced = any(a.is_unknown for a in ops.list_areas(ctx, level, codes=[code], include_unknown=True))
    locator = None if unplaced else _locator(sheet, infos, lang)
    return render(request, "area.html", lang, sheet=sheet, ref_query=ref_query, empty=empty,
                  picker_problems=picker_problems, picked=picked(sheet.references, lang),
                  area_tree=tree_in_language(ops.area_tree(ctx), lang),
                  level_label=level_name(infos.get(level), level, lang),
                  change_of=lambda figure: change_words(figure, lang), sources=merged_sources(sheet, lang),
                  parts=_sub_area_lists(sheet, infos, lang), locator=locator,
                  page_json=script_json({**factsheet_json(sheet), "locator": locator}))


def _area_problem(ctx, lang: str, level: str, code: str) -> Optional[EmptyState]:
    """What is wrong with a fact sheet's /gebieden/LEVEL/CODE (None: it names an area)."""
    _, problem = area_key_problem(ctx, lang, f"{level}:{code}",
                                  lambda lvl, c: _url(f"/gebieden/{lvl}/{c}", [("lang", lang)]))
    return problem


def _locator(sheet, infos: dict[str, LevelInfo], lang: str) -> Optional[dict]:
    """The fact sheet's locator map: the area among the areas of its level around it (those of
    its province, its municipality's wijken), as the PDF draws it; None without boundaries."""
    area, within = sheet.area, sheet.locator
    info = infos.get(area.level)
    if within is None or info is None or not info.with_geometry:
        return None
    around = next((r.name for r in sheet.references if (r.level, r.code) == within), "")
    return {"geojson": _url(f"/api/v1/levels/{area.level}/geojson", [("within", f"{within[0]}:{within[1]}")]),
            "code": area.code, "level": area.level, "lang": lang,
            "caption": _t(lang, "Ligging van %(area)s in %(around)s", area=area.name, around=around)
            if around else _t(lang, "Ligging van %(area)s", area=area.name)}


def _sub_area_lists(sheet, infos: dict[str, LevelInfo], lang: str) -> list[dict]:
    """The areas lying in the fact sheet's area, per level, with links to their fact sheets."""
    lists = []
    for level, areas in sheet.parts:
        words = level_words(infos.get(level), level, lang)
        lists.append({"title": _t(lang, "%(level)s in %(area)s", level=words[:1].upper() + words[1:],
                                  area=sheet.area.name),
                      "areas": [(a.name, _url(f"/gebieden/{a.level}/{a.code}", [("lang", lang)])) for a in areas]})
    return lists


# The regions and Belgium carry English names on English pages (the map legend, the chart legend,
# the table and the fact sheet then agree); every other area keeps its own name.

def _series_in_language(series: Series, lang: str) -> Series:
    return Series(labels.refs_in_language(series.areas, lang), series.rows)


def _sheet_in_language(sheet, lang: str):
    sheet.area = labels.refs_in_language([sheet.area], lang)[0]
    sheet.references = labels.refs_in_language(sheet.references, lang)
    for section in sheet.sections:
        for figure in section.figures:
            refs = labels.refs_in_language([r for r, _ in figure.references], lang)
            figure.references = [(r, p) for r, (_, p) in zip(refs, figure.references)]
    return sheet


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
    all_indicators = ops.list_indicators(ctx)
    codes = [c for c in (indicator or []) if any(i.code == c for i in all_indicators)][:20] or \
        ["pop_total", "share_65plus", "share_non_belgian", "inc_mean_per_inhabitant", "land_built_share"]
    asked, picker_problems = typed_areas(ctx, lang, area, lambda text, key: _url("/vergelijk", [
        *[("area", key if a == text else a) for a in area or [] if a.strip()], *[("indicator", i) for i in codes],
        ("lang", lang)]))
    asked = asked[:12]

    def instead(bad: str):  # the comparison with `bad` replaced by another area
        return lambda lvl, c: _url("/vergelijk", [*[("area", f"{lvl}:{c}" if a == bad else a) for a in asked],
                                                  *[("indicator", i) for i in codes], ("lang", lang)])
    checked = [area_key_problem(ctx, lang, text, instead(text)) for text in asked]
    areas = [key for key, _ in checked if key is not None]
    series = _series_in_language(ops.area_series(ctx, codes, areas), lang) if areas else Series([], {})
    empty = picker_problems + [problem for _, problem in checked if problem is not None]
    empty += _compare_empty_states(ctx, series, codes, lang)
    any_data = any(_published(points) for points in series.rows.values())
    return render(request, "compare.html", lang, areas=series.areas, codes=codes,
                  picked=picked(series.areas, lang), area_tree=tree_in_language(ops.area_tree(ctx), lang),
                  indicators={i.code: i for i in all_indicators}, rows=series.rows, empty=empty, any_data=any_data,
                  page_json=script_json({**series_json(series), "indicators": _series_indicators(all_indicators, codes, lang)}
                                        if any_data else {}),
                  query=urlencode([("area", f"{lvl}:{c}") for lvl, c in areas] + [("indicator", c) for c in codes]))


def _series_indicators(indicators, codes: list[str], lang: str) -> dict[str, dict]:
    """Name (in the page's language), unit and decimals of the compared indicators, for the small
    multiples' titles and tooltips."""
    return {i.code: {"name": i18n.pick(lang, i.name_nl, i.name_en), "unit": i.unit, "decimals": i.decimals}
            for i in indicators if i.code in codes}


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
def search_page(request: Request, ctx: CtxDep, lang: LangDep, q: SearchText = "", limit: Optional[str] = None):
    # Text, not int: a bad ?limit= shows the first results, never an error page.
    shown = int(limit) if limit and limit.isdigit() and int(limit) > 0 else SEARCH_PAGE
    results = ops.search(ctx, q, limit=shown) if q.strip() else None
    counts = results["counts"] if results else {}
    more = min(MAX_SEARCH, max(counts.values(), default=0))
    return render(request, "search.html", lang, q=q, results=results, limit=results["limit"] if results else shown,
                  more_url=_url("/zoeken", [("q", q), ("limit", str(more)), ("lang", lang)])
                  if results and more > results["limit"] else None)


SEARCH_PAGE, MAX_SEARCH = 20, 500


@router.get("/dashboards/{slug}", response_class=HTMLResponse)
def dashboard_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str,
                   area: Annotated[Optional[list[str]], Query()] = None, period: Optional[str] = None):
    shown, problem = _dashboard_area(ctx, lang, slug, area or [], period)
    if shown is not None:  # a LEVEL:CODE of no area: the default area, and a notice saying why
        key, problem = area_key_problem(ctx, lang, shown, lambda lvl, c: _url(
            f"/dashboards/{slug}", [("area", f"{lvl}:{c}"), ("period", period), ("lang", lang)]))
        shown = shown if key is not None else None
    view = ops.dashboard_view(ctx, slug, area=shown, period=period, lang=lang)
    if problem is not None:
        problem.lines.append(_t(lang, "Daarom toont het dashboard het standaardgebied %(area)s.", area=view.area))
    infos = _levels_by_code(ctx)

    def link(p: Optional[str]) -> str:
        return _url(f"/dashboards/{slug}", [("area", shown), ("period", p), ("lang", lang)])
    states = [_tile_state(ctx, t, lang, infos, period, link,
                          lambda key: _url(f"/dashboards/{slug}", [("area", key), ("period", period), ("lang", lang)]))
              for t in view.tiles]
    notice = _dashboard_notice(ctx, view, lang, infos, slug, period)
    chosen = ops.area_series(ctx, [], [parse_area_key(view.area)]).areas if view.area else []
    return render(request, "dashboard.html", lang, board=view.board, tiles=view.tiles, area=view.area, period=period,
                  picked=picked(chosen, lang), area_tree=tree_in_language(ops.area_tree(ctx), lang),
                  area_link=_url(f"/dashboards/{slug}", [("period", period), ("lang", lang)]) + "&area=",
                  states=states, notice=notice, area_problem=problem,
                  page_json=script_json({"tiles": [t.data for t in view.tiles]}))


def _dashboard_area(ctx, lang: str, slug: str, values: list[str],
                    period: Optional[str]) -> tuple[Optional[str], Optional[EmptyState]]:
    """The one area a dashboard's picker sent: a typed name wins over the area shown so far
    (the picker's hidden field), and is looked up; (None, notice) when it names no one area."""
    values = [v.strip() for v in values if v.strip()]
    typed = [v for v in values if not is_area_key(v)]
    if not values:
        return None, None
    keys, problems = typed_areas(ctx, lang, typed[-1:] or values[-1:], lambda text, key: _url(
        f"/dashboards/{slug}", [("area", key), ("period", period), ("lang", lang)]))
    return (keys[0] if keys else None), (problems[0] if problems else None)


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
    missing_why: str = ""  # why the chosen area is among the missing (its level has no data)
    caption: str = ""  # what a bar or map shows: "gemeenten in Provincie Oost-Vlaanderen, 2015"


def _tile_state(ctx, tile, lang: str, infos: dict[str, LevelInfo], period: Optional[str], link,
                area_link=None) -> TileState:
    """`link(period)`: the page for another period; `area_link(key)`: the page for another area
    (None: the tile's area is fixed, as in a story)."""
    d = tile.data
    if d.get("type") == "text":
        return TileState()
    if "rows" in d:
        return _areas_tile_state(ctx, d, lang, infos, period, link)
    return _series_tile_state(ctx, d, lang, infos, period, link, area_link)


def _span(periods: list[str]) -> str:
    return "" if not periods else periods[0] if len(periods) == 1 else f"{periods[0]}–{periods[-1]}"


def _areas_tile_state(ctx, d: dict, lang: str, infos: dict[str, LevelInfo], period: Optional[str], link) -> TileState:
    """Bar and map tiles: one indicator over the areas of a level."""
    state = TileState()
    level = d["level"]
    words = level_words(infos.get(level), level, lang)
    if d.get("unplaced"):  # "the province of the chosen area", and it lies in none
        around = level_words(infos.get(d["unplaced"]), d["unplaced"], lang)
        state.empty = EmptyState(_t(lang, "Het gekozen gebied ligt niet in een van de %(level)s.", level=around),
                                 lines=[_t(lang, "Deze tegel toont de %(areas)s van het gebied waarin het gekozen "
                                                 "gebied ligt; kies een kleiner gebied.", areas=words)])
        return state
    shown = (_t(lang, "%(level)s in %(area)s", level=words, area=d["within_name"]) if d.get("within_name")
             else words)
    state.caption = ", ".join(x for x in (f"{shown[:1].upper()}{shown[1:]}", _span(d.get("periods", []))) if x)
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


def _series_tile_state(ctx, d: dict, lang: str, infos: dict[str, LevelInfo], period: Optional[str], link,
                       area_link) -> TileState:
    """Key figure, line and table tiles: the chosen area's series (a line with the areas it lies in).
    Without a figure for the area, say why: its level has no data for the indicator (and offer the
    nearest area it lies in that has), or not up to the period asked for."""
    state = TileState()
    series = d.get("series", [])
    shown = {s["area"] for s in series if _published_points(s["points"])}
    subject = series[0]["area"] if series else d.get("subject", "")
    why, offers = _level_without_data(ctx, d, lang, infos, area_link)
    if shown:
        state.missing = list(dict.fromkeys(s["area"] for s in series if s["area"] not in shown))
        state.missing_why = why if subject in state.missing else ""
    elif why:
        state.empty = EmptyState(_t(lang, "Geen gegevens voor %(area)s.", area=subject), lines=[why],
                                 offers_label=_t(lang, "Wel gegevens voor:") if offers else "", offers=offers)
    else:
        state.empty = EmptyState(
            _t(lang, "Geen gegevens voor %(area)s tot en met %(period)s.", area=subject, period=period) if period else
            _t(lang, "Geen gegevens voor %(area)s.", area=subject),
            offers_label=_t(lang, "Wel beschikbaar:") if period else "",
            offers=[(_t(lang, "de meest recente cijfers"), link(None))] if period else [])
    return state


def _level_without_data(ctx, d: dict, lang: str, infos: dict[str, LevelInfo], area_link) -> tuple[str, list]:
    """("Deze indicator heeft geen cijfers op het niveau wijken.", offers of the nearest area the
    tile's area lies in that has them) when none of the tile's indicators has data at its level."""
    level, code = parse_area_key(d["subject"])
    codes = [i["code"] for i in d.get("indicators", [])]
    if not codes or any(level in ops.indicator_availability(ctx, c).levels for c in codes):
        return "", []
    words = level_words(infos.get(level), level, lang)
    why = _t(lang, "Deze indicator heeft geen cijfers op het niveau %(level)s.", level=words) if len(codes) == 1 \
        else _t(lang, "Deze indicatoren hebben geen cijfers op het niveau %(level)s.", level=words)
    if area_link is None:
        return why, []
    around = ops.area_series(ctx, [], [(level, code)], with_ancestors=True).areas[1:]
    nearest = _areas_with_data(ctx, codes, around)[:1]
    return why, [(_area_label(a, infos, lang), area_link(f"{a.level}:{a.code}")) for a in nearest]


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
