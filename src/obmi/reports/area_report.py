"""Area reports defined by a city in YAML ("gebiedsrapporten"): the schema, finding and loading
the files, and checking them. A report is a title, an introduction and sections; each section has
a heading, a text with placeholders (obmi.reports.area_report_text) and blocks — an indicator
table, a time series against reference areas, a bar chart of the sub-areas, a ranking among the
areas around it, a map. The numbers never come from the file: obmi.reports.area_report_build
reads them through the query layer for whichever area the report is rendered for.

Files live next to the dashboards and stories: `obmi/content/reports/<slug>.yaml` (the bundled
examples) and `<OBMI_CONTENT_DIR>/reports/<slug>.yaml` (a city's own, replacing a bundled one of
the same name). Every problem of a file is reported with the file name, its line and the YAML
path (`sections[1].blocks[0].indicator`), never as a traceback: `obmi report check FILE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from obmi.errors import NotFound, ValidationError
from obmi.geo.codes import parse_area_key

# The folder and slug rules of the dashboards and stories (one implementation for all content).
from obmi.publish.content import content_files
from obmi.reports.area_report_text import Known, check_placeholders, nearest, unknown_indicator

KIND = "reports"
BLOCK_TYPES = ("table", "timeseries", "subareas", "ranking", "map")


# --- the schema ------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Block(_Strict):
    title_nl: str = ""
    title_en: str = ""
    # A block without figures for the chosen area says so ("note") or is left out ("hide"): a
    # report for every municipality may have blocks only some of them have data for (wijken).
    if_empty: Literal["note", "hide"] = "note"


class TableBlock(_Block):
    """Indicators in rows: the area's latest published value, its change and the references'."""

    type: Literal["table"]
    indicators: list[str] = Field(min_length=1, max_length=30)
    references: list[str] | None = None  # default: the report's


class TimeSeriesBlock(_Block):
    """One indicator over time for the area and its reference areas."""

    type: Literal["timeseries"]
    indicator: str
    references: list[str] | None = None


class SubAreasBlock(_Block):
    """One indicator for the areas of `level` lying in the area (a municipality's wijken), as bars."""

    type: Literal["subareas"]
    indicator: str
    level: str


class RankingBlock(_Block):
    """The area among the areas of its own level in the `within` area it lies in (its province)."""

    type: Literal["ranking"]
    indicator: str
    within: str


class MapBlock(_Block):
    """A map of one indicator: the areas of `level` in the area (its sub-areas); or, with `within`,
    the areas of `level` (default: the area's own) in the `within` area it lies in, itself outlined."""

    type: Literal["map"]
    indicator: str
    level: str | None = None
    within: str | None = None


Block = Annotated[TableBlock | TimeSeriesBlock | SubAreasBlock | RankingBlock | MapBlock, Field(discriminator="type")]


class Section(_Strict):
    heading_nl: str
    heading_en: str = ""
    text_nl: str = ""
    text_en: str = ""
    blocks: list[Block] = Field(default_factory=list)


class AreaReport(_Strict):
    slug: str
    title_nl: str
    title_en: str = ""
    intro_nl: str = ""
    intro_en: str = ""
    levels: list[str] = Field(min_length=1)  # the area levels the report is written for
    default_area: str | None = None  # LEVEL:CODE shown first; default: the first area of the first level
    # Reference areas of tables, time series and {verschil}: a level name is the area of that level
    # the report's area lies in (its province), LEVEL:CODE a fixed area. Default: the fact sheet's.
    references: list[str] | None = None
    sections: list[Section] = Field(min_length=1)

    def texts(self) -> Iterable[tuple[tuple[Any, ...], str]]:
        """(YAML path, text) of every text that may hold placeholders."""
        for lang in ("nl", "en"):
            yield (f"intro_{lang}",), getattr(self, f"intro_{lang}")
            for i, section in enumerate(self.sections):
                yield ("sections", i, f"text_{lang}"), getattr(section, f"text_{lang}")

    def blocks(self) -> Iterable[tuple[tuple[Any, ...], Any]]:
        for i, section in enumerate(self.sections):
            for j, block in enumerate(section.blocks):
                yield ("sections", i, "blocks", j), block

    def indicator_codes(self) -> list[str]:
        """Every indicator a block shows, once each, in order."""
        codes: list[str] = []
        for _, block in self.blocks():
            codes += block.indicators if isinstance(block, TableBlock) else [block.indicator]
        return list(dict.fromkeys(codes))


# --- problems, with their place in the file --------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{self.file}, {where}" + (f" ({self.path})" if self.path else "") + f": {self.message}"


class ReportInvalid(ValidationError):
    """A report file with problems; `problems` lists each with its line."""

    def __init__(self, file: str, problems: Sequence[Problem]):
        errors: dict[str, list[str]] = {}
        for p in problems:
            key = (f"line {p.line}" if p.line else "file") + (f" ({p.path})" if p.path else "")
            errors.setdefault(key, []).append(p.message)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"report {file} has {count}", errors)
        self.file = file
        self.problems = list(problems)


