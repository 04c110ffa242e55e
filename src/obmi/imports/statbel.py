"""Built-in readers for Statbel open-data files, recognised by their header.

    TF_SOC_POP_STRUCT_YYYY   population on 1 January by municipality × sex × nationality × age
    TF_PSNL_INC_TAX_MUNTY    personal income tax statistics by municipality and income year
    TF_EAE_LAND_OCCUPTN_YYYY cadastral land use by municipality and parcel category

The files cover all of Belgium with the municipality codes of their year. Rows of regions that
have no areas in this instance's geography (e.g. Wallonia in a Flemish instance, told by the
file's own region column) are skipped by that rule and reported. Within covered regions the whole
import fails, each bad row named by its line, on: a malformed or unknown code, a duplicate row, a
measure that is empty, no number, not finite, too large to store, a count that is negative or not
whole, an area that is negative; in a file of one year (the population and land-use files, whose
name says the year) a row of another year — unless `allow_mixed_years`; and a municipality total
outside the indicator's range (obmi.indicators.values). A file the CSV parser cannot read (a
ragged row, an unclosed quote, a line of megabytes) is refused with the lines at fault.
Reading and grouping is columnar (pyarrow), so a 450,000-row file imports in about a second; the
slower checks that name lines only run on a file that has a problem.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from obmi.changes import ChangeSet
from obmi.errors import ImportRejected, ValidationError
from obmi.imports import staging
from obmi.imports.readers import reader_for
from obmi.imports.runs import ImportResult, ImportStats, WriteUnit, file_sha256, run_import
from obmi.imports.sheets import encoding_note
from obmi.imports.statbel_text import diagnose, header_of, pyarrow_encoding, text_encoding
from obmi.indicators.catalogue import load_builtin, load_catalogue, upsert_indicators
from obmi.indicators.observation import Observation
from obmi.indicators.values import COUNT_RULE, MAX_MAGNITUDE, finite_problem, value_problem
from obmi.store.tables import area, area_link

MUNICIPALITY, REGION, YEAR, NAME = "CD_MUNTY_REFNIS", "CD_RGN_REFNIS", "CD_YEAR", "TX_MUNTY_DESCR_NL"
Grouper = Callable[[pa.Table], dict[str, pa.Table]]  # indicator code → table(code, year, value)
Rejected = list[tuple[int, str]]


@dataclass(frozen=True)
class Layout:
    name: str
    signature: frozenset[str]  # columns that identify the layout
    keys: tuple[str, ...]  # one row per key (duplicates are rejected)
    measures: tuple[str, ...]
    group: Grouper
    one_year: bool = True  # the file holds one year (named in the file name); income files hold several

    @property
    def numeric(self) -> tuple[str, ...]:
        """Measures and numeric keys: read as numbers and checked."""
        return self.measures + tuple(k for k in self.keys if k in NUMERIC_KEYS)

    @property
    def columns(self) -> frozenset[str]:
        """Every column the import needs."""
        return frozenset(self.keys) | frozenset(self.measures) | self.signature | {YEAR, REGION}


@dataclass(frozen=True)
class StatbelFile:
    """What the reader hands the import: the layout, the table and what reading noticed."""
    layout: Layout
    table: pa.Table
    typed: bool  # False: some measure did not parse as a number, every column is text
    notes: list[str] = field(default_factory=list)


def _sums_by_municipality(table: pa.Table, measures: dict[str, pa.Array]) -> dict[str, pa.Table]:
    """One group-by for all indicators: {indicator: table(code, year, value)}."""
    grouped = (pa.table({"code": table[MUNICIPALITY], "year": table[YEAR], **measures})
               .group_by(["code", "year"]).aggregate([(name, "sum") for name in measures]))
    return {name: pa.table({"code": grouped["code"], "year": grouped["year"], "value": grouped[f"{name}_sum"]})
            for name in measures}


def _population(t: pa.Table) -> dict[str, pa.Table]:
    pop, age = t["MS_POPULATION"], t["CD_AGE"]
    zero = pa.scalar(0, pop.type)

    def where(mask) -> pa.Array:
        return pc.if_else(mask, pop, zero)

    return _sums_by_municipality(t, {
        "pop_total": pop,
        "pop_men": where(pc.equal(t["CD_SEX"], "M")),
        "pop_women": where(pc.equal(t["CD_SEX"], "F")),
        "pop_0_17": where(pc.less(age, 18)),
        "pop_18_64": where(pc.and_(pc.greater_equal(age, 18), pc.less(age, 65))),
        "pop_65plus": where(pc.greater_equal(age, 65)),
        "pop_80plus": where(pc.greater_equal(age, 80)),
        "pop_non_belgian": where(pc.not_equal(t["CD_NATLTY"], "BEL")),
    })


def _income(t: pa.Table) -> dict[str, pa.Table]:
    return _sums_by_municipality(t, {
        "inc_declarations": pc.add(t["MS_NBR_NON_ZERO_INC"], t["MS_NBR_ZERO_INC"]),
        "inc_net_taxable_total": t["MS_TOT_NET_TAXABLE_INC"],
        "inc_residents": t["MS_TOT_RESIDENTS"],
    })


def _land_use(t: pa.Table) -> dict[str, pa.Table]:
    surface = t["MS_TOT_SUR"]
    zero = pa.scalar(0.0, surface.type)
    return _sums_by_municipality(t, {
        "land_total_area": surface,
        # Level 1 '4TOT' = gekadastreerde oppervlakte; level 2 '2TOT' = bebouwde percelen.
        "land_cadastral_area": pc.if_else(pc.equal(t["CD_RUB_LVL_1"], "4TOT"), surface, zero),
        "land_built_area": pc.if_else(pc.equal(t["CD_RUB_LVL_2"], "2TOT"), surface, zero),
    })


NUMERIC_KEYS = frozenset({"CD_AGE"})
LAYOUTS = (
    Layout("TF_SOC_POP_STRUCT", frozenset({MUNICIPALITY, "CD_SEX", "CD_NATLTY", "CD_AGE", "MS_POPULATION"}),
           (MUNICIPALITY, YEAR, "CD_SEX", "CD_NATLTY", "CD_CIV_STS", "CD_AGE"), ("MS_POPULATION",), _population),
    Layout("TF_PSNL_INC_TAX_MUNTY", frozenset({MUNICIPALITY, "MS_TOT_NET_TAXABLE_INC", "MS_TOT_RESIDENTS"}),
           (MUNICIPALITY, YEAR), ("MS_NBR_NON_ZERO_INC", "MS_NBR_ZERO_INC", "MS_TOT_NET_TAXABLE_INC",
                                  "MS_TOT_RESIDENTS"), _income, one_year=False),
    Layout("TF_EAE_LAND_OCCUPTN", frozenset({MUNICIPALITY, "CD_RUB_LVL_1", "CD_RUB_LVL_2", "MS_TOT_SUR"}),
           (MUNICIPALITY, YEAR, "CD_RUB_LVL_3"), ("MS_TOT_SUR",), _land_use),
)
# Counts (and the age in years): whole numbers ≥ 0. Surfaces (ha): ≥ 0. Income amounts may be negative.
INTEGER_COLUMNS = frozenset({"MS_POPULATION", "CD_AGE", "MS_NBR_NON_ZERO_INC", "MS_NBR_ZERO_INC", "MS_TOT_RESIDENTS"})
NON_NEGATIVE_COLUMNS = INTEGER_COLUMNS | {"MS_TOT_SUR"}
_YEAR_IN_NAME = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


# --- reading ------------------------------------------------------------------------------------

def has_layout(path: Path, layout: Layout) -> bool:
    """The reader test of the import-reader hook: the file's header carries the layout's columns."""
    if path.is_dir():
        return False
    return layout.signature | {YEAR, REGION} <= set(header_of(path))


def read_file(path: Path, layout: Layout) -> StatbelFile:
    header = header_of(path)
    missing = sorted(layout.columns - set(header))
    if missing:
        raise ValidationError(f"{path.name}: the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                              f"{'are' if len(missing) > 1 else 'is'} missing (a {layout.name} file has "
                              f"{', '.join(sorted(layout.columns))})")
    try:
        return _read_checked(path, layout, header, "utf-8")
    except UnicodeError:  # raised by _read_checked when pyarrow finds the text is not UTF-8
        encoding = text_encoding(path)
    if encoding == "utf-8":  # pyarrow and Python disagree: say so rather than guess
        raise ValidationError(f"{path.name}: cannot be read as UTF-8 text")
    read = _read_checked(path, layout, header, encoding)
    read.notes.append(encoding_note(encoding) or "")
    return read


def _read(path: Path, layout: Layout, header: list[str], typed: bool, encoding: str) -> pa.Table:
    """Codes as text, measures as numbers (fast path) — or, `typed=False`, everything as text so
    that the measures that do not parse can be named by line. An empty cell is null (then refused)."""
    columns = sorted((layout.columns | {NAME}) & set(header))
    types = {c: (pa.int64() if c in INTEGER_COLUMNS else pa.float64()) if typed and c in layout.numeric
             else pa.string() for c in columns}
    convert = pacsv.ConvertOptions(include_columns=columns, column_types=types, strings_can_be_null=False,
                                   null_values=[""])
    return pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding=pyarrow_encoding(encoding)),
                          parse_options=pacsv.ParseOptions(delimiter="|"), convert_options=convert)


def _read_checked(path: Path, layout: Layout, header: list[str], encoding: str) -> StatbelFile:
    """Typed when every measure parses, else as text; UnicodeError when the text is not UTF-8."""
    try:
        return StatbelFile(layout, _read(path, layout, header, True, encoding), True)
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc) or "invalid UTF8" in str(exc):
            raise _unreadable(path, header, encoding, exc) from None
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot be read ({exc})") from None
    try:
        return StatbelFile(layout, _read(path, layout, header, False, encoding), False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, header, encoding, exc) from None


def _unreadable(path: Path, header: list[str], encoding: str, exc: Exception) -> Exception:
    """The parser's refusal, with the lines at fault when a line-by-line look finds them."""
    if "invalid UTF8" in str(exc) and encoding == "utf-8":
        return UnicodeError(str(exc))  # read_file reads it again in the encoding it has
    problems = diagnose(path, encoding, len(header))
    if problems:
        return ImportRejected(f"{path.name}: cannot be read as a pipe-separated Statbel file, nothing imported",
                              problems)
    return ValidationError(f"{path.name}: cannot be read as a pipe-separated file ({exc})")


