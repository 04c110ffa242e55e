#!/usr/bin/env python3
"""Benchmark: the public site on a PostgreSQL database scaled up to 20 million observations,
every figure next to the time of the equivalent raw SQL query on the same database.

THE DATA IS SYNTHETIC. The geography is real (`ops.import_geography` of ../shared/data/geo:
10,902 statistical sectors, 3,074 wijken of which 2,767 with geometry, municipalities,
provinces, regions) and so is the Statbel catalogue (`load_builtin("statbel")`); every
observation value is generated (seeded numpy) and topped up with synthetic count indicators
`syn_001…syn_NNN` until statsec + ggw7 + gemeente + provincie + gewest × indicators × years
(2000–2024 by default) reach --target-rows (20,000,000 by default). Values include small counts
(< 5) so the disclosure rules withhold some of them. The rows are bulk-loaded with PostgreSQL
COPY; the observation indexes and foreign keys are dropped for the load and rebuilt after it.
Disclosure control is decided at write time and stored with the cell (`observation.disclosure`),
so after the load the registered disclosure rules decide every indicator and period in one
transaction, as the write pipeline does, and data_state records the threshold (and advances the
data version); then the table is VACUUM ANALYZEd. Setup uses a system context (`system_context`,
full rights); rows are written and inspected through `db.unguarded_engine`.

The scaled database `obmi_scale_main` is kept between runs: `--reuse` skips the generation when
it exists with the expected parameters and row count; a database of an older OBMi (schema
revision 0002, no stored decisions) is migrated with `ops.upgrade_database`, which decides
disclosure for every cell in the same operation; decisions made with another threshold are made
again. `--drop` removes it (and exits).

What is measured, against `obmi serve` started as a separate process on 127.0.0.1 (so the
load generator and this script do not share its GIL or its heap):
  a. map/table JSON, one indicator × all wijken (ggw7: 3,074 areas, 2,767 with geometry) × one
     period: server time from the `Server-Timing` header. The response cache (keyed on the data
     state and the audience; anonymous requests share it) is bypassed by asking every URL only
     once per server process (--requests distinct indicator/period pairs). Raw SQL: the same
     area-LEFT-JOIN-observation SELECT through psycopg, reading `o.disclosure` and nulling the
     values of withheld cells, as the query layer publishes them.
  b. area fact sheet JSON (56 indicators × 25 years) for wijken (default references:
     municipality, province, region) and for municipalities (province, region and Antwerpen,
     or Gent for Antwerpen itself), each area once; raw SQL: the query finding the indicators
     with data for the area plus the SELECT of the same observations (area_id IN subject+refs,
     indicator IN those), withheld cells nulled the same way.
     Every warm response of a and b is compared with the rows of its raw SQL (values, statuses,
     rounding to the indicator's decimals, `missing` areas): any difference fails the run.
     For a and b, "warm" runs the raw SQL once untimed before each request (PostgreSQL's buffers
     hold the rows), then the request, then the raw SQL timed: the ratio is the app's own
     overhead. "first touch" runs request and raw SQL on other, untouched items (the database
     is in the OS page cache, mostly not in PostgreSQL's shared buffers).
     `obmi serve` freezes its start-up heap (gc.freeze()), so full garbage collections do not
     rescan the framework's objects on every request.
  c. throughput on cached JSON: `wrk` (or a Python asyncio load generator when wrk is not
     installed), 50 connections, --duration seconds, a fixed list of 40 map and fact-sheet URLs
     warmed beforehand; requests/s, latency p50/p99, errors.
  d. fact-sheet PDFs on the real-data demo database (`obmi.demo.build_demo` into
     /tmp/bench_demo.db, built when missing or of an older schema): p50/p95 seconds per
     `ops.factsheet_pdf` (as the public) over a sample, then `ops.export_factsheets` for all 285
     Flemish municipalities (level gemeente, not unknown, code not starting with 21), province
     by province.
The 1-minute load average is recorded around the runs: on a shared 2-CPU machine anything else
running shows up in the tails.

Usage (from the repository root):
    PYTHONPATH=src python benchmarks/site_bench.py [--reuse] [--drop] [--target-rows N]
        [--requests N] [--duration S] [--sqlite FILE] [--skip-pdf] [--profile]
(--sqlite: optionally the same rows in a SQLite file, with a and b measured on it as well.)
Prints one JSON object on stdout; a readable table (and profiles) on stderr.
Exit code 0 whatever the timings; non-zero only when something fails (including OBMi's rows
differing from the raw SQL's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, public_context, system_context
from obmi.indicators.catalogue import Indicator, load_builtin, load_catalogue, upsert_indicators
from obmi.plugins import disclosure_rules
from obmi.settings import Settings, load_settings
from obmi.store.database import Database, open_database
from obmi.store.state import advance, read_state
from obmi.store.tables import import_run

from benchlib import log, print_profile

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_NAME = "obmi_scale_main"
LEVELS = ("statsec", "ggw7", "gemeente", "provincie", "gewest")
SEED = 20240101
GENERATOR_VERSION = 1  # bump when the generated data changes, so --reuse regenerates
USER = "site_bench"
TARGETS = {"map_p95_ms": 50.0, "factsheet_p95_ms": 150.0, "throughput_rps": 300.0,
           "pdf_p95_s": 2.0, "pdf_all_s": 300.0}
MAP_INDICATORS = ("pop_total", "share_65plus", "pop_80plus", "inc_mean_per_inhabitant", "syn_001",
                  "syn_007", "syn_013", "land_built_share")
BIG_CITY_REFS = ("11002", "44021")  # Antwerpen, Gent: the third reference of a municipality sheet


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def dist(values: list[float], digits: int = 2) -> dict | None:
    if not values:
        return None
    return {"n": len(values), "p50": round(pct(values, 50), digits), "p95": round(pct(values, 95), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "mean": round(statistics.fmean(values), digits)}


def psycopg_dsn(url: str) -> str:
    """SQLAlchemy URL → libpq connection string."""
    u = make_url(url)
    parts = {"host": u.host or "127.0.0.1", "port": u.port or 5432, "user": u.username or "postgres",
             "dbname": u.database}
    if u.password:
        parts["password"] = u.password
    return " ".join(f"{k}={v}" for k, v in parts.items())


# --- the synthetic data ---------------------------------------------------------------------

@dataclass
class Plan:
    years: list[int]
    area_ids: dict[str, np.ndarray]  # level → area ids (sorted by code)
    area_unknown: dict[str, np.ndarray]  # level → bool
    indicators: list[Indicator]
    rows: int
    synthetic: int

    def key(self) -> dict:
        return {"generator": GENERATOR_VERSION, "seed": SEED, "years": [self.years[0], self.years[-1]],
                "levels": list(LEVELS), "indicators": len(self.indicators), "synthetic": self.synthetic,
                "rows": self.rows}


def synthetic_indicators(n: int) -> list[Indicator]:
    themes = ("demografie", "vergrijzing", "diversiteit", "inkomen", "ruimte", "welzijn", "wonen")
    return [Indicator(code=f"syn_{i:03d}", name_nl=f"Synthetische telling {i:03d}",
                      name_en=f"Synthetic count {i:03d}", definition_nl="Synthetische benchmarkdata.",
                      definition_en="Synthetic benchmark data.", unit="personen",
                      themes=[themes[(i - 1) % len(themes)]], source="OBMi site_bench (synthetisch)",
                      aggregation="sum", is_count=True)
            for i in range(1, n + 1)]


def make_plan(conn, years: list[int], target_rows: int) -> Plan:
    area_ids, unknown = {}, {}
    for level in LEVELS:
        rows = conn.execute(text("SELECT id, is_unknown FROM area WHERE level = :l ORDER BY code"),
                            {"l": level}).all()
        if not rows:
            raise RuntimeError(f"no areas of level {level}: is the geography imported?")
        area_ids[level] = np.array([r.id for r in rows], dtype=np.int32)
        unknown[level] = np.array([bool(r.is_unknown) for r in rows])
    per_indicator = sum(len(v) for v in area_ids.values()) * len(years)
    statbel = load_builtin("statbel")
    synthetic = max(0, math.ceil(target_rows / per_indicator) - len(statbel))
    indicators = statbel + synthetic_indicators(synthetic)
    return Plan(years, area_ids, unknown, indicators, per_indicator * len(indicators), synthetic)


# Typical size of an area per level (people) and the spread of sizes (sigma of the log).
LEVEL_SIZE = {"statsec": (600, 1.1), "ggw7": (2200, 0.9), "gemeente": (22000, 0.8),
              "provincie": (1_300_000, 0.3), "gewest": (4_000_000, 0.6)}
# Share of the population counted by the Statbel count indicators.
COUNT_SHARE = {"pop_total": 1.0, "pop_men": 0.495, "pop_women": 0.505, "pop_0_17": 0.2, "pop_18_64": 0.6,
               "pop_65plus": 0.2, "pop_80plus": 0.06, "pop_non_belgian": 0.1, "inc_declarations": 0.55,
               "inc_residents": 0.98}
# Non-count indicators: typical value and relative spread between areas.
LEVEL_VALUE = {"share_": (1.0, 0.15), "dependency_ratio": (60.0, 0.15), "ageing_index": (100.0, 0.3),
               "inc_net_taxable_total": (None, 0.2), "inc_mean_per_declaration": (36000.0, 0.15),
               "inc_mean_per_inhabitant": (20000.0, 0.15), "land_total_area": (None, 0.5),
               "land_cadastral_area": (None, 0.5), "land_built_area": (None, 0.6),
               "land_built_share": (30.0, 0.5)}


class Generator:
    """Deterministic values: one seeded stream per (indicator, level) for the area-level base,
    one per (indicator, level, year) for the yearly noise."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.size = {}
        self.growth = {}
        for li, level in enumerate(LEVELS):
            rng = np.random.default_rng([SEED, li])
            median, sigma = LEVEL_SIZE[level]
            size = median * rng.lognormal(0.0, sigma, len(plan.area_ids[level]))
            # "Niet te lokaliseren" and friends: a handful of people.
            size[plan.area_unknown[level]] = rng.uniform(0, 12, plan.area_unknown[level].sum())
            self.size[level] = size
            self.growth[level] = rng.normal(0.005, 0.012, len(size))
        self.base: dict[tuple[int, str], np.ndarray] = {}

    def _base(self, ii: int, ind: Indicator, level: str) -> np.ndarray:
        key = (ii, level)
        if key not in self.base:
            rng = np.random.default_rng([SEED, 1000 + ii, LEVELS.index(level)])
            n = len(self.plan.area_ids[level])
            size = self.size[level]
            if ind.is_count:
                if ind.code.startswith("syn_"):
                    share = 10 ** np.random.default_rng([SEED, 1000 + ii]).uniform(-3, -0.3)
                else:
                    share = COUNT_SHARE.get(ind.code, 0.3)
                self.base[key] = size * share * rng.lognormal(0, 0.25, n)
            else:
                typical, spread = next((v for k, v in LEVEL_VALUE.items() if ind.code.startswith(k)), (1.0, 0.2))
                if ind.code.startswith("share_"):
                    typical = 100 * COUNT_SHARE.get("pop_" + ind.code[len("share_"):], 0.3)
                elif ind.code == "inc_net_taxable_total":
                    typical = None
                    self.base[key] = size * 0.55 * 36000 * rng.lognormal(0, spread, n)
                elif ind.code.startswith("land_") and ind.code.endswith("_area"):
                    factor = {"land_total_area": 1.0, "land_cadastral_area": 0.9, "land_built_area": 0.3}[ind.code]
                    self.base[key] = size * 0.05 * factor * rng.lognormal(0, spread, n)  # ha
                    typical = None
                if typical is not None:
                    self.base[key] = typical * rng.lognormal(0, spread, n)
        return self.base[key]

    def values(self, ii: int, ind: Indicator, level: str, year: int) -> np.ndarray:
        base = self._base(ii, ind, level)
        t = year - self.plan.years[0]
        rng = np.random.default_rng([SEED, 1000 + ii, LEVELS.index(level), year])
        trend = (1 + self.growth[level]) ** t
        if ind.is_count:
            values = rng.poisson(base * trend).astype(np.float64)
            small = rng.random(len(values)) < 0.01  # 1 % tiny counts on top of the natural ones
            values[small] = rng.integers(0, 5, small.sum())
            return values
        values = base * trend * rng.normal(1.0, 0.02, len(base))
        if ind.code.startswith("share_") or ind.code == "land_built_share":
            values = np.clip(values, 0, 100)
        return np.round(values, ind.decimals)


