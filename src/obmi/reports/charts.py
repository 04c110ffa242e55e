"""Vega-Lite chart specifications for fact sheets — pure functions (no I/O), shared by the PDF
renderer (through vl-convert) and the web pages (through vega-embed).

Disclosure: the specs only ever hold values that a disclosure-controlled read published
(`KeyFigure`/`Observation` values). A suppressed or missing value is a gap (line) or a labelled empty
bar, never a zero, and no numerators, denominators or raw counts are added to tooltips.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from babel.numbers import format_decimal

from obmi.publish.signs import SIGNS, shown_status

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
VEGA_LITE_VERSION = "6.4"  # the version vendored for the web pages (web/static/vendor/VERSIONS.json)
FONT = "Inter"

# Okabe–Ito blue for the subject, neutral greys for everything else: distinguishable with every
# common colour-vision deficiency and in greyscale print (the contrast is in lightness too).
SUBJECT_COLOR = "#0072B2"
REFERENCE_COLOR = "#9AA5B1"
CONTEXT_FILL = "#E3E7EC"
CONTEXT_STROKE = "#FFFFFF"
TEXT_COLOR = "#1F2933"
MUTED_TEXT = "#52606D"
SEQUENTIAL_SCHEME = "blues"  # single-hue sequential: safe for colour-blind readers

# The signs of values without a number, as in every channel (obmi.publish.signs).
SUPPRESSED_MARK = SIGNS["suppressed"].symbol_nl
MISSING_MARK = SIGNS["missing"].symbol_nl
LOCALES = {"nl": "nl_BE", "en": "en_GB"}
_YEAR = re.compile(r"^\d{4}$")

BASE_CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "background": None,
    "axis": {"labelColor": MUTED_TEXT, "titleColor": MUTED_TEXT, "domainColor": "#CBD2D9",
             "tickColor": "#CBD2D9", "gridColor": "#E4E7EB", "labelFontSize": 9, "titleFontSize": 9},
    "title": {"color": TEXT_COLOR, "fontSize": 10, "fontWeight": "bold", "anchor": "start", "offset": 6},
    "legend": {"labelColor": MUTED_TEXT, "titleColor": MUTED_TEXT, "labelFontSize": 8, "titleFontSize": 8},
}


def _config(**extra: Any) -> dict[str, Any]:
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_CONFIG.items()}
    config.update(extra)
    return config


# Grouping and decimal separators of the two UI languages (Babel's nl_BE and en_GB): formatting
# these directly is ~100× faster than format_decimal, which matters for thousands of numbers per
# page (roll-up explanations); other locales go through Babel.
_SEPARATORS = {"nl": (".", ","), "en": (",", ".")}


def format_number(value: float, decimals: int, lang: str = "nl") -> str:
    """`value` with exactly `decimals` decimals and the locale's separators (253.266 / 253,266)."""
    rounded = round(value, decimals)
    separators = _SEPARATORS.get(lang)
    if separators is not None:
        text = f"{rounded:,.{max(decimals, 0)}f}"
        if separators[0] != ",":
            text = text.replace(",", "\0").replace(".", separators[1]).replace("\0", separators[0])
    else:
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        text = format_decimal(rounded, format=pattern, locale=LOCALES.get(lang, lang))
    return text.replace("-", "−")  # a real minus sign


def _get(point: Any, name: str) -> Any:
    return point.get(name) if isinstance(point, Mapping) else getattr(point, name, None)


def fill_periods(periods: list[str]) -> list[str]:
    """Yearly periods with the missing years between the first and the last put back (so a
    year without data shows as a gap); other period types are left as they are."""
    if periods and all(_YEAR.match(p) for p in periods):
        first, last = int(min(periods)), int(max(periods))
        if last - first < 200:
            return [str(y) for y in range(first, last + 1)]
    return list(periods)


