"""FastAPI dependencies: the request's context (who, language) and the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from obmi.context import Context, public_context
from obmi.store import Database
from obmi.web.i18n import LANGUAGES


def get_context(request: Request) -> Context:
    return public_context(request.app.state.settings)


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_language(request: Request) -> str:
    """?lang= wins (and is remembered in a cookie), then the cookie, then the site default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get("obmi_lang")):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.default_language


CtxDep = Annotated[Context, Depends(get_context)]
DbDep = Annotated[Database, Depends(get_db)]
LangDep = Annotated[str, Depends(get_language)]
