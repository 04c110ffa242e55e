#!/usr/bin/env python3
"""Benchmark: import one Statbel population file (TF_SOC_POP_STRUCT_2015, ~457,000 rows) into
SQLite and PostgreSQL, against the practical floor of pyarrow alone reading and grouping it.

What is timed, per backend (median and min of --repeat runs):
  * a FIRST import: `import_statbel` into a database that has the geography but no
    observations and no indicators yet (the real work: read, validate, group, write the
    municipality values, derive provinces, Flanders, 2025 municipalities and ratios);
  * a re-import of the same file right after it (`reimport_seconds`): compares, writes nothing.
Between repeats the observation, rejected_row and import_run rows (except the geography's own
import run, which the geography cache fingerprints) and the indicator rows are deleted in one
transaction, and the in-process geography cache is cleared, so every repeat is a cold first
import as `obmi import statbel` does it in a fresh process.

The floor: pyarrow.csv.read_csv of the same gzip file (only the columns the importer needs,
natural types) plus one group_by(municipality).aggregate(sum) — what no importer can beat.

Setup (not timed): one SQLite file in a temp dir and one scratch PostgreSQL database
`obmi_bench_<random>` on the server of $OBMI_BENCH_POSTGRES_URL / $OBMI_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped at the end even on error.
Both are migrated; the geography is imported once into SQLite and copied into PostgreSQL with
backup/restore (about 3x faster than a second import_geo).

Usage (from the repository root):
    PYTHONPATH=src python benchmarks/import_bench.py [--shared PATH] [--repeat N] [--profile]
Prints one JSON object on stdout; a readable comparison (and the profile) on stderr.
Exit code 0 whatever the timings; non-zero only when something fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import load_settings
from obmi.store.database import Database, open_database
from obmi.store.tables import import_run, indicator, observation, rejected_row

from benchlib import log, profile_call

REPO = Path(__file__).resolve().parent.parent
FILE_NAME = "TF_SOC_POP_STRUCT_2015.txt.gz"
FLOOR_COLUMNS = ["CD_MUNTY_REFNIS", "CD_RGN_REFNIS", "CD_YEAR", "CD_SEX", "CD_NATLTY",
                 "CD_CIV_STS", "CD_AGE", "MS_POPULATION"]
LIMIT_RATIO = 4.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USER = "benchmark"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --- the floor --------------------------------------------------------------------------------

def floor_once(path: Path) -> pa.Table:
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="|"),
                           convert_options=pacsv.ConvertOptions(include_columns=FLOOR_COLUMNS))
    grouped = table.group_by("CD_MUNTY_REFNIS").aggregate([("MS_POPULATION", "sum")])
    assert grouped.num_rows > 500, grouped.num_rows  # 589 municipalities
    return table


# --- databases --------------------------------------------------------------------------------

@contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    """A fresh database `obmi_bench_<random>` on the server of `base_url`, dropped afterwards."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    name = f"obmi_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def reset(db: Database) -> None:
    """Back to 'geography only': one transaction, children before parents."""
    with db.unguarded_engine.begin() as conn:
        conn.execute(delete(observation))
        conn.execute(delete(rejected_row))
        # The geography's own run stays: the geography cache fingerprints it.
        conn.execute(delete(import_run).where(import_run.c.kind != "geo"))
        conn.execute(delete(indicator))
    clear_geography_cache()