def generate_chunks(plan: Plan, import_id: int) -> Iterator[tuple[int, bytes]]:
    """(rows, CSV bytes) per year, for COPY."""
    for n, table in generate_tables(plan, import_id):
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(include_header=False,
                                                                        quoting_style="needed"))
        yield n, buffer.getvalue()


def generate_tables(plan: Plan, import_id: int) -> Iterator[tuple[int, pa.Table]]:
    """(rows, Arrow table) per year: every indicator × every area of the five levels, the way
    yearly deliveries would append them."""
    gen = Generator(plan)
    for year in plan.years:
        columns = {"indicator": [], "area_id": [], "value": []}
        for ii, ind in enumerate(plan.indicators):
            for level in LEVELS:
                ids = plan.area_ids[level]
                columns["indicator"].append(pa.array(np.full(len(ids), ind.code, dtype=object), pa.string()))
                columns["area_id"].append(ids)
                columns["value"].append(gen.values(ii, ind, level, year))
        n = sum(len(a) for a in columns["area_id"])
        table = pa.table({
            "indicator": pa.concat_arrays(columns["indicator"]),
            "area_id": pa.array(np.concatenate(columns["area_id"])),
            "period": pa.array(np.full(n, str(year), dtype=object), pa.string()),
            "period_type": pa.array(np.full(n, "year", dtype=object), pa.string()),
            "value": pa.array(np.concatenate(columns["value"])),
            "status": pa.array(np.full(n, "final", dtype=object), pa.string()),
            "origin": pa.array(np.full(n, "source", dtype=object), pa.string()),
            "import_id": pa.array(np.full(n, import_id, dtype=np.int32)),
        })
        yield n, table


COPY_COLUMNS = "indicator, area_id, period, period_type, value, status, origin, import_id"


