"""The data state: one row holding the data version that every cache and ETag keys on. Every
successful write advances it in the transaction of the write, so a reader sees either the old
data with the old version or the new data with the new one.

The version only ever grows within one database: a restore replaces the data but not the data
state (it is a local table), and advances the version like any write, so the versions after a
restore were never served before. The epoch tells databases apart: a backup file gets an epoch
of its own, so a copy of it used as a database never answers an ETag of the original."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from obmi.store.tables import data_change, data_state


@dataclass(frozen=True)
class DataState:
    epoch: str  # tells databases apart: a restored copy never answers an older ETag of another
    version: int
    default_threshold: int | None  # threshold of the stored disclosure decisions (None: none yet)
    changed_at: datetime | None = None

    @property
    def tag(self) -> str:
        return f"{self.epoch}:{self.version}"


def new_epoch() -> str:
    """The epoch of another database (a backup file, which can itself be opened as a database:
    its versions must never be taken for those of the original)."""
    return str(uuid.uuid4())


def read_state(conn: Connection) -> DataState:
    row = conn.execute(select(data_state.c.epoch, data_state.c.version, data_state.c.default_threshold,
                              data_state.c.changed_at).where(data_state.c.id == 1)).one()
    return DataState(row.epoch, row.version, row.default_threshold, row.changed_at)


def advance(conn: Connection, *, default_threshold: int | None = None) -> DataState:
    """Next version (and, when given, the threshold the decisions were now made with)."""
    values: dict[str, object] = {"version": data_state.c.version + 1, "changed_at": datetime.now(UTC)}
    if default_threshold is not None:
        values["default_threshold"] = default_threshold
    conn.execute(update(data_state).where(data_state.c.id == 1).values(**values))
    return read_state(conn)


def record_changes(conn: Connection, version: int, touched: frozenset[tuple[str, str]]) -> None:
    """Log what the write that made `version` changed (for incremental exports)."""
    if touched:
        conn.execute(insert(data_change), [{"version": version, "scope": scope, "key": key[:80]}
                                           for scope, key in sorted(touched)])


def changes_since(conn: Connection, version: int) -> set[tuple[str, str]]:
    """(scope, key) of every write after `version`."""
    rows = conn.execute(select(data_change.c.scope, data_change.c.key).where(data_change.c.version > version)
                        .distinct())
    return {(row.scope, row.key) for row in rows}
