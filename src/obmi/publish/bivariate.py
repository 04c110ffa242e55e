"""Two indicators over the same areas: a bivariate choropleth (3×3 classes, tertiles of each
indicator), proportional symbols (circle area ∝ value) and the correlation of the pairs.

Pure logic, no database and no web: the page (obmi.web.two_indicators) reads the values through
the query layer, so a withheld value arrives here as None and is never classed, sized nor
counted in the correlation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from obmi.publish.classify import classify

CLASSES = 3  # per indicator: low, middle, high (tertiles)
# Joshua Stevens' blue/pink scheme ("Bivariate Choropleth Maps: A How-to Guide", 2015), by row of
# the second indicator (y: low → high, ever bluer) and column of the first (x: ever pinker). Its
# corners differ in lightness as well as hue, so the high/high corner stays the darkest for readers
# with a red-green colour vision deficiency.
STEVENS_BLUE_PINK: tuple[tuple[str, str, str], ...] = (
    ("#e8e8e8", "#e4acac", "#c85a5a"),
    ("#b0d5df", "#ad9ea5", "#985356"),
    ("#64acbe", "#627f8c", "#574249"),
)
# An area without both values is white with grey hatching (the page draws the pattern), never the
# light grey of the low/low class.
NO_DATA = "#ffffff"
MIN_PAIRS_FOR_R = 3  # fewer points draw a line through anything
MAX_RADIUS = 24.0  # pixels: the largest symbol


@dataclass(frozen=True)
class Pair:
    """One area with (the published form of) its two observations; None: no row at all."""

    code: str
    name: str
    x: Any  # Observation (or anything with .value and .status)
    y: Any

    @property
    def x_value(self) -> Optional[float]:
        return None if self.x is None else self.x.value

    @property
    def y_value(self) -> Optional[float]:
        return None if self.y is None else self.y.value

    @property
    def complete(self) -> bool:
        """Both values published: the area is classed, plotted and counted."""
        return self.x_value is not None and self.y_value is not None


def pair_up(x_rows: Iterable[Any], y_rows: Iterable[Any]) -> list[Pair]:
    """The areas of either indicator's rows (area_code, area_name), in code order, each with
    its row of x and of y."""
    xs = {r.area_code: r for r in x_rows}
    ys = {r.area_code: r for r in y_rows}
    names = {code: row.area_name for code, row in {**ys, **xs}.items()}
    return [Pair(code, names[code], xs.get(code), ys.get(code)) for code in sorted(names)]


@dataclass(frozen=True)
class Axis:
    """The tertiles of one indicator: `bounds[i]` is (lowest, highest) of class i, None for a
    class that could not be formed (fewer distinct values than classes)."""

    bounds: tuple[Optional[tuple[float, float]], ...]

    def class_of(self, value: Optional[float]) -> Optional[int]:
        if value is None:
            return None
        formed = [(i, b) for i, b in enumerate(self.bounds) if b is not None]
        for i, (_low, high) in formed:
            if value <= high:
                return i
        return formed[-1][0] if formed else None


def tertiles(values: Sequence[float]) -> Axis:
    """Three classes of equal counts, by the same quantile rule as the site's other maps
    (obmi.publish.classify). With fewer distinct values the classes that exist are spread over
    low/middle/high: two become low and high, one the middle."""
    found = classify(list(values), "quantile", count=CLASSES)
    lows = [found.lower, *found.breaks[:-1]]
    formed = list(zip(lows, found.breaks))
    slots: list[Optional[tuple[float, float]]] = [None] * CLASSES
    if len(formed) == 1:
        slots[1] = formed[0]
    else:
        for i, bound in enumerate(formed):
            slots[round(i * (CLASSES - 1) / (len(formed) - 1))] = bound
    return Axis(tuple(slots))


@dataclass(frozen=True)
class Bivariate:
    x: Axis
    y: Axis

    def cell(self, x: Optional[float], y: Optional[float]) -> Optional[tuple[int, int]]:
        """(column of x, row of y), None unless both values are published."""
        i, j = self.x.class_of(x), self.y.class_of(y)
        return None if i is None or j is None else (i, j)

    def colour(self, x: Optional[float], y: Optional[float]) -> str:
        found = self.cell(x, y)
        return NO_DATA if found is None else STEVENS_BLUE_PINK[found[1]][found[0]]


def bivariate_classes(pairs: Sequence[Pair]) -> Bivariate:
    """Tertiles of x and of y over the areas that have both values (the areas the map classes)."""
    complete = [p for p in pairs if p.complete]
    return Bivariate(tertiles([p.x_value for p in complete]),  # type: ignore[misc]
                     tertiles([p.y_value for p in complete]))  # type: ignore[misc]


@dataclass(frozen=True)
class LegendCell:
    column: int  # class of x
    row: int  # class of y
    colour: str
    count: int  # areas in this cell

    @property
    def ink(self) -> str:
        return ink(self.colour)


def legend(classes: Bivariate, pairs: Sequence[Pair]) -> list[list[LegendCell]]:
    """The 3×3 legend as rows from high y (top) to low y, each from low x to high x, with the
    number of areas in each cell."""
    counts: dict[tuple[int, int], int] = {}
    for p in pairs:
        found = classes.cell(p.x_value, p.y_value)
        if found is not None:
            counts[found] = counts.get(found, 0) + 1
    return [[LegendCell(i, j, STEVENS_BLUE_PINK[j][i], counts.get((i, j), 0)) for i in range(CLASSES)]
            for j in reversed(range(CLASSES))]


# --- proportional symbols ------------------------------------------------------------------

def suits_symbols(aggregation: str) -> bool:
    """Whether an indicator's values can be drawn as sized symbols: counts and amounts (values
    that add up over areas). A ratio or mean has no size of its own — a circle twice as large
    for a share twice as high would read as "twice as many"."""
    return aggregation == "sum"


def symbol_radius(value: Optional[float], largest: float, max_radius: float = MAX_RADIUS) -> Optional[float]:
    """The radius whose circle's area is proportional to `value` (the largest value gets
    `max_radius`): r = R·√(v / vmax). None for no value, a negative one or no positive largest."""
    if value is None or value < 0 or not largest or largest <= 0:
        return None
    return max_radius * math.sqrt(value / largest)


def nice_below(value: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above `value` (a legend's round reference sizes)."""
    if value <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (5, 2, 1) if step * power <= value * (1 + 1e-12))


