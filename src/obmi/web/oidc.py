"""Single sign-on with OpenID Connect (authorization code flow with PKCE), through Authlib's
Starlette client.

    GET /login/oidc?next=/path     → 302 to the provider's authorization endpoint
    GET /login/oidc/callback       → checks state, exchanges the code, validates the ID token,
                                     signs in (ops.login_external) and 303s to `next`

The protocol is Authlib's: discovery (OBMI_OIDC_ISSUER + /.well-known/openid-configuration),
state, nonce and PKCE (S256) values, the token request (client secret + code_verifier), the ID
token's signature (the provider's JWKS, refetched when an unknown key id appears), issuer,
audience, expiry and nonce. What this module adds:

* the flow state (state, nonce, code_verifier, redirect URI, next) lives in a short-lived cookie
  signed with OBMI_SECRET_KEY (itsdangerous, salt "obmi.oidc", 10 minutes, HttpOnly, SameSite=Lax,
  path /login/oidc), because the app keeps no server-side session before sign-in (Authlib's
  `authorize_redirect`/`authorize_access_token` would need Starlette's SessionMiddleware);
* the provider's metadata and keys are cached in memory per issuer and client for an hour;
* every failure is a 401 page that says what went wrong (in Dutch or English), never a trace.

Claims become an OBMi identity in obmi.auth.oidc; the user is created or updated by the
`login_external` operation — this module never touches the database.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc.errors import JoseError

from obmi import operations as ops
from obmi.auth.oidc import identity_from_claims, parse_role_map
from obmi.auth.roles import Role, parse_role
from obmi.context import Context
from obmi.errors import NotAuthenticated, ObmiError
from obmi.operations.accounts import SignedIn
from obmi.settings import Settings
from obmi.web.deps import CtxDep, get_language
from obmi.web.errors import wants_html
from obmi.web.rendering import render
from obmi.web.security import cookie_secure, safe_next, set_session_cookie

try:  # Authlib's httpx client runs on httpx2 when installed, else on httpx: catch the errors of both
    import httpx2 as _httpx2
    HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, _httpx2.HTTPError)
    TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, _httpx2.TransportError)
except ImportError:
    HTTP_ERRORS, TRANSPORT_ERRORS = (httpx.HTTPError,), (httpx.TransportError,)

# A provider that cannot be reached, or answers what no provider should (bad JSON, missing fields).
_UNEXPECTED: tuple[type[Exception], ...] = (*HTTP_ERRORS, RuntimeError, KeyError, TypeError, ValueError)

log = logging.getLogger("obmi.web.oidc")
router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "obmi_oidc"
FLOW_PATH = "/login/oidc"  # the cookie goes only to /login/oidc and /login/oidc/callback
FLOW_SALT = "obmi.oidc"
FLOW_MAX_AGE = 10 * 60  # seconds between leaving for the provider and coming back
METADATA_TTL = 60 * 60  # seconds the provider's metadata and keys are trusted before refetching
HTTP_TIMEOUT = 10.0
ID_TOKEN_LEEWAY = 120  # seconds of clock skew allowed on exp/iat


# --- the provider, as an Authlib client -----------------------------------------------------

@dataclass
class _Entry:
    client: StarletteOAuth2App
    created: float


_providers: dict[tuple[str, str, str, str], _Entry] = {}


def _scopes(settings: Settings) -> str:
    scopes = settings.oidc_scopes.split()
    return " ".join(scopes if "openid" in scopes else ["openid", *scopes])


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def provider(settings: Settings) -> StarletteOAuth2App:
    """The Authlib client of the configured provider. Its metadata and JWKS (fetched lazily by
    Authlib and kept on the client) are dropped after METADATA_TTL by building a new client."""
    secret = settings.oidc_client_secret.get_secret_value()
    key = (settings.oidc_issuer, settings.oidc_client_id, secret, _scopes(settings))
    entry, now = _providers.get(key), time.monotonic()
    if entry is None or now - entry.created > METADATA_TTL:
        registry = OAuth()
        registry.register(
            "obmi", client_id=settings.oidc_client_id, client_secret=secret or None,
            server_metadata_url=discovery_url(settings.oidc_issuer),
            client_kwargs={"scope": _scopes(settings), "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT})
        entry = _providers[key] = _Entry(registry.create_client("obmi"), now)
    return entry.client


async def _metadata(client: StarletteOAuth2App, settings: Settings) -> dict[str, Any]:
    """The discovery document, checked against OBMI_OIDC_ISSUER (OpenID Connect Discovery §4.3:
    the issuer it names must be the one asked, or an impostor could vouch for anyone)."""
    metadata: dict[str, Any] = await client.load_server_metadata()
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings.oidc_issuer.rstrip("/"):
        raise _Failure("issuer", f"the discovery document names issuer {issuer!r}, not OBMI_OIDC_ISSUER "
                                 f"{settings.oidc_issuer!r}")
    return metadata


# --- the flow cookie ------------------------------------------------------------------------

def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=FLOW_SALT)


def _set_flow_cookie(request: Request, response: Response, settings: Settings, flow: dict[str, str]) -> None:
    response.set_cookie(FLOW_COOKIE, _serializer(settings).dumps(flow), max_age=FLOW_MAX_AGE, path=FLOW_PATH,
                        httponly=True, samesite="lax", secure=cookie_secure(request, settings))


def _clear_flow_cookie(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax",
                           secure=cookie_secure(request, settings))


def _read_flow_cookie(request: Request, settings: Settings) -> dict[str, str]:
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw:
        raise _Failure("flow_missing", "no sign-in in progress (flow cookie missing)")
    try:
        flow = _serializer(settings).loads(raw, max_age=FLOW_MAX_AGE)
    except SignatureExpired:
        raise _Failure("flow_expired", "the flow cookie has expired") from None
    except BadSignature:
        raise _Failure("flow_invalid", "the flow cookie's signature is invalid") from None
    if not isinstance(flow, dict) or not all(isinstance(flow.get(k), str) for k in
                                             ("state", "nonce", "code_verifier", "redirect_uri", "next")):
        raise _Failure("flow_invalid", "the flow cookie lacks fields")
    return flow


# --- failures -------------------------------------------------------------------------------

class _Failure(Exception):
    """A sign-in that cannot go on: `reason` picks the message people see, `detail` goes to the log."""

    def __init__(self, reason: str, detail: str, shown: str = ""):
        super().__init__(detail)
        self.reason, self.detail, self.shown = reason, detail, shown


_TRY_AGAIN = ("Probeer opnieuw aan te melden.", "Please try signing in again.")
MESSAGES: dict[str, tuple[str, str]] = {
    "not_configured": ("Aanmelden via single sign-on (OpenID Connect) is op deze site niet ingesteld.",
                       "Single sign-on (OpenID Connect) is not configured on this site."),
    "unreachable": ("De aanmeldingsdienst is niet bereikbaar of gaf een onverwacht antwoord. Probeer later opnieuw.",
                    "The sign-in provider cannot be reached or gave an unexpected answer. Please try again later."),
    "misconfigured": ("Single sign-on is op deze site verkeerd ingesteld; verwittig de beheerders.",
                      "Single sign-on is misconfigured on this site; please tell the administrators."),
    "issuer": ("De aanmeldingsdienst stelt zich voor als een andere uitgever dan ingesteld; verwittig de beheerders.",
               "The sign-in provider presents itself as another issuer than configured; please tell the "
               "administrators."),
    "provider_error": ("De aanmeldingsdienst heeft de aanmelding niet toegestaan",
                       "The sign-in provider did not allow the sign-in"),
    "flow_missing": ("Er is geen aanmelding bezig in deze browser (of cookies zijn geblokkeerd). " + _TRY_AGAIN[0],
                     "No sign-in is in progress in this browser (or cookies are blocked). " + _TRY_AGAIN[1]),
    "flow_expired": ("De aanmelding duurde langer dan 10 minuten en is verlopen. " + _TRY_AGAIN[0],
                     "The sign-in took longer than 10 minutes and has expired. " + _TRY_AGAIN[1]),
    "flow_invalid": ("De aanmelding kon niet gecontroleerd worden (ongeldige cookie). " + _TRY_AGAIN[0],
                     "The sign-in could not be checked (invalid cookie). " + _TRY_AGAIN[1]),
    "state": ("Het antwoord van de aanmeldingsdienst hoort niet bij deze aanmelding (state klopt niet). "
              + _TRY_AGAIN[0],
              "The sign-in provider's answer does not belong to this sign-in (state mismatch). " + _TRY_AGAIN[1]),
    "token": ("De aanmeldingsdienst gaf geen geldig bewijs van aanmelding (code of ID-token ongeldig). "
              + _TRY_AGAIN[0],
              "The sign-in provider gave no valid proof of sign-in (code or ID token invalid). " + _TRY_AGAIN[1]),
    "claims": ("De gegevens van de aanmeldingsdienst over dit account zijn onvolledig",
               "The sign-in provider's data about this account are incomplete"),
    "no_role": ("Dit account heeft geen rol in OBMi. Vraag de beheerders om toegang.",
                "This account has no role in OBMi. Ask the administrators for access."),
    "disabled": ("Dit account is uitgeschakeld.", "This account is disabled."),
    "name_taken": ("Er bestaat al een lokaal account met deze naam; de beheerders moeten het eerst verwijderen of "
                   "hernoemen.", "A local account with this name already exists: an administrator must remove "
                                 "or rename it first."),
}


# The sign-in refusals error.html (admin_macros.reason_text) words itself, as for local sign-in.
PAGE_REASONS = {"no_role", "disabled", "name_taken"}


def _message(lang: str, reason: str, shown: str = "") -> str:
    nl, en = MESSAGES.get(reason, MESSAGES["token"])
    text = en if lang == "en" else nl
    return f"{text}: {shown}" if shown else text


def _failure_page(request: Request, settings: Settings, failure: _Failure, status: int = 401) -> Response:
    log.warning("single sign-on failed", extra={"reason": failure.reason, "detail": failure.detail,
                                                "request_id": getattr(request.state, "request_id", "")})
    lang = get_language(request)
    if failure.reason in PAGE_REASONS:  # error.html explains these in the page's language: add the English detail
        reason, message = failure.reason, _message("en", failure.reason, failure.shown)
    else:
        reason, message = "oidc", _message(lang, failure.reason, failure.shown)
    response: Response = render(request, "error.html", lang, status_code=status, status=status, reason=reason,
                                message=message)
    response.headers["Cache-Control"] = "no-store"
    _clear_flow_cookie(request, response, settings)
    return response


def _callback_url(request: Request, settings: Settings) -> str:
    """The redirect URI registered at the provider: OBMI_BASE_URL + /login/oidc/callback, or (no
    base URL set) the address this request came to."""
    if settings.base_url:
        return settings.base_url.rstrip("/") + FLOW_PATH + "/callback"
    return str(request.url_for("oidc_callback"))


# --- the routes -----------------------------------------------------------------------------

def _check_configuration(settings: Settings) -> dict[str, Role]:
    """What can be wrong in the settings, found before anybody is sent to the provider."""
    if settings.environment == "production" and not settings.oidc_issuer.startswith("https://"):
        raise _Failure("misconfigured", "OBMI_OIDC_ISSUER must be an https:// URL in production")
    try:
        if settings.oidc_default_role:
            parse_role(settings.oidc_default_role)
    except ValueError as exc:
        raise _Failure("misconfigured", f"OBMI_OIDC_DEFAULT_ROLE: {exc}") from None
    try:
        return parse_role_map(settings.oidc_role_map)
    except ValueError as exc:
        raise _Failure("misconfigured", f"OBMI_OIDC_ROLE_MAP: {exc}") from None


@router.get("/login/oidc", name="oidc_login")
async def oidc_login(request: Request, next: str | None = None) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        lang = get_language(request)
        if wants_html(request):
            page: Response = render(request, "error.html", lang, status_code=404, status=404,
                                    message=_message(lang, "not_configured"))
            return page
        return JSONResponse({"detail": MESSAGES["not_configured"][1] + " Set OBMI_OIDC_ISSUER and "
                                       "OBMI_OIDC_CLIENT_ID."}, status_code=404)
    try:
        _check_configuration(settings)
        client = provider(settings)
        await _metadata(client, settings)
        redirect_uri = _callback_url(request, settings)
        rv = await client.create_authorization_url(redirect_uri, ui_locales=get_language(request))
    except _Failure as failure:
        return _failure_page(request, settings, failure, 500 if failure.reason == "misconfigured" else 502)
    except (AuthlibBaseError, *_UNEXPECTED) as exc:
        return _failure_page(request, settings, _Failure("unreachable", f"discovery failed: {exc!r}"), 502)
    response = RedirectResponse(rv["url"], status_code=302)
    response.headers["Cache-Control"] = "no-store"
    _set_flow_cookie(request, response, settings, {
        "state": rv["state"], "nonce": rv["nonce"], "code_verifier": rv["code_verifier"],
        "redirect_uri": redirect_uri, "next": safe_next(next)})
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, ctx: CtxDep) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        return _failure_page(request, settings, _Failure("not_configured", "callback while OIDC is off"), 404)
    try:
        signed, target = await _complete(request, ctx, settings)
    except _Failure as failure:
        return _failure_page(request, settings, failure)
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(request, response, signed.session_secret)
    _clear_flow_cookie(request, response, settings)
    return response


async def _complete(request: Request, ctx: Context, settings: Settings) -> tuple[SignedIn, str]:
    params = request.query_params
    flow = _read_flow_cookie(request, settings)
    if params.get("error"):
        code = re.sub(r"[^A-Za-z0-9_.-]", "", params["error"])[:60]
        raise _Failure("provider_error", f"{code}: {params.get('error_description', '')[:300]}", shown=code)
    state = params.get("state") or ""
    if not hmac.compare_digest(state.encode(), flow["state"].encode()):
        raise _Failure("state", "the state parameter differs from the flow cookie's")
    if not params.get("code"):
        raise _Failure("token", "the callback carries no code")
    role_map = _check_configuration(settings)
    client = provider(settings)
    try:
        metadata = await _metadata(client, settings)
        token = await client.fetch_access_token(redirect_uri=flow["redirect_uri"], code=params["code"],
                                                code_verifier=flow["code_verifier"])
        if "id_token" not in token:
            raise _Failure("token", "the token response carries no id_token")
        claims_options = {"iss": {"essential": True, "value": metadata["issuer"]},
                          "aud": {"essential": True, "values": [settings.oidc_client_id]}}
        id_claims = dict(await client.parse_id_token(token, nonce=flow["nonce"], claims_options=claims_options,
                                                     leeway=ID_TOKEN_LEEWAY))
        claims = id_claims
        if metadata.get("userinfo_endpoint") and token.get("access_token"):
            info = dict(await client.userinfo(token=token))
            if info.get("sub") != id_claims.get("sub"):  # OpenID Connect Core §5.3.4
                raise _Failure("token", "the userinfo subject differs from the ID token's")
            claims = {**info, **id_claims}  # what the signed ID token says wins
    except _Failure:
        raise
    except (JoseError, AuthlibBaseError) as exc:
        raise _Failure("token", f"{type(exc).__name__}: {exc}") from None
    except _UNEXPECTED as exc:
        raise _Failure("unreachable" if isinstance(exc, TRANSPORT_ERRORS) else "token",
                       f"{type(exc).__name__}: {exc}") from None
    try:
        identity = identity_from_claims(claims, issuer=str(id_claims["iss"]), role_claim=settings.oidc_role_claim,
                                        role_map=role_map, default_role=settings.oidc_default_role)
    except ValueError as exc:
        raise _Failure("claims", str(exc), shown=str(exc)) from None
    if not identity.roles:  # the operation refuses too; saying so here spares a database round trip
        raise _Failure("no_role", f"no role for {identity.name!r} (claim {settings.oidc_role_claim!r}: "
                                  f"{claims.get(settings.oidc_role_claim)!r})")
    try:
        signed = await run_in_threadpool(ops.login_external, ctx, identity)
    except NotAuthenticated as exc:  # no_role, disabled, name_taken
        known = exc.reason in MESSAGES
        raise _Failure(exc.reason if known else "claims", str(exc), shown="" if known else str(exc)) from None
    except ObmiError as exc:  # e.g. no organisation for the users of single sign-on
        raise _Failure("misconfigured", str(exc)) from None
    log.info("single sign-on", extra={"user": identity.name, "issuer": identity.issuer,
                                      "roles": ",".join(sorted(identity.roles))})
    return signed, safe_next(flow["next"])