def clear_geography_cache() -> None:
    """Every timed import starts cold, like `obmi import statbel` in a fresh process."""
    from obmi.geo import graph
    cache = getattr(graph, "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def as_bench(db: Database) -> Context:
    return system_context(db, load_settings({}), USER)


def import_once(db: Database, path: Path):
    return ops.import_statbel(as_bench(db), path)


def measure_backend(name: str, db: Database, path: Path, repeat: int) -> dict:
    """Each import is timed right after a floor run, so both see the same machine load (on
    2 shared cores the floor alone varies 2×); the ratio is the median of the pairs' ratios."""
    firsts, reimports, floors, rows = [], [], [], None
    for i in range(repeat):
        reset(db)
        floors.append(timed(lambda: floor_once(path))[0])
        seconds, result = timed(lambda: import_once(db, path))
        if result.status != "ok" or not result.stats.inserted:
            raise RuntimeError(f"{name}: first import did not write anything ({result.summary()})")
        again, second = timed(lambda: import_once(db, path))
        if second.status != "no_change" or second.stats.inserted or second.stats.updated:
            raise RuntimeError(f"{name}: re-import was not a no-op ({second.summary()})")
        firsts.append(seconds)
        reimports.append(again)
        rows = result.stats.rows_in
        log(f"  {name} run {i + 1}/{repeat}: first import {seconds:.3f} s "
            f"({result.stats.inserted} inserted, {result.stats.derived} derived), "
            f"re-import {again:.3f} s")
    return {"seconds": statistics.median(firsts), "min_seconds": min(firsts),
            "ratio": statistics.median(f / fl for f, fl in zip(firsts, floors)),
            "floors": floors,
            "reimport_seconds": statistics.median(reimports), "rows": rows,
            "runs": [round(s, 4) for s in firsts]}


def profile_sqlite_import(db: Database, path: Path, top: int = 25) -> None:
    reset(db)
    # PyYAML is inflated about 5x under cProfile.
    profile_call(lambda: import_once(db, path),
                 lambda result: f"cProfile: one first import into SQLite ({result.status}), top {top} cumulative", top)


# --- main -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data",
                        help="the shared data folder (default: ../shared/data from the repository)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (default 3)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one SQLite import (top 25 cumulative, on stderr)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    path = args.shared / "statbel" / FILE_NAME
    geo_dir = args.shared / "geo"
    for needed in (path, geo_dir):
        if not needed.exists():
            parser.error(f"{needed} not found: pass --shared")
    pg_base = (os.environ.get("OBMI_BENCH_POSTGRES_URL") or os.environ.get("OBMI_TEST_POSTGRES_URL")
               or DEFAULT_PG)
    # SIGTERM → SystemExit, so the scratch database is dropped on `kill` too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    notes: list[str] = []

    log(f"floor: pyarrow read + group_by of {path.name} ({args.repeat} runs)")
    floor_once(path)  # warm the page cache and pyarrow's thread pool
    floors = []
    for _ in range(args.repeat):
        seconds, table = timed(lambda: floor_once(path))
        floors.append(seconds)
    floor = statistics.median(floors)
    floor_rows = table.num_rows
    log(f"  median {floor:.3f} s, min {min(floors):.3f} s, {floor_rows} rows")

    with tempfile.TemporaryDirectory(prefix="obmi_bench_") as tmp, scratch_postgres(pg_base) as pg_url:
        sqlite_db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        pg_db = open_database(pg_url)
        try:
            log("setup: migrate, import geography into SQLite, restore it into PostgreSQL")
            ops.upgrade_database(as_bench(sqlite_db))
            ops.upgrade_database(as_bench(pg_db))
            seconds, geo = timed(lambda: ops.import_geography(as_bench(sqlite_db), geo_dir))
            if geo.status != "ok":
                raise RuntimeError(f"geography import failed: {geo.summary()}")
            log(f"  import_geo into SQLite: {seconds:.1f} s")
            seconds, _ = timed(lambda: ops.backup_database(as_bench(sqlite_db), Path(tmp) / "geo.obmi-backup"))
            restore_seconds, _ = timed(lambda: ops.restore_database(as_bench(pg_db), Path(tmp) / "geo.obmi-backup"))
            log(f"  backup {seconds:.2f} s + restore into PostgreSQL {restore_seconds:.2f} s")

            results = {}
            for name, db in (("sqlite", sqlite_db), ("postgresql", pg_db)):
                log(f"{name}: {args.repeat} first imports (+ a re-import after each)")
                results[name] = measure_backend(name, db, path, args.repeat)
            if args.profile:
                profile_sqlite_import(sqlite_db, path)
        finally:
            sqlite_db.dispose()
            pg_db.dispose()

    rows = results["sqlite"]["rows"]
    if rows != floor_rows:
        notes.append(f"the importer read {rows} rows, pyarrow alone {floor_rows}")

    def summary(r: dict) -> dict:
        return {"seconds": round(r["seconds"], 4), "min_seconds": round(r["min_seconds"], 4),
                "rows_per_second": round(r["rows"] / r["seconds"]),
                "ratio_to_floor": round(r["ratio"], 2),
                "paired_floor_seconds": round(statistics.median(r["floors"]), 4),
                "reimport_seconds": round(r["reimport_seconds"], 4), "runs": r["runs"]}

    report = {
        "benchmark": "import_statbel_population",
        "file": path.name,
        "rows": rows,
        "repeat": args.repeat,
        "floor_seconds": round(floor, 4),
        "floor_min_seconds": round(min(floors), 4),
        "sqlite": summary(results["sqlite"]),
        "postgresql": summary(results["postgresql"]),
        "limit_ratio": LIMIT_RATIO,
        "sqlite_within_limit": results["sqlite"]["ratio"] <= LIMIT_RATIO,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "pyarrow": pa.__version__},
        "notes": notes,
    }

    log(f"\n=== import of {path.name} ({rows} rows), median of {args.repeat} ===")
    log(f"  {'':<12}{'seconds':>9}{'rows/s':>11}{'x floor':>9}{'re-import':>11}")
    log(f"  {'floor':<12}{floor:>9.3f}{round(floor_rows / floor):>11}{1:>9.2f}{'':>11}")
    for name in ("sqlite", "postgresql"):
        s = report[name]
        log(f"  {name:<12}{s['seconds']:>9.3f}{s['rows_per_second']:>11}{s['ratio_to_floor']:>9.2f}"
            f"{s['reimport_seconds']:>11.3f}")
    verdict = "within" if report["sqlite_within_limit"] else "OVER"
    log(f"  SQLite is {report['sqlite']['ratio_to_floor']:.2f}x the floor: {verdict} the limit of "
        f"{LIMIT_RATIO:g}x")
    for note in notes:
        log(f"  note: {note}")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
