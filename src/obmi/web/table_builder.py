"""The table builder ("Selectietabel", /tabel): indicators × areas × periods chosen in the page,
the whole selection in the URL (shareable; Back works), and the same selection downloaded in
every registered table format (/download/table.{fmt}). A plain GET form; htmx swaps only the
result in when it is there (static/table_builder.js adds the indicator filter, the sortable
columns and "Kopieer link").

The selection is read in one place (`read_selection`: the URL's syntax by
obmi.publish.selection_table, names typed without JavaScript looked up, then what does not exist
said in words with the nearest choices); the cells come from one operation
(ops.selection_table) through the query layer, so the page and every download show a withheld
cell by its sign, never a number."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import QueryParams

from obmi import operations as ops
from obmi.errors import ValidationError
from obmi.plugins import output_renderers
from obmi.publish import labels
from obmi.publish.renderers import renderer
from obmi.publish.selection_table import (
    MAX_CELLS,
    REFERENCE_LEVELS,
    PeriodChoice,
    Selection,
    SelectionData,
    TooManyCells,
    long_rows,
    parse_selection,
    pivot,
)
from obmi.publish.signs import origin_word, status_word
from obmi.web import i18n
from obmi.web.area_picker import is_area_key, picked, tree_in_language
from obmi.web.deps import CtxDep, LangDep
from obmi.web.downloads import OBSERVATION_COLUMNS, RATIO_COLUMNS, send_table, value_columns
from obmi.web.pages import (
    EmptyState,
    _t,
    area_key_problem,
    by_name,
    level_name,
    level_words,
    nearest_periods,
    typed_areas,
    unknown_level_state,
)
from obmi.web.rendering import render

router = APIRouter(include_in_schema=False)
PATH = "/tabel"
# The page shows at most this many cells (a bigger table is slow to send and to read on a
# screen); up to MAX_CELLS it can still be downloaded.
MAX_SHOWN_CELLS = 10_000
PARAMS = ("indicator", "area", "level", "within", "ref", "periods", "period", "from", "to", "layout")
FORMAT_LABELS = {"csv-excel": "CSV voor Excel (;)"}  # in words; the others by their name (CSV, XLSX, JSON)
REFERENCE_WORDS = {"gemeente": "de gemeente", "provincie": "de provincie", "gewest": "het gewest"}
LAYOUT_WORDS = {"areas": "Gebieden in de rijen", "periods": "Periodes in de rijen",
                "long": "Lange lijst: één rij per cijfer"}
NEAREST_INDICATORS = 5


# --- reading the selection -------------------------------------------------------------------

@dataclass
class Asked:
    """A selection as the URL asked for it: what can be shown, what could not and why."""

    selection: Selection
    problems: list[EmptyState] = field(default_factory=list)
    typed: bool = False  # an area was typed by name (the canonical URL has its LEVEL:CODE)

    @property
    def unknown(self) -> bool:
        return any(p.unknown for p in self.problems)


def _swapped(params: QueryParams, name: str, old: str, new: Optional[str], lang: str) -> str:
    """The URL as asked, with one value of `name` replaced by `new` (None: left out); also one
    of several separated by commas (indicator=a,b)."""
    def swap(key: str, value: str) -> str:
        if key != name:
            return value
        parts = [(new or "") if part.strip() == old else part for part in value.split(",")]
        return ",".join(p for p in parts if p)
    items = [(k, swap(k, v)) for k, v in params.multi_items() if k in PARAMS]
    return f"{PATH}?{urlencode([(k, v) for k, v in items if v] + [('lang', lang)], safe=':,')}"


def selection_url(selection: Selection, lang: str, path: str = PATH) -> str:
    return f"{path}?{urlencode([*selection.params(), ('lang', lang)], safe=':')}"


def read_selection(ctx, lang: str, params: QueryParams) -> Asked:
    """The one reader of the table's URL: syntax, typed names, and what exists."""
    raw = {name: params.getlist(name) for name in PARAMS}
    areas, problems = typed_areas(ctx, lang, raw["area"],
                                  lambda text, key: _swapped(params, "area", text, key, lang))
    typed = any(not is_area_key(a) for a in raw["area"] if a.strip())
    within_values = [v.strip() for v in raw["within"] if v.strip()]
    within_typed = [v for v in within_values if not is_area_key(v)]
    if within_typed:  # the picker's text field wins over the area chosen before (its hidden field)
        typed = True
        found, more = typed_areas(ctx, lang, within_typed[-1:],
                                  lambda text, key: _swapped(params, "within", text, key, lang))
        within_values, problems = found, problems + more
    selection, syntax = parse_selection({**raw, "area": areas, "within": within_values[-1:]})
    problems += [EmptyState(_t(lang, p.message, **p.values)) for p in syntax]
    selection, more = _existing(ctx, lang, params, selection)
    return Asked(selection, problems + more, typed)


