"""`obmi import observations FILE`: the generic long format (CSV, XLSX or Parquet).

Columns: indicator, area, period, value — and optionally level (else `--level`), numerator,
denominator, n, ci_low, ci_high, status. CSV may use `,` `;` tab or `|` and Dutch decimal commas.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from sqlalchemy import Connection, select

from obmi.auth.permissions import allowed, sees_indicator
from obmi.errors import NotAllowed, ValidationError
from obmi.geo.codes import normalise_code
from obmi.imports import staging
from obmi.imports.readers import read_table
from obmi.imports.runs import ImportResult, ImportStats, WriteUnit, file_sha256, run_import
from obmi.imports.sheets import width_problem
from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.indicators.observation import NO_VALUE_STATUSES, Observation, Status
from obmi.indicators.periods import parse_period
from obmi.indicators.values import finite_problem, value_problem
from obmi.store.tables import area_level

REQUIRED = ("indicator", "area", "period", "value")
OPTIONAL = ("level", "numerator", "denominator", "n", "ci_low", "ci_high", "status")
STATUSES = tuple(s.value for s in Status)
# Dutch notation: a decimal comma (1234,5 · 1.234,5) or several thousands groups (1.234.567).
# A lone "1.234" stays 1.234: reading it as 1234 would silently multiply English decimals by 1000.
_DUTCH = re.compile(r"^-?\d{1,3}(\.\d{3})+,\d+$|^-?\d{1,3}(\.\d{3}){2,}$|^-?\d+,\d+$")


def parse_number(raw: object) -> float | None:
    """123.4, 1234, '1.234,5' or '1234,5' (Dutch Excel) → float; '' → None; else ValueError —
    also for what is no finite number (NaN, infinity, an integer beyond float: a Parquet NaN too)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number")
    if isinstance(raw, (int, float)):  # a cell of a workbook or a Parquet file
        number: str | int | float = raw
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
        if text == "":
            return None
        number = text.replace(".", "").replace(",", ".") if _DUTCH.match(text) else text
    try:
        value = float(number)
    except (ValueError, OverflowError):
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a number")
    return value


def checked_numbers(ind: Indicator, numbers: dict[str, float | None]) -> dict[str, float | None]:
    """The value under the indicator's rules (obmi.indicators.values), the other numbers
    (numerator, denominator, n, confidence bounds) finite and storable."""
    for name, number in numbers.items():
        if number is None:
            continue
        problem = value_problem(ind, number) if name == "value" else finite_problem(number)
        if problem:
            raise ValueError(f"{ind.code}: {problem}" if name == "value" else f"{name}: {problem}")
    return numbers


def _number(get, name: str) -> float | None:
    """A number of the row; a bad one other than the value is named by its column."""
    try:
        return parse_number(get(name))
    except ValueError as exc:
        raise ValueError(str(exc) if name == "value" else f"{name}: {exc}") from None


def _columns(header: list[str], default_level: str | None) -> dict[str, int]:
    lowered = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in lowered]
    if "level" not in lowered and not default_level:
        missing.append("level (or --level)")
    if missing:
        raise ValidationError(f"missing columns: {', '.join(missing)} (found: {', '.join(header)})")
    return {c: lowered.index(c) for c in REQUIRED + OPTIONAL if c in lowered}


def _row(line: int, values: tuple, cols: dict[str, int], default_level: str | None,
         catalogue: dict, levels: set[str], width: int) -> staging.StagedRow:
    def get(name):
        return values[cols[name]] if name in cols and cols[name] < len(values) else None

    ragged = width_problem(values, width)
    if ragged:
        raise ValueError(ragged)

    code = str(get("indicator") or "").strip()
    ind = catalogue.get(code)
    if ind is None:
        raise ValueError(f"unknown indicator {code!r}")
    if ind.formula:
        raise ValueError(f"{code} is a formula indicator: OBMi computes it, do not import it")
    level = str(get("level") or default_level or "").strip()
    if level not in levels:
        raise ValueError(f"unknown level {level!r}")
    area = normalise_code(get("area"))
    if not area:
        raise ValueError("area is empty")
    period, _ = parse_period(get("period"))
    status = str(get("status") or "final").strip().lower()
    if status not in STATUSES:
        raise ValueError(f"status {status!r} must be one of {', '.join(STATUSES)}")
    numbers = {name: _number(get, name) for name in ("value", "numerator", "denominator", "n", "ci_low", "ci_high")}
    if numbers["value"] is None and status not in NO_VALUE_STATUSES:
        raise ValueError("value is empty (give a status such as missing or suppressed for an empty value)")
    if status in NO_VALUE_STATUSES:
        numbers["value"] = None
    checked_numbers(ind, numbers)
    if ind.aggregation == "ratio" and not ind.numerator and numbers["value"] is not None \
            and (numbers["numerator"] is None or numbers["denominator"] is None):
        raise ValueError(f"{code} is a ratio: give numerator and denominator so it can be aggregated")
    return staging.StagedRow(line, level, area, Observation(
        code, 0, period, numbers["value"], status, numbers["numerator"], numbers["denominator"], numbers["n"],
        numbers["ci_low"], numbers["ci_high"]))


def require_writable(unit: WriteUnit, rows: list[staging.StagedRow], catalogue: dict[str, Indicator]) -> None:
    """Object-level check: every indicator in the file must be one the actor may write (an
    editor: only those they own). Refused as a whole, naming the indicators and a line each."""
    first_line: dict[str, int] = {}
    for row in rows:  # one permission check per indicator, not per row (a million rows, ten indicators)
        first_line.setdefault(row.obs.indicator, row.line)
    refused = {code: line for code, line in first_line.items()
               if not allowed(unit.actor, "indicator.write", catalogue[code].resource)}
    if refused:
        named = ", ".join(f"{code} (line {line})" for code, line in sorted(refused.items()))
        raise NotAllowed(f"{unit.actor.label} may not write data of {named}: nothing imported")


def import_observations(unit: WriteUnit, path: Path, *, level: str | None = None) -> ImportResult:
    path = Path(path)

    def work(conn: Connection, run_id: int) -> ImportStats:
        header, rows = read_table(path)
        try:
            cols = _columns(header, level)
        except ValidationError as exc:
            raise ValidationError(f"{path.name}: {exc}") from None
        # Indicators the actor may not see do not exist for this import either.
        catalogue = {code: ind for code, ind in load_catalogue(conn).items()
                     if sees_indicator(unit.actor, ind.access_rule)}
        levels = {r.code for r in conn.execute(select(area_level.c.code))}
        stats, staged, rejected = ImportStats(), [], []
        for line, values in rows:
            stats.rows_in += 1
            try:
                staged.append(_row(line, values, cols, level, catalogue, levels, len(header)))
            except ValueError as exc:
                rejected.append((line, str(exc)))
        stats.notes += rows.notes
        if stats.rows_in == 0:
            raise ValidationError(f"{path.name}: no data rows")
        require_writable(unit, staged, catalogue)
        staging.commit(conn, run_id, staged, stats, rejected, path.name, unit.changes)
        return stats

    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    return run_import(unit, kind="observations", file_name=path.name, sha256=file_sha256([path]), work=work)
