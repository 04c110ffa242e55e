"""Dashboards and stories with their live figures. A tile shows only what the actor may see:
a tile of an indicator the actor may not see is left out altogether (the public never learns
that it exists), and its figures pass the stored disclosure decisions like any other read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from obmi.errors import NotAllowed
from obmi.geo.codes import AreaKey, parse_area_key
from obmi.indicators.periods import period_sort_key
from obmi.operations.registry import Unit, operation
from obmi.publish import content
from obmi.query.areas import find_area
from obmi.query.observations import ObservationQuery, query_observations
from obmi.query.series import query_series
from obmi.query.visibility import CatalogueView
from obmi.reports.factsheet import with_references as with_references_of


@dataclass(frozen=True)
class Tile:
    type: str
    title: str
    data: dict[str, Any]


def _pick(lang: str, nl: str, en: str) -> str:
    return en if lang == "en" and en else nl


def _series_data(conn: Connection, view: CatalogueView, threshold: int, codes: list[str], subject: AreaKey,
                 period: str | None, with_references: bool) -> dict[str, Any]:
    refs = [find_area(conn, *subject)]
    if with_references:
        refs = with_references_of(conn, refs)
    rows = query_series(conn, codes, [r.id for r in refs], view=view, default_threshold=threshold)
    out = []
    for area in refs:
        for code in codes:
            points = rows.get((code, area.id), [])
            if period:
                points = [p for p in points if period_sort_key(p.period) <= period_sort_key(period)]
            out.append({"indicator": code, "area": area.name, "area_code": area.code, "level": area.level,
                        "points": [{"period": p.period, "value": p.value, "status": p.status} for p in points]})
    return {"series": out}


def _map_data(conn: Connection, view: CatalogueView, threshold: int, code: str, level: str, within: str | None,
              period: str | None) -> dict[str, Any]:
    result = query_observations(conn, ObservationQuery(code, level, period or "latest", (),
                                                       parse_area_key(within, "within") if within else None),
                                view=view, default_threshold=threshold)
    return {"rows": [{"code": r.area_code, "name": r.area_name, "value": r.value, "status": r.status,
                      "period": r.period} for r in result.rows],
            "level": level, "within": within,
            "geojson": f"/api/v1/levels/{level}/geojson" + (f"?within={within}" if within else "")}


def resolve_tile(unit: Unit, view: CatalogueView, spec: content.TileSpec, area: str, period: str | None,
                 lang: str) -> Tile | None:
    title = _pick(lang, spec.title_nl, spec.title_en)
    if spec.type == "text":
        return Tile(spec.type, title, {"type": "text", "html": content.markdown_html(_pick(lang, spec.text_nl,
                                                                                             spec.text_en))})
    codes = [c for c in spec.codes if c in view.visible]
    if not codes:
        return None
    subject = parse_area_key(spec.area or area)
    threshold = unit.settings.default_threshold
    if spec.type in ("keyfigure", "line", "table"):
        data = _series_data(unit.conn, view, threshold, codes, subject, period, spec.type == "line")
    else:  # bar, map: one indicator over the areas of a level
        level = spec.level or subject[0]
        try:
            data = _map_data(unit.conn, view, threshold, codes[0], level, spec.within, period)
        except NotAllowed:  # a level this actor may not see the indicator at
            return None
    inds = [view.visible[c] for c in codes]
    data.update(type=spec.type, subject=f"{subject[0]}:{subject[1]}", highlight=subject[1],
                indicators=[{"code": i.code, "name": _pick(lang, i.name_nl, i.name_en), "unit": i.unit,
                             "decimals": i.decimals} for i in inds])
    return Tile(spec.type, title or data["indicators"][0]["name"], data)


@operation("content.read")
def list_dashboards(unit: Unit) -> list[content.Dashboard]:
    """The dashboards, built-in and the city's own."""
    return content.dashboards(unit.settings.content_dir)


@operation("content.read")
def list_stories(unit: Unit) -> list[content.Story]:
    """The stories, newest first."""
    return content.stories(unit.settings.content_dir)


@dataclass(frozen=True)
class DashboardView:
    board: content.Dashboard
    area: str
    tiles: list[Tile]


@operation("content.read")
def dashboard_view(unit: Unit, slug: str, *, area: str | None = None, period: str | None = None,
                   lang: str = "nl") -> DashboardView:
    """A dashboard with its tiles resolved for an area and period."""
    board = content.dashboard(unit.settings.content_dir, slug)
    chosen = area or board.default_area
    parse_area_key(chosen)
    view = CatalogueView.load(unit.conn, unit.actor)
    tiles = [resolve_tile(unit, view, spec, chosen, period, lang) for spec in board.tiles]
    return DashboardView(board, chosen, [t for t in tiles if t is not None])


@dataclass(frozen=True)
class StoryView:
    story: content.Story
    segments: list[tuple[str, Any]]  # ("html", str) and ("tile", Tile)


@operation("content.read")
def story_view(unit: Unit, slug: str, *, lang: str = "nl") -> StoryView:
    """A story as sanitised HTML segments and live tiles."""
    item = content.story(unit.settings.content_dir, slug)
    view = CatalogueView.load(unit.conn, unit.actor)
    segments: list[tuple[str, Any]] = []
    for kind, part in content.story_segments(item):
        if kind == "tile":
            tile = resolve_tile(unit, view, part, part.area or content.DEFAULT_AREA, part.period, lang)
            if tile is not None:
                segments.append(("tile", tile))
        else:
            segments.append((kind, part))
    return StoryView(item, segments)
