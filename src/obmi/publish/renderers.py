"""Output renderers: a table (columns, rows, metadata) → the bytes of one download format.
Registered through the `obmi_output_renderers` hook; these are the built-in CSV (standard, and
the Excel dialect of Belgian and Dutch locales), XLSX and JSON, and the figure formats SVG and PNG.
A new format (JSON-stat, Frictionless, …) is one more registration: every table download route
offers every registered table format, every figure route every figure format.

Numbers are written as they are stored: a whole number as a whole number (`253266`, never
`253266.0`), other values at full precision."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from decimal import Decimal
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
    extension: str = ""  # the downloaded file's extension, when it is not the format (csv-excel → csv)
    kind: str = "table"  # "table": rows and columns; "figure": meta["spec"] (Vega-Lite) drawn

    @property
    def file_extension(self) -> str:
        return self.extension or self.format


def _finite(value: Any) -> Any:
    """A cell as it is written: a whole float as an integer (a count reads `253266`, not
    `253266.0`); NaN and Infinity — never stored, but strict JSON has none — as empty."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 2 ** 53:
            return int(value)
    return value


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


def _decimal_comma(value: Any) -> Any:
    """A number as Excel reads it in a Belgian or Dutch locale: decimal comma, no exponent."""
    value = _finite(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f").replace(".", ",")
    return value


def render_csv_excel(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    """The CSV that Excel in a Belgian (or Dutch) locale opens in columns with a double click:
    `;` between fields (the comma is the decimal sign there), decimal commas, UTF-8 with BOM, CRLF."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", delimiter=";",
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: _decimal_comma(row.get(c)) for c in columns} for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def render_xlsx(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_finite(row.get(c)) for c in columns])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if type(cell.value) is int:  # a whole number shows as one, with thousands separators
                cell.number_format = "#,##0"
    about = workbook.create_sheet("bron")
    for key, value in meta.items():
        about.append([key, value if isinstance(value, (int, float, str)) or value is None else json.dumps(value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_svg(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    """The Vega-Lite figure in meta["spec"] as SVG, drawn by the one chart engine of the PDF
    reports (vl-convert, the Inter font shipped with OBMi; no network)."""
    from obmi.reports.pdf import render_svg as draw
    return draw(meta["spec"], str(meta.get("lang", "nl")))[0].encode()


def render_png(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> bytes:
    """The same figure as a PNG at twice its size (sharp on high-resolution screens and slides)."""
    import vl_convert
    return bytes(vl_convert.svg_to_png(render_svg(columns, rows, meta).decode(), scale=2))


BUILT_IN = (
    OutputRenderer("csv", "text/csv; charset=utf-8", "CSV (UTF-8 with BOM, for Excel)", render_csv),
    OutputRenderer("csv-excel", "text/csv; charset=utf-8",
                   "CSV for Excel in Belgium and the Netherlands: `;`, decimal comma, UTF-8 with BOM, CRLF",
                   render_csv_excel, extension="csv"),
    OutputRenderer("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "Excel workbook: the data and a sheet with the source", render_xlsx),
    OutputRenderer("json", "application/json", "JSON: {meta, data, count}", render_json),
    OutputRenderer("svg", "image/svg+xml", "a map or chart as SVG (scalable, for print and reports)", render_svg,
                   kind="figure"),
    OutputRenderer("png", "image/png", "a map or chart as PNG (twice its size)", render_png, kind="figure"),
)


@hookimpl
def obmi_output_renderers() -> list[OutputRenderer]:
    return list(BUILT_IN)


def renderer(fmt: str, kind: str = "table") -> OutputRenderer:
    """The registered renderer of `fmt` for a download of `kind` (a table or a figure)."""
    from obmi.plugins import output_renderers
    found = {name: r for name, r in output_renderers().items() if r.kind == kind}
    if fmt not in found:
        raise ValidationError(f"unknown format {fmt!r}", {"format": [f"one of {', '.join(found)}"]})
    return found[fmt]
