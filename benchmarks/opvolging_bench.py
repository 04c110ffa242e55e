#!/usr/bin/env python3
"""Benchmark: the opvolgingsrapportering (`ops.opvolging_report`, PDF and XLSX) for the largest
shared multi-year plan, on SQLite and PostgreSQL — the issue asks for the PDF in ≤ 5 s — and for
a synthetic plan of about 5,000 items on PostgreSQL (a scale point, no limit).

1. THE REAL PLAN, WITH SYNTHETIC FOLLOW-UP. The plan is the one of ../shared/data/plans/*.json
   with the most records (decided at run time and printed; 13040 Turnhout, 73 records, 128 items,
   when this was written). Real: the plan's structure, titles and yearly amounts, and the finance
   export derived from those amounts — ramingen per actie and year (for every actie whose code is
   unambiguous in the file) split 70 % / 30 % over the accounts 6100000 (exploitatie) and 2200000
   (investering), realisaties of quarters 1 and 2 of the first plan year at 10 % and 15 % of the
   raming on 6100000, written in the documented layout (`actie;jaar;kwartaal;algemene rekening;
   uitgave/ontvangst;bedrag;raming/realisatie`, decimal commas). SYNTHETIC: which acties are
   priority (every tenth, ≈10 %), their owner, the status updates (every actie has an approved one
   for `<first year>-S1`: generated status, progress, toelichting and — for risico/vertraagd —
   knelpunten) and the texts of the two legal sections (wijzigingen_veronderstellingen,
   financiele_risicos).

   Setup (not timed), per back end: a SQLite file in a temp dir and a scratch PostgreSQL database
   `obmi_opvbench_<random>` on the server of --pg (needs CREATE DATABASE), each migrated with
   `ops.upgrade_database`; then everything through the operations, as the product does it:
   `ops.add_organisation`, `ops.add_user` (a coordinator and an editor), `ops.import_plan` of the
   JSON, `ops.add_reporting_periods` for the plan's years (semesters), `ops.import_finance` of the
   export, `ops.update_item` (owner = the editor for every actie; priority on every tenth),
   `ops.save_status_update(submit=True)` by the editor + `ops.decide_status_update(approve=True)`
   by the coordinator for every actie, and `ops.save_report_section` → `ops.submit_report_section`
   → `ops.decide_report_section(approve)` for both legal sections. Mails go to a temp outbox.

   Timed: `ops.opvolging_report(coordinator, <first year>, plan_id=…, fmt="pdf"|"xlsx", lang="nl")`:
   `first_seconds` — a fresh Typst compiler (its fonts loaded, as in a new `obmi report` process)
   and the data version advanced before the call; `seconds` — the median (min/max, `runs`) of
   --repeat calls, each after the data version was advanced (untimed), as after any write: the
   report prints the data version, so every document differs and Typst compiles it in full —
   Typst memoizes in-process, and an identical document again takes a fraction of the time,
   reported as `warm_seconds` (--repeat calls, nothing changed in between). Pages (pypdf when
   installed, else poppler's `pdfinfo`), bytes, the XLSX's rows per sheet, and the process's
   resident memory after the calls (`process_rss_mb_after`: Typst keeps its memo of the last
   documents it compiled in the process). `within_limit`: `seconds` of the PDF ≤ 5 s.
   Parts (--repeat times, medians, data version advanced each time): the same work split into its
   steps, called the way the operation calls them — `obmi.operations.reports.build_opvolging` with
   a Unit of the `opvolging_report` operation (the model: store reads and obmi.reports.opvolging;
   `model_sql` is the time in SQL cursor execute, `model_items_rollup` (`_items`: the status
   roll-up) and `model_build_report` (the pure model) are timed by wrapping them), then
   `opvolging_pdf.document_data` (formatting), `pdf.compile_document` (Typst) and
   `opvolging_xlsx.render_report_xlsx`.
   Checked: the model's key figures equal the export (ramingen of the first year, realisaties of
   quarters 1–2: bestedingsgraad 25 %), the number of prioritaire acties, every actie reported,
   both sections approved; a failed check is reported and makes the script exit 1.

2. THE SCALE POINT IS SYNTHETIC (PostgreSQL only, skipped with --skip-scale): a generated plan in
   the documented plan-table CSV layout, 20 beleidsdoelstellingen × 10 actieplannen × --scale-acties
   / 200 acties each (default 4,800 acties, 5,020 items) with generated titles, the editor as owner
   of every actie, priority on every tenth and generated yearly amounts for 2026–2031; a finance
   export derived from those amounts as in part 1 (67,200 lines); the plan, periods, finance and
   the two sections through the operations, and an approved 2026-S1 status update for every actie
   through the operations too (save+submit by the editor, approve by the coordinator: ≈15–25 ms per
   actie on PostgreSQL here, so ≈1.5 min for 4,800 — `per_actie_seconds`), or, with
   --scale-updates copy, bulk-loaded with PostgreSQL COPY through `db.unguarded_engine` as
   plan_bench.py does (the same rows, a quarter of a second). Then ANALYZE. Timed as in part 1, but
   --scale-repeat calls per format (the first, then --scale-repeat − 1 after a data-version
   change) and one warm call; pages, bytes, the parts once, seconds per 1,000 acties.

Usage (from the repository root):
    PYTHONPATH=src .venv/bin/python benchmarks/opvolging_bench.py [--repeat 5] [--scale-acties 4800]
        [--scale-repeat 2] [--scale-updates ops|copy] [--skip-scale] [--backends sqlite,postgresql]
        [--pg URL] [--shared ../shared/data] [--profile] [--keep]
Prints one JSON object on stdout and a readable summary on stderr; exit 0 whatever the timings
(1 only when a check of the report's figures fails). Scratch databases and temp files are removed
at the end, also on errors, Ctrl-C and SIGTERM (--keep keeps them).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import load_settings
from obmi.store.database import Database, open_database, operation_scope
from obmi.store.state import advance

from benchlib import log, print_profile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMIT_PDF_SECONDS = 5.0
SEED = 20261202
COORDINATOR, EDITOR = "coordinator", "redacteur"
SCALE_ORG = "benchstad"
SCALE_YEARS = range(2026, 2032)
ACCOUNTS = (("6100000", 0.7), ("2200000", 0.3))  # raming split: exploitatie, investering
REALISED = ((1, 0.10), (2, 0.15))  # quarter → share of the raming booked (on 6100000)
HEADER = ["actie", "jaar", "kwartaal", "algemene rekening", "uitgave/ontvangst", "bedrag", "raming/realisatie"]
SECTIONS = ("wijzigingen_veronderstellingen", "financiele_risicos")
# Status mix of the synthetic updates (weighted: most acties on schedule).
STATUSES = ("op_schema",) * 6 + ("risico", "vertraagd", "afgerond", "niet_gestart", "on_hold")
NARRATIVE = (
    "De voorbereidende studie is afgerond en het ontwerp werd besproken met de betrokken diensten.",
    "De aanbesteding werd gepubliceerd; de gunning is voorzien na het zomerreces.",
    "De werken lopen volgens de planning; de eerste fase wordt in het najaar opgeleverd.",
    "Er vond een participatietraject plaats met buurtbewoners en lokale verenigingen.",
    "De samenwerkingsovereenkomst met de partners werd ondertekend.",
    "Het college keurde het uitvoeringsplan en de timing goed.",
    "De subsidieaanvraag bij de Vlaamse overheid werd ingediend en is in behandeling.",
    "De personeelsinzet werd herbekeken om de doorlooptijd te verkorten.",
)
KNELPUNTEN = (
    "De prijzen van bouwmaterialen liggen hoger dan geraamd.",
    "Een vergunning laat langer op zich wachten dan verwacht.",
    "Er is onvoldoende personeel om de planning aan te houden.",
)
SECTION_TEXT = {
    "wijzigingen_veronderstellingen": (
        "De ramingen van het meerjarenplan gingen uit van een indexering van de lonen met twee procent per jaar. "
        "Door de recente spilindexsprongen ligt die hoger.\n\n"
        "De dotatie aan de politiezone en de hulpverleningszone werd aangepast aan de begrotingen die hun raden "
        "intussen goedkeurden.\n\n"
        "(Synthetische tekst van de benchmark.)"),
    "financiele_risicos": (
        "De energieprijzen blijven hoger dan geraamd; het bestuur legt een reserve aan.\n\n"
        "Voor twee investeringsprojecten is de subsidie nog niet toegekend; zonder subsidie schuift de uitvoering "
        "een jaar op.\n\n"
        "(Synthetische tekst van de benchmark.)"),
}


# --- small helpers --------------------------------------------------------------------------

def dist(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def rss_mb() -> int | None:
    """The process's resident memory now (Linux), in MB."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024
    except (OSError, IndexError, ValueError):
        return None


