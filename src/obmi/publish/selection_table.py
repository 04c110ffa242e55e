"""The table builder ("Selectietabel"): indicators × areas × periods chosen in a page, written
in its URL, and the published cells pivoted into the layout asked for. Pure: no SQL, no HTTP.

The selection is read from the URL here (`parse_selection`, the one reader of its parameters)
and written back (`Selection.params`, the shareable URL); the operation
obmi.operations.tables reads the cells through the query layer, so every cell arrives with the
disclosure decisions applied (a withheld cell has no value and status `suppressed`); `pivot`
and `long_rows` arrange them for the page and the downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from obmi.errors import ValidationError
from obmi.geo.codes import AreaKey, parse_area_key
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation
from obmi.indicators.periods import parse_period, period_sort_key, sort_periods
from obmi.publish.classify import Problem

LAYOUTS = ("areas", "periods", "long")  # areas as rows (the default), periods as rows, one row per cell
PERIOD_MODES = ("latest", "all", "list", "range")
# Reference areas: the municipality, province or region each chosen area lies in.
REFERENCE_LEVELS = ("gemeente", "provincie", "gewest")
MAX_CELLS = 100_000  # indicators × areas × periods of one table or download
MAX_INDICATORS = 50
MAX_AREAS = 200  # picked one by one; "all areas of a level" is bounded by MAX_CELLS only

CellKey = tuple[str, int, str]  # (indicator, area id, period)


# --- the selection ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodChoice:
    """Which periods: each indicator's latest, all, a chosen list, or a range (inclusive)."""

    mode: str = "latest"
    listed: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None

    def pick(self, available: Sequence[str]) -> list[str]:
        """The periods of `available` this choice shows, in time order."""
        ordered = sort_periods(set(available))
        if self.mode == "all":
            return ordered
        if self.mode == "list":
            return [p for p in ordered if p in self.listed]
        if self.mode == "range":
            low = period_sort_key(self.start) if self.start else None
            high = period_sort_key(self.end) if self.end else None
            return [p for p in ordered if (low is None or period_sort_key(p) >= low)
                    and (high is None or period_sort_key(p) <= high)]
        return ordered[-1:]

    def params(self) -> list[tuple[str, str]]:
        if self.mode == "list":
            return [("periods", "list"), *[("period", p) for p in self.listed]]
        if self.mode == "range":
            return [("periods", "range"), *([("from", self.start)] if self.start else []),
                    *([("to", self.end)] if self.end else [])]
        return [] if self.mode == "latest" else [("periods", self.mode)]


@dataclass(frozen=True)
class Selection:
    """What a table shows. Areas: those picked one by one, and/or every area of `level` (lying
    in `within`), and the areas at the `references` levels that these lie in."""

    indicators: tuple[str, ...] = ()
    areas: tuple[AreaKey, ...] = ()
    level: str | None = None
    within: AreaKey | None = None
    references: tuple[str, ...] = ()
    periods: PeriodChoice = PeriodChoice()
    layout: str = "areas"

    @property
    def complete(self) -> bool:
        """Enough to build a table: an indicator and some areas."""
        return bool(self.indicators) and bool(self.areas or self.level)

    def params(self) -> list[tuple[str, str]]:
        """The selection as URL parameters, in one fixed order: the shareable link."""
        return [*[("indicator", code) for code in self.indicators],
                *[("area", f"{level}:{code}") for level, code in self.areas],
                *([("level", self.level)] if self.level else []),
                *([("within", f"{self.within[0]}:{self.within[1]}")] if self.within else []),
                *[("ref", level) for level in self.references],
                *self.periods.params(),
                *([] if self.layout == "areas" else [("layout", self.layout)])]


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """The non-empty values of a repeated parameter, also comma-separated, once each."""
    found = [part.strip() for value in params.get(name, ()) for part in str(value).split(",")]
    return list(dict.fromkeys(v for v in found if v))


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [str(v).strip() for v in params.get(name, ()) if str(v).strip()]
    return values[-1] if values else None


def _period(text: str, problems: list[Problem]) -> str | None:
    try:
        return parse_period(text)[0]
    except ValueError:
        problems.append(Problem("“%(value)s” is geen periode: schrijf een jaar (2015), een kwartaal (2015-Q1) of "
                                "een maand (2015-03).", {"value": text}))
        return None


