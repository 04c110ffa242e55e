"""Provenance and atomicity shared by every import.

`run_import` records an `import_run` row in a transaction of its own (so a failed or dry run
stays logged), then does the work in the operation's transaction: any error rolls all of it
back, and the run is then marked failed with its rejected rows.

A process killed mid-import (kill -9, a crash, a reboot) cannot mark its run: the work is rolled
back with its transaction, but the run stays `running`. So each run records its process (host,
pid, start time), and the next import — or `obmi imports --cleanup` — marks the runs whose
process is gone `interrupted`.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterable, Iterator, Mapping, Protocol

from sqlalchemy import Connection, func, insert, or_, select, true, update

from obmi.errors import ImportRejected, NotFound, ObmiError
from obmi.imports.processes import ProcessId, is_gone, this_process
from obmi.store.tables import import_run, rejected_row
from obmi.timeutil import as_utc

if TYPE_CHECKING:
    from obmi.auth.actor import Actor
    from obmi.changes import ChangeSet

log = logging.getLogger(__name__)


class WriteUnit(Protocol):
    """What an import needs of the operation running it (obmi.operations.registry.Unit)."""

    @property
    def conn(self) -> Connection: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def changes(self) -> ChangeSet: ...
    @property
    def dry_run(self) -> bool: ...
    def autonomous(self) -> ContextManager[Connection]: ...
    def progress(self, phase: str, rows: int | None = None) -> None: ...
    def after_rollback(self, callback: Callable[[BaseException | None], None]) -> None: ...
    def settle(self) -> int: ...
    def audit(self, resource_type: str, resource_id: object, *, before: object = None, after: object = None,
              message: str = "") -> None: ...


@dataclass
class ImportStats:
    rows_in: int = 0
    rows_ok: int = 0
    rows_skipped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # source values an import cleared (Swing's clear options)
    derived: int = 0
    notes: list[str] = field(default_factory=list)  # messiness handled: reported, not fatal

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


@dataclass
class ImportResult:
    import_id: int
    status: str
    stats: ImportStats
    file_name: str
    kind: str = ""

    def summary(self) -> str:
        s = self.stats
        text = (f"import {self.import_id} ({self.status}): {s.rows_in} rows read, {s.rows_ok} ok, "
                f"{s.rows_skipped} skipped; {s.inserted} inserted, {s.updated} updated, "
                f"{s.unchanged} unchanged, {s.derived} derived values written"
                + (f"; {s.deleted} earlier values cleared" if s.deleted else ""))
        return "\n".join([text, *(f"  note: {n}" for n in s.notes)])


def file_sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _no_gc() -> Iterator[None]:
    """An import allocates hundreds of thousands of short-lived rows and frees them all at the
    end; the cyclic collector scanning them meanwhile costs ~15% of a Statbel import."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(unit: WriteUnit, *, kind: str, file_name: str, sha256: str,
               work: Callable[[Connection, int], ImportStats]) -> ImportResult:
    actor = unit.actor
    with unit.autonomous() as side:
        mark_interrupted(side)  # the next start of an import tidies up after killed ones
    process = this_process()
    with unit.autonomous() as side:
        run_id = side.execute(insert(import_run).values(
            kind=kind, file_name=file_name[:500], sha256=sha256, user=actor.label[:100], user_id=actor.user_id,
            organisation=actor.organisation, started=_now(), status="running", message="",
            process_host=process.host, process_id=process.pid,
            process_started=process.started)).inserted_primary_key[0]  # type: ignore[index]
    outcome: dict[str, ImportStats] = {}

    def on_rollback(exc: BaseException | None) -> None:
        with unit.autonomous() as side:
            if exc is None:  # a dry run: everything was validated and computed, then rolled back
                _finish(side, run_id, "dry_run", outcome.get("stats") or ImportStats())
            elif isinstance(exc, ImportRejected):
                _record_failure(side, run_id, str(exc.args[0]), exc.rejected, exc.rows_in)
            elif isinstance(exc, ObmiError):
                _record_failure(side, run_id, str(exc), [])
            else:
                _record_failure(side, run_id, f"internal error: {exc!r}", [])

    unit.after_rollback(on_rollback)
    unit.changes.import_id = run_id
    try:
        with _no_gc():
            unit.progress("reading")
            stats = work(unit.conn, run_id)
            unit.progress("deriving", stats.rows_in)
            stats.derived = unit.settle()
    except ImportRejected as exc:
        exc.import_id = run_id
        raise
    outcome["stats"] = stats
    status = "dry_run" if unit.dry_run else "ok" if stats.changed or stats.derived else "no_change"
    _finish(unit.conn, run_id, status, stats)
    unit.audit("import_run", run_id, after={"kind": kind, "file": file_name, "status": status,
                                            "rows_in": stats.rows_in, "inserted": stats.inserted,
                                            "updated": stats.updated, "derived": stats.derived})
    log.info("import finished", extra={"import_id": run_id, "kind": kind, "status": status})
    return ImportResult(run_id, status, stats, file_name, kind)


