"""Domain errors → HTTP, in one place: JSON for the API and downloads, a page for people.

    NotAuthenticated 401 (a page asks to sign in: redirect to /login)   NotFound 404
    NotAllowed       403                                               ValidationError 422
    Conflict         409      TooManyRequests 429 (with Retry-After)   anything else 500 (no trace)
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from obmi.errors import (
    Conflict,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    ObmiError,
    TooManyRequests,
    ValidationError,
)
from obmi.web.methods import allowed_methods
from obmi.web.params import field_errors, summary
from obmi.web.security_headers import stamp

log = logging.getLogger("obmi.web")
STATUS = ((NotAuthenticated, 401), (NotFound, 404), (NotAllowed, 403), (ValidationError, 422), (Conflict, 409),
          (TooManyRequests, 429))
# What Power BI, Excel and scripts need to offer their credential prompt.
CHALLENGE = 'Bearer realm="OBMi", Basic realm="OBMi", charset="UTF-8"'


# Machine channels answer JSON whatever the client accepts.
JSON_PATHS = ("/api/", "/download/", "/odata/", "/jiveservices/", "/jive/")


def wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(JSON_PATHS) and "text/html" in request.headers.get("accept", "")


def _page(request: Request, status: int, message: str, **extra: object) -> Response:
    """`message_lang`: the language of `message` (a domain error's own message is English)."""
    from obmi.web.deps import get_language
    from obmi.web.rendering import render
    return render(request, "error.html", get_language(request), status_code=status, status=status, message=message,
                  **extra)


def _unreadable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI and Starlette answer 400 to a body they cannot read: not UTF-8, broken multipart."""
    reason = exc.__cause__ or exc.__context__
    return exc.status_code == 400 and isinstance(reason, (UnicodeDecodeError, MultiPartException))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ObmiError)
    async def obmi_error(request: Request, exc: ObmiError) -> Response:
        status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
        message = exc.args[0] if exc.args else str(exc)
        if wants_html(request):
            if isinstance(exc, NotAuthenticated) and request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            return _page(request, status, message, reason=getattr(exc, "reason", ""))
        body: dict = {"detail": message}
        if isinstance(exc, ValidationError) and exc.errors:
            body["errors"] = exc.errors
        if isinstance(exc, Conflict) and hasattr(exc, "theirs_version"):  # a stale edit: both versions
            body.update(jsonable_encoder({k: getattr(exc, k, None) for k in ("mine", "theirs", "theirs_version")}))
        headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown routes (404) and wrong methods (405): a page for people, JSON for programs."""
        if _unreadable_body(exc):  # invalid input like any other: 422, as documented
            return await bad_request(request, RequestValidationError([{"type": "body_unreadable",
                                                                       "loc": ("request", "body")}]))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only those of its first route
            headers["Allow"] = ", ".join(allowed_methods(request.scope))
        if wants_html(request):
            # Starlette's own details ("Not Found") are English and say nothing the page does not.
            response = _page(request, exc.status_code, "")
            response.headers.update(headers)
            return response
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        """Parameters out of bounds (obmi.web.params) or of the wrong type, in plain words: in the
        page's language for people, in English for programs."""
        from obmi.web.deps import get_language
        lang = get_language(request) if wants_html(request) else "en"
        errors = field_errors(exc.errors(), lang)
        if wants_html(request):
            return _page(request, 422, summary(errors), message_lang=lang)
        return JSONResponse({"detail": f"invalid request: {summary(errors)}", "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "")
        log.exception("internal error", extra={"request_id": request_id, "path": request.url.path})
        message = f"internal error (request {request_id}): the administrators can find it in the log"
        # This handler answers outside the middleware that stamps every response with its id.
        response = _page(request, 500, message) if wants_html(request) else JSONResponse({"detail": message},
                                                                                             status_code=500)
        response.headers["X-Request-ID"] = request_id
        return stamp(response, request)
