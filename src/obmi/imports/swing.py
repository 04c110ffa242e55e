"""`obmi import swing FILE…`: ABF Swing upload files ("platte onderwerpen") as they are.

One table per sheet (CSV, XLS, XLSX; every sheet of a workbook is an upload) with the columns
`period`, `geolevel`, `geoitem` and one column per indicator code; other columns (an area name
marked "te verwijderen", notes) are helper columns: reported and ignored, never imported. One
file may hold several years, levels and indicators. Swing's special values are statuses, never
numbers (-99996 empty, -99997 hidden by the supplier, -99998 not applicable, -99999 unknown);
the aggregation semantics live in obmi.indicators.aggregation.

The upload options of Swing, with Swing's defaults (SwingOptions): clear the (indicator, period,
level) combinations present in the file (or all data of its indicators, or nothing); sum
duplicate records (off: a duplicate is refused with both lines); drop records with special
values (off); skip records with unknown areas (off: refused with their lines — skipping hides
other mistakes). Like every import: atomic, idempotent, rejected rows with sheet and line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, select

from obmi.auth.permissions import sees_indicator
from obmi.errors import ImportRejected, ValidationError
from obmi.geo.codes import normalise_code
from obmi.imports import staging
from obmi.imports.long_format import parse_number, require_writable
from obmi.imports.readers import reader_for
from obmi.imports.runs import ImportResult, ImportStats, WriteUnit, file_sha256, run_import
from obmi.imports.sheets import width_problem
from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.indicators.observation import Observation, Status
from obmi.indicators.periods import parse_period
from obmi.indicators.values import check_value, value_problem
from obmi.store.tables import area_level

KEY_COLUMNS = ("period", "geolevel", "geoitem")
SPECIAL_VALUES: dict[float, Status] = {-99996.0: Status.EMPTY, -99997.0: Status.SUPPRESSED,
                                       -99998.0: Status.NOT_APPLICABLE, -99999.0: Status.MISSING}
ClearMode = Literal["combinations", "all", "none"]
CLEAR_MODES: tuple[ClearMode, ...] = ("combinations", "all", "none")


@dataclass(frozen=True)
class SwingOptions:
    """The upload options of Swing's administration, with its defaults."""
    clear: ClearMode = "combinations"
    adjust_periods: bool = True
    sum_duplicates: bool = False
    drop_special_values: bool = False
    skip_unknown_areas: bool = False


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: Iterator[tuple[int, tuple[Any, ...]]]
    notes: list[str] = field(default_factory=list)  # what reading noticed (a CSV's encoding)


@dataclass
class Staged:
    """A record of the file before its area is resolved, with where it came from."""
    sheet: str
    line: int
    level: str
    code: str
    obs: Observation

    @property
    def where(self) -> str:
        return f"sheet {self.sheet} line {self.line}"


@dataclass
class Layout:
    """Which column of a sheet is what."""
    keys: dict[str, int]
    indicators: dict[str, int]  # indicator code → column
    ignored: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------

def read_workbook(path: Path) -> list[Sheet]:
    """Every sheet of an XLSX/XLS/ODS workbook (python-calamine: fast, and reads old .xls)."""
    from python_calamine import CalamineWorkbook
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 — any parser failure is the file's fault, said in words
        raise ValidationError(f"{path.name}: not a readable workbook ({exc})") from None
    sheets = []
    for name in book.sheet_names:
        table = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not table or not any(str(c).strip() for c in table[0]):
            continue  # an empty sheet uploads nothing
        header = [str(h).strip() for h in table[0]]
        sheets.append(Sheet(name, header, _body(table)))
    return sheets


