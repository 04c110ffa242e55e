"""Engine creation and schema management for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from obmi.errors import Conflict

MIGRATIONS = Path(__file__).parent / "migrations"
# The named operation running in this thread/task, set by obmi.operations.registry: the store
# refuses to be used outside one, so no route or command can bypass the permission check,
# the transaction and the audit record.
_OPERATION: ContextVar[str | None] = ContextVar("obmi_operation", default=None)


@contextmanager
def operation_scope(name: str) -> Iterator[None]:
    token = _OPERATION.set(name)
    try:
        yield
    finally:
        _OPERATION.reset(token)


def current_operation() -> str | None:
    return _OPERATION.get()


class OutsideOperation(RuntimeError):
    """The store was used outside a named operation (a programming error, not a user error)."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while an import writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Up to 128 MiB of page cache per connection (the default is 2 MiB): a large import's index
    # pages stay in memory (grown only as used).
    cursor.execute("PRAGMA cache_size=-131072")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@lru_cache(maxsize=1)
def _head_revision() -> str:
    """The newest migration shipped with this OBMi (read once: the scripts do not change)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "OBMi ships its migrations"
    return head


@dataclass
class Database:
    """A connected OBMi database. Only named operations reach its engine (`engine`); tests,
    benchmarks and maintenance scripts that inspect the store independently use
    `unguarded_engine`."""

    url: str
    unguarded_engine: Engine
    # Set once the schema was found current: a web server then skips the check per request.
    # (Migrating a running installation means restarting its server, as with any schema change.)
    schema_ok: bool = field(default=False, repr=False, compare=False)

    @property
    def engine(self) -> Engine:
        if _OPERATION.get() is None:
            raise OutsideOperation("the store is used only inside a named operation (obmi.operations)")
        return self.unguarded_engine

    @property
    def is_postgres(self) -> bool:
        return self.unguarded_engine.dialect.name == "postgresql"

    def head_revision(self) -> str:
        return _head_revision()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema; returns (before, after) revisions."""
        before = self.current_revision()
        command.upgrade(alembic_config(self.engine), "head")
        return before, self.head_revision()

    def require_schema(self) -> None:
        """Refuse to work on a database that is not migrated to this version of OBMi."""
        if self.schema_ok:
            return
        current = self.current_revision()
        if current is None:
            raise Conflict(f"the database at {self.safe_url} has no OBMi schema: run `obmi db upgrade`")
        if current != self.head_revision():
            raise Conflict(f"the database schema is at revision {current}, this OBMi needs "
                           f"{self.head_revision()}: run `obmi db upgrade`")
        self.schema_ok = True

    @property
    def safe_url(self) -> str:
        return self.unguarded_engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.unguarded_engine.dispose()


def open_database(url: str) -> Database:
    return Database(url=url, unguarded_engine=make_engine(url))
