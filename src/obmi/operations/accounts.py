"""People and machines: organisations, users and their roles and groups, passwords and reset
links, sign-in (password and single sign-on), sessions, API tokens, and who the command line
acts as."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable

from obmi import mail
from obmi.auth.actor import Actor, system_actor
from obmi.auth.oidc import ExternalIdentity
from obmi.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from obmi.auth.permissions import Resource
from obmi.auth.roles import Role, parse_role
from obmi.auth.sessions import TOUCH_EVERY, Expiry
from obmi.auth.tokens import digest, display_prefix, new_api_token, new_secret
from obmi.errors import NotAuthenticated, NotFound, ValidationError
from obmi.operations.registry import Unit, operation
from obmi.store import accounts as store
from obmi.timeutil import as_utc, utcnow

_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")
_ORG_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ORGANISATION_KINDS = ("gemeente", "ocmw", "agb", "provincie", "other")
_GROUP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


def actor_of(user: store.UserRow, *, via: str, session_id: str | None = None, token_id: int | None = None,
             scope: str | None = None) -> Actor:
    return Actor(name=user.name, user_id=user.id, organisation=user.organisation,
                 host_organisation=user.host_organisation, roles=user.roles, groups=user.groups,
                 scope=scope, via=via, session_id=session_id, token_id=token_id)  # type: ignore[arg-type]


def _roles(values: Iterable[str | Role]) -> set[Role]:
    try:
        roles = {parse_role(str(v)) for v in values}
    except ValueError as exc:
        raise ValidationError(str(exc), {"role": [str(exc)]}) from None
    if not roles:
        raise ValidationError("a user needs at least one role", {"role": ["required"]})
    return roles


def _groups(values: Iterable[str]) -> set[str]:
    groups = {g.strip().lower() for g in values if g.strip()}
    bad = sorted(g for g in groups if not _GROUP.match(g))
    if bad:
        raise ValidationError(f"group names are lower-case letters, digits, - and _: {', '.join(bad)}",
                              {"groups": bad})
    return groups


def _check_password(unit: Unit, password: str, user_name: str) -> str:
    problems = password_problems(password, user_name=user_name, min_length=unit.settings.password_min_length)
    if problems:
        raise ValidationError("the password must have " + ", ".join(problems), {"password": problems})
    return hash_password(password)


def _user(unit: Unit, name: str) -> store.UserRow:
    user = store.get_user(unit.conn, name.strip().lower())
    if user is None:
        raise NotFound(f"unknown user {name!r}")
    return user


def _user_resource(unit: Unit, user_name: str, /, *args: object, **kwargs: object) -> Resource:
    user = _user(unit, user_name)
    return Resource("user", user.name, user.organisation, admin_only=Role.ADMIN in user.roles)


# --- organisations ---------------------------------------------------------------------------

@operation("organisations.manage")
def add_organisation(unit: Unit, code: str, name: str, *, kind: str = "gemeente",
                     host: bool | None = None) -> store.OrganisationRow:
    """Add an organisation (a city, its OCMW, an AGB, a neighbouring municipality). The first one
    is the host: it maintains the shared data."""
    code = code.strip().lower()
    if not _ORG_CODE.match(code):
        raise ValidationError(f"organisation code {code!r}: lower-case letters, digits and -", {"code": [code]})
    if not name.strip():
        raise ValidationError("an organisation needs a name", {"name": ["required"]})
    if kind not in ORGANISATION_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(ORGANISATION_KINDS)}", {"kind": [kind]})
    if store.get_organisation(unit.conn, code) is not None:
        raise ValidationError(f"organisation {code} already exists", {"code": ["exists"]})
    current_host = store.host_organisation(unit.conn)
    is_host = current_host is None if host is None else host
    if is_host and current_host is not None:
        store.update_organisation(unit.conn, current_host.code, is_host=False)
    store.insert_organisation(unit.conn, code=code, name=name.strip(), kind=kind, is_host=is_host, now=utcnow())
    row = store.get_organisation(unit.conn, code)
    assert row is not None
    unit.changes.other = True
    unit.audit("organisation", code, after={"name": row.name, "kind": kind, "is_host": is_host})
    return row


@operation("organisations.read")
def list_organisations(unit: Unit) -> list[store.OrganisationRow]:
    """Organisations: one's own; administrators see all."""
    rows = store.list_organisations(unit.conn)
    return rows if unit.actor.is_admin else [r for r in rows if r.code == unit.actor.organisation]


# --- users -----------------------------------------------------------------------------------

