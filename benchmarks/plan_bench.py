#!/usr/bin/env python3
"""Benchmark: beleidsopvolging on a large plan — the college dashboard and an item page with
its history, through the real app, next to the time of the store calls they need.

THE DATA IS SYNTHETIC. A plan of --bd beleidsdoelstellingen × --ap actieplannen × --ac acties
(default 20 × 10 × 24: 5,020 items, 4,800 acties) with generated titles and amounts, 12 monthly
reporting periods (2026-01 … 2026-12), for every actie and period a status update (≈57,000,
nearly all approved; in the last three periods some are submitted, returned, drafts or missing,
so the dashboard has awaiting and overdue lists), two audit records per update (submitted by
the owner, decided by the coordinator: the item page's history), manual and steps KPIs on
--kpis acties with one measurement per period, and milestones on --milestones acties (some
late). Nothing of it is real.

Setup (not timed): a scratch database `obmi_planbench_<random>` on the server of
$OBMI_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test; needs
CREATE DATABASE), migrated with `ops.upgrade_database`, and dropped at the end (also on errors,
Ctrl-C and SIGTERM; --keep keeps it). The organisation, users (a coordinator, --owners editors)
and the coordinator's API token are made with the operations, the plan with `ops.import_plan` of
a generated CSV in the documented plan-table layout, the periods with
`ops.add_reporting_periods`; the follow-up rows (status updates, audit records, KPIs,
measurements, milestones) are bulk-loaded with PostgreSQL COPY through `db.unguarded_engine`, then
the tables are ANALYZEd.

Measured: `obmi serve` as a separate process (real HTTP over loopback, signed in with the
coordinator's API token): the dashboard page `/beleid/plannen/{id}` and the API
`/api/v1/plans/{id}/dashboard`, the item page `/beleid/items/{id}` and the API
`/api/v1/items/{id}` (each only when the app has it; what answers otherwise is reported), p50/p95
of the `Server-Timing` header over --requests requests each (the dashboard URL repeated; signed-in
responses are never cached; distinct items, those with KPIs and milestones first), each twice:
*cold* — the data version is advanced (untimed) before every request, as any write does (a status
update, a setting), so whatever the app derives and caches per data version is computed again —
and *warm* — nothing changed since the previous request. Next to them: the store calls the views
need, timed on their own (`obmi.store.followup.latest_approved`, `obmi.store.plans.version_items`,
the audit query of an item's history, …), and `ops.college_dashboard`, `ops.plan_items` and
`ops.item_detail` called in-process (cold and warm) with the time spent in SQL (cursor execute),
the number of statements and the statements that take longest. When a page misses the target
(p95 ≤ 150 ms), or with --profile, cProfile of the cold in-process calls goes to stderr and its top
entries into the JSON.

Usage (from the repository root):
    PYTHONPATH=src .venv/bin/python benchmarks/plan_bench.py [--requests 60] [--profile] [--keep]
Prints one JSON object on stdout and a readable summary on stderr; exit 0 whatever the timings.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import platform
import pstats
import random
import signal
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
from site_bench import dist, pct, server_errors, server_ms, start_server, stop_server
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import load_settings
from obmi.store import audit as audit_store
from obmi.store import followup as followup_store
from obmi.store import plans as plan_store
from obmi.store.database import Database, open_database
from obmi.store.state import advance

from benchlib import log, print_profile

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORG = "benchstad"
TARGET_P95_MS = 150.0
SEED = 20261202
STATUSES = ("op_schema", "op_schema", "op_schema", "risico", "vertraagd", "afgerond", "niet_gestart", "on_hold")
YEARS = range(2026, 2032)


# --- the scratch database -------------------------------------------------------------------

@contextmanager
def scratch_database(admin_url: str, keep: bool) -> Iterator[str]:
    name = f"obmi_planbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
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
        admin.dispose()


def as_user(ctx: Context, name: str) -> Context:
    return ctx.acting_as(ops.identify_cli_user(ctx, name))


# --- the synthetic plan ---------------------------------------------------------------------

def owner_name(n: int) -> str:
    return f"eigenaar{n:02d}"


def write_plan_csv(path: Path, bd: int, ap: int, ac: int, owners: int) -> int:
    """The plan in the plan-table layout; returns the number of items."""
    rng = random.Random(SEED)
    columns = ["type", "code", "parent", "title_short", "title_long", "beleidsdomein", "priority", "owner",
               "department", "mandataris", *map(str, YEARS)]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for b in range(1, bd + 1):
            domain = f"{b % 10:02d}"
            writer.writerow(["beleidsdoelstelling", f"BD{b:03d}", "", f"Synthetische doelstelling {b}",
                             f"Synthetische doelstelling {b} (benchmark)", domain, "", "", "", "",
                             *[""] * len(YEARS)])
            count += 1
            for a in range(1, ap + 1):
                ap_code = f"AP{b:03d}.{a:02d}"
                writer.writerow(["actieplan", ap_code, f"BD{b:03d}", f"Synthetisch actieplan {b}.{a}", "", domain, "",
                                 "", "", "", *[""] * len(YEARS)])
                count += 1
                for c in range(1, ac + 1):
                    n = ((b - 1) * ap + a - 1) * ac + c
                    writer.writerow(["actie", f"AC{b:03d}.{a:02d}.{c:02d}", ap_code, f"Synthetische actie {b}.{a}.{c}",
                                     "", domain, "ja" if n % 20 == 0 else "", owner_name(n % owners + 1),
                                     f"Dienst {domain}", f"Schepen {b % 7 + 1}",
                                     *[str(rng.randrange(10, 500) * 1000) for _ in YEARS]])
                    count += 1
    return count


def copy_rows(db: Database, table: str, columns: list[str], rows: list[tuple]) -> None:
    raw = db.unguarded_engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def load_followup(db: Database, plan_id: int, kpis: int, milestones: int) -> dict[str, int]:
    """The follow-up rows of every actie, bulk-loaded (COPY) as if a year of monthly reporting
    had gone through the workflow."""
    rng = random.Random(SEED + 1)
    with db.unguarded_engine.connect() as conn:
        acties = conn.execute(text("SELECT id, owner FROM plan_item WHERE plan_id = :p AND kind = 'actie' ORDER BY id"),
                              {"p": plan_id}).all()
        periods = conn.execute(text("SELECT id, code, end_date FROM reporting_period WHERE organisation = :o "
                                    "ORDER BY start_date"), {"o": ORG}).all()
    updates, audits = [], []
    last = len(periods) - 1
    for i, (item_id, owner) in enumerate(acties):
        progress = 0.0
        for p, (period_id, code, end) in enumerate(periods):
            state = "approved"
            if p >= last - 2 and i % 25 == p % 25:
                state = ("submitted", "returned", "draft", None)[(i // 25 + p) % 4]
            if p == last and i % 3 == 0:
                state = None  # the current period: not everyone has reported yet
            if state is None:
                continue
            progress = min(100.0, progress + rng.choice((0, 5, 10, 10, 15)))
            status = "afgerond" if progress >= 100 else STATUSES[rng.randrange(len(STATUSES) - 1)]
            knelpunten = "Synthetisch knelpunt." if status in ("risico", "vertraagd") and rng.random() < 0.3 else ""
            at = datetime.combine(end + timedelta(days=5), datetime.min.time(), UTC)
            decided = state in ("approved", "returned")
            updates.append((item_id, period_id, state, status, progress, f"Synthetische stand {code}.", knelpunten,
                            False, owner, at, at + timedelta(days=2 if decided else 0),
                            "coordinator" if decided else owner, at if state != "draft" else None,
                            owner if state != "draft" else None, at + timedelta(days=2) if decided else None,
                            "coordinator" if decided else None, "Toelichten." if state == "returned" else "", 1))
            after = json.dumps({"state": "submitted", "status": status, "progress": progress})
            audits.append((str(uuid.uuid4()), at, owner, "session", "save_status_update", "status.report",
                           "plan_item", str(item_id), "ok", None, after, f"status update {code}: submit → submitted",
                           ORG, "", ""))
            if decided:
                audits.append((str(uuid.uuid4()), at + timedelta(days=2), "coordinator", "session",
                               "decide_status_update", "status.approve", "plan_item", str(item_id), "ok", after,
                               json.dumps({"state": state}), f"status update {code}: {state}", ORG, "", ""))
    copy_rows(db, "status_update", ["item_id", "period_id", "state", "status", "progress", "narrative", "knelpunten",
                                    "no_change", "author", "created_at", "updated_at", "updated_by", "submitted_at",
                                    "submitted_by", "decided_at", "decided_by", "decision_comment", "row_version"],
              updates)
    copy_rows(db, "audit_event", ["uuid", "at", "actor", "via", "operation", "permission", "resource_type",
                                  "resource_id", "outcome", "before", "after", "message", "organisation", "request_id",
                                  "source_address"], audits)
    # KPIs: four of five manual (a number per period), one of five steps.
    step_names = ["studie", "aanbesteding", "uitvoering", "opgeleverd"]
    chosen = rng.sample(range(len(acties)), min(kpis, len(acties)))
    kpi_rows = []
    for n, index in enumerate(chosen):
        steps = n % 5 == 4
        kpi_rows.append((acties[index][0], "steps" if steps else "manual", f"Synthetische KPI {n + 1}", "" if steps else "aantal",
                         "up", None if steps else 100.0, None if steps else "2025",
                         json.dumps({} if steps else {"2026": 150.0, "2027": 200.0}), 5.0,
                         json.dumps(step_names if steps else []),
                         json.dumps({"2026": "aanbesteding", "2027": "uitvoering"} if steps else {}), 1))
    copy_rows(db, "kpi", ["item_id", "kind", "name", "unit", "direction", "baseline", "baseline_period", "targets",
                          "tolerance_pct", "steps", "target_steps", "row_version"], kpi_rows)
    with db.unguarded_engine.connect() as conn:
        kpi_ids = conn.execute(text("SELECT id, kind FROM kpi ORDER BY id")).all()
    now = datetime.now(UTC)
    measurements = []
    for kpi_id, kind in kpi_ids:
        for p, (_, code, _) in enumerate(periods):
            if kind == "steps":
                measurements.append((kpi_id, code, None, step_names[min(p // 4, 3)], "", "coordinator", now))
            else:
                measurements.append((kpi_id, code, 100.0 + p * rng.uniform(2, 8), None, "", "coordinator", now))
    copy_rows(db, "kpi_measurement", ["kpi_id", "period", "value", "step", "note", "recorded_by", "recorded_at"],
              measurements)
    milestone_rows = []
    for n, index in enumerate(rng.sample(range(len(acties)), min(milestones, len(acties)))):
        for k in range(3):
            planned = date(2026, 3 + 3 * k, 28)
            done = planned + timedelta(days=rng.randrange(-10, 40)) if k < 2 or n % 3 else None
            if done is not None and done > date.today():
                done = None
            milestone_rows.append((acties[index][0], f"Synthetische mijlpaal {k + 1}", acties[index][1],
                                   planned - timedelta(days=60), planned, planned - timedelta(days=55), done, "[]", 1))
    copy_rows(db, "milestone", ["item_id", "title", "owner", "planned_start", "planned_end", "actual_start",
                                "actual_end", "depends_on", "row_version"], milestone_rows)
    with db.unguarded_engine.begin() as conn:
        for table in ("plan_item", "plan_item_version", "plan_amount", "status_update", "audit_event", "kpi",
                      "kpi_measurement", "milestone", "reporting_period"):
            conn.execute(text(f"ANALYZE {table}"))
    return {"acties": len(acties), "periods": len(periods), "status_updates": len(updates),
            "approved": sum(1 for u in updates if u[2] == "approved"), "audit_events": len(audits),
            "kpis": len(kpi_rows), "kpi_measurements": len(measurements), "milestones": len(milestone_rows)}


def build(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings({}, database_url=db.url)
    system = system_context(db, settings, "plan_bench")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ops.upgrade_database(system)
    timings["migrate"] = time.perf_counter() - t
    ops.add_organisation(system, ORG, "Benchstad (synthetisch)", host=True)
    ops.add_user(system, "coordinator", roles=["coordinator"], organisation=ORG, email="coordinator@bench.invalid")
    for n in range(1, args.owners + 1):
        ops.add_user(system, owner_name(n), roles=["editor"], organisation=ORG, email=f"{owner_name(n)}@bench.invalid")
    token = ops.create_token(system, "coordinator", scope="read", name="plan_bench").token
    coordinator = as_user(system, "coordinator")
    with tempfile.TemporaryDirectory(prefix="obmi_planbench_") as tmp:
        path = Path(tmp) / "plan.csv"
        items = write_plan_csv(path, args.bd, args.ap, args.ac, args.owners)
        t = time.perf_counter()
        result = ops.import_plan(coordinator, [path], organisation=ORG, title="Synthetisch meerjarenplan (benchmark)")
        timings["import_plan"] = time.perf_counter() - t
    t = time.perf_counter()
    ops.add_reporting_periods(coordinator, range(2026, 2027), scheme="month", organisation=ORG)
    timings["add_reporting_periods"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = load_followup(db, result.plan_id, args.kpis, args.milestones)
    timings["bulk_load_followup"] = time.perf_counter() - t
    return {"plan_id": result.plan_id, "import": result.summary(), "items": items, **counts,
            "timings_s": {k: round(v, 2) for k, v in timings.items()}, "token": token, "coordinator": coordinator}


# --- measuring ------------------------------------------------------------------------------

def pick_items(db: Database, plan_id: int, n: int) -> list[int]:
    """Acties with KPIs and milestones first, then with milestones or KPIs, then any."""
    with db.unguarded_engine.connect() as conn:
        rows = conn.execute(text(
            """SELECT i.id, (SELECT count(*) FROM kpi k WHERE k.item_id = i.id) > 0 AS has_kpi,
                      (SELECT count(*) FROM milestone m WHERE m.item_id = i.id) > 0 AS has_ms
               FROM plan_item i WHERE i.plan_id = :p AND i.kind = 'actie'"""), {"p": plan_id}).all()
    ranked = sorted(rows, key=lambda r: (-(r.has_kpi + r.has_ms), r.id))
    return [r.id for r in ranked[:n]]


def measure_http(base: str, token: str, urls: list[str], warmup: int = 3,
                 before: Callable[[], None] | None = None) -> dict[str, Any]:
    """Server and client ms of each URL (in order) after `warmup` untimed requests of the first;
    `before` runs (untimed) before each timed request."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "nl"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        first = client.get(urls[0])
        if first.status_code != 200:
            return {"available": False, "status": first.status_code, "url": urls[0],
                    "detail": first.text[:300] if first.status_code != 404 else "not in this app (404)"}
        for _ in range(warmup):
            client.get(urls[0])
        server, wall, sizes = [], [], []
        for url in urls:
            if before is not None:
                before()
            t = time.perf_counter()
            response = client.get(url)
            wall.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:300]}")
            server.append(server_ms(response))
            sizes.append(len(response.content))
    log(f"  {urls[0]} × {len(urls)}{' (cold)' if before else ''}: server p50 {pct(server, 50):.1f} ms, "
        f"p95 {pct(server, 95):.1f} ms")
    return {"available": True, "url": urls[0], "requests": len(urls), "server_ms": dist(server),
            "client_ms": dist(wall), "kb_p50": round(pct(sizes, 50) / 1024, 1),
            "target_p95_ms": TARGET_P95_MS, "meets_target": pct(server, 95) <= TARGET_P95_MS}


