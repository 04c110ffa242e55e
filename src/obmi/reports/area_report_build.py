"""An area report built for one area: every figure read through the fact sheet and the query
layer (obmi.reports.factsheet.build_factsheet, obmi.query.observations, obmi.query.series), so
the stored disclosure decisions and the actor's view of the catalogue apply as in every other
channel. The result is plain data (dataclasses with texts in the report's language and charts as
SVG) that the web page and the PDF both render.

A value that is not published shows as its sign in tables and charts and in words in the text:
`{waarde:…}` of a suppressed cell says "niet gepubliceerd (kleine aantallen)", never the number;
a difference or rank that would need it is "niet te berekenen"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from obmi.errors import NotAllowed, NotFound, ValidationError
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation
from obmi.publish import labels
from obmi.publish.signs import SIGNS, shown_status
from obmi.query.areas import AreaRef, LevelInfo, ancestors, feature_collection, find_area, list_levels
from obmi.query.observations import ObservationQuery, query_observations
from obmi.query.series import query_series
from obmi.query.visibility import CatalogueView
from obmi.reports import area_report_charts as report_charts
from obmi.reports.area_report import AreaReport, MapBlock, RankingBlock, SubAreasBlock, TableBlock, TimeSeriesBlock
from obmi.reports.area_report_text import Placeholder, RenderedText, placeholders, render_text
from obmi.reports.charts import format_number
from obmi.reports.factsheet import KeyFigure, ThemeSection, build_factsheet, change_words, merged_sources
from obmi.reports.pdf import render_svg

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "suppressed": "niet gepubliceerd (kleine aantallen)", "hidden": "niet gepubliceerd (door de bron)",
        "not_applicable": "niet van toepassing", "missing": "onbekend", "empty": "geen gegevens",
        "no_data": "geen gegevens", "no_difference": "niet te berekenen", "no_rank": "niet te bepalen",
        "no_change": "geen eerdere periode", "since": "t.o.v.", "no_reference": "(geen referentiegebied)",
        "rank": "{rank} van {total}",
        "points": "%-punt", "timeseries": "Evolutie van {indicator}: {areas}, {first}–{last}",
        "subareas": "{indicator} in de {level} van {area}, {period}",
        "ranking": "{indicator} in de {level} van {parent}, {period}",
        "rank_note": "{area}: plaats {rank} van {total} {level} in {parent} (1 = de hoogste waarde).",
        "rank_none": "{area} heeft geen gepubliceerde waarde in {period}: geen plaats.",
        "map": "Kaart van {indicator} in de {level} van {parent}, {period}",
        "empty_block": "Voor {area} zijn er geen cijfers voor dit onderdeel.",
        "empty_subareas": "Er zijn geen cijfers voor de {level} van {area}.",
        "no_parent": "{area} ligt niet in een {level}.", "no_boundaries": "Er zijn geen gebiedsgrenzen voor de {level}.",
        "top": "de {n} hoogste en {n} laagste van {total}, en {area}",
    },
    "en": {
        "suppressed": "not published (small numbers)", "hidden": "not published (by the source)",
        "not_applicable": "not applicable", "missing": "unknown", "empty": "no data",
        "no_data": "no data", "no_difference": "cannot be computed", "no_rank": "cannot be determined",
        "no_change": "no earlier period", "since": "vs", "no_reference": "(no reference area)", "rank": "{rank} of {total}",
        "points": "pp", "timeseries": "Trend of {indicator}: {areas}, {first}–{last}",
        "subareas": "{indicator} in the {level} of {area}, {period}",
        "ranking": "{indicator} in the {level} of {parent}, {period}",
        "rank_note": "{area}: number {rank} of {total} {level} in {parent} (1 = the highest value).",
        "rank_none": "{area} has no published value in {period}: no rank.",
        "map": "Map of {indicator} in the {level} of {parent}, {period}",
        "empty_block": "There are no figures for this part for {area}.",
        "empty_subareas": "There are no figures for the {level} of {area}.",
        "no_parent": "{area} does not lie in a {level}.", "no_boundaries": "There are no boundaries of the {level}.",
        "top": "the {n} highest and {n} lowest of {total}, and {area}",
    },
}
T = TypeVar("T")
MAX_BARS = 40  # more areas than this: the highest and lowest 15 and the report's area among them


# --- the result ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """A value as shown: its number, or the sign of its status (kind: "value" or one of
    obmi.reports.pdf.SIGN_KINDS — "hidden" is a cell withheld by the source, not by OBMi)."""

    text: str
    kind: str
    value: float | None
    status: str | None


@dataclass(frozen=True)
class TableRow:
    figure: KeyFigure
    indicator: Indicator
    name: str
    unit: str
    period: str
    value: Cell
    change: str
    change_note: str
    refs: list[Cell]


@dataclass(frozen=True)
class Table:
    references: list[AreaRef]
    rows: list[TableRow]


@dataclass(frozen=True)
class Chart:
    svg: str
    width: float  # pt, as render_svg measures it
    height: float
    description: str  # what the chart shows: its alternative text
    unit: str
    decimals: int
    rows: list[tuple[str, str, Cell]]  # (area, period, value): the chart as a table
    note: str = ""  # a sentence under the chart (a ranking's place)


@dataclass(frozen=True)
class BlockView:
    type: str
    title: str
    table: Table | None = None
    chart: Chart | None = None
    empty: str = ""  # why nothing is shown


@dataclass(frozen=True)
class SectionView:
    heading: str
    text: RenderedText
    blocks: list[BlockView]


@dataclass
class ReportView:
    slug: str
    title: str
    lang: str
    area: AreaRef
    level_name: str
    references: list[AreaRef]
    intro: RenderedText
    sections: list[SectionView]
    sources: list[str]
    licences: list[str]
    generated: datetime
    kinds: set[str] = field(default_factory=set)  # the signs the report shows (for its legend)
    families: set[str] = field(default_factory=set)  # the level families it shows (ggw7: the wijken's attribution)


# --- formatting ------------------------------------------------------------------------------

def cell(point: Observation | None, decimals: int, lang: str) -> Cell:
    value, status = (point.value, point.status) if point is not None else (None, None)
    if value is not None:
        return Cell(format_number(value, decimals, lang), "value", value, status)
    shown = shown_status(value, status) or "missing"
    kind = "hidden" if shown == "suppressed" and not (point and point.disclosure) else str(shown)
    return Cell(SIGNS[shown].symbol(lang), kind, None, status)


# Units in a sentence: symbols are written as such, counts ("aantal") need no word.
UNIT_WORDS = {"kwh": ("kWh", "kWh"), "personen": ("personen", "persons"), "aangiften": ("aangiften", "tax returns"),
              "aantal": ("", "")}


def unit_word(unit: str, lang: str) -> str:
    nl, en = UNIT_WORDS.get(unit.lower(), (unit, unit))
    return en if lang == "en" else nl


def _with_unit(number: str, sign: str, ind: Indicator, lang: str) -> str:
    if ind.unit == "%":
        return f"{sign}{number}\u00a0%" if lang == "nl" else f"{sign}{number}%"
    if ind.unit == "EUR":
        return f"{sign}€\u00a0{number}"
    word = unit_word(ind.unit, lang)
    return f"{sign}{number}\u00a0{word}" if word else sign + number


def amount(value: float, ind: Indicator, lang: str) -> str:
    """A value in a sentence, with its unit: "18,6 %", "€ 17.477", "253.266 personen"."""
    return _with_unit(format_number(value, ind.decimals, lang), "", ind, lang)


def difference(value: float, ind: Indicator, lang: str) -> str:
    """"+0,4 %-punt", "−€ 1.416", "+2.133 personen" (a difference of percentages is in percentage points)."""
    rounded = round(value, ind.decimals)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    number = format_number(abs(rounded), ind.decimals, lang)
    if ind.unit == "%":
        return f"{sign}{number}\u00a0{WORDS[lang]['points']}"
    return _with_unit(number, sign, ind, lang)


def unpublished(c: Cell, lang: str) -> str:
    """The words for a value that has no number."""
    return WORDS[lang].get(c.kind, WORDS[lang]["no_data"])


# --- where the area lies ---------------------------------------------------------------------

class Surroundings:
    """The report's area, the areas it lies in, and the reference areas the report names."""

    def __init__(self, conn: Connection, subject: AreaRef):
        self.conn, self.subject = conn, subject
        self.around = {a.level: a for a in reversed(ancestors(conn, subject.id))}  # nearest wins

    def ancestor(self, level: str) -> AreaRef | None:
        return self.around.get(level) if level != self.subject.level else None

    def reference(self, text: str) -> AreaRef | None:
        """A level name (the area of that level the subject lies in) or LEVEL:CODE."""
        if ":" in text:
            level, _, code = text.partition(":")
            try:
                return find_area(self.conn, level, code)
            except NotFound:
                raise ValidationError(f"the report names reference {text!r}, which is no area",
                                      {"references": [text]}) from None
        return self.ancestor(text)

    def references(self, texts: Sequence[str]) -> list[AreaRef]:
        found: list[AreaRef] = []
        for text in texts:
            ref = self.reference(text)
            # Brussels is both a province and a region: compare with it once
            if ref is not None and ref.id != self.subject.id and all(r.name != ref.name for r in found):
                found.append(ref)
        return found


