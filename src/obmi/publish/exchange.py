"""What the open data formats (JSON-stat, Frictionless Data Package, SDMX) are built from: plain
data that the query layer already published — access rules applied, disclosure control applied
(a withheld cell has no value and status `suppressed`), values rounded. The builders in
obmi.publish.jsonstat, .datapackage and .sdmx are pure functions of these tables: no SQL, no
HTTP, no fetching of their own (docs/open-data-formats.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from obmi.errors import ValidationError
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import NO_VALUE_STATUSES, Observation, Status
from obmi.publish.signs import SIGNS, VALUE_WORDS

LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Area:
    code: str
    name: str


@dataclass(frozen=True)
class Level:
    code: str
    name_nl: str
    name_en: str

    def name(self, lang: str) -> str:
        return (self.name_en or self.name_nl) if lang == "en" else self.name_nl


@dataclass(frozen=True)
class IndicatorTable:
    """One indicator at one level as the actor may see it: the level's areas (the area
    dimension, by code), the periods, and the published observations of the query layer."""
    indicator: Indicator
    level: Level
    areas: tuple[Area, ...]
    periods: tuple[str, ...]  # in time order
    rows: tuple[Observation, ...]
    updated: datetime | None  # when the delivered data of the indicator last changed
    _cells: dict[tuple[str, str], Observation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cells", {(r.area_code, r.period): r for r in self.rows})

    def cell(self, area_code: str, period: str) -> Observation | None:
        return self._cells.get((area_code, period))

    def name(self, lang: str) -> str:
        return indicator_name(self.indicator, lang)


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the site's name and public address (links in the documents)."""
    name: str
    base_url: str  # without trailing slash
    data_version: str  # the data version the document was built from (epoch:version)
    prepared: datetime


def indicator_name(ind: Indicator, lang: str) -> str:
    return (ind.name_en or ind.name_nl) if lang == "en" else ind.name_nl


def indicator_definition(ind: Indicator, lang: str) -> str:
    return (ind.definition_en or ind.definition_nl) if lang == "en" else ind.definition_nl


def status_label(status: str, lang: str) -> str:
    """The words for an observation status (the same words every channel uses, obmi.publish.signs)."""
    if status in SIGNS:
        return SIGNS[status].label(lang)
    if status == Status.FINAL:
        return "final" if lang == "en" else "definitief"
    nl, en = VALUE_WORDS.get(status, (status, status))
    return en if lang == "en" else nl


def has_value(row: Observation) -> bool:
    """A number that may leave: a value status and a value (never true for a withheld cell)."""
    return row.value is not None and row.status not in NO_VALUE_STATUSES and not row.disclosure


def published_cell(row: Observation | None) -> tuple[float | None, str]:
    """(value, status) of a cell as every format writes it: a number only with a value status;
    otherwise no number and the reason. A cell without an observation, or without a number and
    a reason, reads "missing" (unknown), as in the query layer."""
    if row is None:
        return None, Status.MISSING
    if has_value(row):
        return row.value, str(row.status)
    return None, str(row.status) if row.status in NO_VALUE_STATUSES else Status.MISSING


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValidationError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})",
                              {"lang": [f"one of {', '.join(LANGUAGES)}"]})
    return lang