def database_exists(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
    finally:
        engine.dispose()


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def plan_of(state: dict) -> dict:
    """The recorded parameters of a scale-up, without its row count, build timings and schema."""
    return {k: v for k, v in state.items() if k not in ("count", "build_timings_s", "revision", "decided_threshold")}


def bench_settings(url: str) -> Settings:
    """The settings `obmi serve` runs with here: defaults only (start_server strips OBMI_*), so the
    disclosure threshold decided at build time is the one the server publishes with."""
    return load_settings({}, database_url=url)


def bench_context(db: Database) -> Context:
    """Full rights, for the setup (migrate, import the geography, export fact sheets)."""
    return system_context(db, bench_settings(db.url), USER)


def scaled_state(db: Database) -> dict | None:
    """The parameters recorded by the last complete scale-up, its schema revision and the
    threshold its disclosure decisions were made with (None: not decided), or None. Works on a
    database of an older OBMi too (revision 0002 has no data_state): that is how --reuse tells it."""
    try:
        revision = ops.database_status(bench_context(db)).revision
        with db.unguarded_engine.connect() as conn:
            row = conn.execute(select(import_run.c.message, import_run.c.inserted)
                               .where(import_run.c.kind == "synthetic", import_run.c.status == "ok")
                               .order_by(import_run.c.id.desc())).first()
            if row is None:
                return None
            state = json.loads(row.message)
            state["count"] = conn.execute(text("SELECT count(*) FROM observation")).scalar_one()
            state["revision"] = revision
            state["decided_threshold"] = None
            if revision == db.head_revision():
                state["decided_threshold"] = read_state(conn).default_threshold
            return state
    except Exception:  # noqa: BLE001 — an unusable database is simply not reusable
        return None


def decide_disclosure(db: Database, threshold: int) -> dict:
    """What the write pipeline does after a write, for the whole bulk-loaded table: every
    registered disclosure rule over every indicator and period, then the threshold recorded in
    data_state and the data version advanced — one transaction. (The synthetic rows arrive by
    COPY, not through an import operation, so nothing has decided them yet; the query layer
    refuses to publish while data_state holds another threshold than OBMI_DEFAULT_THRESHOLD.)"""
    t = time.perf_counter()
    withheld = released = 0
    with db.unguarded_engine.begin() as conn:
        catalogue = load_catalogue(conn)
        scope = {code: None for code in catalogue}
        for rule in disclosure_rules():
            decision = rule.decide(conn, scope, catalogue, threshold)
            withheld, released = withheld + decision.withheld, released + decision.released
            log(f"    rule {rule.name}: {decision.withheld:,} cells withheld, {decision.released:,} released "
                f"({time.perf_counter() - t:.0f} s)")
        state = advance(conn, default_threshold=threshold)
    return {"seconds": time.perf_counter() - t, "withheld": withheld, "released": released,
            "threshold": threshold, "data_version": state.tag}


def vacuum_analyze(url: str) -> float:
    t = time.perf_counter()
    with psycopg.connect(psycopg_dsn(url), autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE) observation")
        pg.execute("ANALYZE")
    return time.perf_counter() - t


def bring_up_to_date(db: Database, state: dict, threshold: int) -> dict:
    """A reused database: apply newer migrations as `obmi db upgrade` does (ops.upgrade_database;
    from revision 0002 on, that migration adds observation.disclosure and the pipeline decides
    every cell in the same operation), and decide disclosure if the stored decisions are missing
    or were made with another threshold. Returns what was done."""
    done: dict = {}
    if state["revision"] != db.head_revision():
        log(f"  schema at revision {state['revision']}, this OBMi needs {db.head_revision()}: "
            f"ops.upgrade_database (migrate, then decide disclosure for every cell)")
        t = time.perf_counter()
        before, after = ops.upgrade_database(bench_context(db))
        done["migrated"] = {"from": before, "to": after, "seconds": round(time.perf_counter() - t, 1)}
        log(f"  migrated {before} → {after} in {time.perf_counter() - t:.1f} s")
        with db.unguarded_engine.connect() as conn:
            state["decided_threshold"] = read_state(conn).default_threshold
    if state["decided_threshold"] != threshold:
        log(f"  disclosure decided with threshold {state['decided_threshold']}, configured {threshold}: deciding")
        decided = decide_disclosure(db, threshold)
        done["decided_disclosure"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in decided.items()}
    if done and db.is_postgres:  # the UPDATEs left dead rows and stale statistics
        done["vacuum_analyze_s"] = round(vacuum_analyze(db.url), 1)
    return done


def build_scaled(admin_url: str, url: str, geo_dir: Path, years: list[int], target_rows: int) -> dict:
    """Create the database from scratch; returns timings (seconds) and counts."""
    timings: dict[str, float] = {}
    drop_database(admin_url, DB_NAME)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    engine.dispose()
    db = open_database(url)
    ctx = bench_context(db)
    try:
        started = time.perf_counter()
        ops.upgrade_database(ctx)
        t = time.perf_counter()
        geo = ops.import_geography(ctx, geo_dir)
        if geo.status != "ok":
            raise RuntimeError(f"geography import failed: {geo.summary()}")
        timings["import_geo"] = time.perf_counter() - t
        log(f"  import_geography: {timings['import_geo']:.1f} s")
        with db.unguarded_engine.begin() as conn:
            plan = make_plan(conn, years, target_rows)
            upsert_indicators(conn, plan.indicators)
            run_id = conn.execute(insert(import_run).values(
                kind="synthetic", file_name="site_bench scale-up (synthetic values)", sha256="0" * 64,
                rows_in=plan.rows, rows_ok=plan.rows, user=USER, started=datetime.now(UTC),
                status="running", message="")).inserted_primary_key[0]
        log(f"  plan: {len(plan.indicators)} indicators ({plan.synthetic} synthetic) × "
            f"{sum(len(v) for v in plan.area_ids.values())} areas × {len(years)} years = {plan.rows:,} rows")

        with psycopg.connect(psycopg_dsn(url)) as pg:
            with pg.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute("SET max_parallel_maintenance_workers = 2")
                cur.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                               WHERE conrelid = 'observation'::regclass AND contype IN ('u', 'f')
                               ORDER BY contype DESC, conname""")
                constraints = cur.fetchall()
                cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observation'
                               AND indexname NOT IN (SELECT conname FROM pg_constraint
                                                     WHERE conrelid = 'observation'::regclass)""")
                indexes = cur.fetchall()
                for name, _ in constraints:
                    cur.execute(f'ALTER TABLE observation DROP CONSTRAINT "{name}"')
                for name, _ in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                pg.commit()
                t = time.perf_counter()
                generate_seconds, written = 0.0, 0
                with cur.copy(f"COPY observation ({COPY_COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
                    chunks = generate_chunks(plan, run_id)
                    while True:
                        g = time.perf_counter()
                        try:
                            n, data = next(chunks)
                        except StopIteration:
                            break
                        generate_seconds += time.perf_counter() - g
                        for i in range(0, len(data), 8 << 20):
                            copy.write(data[i:i + (8 << 20)])
                        written += n
                        log(f"    {written:>12,} rows ({time.perf_counter() - t:.0f} s)")
                pg.commit()
                timings["generate_values_csv"] = generate_seconds
                timings["copy"] = time.perf_counter() - t - generate_seconds
                log(f"  generate {generate_seconds:.1f} s, COPY {timings['copy']:.1f} s")
                t = time.perf_counter()
                for name, definition in constraints:
                    cur.execute(f'ALTER TABLE observation ADD CONSTRAINT "{name}" {definition}')
                    pg.commit()
                    log(f"    {name}: {time.perf_counter() - t:.0f} s")
                for name, definition in indexes:
                    cur.execute(definition)
                    pg.commit()
                    log(f"    {name}: {time.perf_counter() - t:.0f} s")
                timings["indexes_and_constraints"] = time.perf_counter() - t
            pg.autocommit = True
            # Statistics first, so the rules' per-indicator UPDATEs get index plans.
            t = time.perf_counter()
            pg.execute("ANALYZE observation")
            timings["analyze_before_disclosure"] = time.perf_counter() - t
        log(f"  indexes + constraints {timings['indexes_and_constraints']:.1f} s; deciding disclosure "
            f"(threshold {bench_settings(url).default_threshold})")
        decided = decide_disclosure(db, bench_settings(url).default_threshold)
        timings["decide_disclosure"] = decided["seconds"]
        log(f"  decide disclosure {decided['seconds']:.1f} s: {decided['withheld']:,} cells withheld")
        timings["vacuum_analyze"] = vacuum_analyze(url)
        log(f"  VACUUM ANALYZE {timings['vacuum_analyze']:.1f} s")
        timings["total"] = time.perf_counter() - started
        built = {k: round(v, 1) for k, v in timings.items()}
        with db.unguarded_engine.begin() as conn:  # the parameters (for --reuse) and the cost of the build
            conn.execute(import_run.update().where(import_run.c.id == run_id).values(
                status="ok", inserted=written, finished=datetime.now(UTC),
                message=json.dumps({**plan.key(), "build_timings_s": built})))
        return {"timings_s": built, "plan": plan.key(), "disclosure": {k: decided[k] for k in ("withheld", "threshold")}}
    finally:
        db.dispose()


def sqlite_state(path: Path) -> dict | None:
    if not path.exists():
        return None
    db = open_database(f"sqlite:///{path}")
    try:
        return scaled_state(db)
    finally:
        db.dispose()


def build_sqlite(path: Path, geo_dir: Path, years: list[int], target_rows: int) -> dict:
    """The same synthetic rows in a SQLite file: migrate, import the geography, catalogue, then
    the rows with executemany (one transaction per year; the two plain indexes dropped for the
    load, the UNIQUE one is part of the table in SQLite), indexes rebuilt, ANALYZE, disclosure
    decided as on PostgreSQL."""
    import sqlite3
    timings: dict[str, float] = {}
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = open_database(f"sqlite:///{path}")
    ctx = bench_context(db)
    started = time.perf_counter()
    try:
        ops.upgrade_database(ctx)
        t = time.perf_counter()
        geo = ops.import_geography(ctx, geo_dir)
        if geo.status != "ok":
            raise RuntimeError(f"geography import failed: {geo.summary()}")
        timings["import_geo"] = time.perf_counter() - t
        with db.unguarded_engine.begin() as conn:
            plan = make_plan(conn, years, target_rows)
            upsert_indicators(conn, plan.indicators)
            run_id = conn.execute(insert(import_run).values(
                kind="synthetic", file_name="site_bench scale-up (synthetic values)", sha256="0" * 64,
                rows_in=plan.rows, rows_ok=plan.rows, user=USER, started=datetime.now(UTC),
                status="running", message="")).inserted_primary_key[0]
    finally:
        db.dispose()
    log(f"  SQLite {path}: import_geo {timings['import_geo']:.1f} s; {plan.rows:,} rows to insert")
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1500000")  # 1.5 GB for the load only
        indexes = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observation' "
                              "AND sql IS NOT NULL").fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        t = time.perf_counter()
        generate_seconds, written = 0.0, 0
        sql = f"INSERT INTO observation ({COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        chunks = generate_tables(plan, run_id)
        while True:
            g = time.perf_counter()
            try:
                n, table = next(chunks)
            except StopIteration:
                break
            columns = [table.column(c).to_pylist() for c in table.column_names]
            generate_seconds += time.perf_counter() - g
            con.execute("BEGIN")
            con.executemany(sql, zip(*columns))
            con.execute("COMMIT")
            written += n
            log(f"    {written:>12,} rows ({time.perf_counter() - t:.0f} s)")
        timings["generate_values"] = generate_seconds
        timings["insert"] = time.perf_counter() - t - generate_seconds
        t = time.perf_counter()
        for _, definition in indexes:
            con.execute(definition)
        timings["indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        con.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - t
    finally:
        con.close()
    db = open_database(f"sqlite:///{path}")
    try:
        decided = decide_disclosure(db, bench_settings(db.url).default_threshold)
        timings["decide_disclosure"] = decided["seconds"]
        timings["total"] = time.perf_counter() - started
        built = {k: round(v, 1) for k, v in timings.items()}
        with db.unguarded_engine.begin() as conn:
            conn.execute(import_run.update().where(import_run.c.id == run_id).values(
                status="ok", inserted=written, finished=datetime.now(UTC),
                message=json.dumps({**plan.key(), "build_timings_s": built})))
    finally:
        db.dispose()
    log(f"  insert {timings['insert']:.0f} s, indexes {timings['indexes']:.0f} s, disclosure "
        f"{timings['decide_disclosure']:.0f} s, total {timings['total']:.0f} s")
    return {"timings_s": built, "plan": plan.key()}


def database_size(url: str) -> dict:
    with psycopg.connect(psycopg_dsn(url)) as pg:
        row = pg.execute("""SELECT pg_database_size(current_database()),
                                   pg_relation_size('observation'), pg_indexes_size('observation'),
                                   pg_total_relation_size('observation')""").fetchone()
        per_index = dict(pg.execute("""SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
                                       FROM pg_index WHERE indrelid = 'observation'::regclass""").fetchall())
        # current_setting(): `setting || unit` would read "163848kB" for 16384 pages of 8 kB.
        settings = dict(pg.execute("""SELECT name, current_setting(name) FROM pg_settings
                                      WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size',
                                                     'random_page_cost', 'server_version')""").fetchall())
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    return {"database_mb": mb(row[0]), "observation_heap_mb": mb(row[1]), "observation_indexes_mb": mb(row[2]),
            "observation_total_mb": mb(row[3]), "indexes_mb": {k: mb(v) for k, v in per_index.items()},
            "server_settings": settings}


# --- the app in-process ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_ms(response) -> float:
    match = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
    if not match:
        raise RuntimeError(f"no Server-Timing header on {response.url}")
    return float(match.group(1))


def fetch(client, url: str, check: Callable[[dict], None] | None = None) -> tuple[float, float, int, dict]:
    """(server ms, client ms, bytes, body) of one request. Every URL is requested once per server
    process, so the response cache never answers (it is filled, as in production)."""
    t = time.perf_counter()
    response = client.get(url)
    client_ms = (time.perf_counter() - t) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {response.text[:300]}")
    body = response.json()
    if check:
        check(body)
    return server_ms(response), client_ms, len(response.content), body


class RawSQL:
    """The raw SQL baselines: psycopg for PostgreSQL, the sqlite3 module for SQLite (statements
    are written for psycopg; `%s` becomes `?` and `= ANY(%s)` an expanded IN list)."""

    def __init__(self, url: str):
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            import sqlite3
            self.conn = sqlite3.connect(make_url(url).database)
        else:
            self.conn = psycopg.connect(psycopg_dsn(url), autocommit=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.close()

    @staticmethod
    def to_sqlite(statement: str, params: tuple) -> tuple[str, list]:
        out, flat, values = [], [], iter(params)
        for piece in re.split(r"(= ANY\(%s\)|%s)", statement):
            if piece == "%s":
                out.append("?")
                flat.append(next(values))
            elif piece == "= ANY(%s)":
                items = list(next(values))
                out.append("IN (" + ", ".join("?" * len(items)) + ")")
                flat.extend(items)
            else:
                out.append(piece)
        return "".join(out), flat

    def ms(self, statement: str, params: tuple) -> tuple[float, list]:
        """Client-side time of execute + fetchall, and the rows."""
        if self.sqlite:
            statement, params = self.to_sqlite(statement, params)
        t = time.perf_counter()
        rows = self.conn.execute(statement, params).fetchall()
        return (time.perf_counter() - t) * 1000, rows


def sql_ms(raw: RawSQL, sql: str, params: tuple) -> tuple[float, list]:
    return raw.ms(sql, params)


@dataclass
class Item:
    url: str
    sql: list[tuple[str, tuple]]  # the equivalent raw SQL: one or more (statement, parameters)
    meta: dict  # what the comparison needs: map (indicator, period), fact sheet (level, code)


# --- OBMi's rows against the raw SQL's ------------------------------------------------------

class Comparison:
    """Checks that a response carries exactly what the raw SQL returned, published the way the
    query layer publishes (obmi.query.observations.publish): a cell with a stored disclosure
    decision as `suppressed` without values (the SQL nulls them), other values rounded to the
    indicator's decimals; a map lists areas without an observation as `missing` (except the
    "unknown" pseudo-areas)."""

    def __init__(self, decimals: dict[str, int]):
        self.decimals = decimals
        self.found: dict[str, dict] = {}

    def _round(self, code: str, value):
        return None if value is None else round(value, self.decimals[code])

    def record(self, kind: str, url: str, problems: list[str]) -> None:
        entry = self.found.setdefault(kind, {"items_compared": 0, "items_differing": 0, "examples": []})
        entry["items_compared"] += 1
        if problems:
            entry["items_differing"] += 1
            if len(entry["examples"]) < 3:
                entry["examples"].append({"url": url, "problems": problems[:5]})

    def map(self, item: Item, body: dict, results: list[list]) -> list[str]:
        code, period = item.meta["indicator"], item.meta["period"]
        expected = []
        for _id, area_code, name, unknown, per, value, status, num, den, n, lo, hi in results[-1]:
            if per is None:
                if not unknown:
                    expected.append((area_code, name, period, None, "missing", None, None, None, None, None))
                continue
            expected.append((area_code, name, per, self._round(code, value), status, num, den, n,
                             self._round(code, lo), self._round(code, hi)))
        got = [(r["area_code"], r["area_name"], r["period"], r["value"], r["status"], r["numerator"],
                r["denominator"], r["n"], r["ci_low"], r["ci_high"]) for r in body["data"]]
        if got == expected:
            return []
        problems = [f"{len(got)} rows from OBMi, {len(expected)} from SQL"] if len(got) != len(expected) else []
        problems += [f"OBMi {g} != SQL {e}" for g, e in zip(got, expected) if g != e]
        return problems

    def factsheet(self, item: Item, body: dict, results: list[list]) -> list[str]:
        indicators, rows = results
        points: dict[tuple[str, str, str], list] = {}
        for code, _id, area_code, _name, level, period, value, status, *_rest in rows:
            points.setdefault((code, level, area_code), []).append((period, self._round(code, value), status))
        subject = (item.meta["level"], item.meta["code"])
        figures = [f for t in body["themes"] for f in t["figures"]]
        problems = []
        if {f["indicator"] for f in figures} != {r[0] for r in indicators}:
            problems.append(f"indicators: OBMi {sorted(f['indicator'] for f in figures)}, "
                            f"SQL {sorted(r[0] for r in indicators)}")
        for f in figures:
            code = f["indicator"]
            series = sorted(points.get((code, *subject), []))
            got = [(p["period"], p["value"], p["status"]) for p in f["series"]]
            if got != series:
                problems.append(f"{code} series: OBMi {got}, SQL {series}")
            published = [p for p in series if p[1] is not None]
            latest = published[-1] if published else (series[-1] if series else None)
            if f["period"] != (latest[0] if latest else None):
                problems.append(f"{code} period: OBMi {f['period']}, SQL {latest}")
            for ref in f["references"]:
                at = next(((v, st) for per, v, st in points.get((code, ref["level"], ref["code"]), [])
                           if per == f["period"]), (None, "missing"))
                if (ref["value"], ref["status"]) != at:
                    problems.append(f"{code} reference {ref['level']}:{ref['code']} in {f['period']}: "
                                    f"OBMi {(ref['value'], ref['status'])}, SQL {at}")
        return problems


def measure_items(client, pg, items: list[Item], first_app: list[Item], first_sql: list[Item],
                  check: Callable[[dict], None] | None = None,
                  compare: Callable[[Item, dict, list[list]], list[str]] | None = None,
                  record: Callable[[str, list[str]], None] | None = None) -> dict:
    """Warm: per item, the raw SQL once untimed (so PostgreSQL's buffers hold the rows), then the
    app (timed), then the raw SQL (timed): the ratio is the app's own overhead; the response is
    then compared with the rows of that raw SQL.
    First touch: other items, app and raw SQL each on their own items, nothing run before (the
    OS page cache holds the database; PostgreSQL's 128 MB of shared buffers mostly do not)."""
    server, client_ms, sizes, sql, rows = [], [], [], [], []
    for item in items:
        for statement, params in item.sql:
            sql_ms(pg, statement, params)
        s, c, n, body = fetch(client, item.url, check)
        server.append(s)
        client_ms.append(c)
        sizes.append(n)
        timings = [sql_ms(pg, statement, params) for statement, params in item.sql]
        sql.append(sum(t for t, _ in timings))
        rows.append(len(timings[-1][1]))
        if compare and record:
            record(item.url, compare(item, body, [r for _, r in timings]))
    first_server = [fetch(client, item.url)[0] for item in first_app]
    first_sql = [sum(sql_ms(pg, st, pa)[0] for st, pa in item.sql) for item in first_sql]
    return {"server_ms": dist(server), "client_ms": dist(client_ms), "bytes_p50": int(pct(sizes, 50)),
            "sql_ms": dist(sql, 3), "sql_rows_p50": int(pct(rows, 50)),
            "ratio_p50": ratio(pct(server, 50), pct(sql, 50)), "ratio_p95": ratio(pct(server, 95), pct(sql, 95)),
            "first_touch": {"server_ms": dist(first_server), "sql_ms": dist(first_sql, 3),
                            "ratio_p50": ratio(pct(first_server, 50), pct(first_sql, 50))}
            if first_app and first_sql else None}


# What the query layer reads, published as it publishes: the stored disclosure decision
# (observation.disclosure, set at write time) nulls every value and marks the cell suppressed.
PUBLISHED = """CASE WHEN o.disclosure IS NULL THEN o.value END AS value,
               CASE WHEN o.disclosure IS NULL THEN o.status ELSE 'suppressed' END AS status,
               CASE WHEN o.disclosure IS NULL THEN o.numerator END AS numerator,
               CASE WHEN o.disclosure IS NULL THEN o.denominator END AS denominator,
               CASE WHEN o.disclosure IS NULL THEN o.n END AS n,
               CASE WHEN o.disclosure IS NULL THEN o.ci_low END AS ci_low,
               CASE WHEN o.disclosure IS NULL THEN o.ci_high END AS ci_high"""
MAP_SQL = f"""SELECT a.id, a.code, a.name, a.is_unknown, o.period, {PUBLISHED}
             FROM area a LEFT JOIN observation o
               ON o.area_id = a.id AND o.indicator = %s AND o.period = %s
             WHERE a.level = %s ORDER BY a.code"""
SHEET_INDICATORS_SQL = "SELECT DISTINCT indicator FROM observation WHERE area_id = %s"
SHEET_SQL = f"""SELECT o.indicator, a.id, a.code, a.name, a.level, o.period, {PUBLISHED}
               FROM observation o JOIN area a ON a.id = o.area_id
               WHERE o.indicator = ANY(%s) AND o.area_id = ANY(%s)
               ORDER BY o.indicator, a.id, o.period"""


def ratio(a: float, b: float) -> float:
    return round(a / b, 1) if b else float("inf")


def pick(items: list, n: int) -> list:
    """n items spread evenly over a list (deterministic)."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def read_items(db: Database, url: str, n: int, years: list[int]) -> tuple[dict[str, list[Item]], int, Comparison]:
    """The requests of a and b, each with its equivalent raw SQL: per kind 3 × n distinct items
    (n warm, n first-touch app, n first-touch SQL) and one more for warming up."""
    with db.unguarded_engine.connect() as conn:
        wijken = [r.code for r in conn.execute(text(
            """SELECT a.code FROM area a JOIN area_geometry g ON g.area_id = a.id
               WHERE a.level = 'ggw7' AND NOT a.is_unknown ORDER BY a.code"""))]
        gemeenten = [r.code for r in conn.execute(text(
            "SELECT code FROM area WHERE level = 'gemeente' AND NOT is_unknown AND code NOT LIKE '21%' ORDER BY code"))]
        ids = dict(conn.execute(text("SELECT level || ':' || code, id FROM area WHERE level IN "
                                     "('ggw7', 'gemeente', 'provincie', 'gewest')")).all())
        flanders = conn.execute(text("SELECT code FROM area WHERE level = 'gewest' AND name = 'Vlaams Gewest'")).scalar_one()
        province_of = dict(conn.execute(text(
            """SELECT c.code, p.code FROM area c JOIN area_link l ON l.child_id = c.id AND l.relation = 'parent'
               JOIN area p ON p.id = l.parent_id WHERE c.level = 'gemeente' AND p.level = 'provincie'""")).all())
        gemeente_of = dict(conn.execute(text(
            """SELECT c.code, p.code FROM area c JOIN area_link l ON l.child_id = c.id AND l.relation = 'parent'
               JOIN area p ON p.id = l.parent_id WHERE c.level = 'ggw7' AND p.level = 'gemeente'""")).all())
        decimals = dict(conn.execute(text("SELECT code, decimals FROM indicator")).all())
    periods = [str(y) for y in years]
    # 3 × n distinct indicator/period pairs (and areas): n warm, n first-touch app, n first-touch SQL.
    combos = [(MAP_INDICATORS[i % len(MAP_INDICATORS)], periods[(i * 7 + i // len(MAP_INDICATORS)) % len(periods)])
              for i in range(3 * n + 1)]
    if len(set(combos)) < len(combos):
        raise RuntimeError("not enough distinct indicator/period pairs for --requests")
    missing = sorted(set(MAP_INDICATORS) - set(decimals))
    if missing:
        raise RuntimeError(f"map indicators {missing} not in the catalogue: raise --target-rows")

    def gemeente_refs(code: str) -> list[str]:
        city = BIG_CITY_REFS[1] if code == BIG_CITY_REFS[0] else BIG_CITY_REFS[0]
        return [f"provincie:{province_of[code]}", f"gewest:{flanders}", f"gemeente:{city}"]

    def wijk_refs(code: str) -> list[str]:  # what build_factsheet picks by default
        return [f"gemeente:{gemeente_of[code]}", f"provincie:{province_of[gemeente_of[code]]}", f"gewest:{flanders}"]

    def sheet_item(conn, path: str, level: str, code: str, refs: list[str]) -> Item:
        subject = ids[f"{level}:{code}"]
        inds = [r[0] for r in conn.execute(text("SELECT DISTINCT indicator FROM observation WHERE area_id = :a"),
                                           {"a": subject})]
        return Item(path, [(SHEET_INDICATORS_SQL, (subject,)), (SHEET_SQL, (inds, [subject] + [ids[r] for r in refs]))],
                    {"level": level, "code": code})

    map_items = [Item(f"/api/v1/observations?indicator={ind}&level=ggw7&period={p}", [(MAP_SQL, (ind, p, "ggw7"))],
                      {"indicator": ind, "period": p}) for ind, p in combos]
    with db.unguarded_engine.connect() as conn:
        wijk_items = [sheet_item(conn, f"/api/v1/factsheets/ggw7/{c}", "ggw7", c, wijk_refs(c))
                      for c in pick(wijken, 3 * n + 1)]
        gemeente_items = [sheet_item(conn, f"/api/v1/factsheets/gemeente/{c}?"
                                     + "&".join(f"ref={r}" for r in gemeente_refs(c)), "gemeente", c, gemeente_refs(c))
                          for c in pick(gemeenten, 3 * n + 1)]
    if min(len(wijk_items), len(gemeente_items)) < 3 * n + 1:
        raise RuntimeError("--requests too high: not enough distinct areas")
    items = {"map": map_items, "factsheet_wijk": wijk_items, "factsheet_gemeente": gemeente_items}
    return items, len(wijken), Comparison(decimals)


def measure_reads(base: str, url: str, items: dict[str, list[Item]], n: int, wijken: int,
                  comparison: Comparison) -> dict:
    """a and b against the server at `base`."""
    import httpx

    facts: dict = {}

    def check_map(body: dict) -> None:
        facts["map_rows"] = body["count"]
        facts.setdefault("map_suppressed", []).append(sum(r["status"] == "suppressed" for r in body["data"]))

    def check_sheet(kind: str):
        def check(body: dict) -> None:
            figures = [f for t in body["themes"] for f in t["figures"]]
            facts.setdefault(f"{kind}_indicators", []).append(len(figures))
            facts.setdefault(f"{kind}_references", []).append(len(body["references"]))
            facts.setdefault(f"{kind}_points", []).append(
                sum(len(f["series"]) + len(f["references"]) for f in figures))
            facts.setdefault(f"{kind}_suppressed", []).append(
                sum(p["status"] == "suppressed" for f in figures for p in f["series"]))
        return check

    results: dict = {}
    plan = (("map", check_map, comparison.map), ("factsheet_wijk", check_sheet("wijk"), comparison.factsheet),
            ("factsheet_gemeente", check_sheet("gemeente"), comparison.factsheet))
    with RawSQL(url) as pg, httpx.Client(base_url=base, timeout=60) as client:
        for kind, _, _ in plan:
            fetch(client, items[kind][-1].url)  # warm-up: the extra item
        for kind, check, compare in plan:
            its = items[kind][:3 * n]
            load = os.getloadavg()[0]
            log(f"{'a' if kind == 'map' else 'b'}. {kind}: {n} warm + {n} first-touch requests, "
                f"the same for raw SQL; warm responses compared with the raw SQL rows")
            results[kind] = measure_items(client, pg, its[0::3], its[1::3], its[2::3], check, compare,
                                          lambda u, problems, kind=kind: comparison.record(kind, u, problems))
            results[kind]["loadavg_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            found = comparison.found[kind]
            results[kind]["rows_equal_sql"] = found["items_differing"] == 0
            results[kind]["comparison"] = found
            if found["items_differing"]:
                log(f"   {found['items_differing']}/{found['items_compared']} responses differ from the raw SQL: "
                    f"{json.dumps(found['examples'][:1])[:1500]}")
    results["map"].update(rows=facts["map_rows"], wijken_with_geometry=wijken,
                          suppressed_per_map_p50=int(pct(facts["map_suppressed"], 50)),
                          target_p95_ms=TARGETS["map_p95_ms"],
                          meets_target=results["map"]["server_ms"]["p95"] <= TARGETS["map_p95_ms"])
    for kind, key in (("factsheet_wijk", "wijk"), ("factsheet_gemeente", "gemeente")):
        results[kind].update(indicators=int(pct(facts[f"{key}_indicators"], 50)),
                             references=int(pct(facts[f"{key}_references"], 50)),
                             points_p50=int(pct(facts[f"{key}_points"], 50)),
                             suppressed_points_p50=int(pct(facts[f"{key}_suppressed"], 50)),
                             target_p95_ms=TARGETS["factsheet_p95_ms"],
                             meets_target=results[kind]["server_ms"]["p95"] <= TARGETS["factsheet_p95_ms"])
    results["urls"] = {k: v[0].url for k, v in items.items()}
    return results


def profile_reads(db: Database, url: str, items: dict[str, list[Item]], repeat: int = 5, top: int = 25) -> None:
    """cProfile of what the endpoints' build functions do (query, disclosure rules, JSON), called
    in this process's main thread (the server runs them in a worker thread, out of cProfile's view)."""
    from urllib.parse import parse_qs, urlsplit

    from obmi.operations import ObservationQuery
    from obmi.web.caching import encode_json
    from obmi.web.serialize import factsheet_json, observation_json

    ctx = public_context(db, bench_settings(url))  # the anonymous public, as the server sees it

    dump = encode_json  # what the server does

    def build(item_url: str) -> bytes:
        parts = urlsplit(item_url)
        query = parse_qs(parts.query)
        if parts.path.endswith("/observations"):
            result = ops.query_observations(ctx, ObservationQuery(query["indicator"][0], query["level"][0],
                                                                  query["period"][0]))
            return dump({"data": [observation_json(r) for r in result.rows], "count": len(result.rows)})
        level, code = parts.path.rsplit("/", 2)[-2:]
        refs = [tuple(r.split(":", 1)) for r in query.get("ref", [])] or None
        return dump(factsheet_json(ops.area_factsheet(ctx, level, code, refs)))

    for kind, its in items.items():
        urls = [i.url for i in its[:repeat]]
        for u in urls:
            build(u)  # warm
        profiler = cProfile.Profile()
        profiler.enable()
        for u in urls:
            build(u)
        profiler.disable()
        print_profile(profiler, f"cProfile: {kind}, {repeat} builds (query + disclosure + JSON), cumulative", top)


# --- throughput -----------------------------------------------------------------------------

WRK_LUA = r"""
local urls = {}
for line in io.lines("%(urls)s") do urls[#urls + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", urls[(i %% #urls) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"status":%%d,"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_") or k.startswith("OBMI_TEST_")}
    env.update(OBMI_DATABASE_URL=url, OBMI_LOG_LEVEL="WARNING")
    obmi = Path(sys.executable).with_name("obmi")
    command = [str(obmi)] if obmi.exists() else [sys.executable, "-m", "obmi.cli"]
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(command + ["serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    proc.errors = errors  # type: ignore[attr-defined]  # read back by server_errors()
    base = f"http://127.0.0.1:{port}"
    import httpx
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            errors.seek(0)
            raise RuntimeError(f"obmi serve did not start: {errors.read().decode()[-2000:]}")
        time.sleep(0.2)


def server_errors(proc: subprocess.Popen, limit: int = 3000) -> str:
    """The tail of what the server wrote to stderr so far (tracebacks, refused requests)."""
    errors = proc.errors  # type: ignore[attr-defined]
    errors.flush()
    errors.seek(0)
    text = errors.read().decode(errors="replace")
    errors.seek(0, 2)
    return text[-limit:]


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    stderr = server_errors(proc)
    if stderr.strip():
        log(f"`obmi serve` (pid {proc.pid}) wrote on stderr:\n{stderr}")


async def python_load(base: str, urls: list[str], connections: int, duration: float) -> dict:
    import httpx
    latencies, errors, statuses = [], 0, 0
    stop = time.perf_counter() + duration

    async def worker(k: int):
        nonlocal errors, statuses
        async with httpx.AsyncClient(base_url=base, timeout=10,
                                     limits=httpx.Limits(max_connections=1)) as client:
            i = k
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await client.get(urls[i % len(urls)])
                    await r.aread()
                    if r.status_code >= 400:
                        statuses += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t)
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(connections)))
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "duration_us": int(elapsed * 1e6), "connect": 0, "read": errors,
            "write": 0, "status": statuses, "timeout": 0, "p50_us": int(pct(latencies, 50) * 1e6),
            "p90_us": int(pct(latencies, 90) * 1e6), "p99_us": int(pct(latencies, 99) * 1e6),
            "max_us": int(max(latencies) * 1e6), "mean_us": statistics.fmean(latencies) * 1e6, "bytes": 0}


