"""Backup and restore, on SQLite and PostgreSQL and across the two, through the operations
(`ops.backup_database`, `ops.restore_database`).

What a restore does: every backed-up table (TABLE_ORDER) is replaced by the backup's rows, except
the audit log, which is append-only (the backup's events that this database lacks are added);
the local tables (LOCAL_TABLES: the data state, sessions, sign-in attempts) are never restored:
everyone is signed out and the data version advances.

PostgreSQL is required: an unreachable server makes these tests fail, never skip. Each test has
its own databases (clones of a migrated one); the rows are written straight into the tables
(`unguarded_engine`) so that every column, including awkward text and time zones, is covered,
and the accounts are made through the operations.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.errors import Conflict, ValidationError
from obmi.settings import load_settings
from obmi.store.database import Database, open_database
from obmi.store.tables import (
    LOCAL_TABLES,
    TABLE_ORDER,
    area,
    area_geometry,
    area_level,
    area_link,
    audit_event,
    data_state,
    import_run,
    indicator,
    login_attempt,
    observation,
    rejected_row,
    user_session,
)

import factories
from conftest import system

pytestmark = pytest.mark.db  # every test here uses databases (some requested by name, at run time)
BRUSSELS = timezone(timedelta(hours=1))
# Every backed-up table but the audit log, which a restore merges rather than replaces.
REPLACED = tuple(t for t in TABLE_ORDER if t is not audit_event)


# --- fixtures ---------------------------------------------------------------------------------

def _migrated(db_factories, templates, backend: str) -> Database:
    factory = db_factories(backend)
    return factory.clone(templates.get(factory, "migrated", lambda ctx: None))


@pytest.fixture
def sqlite_db(db_factories, templates) -> Iterator[Database]:
    db = _migrated(db_factories, templates, "sqlite")
    yield db
    db.dispose()


@pytest.fixture
def pg_db(db_factories, templates, pg_server) -> Iterator[Database]:
    """This test's own migrated PostgreSQL database, with a non-UTC session time zone: it shows
    whether timestamps survive the SQLite round trip."""
    db = _migrated(db_factories, templates, "postgresql")
    with pg_server.admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE \"{make_url(db.url).database}\" SET timezone TO 'Europe/Brussels'"))
    db.dispose()  # connections opened from now on use the time zone
    yield db
    db.dispose()  # its pooled connections: PostgreSQL allows only so many clients


@pytest.fixture(params=["sqlite", "postgresql"])
def backup_db(request) -> Database:
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


# --- helpers ----------------------------------------------------------------------------------

def context(db: Database, tmp_path: Path) -> Context:
    """OBMi itself, with its mail outbox in the test's folder."""
    return system(db, load_settings({}, mail_outbox=str(tmp_path / "outbox")))


def fill(db: Database, tmp_path: Path) -> Context:
    """An organisation with a user, a token, a reset link and a session (through the
    operations), and geography, indicators, an import run and observations (as rows)."""
    ctx = context(db, tmp_path)
    factories.org(ctx, "antwerpen", "Stad Antwerpen")
    factories.user(ctx, "jan.peeters", "analyst", org="antwerpen", groups=["welzijn"])
    ops.create_token(ctx, "jan.peeters", scope="read", name="Power BI")
    ops.send_password_reset(ctx, "jan.peeters")
    ops.login(public_context(db, ctx.settings, source_address="192.0.2.7"), "jan.peeters", factories.PASSWORD)
    started = datetime(2025, 3, 14, 9, 30, 5, 123456, tzinfo=BRUSSELS)
    with db.unguarded_engine.begin() as conn:
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
                 formula=None, polarity="neutral", organisation="antwerpen", access="groups",
                 access_groups=["welzijn"], public_from_level="provincie"),
        ])
        run = conn.execute(insert(import_run).values(
            kind="observations", file_name="bevolking_2024.csv", sha256="ab" * 32, rows_in=4,
            rows_ok=3, rows_rejected=1, inserted=3, user="jan.peeters", started=started,
            finished=started + timedelta(seconds=2), status="ok", organisation="antwerpen",
            message="3 rijen ingelezen")).inserted_primary_key[0]
        conn.execute(insert(rejected_row).values(
            import_id=run, line=5, reason="onbekende gemeentecode '12345'"))
        add(conn, observation, [
            dict(indicator="pop_total", area_id=aartselaar, period="2024", period_type="year",
                 value=14375.0, import_id=run),
            dict(indicator="pop_total", area_id=antwerpen, period="2024", period_type="year",
                 value=530630.0, import_id=run),
            # A stored disclosure decision: the raw value is kept, the public sees "suppressed".
            dict(indicator="pop_total", area_id=unknown, period="2024", period_type="year",
                 value=3.0, disclosure="primary", import_id=run),
            dict(indicator="pop_65plus_pct", area_id=aartselaar, period="2024",
                 period_type="year", value=24.7, numerator=3551.0, denominator=14375.0,
                 origin="derived"),
        ])
    return ctx


