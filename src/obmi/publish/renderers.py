"""Output renderers: a table (columns, rows, metadata) → the bytes of one download format.
Registered through the `obmi_output_renderers` hook; these are the built-in CSV, XLSX and JSON.
A new format (JSON-stat, Frictionless, …) is one more registration: every download route offers
every registered format."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from obmi.errors import ValidationError
from obmi.hookspecs import hookimpl

Table = tuple[Sequence[str], Sequence[Mapping[str, Any]], Mapping[str, Any]]  # columns, rows, metadata


@dataclass(frozen=True)
class OutputRenderer:
    format: str  # the file extension in download URLs
    media_type: str
    description: str
    render: Callable[[Sequence[str], Sequence[Mapping[str, Any]], Mapping[str, Any]], bytes]


def _finite(value: Any) -> Any:
    # Strict JSON has no NaN or Infinity; no such value is ever stored, but a renderer must not
    # produce invalid output if one were.
    return None if isinstance(value, float) and not math.isfinite(value) else value


def render_json(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    data = [{c: _finite(row.get(c)) for c in columns} for row in rows]
    return json.dumps({"meta": dict(meta), "data": data, "count": len(data)}, ensure_ascii=False, indent=1,
                      default=str, allow_nan=False).encode()


def render_csv(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: _finite(row.get(c)) for c in columns} for row in rows)
    return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel opens UTF-8 CSV correctly


def render_xlsx(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_finite(row.get(c)) for c in columns])
    about = workbook.create_sheet("bron")
    for key, value in meta.items():
        about.append([key, value if isinstance(value, (int, float, str)) or value is None else json.dumps(value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BUILT_IN = (
    OutputRenderer("csv", "text/csv; charset=utf-8", "CSV (UTF-8 with BOM, for Excel)", render_csv),
    OutputRenderer("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "Excel workbook: the data and a sheet with the source", render_xlsx),
    OutputRenderer("json", "application/json", "JSON: {meta, data, count}", render_json),
)


@hookimpl
def obmi_output_renderers() -> list[OutputRenderer]:
    return list(BUILT_IN)


def renderer(fmt: str) -> OutputRenderer:
    from obmi.plugins import output_renderers
    found = output_renderers()
    if fmt not in found:
        raise ValidationError(f"unknown format {fmt!r}", {"format": [f"one of {', '.join(found)}"]})
    return found[fmt]
