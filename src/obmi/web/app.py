"""App factory: settings and database are passed in (no import-time globals), so tests and the
demo can build their own."""

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


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="OBMi API", version=__version__,
                  description="Open statistics of Flemish local governments. Disclosure control applies to every response.")
    install_error_handlers(app)

    def context() -> Context:
        return public_context(settings)

    Ctx = Annotated[Context, Depends(context)]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, ctx: Ctx):
        indicators = ops.list_indicators(ctx, db)
        return TEMPLATES.TemplateResponse(request, "home.html", {
            "site_name": settings.site_name, "indicators": indicators, "version": __version__})

    @app.get("/api/v1/indicators", tags=["indicators"])
    def indicators(ctx: Ctx) -> dict:
        items = [i.as_row() for i in ops.list_indicators(ctx, db)]
        return {"data": items, "count": len(items)}

    @app.get("/api/v1/observations", tags=["observations"])
    def observations(ctx: Ctx, indicator: str, level: str, period: Optional[str] = None,
                     area: Annotated[list[str], Query()] = []) -> dict:  # noqa: B006 (FastAPI idiom)
        result = ops.query_observations(ctx, db, ObservationQuery(indicator, level, period, tuple(area)))
        data = [{"area_code": r.area_code, "area_name": r.area_name, "period": r.period, "value": r.value,
                 "status": r.status, "numerator": r.numerator, "denominator": r.denominator}
                for r in result.rows]
        return {"data": data, "count": len(data), "indicator": indicator, "level": level,
                "unit": result.indicator.unit}

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        db.require_schema()
        return {"status": "ok"}

    return app
