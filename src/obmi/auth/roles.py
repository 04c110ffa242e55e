"""The roles a user can hold. The anonymous public holds none; every actor may do what the
public may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"
    COORDINATOR = "coordinator"
    EDITOR = "editor"
    ANALYST = "analyst"
    READER = "reader"


ROLE_HELP: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("Beheerder (instantie)", "Instance administrator: everything, in every organisation."),
    Role.ORG_ADMIN: ("Beheerder (organisatie)", "Manages the users, tokens and data of one organisation."),
    Role.COORDINATOR: ("Coördinator", "Imports data and maintains the catalogue of the organisation; "
                                      "approves updates."),
    Role.EDITOR: ("Redacteur", "Updates the items (indicators, later plan items) they own."),
    Role.ANALYST: ("Analist", "Sees the organisation's non-public statistics, at every level."),
    Role.READER: ("Lezer", "Signed-in reader: what the public sees, plus named groups."),
}


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {text!r} (roles: {', '.join(r.value for r in Role)})") from None