# --- checking -----------------------------------------------------------------------------------

def municipality_level(year: int) -> str:
    """Statbel codes follow the municipalities of the data year: mergers in 2019 and 2025."""
    return "gemeente2018" if year <= 2018 else "gemeente2024" if year <= 2024 else "gemeente"


def covered_regions(conn: Connection) -> set[str]:
    """Regions (gewest) that have areas in this instance's geography."""
    parent = aliased(area)
    rows = conn.execute(select(parent.c.code).join(area_link, area_link.c.parent_id == parent.c.id)
                        .where(parent.c.level == "gewest", area_link.c.relation == "parent").distinct())
    return {r.code for r in rows}


def _skip_outside(table: pa.Table, covered: set[str], stats: ImportStats) -> tuple[pa.Table, pa.Array]:
    inside = pc.is_in(table[REGION], value_set=pa.array(sorted(covered)))
    skipped = table.filter(pc.invert(inside))
    if skipped.num_rows:
        regions = {d["values"]: d["counts"] for d in pc.value_counts(skipped[REGION]).to_pylist()}
        sample = skipped.slice(0, 3)
        names = sample[NAME].to_pylist() if NAME in table.column_names else [""] * sample.num_rows
        examples = ", ".join(f"{c} {n}" for c, n in zip(sample[MUNICIPALITY].to_pylist(), names))
        stats.rows_skipped += skipped.num_rows
        stats.notes.append(f"skipped {skipped.num_rows} rows of regions outside this instance's geography "
                           f"({', '.join(f'region {r}: {n} rows' for r, n in sorted(regions.items()))}; "
                           f"e.g. {examples})")
    return table.filter(inside), pc.indices_nonzero(inside)


