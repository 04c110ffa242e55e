"""Classes and colours for choropleth maps: quantiles, equal intervals, natural breaks
(Fisher-Jenks, via jenkspy); colour-blind-safe sequential and diverging palettes (ColorBrewer)."""

from __future__ import annotations

from dataclasses import dataclass

import jenkspy

METHODS = ("quantile", "equal", "jenks")
# ColorBrewer schemes marked colour-blind safe, 5 classes.
PALETTES = {
    "blues": ("sequential", ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]),
    "ylgnbu": ("sequential", ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]),
    "purples": ("sequential", ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]),
    "rdbu": ("diverging", ["#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"]),
    "puor": ("diverging", ["#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"]),
}
NO_DATA = "#d9d9d9"


@dataclass(frozen=True)
class Classes:
    method: str
    palette: str
    lower: float  # smallest published value
    breaks: list[float]  # upper bound of each class
    colours: list[str]
    reference: float | None = None  # diverging: the value at the middle (e.g. Flanders)

    def colour_of(self, value: float | None) -> str:
        if value is None:
            return NO_DATA
        for bound, colour in zip(self.breaks, self.colours):
            if value <= bound:
                return colour
        return self.colours[-1] if self.colours else NO_DATA

    def legend(self) -> list[tuple[float, float, str]]:
        """(from, to, colour) per class."""
        return list(zip([self.lower] + self.breaks[:-1], self.breaks, self.colours))


def _breaks(values: list[float], method: str, k: int) -> list[float]:
    ordered = sorted(values)
    if method == "equal":
        low, high = ordered[0], ordered[-1]
        return [low + (high - low) * (i + 1) / k for i in range(k)]
    if method == "jenks" and len(set(ordered)) > k:
        return [float(b) for b in jenkspy.jenks_breaks(ordered, n_classes=k)[1:]]
    # quantiles (also the fallback for natural breaks on too few distinct values)
    return [ordered[min(len(ordered) - 1, round(len(ordered) * (i + 1) / k) - 1)] for i in range(k)]


def classify(values: list[float | None], method: str = "quantile", palette: str = "blues",
             reference: float | None = None) -> Classes:
    """Classes for the published values (suppressed/missing are None: the no-data colour)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if palette not in PALETTES:
        raise ValueError(f"palette must be one of {', '.join(PALETTES)}")
    kind, colours = PALETTES[palette]
    data = [v for v in values if v is not None]
    if not data:
        return Classes(method, palette, 0.0, [], [], reference)
    if kind == "diverging" and reference is not None:
        breaks, picked = _diverging(data, colours, reference)
    else:
        breaks = _dedupe(_breaks(data, method, min(len(colours), len(set(data)))))
        picked = _spread(colours, len(breaks))
    return Classes(method, palette, min(data), breaks, picked, reference)


def _diverging(data: list[float], colours: list[str], reference: float) -> tuple[list[float], list[str]]:
    """Two classes below the reference in warm colours, two above in cool ones, each half split
    at its median — so the map reads "below / above Flanders" at a glance."""
    below = sorted(v for v in data if v <= reference)
    above = sorted(v for v in data if v > reference)
    breaks, picked = [], []
    if below:
        if below[len(below) // 2] < reference:
            breaks.append(below[len(below) // 2])
            picked.append(colours[0])
        breaks.append(reference)
        picked.append(colours[1])
    if above:
        if above[len(above) // 2] < above[-1]:
            breaks.append(above[len(above) // 2])
            picked.append(colours[3])
        breaks.append(above[-1])
        picked.append(colours[4])
    return breaks, picked


def _dedupe(breaks: list[float]) -> list[float]:
    out: list[float] = []
    for b in breaks:
        if not out or b > out[-1]:
            out.append(b)
    return out


def _spread(colours: list[str], n: int) -> list[str]:
    if n >= len(colours):
        return colours[:n]
    if n == 1:
        return [colours[-2]]
    step = (len(colours) - 1) / (n - 1)
    return [colours[round(i * step)] for i in range(n)]
