"""App factory: settings and database are passed in and kept on `app.state` (no import-time
globals), so tests, the demo and `obmi serve` build their own."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from obmi import __version__, plugins
from obmi import operations as ops
from obmi.context import public_context
from obmi.settings import Settings
from obmi.store import Database
from obmi.web.caching import MB, BodyCache
from obmi.web.errors import install_error_handlers
from obmi.web.methods import HeadAsGet
from obmi.web.params import check_parameters
from obmi.web.security_headers import SecurityHeaders, TrustedProxies, with_inline_scripts

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("obmi.web")


class ServerTiming:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs milliseconds per request):
    gives every request an id (`X-Request-ID`, kept when a proxy sent one; it goes into the
    audit log and error messages), adds `Server-Timing: app;dur=…` to every response and refuses
    NUL characters, which PostgreSQL text cannot hold, before they reach the database."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            response = JSONResponse({"detail": "invalid request: NUL character"}, status_code=422)
            return await response(scope, receive, send)
        started = time.perf_counter()
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given.isascii() and 8 <= len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def timed_send(message):
            if message["type"] == "http.response.start":
                duration = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message["headers"] = [*message.get("headers", []), (b"server-timing", duration),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, timed_send)


def _add_api_docs_and_favicon(app: FastAPI) -> None:
    """Swagger UI from the vendored copy (FastAPI's default loads it from a CDN: a blank page
    offline) and the favicon browsers ask for at the root."""

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        vendored = "/static/vendor/swagger-ui/swagger-ui"
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{vendored}-bundle.js?v={__version__}", swagger_css_url=f"{vendored}.css?v={__version__}",
            swagger_favicon_url="/favicon.ico",
            # No validator badge: it would send the specification to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None})
        # Its start-up script is inline: the page's policy allows exactly that script.
        page.headers["Content-Security-Policy"] = with_inline_scripts(app.state.settings, bytes(page.body).decode())
        return page

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})


def warm_up_pdf(settings: Settings, db: Database) -> threading.Thread:
    """Render one public fact sheet PDF in the background and throw it away. The first PDF after
    a start otherwise waits for vl-convert's JavaScript engine to start and for every chart shape
    of a fact sheet to be compiled once (2.5–5.5 s instead of about 1 s); later ones reuse both."""
    def run() -> None:
        started = time.perf_counter()
        try:
            ctx = public_context(db, settings)
            levels = [lvl.code for lvl in ops.list_levels(ctx) if lvl.is_current and lvl.areas]
            level = "gemeente" if "gemeente" in levels else (levels[-1] if levels else None)
            areas = ops.list_areas(ctx, level) if level else []
            if areas:
                ops.factsheet_pdf(ctx, level, areas[0].code)
        except Exception:  # noqa: BLE001 — a failed warm-up only means the first PDF is slower
            log.warning("PDF warm-up failed", exc_info=True)
            return
        log.info("PDF warm-up done", extra={"seconds": round(time.perf_counter() - started, 2)})
    thread = threading.Thread(target=run, name="obmi-pdf-warm-up", daemon=True)
    thread.start()
    return thread


def create_app(settings: Settings, db: Database, *, warm_up: bool = False) -> FastAPI:
    """`warm_up`: start the PDF renderer in the background (the server does; tests need not)."""
    # check_parameters: every parameter of every route bounded in size and free of control characters.
    app = FastAPI(title="OBMi API", version=__version__, docs_url=None, redoc_url=None,
                  dependencies=[Depends(check_parameters)],
                  description="Open statistics of Flemish local governments (Stad in cijfers). Every response "
                              "passes disclosure control: small counts come with status `suppressed` and no value. "
                              "Non-public indicators need an API token: `Authorization: Bearer TOKEN`, or HTTP "
                              "Basic with the token as password (any user name) — what Power BI and Excel send.")
    app.state.settings, app.state.db = settings, db
    app.state.body_cache = BodyCache(settings.response_cache_mb * MB)
    install_error_handlers(app)
    _add_api_docs_and_favicon(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in plugins.routers():
        app.include_router(router)
    app.add_middleware(ServerTiming)
    # Outermost last: the proxy's word on HTTPS first, then HEAD as GET, then the security headers.
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedProxies, settings=settings)
    app.state.warm_up = warm_up_pdf(settings, db) if warm_up else None
    return app