def sparkline_spec(points: Iterable[Any], *, unit: str = "", decimals: int = 0, lang: str = "nl",
                   width: int = 90, height: int = 18, color: str = SUBJECT_COLOR,
                   description: str | None = None) -> dict[str, Any]:
    """A small line of a series (`Observation`s or mappings with `period` and `value`). Suppressed and
    missing values — and years without a row — are gaps in the line, never zeros. The latest
    published value and isolated values (no neighbour to connect to) get a dot."""
    values = {str(_get(p, "period")): _get(p, "value") for p in points}
    periods = fill_periods(sorted(values))
    rows: list[dict[str, Any]] = []
    published = [i for i, p in enumerate(periods) if values.get(p) is not None]
    last = published[-1] if published else None
    for i, period in enumerate(periods):
        value = values.get(period)
        row: dict[str, Any] = {"period": period, "value": value}
        if value is not None:
            before = i > 0 and values.get(periods[i - 1]) is not None
            after = i + 1 < len(periods) and values.get(periods[i + 1]) is not None
            row["dot"] = i == last or not (before or after)
            row["label"] = format_number(value, decimals, lang) + (f" {unit}" if unit else "")
        rows.append(row)
    x = {"field": "period", "type": "ordinal", "axis": None, "sort": periods,
         "scale": {"paddingOuter": 0.1 if len(periods) > 1 else 0.5}}
    y = {"field": "value", "type": "quantitative", "axis": None, "scale": {"zero": False, "nice": False}}
    tooltip = [{"field": "period", "type": "ordinal", "title": "periode" if lang == "nl" else "period"},
               {"field": "label", "type": "nominal", "title": unit or ("waarde" if lang == "nl" else "value")}]
    return {
        "$schema": SCHEMA,
        "description": description or ("trend" if lang != "nl" else "evolutie"),
        "width": width, "height": height, "padding": 2, "autosize": {"type": "fit", "contains": "padding"},
        "data": {"values": rows},
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "line", "color": color, "strokeWidth": 1.4, "strokeCap": "round",
                      "strokeJoin": "round", "invalid": "break-paths-filter-domains"},
             "encoding": {"tooltip": tooltip}},
            {"transform": [{"filter": "datum.dot === true"}],
             "mark": {"type": "point", "filled": True, "color": color, "size": 12, "opacity": 1},
             "encoding": {"tooltip": tooltip}},
        ],
        "config": _config(),
    }


def _figure_title(figure: Any, lang: str) -> str:
    ind = figure.indicator
    name = (ind.name_en or ind.name_nl) if lang == "en" else ind.name_nl
    parts = [name]
    if ind.unit:
        parts[0] += f" ({ind.unit})"
    if figure.period:
        parts.append(str(figure.period))
    return ", ".join(parts)


