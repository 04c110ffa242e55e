"""Dashboards (YAML) and stories (Markdown) — built-in ones in obmi/content and a city's own in
OBMI_CONTENT_DIR. Both embed the same tiles (key figure, line, bar, map, table, text), resolved
through the named operations, so disclosure control applies to every embedded figure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nh3
import yaml
from markdown_it import MarkdownIt

from obmi import operations as ops
from obmi.errors import NotFound, ValidationError
from obmi.query import ObservationQuery
from obmi.settings import Settings
from obmi.web.i18n import pick

BUILT_IN = Path(__file__).resolve().parent.parent / "content"
TILE_TYPES = ("keyfigure", "line", "bar", "map", "table", "text")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$")
_SHORTCODE = re.compile(r"\{\{<\s*(keyfigure|line|bar|map|table)\s+([^>]*?)\s*>\}\}")
# Markdown may carry pasted HTML (Word, web pages): keep structure, drop styles, scripts, classes.
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote",
                "table", "thead", "tbody", "tr", "th", "td", "caption", "code", "pre", "hr", "sup", "sub", "abbr"}


@dataclass
class Dashboard:
    slug: str
    title_nl: str
    title_en: str
    description_nl: str = ""
    description_en: str = ""
    default_area: str = "gemeente:44021"
    tiles: list[dict] = field(default_factory=list)


@dataclass
class Story:
    slug: str
    title_nl: str
    title_en: str
    summary_nl: str
    summary_en: str
    date: str
    body: str


@dataclass
class Tile:
    type: str
    title: str
    data: dict[str, Any]


def _folders(settings: Settings, kind: str) -> list[Path]:
    folders = [BUILT_IN / kind]
    if settings.content_dir:
        folders.append(Path(settings.content_dir) / kind)
    return [f for f in folders if f.is_dir()]


def _load_dashboard(path: Path) -> Dashboard:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        board = Dashboard(slug=path.stem, **{k: v for k, v in data.items() if k != "slug"})
    except (yaml.YAMLError, TypeError) as exc:
        raise ValidationError(f"dashboard {path.name} is invalid: {exc}") from None
    bad = [t.get("type") for t in board.tiles if t.get("type") not in TILE_TYPES]
    if bad:
        raise ValidationError(f"dashboard {path.name}: unknown tile types {bad} (use {', '.join(TILE_TYPES)})")
    return board


def dashboards(settings: Settings) -> list[Dashboard]:
    found = {p.stem: p for folder in _folders(settings, "dashboards") for p in sorted(folder.glob("*.yaml"))}
    return [_load_dashboard(p) for slug, p in sorted(found.items()) if _SLUG.match(slug)]


def dashboard(settings: Settings, slug: str) -> Dashboard:
    board = next((d for d in dashboards(settings) if d.slug == slug), None)
    if board is None:
        raise NotFound(f"unknown dashboard {slug!r}")
    return board


def _load_story(path: Path) -> Story:
    text = path.read_text(encoding="utf-8")
    meta: dict = {}
    if text.startswith("---"):
        _, front, text = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    return Story(path.stem, meta.get("title_nl", path.stem), meta.get("title_en", ""), meta.get("summary_nl", ""),
                 meta.get("summary_en", ""), str(meta.get("date", "")), text)


def stories(settings: Settings) -> list[Story]:
    found = {p.stem: p for folder in _folders(settings, "stories") for p in sorted(folder.glob("*.md"))}
    return sorted((_load_story(p) for slug, p in found.items() if _SLUG.match(slug)), key=lambda s: s.date,
                  reverse=True)


def story(settings: Settings, slug: str) -> Story:
    found = next((s for s in stories(settings) if s.slug == slug), None)
    if found is None:
        raise NotFound(f"unknown story {slug!r}")
    return found


# ------------------------------------------------------------------------------------------ tiles

def _ref(text: str) -> tuple[str, str]:
    level, _, code = text.partition(":")
    return level, code


def resolve_tile(ctx, db, spec: dict, area: str, period: str | None, lang: str = "nl") -> Tile:
    kind = spec.get("type")
    title = pick(lang, spec.get("title_nl", ""), spec.get("title_en", ""))
    if kind == "text":
        return Tile(kind, title, {"type": kind, "html": sanitize(MarkdownIt().render(
            pick(lang, spec.get("text_nl", ""), spec.get("text_en", ""))))})
    codes = spec.get("indicators") or [spec["indicator"]]
    subject = _ref(spec.get("area", area))
    if kind in ("keyfigure", "line", "table"):
        series = ops.area_series(ctx, db, codes, [subject], with_ancestors=kind == "line")
        data = _series_data(series, codes, period)
    else:  # bar, map: one indicator over the areas of a level
        level = spec.get("level", subject[0])
        within = spec.get("within")
        result = ops.query_observations(ctx, db, ObservationQuery(codes[0], level, period or "latest", (),
                                                                  _ref(within) if within else None))
        data = {"rows": [{"code": r.area_code, "name": r.area_name, "value": r.value, "status": r.status,
                          "period": r.period} for r in result.rows],
                "level": level, "within": within, "geojson": f"/api/v1/levels/{level}/geojson"
                + (f"?within={within}" if within else "")}
    inds = {i.code: i for i in ops.list_indicators(ctx, db)}
    data.update(type=kind, indicators=[{"code": c, "name": pick(lang, inds[c].name_nl, inds[c].name_en),
                                        "unit": inds[c].unit, "decimals": inds[c].decimals} for c in codes if c in inds],
                subject=f"{subject[0]}:{subject[1]}", highlight=subject[1])
    return Tile(kind, title or (data["indicators"][0]["name"] if data["indicators"] else ""), data)


def _series_data(series: dict, codes: list[str], period: str | None) -> dict:
    out = []
    for ref in series["areas"]:
        for code in codes:
            rows = series["rows"].get((code, ref.id), [])
            if period:
                rows = [r for r in rows if r.period <= period]
            out.append({"indicator": code, "area": ref.name, "area_code": ref.code, "level": ref.level,
                        "points": [{"period": r.period, "value": r.value, "status": r.status} for r in rows]})
    return {"series": out}


def resolve_tiles(ctx, db, board: Dashboard, area: str, period: str | None, lang: str = "nl") -> list[Tile]:
    if ":" not in area:
        raise ValidationError("area must be LEVEL:CODE", {"area": [area]})
    return [resolve_tile(ctx, db, spec, area, period, lang) for spec in board.tiles]


# ---------------------------------------------------------------------------------------- stories

def sanitize(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}, "abbr": {"title"},
                                                          "th": {"scope"}, "td": set()},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def _shortcode_args(text: str) -> dict:
    return dict(re.findall(r'(\w+)="?([^"\s]+)"?', text))


def render_story(ctx, db, item: Story, lang: str) -> list[tuple[str, object]]:
    """A story as segments: ("html", sanitised HTML) and ("tile", Tile) for each live embed."""
    segments: list[tuple[str, object]] = []
    markdown = MarkdownIt("commonmark", {"html": True}).enable("table")
    position = 0
    for match in _SHORTCODE.finditer(item.body):
        segments.append(("html", sanitize(markdown.render(item.body[position:match.start()]))))
        args = _shortcode_args(match.group(2))
        tile = resolve_tile(ctx, db, {"type": match.group(1), **args}, args.get("area", "gemeente:44021"),
                            args.get("period"), lang)
        segments.append(("tile", tile))
        position = match.end()
    segments.append(("html", sanitize(markdown.render(item.body[position:]))))
    return segments