def timed_ms(fn: Callable[[], Any], n: int) -> tuple[dict | None, Any]:
    times, result = [], None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return dist(times), result


def store_calls(db: Database, plan_id: int, items: list[int], n: int) -> dict[str, Any]:
    """The store calls the dashboard and the item page make, each timed on its own (rows turned
    into dicts included). Calls this OBMi's views no longer make are measured when present, so a
    run says what an older version paid."""
    today = date.today()
    out: dict[str, Any] = {}

    def timed(name: str, fn: Callable[[], Any], **extra: Any) -> Any:
        out[name], result = timed_ms(fn, n)
        out[name].update(extra)
        if isinstance(result, (list, dict)):
            out[name]["rows"] = len(result)
        return result

    with db.unguarded_engine.connect() as conn:
        version = plan_store.get_version(conn, plan_id, None)
        periods = followup_store.periods(conn, ORG)
        started = [p["id"] for p in periods if p["start_date"] <= today]
        timed("latest_approved", lambda: followup_store.latest_approved(conn, plan_id, until=today))
        timed("version_items", lambda: plan_store.version_items(conn, version["id"]))
        if hasattr(plan_store, "own_expenditure"):
            timed("own_expenditure", lambda: plan_store.own_expenditure(conn, version["id"]))
        timed("version_amounts", lambda: plan_store.version_amounts(conn, version["id"]))
        if hasattr(followup_store, "open_updates"):
            timed("open_updates", lambda: followup_store.open_updates(conn, version_id=version["id"],
                                                                      kinds=("actie", "project", "reguliere_werking"),
                                                                      period_ids=started))
        if hasattr(followup_store, "submitted_updates"):
            timed("submitted_updates", lambda: followup_store.submitted_updates(conn, plan_id))
        if hasattr(followup_store, "period_updates"):
            timed("period_updates_all_periods",
                  lambda: [followup_store.period_updates(conn, plan_id, p["id"]) for p in periods], periods=len(periods))
        history = []
        for item_id in items:
            t = time.perf_counter()
            events, _ = audit_store.query_events(conn, audit_store.AuditFilter(resource_type="plan_item",
                                                                               resource_id=str(item_id)), limit=500)
            history.append(((time.perf_counter() - t) * 1000, len(events)))
        out["audit_history"] = {**dist([h[0] for h in history]), "events_p50": pct([h[1] for h in history], 50)}
        timed("item_updates", lambda: followup_store.item_updates(conn, items[0]))
    return out


