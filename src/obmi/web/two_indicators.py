"""Two indicators on one map (`/kaart`): a bivariate choropleth or proportional symbols, a
scatter plot of the same areas linked to the map, Pearson's r and a table of the pairs, with a
download of the pairs in every table format (`/download/pairs.{fmt}`).

Values are read only through the query layer (ops.query_observations): a withheld value is None
here, so it is never classed, sized, plotted, counted in r nor put in a tooltip; the table shows
its sign. The pure parts (classes, palette, radii, r) live in obmi.publish.bivariate."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any, Optional

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.errors import NotFound
from obmi.geo.codes import parse_area_key
from obmi.indicators.catalogue import Indicator
from obmi.operations import ObservationQuery
from obmi.publish import bivariate, labels
from obmi.publish.classify import Classes, classify
from obmi.publish.renderers import renderer
from obmi.publish.signs import status_word
from obmi.web import i18n
from obmi.web.deps import CtxDep, LangDep
from obmi.web.downloads import send_table
from obmi.web.pages import (
    DEFAULT_LEVELS,
    HEADLINE,
    EmptyState,
    _t,
    _url,
    area_key_problem,
    by_name,
    level_name,
    level_words,
    nearest_periods,
    themes_of,
    unknown_level_state,
)
from obmi.web.region_choice import RegionChoice, filters_level, parse_region, region_codes, region_name, region_options
from obmi.web.rendering import render, script_json

router = APIRouter(include_in_schema=False)
PATH = "/kaart"
MODES = ("bivariate", "symbols")
NEAREST_INDICATORS = 5
# The columns of the pairs download: each area with both indicators' period, value and status.
SIDE_COLUMNS = ["indicator", "period", "value", "unit", "status", "status_label"]
PAIR_COLUMNS = ["area_code", "area_name", "level", *[f"x_{c}" for c in SIDE_COLUMNS],
                *[f"y_{c}" for c in SIDE_COLUMNS]]


@dataclass(frozen=True)
class Asked:
    """What the URL asks for, as text (nothing is trusted until checked)."""

    x: Optional[str] = None
    y: Optional[str] = None
    level: Optional[str] = None
    within: Optional[str] = None
    period: Optional[str] = None
    period_y: Optional[str] = None
    mode: Optional[str] = None
    area: Optional[str] = None
    region: Optional[str] = None

    def link(self, lang: str, **changes: Optional[str]) -> str:
        """This page with some parameters changed (None: left out)."""
        asked = replace(self, **changes)
        return _url(PATH, [("x", asked.x), ("y", asked.y), ("level", asked.level), ("within", asked.within),
                           ("period", asked.period), ("period_y", asked.period_y),
                           ("mode", None if asked.mode == MODES[0] else asked.mode), ("area", asked.area),
                           ("region", asked.region), ("lang", lang)])


@dataclass
class Side:
    """One of the two indicators as the page shows it."""

    indicator: Indicator
    period: str
    periods: list[str]
    rows: list[Any]
    reference: Optional[float]  # the reference region's value in `period`

    def name(self, lang: str) -> str:
        return i18n.pick(lang, self.indicator.name_nl, self.indicator.name_en)

    def title(self, lang: str) -> str:
        """"Aandeel 65-plussers (%)", for axes and legends."""
        unit = self.indicator.unit
        return f"{self.name(lang)} ({_t(lang, unit)})" if unit else self.name(lang)

    def as_text(self, value: Optional[float], status: Optional[str], lang: str) -> str:
        """A value as a reader says it ("19,2 %", "23.456 EUR"), or its status in words."""
        if value is None:  # withheld, unknown or no data: its word, never a number
            return status_word(None, status, lang)
        unit = self.indicator.unit
        number = i18n.number(value, self.indicator.decimals, lang)
        return f"{number} %" if unit == "%" else f"{number} {_t(lang, unit)}".rstrip()

    def as_json(self, lang: str) -> dict[str, Any]:
        ind = self.indicator
        return {"code": ind.code, "name": self.name(lang), "title": self.title(lang), "unit": ind.unit,
                "decimals": ind.decimals, "period": self.period, "reference": self.reference,
                "referenceText": self.as_text(self.reference, "final", lang) if self.reference is not None else ""}


# --- the page ------------------------------------------------------------------------------

@router.get(PATH, response_class=HTMLResponse)
def two_indicators_page(request: Request, ctx: CtxDep, lang: LangDep, x: Optional[str] = None,
                        y: Optional[str] = None, level: Optional[str] = None, within: Optional[str] = None,
                        period: Optional[str] = None, period_y: Optional[str] = None, mode: Optional[str] = None,
                        area: Optional[str] = None, region: Optional[str] = None):
    # Every parameter is text: a bad value gets a sentence on the page, never a 422 or a 500.
    asked = Asked(*(_clean(v) for v in (x, y, level, within, period, period_y, mode, area, region)))
    view = _view(ctx, lang, asked)
    empty = view.get("empty")
    status = 404 if empty is not None and empty.unknown else 200
    return render(request, "two_indicators.html", lang, status_code=status, **view)


def _clean(value: Optional[str]) -> Optional[str]:
    return value.strip() or None if value is not None else None


def _view(ctx, lang: str, asked: Asked) -> dict[str, Any]:
    """Everything the template needs; with `empty` set when there is nothing to draw."""
    indicators = ops.list_indicators(ctx)
    known = {i.code: i for i in indicators}
    view: dict[str, Any] = {"asked": asked, "groups": _grouped(indicators, lang), "empty": None, "notices": [],
                            "level_options": [], "periods_x": [], "periods_y": [], "region_options": [],
                            "region": None, "x": None, "y": None, "mode": MODES[0], "modes": MODES,
                            "swap_url": None, "page_json": script_json({})}
    try:
        x_ind, y_ind = _indicators(lang, asked, known)
        view["swap_url"] = asked.link(lang, x=asked.y, y=asked.x, period=asked.period_y, period_y=asked.period)
        level = _level(ctx, lang, asked, view)
        periods = _periods(ctx, lang, asked, x_ind, y_ind, level, view)
        return _filled(ctx, lang, replace(asked, level=level), (x_ind.code, y_ind.code), periods, view)
    except _Nothing as nothing:
        view["empty"] = nothing.state
        return view


class _Nothing(Exception):
    """Nothing to draw: the page says `state` instead (and offers what there is)."""

    def __init__(self, state: EmptyState) -> None:
        super().__init__(state.title)
        self.state = state


def _grouped(indicators: list[Indicator], lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(theme, [(code, name)]) for the indicator selectors, themes and names alphabetical."""
    themes = themes_of(indicators)
    return [(theme, [(i.code, i18n.pick(lang, i.name_nl, i.name_en)) for i in by_name(themes[theme], lang)])
            for theme in sorted(themes, key=lambda t: _t(lang, t).casefold())]


