"""Downloads of exactly what a table, chart or map shows, in every registered output format
(CSV, XLSX, JSON built in; obmi.publish.renderers), built from the same operations as the page —
so access rules and disclosure control hold here too."""

from __future__ import annotations

import json
from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request, Response

from obmi import operations as ops
from obmi.geo.codes import parse_area_key
from obmi.operations import ObservationQuery
from obmi.publish.renderers import renderer
from obmi.publish.signs import origin_word, status_word
from obmi.web.api import parse_refs
from obmi.web.deps import CtxDep, LangDep
from obmi.web.serialize import factsheet_json

router = APIRouter(prefix="/download", include_in_schema=False)
# A cell without a number stays empty (never a sign or a number in the value column); `status` is
# the code, as in the API, `status_label` its word in the download's language ("onderdrukt",
# "niet van toepassing", "onbekend", "geen gegevens"; obmi.publish.signs); `origin` says where the
# value comes from, as in the API, `origin_label` in words.
OBSERVATION_COLUMNS = ["indicator", "area_code", "area_name", "level", "period", "value", "unit", "status",
                       "status_label", "origin", "origin_label"]
SERIES_COLUMNS = ["indicator", "area_code", "area_name", "level", "period", "value", "status", "status_label"]


def _send(fmt: str, name: str, columns: list[str], rows: list[dict], meta: dict) -> Response:
    output = renderer(fmt)
    return Response(output.render(columns, rows, meta), media_type=output.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"',
                             "Cache-Control": "private, no-cache"})


@router.get("/observations.{fmt}")
def observations(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, indicator: str, level: str,
                 period: Optional[str] = None, within: Optional[str] = None,
                 area: Annotated[Optional[list[str]], Query()] = None) -> Response:
    output = renderer(fmt)  # refuse an unknown format before any work
    query = ObservationQuery(indicator, level, period, tuple(area or ()),
                             parse_area_key(within, "within") if within else None)
    result = ops.query_observations(ctx, query)
    ind = result.indicator
    rows = [{"indicator": ind.code, "area_code": r.area_code, "area_name": r.area_name, "level": r.level,
             "period": r.period, "value": r.value, "unit": ind.unit, "status": r.status,
             "status_label": status_word(r.value, r.status, lang),
             "origin": str(r.origin) if r.origin else None, "origin_label": origin_word(r.origin, lang)}
            for r in result.rows]
    meta = {"indicator": ind.code, "name": ind.name_nl, "unit": ind.unit, "source": ind.source,
            "licence": ind.licence, "level": level, "period": period, "within": within}
    return _send(output.format, f"{ind.code}-{level}-{period or 'alle'}", OBSERVATION_COLUMNS, rows, meta)


@router.get("/factsheet/{level}/{code}.{fmt}")
def factsheet(request: Request, ctx: CtxDep, lang: LangDep, level: str, code: str, fmt: str,
              ref: Annotated[Optional[list[str]], Query()] = None) -> Response:
    output = renderer(fmt)
    built = ops.area_factsheet(ctx, level, code, parse_refs(ref, code))
    sheet = factsheet_json(built)
    if output.format == "json":  # the whole structure, as the API gives it
        return Response(json.dumps(sheet, ensure_ascii=False, indent=1).encode(), media_type=output.media_type,
                        headers={"Content-Disposition": f'attachment; filename="steekkaart-{level}-{code}.json"'})
    refs = sheet["references"]
    status_of = [f"{r['name']} (status)" for r in refs]  # a reference without a number says why
    columns = (["theme", "indicator", "name", "unit", "period", "value", "status", "status_label", "change"]
               + [r["name"] for r in refs] + status_of)
    rows = []
    for theme, section in zip(sheet["themes"], built.sections):
        for f, figure in zip(theme["figures"], section.figures):
            # A reference without a point in the period reads as the query layer's "missing" does.
            ref_words = [status_word(p.value if p else None, p.status if p else None, lang)
                         for _ref, p in figure.references]
            rows.append({"theme": theme["theme"], "indicator": f["indicator"], "name": f["name_nl"],
                         "unit": f["unit"], "period": f["period"], "value": f["value"], "status": f["status"],
                         "status_label": status_word(f["value"], f["status"], lang), "change": f["change"],
                         **{r["name"]: r["value"] for r in f["references"]}, **dict(zip(status_of, ref_words))})
    meta = {"area": sheet["area"]["name"], "level": level, "sources": "; ".join(sheet["sources"])}
    return _send(output.format, f"steekkaart-{level}-{code}", columns, rows, meta)


@router.get("/series.{fmt}")
def series(request: Request, ctx: CtxDep, lang: LangDep, fmt: str, indicator: Annotated[list[str], Query()],
           area: Annotated[list[str], Query()], ancestors: bool = False) -> Response:
    """Time series (the compare page and the time-series chart)."""
    output = renderer(fmt)
    result = ops.area_series(ctx, indicator, [parse_area_key(a) for a in area], with_ancestors=ancestors)
    by_id = {a.id: a for a in result.areas}
    rows = [{"indicator": code, "area_code": by_id[area_id].code, "area_name": by_id[area_id].name,
             "level": by_id[area_id].level, "period": r.period, "value": r.value, "status": r.status,
             "status_label": status_word(r.value, r.status, lang)}
            for (code, area_id), points in result.rows.items() for r in points]
    return _send(output.format, "reeksen", SERIES_COLUMNS, rows, {"indicators": ", ".join(indicator)})
