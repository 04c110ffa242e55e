"""The installation itself: schema, health, backup and restore, re-deriving everything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obmi.operations.registry import Unit, operation
from obmi.store import backup as store_backup
from obmi.store.state import DataState, read_state


@dataclass(frozen=True)
class DatabaseStatus:
    url: str
    revision: str | None
    head: str

    @property
    def current(self) -> bool:
        return self.revision == self.head


@operation("system.upgrade", needs_schema=False)
def upgrade_database(unit: Unit) -> tuple[str | None, str]:
    """Create or migrate the database schema; disclosure is decided again after a migration."""
    before, after = unit.ctx.db.upgrade()
    if before != after:
        unit.changes.redecide = True
    unit.audit("database", unit.ctx.db.safe_url, before={"revision": before}, after={"revision": after})
    return before, after


@operation("system.status", needs_schema=False)
def database_status(unit: Unit) -> DatabaseStatus:
    """The database URL and its schema revision against the one this OBMi needs."""
    db = unit.ctx.db
    return DatabaseStatus(db.safe_url, db.current_revision(), db.head_revision())


@operation("system.health")
def health(unit: Unit) -> DataState:
    """The service is up and its schema current: the data state."""
    return read_state(unit.conn)


@operation("statistics.read")
def data_version(unit: Unit) -> DataState:
    """The data version (and epoch) that caches and ETags key on."""
    return read_state(unit.conn)


@operation("system.backup", advances_version=False)
def backup_database(unit: Unit, path: Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Write a one-file backup (a SQLite database) of every OBMi table."""
    summary = store_backup.backup(unit.ctx.db, Path(path), overwrite=overwrite)
    unit.audit("backup", str(path), after={k: v for k, v in summary.items() if k != "tables"})
    return summary


@operation("system.restore")
def restore_database(unit: Unit, path: Path) -> dict[str, Any]:
    """Replace all data by a backup; everyone is signed out and disclosure is decided again."""
    summary = store_backup.restore(unit.ctx.db, Path(path), unit.conn)
    unit.changes.redecide = True
    unit.changes.other = True
    unit.audit("backup", str(path), after={"restored": summary["tables"], "revision": summary["revision"]})
    return summary


@operation("data.derive")
def rederive_all(unit: Unit) -> int:
    """Recompute every derived value and every disclosure decision; returns rows written."""
    unit.changes.everything = True
    written = unit.settle()
    unit.audit("data", "", after={"derived_written": written})
    return written