def add(conn, table, rows: list[dict]) -> None:
    for row in rows:  # one by one: the rows leave out different defaulted columns
        conn.execute(insert(table).values(**row))


def normal(value):
    if isinstance(value, datetime):  # SQLite keeps no time zone: naive means UTC
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def snapshot(db: Database) -> dict[str, list[dict]]:
    """Every row of every table a restore replaces, ordered by primary key, timestamps in UTC."""
    with db.unguarded_engine.connect() as conn:
        return {t.name: [{k: normal(v) for k, v in row.items()}
                         for row in conn.execute(select(t).order_by(*t.primary_key)).mappings()]
                for t in REPLACED}


def audit_log(db: Database) -> dict[str, dict]:
    """The audit events by uuid (in order), without their local ids."""
    with db.unguarded_engine.connect() as conn:
        rows = conn.execute(select(audit_event).order_by(audit_event.c.id)).mappings().all()
    return {row["uuid"]: {k: normal(v) for k, v in row.items() if k != "id"} for row in rows}


def count(db: Database, table) -> int:
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def counts(rows: dict[str, list]) -> dict[str, int]:
    return {name: len(table_rows) for name, table_rows in rows.items()}


def new_events(db: Database, before: dict[str, dict]) -> list[dict]:
    """The events added since `before`; the earlier ones must be untouched."""
    after = audit_log(db)
    assert {u: after[u] for u in before} == before
    return [event for u, event in after.items() if u not in before]


def mess_up(db: Database) -> None:
    with db.unguarded_engine.begin() as conn:
        conn.execute(update(observation).where(observation.c.period == "2024").values(value=1.0))
        conn.execute(area_link.delete())
        conn.execute(update(indicator).values(themes=["anders"]))
        conn.execute(rejected_row.delete())


def refused_restore(db: Database, ctx: Context, file: Path, error: type, match: str) -> None:
    """A restore that must fail: nothing changes but one audit record of the refusal."""
    before, events = snapshot(db), audit_log(db)
    state = ops.data_version(ctx)
    with pytest.raises(error, match=match):
        ops.restore_database(ctx, file)
    assert snapshot(db) == before
    assert [(e["operation"], e["outcome"]) for e in new_events(db, events)] == [("restore_database", "rejected")]
    assert ops.data_version(ctx) == state


# --- tests ------------------------------------------------------------------------------------