def _existing(ctx, lang: str, params: QueryParams, selection: Selection) -> tuple[Selection, list[EmptyState]]:
    """The selection without what does not exist, and a notice with the nearest choices for each."""
    problems: list[EmptyState] = []
    known = {i.code: i for i in ops.list_indicators(ctx)}
    for code in [c for c in selection.indicators if c not in known]:
        problems.append(_unknown_indicator(lang, code, list(known.values()),
                                           lambda new, old=code: _swapped(params, "indicator", old, new, lang)))
    kept_areas = []
    for area_level, area_code in selection.areas:
        text = f"{area_level}:{area_code}"
        key, problem = area_key_problem(ctx, lang, text, lambda lvl, c, old=text: _swapped(
            params, "area", old, f"{lvl}:{c}", lang))
        kept_areas += [key] if key else []
        problems += [problem] if problem else []
    level, within = selection.level, selection.within
    levels = {lvl.code for lvl in ops.list_levels(ctx) if lvl.areas}
    if level is not None and level not in levels:
        problems.append(unknown_level_state(ctx, lang, level, lambda lvl, old=level: _swapped(
            params, "level", old, lvl, lang), [code for code, _label in _level_options(ctx, lang)]))
        level, within = None, None
    if within is not None:
        text = f"{within[0]}:{within[1]}"
        key, problem = area_key_problem(ctx, lang, text, lambda lvl, c: _swapped(
            params, "within", text, f"{lvl}:{c}", lang))
        within = key
        problems += [problem] if problem else []
    cleaned = replace(selection, indicators=tuple(c for c in selection.indicators if c in known),
                      areas=tuple(kept_areas), level=level, within=within)
    return cleaned, problems


def nearest_indicators(code: str, indicators: list, lang: str, n: int = NEAREST_INDICATORS) -> list:
    """The indicators whose code or name looks most like `code` (a typo, an old link)."""
    wanted = code.casefold()

    def likeness(ind) -> float:
        name = i18n.pick(lang, ind.name_nl, ind.name_en).casefold()
        return max(difflib.SequenceMatcher(None, wanted, ind.code.casefold()).ratio(),
                   difflib.SequenceMatcher(None, wanted, name).ratio())
    return sorted(indicators, key=lambda ind: (-likeness(ind), ind.code))[:n]


def _unknown_indicator(lang: str, code: str, indicators: list, link) -> EmptyState:
    offers = [(f"{i18n.pick(lang, ind.name_nl, ind.name_en)} ({ind.code})", link(ind.code))
              for ind in nearest_indicators(code, indicators, lang)]
    offers.append((_t(lang, "de tabel zonder deze indicator"), link(None)))
    return EmptyState(_t(lang, "Er is geen indicator “%(code)s”.", code=code), offers_label=_t(lang, "Bedoelde u:"),
                      offers=offers, unknown=True)


# --- reading the cells -----------------------------------------------------------------------

@dataclass
class Cells:
    """The selection's cells, or why there are none."""

    data: Optional[SelectionData] = None
    too_large: Optional[TooManyCells] = None


def read_cells(ctx, selection: Selection, *, rounded: bool, max_cells: int) -> Cells:
    if not selection.complete:
        return Cells()
    try:
        return Cells(ops.selection_table(ctx, selection, rounded=rounded, max_cells=max_cells))
    except TooManyCells as exc:
        return Cells(too_large=exc)


def _n(value: int, lang: str) -> str:
    return i18n.number(value, 0, lang)


