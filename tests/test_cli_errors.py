"""The real `obmi` command line on bad input: a clear message naming the line and the reason,
a non-zero exit, no traceback, a `--report` file, nothing written, and the failed run logged.

Every command runs as a subprocess against a SQLite file. The expensive part (schema, shared
geography, Statbel catalogue, one valid import) is built once per module and copied per test.
All data values come from the shared Statbel files, never invented.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from conftest import GEO, INCOME_FILE, ROOT, STATBEL

pytestmark = pytest.mark.db  # every command here works on a real SQLite database
OBMI = Path(sys.executable).with_name("obmi")
STATBEL_CATALOGUE = ROOT / "src" / "obmi" / "catalogue" / "statbel.yaml"
POPULATION_2015 = STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz"
LONG_HEADER = ["indicator", "level", "area", "period", "value"]
# What a failed import may write: its run, its rejected rows and the audit record of the refusal
# (checked on its own: `new_audit_events`). Sign-in bookkeeping (login_attempt, user_session) and
# the data version (data_state) are compared like the data.
RUN_LOG_TABLES = {"import_run", "rejected_row", "audit_event", "alembic_version"}
LEVEL = "gemeente2018"  # Statbel 2015 uses the municipalities from before the 2019 mergers


# --- running the CLI ----------------------------------------------------------------------------

def run_obmi(db: Path, *args: str | Path) -> subprocess.CompletedProcess:
    """`obmi ARGS` with only OBMI_DATABASE_URL set (other OBMI_* variables would be refused)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env["OBMI_DATABASE_URL"] = f"sqlite:///{db}"
    env["OBMI_USER"] = "cli-test"
    return subprocess.run([str(OBMI), *map(str, args)], env=env, cwd=db.parent, capture_output=True,
                          text=True, timeout=300)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def checkpoint(db: Path) -> None:
    """Fold the WAL into the main file so one file copy is the whole database."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def copy_db(source: Path, directory: Path) -> Path:
    target = directory / "obmi.db"
    shutil.copy(source, target)
    if Path(f"{source}-wal").exists():
        shutil.copy(f"{source}-wal", f"{target}-wal")
    return target


def dump(db: Path) -> dict[str, tuple[int, str]]:
    """(row count, hash of every row) per data table: area, indicator, observation and the rest."""
    result = {}
    conn = sqlite3.connect(db)
    try:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            if name not in RUN_LOG_TABLES]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
            result[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    finally:
        conn.close()
    assert {"area", "indicator", "observation"} <= set(result)
    return result


def audit_events(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT uuid, operation, outcome, actor FROM audit_event ORDER BY id").fetchall()
    finally:
        conn.close()


def new_audit_events(db: Path, before: list[tuple]) -> list[tuple[str, str, str]]:
    """(operation, outcome, actor) of the audit events since `before`, which must be untouched."""
    after = audit_events(db)
    assert after[:len(before)] == before
    return [event[1:] for event in after[len(before):]]


def last_run(db: Path) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM import_run ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        conn.close()


# --- real data ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def population_2015() -> list[tuple[str, str, int, int]]:
    """(code, name, population, men) per Flemish municipality on 1 January 2015, from Statbel."""
    table = pacsv.read_csv(POPULATION_2015, parse_options=pacsv.ParseOptions(delimiter="|"),
                           convert_options=pacsv.ConvertOptions(
                               include_columns=["CD_MUNTY_REFNIS", "TX_MUNTY_DESCR_NL", "CD_RGN_REFNIS",
                                                "CD_SEX", "MS_POPULATION"],
                               column_types={"CD_MUNTY_REFNIS": pa.string(), "CD_RGN_REFNIS": pa.string()}))
    table = table.filter(pc.equal(table["CD_RGN_REFNIS"], "2000"))
    men = pc.if_else(pc.equal(table["CD_SEX"], "M"), table["MS_POPULATION"], 0)
    grouped = (table.append_column("men", men)
               .group_by(["CD_MUNTY_REFNIS", "TX_MUNTY_DESCR_NL"])
               .aggregate([("MS_POPULATION", "sum"), ("men", "sum")])
               .sort_by("CD_MUNTY_REFNIS"))
    rows = [(r["CD_MUNTY_REFNIS"], r["TX_MUNTY_DESCR_NL"], r["MS_POPULATION_sum"], r["men_sum"])
            for r in grouped.to_pylist()]
    assert len(rows) == 308, "Flanders had 308 municipalities before 2019"
    return rows


def long_rows(population, start: int, count: int) -> list[list[str]]:
    """pop_total and pop_men rows (generic long format) for `count` municipalities."""
    rows = []
    for code, _name, total, men in population[start:start + count]:
        rows.append(["pop_total", LEVEL, code, "2015", str(total)])
        rows.append(["pop_men", LEVEL, code, "2015", str(men)])
    return rows


def write_long(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LONG_HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def income_sample() -> tuple[str, list[list[str]], list[int], list[int]]:
    """Header and 200 real rows of the income tax file: 150 Flemish, then 50 Walloon; and the
    indices of the Flemish and the Walloon rows."""
    with gzip.open(INCOME_FILE, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n")
        columns = header.split("|")
        region = columns.index("CD_RGN_REFNIS")
        flemish, walloon = [], []
        for line in handle:
            row = line.rstrip("\n").split("|")
            if row[region] == "2000" and len(flemish) < 150:
                flemish.append(row)
            elif row[region] == "3000" and len(walloon) < 50:
                walloon.append(row)
            if len(flemish) == 150 and len(walloon) == 50:
                break
    rows = flemish + walloon
    return header, rows, list(range(150)), list(range(150, 200))


def write_statbel(path: Path, header: str, rows: list[list[str]], *, bad_code_at: tuple[int, ...] = ()) -> Path:
    column = header.split("|").index("CD_MUNTY_REFNIS")
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(header + "\n")
        for i, row in enumerate(rows):
            row = list(row)
            if i in bad_code_at:
                row[column] = "1X001"
            handle.write("|".join(row) + "\n")
    return path


# --- the shared database --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory, population_2015) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("files")
    return {
        "base": write_long(directory / "base.csv", long_rows(population_2015, 0, 5)),
        "new": write_long(directory / "new.csv", long_rows(population_2015, 5, 5)),
    }


@pytest.fixture(scope="module")
def base_db(tmp_path_factory, files) -> Path:
    """Schema, shared geography, Statbel catalogue and pop_total/pop_men 2015 of five municipalities,
    all through the command line (the only test of `obmi db upgrade` and `obmi import geo`)."""
    db = tmp_path_factory.mktemp("base") / "obmi.db"
    ok(run_obmi(db, "db", "upgrade"))
    ok(run_obmi(db, "import", "geo", GEO))
    ok(run_obmi(db, "import", "catalogue", STATBEL_CATALOGUE))
    ok(run_obmi(db, "import", "observations", files["base"]))
    checkpoint(db)
    return db


@pytest.fixture
def db(base_db, tmp_path) -> Path:
    return copy_db(base_db, tmp_path)


def test_base_database_holds_the_real_statbel_value(base_db, population_2015):
    code, name, total, _ = population_2015[0]
    result = ok(run_obmi(base_db, "query", "--indicator", "pop_total", "--level", LEVEL, "--period", "2015",
                         "--area", code))
    assert (code, name) == ("11001", "Aartselaar")
    assert result.stdout.splitlines()[1] == f"11001,Aartselaar,2015,{total},final"


# --- rejected imports -----------------------------------------------------------------------------

@dataclass
class Case:
    """A file that is valid except for one problem; `expected` are the (line, reason) rejected."""
    command: str
    expected: list[tuple[int, str]]


def build_case(name: str, directory: Path, population, income) -> tuple[Case, Path]:
    rows = long_rows(population, 5, 5)  # lines 2-11 of the file
    if name == "bad-area":
        rows[2][2] = "1X001"
        return Case("observations", [(4, "unknown area code '1X001' for level gemeente2018")]), \
            write_long(directory / "bad_area.csv", rows)
    if name == "non-numeric-value":
        rows[2][4] = "veertienduizend"
        return Case("observations", [(4, "'veertienduizend' is not a number")]), \
            write_long(directory / "bad_value.csv", rows)
    if name == "duplicate-key":
        first = rows[2]
        rows.append(list(first))  # line 12 repeats line 4
        return Case("observations", [(12, f"duplicate of line 4: pop_total, gemeente2018 {first[2]}, 2015")]), \
            write_long(directory / "duplicate.csv", rows)
    if name == "unknown-indicator":
        rows[2][0] = "pop_totaal"
        return Case("observations", [(4, "unknown indicator 'pop_totaal'")]), \
            write_long(directory / "unknown_indicator.csv", rows)
    if name == "statbel-malformed-flemish-code":
        header, sample, flemish, _ = income
        bad = flemish[40]
        return Case("statbel", [(bad + 2, "malformed municipality code '1X001'")]), \
            write_statbel(directory / "TF_PSNL_INC_TAX_MUNTY.txt.gz", header, sample, bad_code_at=(bad,))
    raise AssertionError(name)


@dataclass
class Rejection:
    case: Case
    db: Path
    file: Path
    result: subprocess.CompletedProcess
    report: Path
    before: dict
    after: dict
    imports: subprocess.CompletedProcess
    audit_before: list[tuple]


CASES = ["bad-area", "non-numeric-value", "duplicate-key", "unknown-indicator", "statbel-malformed-flemish-code"]


def reject(name: str, base_db: Path, directory: Path, population, income) -> Rejection:
    db = copy_db(base_db, directory)
    case, path = build_case(name, directory, population, income)
    report = directory / "rejected.csv"
    before, audit_before = dump(db), audit_events(db)
    result = run_obmi(db, "import", case.command, path, "--report", report)
    after = dump(db)
    return Rejection(case, db, path, result, report, before, after, run_obmi(db, "imports"), audit_before)


@pytest.fixture(scope="module")
def rejections(base_db, tmp_path_factory, population_2015, income_sample) -> dict[str, Rejection]:
    """Every case, each on its own copy of the base database; the cases are independent, so their
    commands run side by side (most of their time is the start of a Python process)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        running = {name: pool.submit(reject, name, base_db, tmp_path_factory.mktemp(name), population_2015,
                                     income_sample) for name in CASES}
        return {name: future.result() for name, future in running.items()}


