"""The warehouse export (`obmi export warehouse`) on 20 million observations and 1 million budget
lines (PostgreSQL, synthetic values), against DuckDB writing the same rows as the floor; and
PostgreSQL reads of observations unpartitioned vs. partitioned by indicator (LIST) and by period
(RANGE), for docs/scaling.md.

    PYTHONPATH=src python benchmarks/warehouse_bench.py [--reuse] [--target-rows 20000000]
        [--budget-lines 1000000] [--skip-partitioning] [--repeat 5] [--keep]

**The data is synthetic**: the observations are site_bench's scale-up (`obmi_scale_main`: the real
geography, 56 indicators × 14,298 areas × 25 years; built by site_bench's own code when missing
or, without --reuse, always), the plan (20 beleidsdoelstellingen, 200 actieplannen, 2,000 acties)
and its budget lines (ramingen of two plan versions, realisaties per quarter) are generated here.

Setup, not timed: a scratch database `obmi_bench_<random>` cloned from `obmi_scale_main`
(`CREATE DATABASE … TEMPLATE`), the plan and budget lines written with SQL; dropped at the end,
also on errors, Ctrl-C and SIGTERM (unless --keep). Timed: a full internal export (everything,
as an administrator), the same again (no change: writes nothing), an incremental export after one
indicator changed (an import of one period of it through the operations), with sizes on disk.
The floor: DuckDB's postgres scanner is not available offline here (its extension is downloaded
on first use), so the floor is DuckDB writing the same rows from Arrow (`COPY (SELECT …) TO …
(FORMAT parquet, PARTITION_BY indicator_code, COMPRESSION zstd)`), after one COPY of the same
rows out of PostgreSQL into Arrow (timed apart). JSON on stdout, a summary on stderr, exit 0.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
import site_bench as sb  # noqa: E402

from obmi import operations as ops  # noqa: E402
from obmi.store import open_database  # noqa: E402

from benchlib import log  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
YEARS = list(range(2000, 2025))


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ensure_scaled(args: argparse.Namespace) -> dict:
    url = make_url(args.pg).set(database=sb.DB_NAME).render_as_string(hide_password=False)
    if args.reuse and sb.database_exists(args.pg, sb.DB_NAME):
        db = open_database(url)
        try:
            state = sb.scaled_state(db)
            with db.unguarded_engine.connect() as conn:
                expected = sb.make_plan(conn, YEARS, args.target_rows).key()
        finally:
            db.dispose()
        if state and sb.plan_of(state) == expected and state["count"] == expected["rows"]:
            log(f"reusing {sb.DB_NAME}: {state['count']:,} observations")
            return {"reused": True, "rows": state["count"]}
    log(f"building {sb.DB_NAME} with site_bench ({args.target_rows:,} rows)")
    built = sb.build_scaled(args.pg, url, args.shared / "geo", YEARS, args.target_rows)
    return {"reused": False, "rows": built["plan"]["rows"], "build_timings_s": built["timings_s"]}


def clone(args: argparse.Namespace, name: str) -> str:
    engine = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{sb.DB_NAME}"'))
    engine.dispose()
    return make_url(args.pg).set(database=name).render_as_string(hide_password=False)


PLAN_SQL = """
INSERT INTO organisation (code, name, kind, is_host, created_at)
  VALUES ('benchstad', 'Benchstad (synthetisch)', 'gemeente', false, now()) ON CONFLICT DO NOTHING;
INSERT INTO budget_entity (organisation, code, name, kind) VALUES ('benchstad', 'G', 'Gemeente en OCMW', 'gemeente_ocmw');
INSERT INTO import_run (kind, file_name, sha256, rows_in, rows_ok, rows_rejected, rows_skipped, inserted, updated,
                        unchanged, derived, "user", started, finished, status, message)
  VALUES ('synthetic', 'warehouse_bench plan and budget lines (synthetic)', repeat('0', 64), 0, 0, 0, 0, 0, 0, 0, 0,
          'warehouse_bench', now(), now(), 'ok', '');
INSERT INTO plan (organisation, budget_entity_id, code, title, start_year, end_year, created_at)
  SELECT 'benchstad', max(id), 'MJP2026', 'Meerjarenplan 2026-2031 (synthetisch)', 2026, 2031, now() FROM budget_entity;
