"""`obmi` command line: thin commands over obmi.operations, acting as a named user (OBMI_USER or
`--as NAME`). Errors a user can act on are printed as one clear message with a non-zero exit
code, never as a stack trace."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.errors import Conflict, ImportRejected, NotAllowed, NotFound, ObmiError, ValidationError
from obmi.geo.codes import parse_area_key
from obmi.logs import configure_logging
from obmi.operations import AuditFilter, ObservationQuery
from obmi.settings import declared, env_name, is_secret, load_settings
from obmi.store import open_database

app = typer.Typer(help="OBMi: neighbourhood statistics, policy follow-up and data warehouse.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
import_app = typer.Typer(help="Import geography, indicator definitions and data (atomic, idempotent).",
                         no_args_is_help=True)
catalogue_app = typer.Typer(help="The indicator catalogue.", no_args_is_help=True)
report_app = typer.Typer(help="Reports: fact sheets, area reports (YAML), the opvolgingsrapportering and college "
                         "reports.", no_args_is_help=True)
user_app = typer.Typer(help="Users, their roles, groups and passwords.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for machines (Power BI, Excel, scripts).", no_args_is_help=True)
org_app = typer.Typer(help="Organisations hosted by this installation.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of every change.", no_args_is_help=True)
plan_app = typer.Typer(help="Beleidsopvolging: plans, reporting periods, reminders.", no_args_is_help=True)
finance_app = typer.Typer(help="Finance of a plan: figures, reconciliation, balance checks.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (import_app, "import"), (catalogue_app, "catalogue"), (report_app, "report"),
                  (user_app, "user"), (token_app, "token"), (org_app, "org"), (audit_app, "audit"),
                  (plan_app, "plan"), (finance_app, "finance")):
    app.add_typer(sub, name=name)

EXIT_CODES = {ValidationError: 2, NotFound: 3, NotAllowed: 4, Conflict: 5}
_ACTING_AS: dict[str, str] = {}


@app.callback()
def _global(acting_as: Optional[str] = typer.Option(
        None, "--as", metavar="NAME", help="Act as this OBMi user (default: OBMI_USER).")) -> None:
    if acting_as:
        _ACTING_AS["name"] = acting_as


def _context() -> Context:
    """The context of this command: settings, database and the acting user."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = open_database(settings.database_url)
    system = system_context(db, settings)
    actor = ops.identify_cli_user(system, _ACTING_AS.get("name") or settings.user)
    return system.acting_as(actor)


def _run_import(action: Callable[[], Any], report: Optional[Path]) -> Any:
    """Run an import; on rejection write --report and re-raise for the error handler."""
    try:
        return action()
    except ImportRejected as exc:
        if report:
            write_report(report, exc.rejected)
            typer.echo(f"rejected rows written to {report}", err=True)
        raise


def write_report(path: Path, rejected: list[tuple[int, str]]) -> None:
    """`--report FILE`: the rejected rows as CSV (line, reason)."""
    from obmi.operations.imports import report_csv
    Path(path).write_text(report_csv(rejected), encoding="utf-8")


def _area_option(text: Optional[str], option: str) -> tuple[str, str] | None:
    return parse_area_key(text, option) if text else None


@app.command("settings")
def settings_cmd() -> None:
    """List every OBMI_* setting with its type, default, current value and help."""
    current = load_settings()
    for name, info in declared().items():
        secret = is_secret(name)
        value = "***" if secret else getattr(current, name)
        default = "***" if secret else repr(info.default)
        kind = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        typer.echo(f"{env_name(name)}  ({kind}, default {default})")
        typer.echo(f"    current: {value!r}")
        typer.echo(f"    {info.description}")
    _echo_thresholds(current.default_threshold)


def _echo_thresholds(default: int) -> None:
    """The privacy thresholds in effect, in words (the list above gives only the raw values)."""
    typer.echo("")
    typer.echo("Privacy thresholds in effect:")
    typer.echo(f"    counts below {default} are suppressed (OBMI_DEFAULT_THRESHOLD), for every indicator "
               "without a threshold of its own (the catalogue's `threshold`, which wins)")
    if default < 1:  # only ever with OBMI_ALLOW_LOW_THRESHOLD (load_settings refuses it otherwise)
        typer.echo(f"    WARNING: {default} is below 1 and protects no count: allowed by OBMI_ALLOW_LOW_THRESHOLD")
    typer.echo("    after changing it, run `obmi derive`: the stored decisions were made with the old one, "
               "and nothing is published until they are made again")