@pytest.fixture(params=CASES)
def rejection(request, rejections) -> Rejection:
    return rejections[request.param]


def test_rejected_import_exits_with_the_validation_code(rejection):
    assert rejection.result.returncode == 2, rejection.result.stderr


def test_rejected_import_names_each_line_and_reason(rejection):
    for line, reason in rejection.case.expected:
        assert f"line {line}: {reason}" in rejection.result.stderr
    assert f"{rejection.file.name}: {len(rejection.case.expected)} rows rejected, nothing imported" \
        in rejection.result.stderr


def test_rejected_import_shows_no_traceback(rejection):
    assert "Traceback" not in rejection.result.stderr + rejection.result.stdout


def test_rejected_import_writes_the_report(rejection):
    with open(rejection.report, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["line", "reason"]] + [[str(line), reason] for line, reason in rejection.case.expected]
    assert f"rejected rows written to {rejection.report}" in rejection.result.stderr


def test_rejected_import_changes_no_table(rejection):
    assert rejection.before["observation"][0] > 0, "the base database must hold observations"
    assert rejection.after == rejection.before
    # The audit log records the rejected write (as the user the command line acted as).
    assert new_audit_events(rejection.db, rejection.audit_before) == \
        [(f"import_{rejection.case.command}", "rejected", "cli-test")]


