"""Area reports (YAML, obmi.reports.area_report): list and check them, render one for an area as
a page or a PDF, and write it for every area of a level. Every figure passes the actor's view of
the catalogue and the stored disclosure decisions (obmi.reports.area_report_build reads through
the fact sheet and the query layer)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from obmi.geo.codes import AreaKey, parse_area_key
from obmi.operations.registry import Unit, operation
from obmi.query.areas import AreaRef, ancestors, areas_of_level, find_area, list_levels
from obmi.query.visibility import CatalogueView
from obmi.reports import area_report as ar
from obmi.reports.area_report_build import ReportView, build_report

MAX_CHOICES = 80


def _known(conn: Connection, view: CatalogueView) -> ar.Known:
    """What a report may name. Every indicator of the catalogue counts, also those this actor may
    not see: a report naming one is valid, and its blocks are left out for whoever may not see it."""
    return ar.Known(frozenset(view.everything), frozenset(lvl.code for lvl in list_levels(conn)))


def _checked(unit: Unit, report: ar.AreaReport | None, source: ar.ReportFile, view: CatalogueView) -> list[ar.Problem]:
    """Every problem of a report read from `source`, the areas it names by LEVEL:CODE included."""
    if report is None:
        return source.problems
    ar.check_report(report, source, _known(unit.conn, view))
    ar.check_named_areas(report, source, lambda level, code: _exists(unit.conn, level, code))
    return source.problems


def _exists(conn: Connection, level: str, code: str) -> bool:
    try:
        find_area(conn, level, code)
    except Exception:  # noqa: BLE001 — an unknown level or code: the area does not exist
        return False
    return True


def _load(unit: Unit, slug: str) -> tuple[ar.AreaReport, CatalogueView]:
    """The report `slug`, checked (ReportInvalid names every problem with its line)."""
    report, source = ar.read_report(unit.settings.content_dir, slug)
    view = CatalogueView.load(unit.conn, unit.actor)
    problems = _checked(unit, report, source, view)
    if report is None or problems:
        raise ar.ReportInvalid(source.name, problems)
    return report, view


@dataclass(frozen=True)
class ReportEntry:
    slug: str
    file: str
    report: ar.AreaReport | None  # None: the file is not a valid report
    problems: list[ar.Problem]
    default_area: AreaKey | None  # the area the report opens on


@operation("content.read")
def list_area_reports(unit: Unit) -> list[ReportEntry]:
    """The area reports, bundled and the city's own, each checked (with its problems, if any)."""
    view = CatalogueView.load(unit.conn, unit.actor)
    entries = []
    for slug, path in ar.report_paths(unit.settings.content_dir).items():
        report, source = ar.parse_report(path.read_text(encoding="utf-8"), path.name, slug)
        problems = _checked(unit, report, source, view)
        entries.append(ReportEntry(slug, path.name, report, problems,
                                   _default_area(unit.conn, report) if report and not problems else None))
    return entries


def _default_area(conn: Connection, report: ar.AreaReport) -> AreaKey | None:
    if report.default_area:
        return parse_area_key(report.default_area)
    first = conn.execute(areas_of_level(conn, report.levels[0], include_unknown=False).limit(1)).first()
    return (report.levels[0], first.code) if first else None


@operation("content.read")
def check_area_report(unit: Unit, text: str, *, name: str = "report.yaml") -> list[ar.Problem]:
    """The problems of a report file's text (none: it is valid), each with its line: YAML syntax,
    unknown keys, indicators, levels, areas and placeholders."""
    slug = Path(name).stem
    report, source = ar.parse_report(text, name, slug)
    return _checked(unit, report, source, CatalogueView.load(unit.conn, unit.actor))


@dataclass(frozen=True)
class ReportPage:
    report: ar.AreaReport
    view: ReportView
    others: list[AreaRef]  # the areas of the same level around it, to open the report for
    others_in: AreaRef | None  # the area those lie in


@operation("content.read")
def area_report(unit: Unit, slug: str, level: str, code: str, *, lang: str = "nl") -> ReportPage:
    """An area report rendered for one area: its texts with the placeholders filled in, its
    tables and charts (as SVG), in Dutch or English."""
    report, view = _load(unit, slug)
    built = build_report(unit.conn, report, level, code, view=view, default_threshold=unit.settings.default_threshold,
                         lang=lang)
    others_in, others = _neighbours(unit.conn, report, built.area)
    return ReportPage(report, built, others, others_in)


def _neighbours(conn: Connection, report: ar.AreaReport, subject: AreaRef) -> tuple[AreaRef | None, list[AreaRef]]:
    """The other areas of the subject's level in the first reference area of the report it lies in
    (a municipality's province), else in the nearest area it lies in that holds several."""
    around = ancestors(conn, subject.id)
    preferred = [a for level in report.references or [] for a in around if a.level == level]
    for parent in preferred + around:
        rows = conn.execute(areas_of_level(conn, subject.level, within=(parent.level, parent.code),
                                           include_unknown=False)).all()
        if len(rows) > 1:
            return parent, [AreaRef(r.id, subject.level, r.code, r.name, subject.level_name) for r in rows][:MAX_CHOICES]
    return None, []


@operation("content.read")
def area_report_choices(unit: Unit, slug: str, near: AreaKey) -> tuple[AreaRef | None, list[AreaRef]]:
    """Areas the report is written for near the area `near` (of another level): those lying in it,
    else those lying in the nearest area it lies in; with the area they lie in."""
    report, _ = _load(unit, slug)
    chosen = find_area(unit.conn, *near)
    names = {lvl.code: lvl.name_nl for lvl in list_levels(unit.conn)}
    for around in [chosen, *ancestors(unit.conn, chosen.id)]:
        found = [AreaRef(r.id, level, r.code, r.name, names.get(level, level)) for level in report.levels
                 for r in unit.conn.execute(areas_of_level(unit.conn, level, within=(around.level, around.code),
                                                           include_unknown=False))]
        if found:
            return around, sorted(found, key=lambda a: a.name)[:MAX_CHOICES]
    return None, []


@operation("content.read")
def area_report_pdf(unit: Unit, slug: str, level: str, code: str, *, lang: str = "nl") -> bytes:
    """An area report for one area as an accessible A4 PDF."""
    from obmi.reports.area_report_pdf import render_report_pdf
    report, view = _load(unit, slug)
    built = build_report(unit.conn, report, level, code, view=view, default_threshold=unit.settings.default_threshold,
                         lang=lang)
    return render_report_pdf(built, site_name=unit.settings.site_name)


@operation("reports.export")
def export_area_reports(unit: Unit, slug: str, level: str, out_dir: Path, *, lang: str = "nl",
                        within: AreaKey | None = None, archive: bool = False, html: bool = False) -> dict[str, Any]:
    """The report as a PDF (and with `html` a self-contained HTML file) for every area of a level,
    optionally only those within an area, written to a folder on this machine with a manifest
    (manifest.json), or into one ZIP file."""
    from obmi.reports.area_report_export import export_reports
    report, view = _load(unit, slug)
    return export_reports(unit.conn, report, level, Path(out_dir), view=view, lang=lang, within=within,
                          default_threshold=unit.settings.default_threshold, site_name=unit.settings.site_name,
                          archive=archive, html=html)
