"""Backup and restore, on SQLite and PostgreSQL and across the two.

PostgreSQL is required: an unreachable server makes these tests fail, never skip.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from obmi.errors import Conflict, ValidationError
from obmi.store.backup import backup, restore
from obmi.store.database import Database, open_database
from obmi.store.tables import (TABLE_ORDER, area, area_geometry, area_level, area_link, import_run, indicator,
                               observation, rejected_row)

PG_URL = os.environ.get("OBMI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BRUSSELS = timezone(timedelta(hours=1))


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_url():
    """A fresh, migrated PostgreSQL database for this module, dropped afterwards."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"obmi_bk_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
        # A non-UTC session time zone shows whether timestamps survive the SQLite round trip.
        conn.execute(text(f"ALTER DATABASE {name} SET timezone TO 'Europe/Brussels'"))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = open_database(url)
    db.upgrade()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def pg_db(pg_url):
    db = open_database(pg_url)
    names = ", ".join(t.name for t in TABLE_ORDER)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'obmi.db'}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backup_db(request) -> Database:
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


# --- helpers ----------------------------------------------------------------------------------

def fill(db: Database) -> None:
    started = datetime(2025, 3, 14, 9, 30, 5, 123456, tzinfo=BRUSSELS)
    with db.engine.begin() as conn:
        add(conn, area_level, [
            dict(code="gemeente", name_nl="Gemeente", name_en="Municipality", family="gemeente",
                 sort_order=30),
            dict(code="provincie", name_nl="Provincie", name_en="Province", family="provincie",
                 sort_order=20, valid_from="1995-01-01"),
        ])
        province = conn.execute(insert(area).values(
            level="provincie", code="10000", name="Provincie Antwerpen")).inserted_primary_key[0]
        aartselaar = conn.execute(insert(area).values(
            level="gemeente", code="11001", name="Aartselaar")).inserted_primary_key[0]
        conn.execute(insert(area_geometry).values(
            area_id=aartselaar, geometry='{"type": "Point", "coordinates": [4.38, 51.13]}',
            geometry_web='{"type": "Point", "coordinates": [4.38, 51.1]}'))
        antwerpen = conn.execute(insert(area).values(
            level="gemeente", code="11002", name="Antwerpen", short_name="A'pen")).inserted_primary_key[0]
        unknown = conn.execute(insert(area).values(
            level="gemeente", code="99999", name="Niet te lokaliseren", is_unknown=True)).inserted_primary_key[0]
        add(conn, area_link, [
            dict(child_id=aartselaar, parent_id=province, relation="parent"),
            dict(child_id=antwerpen, parent_id=province, relation="parent", weight=1.0),
        ])
        add(conn, indicator, [
            dict(code="pop_total", name_nl="Bevolking", name_en="Population", unit="inwoners",
                 themes=["demografie"], levels=["gemeente", "provincie"], is_count=True,
                 threshold=5, updated_at=started),
            # Tabs, newlines, quotes and backslashes must survive COPY's text format.
            dict(code="pop_65plus_pct", name_nl="Aandeel 65+", name_en="Share 65+",
                 definition_nl="Aandeel 65-plussers\tin de \"bevolking\"\nper 1 januari \\ één",
                 themes=["demografie", "vergrijzing"], levels=["gemeente"], aggregation="ratio",
                 numerator="pop_65plus", denominator="pop_total", scale=100.0, decimals=1,
                 formula=None, polarity="neutral"),
        ])
        run = conn.execute(insert(import_run).values(
            kind="observations", file_name="bevolking_2024.csv", sha256="ab" * 32, rows_in=4,
            rows_ok=3, rows_rejected=1, inserted=3, user="jan.peeters", started=started,
            finished=started + timedelta(seconds=2), status="ok",
            message="3 rijen ingelezen")).inserted_primary_key[0]
        conn.execute(insert(rejected_row).values(
            import_id=run, line=5, reason="onbekende gemeentecode '12345'"))
        add(conn, observation, [
            dict(indicator="pop_total", area_id=aartselaar, period="2024", period_type="year",
                 value=14375.0, import_id=run),
            dict(indicator="pop_total", area_id=antwerpen, period="2024", period_type="year",
                 value=530630.0, import_id=run),
            dict(indicator="pop_total", area_id=unknown, period="2024", period_type="year",
                 value=3.0, status="suppressed", import_id=run),
            dict(indicator="pop_65plus_pct", area_id=aartselaar, period="2024",
                 period_type="year", value=24.7, numerator=3551.0, denominator=14375.0,
                 origin="derived"),
        ])


