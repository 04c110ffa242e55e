"""HTTP methods the routes do not declare themselves: HEAD answers like GET without a body (FastAPI
registers GET routes for GET only, so every HEAD was a 405), and a 405 names in `Allow` every
method the path has — Starlette names only those of the first route matching the path, while
GET and POST of one path are often two routes."""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class HeadAsGet:
    """Pure ASGI middleware: a HEAD request runs as the GET it stands for, and only the status and
    headers (Content-Length included) go out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app answers at this path (HEAD with GET)."""
    routes = scope["app"].router.routes
    # Inside a Mount (the static files) the scope's root path is the mount's: match from the app's.
    scope = {**scope, "root_path": scope.get("app_root_path", scope.get("root_path", ""))}
    if any(isinstance(r, Mount) and r.matches(scope)[0] == Match.FULL for r in routes):
        return ["GET", "HEAD"]  # the static files (a Mount matches every method)
    allowed = [m for m in METHODS
               if any(route.matches({**scope, "method": m})[0] == Match.FULL for route in routes)]
    return allowed + ["HEAD"] * ("GET" in allowed)
