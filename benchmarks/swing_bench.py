#!/usr/bin/env python3
"""Benchmark: import a Swing upload of about one million values (synthetic values on the real
statistical-sector codes, 10 indicators x 10 years) into SQLite and PostgreSQL, against the
practical floor of pyarrow alone reading the file, reshaping it to long form and grouping it.

THE VALUES ARE SYNTHETIC; the codes are real. The file has one row per (period, statsec code)
— every code of ../shared/data/geo/area_definitions/statsec.xlsx (10,902, including the 308
"sector unknown" ...ZZZZ codes) for 2015-2024: 109,020 file rows — and one column per
indicator: 10 x 109,020 = 1,090,200 values ("rows" in the issue's sense: one stored observation
per value). Five count indicators (is_count: whole numbers, about 3 % below 5, so disclosure
suppresses cells) and five amounts (one decimal), drawn with seeded numpy; about 0.1 % of the
cells hold one of Swing's special values (-99996 empty, -99997 hidden, -99998 not applicable,
-99999 unknown). The CSV (`;`-separated) is written once, untimed, to a temp dir.

What is timed, per backend (median and min of --repeat runs):
  * a FIRST import: `ops.import_swing` into a database that has the geography and the
    catalogue of the ten indicators but no observations (read, validate, resolve the sectors,
    write them, derive wijken, municipalities, ..., Flanders, and decide disclosure);
  * a re-import of the same file right after it (`reimport_seconds`): compares, writes nothing.
Between repeats the observation and rejected_row rows and the import runs other than the
geography's and the catalogue's are deleted in one transaction and the in-process geography
cache is cleared, so every repeat is a cold first import, as `obmi import swing` in a fresh
process.

The floor: pyarrow.csv.read_csv of the same file (natural types), reshaped to long form (one
table per indicator column — period, geoitem, indicator, value — concatenated) and one
group_by(municipality = first 5 characters of the code, indicator, period).aggregate(sum).

Setup (not timed), as import_bench.py: a SQLite file in a temp dir and a scratch PostgreSQL
database `obmi_bench_<random>` on the server of $OBMI_BENCH_POSTGRES_URL / $OBMI_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped at the end even on error.
Both are migrated; the geography and the catalogue are imported once into SQLite and copied
into PostgreSQL with backup/restore.

Usage (from the repository root):
    PYTHONPATH=src python benchmarks/swing_bench.py [--shared PATH] [--repeat N]
        [--sectors N] [--backends sqlite,postgresql] [--profile [sqlite|postgresql]]
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
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, TypeVar

import import_bench as ib
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml
from python_calamine import CalamineWorkbook
from sqlalchemy import delete, func, select

from obmi import operations as ops
from obmi.store.database import Database, open_database
from obmi.store.observations import INSERTED
from obmi.store.tables import area, import_run, observation, rejected_row

from benchlib import log, profile_call

FILE_NAME = "swing_statsec_synthetic.csv"
LEVEL = "statsec"
YEARS = list(range(2015, 2025))
COUNTS = [f"bench_swing_n{i}" for i in range(1, 6)]
AMOUNTS = [f"bench_swing_a{i}" for i in range(1, 6)]
INDICATORS = COUNTS + AMOUNTS
SPECIALS = np.array([-99996, -99997, -99998, -99999])
SPECIAL_SHARE = 0.001   # of the cells: one of Swing's special values
SMALL_SHARE = 0.03      # of the count cells: forced to 0-4 (below the threshold of 5)
SEED = 20261203
DELIMITER = ";"
LIMIT_RATIO = ib.LIMIT_RATIO
KEPT_RUNS = ("geo", "catalogue")  # the setup's own import runs survive a reset
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --- the file (untimed) ------------------------------------------------------------------------

def sector_codes(shared: Path) -> list[str]:
    """Every code of the statistical-sector definitions (column `geoitem code`)."""
    book = CalamineWorkbook.from_path(str(shared / "geo" / "area_definitions" / "statsec.xlsx"))
    table = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    column = [str(h).strip().lower() for h in table[0]].index("geoitem code")
    return sorted({str(row[column]).strip() for row in table[1:] if str(row[column]).strip()})


def write_upload(path: Path, codes: list[str]) -> dict:
    """The Swing CSV: period, geolevel, geoitem and one column per indicator; seeded values."""
    rng = np.random.default_rng(SEED)
    n = len(codes) * len(YEARS)
    period = np.repeat(np.array(YEARS, dtype=np.int64), len(codes))
    geoitem = np.tile(np.array(codes, dtype=object), len(YEARS))
    # A sector has a size (people), stable over the years; each indicator is a share of it.
    size = np.tile(rng.lognormal(np.log(600), 0.8, len(codes)), len(YEARS))
    columns: dict[str, pa.Array] = {"period": pa.array(period), "geolevel": pa.array([LEVEL] * n),
                                    "geoitem": pa.array(geoitem, type=pa.string())}
    small = specials = 0
    for i, code in enumerate(COUNTS):
        values = rng.poisson(size * (0.05 + 0.15 * i)).astype(np.int64)
        forced = rng.random(n) < SMALL_SHARE
        values[forced] = rng.integers(0, 5, int(forced.sum()))
        special = rng.random(n) < SPECIAL_SHARE
        values[special] = rng.choice(SPECIALS, int(special.sum()))
        small += int(((values > 0) & (values < 5)).sum())
        specials += int(special.sum())
        columns[code] = pa.array(values)
    for i, code in enumerate(AMOUNTS):
        values = np.round(size * rng.lognormal(np.log(10.0 * (i + 1)), 0.5, n), 1)
        special = rng.random(n) < SPECIAL_SHARE
        values[special] = rng.choice(SPECIALS, int(special.sum()))
        specials += int(special.sum())
        columns[code] = pa.array(values)
    table = pa.table(columns)
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=DELIMITER, quoting_style="needed"))
    return {"file_rows": n, "values": n * len(INDICATORS), "small_counts": small, "special_values": specials,
            "bytes": path.stat().st_size}


def catalogue_file(folder: Path) -> Path:
    items = [{"code": code, "name_nl": f"Benchmark telling {i}", "name_en": f"Benchmark count {i}",
              "unit": "aantal", "is_count": True, "source": "synthetic (swing_bench.py)"}
             for i, code in enumerate(COUNTS, start=1)]
    items += [{"code": code, "name_nl": f"Benchmark bedrag {i}", "name_en": f"Benchmark amount {i}",
               "unit": "kwh", "decimals": 1, "source": "synthetic (swing_bench.py)"}
              for i, code in enumerate(AMOUNTS, start=1)]
    path = folder / "swing_bench_catalogue.yaml"
    path.write_text(yaml.safe_dump({"indicators": items}, allow_unicode=True), encoding="utf-8")
    return path


# --- the floor ---------------------------------------------------------------------------------

def floor_once(path: Path) -> pa.Table:
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=DELIMITER))
    parts = []
    for code in INDICATORS:
        value = table.column(code).cast(pa.float64())
        parts.append(pa.table({"period": table.column("period"), "geoitem": table.column("geoitem"),
                               "indicator": pa.repeat(pa.scalar(code), table.num_rows), "value": value}))
    long = pa.concat_tables(parts)
    long = long.append_column("municipality", pc.utf8_slice_codeunits(long.column("geoitem"), 0, 5))
    grouped = long.group_by(["municipality", "indicator", "period"]).aggregate([("value", "sum")])
    assert grouped.num_rows > 1000, grouped.num_rows  # ~350 municipality codes x 10 x 10
    return long


# --- databases ---------------------------------------------------------------------------------

def reset(db: Database) -> None:
    """Back to 'geography and catalogue only': one transaction, children before parents."""
    with db.unguarded_engine.begin() as conn:
        conn.execute(delete(observation))
        conn.execute(delete(rejected_row))
        conn.execute(delete(import_run).where(import_run.c.kind.not_in(KEPT_RUNS)))
    ib.clear_geography_cache()


def import_once(db: Database, path: Path):
    return ops.import_swing(ib.as_bench(db), path)


def stored(db: Database) -> dict:
    """What the first import left (untimed): observations per origin, cells withheld."""
    with db.unguarded_engine.connect() as conn:
        by_origin = select(observation.c.origin, func.count()).group_by(observation.c.origin)
        origins: dict[str, int] = {origin: count for origin, count in conn.execute(by_origin)}
        withheld = conn.execute(select(func.count()).select_from(observation)
                                .where(observation.c.disclosure.is_not(None))).scalar_one()
        source_sectors = conn.execute(
            select(func.count()).select_from(observation.join(area, observation.c.area_id == area.c.id))
            .where(observation.c.origin == "source", area.c.level == LEVEL)).scalar_one()
    return {"by_origin": origins, "withheld": withheld, "source_sector_values": source_sectors}


def write_floor(db: Database, path: Path) -> float:
    """The physical limit of storing the file: its values as ready tuples (codes resolved,
    special values as NULL), sorted by key, written by the driver alone (SQLite executemany,
    PostgreSQL COPY) into the indexed observation table — no OBMi code — then rolled back."""
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=DELIMITER)).to_pydict()
    with db.unguarded_engine.connect() as conn:
        ids = {r.code: r.id for r in conn.execute(select(area.c.id, area.c.code).where(area.c.level == LEVEL))}
    rows = sorted(((code, ids[str(g)], str(p), "year", None if float(v) <= -99996 else float(v), "final", None,
                    None, None, None, None, "source", None)
                   for i, (g, p) in enumerate(zip(table["geoitem"], table["period"]))
                   for code in INDICATORS for v in (table[code][i],)), key=lambda r: (r[0], r[2], r[1]))
    columns = ", ".join(INSERTED)
    with db.unguarded_engine.connect() as conn:
        with conn.begin() as tx:
            started = time.perf_counter()
            if conn.dialect.name == "postgresql":
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                with cursor.copy(f"COPY observation ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                conn.exec_driver_sql(f"INSERT INTO observation ({columns}) VALUES ({', '.join('?' for _ in INSERTED)})",
                                     rows)
            seconds = time.perf_counter() - started
            tx.rollback()
    return seconds


def measure_backend(name: str, db: Database, path: Path, repeat: int, values: int) -> dict:
    """Each import is timed right after a floor run, so both see the same machine load; the
    ratio is the median of the pairs' ratios (as import_bench.py)."""
    firsts, reimports, floors, last, store = [], [], [], None, {}
    for i in range(repeat):
        reset(db)
        floors.append(timed(lambda: floor_once(path))[0])
        seconds, result = timed(lambda: import_once(db, path))
        if result.status != "ok" or result.stats.inserted != values:
            raise RuntimeError(f"{name}: first import did not write the {values} values ({result.summary()})")
        store = stored(db)
        again, second = timed(lambda: import_once(db, path))
        if second.status != "no_change" or second.stats.inserted or second.stats.updated \
                or second.stats.unchanged != values:
            raise RuntimeError(f"{name}: re-import was not a no-op ({second.summary()})")
        firsts.append(seconds)
        reimports.append(again)
        last = result
        log(f"  {name} run {i + 1}/{repeat}: first import {seconds:.2f} s "
            f"({result.stats.inserted} inserted, {result.stats.derived} derived, "
            f"{store['withheld']} cells withheld), re-import {again:.2f} s (floor {floors[-1]:.3f} s)")
    assert last is not None
    reset(db)
    writes = write_floor(db, path)
    log(f"  {name} write floor (the driver alone storing the {values} values): {writes:.2f} s")
    return {"seconds": statistics.median(firsts), "min_seconds": min(firsts), "write_floor": writes,
            "ratio": statistics.median(f / fl for f, fl in zip(firsts, floors)), "floors": floors,
            "reimport_seconds": statistics.median(reimports), "runs": [round(s, 3) for s in firsts],
            "reimport_runs": [round(s, 3) for s in reimports], "rows_in": last.stats.rows_in,
            "inserted": last.stats.inserted, "derived": last.stats.derived, "notes": last.stats.notes,
            "stored": store}


