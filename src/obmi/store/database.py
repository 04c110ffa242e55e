"""Engine creation and schema management for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from obmi.errors import Conflict

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while an import writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
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
    return ScriptDirectory.from_config(config).get_current_head()


@dataclass
class Database:
    """A connected OBMi database. `engine.begin()` gives one transaction."""

    url: str
    engine: Engine
    # Set once the schema was found current: a web server then skips the check per request.
    # (Migrating a running installation means restarting its server, as with any schema change.)
    schema_ok: bool = field(default=False, repr=False, compare=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

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
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    return Database(url=url, engine=make_engine(url))