def measure_throughput(base: str, pid: int, urls: list[str], connections: int, duration: float,
                       threads: int) -> dict:
    import httpx
    with httpx.Client(base_url=base, timeout=60) as client:
        for u in urls:  # fill the server's cache
            client.get(u).raise_for_status()
        cached = [server_ms(client.get(u)) for u in urls]
    wrk = shutil.which("wrk")
    log(f"c. throughput on cached JSON: {len(urls)} URLs, {connections} connections, {duration:g} s, "
        f"{'wrk' if wrk else 'Python asyncio+httpx'} against `obmi serve` (pid {pid})")
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "urls.txt"
        url_file.write_text("\n".join(urls) + "\n")
        if wrk:
            script = Path(tmp) / "site.lua"
            script.write_text(WRK_LUA % {"urls": url_file})
            out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s",
                                  "--timeout", "10s", "-s", str(script), base],
                                 capture_output=True, text=True, check=True).stdout
            line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
            raw = json.loads(line[len("WRKJSON "):])
            tool = f"wrk -t{threads} -c{connections} -d{int(duration)}s"
        else:
            raw = asyncio.run(python_load(base, urls, connections, duration))
            tool = f"python asyncio+httpx, {connections} connections"
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    rps = raw["requests"] / (raw["duration_us"] / 1e6)
    return {"tool": tool, "urls": len(urls), "connections": connections, "seconds": round(raw["duration_us"] / 1e6, 1),
            "requests": raw["requests"], "requests_per_s": round(rps, 1),
            "latency_ms": {"p50": round(raw["p50_us"] / 1000, 2), "p90": round(raw["p90_us"] / 1000, 2),
                           "p99": round(raw["p99_us"] / 1000, 2), "max": round(raw["max_us"] / 1000, 2)},
            "errors": errors, "error_detail": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
            "mb_per_s": round(raw["bytes"] / 2**20 / (raw["duration_us"] / 1e6), 1) if raw["bytes"] else None,
            "cached_server_ms": dist(cached, 3),
            "target_rps": TARGETS["throughput_rps"],
            "meets_target": rps >= TARGETS["throughput_rps"] and errors == 0}