# --- checking the URL, one part at a time ----------------------------------------------------

def _indicators(lang: str, asked: Asked, known: dict[str, Indicator]) -> tuple[Indicator, Indicator]:
    """x and y, two different indicators the reader may see; else _Nothing saying what to choose."""
    for which, code in (("x", asked.x), ("y", asked.y)):
        if code is not None and code not in known:
            raise _Nothing(_unknown_indicator(lang, asked, which, code, known))
    if asked.x is None:
        raise _Nothing(EmptyState(_t(lang, "Kies twee indicatoren om ze op één kaart te zien."),
                          lines=[_t(lang, "De kaart kleurt elk gebied naar beide waarden; de puntenwolk ernaast "
                                          "toont hoe ze samenhangen.")],
                          offers_label=_t(lang, "Bijvoorbeeld:"), offers=_example_pairs(lang, asked, known)))
    if asked.y is None:
        offers = [(i18n.pick(lang, known[c].name_nl, known[c].name_en), asked.link(lang, y=c))
                  for c in HEADLINE if c in known and c != asked.x]
        raise _Nothing(EmptyState(_t(lang, "Kies een tweede indicator om te combineren met %(x)s.",
                                     x=i18n.pick(lang, known[asked.x].name_nl, known[asked.x].name_en)),
                                  offers_label=_t(lang, "Bijvoorbeeld:") if offers else "", offers=offers))
    if asked.x == asked.y:
        raise _Nothing(EmptyState(_t(lang, "Kies twee verschillende indicatoren: x en y zijn nu dezelfde."),
                                  offers_label=_t(lang, "Bijvoorbeeld:"),
                                  offers=[(i18n.pick(lang, known[c].name_nl, known[c].name_en), asked.link(lang, y=c))
                                          for c in HEADLINE if c in known and c != asked.x]))
    return known[asked.x], known[asked.y]


