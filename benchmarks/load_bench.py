#!/usr/bin/env python3
"""Bounded load test of the demo site: 50 connections for 60 s over a mix of pages, API answers
and GeoJSON, then 10,000 distinct requests with made-up parameters; errors and server memory
against fixed limits.

    PYTHONPATH=src .venv/bin/python benchmarks/load_bench.py [--connections 50] [--duration 60]
        [--junk 10000] [--no-settle] [--database FILE]

The demo database (`obmi.demo.build_demo`: real Statbel and Fluvius data, bundled with OBMi) is
built in a temporary folder (or `--database FILE`, built when missing or of an older schema).
`obmi serve` runs it as a separate process on 127.0.0.1 and a free port, with only the OBMI_*
settings set here (the open-data rate limit off; the rest defaults: a 64 MB response cache).

1. idle: the server's resident memory (VmRSS of /proc/PID/status) once its start-up (and PDF
   warm-up) is over and every URL of the mix answered 200 once.
2. load: `--connections` asyncio workers (one httpx connection each) request the mix round-robin
   for `--duration` seconds: 7 pages, 8 API answers, 4 GeoJSON maps (one of 1.5 MB); requests,
   errors (transport errors, timeouts and HTTP statuses ≥ 400), p50/p95 latency, overall and per
   kind; RSS after it.
3. settle: as many ordinary requests as junk ones (`--junk`, the same mix without made-up
   parameters) on the same connections; RSS after them. A server under 50 connections keeps
   growing for a few minutes after the first 60 s (glibc's per-thread arenas, SQLite's page cache
   of each pooled connection) and then levels off; without this phase that warm-up would be
   counted as the junk requests' growth. `--no-settle` skips it (the junk growth is then measured
   from the RSS after the load).
4. junk: `--junk` requests, each URL of the mix with a distinct made-up parameter
   (`?…&junk<N>=<random>`, as cache-busters and scanners send), on the same connections; RSS
   after them. The response cache is keyed on the parameters a route knows, so these must not
   grow it.

Limits, checked in the same run (exit 1 when one is missed): no error in any phase, and the
server's RSS after the junk requests less than 50 MB above its RSS before them. Also reported:
the growth from the RSS after the load, and RSS after everything against idle (issue 14's goal:
within 2× of idle). JSON on stdout, a summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import log  # noqa: E402

LIMITS = {"errors": 0, "junk_growth_mb": 50.0}
GOAL_RSS_RATIO = 2.0  # issue 14: RSS after the benchmark within 2× of idle (reported, not enforced)
MIX = {
    "page": ["/", "/indicatoren", "/indicatoren/share_65plus?area=44021", "/gebieden/gemeente/44021",
             "/vergelijk?area=gemeente:44021&area=gemeente:11002&area=gewest:2000", "/zoeken?q=gent+inkomen",
             "/dashboards/demografie"],
    "api": ["/api/v1/indicators", "/api/v1/indicators/pop_total?level=gemeente",
            "/api/v1/observations?indicator=pop_total&level=gemeente",
            "/api/v1/observations?indicator=share_65plus&level=gemeente",
            "/api/v1/series?indicator=pop_total&area=gemeente:44021&ancestors=true",
            "/api/v1/factsheets/gemeente/44021", "/api/v1/search?q=gent", "/api/v1/areas/suggest?q=ant"],
    "geojson": ["/api/v1/levels/gemeente/geojson", "/api/v1/levels/gemeente/geojson?detail=full",
                "/api/v1/levels/ggw7/geojson", "/api/v1/levels/provincie/geojson?detail=full"],
}


# --- the server -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_database(path: Path | None, folder: Path) -> Path:
    """The demo database: `path` when it is current, else built (there or in `folder`)."""
    from obmi import operations as ops
    from obmi.context import system_context
    from obmi.demo import build_demo
    from obmi.settings import load_settings
    from obmi.store import open_database

    target = path or folder / "demo.db"
    settings = load_settings({}, database_url=f"sqlite:///{target}", mail_outbox=str(folder / "outbox"))
    if target.exists():
        db = open_database(settings.database_url)
        try:
            if ops.database_status(system_context(db, settings, "load_bench")).current:
                return target
        finally:
            db.dispose()
    log(f"building the demo database {target} …")
    started = time.perf_counter()
    build_demo(settings, target, echo=lambda _: None).db.dispose()
    log(f"  built in {time.perf_counter() - started:.0f} s")
    return target


class Server:
    """`obmi serve` on the demo database, in a process (and session) of its own."""

    def __init__(self, database: Path, folder: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
        env.update(OBMI_DATABASE_URL=f"sqlite:///{database}", OBMI_LOG_LEVEL="WARNING",
                   OBMI_OPEN_DATA_RATE_PER_MINUTE="0", OBMI_MAIL_OUTBOX=str(folder / "outbox"))
        obmi = Path(sys.executable).with_name("obmi")
        command = [str(obmi)] if obmi.exists() else [sys.executable, "-m", "obmi.cli"]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command + ["serve", "--host", "127.0.0.1", "--port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"obmi serve did not start: {self.errors()}")
            time.sleep(0.2)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS for the server process")

    def settled_rss_mb(self, seconds: float = 3.0) -> float:
        """RSS once it stops moving (background work, such as the PDF warm-up, done)."""
        previous = self.rss_mb()
        for _ in range(int(seconds * 5)):
            time.sleep(0.2)
            now = self.rss_mb()
            if abs(now - previous) < 0.5:
                return now
            previous = now
        return previous

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the load ------------------------------------------------------------------------------------------

@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in MIX})
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(map(len, self.latencies.values()))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def summary(tally: Tally, seconds: float) -> dict:
    every = [v for values in tally.latencies.values() for v in values]
    ms = lambda values, q: round(pct(values, q) * 1000, 1)  # noqa: E731
    return {"requests": tally.requests, "seconds": round(seconds, 1),
            "requests_per_s": round(tally.requests / seconds, 1) if seconds else None,
            "errors": len(tally.errors), "error_examples": tally.errors[:5],
            "p50_ms": ms(every, 50), "p95_ms": ms(every, 95), "max_ms": round(max(every, default=0) * 1000, 1),
            "by_kind": {kind: {"requests": len(v), "p50_ms": ms(v, 50), "p95_ms": ms(v, 95)}
                        for kind, v in tally.latencies.items()}}


async def drive(base: str, connections: int, jobs, stop_at: float | None = None) -> Tally:
    """`connections` workers taking (kind, url) from the shared iterator `jobs` until it ends (or
    until `stop_at`, a perf_counter time)."""
    tally = Tally()

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=1)) as client:
            for kind, url in jobs:
                if stop_at is not None and time.perf_counter() >= stop_at:
                    return
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    if response.status_code >= 400:
                        tally.errors.append(f"{url}: HTTP {response.status_code}")
                except httpx.HTTPError as exc:
                    tally.errors.append(f"{url}: {type(exc).__name__} {exc}")
                tally.latencies[kind].append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(connections)))
    return tally


def mix_forever():
    urls = [(kind, url) for kind, group in MIX.items() for url in group]
    while True:
        yield from urls


def junk_requests(n: int):
    urls = [(kind, url) for kind, group in MIX.items() for url in group]
    for i in range(n):
        kind, url = urls[i % len(urls)]
        yield kind, f"{url}{'&' if '?' in url else '?'}junk{i}={secrets.token_hex(6)}"


def check_mix(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for group in MIX.values():
            for url in group:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--junk", type=int, default=10_000)
    parser.add_argument("--no-settle", action="store_true", help="no ordinary requests between the load and the junk")
    parser.add_argument("--database", type=Path, help="demo database to use (built when missing or outdated)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="obmi-load-bench-") as tmp:
        folder = Path(tmp)
        database = demo_database(args.database, folder)
        server = Server(database, folder)
        try:
            server.wait_ready()
            check_mix(server.base)
            idle = server.settled_rss_mb()
            log(f"`obmi serve` (pid {server.proc.pid}) on {server.base}: idle {idle:.0f} MB; "
                f"{args.connections} connections for {args.duration:g} s …")
            started = time.perf_counter()
            load = asyncio.run(drive(server.base, args.connections, mix_forever(), started + args.duration))
            load_seconds = time.perf_counter() - started
            after_load = server.settled_rss_mb()
            log(f"  {load.requests} requests, {len(load.errors)} errors; RSS {after_load:.0f} MB.")
            settle, settle_seconds, after_settle = Tally(), 0.0, after_load
            if not args.no_settle:
                log(f"  {args.junk} ordinary requests …")
                started = time.perf_counter()
                settle = asyncio.run(drive(server.base, args.connections, islice(mix_forever(), args.junk)))
                settle_seconds = time.perf_counter() - started
                after_settle = server.settled_rss_mb()
                log(f"  {len(settle.errors)} errors; RSS {after_settle:.0f} MB.")
            log(f"  {args.junk} made-up-parameter requests …")
            started = time.perf_counter()
            junk = asyncio.run(drive(server.base, args.connections, junk_requests(args.junk)))
            junk_seconds = time.perf_counter() - started
            after_junk = server.settled_rss_mb()
        finally:
            server.stop()
            stderr = server.errors()
    errors = len(load.errors) + len(settle.errors) + len(junk.errors)
    growth = after_junk - after_settle
    result = {
        "benchmark": "load_bench", "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "connections": args.connections, "mix": {kind: len(urls) for kind, urls in MIX.items()},
        "load": summary(load, load_seconds),
        "settle": summary(settle, settle_seconds) if not args.no_settle else None,
        "junk": summary(junk, junk_seconds),
        "rss_mb": {"idle": round(idle, 1), "after_load": round(after_load, 1),
                   "after_settle": round(after_settle, 1) if not args.no_settle else None,
                   "after_junk": round(after_junk, 1)},
        "junk_growth_mb": round(growth, 1), "growth_since_load_mb": round(after_junk - after_load, 1),
        "rss_ratio_to_idle": round(after_junk / idle, 2),
        "limits": {**LIMITS, "rss_ratio_goal": GOAL_RSS_RATIO},
        "within_limits": {"errors": errors <= LIMITS["errors"], "junk_growth_mb": growth < LIMITS["junk_growth_mb"]},
        "meets_rss_ratio_goal": after_junk / idle <= GOAL_RSS_RATIO,
        "server_stderr": stderr[-1000:] if stderr.strip() else "",
    }
    print(json.dumps(result, indent=2))
    for name in ("load", "settle", "junk"):
        phase = result[name]
        if phase is None:
            continue
        log(f"{name}: {phase['requests']} requests in {phase['seconds']} s ({phase['requests_per_s']}/s), "
            f"{phase['errors']} errors, p50 {phase['p50_ms']} ms, p95 {phase['p95_ms']} ms")
    log(f"RSS idle {idle:.0f} MB, after load {after_load:.0f} MB, before the junk {after_settle:.0f} MB, after it "
        f"{after_junk:.0f} MB (junk growth {growth:+.1f} MB, limit < {LIMITS['junk_growth_mb']:g}; since the load "
        f"{after_junk - after_load:+.1f} MB; {after_junk / idle:.2f}× idle)")
    missed = [name for name, ok in result["within_limits"].items() if not ok]
    if missed:
        log(f"LIMITS MISSED: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