# --- building --------------------------------------------------------------------------------

@dataclass
class Builder:
    """What building one report needs; `cache` is shared by the reports of one batch."""

    conn: Connection
    report: AreaReport
    view: CatalogueView
    threshold: int
    lang: str
    cache: dict[Any, Any]
    levels: dict[str, LevelInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.levels = self.cached(("levels",), lambda: {lvl.code: lvl for lvl in list_levels(self.conn)})

    def cached(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """What `make` returns, once per batch (the rankings and maps of one province are alike)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def words(self) -> dict[str, str]:
        return WORDS[self.lang]

    def name(self, ind: Indicator) -> str:
        return (ind.name_en or ind.name_nl) if self.lang == "en" else ind.name_nl

    def area_name(self, area: AreaRef) -> str:
        return labels.area_name(area.level, area.code, area.name, self.lang)

    def level_words(self, level: str) -> str:
        info = self.levels.get(level)
        return labels.level_plural(level, info.family if info else None, self.lang,
                                   info.name_nl if info else "", info.name_en if info else "")

    def level_word(self, level: str) -> str:
        """A level in a sentence, singular: "gemeente", "wijk"."""
        info = self.levels.get(level)
        label = labels.level_label(level, self.lang, info.name_nl if info else "", info.name_en if info else "")
        return label.split(" (")[0].lower()


def build_report(conn: Connection, report: AreaReport, level: str, code: str, *, view: CatalogueView,
                 default_threshold: int, lang: str = "nl", cache: dict[Any, Any] | None = None) -> ReportView:
    """The report for the area LEVEL:CODE (a level the report is written for) in `lang`."""
    require_level(report, level)
    subject = find_area(conn, level, code)
    b = Builder(conn, report, view, default_threshold, lang, {} if cache is None else cache)
    around = Surroundings(conn, subject)
    refs = around.references(_reference_texts(report))
    sheet = build_factsheet(conn, level, code, view=view, default_threshold=default_threshold,
                            references=[(r.level, r.code) for r in refs])
    figures = {f.indicator.code: f for s in sheet.sections for f in s.figures}
    kinds: set[str] = set()
    fill = _Filler(b, around, figures)
    sections = [SectionView(_pick(lang, s.heading_nl, s.heading_en), render_text(_pick(lang, s.text_nl, s.text_en), fill),
                            [v for v in (_block(b, around, figures, blk, kinds) for blk in s.blocks) if v is not None])
                for s in report.sections]
    used = [figures[c] for c in report.indicator_codes() if c in figures]
    shown = replace(sheet, sections=[ThemeSection("report", used)], sources=sorted({f.indicator.source for f in used
                                                                                    if f.indicator.source}))
    default_refs = around.references(report.references) if report.references is not None else sheet.references
    return ReportView(
        report.slug, _pick(lang, report.title_nl, report.title_en), lang, _in_language(subject, lang),
        labels.level_label(level, lang, *_names(b.levels.get(level))), [_in_language(r, lang) for r in default_refs],
        render_text(_pick(lang, report.intro_nl, report.intro_en), fill), sections, merged_sources(shown, lang),
        sorted({f.indicator.licence for f in used if f.indicator.licence}), sheet.generated, kinds,
        _families(b, report, level, refs))


def require_level(report: AreaReport, level: str) -> None:
    if level not in report.levels:
        raise ValidationError(f"report {report.slug} is written for {', '.join(report.levels)}, not for {level}",
                              {"level": list(report.levels)})


def _families(b: Builder, report: AreaReport, level: str, refs: list[AreaRef]) -> set[str]:
    levels = {level, *(r.level for r in refs)}
    levels |= {blk.level for _, blk in report.blocks() if getattr(blk, "level", None)}
    return {b.levels[code].family for code in levels if code in b.levels}


def _pick(lang: str, nl: str, en: str) -> str:
    return en if lang == "en" and en else nl


def _names(info: LevelInfo | None) -> tuple[str, str]:
    return (info.name_nl, info.name_en) if info else ("", "")


def _in_language(area: AreaRef, lang: str) -> AreaRef:
    return labels.refs_in_language([area], lang)[0]


def _reference_texts(report: AreaReport) -> list[str]:
    """Every reference area the report's tables, time series and texts name, once each."""
    texts = list(report.references or ["gemeente", "provincie", "gewest"])
    for _, block in report.blocks():
        texts += getattr(block, "references", None) or []
    for _, text in report.texts():
        for p in placeholders(text):
            if p.kind.name in ("verschil", "referentie") and p.args:
                texts.append(p.args[-1])
    return list(dict.fromkeys(texts))


# --- placeholders ----------------------------------------------------------------------------

class _Filler:
    """Fills in the placeholders of the report's texts for one area."""

    def __init__(self, b: Builder, around: Surroundings, figures: dict[str, KeyFigure]):
        self.b, self.around, self.figures = b, around, figures

    def __call__(self, p: Placeholder) -> str:
        words, lang = self.b.words, self.b.lang
        name = p.kind.name
        if name == "gebied":
            return self.b.area_name(self.around.subject)
        if name == "niveau":
            return self.b.level_word(self.around.subject.level)
        if name == "referentie":
            ref = self.around.reference(p.args[0])
            return self.b.area_name(ref) if ref is not None else words["no_reference"]
        figure = self.figures.get(p.args[0]) if p.args[0] in self.b.view.visible else None
        if figure is None:
            return words["no_data"]
        if name == "periode":
            return figure.period or words["no_data"]
        own = _own_cell(figure, lang)
        if name == "waarde":
            return amount(own.value, figure.indicator, lang) if own.value is not None else unpublished(own, lang)
        if name == "verandering":
            if figure.change is None or figure.value is None:
                return words["no_change"]
            return f"{difference(figure.change, figure.indicator, lang)} {words['since']} {figure.previous_period}"
        if name == "verschil":
            return self._difference(figure, p.args[1])
        return self._rank(figure, p.args[1] if len(p.args) > 1 else self._default_within())

    def _difference(self, figure: KeyFigure, reference: str) -> str:
        ref = self.around.reference(reference)
        point = next((pt for r, pt in figure.references if ref is not None and r.id == ref.id), None)
        if figure.value is None or point is None or point.value is None:
            return self.b.words["no_difference"]
        return difference(figure.value - point.value, figure.indicator, self.b.lang)

    def _rank(self, figure: KeyFigure, within: str) -> str:
        ranking = _ranking(self.b, self.around, figure.indicator, within, figure.period)
        if ranking is None or ranking.rank is None:
            return self.b.words["no_rank"]
        return self.b.words["rank"].format(rank=ranking.rank, total=len(ranking.published))

    def _default_within(self) -> str:
        """The report's first reference level the area lies in (its province): where {rang} ranks."""
        for text in self.b.report.references or ["provincie", "gewest"]:
            if ":" not in text and self.around.ancestor(text) is not None:
                return text
        return "gewest"


def _own_cell(figure: KeyFigure, lang: str) -> Cell:
    """The area's own cell of a key figure (its observation says who withheld a suppressed value)."""
    point = next((p for p in reversed(figure.series) if p.period == figure.period), None)
    return cell(point, figure.indicator.decimals, lang)


# --- rankings and the areas of a level -------------------------------------------------------

@dataclass(frozen=True)
class Ranking:
    parent: AreaRef
    period: str
    rows: list[Observation]  # every area of the subject's level in `parent`, highest value first
    published: list[Observation]
    ranks: dict[str, int]  # area code → rank (1 = highest; equal values share a rank: 1, 2, 2, 4)
    rank: int | None  # the subject's


def _areas(b: Builder, code: str, level: str, within: AreaRef, period: str | None) -> list[Observation]:
    """The published values of `code` for the areas of `level` in `within` (one period: the one
    asked, else the latest any of them has). Nothing when the actor may not see them there."""
    def read() -> list[Observation]:
        query = ObservationQuery(code, level, period or "latest", (), (within.level, within.code))
        try:
            return query_observations(b.conn, query, view=b.view, default_threshold=b.threshold).rows
        except (NotAllowed, NotFound):
            return []
    return list(b.cached(("areas", code, level, within.id, period), read))


def _ranking(b: Builder, around: Surroundings, ind: Indicator, within: str, period: str | None) -> Ranking | None:
    parent = around.ancestor(within)
    if parent is None:
        return None
    rows = _areas(b, ind.code, around.subject.level, parent, period)
    published = sorted((r for r in rows if r.value is not None), key=lambda r: (-(r.value or 0.0), r.area_name))
    ranks: dict[str, int] = {}
    for i, r in enumerate(published):
        ranks[r.area_code] = ranks[published[i - 1].area_code] if i and r.value == published[i - 1].value else i + 1
    ordered = published + sorted((r for r in rows if r.value is None), key=lambda r: r.area_name)
    return Ranking(parent, rows[0].period if rows else (period or ""), ordered, published, ranks,
                   ranks.get(around.subject.code))


# --- blocks ----------------------------------------------------------------------------------

def _block(b: Builder, around: Surroundings, figures: dict[str, KeyFigure], block: Any, kinds: set[str]) -> BlockView | None:
    codes = block.indicators if isinstance(block, TableBlock) else [block.indicator]
    visible = [c for c in codes if c in b.view.visible]
    if not visible:  # the public never learns that a hidden indicator exists
        return None
    title = _pick(b.lang, block.title_nl, block.title_en)
    if isinstance(block, TableBlock):
        view = _table_block(b, around, figures, visible, block)
    elif isinstance(block, TimeSeriesBlock):
        view = _timeseries_block(b, around, figures, block)
    elif isinstance(block, SubAreasBlock):
        view = _subareas_block(b, around, block)
    elif isinstance(block, RankingBlock):
        view = _ranking_block(b, around, figures, block)
    else:
        view = _map_block(b, around, block)
    if view.empty and block.if_empty == "hide":
        return None
    if not title:
        title = _default_title(b, view, block)
    kinds.update(c.kind for c in _cells(view) if c.kind != "value")
    return replace(view, title=title)


def _default_title(b: Builder, view: BlockView, block: Any) -> str:
    if view.chart is not None:
        return view.chart.description
    if isinstance(block, TableBlock):
        return ""
    return b.name(b.view.visible[block.indicator])


def _cells(view: BlockView) -> list[Cell]:
    if view.table is not None:
        return [c for row in view.table.rows for c in (row.value, *row.refs)]
    return [c for _, _, c in view.chart.rows] if view.chart is not None else []


def _empty(b: Builder, around: Surroundings, type_: str) -> BlockView:
    return BlockView(type_, "", empty=b.words["empty_block"].format(area=b.area_name(around.subject)))


def _table_block(b: Builder, around: Surroundings, figures: dict[str, KeyFigure], codes: list[str],
                 block: TableBlock) -> BlockView:
    refs = around.references(block.references) if block.references is not None else \
        around.references(b.report.references) if b.report.references is not None else None
    rows = []
    for code in codes:
        figure = figures.get(code)
        if figure is None:
            continue
        chosen = figure.references if refs is None else [(r, p) for r, p in figure.references
                                                         if any(r.id == x.id for x in refs)]
        change, note = change_words(figure, b.lang, points=False)
        decimals = figure.indicator.decimals
        rows.append(TableRow(figure, figure.indicator, b.name(figure.indicator), figure.indicator.unit, figure.period or "",
                             _own_cell(figure, b.lang), change, note, [cell(p, decimals, b.lang) for _, p in chosen]))
    if not rows:
        return _empty(b, around, "table")
    references = [_in_language(r, b.lang) for r, _ in figures[rows[0].indicator.code].references
                  if refs is None or any(r.id == x.id for x in refs)]
    return BlockView("table", "", table=Table(references, rows))


def _chart(b: Builder, spec: dict[str, Any], ind: Indicator, rows: list[tuple[str, str, Cell]], note: str = "") -> Chart:
    svg, width, height = render_svg(spec, b.lang)
    return Chart(svg, width, height, str(spec["description"]), ind.unit, ind.decimals, rows, note)


def _timeseries_block(b: Builder, around: Surroundings, figures: dict[str, KeyFigure],
                      block: TimeSeriesBlock) -> BlockView:
    figure = figures.get(block.indicator)
    if figure is None or not any(p.value is not None for p in figure.series):
        return _empty(b, around, "timeseries")
    ind = figure.indicator
    texts = block.references if block.references is not None else b.report.references
    refs = around.references(texts) if texts is not None else [r for r, _ in figure.references]
    series = query_series(b.conn, [ind.code], [r.id for r in refs], view=b.view, default_threshold=b.threshold)
    lines = [report_charts.Line(b.area_name(around.subject), figure.series, subject=True)]
    lines += [report_charts.Line(b.area_name(r), series.get((ind.code, r.id), [])) for r in refs]
    periods = sorted({p.period for line in lines for p in line.points})
    description = b.words["timeseries"].format(indicator=b.name(ind), areas=", ".join(line.name for line in lines),
                                               first=periods[0], last=periods[-1])
    spec = report_charts.timeseries_spec(lines, unit=unit_word(ind.unit, b.lang), decimals=ind.decimals, lang=b.lang,
                                         description=description)
    rows = [(line.name, p.period, cell(p, ind.decimals, b.lang)) for line in lines for p in line.points]
    return BlockView("timeseries", "", chart=_chart(b, spec, ind, rows))


def _bars(rows: list[Observation], subject_code: str, ranks: dict[str, int] | None = None) -> list[report_charts.Bar]:
    """Bars of `rows` (highest first), numbered by `ranks`; more than MAX_BARS: the highest and
    lowest 15 and the subject."""
    ranks = ranks or {}
    bars = [report_charts.Bar(f"{ranks[r.area_code]}. {r.area_name}" if r.area_code in ranks else r.area_name,
                              r.value, r.status, r.area_code == subject_code) for r in rows]
    if len(bars) <= MAX_BARS:
        return bars
    keep = set(range(15)) | set(range(len(bars) - 15, len(bars))) | {i for i, bar in enumerate(bars) if bar.subject}
    return [bar for i, bar in enumerate(bars) if i in keep]


def _subareas_block(b: Builder, around: Surroundings, block: SubAreasBlock) -> BlockView:
    ind = b.view.visible[block.indicator]
    rows = _areas(b, ind.code, block.level, around.subject, None)
    if not any(r.value is not None for r in rows):
        return BlockView("subareas", "", empty=b.words["empty_subareas"].format(
            level=b.level_words(block.level), area=b.area_name(around.subject)))
    ordered = sorted(rows, key=lambda r: (r.value is None, -(r.value or 0.0), r.area_name))
    period = rows[0].period
    description = b.words["subareas"].format(indicator=b.name(ind), level=b.level_words(block.level),
                                             area=b.area_name(around.subject), period=period)
    bars = _bars(ordered, "")
    if len(bars) < len(ordered):
        description += f" ({b.words['top'].format(n=15, total=len(ordered), area=b.area_name(around.subject))})"
    spec = report_charts.bars_spec(bars, decimals=ind.decimals, lang=b.lang, description=description)
    table = [(r.area_name, r.period, cell(r, ind.decimals, b.lang)) for r in ordered]
    return BlockView("subareas", "", chart=_chart(b, spec, ind, table))


def _ranking_block(b: Builder, around: Surroundings, figures: dict[str, KeyFigure], block: RankingBlock) -> BlockView:
    ind = b.view.visible[block.indicator]
    figure = figures.get(ind.code)
    ranking = _ranking(b, around, ind, block.within, figure.period if figure else None)
    subject = b.area_name(around.subject)
    if ranking is None:
        return BlockView("ranking", "", empty=b.words["no_parent"].format(area=subject, level=b.level_word(block.within)))
    if not ranking.published:
        return _empty(b, around, "ranking")
    level = b.level_words(around.subject.level)
    parent = b.area_name(ranking.parent)
    description = b.words["ranking"].format(indicator=b.name(ind), level=level, parent=parent, period=ranking.period)
    note = (b.words["rank_note"].format(area=subject, rank=ranking.rank, total=len(ranking.published), level=level,
                                        parent=parent) if ranking.rank is not None
            else b.words["rank_none"].format(area=subject, period=ranking.period))
    spec = report_charts.bars_spec(_bars(ranking.rows, around.subject.code, ranking.ranks), decimals=ind.decimals,
                                   lang=b.lang, description=description)
    table = [(r.area_name, r.period, cell(r, ind.decimals, b.lang)) for r in ranking.rows]
    return BlockView("ranking", "", chart=_chart(b, spec, ind, table, note))


def _map_block(b: Builder, around: Surroundings, block: MapBlock) -> BlockView:
    ind = b.view.visible[block.indicator]
    level = block.level or around.subject.level
    subject = b.area_name(around.subject)
    parent = around.ancestor(block.within) if block.within else around.subject
    if parent is None:
        return BlockView("map", "", empty=b.words["no_parent"].format(area=subject, level=b.level_word(block.within or "")))
    rows = _areas(b, ind.code, level, parent, None)
    if not any(r.value is not None for r in rows):
        return BlockView("map", "", empty=b.words["empty_subareas"].format(level=b.level_words(level),
                                                                             area=b.area_name(parent)))
    features = b.cached(("geo", level, parent.id),
                        lambda: feature_collection(b.conn, level, within=(parent.level, parent.code))["features"])
    if not features:
        return BlockView("map", "", empty=b.words["no_boundaries"].format(level=b.level_words(level)))
    highlight = around.subject.code if level == around.subject.level else None
    description = b.words["map"].format(indicator=b.name(ind), level=b.level_words(level), parent=b.area_name(parent),
                                        period=rows[0].period)
    spec = report_charts.map_spec(features, {r.area_code: r.value for r in rows}, highlight, unit=unit_word(ind.unit, b.lang),
                                  decimals=ind.decimals, lang=b.lang, description=description)
    ordered = sorted(rows, key=lambda r: r.area_name)
    return BlockView("map", "", chart=_chart(b, spec, ind, [(r.area_name, r.period, cell(r, ind.decimals, b.lang))
                                                           for r in ordered]))
