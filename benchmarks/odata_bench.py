"""The OData service (/odata/, docs/odata.md) on 20 million observations (PostgreSQL, synthetic
values): what a Power BI refresh costs, next to the raw SQL for the same rows.

    PYTHONPATH=src python benchmarks/odata_bench.py [--reuse] [--target-rows 20000000]
        [--level statsec] [--page-size 5000] [--repeat 3] [--deep-skip 200000]

The database is warehouse_bench's (site_bench's scale-up `obmi_scale_main`: the real geography, 56
indicators × 14,298 areas × 25 years), built when missing or, without --reuse, always; it is only
read here. A real `obmi serve` (rate limit off) answers over HTTP:

- refresh — what Power BI's OData connector does for one table: one indicator, every area of a
  level, every period, `$filter=indicator eq … and level eq …`, following @odata.nextLink to the
  end (keyset paging: a $skiptoken per page). Rows/s and per-page p50/p95, and the raw SQL that
  reads the same rows and columns (psycopg, one query, all rows fetched) — the ratio is printed;
- incremental — an incremental-refresh window: the same plus `period_start ge Y-01-01 and
  period_start lt Y+1-01-01` (one year), also against its raw SQL;
- depth — one page at $skiptoken depth N (the link the refresh followed) and one at explicit
  `$skip=N` (an offset: what a client that pages by itself sends), against the first page.

JSON on stdout, a summary on stderr, exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
import site_bench as sb  # noqa: E402
import warehouse_bench as wb  # noqa: E402

from benchlib import log  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, page_size: int) -> tuple[subprocess.Popen, str]:
    """`obmi serve` with the rate limit off and the page size asked (only OBMI_* we set)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(OBMI_DATABASE_URL=url, OBMI_LOG_LEVEL="WARNING", OBMI_OPEN_DATA_RATE_PER_MINUTE="0",
               OBMI_ODATA_PAGE_SIZE=str(page_size))
    log_file = tempfile.TemporaryFile()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("obmi")), "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    log_file.seek(0)
    raise RuntimeError(f"obmi serve did not start:\n{log_file.read().decode(errors='replace')[-3000:]}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def follow(client: httpx.Client, url: str, params: dict[str, str] | None) -> dict:
    """Every page of a collection: rows, seconds per page, the next links seen."""
    times, links, rows = [], [], 0
    next_url: str | None = url
    while next_url:
        t = time.perf_counter()
        response = client.get(next_url, params=params)
        response.raise_for_status()
        body = response.json()
        times.append(time.perf_counter() - t)
        rows += len(body["value"])
        params = None
        next_url = body.get("@odata.nextLink")
        if next_url:
            links.append(next_url)
    return {"rows": rows, "pages": len(times), "seconds": sum(times), "page_s": times, "links": links}


def summary(run: dict) -> dict:
    return {"rows": run["rows"], "pages": run["pages"], "seconds": round(run["seconds"], 3),
            "rows_per_s": round(run["rows"] / run["seconds"]), "page_p50_ms": round(pct(run["page_s"], 0.5) * 1000, 1),
            "page_p95_ms": round(pct(run["page_s"], 0.95) * 1000, 1)}


def raw_sql(dsn: str, sql: str, params: tuple) -> dict:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        cur.execute(sql, params)
        rows = len(cur.fetchall())
        seconds = time.perf_counter() - t
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds) if seconds else None}


