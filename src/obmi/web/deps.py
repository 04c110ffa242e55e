"""FastAPI dependencies: the request's context (who is asking, from where), the language.

Who is asking, in this order: an API token (`Authorization: Bearer TOKEN`, or HTTP Basic with
the token as password — what Power BI and Excel can send), else a session cookie, else the
anonymous public. A presented token that is invalid is refused (401), never silently ignored."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from obmi import operations as ops
from obmi.auth.actor import ANONYMOUS, Actor
from obmi.auth.sessions import COOKIE, read_session_cookie
from obmi.auth.tokens import looks_like_api_token
from obmi.context import Context
from obmi.errors import NotAuthenticated
from obmi.web.i18n import LANGUAGES


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _base_context(request: Request, actor: Actor = ANONYMOUS) -> Context:
    state = request.app.state
    return Context(state.db, state.settings, actor, request_id=getattr(request.state, "request_id", ""),
                   source_address=client_address(request))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        return None
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticated("malformed HTTP Basic credentials", "token_invalid") from None
        if looks_like_api_token(password):
            return password
        raise NotAuthenticated("HTTP Basic takes an API token as password (any user name)", "token_invalid")
    raise NotAuthenticated(f"unsupported authorization scheme {scheme!r}: use Bearer or Basic", "token_invalid")


def _resolve(request: Request) -> Context:
    token = _bearer(request)
    anonymous = _base_context(request)
    if token is not None:
        return _base_context(request, ops.authenticate_token(anonymous, token))
    secret = read_session_cookie(request.app.state.settings.secret_key.get_secret_value(), request.cookies.get(COOKIE))
    if secret is None:
        return anonymous
    check = ops.authenticate_session(anonymous, secret)
    if check.actor is None:
        request.state.session_ended = check.ended  # pages say "your session has expired"
        return anonymous
    return _base_context(request, check.actor)


def get_context(request: Request) -> Context:
    ctx = getattr(request.state, "context", None)
    if ctx is None:
        ctx = request.state.context = _resolve(request)
    return ctx


def get_language(request: Request) -> str:
    """?lang= wins (and is remembered in a cookie), then the cookie, then the site default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get("obmi_lang")):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.default_language


CtxDep = Annotated[Context, Depends(get_context)]
LangDep = Annotated[str, Depends(get_language)]