def yaml_path(loc: Sequence[Any]) -> str:
    """('sections', 1, 'blocks', 0, 'indicator') → sections[1].blocks[0].indicator"""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass
class ReportFile:
    """A report's text and its YAML node tree, to name the line of every problem."""

    name: str
    text: str
    root: yaml.Node | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, loc: Sequence[Any], message: str) -> None:
        path = _without_union_tags(loc)
        self.problems.append(Problem(self.name, self.line_of(path), yaml_path(path), message))

    def text_problem(self, loc: Sequence[Any], text_line: int, message: str) -> None:
        """A problem on line `text_line` of the text at `loc` (a placeholder), at its line in the file."""
        node = self._node(loc)
        line = self.line_of(loc)
        if isinstance(node, yaml.ScalarNode) and line is not None:
            # a block scalar (`text_nl: |`) starts on the line after its key
            line += text_line if node.style in ("|", ">") else text_line - 1
        self.problems.append(Problem(self.name, line, yaml_path(loc), message))

    def _node(self, loc: Sequence[Any]) -> yaml.Node | None:
        node = self.root
        for part in loc:
            node = _child(node, part)
        return node

    def line_of(self, loc: Sequence[Any]) -> int | None:
        """The 1-based line of the deepest node of `loc` found in the file."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            node = _child(node, part)
            if node is None:
                break  # a key the file lacks: the line of its parent
            line = node.start_mark.line + 1
        return line


def _without_union_tags(loc: Sequence[Any]) -> list[Any]:
    """pydantic puts the chosen block type into the path (blocks.0.table.indicator); the file has
    no such key."""
    return [part for i, part in enumerate(loc)
            if not (part in BLOCK_TYPES and i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "blocks")]


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next((value for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


# --- reading a file --------------------------------------------------------------------------

def parse_report(text: str, name: str, slug: str) -> tuple[AreaReport | None, ReportFile]:
    """The report in `text` (the file `name`), and the file with its structural problems: YAML
    syntax, unknown or missing keys, wrong types. The catalogue is checked by `check_report`."""
    source = ReportFile(name, text)
    try:
        source.root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        source.problems.append(Problem(name, line, "", f"not valid YAML: {exc.problem or exc.context}"))
        return None, source
    except yaml.YAMLError as exc:
        source.problems.append(Problem(name, None, "", f"not valid YAML: {exc}"))
        return None, source
    if not isinstance(data, dict):
        source.problem((), "expected a mapping with title_nl, levels and sections")
        return None, source
    if "slug" in data:
        source.problem(("slug",), "the slug is the file name; remove this key")
        return None, source
    try:
        return AreaReport.model_validate({**data, "slug": slug}), source
    except PydanticValidationError as exc:
        for error in exc.errors():
            source.problem(error["loc"], _pydantic_message(error))
        return None, source


def _pydantic_message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key missing"
    if error["type"] == "union_tag_invalid":
        return f"unknown block type {error['input'].get('type')!r} (known: {', '.join(BLOCK_TYPES)})"
    if error["type"] == "union_tag_not_found":
        return f"a block needs a type (one of {', '.join(BLOCK_TYPES)})"
    return str(error["msg"])


def report_paths(content_dir: str) -> dict[str, Path]:
    """Slug → file of every report, bundled and the city's own."""
    return content_files(content_dir, KIND, "*.yaml")