def _body(table: list[list[Any]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for line, row in enumerate(table[1:], start=2):
        values = tuple(None if isinstance(v, str) and not v.strip() else v for v in row)
        if all(v is None or v == "" for v in values):
            continue
        yield line, values


def read_csv_sheet(path: Path) -> list[Sheet]:
    from obmi.imports.sheets import read_csv
    header, rows = read_csv(path)
    return [Sheet(path.name, header, rows, rows.notes)]


def layout(sheet: Sheet, catalogue: dict[str, Indicator]) -> Layout:
    lowered = [h.strip().lower() for h in sheet.header]
    missing = [c for c in KEY_COLUMNS if c not in lowered]
    if missing:
        raise ValidationError(f"sheet {sheet.name}: missing columns {', '.join(missing)} "
                              f"(a Swing upload has period, geolevel, geoitem and one column per indicator code; "
                              f"found: {', '.join(sheet.header)})")
    keys = {c: lowered.index(c) for c in KEY_COLUMNS}
    found = Layout(keys, {})
    for column, name in enumerate(lowered):
        if column in keys.values() or not name:
            continue
        ind = catalogue.get(name)
        if ind is None:
            found.ignored.append(sheet.header[column])
        elif ind.formula:
            raise ValidationError(f"sheet {sheet.name}: column {name} is a formula indicator: OBMi computes it, "
                                  "remove the column")
        else:
            found.indicators[name] = column
    return found


# --- records ------------------------------------------------------------------------------------

def _cell(raw: Any, ind: Indicator, options: SwingOptions) -> tuple[float | None, Status] | None:
    """(value, status) of one indicator cell; None when it loads nothing (an empty cell, or a
    special value with drop_special_values)."""
    value = parse_number(raw)
    if value is None:
        return None
    special = SPECIAL_VALUES.get(value)
    if special is not None:
        return None if options.drop_special_values else (None, special)
    return check_value(ind, value), Status.FINAL


def _records(sheet: Sheet, cols: Layout, catalogue: dict[str, Indicator], levels: set[str], options: SwingOptions,
             stats: ImportStats, rejected: list[tuple[int, str]]) -> list[Staged]:
    out: list[Staged] = []
    for line, values in sheet.rows:
        stats.rows_in += 1
        try:
            ragged = width_problem(values, len(sheet.header))
            if ragged:
                raise ValueError(ragged)
            out += _row_records(sheet.name, line, values, cols, catalogue, levels, options, stats)
        except ValueError as exc:
            rejected.append((line, f"sheet {sheet.name}: {exc}"))
    return out


def _row_records(sheet: str, line: int, values: tuple[Any, ...], cols: Layout, catalogue: dict[str, Indicator],
                 levels: set[str], options: SwingOptions, stats: ImportStats) -> list[Staged]:
    def get(column: int) -> Any:
        return values[column] if column < len(values) else None

    level = str(get(cols.keys["geolevel"]) or "").strip()
    if level not in levels:
        raise ValueError(f"unknown geolevel {level!r}")
    code = normalise_code(get(cols.keys["geoitem"]))
    if not code:
        raise ValueError("geoitem is empty")
    period, _ = parse_period(get(cols.keys["period"]))
    out, problems = [], []
    for indicator, column in cols.indicators.items():
        try:
            cell = _cell(get(column), catalogue[indicator], options)
        except ValueError as exc:
            problems.append(f"{indicator}: {exc}")
            continue
        if cell is None:
            if get(column) is not None:
                stats.rows_skipped += 1  # a special value, dropped on request
            continue
        out.append(Staged(sheet, line, level, code, Observation(indicator, 0, period, cell[0], cell[1])))
    if problems:
        raise ValueError("; ".join(problems))
    return out


# --- resolving areas, duplicates ----------------------------------------------------------------

def resolve(conn: Connection, records: list[Staged], options: SwingOptions, stats: ImportStats,
            rejected: list[tuple[int, str]], catalogue: dict[str, Indicator]
            ) -> dict[tuple[str, int, str], staging.StagedRow]:
    """{(indicator, area id, period): row}: unknown areas refused (or skipped on request),
    duplicates refused (or summed on request) — with sheet and line."""
    ids = staging.area_ids(conn, {r.level for r in records})
    keyed: dict[tuple[str, int, str], Staged] = {}
    skipped_areas: set[tuple[str, str]] = set()
    for rec in records:
        area_id = ids.get((rec.level, rec.code))
        if area_id is None:
            if options.skip_unknown_areas:
                skipped_areas.add((rec.level, rec.code))
                stats.rows_skipped += 1
            else:
                rejected.append((rec.line, f"sheet {rec.sheet}: unknown geoitem {rec.code!r} for geolevel {rec.level}"))
            continue
        key = (rec.obs.indicator, area_id, rec.obs.period)
        first = keyed.get(key)
        if first is None:
            keyed[key] = rec
        elif options.sum_duplicates and first.obs.usable and rec.obs.usable:
            total = float(first.obs.value or 0) + float(rec.obs.value or 0)
            problem = value_problem(catalogue[rec.obs.indicator], total)
            if problem:  # two valid parts, one sum out of range (or too large to store)
                rejected.append((rec.line, f"sheet {rec.sheet}: {rec.obs.indicator}: the sum with {first.where}: "
                                           f"{problem}"))
                continue
            keyed[key] = Staged(first.sheet, first.line, first.level, first.code, first.obs._replace(value=total))
        else:
            why = "a special value cannot be summed" if options.sum_duplicates else "duplicate"
            rejected.append((rec.line, f"sheet {rec.sheet}: {why}: {rec.obs.indicator}, {rec.level} {rec.code}, "
                                       f"{rec.obs.period} is also on {first.where}"))
    if skipped_areas:
        shown = ", ".join(f"{level} {code}" for level, code in sorted(skipped_areas)[:10])
        stats.notes.append(f"{len(skipped_areas)} unknown areas skipped on request: {shown}"
                           + (" …" if len(skipped_areas) > 10 else ""))
    return {key: staging.StagedRow(rec.line, rec.level, rec.code, rec.obs) for key, rec in keyed.items()}


# --- the import ---------------------------------------------------------------------------------

def _sheets(path: Path) -> list[Sheet]:
    sheets: list[Sheet] = reader_for("swing", path, refusal="not a Swing upload file").read(path)
    if not sheets:
        raise ValidationError(f"{path.name}: the file has no sheet with data")
    return sheets


def _clear_scope(options: SwingOptions, keyed: dict[tuple[str, int, str], staging.StagedRow]
                 ) -> staging.ClearScope | None:
    if options.clear == "none":
        return None
    if options.clear == "all":
        return staging.ClearScope(indicators={k[0] for k in keyed})
    return staging.ClearScope(combinations={(k[0], k[2], row.level) for k, row in keyed.items()})


def import_swing(unit: WriteUnit, path: Path, options: SwingOptions | None = None) -> ImportResult:
    path, chosen = Path(path), options or SwingOptions()
    if chosen.clear not in CLEAR_MODES:
        raise ValidationError(f"--clear takes {', '.join(CLEAR_MODES)}", {"clear": list(CLEAR_MODES)})

    def work(conn: Connection, run_id: int) -> ImportStats:
        sheets = _sheets(path)
        # Indicators the actor may not see do not exist for this import either.
        catalogue = {code: ind for code, ind in load_catalogue(conn).items()
                     if sees_indicator(unit.actor, ind.access_rule)}
        levels = {r.code for r in conn.execute(select(area_level.c.code))}
        stats, records = ImportStats(), []
        rejected: list[tuple[int, str]] = []
        for sheet in sheets:
            stats.notes += sheet.notes
            cols = layout(sheet, catalogue)
            if cols.ignored:
                stats.notes.append(f"sheet {sheet.name}: not indicator codes, ignored: {', '.join(cols.ignored)}")
            if not cols.indicators:
                raise ValidationError(f"sheet {sheet.name}: no column is the code of a known indicator "
                                      f"(import the indicator table first: obmi import catalogue)")
            records += _records(sheet, cols, catalogue, levels, chosen, stats, rejected)
        if stats.rows_in == 0:
            raise ValidationError(f"{path.name}: no data rows")
        keyed = resolve(conn, records, chosen, stats, rejected, catalogue)
        if rejected:
            rejected.sort()
            raise ImportRejected(f"{path.name}: {len(rejected)} rows rejected, nothing imported",
                                 rejected[:staging.MAX_REJECTED], rows_in=stats.rows_in)
        require_writable(unit, list(keyed.values()), catalogue)
        if chosen.adjust_periods:
            stats.notes.append("start and end periods: OBMi takes an indicator's periods from its data")
        staging.write_keyed(conn, run_id, keyed, stats, unit.changes, clear=_clear_scope(chosen, keyed))
        return stats

    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    return run_import(unit, kind="swing", file_name=path.name, sha256=file_sha256([path]), work=work)
