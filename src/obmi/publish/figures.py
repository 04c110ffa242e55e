"""The indicator page's figures as downloadable images: the choropleth map, the ranking and the
time series, as Vega-Lite specifications that the SVG and PNG renderers draw (obmi.publish.renderers,
with the PDF reports' chart engine). Pure functions, no I/O.

Disclosure: a figure is built from rows that a disclosure-controlled read published (the same query
as the page), at the page's display precision. A cell without a number carries only its word
("onderdrukt", "onbekend", …): on the map it is a grey area named in the legend, in the ranking a
row with that word and no bar, in the series a gap. The map copies no value into the spec at all,
only the class each area falls in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from obmi.publish.classify import NO_DATA, Classes
from obmi.publish.signs import status_word
from obmi.reports.charts import MUTED_TEXT, SCHEMA, SUBJECT_COLOR, TEXT_COLOR, fill_periods, format_number

KINDS = ("map", "ranking", "series")
WIDTH = 640
# Grey for "onderdrukt" (the page's no-data colour), lighter for every other cell without a number.
SUPPRESSED_FILL = NO_DATA
OTHER_FILL = "#f0f0f0"
# Okabe–Ito: distinguishable with every common colour-vision deficiency; the subject is blue.
SERIES_COLOURS = [SUBJECT_COLOR, "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]
CONFIG: dict[str, Any] = {
    "font": "Inter", "background": "#FFFFFF", "view": {"stroke": None}, "padding": 12,
    "title": {"color": TEXT_COLOR, "fontSize": 16, "fontWeight": "bold", "anchor": "start", "subtitleFontSize": 12,
              "subtitleColor": MUTED_TEXT, "offset": 12},
    "axis": {"labelColor": MUTED_TEXT, "titleColor": MUTED_TEXT, "domainColor": "#CBD2D9", "tickColor": "#CBD2D9",
             "gridColor": "#E4E7EB", "labelFontSize": 11, "titleFontSize": 11},
    "legend": {"labelColor": TEXT_COLOR, "titleColor": MUTED_TEXT, "labelFontSize": 11, "titleFontSize": 11},
}


@dataclass(frozen=True)
class FigureText:
    """What every figure says besides its data: title, subtitle (period · level), source line."""
    title: str
    subtitle: str
    source: str
    lang: str = "nl"
    decimals: int = 0
    unit: str = ""


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def _word(row: Any, lang: str) -> str:
    """The word of a cell without a number (as in every channel: obmi.publish.signs)."""
    return status_word(None, _get(row, "status"), lang) or status_word(None, "missing", lang)


def _framed(text: FigureText, body: dict[str, Any]) -> dict[str, Any]:
    """A figure with its title above and its source and licence below."""
    footer = {"data": {"values": [{"line": text.source}]}, "width": WIDTH, "height": 14,
              "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 10, "color": MUTED_TEXT,
                       "limit": WIDTH},
              "encoding": {"text": {"field": "line"}, "x": {"value": 0}, "y": {"value": 0}}}
    return {"$schema": SCHEMA, "description": f"{text.title}, {text.subtitle}",
            "title": {"text": text.title, "subtitle": text.subtitle},
            "vconcat": [body, footer], "spacing": 16, "align": "none", "config": CONFIG}


def _map_height(features: Sequence[Mapping[str, Any]], width: int) -> int:
    """The height that keeps the shapes' proportions in the Mercator projection at `width`."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        else:
            for c in coords or []:
                walk(c)
    for f in features:
        walk((f.get("geometry") or {}).get("coordinates"))
    if not xs or max(xs) == min(xs):
        return width // 2
    merc = [math.log(math.tan(math.pi / 4 + math.radians(max(-85.0, min(85.0, y))) / 2)) for y in ys]
    ratio = (max(merc) - min(merc)) / math.radians(max(xs) - min(xs))
    return int(max(200, min(900, width * ratio)))


def _class_of(classes: Classes, value: float) -> int:
    """The class a value falls in, as Classes.colour_of decides it."""
    count = len(classes.legend())
    return next((i for i, bound in enumerate(classes.breaks[:count]) if value <= bound), count - 1)