def _new_user_resource(unit: Unit, name: str, /, *, roles: Iterable[str], organisation: str | None = None,
                       **_: object) -> Resource:
    target = organisation if organisation is not None else unit.actor.organisation
    return Resource("user", None, target, admin_only=Role.ADMIN in _roles(roles))


@operation("users.manage", resource=_new_user_resource)
def add_user(unit: Unit, name: str, *, roles: Iterable[str], organisation: str | None = None,
             password: str | None = None, display_name: str = "", email: str = "",
             groups: Iterable[str] = ()) -> dict[str, Any]:
    """Add a local user with roles (and optionally a password; else a reset link is needed)."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise ValidationError(f"user name {name!r}: 2–100 lower-case letters, digits and . _ @ -", {"name": [name]})
    if store.get_user(unit.conn, name) is not None:
        raise ValidationError(f"user {name} already exists", {"name": ["exists"]})
    role_set = _roles(roles)
    org = organisation if organisation is not None else unit.actor.organisation
    if org is None and Role.ADMIN not in role_set:
        raise ValidationError("only instance administrators may belong to no organisation: give --org",
                              {"organisation": ["required"]})
    if org is not None and store.get_organisation(unit.conn, org) is None:
        raise ValidationError(f"unknown organisation {org!r}", {"organisation": [org]})
    hashed = _check_password(unit, password, name) if password else None
    user_id = store.insert_user(unit.conn, name=name, display_name=display_name.strip() or name, email=email.strip(),
                                organisation_code=org, password_hash=hashed, now=utcnow())
    store.set_roles(unit.conn, user_id, role_set)
    store.set_groups(unit.conn, user_id, _groups(groups))
    created = store.get_user_by_id(unit.conn, user_id)
    assert created is not None
    unit.changes.other = True
    unit.audit("user", name, after=created.public)
    return created.public


@operation("users.read")
def list_users(unit: Unit) -> list[dict[str, Any]]:
    """Users with their roles and groups: one's own organisation's; administrators see all."""
    rows = store.list_users(unit.conn, organisation_code=unit.actor.organisation, everything=unit.actor.is_admin)
    return [u.public for u in rows]


def _active_admins(unit: Unit) -> list[store.UserRow]:
    return [u for u in store.list_users(unit.conn, everything=True) if u.is_active and Role.ADMIN in u.roles]


@operation("users.manage", resource=_user_resource)
def update_user(unit: Unit, name: str, *, roles: Iterable[str] | None = None, groups: Iterable[str] | None = None,
                active: bool | None = None, display_name: str | None = None, email: str | None = None) -> dict[str, Any]:
    """Change a user's roles, groups, name, e-mail, or disable (ending their sessions) or enable."""
    user = _user(unit, name)
    before = user.public
    if roles is not None:
        role_set = _roles(roles)
        if Role.ADMIN in role_set and Role.ADMIN not in user.roles:
            unit.require("users.manage", Resource("user", user.name, user.organisation, admin_only=True))
        store.set_roles(unit.conn, user.id, role_set)
    if groups is not None:
        store.set_groups(unit.conn, user.id, _groups(groups))
    values: dict[str, Any] = {}
    if display_name is not None:
        values["display_name"] = display_name.strip() or user.name
    if email is not None:
        values["email"] = email.strip()
    if active is not None:
        values["is_active"] = active
    if values:
        store.update_user(unit.conn, user.id, **values)
    if active is False:
        store.end_user_sessions(unit.conn, user.id, now=utcnow(), reason="disabled")
    if user.is_active and Role.ADMIN in user.roles and not _active_admins(unit):
        raise ValidationError("at least one active instance administrator must remain", {"name": [user.name]})
    after = _user(unit, name).public
    unit.changes.other = True
    unit.audit("user", user.name, before=before, after=after)
    return after


@operation("users.manage", resource=_user_resource)
def set_password(unit: Unit, name: str, password: str) -> None:
    """Set a user's password (an administrator's reset); ends the user's sessions."""
    user = _user(unit, name)
    now = utcnow()
    store.update_user(unit.conn, user.id, password_hash=_check_password(unit, password, user.name),
                      password_changed_at=now)
    store.end_user_sessions(unit.conn, user.id, now=now, reason="password")
    unit.changes.other = True
    unit.audit("user", user.name, after={"password": "set by an administrator"})


@dataclass(frozen=True)
class ResetLink:
    user: str
    sent_to: str
    delivered: str  # the .eml file or the SMTP host
    expires_at: object