def _example_pairs(lang: str, asked: Asked, known: dict[str, Indicator]) -> list[tuple[str, str]]:
    """A few pairs of the headline indicators, as links."""
    codes = [c for c in HEADLINE if c in known]
    pairs = [(a, b) for a, b in zip(codes, codes[1:])][:3]
    return [(f"{i18n.pick(lang, known[a].name_nl, known[a].name_en)} × "
             f"{i18n.pick(lang, known[b].name_nl, known[b].name_en)}", asked.link(lang, x=a, y=b)) for a, b in pairs]


def _unknown_indicator(lang: str, asked: Asked, which: str, code: str, known: dict[str, Indicator]) -> EmptyState:
    """No indicator `code`: offer those whose code or name looks most like it."""
    names = {i.code: i18n.pick(lang, i.name_nl, i.name_en) for i in known.values()}
    by_name_ = {name.casefold(): c for c, name in names.items()}
    close = difflib.get_close_matches(code, list(names), n=NEAREST_INDICATORS, cutoff=0.4)
    close += [by_name_[n] for n in difflib.get_close_matches(code.casefold(), list(by_name_), n=NEAREST_INDICATORS,
                                                              cutoff=0.4)]
    close += [c for c, name in names.items() if code.casefold() in name.casefold() or code.casefold() in c]
    found = list(dict.fromkeys(close))[:NEAREST_INDICATORS]
    return EmptyState(_t(lang, "Er is geen indicator met code “%(code)s”.", code=code),
                      lines=[] if found else [_t(lang, "Kies een indicator uit de lijst hierboven.")],
                      offers_label=_t(lang, "Bedoelde u:") if found else "",
                      offers=[(names[c], asked.link(lang, **{which: c})) for c in found], unknown=True)


def _level(ctx, lang: str, asked: Asked, view: dict[str, Any]) -> str:
    """The level both indicators have data at: the one asked for, else the first of the usual
    ones (gemeente, wijk, provincie), else the finest they share."""
    infos = {lvl.code: lvl for lvl in ops.list_levels(ctx)}
    x_levels = ops.indicator_availability(ctx, asked.x).levels
    y_levels = set(ops.indicator_availability(ctx, asked.y).levels)
    shared = sorted((lvl for lvl in x_levels if lvl in y_levels and lvl in infos),
                    key=lambda lvl: infos[lvl].sort_order)
    view["level_options"] = [(lvl, level_name(infos[lvl], lvl, lang)) for lvl in shared]

    def link(lvl: str) -> str:
        return asked.link(lang, level=lvl, within=None, period=None, period_y=None, area=None)
    if asked.level is not None and asked.level not in infos:
        raise _Nothing(unknown_level_state(ctx, lang, asked.level, link, shared))
    if not shared:
        raise _Nothing(EmptyState(_t(lang, "Deze twee indicatoren hebben geen gebiedsniveau gemeen."),
                                  lines=[_t(lang, "Kies een andere tweede indicator.")]))
    if asked.level is not None and asked.level not in shared:
        words = level_words(infos[asked.level], asked.level, lang)
        view["level_options"].append((asked.level, f"{level_name(infos[asked.level], asked.level, lang)} "
                                                   f"({_t(lang, 'geen gegevens')})"))
        raise _Nothing(EmptyState(
            _t(lang, "Niet beide indicatoren hebben cijfers op het niveau %(level)s.", level=words),
            offers_label=_t(lang, "Wel gegevens voor beide:"),
            offers=[(level_words(infos[lvl], lvl, lang), link(lvl)) for lvl in shared]))
    chosen = asked.level or next((lvl for lvl in DEFAULT_LEVELS if lvl in shared), shared[0])
    view["level"], view["level_label"] = chosen, level_name(infos[chosen], chosen, lang)
    view["level_plural"] = level_words(infos[chosen], chosen, lang)
    view["has_shapes"] = infos[chosen].with_geometry > 0
    view["map_notice"] = None if view["has_shapes"] else EmptyState(
        _t(lang, "Geen kaart voor %(level)s: voor dit niveau zijn er geen gebiedsgrenzen.", level=view["level_plural"]),
        lines=[_t(lang, "De puntenwolk en de tabel tonen alle cijfers.")])
    view["sort_orders"] = {lvl: info.sort_order for lvl, info in infos.items()}
    return chosen


Periods = tuple[str, str, list[str], list[str]]  # x's period, y's, and the periods each has


