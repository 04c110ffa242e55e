"""App factory: settings and database are passed in and kept on `app.state` (no import-time
globals), so tests, the demo and `obmi serve` build their own."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from obmi import __version__
from obmi.errors import NotFound
from obmi.settings import Settings
from obmi.store import Database
from obmi.web import api, downloads, pages
from obmi.web.caching import BodyCache
from obmi.web.errors import install_error_handlers

STATIC = Path(__file__).parent / "static"


class ServerTiming:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs milliseconds per request):
    adds `Server-Timing: app;dur=…` to every response and refuses NUL characters, which
    PostgreSQL text cannot hold, before they reach the database."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            response = JSONResponse({"detail": "invalid request: NUL character"}, status_code=422)
            return await response(scope, receive, send)
        started = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                duration = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message["headers"] = [*message.get("headers", []), (b"server-timing", duration)]
            await send(message)

        await self.app(scope, receive, timed_send)


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="OBMi API", version=__version__, docs_url="/api/docs", redoc_url=None,
                  description="Open statistics of Flemish local governments (Stad in cijfers). Every response "
                              "passes disclosure control: small counts come with status `suppressed` and no value.")
    app.state.settings, app.state.db, app.state.body_cache = settings, db, BodyCache()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(pages.router)
    app.add_middleware(ServerTiming)

    @app.get("/brand/logo", include_in_schema=False)
    def logo():
        path = Path(settings.logo) if settings.logo else None
        if path is None or not path.is_file():
            raise NotFound("no logo configured")
        return FileResponse(path)

    @app.get("/healthz", include_in_schema=False)
    def health() -> JSONResponse:
        db.require_schema()
        return JSONResponse({"status": "ok"})

    return app