def wrap_title(text: str, width: int = 44) -> str | list[str]:
    """A title as lines of at most about `width` characters (Vega titles do not wrap)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[0] if len(lines) == 1 else lines


def comparison_bar_spec(figure: Any, *, lang: str = "nl", subject_name: str | None = None,
                        width: int = 150, bar_height: int = 14) -> dict[str, Any]:
    """Horizontal bars: the subject area against its reference areas for one `KeyFigure`, all in
    the figure's period. A value without a number gets no bar and the sign of its status (x, n.v.t., ?, –)."""
    ind = figure.indicator
    rows: list[dict[str, Any]] = []
    subject_value = figure.value if figure.status not in ("suppressed", "missing") else None
    subject_label = subject_name or ("this area" if lang == "en" else "dit gebied")
    subject_status = figure.status if subject_value is None else "published"
    rows.append({"area": subject_label, "role": "subject", "value": subject_value, "status": subject_status})
    for ref, point in figure.references:
        value = point.value if point is not None else None
        status = "published" if value is not None else (point.status if point is not None else "missing")
        rows.append({"area": ref.name, "role": "reference", "value": value, "status": status})
    for row in rows:
        if row["value"] is not None:
            row["label"] = format_number(row["value"], ind.decimals, lang)
        else:  # the sign of its status
            row["label"] = SIGNS[shown_status(None, row["status"]) or "missing"].symbol(lang)
            row["status"] = "suppressed" if row["status"] == "suppressed" else "missing"
    for i, row in enumerate(rows):  # one band per row, even when two areas share a name
        row["key"] = f"{i}:{row['area']}"
    order = [r["key"] for r in rows]
    y = {"field": "key", "type": "nominal", "sort": order, "title": None,
         "axis": {"domain": False, "ticks": False, "labelLimit": 130, "labelPadding": 4, "labelFontSize": 9,
                  "labelColor": TEXT_COLOR, "labelExpr": "slice(datum.label, indexof(datum.label, ':') + 1)"}}
    known = [r["value"] for r in rows if r["value"] is not None]
    domain_max = max([0.0] + known) * 1.28 or 1.0
    domain_min = min([0.0] + known) * 1.28
    x = {"field": "value", "type": "quantitative", "axis": None, "title": None,
         "scale": {"domain": [domain_min, domain_max], "nice": False}}
    return {
        "$schema": SCHEMA,
        "title": {"text": wrap_title(_figure_title(figure, lang))},
        "description": _figure_title(figure, lang),
        "width": width, "height": {"step": bar_height}, "padding": 2,
        "data": {"values": rows},
        "encoding": {"y": y},
        "layer": [
            {"transform": [{"filter": "isValid(datum.value)"}],
             "mark": {"type": "bar", "cornerRadiusEnd": 1.5, "height": {"band": 0.72}},
             "encoding": {
                 "x": x,
                 "color": {"field": "role", "type": "nominal", "legend": None,
                           "scale": {"domain": ["subject", "reference"], "range": [SUBJECT_COLOR, REFERENCE_COLOR]}},
                 "tooltip": [{"field": "area", "type": "nominal", "title": None},
                             {"field": "label", "type": "nominal", "title": ind.unit or None}]}},
            {"mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9, "color": TEXT_COLOR},
             "encoding": {"x": {**x, "field": "textpos"}, "text": {"field": "label"}},
             "transform": [{"calculate": "isValid(datum.value) ? max(datum.value, 0) : 0", "as": "textpos"}]},
        ],
        "config": _config(),
    }


def _ring_centroid(ring: list) -> tuple[float, float, float]:
    """Signed area and centroid of a polygon ring (planar in lon/lat — good enough for a label)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-15:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return a / 2, cx / (3 * a), cy / (3 * a)


def label_point(geometry: Mapping[str, Any]) -> tuple[float, float] | None:
    """A point to put a label on: the centroid of the geometry's largest polygon."""
    kind = geometry.get("type")
    polygons = ([geometry["coordinates"]] if kind == "Polygon"
                else geometry.get("coordinates", []) if kind == "MultiPolygon" else [])
    best = None
    for polygon in polygons:
        if not polygon or len(polygon[0]) < 3:
            continue
        area, x, y = _ring_centroid([tuple(p[:2]) for p in polygon[0]])
        if best is None or abs(area) > best[0]:
            best = (abs(area), x, y)
    return (best[1], best[2]) if best else None


