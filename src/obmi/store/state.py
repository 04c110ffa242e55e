"""The data state: one row holding the data version that every cache and ETag keys on. Every
successful write advances it in the transaction of the write, so a reader sees either the old
data with the old version or the new data with the new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from obmi.store.tables import data_state


@dataclass(frozen=True)
class DataState:
    epoch: str  # tells databases apart: a restored copy never answers an older ETag of another
    version: int
    default_threshold: int | None  # threshold of the stored disclosure decisions (None: none yet)
    changed_at: datetime | None = None

    @property
    def tag(self) -> str:
        return f"{self.epoch}:{self.version}"


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