def too_large_state(lang: str, selection: Selection, exc: TooManyCells) -> EmptyState:
    """How big the selection is, what the limit is, and how to narrow it (with a link to the
    latest period only, when that fits). Up to MAX_CELLS a table too big for the page can still
    be downloaded."""
    title = _t(lang, "Deze selectie telt %(cells)s cellen (%(indicators)s indicatoren × %(areas)s gebieden × tot "
                     "%(periods)s periodes).",
               cells=_n(exc.cells, lang), indicators=_n(exc.indicators, lang), areas=_n(exc.areas, lang),
               periods=_n(exc.periods, lang))
    if exc.cells <= MAX_CELLS:
        lines = [_t(lang, "Dat is te veel om hier te tonen (hoogstens %(shown)s cellen): download de tabel hieronder "
                          "(tot %(max)s cellen), of kies minder.", shown=_n(exc.cap, lang), max=_n(MAX_CELLS, lang))]
    else:
        lines = [_t(lang, "Een tabel kan er hoogstens %(max)s bevatten, ook als download.", max=_n(MAX_CELLS, lang))]
    lines.append(_t(lang, "Kies minder indicatoren, minder gebieden (bijvoorbeeld de gebieden binnen één gemeente of "
                          "provincie) of minder periodes."))
    offers = []
    if selection.periods.mode != "latest" and exc.indicators * exc.areas <= exc.cap:
        offers.append((_t(lang, "alleen de laatste periode van elke indicator"),
                       selection_url(replace(selection, periods=PeriodChoice()), lang)))
    return EmptyState(title, lines=lines, offers_label=_t(lang, "Zo past het wel:") if offers else "", offers=offers)


def _data_notices(lang: str, data: SelectionData, selection: Selection) -> list[EmptyState]:
    """Chosen periods no indicator has (with the nearest that exist), indicators without any
    figure for these areas."""
    notices = []
    if data.unmatched:
        nearest = nearest_periods(data.unmatched[0], data.any_period)
        listed = tuple(sorted(set(selection.periods.listed) - set(data.unmatched)))
        notices.append(EmptyState(
            _t(lang, "Geen gegevens voor %(periods)s bij deze indicatoren en gebieden.",
               periods=", ".join(data.unmatched)),
            offers_label=_t(lang, "Periodes met gegevens, het dichtst bij %(period)s:", period=data.unmatched[0])
            if nearest else "",
            offers=[(p, selection_url(replace(selection, periods=replace(
                selection.periods, listed=tuple(sorted({*listed, p})))), lang)) for p in nearest]))
    elif data.any_period and data.cell_count == 0:  # a range (or list) without any period with data
        notices.append(EmptyState(
            _t(lang, "Geen gegevens voor de gekozen periodes bij deze indicatoren en gebieden."),
            lines=[_t(lang, "Er zijn gegevens van %(first)s tot en met %(last)s.", first=data.any_period[0],
                      last=data.any_period[-1])],
            offers_label=_t(lang, "Wel beschikbaar:"),
            offers=[(_t(lang, "de laatste periode van elke indicator"),
                     selection_url(replace(selection, periods=PeriodChoice()), lang))]))
    for ind in data.indicators if data.areas else ():
        if not data.available.get(ind.code):
            notices.append(EmptyState(_t(lang, "%(indicator)s heeft geen cijfers voor deze gebieden.",
                                         indicator=i18n.pick(lang, ind.name_nl, ind.name_en))))
    return notices


# --- the page --------------------------------------------------------------------------------

def _indicator_groups(indicators: list, chosen: tuple[str, ...], lang: str) -> list[dict[str, Any]]:
    """The indicators by their first theme (each once, so that one checkbox means one choice),
    themes and names in alphabetical order of the page's language."""
    groups: dict[str, list] = {}
    for ind in indicators:
        groups.setdefault(ind.themes[0] if ind.themes else "overige", []).append(ind)
    return sorted(({"theme": theme, "label": i18n.translate(lang, theme).capitalize(),
                    "indicators": by_name(items, lang), "chosen": sum(1 for i in items if i.code in chosen)}
                   for theme, items in groups.items()), key=lambda g: g["label"].casefold())


def _level_options(ctx, lang: str) -> list[tuple[str, str]]:
    levels = [lvl for lvl in ops.list_levels(ctx) if lvl.areas]
    levels.sort(key=lambda lvl: (not lvl.is_current, lvl.sort_order))
    return [(lvl.code, level_name(lvl, lvl.code, lang)) for lvl in levels]


def _downloads(selection: Selection, lang: str) -> list[tuple[str, str, str]]:
    """(label, url, description) of every registered table format."""
    query = urlencode([*selection.params(), ("lang", lang)], safe=":")
    return [(_t(lang, FORMAT_LABELS[fmt]) if fmt in FORMAT_LABELS else fmt.upper(),
             f"/download/table.{fmt}?{query}", r.description)
            for fmt, r in output_renderers().items() if r.kind == "table"]


