"""Signing in and out, choosing a password with a one-time link, and one's own account.

    GET/POST /login                 sign in with a local account (single sign-on: /login/oidc)
    GET/POST /logout                a confirmation page, then the session ends for good
    GET/POST /wachtwoord/{secret}   choose a new password with a link from a mail
    GET      /account               who am I: name, organisation, roles, groups
    POST     /account/wachtwoord    change one's own password

Every POST checks its CSRF token first. Failures are shown on the page itself, in the page's
language, from the stable reason codes of NotAuthenticated (never the exception's text alone)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obmi import operations as ops
from obmi.auth.actor import ANONYMOUS
from obmi.auth.roles import ROLE_HELP, Role
from obmi.context import Context
from obmi.errors import NotAllowed, NotAuthenticated, ValidationError
from obmi.web import i18n
from obmi.web.deps import CtxDep, LangDep
from obmi.web.rendering import render
from obmi.web.security import check_csrf, clear_session_cookie, safe_next, set_session_cookie

router = APIRouter(include_in_schema=False)

# Pages with secrets or personal data are never kept by a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
REASONS = ("wrong_password", "locked", "link_invalid", "disabled", "token_invalid", "no_role", "name_taken",
           "sign_in", "csrf", "mismatch")
# Why a presented session no longer counts (request.state.session_ended) → what the login page says.
SESSION_ENDED = ("idle", "absolute", "ended", "disabled", "unknown")

# Role names and what they may do, in Dutch (the source language of the catalogue).
ROLE_TEXT: dict[str, tuple[str, str]] = {role: (nl, description) for role, (nl, description, _) in ROLE_HELP.items()}

# The password rules (obmi.auth.passwords.password_problems) in the catalogue's language.
_PROBLEMS = ((re.compile(r"at least (\d+) characters"), "minstens %(n)s tekens"),
             (re.compile(r"at most (\d+) characters"), "hoogstens %(n)s tekens"),
             (re.compile(r"more than three different characters"), "meer dan drie verschillende tekens"),
             (re.compile(r"not containing the user name"), "niet de gebruikersnaam bevatten"),
             (re.compile(r"not one of the most common passwords"), "niet een van de meest gebruikte wachtwoorden zijn"))


def password_problems(exc: ValidationError, lang: str) -> list[str]:
    """What a refused password lacks, translated (unknown texts are shown as they are)."""
    texts = []
    for problem in (exc.errors or {}).get("password", []):
        for pattern, dutch in _PROBLEMS:
            if match := pattern.fullmatch(problem):
                texts.append(i18n.translate(lang, dutch) % {"n": match.group(1) if match.groups() else ""})
                break
        else:
            texts.append(problem)
    return texts


def role_label(role: str, lang: str) -> str:
    return i18n.translate(lang, ROLE_TEXT[role][0]) if role in ROLE_TEXT else role


def anonymous(ctx: Context) -> Context:
    return ctx.acting_as(ANONYMOUS)


def _login_view(request: Request, lang: str, *, status_code: int = 200, **context) -> Response:
    target = context.pop("next", "")
    context.setdefault("name", "")
    context.setdefault("reason", "")
    context.setdefault("notice", "")
    response = render(request, "login.html", lang, status_code=status_code, next=target,
                      oidc_url="/login/oidc" + (f"?next={quote(target, safe='')}" if target else ""), **context)
    response.headers.update(NO_STORE)
    return response


# --- signing in ------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: CtxDep, lang: LangDep, next_: Annotated[str, Query(alias="next")] = "",
               afgemeld: str = "", wachtwoord: str = "", fout: str = "", naam: str = "") -> Response:
    """`afgemeld=1`: just signed out; `wachtwoord=ingesteld|gewijzigd`: a password was chosen;
    `fout=REASON`: a refusal of single sign-on (the reason codes of NotAuthenticated)."""
    ended = getattr(request.state, "session_ended", None)
    notice = ("signed_out" if afgemeld else f"password_{wachtwoord}" if wachtwoord in ("ingesteld", "gewijzigd")
              else f"session_{ended}" if ended in SESSION_ENDED else "")
    response = _login_view(request, lang, next=safe_next(next_, ""), notice=notice,
                           reason=fout if fout in REASONS else "", name=naam[:100])
    if ended:
        clear_session_cookie(response)  # the cookie is worthless: do not present it again
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, ctx: CtxDep, lang: LangDep, name: Annotated[str, Form()] = "",
                 password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                 next_: Annotated[str, Form(alias="next")] = "") -> Response:
    target = safe_next(next_, "")
    try:
        check_csrf(request, ctx, csrf_token)
    except NotAllowed:
        return _login_view(request, lang, status_code=403, next=target, reason="csrf", name=name[:100])
    try:
        signed = ops.login(ctx, name, password)
    except NotAuthenticated as exc:
        return _login_view(request, lang, status_code=401, next=target, reason=exc.reason, name=name[:100])
    if ctx.actor.session_id:  # signing in as someone else: the old session ends
        ops.logout(ctx)
    response = RedirectResponse(target or "/admin", status_code=303)
    set_session_cookie(request, response, signed.session_secret)
    return response


# --- signing out -----------------------------------------------------------------------------

@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    if ctx.actor.is_anonymous:
        return RedirectResponse(f"/login?lang={lang}", status_code=303)
    return render(request, "logout.html", lang)


@router.post("/logout")
def logout_submit(request: Request, ctx: CtxDep, lang: LangDep,
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    response = RedirectResponse(f"/login?afgemeld=1&lang={lang}", status_code=303)
    if ctx.actor.is_anonymous:
        # Nothing to end (the session expired or ended elsewhere): only the stale cookie goes.
        clear_session_cookie(response)
        return response
    check_csrf(request, ctx, csrf_token)
    ops.logout(ctx)
    clear_session_cookie(response)
    return response


# --- a one-time link to choose a password ------------------------------------------------------

def _reset_view(request: Request, lang: str, secret: str, *, status_code: int = 200, **context) -> Response:
    context.setdefault("reason", "")
    context.setdefault("problems", [])
    response = render(request, "password_reset.html", lang, status_code=status_code,
                      action=f"/wachtwoord/{quote(secret, safe='')}?lang={lang}", **context)
    response.headers.update(NO_STORE)
    return response


@router.get("/wachtwoord/{secret}", response_class=HTMLResponse)
def reset_page(request: Request, ctx: CtxDep, lang: LangDep, secret: str) -> Response:
    return _reset_view(request, lang, secret)


@router.post("/wachtwoord/{secret}", response_class=HTMLResponse)
def reset_submit(request: Request, ctx: CtxDep, lang: LangDep, secret: str,
                 password: Annotated[str, Form()] = "", password2: Annotated[str, Form()] = "",
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    if password != password2:
        return _reset_view(request, lang, secret, status_code=422, reason="mismatch")
    try:
        name = ops.reset_password(anonymous(ctx), secret, password)
    except NotAuthenticated as exc:
        return _reset_view(request, lang, secret, status_code=401, reason=exc.reason, dead=True)
    except ValidationError as exc:
        return _reset_view(request, lang, secret, status_code=422, problems=password_problems(exc, lang))
    return RedirectResponse(f"/login?wachtwoord=ingesteld&naam={quote(name)}&lang={lang}", status_code=303)


# --- one's own account -------------------------------------------------------------------------

def _account_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200, **context) -> Response:
    organisations = ops.list_organisations(ctx)  # refuses the anonymous public (→ /login)
    own = next((o for o in organisations if o.code == ctx.actor.organisation), None)
    context.setdefault("reason", "")
    context.setdefault("problems", [])
    roles = [(role_label(r, lang), i18n.translate(lang, ROLE_TEXT[r][1]) if r in ROLE_TEXT else "")
             for r in sorted(ctx.actor.roles, key=lambda r: list(Role).index(r))]
    response = render(request, "account.html", lang, status_code=status_code, organisation=own, roles=roles,
                      **context)
    response.headers.update(NO_STORE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, ctx: CtxDep, lang: LangDep, gewijzigd: str = "") -> Response:
    return _account_view(request, ctx, lang, changed=bool(gewijzigd))


@router.post("/account/wachtwoord", response_class=HTMLResponse)
def account_password(request: Request, ctx: CtxDep, lang: LangDep, current: Annotated[str, Form()] = "",
                     password: Annotated[str, Form()] = "", password2: Annotated[str, Form()] = "",
                     csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    if ctx.actor.is_anonymous:
        raise NotAuthenticated("sign in first")
    if password != password2:
        return _account_view(request, ctx, lang, status_code=422, reason="mismatch")
    try:
        ops.change_password(ctx, current, password)
    except NotAuthenticated as exc:
        return _account_view(request, ctx, lang, status_code=401, reason=exc.reason)
    except ValidationError as exc:
        return _account_view(request, ctx, lang, status_code=422, problems=password_problems(exc, lang))
    # The change ends the account's other sessions; this one stays signed in.
    response = RedirectResponse(f"/account?gewijzigd=1&lang={lang}", status_code=303)
    return response
