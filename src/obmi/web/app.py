"""App factory: settings and database are passed in and kept on `app.state` (no import-time
globals), so tests, the demo and `obmi serve` build their own."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from obmi import __version__, plugins
from obmi.settings import Settings
from obmi.store import Database
from obmi.web.caching import BodyCache
from obmi.web.errors import install_error_handlers

STATIC = Path(__file__).parent / "static"


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


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="OBMi API", version=__version__, docs_url="/api/docs", redoc_url=None,
                  description="Open statistics of Flemish local governments (Stad in cijfers). Every response "
                              "passes disclosure control: small counts come with status `suppressed` and no value. "
                              "Non-public indicators need an API token: `Authorization: Bearer TOKEN`, or HTTP "
                              "Basic with the token as password (any user name) — what Power BI and Excel send.")
    app.state.settings, app.state.db, app.state.body_cache = settings, db, BodyCache()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in plugins.routers():
        app.include_router(router)
    app.add_middleware(ServerTiming)
    return app