class Lines:
    """File line numbers of the rows kept (row 0 of the file is line 2, after the header)."""

    def __init__(self, rows_index: pa.Array):
        self.rows_index = rows_index

    def of(self, row: int) -> int:
        return self.rows_index[row].as_py() + 2

    def where(self, mask) -> list[int]:
        return [self.of(i) for i in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()]


def _check_codes(table: pa.Table, known: set[str], lines: Lines, rejected: Rejected) -> None:
    codes = table[MUNICIPALITY]
    malformed = pc.invert(pc.match_substring_regex(codes, r"^\d{5}$"))
    for i in pc.indices_nonzero(malformed).to_pylist():
        rejected.append((lines.of(i), f"malformed municipality code {codes[i].as_py()!r}"))
    unknown = pc.and_(pc.invert(malformed), pc.invert(pc.is_in(codes, value_set=pa.array(sorted(known)))))
    for i in pc.indices_nonzero(unknown).to_pylist():
        rejected.append((lines.of(i), f"unknown municipality code {codes[i].as_py()!r}"))
    for line in lines.where(pc.invert(pc.match_substring_regex(table[YEAR], r"^\d{4}$"))):
        rejected.append((line, "CD_YEAR is not a year"))


def _check_year(path: Path, table: pa.Table, layout: Layout, allow_mixed: bool, lines: Lines,
                rejected: Rejected, stats: ImportStats) -> None:
    """A file of one year holds that year only: rows of another would publish partial totals. The
    year is the one its name says, else that of most of its rows."""
    if not layout.one_year:
        return
    years = Counter({d["values"]: d["counts"] for d in pc.value_counts(table[YEAR]).to_pylist()
                     if re.fullmatch(r"\d{4}", d["values"])})
    if len(years) <= 1:
        return
    if allow_mixed:
        stats.notes.append("rows of several years imported (allow mixed years): "
                           + ", ".join(f"{y}: {n} rows" for y, n in sorted(years.items())))
        return
    named = _YEAR_IN_NAME.search(path.name)
    year, source = (named.group(0), "its name") if named and named.group(0) in years \
        else (years.most_common(1)[0][0], "most of its rows")
    other = pc.and_(pc.not_equal(table[YEAR], year), pc.match_substring_regex(table[YEAR], r"^\d{4}$"))
    for i in pc.indices_nonzero(other).to_pylist():
        rejected.append((lines.of(i), f"CD_YEAR {table[YEAR][i].as_py()} is not {year}, the year of the file "
                                      f"(from {source}): a file holds one year, or import it with "
                                      "--allow-mixed-years"))