def bump(db: Database) -> None:
    """Advance the data version, as every write does (someone's status update, a setting): what
    the app caches on the data version is computed again on the next request."""
    with db.unguarded_engine.begin() as conn:
        advance(conn)


class SqlClock:
    """Statements executed and their time, on one engine: cursor execute to its end (psycopg
    receives the whole result in execute; turning rows into Python objects is not counted)."""

    def __init__(self, engine: Any):
        self.engine, self.count, self.seconds, self._started = engine, 0, 0.0, 0.0
        self.by_statement: dict[str, list[float]] = {}

    def __enter__(self) -> SqlClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - self._started
        self.count += 1
        self.seconds += seconds
        key = " ".join(statement.split())[:110]
        self.by_statement.setdefault(key, []).append(seconds * 1000)


def in_process(db: Database, ctx: Context, name: str, fn: Callable[[], Any], n: int,
               before: Callable[[], None] | None = None) -> dict[str, Any]:
    walls, sqls, counts = [], [], []
    statements: dict[str, list[float]] = {}
    fn()
    for _ in range(n):
        if before is not None:
            before()
        with SqlClock(db.unguarded_engine) as clock:
            t = time.perf_counter()
            fn()
            walls.append((time.perf_counter() - t) * 1000)
        sqls.append(clock.seconds * 1000)
        counts.append(clock.count)
        for key, times in clock.by_statement.items():
            statements.setdefault(key, []).extend(times)
    top = sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:6]
    out = {"call": name, "cold": before is not None, "wall_ms": dist(walls), "sql_ms": dist(sqls),
           "statements": int(pct(counts, 50)), "python_share_p50": round(1 - pct(sqls, 50) / pct(walls, 50), 2),
           "top_statements": [{"sql": key, "per_call": round(len(times) / n, 1), "ms_per_call": round(sum(times) / n, 1)}
                              for key, times in top]}
    log(f"  in-process {name}{' (cold)' if before else ''}: p50 {out['wall_ms']['p50']:.1f} ms, "
        f"SQL {out['sql_ms']['p50']:.1f} ms, {out['statements']} statements")
    return out


