"""Reading statistics: the catalogue, the geography, observations, series, fact sheets and their
PDF, search. Every read sees the catalogue as the actor may (obmi.query.visibility) and the
stored disclosure decisions (obmi.query.observations.publish)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from obmi.geo.codes import AreaKey
from obmi.indicators.catalogue import Indicator, dump_catalogue
from obmi.indicators.observation import Observation
from obmi.operations.registry import Unit, operation
from obmi.query import area_names, availability
from obmi.query import areas as area_query
from obmi.query.area_names import AreaMatch, NamedArea, TreeNode, resolve
from obmi.query.areas import AreaRef, LevelInfo
from obmi.query.observations import ObservationQuery, QueryResult
from obmi.query.observations import query_observations as run_query
from obmi.query.series import SeriesKey, query_series
from obmi.query.visibility import CatalogueView
from obmi.reports import factsheet

__all__ = ["AreaMatch", "AreaOnLevel", "AreaRef", "Availability", "LevelInfo", "NamedArea", "ObservationQuery",
           "QueryResult", "Series", "TreeNode", "resolve"]


def _view(unit: Unit) -> CatalogueView:
    return CatalogueView.load(unit.conn, unit.actor)


@operation("catalogue.read")
def list_indicators(unit: Unit, *, theme: str | None = None) -> list[Indicator]:
    """The indicators the actor may see, by code; optionally of one theme."""
    visible = _view(unit).visible.values()
    return sorted((i for i in visible if theme is None or theme in i.themes), key=lambda i: i.code)


@operation("catalogue.read")
def export_catalogue(unit: Unit, fmt: str) -> str:
    """The catalogue as YAML or CSV (what the actor may see)."""
    return dump_catalogue(list(_view(unit).visible.values()), fmt)


@dataclass(frozen=True)
class Availability:
    indicator: Indicator
    levels: list[str]  # levels with data that the actor may see, fine to coarse
    periods: list[str]  # for the level asked, in time order
    last_update: datetime | None


@operation("statistics.read")
def indicator_availability(unit: Unit, code: str, level: str | None = None) -> Availability:
    """An indicator's definition, the levels with data and (for `level`) its periods."""
    view = _view(unit)
    ind = view.get(code)
    levels = [lvl for lvl in availability.levels_of(unit.conn, code) if view.sees_level(ind, lvl)]
    periods: list[str] = []
    if level is not None:
        area_query.check_level(unit.conn, level)
        view.require_level(ind, level)
        periods = availability.periods_of(unit.conn, code, level)
    return Availability(ind, levels, periods, availability.last_update(unit.conn, code))


@operation("geography.read")
def list_levels(unit: Unit) -> list[LevelInfo]:
    """The area levels with their number of areas and of areas with geometry."""
    return area_query.list_levels(unit.conn)


@operation("geography.read")
def area_geojson(unit: Unit, level: str, *, within: AreaKey | None = None, detail: str = "web",
                 tolerance: float | None = None, regions: tuple[str, ...] = ()) -> dict[str, Any]:
    """A level's areas (optionally within one area, or in some regions) as a GeoJSON
    FeatureCollection in WGS84."""
    return area_query.feature_collection(unit.conn, level, within=within, detail=detail, tolerance=tolerance,
                                         regions=regions)


@operation("geography.read")
def level_mergers(unit: Unit, level: str) -> list[area_query.Merger]:
    """The areas of a level formed by merging areas of an older geography version, with the names
    of their parts (what "figures on the 2025 boundaries" means for each)."""
    return area_query.mergers(unit.conn, level)


@dataclass(frozen=True)
class AreaOnLevel:
    """Where an area of one level lands on another: `code`, the area there that is it or contains
    it (a wijk → its gemeente, gemeente2024 Borsbeek → Antwerpen); else `contains`, whether areas
    of that level lie in it (a gemeente → its wijken), so that a page can look within it."""

    code: str | None
    contains: bool