def pdf_pages(data: bytes) -> tuple[int | None, str]:
    """The page count and the tool that counted it (pypdf if installed, else poppler's pdfinfo)."""
    try:
        from pypdf import PdfReader  # type: ignore[import-not-found]
        return len(PdfReader(io.BytesIO(data)).pages), "pypdf"
    except ImportError:
        pass
    tool = shutil.which("pdfinfo")
    if tool is None:
        return None, "none (install pypdf or poppler-utils)"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        done = subprocess.run([tool, handle.name], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1]), "pdfinfo"
    return None, f"pdfinfo failed: {done.stderr.strip()[:200]}"


def xlsx_rows(data: bytes) -> dict[str, int]:
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: sheet.max_row for sheet in book.worksheets}


class SqlClock:
    """Statements executed on an engine and the time spent in cursor execute."""

    def __init__(self, engine: Any):
        self.engine, self.count, self.seconds, self._started = engine, 0, 0.0, 0.0

    def __enter__(self) -> SqlClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, *args: Any) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._started


@contextmanager
def wrapped(module: Any, name: str, seconds: list[float]) -> Iterator[None]:
    """Time every call of `module.name` (appending to `seconds`) while inside."""
    original = getattr(module, name)

    def timing(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    setattr(module, name, timing)
    try:
        yield
    finally:
        setattr(module, name, original)


# --- databases ------------------------------------------------------------------------------

@contextmanager
def scratch_postgres(admin_url: str, keep: bool) -> Iterator[str]:
    """A fresh database `obmi_opvbench_<random>` on the server of `admin_url`, dropped afterwards
    (also on errors; SIGTERM is turned into SystemExit in main)."""
    name = f"obmi_opvbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            if keep:
                log(f"kept database {name}")
            else:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def root_context(db: Database, outbox: Path) -> Context:
    settings = load_settings({}, database_url=db.url, mail_outbox=str(outbox))
    return system_context(db, settings, "opvolging_bench")


def as_user(ctx: Context, name: str) -> Context:
    return ctx.acting_as(ops.identify_cli_user(ctx, name))


def add_people(root: Context, org: str, name: str) -> tuple[Context, Context]:
    ops.add_organisation(root, org, name, host=True)
    ops.add_user(root, COORDINATOR, roles=["coordinator"], organisation=org, email="coordinator@bench.invalid")
    ops.add_user(root, EDITOR, roles=["editor"], organisation=org, email="redacteur@bench.invalid")
    return as_user(root, COORDINATOR), as_user(root, EDITOR)


# --- the data -------------------------------------------------------------------------------

def largest_plan(shared: Path) -> tuple[Path, list[dict], dict[str, int]]:
    """The shared plan with the most records (ties: the first by name)."""
    found = {}
    for path in sorted((shared / "plans").glob("*.json")):
        found[path] = json.loads(path.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"no plans in {shared / 'plans'}")
    chosen = max(found, key=lambda p: (len(found[p]), -sorted(found).index(p)))
    return chosen, found[chosen], {p.name: len(r) for p, r in found.items()}


def finance_rows(amounts: dict[str, dict[int, float]], first_year: int) -> tuple[list[list[Any]], dict[str, float]]:
    """The export: per actie and year with an amount, the raming split over two accounts; the
    realisaties of quarters 1–2 of `first_year` as shares of the raming. Returns the rows and the
    figures of `first_year` computed from them (what the report must show)."""
    rows: list[list[Any]] = []
    for code, by_year in amounts.items():
        for year, amount in sorted(by_year.items()):
            if not amount:
                continue
            first = round(amount * ACCOUNTS[0][1], 2)
            rows.append([code, year, "", ACCOUNTS[0][0], "U", first, "raming"])
            rows.append([code, year, "", ACCOUNTS[1][0], "U", round(amount - first, 2), "raming"])
            if year == first_year:
                rows += [[code, year, q, ACCOUNTS[0][0], "U", round(amount * share, 2), "realisatie"]
                         for q, share in REALISED]
    expected = {"planned_out": sum(float(r[5]) for r in rows if r[1] == first_year and r[6] == "raming"),
                "realised_out": sum(float(r[5]) for r in rows if r[1] == first_year and r[6] == "realisatie")}
    return rows, expected


def write_finance_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows([[str(c).replace(".", ",") if isinstance(c, float) else c for c in row] for row in rows])
    return path


def synthetic_update(rng: random.Random) -> dict[str, Any]:
    status = rng.choice(STATUSES)
    progress = 100 if status == "afgerond" else 0 if status == "niet_gestart" else rng.randrange(5, 96, 5)
    narrative = " ".join(rng.sample(NARRATIVE, rng.randint(1, 3)))
    knelpunten = rng.choice(KNELPUNTEN) if status in ("risico", "vertraagd") else ""
    return {"status": status, "progress": progress, "narrative": narrative, "knelpunten": knelpunten}


def approve_sections(coordinator: Context, editor: Context, plan_id: int, year: int) -> None:
    for code in SECTIONS:
        row = ops.save_report_section(editor, plan_id, "opvolging", str(year), code, SECTION_TEXT[code],
                                      expected_version=0)
        row = ops.submit_report_section(editor, row["id"])
        ops.decide_report_section(coordinator, row["id"], decision="approve")


# --- part 1: the real plan ------------------------------------------------------------------

def setup_real(root: Context, plan_path: Path, records: list[dict], tmp: Path) -> dict[str, Any]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    timings["migrate"], _ = timed(lambda: ops.upgrade_database(root))
    municipality = records[0].get("municipality") or plan_path.stem
    org = "".join(c for c in municipality.lower() if c.isalnum()) or f"nis{plan_path.stem}"
    coordinator, editor = add_people(root, org, municipality)
    timings["import_plan"], imported = timed(lambda: ops.import_plan(coordinator, [plan_path], organisation=org))
    info = ops.plan_info(coordinator, imported.plan_id)
    first = info.start_year
    timings["add_reporting_periods"], _ = timed(lambda: ops.add_reporting_periods(
        coordinator, range(info.start_year, info.end_year + 1), organisation=org))
    counts = Counter(r["ac_code"] for r in records)
    amounts = {r["ac_code"]: {int(y): float(a or 0) for y, a in r["yearly_amounts"].items()}
               for r in records if counts[r["ac_code"]] == 1}
    rows, expected = finance_rows(amounts, first)
    path = write_finance_csv(tmp / f"finance-{plan_path.stem}.csv", rows)
    timings["import_finance"], _ = timed(lambda: ops.import_finance(coordinator, [path], organisation=org,
                                                                     today=date(first, 9, 30)))
    acties = [i for i in ops.plan_items(coordinator, imported.plan_id).items if i["kind"] == "actie"]
    priority = {i["id"] for n, i in enumerate(acties) if n % 10 == 0}
    started = time.perf_counter()
    for item in acties:
        ops.update_item(coordinator, item["id"], expected_version=item["row_version"], owner=EDITOR,
                        **({"priority": True} if item["id"] in priority else {}))
    timings["update_item"] = time.perf_counter() - started
    rng = random.Random(SEED)
    period = f"{first}-S1"
    saved = decided = 0.0
    for item in acties:
        values = synthetic_update(rng)
        t = time.perf_counter()
        update = ops.save_status_update(editor, item["id"], period=period, submit=True, **values).update
        t2 = time.perf_counter()
        ops.decide_status_update(coordinator, update["id"], approve=True)
        saved += t2 - t
        decided += time.perf_counter() - t2
    timings["save_status_update"], timings["decide_status_update"] = saved, decided
    timings["report_sections"], _ = timed(lambda: approve_sections(coordinator, editor, imported.plan_id, first))
    timings["total"] = time.perf_counter() - t0
    items = Counter(i["kind"] for i in ops.plan_items(coordinator, imported.plan_id).items)
    return {"coordinator": coordinator, "plan_id": imported.plan_id, "year": first, "expected": {
                **expected, "priority_acties": len(priority), "acties": len(acties)},
            "world": {"organisation": org, "plan_code": info.code, "plan_years": [info.start_year, info.end_year],
                      "items": sum(items.values()), "by_kind": dict(items), "acties": len(acties),
                      "priority_acties": len(priority), "status_updates_approved": len(acties),
                      "period": period, "finance_lines": len(rows),
                      "finance_acties": len(amounts), "sections_approved": list(SECTIONS)},
            "setup_seconds": {k: round(v, 2) for k, v in timings.items()},
            "per_actie_seconds": {"save_status_update_submit": round(saved / max(len(acties), 1), 4),
                                  "decide_status_update": round(decided / max(len(acties), 1), 4)}}


# --- measuring ------------------------------------------------------------------------------

def bump(db: Database) -> None:
    """Advance the data version, as every write does (a status update, an import). The report
    prints the data version, so the next document differs: Typst compiles it again instead of
    answering from its in-process memo of an identical document."""
    with db.unguarded_engine.begin() as conn:
        advance(conn)


def fresh_typst() -> None:
    """Drop the process's Typst compiler, so the next PDF starts one (fonts) as a new process does."""
    from obmi.reports import pdf as pdf_engine
    with pdf_engine._lock:
        pdf_engine._compiler = None


def measure_format(ctx: Context, year: int, plan_id: int, fmt: str, repeat: int,
                   warm: int | None = None) -> tuple[dict[str, Any], bytes]:
    """`first`: a fresh Typst compiler (PDF) and the data version advanced, as a new `obmi report`
    process after a change; `seconds`: median of `repeat` calls, each after the data version was
    advanced (untimed) — the figure for the limit; `warm_seconds`: `warm` calls with nothing
    changed in between (for the PDF, Typst's memo of the identical document answers)."""
    call = lambda: ops.opvolging_report(ctx, year, plan_id=plan_id, fmt=fmt, lang="nl")  # noqa: E731
    if fmt == "pdf":
        fresh_typst()
    bump(ctx.db)
    first, data = timed(call)
    runs = []
    for _ in range(max(repeat, 0)):
        bump(ctx.db)
        runs.append(timed(call)[0])
    warm_runs = [timed(call)[0] for _ in range(repeat if warm is None else warm)]
    out: dict[str, Any] = {"first_seconds": round(first, 3)}
    if runs:
        out.update(seconds=round(statistics.median(runs), 3), min_seconds=round(min(runs), 3),
                   max_seconds=round(max(runs), 3), runs=[round(r, 3) for r in runs])
    else:
        out["seconds"] = round(first, 3)
    if warm_runs:
        out["warm_seconds"] = round(statistics.median(warm_runs), 3)
    out["bytes"] = len(data)
    out["process_rss_mb_after"] = rss_mb()
    if fmt == "pdf":
        assert data[:5] == b"%PDF-", data[:20]
        out["pages"], out["pages_counted_by"] = pdf_pages(data)
    else:
        assert data[:2] == b"PK", data[:20]
        out["sheet_rows"] = xlsx_rows(data)
    return out, data


def measure_parts(ctx: Context, year: int, plan_id: int, repeat: int) -> tuple[dict[str, Any], Any]:
    """The operation's steps one by one (medians of `repeat`), with a Unit of the operation."""
    from obmi.operations import reports as report_ops
    from obmi.operations.registry import REGISTRY, Unit
    from obmi.reports.opvolging_pdf import TEMPLATE, document_data
    from obmi.reports.opvolging_xlsx import render_report_xlsx
    from obmi.reports.pdf import compile_document

    operation = REGISTRY["opvolging_report"]
    site = ctx.settings.site_name
    series: dict[str, list[float]] = {k: [] for k in ("model", "model_sql", "model_items_rollup",
                                                      "model_build_report", "pdf_document_data",
                                                      "pdf_typst_compile", "xlsx_render")}
    statements: list[int] = []
    model = None
    for _ in range(max(repeat, 1)):
        items_s: list[float] = []
        build_s: list[float] = []
        bump(ctx.db)  # a document Typst has not seen (see bump)
        with operation_scope(operation.name):
            unit = Unit(ctx, operation)
            try:
                with SqlClock(ctx.db.unguarded_engine) as clock, wrapped(report_ops, "_items", items_s), \
                        wrapped(report_ops, "build_report", build_s):
                    t0 = time.perf_counter()
                    model = report_ops.build_opvolging(unit, year, plan_id=plan_id, lang="nl")
                    t1 = time.perf_counter()
            finally:
                unit.close()
        t1b = time.perf_counter()
        data = document_data(model, "nl", site)
        t2 = time.perf_counter()
        compile_document(TEMPLATE, data, generated=model.generated)
        t3 = time.perf_counter()
        render_report_xlsx(model, lang="nl", site_name=site)
        t4 = time.perf_counter()
        series["model"].append(t1 - t0)
        series["model_sql"].append(clock.seconds)
        series["model_items_rollup"].append(sum(items_s))
        series["model_build_report"].append(sum(build_s))
        series["pdf_document_data"].append(t2 - t1b)
        series["pdf_typst_compile"].append(t3 - t2)
        series["xlsx_render"].append(t4 - t3)
        statements.append(clock.count)
    out = {k: round(statistics.median(v), 3) for k, v in series.items()}
    out["model_sql_statements"] = int(statistics.median(statements))
    out["repeat"] = max(repeat, 1)
    return out, model


def check_model(model: Any, expected: dict[str, Any]) -> dict[str, Any]:
    """The report's figures against what the setup wrote (computed from the export itself)."""
    acties = [a for group in model.detail for a in group.acties]
    rate = expected["realised_out"] / expected["planned_out"] if expected["planned_out"] else None
    found = {"planned_out": model.key.planned_out, "realised_out": model.key.realised_out,
             "spend_rate": model.key.spend_rate, "booked_to": model.key.booked_to,
             "priority_acties": model.key.priority_acties, "acties_in_detail": len(acties),
             "acties_reported": sum(1 for a in acties if a.reported),
             "sections_with_text": sum(1 for s in model.sections if s.body and s.state == "approved")}
    want = {"planned_out": expected["planned_out"], "realised_out": expected["realised_out"], "spend_rate": rate,
            "booked_to": 2, "priority_acties": expected["priority_acties"], "acties_in_detail": expected["acties"],
            "acties_reported": expected["acties"], "sections_with_text": len(SECTIONS)}
    failed = []
    for key, value in want.items():
        got = found[key]
        same = (got is None and value is None) or (got is not None and value is not None and abs(got - value) <= 0.01)
        if not same:
            failed.append(f"{key}: report {got!r}, expected {value!r}")
    return {"ok": not failed, "failed": failed,
            "found": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in found.items()}}


