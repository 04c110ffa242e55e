"""Single-file backup and restore of all OBMi tables, for either backend.

A backup is a SQLite database file holding the OBMi schema and an `alembic_version` table: one
portable file that any SQLite tool can open, and that restores into SQLite or PostgreSQL.

Timestamps: SQLite keeps no time zone, so naive timestamps there are taken to be UTC, and aware
ones are converted to UTC before they are written to SQLite.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import psycopg
from psycopg import sql
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from obmi.errors import Conflict, ValidationError
from obmi.store.database import Database
from obmi.store.state import new_epoch
from obmi.store.tables import TABLE_ORDER, audit_event, data_state, metadata, user_session
from obmi.timeutil import as_utc

BATCH = 10_000
SQLITE_MAGIC = b"SQLite format 3\x00"

alembic_version = Table("alembic_version", MetaData(),
                        Column("version_num", String(32), primary_key=True))


def backup(db: Database, path: Path, *, overwrite: bool = False) -> dict:
    """Write all OBMi tables of `db` to the SQLite file `path`; returns a summary."""
    path = Path(path)
    _require_writable_folder(path)
    if path.exists() and not overwrite:
        raise ValidationError(f"{path} already exists: choose another file name or allow overwriting")
    db.require_schema()
    # Write next to the target and rename at the end: a failed backup never leaves a
    # half-written file under the requested name, nor destroys an older backup.
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if db.is_postgres:
            _postgres_to_sqlite(db, partial)
        else:
            _sqlite_snapshot(db, partial)
        with _open_sqlite(partial) as engine, engine.connect() as conn:
            revision = conn.execute(select(alembic_version.c.version_num)).scalar_one()
            tables = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                      for t in TABLE_ORDER}
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return {"file": str(path), "backend": _backend(db), "revision": revision, "tables": tables}


def restore(db: Database, path: Path, conn: Connection) -> dict:
    """Replace all OBMi rows in `db` by those in the backup file `path`, within the transaction
    of `conn`. The audit log is append-only: the backup's events that this database lacks are
    added, none is removed. Sessions end (their users are replaced)."""
    path = Path(path)
    with _open_backup(path) as source:
        _check_revision(source, db, path)
        db.require_schema()
        _check_contents(source, path)
        try:
            with source.connect() as src:
                conn.execute(user_session.delete())
                for table in reversed(TABLE_ORDER):
                    if table is not audit_event:
                        conn.execute(table.delete())
                load = _copy_into_postgres if db.is_postgres else _insert_batches
                tables = {table.name: load(conn, table, _backup_rows(src, table, path))
                          for table in TABLE_ORDER if table is not audit_event}
                tables[audit_event.name] = _merge_audit(conn, src)
                if db.is_postgres:
                    _reset_sequences(conn)
                revision = src.execute(select(alembic_version.c.version_num)).scalar_one()
        # Broken keys come from the file's contents (COPY raises psycopg's own error class).
        except (IntegrityError, psycopg.IntegrityError) as exc:
            raise ValidationError(f"{path} is inconsistent, nothing was restored: "
                                  f"{getattr(exc, 'orig', exc)}") from exc
    return {"file": str(path), "backend": _backend(db), "revision": revision, "tables": tables}


# --- backup ---------------------------------------------------------------------------------

def _sqlite_snapshot(db: Database, target: Path) -> None:
    with db.engine.connect() as conn, closing(sqlite3.connect(target)) as dest:
        # One backup step (pages=-1) holds a read lock throughout: a consistent snapshot even
        # while other connections write.
        conn.connection.dbapi_connection.backup(dest)  # type: ignore[union-attr]
        # The live database runs in WAL mode; the backup must be one self-contained file.
        dest.execute("PRAGMA journal_mode=DELETE")
        # Sessions and sign-in attempts belong to the running installation, not to a backup.
        for table in ("user_session", "login_attempt"):
            dest.execute(f"DELETE FROM {table}")
        dest.execute("UPDATE data_state SET epoch = ?", (new_epoch(),))  # a copy is another database
        dest.commit()


def _postgres_to_sqlite(db: Database, target: Path) -> None:
    with _open_sqlite(target, writable=True) as dest, dest.begin() as out:
        metadata.create_all(out)
        alembic_version.create(out)
        snapshot = db.engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True)
        # REPEATABLE READ: every table (and the revision) is read from the same snapshot.
        with snapshot as src, src.begin():
            revision = src.execute(select(alembic_version.c.version_num)).scalar_one()
            out.execute(alembic_version.insert().values(version_num=revision))
            for table in TABLE_ORDER:
                _insert_batches(out, table, _read_batches(src, table))
            # The data state too (a restore skips it), so that the file works as a database; with an
            # epoch of its own, as a copy is another database.
            states = ([{**row, "epoch": new_epoch()} for row in batch] for batch in _read_batches(src, data_state))
            _insert_batches(out, data_state, states)


# --- restore --------------------------------------------------------------------------------

@contextmanager
def _open_backup(path: Path) -> Iterator[Engine]:
    if not path.is_file():
        raise ValidationError(f"backup file {path} does not exist")
    with path.open("rb") as file:
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise ValidationError(f"{path} is not an OBMi backup (not a SQLite database file)")
    with _open_sqlite(path) as engine:
        try:
            present = set(inspect(engine).get_table_names())
            _check_integrity(engine, path)
        except DBAPIError as exc:
            raise ValidationError(f"{path} is not a readable SQLite database: {exc.orig}") from exc
        missing = {t.name for t in (*TABLE_ORDER, alembic_version)} - present
        if missing:
            raise ValidationError(f"{path} is not an OBMi backup: it lacks the tables "
                                  f"{', '.join(sorted(missing))}")
        yield engine


def _check_integrity(engine: Engine, path: Path) -> None:
    """SQLite's own check of the file's structure: a damaged file (a flipped bit, a cut-off copy)
    is refused before anything is replaced, not half-way through."""
    with engine.connect() as conn:
        problems = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = problems[0].replace("*** in database main ***", "").strip().splitlines()[0]
        raise ValidationError(f"{path} is damaged (SQLite's integrity check: {first}): nothing was restored")


_NUMBER_TYPES = (Integer, Float, Numeric, Boolean)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}")


def _misfit(column: Column, value: object) -> str | None:
    """Why a stored value cannot be one of `column`'s type, or None (the Python side of the SQL
    filter in _check_contents, which finds the rows)."""
    if isinstance(column.type, _NUMBER_TYPES):
        if not isinstance(value, (int, float)):
            return "not a number"
        return "not finite" if abs(value) == float("inf") else None
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return "not a date and time"
    return None


def _misfit_filter(column: Column) -> str:
    name = f'"{column.name}"'
    if isinstance(column.type, _NUMBER_TYPES):
        return f"typeof({name}) NOT IN ('integer', 'real', 'null') OR abs({name}) > 1.7976931348623157e308"
    return f"typeof({name}) NOT IN ('text', 'null') OR {name} NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"


def _check_contents(source: Engine, path: Path) -> None:
    """Every number and timestamp column holds numbers and timestamps: SQLite stores text in any
    column, and the restore would otherwise fail half-way (PostgreSQL refusing it, SQLAlchemy
    failing on it). Named by table, row and column."""
    problems: list[str] = []
    with source.connect() as conn:
        for table in TABLE_ORDER:
            checked = [c for c in table.columns if isinstance(c.type, (*_NUMBER_TYPES, DateTime))]
            if not checked:
                continue
            names = ", ".join(f'"{c.name}"' for c in checked)
            wrong = " OR ".join(f"({_misfit_filter(c)})" for c in checked)
            for row in conn.exec_driver_sql(f'SELECT rowid, {names} FROM "{table.name}" WHERE {wrong} LIMIT 5'):
                column, value, why = next((c, v, _misfit(c, v)) for c, v in zip(checked, row[1:])
                                          if v is not None and _misfit(c, v))
                problems.append(f"table {table.name}, row {row[0]}, column {column.name}: {value!r} is {why}")
    if problems:
        raise ValidationError(f"{path} holds values of the wrong kind, nothing was restored: {'; '.join(problems)}")


def _backup_rows(src: Connection, table: Table, path: Path) -> Iterator[list[dict]]:
    """The rows of a backup's table; a row that cannot be read (damaged text, a date that is none)
    refuses the restore, naming the table."""
    try:
        yield from _read_batches(src, table)
    except (DBAPIError, ValueError, TypeError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise ValidationError(f"{path} is damaged, nothing was restored: table {table.name} cannot be read "
                              f"({str(reason)[:160]})") from None


def _check_revision(source: Engine, db: Database, path: Path) -> None:
    with source.connect() as conn:
        revision = conn.execute(select(alembic_version.c.version_num)).scalar()
    head = db.head_revision()
    if revision != head:
        raise Conflict(
            f"{path} has schema revision {revision}, this OBMi needs {head}. An older backup: "
            f"run `obmi db upgrade` on a copy of it (OBMI_DATABASE_URL=sqlite:///COPY) and restore "
            f"the copy; a newer backup: restore it with the OBMi version that made it")


def _copy_into_postgres(conn: Connection, table: Table, batches: Iterator[Sequence[dict]]) -> int:
    columns = [c.name for c in table.columns]
    json_columns = [c.name for c in table.columns if isinstance(c.type, JSON)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    count = 0
    # COPY bypasses SQLAlchemy's type processing, so JSON values are serialised here.
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for batch in batches:
            for row in batch:
                for name in json_columns:
                    if row[name] is not None:
                        row[name] = json.dumps(row[name])
                copy.write_row([row[name] for name in columns])
            count += len(batch)
    return count


def _reset_sequences(conn: Connection) -> None:
    # COPY with explicit ids does not advance the serial sequences: without this, the next
    # insert would collide with a restored id. Sequences are not transactional, so they are
    # only ever moved forward: a restore that is rolled back (a failure, a dry run) must not
    # leave them below ids that still exist.
    for table in TABLE_ORDER:
        if "id" not in table.c:
            continue
        sequence = conn.execute(text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")).scalar_one()
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
        used = last if called else last - 1
        highest = conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar_one()
        target = max(used, highest)
        conn.execute(text("SELECT setval(:seq, :value, :called)"),
                     {"seq": sequence, "value": max(target, 1), "called": target > 0})


def _merge_audit(conn: Connection, src: Connection) -> int:
    """Append the backup's audit events this database does not hold (by uuid), with new ids."""
    known = {r.uuid for r in conn.execute(select(audit_event.c.uuid))}
    added = 0
    for batch in _read_batches(src, audit_event):
        fresh = [{k: v for k, v in row.items() if k != "id"} for row in batch if row["uuid"] not in known]
        if fresh:
            conn.execute(audit_event.insert(), fresh)
            added += len(fresh)
    return added