def add(conn, table, rows: list[dict]) -> None:
    for row in rows:  # one by one: the rows leave out different defaulted columns
        conn.execute(insert(table).values(**row))


def snapshot(db: Database) -> dict[str, list[dict]]:
    """Every row of every OBMi table, ordered by primary key, timestamps in UTC."""
    def normal(value):
        if isinstance(value, datetime):  # SQLite keeps no time zone: naive means UTC
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        return value

    with db.engine.connect() as conn:
        return {t.name: [{k: normal(v) for k, v in row.items()}
                         for row in conn.execute(select(t).order_by(*t.primary_key)).mappings()]
                for t in TABLE_ORDER}


def counts(rows: dict[str, list]) -> dict[str, int]:
    return {name: len(table_rows) for name, table_rows in rows.items()}


def mess_up(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(observation).where(observation.c.period == "2024").values(value=1.0))
        conn.execute(area_link.delete())
        conn.execute(update(indicator).values(themes=["anders"]))
        conn.execute(rejected_row.delete())


# --- tests ------------------------------------------------------------------------------------

def test_backup_and_restore_round_trip(backup_db, tmp_path):
    fill(backup_db)
    before = snapshot(backup_db)
    file = tmp_path / "obmi-backup.sqlite"

    made = backup(backup_db, file)
    assert made["tables"] == counts(before)
    assert made["revision"] == backup_db.head_revision()
    assert made["backend"] == ("postgresql" if backup_db.is_postgres else "sqlite")

    mess_up(backup_db)
    assert snapshot(backup_db) != before
    restored = restore(backup_db, file)

    assert snapshot(backup_db) == before
    assert restored["tables"] == counts(before)
    assert before["indicator"][1]["themes"] == ["demografie"]
    assert before["observation"][0]["value"] == 14375.0


def test_backup_is_one_plain_sqlite_file(backup_db, tmp_path):
    fill(backup_db)
    file = tmp_path / "backup.sqlite"
    backup(backup_db, file)

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == ["backup.sqlite"]
    with sqlite3.connect(file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(backup_db.head_revision(),)]
        assert conn.execute("SELECT name FROM area WHERE code = '11001'").fetchone() == ("Aartselaar",)
    file.unlink()


@pytest.mark.parametrize("direction", ["sqlite_to_postgres", "postgres_to_sqlite"])
def test_cross_backend_restore(direction, sqlite_db, pg_db, tmp_path):
    source, target = (sqlite_db, pg_db) if direction == "sqlite_to_postgres" else (pg_db, sqlite_db)
    fill(source)
    file = tmp_path / "cross.sqlite"
    backup(source, file)
    with target.engine.begin() as conn:  # something to replace
        conn.execute(insert(area_level).values(code="wijk", name_nl="Wijk", name_en="District",
                                               family="wijk"))

    restore(target, file)

    assert snapshot(target) == snapshot(source)


@pytest.mark.parametrize("source_name", ["sqlite_db", "pg_db"])
def test_postgres_restore_resets_sequences(source_name, request, pg_db, tmp_path):
    source = request.getfixturevalue(source_name)
    fill(source)
    file = tmp_path / "seq.sqlite"
    backup(source, file)
    with pg_db.engine.begin() as conn:  # sequences back to 1, as in a new database
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in TABLE_ORDER) + " RESTART IDENTITY"))

    restore(pg_db, file)

    with pg_db.engine.begin() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM observation")).scalar_one()
        new_id = conn.execute(insert(observation).values(
            indicator="pop_total", area_id=select(area.c.id).where(area.c.code == "11001").scalar_subquery(),
            period="2025", period_type="year", value=14420.0)).inserted_primary_key[0]
        run_id = conn.execute(insert(import_run).values(
            kind="observations", file_name="b.csv", sha256="cd" * 32, started=datetime.now(timezone.utc),
            status="running")).inserted_primary_key[0]
    assert new_id == max_id + 1
    assert run_id == 2