# --- PDFs -----------------------------------------------------------------------------------

def measure_pdfs(demo_path: Path, sample: int, rebuild: bool, profile: bool) -> dict:
    try:
        from obmi.reports.pdf import level_names, render_factsheet_pdf, surroundings_geojson
    except ImportError as exc:
        return {"measured": False, "reason": f"obmi.reports.pdf not importable: {exc}"}
    from obmi.auth.actor import ANONYMOUS
    from obmi.demo import build_demo
    from obmi.query.visibility import CatalogueView
    from obmi.reports.factsheet import build_factsheet

    demo_url = f"sqlite:///{demo_path}"
    settings = bench_settings(demo_url)
    if not rebuild and demo_path.exists():
        db = open_database(demo_url)
        try:
            status = ops.database_status(bench_context(db))
            if not status.current:  # a demo database of an older OBMi: build it anew
                log(f"d. {demo_path} is at schema revision {status.revision}, this OBMi needs {status.head}")
                rebuild = True
        finally:
            db.dispose()
    if rebuild or not demo_path.exists():
        log(f"d. building the demo database {demo_path}")
        t = time.perf_counter()
        build_demo(settings, demo_path, echo=lambda m: log(f"   {m}")).db.dispose()
        log(f"   built in {time.perf_counter() - t:.0f} s")
    db = open_database(demo_url)
    public = public_context(db, settings)  # a PDF is what the public downloads
    try:
        with db.unguarded_engine.connect() as conn:
            codes = [r.code for r in conn.execute(text(
                "SELECT code FROM area WHERE level = 'gemeente' AND NOT is_unknown AND code NOT LIKE '21%' ORDER BY code"))]
            provinces = [r.code for r in conn.execute(text(
                """SELECT DISTINCT p.code FROM area p JOIN area_link l ON l.parent_id = p.id AND l.relation = 'parent'
                   JOIN area c ON c.id = l.child_id
                   WHERE p.level = 'provincie' AND c.level = 'gemeente' AND NOT c.is_unknown
                     AND c.code NOT LIKE '21%' ORDER BY p.code"""))]
        log(f"d. fact-sheet PDFs on the real-data demo database: {sample} single sheets (ops.factsheet_pdf), "
            f"then all {len(codes)} Flemish municipalities with ops.export_factsheets")
        ops.factsheet_pdf(public, "gemeente", codes[0])  # warm Typst + fonts
        per, sizes = [], []
        profiler = cProfile.Profile() if profile else None
        chosen = pick(codes, sample)
        for code in chosen:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            data = ops.factsheet_pdf(public, "gemeente", code, None, "nl")
            if profiler:
                profiler.disable()
            per.append(time.perf_counter() - t0)
            sizes.append(len(data))
        # Where the time goes: the same sheets once more, the steps of ops.factsheet_pdf called one
        # by one on a plain connection (with export_factsheets' map cache, so the locator-map
        # GeoJSON of a province is built once).
        parts: dict[str, list[float]] = {"build_factsheet": [], "surroundings_geojson": [], "render_factsheet_pdf": []}
        maps: dict = {}
        with db.unguarded_engine.connect() as conn:
            view = CatalogueView.load(conn, ANONYMOUS)
            names = level_names(conn, "nl")
            for code in chosen:
                t0 = time.perf_counter()
                sheet = build_factsheet(conn, "gemeente", code, view=view, default_threshold=settings.default_threshold)
                t1 = time.perf_counter()
                geo = surroundings_geojson(conn, sheet.area, cache=maps)
                t2 = time.perf_counter()
                render_factsheet_pdf(sheet, lang="nl", site_name=settings.site_name, map_geojson=geo, level_names=names)
                t3 = time.perf_counter()
                parts["build_factsheet"].append(t1 - t0)
                parts["surroundings_geojson"].append(t2 - t1)
                parts["render_factsheet_pdf"].append(t3 - t2)
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(30)
            log(f"\n=== cProfile: {sample} single PDFs, cumulative ===")
            log(out.getvalue())
        # export_factsheets' `within` follows direct parent links (gemeente → provincie), so the
        # Flemish municipalities are exported province by province, one call each.
        admin = bench_context(db)
        with tempfile.TemporaryDirectory(prefix="obmi_pdf_bench_") as tmp:
            report = {"areas": 0, "written": 0, "failed": []}
            t = time.perf_counter()
            for province in provinces:
                part = ops.export_factsheets(admin, "gemeente", Path(tmp), lang="nl", within=("provincie", province))
                report["areas"] += part["areas"]
                report["written"] += part["written"]
                report["failed"] += part["failed"]
            total = time.perf_counter() - t
            report["seconds_per_sheet"] = round(total / report["written"], 3) if report["written"] else None
            on_disk = sum(p.stat().st_size for p in Path(tmp).glob("*.pdf"))
        if report["failed"]:
            log(f"   export_factsheets failed for {len(report['failed'])} areas, e.g. {report['failed'][:2]}")
        return {"measured": True, "database": str(demo_path), "per_pdf_s": dist(per, 3),
                "parts_p50_s": {k: round(pct(v, 50), 3) for k, v in parts.items()},
                "pdf_kb_p50": round(pct(sizes, 50) / 1024, 1),
                "all_flemish_municipalities": {"areas": report["areas"], "written": report["written"],
                                               "failed": len(report["failed"]), "seconds": round(total, 1),
                                               "seconds_per_sheet": report.get("seconds_per_sheet"),
                                               "mb_on_disk": round(on_disk / 2**20, 1)},
                "target_p95_s": TARGETS["pdf_p95_s"], "target_all_s": TARGETS["pdf_all_s"],
                "meets_target": pct(per, 95) <= TARGETS["pdf_p95_s"] and total <= TARGETS["pdf_all_s"]
                                and report["written"] == len(codes)}
    finally:
        db.dispose()