def test_backup_and_restore_round_trip(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    session = ops.login(public_context(backup_db, ctx.settings), "jan.peeters", factories.PASSWORD).session_secret
    before, events = snapshot(backup_db), audit_log(backup_db)
    attempts, state = count(backup_db, login_attempt), ops.data_version(ctx)
    file = tmp_path / "obmi-backup.sqlite"

    made = ops.backup_database(ctx, file)
    assert made["tables"] == counts(before) | {"audit_event": len(events)}
    assert made["revision"] == ops.database_status(ctx).head
    assert made["backend"] == ("postgresql" if backup_db.is_postgres else "sqlite")

    mess_up(backup_db)
    assert snapshot(backup_db) != before
    restored = ops.restore_database(ctx, file)

    assert snapshot(backup_db) == before
    # Every event of the backup is still in the log: none added, none removed; the backup and the
    # restore are recorded on top.
    assert restored["tables"] == counts(before) | {"audit_event": 0}
    assert [e["operation"] for e in new_events(backup_db, events)] == ["backup_database", "restore_database"]
    assert before["indicator"][1]["themes"] == ["demografie"]
    assert before["indicator"][0]["access_groups"] == ["welzijn"]
    assert before["observation"][0]["value"] == 14375.0
    assert before["observation"][2]["disclosure"] == "primary"
    assert {len(before[t]) for t in ("organisation", "user_account", "user_role", "user_group", "api_token",
                                     "one_time_link")} == {1}
    # The local tables: everyone is signed out, sign-in attempts stay, the data version advances
    # (the epoch stays: this is still this database).
    assert count(backup_db, user_session) == 0
    assert ops.authenticate_session(public_context(backup_db, ctx.settings), session).actor is None
    assert count(backup_db, login_attempt) == attempts == 2
    after = ops.data_version(ctx)
    assert after.epoch == state.epoch and after.version > state.version


def test_backup_is_one_plain_sqlite_file(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "backup.sqlite"
    ops.backup_database(ctx, file)

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == ["backup.sqlite"]
    with sqlite3.connect(file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(ops.database_status(ctx).head,)]
        assert conn.execute("SELECT name FROM area WHERE code = '11001'").fetchone() == ("Aartselaar",)
        # Sessions and sign-in attempts belong to the running installation, not to a backup.
        assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("user_session", "login_attempt")] == [0, 0]
    file.unlink()


@pytest.mark.postgres  # both directions need PostgreSQL
@pytest.mark.parametrize("direction", ["sqlite_to_postgres", "postgres_to_sqlite"])
def test_cross_backend_restore(direction, sqlite_db, pg_db, tmp_path):
    source, target = (sqlite_db, pg_db) if direction == "sqlite_to_postgres" else (pg_db, sqlite_db)
    ctx = fill(source, tmp_path)
    file = tmp_path / "cross.sqlite"
    ops.backup_database(ctx, file)
    with target.unguarded_engine.begin() as conn:  # something to replace
        conn.execute(insert(area_level).values(code="wijk", name_nl="Wijk", name_en="District",
                                               family="wijk"))
    target_events = audit_log(target)

    restored = ops.restore_database(system(target), file)

    assert snapshot(target) == snapshot(source)
    # The target keeps its own audit log and gains every event of the source's (as it was at the
    # backup), unchanged.
    source_events = {u: e for u, e in audit_log(source).items() if e["operation"] != "backup_database"}
    added = new_events(target, target_events)
    assert restored["tables"]["audit_event"] == len(source_events) > 0
    assert added[:-1] == list(source_events.values()) and added[-1]["operation"] == "restore_database"


@pytest.mark.postgres
@pytest.mark.parametrize("source_name", ["sqlite_db", "pg_db"])
def test_postgres_restore_resets_sequences(source_name, request, pg_db, tmp_path):
    source = request.getfixturevalue(source_name)
    ctx = fill(source, tmp_path)
    file = tmp_path / "seq.sqlite"
    ops.backup_database(ctx, file)
    with pg_db.unguarded_engine.begin() as conn:  # sequences back to 1, as in a new database
        # (The audit log is append-only: not even TRUNCATE empties it.)
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in (*REPLACED, *LOCAL_TABLES) if t is not data_state)
                          + " RESTART IDENTITY"))

    target = system(pg_db)
    ops.restore_database(target, file)

    with pg_db.unguarded_engine.begin() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM observation")).scalar_one()
        new_id = conn.execute(insert(observation).values(
            indicator="pop_total", area_id=select(area.c.id).where(area.c.code == "11001").scalar_subquery(),
            period="2025", period_type="year", value=14420.0)).inserted_primary_key[0]
        run_id = conn.execute(insert(import_run).values(
            kind="observations", file_name="b.csv", sha256="cd" * 32, started=datetime.now(UTC),
            status="running")).inserted_primary_key[0]
    assert new_id == max_id + 1
    assert run_id == 2
    # Users, tokens and the audit log go on without collisions too.
    factories.user(target, "els", "reader", org="antwerpen")
    assert ops.create_token(target, "els", scope="read").id == 2


@pytest.mark.postgres
def test_restore_of_empty_backup_never_reuses_ids(pg_db, tmp_path):
    """Restoring an empty backup empties the tables; PostgreSQL's sequences only move forward (they
    are not transactional: a rolled-back restore must never leave them below existing ids), so
    the ids go on after those that existed before the restore."""
    ctx = context(pg_db, tmp_path)
    file = tmp_path / "empty.sqlite"
    ops.backup_database(ctx, file)
    fill(pg_db, tmp_path)
    ops.restore_database(ctx, file)
    assert all(rows == [] for rows in snapshot(pg_db).values())
    fill(pg_db, tmp_path)
    assert [row["id"] for row in snapshot(pg_db)["import_run"]] == [2]