def _periods(ctx, lang: str, asked: Asked, x_ind: Indicator, y_ind: Indicator, level: str,
             view: dict[str, Any]) -> Periods:
    """Each indicator's period: the one asked for, else y takes x's period when it has it, else
    each its latest on this level."""
    x_periods = ops.indicator_availability(ctx, x_ind.code, level).periods
    y_periods = ops.indicator_availability(ctx, y_ind.code, level).periods
    view["periods_x"], view["periods_y"] = x_periods, y_periods
    for which, wanted, periods, ind in (("period", asked.period, x_periods, x_ind),
                                        ("period_y", asked.period_y, y_periods, y_ind)):
        if wanted is not None and wanted not in periods:
            raise _Nothing(_period_problem(lang, asked, which, wanted, periods, ind, view["level_plural"]))
    x_period = asked.period or x_periods[-1]
    y_period = asked.period_y or (asked.period if asked.period in y_periods else y_periods[-1])
    return x_period, y_period, x_periods, y_periods


def _period_problem(lang: str, asked: Asked, which: str, wanted: str, periods: list[str], ind: Indicator,
                    words: str) -> EmptyState:
    name = i18n.pick(lang, ind.name_nl, ind.name_en)
    near = nearest_periods(wanted, periods)
    return EmptyState(
        _t(lang, "Geen gegevens van %(indicator)s voor %(level)s in %(period)s.", indicator=name, level=words,
           period=wanted),
        lines=[_t(lang, "Er zijn gegevens van %(first)s tot en met %(last)s.", first=periods[0], last=periods[-1])],
        offers_label=_t(lang, "Periodes met gegevens, het dichtst bij %(period)s:", period=wanted),
        offers=[(p, asked.link(lang, **{which: p})) for p in near])


# --- the figures -----------------------------------------------------------------------------

def _filled(ctx, lang: str, asked: Asked, codes: tuple[str, str], periods: Periods,
            view: dict[str, Any]) -> dict[str, Any]:
    """The map, scatter plot and table once every part of the URL is usable."""
    x_period, y_period, x_periods, y_periods = periods
    level = asked.level or ""
    within_key = None
    if asked.within is not None:
        within_key, problem = area_key_problem(ctx, lang, asked.within,
                                               lambda lvl, c: asked.link(lang, within=f"{lvl}:{c}", area=None))
        if problem is not None:
            raise _Nothing(problem)
    region = parse_region(asked.region, ctx.settings.home_region, lang)
    regions = region.codes if filters_level(level, view["sort_orders"]) else ()
    x = _side(ctx, lang, codes[0], level, x_period, x_periods, within_key, region, regions)
    y = _side(ctx, lang, codes[1], level, y_period, y_periods, within_key, region, regions)
    pairs = bivariate.pair_up(x.rows, y.rows)
    view.update(x=x, y=y, period_x=x_period, period_y=y_period, region=region, regions=regions,
                within_key=within_key, region_options=region_options(lang) if regions else [],
                within_name=_within_name(ctx, within_key, lang),
                reference_name=region_name(region.codes[0], lang) if region.codes else "")
    if region.notice:
        view["notices"].append(EmptyState(region.notice))
    if x_period != y_period:
        view["notices"].append(EmptyState(_t(lang, "De indicatoren hebben niet dezelfde periode — x: %(x)s, y: %(y)s.",
                                             x=x_period, y=y_period)))
    if not pairs:
        raise _Nothing(EmptyState(_t(lang, "Geen gebieden om te tonen voor %(level)s.", level=view["level_plural"]),
                                  offers_label=_t(lang, "Wel beschikbaar:"),
                                  offers=[(_t(lang, "alle %(level)s", level=view["level_plural"]),
                                           asked.link(lang, within=None, area=None))]))
    asked = replace(asked, mode=_mode(lang, asked, y, view))
    view["selected"] = _selected(ctx, lang, asked, pairs, view)
    return _figures(ctx, lang, asked, x, y, pairs, view)


def _side(ctx, lang: str, code: str, level: str, period: str, periods: list[str], within_key,
          region: RegionChoice, regions: tuple[str, ...]) -> Side:
    result = ops.query_observations(ctx, ObservationQuery(code, level, period, (), within_key, regions=regions))
    rows = [r._replace(area_name=labels.area_name(r.level, r.area_code, r.area_name, lang)) for r in result.rows]
    return Side(result.indicator, period, periods, rows, _region_value(ctx, result.indicator, period, region))