def _numbers(table: pa.Table, column: str, typed: bool, lines: Lines, rejected: Rejected
             ) -> tuple[pa.ChunkedArray, set[int]]:
    """The column as float64, and the rows whose text is no number (already rejected)."""
    if typed:
        return pc.cast(table[column], pa.float64()), set()
    values: list[float | None] = []
    unparsable: set[int] = set()
    for i, raw in enumerate(table[column].to_pylist()):
        try:
            values.append(None if raw is None else float(raw))
        except ValueError:
            values.append(None)
            unparsable.add(i)
            rejected.append((lines.of(i), f"{column}: {raw!r} is not a number"))
    return pa.chunked_array([pa.array(values, pa.float64())]), unparsable


def _check_measure(table: pa.Table, column: str, typed: bool, lines: Lines, rejected: Rejected) -> pa.ChunkedArray:
    """Every value present, finite, storable; counts whole, counts and areas ≥ 0. Vectorised: the
    rows named are found with masks, only they are looked at one by one."""
    numbers, unparsable = _numbers(table, column, typed, lines, rejected)
    for i in pc.indices_nonzero(pc.is_null(numbers)).to_pylist():
        if i not in unparsable:
            rejected.append((lines.of(i), f"{column} is empty (every row needs a value)"))
    bad = pc.or_(pc.invert(pc.is_finite(numbers)), pc.greater(pc.abs(numbers), MAX_MAGNITUDE))
    if column in INTEGER_COLUMNS:
        bad = pc.or_(bad, pc.not_equal(pc.floor(numbers), numbers))
    if column in NON_NEGATIVE_COLUMNS:
        bad = pc.or_(bad, pc.less(numbers, 0))
    for i in pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist():
        rejected.append((lines.of(i), f"{column}: {_measure_problem(column, numbers[i].as_py())}"))
    return numbers


def _measure_problem(column: str, value: float) -> str:
    problem = finite_problem(value)
    if problem:
        return problem
    shown = f"{value:g}" if not float(value).is_integer() else f"{value:,.0f}"
    rule = COUNT_RULE if column in INTEGER_COLUMNS else "a surface is 0 or more"
    if column in INTEGER_COLUMNS and not float(value).is_integer():
        return f"{shown} is not a whole number: {rule}"
    return f"{shown} is negative: {rule}"


def _check_measures(table: pa.Table, layout: Layout, typed: bool, lines: Lines, rejected: Rejected) -> pa.Table:
    """The table with its numeric columns checked, and typed (int64 counts, float64 others)."""
    for column in layout.numeric:
        numbers = _check_measure(table, column, typed, lines, rejected)
        if not typed and not rejected:
            target = pa.int64() if column in INTEGER_COLUMNS else pa.float64()
            table = table.set_column(table.column_names.index(column), column, pc.cast(numbers, target))
    return table