@operation("users.manage", resource=_user_resource)
def send_password_reset(unit: Unit, name: str) -> ResetLink:
    """Mail a user a one-time link to choose a new password."""
    user = _user(unit, name)
    if not user.email:
        raise ValidationError(f"user {user.name} has no e-mail address: set one first, or set a password directly",
                              {"email": ["required"]})
    secret, now = new_secret(), utcnow()
    expires = now + timedelta(hours=unit.settings.reset_link_hours)
    store.insert_link(unit.conn, user_id=user.id, purpose="password_reset", token_hash=digest(secret), now=now,
                      expires_at=expires, created_by=unit.actor.label)
    link = f"{unit.settings.public_base_url}/wachtwoord/{secret}"
    body = (f"Dag {user.display_name},\n\nKies een nieuw wachtwoord voor {unit.settings.site_name} via deze link "
            f"(geldig tot {expires:%Y-%m-%d %H:%M} UTC, één keer te gebruiken):\n\n{link}\n\n"
            f"Choose a new password for {unit.settings.site_name} with this link (valid once, until "
            f"{expires:%Y-%m-%d %H:%M} UTC).\n")
    # Sent inside the transaction: a mail server that refuses leaves no link behind.
    delivered = mail.send(unit.settings, to=user.email, subject=f"{unit.settings.site_name}: nieuw wachtwoord",
                          body=body)
    unit.changes.other = True
    unit.audit("user", user.name, after={"reset_link": "sent", "expires_at": expires})
    return ResetLink(user.name, user.email, delivered, expires)