# --- shared ---------------------------------------------------------------------------------

@contextmanager
def _open_sqlite(path: Path, writable: bool = False) -> Iterator[Engine]:
    # A URI rather than a SQLAlchemy URL: any file name works, and backups are opened read-only.
    uri = path.resolve().as_uri() + ("" if writable else "?mode=ro")
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        yield engine
    finally:
        engine.dispose()


def _read_batches(conn: Connection, table: Table) -> Iterator[list[dict]]:
    """Rows of `table` as dicts, BATCH at a time, so memory stays flat for large tables."""
    timestamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    result = conn.execution_options(yield_per=BATCH).execute(select(table))
    for rows in result.mappings().partitions():
        batch = [dict(row) for row in rows]
        for row in batch:
            for name in timestamps:
                row[name] = as_utc(row[name])
        yield batch


def _insert_batches(conn: Connection, table: Table, batches: Iterator[Sequence[dict]]) -> int:
    count = 0
    for batch in batches:
        conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def _require_writable_folder(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise ValidationError(f"the folder {folder} does not exist: create it first, or choose another place "
                              "for the backup")
    if not os.access(folder, os.W_OK):
        raise ValidationError(f"the folder {folder} cannot be written to: choose another place for the backup")


def _backend(db: Database) -> str:
    return "postgresql" if db.is_postgres else "sqlite"
