"""Small routes of the installation itself: health, the city's logo."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from obmi import operations as ops
from obmi.errors import NotFound
from obmi.web.deps import CtxDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def health(ctx: CtxDep) -> JSONResponse:
    state = ops.health(ctx)
    return JSONResponse({"status": "ok", "data_version": state.version})


@router.get("/brand/logo")
def logo(request: Request) -> FileResponse:
    settings = request.app.state.settings
    path = Path(settings.logo) if settings.logo else None
    if path is None or not path.is_file():
        raise NotFound("no logo configured")
    return FileResponse(path)
