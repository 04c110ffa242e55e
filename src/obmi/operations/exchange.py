"""Reads for the open data formats — JSON-stat, Frictionless Data Package, SDMX
(obmi.web.exchange_api, docs/open-data-formats.md). They go through the same query layer as
every other channel: the catalogue as the actor may see it (a hidden indicator does not exist, a
level finer than an indicator's public level is refused) and the stored disclosure decisions (a
withheld cell leaves without any number). The formats are built from what these return by the
pure builders of obmi.publish.jsonstat, .datapackage and .sdmx."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import AreaKey
from obmi.indicators.catalogue import Indicator
from obmi.operations.registry import Unit, operation
from obmi.publish.exchange import Area, IndicatorTable, Level, Publisher
from obmi.query import areas as area_query
from obmi.query import availability
from obmi.query.observations import ObservationQuery
from obmi.query.observations import query_observations as run_query
from obmi.query.visibility import CatalogueView
from obmi.store.state import read_state

__all__ = ["ExchangeView", "ThemeView", "exchange_tables", "exchange_theme"]

MAX_INDICATORS = 50  # one download, one request: a bulk copy of everything is the warehouse export
_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExchangeView:
    """Indicators at one level as the actor may see them, with who publishes them."""
    level: Level
    areas: tuple[Area, ...]  # the level's areas (within the `within` area), by code
    tables: tuple[IndicatorTable, ...]
    publisher: Publisher


@dataclass(frozen=True)
class ThemeView:
    theme: str
    level: Level
    tables: tuple[IndicatorTable, ...]  # without rows: the indicators of the theme with data at the level
    publisher: Publisher


def _publisher(unit: Unit) -> Publisher:
    state = read_state(unit.conn)
    return Publisher(unit.settings.site_name, unit.settings.public_base_url, state.tag, state.changed_at or _EPOCH)


def _level(unit: Unit, code: str) -> Level:
    area_query.check_level(unit.conn, code)
    found = next(lvl for lvl in area_query.list_levels(unit.conn) if lvl.code == code)
    return Level(found.code, found.name_nl, found.name_en)


def _indicators(view: CatalogueView, codes: Sequence[str], level: str) -> list[Indicator]:
    """The asked indicators (NotFound for one the actor may not see), or — none asked — every
    indicator the actor may see at the level."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if len(wanted) > MAX_INDICATORS:
        raise ValidationError(f"at most {MAX_INDICATORS} indicators per request",
                              {"indicator": [f"{len(wanted)} given"]})
    if not wanted:
        return sorted((i for i in view.visible.values() if view.sees_level(i, level)), key=lambda i: i.code)
    found = [view.get(code) for code in wanted]
    for ind in found:
        view.require_level(ind, level)
    return found


@operation("statistics.read")
def exchange_tables(unit: Unit, indicators: Sequence[str], level: str, *, period: str | None = None,
                    within: AreaKey | None = None, with_rows: bool = True) -> ExchangeView:
    """Indicators at one level (optionally one period, within an area) for the open data formats,
    access rules and disclosure control applied; `with_rows=False`: only their definitions and
    the level's areas (an SDMX structure)."""
    view = CatalogueView.load(unit.conn, unit.actor)
    lvl = _level(unit, level)
    chosen = _indicators(view, indicators, level)
    stmt = area_query.areas_of_level(unit.conn, level, within=within, include_unknown=False)
    areas = tuple(Area(code, name) for _, code, name, _unknown in unit.conn.execute(stmt))
    tables = []
    for ind in chosen:
        if with_rows:
            result = run_query(unit.conn, ObservationQuery(ind.code, level, period, (), within), view=view,
                               default_threshold=unit.settings.default_threshold)
            periods, rows = tuple(result.periods), tuple(result.rows)
        else:
            periods, rows = (), ()
        tables.append(IndicatorTable(ind, lvl, areas, periods, rows, availability.last_update(unit.conn, ind.code)))
    return ExchangeView(lvl, areas, tuple(tables), _publisher(unit))


@operation("statistics.read")
def exchange_theme(unit: Unit, theme: str, level: str) -> ThemeView:
    """The indicators of one theme with data at one level that the actor may see (a JSON-stat
    collection); a theme without any such indicator is not found."""
    view = CatalogueView.load(unit.conn, unit.actor)
    lvl = _level(unit, level)
    of_theme = sorted((i for i in view.visible.values() if theme in i.themes), key=lambda i: i.code)
    if not of_theme:
        raise NotFound(f"unknown theme {theme!r}")
    tables = []
    for ind in of_theme:
        if not view.sees_level(ind, level):
            continue
        periods = availability.periods_of(unit.conn, ind.code, level)
        if periods:
            tables.append(IndicatorTable(ind, lvl, (), tuple(periods), (),
                                         availability.last_update(unit.conn, ind.code)))
    return ThemeView(theme, lvl, tuple(tables), _publisher(unit))
