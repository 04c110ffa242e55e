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
from obmi.publish.classify import classify
from obmi.publish.labels import area_name
from obmi.query.areas import ancestors, find_area
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
                 period: str | None, with_references: bool, lang: str = "nl") -> dict[str, Any]:
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
            out.append({"indicator": code, "area": area_name(area.level, area.code, area.name, lang),
                        "area_code": area.code, "level": area.level,
                        "points": [{"period": p.period, "value": p.value, "status": p.status} for p in points]})
    return {"series": out}


def _map_data(conn: Connection, view: CatalogueView, threshold: int, code: str, level: str, within: str | None,
              period: str | None) -> dict[str, Any]:
    """One indicator over the areas of a level (optionally within an area), coloured by quantile
    classes of the published values: the legend the page shows and the colours the map draws."""
    result = query_observations(conn, ObservationQuery(code, level, period or "latest", (),
                                                       parse_area_key(within, "within") if within else None),
                                view=view, default_threshold=threshold)
    classes = classify([r.value for r in result.rows], "quantile", "blues")
    periods = sorted({r.period for r in result.rows if r.value is not None}, key=period_sort_key)
    return {"rows": [{"code": r.area_code, "name": r.area_name, "value": r.value, "status": r.status,
                      "period": r.period, "colour": classes.colour_of(r.value)} for r in result.rows],
            "level": level, "within": within, "periods": periods,
            "legend": [[low, high, colour] for low, high, colour in classes.legend()] if periods else [],
            "geojson": f"/api/v1/levels/{level}/geojson" + (f"?within={within}" if within else "")}


def _placed(conn: Connection, spec: content.TileSpec, subject: AreaKey) -> tuple[str | None, str | None, str]:
    """(within, unplaced level, highlighted code) of a bar or map tile for the chosen area. A tile
    `within: provincie` shows the areas of the province the chosen area lies in (None and the
    level when it lies in none, e.g. a region); `within: provincie:40000` always that province.
    The area highlighted is the chosen one, or the area of the tile's level it lies in (a wijk's
    municipality on a map of municipalities)."""
    level = spec.level or subject[0]
    relative = spec.within is not None and ":" not in spec.within
    if level == subject[0] and not relative:
        return spec.within, None, subject[1]
    chosen = find_area(conn, *subject)
    around = {a.level: a for a in ancestors(conn, chosen.id)} | {chosen.level: chosen}
    highlight = around[level].code if level in around else subject[1]
    if not relative:
        return spec.within, None, highlight
    parent = around.get(spec.within or "")
    if parent is None:
        return None, spec.within, highlight
    return f"{parent.level}:{parent.code}", None, highlight


def _areas_tile_data(unit: Unit, view: CatalogueView, spec: content.TileSpec, code: str, subject: AreaKey,
                     period: str | None, lang: str) -> dict[str, Any]:
    """A bar or map tile's rows for the chosen area, with the name of the area they lie in."""
    level = spec.level or subject[0]
    within, unplaced, highlight = _placed(unit.conn, spec, subject)
    if unplaced is not None:  # "the province of the chosen area", which lies in none
        return {"rows": [], "level": level, "within": None, "periods": [], "legend": [], "unplaced": unplaced,
                "highlight": highlight}
    data = _map_data(unit.conn, view, unit.settings.default_threshold, code, level, within, period)
    if within is not None:
        around = find_area(unit.conn, *parse_area_key(within))
        data["within_name"] = area_name(around.level, around.code, around.name, lang)
    return {**data, "highlight": highlight}


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
    highlight = subject[1]
    if spec.type in ("keyfigure", "line", "table"):
        data = _series_data(unit.conn, view, threshold, codes, subject, period, spec.type == "line", lang)
    else:  # bar, map: one indicator over the areas of a level
        try:
            data = _areas_tile_data(unit, view, spec, codes[0], subject, period, lang)
        except NotAllowed:  # a level this actor may not see the indicator at
            return None
        highlight = data.pop("highlight")
    inds = [view.visible[c] for c in codes]
    data.update(type=spec.type, subject=f"{subject[0]}:{subject[1]}",
                highlight=highlight,
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