def profile_import(name: str, db: Database, path: Path, top: int = 25) -> None:
    reset(db)
    profile_call(lambda: import_once(db, path),
                 lambda result: f"cProfile: one first Swing import into {name} ({result.status}), top {top} cumulative",
                 top)


# --- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ib.REPO.parent / "shared" / "data",
                        help="the shared data folder (default: ../shared/data from the repository)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per backend (default 3)")
    parser.add_argument("--sectors", type=int, default=0,
                        help="use only the first N sector codes of a seeded shuffle (default: all)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated (default both)")
    parser.add_argument("--profile", nargs="?", const="sqlite", choices=("sqlite", "postgresql"),
                        help="also profile one more first import (default backend sqlite), on stderr")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgresql"}:
        parser.error("--backends takes sqlite and/or postgresql")
    if args.profile and args.profile not in backends:
        parser.error(f"--profile {args.profile}: that backend is not in --backends")
    geo_dir = args.shared / "geo"
    if not (geo_dir / "area_definitions" / "statsec.xlsx").exists():
        parser.error(f"{geo_dir} has no area_definitions/statsec.xlsx: pass --shared")
    pg_base = (os.environ.get("OBMI_BENCH_POSTGRES_URL") or os.environ.get("OBMI_TEST_POSTGRES_URL")
               or ib.DEFAULT_PG)
    # SIGTERM → SystemExit, so the scratch database is dropped on `kill` too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    notes: list[str] = []
    load_at_start = [round(x, 2) for x in os.getloadavg()]

    codes = sector_codes(args.shared)
    all_codes = len(codes)
    if args.sectors:
        shuffled = list(codes)
        np.random.default_rng(SEED).shuffle(shuffled)
        codes = sorted(shuffled[:args.sectors])
        notes.append(f"--sectors {args.sectors}: {len(codes)} of the {all_codes} sector codes")

    with tempfile.TemporaryDirectory(prefix="obmi_bench_") as tmp:
        path = Path(tmp) / FILE_NAME
        seconds, shape = timed(lambda: write_upload(path, codes))
        log(f"setup: wrote {path.name} ({shape['file_rows']} rows x {len(INDICATORS)} indicators = "
            f"{shape['values']} values, {shape['bytes'] / 1e6:.1f} MB) in {seconds:.1f} s")

        log(f"floor: pyarrow read + reshape + group_by of {path.name} ({args.repeat} runs)")
        floor_once(path)  # warm the page cache and pyarrow's thread pool
        floors = []
        for _ in range(args.repeat):
            seconds, long = timed(lambda: floor_once(path))
            floors.append(seconds)
        floor = statistics.median(floors)
        floor_values = long.num_rows
        del long
        log(f"  median {floor:.3f} s, min {min(floors):.3f} s, {floor_values} long rows")

        scratch = ib.scratch_postgres(pg_base) if "postgresql" in backends else nullcontext(None)
        with scratch as pg_url:
            sqlite_db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            pg_db = open_database(pg_url) if pg_url else None
            dbs = {"sqlite": sqlite_db, **({"postgresql": pg_db} if pg_db is not None else {})}
            try:
                log("setup: migrate, import geography and catalogue into SQLite, restore them into PostgreSQL")
                ops.upgrade_database(ib.as_bench(sqlite_db))
                seconds, geo = timed(lambda: ops.import_geography(ib.as_bench(sqlite_db), geo_dir))
                if geo.status != "ok":
                    raise RuntimeError(f"geography import failed: {geo.summary()}")
                cat = ops.import_catalogue(ib.as_bench(sqlite_db), catalogue_file(Path(tmp)))
                if cat.status != "ok":
                    raise RuntimeError(f"catalogue import failed: {cat.summary()}")
                log(f"  import_geo into SQLite: {seconds:.1f} s; catalogue: {len(INDICATORS)} indicators")
                if pg_db is not None:
                    ops.upgrade_database(ib.as_bench(pg_db))
                    backup = Path(tmp) / "geo.obmi-backup"
                    seconds, _ = timed(lambda: ops.backup_database(ib.as_bench(sqlite_db), backup))
                    restore_seconds, _ = timed(lambda: ops.restore_database(ib.as_bench(pg_db), backup))
                    log(f"  backup {seconds:.2f} s + restore into PostgreSQL {restore_seconds:.2f} s")
                with sqlite_db.unguarded_engine.connect() as conn:
                    known = conn.execute(select(func.count()).select_from(area)
                                         .where(area.c.level == LEVEL)).scalar_one()
                if known != all_codes:
                    notes.append(f"the geography has {known} {LEVEL} areas, statsec.xlsx {all_codes} codes")

                results = {}
                for name in backends:
                    log(f"{name}: {args.repeat} first imports (+ a re-import after each)")
                    results[name] = measure_backend(name, dbs[name], path, args.repeat, shape["values"])
                if args.profile:
                    profile_import(args.profile, dbs[args.profile], path)
            finally:
                for db in dbs.values():
                    db.dispose()

    for name, r in results.items():
        if r["rows_in"] != shape["file_rows"]:
            notes.append(f"{name}: the importer read {r['rows_in']} rows, the file has {shape['file_rows']}")
    if floor_values != shape["values"]:
        notes.append(f"the floor reshaped {floor_values} values, the file has {shape['values']}")

    def summary(r: dict) -> dict:
        return {"seconds": round(r["seconds"], 3), "min_seconds": round(r["min_seconds"], 3),
                "rows_per_second": {"values": round(shape["values"] / r["seconds"]),
                                    "file_rows": round(shape["file_rows"] / r["seconds"])},
                "ratio_to_floor": round(r["ratio"], 2),
                "write_floor_seconds": round(r["write_floor"], 3),
                "ratio_to_write_floor": round(r["seconds"] / r["write_floor"], 2),
                "paired_floor_seconds": round(statistics.median(r["floors"]), 4),
                "within_limit": r["ratio"] <= LIMIT_RATIO,
                "reimport_seconds": round(r["reimport_seconds"], 3), "runs": r["runs"],
                "reimport_runs": r["reimport_runs"], "inserted": r["inserted"], "derived": r["derived"],
                "stored": r["stored"], "import_notes": r["notes"]}

    report = {
        "benchmark": "import_swing_statsec",
        "synthetic": "values synthetic (seeded numpy), on the real statsec codes of the shared geography",
        "file": FILE_NAME,
        "level": LEVEL,
        "sectors": len(codes),
        "years": f"{YEARS[0]}-{YEARS[-1]}",
        "indicators": {"counts": len(COUNTS), "amounts": len(AMOUNTS)},
        "file_rows": shape["file_rows"],
        "values": shape["values"],
        "small_counts": shape["small_counts"],
        "special_values": shape["special_values"],
        "file_mb": round(shape["bytes"] / 1e6, 1),
        "repeat": args.repeat,
        "floor_seconds": round(floor, 4),
        "floor_min_seconds": round(min(floors), 4),
        **{name: summary(r) for name, r in results.items()},
        "limit_ratio": LIMIT_RATIO,
        "machine": {"cpus": os.cpu_count(), "load_average_start": load_at_start,
                    "load_average_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "pyarrow": pa.__version__},
        "notes": notes,
    }

    log(f"\n=== Swing import of {shape['file_rows']} rows x {len(INDICATORS)} indicators = {shape['values']} "
        f"values (synthetic), median of {args.repeat} ===")
    log(f"  {'':<12}{'seconds':>9}{'values/s':>11}{'rows/s':>9}{'x floor':>9}{'re-import':>11}")
    log(f"  {'floor':<12}{floor:>9.3f}{round(shape['values'] / floor):>11}"
        f"{round(shape['file_rows'] / floor):>9}{1:>9.2f}{'':>11}")
    for name in results:
        s = report[name]
        log(f"  {name:<12}{s['seconds']:>9.2f}{s['rows_per_second']['values']:>11}"
            f"{s['rows_per_second']['file_rows']:>9}{s['ratio_to_floor']:>9.2f}{s['reimport_seconds']:>11.2f}")
    for name in results:
        verdict = "within" if report[name]["within_limit"] else "OVER"
        log(f"  {name} is {report[name]['ratio_to_floor']:.2f}x the floor: {verdict} the limit of {LIMIT_RATIO:g}x")
    for note in notes:
        log(f"  note: {note}")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
