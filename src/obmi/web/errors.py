"""Domain errors → HTTP, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from obmi.errors import Conflict, NotAllowed, NotFound, ObmiError, ValidationError

STATUS = ((NotFound, 404), (NotAllowed, 403), (ValidationError, 422), (Conflict, 409))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ObmiError)
    async def obmi_error(_request: Request, exc: ObmiError) -> JSONResponse:
        status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
        body = {"detail": exc.args[0] if exc.args else str(exc)}
        if isinstance(exc, ValidationError) and exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=status)
