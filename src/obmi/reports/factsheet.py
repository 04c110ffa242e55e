"""Area fact sheet ("steekkaart"): key figures by theme for one area, each with its trend and
its comparison with reference areas. Pure data (dataclasses); pages, API and PDF render it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Connection, select

from obmi.errors import NotFound, ValidationError
from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.query.series import query_series
from obmi.store.tables import area, area_level, area_link, observation

THEME_ORDER = ("demografie", "vergrijzing", "diversiteit", "inkomen", "ruimte")
DEFAULT_REFERENCE_LEVELS = ("gemeente", "provincie", "gewest")
# Aalst, Antwerpen, Brugge, Genk, Gent, Hasselt, Kortrijk, Leuven, Mechelen, Oostende, Roeselare,
# Sint-Niklaas, Turnhout (2025 codes): the usual comparison group of a Flemish central city.
CENTRUMSTEDEN = ("41002", "11002", "31005", "71016", "44021", "71072", "34022", "24062", "12025",
                 "35013", "36015", "46021", "13040")
REFERENCE_PRESETS = {"centrumsteden": [("gemeente", code) for code in CENTRUMSTEDEN]}


@dataclass(frozen=True)
class AreaRef:
    id: int
    level: str
    code: str
    name: str
    level_name: str


@dataclass(frozen=True)
class Point:
    period: str
    value: float | None
    status: str


@dataclass
class KeyFigure:
    indicator: Indicator
    period: str | None  # the latest period with a published value for the area
    value: float | None
    status: str
    change: float | None  # against the previous period, same unit
    previous_period: str | None
    series: list[Point]
    references: list[tuple[AreaRef, Point | None]]  # reference area → its value in `period`


@dataclass
class ThemeSection:
    theme: str
    figures: list[KeyFigure] = field(default_factory=list)


@dataclass
class FactSheet:
    area: AreaRef
    references: list[AreaRef]
    sections: list[ThemeSection]
    sources: list[str]
    generated: datetime


def find_area(conn: Connection, level: str, code: str) -> AreaRef:
    row = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name, area_level.c.name_nl)
                       .join(area_level, area_level.c.code == area.c.level)
                       .where(area.c.level == level, area.c.code == code)).first()
    if row is None:
        raise NotFound(f"unknown area {code!r} at level {level!r}")
    return AreaRef(row.id, row.level, row.code, row.name, row.name_nl)


def ancestors(conn: Connection, area_id: int) -> list[AreaRef]:
    """Every area this one lies in (parent links, transitively), nearest first."""
    found, frontier, seen = [], [area_id], {area_id}
    while frontier:
        rows = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name, area_level.c.name_nl,
                                   area_level.c.sort_order)
                            .join(area_link, area_link.c.parent_id == area.c.id)
                            .join(area_level, area_level.c.code == area.c.level)
                            .where(area_link.c.child_id.in_(frontier), area_link.c.relation == "parent")).all()
        frontier = [r.id for r in rows if r.id not in seen]
        seen.update(frontier)
        found += [(r.sort_order, AreaRef(r.id, r.level, r.code, r.name, r.name_nl)) for r in rows if r.id in frontier]
    return [ref for _, ref in sorted(found, key=lambda x: x[0])]


def default_references(conn: Connection, subject: AreaRef) -> list[AreaRef]:
    by_level = {a.level: a for a in ancestors(conn, subject.id)}
    refs: list[AreaRef] = []
    for lvl in DEFAULT_REFERENCE_LEVELS:
        ref = by_level.get(lvl)
        # Brussels is both a "province" and a region: compare with it once.
        if ref and lvl != subject.level and all(r.name != ref.name for r in refs) and ref.name != subject.name:
            refs.append(ref)
    return refs


def _indicators_with_data(conn: Connection, area_id: int, catalogue: dict[str, Indicator]) -> list[Indicator]:
    codes = {r.indicator for r in conn.execute(select(observation.c.indicator).distinct()
                                               .where(observation.c.area_id == area_id))}
    def order(ind: Indicator):
        theme = ind.themes[0] if ind.themes else "~"
        return (THEME_ORDER.index(theme) if theme in THEME_ORDER else len(THEME_ORDER), theme)
    ordered = [catalogue[c] for c in catalogue if c in codes]  # catalogue order within a theme
    return sorted(ordered, key=order)


def _key_figure(ind: Indicator, rows, references: list[AreaRef], ref_rows) -> KeyFigure:
    series = [Point(r.period, r.value, r.status) for r in rows]
    published = [p for p in series if p.value is not None]
    latest = published[-1] if published else (series[-1] if series else None)
    previous = published[-2] if len(published) > 1 else None
    period = latest.period if latest else None
    refs = []
    for ref in references:
        point = next((Point(r.period, r.value, r.status) for r in ref_rows.get((ind.code, ref.id), [])
                      if r.period == period), None)
        refs.append((ref, point))
    change = (latest.value - previous.value) if latest and previous and latest.value is not None else None
    return KeyFigure(ind, period, latest.value if latest else None, latest.status if latest else "missing",
                     change, previous.period if previous else None, series, refs)


def build_factsheet(conn: Connection, level: str, code: str, *, references: list[tuple[str, str]] | None = None,
                    default_threshold: int = 5, max_references: int = 13) -> FactSheet:
    subject = find_area(conn, level, code)
    if references is None:
        refs = default_references(conn, subject)
    else:
        if len(references) > max_references:
            raise ValidationError(f"at most {max_references} reference areas", {"ref": ["too many"]})
        refs = [find_area(conn, lvl, c) for lvl, c in references]
    catalogue = load_catalogue(conn)
    indicators = _indicators_with_data(conn, subject.id, catalogue)
    rows = query_series(conn, [i.code for i in indicators], [subject.id] + [r.id for r in refs],
                        default_threshold=default_threshold, catalogue=catalogue)
    sections: dict[str, ThemeSection] = {}
    for ind in indicators:
        theme = ind.themes[0] if ind.themes else "overige"
        figure = _key_figure(ind, rows.get((ind.code, subject.id), []), refs, rows)
        sections.setdefault(theme, ThemeSection(theme)).figures.append(figure)
    sources = sorted({i.source for i in indicators if i.source})
    return FactSheet(subject, refs, list(sections.values()), sources, datetime.now(timezone.utc))