def _form(ctx, lang: str, selection: Selection, cells: Cells) -> dict[str, Any]:
    tree = tree_in_language(ops.area_tree(ctx), lang)
    chosen_areas = ops.area_series(ctx, [], list(selection.areas)).areas if selection.areas else []
    within = ops.area_series(ctx, [], [selection.within]).areas if selection.within else []
    available = (cells.data.any_period if cells.data else cells.too_large.available if cells.too_large else ())
    without_within = replace(selection, within=None)
    return {"groups": _indicator_groups(ops.list_indicators(ctx), selection.indicators, lang),
            "picked": picked(chosen_areas, lang), "within_picked": picked(within, lang), "area_tree": tree,
            "within_link": selection_url(without_within, lang) + "&within=",
            "without_within": selection_url(without_within, lang) if selection.within else None,
            "level_options": _level_options(ctx, lang), "available": list(reversed(available)),
            "references": [(lvl, _t(lang, REFERENCE_WORDS[lvl])) for lvl in REFERENCE_LEVELS],
            "layouts": [(key, _t(lang, words)) for key, words in LAYOUT_WORDS.items()]}


def _counted(n: int, one: str, many: str, lang: str) -> str:
    return _t(lang, one) if n == 1 else _t(lang, many, n=_n(n, lang))


def caption(data: SelectionData, lang: str) -> str:
    """"2 indicatoren, 68 gebieden, 1 periode: 136 cellen"."""
    return _t(lang, "%(indicators)s, %(areas)s, %(periods)s: %(cells)s",
              indicators=_counted(len(data.indicators), "1 indicator", "%(n)s indicatoren", lang),
              areas=_counted(len(data.areas), "1 gebied", "%(n)s gebieden", lang),
              periods=_counted(len(data.all_periods), "1 periode", "%(n)s periodes", lang),
              cells=_counted(data.cell_count, "1 cel", "%(n)s cellen", lang))


def _no_areas_of_level(ctx, lang: str, selection: Selection) -> EmptyState:
    """`level` within `within` holds no area (the wijken of a municipality without wijken)."""
    level = selection.level or ""
    words = level_words({lvl.code: lvl for lvl in ops.list_levels(ctx)}.get(level), level, lang)
    within = ops.area_series(ctx, [], [selection.within]).areas[0].name if selection.within else ""
    return EmptyState(_t(lang, "Er liggen geen %(level)s in %(area)s.", level=words, area=within) if within else
                      _t(lang, "Er zijn geen %(level)s.", level=words),
                      offers_label=_t(lang, "Wel beschikbaar:") if within else "",
                      offers=[(_t(lang, "alle %(level)s", level=words),
                               selection_url(replace(selection, within=None), lang))] if within else [])


def _result(ctx, lang: str, asked: Asked, cells: Cells) -> dict[str, Any]:
    selection = asked.selection
    notices = list(asked.problems)
    data = cells.data
    if cells.too_large is not None:
        notices.append(too_large_state(lang, selection, cells.too_large))
    if data is not None and selection.level and not any(a.role == "level" for a in data.areas):
        notices.append(_no_areas_of_level(ctx, lang, selection))
    if data is not None:
        notices += _data_notices(lang, data, selection)
    shown = data if data is not None and data.cell_count > 0 else None
    levels = {lvl.code: lvl for lvl in ops.list_levels(ctx)}
    return {"notices": notices, "data": shown, "caption": caption(shown, lang) if shown else "",
            "grid": pivot(shown) if shown and selection.layout != "long" else None,
            "long": long_rows(shown) if shown and selection.layout == "long" else None,
            "mixed_levels": shown is not None and len({a.level for a in shown.areas}) > 1,
            "area_name": lambda a: labels.area_name(a.level, a.code, a.name, lang),
            "level_of": lambda a: level_name(levels.get(a.level), a.level, lang),
            "share_url": selection_url(selection, lang),
            "downloads": _downloads(selection, lang) if shown or (
                cells.too_large is not None and cells.too_large.cells <= MAX_CELLS) else []}


def _page(request: Request, ctx, lang: str, asked: Asked, cells: Cells, status: int = 200) -> Response:
    response = render(request, "table_builder.html", lang, status_code=status, selection=asked.selection,
                      **_form(ctx, lang, asked.selection, cells), **_result(ctx, lang, asked, cells))
    if request.headers.get("hx-request") == "true":
        # The address bar gets the canonical link (typed names as LEVEL:CODE); a typed name also
        # changes the picker's chips, so that answer is a whole page.
        url = selection_url(asked.selection, lang)
        response.headers["HX-Redirect" if asked.typed else "HX-Push-Url"] = url
    return response