INSERT INTO plan_version (plan_id, number, kind, label, motivering, layout, import_id, created_at, created_by)
  SELECT p.id, v, CASE WHEN v = 1 THEN 'meerjarenplan' ELSE 'aanpassing' END, 'v' || v, '', 'synthetic',
         (SELECT max(id) FROM import_run), now(), 'warehouse_bench'
  FROM plan p, generate_series(1, 2) v WHERE p.code = 'MJP2026';
-- 20 beleidsdoelstellingen, 200 actieplannen, 2,000 acties
INSERT INTO plan_item (plan_id, code, kind, priority, owner, tags, publish, row_version)
  SELECT p.id, k.code, k.kind, k.n % 7 = 0, NULL, '[]', k.n % 2 = 0, 1 FROM plan p,
  (SELECT 'BD' || lpad(n::text, 2, '0') AS code, 'beleidsdoelstelling' AS kind, n FROM generate_series(1, 20) n
   UNION ALL SELECT 'AP' || lpad(n::text, 3, '0'), 'actieplan', n FROM generate_series(1, 200) n
   UNION ALL SELECT 'AC' || lpad(n::text, 4, '0'), 'actie', n FROM generate_series(1, 2000) n) k
  WHERE p.code = 'MJP2026';
INSERT INTO plan_item_version (version_id, item_id, parent_id, position, title_short, title_long, description,
                               beleidsdomein)
  SELECT v.id, i.id,
         CASE WHEN i.kind = 'actieplan' THEN (SELECT id FROM plan_item WHERE code = 'BD' ||
                lpad((1 + (substr(i.code, 3)::int - 1) / 10)::text, 2, '0'))
              WHEN i.kind = 'actie' THEN (SELECT id FROM plan_item WHERE code = 'AP' ||
                lpad((1 + (substr(i.code, 3)::int - 1) / 10)::text, 3, '0')) END,
         i.id, i.kind || ' ' || i.code, '', '', CASE WHEN i.kind = 'beleidsdoelstelling' THEN
           lpad((substr(i.code, 3)::int % 10)::text, 1, '0') || '0' END
  FROM plan_item i, plan_version v WHERE v.plan_id = i.plan_id;
INSERT INTO plan_amount (version_id, item_id, year, direction, amount)
  SELECT v.id, i.id, y, 'uitgave', 1000 + (i.id * 37 + y * 11) % 50000
  FROM plan_item i JOIN plan_version v ON v.plan_id = i.plan_id, generate_series(2026, 2031) y WHERE i.kind = 'actie';
"""

# 1,000,000 lines: for each actie, ramingen of both versions and realisaties per quarter.
BUDGET_SQL = """
INSERT INTO budget_line (plan_id, budget_entity_id, version_id, item_id, item_code, kind, year, quarter, category,
                         direction, beleidsitem, account, envelope, amount, import_id, line)
SELECT p.id, p.budget_entity_id,
       CASE WHEN g % 3 = 0 THEN NULL ELSE (SELECT min(id) FROM plan_version) + g % 2 END,
       a.id, a.code, CASE WHEN g % 3 = 0 THEN 'realisatie' ELSE 'raming' END, 2026 + g % 6,
       CASE WHEN g % 3 = 0 THEN 1 + g % 4 END, (ARRAY['exploitatie', 'investering', 'financiering'])[1 + g % 3],
       CASE WHEN g % 5 = 0 THEN 'ontvangst' ELSE 'uitgave' END, '0' || (g % 10), '6' || lpad((g % 1000)::text, 5, '0'),
       NULL, round(((g::bigint * 7919) % 100000) / 3.0, 2), (SELECT max(id) FROM import_run), g
