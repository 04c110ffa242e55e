"""Area fact sheet ("steekkaart"): key figures by theme for one area, each with its trend and
its comparison with reference areas. Pure data (dataclasses); pages, API and PDF render it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from obmi.errors import ValidationError
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation
from obmi.query.areas import AreaRef, ancestors, areas_of_level, find_area, list_levels
from obmi.query.availability import indicators_of_area
from obmi.query.series import query_series
from obmi.query.visibility import CatalogueView
from obmi.reports.charts import format_number

THEME_ORDER = ("demografie", "vergrijzing", "diversiteit", "inkomen", "ruimte", "energie")
DEFAULT_REFERENCE_LEVELS = ("gemeente", "provincie", "gewest")
# Aalst, Antwerpen, Brugge, Genk, Gent, Hasselt, Kortrijk, Leuven, Mechelen, Oostende, Roeselare,
# Sint-Niklaas, Turnhout (2025 codes): the usual comparison group of a Flemish central city.
CENTRUMSTEDEN = ("41002", "11002", "31005", "71016", "44021", "71072", "34022", "24062", "12025",
                 "35013", "36015", "46021", "13040")
REFERENCE_PRESETS = {"centrumsteden": [("gemeente", code) for code in CENTRUMSTEDEN]}


@dataclass
class KeyFigure:
    indicator: Indicator
    period: str | None  # the latest period with a published value for the area
    value: float | None
    status: str
    change: float | None  # against the previous period, same unit
    previous_period: str | None
    series: list[Observation]
    references: list[tuple[AreaRef, Observation | None]]  # reference area → its value in `period`


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
    locator: tuple[str, str] | None = None  # the area whose areas of this level make the locator map
    parts: list[tuple[str, list[AreaRef]]] = field(default_factory=list)  # sub_areas


def default_references(conn: Connection, subject: AreaRef) -> list[AreaRef]:
    by_level = {a.level: a for a in ancestors(conn, subject.id)}
    refs: list[AreaRef] = []
    for lvl in DEFAULT_REFERENCE_LEVELS:
        ref = by_level.get(lvl)
        # Brussels is both a "province" and a region: compare with it once.
        if ref and lvl != subject.level and all(r.name != ref.name for r in refs) and ref.name != subject.name:
            refs.append(ref)
    return refs


def with_references(conn: Connection, refs: list[AreaRef]) -> list[AreaRef]:
    """`refs` followed by the default reference areas of each (the areas they lie in), once each."""
    out, seen = list(refs), {r.id for r in refs}
    for ref in refs:
        for parent in default_references(conn, ref):
            if parent.id not in seen:
                seen.add(parent.id)
                out.append(parent)
    return out


def _indicators_with_data(conn: Connection, subject: AreaRef, view: CatalogueView) -> list[Indicator]:
    """Indicators with data for the area that the actor may see at its level."""
    codes = indicators_of_area(conn, subject.id)
    catalogue = {c: ind for c, ind in view.visible.items() if view.sees_level(ind, subject.level)}
    def order(ind: Indicator):
        theme = ind.themes[0] if ind.themes else "~"
        return (THEME_ORDER.index(theme) if theme in THEME_ORDER else len(THEME_ORDER), theme)
    ordered = [catalogue[c] for c in catalogue if c in codes]  # catalogue order within a theme
    return sorted(ordered, key=order)


def _key_figure(ind: Indicator, rows, references: list[AreaRef], ref_rows) -> KeyFigure:
    series = list(rows)
    published = [p for p in series if p.value is not None]
    latest = published[-1] if published else (series[-1] if series else None)
    previous = published[-2] if len(published) > 1 else None
    period = latest.period if latest else None
    refs = []
    for ref in references:
        point = next((r for r in ref_rows.get((ind.code, ref.id), [])
                      if r.period == period), None)
        refs.append((ref, point))
    change = (latest.value - previous.value) if latest and previous and latest.value is not None else None
    return KeyFigure(ind, period, latest.value if latest else None, latest.status if latest else "missing",
                     change, previous.period if previous else None, series, refs)


def build_factsheet(conn: Connection, level: str, code: str, *, view: CatalogueView, default_threshold: int,
                    references: list[tuple[str, str]] | None = None, max_references: int = 13) -> FactSheet:
    subject = find_area(conn, level, code)
    if references is None:
        refs = default_references(conn, subject)
    else:
        if len(references) > max_references:
            raise ValidationError(f"at most {max_references} reference areas", {"ref": ["too many"]})
        refs = [find_area(conn, lvl, c) for lvl, c in references]
    indicators = _indicators_with_data(conn, subject, view)
    rows = query_series(conn, [i.code for i in indicators], [subject.id] + [r.id for r in refs],
                        view=view, default_threshold=default_threshold)
    sections: dict[str, ThemeSection] = {}
    for ind in indicators:
        theme = ind.themes[0] if ind.themes else "overige"
        figure = _key_figure(ind, rows.get((ind.code, subject.id), []), refs, rows)
        sections.setdefault(theme, ThemeSection(theme)).figures.append(figure)
    sources = sorted({i.source for i in indicators if i.source})
    return FactSheet(subject, refs, list(sections.values()), sources, datetime.now(UTC),
                     locator_within(conn, subject), sub_areas(conn, subject))


# --- wording shared by the web page and the PDF --------------------------------------------

# "+0,4 %-punt" / "t.o.v. 2014": a change of a percentage is a difference in percentage points.
CHANGE_WORDS = {"nl": {"since": "t.o.v.", "points": "%-punt"}, "en": {"since": "vs", "points": "pp"}}


def change_words(figure: KeyFigure, lang: str, *, factor: float = 1.0, decimals: int | None = None,
                 points: bool = True) -> tuple[str, str]:
    """A key figure's change as a reader says it: ("+0,4 %-punt", "t.o.v. 2014"), ("−1.234",
    "vs 2014"); ("", "") without a change. `factor`/`decimals` print it in another scale (millions)."""
    if figure.change is None or figure.value is None:
        return "", ""
    places = figure.indicator.decimals if decimals is None else decimals
    rounded = round(figure.change / factor, places)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    words = CHANGE_WORDS.get(lang, CHANGE_WORDS["nl"])
    suffix = f"\u00a0{words['points']}" if figure.indicator.unit == "%" and points else ""
    note = f"{words['since']} {figure.previous_period}" if figure.previous_period else ""
    return sign + format_number(abs(rounded), places, lang) + suffix, note


PROCESSING = {"nl": "bewerking", "en": "processed by"}


def merged_sources(sheet: FactSheet, lang: str) -> list[str]:
    """One line per source table (the catalogue names a table in several ways: with and without
    ", bewerking …"): its fullest description, the periods shown and who processed it."""
    periods: dict[str, list[str]] = {}
    for section in sheet.sections:
        for fig in section.figures:
            periods.setdefault(fig.indicator.source, []).extend(p.period for p in fig.series if p.value is not None)
    groups: dict[str, dict] = {}
    for source in sheet.sources:
        m = re.search(r"\(([^()]+)\)", source)
        g = groups.setdefault(m.group(1) if m else source, {"base": "", "processing": [], "periods": []})
        base, _, processing = source.partition(", bewerking ")
        if processing:
            g["processing"].append(processing.strip())
        if len(base) > len(g["base"]):
            g["base"] = base
        g["periods"] += periods.get(source, [])
    lines = []
    for g in groups.values():
        line = g["base"]
        if g["periods"]:
            first, last = min(g["periods"]), max(g["periods"])
            line += f", {first}" + (f"–{last}" if last != first else "")
        if g["processing"]:
            line += f"; {PROCESSING.get(lang, PROCESSING['nl'])} {', '.join(sorted(set(g['processing'])))}"
        lines.append(line)
    return lines


# --- where the area lies and what lies in it ------------------------------------------------

def locator_within(conn: Connection, subject: AreaRef) -> tuple[str, str] | None:
    """The (level, code) whose `subject.level` areas make a good locator map: the nearest of the
    default reference levels (gemeente → provincie, wijk → gemeente) the subject lies in."""
    found = {a.level: a for a in ancestors(conn, subject.id)}
    for level in DEFAULT_REFERENCE_LEVELS:
        if level != subject.level and level in found:
            return level, found[level].code
    return None


def sub_areas(conn: Connection, subject: AreaRef) -> list[tuple[str, list[AreaRef]]]:
    """The areas lying directly in `subject`, per finer level (finest last): a municipality's
    wijken, a province's districts and municipalities. Today's area lists today's levels only
    (its wijken, not also those on the 2024 sectors); an old area its own version's."""
    levels = {lvl.code: lvl for lvl in list_levels(conn)}
    own = levels.get(subject.level)
    if own is None:
        return []
    found = []
    for lvl in sorted(levels.values(), key=lambda x: -x.sort_order):
        if lvl.sort_order >= own.sort_order or not lvl.areas or (own.is_current and not lvl.is_current):
            continue
        rows = conn.execute(areas_of_level(conn, lvl.code, within=(subject.level, subject.code),
                                           include_unknown=False)).all()
        if rows:
            found.append((lvl.code, sorted((AreaRef(r.id, lvl.code, r.code, r.name, lvl.name_nl) for r in rows),
                                           key=lambda a: (a.name, a.code))))
    return found