@operation("geography.read")
def area_on_level(unit: Unit, area: AreaKey, level: str, *, regions: tuple[str, ...] = ()) -> AreaOnLevel:
    """The area of `level` that is or contains `area`, else whether areas of `level` (in
    `regions`) lie in it: what a page keeps of a chosen area when the reader changes the level."""
    ref = area_query.find_area(unit.conn, *area)
    area_query.check_level(unit.conn, level)
    if ref.level == level:
        return AreaOnLevel(ref.code, False)
    containing = next((a for a in area_query.ancestors(unit.conn, ref.id) if a.level == level), None)
    if containing is not None:
        return AreaOnLevel(containing.code, False)
    families = {info.code: info.family for info in area_query.list_levels(unit.conn)}
    of_level = area_query.areas_of_level(unit.conn, level, include_unknown=True)
    same_code = of_level.where(of_level.selected_columns.code == ref.code)
    if families.get(level) == families.get(ref.level) and unit.conn.execute(same_code).first() is not None:
        return AreaOnLevel(ref.code, False)  # another version of the same geography (gemeente2024 Gent)
    inside = area_query.areas_of_level(unit.conn, level, within=area, regions=regions).limit(1)
    return AreaOnLevel(None, unit.conn.execute(inside).first() is not None)


@operation("statistics.read")
def query_observations(unit: Unit, query: ObservationQuery) -> QueryResult:
    """Observations of one indicator at one level (and period, areas), disclosure applied."""
    return run_query(unit.conn, query, view=_view(unit), default_threshold=unit.settings.default_threshold)


@dataclass(frozen=True)
class Series:
    areas: list[AreaRef]
    rows: dict[SeriesKey, list[Observation]]


@operation("statistics.read")
def area_series(unit: Unit, indicators: list[str], areas: list[AreaKey], *, with_ancestors: bool = False) -> Series:
    """Time series of indicators for areas (and, optionally, the areas they lie in)."""
    refs = [area_query.find_area(unit.conn, level, code) for level, code in areas]
    if with_ancestors:
        refs = factsheet.with_references(unit.conn, refs)
    rows = query_series(unit.conn, indicators, [r.id for r in refs], view=_view(unit),
                        default_threshold=unit.settings.default_threshold)
    return Series(refs, rows)


@operation("statistics.read")
def area_factsheet(unit: Unit, level: str, code: str, references: list[AreaKey] | None = None) -> factsheet.FactSheet:
    """Key figures by theme for one area, with trends and reference areas."""
    return factsheet.build_factsheet(unit.conn, level, code, references=references, view=_view(unit),
                                     default_threshold=unit.settings.default_threshold)


@operation("statistics.read")
def factsheet_pdf(unit: Unit, level: str, code: str, references: list[AreaKey] | None = None,
                  lang: str = "nl") -> bytes:
    """The A4 PDF of an area's fact sheet, with a locator map of its surroundings."""
    from obmi.reports import pdf
    sheet = factsheet.build_factsheet(unit.conn, level, code, references=references, view=_view(unit),
                                      default_threshold=unit.settings.default_threshold)
    return pdf.render_factsheet_pdf(sheet, lang=lang, site_name=unit.settings.site_name,
                                    map_geojson=pdf.surroundings_geojson(unit.conn, sheet.area),
                                    level_names=pdf.level_names(unit.conn, lang))


@operation("reports.export")
def export_factsheets(unit: Unit, level: str, out_dir: Path, *, lang: str = "nl",
                      within: AreaKey | None = None) -> dict[str, Any]:
    """A PDF fact sheet for every area of a level, written to a folder on this machine."""
    from obmi.reports import pdf
    return pdf.export_factsheets(unit.conn, level, Path(out_dir), view=_view(unit), lang=lang, within=within,
                                 default_threshold=unit.settings.default_threshold,
                                 site_name=unit.settings.site_name)


@operation("statistics.read")
def search(unit: Unit, text: str, *, limit: int = availability.SEARCH_LIMIT) -> dict[str, Any]:
    """Indicators and areas matching every word of `text` (accents and case ignored, former
    municipalities leading to today's), and indicator × area pairs that together do."""
    return availability.search(unit.conn, text, _view(unit), limit=max(1, min(limit, MAX_SEARCH_LIMIT)))


MAX_SEARCH_LIMIT = 500


@operation("geography.read")
def suggest_areas(unit: Unit, text: str, *, limit: int = 10) -> tuple[list[AreaMatch], int]:
    """Areas of the current geography whose names (or former municipalities' names, or everyday
    names such as Vlaanderen) start with the typed words, best first, and how many match."""
    return area_names.suggest(unit.conn, text, limit=max(1, min(limit, 50)))


@operation("geography.read")
def area_tree(unit: Unit) -> list[TreeNode]:
    """The current geography as a tree: region → province → municipality → wijk."""
    return area_names.area_tree(unit.conn)
