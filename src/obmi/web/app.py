"""App factory: settings and database are passed in and kept on `app.state` (no import-time
globals), so tests and the demo can build their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from obmi import __version__, operations as ops
from obmi.context import Context, public_context
from obmi.query import ObservationQuery
from obmi.settings import Settings
from obmi.store import Database
from obmi.web.errors import install_error_handlers

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def get_context(request: Request) -> Context:
    return public_context(request.app.state.settings)


def get_db(request: Request) -> Database:
    return request.app.state.db


CtxDep = Annotated[Context, Depends(get_context)]
DbDep = Annotated[Database, Depends(get_db)]


def home(request: Request, ctx: CtxDep, db: DbDep):
    return TEMPLATES.TemplateResponse(request, "home.html", {
        "site_name": ctx.settings.site_name, "indicators": ops.list_indicators(ctx, db), "version": __version__})


def list_indicators(ctx: CtxDep, db: DbDep) -> dict:
    items = [i.as_row() for i in ops.list_indicators(ctx, db)]
    return {"data": items, "count": len(items)}


def list_observations(ctx: CtxDep, db: DbDep, indicator: str, level: str, period: Optional[str] = None,
                      area: Annotated[Optional[list[str]], Query()] = None) -> dict:
    """Observations of one indicator at one level (and period, areas). Suppressed values come
    with status `suppressed` and no value."""
    result = ops.query_observations(ctx, db, ObservationQuery(indicator, level, period, tuple(area or ())))
    data = [{"area_code": r.area_code, "area_name": r.area_name, "period": r.period, "value": r.value,
             "status": r.status, "numerator": r.numerator, "denominator": r.denominator} for r in result.rows]
    return {"data": data, "count": len(data), "indicator": indicator, "level": level,
            "unit": result.indicator.unit}


def list_levels(ctx: CtxDep, db: DbDep) -> dict:
    items = [vars(level) for level in ops.list_levels(ctx, db)]
    return {"data": items, "count": len(items)}


def level_geojson(ctx: CtxDep, db: DbDep, level: str, within: Optional[str] = None, detail: str = "web") -> dict:
    """The areas of a level as a GeoJSON FeatureCollection in WGS84 (`detail=web`: simplified)."""
    parent = tuple(within.split(":", 1)) if within and ":" in within else None
    return ops.area_geojson(ctx, db, level, within=parent, detail=detail)


def health(ctx: CtxDep, db: DbDep) -> dict:
    db.require_schema()
    return {"status": "ok"}


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="OBMi API", version=__version__,
                  description="Open statistics of Flemish local governments. "
                              "Disclosure control applies to every response.")
    app.state.settings, app.state.db = settings, db
    install_error_handlers(app)
    app.get("/", response_class=HTMLResponse, include_in_schema=False)(home)
    app.get("/api/v1/indicators", tags=["indicators"])(list_indicators)
    app.get("/api/v1/observations", tags=["observations"])(list_observations)
    app.get("/api/v1/levels", tags=["geography"])(list_levels)
    app.get("/api/v1/levels/{level}/geojson", tags=["geography"])(level_geojson)
    app.get("/healthz", include_in_schema=False)(health)
    return app
