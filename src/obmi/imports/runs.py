"""Provenance and atomicity shared by every import.

`run_import` records an `import_run` row in its own transaction (so a failed run stays logged),
then does the work in one transaction: any error rolls everything back.
"""

from __future__ import annotations

import csv
import gc
import getpass
import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import Connection, insert, select, update

from obmi.errors import ImportRejected, ObmiError
from obmi.store import Database
from obmi.store.tables import import_run, rejected_row

log = logging.getLogger(__name__)


@dataclass
class ImportStats:
    rows_in: int = 0
    rows_ok: int = 0
    rows_skipped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    derived: int = 0
    notes: list[str] = field(default_factory=list)  # messiness handled: reported, not fatal

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


@dataclass
class ImportResult:
    import_id: int
    status: str
    stats: ImportStats
    file_name: str

    def summary(self) -> str:
        s = self.stats
        text = (f"import {self.import_id} ({self.status}): {s.rows_in} rows read, {s.rows_ok} ok, "
                f"{s.rows_skipped} skipped; {s.inserted} inserted, {s.updated} updated, "
                f"{s.unchanged} unchanged, {s.derived} derived values written")
        return "\n".join([text, *(f"  note: {n}" for n in s.notes)])


class _DryRun(Exception):
    """Raised inside the transaction to roll back a dry run after full validation."""


def file_sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def current_user(configured: str = "") -> str:
    if configured:
        return configured
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def _no_gc():
    """An import allocates hundreds of thousands of short-lived rows and frees them all at the
    end; the cyclic collector scanning them meanwhile costs ~15% of a Statbel import."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(db: Database, *, kind: str, file_name: str, sha256: str, user: str,
               dry_run: bool, work: Callable[[Connection, int], ImportStats]) -> ImportResult:
    db.require_schema()
    with db.engine.begin() as conn:
        run_id = conn.execute(insert(import_run).values(
            kind=kind, file_name=file_name, sha256=sha256, user=user, started=_now(),
            status="running", message="")).inserted_primary_key[0]
    try:
        with db.engine.begin() as conn, _no_gc():
            stats = work(conn, run_id)
            if dry_run:
                raise _DryRun()
        status = "ok" if stats.changed else "no_change"
    except _DryRun:
        status = "dry_run"
    except ImportRejected as exc:
        exc.import_id = run_id
        _record_failure(db, run_id, str(exc.args[0]), exc.rejected, exc.rows_in)
        raise
    except ObmiError as exc:
        _record_failure(db, run_id, str(exc), [])
        raise
    except Exception as exc:
        _record_failure(db, run_id, f"internal error: {exc!r}", [])
        raise
    _finish(db, run_id, status, stats)
    log.info("import finished", extra={"import_id": run_id, "kind": kind, "status": status})
    return ImportResult(run_id, status, stats, file_name)


def _finish(db: Database, run_id: int, status: str, stats: ImportStats) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(import_run).where(import_run.c.id == run_id).values(
            status=status, finished=_now(), rows_in=stats.rows_in, rows_ok=stats.rows_ok,
            rows_skipped=stats.rows_skipped, inserted=stats.inserted, updated=stats.updated,
            unchanged=stats.unchanged, derived=stats.derived, message="\n".join(stats.notes)[:20000]))


def _record_failure(db: Database, run_id: int, message: str, rejected: list[tuple[int, str]],
                    rows_in: int = 0) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(import_run).where(import_run.c.id == run_id).values(
            status="failed", finished=_now(), rows_in=rows_in, rows_rejected=len(rejected),
            message=message[:20000]))
        if rejected:
            conn.execute(insert(rejected_row), [
                {"import_id": run_id, "line": line, "reason": reason} for line, reason in rejected])


def list_runs(db: Database, limit: int = 100) -> list[dict]:
    db.require_schema()
    with db.engine.connect() as conn:
        rows = conn.execute(select(import_run).order_by(import_run.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]


def rejected_rows(db: Database, run_id: int) -> list[tuple[int, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(rejected_row.c.line, rejected_row.c.reason)
                            .where(rejected_row.c.import_id == run_id).order_by(rejected_row.c.line))
        return [(r.line, r.reason) for r in rows]


def write_report(path: Path, rejected: list[tuple[int, str]]) -> None:
    """`--report FILE`: the rejected rows as CSV (line, reason)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason"])
        writer.writerows(rejected)