def _region_value(ctx, ind: Indicator, period: str, region: RegionChoice) -> Optional[float]:
    """The first chosen region's published value (the reference lines of the scatter plot); none
    for a count or amount: a region's total is no yardstick for one area's."""
    if bivariate.suits_symbols(ind.aggregation):
        return None
    try:
        rows = ops.query_observations(ctx, ObservationQuery(ind.code, "gewest", period, region.codes[:1])).rows
    except NotFound:  # a geography without regions
        return None
    return next((r.value for r in rows if r.value is not None), None)


def _within_name(ctx, within_key, lang: str) -> str:
    if within_key is None:
        return ""
    found = ops.area_series(ctx, [], [within_key]).areas
    return labels.refs_in_language(found, lang)[0].name if found else ""


def _mode(lang: str, asked: Asked, y: Side, view: dict[str, Any]) -> str:
    """Bivariate unless symbols are asked for and y is a count or amount; else say why not."""
    view["symbols_possible"] = bivariate.suits_symbols(y.indicator.aggregation)
    if asked.mode is not None and asked.mode not in MODES:
        view["notices"].append(EmptyState(_t(lang, "Onbekende kaartsoort “%(mode)s”: de bivariate kaart wordt "
                                                   "getoond.", mode=asked.mode)))
        return MODES[0]
    if asked.mode == "symbols" and not view["symbols_possible"]:
        view["notices"].append(EmptyState(_t(
            lang, "Symbolen passen alleen bij aantallen en bedragen. %(y)s is een verhouding of gemiddelde: een "
                  "cirkel twee keer zo groot zou “twee keer zoveel” lijken. Daarom een bivariate kaart.",
            y=y.name(lang))))
        return MODES[0]
    return asked.mode or MODES[0]


def _selected(ctx, lang: str, asked: Asked, pairs: list[bivariate.Pair], view: dict[str, Any]) -> Optional[str]:
    """The area of ?area= when it is one of the page's; else a notice why it is not marked
    (no such area: the nearest codes instead)."""
    code = asked.area.removeprefix(f"{asked.level}:") if asked.area else None  # LEVEL:CODE of this level is fine
    if code is None or any(p.code == code for p in pairs):
        return code
    _, problem = area_key_problem(ctx, lang, f"{asked.level}:{asked.area}",
                                  lambda _lvl, c: asked.link(lang, area=c))
    view["notices"].append(problem or EmptyState(
        _t(lang, "Gebied %(code)s staat niet op deze kaart en is daarom niet aangeduid.", code=asked.area),
        offers_label=_t(lang, "Wel beschikbaar:"), offers=[(_t(lang, "de kaart zonder dit gebied"),
                                                            asked.link(lang, area=None))]))
    return None


def _figures(ctx, lang: str, asked: Asked, x: Side, y: Side, pairs: list[bivariate.Pair],
             view: dict[str, Any]) -> dict[str, Any]:
    symbols = asked.mode == "symbols"
    classes = bivariate.bivariate_classes(pairs)
    # With symbols, x alone colours the map, in the site's usual classes (quantiles, blue).
    x_classes = classify([p.x_value for p in pairs]) if symbols else None
    largest = max((p.y_value for p in pairs if p.y_value is not None and p.y_value > 0), default=0.0)
    points = _interior_points(ctx, asked, view) if symbols and view["has_shapes"] else {}
    areas = [_area_json(p, x, y, lang, classes, x_classes, largest, points) for p in pairs]
    view.update(
        mode=asked.mode, pairs=pairs, missing=[p for p in pairs if not p.complete],
        correlation=bivariate.pearson(pairs), legend=bivariate.legend(classes, pairs), classes=classes,
        x_classes=x_classes, symbol_sizes=bivariate.symbol_legend(largest) if symbols else [],
        cell_words=[_t(lang, "laag"), _t(lang, "midden"), _t(lang, "hoog")],
        reference_lines=[f"{axis} {side.as_text(side.reference, 'final', lang)}" for side, axis in ((x, "x"), (y, "y"))
                         if side.reference is not None],
        query=_download_query(asked, view), link=lambda **changes: asked.link(lang, **changes),
        page_json=script_json({
            "lang": lang, "level": asked.level, "mode": asked.mode, "x": x.as_json(lang), "y": y.as_json(lang),
            "geojson": _geojson_url(asked, view) if view["has_shapes"] else None, "areas": areas,
            "selected": view["selected"], "referenceName": view["reference_name"]}))
    return view


def _interior_points(ctx, asked: Asked, view: dict[str, Any]) -> dict[str, tuple[float, float]]:
    shapes = ops.area_geojson(ctx, asked.level or "", within=view["within_key"], regions=view["regions"])
    return bivariate.interior_points(shapes["features"])