def _period_choice(params: Mapping[str, Sequence[str]], problems: list[Problem]) -> PeriodChoice:
    mode = _one(params, "periods")
    listed = [p for p in (_period(t, problems) for t in _values(params, "period")) if p]
    start = _period(text, problems) if (text := _one(params, "from")) else None
    end = _period(text, problems) if (text := _one(params, "to")) else None
    if mode is not None and mode not in PERIOD_MODES:
        problems.append(Problem("Onbekende periodekeuze “%(value)s”: de laatste periode wordt getoond.",
                                {"value": mode}))
        mode = None
    if mode is None:  # a link written by hand: what it holds says what it means
        mode = "list" if listed else "range" if (start or end) else "latest"
    if mode == "list" and not listed:
        problems.append(Problem("Kies minstens één periode uit de lijst: nu wordt de laatste periode getoond."))
        mode = "latest"
    if mode == "range" and start and end and period_sort_key(start) > period_sort_key(end):
        start, end = end, start  # "from 2020 to 2015" means the years in between
    return PeriodChoice(mode, tuple(sort_periods(listed)) if mode == "list" else (),
                        start if mode == "range" else None, end if mode == "range" else None)


def parse_selection(params: Mapping[str, Sequence[str]]) -> tuple[Selection, list[Problem]]:
    """Read a selection from URL parameters (name → values). Whatever cannot be used is left
    out or falls back to the default, with a Problem saying what and why; never an exception.
    Areas are LEVEL:CODE here (a typed name is looked up by the page first); whether the
    indicators, levels and areas exist is for the caller, which knows the catalogue."""
    problems: list[Problem] = []
    indicators = _values(params, "indicator")
    if len(indicators) > MAX_INDICATORS:
        problems.append(Problem("Een tabel kan hoogstens %(max)s indicatoren tonen; de eerste %(max)s worden "
                                "getoond.", {"max": str(MAX_INDICATORS)}))
        indicators = indicators[:MAX_INDICATORS]
    areas: list[AreaKey] = []
    for text in _values(params, "area"):
        try:
            areas.append(parse_area_key(text))
        except ValidationError:
            problems.append(Problem("“%(value)s” is geen gebied: schrijf NIVEAU:CODE, bijvoorbeeld gemeente:44021.",
                                    {"value": text}))
    if len(areas) > MAX_AREAS:
        problems.append(Problem("Kies hoogstens %(max)s gebieden één voor één (of alle gebieden van een niveau); de "
                                "eerste %(max)s worden getoond.", {"max": str(MAX_AREAS)}))
        areas = areas[:MAX_AREAS]
    within: AreaKey | None = None
    if (asked := _one(params, "within")) is not None:
        try:
            within = parse_area_key(asked)
        except ValidationError:
            problems.append(Problem("“%(value)s” is geen gebied: schrijf NIVEAU:CODE, bijvoorbeeld gemeente:44021.",
                                    {"value": asked}))
    references = []
    for ref in _values(params, "ref"):
        if ref in REFERENCE_LEVELS:
            references.append(ref)
        else:
            problems.append(Problem("Onbekend referentiegebied “%(value)s”: kies gemeente, provincie of gewest.",
                                    {"value": ref}))
    layout = _one(params, "layout") or "areas"
    if layout not in LAYOUTS:
        problems.append(Problem("Onbekende indeling “%(value)s”: de gebieden staan in de rijen.", {"value": layout}))
        layout = "areas"
    level = _one(params, "level")
    if within is not None and level is None:
        problems.append(Problem("Kies bij “alle gebieden van een niveau” ook het niveau: “binnen” alleen zegt niet "
                                "welke gebieden."))
        within = None
    return Selection(tuple(indicators), tuple(dict.fromkeys(areas)), level, within,
                     tuple(lvl for lvl in REFERENCE_LEVELS if lvl in references), _period_choice(params, problems),
                     layout), problems


# --- what the operation reads ----------------------------------------------------------------

@dataclass(frozen=True)
class TableArea:
    id: int
    level: str
    code: str
    name: str
    level_name: str
    role: str  # "chosen" (picked), "level" (every area of a level), "reference"

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}"