def _extent(features: Sequence[Mapping[str, Any]]) -> float:
    """Diagonal of the features' bounding box in degrees (0 without coordinates)."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords or []:
                walk(c)
    for f in features:
        walk((f.get("geometry") or {}).get("coordinates"))
    if not xs:
        return 0.0
    return ((max(xs) - min(xs)) ** 2 + (max(ys) - min(ys)) ** 2) ** 0.5


def choropleth_spec(feature_collection: Mapping[str, Any], highlight_code: str | None, *, title: str | None,
                    value_property: str | None = None, value_title: str | None = None, decimals: int = 0,
                    lang: str = "nl", width: int = 220, height: int = 200,
                    label_highlight: bool = True) -> dict[str, Any]:
    """A map of the subject's surroundings (GeoJSON in WGS84, e.g. `feature_collection(conn, level,
    within=...)`) with the subject (`properties.code == highlight_code`) highlighted. With
    `value_property` the areas are shaded by that property (which must hold published values
    only); without it, it is a locator map. Only code, name and that value are copied into the
    spec — other properties never reach it."""
    features: list[dict[str, Any]] = []
    for f in feature_collection.get("features", []):
        props = f.get("properties") or {}
        keep: dict[str, Any] = {"code": str(props.get("code", f.get("id", ""))), "name": str(props.get("name", ""))}
        if value_property:
            value = props.get(value_property)
            keep["value"] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            keep["label"] = (format_number(keep["value"], decimals, lang) if keep["value"] is not None
                             else MISSING_MARK)
        features.append({"type": "Feature", "properties": keep, "geometry": f.get("geometry")})
    highlight = [f for f in features if highlight_code is not None and f["properties"]["code"] == highlight_code]
    data = {"values": {"type": "FeatureCollection", "features": features},
            "format": {"type": "json", "property": "features"}}
    tooltip = [{"field": "properties.name", "type": "nominal", "title": None}]
    if value_property:
        fill: dict[str, Any] = {
            "condition": {"test": "isValid(datum.properties.value)",
                          "field": "properties.value", "type": "quantitative",
                          "scale": {"scheme": SEQUENTIAL_SCHEME},
                          "legend": {"title": value_title, "orient": "bottom-left", "gradientLength": 80,
                                     "format": f",.{decimals}f"}},
            "value": "#F5F7FA"}
        tooltip.append({"field": "properties.label", "type": "nominal", "title": value_title})
        base = {"mark": {"type": "geoshape", "stroke": "#FFFFFF", "strokeWidth": 0.4},
                "encoding": {"color": fill, "tooltip": tooltip}}
        hl_mark = {"type": "geoshape", "fill": None, "filled": False, "stroke": TEXT_COLOR, "strokeWidth": 1.6}
    else:
        base = {"mark": {"type": "geoshape", "fill": CONTEXT_FILL, "stroke": CONTEXT_STROKE, "strokeWidth": 0.6},
                "encoding": {"tooltip": tooltip}}
        hl_mark = {"type": "geoshape", "fill": SUBJECT_COLOR, "stroke": "#FFFFFF", "strokeWidth": 0.6}
    layers: list[dict[str, Any]] = [{"data": data, **base}]
    if highlight:
        layers.append({"data": {"values": {"type": "FeatureCollection", "features": highlight},
                                "format": {"type": "json", "property": "features"}},
                       "mark": hl_mark, "encoding": {"tooltip": tooltip}})
        point = label_point(highlight[0]["geometry"] or {})
        small = _extent(highlight) < 0.06 * max(_extent(features), 1e-9)
        enc = {"longitude": {"field": "lon", "type": "quantitative"},
               "latitude": {"field": "lat", "type": "quantitative"}}
        if point and small:  # a dot, or a small area would not be seen at all
            layers.append({"data": {"values": [{"lon": point[0], "lat": point[1]}]},
                           "mark": {"type": "circle", "size": 45, "color": SUBJECT_COLOR, "opacity": 1,
                                    "stroke": "#FFFFFF", "strokeWidth": 1.2}, "encoding": enc})
        if label_highlight and point:
            label_rows = [{"lon": point[0], "lat": point[1], "name": highlight[0]["properties"]["name"]}]
            text = {"type": "text", "fontSize": 10, "fontWeight": "bold", "dy": -10 if small else -2}
            enc = {**enc, "text": {"field": "name"}}
            layers.append({"data": {"values": label_rows},
                           "mark": {**text, "stroke": "#FFFFFF", "strokeWidth": 3, "strokeJoin": "round",
                                    "color": "#FFFFFF"}, "encoding": enc})
            layers.append({"data": {"values": label_rows}, "mark": {**text, "color": TEXT_COLOR}, "encoding": enc})
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "description": title or "kaart",
        "width": width, "height": height, "padding": 0,
        "projection": {"type": "mercator"},
        "layer": layers,
        "config": _config(),
    }
    if title:
        spec["title"] = {"text": title}
    return spec
