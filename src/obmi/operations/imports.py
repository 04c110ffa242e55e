"""Imports (atomic, idempotent, with provenance) and their runs. One operation per kind: each has
its own permission, and the upload page and the import API pick the one for the chosen kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from obmi.auth.permissions import Resource
from obmi.errors import ValidationError
from obmi.imports import catalogue as catalogue_import
from obmi.imports import geo as geo_import
from obmi.imports import long_format, runs, statbel, swing
from obmi.imports.runs import ImportResult, report_csv

__all__ = ["IMPORT_KINDS", "ImportResult", "report_csv"]
from obmi.operations.registry import Unit, operation


@operation("geography.import")
def import_geography(unit: Unit, directory: Path) -> runs.ImportResult:
    """Import area levels, definitions, hierarchy, version mappings and geometry from a folder."""
    return geo_import.import_geo(unit, Path(directory))


@operation("shared_data.import")
def import_statbel(unit: Unit, path: Path, *, allow_mixed_years: bool = False) -> runs.ImportResult:
    """Import one Statbel open-data file (population, income tax, land use), recognised by header;
    rows of another year than the file's are refused unless `allow_mixed_years`."""
    return statbel.import_statbel(unit, Path(path), allow_mixed_years=allow_mixed_years)


@operation("observations.import")
def import_observations(unit: Unit, path: Path, *, level: str | None = None) -> runs.ImportResult:
    """Import the generic long format (CSV, XLSX, Parquet): indicator, area, period, value[, …]."""
    return long_format.import_observations(unit, Path(path), level=level)


@operation("observations.import")
def import_swing(unit: Unit, path: Path, *, clear: str = "combinations", adjust_periods: bool = True,
                 sum_duplicates: bool = False, drop_special_values: bool = False,
                 skip_unknown_areas: bool = False) -> runs.ImportResult:
    """Import a Swing upload file (CSV/XLS/XLSX, every sheet): period, geolevel, geoitem and a
    column per indicator code, Swing's special values as statuses, Swing's upload options."""
    options = swing.SwingOptions(clear, adjust_periods, sum_duplicates,  # type: ignore[arg-type]
                                 drop_special_values, skip_unknown_areas)
    return swing.import_swing(unit, Path(path), options)


@operation("catalogue.import")
def import_catalogue(unit: Unit, path: Path) -> runs.ImportResult:
    """Import indicator definitions (YAML or CSV, or a Swing indicator table)."""
    return catalogue_import.import_catalogue(unit, Path(path))


@dataclass(frozen=True)
class ImportKind:
    name: str
    label_nl: str
    label_en: str
    run: Callable[..., runs.ImportResult]
    files: str  # what to upload


IMPORT_KINDS: dict[str, ImportKind] = {k.name: k for k in (
    ImportKind("statbel", "Statbel open data", "Statbel open data", import_statbel,
               "TF_SOC_POP_STRUCT_*, TF_PSNL_INC_TAX_MUNTY, TF_EAE_LAND_OCCUPTN_* (.txt, .txt.gz)"),
    ImportKind("observations", "Waarnemingen (lang formaat)", "Observations (long format)", import_observations,
               "CSV, XLSX or Parquet: indicator, area, period, value[, level, …]"),
    ImportKind("swing", "Swing-upload (platte onderwerpen)", "Swing upload", import_swing,
               "CSV, XLSX or XLS: period, geolevel, geoitem and one column per indicator code"),
    ImportKind("catalogue", "Indicatordefinities", "Indicator definitions", import_catalogue,
               "YAML or CSV, or a Swing indicator table (XLSX or CSV)"),
)}


def import_kind(name: str) -> ImportKind:
    kind = IMPORT_KINDS.get(name)
    if kind is None:
        raise ValidationError(f"unknown import kind {name!r}", {"kind": [f"one of {', '.join(IMPORT_KINDS)}"]})
    return kind


def _run_resource(unit: Unit, run_id: int, /, **_: object) -> Resource:
    run = runs.get_run(unit.conn, run_id)
    return Resource("import_run", run_id, run["organisation"])


@dataclass(frozen=True)
class ImportRuns:
    data: list[dict[str, Any]]
    count: int


@operation("imports.read")
def list_imports(unit: Unit, *, limit: int = 100, offset: int = 0) -> ImportRuns:
    """Import runs with their counts (provenance), newest first: one's own organisation's and
    the shared-data runs; administrators see all."""
    actor = unit.actor
    data, count = runs.list_runs(unit.conn, organisation=actor.organisation, everything=actor.is_admin,
                                 limit=limit, offset=offset)
    return ImportRuns(data, count)


@dataclass(frozen=True)
class ImportDetails:
    run: dict[str, Any]
    rejected: list[tuple[int, str]]

    @property
    def report_csv(self) -> str:
        return runs.report_csv(self.rejected)


@operation("imports.read", resource=_run_resource)
def import_details(unit: Unit, run_id: int) -> ImportDetails:
    """One import run with all its rejected rows (line, reason)."""
    return ImportDetails(runs.get_run(unit.conn, run_id), runs.rejected_rows(unit.conn, run_id))


@operation("imports.cleanup", advances_version=False)
def cleanup_imports(unit: Unit) -> list[int]:
    """Mark the import runs still `running` whose process is gone (killed, crashed, a reboot) as
    `interrupted`; returns their ids. The next import does the same on its own."""
    marked = runs.mark_interrupted(unit.conn)
    unit.audit("import_run", ",".join(map(str, marked))[:200], after={"interrupted": marked})
    return marked