class TooManyCells(ValidationError):
    """The selection holds more cells than one table may: say how many, and how to narrow it."""

    def __init__(self, cells: int, indicators: int, areas: int, periods: int, cap: int = MAX_CELLS,
                 available: tuple[str, ...] = ()):
        super().__init__(f"the selection has {cells} cells ({indicators} indicators × {areas} areas × up to "
                         f"{periods} periods), more than {cap}: choose fewer indicators, areas or periods",
                         {"cells": [str(cells)]})
        self.cells, self.indicators, self.areas, self.periods, self.cap = cells, indicators, areas, periods, cap
        self.available = available  # every period of the indicators at the table's levels (the form's choices)


def count_cells(areas: int, periods: Mapping[str, Sequence[str]]) -> int:
    """Cells of a table: every area for every (indicator, period) column."""
    return areas * sum(len(p) for p in periods.values())


@dataclass(frozen=True)
class SelectionData:
    """The published cells of a selection, as the query layer gave them."""

    selection: Selection
    indicators: tuple[Indicator, ...]
    areas: tuple[TableArea, ...]
    periods: Mapping[str, tuple[str, ...]]  # indicator → the periods shown, in time order
    cells: Mapping[CellKey, Observation]
    available: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # indicator → its periods at the table's levels
    updated: Mapping[str, datetime | None] = field(default_factory=dict)  # indicator → last import

    def cell(self, indicator: str, area_id: int, period: str) -> Observation | None:
        """The published observation; None where there is none (the page shows "unknown")."""
        return self.cells.get((indicator, area_id, period))

    @property
    def cell_count(self) -> int:
        return count_cells(len(self.areas), self.periods)

    @property
    def all_periods(self) -> list[str]:
        return sort_periods({p for shown in self.periods.values() for p in shown})

    @property
    def any_period(self) -> list[str]:
        """Every period any of the indicators has at the table's levels, in time order."""
        return sort_periods({p for found in self.available.values() for p in found})

    @property
    def unmatched(self) -> list[str]:
        """Periods of a chosen list that none of the indicators has."""
        choice = self.selection.periods
        having = set(self.any_period)
        return [p for p in choice.listed if p not in having] if choice.mode == "list" else []


# --- layouts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of values: an indicator in one period (areas as rows) or for one area
    (periods as rows)."""

    indicator: Indicator
    period: str | None = None
    area: TableArea | None = None


@dataclass(frozen=True)
class ColumnGroup:
    indicator: Indicator
    span: int


@dataclass(frozen=True)
class Row:
    """A row of a wide table: an area (areas as rows) or a period (periods as rows)."""

    area: TableArea | None
    period: str | None
    cells: tuple[Observation | None, ...]


@dataclass(frozen=True)
class Grid:
    layout: str
    groups: tuple[ColumnGroup, ...]  # the upper header row: one group per indicator
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


def pivot(data: SelectionData, layout: str | None = None) -> Grid:
    """The cells as a wide table: areas as rows and (indicator, period) columns, or periods as
    rows and (indicator, area) columns. A missing cell is None."""
    layout = layout or data.selection.layout
    if layout == "periods":
        columns = tuple(Column(ind, area=a) for ind in data.indicators for a in data.areas)
        rows = tuple(Row(None, p, tuple(data.cell(c.indicator.code, c.area.id, p) if c.area else None
                                        for c in columns)) for p in data.all_periods)
        groups = tuple(ColumnGroup(ind, len(data.areas)) for ind in data.indicators)
        return Grid("periods", groups, columns, rows)
    columns = tuple(Column(ind, period=p) for ind in data.indicators for p in data.periods.get(ind.code, ()))
    rows = tuple(Row(a, None, tuple(data.cell(c.indicator.code, a.id, c.period or "") for c in columns))
                 for a in data.areas)
    groups = tuple(ColumnGroup(ind, len(data.periods.get(ind.code, ()))) for ind in data.indicators
                   if data.periods.get(ind.code))
    return Grid("areas", groups, columns, rows)


@dataclass(frozen=True)
class LongRow:
    area: TableArea
    indicator: Indicator
    period: str
    cell: Observation | None


def long_rows(data: SelectionData) -> list[LongRow]:
    """One row per cell (the long format of the page and of every download): by area, then
    indicator, then period."""
    return [LongRow(a, ind, p, data.cell(ind.code, a.id, p))
            for a in data.areas for ind in data.indicators for p in data.periods.get(ind.code, ())]