# --- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--pg", default=os.environ.get("OBMI_BENCH_POSTGRES_URL") or DEFAULT_PG,
                        help="URL of a database on the server (for CREATE/DROP DATABASE); default %(default)s")
    parser.add_argument("--reuse", action="store_true",
                        help=f"keep {DB_NAME} when it exists with the expected parameters and row count")
    parser.add_argument("--drop", action="store_true", help=f"drop {DB_NAME} and exit")
    parser.add_argument("--target-rows", type=int, default=20_000_000)
    parser.add_argument("--years", default="2000-2024", help="first-last year (default %(default)s)")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per read measurement")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load for the throughput test")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--sqlite", type=Path, default=None, metavar="FILE",
                        help="also build (or, with --reuse, reuse) the same rows in this SQLite file and "
                             "measure a and b on it (optional; about 4 GB and 10 minutes)")
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--pdf-sample", type=int, default=20)
    parser.add_argument("--demo", type=Path, default=Path("/tmp/bench_demo.db"))
    parser.add_argument("--rebuild-demo", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the reads and the PDFs (stderr)")
    args = parser.parse_args(argv)
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))
    url = make_url(args.pg).set(database=DB_NAME).render_as_string(hide_password=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args.drop:
        drop_database(args.pg, DB_NAME)
        log(f"dropped {DB_NAME}")
        return 0

    report: dict = {"benchmark": "site_scaled", "synthetic_data": True,
                    "data": "SYNTHETIC observation values (seeded numpy) on the real geography and the real "
                            "Statbel catalogue plus synthetic count indicators syn_NNN",
                    "backend": "postgresql", "database": DB_NAME, "sqlite_measured": False}
    scale: dict = {}
    state = None
    threshold = bench_settings(url).default_threshold
    if args.reuse and database_exists(args.pg, DB_NAME):
        db = open_database(url)
        try:
            state = scaled_state(db)
            if state:
                with db.unguarded_engine.connect() as conn:
                    expected = make_plan(conn, years, args.target_rows).key()
                if plan_of(state) != expected or state["count"] != expected["rows"]:
                    log(f"{DB_NAME} exists but does not match (found {state}, expected {expected}): regenerating")
                    state = None
            else:
                log(f"{DB_NAME} exists but holds no complete scale-up: regenerating")
        finally:
            db.dispose()
    if state:
        log(f"reusing {DB_NAME}: {state['count']:,} observations, schema revision {state['revision']}, "
            f"disclosure decided with threshold {state['decided_threshold']}")
        scale = {"reused": True, "plan": plan_of(state), "timings_s": state.get("build_timings_s")}
        db = open_database(url)
        try:
            scale.update(bring_up_to_date(db, state, threshold))
        finally:
            db.dispose()
    else:
        log(f"scale-up: building {DB_NAME} ({args.target_rows:,} rows or more)")
        geo_dir = args.shared / "geo"
        if not geo_dir.is_dir():
            parser.error(f"{geo_dir} not found: pass --shared")
        scale = {"reused": False, **build_scaled(args.pg, url, geo_dir, years, args.target_rows)}
    scale.update(database_size(url))
    with psycopg.connect(psycopg_dsn(url)) as pg:
        scale["observations"] = pg.execute("SELECT count(*) FROM observation").fetchone()[0]
        scale["by_level"] = dict(pg.execute(
            """SELECT a.level, count(*) FROM observation o JOIN area a ON a.id = o.area_id
               GROUP BY a.level ORDER BY 2 DESC""").fetchall())
        scale["small_counts_below_5"] = pg.execute(
            """SELECT count(*) FROM observation o JOIN indicator i ON i.code = o.indicator
               WHERE i.is_count AND o.value > 0 AND o.value < 5""").fetchone()[0]
        scale["withheld_cells"] = dict(pg.execute(
            "SELECT disclosure, count(*) FROM observation WHERE disclosure IS NOT NULL GROUP BY 1").fetchall())
        scale["data_state"] = dict(zip(("epoch", "version", "default_threshold"), pg.execute(
            "SELECT epoch, version, default_threshold FROM data_state WHERE id = 1").fetchone()))
    report["scale"] = scale

    load_before = [round(x, 2) for x in os.getloadavg()]
    db = open_database(url)
    try:
        items, wijken, comparison = read_items(db, url, args.requests, years)
        if args.profile:
            profile_reads(db, url, items)
    finally:
        db.dispose()
    load_urls = ([i.url for i in items["map"][:20]] + [i.url for i in items["factsheet_wijk"][:10]]
                 + [i.url for i in items["factsheet_gemeente"][:10]])
    proc, base = start_server(url)
    try:
        log(f"`obmi serve` (pid {proc.pid}) on {base}")
        report.update(measure_reads(base, url, items, args.requests, wijken, comparison))
        report["throughput"] = measure_throughput(base, proc.pid, load_urls, args.connections, args.duration,
                                                  args.wrk_threads)
        if report["throughput"]["errors"]:
            report["throughput"]["server_stderr_tail"] = server_errors(proc, 1500)
    finally:
        stop_server(proc)
    if args.sqlite:
        report["sqlite"] = measure_sqlite(args, years)
        report["sqlite_measured"] = True
    if args.skip_pdf:
        report["pdf"] = {"measured": False, "reason": "--skip-pdf"}
    else:
        report["pdf"] = measure_pdfs(args.demo, args.pdf_sample, args.rebuild_demo, args.profile)
    report["loadavg"] = {"before_reads": load_before, "end": [round(x, 2) for x in os.getloadavg()]}
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "postgresql": scale["server_settings"].get("server_version")}
    print_table(report)
    print(json.dumps(report, indent=2))
    differing = [f"{prefix}{kind}" for prefix, part in (("", report), ("sqlite.", report.get("sqlite") or {}))
                 for kind in ("map", "factsheet_wijk", "factsheet_gemeente")
                 if kind in part and not part[kind]["rows_equal_sql"]]
    if differing:
        log(f"FAILED: OBMi's responses differ from the raw SQL rows in {', '.join(differing)}")
        return 1
    return 0


