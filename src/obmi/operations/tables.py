"""The table builder's read ("Selectietabel", obmi.web.table_builder): several indicators ×
areas of several levels × periods in one unit of work, through the same query layer as every
other channel — the catalogue as the actor may see it, the stored disclosure decisions applied
(a withheld cell leaves without any number), a ratio's numerator and denominator only where the
caller sees both parts (query/ratio_parts.py). The pivoting is obmi.publish.selection_table's."""

from __future__ import annotations

from collections import defaultdict

from obmi.geo.codes import AreaKey
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation, Status
from obmi.indicators.periods import period_sort_key
from obmi.operations.registry import Unit, operation
from obmi.publish.selection_table import (
    MAX_CELLS,
    CellKey,
    Selection,
    SelectionData,
    TableArea,
    TooManyCells,
    count_cells,
)
from obmi.query import areas as area_query
from obmi.query import availability
from obmi.query.areas import AreaRef
from obmi.query.observations import ObservationQuery
from obmi.query.observations import query_observations as run_query
from obmi.query.visibility import CatalogueView

__all__ = ["selection_table"]

# Reference areas of "every area of a level" without `within` are found by walking up from each
# area (about a millisecond each); past this many, every area of the reference level is taken
# (what a level that large lies in anyway).
MAX_REFERENCE_WALK = 2000


@operation("statistics.read")
def selection_table(unit: Unit, selection: Selection, *, rounded: bool = True,
                    max_cells: int = MAX_CELLS) -> SelectionData:
    """Indicators × areas × periods for the table builder and its downloads, access rules and
    disclosure control applied; a selection of more than `max_cells` cells is refused
    (TooManyCells) before any value is read. `rounded=False`: values at their stored precision."""
    view = CatalogueView.load(unit.conn, unit.actor)
    indicators = [view.get(code) for code in selection.indicators]  # NotFound: not in the actor's catalogue
    areas = _areas(unit, selection)
    levels = list(dict.fromkeys(a.level for a in areas))
    available = {ind.code: tuple(_periods_of(unit, view, ind, levels)) for ind in indicators}
    periods = {code: tuple(selection.periods.pick(found)) for code, found in available.items()}
    union = tuple(sorted({p for found in available.values() for p in found}, key=period_sort_key))
    cells = count_cells(len(areas), periods)
    if cells > max_cells:
        raise TooManyCells(cells, len(indicators), len(areas), max((len(p) for p in periods.values()), default=0),
                           max_cells, union)
    read: dict[CellKey, Observation] = {}
    for ind in indicators:
        read.update(_cells(unit, view, ind, areas, periods[ind.code], selection.within, rounded))
    return SelectionData(selection, tuple(indicators), tuple(areas), periods, read, available,
                         {ind.code: availability.last_update(unit.conn, ind.code) for ind in indicators})


def _periods_of(unit: Unit, view: CatalogueView, ind: Indicator, levels: list[str]) -> list[str]:
    """Every period with data for the indicator at the levels the actor may see it at."""
    found = {p for lvl in levels if view.sees_level(ind, lvl) for p in availability.periods_of(unit.conn, ind.code, lvl)}
    return sorted(found, key=period_sort_key)


def _cells(unit: Unit, view: CatalogueView, ind: Indicator, areas: list[TableArea], periods: tuple[str, ...],
           within: AreaKey | None, rounded: bool) -> dict[CellKey, Observation]:
    """The indicator's published cells of the table, one query per level. At a level the actor
    may not see the indicator at (public from a coarser level up) every cell is withheld."""
    if not periods:
        return {}
    wanted = set(periods)
    # One query per level; every area of the level (within an area) is asked as such, not as a
    # list of codes (hundreds of bound parameters cost more than the read itself).
    groups: dict[tuple[str, bool], list[TableArea]] = defaultdict(list)
    for a in areas:
        groups[(a.level, a.role == "level")].append(a)
    found: dict[CellKey, Observation] = {}
    for (level, whole_level), of_level in groups.items():
        if not view.sees_level(ind, level):
            found.update({(ind.code, a.id, p): Observation(ind.code, a.id, p, None, Status.SUPPRESSED, origin="",
                                                           area_code=a.code, area_name=a.name, level=level)
                          for a in of_level for p in periods})
            continue
        query = ObservationQuery(ind.code, level, periods[0] if len(periods) == 1 else None,
                                 () if whole_level else tuple(a.code for a in of_level),
                                 within if whole_level else None, rounded=rounded)
        result = run_query(unit.conn, query, view=view, default_threshold=unit.settings.default_threshold)
        ids = {a.id for a in of_level}
        found.update({(ind.code, r.area_id, r.period): r for r in result.rows if r.period in wanted and r.area_id in ids})
    return found


# --- which areas -----------------------------------------------------------------------------

def _areas(unit: Unit, selection: Selection) -> list[TableArea]:
    """The picked areas, then every area of the level (within an area), then the reference areas
    they lie in — each once, in that order."""
    level_names = {lvl.code: lvl.name_nl for lvl in area_query.list_levels(unit.conn)}
    chosen = [area_query.find_area(unit.conn, level, code) for level, code in selection.areas]
    out = [TableArea(r.id, r.level, r.code, r.name, r.level_name, "chosen") for r in chosen]
    of_level: list[TableArea] = []
    if selection.level:
        stmt = area_query.areas_of_level(unit.conn, selection.level, within=selection.within, include_unknown=False)
        of_level = [TableArea(id_, selection.level, code, name, level_names.get(selection.level, selection.level),
                              "level") for id_, code, name, _unknown in unit.conn.execute(stmt)]
    refs = _references(unit, selection, [r.id for r in chosen], of_level, level_names) if selection.references else []
    once: dict[int, TableArea] = {}
    for a in [*out, *of_level, *refs]:
        once.setdefault(a.id, a)
    return list(once.values())


def _references(unit: Unit, selection: Selection, chosen_ids: list[int], of_level: list[TableArea],
                level_names: dict[str, str]) -> list[TableArea]:
    """The areas at the reference levels that the table's areas lie in, fine to coarse; one of
    the same name once (Brussels is both a province and a region)."""
    wanted = selection.references
    starts = list(chosen_ids)  # the areas to walk up from
    candidates: list[AreaRef] = []
    whole_levels: tuple[str, ...] = ()
    if selection.level and selection.within is not None:
        within = area_query.find_area(unit.conn, *selection.within)
        starts.append(within.id)  # the level's areas lie in it, and in what it lies in
        candidates.append(within)  # itself a reference: the wijken of Gent, and Gent
    elif selection.level and len(of_level) > MAX_REFERENCE_WALK:
        whole_levels = wanted
    else:
        starts += [a.id for a in of_level]
    candidates += [ref for start in dict.fromkeys(starts) for ref in area_query.ancestors(unit.conn, start)]
    found = {ref.id: TableArea(ref.id, ref.level, ref.code, ref.name, ref.level_name, "reference")
             for ref in candidates if ref.level in wanted}
    for level in whole_levels:
        stmt = area_query.areas_of_level(unit.conn, level, include_unknown=False)
        found.update({id_: TableArea(id_, level, code, name, level_names.get(level, level), "reference")
                      for id_, code, name, _unknown in unit.conn.execute(stmt)})
    order = {lvl: i for i, lvl in enumerate(wanted)}
    names: set[str] = set()
    refs = []
    for ref in sorted(found.values(), key=lambda a: (order[a.level], a.code)):
        if ref.name not in names:
            names.add(ref.name)
            refs.append(ref)
    return refs