def test_dry_run_restore_changes_nothing_and_leaves_working_sequences(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "b.sqlite"
    ops.backup_database(ctx, file)
    mess_up(backup_db)
    before, state = snapshot(backup_db), ops.data_version(ctx)

    ops.restore_database(ctx, file, dry_run=True)

    assert snapshot(backup_db) == before and ops.data_version(ctx) == state
    factories.user(ctx, "els", "reader", org="antwerpen")  # no id collides after the rollback
    assert ops.create_token(ctx, "els", scope="read").id == 2


@pytest.mark.parametrize("content", [b"code;name\n11001;Aartselaar\n", b"", b"SQLite format 3\x00garbage" * 10])
def test_restore_rejects_a_file_that_is_no_sqlite_database(backup_db, tmp_path, content):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "not-a-backup.csv"
    file.write_bytes(content)
    refused_restore(backup_db, ctx, file, ValidationError, "not-a-backup.csv")


def test_restore_rejects_missing_file_and_foreign_sqlite_database(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    refused_restore(backup_db, ctx, tmp_path / "nope.sqlite", ValidationError, "does not exist")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    refused_restore(backup_db, ctx, other, ValidationError, "not an OBMi backup")


def test_restore_refuses_another_schema_revision(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "old.sqlite"
    ops.backup_database(ctx, file)
    with sqlite3.connect(file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000old'")
    mess_up(backup_db)
    head = ops.database_status(ctx).head
    refused_restore(backup_db, ctx, file, Conflict, r"revision 0000old.*needs " + head)


def test_failed_restore_changes_nothing(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "broken.sqlite"
    ops.backup_database(ctx, file)
    with sqlite3.connect(file) as conn:  # foreign keys are off in a plain sqlite3 connection
        conn.execute("UPDATE observation SET area_id = 999 WHERE value = 530630.0")
    mess_up(backup_db)
    refused_restore(backup_db, ctx, file, ValidationError, "inconsistent")


def test_restore_requires_a_migrated_database(tmp_path, sqlite_db):
    ctx = fill(sqlite_db, tmp_path)
    file = tmp_path / "b.sqlite"
    ops.backup_database(ctx, file)
    empty = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Conflict, match="no OBMi schema"):
            ops.restore_database(system(empty), file)
    finally:
        empty.dispose()


def test_backup_refuses_to_overwrite(backup_db, tmp_path):
    ctx = fill(backup_db, tmp_path)
    file = tmp_path / "exists.sqlite"
    file.write_text("precious")

    with pytest.raises(ValidationError, match="already exists"):
        ops.backup_database(ctx, file)
    assert file.read_text() == "precious"

    ops.backup_database(ctx, file, overwrite=True)
    assert file.read_bytes().startswith(b"SQLite format 3\x00")
    assert not (tmp_path / "exists.sqlite.partial").exists()


def test_sqlite_backup_while_another_connection_writes(sqlite_db, tmp_path):
    ctx = fill(sqlite_db, tmp_path)
    file = tmp_path / "live.sqlite"
    with sqlite_db.unguarded_engine.connect() as writer, ThreadPoolExecutor(1) as pool:
        writer.execute(update(observation).values(value=2.0))  # uncommitted: not in the backup
        # The snapshot is taken while the writer holds the write lock; the backup's own audit
        # record then waits for the lock (SQLite has one writer), so the writer rolls back once
        # the file is there.
        running = pool.submit(ops.backup_database, ctx, file)
        deadline = time.monotonic() + 25
        while not file.exists() and not running.done():
            assert time.monotonic() < deadline, "the backup was not written while another connection wrote"
            time.sleep(0.02)
        writer.rollback()
        made = running.result(timeout=60)
    mess_up(sqlite_db)
    ops.restore_database(ctx, Path(made["file"]))
    values = [row["value"] for row in snapshot(sqlite_db)["observation"]]
    assert values == [14375.0, 530630.0, 3.0, 24.7]