def symbol_legend(largest: float, max_radius: float = MAX_RADIUS) -> list[tuple[float, float]]:
    """(value, radius) of up to three round reference sizes, largest first: the roundest value
    at most `largest`, and a half and a tenth of it."""
    if largest <= 0:
        return []
    top = nice_below(largest)
    sizes = [top, top / 2, top / 10]
    return [(v, symbol_radius(v, largest, max_radius) or 0.0) for v in sizes if v > 0]


def interior_points(features: Iterable[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """(latitude, longitude) inside each GeoJSON feature, by its properties' code: the pole of
    inaccessibility of its largest part (polylabel), where a symbol sits well inside the shape
    even for a crescent or a municipality with enclaves."""
    from shapely.geometry import shape
    from shapely.ops import polylabel

    points = {}
    for feature in features:
        geometry = feature.get("geometry")
        if not geometry:
            continue
        found = shape(geometry)
        if found.is_empty:
            continue
        largest = max(getattr(found, "geoms", [found]), key=lambda part: part.area)
        inside = polylabel(largest, tolerance=0.001) if largest.geom_type == "Polygon" else largest.representative_point()
        points[str(feature["properties"]["code"])] = (round(inside.y, 6), round(inside.x, 6))
    return points


# --- correlation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Correlation:
    r: Optional[float]  # None: not computable (too few pairs, or one indicator constant)
    n: int  # pairs with both values published

    @property
    def strength(self) -> str:
        """The linear association in words (Dutch; the page translates), by the usual rule of
        thumb for |r|: below 0.1 hardly any, 0.3 weak, 0.5 moderate, else strong."""
        if self.r is None:
            return ""
        size, positive = abs(self.r), self.r > 0
        if size < 0.1:
            return "nauwelijks samenhang"
        if size < 0.3:
            return "zwakke positieve samenhang" if positive else "zwakke negatieve samenhang"
        if size < 0.5:
            return "matige positieve samenhang" if positive else "matige negatieve samenhang"
        return "sterke positieve samenhang" if positive else "sterke negatieve samenhang"


def pearson(pairs: Sequence[Pair]) -> Correlation:
    """Pearson's r over the pairs with both values published (withheld ones are None: left out)."""
    complete = [p for p in pairs if p.complete]
    n = len(complete)
    if n < MIN_PAIRS_FOR_R:
        return Correlation(None, n)
    xs = np.array([p.x_value for p in complete], dtype=float)
    ys = np.array([p.y_value for p in complete], dtype=float)
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return Correlation(None, n)
    r = float(np.corrcoef(xs, ys)[0, 1])
    return Correlation(max(-1.0, min(1.0, r)), n)


def ink(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (#rrggbb): the count printed
    in a legend cell stays readable (WCAG relative luminance)."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(background[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"