def profile(name: str, fn: Callable[[], Any], repeat: int = 5, top: int = 20,
            before: Callable[[], None] | None = None) -> dict[str, Any]:
    profiler = cProfile.Profile()
    for _ in range(repeat):
        if before is not None:
            before()
        profiler.enable()
        fn()
        profiler.disable()
    print_profile(profiler, f"cProfile of {name} × {repeat} (cumulative)", top=30, only="obmi")
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries = []
    for (path, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "/obmi/" in path:
            entries.append({"function": f"{path.split('/obmi/', 1)[1]}:{line} {function}", "calls": calls // repeat,
                            "cumulative_ms": round(cumulative * 1000 / repeat, 1), "own_ms": round(own * 1000 / repeat, 1)})
    entries.sort(key=lambda e: -e["cumulative_ms"])
    return {"repeat": repeat, "per_call": "figures are per call (divided by repeat); cProfile inflates Python time",
            "top_obmi_cumulative": entries[:top],
            "top_obmi_own": sorted(entries, key=lambda e: -e["own_ms"])[:top]}


# --- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("OBMI_BENCH_DATABASE_URL") or DEFAULT_PG,
                        help="a database on the server (for CREATE/DROP DATABASE); default %(default)s")
    parser.add_argument("--bd", type=int, default=20)
    parser.add_argument("--ap", type=int, default=10)
    parser.add_argument("--ac", type=int, default=24)
    parser.add_argument("--owners", type=int, default=20)
    parser.add_argument("--kpis", type=int, default=500)
    parser.add_argument("--milestones", type=int, default=200, help="acties with three milestones each")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (≥ 50)")
    parser.add_argument("--in-process", type=int, default=20, help="in-process calls per operation")
    parser.add_argument("--profile", action="store_true", help="always profile (default: only a page that misses)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: dict[str, Any] = {
        "benchmark": "plan_followup", "synthetic_data": True,
        "data": "SYNTHETIC: generated plan (titles, amounts), status updates, audit records, KPIs and milestones",
        "backend": "postgresql", "target_p95_ms": TARGET_P95_MS}
    with scratch_database(args.pg, args.keep) as url:
        db = open_database(url)
        try:
            log(f"building the synthetic plan in {make_url(url).database} …")
            t = time.perf_counter()
            built = build(db, args)
            token, coordinator, plan_id = built.pop("token"), built.pop("coordinator"), built["plan_id"]
            built["timings_s"]["total"] = round(time.perf_counter() - t, 1)
            report["scale"] = built
            log(f"  {built['items']:,} items, {built['status_updates']:,} status updates "
                f"({built['approved']:,} approved), {built['audit_events']:,} audit events, {built['kpis']} KPIs, "
                f"{built['milestones']} milestones in {built['timings_s']['total']} s")
            items = pick_items(db, plan_id, args.requests)
            report["store_calls_ms"] = store_calls(db, plan_id, items, args.requests)
            log("  store calls (p50 ms): " + ", ".join(f"{k} {v['p50']}" for k, v in report["store_calls_ms"].items()))
            calls = {"college_dashboard": ("ops.college_dashboard", lambda: ops.college_dashboard(coordinator, plan_id)),
                     "plan_items": ("ops.plan_items (the dashboard page calls it too)",
                                    lambda: ops.plan_items(coordinator, plan_id)),
                     "item_detail": ("ops.item_detail", lambda: ops.item_detail(coordinator, items[0]))}
            cold = lambda: bump(db)  # noqa: E731
            report["in_process"] = {
                **{f"{key}_cold": in_process(db, coordinator, name, fn, args.in_process, before=cold)
                   for key, (name, fn) in calls.items()},
                **{f"{key}_warm": in_process(db, coordinator, name, fn, args.in_process)
                   for key, (name, fn) in calls.items()}}
            load_before = [round(x, 2) for x in os.getloadavg()]
            proc, base = start_server(url)
            try:
                log(f"`obmi serve` (pid {proc.pid}) on {base}")
                n = args.requests
                pages = {"dashboard_page": [f"/beleid/plannen/{plan_id}"] * n,
                         "dashboard_api": [f"/api/v1/plans/{plan_id}/dashboard"] * n,
                         "item_page": [f"/beleid/items/{i}" for i in items[:n]],
                         "item_api": [f"/api/v1/items/{i}" for i in items[:n]]}
                # Cold: the data version advanced before each request (as after any write: what
                # is cached on it is computed again); warm: nothing changed since the last one.
                report["http"] = {**{f"{key}_cold": measure_http(base, token, urls, before=cold)
                                     for key, urls in pages.items()},
                                  **{f"{key}_warm": measure_http(base, token, urls) for key, urls in pages.items()}}
            finally:
                stderr = server_errors(proc, 3000)
                stop_server(proc)
            if any(not m["available"] and m["status"] >= 500 for m in report["http"].values()):
                report["server_stderr_tail"] = stderr
            report["loadavg"] = {"before_http": load_before, "end": [round(x, 2) for x in os.getloadavg()]}
            missed = {k for k, m in report["http"].items() if m["available"] and not m["meets_target"]}
            report["meets_target"] = not missed and any(m["available"] for m in report["http"].values())
            report["missed"] = sorted(missed)
            # The profile is of the cold path (what a page costs after any write).
            if args.profile or any(k.startswith("dashboard") for k in missed):
                report.setdefault("profile", {})["college_dashboard_cold"] = profile(
                    "ops.college_dashboard (cold)", lambda: ops.college_dashboard(coordinator, plan_id), before=cold)
            if args.profile or any(k.startswith("item") for k in missed):
                report.setdefault("profile", {})["item_detail_cold"] = profile(
                    "ops.item_detail (cold)", lambda: ops.item_detail(coordinator, items[0]), before=cold)
        finally:
            db.dispose()
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print_summary(report)
    print(json.dumps(report, indent=2, default=str))
    return 0