FROM generate_series(1, :n) g
JOIN plan p ON p.code = 'MJP2026'
JOIN (SELECT id, code, row_number() OVER (ORDER BY id) - 1 AS k FROM plan_item WHERE kind = 'actie') a ON a.k = g % 2000
"""


def add_plan(url: str, budget_lines: int) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in PLAN_SQL.split(";\n"):
            if statement.strip():
                conn.execute(text(statement))
        conn.execute(text(BUDGET_SQL), {"n": budget_lines})
        conn.execute(text("ANALYZE budget_line"))
    engine.dispose()
    return time.perf_counter() - started


def change_one_indicator(db, tmp: Path, code: str) -> float:
    """An import of one period of one indicator for a handful of municipalities (through the
    operations: derive, disclosure, data version, change log)."""
    path = tmp / "change.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "level", "area", "period", "value"])
        for area in ("11002", "44021", "12025", "24062", "71016"):
            writer.writerow([code, "gemeente", area, 2024, 123456])
    started = time.perf_counter()
    ops.import_observations(sb.bench_context(db), path)
    return time.perf_counter() - started


FLOOR_SELECT = """SELECT o.indicator AS indicator_code, o.area_id AS area_key, o.period,
  CASE WHEN o.disclosure IS NULL THEN o.value END AS value,
  CASE WHEN o.disclosure IS NULL THEN o.numerator END AS numerator,
  CASE WHEN o.disclosure IS NULL THEN o.denominator END AS denominator,
  CASE WHEN o.disclosure IS NULL THEN o.n END AS n,
  CASE WHEN o.disclosure IS NULL THEN o.ci_low END AS ci_low,
  CASE WHEN o.disclosure IS NULL THEN o.ci_high END AS ci_high,
  CASE WHEN o.disclosure IS NULL THEN o.status ELSE 'suppressed' END AS status, o.origin
