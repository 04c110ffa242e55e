"""Vega-Lite specifications of an area report's charts — pure functions, drawn to SVG by the
fact sheets' renderer (obmi.reports.pdf.render_svg) for the web page and the PDF alike, so both
show the same chart. The map is the fact sheets' choropleth (obmi.reports.charts).

Disclosure: the specs hold published values only (what the query layer returned). A value
without a number is a gap in a line or a bar without length labelled with its sign, never a zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from obmi.publish.signs import SIGNS, shown_status
from obmi.reports import charts

WIDTH = 440  # px; the page scales the drawing to its column, the PDF to its text width
# Reference lines: greys of different lightness and dashes, so that they differ in print and
# for colour-blind readers too; the area itself is the one coloured, solid line.
REFERENCE_COLORS = ("#52606D", "#9AA5B1", "#3E4C59", "#7B8794")
REFERENCE_DASHES = ([5, 3], [2, 2], [8, 3, 2, 3], [1, 3])
# More bars than this get no name beside each bar (the table under the chart has them all).
MAX_LABELLED_BARS = 40


@dataclass(frozen=True)
class Line:
    name: str
    points: Sequence[Any]  # Observations (period, value) in time order
    subject: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    status: str | None
    subject: bool = False


def timeseries_spec(lines: Sequence[Line], *, unit: str, decimals: int, lang: str, description: str) -> dict[str, Any]:
    """One line per area over the periods of all of them; periods without a published value are
    gaps (yearly periods missing between two are put back, as in the fact sheet's sparklines)."""
    periods = charts.fill_periods(sorted({str(p.period) for line in lines for p in line.points}))
    rows: list[dict[str, Any]] = []
    for line in lines:
        values = {str(p.period): p.value for p in line.points}
        rows += [{"area": line.name, "period": period, "value": values.get(period)} for period in periods]
    names = [line.name for line in lines]
    references = [line for line in lines if not line.subject]
    colors = [charts.SUBJECT_COLOR if line.subject else REFERENCE_COLORS[references.index(line) % 4] for line in lines]
    dashes = [[1, 0] if line.subject else REFERENCE_DASHES[references.index(line) % 4] for line in lines]
    y_title = unit if unit and unit != "%" else ("%" if unit else None)
    encoding = {
        "x": {"field": "period", "type": "ordinal", "sort": periods, "title": None,
              "axis": {"labelAngle": 0, "labelOverlap": "greedy"}},
        "y": {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False},
              "axis": {"format": f",.{decimals}f", "tickCount": 5}},
        "color": {"field": "area", "type": "nominal", "sort": names, "title": None,
                  "scale": {"domain": names, "range": colors},
                  "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": WIDTH, "symbolType": "stroke"}},
        "strokeDash": {"field": "area", "type": "nominal", "sort": names, "legend": None,
                       "scale": {"domain": names, "range": dashes}},
    }
    return {
        "$schema": charts.SCHEMA, "description": description,
        "width": WIDTH, "height": 170, "padding": 4,
        "data": {"values": rows},
        "encoding": encoding,
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 2, "invalid": "break-paths-filter-domains"}},
            {"mark": {"type": "point", "filled": True, "size": 18, "opacity": 1, "invalid": "filter"},
             "encoding": {"strokeDash": {"value": [1, 0]}}},
        ],
        "config": dict(charts.BASE_CONFIG),
    }


def bars_spec(bars: Sequence[Bar], *, decimals: int, lang: str, description: str, bar_height: int = 14) -> dict[str, Any]:
    """Horizontal bars in the order given (largest first), the report's area coloured; a value
    without a number gets no bar and its sign. Many bars are drawn thin and without their names."""
    labelled = len(bars) <= MAX_LABELLED_BARS
    rows: list[dict[str, Any]] = []
    for i, bar in enumerate(bars):
        shown = shown_status(bar.value, bar.status)
        text = charts.format_number(bar.value, decimals, lang) if bar.value is not None else \
            SIGNS[shown or "missing"].symbol(lang)
        # without names beside the bars, the report's own bar says whose it is
        label = text if labelled else f"{bar.label} {text}" if bar.subject else ""
        rows.append({"key": f"{i}:{bar.label}", "value": bar.value, "role": "subject" if bar.subject else "other",
                     "label": label})
    known = [r["value"] for r in rows if r["value"] is not None]
    x = {"field": "value", "type": "quantitative", "title": None, "axis": None,
         "scale": {"domain": [min([0.0] + known) * 1.18, max([0.0] + known) * 1.18 or 1.0], "nice": False}}
    y = {"field": "key", "type": "nominal", "sort": [r["key"] for r in rows], "title": None,
         "axis": {"domain": False, "ticks": False, "labelLimit": 190, "labelFontSize": 9, "labelColor": charts.TEXT_COLOR,
                  "labelExpr": "slice(datum.label, indexof(datum.label, ':') + 1)"} if labelled else None}
    return {
        "$schema": charts.SCHEMA, "description": description,
        "width": WIDTH - (220 if labelled else 40), "height": {"step": bar_height if labelled else 5},
        # room beside the names and values: a browser's font may be wider than the Inter they were measured in
        "padding": {"left": 24, "right": 44, "top": 4, "bottom": 4},
        "data": {"values": rows},
        "encoding": {"y": y},
        "layer": [
            {"transform": [{"filter": "isValid(datum.value)"}],
             "mark": {"type": "bar", "height": {"band": 0.75 if labelled else 1}, "cornerRadiusEnd": 1},
             "encoding": {"x": x, "color": {"field": "role", "type": "nominal", "legend": None, "scale": {
                 "domain": ["subject", "other"], "range": [charts.SUBJECT_COLOR, charts.REFERENCE_COLOR]}}}},
            {"transform": [{"calculate": "isValid(datum.value) ? max(datum.value, 0) : 0", "as": "textpos"}],
             "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9, "color": charts.TEXT_COLOR},
             "encoding": {"x": {**x, "field": "textpos"}, "text": {"field": "label"}}},
        ],
        "config": dict(charts.BASE_CONFIG),
    }


def map_spec(features: list[dict[str, Any]], values: dict[str, float | None], highlight: str | None, *,
             unit: str, decimals: int, lang: str, description: str) -> dict[str, Any]:
    """The fact sheets' choropleth of `features` shaded by the published `values` (area code →
    value; only those and the names reach the spec), the report's area outlined when shown."""
    shaded = [{**f, "properties": {"code": f["properties"]["code"], "name": f["properties"]["name"],
                                   "value": values.get(f["properties"]["code"])}} for f in features]
    spec = charts.choropleth_spec({"type": "FeatureCollection", "features": shaded}, highlight, title=None,
                                  value_property="value", value_title=unit or None, decimals=decimals, lang=lang,
                                  width=WIDTH, height=300, label_highlight=highlight is not None)
    spec["description"] = description
    return spec


_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")
_INNER_ROLES = re.compile(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"')


def inline_svg(svg: str, labelled_by: str) -> str:
    """A chart's SVG for the page: one image named by its caption (`labelled_by`, an element id),
    scaling to its column (no fixed width and height: the view box keeps its proportions). The
    roles Vega gives its marks are dropped: inside an image they would only be noise."""
    body = _INNER_ROLES.sub("", svg)

    def opening(match: re.Match[str]) -> str:
        attributes = re.sub(r'\s(?:width|height|class)="[^"]*"', "", match.group(1))
        return f'<svg{attributes} class="report-chart" role="img" aria-labelledby="{labelled_by}" focusable="false">'
    return _SVG_OPEN.sub(opening, body, count=1)