def measure_sqlite(args, years: list[int]) -> dict:
    path = args.sqlite.resolve()
    sqlite_url = f"sqlite:///{path}"
    info: dict = {"file": str(path)}
    state = sqlite_state(path) if args.reuse else None
    if state:
        db = open_database(sqlite_url)
        with db.unguarded_engine.connect() as conn:
            expected = make_plan(conn, years, args.target_rows).key()
        db.dispose()
        if plan_of(state) != expected or state["count"] != expected["rows"]:
            state = None
    if state:
        log(f"SQLite: reusing {path} ({state['count']:,} observations, revision {state['revision']})")
        info.update(reused=True, plan=plan_of(state), timings_s=state.get("build_timings_s"))
        db = open_database(sqlite_url)
        try:
            done = bring_up_to_date(db, state, bench_settings(sqlite_url).default_threshold)
            info.update(done)
        finally:
            db.dispose()
    else:
        log(f"SQLite: building {path}")
        info.update(reused=False, **build_sqlite(path, args.shared / "geo", years, args.target_rows))
    db = open_database(sqlite_url)
    try:
        items, wijken, comparison = read_items(db, sqlite_url, args.requests, years)
        with db.unguarded_engine.connect() as conn:
            info["observations"] = conn.execute(text("SELECT count(*) FROM observation")).scalar_one()
    finally:
        db.dispose()
    info["file_mb"] = round(path.stat().st_size / 2**20, 1)
    proc, base = start_server(sqlite_url)
    try:
        log(f"SQLite: `obmi serve` (pid {proc.pid}) on {base}")
        info.update(measure_reads(base, sqlite_url, items, args.requests, wijken, comparison))
    finally:
        stop_server(proc)
    return info


