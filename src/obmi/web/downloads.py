"""Downloads of exactly what a table, chart or map shows: CSV, XLSX and JSON, built from the same
query-layer results as the page (so suppression holds here too)."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request, Response
from openpyxl import Workbook

from obmi import operations as ops
from obmi.errors import ValidationError
from obmi.query import ObservationQuery
from obmi.web.api import parse_ref, parse_refs
from obmi.web.deps import CtxDep, DbDep
from obmi.web.serialize import factsheet_json

router = APIRouter(prefix="/download", include_in_schema=False)
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
OBSERVATION_COLUMNS = ["indicator", "area_code", "area_name", "level", "period", "value", "unit", "status"]


def _table_bytes(fmt: str, columns: list[str], rows: list[dict], meta: dict) -> bytes:
    if fmt == "json":
        return json.dumps({"meta": meta, "data": rows, "count": len(rows)}, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel opens UTF-8 CSV correctly
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    about = workbook.create_sheet("bron")
    for key, value in meta.items():
        about.append([key, value if isinstance(value, (int, float, str)) or value is None else json.dumps(value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _send(fmt: str, name: str, body: bytes) -> Response:
    return Response(body, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}", {"format": [f"one of {', '.join(FORMATS)}"]})


@router.get("/observations.{fmt}")
def observations(request: Request, ctx: CtxDep, db: DbDep, fmt: str, indicator: str, level: str,
                 period: Optional[str] = None, within: Optional[str] = None,
                 area: Annotated[Optional[list[str]], Query()] = None) -> Response:
    _check(fmt)
    result = ops.query_observations(ctx, db, ObservationQuery(indicator, level, period, tuple(area or ()),
                                                              parse_ref(within) if within else None))
    ind = result.indicator
    rows = [{"indicator": ind.code, "area_code": r.area_code, "area_name": r.area_name, "level": r.level,
             "period": r.period, "value": r.value, "unit": ind.unit, "status": r.status} for r in result.rows]
    meta = {"indicator": ind.code, "name": ind.name_nl, "unit": ind.unit, "source": ind.source,
            "licence": ind.licence, "level": level, "period": period, "within": within}
    return _send(fmt, f"{ind.code}-{level}-{period or 'alle'}", _table_bytes(fmt, OBSERVATION_COLUMNS, rows, meta))


@router.get("/factsheet/{level}/{code}.{fmt}")
def factsheet(request: Request, ctx: CtxDep, db: DbDep, level: str, code: str, fmt: str,
              ref: Annotated[Optional[list[str]], Query()] = None) -> Response:
    _check(fmt)
    sheet = factsheet_json(ops.area_factsheet(ctx, db, level, code, parse_refs(ref, code)))
    refs = sheet["references"]
    columns = ["theme", "indicator", "name", "unit", "period", "value", "status", "change"] + \
        [f"{r['name']}" for r in refs]
    rows = []
    for theme in sheet["themes"]:
        for f in theme["figures"]:
            rows.append({"theme": theme["theme"], "indicator": f["indicator"], "name": f["name_nl"], "unit": f["unit"],
                         "period": f["period"], "value": f["value"], "status": f["status"], "change": f["change"],
                         **{r["name"]: r["value"] for r in f["references"]}})
    meta = {"area": sheet["area"]["name"], "level": level, "sources": "; ".join(sheet["sources"])}
    if fmt == "json":
        return _send(fmt, f"steekkaart-{level}-{code}", json.dumps(sheet, ensure_ascii=False, indent=1).encode())
    return _send(fmt, f"steekkaart-{level}-{code}", _table_bytes(fmt, columns, rows, meta))


@router.get("/series.{fmt}")
def series(request: Request, ctx: CtxDep, db: DbDep, fmt: str, indicator: Annotated[list[str], Query()],
           area: Annotated[list[str], Query()], ancestors: bool = False) -> Response:
    """Time series (the compare page and the time-series chart)."""
    _check(fmt)
    result = ops.area_series(ctx, db, indicator, [parse_ref(a) for a in area], with_ancestors=ancestors)
    by_id = {a.id: a for a in result["areas"]}
    rows = [{"indicator": code, "area_code": by_id[area_id].code, "area_name": by_id[area_id].name,
             "level": by_id[area_id].level, "period": r.period, "value": r.value, "status": r.status}
            for (code, area_id), points in result["rows"].items() for r in points]
    columns = ["indicator", "area_code", "area_name", "level", "period", "value", "status"]
    return _send(fmt, "reeksen", _table_bytes(fmt, columns, rows, {"indicators": ", ".join(indicator)}))