FROM observation o"""
FLOOR_SCHEMA = pa.schema([("indicator_code", pa.string()), ("area_key", pa.int64()), ("period", pa.string()),
                          ("value", pa.float64()), ("numerator", pa.float64()), ("denominator", pa.float64()),
                          ("n", pa.float64()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
                          ("status", pa.string()), ("origin", pa.string())])


def floor(url: str, out: Path) -> dict:
    import duckdb
    started = time.perf_counter()
    buffer = io.BytesIO()
    with psycopg.connect(sb.psycopg_dsn(url)) as pg, pg.cursor() as cur:
        with cur.copy(f"COPY ({FLOOR_SELECT}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    rows = pacsv.read_csv(buffer, read_options=pacsv.ReadOptions(column_names=FLOOR_SCHEMA.names),
                          convert_options=pacsv.ConvertOptions(column_types=FLOOR_SCHEMA, strings_can_be_null=True,
                                                               quoted_strings_can_be_null=False))
    del buffer
    fetch = time.perf_counter() - started
    started = time.perf_counter()
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute(f"COPY (SELECT * FROM rows) TO '{out}' (FORMAT parquet, PARTITION_BY (indicator_code), "
                "COMPRESSION zstd)")
    con.close()
    write = time.perf_counter() - started
    return {"rows": rows.num_rows, "fetch_seconds": round(fetch, 2), "duckdb_write_seconds": round(write, 2),
            "bytes": du(out)}


# --- PostgreSQL partitioning ---------------------------------------------------------------------

PARTITIONED = {
    "list_by_indicator": "PARTITION BY LIST (indicator)",
    "range_by_period": "PARTITION BY RANGE (period)",
}


def build_partitioned(cur, name: str, indicators: list[str]) -> float:
    started = time.perf_counter()
    cur.execute(f"DROP TABLE IF EXISTS {name}")
    cur.execute(f"CREATE TABLE {name} (LIKE observation INCLUDING DEFAULTS) {PARTITIONED[name]}")
    if name == "list_by_indicator":
        for i, code in enumerate(indicators):
            cur.execute(f"CREATE TABLE {name}_{i} PARTITION OF {name} FOR VALUES IN ('{code}')")
    else:
        for start in range(1995, 2030, 5):
            cur.execute(f"CREATE TABLE {name}_{start} PARTITION OF {name} FOR VALUES FROM ('{start}') TO ('{start + 5}')")
        cur.execute(f"CREATE TABLE {name}_other PARTITION OF {name} DEFAULT")
    cur.execute(f"INSERT INTO {name} SELECT * FROM observation")
    cur.execute(f"CREATE INDEX ON {name} (indicator, period, area_id)")
    cur.execute(f"CREATE INDEX ON {name} (area_id, indicator)")
    cur.execute(f"VACUUM ANALYZE {name}")
    return time.perf_counter() - started


QUERIES = {
    "one_indicator_one_period_all_wijken": """SELECT a.code, o.value, o.status FROM area a
        LEFT JOIN {t} o ON o.area_id = a.id AND o.indicator = %(ind)s AND o.period = %(period)s
        WHERE a.level = 'ggw7'""",
    "one_area_all_indicators": "SELECT indicator, period, value FROM {t} WHERE area_id = %(area)s",
    "series_one_indicator_one_area": "SELECT period, value FROM {t} WHERE indicator = %(ind)s AND area_id = %(area)s",
    "one_indicator_all_periods_one_level": """SELECT count(*), sum(o.value) FROM {t} o JOIN area a ON a.id = o.area_id
        WHERE o.indicator = %(ind)s AND a.level = 'gemeente'""",
}


def measure_queries(cur, tables: list[str], params: list[dict], repeat: int) -> dict:
    out: dict[str, dict] = {}
    for query, sql in QUERIES.items():
        out[query] = {}
        for table in tables:
            times = []
            for p in params:
                cur.execute(sql.format(t=table), p)  # warm
                cur.fetchall()
                for _ in range(repeat):
                    t = time.perf_counter()
                    cur.execute(sql.format(t=table), p)
                    cur.fetchall()
                    times.append((time.perf_counter() - t) * 1000)
            out[query][table] = {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}
    return out


DUCKDB_QUERIES = {
    "one_indicator_one_period_all_wijken": """SELECT a.area_code, o.value, o.status FROM fact_observation o
        JOIN dim_area a USING (area_key) JOIN dim_period t USING (period_key)
        WHERE o.indicator_code = 'syn_010' AND t.period = '2017' AND a.level = 'ggw7'""",
    "one_area_all_indicators": """SELECT o.indicator_code, t.period, o.value FROM fact_observation o
        JOIN dim_area a USING (area_key) JOIN dim_period t USING (period_key)
        WHERE a.level = 'gemeente' AND a.area_code = '44021'""",
    "all_rows_mean_per_indicator_and_year": """SELECT o.indicator_code, t.year, avg(o.value), count(*)
        FROM fact_observation o JOIN dim_period t USING (period_key) GROUP BY ALL""",
    "sum_per_province_from_wijken": """SELECT a.provincie_code, sum(o.value) FROM fact_observation o
        JOIN dim_area a USING (area_key) WHERE a.level = 'ggw7' AND o.indicator_code = 'syn_001' GROUP BY ALL""",
}


def duckdb_queries(out: Path, repeat: int) -> dict:
    """DuckDB on one machine reading the export (views over read_parquet), median of `repeat`."""
    import duckdb
    con = duckdb.connect()
    con.execute(f"CREATE VIEW fact_observation AS SELECT * FROM read_parquet('{out}/fact_observation/**/*.parquet', "
                "hive_partitioning = true)")
    for name in ("dim_area", "dim_period"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out}/{name}/*.parquet')")
    found = {}
    for name, sql in DUCKDB_QUERIES.items():
        con.execute(sql).fetchall()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append((time.perf_counter() - t) * 1000)
        found[name] = {"p50_ms": round(statistics.median(times), 1)}
    con.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("OBMI_BENCH_POSTGRES_URL", sb.DEFAULT_PG))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--reuse", action="store_true", help=f"reuse {sb.DB_NAME} when it matches")
    parser.add_argument("--target-rows", type=int, default=20_000_000)
    parser.add_argument("--budget-lines", type=int, default=1_000_000)
    parser.add_argument("--skip-partitioning", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and the export")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result: dict = {"benchmark": "warehouse_bench", "synthetic": True, "at": datetime.now(UTC).isoformat(),
                    "machine": {"cpus": os.cpu_count()}, "notes": [
                        "DuckDB's postgres scanner is not available offline: the floor is DuckDB writing the same "
                        "rows from Arrow, after one COPY of them out of PostgreSQL (timed apart)"]}
    result["scale"] = ensure_scaled(args)
    name = f"obmi_bench_{uuid.uuid4().hex[:10]}"
    tmp = Path(tempfile.mkdtemp(prefix="warehouse_bench_"))
    try:
        t = time.perf_counter()
        url = clone(args, name)
        result["setup_seconds"] = {"clone": round(time.perf_counter() - t, 1),
                                   "plan_and_budget_lines": round(add_plan(url, args.budget_lines), 1)}
        log(f"scratch database {name}: {result['setup_seconds']}")
        db = open_database(url)
        ctx = sb.bench_context(db)
        out = tmp / "warehouse"
        runs = {}
        t = time.perf_counter()
        full = ops.export_warehouse(ctx, out, audience="internal", full=True)
        runs["full"] = {"seconds": round(time.perf_counter() - t, 2), "files_written": len(full.written),
                        "bytes": du(out), "rows": full.rows}
        log(f"full export: {runs['full']['seconds']} s, {du(out) / 1e6:.0f} MB, "
            f"{full.rows['fact_observation']:,} observations, {full.rows['fact_budget_line']:,} budget lines")
        t = time.perf_counter()
        again = ops.export_warehouse(ctx, out, audience="internal")
        runs["no_change"] = {"seconds": round(time.perf_counter() - t, 2), "files_written": len(again.written)}
        log(f"no-change export: {runs['no_change']['seconds']} s, {len(again.written)} files written")
        changed = "syn_001"
        import_seconds = change_one_indicator(db, tmp, changed)
        t = time.perf_counter()
        third = ops.export_warehouse(ctx, out, audience="internal")
        runs["one_indicator_changed"] = {"seconds": round(time.perf_counter() - t, 2), "written": third.written,
                                         "unchanged_files": len(third.unchanged),
                                         "import_seconds": round(import_seconds, 2)}
        log(f"after one indicator changed: {runs['one_indicator_changed']['seconds']} s, written {third.written}")
        result["export"] = runs
        result["duckdb_queries"] = duckdb_queries(out, args.repeat)
        log("DuckDB on the export: " + ", ".join(f"{k} {v['p50_ms']} ms" for k, v in result["duckdb_queries"].items()))
        db.dispose()

        floor_out = tmp / "floor"
        result["floor"] = floor(url, floor_out)
        result["floor"]["fetch_plus_write_seconds"] = round(result["floor"]["fetch_seconds"]
                                                            + result["floor"]["duckdb_write_seconds"], 2)
        result["ratio_to_floor"] = round(runs["full"]["seconds"] / result["floor"]["fetch_plus_write_seconds"], 2)
        result["ratio_to_duckdb_write"] = round(runs["full"]["seconds"] / result["floor"]["duckdb_write_seconds"], 2)
        log(f"floor: fetch {result['floor']['fetch_seconds']} s + DuckDB write {result['floor']['duckdb_write_seconds']} s "
            f"({result['floor']['bytes'] / 1e6:.0f} MB); export / floor = {result['ratio_to_floor']}")

        if not args.skip_partitioning:
            with psycopg.connect(sb.psycopg_dsn(url), autocommit=True) as pg, pg.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute("SELECT code FROM indicator ORDER BY code")
                indicators = [r[0] for r in cur.fetchall()]
                built = {n: round(build_partitioned(cur, n, indicators), 1) for n in PARTITIONED}
                log(f"partitioned copies built: {built}")
                cur.execute("SELECT id FROM area WHERE level = 'ggw7' ORDER BY code LIMIT 3")
                wijken = [r[0] for r in cur.fetchall()]
                params = [{"ind": ind, "period": period, "area": area}
                          for ind, period, area in zip(indicators[::20][:3], ("2010", "2017", "2024"), wijken)]
                result["postgres_partitioning"] = {
                    "build_seconds": built,
                    "queries": measure_queries(cur, ["observation", *PARTITIONED], params, args.repeat)}
                for query, by_table in result["postgres_partitioning"]["queries"].items():
                    log(f"  {query}: " + ", ".join(f"{t} {v['p50_ms']} ms" for t, v in by_table.items()))
    finally:
        if args.keep:
            log(f"kept {name} and {tmp}")
        else:
            sb.drop_database(args.pg, name)
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
