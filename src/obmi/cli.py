"""`obmi` command line: thin commands over obmi.operations. Errors a user can act on are
printed as one clear message with a non-zero exit code, never as a stack trace."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import Conflict, ImportRejected, NotAllowed, NotFound, ObmiError, ValidationError
from obmi.imports.runs import current_user, write_report
from obmi.logs import configure_logging
from obmi.query import ObservationQuery
from obmi.settings import DECLARED, load_settings
from obmi.store import Database, open_database

app = typer.Typer(help="OBMi: neighbourhood statistics, policy follow-up and data warehouse.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
import_app = typer.Typer(help="Import geography, indicator definitions and data (atomic, idempotent).",
                         no_args_is_help=True)
catalogue_app = typer.Typer(help="The indicator catalogue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(catalogue_app, name="catalogue")

EXIT_CODES = {ValidationError: 2, NotFound: 3, NotAllowed: 4, Conflict: 5}


def _setup() -> tuple[Context, Database]:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    # The person at the command line operates this installation: full rights.
    ctx = Context(user=current_user(settings.user), roles=frozenset({"admin"}), settings=settings)
    return ctx, open_database(settings.database_url)


def _echo_result(result) -> None:
    typer.echo(result.summary())


def _run_import(action, report: Optional[Path]):
    """Run an import; on rejection write --report and re-raise for the error handler."""
    try:
        return action()
    except ImportRejected as exc:
        if report:
            write_report(report, exc.rejected)
            typer.echo(f"rejected rows written to {report}", err=True)
        raise


@app.command("settings")
def settings_cmd() -> None:
    """List every OBMI_* setting with its type, default, current value and help."""
    current = load_settings()
    for s in DECLARED:
        value = "***" if s.secret else getattr(current, s.name)
        default = "***" if s.secret else repr(s.default)
        typer.echo(f"{s.env}  ({getattr(s.type, '__name__', 'str').lstrip('_')}, default {default})")
        typer.echo(f"    current: {value!r}")
        typer.echo(f"    {s.help}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to this version of OBMi."""
    ctx, db = _setup()
    before, after = ops.upgrade_database(ctx, db)
    typer.echo(f"database {db.safe_url}: schema {before or 'empty'} → {after}")


@db_app.command("status")
def db_status() -> None:
    """Show the database URL and schema revision."""
    _, db = _setup()
    typer.echo(f"database {db.safe_url}: schema {db.current_revision() or 'empty'} (this OBMi needs {db.head_revision()})")


@app.command("backup")
def backup_cmd(file: Path, overwrite: bool = typer.Option(False, help="Replace an existing file.")) -> None:
    """Write a one-file backup (a SQLite database) of all OBMi tables, on SQLite or PostgreSQL."""
    ctx, db = _setup()
    summary = ops.backup_database(ctx, db, file, overwrite=overwrite)
    typer.echo(f"backup written to {file}: " + ", ".join(f"{k} {v}" for k, v in summary["tables"].items()))


@app.command("restore")
def restore_cmd(file: Path) -> None:
    """Replace all OBMi data with a backup made by `obmi backup` (either back end)."""
    ctx, db = _setup()
    summary = ops.restore_database(ctx, db, file)
    typer.echo(f"restored {file}: " + ", ".join(f"{k} {v}" for k, v in summary["tables"].items()))


DRY_RUN = typer.Option(False, "--dry-run", help="Validate and compute everything, then roll back.")
REPORT = typer.Option(None, "--report", help="Write rejected rows (line, reason) to this CSV file.")


@import_app.command("geo")
def import_geo_cmd(directory: Path, dry_run: bool = DRY_RUN) -> None:
    """Import area definitions, aggregation tables and shapefiles from a folder laid out like
    ../shared/data/geo."""
    ctx, db = _setup()
    _echo_result(ops.import_geography(ctx, db, directory, dry_run=dry_run))


