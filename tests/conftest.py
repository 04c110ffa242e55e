"""Shared fixtures. Storage tests run against SQLite and PostgreSQL; PostgreSQL missing is a
failure (never a skip): the URL comes from OBMI_TEST_POSTGRES_URL (CI sets it).

Markers (assigned here from what a test uses, so nobody forgets them):
    unit      no database, no browser
    db        a real database (SQLite, and PostgreSQL where parametrised)
    postgres  the PostgreSQL variant of a storage test
    browser   Playwright driving Debian's Chromium
The fast command is `pytest -m unit` (seconds); `pytest -m "not postgres and not browser"` adds the
SQLite storage tests (minutes).

Each test that writes gets its own database: `empty_db` (migrated, empty), `geo_db` (a clone of
the shared geography) or `loaded_clone` (a clone of geography plus every shared Statbel file).
Clones are cheap: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL. The
session-wide `loaded_db` is read-only (a test writing to it fails: see `_read_only`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import Settings, load_settings
from obmi.store import Database, open_database

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OBMI_SHARED_DATA", ROOT.parent / "shared" / "data"))
GEO = SHARED / "geo"
GEO2024 = SHARED / "geo2024"
STATBEL = SHARED / "statbel"
POPULATION_FILES = sorted(STATBEL.glob("TF_SOC_POP_STRUCT_*.txt.gz"))
INCOME_FILE = STATBEL / "TF_PSNL_INC_TAX_MUNTY.txt.gz"
LAND_FILES = sorted((STATBEL / "land_use").glob("TF_EAE_LAND_OCCUPTN_*.txt.gz"))
FLUVIUS = SHARED / "swing" / "fluvius_verbruik_statsec2019_2018-2021.xlsx"
PG_URL = os.environ.get("OBMI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
DB_FIXTURES = {"empty_db", "geo_db", "loaded_db", "loaded_clone", "pg_server", "db_factory", "db_factories", "templates"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in str(item.path):
            item.add_marker("browser")
            continue
        callspec = getattr(item, "callspec", None)
        params = set(map(str, callspec.params.values())) if callspec else set()
        uses_db = bool(DB_FIXTURES & set(getattr(item, "fixturenames", ()))) or item.get_closest_marker("db")
        if "postgresql" in params or "postgres" in params:
            item.add_marker("postgres")
        if uses_db:
            item.add_marker("db")
        elif not item.get_closest_marker("postgres"):
            item.add_marker("unit")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert GEO.is_dir() and POPULATION_FILES, f"the shared data is missing at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings({})


class PostgresServer:
    """Creates throw-away databases on the test server and drops them at the end."""

    def __init__(self, url: str):
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database(self, template: str | None = None) -> str:
        name = f"obmi_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer(PG_URL)
    try:
        with server.admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 — any connection problem must fail loudly
        pytest.fail(f"PostgreSQL is required for the storage tests and not reachable at {PG_URL}: {exc}")
    yield server
    server.drop_all()


# Mail of tests that do not read it goes here, never into the working directory (the default
# outbox is relative); tests that read mail pass settings with an outbox of their own.
_UNREAD_OUTBOX = tempfile.mkdtemp(prefix="obmi-test-outbox-")


def system(db: Database, settings: Settings | None = None) -> Context:
    """OBMi itself acting on `db` (setting up test data through the operations)."""
    return system_context(db, settings or load_settings({}, mail_outbox=_UNREAD_OUTBOX), "test-setup")


class DatabaseFactory:
    """Fresh migrated databases, and clones of a built one, on one back end."""

    def __init__(self, backend: str, tmp_path_factory, pg: PostgresServer | None):
        self.backend, self.tmp_path_factory, self.pg = backend, tmp_path_factory, pg
        self.opened: list[Database] = []

    def _open(self, url: str) -> Database:
        db = open_database(url)
        self.opened.append(db)
        return db

    def new(self) -> Database:
        if self.backend == "sqlite":
            db = self._open(f"sqlite:///{self.tmp_path_factory.mktemp('db') / 'obmi.db'}")
        else:
            assert self.pg is not None
            db = self._open(self.pg.new_database())
        ops.upgrade_database(system(db))
        return db

    def clone(self, template: Database) -> Database:
        """A copy of `template`, which is closed for good (PostgreSQL clones need it idle)."""
        template.dispose()
        if self.backend == "sqlite":
            source = Path(make_url(template.url).database)
            with sqlite3.connect(source) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            target = self.tmp_path_factory.mktemp("clone") / "obmi.db"
            shutil.copy(source, target)
            return self._open(f"sqlite:///{target}")
        assert self.pg is not None
        return self._open(self.pg.new_database(template=make_url(template.url).database))

    def close(self) -> None:
        for db in self.opened:
            db.dispose()


@pytest.fixture(scope="session")
def db_factories(tmp_path_factory, request):
    """One DatabaseFactory per back end (PostgreSQL's asks for the server only when used)."""
    made: dict[str, DatabaseFactory] = {}

    def get(backend: str) -> DatabaseFactory:
        if backend not in made:
            pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
            made[backend] = DatabaseFactory(backend, tmp_path_factory, pg)
        return made[backend]

    yield get
    for factory in made.values():
        factory.close()


@pytest.fixture(params=BACKENDS)
def db_factory(request, db_factories) -> DatabaseFactory:
    return db_factories(request.param)


@pytest.fixture
def empty_db(db_factory):
    """A new, migrated, empty database on each back end."""
    db = db_factory.new()
    yield db
    db.dispose()  # PostgreSQL allows 100 connections: never keep a finished test's pool


class _Templates:
    """Built once per back end and session, then cloned per test."""

    def __init__(self) -> None:
        self.built: dict[tuple[str, str], Database] = {}

    def get(self, factory: DatabaseFactory, name: str, build) -> Database:
        key = (factory.backend, name)
        if key not in self.built:
            db = factory.new()
            build(system(db))
            db.dispose()
            self.built[key] = db
        return self.built[key]


@pytest.fixture(scope="session")
def templates() -> _Templates:
    return _Templates()


def load_geography(ctx: Context) -> None:
    ops.import_geography(ctx, GEO)


def load_everything(ctx: Context) -> None:
    load_geography(ctx)
    for path in POPULATION_FILES + [INCOME_FILE] + LAND_FILES:
        ops.import_statbel(ctx, path)


@pytest.fixture
def geo_db(db_factory, templates, shared_data) -> Database:
    """This test's own database with the shared geography (no data), on each back end."""
    db = db_factory.clone(templates.get(db_factory, "geo", load_geography))
    yield db
    db.dispose()


@pytest.fixture
def loaded_clone(db_factory, templates, shared_data) -> Database:
    """This test's own database with the geography and every shared Statbel file."""
    db = db_factory.clone(templates.get(db_factory, "loaded", load_everything))
    yield db
    db.dispose()


def _read_only(db: Database) -> None:
    """Refuse every write to a database that many tests read (each writer has its own clone)."""
    def refuse(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            raise AssertionError("this database is shared by many tests and read-only: write to your own "
                                 "(empty_db, geo_db, loaded_clone)")
    event.listen(db.unguarded_engine, "before_cursor_execute", refuse)


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_db(request, db_factories, templates, shared_data) -> Database:
    """The shared geography and every shared Statbel file, imported once per back end, for
    tests that only read."""
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "loaded", load_everything))
    _read_only(db)
    return db


# --- added for migrated tests ---

@pytest.fixture(scope="session")
def demo(tmp_path_factory, settings):
    """The demo installation (`obmi demo`: bundled data, demo organisation and accounts), built
    once per session on SQLite; returns OBMi acting on it. Read-only, like `loaded_db`."""
    from obmi.demo import build_demo
    ctx = build_demo(settings, tmp_path_factory.mktemp("demo") / "demo.db", echo=lambda _: None)
    _read_only(ctx.db)
    yield ctx
    ctx.db.dispose()


DB_FIXTURES.add("demo")  # a test using the demo uses a database (marker `db`)


@pytest.fixture(scope="module")
def public(demo) -> Context:
    """The anonymous public on the demo: what a page, download or fact sheet shows anyone."""
    from obmi.context import public_context
    return public_context(demo.db, demo.settings)


@pytest.fixture(scope="module")
def client(demo):
    """A test client of the demo site, one per module (a module asking pages in English clears
    the language cookie it leaves). Modules testing another database define their own `client`."""
    from fastapi.testclient import TestClient

    from obmi.web.app import create_app
    return TestClient(create_app(demo.settings, demo.db))