def test_rejected_import_is_listed_as_failed(rejection):
    assert rejection.imports.returncode == 0, rejection.imports.stderr
    header, newest = (line.split("\t") for line in rejection.imports.stdout.splitlines()[:2])
    run = dict(zip(header, newest))
    assert (run["status"], run["kind"], run["file"], run["rejected"], run["inserted"]) == \
        ("failed", rejection.case.command, rejection.file.name, str(len(rejection.case.expected)), "0")
    run_id = run["id"]
    assert f"(logged as import {run_id};" in rejection.result.stderr


def test_rejected_rows_are_kept_with_the_run(rejection):
    conn = sqlite3.connect(rejection.db)
    try:
        rows = conn.execute("SELECT line, reason FROM rejected_row WHERE import_id = "
                            "(SELECT max(id) FROM import_run) ORDER BY line").fetchall()
    finally:
        conn.close()
    assert rows == rejection.case.expected


# --- Statbel files --------------------------------------------------------------------------------

def test_statbel_rows_of_uncovered_regions_are_skipped_even_when_malformed(db, tmp_path, income_sample):
    header, sample, _, walloon = income_sample
    path = write_statbel(tmp_path / "TF_PSNL_INC_TAX_MUNTY.txt.gz", header, sample,
                         bad_code_at=(walloon[0], walloon[10]))
    result = ok(run_obmi(db, "import", "statbel", path))
    assert "200 rows read, 150 ok, 50 skipped" in result.stdout
    assert "note: skipped 50 rows of regions outside this instance's geography (region 3000: 50 rows;" \
        in result.stdout
    assert last_run(db)["status"] == "ok" and last_run(db)["rows_skipped"] == 50


