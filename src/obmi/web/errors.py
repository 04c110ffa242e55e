"""Domain errors → HTTP, in one place: JSON for the API and downloads, a page for people."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from obmi.errors import Conflict, NotAllowed, NotFound, ObmiError, ValidationError

STATUS = ((NotFound, 404), (NotAllowed, 403), (ValidationError, 422), (Conflict, 409))


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/download/")) and "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ObmiError)
    async def obmi_error(request: Request, exc: ObmiError):
        status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
        message = exc.args[0] if exc.args else str(exc)
        if _wants_html(request):
            from obmi.web.deps import get_language
            from obmi.web.rendering import render
            return render(request, "error.html", get_language(request), status_code=status, status=status,
                          message=message)
        body = {"detail": message}
        if isinstance(exc, ValidationError) and exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errors: dict[str, list[str]] = {}
        for item in exc.errors():
            errors.setdefault(".".join(str(p) for p in item.get("loc", ())[1:]) or "request", []).append(item.get("msg", ""))
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)
