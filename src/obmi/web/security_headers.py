"""Security headers on every response, and which proxies to believe about HTTPS.

The Content-Security-Policy allows what the pages use and nothing else: scripts only from this
site (no inline script: page data travels in `<script type="application/json">` blocks, which are
never run), style sheets only from this site (Leaflet and Vega position things through the CSSOM,
which CSP allows; the server's own `style` attributes — legend swatches, progress bars — are
allowed by `style-src-attr`), images from this site, `data:`/`blob:` (chart downloads) and the
city's base map, and frames of these pages only on this site and the configured embedding sites.
A response that sets its own policy keeps it (the sandbox of plan attachments).

Over HTTPS — the connection's own scheme, or `X-Forwarded-Proto` of a trusted proxy
(OBMI_TRUSTED_PROXIES) — cookies get `Secure` and the response HSTS."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from obmi.settings import Settings, basemap_origin

HSTS = b"max-age=31536000"  # a year; no includeSubDomains: a city's other sites are not ours to decide
# Browser features no page uses: a script that got in anyway cannot ask for them either.
PERMISSIONS = b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), accelerometer=(), gyroscope=(), " \
              b"magnetometer=()"


def content_security_policy(settings: Settings, *, scripts: Iterable[str] = ()) -> str:
    """`scripts`: sources allowed besides the site's own (the hashes of with_inline_scripts)."""
    images = ["'self'", "data:", "blob:", *filter(None, [basemap_origin(settings)])]
    ancestors = ["'self'", *filter(None, settings.embed_hosts.split(","))]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *scripts],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ancestors,
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def with_inline_scripts(settings: Settings, html: str) -> str:
    """The policy for a page whose inline scripts the server wrote itself from constants (Swagger
    UI's start-up script): the site's, with the hash of each of those scripts allowed."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
              for body in re.findall(r"<script>(.*?)</script>", html, re.S)]
    return content_security_policy(settings, scripts=hashes)


def response_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every response gets (a response's own value of one of them wins)."""
    return [(b"content-security-policy", content_security_policy(settings).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", PERMISSIONS)]


def _secure_cookie(value: bytes) -> bytes:
    attributes = {part.strip().lower() for part in value.split(b";")[1:]}
    return value if b"secure" in attributes else value + b"; Secure"


def with_security_headers(headers: list[tuple[bytes, bytes]], ours: list[tuple[bytes, bytes]], *,
                          https: bool, secure_cookies: bool) -> list[tuple[bytes, bytes]]:
    """`headers` of a response with ours added (not replacing its own) and, over HTTPS, HSTS and
    `Secure` on every cookie."""
    present = {name.lower() for name, _ in headers}
    out = [(name, _secure_cookie(value) if https and secure_cookies and name.lower() == b"set-cookie" else value)
           for name, value in headers]
    out += [(name, value) for name, value in ours if name not in present]
    if https and b"strict-transport-security" not in present:
        out.append((b"strict-transport-security", HSTS))
    return out


class SecurityHeaders:
    """Pure ASGI middleware adding `response_headers` (see with_security_headers)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.ours = app, response_headers(settings)
        self.secure_cookies = settings.cookie_secure != "never"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])), self.ours, https=https,
                                                           secure_cookies=self.secure_cookies)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def stamp(response: Response, request: Request) -> Response:
    """The same headers on a response made outside the middleware (the 500 handler's)."""
    settings = request.app.state.settings
    response.raw_headers[:] = with_security_headers(list(response.raw_headers), response_headers(settings),
                                                    https=request.url.scheme == "https",
                                                    secure_cookies=settings.cookie_secure != "never")
    return response


class TrustedProxies:
    """uvicorn's handling of X-Forwarded-Proto and X-Forwarded-For, for the configured proxies only
    (OBMI_TRUSTED_PROXIES; none: the headers are ignored, whoever sends them)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        hosts = [h for h in settings.trusted_proxies.split(",") if h]
        self.app: Any = ProxyHeadersMiddleware(app, trusted_hosts=hosts) if hosts else app  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