def test_statbel_import_of_a_file_of_another_layout_is_refused(db, files):
    before, audit_before = dump(db), audit_events(db)
    result = run_obmi(db, "import", "statbel", files["new"])
    assert result.returncode == 2
    assert "new.csv: not a known Statbel layout" in result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before
    assert new_audit_events(db, audit_before) == [("import_statbel", "rejected", "cli-test")]


# --- dry run and re-import ------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["observations", "statbel"])
def test_dry_run_writes_nothing_but_logs_the_run(db, files, tmp_path, income_sample, command):
    if command == "statbel":
        header, sample, _, _ = income_sample
        path = write_statbel(tmp_path / "TF_PSNL_INC_TAX_MUNTY.txt.gz", header, sample)
    else:
        path = files["new"]
    before, audit_before = dump(db), audit_events(db)
    result = ok(run_obmi(db, "import", command, path, "--dry-run"))
    assert "(dry_run)" in result.stdout
    assert dump(db) == before
    assert new_audit_events(db, audit_before) == []  # a dry run changes nothing, so audits nothing
    run = last_run(db)
    assert (run["status"], run["kind"], run["file_name"]) == ("dry_run", command, path.name)
    assert run["inserted"] > 0, "a dry run still reports what it would have written"


def test_reimporting_the_same_file_is_no_change(db, files):
    before, audit_before = dump(db), audit_events(db)
    result = ok(run_obmi(db, "import", "observations", files["base"]))
    assert "(no_change): 10 rows read, 10 ok, 0 skipped; 0 inserted, 0 updated, 10 unchanged" in result.stdout
    assert dump(db) == before  # the data version (data_state) included: caches stay valid
    assert new_audit_events(db, audit_before) == [("import_observations", "ok", "cli-test")]
    assert last_run(db)["status"] == "no_change"


# --- other clear messages -------------------------------------------------------------------------

def test_query_of_an_unknown_indicator_is_a_clear_error(base_db):
    result = run_obmi(base_db, "query", "--indicator", "pop_totaal", "--level", LEVEL)
    assert result.returncode == 3
    assert result.stderr.strip() == "error: unknown indicator 'pop_totaal'"
    assert result.stdout == ""


@pytest.mark.parametrize("command", [
    "observations",
    "statbel",
    "catalogue",
])
def test_missing_file_is_a_clear_error(base_db, tmp_path, command):
    missing = tmp_path / "nowhere.csv"
    result = run_obmi(base_db, "import", command, missing)
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {missing}: file not found")