def map_spec(features: Sequence[Mapping[str, Any]], rows: Sequence[Any], classes: Classes,
             text: FigureText) -> dict[str, Any]:
    """A choropleth of one period: each area in the colour of its class (the page's classes and
    palette), a cell without a number grey with its word, all named in the legend."""
    by_code = {str(_get(r, "area_code")): r for r in rows}
    labels = [f"{format_number(low, text.decimals, text.lang)} – {format_number(high, text.decimals, text.lang)}"
              for low, high, _colour in classes.legend()]
    colours = [colour for _low, _high, colour in classes.legend()]
    words: dict[str, str] = {}
    shapes = []
    for f in features:
        props = f.get("properties") or {}
        row = by_code.get(str(props.get("code", f.get("id", ""))))
        value = _get(row, "value") if row is not None else None
        if value is not None:
            category = labels[_class_of(classes, float(value))]
        else:
            category = _word(row, text.lang) if row is not None else status_word(None, "missing", text.lang)
            words[category] = SUPPRESSED_FILL if _get(row, "status") == "suppressed" else OTHER_FILL
        shapes.append({"type": "Feature", "geometry": f.get("geometry"),
                       "properties": {"name": str(props.get("name", "")), "category": category}})
    domain = labels + list(words)
    colour = {"field": "properties.category", "type": "nominal", "sort": domain,
              "scale": {"domain": domain, "range": colours + list(words.values())},
              "legend": {"title": text.unit or None, "orient": "right", "symbolType": "square", "symbolSize": 160}}
    body = {"width": WIDTH - 170, "height": _map_height(features, WIDTH - 170), "projection": {"type": "mercator"},
            "data": {"values": {"type": "FeatureCollection", "features": shapes},
                     "format": {"type": "json", "property": "features"}},
            "mark": {"type": "geoshape", "stroke": "#FFFFFF", "strokeWidth": 0.4},
            "encoding": {"color": colour}}
    return _framed(text, body)


def ranking_spec(rows: Sequence[Any], text: FigureText) -> dict[str, Any]:
    """Horizontal bars from the highest value to the lowest, each with its number; the areas
    without a number below them, with their word and no bar."""
    valued = sorted((r for r in rows if _get(r, "value") is not None), key=lambda r: -float(_get(r, "value")))
    others = sorted((r for r in rows if _get(r, "value") is None), key=lambda r: str(_get(r, "area_name")))
    data = []
    for i, row in enumerate(valued + others):
        value = _get(row, "value")
        label = format_number(value, text.decimals, text.lang) if value is not None else _word(row, text.lang)
        data.append({"key": f"{i}:{_get(row, 'area_name')}", "value": value, "label": label})
    step = max(3, min(16, 3000 // max(len(data), 1)))
    axis: dict[str, Any] = {"domain": False, "ticks": False, "labelLimit": 240, "labelFontSize": min(11, step - 2),
                            "labelExpr": "slice(datum.label, indexof(datum.label, ':') + 1)"}
    y = {"field": "key", "type": "nominal", "sort": [d["key"] for d in data], "title": None,
         "axis": axis if step >= 7 else None}
    known = [d["value"] for d in data if d["value"] is not None]
    x = {"field": "value", "type": "quantitative", "title": text.unit or None,
         "scale": {"domain": [min([0.0] + known), max([0.0] + known) * 1.15 or 1.0], "nice": False}}
    body = {"width": WIDTH - 250, "height": {"step": step}, "data": {"values": data}, "encoding": {"y": y},
            "layer": [
                {"transform": [{"filter": "isValid(datum.value)"}],
                 "mark": {"type": "bar", "color": SUBJECT_COLOR, "height": {"band": 0.75}}, "encoding": {"x": x}},
                {"transform": [{"calculate": "isValid(datum.value) ? max(datum.value, 0) : 0", "as": "at"}],
                 "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": min(10, step - 2),
                          "color": TEXT_COLOR},
                 "encoding": {"x": {**x, "field": "at", "axis": None}, "text": {"field": "label"}}},
            ]}
    return _framed(text, body)


def series_spec(series: Sequence[tuple[str, Sequence[Any]]], text: FigureText) -> dict[str, Any]:
    """One line per area over the periods (the first area is the subject); a period without a
    published value is a gap, never a zero."""
    periods = fill_periods(sorted({str(_get(p, "period")) for _name, points in series for p in points}))
    names = [name for name, _points in series]
    data = []
    for name, points in series:
        values = {str(_get(p, "period")): _get(p, "value") for p in points}
        data += [{"area": name, "period": period, "value": values.get(period)} for period in periods]
    x = {"field": "period", "type": "ordinal", "sort": periods, "title": None, "axis": {"labelAngle": 0}}
    y = {"field": "value", "type": "quantitative", "title": text.unit or None, "scale": {"zero": False}}
    colour = {"field": "area", "type": "nominal", "sort": names, "title": None,
              "scale": {"domain": names, "range": SERIES_COLOURS[:len(names)] or [SUBJECT_COLOR]},
              "legend": {"orient": "top", "direction": "horizontal", "labelLimit": 280}}
    body = {"width": WIDTH - 60, "height": 300, "data": {"values": data},
            "encoding": {"x": x, "y": y, "color": colour},
            "layer": [{"mark": {"type": "line", "strokeWidth": 2, "invalid": "break-paths-filter-domains"}},
                      {"transform": [{"filter": "isValid(datum.value)"}],
                       "mark": {"type": "point", "filled": True, "size": 30, "opacity": 1}}]}
    return _framed(text, body)
