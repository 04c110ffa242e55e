"""Classes and colours for choropleth maps: quantiles, equal intervals, natural breaks
(Fisher-Jenks, via jenkspy) or breaks of one's own; 3 to 9 classes; colour-blind-safe sequential
and diverging palettes (ColorBrewer, © Cynthia Brewer, Mark Harrower and The Pennsylvania State
University, Apache 2.0).

`parse_choice` reads what a page's URL asks for (method, palette, number of classes, manual
breaks) and returns the choice with a notice per unusable part instead of an error, so a page
always shows a map: the default for what it cannot use, and says why."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jenkspy

METHODS = ("quantile", "equal", "jenks")
MANUAL = "manual"  # breaks given by the reader
MIN_CLASSES, MAX_CLASSES, DEFAULT_CLASSES = 3, 9, 5


def _hex(*encoded: str) -> dict[int, list[str]]:
    """ColorBrewer schemes as published (d3-scale-chromatic's compact form): one string of
    6-digit colours per number of classes, from 3 up."""
    return {len(text) // 6: [f"#{text[i:i + 6]}" for i in range(0, len(text), 6)] for text in encoded}


# ColorBrewer schemes marked colour-blind safe, per number of classes (3–9).
SCHEMES: dict[str, tuple[str, dict[int, list[str]]]] = {
    "blues": ("sequential", _hex(
        "deebf79ecae13182bd", "eff3ffbdd7e76baed62171b5", "eff3ffbdd7e76baed63182bd08519c",
        "eff3ffc6dbef9ecae16baed63182bd08519c", "eff3ffc6dbef9ecae16baed64292c62171b5084594",
        "f7fbffdeebf7c6dbef9ecae16baed64292c62171b5084594",
        "f7fbffdeebf7c6dbef9ecae16baed64292c62171b508519c08306b")),
    "ylgnbu": ("sequential", _hex(
        "edf8b17fcdbb2c7fb8", "ffffcca1dab441b6c4225ea8", "ffffcca1dab441b6c42c7fb8253494",
        "ffffccc7e9b47fcdbb41b6c42c7fb8253494", "ffffccc7e9b47fcdbb41b6c41d91c0225ea80c2c84",
        "ffffd9edf8b1c7e9b47fcdbb41b6c41d91c0225ea80c2c84",
        "ffffd9edf8b1c7e9b47fcdbb41b6c41d91c0225ea8253494081d58")),
    "purples": ("sequential", _hex(
        "efedf5bcbddc756bb1", "f2f0f7cbc9e29e9ac86a51a3", "f2f0f7cbc9e29e9ac8756bb154278f",
        "f2f0f7dadaebbcbddc9e9ac8756bb154278f", "f2f0f7dadaebbcbddc9e9ac8807dba6a51a34a1486",
        "fcfbfdefedf5dadaebbcbddc9e9ac8807dba6a51a34a1486",
        "fcfbfdefedf5dadaebbcbddc9e9ac8807dba6a51a354278f3f007d")),
    "rdbu": ("diverging", _hex(
        "ef8a62f7f7f767a9cf", "ca0020f4a58292c5de0571b0", "ca0020f4a582f7f7f792c5de0571b0",
        "b2182bef8a62fddbc7d1e5f067a9cf2166ac", "b2182bef8a62fddbc7f7f7f7d1e5f067a9cf2166ac",
        "b2182bd6604df4a582fddbc7d1e5f092c5de4393c32166ac",
        "b2182bd6604df4a582fddbc7f7f7f7d1e5f092c5de4393c32166ac")),
    "puor": ("diverging", _hex(
        "f1a340f7f7f7998ec3", "e66101fdb863b2abd25e3c99", "e66101fdb863f7f7f7b2abd25e3c99",
        "b35806f1a340fee0b6d8daeb998ec3542788", "b35806f1a340fee0b6f7f7f7d8daeb998ec3542788",
        "b35806e08214fdb863fee0b6d8daebb2abd28073ac542788",
        "b35806e08214fdb863fee0b6f7f7f7d8daebb2abd28073ac542788")),
}
# Each palette with its default number of classes (what the palette selector shows).
PALETTES = {name: (kind, by_count[DEFAULT_CLASSES]) for name, (kind, by_count) in SCHEMES.items()}
# What a reader sees in the palette selector (Dutch, English); obmi.publish.labels adds the kind.
PALETTE_NAMES = {"blues": ("Blauw", "Blue"), "ylgnbu": ("Geel-groen-blauw", "Yellow-green-blue"),
                 "purples": ("Paars", "Purple"), "rdbu": ("Rood-blauw", "Red-blue"),
                 "puor": ("Oranje-paars", "Orange-purple")}
NO_DATA = "#d9d9d9"
MAX_BREAKS = MAX_CLASSES - 1  # manual breaks: the bounds between classes; the last class runs to the maximum


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

    def as_json(self) -> dict:
        """What the page's script needs to colour values the same way (colour_of in obmi.js)."""
        return {"lower": self.lower, "breaks": self.breaks, "colours": self.colours, "reference": self.reference}


@dataclass(frozen=True)
class Problem:
    """Why (part of) a requested classification was not used: a Dutch sentence with
    %(name)s placeholders (translated by the page) and its values."""

    message: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """A usable classification request: what `classify` takes, plus what was set aside."""

    method: str = "quantile"
    palette: str = "blues"
    count: int = DEFAULT_CLASSES
    breaks: tuple[float, ...] = ()  # manual breaks (method MANUAL)
    same_for_all_periods: bool = False
    problems: tuple[Problem, ...] = ()


def parse_choice(method: str | None, palette: str | None, count: str | int | None = None,
                 breaks: str | None = None, same_for_all_periods: bool = False) -> Choice:
    """Read a classification request from text (a URL). Whatever cannot be used falls back to the
    default, with a Problem saying what and why; never an exception."""
    problems: list[Problem] = []
    method = (method or "quantile").strip()
    if method not in METHODS and method != MANUAL:
        problems.append(Problem("Onbekende klassenindeling %(value)s: de standaard (kwantielen) wordt getoond.",
                                {"value": method}))
        method = "quantile"
    palette = (palette or "blues").strip()
    if palette not in SCHEMES:
        problems.append(Problem("Onbekend kleurenpalet %(value)s: de standaardkleuren worden getoond.",
                                {"value": palette}))
        palette = "blues"
    number = _parse_count(count, problems)
    manual: tuple[float, ...] = ()
    if breaks is not None and breaks.strip():
        manual, problem = parse_breaks(breaks)
        if problem:
            problems.append(problem)
    if method == MANUAL and not manual:
        if breaks is None or not breaks.strip():
            problems.append(Problem("Geef zelf klassengrenzen op (bijvoorbeeld 10;20;30): nu worden kwantielen "
                                    "getoond."))
        method = "quantile"
    elif manual:
        method = MANUAL
    return Choice(method, palette, number, manual, same_for_all_periods, tuple(problems))


def _parse_count(count: str | int | None, problems: list[Problem]) -> int:
    if count is None or str(count).strip() == "":
        return DEFAULT_CLASSES
    try:
        number = int(str(count).strip())
    except ValueError:
        number = 0
    if MIN_CLASSES <= number <= MAX_CLASSES:
        return number
    problems.append(Problem("Het aantal klassen moet een geheel getal van %(min)s tot %(max)s zijn (niet "
                            "%(value)s): %(default)s klassen worden getoond.",
                            {"min": str(MIN_CLASSES), "max": str(MAX_CLASSES), "value": str(count),
                             "default": str(DEFAULT_CLASSES)}))
    return DEFAULT_CLASSES


def parse_breaks(text: str) -> tuple[tuple[float, ...], Problem | None]:
    """Manual class breaks as typed: numbers separated by semicolons ("10;20;30"; a decimal comma
    is fine: "2,5;7,5"), ascending, at most MAX_BREAKS of them. ((), Problem) when unusable."""
    parts = [p.strip() for p in text.replace(" ", "").split(";") if p.strip()]
    numbers: list[float] = []
    for part in parts:
        try:
            number = float(part.replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return (), Problem("Klassengrens %(value)s is geen getal. Schrijf de grenzen als getallen gescheiden "
                               "door puntkomma's, bijvoorbeeld 10;20;30.", {"value": part})
        numbers.append(number)
    if not numbers or len(numbers) > MAX_BREAKS:
        return (), Problem("Geef 1 tot %(max)s klassengrenzen op, gescheiden door puntkomma's (bijvoorbeeld "
                           "10;20;30).", {"max": str(MAX_BREAKS)})
    if any(b <= a for a, b in zip(numbers, numbers[1:])):
        return (), Problem("De klassengrenzen moeten van klein naar groot lopen, elke grens groter dan de vorige "
                           "(%(value)s).", {"value": text.strip()})
    return tuple(numbers), None


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
             reference: float | None = None, count: int = DEFAULT_CLASSES,
             breaks: tuple[float, ...] | list[float] = ()) -> Classes:
    """Classes for the published values (suppressed/missing are None: the no-data colour):
    `count` classes by `method`, or the classes between manual `breaks` (method MANUAL).
    A diverging palette with a reference value splits below and above it (count // 2 classes
    on each side), so the map reads "below / above Flanders" at a glance."""
    if method not in METHODS and method != MANUAL:
        raise ValueError(f"method must be one of {', '.join(METHODS + (MANUAL,))}")
    if palette not in SCHEMES:
        raise ValueError(f"palette must be one of {', '.join(SCHEMES)}")
    if not MIN_CLASSES <= count <= MAX_CLASSES:
        raise ValueError(f"count must be from {MIN_CLASSES} to {MAX_CLASSES}")
    kind, schemes = SCHEMES[palette]
    data = [v for v in values if v is not None]
    if not data:
        return Classes(method, palette, 0.0, [], [], reference)
    if method == MANUAL and not breaks:
        raise ValueError("manual classes need breaks")
    if method == MANUAL:
        bounds = _manual_bounds(list(breaks), max(data))
        return Classes(method, palette, min(min(data), bounds[0]), bounds, _colours(schemes, len(bounds)), reference)
    if kind == "diverging" and reference is not None:
        found, picked = _diverging(data, schemes, reference, max(1, count // 2))
    else:
        found = _dedupe(_breaks(data, method, min(count, len(set(data)))))
        picked = _colours(schemes, len(found))
    return Classes(method, palette, min(data), found, picked, reference)


def _manual_bounds(breaks: list[float], highest: float) -> list[float]:
    """The upper bound of each class: the breaks, then the largest value (if above the last break)."""
    return breaks + [highest] if highest > breaks[-1] else breaks


def _colours(schemes: dict[int, list[str]], n: int) -> list[str]:
    """The ColorBrewer scheme of n classes; fewer than 3 spread over the 3-class scheme."""
    if n in schemes:
        return schemes[n]
    if n > MAX_CLASSES:
        return _spread(schemes[MAX_CLASSES], n)
    return [schemes[3][1]] if n == 1 else [schemes[3][0], schemes[3][2]][:n]


def _diverging(data: list[float], schemes: dict[int, list[str]], reference: float,
               per_side: int) -> tuple[list[float], list[str]]:
    """Up to `per_side` classes below the reference in warm colours (the last one ends at the
    reference), as many above in cool ones, each side split at its quantiles."""
    below = sorted(v for v in data if v <= reference)
    above = sorted(v for v in data if v > reference)
    scheme = schemes[2 * per_side] if 2 * per_side in schemes else [schemes[3][0], schemes[3][2]]
    warm, cool = scheme[:per_side], scheme[per_side:]
    low_breaks = _dedupe(_breaks(below, "quantile", min(per_side, len(set(below))))[:-1] + [reference]) \
        if below else []
    high_breaks = _dedupe(_breaks(above, "quantile", min(per_side, len(set(above))))) if above else []
    # The colours nearest the middle for a side with fewer classes.
    return (low_breaks + high_breaks,
            (warm[len(warm) - len(low_breaks):] if low_breaks else []) + cool[:len(high_breaks)])


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
