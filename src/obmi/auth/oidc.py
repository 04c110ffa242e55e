"""Single sign-on with OpenID Connect: what the provider says about a user → an OBMi user. The
protocol itself (discovery, authorization code flow with PKCE, ID token validation) is Authlib's;
this module only maps claims, so it can be read and tested without a provider."""

from __future__ import annotations

from dataclasses import dataclass

from obmi.auth.roles import Role, parse_role


def parse_role_map(text: str) -> dict[str, Role]:
    """`value=role,value=role` (OBMI_OIDC_ROLE_MAP) → {claim value: role}; ValueError when wrong."""
    mapping: dict[str, Role] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        value, sep, role = part.rpartition("=")
        if not sep or not value.strip():
            raise ValueError(f"{part!r} is not value=role")
        mapping[value.strip()] = parse_role(role)
    return mapping


def claim_values(claims: dict[str, object], claim: str) -> set[str]:
    raw = claims.get(claim)
    if isinstance(raw, str):
        return set(raw.split())
    if isinstance(raw, (list, tuple)):
        return {str(v) for v in raw}
    return set()


@dataclass(frozen=True)
class ExternalIdentity:
    subject: str  # the provider's stable id of the person ("sub")
    issuer: str
    name: str  # OBMi user name: preferred_username, else email, else sub
    email: str
    display_name: str
    roles: frozenset[Role]


def identity_from_claims(claims: dict[str, object], *, issuer: str, role_claim: str, role_map: dict[str, Role],
                         default_role: str) -> ExternalIdentity:
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ValueError("the provider's answer carries no subject (sub)")
    roles = {role_map[v] for v in claim_values(claims, role_claim) if v in role_map}
    if not roles and default_role:
        roles = {parse_role(default_role)}
    email = str(claims.get("email") or "")
    name = str(claims.get("preferred_username") or email or subject).strip().lower()[:100]
    return ExternalIdentity(subject, issuer, name, email, str(claims.get("name") or name), frozenset(roles))