@operation("auth.login", advances_version=False)
def reset_password(unit: Unit, secret: str, password: str) -> str:
    """Choose a new password with a one-time link; returns the user name."""
    link = store.find_link(unit.conn, digest(secret)) if 20 <= len(secret) <= 200 else None
    now = utcnow()
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= now:
        raise NotAuthenticated("this link is invalid, used or expired: ask an administrator for a new one",
                               "link_invalid")
    user = store.get_user_by_id(unit.conn, link.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("this account is disabled", "disabled")
    unit.target = Resource("user", user.name, user.organisation)
    hashed = _check_password(unit, password, user.name)
    if not store.use_link(unit.conn, link.id, now):
        raise NotAuthenticated("this link was just used", "link_invalid")
    store.update_user(unit.conn, user.id, password_hash=hashed, password_changed_at=now)
    store.end_user_sessions(unit.conn, user.id, now=now, reason="password")
    unit.audit("user", user.name, after={"password": "reset with a one-time link"})
    return user.name


@operation("auth.password.change", advances_version=False)
def change_password(unit: Unit, current: str, new: str) -> None:
    """Change one's own password (the current one first); ends one's other sessions."""
    user = _user(unit, unit.actor.name)
    if not verify_password(user.password_hash, current):
        raise NotAuthenticated("the current password is wrong", "wrong_password")
    now = utcnow()
    store.update_user(unit.conn, user.id, password_hash=_check_password(unit, new, user.name), password_changed_at=now)
    store.end_user_sessions(unit.conn, user.id, now=now, reason="password", keep=unit.actor.session_id)
    unit.audit("user", user.name, after={"password": "changed by the user"})


# --- signing in ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignedIn:
    session_secret: str  # goes into the signed cookie; only its digest is stored
    actor: Actor


def _locked(unit: Unit, *, account: str, address: str) -> str | None:
    s = unit.settings
    since = utcnow() - timedelta(minutes=s.login_lockout_minutes)
    by_account, _ = store.failures_since(unit.conn, since=since, account=account)
    if by_account >= s.login_max_failures_account:
        return f"too many failed sign-ins for this account: try again in {s.login_lockout_minutes} minutes"
    by_address, _ = store.failures_since(unit.conn, since=since, address=address) if address else (0, None)
    if by_address >= s.login_max_failures_address:
        return f"too many failed sign-ins from this address: try again in {s.login_lockout_minutes} minutes"
    return None


def _record_attempt(unit: Unit, account: str, success: bool) -> None:
    """Kept even when the sign-in is refused (its own transaction): the lockout counts it.
    Attempts older than a day serve no lockout and are forgotten (the audit log keeps sign-ins)."""
    now = utcnow()
    with unit.autonomous() as side:
        store.forget_attempts(side, before=now - max(timedelta(days=1),
                                                     timedelta(minutes=unit.settings.login_lockout_minutes)))
        store.record_attempt(side, account=account, address=unit.ctx.source_address, success=success, now=now)


def _open_session(unit: Unit, user: store.UserRow, method: str) -> SignedIn:
    secret = new_secret()
    store.insert_session(unit.conn, session_hash=digest(secret), user_id=user.id, now=utcnow(),
                         address=unit.ctx.source_address, method=method)
    unit.audit("user", user.name, after={"signed_in": method})
    return SignedIn(secret, actor_of(user, via="session", session_id=digest(secret)))


@operation("auth.login", advances_version=False)
def login(unit: Unit, name: str, password: str) -> SignedIn:
    """Sign in with a local password. Failures count towards a lockout per account and address."""
    account = name.strip().lower()[:100]
    unit.target = Resource("user", account)
    problem = _locked(unit, account=account, address=unit.ctx.source_address)
    if problem:
        raise NotAuthenticated(problem, "locked")
    user = store.get_user(unit.conn, account)
    if user is not None:  # so that the organisation's administrators see failed sign-ins of their users
        unit.target = Resource("user", account, user.organisation)
    if user is None or not user.is_active or not verify_password(user.password_hash if user else None, password):
        _record_attempt(unit, account, False)
        raise NotAuthenticated("wrong user name or password", "wrong_password")
    _record_attempt(unit, account, True)
    if user.password_hash and needs_rehash(user.password_hash):
        store.update_user(unit.conn, user.id, password_hash=hash_password(password))
    return _open_session(unit, user, "password")


@operation("auth.login", advances_version=False)
def login_external(unit: Unit, identity: ExternalIdentity) -> SignedIn:
    """Sign in with what an OpenID Connect provider vouched for: the user is created on first
    sign-in, and their roles follow the provider's claims at every sign-in."""
    unit.target = Resource("user", identity.name)
    user = store.find_external_user(unit.conn, issuer=identity.issuer, subject=identity.subject)
    if user is None:
        if store.get_user(unit.conn, identity.name) is not None:
            raise NotAuthenticated(f"a local account {identity.name!r} already exists: an administrator must "
                                   "remove or rename it before single sign-on can use this name", "name_taken")
        org = unit.settings.oidc_organisation or (host.code if (host := store.host_organisation(unit.conn)) else None)
        if org is None or store.get_organisation(unit.conn, org) is None:
            raise ValidationError("single sign-on needs an organisation for its users: set OBMI_OIDC_ORGANISATION")
        if not identity.roles:
            raise NotAuthenticated("the provider gives this account no OBMi role", "no_role")
        user_id = store.insert_user(unit.conn, name=identity.name, display_name=identity.display_name,
                                    email=identity.email, organisation_code=org, password_hash=None, now=utcnow(),
                                    external_issuer=identity.issuer, external_subject=identity.subject)
        unit.changes.other = True
    else:
        if not user.is_active:
            raise NotAuthenticated("this account is disabled", "disabled")
        user_id = user.id
        store.update_user(unit.conn, user_id, email=identity.email or user.email,
                          display_name=identity.display_name or user.display_name)
    if not identity.roles:
        raise NotAuthenticated("the provider gives this account no OBMi role", "no_role")
    store.set_roles(unit.conn, user_id, set(identity.roles))
    signed = store.get_user_by_id(unit.conn, user_id)
    assert signed is not None
    return _open_session(unit, signed, "oidc")


@dataclass(frozen=True)
class SessionCheck:
    actor: Actor | None
    ended: str | None = None  # why a presented session is no longer valid (idle, absolute, …)


@operation("auth.session", advances_version=False, audited=False)
def authenticate_session(unit: Unit, secret: str) -> SessionCheck:
    """The actor of a session cookie (its secret), or why the session is over."""
    key = digest(secret)
    session = store.get_session(unit.conn, key)
    if session is None:
        return SessionCheck(None, "unknown")
    if session.ended_at is not None:
        return SessionCheck(None, session.end_reason or "ended")
    now, s = utcnow(), unit.settings
    expiry = Expiry(timedelta(minutes=s.session_idle_minutes), timedelta(hours=s.session_max_hours))
    reason = expiry.ended(started=as_utc(session.created_at), last_seen=as_utc(session.last_seen_at), now=now)
    user = store.get_user_by_id(unit.conn, session.user_id)
    if reason is None and (user is None or not user.is_active):
        reason = "disabled"
    if reason is not None:
        store.end_session(unit.conn, key, now=now, reason=reason)
        return SessionCheck(None, reason)
    if now - as_utc(session.last_seen_at) >= TOUCH_EVERY:
        store.touch_session(unit.conn, key, now)
    assert user is not None
    return SessionCheck(actor_of(user, via="session", session_id=key))


@operation("auth.logout", advances_version=False)
def logout(unit: Unit) -> None:
    """End one's own session (the cookie is worthless afterwards, even if copied)."""
    if unit.actor.session_id:
        store.end_session(unit.conn, unit.actor.session_id, now=utcnow(), reason="logout")
    unit.audit("user", unit.actor.name, after={"signed_out": True})


# --- API tokens ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreatedToken:
    id: int
    token: str  # shown once; only its digest is stored
    prefix: str
    user: str
    scope: str
    name: str


@operation("tokens.manage", resource=_user_resource)
def create_token(unit: Unit, user: str, *, scope: str, name: str = "") -> CreatedToken:
    """Create an API token for a user, with scope read or write (printed once)."""
    owner = _user(unit, user)
    if scope not in ("read", "write"):
        raise ValidationError("scope must be read or write", {"scope": [scope]})
    if not owner.is_active:
        raise ValidationError(f"user {owner.name} is disabled", {"user": [owner.name]})
    token = new_api_token()
    token_id = store.insert_token(unit.conn, user_id=owner.id, name=name.strip()[:100], prefix=display_prefix(token),
                                  token_hash=digest(token), scope=scope, created_by=unit.actor.label, now=utcnow())
    unit.changes.other = True
    unit.audit("token", token_id, after={"user": owner.name, "scope": scope, "name": name, "prefix": display_prefix(token)})
    return CreatedToken(token_id, token, display_prefix(token), owner.name, scope, name)


@operation("tokens.read")
def list_tokens(unit: Unit) -> list[store.TokenRow]:
    """API tokens (never their secrets): one's own organisation's; administrators see all."""
    return store.list_tokens(unit.conn, organisation_code=unit.actor.organisation, everything=unit.actor.is_admin)


def _token_resource(unit: Unit, token_id: int, /, **_: object) -> Resource:
    row = store.get_token(unit.conn, int(token_id))
    if row is None:
        raise NotFound(f"unknown token {token_id}")
    return Resource("token", row.id, row.organisation)


@operation("tokens.manage", resource=_token_resource)
def revoke_token(unit: Unit, token_id: int) -> store.TokenRow:
    """Revoke a token: it stops working at once."""
    row = store.get_token(unit.conn, int(token_id))
    assert row is not None
    if row.revoked_at is None:
        store.update_token(unit.conn, row.id, revoked_at=utcnow())
        unit.changes.other = True
    unit.audit("token", row.id, before={"revoked_at": row.revoked_at}, after={"revoked": True, "user": row.user})
    revoked = store.get_token(unit.conn, row.id)
    assert revoked is not None
    return revoked


@operation("auth.session", advances_version=False, audited=False)
def authenticate_token(unit: Unit, token: str) -> Actor:
    """The actor of an API token (Bearer, or the password of HTTP Basic)."""
    row = store.find_token(unit.conn, digest(token)) if 20 < len(token) < 200 else None
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("invalid or revoked API token", "token_invalid")
    user = store.get_user_by_id(unit.conn, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the token's user is disabled", "token_invalid")
    now = utcnow()
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= TOUCH_EVERY:
        store.update_token(unit.conn, row.id, last_used_at=now)
    return actor_of(user, via="token", token_id=row.id, scope=row.scope)


# --- the command line ------------------------------------------------------------------------

BOOTSTRAP = "bootstrap"


@operation("auth.identify", needs_schema=False)
def identify_cli_user(unit: Unit, name: str) -> Actor:
    """The user the command line acts as (OBMI_USER or --as). An installation without users yet
    (or without schema) may only be bootstrapped: then the command line acts as OBMi itself."""
    db = unit.ctx.db
    if db.current_revision() is None or store.count_users(unit.conn) == 0:
        return system_actor(BOOTSTRAP) if not name else _bootstrap_named(name)
    if not name:
        raise NotAuthenticated("this installation has users: say who you are with OBMI_USER=NAME or --as NAME")
    user = store.get_user(unit.conn, name.strip().lower())
    if user is None or not user.is_active:
        raise NotAuthenticated(f"unknown or disabled user {name!r} (`obmi user list` shows the users)")
    return actor_of(user, via="cli")


def _bootstrap_named(name: str) -> Actor:
    # No users yet: a named command line may create the first administrator under that name.
    return Actor(name=name.strip().lower(), roles=frozenset({Role.ADMIN}), via="system")


def new_password() -> str:
    """A strong random password (the demo's accounts, first administrators)."""
    return secrets.token_urlsafe(15)