def print_summary(r: dict[str, Any]) -> None:
    s = r["scale"]
    log("\n=== OBMi plan follow-up benchmark (PostgreSQL; SYNTHETIC data) ===")
    log(f"  {s['items']:,} items ({s['acties']:,} acties), {s['periods']} periods, {s['status_updates']:,} status "
        f"updates, {s['audit_events']:,} audit events, {s['kpis']} KPIs, {s['milestones']} milestones")
    log(f"  {'server time (Server-Timing), ms':<50}{'p50':>8}{'p95':>8}{'max':>8}   target p95 ≤ {TARGET_P95_MS:g}")
    for key, m in r["http"].items():
        if m["available"]:
            log(f"  {key + ' ' + m['url']:<50}{m['server_ms']['p50']:>8.1f}{m['server_ms']['p95']:>8.1f}"
                f"{m['server_ms']['max']:>8.1f}   {'ok' if m['meets_target'] else 'MISSED'}")
        else:
            log(f"  {key + ' ' + m['url']:<50}  not measured: HTTP {m['status']} {m.get('detail', '')[:60]}")
    log("  in-process (wall p50 / SQL p50, statements):")
    for m in r["in_process"].values():
        log(f"    {m['call'] + (' (cold)' if m['cold'] else ' (warm)'):<60}{m['wall_ms']['p50']:>8.1f}"
            f"{m['sql_ms']['p50']:>8.1f}  {m['statements']} statements")
    log("  store calls on their own (p50 ms):")
    for key, m in r["store_calls_ms"].items():
        log(f"    {key:<40}{m['p50']:>8.2f}")
    log(f"  load average: {r.get('loadavg')}")


if __name__ == "__main__":
    sys.exit(main())