@import_app.command("statbel")
def import_statbel_cmd(files: list[Path], dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import Statbel open-data files (population, income tax, land use), recognised by header."""
    ctx, db = _setup()
    for result in _run_import(lambda: ops.import_statbel(ctx, db, files, dry_run=dry_run), report):
        typer.echo(f"{result.file_name}: " + result.summary())


@import_app.command("observations")
def import_observations_cmd(file: Path, level: Optional[str] = typer.Option(None, help="Level of the area codes when the file has no level column."),
                            dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import the generic long format (CSV, XLSX, Parquet): indicator, area, period, value[, …]."""
    ctx, db = _setup()
    _echo_result(_run_import(lambda: ops.import_observations(ctx, db, file, level=level, dry_run=dry_run), report))


@import_app.command("catalogue")
def import_catalogue_cmd(file: Path, dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import indicator definitions from YAML or CSV."""
    ctx, db = _setup()
    _echo_result(_run_import(lambda: ops.import_catalogue(ctx, db, file, dry_run=dry_run), report))


@app.command("derive")
def derive_cmd() -> None:
    """Recompute all aggregated, re-expressed and formula values (imports do this by themselves)."""
    ctx, db = _setup()
    typer.echo(f"{ops.rederive_all(ctx, db)} derived values written")


@catalogue_app.command("export")
def catalogue_export(format: str = typer.Option("yaml", help="yaml or csv")) -> None:
    """Print the indicator catalogue as YAML or CSV."""
    ctx, db = _setup()
    typer.echo(ops.export_catalogue(ctx, db, format), nl=False)


@catalogue_app.command("list")
def catalogue_list() -> None:
    """List indicator codes, units and names."""
    ctx, db = _setup()
    for ind in ops.list_indicators(ctx, db):
        typer.echo(f"{ind.code:28} {ind.unit:10} {ind.name_nl}")


@app.command("levels")
def levels_cmd() -> None:
    """List the area levels with their number of areas and of areas with geometry."""
    ctx, db = _setup()
    typer.echo("level\tname\tfamily\tcurrent\tvalid\tareas\twith geometry")
    for lvl in ops.list_levels(ctx, db):
        valid = f"{lvl.valid_from or ''}…{lvl.valid_to or ''}"
        typer.echo(f"{lvl.code}\t{lvl.name_nl}\t{lvl.family}\t{'yes' if lvl.is_current else 'no'}\t{valid}"
                   f"\t{lvl.areas}\t{lvl.with_geometry}")


@app.command("imports")
def imports_cmd(limit: int = typer.Option(50, help="How many runs, newest first."),
                show: Optional[int] = typer.Option(None, help="Show the rejected rows of this import.")) -> None:
    """List import runs with their counts (provenance), or the rejected rows of one."""
    ctx, db = _setup()
    if show is not None:
        for line, reason in ops.rejected_rows(ctx, db, show):
            typer.echo(f"line {line}: {reason}")
        return
    typer.echo("id\tstatus\tkind\tfile\trows_in\tok\tskipped\trejected\tinserted\tupdated\tunchanged\tderived\tuser\tstarted")
    for r in ops.list_imports(ctx, db, limit):
        typer.echo("\t".join(str(x) for x in (
            r["id"], r["status"], r["kind"], r["file_name"], r["rows_in"], r["rows_ok"], r["rows_skipped"],
            r["rows_rejected"], r["inserted"], r["updated"], r["unchanged"], r["derived"], r["user"],
            r["started"].isoformat(timespec="seconds") if r["started"] else "")))


@app.command("query")
def query_cmd(indicator: str = typer.Option(...), level: str = typer.Option(...),
              period: Optional[str] = typer.Option(None, help="2015, 2015-Q1, … or latest; all when omitted."),
              area: list[str] = typer.Option([], help="Area code (repeatable)."),
              within: Optional[str] = typer.Option(None, help="LEVEL:CODE, e.g. gemeente:44021 for the wijken of Gent."),
              format: str = typer.Option("csv", help="csv or json")) -> None:
    """Read observations through the query layer (disclosure control applies)."""
    ctx, db = _setup()
    parent = tuple(within.split(":", 1)) if within else None
    if parent is not None and len(parent) != 2:
        raise ValidationError("--within takes LEVEL:CODE")
    result = ops.query_observations(ctx, db, ObservationQuery(indicator, level, period, tuple(area), parent))
    fields = ["area_code", "area_name", "period", "value", "status"]
    if format == "json":
        typer.echo(json.dumps({"indicator": result.indicator.code, "level": level, "count": result.count,
                               "data": [{k: getattr(r, k) for k in fields} for r in result.rows]},
                              ensure_ascii=False, indent=1))
    elif format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(fields)
        for r in result.rows:
            writer.writerow([r.area_code, r.area_name, r.period, "" if r.value is None else _num(r.value), r.status])
    else:
        raise ValidationError(f"unknown format {format!r}: use csv or json")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


report_app = typer.Typer(help="Reports: fact sheets as PDF.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("factsheets")
def report_factsheets(level: str = typer.Option(..., help="Level of the areas, e.g. gemeente or ggw7."),
                      out: Path = typer.Option(..., help="Folder for the PDF files."),
                      lang: str = typer.Option("nl", help="nl or en"),
                      within: Optional[str] = typer.Option(None, help="LEVEL:CODE, e.g. gemeente:44021.")) -> None:
    """Write an A4 PDF fact sheet for every area of a level."""
    ctx, db = _setup()
    if lang not in ("nl", "en"):
        raise ValidationError("--lang takes nl or en")
    parent = tuple(within.split(":", 1)) if within else None
    result = ops.export_factsheets(ctx, db, level, out, lang=lang, within=parent)
    typer.echo(f"{result['written']} of {result['areas']} fact sheets written to {result['out_dir']} "
               f"in {result['seconds']} s ({result['seconds_per_sheet']} s each)")
    for failure in result["failed"]:
        typer.echo(f"  failed: {failure['code']}: {failure['error']}", err=True)


def _run_server(settings, db, port: Optional[int] = None, host: Optional[str] = None) -> None:
    import gc

    import uvicorn
    from obmi.web.app import create_app
    app = create_app(settings, db)
    # Everything loaded so far lives as long as the server: keep the collector from scanning it
    # on every full collection (those pauses were the slowest 5 % of uncached requests).
    gc.collect()
    gc.freeze()
    # A map of 3,000 areas allocates ~15,000 short-lived objects; collecting every 700 allocations
    # (the default) means ~20 young-generation passes per request. Every 20,000 is plenty.
    gc.set_threshold(20_000, 20, 20)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="warning")


@app.command("serve")
def serve_cmd(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Start the web server."""
    ctx, db = _setup()
    db.require_schema()
    _run_server(ctx.settings, db, port, host)


@app.command("demo")
def demo_cmd(database: Path = typer.Option(Path("obmi-demo.db"), help="SQLite file to (re)create."),
             serve: bool = typer.Option(True, help="Start the web server afterwards."),
             port: Optional[int] = None) -> None:
    """Create a fresh demo database from the data bundled with OBMi and start the web server."""
    from obmi.demo import build_demo
    settings = load_settings(database_url=f"sqlite:///{database}")
    configure_logging(settings.log_level, settings.log_format)
    ctx = Context(user="demo", roles=frozenset({"admin"}), settings=settings)
    db = build_demo(ctx, database, echo=typer.echo)
    if serve:
        typer.echo(f"OBMi demo on http://{settings.host}:{port or settings.port}/ (Ctrl+C to stop)")
        _run_server(settings, db, port)


def main() -> None:
    try:
        app()
    except ImportRejected as exc:
        typer.echo(f"error: {exc}", err=True)
        if exc.import_id:
            typer.echo(f"(logged as import {exc.import_id}; `obmi imports --show {exc.import_id}` lists all rejected rows)", err=True)
        sys.exit(2)
    except ObmiError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(next((code for cls, code in EXIT_CODES.items() if isinstance(exc, cls)), 1))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
