"""Import readers, registered through the `obmi_import_readers` hook. A reader names its import
kind, says which files it accepts, and reads one into what that kind's import consumes:

    table      (header, rows with line numbers: obmi.imports.sheets.Rows): the long format
    swing      a Swing upload: every sheet (obmi.imports.swing.Sheet)
    statbel    a Statbel open-data file: obmi.imports.statbel.StatbelFile (layout, pyarrow table, …)
    catalogue  indicator definitions: [(line or item, mapping)]
    geo        a folder of area definitions, aggregation tables and shapefiles: GeoBundle
    plan       a plan file (obmi.plans.readers): PlanDraft
    finance    a finance-package export, one reader per layout file (obmi.finance.layouts): FinanceDraft

A new format is one more registered reader, not an edit of the imports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from obmi.errors import ValidationError
from obmi.hookspecs import hookimpl
from obmi.imports.sheets import Rows


@dataclass(frozen=True)
class ImportReader:
    kind: str
    name: str
    description: str
    accepts: Callable[[Path], bool]
    read: Callable[[Path], Any]


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower()


def reader_for(kind: str, path: Path, *, refusal: str = "not a file this import reads") -> ImportReader:
    """The first registered reader of `kind` that accepts `path`; a clear refusal otherwise."""
    from obmi.plugins import import_readers
    readers = import_readers(kind)
    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    for reader in readers:
        if reader.accepts(path):
            return reader
    known = "; ".join(f"{r.name}: {r.description}" for r in readers)
    raise ValidationError(f"{path.name}: {refusal} (expected one of — {known})")


def read_table(path: Path) -> tuple[list[str], Rows]:
    """(header, iterator of (line number, row values)) from any registered table reader; its
    `notes` say what reading noticed (a CSV's encoding), for the import report."""
    header, rows = reader_for("table", path).read(path)
    return header, rows if isinstance(rows, Rows) else Rows(rows)


def _table_readers() -> list[ImportReader]:
    from obmi.imports import sheets
    return [
        ImportReader("table", "csv", "CSV or text with , ; | or tab, optionally gzipped",
                     lambda p: _suffix(p).endswith((".csv", ".txt", ".csv.gz", ".txt.gz", ".tsv")), sheets.read_csv),
        ImportReader("table", "xlsx", "Excel workbook, first sheet", lambda p: _suffix(p).endswith(".xlsx"),
                     sheets.read_xlsx),
        ImportReader("table", "parquet", "Parquet file", lambda p: _suffix(p).endswith(".parquet"),
                     sheets.read_parquet),
    ]


def _statbel_readers() -> list[ImportReader]:
    from obmi.imports import statbel
    return [ImportReader("statbel", layout.name, f"Statbel {layout.name}, pipe-separated",
                         partial(statbel.has_layout, layout=layout), partial(statbel.read_file, layout=layout))
            for layout in statbel.LAYOUTS]


def _catalogue_readers() -> list[ImportReader]:
    from obmi.indicators.catalogue import parse_definitions
    return [ImportReader("catalogue", "yaml", "YAML list of indicators", lambda p: p.suffix.lower() in {".yaml", ".yml"},
                         parse_definitions),
            ImportReader("catalogue", "csv", "CSV with one indicator per line", lambda p: p.suffix.lower() == ".csv",
                         parse_definitions)]


def _geo_readers() -> list[ImportReader]:
    from obmi.imports import geo
    return [ImportReader("geo", "folder", "folder with area_definitions/, aggregation_tables/, shapefiles/",
                         lambda p: p.is_dir(), geo.parse_folder)]


def _plan_readers() -> list[ImportReader]:
    from obmi.plans.readers import plan_readers
    return plan_readers()


def _finance_readers() -> list[ImportReader]:
    from obmi.finance.readers import finance_readers
    return finance_readers()


def _swing_readers() -> list[ImportReader]:
    from obmi.imports import swing
    return [ImportReader("swing", "workbook", "Swing upload workbook (XLSX, XLS, ODS), every sheet",
                         lambda p: _suffix(p).endswith((".xlsx", ".xls", ".xlsm", ".ods")), swing.read_workbook),
            ImportReader("swing", "csv", "Swing upload as CSV (, ; | or tab)",
                         lambda p: _suffix(p).endswith((".csv", ".txt", ".csv.gz", ".txt.gz", ".tsv")),
                         swing.read_csv_sheet)]


@hookimpl
def obmi_import_readers() -> list[ImportReader]:
    return (_table_readers() + _statbel_readers() + _catalogue_readers() + _geo_readers() + _plan_readers()
            + _finance_readers() + _swing_readers())
