"""Rows of organisations, users, roles, groups, API tokens, sessions, sign-in attempts and
one-time links. Keyword-only data functions; the rules live in obmi.auth, the use cases in
obmi.operations.accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, CursorResult, Row, Select, delete, func, insert, select, update

from obmi.auth.roles import Role
from obmi.store.tables import (
    api_token,
    login_attempt,
    one_time_link,
    organisation,
    user_account,
    user_group,
    user_role,
    user_session,
)


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    code: str
    name: str
    kind: str
    is_host: bool
    created_at: datetime


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    display_name: str
    email: str
    organisation: str | None
    host_organisation: bool
    password_hash: str | None
    external_issuer: str | None
    external_subject: str | None
    is_active: bool
    created_at: datetime
    roles: frozenset[Role]
    groups: frozenset[str]

    @property
    def public(self) -> dict[str, Any]:
        """Everything but the password hash."""
        return {"id": self.id, "name": self.name, "display_name": self.display_name, "email": self.email,
                "organisation": self.organisation, "roles": sorted(self.roles), "groups": sorted(self.groups),
                "is_active": self.is_active, "single_sign_on": self.external_subject is not None,
                "has_password": self.password_hash is not None, "created_at": self.created_at}


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# --- organisations ---------------------------------------------------------------------------

def _org(row: Row[Any]) -> OrganisationRow:
    return OrganisationRow(row.id, row.code, row.name, row.kind, row.is_host, row.created_at)


def insert_organisation(conn: Connection, *, code: str, name: str, kind: str, is_host: bool, now: datetime) -> int:
    return _new_id(conn.execute(insert(organisation).values(code=code, name=name, kind=kind, is_host=is_host,
                                                    created_at=now)))


def list_organisations(conn: Connection) -> list[OrganisationRow]:
    return [_org(r) for r in conn.execute(select(organisation).order_by(organisation.c.code))]


def get_organisation(conn: Connection, code: str) -> OrganisationRow | None:
    row = conn.execute(select(organisation).where(organisation.c.code == code)).first()
    return _org(row) if row else None


def host_organisation(conn: Connection) -> OrganisationRow | None:
    row = conn.execute(select(organisation).where(organisation.c.is_host.is_(True))).first()
    return _org(row) if row else None


def update_organisation(conn: Connection, code: str, **values: object) -> None:
    conn.execute(update(organisation).where(organisation.c.code == code).values(**values))


# --- users -----------------------------------------------------------------------------------

def _users(conn: Connection, where: ColumnElement[bool]) -> list[UserRow]:
    rows = conn.execute(select(user_account, organisation.c.is_host)
                        .outerjoin(organisation, organisation.c.code == user_account.c.organisation)
                        .where(where).order_by(user_account.c.name)).all()
    ids = [r.id for r in rows]
    roles: dict[int, set[Role]] = {i: set() for i in ids}
    groups: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for r in conn.execute(select(user_role).where(user_role.c.user_id.in_(ids))):
            roles[r.user_id].add(Role(r.role))
        for r in conn.execute(select(user_group).where(user_group.c.user_id.in_(ids))):
            groups[r.user_id].add(r.name)
    return [UserRow(r.id, r.name, r.display_name, r.email, r.organisation, bool(r.is_host), r.password_hash,
                    r.external_issuer, r.external_subject, r.is_active, r.created_at, frozenset(roles[r.id]),
                    frozenset(groups[r.id])) for r in rows]


def get_user(conn: Connection, name: str) -> UserRow | None:
    found = _users(conn, user_account.c.name == name)
    return found[0] if found else None


def get_user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    found = _users(conn, user_account.c.id == user_id)
    return found[0] if found else None


def find_external_user(conn: Connection, *, issuer: str, subject: str) -> UserRow | None:
    found = _users(conn, (user_account.c.external_issuer == issuer) & (user_account.c.external_subject == subject))
    return found[0] if found else None


def list_users(conn: Connection, *, organisation_code: str | None = None, everything: bool = False) -> list[UserRow]:
    where = user_account.c.id.is_not(None) if everything else user_account.c.organisation == organisation_code
    return _users(conn, where)


def count_users(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(user_account)).scalar_one()


def insert_user(conn: Connection, *, name: str, display_name: str, email: str, organisation_code: str | None,
                password_hash: str | None, now: datetime, external_issuer: str | None = None,
                external_subject: str | None = None) -> int:
    return _new_id(conn.execute(insert(user_account).values(
        name=name, display_name=display_name, email=email, organisation=organisation_code,
        password_hash=password_hash, external_issuer=external_issuer, external_subject=external_subject,
        is_active=True, created_at=now, password_changed_at=now if password_hash else None)))


def update_user(conn: Connection, user_id: int, **values: object) -> None:
    conn.execute(update(user_account).where(user_account.c.id == user_id).values(**values))


def set_roles(conn: Connection, user_id: int, roles: set[Role]) -> None:
    conn.execute(delete(user_role).where(user_role.c.user_id == user_id))
    if roles:
        conn.execute(insert(user_role), [{"user_id": user_id, "role": str(r)} for r in sorted(roles)])


def set_groups(conn: Connection, user_id: int, groups: set[str]) -> None:
    conn.execute(delete(user_group).where(user_group.c.user_id == user_id))
    if groups:
        conn.execute(insert(user_group), [{"user_id": user_id, "name": g} for g in sorted(groups)])


# --- API tokens ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenRow:
    id: int
    user_id: int
    user: str
    organisation: str | None
    name: str
    prefix: str
    scope: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_query() -> Select[Any]:
    return (select(api_token, user_account.c.name.label("user"), user_account.c.organisation)
            .join(user_account, user_account.c.id == api_token.c.user_id))


def _token(r: Row[Any]) -> TokenRow:
    return TokenRow(r.id, r.user_id, r.user, r.organisation, r.name, r.prefix, r.scope, r.created_at, r.created_by,
                    r.last_used_at, r.revoked_at)


def insert_token(conn: Connection, *, user_id: int, name: str, prefix: str, token_hash: str, scope: str,
                 created_by: str, now: datetime) -> int:
    return _new_id(conn.execute(insert(api_token).values(user_id=user_id, name=name, prefix=prefix, token_hash=token_hash,
                                                 scope=scope, created_at=now, created_by=created_by)))


def get_token(conn: Connection, token_id: int) -> TokenRow | None:
    row = conn.execute(_token_query().where(api_token.c.id == token_id)).first()
    return _token(row) if row else None


def find_token(conn: Connection, token_hash: str) -> TokenRow | None:
    row = conn.execute(_token_query().where(api_token.c.token_hash == token_hash)).first()
    return _token(row) if row else None


def list_tokens(conn: Connection, *, organisation_code: str | None, everything: bool) -> list[TokenRow]:
    query = _token_query().order_by(api_token.c.id)
    if not everything:
        query = query.where(user_account.c.organisation == organisation_code)
    return [_token(r) for r in conn.execute(query)]


def update_token(conn: Connection, token_id: int, **values: object) -> None:
    conn.execute(update(api_token).where(api_token.c.id == token_id).values(**values))


# --- sessions and sign-in attempts -----------------------------------------------------------

@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    method: str
    end_reason: str | None = None


def insert_session(conn: Connection, *, session_hash: str, user_id: int, now: datetime, address: str,
                   method: str) -> None:
    conn.execute(insert(user_session).values(id=session_hash, user_id=user_id, created_at=now, last_seen_at=now,
                                             source_address=address[:64], method=method))


def get_session(conn: Connection, session_hash: str) -> SessionRow | None:
    r = conn.execute(select(user_session).where(user_session.c.id == session_hash)).first()
    return SessionRow(r.id, r.user_id, r.created_at, r.last_seen_at, r.ended_at, r.method, r.end_reason) if r else None


def touch_session(conn: Connection, session_hash: str, now: datetime) -> None:
    conn.execute(update(user_session).where(user_session.c.id == session_hash).values(last_seen_at=now))


def end_session(conn: Connection, session_hash: str, *, now: datetime, reason: str) -> None:
    conn.execute(update(user_session).where(user_session.c.id == session_hash, user_session.c.ended_at.is_(None))
                 .values(ended_at=now, end_reason=reason))


def end_user_sessions(conn: Connection, user_id: int, *, now: datetime, reason: str,
                      keep: str | None = None) -> int:
    """End every open session of a user (but `keep`, the one making the change)."""
    where = (user_session.c.user_id == user_id) & user_session.c.ended_at.is_(None)
    if keep is not None:
        where = where & (user_session.c.id != keep)
    return conn.execute(update(user_session).where(where).values(ended_at=now, end_reason=reason)).rowcount


def record_attempt(conn: Connection, *, account: str, address: str, success: bool, now: datetime) -> None:
    conn.execute(insert(login_attempt).values(account=account[:100], address=address[:64], success=success, at=now))


def failures_since(conn: Connection, *, since: datetime, account: str | None = None,
                   address: str | None = None) -> tuple[int, datetime | None]:
    """(number of failed sign-ins since `since`, the time of the last) for an account or address."""
    query = select(func.count(), func.max(login_attempt.c.at)).where(login_attempt.c.at >= since,
                                                                     login_attempt.c.success.is_(False))
    if account is not None:
        query = query.where(login_attempt.c.account == account)
    if address is not None:
        query = query.where(login_attempt.c.address == address)
    count, last = conn.execute(query).one()
    return count, last


def forget_attempts(conn: Connection, *, before: datetime) -> None:
    conn.execute(delete(login_attempt).where(login_attempt.c.at < before))


# --- one-time links --------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkRow:
    id: int
    user_id: int
    purpose: str
    expires_at: datetime
    used_at: datetime | None


def insert_link(conn: Connection, *, user_id: int, purpose: str, token_hash: str, now: datetime,
                expires_at: datetime, created_by: str) -> None:
    conn.execute(insert(one_time_link).values(user_id=user_id, purpose=purpose, token_hash=token_hash,
                                              created_at=now, expires_at=expires_at, created_by=created_by))


def find_link(conn: Connection, token_hash: str) -> LinkRow | None:
    r = conn.execute(select(one_time_link).where(one_time_link.c.token_hash == token_hash)).first()
    return LinkRow(r.id, r.user_id, r.purpose, r.expires_at, r.used_at) if r else None


def use_link(conn: Connection, link_id: int, now: datetime) -> bool:
    """Mark a link used; False when it already was (two requests racing for one link)."""
    done = conn.execute(update(one_time_link).where(one_time_link.c.id == link_id, one_time_link.c.used_at.is_(None))
                        .values(used_at=now))
    return done.rowcount == 1