def _check_duplicates(table: pa.Table, layout: Layout, lines: Lines, rejected: Rejected) -> None:
    keys = table.select(list(layout.keys))
    # Dictionary-encoded keys group twice as fast as plain strings.
    keys = pa.table({k: pc.dictionary_encode(keys[k]) if pa.types.is_string(keys[k].type) else keys[k]
                     for k in layout.keys})
    keys = keys.append_column("_row", pa.array(range(keys.num_rows), pa.int64()))
    groups = keys.group_by(list(layout.keys)).aggregate([("_row", "count"), ("_row", "min")])
    dupes = groups.filter(pc.greater(groups["_row_count"], 1))
    if not dupes.num_rows:
        return
    # Rare: find every repeated row, named by line, with its first occurrence.
    first_of = {tuple(r[k] for k in layout.keys): r["_row_min"] for r in dupes.to_pylist()}
    for r in keys.to_pylist():
        first = first_of.get(tuple(r[k] for k in layout.keys))
        if first is not None and first != r["_row"]:
            rejected.append((lines.of(r["_row"]), f"duplicate of line {lines.of(first)}"))


def _check_totals(groups: dict[str, pa.Table], table: pa.Table, conn: Connection, lines: Lines,
                  rejected: Rejected) -> None:
    """Each municipality total within its indicator's range (obmi.indicators.values): rows that
    are each fine may still add up to more than the catalogue allows, or than can be stored."""
    catalogue = load_catalogue(conn)
    for indicator, sums in groups.items():
        ind = catalogue[indicator]
        for code, year, value in zip(sums["code"].to_pylist(), sums["year"].to_pylist(), sums["value"].to_pylist()):
            problem = value_problem(ind, float(value))
            if problem:
                rows = lines.where(pc.and_(pc.equal(table[MUNICIPALITY], code), pc.equal(table[YEAR], year)))
                rejected.append((rows[0], f"{indicator} of municipality {code} in {year}, the sum of lines "
                                          f"{rows[0]}–{rows[-1]} ({len(rows)} rows): {problem}"))


def _staged(groups: dict[str, pa.Table]) -> list[staging.StagedRow]:
    rows = []
    for indicator, table in groups.items():
        for code, year, value in zip(table["code"].to_pylist(), table["year"].to_pylist(), table["value"].to_pylist()):
            rows.append(staging.StagedRow(0, municipality_level(int(year)), code,
                                          Observation(indicator, 0, str(year), float(value))))
    return rows


# --- the import ---------------------------------------------------------------------------------

def _refuse(path: Path, rejected: Rejected, stats: ImportStats) -> None:
    if rejected:
        rejected.sort()
        raise ImportRejected(f"{path.name}: {len(rejected)} rows rejected, nothing imported",
                             rejected[:staging.MAX_REJECTED], rows_in=stats.rows_in)


def import_statbel_file(conn: Connection, run_id: int, path: Path, stats: ImportStats, changes: ChangeSet,
                        *, allow_mixed_years: bool = False) -> None:
    reader = reader_for("statbel", path, refusal="not a known Statbel layout (pipe-separated, with Statbel's header)")
    read: StatbelFile = reader.read(path)
    layout, table = read.layout, read.table
    if table.num_rows == 0:
        raise ValidationError(f"{path.name}: no data rows")
    stats.notes += read.notes
    counts, written = upsert_indicators(conn, load_builtin("statbel"), replace=False)
    if written:
        changes.catalogue = True
    stats.rows_in += table.num_rows
    covered = covered_regions(conn)
    if not covered:
        raise ValidationError("the geography has no regions with areas: run `obmi import geo` first")
    table, rows_index = _skip_outside(table, covered, stats)
    lines = Lines(rows_index)
    levels = {municipality_level(int(y)) for y in pc.unique(table[YEAR]).to_pylist() if str(y).isdigit()}
    known = {code for (_, code) in staging.area_ids(conn, levels or {"gemeente2018"})}
    rejected: Rejected = []
    _check_codes(table, known, lines, rejected)
    _check_year(path, table, layout, allow_mixed_years, lines, rejected, stats)
    table = _check_measures(table, layout, read.typed, lines, rejected)
    _check_duplicates(table, layout, lines, rejected)
    _refuse(path, rejected, stats)
    groups = layout.group(table)
    _check_totals(groups, table, conn, lines, rejected)
    _refuse(path, rejected, stats)
    staging.commit(conn, run_id, _staged(groups), stats, rejected, path.name, changes)
    stats.rows_ok = table.num_rows  # source rows used (commit counts observations)


def import_statbel(unit: WriteUnit, path: Path, *, allow_mixed_years: bool = False) -> ImportResult:
    """One Statbel file: one import run, in the transaction of the operation."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: file not found")

    def work(conn: Connection, run_id: int) -> ImportStats:
        stats = ImportStats()
        import_statbel_file(conn, run_id, path, stats, unit.changes, allow_mixed_years=allow_mixed_years)
        return stats

    return run_import(unit, kind="statbel", file_name=path.name, sha256=file_sha256([path]), work=work)