def print_table(r: dict) -> None:
    s = r["scale"]
    log(f"\n=== OBMi site benchmark on {r['database']} (PostgreSQL; SYNTHETIC values, real geography) ===")
    log(f"  {s['observations']:,} observations; database {s['database_mb']:,.0f} MB "
        f"(observation heap {s['observation_heap_mb']:,.0f} MB + indexes {s['observation_indexes_mb']:,.0f} MB)"
        + (f"; built in {s['timings_s']['total']:.0f} s" if s.get("timings_s") else "")
        + (" (reused)" if s.get("reused") else ""))
    timings = s.get("timings_s") or {}
    if "decide_disclosure" in timings:
        log(f"  disclosure decided at build time in {timings['decide_disclosure']:.0f} s")
    if s.get("migrated"):
        m = s["migrated"]
        log(f"  migrated {m['from']} → {m['to']} with ops.upgrade_database (disclosure decided in the same "
            f"operation) in {m['seconds']:.0f} s")
    if s.get("decided_disclosure"):
        log(f"  disclosure decided again (threshold changed or missing) in {s['decided_disclosure']['seconds']:.0f} s")
    log(f"  withheld cells (observation.disclosure): {s.get('withheld_cells')}; non-zero counts below 5: "
        f"{s.get('small_counts_below_5'):,}; data_state {s['data_state']['epoch'][:8]}…:{s['data_state']['version']}, "
        f"threshold {s['data_state']['default_threshold']}")
    log("  server time (Server-Timing, each URL once: no cache hit) vs the same raw SQL through psycopg, ms; warm = PostgreSQL")
    log("  buffers hold the rows, first = first read of those rows (OS page cache only)")
    log(f"  {'':<30}{'p50':>7}{'p95':>7}{'SQL p50':>8}{'SQL p95':>8}{'x SQL':>6}"
        f"{'first p95':>10}{'SQL first':>10}{'target':>8}")
    for key, label in (("map", "a. map JSON, ggw7 × 1 period"), ("factsheet_wijk", "b. fact sheet, wijk"),
                       ("factsheet_gemeente", "b. fact sheet, municipality")):
        m = r[key]
        log(f"  {label:<30}{m['server_ms']['p50']:>7.1f}{m['server_ms']['p95']:>7.1f}{m['sql_ms']['p50']:>8.2f}"
            f"{m['sql_ms']['p95']:>8.2f}{m['ratio_p50']:>6.1f}{m['first_touch']['server_ms']['p95']:>10.1f}"
            f"{m['first_touch']['sql_ms']['p95']:>10.2f}{'≤' + format(m['target_p95_ms'], 'g'):>8}"
            f"  {'ok' if m['meets_target'] else 'MISSED'}"
            f"  {'rows = SQL' if m['rows_equal_sql'] else 'ROWS DIFFER FROM SQL'}")
    t = r["throughput"]
    log(f"  c. cached JSON: {t['requests_per_s']:,.0f} req/s, p50 {t['latency_ms']['p50']} ms, p99 "
        f"{t['latency_ms']['p99']} ms, {t['errors']} errors ({t['tool']}; target ≥ {t['target_rps']:g}/s, "
        f"0 errors: {'ok' if t['meets_target'] else 'MISSED'})")
    p = r["pdf"]
    if p.get("measured"):
        a = p["all_flemish_municipalities"]
        log(f"  d. PDF: p50 {p['per_pdf_s']['p50']:.2f} s, p95 {p['per_pdf_s']['p95']:.2f} s per sheet; "
            f"{a['written']}/{a['areas']} municipalities in {a['seconds']:.0f} s "
            f"(targets ≤ 2 s, ≤ 300 s: {'ok' if p['meets_target'] else 'MISSED'})")
    else:
        log(f"  d. PDF: not measured ({p['reason']})")
    if r.get("sqlite_measured"):
        q = r["sqlite"]
        log(f"  SQLite copy ({q['observations']:,} rows, {q['file_mb']:,.0f} MB):")
        for key, label in (("map", "a. map JSON"), ("factsheet_wijk", "b. fact sheet, wijk"),
                           ("factsheet_gemeente", "b. fact sheet, municipality")):
            m = q[key]
            log(f"  {label:<30}{m['server_ms']['p50']:>7.1f}{m['server_ms']['p95']:>7.1f}{m['sql_ms']['p50']:>8.2f}"
                f"{m['sql_ms']['p95']:>8.2f}{m['ratio_p50']:>6.1f}{m['first_touch']['server_ms']['p95']:>10.1f}"
                f"{m['first_touch']['sql_ms']['p95']:>10.2f}{'≤' + format(m['target_p95_ms'], 'g'):>8}"
                f"  {'ok' if m['meets_target'] else 'MISSED'}"
                f"  {'rows = SQL' if m['rows_equal_sql'] else 'ROWS DIFFER FROM SQL'}")
    log(f"  load average (1 min) around the runs: {r.get('loadavg')}")


if __name__ == "__main__":
    sys.exit(main())
