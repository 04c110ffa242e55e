"""The named operations of OBMi. Web pages, the API, the CLI and the tests all call these; each
checks permission first, then delegates to the domain packages."""

from __future__ import annotations

from pathlib import Path

from obmi.context import Context
from obmi.imports import geo as geo_import
from obmi.imports import long_format, runs, statbel
from obmi.indicators import catalogue
from obmi.indicators.derive import derive_everything
from obmi.query import ObservationQuery, QueryResult
from obmi.query import areas as area_query
from obmi.query import availability
from obmi.query.series import query_series
from obmi.reports import factsheet
from obmi.query import observations as obs_query
from obmi.store import Database, backup as store_backup


def upgrade_database(ctx: Context, db: Database) -> tuple[str | None, str]:
    ctx.require("admin")
    return db.upgrade()


def import_geography(ctx: Context, db: Database, directory: Path, *, dry_run: bool = False) -> runs.ImportResult:
    ctx.require("data_manager")
    return geo_import.import_geo(db, directory, user=ctx.user, dry_run=dry_run)


def import_statbel(ctx: Context, db: Database, files: list[Path], *, dry_run: bool = False) -> list[runs.ImportResult]:
    ctx.require("data_manager")
    return statbel.import_statbel(db, files, user=ctx.user, dry_run=dry_run)


def import_observations(ctx: Context, db: Database, path: Path, *, level: str | None = None,
                        dry_run: bool = False) -> runs.ImportResult:
    ctx.require("data_manager")
    return long_format.import_observations(db, path, user=ctx.user, level=level, dry_run=dry_run)


def import_catalogue(ctx: Context, db: Database, path: Path, *, dry_run: bool = False) -> runs.ImportResult:
    ctx.require("data_manager")
    return catalogue.import_catalogue(db, path, user=ctx.user, dry_run=dry_run)


def rederive_all(ctx: Context, db: Database) -> int:
    """Recompute every derived value (normally automatic after each import); returns rows written."""
    ctx.require("data_manager")
    db.require_schema()
    with db.engine.begin() as conn:
        return derive_everything(conn, None).written


def export_catalogue(ctx: Context, db: Database, fmt: str) -> str:
    ctx.require("public")
    return catalogue.export_catalogue(db, fmt)


def list_indicators(ctx: Context, db: Database) -> list[catalogue.Indicator]:
    ctx.require("public")
    db.require_schema()
    with db.engine.connect() as conn:
        return sorted(catalogue.load_catalogue(conn).values(), key=lambda i: i.code)


def list_levels(ctx: Context, db: Database) -> list[area_query.LevelInfo]:
    ctx.require("public")
    db.require_schema()
    with db.engine.connect() as conn:
        return area_query.list_levels(conn)


def area_geojson(ctx: Context, db: Database, level: str, *, within: tuple[str, str] | None = None,
                 detail: str = "web", tolerance: float | None = None) -> dict:
    ctx.require("public")
    db.require_schema()
    with db.engine.connect() as conn:
        return area_query.feature_collection(conn, level, within=within, detail=detail, tolerance=tolerance)


def list_imports(ctx: Context, db: Database, limit: int = 100) -> list[dict]:
    ctx.require("data_manager")
    return runs.list_runs(db, limit)


def rejected_rows(ctx: Context, db: Database, import_id: int) -> list[tuple[int, str]]:
    ctx.require("data_manager")
    return runs.rejected_rows(db, import_id)


def query_observations(ctx: Context, db: Database, query: ObservationQuery) -> QueryResult:
    ctx.require("public")
    db.require_schema()
    with db.engine.connect() as conn:
        return obs_query.query_observations(conn, query, default_threshold=ctx.settings.default_threshold)


def indicator_availability(ctx: Context, db: Database, code: str, level: str | None = None) -> dict:
    """Levels with data for an indicator and, for `level`, its periods."""
    ctx.require("public")
    with db.engine.connect() as conn:
        catalogue.get_indicator(conn, code)
        return {"levels": availability.levels_of(conn, code), "last_update": availability.last_update(conn, code),
                "periods": availability.periods_of(conn, code, level) if level else []}


def data_version(ctx: Context, db: Database) -> int:
    ctx.require("public")
    with db.engine.connect() as conn:
        return availability.data_version(conn)


def search(ctx: Context, db: Database, text: str) -> dict:
    ctx.require("public")
    with db.engine.connect() as conn:
        return availability.search(conn, text)


def area_series(ctx: Context, db: Database, indicators: list[str], areas: list[tuple[str, str]],
                *, with_ancestors: bool = False) -> dict:
    """Time series of indicators for areas (and, optionally, the areas they lie in)."""
    ctx.require("public")
    with db.engine.connect() as conn:
        refs = [factsheet.find_area(conn, level, code) for level, code in areas]
        if with_ancestors:
            seen = {r.id for r in refs}
            for ref in list(refs):
                for parent in factsheet.default_references(conn, ref):
                    if parent.id not in seen:
                        seen.add(parent.id)
                        refs.append(parent)
        rows = query_series(conn, indicators, [r.id for r in refs],
                            default_threshold=ctx.settings.default_threshold)
        return {"areas": refs, "rows": rows}


def area_factsheet(ctx: Context, db: Database, level: str, code: str,
                   references: list[tuple[str, str]] | None = None) -> factsheet.FactSheet:
    ctx.require("public")
    with db.engine.connect() as conn:
        return factsheet.build_factsheet(conn, level, code, references=references,
                                         default_threshold=ctx.settings.default_threshold)


def factsheet_pdf(ctx: Context, db: Database, level: str, code: str,
                  references: list[tuple[str, str]] | None = None, lang: str = "nl") -> bytes:
    """The A4 PDF of an area's fact sheet, with a locator map of its surroundings."""
    ctx.require("public")
    from obmi.reports import pdf
    with db.engine.connect() as conn:
        sheet = factsheet.build_factsheet(conn, level, code, references=references,
                                          default_threshold=ctx.settings.default_threshold)
        names = {lvl.code: (lvl.name_en if lang == "en" else lvl.name_nl) for lvl in area_query.list_levels(conn)}
        return pdf.render_factsheet_pdf(sheet, lang=lang, site_name=ctx.settings.site_name,
                                        map_geojson=pdf.surroundings_geojson(conn, sheet.area), level_names=names)


def export_factsheets(ctx: Context, db: Database, level: str, out_dir: Path, *, lang: str = "nl",
                      within: tuple[str, str] | None = None) -> dict:
    """A PDF fact sheet for every area of a level (files on this machine: data managers only)."""
    ctx.require("data_manager")
    db.require_schema()
    from obmi.reports import pdf
    return pdf.export_factsheets(db, level, out_dir, lang=lang, within=within,
                                 default_threshold=ctx.settings.default_threshold, site_name=ctx.settings.site_name)


def backup_database(ctx: Context, db: Database, path: Path, *, overwrite: bool = False) -> dict:
    ctx.require("admin")
    return store_backup.backup(db, path, overwrite=overwrite)


def restore_database(ctx: Context, db: Database, path: Path) -> dict:
    ctx.require("admin")
    return store_backup.restore(db, path)