@app.command("operations")
def operations_cmd() -> None:
    """List every operation with the permission it needs (one per line: name, permission, kind)."""
    for op in ops.list_operations():
        typer.echo(f"{op.name}\t{op.permission}\t{op.kind}\t{op.summary}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to this version of OBMi."""
    ctx = _context()
    before, after = ops.upgrade_database(ctx)
    typer.echo(f"database {ctx.db.safe_url}: schema {before or 'empty'} → {after}")


@db_app.command("status")
def db_status() -> None:
    """Show the database URL and schema revision."""
    status = ops.database_status(_context())
    typer.echo(f"database {status.url}: schema {status.revision or 'empty'} (this OBMi needs {status.head})")


@app.command("backup")
def backup_cmd(file: Path, overwrite: bool = typer.Option(False, help="Replace an existing file.")) -> None:
    """Write a one-file backup (a SQLite database) of all OBMi tables, on SQLite or PostgreSQL."""
    summary = ops.backup_database(_context(), file, overwrite=overwrite)
    typer.echo(f"backup written to {file}: " + ", ".join(f"{k} {v}" for k, v in summary["tables"].items()))


@app.command("restore")
def restore_cmd(file: Path) -> None:
    """Replace all OBMi data with a backup made by `obmi backup` (either back end)."""
    summary = ops.restore_database(_context(), file)
    typer.echo(f"restored {file}: " + ", ".join(f"{k} {v}" for k, v in summary["tables"].items()))


DRY_RUN = typer.Option(False, "--dry-run", help="Validate and compute everything, then roll back.")
REPORT = typer.Option(None, "--report", help="Write rejected rows (line, reason) to this CSV file.")


@import_app.command("geo")
def import_geo_cmd(directory: Path, dry_run: bool = DRY_RUN) -> None:
    """Import area definitions, aggregation tables and shapefiles from a folder laid out like
    ../shared/data/geo."""
    typer.echo(ops.import_geography(_context(), directory, dry_run=dry_run).summary())


@import_app.command("statbel")
def import_statbel_cmd(files: list[Path], dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT,
                       allow_mixed_years: bool = typer.Option(
                           False, "--allow-mixed-years", help="Accept rows of other years than the file's own "
                           "(its name's year) in a population or land-use file; refused otherwise.")) -> None:
    """Import Statbel open-data files (population, income tax, land use), recognised by header.
    Each file is its own import (and transaction): one bad year does not block the others."""
    ctx = _context()
    for file in files:
        result = _run_import(partial(ops.import_statbel, ctx, file, allow_mixed_years=allow_mixed_years,
                                     dry_run=dry_run), report)
        typer.echo(f"{result.file_name}: " + result.summary())


@import_app.command("observations")
def import_observations_cmd(file: Path, level: Optional[str] = typer.Option(
        None, help="Level of the area codes when the file has no level column."),
        dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import the generic long format (CSV, XLSX, Parquet): indicator, area, period, value[, …]."""
    ctx = _context()
    typer.echo(_run_import(lambda: ops.import_observations(ctx, file, level=level, dry_run=dry_run), report).summary())


@import_app.command("swing")
def import_swing_cmd(files: list[Path],
                     clear: str = typer.Option("combinations", help="Earlier values replaced: combinations (the "
                                               "indicator, period and level combinations in the file), all (every "
                                               "value of its indicators) or none."),
                     adjust_periods: bool = typer.Option(True, help="Swing's 'adjust start/end period' (OBMi takes "
                                                         "the periods from the data: reported only)."),
                     sum_duplicates: bool = typer.Option(False, help="Sum duplicate records instead of refusing them."),
                     drop_special_values: bool = typer.Option(False, help="Skip records with -99996…-99999."),
                     skip_unknown_areas: bool = typer.Option(False, help="Skip records of unknown areas instead of "
                                                             "refusing them (hides other mistakes: discouraged)."),
                     dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import Swing upload files (CSV, XLS, XLSX; every sheet): period, geolevel, geoitem and one
    column per indicator code; -99996 empty, -99997 hidden, -99998 n.v.t., -99999 unknown. Each
    file is its own import (and transaction)."""
    ctx = _context()
    for file in files:
        result = _run_import(partial(ops.import_swing, ctx, file, clear=clear, adjust_periods=adjust_periods,
                                     sum_duplicates=sum_duplicates, drop_special_values=drop_special_values,
                                     skip_unknown_areas=skip_unknown_areas, dry_run=dry_run), report)
        typer.echo(f"{result.file_name}: " + result.summary())


@import_app.command("catalogue")
def import_catalogue_cmd(file: Path, dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import indicator definitions: YAML or CSV in OBMi's layout, or a Swing indicator table
    (onderwerpentabel, XLSX or CSV) with a report of how each field was mapped."""
    ctx = _context()
    typer.echo(_run_import(lambda: ops.import_catalogue(ctx, file, dry_run=dry_run), report).summary())


@import_app.command("plan")
def import_plan_cmd(files: list[Path], org: Optional[str] = typer.Option(None, "--org", help="Organisation code."),
                    plan: Optional[str] = typer.Option(None, help="Plan code (default: the organisation's latest)."),
                    label: str = typer.Option("", help="Name of the new version, e.g. 'Aanpassing 2027'."),
                    motivering: str = typer.Option("", help="Why the plan changed (kept with the version)."),
                    dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import a plan: the shared BBC JSON, the documented CSV/XLSX layout or a budget-registration
    export (recognised by content). An amended plan becomes a new version; --dry-run prints the
    difference with the latest version and changes nothing."""
    ctx = _context()
    result = _run_import(lambda: ops.import_plan(ctx, files, organisation=org, plan=plan, label=label,
                                                 motivering=motivering, dry_run=dry_run), report)
    typer.echo(result.summary())
    for line in result.diff.lines():
        typer.echo(f"  {line}")


@import_app.command("finance")
def import_finance_cmd(files: list[Path], org: Optional[str] = typer.Option(None, "--org", help="Organisation code."),
                       plan: Optional[str] = typer.Option(None, help="Plan code (default: the organisation's latest)."),
                       layout: Optional[str] = typer.Option(None, help="Finance-package layout (obmi, cipal, cevi; "
                                                                        "default: recognised by the columns)."),
                       keep_unplanned: bool = typer.Option(False, "--keep-unplanned",
                                                           help="Keep lines of acties not in the plan (they show in "
                                                                "the reconciliation) instead of refusing the file."),
                       dry_run: bool = DRY_RUN, report: Optional[Path] = REPORT) -> None:
    """Import ramingen and realisaties from finance-package exports (CSV/XLSX). A file replaces the
    plan's lines of the kinds and years it holds; the same file again changes nothing."""
    ctx = _context()
    typer.echo(_run_import(lambda: ops.import_finance(ctx, files, organisation=org, plan=plan, layout=layout,
                                                      keep_unplanned=keep_unplanned, dry_run=dry_run),
                           report).summary())


@plan_app.command("summary")
def plan_summary_cmd(org: Optional[str] = typer.Option(None, "--org", help="Organisation code."),
                     plan: Optional[str] = typer.Option(None, help="Plan code (default: the latest)."),
                     version: Optional[int] = typer.Option(None, help="Version number (default: the latest)."),
                     format: str = typer.Option("csv", help="csv or json")) -> None:
    """One row per beleidsdoelstelling × year: code,title,year,amount (planned expenditure)."""
    if format not in ("csv", "json"):
        raise ValidationError("--format is csv or json")
    rows = ops.plan_summary(_context(), organisation=org, plan=plan, version=version)
    if format == "json":
        typer.echo(json.dumps([{"code": r.code, "title": r.title, "year": r.year, "amount": r.amount} for r in rows],
                              ensure_ascii=False, indent=1))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("code", "title", "year", "amount"))
    writer.writerows((r.code, r.title, r.year, f"{r.amount:.2f}") for r in rows)


@plan_app.command("periods")
def plan_periods_cmd(first: int = typer.Option(..., help="First year."), last: int = typer.Option(..., help="Last year."),
                     scheme: Optional[str] = typer.Option(None, help="semester, quarter, year or month "
                                                                       "(default: the organisation's)."),
                     deadline_days: int = typer.Option(15, help="Days after a period's end to report."),
                     org: Optional[str] = typer.Option(None, "--org", help="Organisation code.")) -> None:
    """Create the reporting periods of some years."""
    rows = ops.add_reporting_periods(_context(), range(first, last + 1), scheme=scheme, deadline_days=deadline_days,
                                     organisation=org)
    for row in rows:
        typer.echo(f"{row['code']}\t{row['start_date']} – {row['end_date']}\tdeadline {row['deadline']}")


@plan_app.command("remind")
def plan_remind_cmd(org: Optional[str] = typer.Option(None, "--org", help="Organisation code."),
                    today: Optional[str] = typer.Option(None, help="As if it were this day (YYYY-MM-DD).")) -> None:
    """Mail each owner a digest of their due and overdue status updates (idempotent: run it daily)."""
    day = date.fromisoformat(today) if today else None
    run = ops.send_reminders(_context(), organisation=org, today=day)
    for sent in run.sent:
        typer.echo(f"{sent['user']}: {sent['kind']} — {', '.join(sent['items'])}")
    typer.echo(f"{len(run.sent)} digests sent, {run.skipped} skipped (sent already or no e-mail address)")


@plan_app.command("signals")
def plan_signals_cmd(org: Optional[str] = typer.Option(None, "--org", help="Organisation code."),
                     plan: Optional[str] = typer.Option(None, help="Plan code (default: the latest)."),
                     evaluate: bool = typer.Option(False, "--evaluate", help="Evaluate the rules first (run it daily)."),
                     state: Optional[str] = typer.Option(None, help="Only open, acknowledged or resolved signals."),
                     today: Optional[str] = typer.Option(None, help="As if it were this day (YYYY-MM-DD).")) -> None:
    """Print the early-warning signals of a plan (with --evaluate: evaluate the rules first)."""
    ctx = _context()
    plan_id = _plan_id(ctx, org, plan)
    if evaluate:
        typer.echo(ops.evaluate_signals(ctx, plan_id, today=date.fromisoformat(today) if today else None).summary())
    for row in ops.list_signals(ctx, plan_id, state=state):
        typer.echo(f"{row['id']}\t{row['state']}\t{row['severity']}\t{row['rule']}\t{row['item_code'] or '—'}\t"
                   f"{row['owner'] or '—'}\t{row['message_nl']}")


def _plan_id(ctx: Context, org: Optional[str], plan: Optional[str]) -> int:
    plans = ops.list_plans(ctx, organisation=org)
    found = [p for p in plans if plan is None or p.code == plan]
    if not found:
        raise NotFound(f"no plan {plan}" if plan else "no plan: import one first (obmi import plan)")
    return found[-1].id


FIN_ORG = typer.Option(None, "--org", help="Organisation code.")
FIN_PLAN = typer.Option(None, help="Plan code (default: the latest).")
FIN_VERSION = typer.Option(None, help="Plan version (default: the latest).")


@finance_app.command("overview")
def finance_overview_cmd(org: Optional[str] = FIN_ORG, plan: Optional[str] = FIN_PLAN,
                         version: Optional[int] = FIN_VERSION,
                         year: Optional[int] = typer.Option(None, help="Year (default: this year within the plan)."),
                         level: str = typer.Option("beleidsdoelstelling", help="Items of this kind, or domain, "
                                                                               "economic")) -> None:
    """Planned vs. realised per item (or beleidsdomein, economic category) for one year, as CSV:
    planned and realised uitgaven and ontvangsten, bestedingsgraad, forecasts."""
    ctx = _context()
    view = ops.finance_overview(ctx, _plan_id(ctx, org, plan), version=version, year=year)
    from obmi.finance.export import overview_rows
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerows(overview_rows(view.figures, view.year, level))


@finance_app.command("reconcile")
def finance_reconcile_cmd(org: Optional[str] = FIN_ORG, plan: Optional[str] = FIN_PLAN,
                          version: Optional[int] = FIN_VERSION) -> None:
    """Every difference between the imported ramingen and the plan's amounts, with its reason."""
    ctx = _context()
    report = ops.finance_reconciliation(ctx, _plan_id(ctx, org, plan), version=version)
    from obmi.finance.export import reconciliation_rows
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerows(reconciliation_rows(report.reconciliation))


@finance_app.command("balance")
def finance_balance_cmd(org: Optional[str] = FIN_ORG, plan: Optional[str] = FIN_PLAN,
                        version: Optional[int] = FIN_VERSION) -> None:
    """The BBC 2020 balance checks per plan year: budgettair resultaat, beschikbaar budgettair
    resultaat (≥ 0 every year), AFM (≥ 0 in the last year) and the gecorrigeerde AFM."""
    ctx = _context()
    report = ops.balance_checks(ctx, _plan_id(ctx, org, plan), version=version)
    from obmi.finance.export import balance_rows
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerows(balance_rows(report.balance))
    typer.echo(f"# toestandsevenwicht (beschikbaar budgettair resultaat >= 0): "
               f"{'ok' if report.balance.available_ok else 'NIET ok: ' + ', '.join(map(str, report.balance.failing_years()))}"
               f"; structureel evenwicht (AFM laatste jaar >= 0): {'ok' if report.balance.afm_ok else 'NIET ok'}",
               err=True)


@app.command("derive")
def derive_cmd() -> None:
    """Recompute all aggregated, re-expressed and formula values and every disclosure decision
    (imports do this by themselves; needed after OBMI_DEFAULT_THRESHOLD changed)."""
    typer.echo(f"{ops.rederive_all(_context())} derived values written")


@catalogue_app.command("export")
def catalogue_export(format: str = typer.Option("yaml", help="yaml or csv")) -> None:
    """Print the indicator catalogue as YAML or CSV."""
    typer.echo(ops.export_catalogue(_context(), format), nl=False)


@catalogue_app.command("list")
def catalogue_list() -> None:
    """List indicator codes, units and names."""
    for ind in ops.list_indicators(_context()):
        typer.echo(f"{ind.code:28} {ind.unit:10} {ind.name_nl}")


@app.command("levels")
def levels_cmd() -> None:
    """List the area levels with their number of areas and of areas with geometry."""
    typer.echo("level\tname\tfamily\tcurrent\tvalid\tareas\twith geometry")
    for lvl in ops.list_levels(_context()):
        valid = f"{lvl.valid_from or ''}…{lvl.valid_to or ''}"
        typer.echo(f"{lvl.code}\t{lvl.name_nl}\t{lvl.family}\t{'yes' if lvl.is_current else 'no'}\t{valid}"
                   f"\t{lvl.areas}\t{lvl.with_geometry}")


@app.command("imports")
def imports_cmd(limit: int = typer.Option(50, help="How many runs, newest first."),
                show: Optional[int] = typer.Option(None, help="Show the rejected rows of this import."),
                cleanup: bool = typer.Option(False, "--cleanup", help="Mark the runs whose process is gone "
                                             "(killed, crashed) as interrupted, then list.")) -> None:
    """List import runs with their counts (provenance), or the rejected rows of one."""
    ctx = _context()
    if cleanup:
        marked = ops.cleanup_imports(ctx)
        typer.echo(f"{len(marked)} run(s) marked interrupted" + (f": {', '.join(map(str, marked))}" if marked else ""))
    if show is not None:
        details = ops.import_details(ctx, show)
        typer.echo(f"import {show} ({details.run['status']}): {details.run['kind']} {details.run['file_name']}")
        for line, reason in details.rejected:
            typer.echo(f"line {line}: {reason}")
        return
    typer.echo("id\tstatus\tkind\tfile\trows_in\tok\tskipped\trejected\tinserted\tupdated\tunchanged\tderived\tuser\tstarted")
    runs = ops.list_imports(ctx, limit=limit).data
    for r in runs:
        typer.echo("\t".join(str(x) for x in (
            r["id"], r["status"], r["kind"], r["file_name"], r["rows_in"], r["rows_ok"], r["rows_skipped"],
            r["rows_rejected"], r["inserted"], r["updated"], r["unchanged"], r["derived"], r["user"],
            r["started"].isoformat(timespec="seconds") if r["started"] else "")))
    gone = [r["id"] for r in runs if r["process_gone"]]
    if gone:
        typer.echo(f"runs {', '.join(map(str, gone))} are still marked running, but their process is gone: "
                   "`obmi imports --cleanup` marks them interrupted", err=True)


@app.command("query")
def query_cmd(indicator: str = typer.Option(...), level: str = typer.Option(...),
              period: Optional[str] = typer.Option(None, help="2015, 2015-Q1, … or latest; all when omitted."),
              area: list[str] = typer.Option([], help="Area code (repeatable)."),
              within: Optional[str] = typer.Option(None, help="LEVEL:CODE, e.g. gemeente:44021 for the wijken of Gent."),
              format: str = typer.Option("csv", help="csv or json")) -> None:
    """Read observations through the query layer (access rules and disclosure control apply)."""
    if format not in ("csv", "json"):
        raise ValidationError(f"unknown format {format!r}: use csv or json")
    query = ObservationQuery(indicator, level, period, tuple(area), _area_option(within, "--within"))
    result = ops.query_observations(_context(), query)
    fields = ["area_code", "area_name", "period", "value", "status"]
    if format == "json":
        typer.echo(json.dumps({"indicator": result.indicator.code, "level": level, "count": result.count,
                               "data": [{k: getattr(r, k) for k in fields} for r in result.rows]},
                              ensure_ascii=False, indent=1))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(fields)
    for r in result.rows:
        writer.writerow([r.area_code, r.area_name, r.period, "" if r.value is None else _num(r.value), r.status])


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@report_app.command("factsheets")
def report_factsheets(level: str = typer.Option(..., help="Level of the areas, e.g. gemeente or ggw7."),
                      out: Path = typer.Option(..., help="Folder for the PDF files."),
                      lang: str = typer.Option("nl", help="nl or en"),
                      within: Optional[str] = typer.Option(None, help="LEVEL:CODE, e.g. gemeente:44021.")) -> None:
    """Write an A4 PDF fact sheet for every area of a level (what the acting user may see)."""
    if lang not in ("nl", "en"):
        raise ValidationError("--lang takes nl or en")
    result = ops.export_factsheets(_context(), level, out, lang=lang, within=_area_option(within, "--within"))
    typer.echo(f"{result['written']} of {result['areas']} fact sheets written to {result['out_dir']} "
               f"in {result['seconds']} s ({result['seconds_per_sheet']} s each)")
    for failure in result["failed"]:
        typer.echo(f"  failed: {failure['code']}: {failure['error']}", err=True)


@report_app.command("check")
def report_check(file: Path = typer.Argument(..., help="An area report file (YAML), e.g. reports/wijkrapport.yaml.")) -> None:
    """Check an area report file: YAML syntax, keys, indicators, levels, areas and placeholders,
    each problem with its line. Exits 2 when the file has a problem."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no file {file}") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ValidationError(f"{file} is not a text file (UTF-8): {exc}") from None
    problems = ops.check_area_report(_context(), text, name=file.name)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{file.name}: {len(problems)} problem{'s' if len(problems) > 1 else ''}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{file.name}: no problems")


@report_app.command("export")
def report_export(report: str = typer.Option(..., "--report", help="The report (its file name without .yaml)."),
                  level: str = typer.Option(..., help="Level of the areas, e.g. gemeente."),
                  out: Path = typer.Option(..., help="Folder for the PDF files and manifest.json."),
                  lang: str = typer.Option("nl", help="nl or en"),
                  within: Optional[str] = typer.Option(None, help="Only the areas in LEVEL:CODE, e.g. provincie:10000."),
                  archive: bool = typer.Option(False, "--zip", help="One ZIP file in the folder instead."),
                  html: bool = typer.Option(False, "--html", help="A self-contained HTML file beside each PDF.")) -> None:
    """Write an area report as a PDF for every area of a level, with a manifest (what the acting user may see)."""
    if lang not in ("nl", "en"):
        raise ValidationError("--lang takes nl or en")
    result = ops.export_area_reports(_context(), report, level, out, lang=lang, within=_area_option(within, "--within"),
                                     archive=archive, html=html)
    typer.echo(f"{result['written']} of {result['areas']} reports written to {result['out']} "
               f"in {result['seconds']} s ({result['seconds_per_report']} s each)")
    for failure in result["failed"]:
        typer.echo(f"  failed: {failure['code']}: {failure['error']}", err=True)
    if result["failed"]:
        raise typer.Exit(1)


REPORT_ORG = typer.Option(None, "--org", help="Organisation code (default: your own).")
REPORT_PLAN = typer.Option(None, help="Plan code (default: the organisation's latest plan).")
REPORT_OUT = typer.Option(..., help="The file to write: .pdf or .xlsx.")


def _report_format(out: Path) -> str:
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "xlsx"):
        raise ValidationError("--out must end in .pdf or .xlsx", {"out": ["pdf or xlsx"]})
    return fmt


def _opvolging_year(year: Optional[int], period: Optional[str]) -> int:
    """--year 2026, or --period 2026 / 2026-S1 (the report covers the first semester)."""
    if year is not None:
        return year
    if period and len(period) >= 4 and period[:4].isdigit() and period[4:] in ("", "-S1", "S1"):
        return int(period[:4])
    raise ValidationError("which year? --year YYYY (or --period YYYY-S1)", {"year": ["required"]})


@report_app.command("opvolging")
def report_opvolging(org: Optional[str] = REPORT_ORG, plan: Optional[str] = REPORT_PLAN,
                     year: Optional[int] = typer.Option(None, help="The year of the first semester reported on."),
                     period: Optional[str] = typer.Option(None, help="Instead of --year: YYYY-S1."),
                     out: Path = REPORT_OUT, lang: str = typer.Option("nl", help="nl or en"),
                     version: Optional[int] = typer.Option(None, help="Plan version (default: the latest)."),
                     drafts: bool = typer.Option(False, help="Include texts not yet approved (marked ontwerp).")) -> None:
    """Write the opvolgingsrapportering (the follow-up report of the first semester) as PDF or XLSX."""
    data = ops.opvolging_report(_context(), _opvolging_year(year, period), organisation=org, plan=plan,
                                fmt=_report_format(out), lang=lang, version=version, include_drafts=drafts)
    out.write_bytes(data)
    typer.echo(f"{out} written ({len(data):,} bytes)")


@report_app.command("college")
def report_college(org: Optional[str] = REPORT_ORG, plan: Optional[str] = REPORT_PLAN,
                   period: str = typer.Option(..., help="Reporting period code, e.g. 2026-Q2."),
                   out: Path = REPORT_OUT, lang: str = typer.Option("nl", help="nl or en"),
                   version: Optional[int] = typer.Option(None, help="Plan version (default: the latest)."),
                   drafts: bool = typer.Option(False, help="Include texts not yet approved (marked ontwerp).")) -> None:
    """Write the college report of one reporting period as PDF or XLSX."""
    data = ops.college_report(_context(), period, organisation=org, plan=plan, fmt=_report_format(out), lang=lang,
                              version=version, include_drafts=drafts)
    out.write_bytes(data)
    typer.echo(f"{out} written ({len(data):,} bytes)")


REPORT_KIND = typer.Option("opvolging", "--report", help="opvolging or college.")
REPORT_PERIOD = typer.Option(..., help="The year (opvolging) or the reporting period code (college).")


@report_app.command("sections")
def report_sections(org: Optional[str] = REPORT_ORG, plan: Optional[str] = REPORT_PLAN, report: str = REPORT_KIND,
                    period: str = REPORT_PERIOD) -> None:
    """List the text sections of a report with their state (id, code, state, version, title)."""
    ctx = _context()
    for row in ops.list_report_sections(ctx, _plan_id(ctx, org, plan), report, period):
        typer.echo(f"{row['id'] or '—'}\t{row['code']}\t{row['state'] or 'leeg'}\t{row['row_version']}\t"
                   f"{row['title_nl']}")


@report_app.command("write")
def report_write(code: str = typer.Argument(..., help="Section code, e.g. financiele_risicos."),
                 text: Path = typer.Option(..., help="A UTF-8 text file with the section's text (- for stdin)."),
                 org: Optional[str] = REPORT_ORG, plan: Optional[str] = REPORT_PLAN, report: str = REPORT_KIND,
                 period: str = REPORT_PERIOD,
                 title: Optional[str] = typer.Option(None, help="A new section of your own: its Dutch title."),
                 submit: bool = typer.Option(False, help="Submit the section for approval after saving.")) -> None:
    """Save the text of a report section as a draft (a new own section with --title), optionally submit it."""
    ctx = _context()
    plan_id = _plan_id(ctx, org, plan)
    body = sys.stdin.read() if str(text) == "-" else text.read_text(encoding="utf-8")
    rows = {r["code"]: r for r in ops.list_report_sections(ctx, plan_id, report, period)}
    if code not in rows and title:
        row = ops.add_report_section(ctx, plan_id, report, period, title, code=code, body=body)
    elif code not in rows:
        raise NotFound(f"the {report} report {period} has no section {code!r}: add it with --title")
    else:
        row = ops.save_report_section(ctx, plan_id, report, period, code, body,
                                      expected_version=rows[code]["row_version"])
    if submit:
        row = ops.submit_report_section(ctx, row["id"])
    typer.echo(f"section {row['code']} ({row['id']}): {row['state']}")


@report_app.command("decide")
def report_decide(section: int = typer.Argument(..., help="Section id (obmi report sections)."),
                  decision: str = typer.Argument(..., help="approve, return or reopen."),
                  comment: str = typer.Option("", help="Why (required when returning).")) -> None:
    """Approve, return or reopen a submitted report section."""
    row = ops.decide_report_section(_context(), section, decision=decision, comment=comment)
    typer.echo(f"section {row['code']} ({row['id']}): {row['state']}")


# --- users, tokens, organisations, audit ------------------------------------------------------

def _password_from_stdin() -> str:
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise ValidationError("--password-stdin: no password on standard input")
    return text


@user_app.command("add")
def user_add(name: str, role: list[str] = typer.Option(..., "--role", help="Role (repeatable): admin, org_admin, "
                                                                            "coordinator, editor, analyst, reader."),
             org: Optional[str] = typer.Option(None, "--org", help="Organisation code (default: your own)."),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
             email: str = typer.Option("", help="E-mail address (for reset links)."),
             display_name: str = typer.Option("", "--display-name", help="Full name."),
             group: list[str] = typer.Option([], "--group", help="Named group (repeatable).")) -> None:
    """Add a user with one or more roles."""
    password = _password_from_stdin() if password_stdin else None
    user = ops.add_user(_context(), name, roles=role, organisation=org, password=password, email=email,
                        display_name=display_name, groups=group)
    typer.echo(f"user {user['name']} added ({', '.join(user['roles'])}"
               f"{', ' + user['organisation'] if user['organisation'] else ''})"
               + ("" if password else "; no password yet: `obmi user password` or `obmi user reset-link`"))


@user_app.command("list")
def user_list() -> None:
    """List users with their organisation, roles and groups."""
    typer.echo("name\torganisation\troles\tgroups\tactive\tsign-in")
    for u in ops.list_users(_context()):
        how = "single sign-on" if u["single_sign_on"] else "password" if u["has_password"] else "none yet"
        typer.echo(f"{u['name']}\t{u['organisation'] or ''}\t{','.join(u['roles'])}\t{','.join(u['groups'])}\t"
                   f"{'yes' if u['is_active'] else 'no'}\t{how}")


@user_app.command("update")
def user_update(name: str, role: Optional[list[str]] = typer.Option(None, "--role", help="Replace the roles."),
                group: Optional[list[str]] = typer.Option(None, "--group", help="Replace the groups."),
                email: Optional[str] = typer.Option(None, help="E-mail address."),
                disable: bool = typer.Option(False, "--disable", help="Disable (ends the user's sessions)."),
                enable: bool = typer.Option(False, "--enable", help="Enable again.")) -> None:
    """Change a user's roles, groups or e-mail address, or disable or enable the user."""
    if disable and enable:
        raise ValidationError("--disable and --enable exclude each other")
    user = ops.update_user(_context(), name, roles=role or None, groups=group, email=email,
                           active=False if disable else True if enable else None)
    typer.echo(f"user {user['name']}: {', '.join(user['roles'])}; groups {', '.join(user['groups']) or '—'}; "
               f"{'active' if user['is_active'] else 'disabled'}")


@user_app.command("password")
def user_password(name: str, password_stdin: bool = typer.Option(True, "--password-stdin",
                                                                 help="Read the password from stdin.")) -> None:
    """Set a user's password (read from standard input); ends the user's sessions."""
    ops.set_password(_context(), name, _password_from_stdin())
    typer.echo(f"password of {name} set")


@user_app.command("reset-link")
def user_reset_link(name: str) -> None:
    """Mail a user a one-time link to choose a new password."""
    link = ops.send_password_reset(_context(), name)
    typer.echo(f"reset link for {link.user} sent to {link.sent_to} ({link.delivered}), valid until {link.expires_at}")


@token_app.command("create")
def token_create(user: str = typer.Option(..., "--user", help="The user the token acts as."),
                 scope: str = typer.Option(..., "--scope", help="read or write"),
                 name: str = typer.Option("", help="What the token is for (e.g. 'Power BI dashboard').")) -> None:
    """Create an API token; it is printed once (only its hash is stored)."""
    created = ops.create_token(_context(), user, scope=scope, name=name)
    typer.echo(created.token)
    typer.echo(f"token {created.id} ({created.prefix}…) for {created.user}, scope {created.scope}: store it now, "
               "it is not shown again", err=True)


@token_app.command("list")
def token_list() -> None:
    """List API tokens (never their secrets)."""
    typer.echo("id\tprefix\tuser\tscope\tname\tcreated\tlast used\trevoked")
    for t in ops.list_tokens(_context()):
        typer.echo(f"{t.id}\t{t.prefix}…\t{t.user}\t{t.scope}\t{t.name}\t{t.created_at:%Y-%m-%d}\t"
                   f"{t.last_used_at or ''}\t{t.revoked_at or ''}")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token: it stops working at once."""
    token = ops.revoke_token(_context(), token_id)
    typer.echo(f"token {token.id} of {token.user} revoked")


@org_app.command("add")
def org_add(code: str, name: str, kind: str = typer.Option("gemeente", help="gemeente, ocmw, agb, provincie, other"),
            host: Optional[bool] = typer.Option(None, "--host/--not-host",
                                                help="Maintains the shared data (default: the first one does).")) -> None:
    """Add an organisation."""
    org = ops.add_organisation(_context(), code, name, kind=kind, host=host)
    typer.echo(f"organisation {org.code} ({org.name}) added{' — host' if org.is_host else ''}")


@org_app.command("list")
def org_list() -> None:
    """List organisations."""
    for org in ops.list_organisations(_context()):
        typer.echo(f"{org.code}\t{org.name}\t{org.kind}\t{'host' if org.is_host else ''}")


def _audit_filter(resource: Optional[str], user: Optional[str], since: Optional[str], until: Optional[str]) -> AuditFilter:
    kind, _, key = (resource or "").partition(":")
    try:
        return AuditFilter(resource_type=kind or None, resource_id=key or None, actor=user,
                           since=date.fromisoformat(since) if since else None,
                           until=date.fromisoformat(until) if until else None)
    except ValueError as exc:
        raise ValidationError(f"--since/--until take a date like 2026-12-01 ({exc})") from None


AUDIT_RESOURCE = typer.Option(None, "--resource", help="TYPE[:ID], e.g. indicator:pop_total or user:jan.")
AUDIT_USER = typer.Option(None, "--user", help="Only what this user did.")
AUDIT_SINCE = typer.Option(None, "--since", help="From this date (YYYY-MM-DD).")
AUDIT_UNTIL = typer.Option(None, "--until", help="Up to and including this date.")


@audit_app.command("list")
def audit_list(resource: Optional[str] = AUDIT_RESOURCE, user: Optional[str] = AUDIT_USER,
               since: Optional[str] = AUDIT_SINCE, until: Optional[str] = AUDIT_UNTIL,
               limit: int = typer.Option(50, help="How many, newest first.")) -> None:
    """List audit events."""
    page = ops.list_audit(_context(), _audit_filter(resource, user, since, until), limit=limit)
    for e in page.data:
        typer.echo(f"{e['at']:%Y-%m-%d %H:%M:%S}\t{e['actor'] or 'anonymous'}\t{e['operation']}\t"
                   f"{e['resource_type']}:{e['resource_id']}\t{e['outcome']}\t{e['message'][:120]}")
    typer.echo(f"{len(page.data)} of {page.count} events", err=True)


@audit_app.command("export")
def audit_export(resource: Optional[str] = AUDIT_RESOURCE, user: Optional[str] = AUDIT_USER,
                 since: Optional[str] = AUDIT_SINCE, until: Optional[str] = AUDIT_UNTIL) -> None:
    """Print audit events as CSV."""
    typer.echo(ops.export_audit_csv(_context(), _audit_filter(resource, user, since, until)), nl=False)


# --- serving ---------------------------------------------------------------------------------

def _run_server(ctx: Context, port: Optional[int] = None, host: Optional[str] = None) -> None:
    import gc

    import uvicorn

    from obmi.web.app import create_app
    web = create_app(ctx.settings, ctx.db, warm_up=True)
    # Everything loaded so far lives as long as the server: keep the collector from scanning it
    # on every full collection (those pauses were the slowest 5 % of uncached requests).
    gc.collect()
    gc.freeze()
    # A map of 3,000 areas allocates ~15,000 short-lived objects; collecting every 700 allocations
    # (the default) means ~20 young-generation passes per request. Every 20,000 is plenty.
    gc.set_threshold(20_000, 20, 20)
    # No proxy_headers: uvicorn would believe X-Forwarded-* from 127.0.0.1 whatever the settings;
    # the app believes them only from OBMI_TRUSTED_PROXIES (obmi.web.security_headers).
    uvicorn.run(web, host=host or ctx.settings.host, port=port or ctx.settings.port, log_level="warning",
                proxy_headers=False)


@app.command("serve")
def serve_cmd(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Start the web server."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx = system_context(open_database(settings.database_url), settings)
    ops.health(ctx)
    _run_server(ctx, port, host)


@app.command("demo")
def demo_cmd(database: Path = typer.Option(Path("obmi-demo.db"), help="SQLite file to (re)create."),
             serve: bool = typer.Option(True, help="Start the web server afterwards."),
             port: Optional[int] = None) -> None:
    """Create a fresh demo database from the data bundled with OBMi (with demo accounts) and
    start the web server."""
    from obmi.demo import build_demo
    settings = load_settings(database_url=f"sqlite:///{database}")
    configure_logging(settings.log_level, settings.log_format)
    ctx = build_demo(settings, database, echo=typer.echo)
    if serve:
        typer.echo(f"OBMi demo on http://{settings.host}:{port or settings.port}/ (Ctrl+C to stop)")
        _run_server(ctx, port)


# --- exports (the warehouse) --------------------------------------------------------------------

export_app = typer.Typer(help="Exports for other tools: the warehouse (Parquet star schema).", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("warehouse")
def export_warehouse_cmd(directory: Path = typer.Argument(..., help="Folder of the warehouse (created if needed)."),
                         audience: str = typer.Option("public", help="public (what anyone may see) or internal "
                                                                     "(what the acting user sees of the organisation)."),
                         org: Optional[str] = typer.Option(None, "--org", help="internal: the organisation "
                                                                               "(default: the user's)."),
                         full: bool = typer.Option(False, "--full", help="Rewrite every file, not only what "
                                                                         "changed since the previous export.")) -> None:
    """Write the warehouse star schema as Parquet (DuckDB, Spark, Trino read it as it is); a second
    export rewrites only what changed since the previous one (by data version)."""
    result = ops.export_warehouse(_context(), directory, audience=audience, organisation=org, full=full)
    typer.echo(result.summary())


# --- the open-data catalogue (DCAT-AP 3) --------------------------------------------------------

catalog_app = typer.Typer(help="The open-data catalogue (DCAT-AP 3): export and validate.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
CATALOG_AUDIENCE = typer.Option("public", help="public (what anyone may see) or internal (what the acting user sees).")


@catalog_app.command("validate")
def catalog_validate_cmd(audience: str = CATALOG_AUDIENCE,
                         file: Optional[Path] = typer.Option(None, "--file", help="Validate this RDF file instead "
                                                             "(.ttl, .jsonld or .rdf)."),
                         show: int = typer.Option(20, help="How many findings to print at most.")) -> None:
    """Check the catalogue against the official DCAT-AP 3.0.1 shapes and the DCAT-AP Vlaanderen
    3.0 shapes; exits 1 when either finds a violation."""
    document = file.read_text(encoding="utf-8") if file else None
    fmt = file.suffix.lstrip(".").lower() if file else "ttl"
    result = ops.validate_catalog(_context(), audience=audience, document=document, fmt=fmt)
    typer.echo(result.summary())
    findings = [f"  {report.name}: {finding}" for report in result.reports for finding in report.findings]
    for line in findings[:show]:
        typer.echo(line)
    if len(findings) > show:
        typer.echo(f"  … and {len(findings) - show} more")
    if not result.conforms:
        raise typer.Exit(1)


@catalog_app.command("export")
def catalog_export_cmd(out: Path = typer.Argument(..., help="File to write: .ttl, .jsonld or .rdf."),
                       audience: str = CATALOG_AUDIENCE) -> None:
    """Write the catalogue to a file (Turtle, JSON-LD or RDF/XML, by the file's suffix)."""
    document = ops.catalog_document(_context(), out.suffix.lstrip(".").lower(), audience=audience)
    out.write_text(document.text, encoding="utf-8")
    typer.echo(f"catalogue of {document.datasets} datasets written to {out}")


def main() -> None:
    try:
        app()
    except ImportRejected as exc:
        typer.echo(f"error: {exc}", err=True)
        if exc.import_id:
            typer.echo(f"(logged as import {exc.import_id}; `obmi imports --show {exc.import_id}` lists all rejected "
                       "rows)", err=True)
        sys.exit(2)
    except ObmiError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(next((code for cls, code in EXIT_CODES.items() if isinstance(exc, cls)), 1))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
