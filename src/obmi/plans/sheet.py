"""The status sheet: the open items of a reporting period as an XLSX workbook to fill in offline
and upload again (bulk update). The first rows say what the sheet is; the hidden columns
(item id, version) let the upload find each item and notice a stale edit."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from obmi.errors import ImportRejected, ValidationError
from obmi.plans.model import STATUS_LABELS

HEADER = ("item_id", "versie", "code", "titel", "eigenaar", "status", "voortgang", "toelichting", "knelpunten",
          "geen_wijziging")
TITLE_ROW = 1  # "Statusrapportering <period>"
HEADER_ROW = 3


def write_sheet(rows: list[dict[str, Any]], *, period: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Statusrapportering"
    sheet.cell(TITLE_ROW, 1, f"Statusrapportering {period}").font = Font(bold=True, size=14)
    sheet.cell(TITLE_ROW + 1, 1, "Vul status, voortgang (%), toelichting en knelpunten in, of zet 'ja' bij "
                                 "geen_wijziging. Laat item_id en versie ongewijzigd.")
    for column, name in enumerate(HEADER, start=1):
        cell = sheet.cell(HEADER_ROW, column, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    statuses = ",".join(label for label, _ in STATUS_LABELS.values())
    validation = DataValidation(type="list", formula1=f'"{statuses}"', allow_blank=True)
    sheet.add_data_validation(validation)
    for offset, row in enumerate(rows, start=1):
        item, update = row["item"], row["update"] or {}
        line = HEADER_ROW + offset
        status = update.get("status")
        values = (item["id"], update.get("row_version", 0), item["code"], item["title_short"] or item["title_long"],
                  item["owner"] or "", STATUS_LABELS[status][0] if status in STATUS_LABELS else "",
                  update.get("progress"), update.get("narrative", ""), update.get("knelpunten", ""), "")
        for column, value in enumerate(values, start=1):
            sheet.cell(line, column, value)
        validation.add(f"F{line}")
    for letter, width in zip("ABCDEFGHIJ", (8, 7, 12, 50, 14, 14, 10, 50, 40, 14)):
        sheet.column_dimensions[letter].width = width
    sheet.column_dimensions["A"].hidden = sheet.column_dimensions["B"].hidden = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_sheet(path: Path) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """(period code, [(line, values)]); a sheet that is not a status sheet is refused."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is no workbook
        raise ValidationError(f"{path.name}: not an XLSX workbook (download the status sheet first)") from None
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    title = str(rows[0][0] or "") if rows and rows[0] else ""
    if not title.startswith("Statusrapportering ") or len(rows) < HEADER_ROW:
        raise ValidationError(f"{path.name}: not a status sheet of OBMi (its first cell names the period)")
    header = tuple(str(v or "").strip().lower() for v in rows[HEADER_ROW - 1][:len(HEADER)])
    if header != HEADER:
        raise ValidationError(f"{path.name}: the columns were changed (expected {', '.join(HEADER)})")
    out: list[tuple[int, dict[str, Any]]] = []
    rejected: list[tuple[int, str]] = []
    for line, values in enumerate(rows[HEADER_ROW:], start=HEADER_ROW + 1):
        cells = dict(zip(HEADER, values))
        if all(v in (None, "") for v in cells.values()):
            continue
        try:
            out.append((line, _row(cells)))
        except ValueError as exc:
            rejected.append((line, str(exc)))
    if rejected:
        raise ImportRejected(f"{len(rejected)} rows of {path.name} cannot be read; nothing was changed", rejected,
                             rows_in=len(out) + len(rejected))
    return title.removeprefix("Statusrapportering ").strip(), out


def _row(cells: dict[str, Any]) -> dict[str, Any]:
    try:
        item_id, version = int(cells["item_id"]), int(cells["versie"] or 0)
    except (TypeError, ValueError):
        raise ValueError("item_id and versie must stay as downloaded") from None
    flag = str(cells["geen_wijziging"] or "").strip().lower()
    if flag not in ("", "ja", "nee", "yes", "no", "x", "1", "0", "true", "false"):
        raise ValueError(f"geen_wijziging: 'ja' or empty, not {cells['geen_wijziging']!r}")
    return {"item_id": item_id, "version": version, "status": cells["status"] or "", "progress": cells["voortgang"],
            "narrative": cells["toelichting"] or "", "knelpunten": cells["knelpunten"] or "",
            "no_change": flag in ("ja", "yes", "x", "1", "true")}