def _geojson_url(asked: Asked, view: dict[str, Any]) -> str:
    regions = view["regions"]
    return _url(f"/api/v1/levels/{asked.level}/geojson",
                [("within", asked.within), ("region", ",".join(regions) if regions else None)]).rstrip("?")


def _download_query(asked: Asked, view: dict[str, Any]) -> str:
    """The query of the pairs download: exactly the page's areas and periods."""
    regions = view["regions"]
    return _url("", [("x", asked.x), ("y", asked.y), ("level", asked.level), ("period", view["period_x"]),
                     ("period_y", view["period_y"]), ("within", asked.within),
                     ("region", ",".join(regions) if regions else None)])[1:]


def _area_json(p: bivariate.Pair, x: Side, y: Side, lang: str, classes: bivariate.Bivariate,
               x_classes: Optional[Classes], largest: float,
               points: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """One area for the script: published values only (None when withheld or missing), each
    with its words; its fill (None: hatched, no value to class) and, with symbols, its circle."""
    cell = classes.cell(p.x_value, p.y_value)
    if x_classes is not None:  # symbols: the fill is x's class, the circle y's size
        fill = x_classes.colour_of(p.x_value) if p.x_value is not None else None
    else:
        fill = classes.colour(p.x_value, p.y_value) if cell is not None else None
    return {"code": p.code, "name": p.name, "x": p.x_value, "y": p.y_value,
            "xText": x.as_text(p.x_value, _status(p.x), lang), "yText": y.as_text(p.y_value, _status(p.y), lang),
            "cell": list(cell) if cell else None, "colour": fill,
            "radius": bivariate.symbol_radius(p.y_value, largest) if x_classes is not None else None,
            "point": points.get(p.code)}


def _status(row) -> str:
    return row.status if row is not None else "missing"


# --- the download of the pairs ---------------------------------------------------------------

@router.get("/download/pairs.{fmt}")
def pairs_download(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, x: str, y: str, level: str,
                   period: Optional[str] = None, period_y: Optional[str] = None, within: Optional[str] = None,
                   region: Optional[str] = None) -> Response:
    """The page's pairs in every registered table format: for each area both indicators'
    period, value (stored precision) and status, read through the query layer as the page is.
    Without periods each indicator's latest; without period_y, y takes x's period if it has it."""
    output = renderer(fmt)  # refuse an unknown format before any work
    if period_y is None and period is not None and period in ops.indicator_availability(ctx, y, level).periods:
        period_y = period
    within_key = parse_area_key(within, "within") if within else None
    x_result, y_result = (ops.query_observations(ctx, ObservationQuery(code, level, wanted or "latest", (), within_key,
                                                                       rounded=False, regions=region_codes(region)))
                          for code, wanted in ((x, period), (y, period_y)))
    pairs = bivariate.pair_up(x_result.rows, y_result.rows)
    rows = [{"area_code": p.code, "area_name": p.name, "level": level,
             **_side_cells("x", x_result.indicator, p.x, lang), **_side_cells("y", y_result.indicator, p.y, lang)}
            for p in pairs]
    correlation = bivariate.pearson(pairs)
    meta = {**_side_meta("x", x_result.indicator), **_side_meta("y", y_result.indicator), "level": level,
            "within": within, "pairs": correlation.n,
            "pearson_r": None if correlation.r is None else round(correlation.r, 4)}
    periods = "-".join(dict.fromkeys(r.periods[0] if r.periods else "alle" for r in (x_result, y_result)))
    return send_table(output, f"{x}-{y}-{level}-{periods}", PAIR_COLUMNS, rows, meta)


def _side_cells(prefix: str, ind: Indicator, row, lang: str) -> dict[str, Any]:
    """One indicator's cells of a pair's row (x_… or y_…); an area without a row reads unknown."""
    value, status = (row.value, row.status) if row is not None else (None, "missing")
    cells = {"indicator": ind.code, "period": row.period if row is not None else None, "value": value,
             "unit": ind.unit, "status": status, "status_label": status_word(value, status, lang)}
    return {f"{prefix}_{k}": v for k, v in cells.items()}


def _side_meta(prefix: str, ind: Indicator) -> dict[str, Any]:
    return {prefix: ind.code, f"{prefix}_name": ind.name_nl, f"{prefix}_source": ind.source,
            f"{prefix}_licence": ind.licence}
