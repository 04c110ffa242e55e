"""Shared fixtures. Storage tests run against SQLite and PostgreSQL; PostgreSQL missing is a
failure (never a skip): the URL comes from OBMI_TEST_POSTGRES_URL (CI sets it)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from obmi.context import Context
from obmi.settings import load_settings
from obmi.store import Database, open_database

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OBMI_SHARED_DATA", ROOT.parent / "shared" / "data"))
GEO = SHARED / "geo"
STATBEL = SHARED / "statbel"
POPULATION_FILES = sorted(STATBEL.glob("TF_SOC_POP_STRUCT_*.txt.gz"))
INCOME_FILE = STATBEL / "TF_PSNL_INC_TAX_MUNTY.txt.gz"
LAND_FILES = sorted((STATBEL / "land_use").glob("TF_EAE_LAND_OCCUPTN_*.txt.gz"))
PG_URL = os.environ.get("OBMI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert GEO.is_dir() and POPULATION_FILES, f"the shared data is missing at {SHARED}"
    return SHARED


class PostgresServer:
    """Creates throw-away databases on the test server and drops them at the end."""

    def __init__(self, url: str):
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"obmi_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
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


def fresh_database(backend: str, tmp_path: Path, pg_server_factory) -> Database:
    if backend == "sqlite":
        db = open_database(f"sqlite:///{tmp_path / 'obmi.db'}")
    else:
        db = open_database(pg_server_factory().new_database())
    db.upgrade()
    return db


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path) -> Database:
    """A new, migrated, empty database on each back end."""
    db = fresh_database(request.param, tmp_path, lambda: request.getfixturevalue("pg_server"))
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def ctx() -> Context:
    return Context(user="test", roles=frozenset({"admin"}), settings=load_settings({}))


def _load_everything(db: Database, ctx: Context) -> Database:
    from obmi import operations as ops
    ops.import_geography(ctx, db, GEO)
    ops.import_statbel(ctx, db, POPULATION_FILES + [INCOME_FILE] + LAND_FILES)
    return db


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_db(request, tmp_path_factory, ctx, shared_data) -> Database:
    """The shared geography and every shared Statbel file, imported once per back end.
    Tests using it must leave its data as they found it (failed imports do)."""
    db = fresh_database(request.param, tmp_path_factory.mktemp("loaded"),
                        lambda: request.getfixturevalue("pg_server"))
    _load_everything(db, ctx)
    yield db
    db.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def geo_db(request, tmp_path_factory, ctx, shared_data) -> Database:
    """The shared geography only, once per back end. Tests that add data use their own
    indicator codes so they do not disturb each other."""
    from obmi import operations as ops
    db = fresh_database(request.param, tmp_path_factory.mktemp("geo"),
                        lambda: request.getfixturevalue("pg_server"))
    ops.import_geography(ctx, db, GEO)
    yield db
    db.dispose()