def read_report(content_dir: str, slug: str) -> tuple[AreaReport | None, ReportFile]:
    path = report_paths(content_dir).get(slug)
    if path is None:
        raise NotFound(f"unknown report {slug!r}")
    return parse_report(path.read_text(encoding="utf-8"), path.name, slug)


# --- checking a report against the catalogue and the geography -------------------------------

def check_report(report: AreaReport, source: ReportFile, known: Known) -> list[Problem]:
    """Every problem of a structurally valid report: unknown indicators, levels, references,
    placeholders. Appends them to the file's problems and returns all of them."""
    for loc, level in _levels(report):
        if level not in known.levels:
            source.problem(loc, f"unknown level {level!r}{nearest(level, known.levels)}")
    _check_default_area(report, source)
    for loc, reference in _references(report):
        _check_reference(source, loc, reference, known)
    for loc, block in report.blocks():
        _check_block(source, loc, block, known)
    for loc, text in report.texts():
        for text_line, message in check_placeholders(text, known):
            source.text_problem(loc, text_line, message)
    source.problems.sort(key=lambda p: p.line or 0)  # in the order of the file
    return source.problems


def _levels(report: AreaReport) -> Iterable[tuple[tuple[Any, ...], str]]:
    for i, level in enumerate(report.levels):
        yield ("levels", i), level
    for loc, block in report.blocks():
        for key in ("level", "within"):
            value = getattr(block, key, None)
            if value is not None:
                yield (*loc, key), value


def _check_default_area(report: AreaReport, source: ReportFile) -> None:
    if report.default_area is None:
        return
    try:
        level, _ = parse_area_key(report.default_area)
    except ValidationError:
        source.problem(("default_area",), "expected LEVEL:CODE, e.g. gemeente:44021")
        return
    if level not in report.levels:
        source.problem(("default_area",), f"level {level!r} is not one of the report's levels ({', '.join(report.levels)})")


def _references(report: AreaReport) -> Iterable[tuple[tuple[Any, ...], str]]:
    for i, reference in enumerate(report.references or []):
        yield ("references", i), reference
    for loc, block in report.blocks():
        for i, reference in enumerate(getattr(block, "references", None) or []):
            yield (*loc, "references", i), reference


def _check_reference(source: ReportFile, loc: tuple[Any, ...], reference: str, known: Known) -> None:
    """A level name, or LEVEL:CODE (whether the code exists is checked when the report is shown)."""
    level = reference
    if ":" in reference:
        try:
            level, _ = parse_area_key(reference)
        except ValidationError:
            source.problem(loc, f"{reference!r} is neither a level nor LEVEL:CODE")
            return
    if level not in known.levels:
        source.problem(loc, f"unknown level {level!r} in reference {reference!r}{nearest(level, known.levels)}")


def _check_block(source: ReportFile, loc: tuple[Any, ...], block: Any, known: Known) -> None:
    if isinstance(block, TableBlock):
        for i, code in enumerate(block.indicators):
            if code not in known.indicators:
                source.problem((*loc, "indicators", i), unknown_indicator(code, known))
    elif block.indicator not in known.indicators:
        source.problem((*loc, "indicator"), unknown_indicator(block.indicator, known))
    if isinstance(block, MapBlock) and block.level is None and block.within is None:
        source.problem(loc, "a map needs `level` (the sub-areas shown) or `within` (the areas around)")


def check_named_areas(report: AreaReport, source: ReportFile, exists: Callable[[str, str], bool]) -> list[Problem]:
    """The areas a report names by LEVEL:CODE (its default area, fixed references) exist."""
    named = [(("default_area",), report.default_area)] if report.default_area else []
    named += [(loc, ref) for loc, ref in _references(report) if ":" in ref]
    for loc, key in named:
        try:
            level, code = parse_area_key(key)
        except ValidationError:
            continue  # said by check_report
        if not exists(level, code):
            source.problem(loc, f"there is no area {code!r} at level {level!r}")
    source.problems.sort(key=lambda p: p.line or 0)
    return source.problems