def _finish(conn: Connection, run_id: int, status: str, stats: ImportStats) -> None:
    conn.execute(update(import_run).where(import_run.c.id == run_id).values(
        status=status, finished=_now(), rows_in=stats.rows_in, rows_ok=stats.rows_ok,
        rows_skipped=stats.rows_skipped, inserted=stats.inserted, updated=stats.updated,
        unchanged=stats.unchanged, derived=stats.derived, message="\n".join(stats.notes)[:20000]))


def _record_failure(conn: Connection, run_id: int, message: str, rejected: list[tuple[int, str]],
                    rows_in: int = 0) -> None:
    conn.execute(update(import_run).where(import_run.c.id == run_id).values(
        status="failed", finished=_now(), rows_in=rows_in, rows_rejected=len(rejected), message=message[:20000]))
    if rejected:
        conn.execute(insert(rejected_row), [
            {"import_id": run_id, "line": line, "reason": reason} for line, reason in rejected])


# --- runs whose process is gone ---------------------------------------------------------------

def interrupted_runs(conn: Connection) -> list[dict]:
    """Runs still `running` whose process has ended without finishing them (killed, crashed, a
    reboot). Runs of another host, and runs from before processes were recorded, cannot be judged
    from here and are not among them."""
    rows = conn.execute(select(import_run.c.id, import_run.c.process_host, import_run.c.process_id,
                               import_run.c.process_started)
                        .where(import_run.c.status == "running", import_run.c.process_id.is_not(None)))
    return [dict(r._mapping) for r in rows if process_gone(r._mapping)]


def process_gone(run: Mapping[Any, Any]) -> bool | None:
    """Whether the process of a run has ended (None: not recorded, or another host's)."""
    if run["process_id"] is None:
        return None
    return is_gone(ProcessId(run["process_host"] or "", run["process_id"], as_utc(run["process_started"])))


def mark_interrupted(conn: Connection) -> list[int]:
    """Mark the interrupted runs `interrupted` (their work was rolled back with their transaction);
    returns their ids."""
    marked = []
    for run in interrupted_runs(conn):
        started = run["process_started"]
        since = f", started {as_utc(started):%Y-%m-%d %H:%M:%S} UTC" if started else ""
        message = (f"interrupted: its process (pid {run['process_id']}{since}) ended "
                   "before the import finished, so nothing of it was stored; import the file again")
        done = conn.execute(update(import_run).where(import_run.c.id == run["id"], import_run.c.status == "running")
                            .values(status="interrupted", finished=_now(), message=message))
        if done.rowcount:
            marked.append(run["id"])
    if marked:
        log.warning("import runs interrupted", extra={"import_ids": marked})
    return marked


def _visible_runs(organisation: str | None, everything: bool):
    """Runs an actor may see: administrators all; others those of their organisation (and the
    shared-data runs of no organisation, which concern everyone)."""
    if everything:
        return true()
    return or_(import_run.c.organisation == organisation, import_run.c.organisation.is_(None))


def list_runs(conn: Connection, *, organisation: str | None, everything: bool, limit: int = 100,
              offset: int = 0) -> tuple[list[dict], int]:
    where = _visible_runs(organisation, everything)
    total = conn.execute(select(func.count()).select_from(import_run).where(where)).scalar_one()
    rows = conn.execute(select(import_run).where(where).order_by(import_run.c.id.desc()).limit(limit).offset(offset))
    return [_with_liveness(r._mapping) for r in rows], total


def get_run(conn: Connection, run_id: int) -> dict:
    row = conn.execute(select(import_run).where(import_run.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no import run {run_id}")
    return _with_liveness(row._mapping)


PROCESS_COLUMNS = ("process_host", "process_id", "process_started")


def _with_liveness(row: Mapping[Any, Any]) -> dict:
    """The run as readers see it: for a `running` one whether its process is gone (not yet marked
    interrupted); the process itself (host name, pid) is the administrator's business."""
    run = {k: v for k, v in row.items() if k not in PROCESS_COLUMNS}
    run["process_gone"] = process_gone(row) if row["status"] == "running" else None
    return run


def rejected_rows(conn: Connection, run_id: int) -> list[tuple[int, str]]:
    rows = conn.execute(select(rejected_row.c.line, rejected_row.c.reason)
                        .where(rejected_row.c.import_id == run_id).order_by(rejected_row.c.line, rejected_row.c.id))
    return [(r.line, r.reason) for r in rows]


def report_csv(rejected: list[tuple[int, str]]) -> str:
    """The rejected rows as CSV (line, reason): `--report FILE` and the upload page's download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "reason"])
    writer.writerows(rejected)
    return out.getvalue()