def measure_backend(name: str, root: Context, plan_path: Path, records: list[dict], tmp: Path,
                    args: argparse.Namespace) -> dict[str, Any]:
    log(f"[{name}] setting up {plan_path.name} through the operations …")
    built = setup_real(root, plan_path, records, tmp)
    ctx, plan_id, year = built.pop("coordinator"), built["plan_id"], built["year"]
    expected = built.pop("expected")
    log(f"[{name}]   {built['world']['items']} items, {built['world']['acties']} acties "
        f"({built['world']['priority_acties']} priority), {built['world']['finance_lines']} finance lines, "
        f"setup {built['setup_seconds']['total']} s")
    out: dict[str, Any] = dict(built)
    out["pdf"], pdf = measure_format(ctx, year, plan_id, "pdf", args.repeat)
    log(f"[{name}]   PDF  first {out['pdf']['first_seconds']} s, median {out['pdf']['seconds']} s, "
        f"{out['pdf']['pages']} pages, {out['pdf']['bytes']:,} bytes")
    out["xlsx"], _ = measure_format(ctx, year, plan_id, "xlsx", args.repeat)
    log(f"[{name}]   XLSX first {out['xlsx']['first_seconds']} s, median {out['xlsx']['seconds']} s, "
        f"{out['xlsx']['bytes']:,} bytes")
    out["parts"], model = measure_parts(ctx, year, plan_id, args.repeat)
    log(f"[{name}]   parts: " + ", ".join(f"{k} {v}" for k, v in out["parts"].items()))
    out["check"] = check_model(model, expected)
    if not out["check"]["ok"]:
        log(f"[{name}]   CHECK FAILED: {out['check']['failed']}")
    out["limit_pdf_seconds"] = LIMIT_PDF_SECONDS
    out["within_limit"] = out["pdf"]["seconds"] <= LIMIT_PDF_SECONDS
    if args.profile:
        out["profile"] = profile_pdf(f"{name}: ops.opvolging_report pdf", ctx.db,
                                     lambda: ops.opvolging_report(ctx, year, plan_id=plan_id, fmt="pdf"))
    if args.keep and name == "postgresql":
        (tmp.parent / f"opvolging-{plan_path.stem}-{name}.pdf").write_bytes(pdf)
    return out


