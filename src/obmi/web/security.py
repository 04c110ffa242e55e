"""Cookies and CSRF for the web pages. Every form carries a CSRF token bound to the session (or,
before sign-in, to a random pre-session cookie); every state-changing request made with cookies
must send it back. Requests authenticated by an API token need none: no browser sends one by
itself."""

from __future__ import annotations

from fastapi import Request, Response

from obmi.auth.sessions import COOKIE, CSRF_COOKIE, csrf_token, csrf_valid, sign_session_id
from obmi.auth.tokens import new_secret
from obmi.context import Context
from obmi.errors import NotAllowed
from obmi.settings import Settings


def _secret(request: Request) -> str:
    return request.app.state.settings.secret_key.get_secret_value()


def cookie_secure(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    return request.url.scheme == "https" or settings.environment == "production"


def _binding(request: Request, ctx: Context) -> str | None:
    if ctx.actor.session_id:
        return ctx.actor.session_id
    return request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_binding", None)


def form_token(request: Request, ctx: Context) -> str:
    """The CSRF token to put in a form on this page (creating the pre-session cookie if needed)."""
    binding = _binding(request, ctx)
    if binding is None:
        binding = request.state.new_csrf_binding = new_secret()
    return csrf_token(_secret(request), binding)


def remember_csrf_binding(request: Request, response: Response) -> None:
    """Set the pre-session cookie a rendered form's token is bound to (see form_token)."""
    binding = getattr(request.state, "new_csrf_binding", None)
    if binding is not None:
        response.set_cookie(CSRF_COOKIE, binding, httponly=True, samesite="strict",
                            secure=cookie_secure(request, request.app.state.settings), path="/")


def check_csrf(request: Request, ctx: Context, token: str | None) -> None:
    """Refuse a cookie-authenticated state change without the right token (nothing is changed)."""
    if ctx.actor.via == "token":
        return
    token = token or request.headers.get("x-csrf-token")
    if not csrf_valid(_secret(request), _binding(request, ctx), token):
        raise NotAllowed("the form has expired or did not come from this site (missing or invalid CSRF "
                         "token): reload the page and try again")


def set_session_cookie(request: Request, response: Response, session_secret: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(COOKIE, sign_session_id(_secret(request), session_secret), httponly=True, samesite="lax",
                        secure=cookie_secure(request, settings), max_age=settings.session_max_hours * 3600, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def safe_next(target: str | None, default: str = "/admin") -> str:
    """Where to go after sign-in: only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return default
    return target
