"""The probe suite of issue 13: bad files, each made here from the real shared files (Statbel
population, income and land use, a long-format file of Statbel's population, the Fluvius Swing
upload, a backup made by `obmi backup`), fed to the real command line. For every kind of damage:
a non-zero exit that is not 1 (the "internal error" of an unexpected exception), a message that
names the line or the field at fault, no traceback, and not one changed row.

The command line runs in-process (`obmi.cli.main`, the console script's own entry point) so that
the 50-odd probes take seconds, not minutes of Python start-up. Refused files change nothing, so
the probes share one database per back end (each compares its own before and after): SQLite for
every probe, PostgreSQL for those that write (imports past their reading, restores).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import os
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from obmi import cli
from obmi import operations as ops
from obmi.store.database import Database
from obmi.store.tables import audit_event, import_run, metadata, rejected_row

from conftest import SHARED, STATBEL, load_geography, system

pytestmark = pytest.mark.db
POPULATION_2012 = STATBEL / "TF_SOC_POP_STRUCT_2012.txt.gz"
INCOME = STATBEL / "TF_PSNL_INC_TAX_MUNTY.txt.gz"
LAND_2014 = STATBEL / "land_use" / "TF_EAE_LAND_OCCUPTN_2014.txt.gz"
FLUVIUS = SHARED / "swing" / "fluvius_verbruik_statsec2019_2018-2021.xlsx"
FLUVIUS_INDICATORS = SHARED / "swing" / "fluvius_indicators.xlsx"
LONG_HEADER = ["indicator", "level", "area", "period", "value"]
RUN_LOG = {import_run.name, rejected_row.name, audit_event.name}  # what a refusal may (must) write


# --- the command line, in-process ------------------------------------------------------------------

@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(url: str, *args: str | Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`obmi ARGS` through the console script's entry point, with only OBMI_DATABASE_URL and
    OBMI_USER set. An exception that escapes is printed as the interpreter would (a traceback,
    exit 1), so the assertions below see what a user would see."""
    for name in [n for n in os.environ if n.startswith("OBMI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OBMI_DATABASE_URL", url)
    monkeypatch.setenv("OBMI_USER", "probe")
    monkeypatch.setenv("OBMI_LOG_LEVEL", "WARNING")
    opened: list[Database] = []

    def open_database(database_url: str) -> Database:
        opened.append(cli_open(database_url))
        return opened[-1]

    cli_open = cli.open_database
    monkeypatch.setattr(cli, "open_database", open_database)
    monkeypatch.setattr(sys, "argv", ["obmi", *map(str, args)])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main()
            rc = 0
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 — what a user would get: a traceback and exit 1
            err.write(traceback.format_exc())
            rc = 1
        finally:
            for db in opened:
                db.dispose()  # PostgreSQL has 100 connections; a process would free them on exit
    monkeypatch.setattr(cli, "open_database", cli_open)
    return Result(rc, out.getvalue(), err.getvalue())


def snapshot(db: Database) -> dict[str, tuple[int, str]]:
    """(row count, hash of every row) of every table but the run log; raw rows, as the driver
    returns them (five times faster than result objects: this runs twice per probe)."""
    result = {}
    with db.unguarded_engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in RUN_LOG:
                continue
            order = ", ".join(f'"{c.name}"' for c in list(table.primary_key.columns) or list(table.columns))
            digest, count = hashlib.sha256(), 0
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table.name}" ORDER BY {order}'):
                digest.update(repr(tuple(row)).encode())
                count += 1
            result[table.name] = (count, digest.hexdigest())
    return result


# --- the real files, cut to size ----------------------------------------------------------------

@dataclass
class Pipe:
    """A Statbel file as header and rows (lists of text), from the real file."""
    name: str
    header: list[str]
    rows: list[list[str]]

    def col(self, name: str) -> int:
        return self.header.index(name)

    def copy(self) -> list[list[str]]:
        return [list(r) for r in self.rows]


