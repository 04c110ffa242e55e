"""Dashboards (YAML) and stories (Markdown) — built-in ones in obmi/content and a city's own in
OBMI_CONTENT_DIR. Both embed the same tiles (key figure, line, bar, map, table, text); this
module reads and validates them and renders their text. Resolving a tile's figures is an
operation (obmi.operations.content), so access and disclosure control apply to every embed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Literal

import nh3
import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import parse_area_key

BUILT_IN = Path(__file__).resolve().parent.parent / "content"
TILE_TYPES = ("keyfigure", "line", "bar", "map", "table", "text")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$")
_SHORTCODE = re.compile(r"\{\{<\s*(keyfigure|line|bar|map|table)\s+([^>]*?)\s*>\}\}")
# Markdown may carry pasted HTML (Word, web pages): keep structure, drop styles, scripts, classes.
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote",
                "table", "thead", "tbody", "tr", "th", "td", "caption", "code", "pre", "hr", "sup", "sub", "abbr"}
DEFAULT_AREA = "gemeente:44021"


class TileSpec(BaseModel):
    """One tile of a dashboard, or one `{{< … >}}` embed of a story."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["keyfigure", "line", "bar", "map", "table", "text"]
    title_nl: str = ""
    title_en: str = ""
    indicator: str | None = None
    indicators: list[str] = Field(default_factory=list)
    area: str | None = None  # LEVEL:CODE; default: the dashboard's area
    level: str | None = None  # bar, map: the level of the areas shown
    # bar, map: only the areas within LEVEL:CODE, or within the LEVEL area the chosen area lies in
    # (`within: provincie`: the province of the area the visitor chose)
    within: str | None = None
    period: str | None = None
    text_nl: str = ""
    text_en: str = ""

    @field_validator("area")
    @classmethod
    def _area_key(cls, value: str | None) -> str | None:
        if value is not None:
            parse_area_key(value)
        return value

    @field_validator("within")
    @classmethod
    def _within(cls, value: str | None) -> str | None:
        if value is not None and (":" in value or not value.isidentifier()):
            parse_area_key(value)  # LEVEL:CODE, else a level name alone
        return value

    @property
    def codes(self) -> list[str]:
        return self.indicators or ([self.indicator] if self.indicator else [])


class Dashboard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title_nl: str
    title_en: str = ""
    description_nl: str = ""
    description_en: str = ""
    default_area: str = DEFAULT_AREA
    tiles: list[TileSpec] = Field(default_factory=list)


class Story(BaseModel):
    slug: str
    title_nl: str
    title_en: str = ""
    summary_nl: str = ""
    summary_en: str = ""
    date: str = ""
    body: str = ""


def _folders(content_dir: str, kind: str) -> list[Path]:
    folders = [BUILT_IN / kind]
    if content_dir:
        folders.append(Path(content_dir) / kind)
    return [f for f in folders if f.is_dir()]


def _problems(exc: PydanticValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])


def _load_dashboard(path: Path) -> Dashboard:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(f"dashboard {path.name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"dashboard {path.name}: expected a mapping with title_nl and tiles")
    try:
        return Dashboard.model_validate({**{k: v for k, v in data.items() if k != "slug"}, "slug": path.stem})
    except PydanticValidationError as exc:
        raise ValidationError(f"dashboard {path.name} is invalid: {_problems(exc)} "
                              f"(tile types: {', '.join(TILE_TYPES)})") from None


def content_files(content_dir: str, kind: str, pattern: str) -> dict[str, Path]:
    """A city's file replaces a built-in one of the same name."""
    found = {p.stem: p for folder in _folders(content_dir, kind) for p in sorted(folder.glob(pattern))}
    return {slug: path for slug, path in sorted(found.items()) if _SLUG.match(slug)}


def dashboards(content_dir: str) -> list[Dashboard]:
    return [_load_dashboard(p) for p in content_files(content_dir, "dashboards", "*.yaml").values()]


def dashboard(content_dir: str, slug: str) -> Dashboard:
    path = content_files(content_dir, "dashboards", "*.yaml").get(slug)
    if path is None:
        raise NotFound(f"unknown dashboard {slug!r}")
    return _load_dashboard(path)


def _load_story(path: Path) -> Story:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    if text.startswith("---"):
        _, front, text = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    return Story(slug=path.stem, title_nl=str(meta.get("title_nl", path.stem)), title_en=str(meta.get("title_en", "")),
                 summary_nl=str(meta.get("summary_nl", "")), summary_en=str(meta.get("summary_en", "")),
                 date=str(meta.get("date", "")), body=text)


def stories(content_dir: str) -> list[Story]:
    found = [_load_story(p) for p in content_files(content_dir, "stories", "*.md").values()]
    return sorted(found, key=lambda s: s.date, reverse=True)


def story(content_dir: str, slug: str) -> Story:
    path = content_files(content_dir, "stories", "*.md").get(slug)
    if path is None:
        raise NotFound(f"unknown story {slug!r}")
    return _load_story(path)


# ------------------------------------------------------------------------------------------ text

def sanitize(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}, "abbr": {"title"},
                                                          "th": {"scope"}, "td": set()},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def markdown_html(text: str) -> str:
    return sanitize(MarkdownIt().render(text))


def _shortcode_args(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="?([^"\s]+)"?', text))


def story_segments(item: Story) -> Iterator[tuple[str, Any]]:
    """A story as ("html", sanitised HTML) and ("tile", TileSpec) segments, in order."""
    markdown = MarkdownIt("commonmark", {"html": True}).enable("table")
    position = 0
    for match in _SHORTCODE.finditer(item.body):
        yield "html", sanitize(markdown.render(item.body[position:match.start()]))
        args = _shortcode_args(match.group(2))
        try:
            spec = TileSpec.model_validate({"type": match.group(1), "area": DEFAULT_AREA, **args})
        except PydanticValidationError as exc:
            raise ValidationError(f"story {item.slug}: embed {match.group(0)!r} is invalid: {_problems(exc)}") from None
        yield "tile", spec
        position = match.end()
    yield "html", sanitize(markdown.render(item.body[position:]))