@router.get(PATH, response_class=HTMLResponse)
def table_page(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    asked = read_selection(ctx, lang, request.query_params)
    cells = read_cells(ctx, asked.selection, rounded=True, max_cells=MAX_SHOWN_CELLS)
    nothing = cells.data is None and cells.too_large is None
    return _page(request, ctx, lang, asked, cells, status=404 if asked.unknown and nothing else 200)


# --- the downloads ---------------------------------------------------------------------------

def download_rows(data: SelectionData, lang: str) -> list[dict[str, Any]]:
    """The long format of every download: one row per cell; a cell without a number has an
    empty value and its status in words; a ratio its numerator and denominator where the query
    layer left them (where the caller may see both)."""
    rows = []
    for row in long_rows(data):
        ind, cell, a = row.indicator, row.cell, row.area
        values = value_columns(ind, cell) if cell is not None else {"value": None}
        rows.append({"indicator": ind.code, "name": i18n.pick(lang, ind.name_nl, ind.name_en), "area_code": a.code,
                     "area_name": labels.area_name(a.level, a.code, a.name, lang), "level": a.level,
                     "period": row.period, **values, "unit": ind.unit,
                     "status": str(cell.status) if cell is not None else "missing",
                     "status_label": status_word(cell.value if cell else None, cell.status if cell else None, lang),
                     "origin": str(cell.origin) if cell is not None and cell.origin else None,
                     "origin_label": origin_word(cell.origin if cell else None, lang)})
    return rows


def download_columns(data: SelectionData) -> list[str]:
    columns = OBSERVATION_COLUMNS[:1] + ["name"] + OBSERVATION_COLUMNS[1:]
    if any(ind.aggregation == "ratio" for ind in data.indicators):
        at = columns.index("value") + 1
        columns = columns[:at] + RATIO_COLUMNS + columns[at:]
    return columns


def download_meta(data: SelectionData, lang: str, url: str) -> dict[str, Any]:
    """What the table is: its link, when it was taken, and per indicator its name, unit, source,
    licence, periods and last update (flat keys: the same in JSON and in the XLSX "bron" sheet)."""
    meta: dict[str, Any] = {"title": _t(lang, "Selectietabel"), "url": url, "retrieved": date.today().isoformat(),
                            "indicators": ", ".join(ind.code for ind in data.indicators),
                            "areas": len(data.areas), "periods": ", ".join(data.all_periods),
                            "sources": "; ".join(dict.fromkeys(i.source for i in data.indicators if i.source)),
                            "licences": "; ".join(dict.fromkeys(i.licence for i in data.indicators if i.licence))}
    for ind in data.indicators:
        updated = data.updated.get(ind.code)
        meta.update({f"{ind.code}.name": i18n.pick(lang, ind.name_nl, ind.name_en), f"{ind.code}.unit": ind.unit,
                     f"{ind.code}.source": ind.source, f"{ind.code}.licence": ind.licence,
                     f"{ind.code}.periods": ", ".join(data.periods.get(ind.code, ())),
                     f"{ind.code}.last_update": updated.date().isoformat() if updated else None})
        if ind.aggregation == "ratio":
            meta.update({f"{ind.code}.numerator": ind.numerator, f"{ind.code}.denominator": ind.denominator,
                         f"{ind.code}.scale": ind.scale})
    return meta


@router.get("/download/table.{fmt}")
def table_download(request: Request, ctx: CtxDep, lang: LangDep, fmt: str) -> Response:
    """The selection of /tabel in one download format, long format, values at stored precision."""
    output = renderer(fmt)  # refuse an unknown format before any work
    asked = read_selection(ctx, lang, request.query_params)
    cells = read_cells(ctx, asked.selection, rounded=False, max_cells=MAX_CELLS)
    problems = list(asked.problems)
    if cells.too_large is not None:
        problems.append(too_large_state(lang, asked.selection, cells.too_large))
    elif cells.data is None and not problems:
        problems.append(EmptyState(_t(lang, "Kies minstens één indicator en één gebied voor de tabel.")))
    if problems:  # never a download of something else than what the link says
        if "text/html" in request.headers.get("accept", ""):
            return _page(request, ctx, lang, asked, cells, status=404 if asked.unknown else 422)
        raise ValidationError(" ".join(p.title for p in problems), {"selection": [p.title for p in problems]})
    data = cells.data
    assert data is not None
    url = str(request.base_url).rstrip("/") + selection_url(asked.selection, lang)
    name = "selectietabel-" + "-".join(ind.code for ind in data.indicators[:3])
    return send_table(output, name[:80], download_columns(data), download_rows(data, lang), download_meta(data, lang, url))