def profile_pdf(title: str, db: Database, fn: Callable[[], Any], repeat: int = 3) -> dict[str, Any]:
    import pstats
    profiler = cProfile.Profile()
    for _ in range(repeat):
        bump(db)
        profiler.enable()
        fn()
        profiler.disable()
    print_profile(profiler, f"cProfile of {title} × {repeat} (cumulative)", top=25, only="obmi")
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries = []
    for (path, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "/obmi/" in path:
            entries.append({"function": f"{path.split('/obmi/', 1)[1]}:{line} {function}", "calls": calls // repeat,
                            "cumulative_s": round(cumulative / repeat, 3), "own_s": round(own / repeat, 3)})
    entries.sort(key=lambda e: -e["cumulative_s"])
    return {"repeat": repeat, "top_obmi_cumulative": entries[:15]}


# --- part 2: the synthetic scale point ------------------------------------------------------

TOPICS = ("heraanleg van het marktplein", "renovatie van de sporthal", "uitbreiding van de kinderopvang",
          "digitalisering van het loket", "vergroening van de schoolomgeving", "fietsverbinding langs het kanaal",
          "energierenovatie van het stadhuis", "begeleiding van kwetsbare huurders",
          "ondersteuning van het verenigingsleven", "onderhoud van de riolering")


def write_scale_plan(path: Path, acties_wanted: int) -> dict[str, Any]:
    """20 beleidsdoelstellingen × 10 actieplannen × n acties in the plan-table layout (CSV)."""
    bd, ap = 20, 10
    ac = max(1, round(acties_wanted / (bd * ap)))
    rng = random.Random(SEED + 7)
    columns = ["type", "code", "parent", "title_short", "title_long", "beleidsdomein", "priority", "owner",
               "department", "mandataris", *map(str, SCALE_YEARS)]
    amounts: dict[str, dict[int, float]] = {}
    items = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for b in range(1, bd + 1):
            domain = f"{b % 10:02d}"
            writer.writerow(["beleidsdoelstelling", f"BD{b:03d}", "", f"Synthetische beleidsdoelstelling {b}",
                             f"Synthetische beleidsdoelstelling {b} (benchmark)", domain, "", "", "", "",
                             *[""] * len(SCALE_YEARS)])
            items += 1
            for a in range(1, ap + 1):
                ap_code = f"AP{b:03d}.{a:02d}"
                writer.writerow(["actieplan", ap_code, f"BD{b:03d}", f"Synthetisch actieplan {b}.{a}", "", domain,
                                 "", "", "", "", *[""] * len(SCALE_YEARS)])
                items += 1
                for c in range(1, ac + 1):
                    n = ((b - 1) * ap + a - 1) * ac + c
                    code = f"AC{b:03d}.{a:02d}.{c:03d}"
                    yearly = {y: float(rng.randrange(10, 500) * 1000) for y in SCALE_YEARS}
                    amounts[code] = yearly
                    title = f"Synthetische actie {b}.{a}.{c}: {TOPICS[n % len(TOPICS)]}"
                    writer.writerow(["actie", code, ap_code, title, "", domain, "ja" if n % 10 == 1 else "", EDITOR,
                                     f"Dienst {domain}", f"Schepen {b % 7 + 1}",
                                     *[str(int(yearly[y])) for y in SCALE_YEARS]])
                    items += 1
    return {"beleidsdoelstellingen": bd, "actieplannen": bd * ap, "acties": bd * ap * ac, "items": items,
            "priority_acties": sum(1 for n in range(1, bd * ap * ac + 1) if n % 10 == 1), "amounts": amounts}


def copy_updates(db: Database, plan_id: int, org: str, period: str) -> int:
    """An approved `period` status update for every actie of the plan, with PostgreSQL COPY."""
    rng = random.Random(SEED + 11)
    with db.unguarded_engine.connect() as conn:
        acties = conn.execute(text("SELECT id, owner FROM plan_item WHERE plan_id = :p AND kind = 'actie' "
                                   "ORDER BY id"), {"p": plan_id}).all()
        period_id, end = conn.execute(text("SELECT id, end_date FROM reporting_period WHERE organisation = :o "
                                           "AND code = :c"), {"o": org, "c": period}).one()
    at = datetime.combine(end + timedelta(days=5), datetime.min.time(), UTC)
    decided = at + timedelta(days=2)
    rows = []
    for item_id, owner in acties:
        v = synthetic_update(rng)
        rows.append((item_id, period_id, "approved", v["status"], float(v["progress"]), v["narrative"],
                     v["knelpunten"], False, owner or EDITOR, at, decided, COORDINATOR, at, owner or EDITOR, decided,
                     COORDINATOR, "", 2))
    columns = ["item_id", "period_id", "state", "status", "progress", "narrative", "knelpunten", "no_change",
               "author", "created_at", "updated_at", "updated_by", "submitted_at", "submitted_by", "decided_at",
               "decided_by", "decision_comment", "row_version"]
    raw = db.unguarded_engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        with cursor.copy(f"COPY status_update ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    with db.unguarded_engine.begin() as conn:
        for table in ("plan_item", "plan_item_version", "plan_amount", "budget_line", "status_update",
                      "reporting_period"):
            conn.execute(text(f"ANALYZE {table}"))
    return len(rows)


def ops_updates(coordinator: Context, editor: Context, plan_id: int, period: str) -> int:
    """An approved `period` status update for every actie, through the operations."""
    rng = random.Random(SEED + 11)
    acties = [i for i in ops.plan_items(coordinator, plan_id).items if i["kind"] == "actie"]
    for n, item in enumerate(acties, start=1):
        update = ops.save_status_update(editor, item["id"], period=period, submit=True, **synthetic_update(rng)).update
        ops.decide_status_update(coordinator, update["id"], approve=True)
        if n % 1000 == 0:
            log(f"[scale]     {n:,} of {len(acties):,}")
    return len(acties)


def measure_scale(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"synthetic": True, "backend": "postgresql"}
    with scratch_postgres(args.pg, args.keep) as url:
        db = open_database(url)
        try:
            root = root_context(db, tmp / "outbox-scale")
            timings: dict[str, float] = {}
            t0 = time.perf_counter()
            timings["migrate"], _ = timed(lambda: ops.upgrade_database(root))
            coordinator, editor = add_people(root, SCALE_ORG, "Benchstad (synthetisch)")
            plan_path = tmp / "scale-plan.csv"
            shape = write_scale_plan(plan_path, args.scale_acties)
            amounts = shape.pop("amounts")
            log(f"[scale] {shape['items']:,} items ({shape['acties']:,} acties), SYNTHETIC; importing …")
            timings["import_plan"], imported = timed(lambda: ops.import_plan(
                coordinator, [plan_path], organisation=SCALE_ORG, title="Synthetisch meerjarenplan (benchmark)"))
            plan_id, year = imported.plan_id, SCALE_YEARS.start
            timings["add_reporting_periods"], _ = timed(lambda: ops.add_reporting_periods(
                coordinator, SCALE_YEARS, organisation=SCALE_ORG))
            rows, expected = finance_rows(amounts, year)
            finance = write_finance_csv(tmp / "scale-finance.csv", rows)
            timings["import_finance"], _ = timed(lambda: ops.import_finance(
                coordinator, [finance], organisation=SCALE_ORG, today=date(year, 9, 30)))
            if args.scale_updates == "copy":
                timings["copy_status_updates"], updates = timed(lambda: copy_updates(db, plan_id, SCALE_ORG,
                                                                                     f"{year}-S1"))
                via = "PostgreSQL COPY (bulk), not the operations"
            else:
                log(f"[scale]   {shape['acties']:,} status updates through the operations (save+submit, approve) …")
                started = time.perf_counter()
                updates = ops_updates(coordinator, editor, plan_id, f"{year}-S1")
                timings["status_updates_through_ops"] = time.perf_counter() - started
                out["per_actie_seconds"] = round(timings["status_updates_through_ops"] / max(updates, 1), 4)
                via = "the operations: save_status_update(submit=True) + decide_status_update(approve=True)"
                with db.unguarded_engine.begin() as conn:
                    conn.execute(text("ANALYZE status_update"))
            timings["report_sections"], _ = timed(lambda: approve_sections(coordinator, editor, plan_id, year))
            timings["total"] = time.perf_counter() - t0
            out["world"] = {**shape, "finance_lines": len(rows), "status_updates_approved": updates,
                            "period": f"{year}-S1", "sections_approved": list(SECTIONS),
                            "status_updates_via": via}
            out["setup_seconds"] = {k: round(v, 2) for k, v in timings.items()}
            log(f"[scale]   {len(rows):,} finance lines, {updates:,} approved updates; setup "
                f"{out['setup_seconds']}")
            repeat = max(args.scale_repeat - 1, 0)
            for fmt in ("pdf", "xlsx"):
                out[fmt], _ = measure_format(coordinator, year, plan_id, fmt, repeat, warm=1)
                log(f"[scale]   {fmt.upper()} first {out[fmt]['first_seconds']} s"
                    + (f", then {out[fmt]['runs']}" if out[fmt].get("runs") else "")
                    + (f", {out[fmt]['pages']} pages" if fmt == "pdf" else "") + f", {out[fmt]['bytes']:,} bytes")
            out["parts"], model = measure_parts(coordinator, year, plan_id, 1)
            log("[scale]   parts: " + ", ".join(f"{k} {v}" for k, v in out["parts"].items()))
            out["check"] = check_model(model, {**expected, "priority_acties": shape["priority_acties"],
                                               "acties": shape["acties"]})
            if not out["check"]["ok"]:
                log(f"[scale]   CHECK FAILED: {out['check']['failed']}")
            per = 1000 / shape["acties"]
            out["seconds_per_1000_acties"] = {fmt: round(out[fmt]["seconds"] * per, 3) for fmt in ("pdf", "xlsx")}
            out["pages_per_1000_acties"] = round(out["pdf"]["pages"] * per, 1) if out["pdf"].get("pages") else None
            if args.profile:
                out["profile"] = profile_pdf("scale: ops.opvolging_report pdf", db,
                                             lambda: ops.opvolging_report(coordinator, year, plan_id=plan_id),
                                             repeat=1)
        finally:
            db.dispose()
    return out


# --- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pg", default=os.environ.get("OBMI_BENCH_POSTGRES_URL")
                        or os.environ.get("OBMI_TEST_POSTGRES_URL") or DEFAULT_PG,
                        help="a database on the server (for CREATE/DROP DATABASE); default %(default)s")
    parser.add_argument("--backends", default="sqlite,postgresql", help="part 1 on these (comma-separated)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per format after the first (median)")
    parser.add_argument("--scale-acties", type=int, default=4800,
                        help="acties of the synthetic plan (20 × 10 × n; default %(default)s: 5,020 items)")
    parser.add_argument("--scale-repeat", type=int, default=2, help="calls per format on the scale point")
    parser.add_argument("--scale-updates", choices=("ops", "copy"), default="ops",
                        help="scale point: status updates through the operations (default) or bulk COPY")
    parser.add_argument("--skip-scale", action="store_true", help="only part 1")
    parser.add_argument("--profile", action="store_true", help="cProfile of the PDF operation to stderr")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases and temp files")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"sqlite", "postgresql"}:
        parser.error("--backends: sqlite and/or postgresql")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks drop the scratch databases

    plan_path, records, candidates = largest_plan(args.shared)
    log(f"largest shared plan: {plan_path.name} ({records[0].get('municipality', '?')}, {len(records)} records; "
        f"candidates {candidates})")
    result: dict[str, Any] = {
        "benchmark": "opvolging_report", "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": "the opvolgingsrapportering PDF for the largest shared plan in ≤ 5 s",
        "limit_pdf_seconds": LIMIT_PDF_SECONDS,
        "plan": {"file": str(plan_path.relative_to(args.shared)), "municipality": records[0].get("municipality"),
                 "records": len(records), "candidates_records": candidates},
        "real": ["the plan (structure, titles, yearly amounts) from ../shared/data/plans",
                 "the finance export's amounts: derived from the plan's yearly amounts (ramingen 70 % on 6100000, "
                 "30 % on 2200000; realisaties Q1 10 %, Q2 15 % of the first year's raming)"],
        "synthetic": ["which acties are priority (every tenth) and their owner",
                      "the status updates (status, progress, toelichting, knelpunten) of every actie",
                      "the texts of the two legal sections",
                      "the scale point: plan, amounts, finance export, status updates (all generated)"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_start": [round(x, 2) for x in os.getloadavg()]},
        "backends": {}, "notes": []}
    tmp = Path(tempfile.mkdtemp(prefix="opvolging_bench_"))
    try:
        for backend in backends:
            work = tmp / backend
            work.mkdir()
            if backend == "sqlite":
                db = open_database(f"sqlite:///{work / 'obmi.sqlite'}")
                try:
                    result["backends"]["sqlite"] = measure_backend("sqlite", root_context(db, work / "outbox"),
                                                                   plan_path, records, work, args)
                finally:
                    db.dispose()
            else:
                with scratch_postgres(args.pg, args.keep) as url:
                    db = open_database(url)
                    try:
                        result["backends"]["postgresql"] = measure_backend(
                            "postgresql", root_context(db, work / "outbox"), plan_path, records, work, args)
                    finally:
                        db.dispose()
        result["notes"] += [
            "first_seconds: a fresh Typst compiler (fonts loaded, as in a new process) and the data version advanced; "
            "seconds: median of --repeat calls, each after the data version was advanced (every document differs, "
            "Typst compiles it in full); warm_seconds: nothing changed in between (Typst's in-process memo of the "
            "identical document answers)",
            "parts: build_opvolging is called with a Unit of the opvolging_report operation (no permission check, "
            "otherwise as the operation); model_items_rollup and model_build_report lie within model, model_sql is "
            "the cursor-execute time within it"]
        if not args.skip_scale:
            result["scale"] = measure_scale(args, tmp)
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    checks = [b["check"]["ok"] for b in result["backends"].values()]
    if "scale" in result:
        checks.append(result["scale"]["check"]["ok"])
    result["checks_ok"] = all(checks)
    print_summary(result)
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["checks_ok"] else 1


def print_summary(r: dict[str, Any]) -> None:
    log(f"\n=== opvolgingsrapportering — {r['plan']['file']} ({r['plan']['municipality']}, "
        f"{r['plan']['records']} records; follow-up SYNTHETIC) ===")
    log(f"  {'':<12}{'PDF first':>10}{'median':>9}{'pages':>7}{'KB':>7}{'XLSX first':>12}{'median':>9}{'KB':>7}"
        f"   limit PDF ≤ {LIMIT_PDF_SECONDS:g} s")
    for name, b in r["backends"].items():
        log(f"  {name:<12}{b['pdf']['first_seconds']:>10.3f}{b['pdf']['seconds']:>9.3f}{b['pdf']['pages'] or 0:>7}"
            f"{b['pdf']['bytes'] / 1024:>7.0f}{b['xlsx']['first_seconds']:>12.3f}{b['xlsx']['seconds']:>9.3f}"
            f"{b['xlsx']['bytes'] / 1024:>7.0f}   {'within_limit' if b['within_limit'] else 'OVER THE LIMIT'}")
        p = b["parts"]
        log(f"  {'':<12}parts: model {p['model']} s (SQL {p['model_sql']} s, {p['model_sql_statements']} statements; "
            f"roll-up {p['model_items_rollup']} s, build_report {p['model_build_report']} s), document_data "
            f"{p['pdf_document_data']} s, Typst {p['pdf_typst_compile']} s, XLSX render {p['xlsx_render']} s")
    s = r.get("scale")
    if s:
        w = s["world"]
        log(f"\n=== scale point (SYNTHETIC, PostgreSQL): {w['items']:,} items, {w['acties']:,} acties ===")
        log(f"  PDF  {s['pdf']['seconds']} s (first {s['pdf']['first_seconds']} s), {s['pdf']['pages']} pages, "
            f"{s['pdf']['bytes'] / 1024:.0f} KB — {s['seconds_per_1000_acties']['pdf']} s per 1,000 acties")
        log(f"  process RSS after the PDFs {s['pdf']['process_rss_mb_after']} MB, after the XLSX "
            f"{s['xlsx']['process_rss_mb_after']} MB")
        log(f"  XLSX {s['xlsx']['seconds']} s (first {s['xlsx']['first_seconds']} s), {s['xlsx']['bytes'] / 1024:.0f} KB"
            f" — {s['seconds_per_1000_acties']['xlsx']} s per 1,000 acties")
        p = s["parts"]
        log(f"  parts: model {p['model']} s (SQL {p['model_sql']} s, roll-up {p['model_items_rollup']} s, "
            f"build_report {p['model_build_report']} s), document_data {p['pdf_document_data']} s, "
            f"Typst {p['pdf_typst_compile']} s, XLSX render {p['xlsx_render']} s")
    log(f"  checks {'ok' if r['checks_ok'] else 'FAILED'}; load average {r['machine']['loadavg_start']} → "
        f"{r['machine']['loadavg_end']}")


if __name__ == "__main__":
    sys.exit(main())