def test_restore_of_empty_backup_resets_sequences(pg_db, tmp_path):
    file = tmp_path / "empty.sqlite"
    backup(pg_db, file)
    fill(pg_db)
    restore(pg_db, file)
    assert all(rows == [] for rows in snapshot(pg_db).values())
    fill(pg_db)  # ids start at 1 again
    assert [row["id"] for row in snapshot(pg_db)["import_run"]] == [1]


@pytest.mark.parametrize("content", [b"code;name\n11001;Aartselaar\n", b"", b"SQLite format 3\x00garbage" * 10])
def test_restore_rejects_a_file_that_is_no_sqlite_database(backup_db, tmp_path, content):
    fill(backup_db)
    before = snapshot(backup_db)
    file = tmp_path / "not-a-backup.csv"
    file.write_bytes(content)

    with pytest.raises(ValidationError, match="not-a-backup.csv"):
        restore(backup_db, file)

    assert snapshot(backup_db) == before


def test_restore_rejects_missing_file_and_foreign_sqlite_database(backup_db, tmp_path):
    fill(backup_db)
    before = snapshot(backup_db)
    with pytest.raises(ValidationError, match="does not exist"):
        restore(backup_db, tmp_path / "nope.sqlite")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(ValidationError, match="not an OBMi backup"):
        restore(backup_db, other)
    assert snapshot(backup_db) == before


def test_restore_refuses_another_schema_revision(backup_db, tmp_path):
    fill(backup_db)
    file = tmp_path / "old.sqlite"
    backup(backup_db, file)
    with sqlite3.connect(file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000old'")
    mess_up(backup_db)
    before = snapshot(backup_db)

    with pytest.raises(Conflict, match=r"revision 0000old.*needs " + backup_db.head_revision()):
        restore(backup_db, file)

    assert snapshot(backup_db) == before


def test_failed_restore_changes_nothing(backup_db, tmp_path):
    fill(backup_db)
    file = tmp_path / "broken.sqlite"
    backup(backup_db, file)
    with sqlite3.connect(file) as conn:  # foreign keys are off in a plain sqlite3 connection
        conn.execute("UPDATE observation SET area_id = 999 WHERE value = 530630.0")
    mess_up(backup_db)
    before = snapshot(backup_db)

    with pytest.raises(ValidationError, match="inconsistent"):
        restore(backup_db, file)

    assert snapshot(backup_db) == before


def test_restore_requires_a_migrated_database(tmp_path, sqlite_db):
    fill(sqlite_db)
    file = tmp_path / "b.sqlite"
    backup(sqlite_db, file)
    empty = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Conflict, match="no OBMi schema"):
            restore(empty, file)
    finally:
        empty.dispose()


def test_backup_refuses_to_overwrite(backup_db, tmp_path):
    fill(backup_db)
    file = tmp_path / "exists.sqlite"
    file.write_text("precious")

    with pytest.raises(ValidationError, match="already exists"):
        backup(backup_db, file)
    assert file.read_text() == "precious"

    backup(backup_db, file, overwrite=True)
    assert file.read_bytes().startswith(b"SQLite format 3\x00")
    assert not (tmp_path / "exists.sqlite.partial").exists()


def test_sqlite_backup_while_another_connection_writes(sqlite_db, tmp_path):
    fill(sqlite_db)
    with sqlite_db.engine.connect() as writer:
        writer.execute(update(observation).values(value=2.0))  # uncommitted: not in the backup
        made = backup(sqlite_db, tmp_path / "live.sqlite")
        writer.rollback()
    mess_up(sqlite_db)
    restore(sqlite_db, Path(made["file"]))
    values = [row["value"] for row in snapshot(sqlite_db)["observation"]]
    assert values == [14375.0, 530630.0, 3.0, 24.7]