RAW = """SELECT o.indicator, a.level, a.code, a.name, o.period, o.period_type,
       CASE WHEN o.disclosure IS NULL THEN o.value END, CASE WHEN o.disclosure IS NULL THEN o.status ELSE 'suppressed' END,
       o.disclosure, o.origin
FROM observation o JOIN area a ON a.id = o.area_id
WHERE o.indicator = %s AND a.level = %s AND NOT a.is_unknown {extra}
ORDER BY o.indicator, o.period, o.area_id"""


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("OBMI_BENCH_POSTGRES_URL", sb.DEFAULT_PG))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--reuse", action="store_true", help=f"reuse {sb.DB_NAME} when it matches")
    parser.add_argument("--target-rows", type=int, default=20_000_000)
    parser.add_argument("--level", default="statsec")
    parser.add_argument("--indicator", default="")
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--deep-skip", type=int, default=200_000)
    args = parser.parse_args()

    scaled = wb.ensure_scaled(args)
    url = make_url(args.pg).set(database=sb.DB_NAME).render_as_string(hide_password=False)
    dsn = sb.psycopg_dsn(url)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        indicator = args.indicator or cur.execute("SELECT min(indicator) FROM observation").fetchone()[0]
        years = [r[0] for r in cur.execute("SELECT DISTINCT period FROM observation WHERE indicator = %s ORDER BY 1",
                                            (indicator,)).fetchall()]
    window_year = int(years[-1][:4])
    proc, base = serve(url, args.page_size)
    try:
        client = httpx.Client(timeout=300)
        odata = f"{base}/odata/Observations"
        level_filter = f"indicator eq '{indicator}' and level eq '{args.level}'"
        window = f"period_start ge {window_year}-01-01 and period_start lt {window_year + 1}-01-01"
        client.get(f"{base}/odata/Periods").raise_for_status()  # the known periods, once per data version
        refreshes = [follow(client, odata, {"$filter": level_filter}) for _ in range(args.repeat)]
        refresh = best(refreshes)
        raw = best([raw_sql(dsn, RAW.format(extra=""), (indicator, args.level)) for _ in range(args.repeat)])
        incremental_runs = [follow(client, odata, {"$filter": f"{level_filter} and {window}"})
                            for _ in range(args.repeat)]
        incremental = best(incremental_runs)
        raw_window = best([raw_sql(dsn, RAW.format(extra="AND o.period = %s"), (indicator, args.level,
                                                                                   str(window_year)))
                           for _ in range(args.repeat)])
        # depth: the first page, the page at the deepest keyset link, and an explicit $skip
        first = min(follow(client, odata, {"$filter": level_filter, "$top": str(args.page_size)})["seconds"]
                    for _ in range(args.repeat))
        deepest = refresh["links"][-1] if refresh["links"] else None
        skip = min(args.deep_skip, max(0, refresh["rows"] - args.page_size))
        keyset_deep = skip_deep = None
        if deepest:
            keyset_deep = min(follow(client, deepest, None)["seconds"] for _ in range(args.repeat))
        skip_deep = min(follow(client, odata, {"$filter": level_filter, "$skip": str(skip),
                                               "$top": str(args.page_size)})["seconds"] for _ in range(args.repeat))
    finally:
        proc.terminate()
        proc.wait(15)
    result = {
        "benchmark": "odata", "database": {"observations": scaled["rows"], "reused": scaled["reused"],
                                           "backend": "postgresql"},
        "indicator": indicator, "level": args.level, "page_size": args.page_size, "repeat": args.repeat,
        "refresh": {**summary(refresh), "raw_sql": raw,
                    "ratio_raw_to_odata": round(raw["rows_per_s"] / (refresh["rows"] / refresh["seconds"]), 2)},
        "incremental": {"filter": window, **summary(incremental), "raw_sql": raw_window,
                        "ratio_raw_to_odata": round(raw_window["rows_per_s"] / max(1, incremental["rows"] /
                                                                                   incremental["seconds"]), 2)},
        "depth": {"first_page_ms": round(first * 1000, 1),
                  "keyset_page_at_depth": {"rows_before": refresh["rows"] - args.page_size if deepest else 0,
                                           "ms": round(keyset_deep * 1000, 1) if keyset_deep else None},
                  "explicit_skip": {"skip": skip, "ms": round(skip_deep * 1000, 1)}},
        "refresh_page_s_all_runs": [round(statistics.median(r["page_s"]) * 1000, 1) for r in refreshes],
    }
    log(f"refresh: {result['refresh']['rows']:,} rows in {result['refresh']['pages']} pages, "
        f"{result['refresh']['rows_per_s']:,} rows/s (raw SQL {raw['rows_per_s']:,} rows/s, ratio "
        f"{result['refresh']['ratio_raw_to_odata']}×), page p95 {result['refresh']['page_p95_ms']} ms")
    log(f"incremental ({window}): {result['incremental']['rows']:,} rows, {result['incremental']['seconds']} s, "
        f"ratio {result['incremental']['ratio_raw_to_odata']}×")
    log(f"depth: first page {result['depth']['first_page_ms']} ms, keyset at depth "
        f"{result['depth']['keyset_page_at_depth']['ms']} ms, $skip={skip:,} {result['depth']['explicit_skip']['ms']} ms")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