def statbel_sample(path: Path, flemish: int, walloon: int = 20) -> Pipe:
    """The first `flemish` rows of Flanders and `walloon` of Wallonia (those are skipped)."""
    rows: list[list[str]] = []
    counts = {"2000": 0, "3000": 0}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("|")
        region = header.index("CD_RGN_REFNIS")
        for line in handle:
            row = line.rstrip("\n").split("|")
            want = {"2000": flemish, "3000": walloon}.get(row[region], 0)
            if counts.get(row[region], 0) < want:
                counts[row[region]] += 1
                rows.append(row)
            if counts == {"2000": flemish, "3000": walloon}:
                break
    return Pipe(path.name, header, rows)


def write_pipe(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("|".join(header) + "\n")
        handle.writelines("|".join(r) + "\n" for r in rows)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def population_2012(count: int) -> list[list[str]]:
    """pop_total 2012 of the first `count` Flemish municipalities, summed from Statbel's file."""
    table = pacsv.read_csv(POPULATION_2012, parse_options=pacsv.ParseOptions(delimiter="|"),
                           convert_options=pacsv.ConvertOptions(
                               include_columns=["CD_MUNTY_REFNIS", "CD_RGN_REFNIS", "MS_POPULATION"],
                               column_types={"CD_MUNTY_REFNIS": pa.string(), "CD_RGN_REFNIS": pa.string()}))
    table = table.filter(pc.equal(table["CD_RGN_REFNIS"], "2000"))
    sums = table.group_by("CD_MUNTY_REFNIS").aggregate([("MS_POPULATION", "sum")]).sort_by("CD_MUNTY_REFNIS")
    return [["pop_total", "gemeente2018", r["CD_MUNTY_REFNIS"], "2012", str(r["MS_POPULATION_sum"])]
            for r in sums.to_pylist()[:count]]


def fluvius_rows(count: int) -> tuple[list[str], list[list[str]]]:
    """The Fluvius upload's header and its first `count` rows of located sectors, as text."""
    book = CalamineWorkbook.from_path(str(FLUVIUS))
    table = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    header = [str(h) for h in table[0]]

    def text(v: object) -> str:
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    located = [r for r in table[1:] if not str(r[0]).endswith("ZZZZ")][:count]
    return header, [[text(v) for v in r] for r in located]


@dataclass
class Sources:
    population: Pipe
    land: Pipe
    income: Pipe
    long_rows: list[list[str]]
    swing_header: list[str]
    swing_rows: list[list[str]]
    backup: Path
    folder: Path


# --- the probes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    path: Path
    names: str  # a regular expression the message must match: the line or the field at fault


@dataclass(frozen=True)
class Probe:
    name: str
    command: tuple[str, ...]
    make: Callable[[Sources, Path], Bad]
    storage: bool = False  # it gets past reading to the database: run on PostgreSQL too


def line(index: int) -> str:
    """The file line of data row `index` (the header is line 1)."""
    return f"line {index + 2}\\b"


def statbel_value(source: str, column: str, value: str, says: str | None = None) -> Callable[[Sources, Path], Bad]:
    """A Statbel file with `value` in `column` of its sixth Flemish row; the message must name the
    line and the column (or say `says`)."""
    def make(src: Sources, folder: Path) -> Bad:
        pipe: Pipe = getattr(src, source)
        rows = pipe.copy()
        at = _flemish(pipe, rows)[5]
        rows[at][pipe.col(column)] = value
        return Bad(write_pipe(folder / pipe.name, pipe.header, rows), f"{line(at)}: {says or column}")
    return make


def statbel_edit(source: str, edit: Callable[[Pipe, list[list[str]]], tuple[list[str], list[list[str]], str]]
                 ) -> Callable[[Sources, Path], Bad]:
    def make(src: Sources, folder: Path) -> Bad:
        pipe: Pipe = getattr(src, source)
        header, rows, names = edit(pipe, pipe.copy())
        return Bad(write_pipe(folder / pipe.name, header, rows), names)
    return make


def _flemish(pipe: Pipe, rows: list[list[str]]) -> list[int]:
    return [i for i, r in enumerate(rows) if r[pipe.col("CD_RGN_REFNIS")] == "2000"]


def mixed_years(pipe: Pipe, rows: list[list[str]]):
    marked = _flemish(pipe, rows)[:100]
    for i in marked:
        rows[i][pipe.col("CD_YEAR")] = "2013"
    return pipe.header, rows, f"{line(marked[0])}: CD_YEAR 2013 is not 2012"


def without_column(column: str):
    def edit(pipe: Pipe, rows: list[list[str]]):
        keep = [i for i, c in enumerate(pipe.header) if c != column]
        return [pipe.header[i] for i in keep], [[r[i] for i in keep] for r in rows], column
    return edit


def header_only(pipe: Pipe, rows: list[list[str]]):
    return pipe.header, [], "no data rows"


def ragged(pipe: Pipe, rows: list[list[str]]):
    at = _flemish(pipe, rows)[7]
    rows[at] = rows[at][:10]
    return pipe.header, rows, f"{line(at)}: 10 fields where the header has {len(pipe.header)}"


def long_line(pipe: Pipe, rows: list[list[str]]):
    at = _flemish(pipe, rows)[7]
    rows[at][pipe.col("TX_MUNTY_DESCR_NL")] = "x" * 10_000_000
    return pipe.header, rows, f"{line(at)}: a line of 10,0"


def unclosed_quote(pipe: Pipe, rows: list[list[str]]):
    at = _flemish(pipe, rows)[7]
    rows[at][pipe.col("TX_MUNTY_DESCR_NL")] = '"' + rows[at][pipe.col("TX_MUNTY_DESCR_NL")]
    return pipe.header, rows, f'{line(at)}: a quote \\(\\"\\) opens a value'


def duplicate(pipe: Pipe, rows: list[list[str]]):
    first = _flemish(pipe, rows)[3]
    rows.append(list(rows[first]))
    return pipe.header, rows, f"{line(len(rows) - 1)}: duplicate of line {first + 2}"


def twice(column: str, value: str):
    """The same bad value on two rows of one municipality: `1e308 + 1e308`."""
    def edit(pipe: Pipe, rows: list[list[str]]):
        first, second = _flemish(pipe, rows)[5:7]
        rows[first][pipe.col(column)] = rows[second][pipe.col(column)] = value
        return pipe.header, rows, f"{line(first)}: {column}"
    return edit


def long_value(column: str, value: str) -> Callable[[Sources, Path], Bad]:
    """The long-format file of pop_total with `value` in `column` of its fourth row."""
    def make(src: Sources, folder: Path) -> Bad:
        header = LONG_HEADER + ([column] if column not in LONG_HEADER else [])
        rows = [r + [""] * (len(header) - len(r)) for r in src.long_rows]
        rows[3][header.index(column)] = value
        named = "" if column == "value" else f"{column}: "
        return Bad(write_csv(folder / "observations.csv", header, rows), f"{line(3)}: {named}")
    return make


def parquet_nan(src: Sources, folder: Path) -> Bad:
    """Land use (ha, no count) in Parquet, one value NaN: once stored as an empty `final` value."""
    land = src.land
    sums: dict[str, float] = {}
    for row in land.rows:
        if row[land.col("CD_RGN_REFNIS")] == "2000":
            code = row[land.col("CD_MUNTY_REFNIS")]
            sums[code] = sums.get(code, 0.0) + float(row[land.col("MS_TOT_SUR")])
    codes = sorted(sums)[:5]
    values = [sums[c] for c in codes]
    values[3] = float("nan")
    pq.write_table(pa.table({"indicator": ["land_total_area"] * 5, "level": ["gemeente2018"] * 5, "area": codes,
                             "period": ["2014"] * 5, "value": values}), folder / "observations.parquet")
    return Bad(folder / "observations.parquet", f"{line(3)}: nan is not a number")


def long_text(edit: Callable[[list[str]], tuple[list[str], str]]) -> Callable[[Sources, Path], Bad]:
    """A long-format file edited as lines of text (what csv.writer would never write)."""
    def make(src: Sources, folder: Path) -> Bad:
        lines = [",".join(LONG_HEADER)] + [",".join(r) for r in src.long_rows]
        lines, names = edit(lines)
        path = folder / "observations.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Bad(path, names)
    return make


def long_unclosed_quote(lines: list[str]):
    lines[5] = lines[5].replace(",2012,", ',"2012,', 1)
    return lines, 'line 6: a quote \\(\\"\\) opens a value here that is never closed'


def long_ragged(lines: list[str]):
    lines[5] = ",".join(lines[5].split(",")[:3])
    return lines, "line 6: 3 fields where the header has 5"


def long_header_only(lines: list[str]):
    return lines[:1], "no data rows"


def long_huge_field(size: int):
    def edit(lines: list[str]):
        fields = lines[4].split(",")
        fields[1] = "x" * size
        lines[4] = ",".join(fields)
        return lines, "line 5: a value longer than 131,072 characters"
    return edit


def swing_value(column: str, value: str) -> Callable[[Sources, Path], Bad]:
    def make(src: Sources, folder: Path) -> Bad:
        rows = [list(r) for r in src.swing_rows]
        rows[4][src.swing_header.index(column)] = value
        return Bad(write_csv(folder / "upload.csv", src.swing_header, rows), f"{line(4)}: sheet upload.csv: {column}")
    return make


def swing_text(edit: Callable[[list[str]], tuple[list[str], str]]) -> Callable[[Sources, Path], Bad]:
    def make(src: Sources, folder: Path) -> Bad:
        lines = [",".join(src.swing_header)] + [",".join(r) for r in src.swing_rows]
        lines, names = edit(lines)
        path = folder / "upload.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Bad(path, names)
    return make


def swing_quote(lines: list[str]):
    lines[6] = lines[6].replace(",", ',"', 1)
    return lines, 'line 7: a quote \\(\\"\\) opens a value here that is never closed'


def swing_ragged(lines: list[str]):
    lines[6] += ",12,13"
    return lines, "line 7: sheet upload.csv: 14 fields where the header has 12"


def swing_header_only(lines: list[str]):
    return lines[:1], "no data rows"


def swing_without_geolevel(src: Sources, folder: Path) -> Bad:
    keep = [i for i, h in enumerate(src.swing_header) if h != "geolevel"]
    return Bad(write_csv(folder / "upload.csv", [src.swing_header[i] for i in keep],
                         [[r[i] for i in keep] for r in src.swing_rows]), "missing columns geolevel")


def swing_duplicate_overflow(src: Sources, folder: Path) -> Bad:
    """With --sum-duplicates, two storable values whose sum is not (so the sum is checked too)."""
    column = src.swing_header.index("v2506_elek_res_cons")
    rows = [list(r) for r in src.swing_rows] + [list(src.swing_rows[3])]
    rows[3][column] = rows[-1][column] = str(2**52 + 1)
    return Bad(write_csv(folder / "upload.csv", src.swing_header, rows),
               f"{line(len(rows) - 1)}: sheet upload.csv: v2506_elek_res_cons: the sum")


def backup_copy(src: Sources, folder: Path) -> Path:
    target = folder / "backup.db"
    target.write_bytes(src.backup.read_bytes())
    return target


def backup_sql(statement: str, names: str) -> Callable[[Sources, Path], Bad]:
    def make(src: Sources, folder: Path) -> Bad:
        path = backup_copy(src, folder)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute(statement)
            conn.commit()
        return Bad(path, names)
    return make


def backup_flipped_page(src: Sources, folder: Path) -> Bad:
    """Bits flipped in the root page of the observation table: the file's structure is broken."""
    path = backup_copy(src, folder)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'observation'").fetchone()[0]
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    for offset in range(start, start + 64):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return Bad(path, "backup.db is (damaged|not a readable SQLite database)")


def backup_flipped_text(src: Sources, folder: Path) -> Bad:
    """One byte of a stored geometry turned into one that is no UTF-8: the structure is intact,
    a value is not."""
    path = backup_copy(src, folder)
    data = bytearray(path.read_bytes())
    data[data.index(b'{"type":') + 3] = 0xFF
    path.write_bytes(bytes(data))
    return Bad(path, "table area_geometry cannot be read")


def backup_truncated(src: Sources, folder: Path) -> Bad:
    path = backup_copy(src, folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return Bad(path, "backup.db is (damaged|not a readable SQLite database)")


def backup_in_missing_folder(src: Sources, folder: Path) -> Bad:
    missing = folder / "no such folder"
    return Bad(missing / "backup.db", f"the folder {re.escape(str(missing))} does not exist")


STATBEL, LONG, SWING = ("import", "statbel"), ("import", "observations"), ("import", "swing")
PROBES = [
    Probe("statbel-negative-count", STATBEL, statbel_value("population", "MS_POPULATION", "-5"), storage=True),
    Probe("statbel-nan-count", STATBEL, statbel_value("population", "MS_POPULATION", "NaN")),
    Probe("statbel-empty-count", STATBEL, statbel_value("population", "MS_POPULATION", ""), storage=True),
    Probe("statbel-inf-count", STATBEL, statbel_value("population", "MS_POPULATION", "inf")),
    Probe("statbel-1e308-count", STATBEL, statbel_value("population", "MS_POPULATION", "1e308")),
    Probe("statbel-overflowing-count", STATBEL, statbel_value("population", "MS_POPULATION", "99999999999999999999")),
    Probe("statbel-fractional-count", STATBEL, statbel_value("population", "MS_POPULATION", "2.5")),
    Probe("statbel-text-count", STATBEL, statbel_value("population", "MS_POPULATION", "veertien")),
    Probe("statbel-empty-age", STATBEL, statbel_value("population", "CD_AGE", "")),
    Probe("statbel-bad-year", STATBEL, statbel_value("population", "CD_YEAR", "20x2")),
    Probe("statbel-malformed-code", STATBEL, statbel_value("population", "CD_MUNTY_REFNIS", "1X001",
                                                           says="malformed municipality code '1X001'")),
    Probe("statbel-mixed-years", STATBEL, statbel_edit("population", mixed_years), storage=True),
    Probe("statbel-missing-key-column", STATBEL, statbel_edit("population", without_column("CD_CIV_STS"))),
    Probe("statbel-header-only", STATBEL, statbel_edit("population", header_only)),
    Probe("statbel-ragged-row", STATBEL, statbel_edit("population", ragged)),
    Probe("statbel-10-mb-line", STATBEL, statbel_edit("population", long_line)),
    Probe("statbel-unclosed-quote", STATBEL, statbel_edit("population", unclosed_quote)),
    Probe("statbel-duplicate-row", STATBEL, statbel_edit("population", duplicate)),
    Probe("land-1e308-twice", STATBEL, statbel_edit("land", twice("MS_TOT_SUR", "1e308")), storage=True),
    Probe("land-nan-area", STATBEL, statbel_value("land", "MS_TOT_SUR", "NaN")),
    Probe("land-negative-area", STATBEL, statbel_value("land", "MS_TOT_SUR", "-3.5")),
    Probe("income-fractional-count", STATBEL, statbel_value("income", "MS_TOT_RESIDENTS", "2.5")),
    Probe("income-inf-amount", STATBEL, statbel_value("income", "MS_TOT_NET_TAXABLE_INC", "inf")),
    Probe("long-negative-count", LONG, long_value("value", "-5"), storage=True),
    Probe("long-fractional-count", LONG, long_value("value", "2.5")),
    Probe("long-1e308-persons", LONG, long_value("value", "1e308")),
    Probe("long-overflowing-count", LONG, long_value("value", "99999999999999999999")),
    Probe("long-nan-text", LONG, long_value("value", "NaN")),
    Probe("long-inf-numerator", LONG, long_value("numerator", "inf")),
    Probe("long-parquet-nan", LONG, parquet_nan, storage=True),
    Probe("long-unclosed-quote", LONG, long_text(long_unclosed_quote)),
    Probe("long-ragged-row", LONG, long_text(long_ragged)),
    Probe("long-header-only", LONG, long_text(long_header_only)),
    Probe("long-field-over-131072", LONG, long_text(long_huge_field(200_000))),
    Probe("long-10-mb-line", LONG, long_text(long_huge_field(10_000_000))),
    Probe("swing-negative-count", SWING, swing_value("v2506_elek_res_n", "-3")),
    Probe("swing-fractional-count", SWING, swing_value("v2506_elek_res_n", "2.5")),
    Probe("swing-inf", SWING, swing_value("v2506_elek_res_cons", "inf"), storage=True),
    Probe("swing-1e308", SWING, swing_value("v2506_elek_res_cons", "1e308")),
    Probe("swing-unclosed-quote", SWING, swing_text(swing_quote)),
    Probe("swing-ragged-row", SWING, swing_text(swing_ragged)),
    Probe("swing-header-only", SWING, swing_text(swing_header_only)),
    Probe("swing-missing-geolevel", SWING, swing_without_geolevel),
    Probe("swing-summed-duplicates-overflow", SWING + ("--sum-duplicates",), swing_duplicate_overflow, storage=True),
    Probe("backup-flipped-page", ("restore",), backup_flipped_page, storage=True),
    Probe("backup-flipped-text", ("restore",), backup_flipped_text, storage=True),
    Probe("backup-truncated", ("restore",), backup_truncated),
    Probe("backup-text-in-number-column", ("restore",),
          backup_sql("UPDATE observation SET value = 'veel' WHERE id = (SELECT min(id) FROM observation)",
                     r"table observation, row \d+, column value: 'veel' is not a number"), storage=True),
    Probe("backup-text-in-timestamp", ("restore",),
          backup_sql("UPDATE import_run SET started = 'gisteren' WHERE id = (SELECT min(id) FROM import_run)",
                     r"table import_run, row \d+, column started: 'gisteren' is not a date and time"), storage=True),
    Probe("backup-into-missing-folder", ("backup",), backup_in_missing_folder),
]
assert len({p.name for p in PROBES}) == len(PROBES) >= 30


# --- the shared databases ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sources() -> tuple[Pipe, Pipe, Pipe, list[list[str]], tuple[list[str], list[list[str]]]]:
    return (statbel_sample(POPULATION_2012, 3000), statbel_sample(LAND_2014, 600), statbel_sample(INCOME, 300),
            population_2012(10), fluvius_rows(40))


def _world(backend: str, db_factories, templates, tmp_path_factory, sources, backup: Path | None) -> Database:
    """The shared geography plus the valid originals of the probes: what a wrongly accepted probe
    would change. `backup`: made by `obmi backup` before the Swing upload, so that a restore that
    wrongly went through would show (the upload would be gone)."""
    factory = db_factories(backend)
    db = factory.clone(templates.get(factory, "geo", load_geography))
    ctx, folder = system(db), tmp_path_factory.mktemp(f"originals-{backend}")
    population, land, income, _, swing = sources
    for pipe in (population, land, income):
        ops.import_statbel(ctx, write_pipe(folder / pipe.name, pipe.header, pipe.rows))
    ops.import_catalogue(ctx, FLUVIUS_INDICATORS)
    if backup is not None:
        with pytest.MonkeyPatch.context() as monkeypatch:
            made = run_cli(db.url, "backup", backup, monkeypatch=monkeypatch)
        assert made.rc == 0, made.text
    ops.import_swing(ctx, write_csv(folder / "upload.csv", *swing))
    return db


@pytest.fixture(scope="module")
def backup_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("backup") / "obmi-backup.db"


@pytest.fixture(scope="module")
def sqlite_world(db_factories, templates, tmp_path_factory, sources, backup_file, shared_data) -> Database:
    db = _world("sqlite", db_factories, templates, tmp_path_factory, sources, backup_file)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def pg_world(db_factories, templates, tmp_path_factory, sources, shared_data) -> Database:
    db = _world("postgresql", db_factories, templates, tmp_path_factory, sources, None)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def probe_sources(sqlite_world, sources, backup_file) -> Sources:
    """The real files cut to size, and the backup of the SQLite world."""
    population, land, income, long_rows, (swing_header, swing_rows) = sources
    return Sources(population, land, income, long_rows, swing_header, swing_rows, backup_file, backup_file.parent)


# --- the tests ----------------------------------------------------------------------------------

def refused(db: Database, probe: Probe, src: Sources, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = probe.make(src, folder)
    before = snapshot(db)
    result = run_cli(db.url, *probe.command, bad.path, monkeypatch=monkeypatch)
    assert "Traceback" not in result.text, result.text
    assert result.rc not in (0, 1), f"exit {result.rc}: {result.text[:2000]}"
    assert re.search(bad.names, result.err), f"{bad.names!r} not in:\n{result.err[:2000]}"
    assert snapshot(db) == before


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_a_bad_file_is_refused_with_its_line_and_changes_nothing(probe, sqlite_world, probe_sources, tmp_path,
                                                                  monkeypatch):
    refused(sqlite_world, probe, probe_sources, tmp_path, monkeypatch)


@pytest.mark.postgres
@pytest.mark.parametrize("probe", [p for p in PROBES if p.storage], ids=lambda p: p.name)
def test_a_bad_file_is_refused_on_postgresql_too(probe, pg_world, probe_sources, tmp_path, monkeypatch):
    refused(pg_world, probe, probe_sources, tmp_path, monkeypatch)


def test_the_valid_originals_import_as_no_change(sqlite_world, probe_sources, tmp_path, monkeypatch):
    """The probes' originals are fine: what refuses a probe is its damage, nothing else."""
    src = probe_sources
    files = [write_pipe(tmp_path / p.name, p.header, p.rows) for p in (src.population, src.land, src.income)]
    before = snapshot(sqlite_world)
    for path in files:
        result = run_cli(sqlite_world.url, "import", "statbel", path, monkeypatch=monkeypatch)
        assert result.rc == 0 and "(no_change)" in result.out, result.text
    swing = run_cli(sqlite_world.url, "import", "swing", write_csv(tmp_path / "upload.csv", src.swing_header,
                                                                 src.swing_rows), monkeypatch=monkeypatch)
    assert swing.rc == 0 and "(no_change)" in swing.out, swing.text
    assert snapshot(sqlite_world) == before


def test_header_only_statbel_and_long_format_files_answer_alike(sqlite_world, probe_sources, tmp_path, monkeypatch):
    src = probe_sources
    statbel = run_cli(sqlite_world.url, "import", "statbel",
                      write_pipe(tmp_path / src.population.name, src.population.header, []), monkeypatch=monkeypatch)
    long = run_cli(sqlite_world.url, "import", "observations", write_csv(tmp_path / "o.csv", LONG_HEADER, []),
                   monkeypatch=monkeypatch)
    assert (statbel.rc, long.rc) == (2, 2)
    assert statbel.err.strip() == f"error: {src.population.name}: no data rows"
    assert long.err.strip() == "error: o.csv: no data rows"


def test_showing_an_import_run_that_does_not_exist_says_so(sqlite_world, monkeypatch):
    result = run_cli(sqlite_world.url, "imports", "--show", "999", monkeypatch=monkeypatch)
    assert (result.rc, result.err.strip(), result.out) == (3, "error: no import run 999", "")
