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


# (Dutch name, Dutch description — the web pages' source language —, English description for the docs)
ROLE_HELP: dict[Role, tuple[str, str, str]] = {
    Role.ADMIN: ("Beheerder (instantie)", "Alles, in elke organisatie.",
                 "Instance administrator: everything, in every organisation."),
    Role.ORG_ADMIN: ("Beheerder (organisatie)", "Beheert de gebruikers, API-sleutels en gegevens van de organisatie.",
                     "Manages the users, tokens and data of one organisation."),
    Role.COORDINATOR: ("Coördinator", "Importeert gegevens en plannen, onderhoudt de catalogus en keurt "
                       "statusrapporteringen goed of stuurt ze terug.",
                       "Imports data and plans, maintains the catalogue, approves or returns status updates."),
    Role.EDITOR: ("Redacteur", "Werkt de indicatoren en planitems (acties, projecten) bij waarvan hij of zij "
                  "eigenaar is.",
                  "Updates the indicators and plan items (actions, projects) they own."),
    Role.ANALYST: ("Analist", "Ziet de niet-openbare cijfers van de organisatie, op elk niveau.",
                   "Sees the organisation's non-public statistics, at every level."),
    Role.READER: ("Lezer", "Ziet wat het publiek ziet, plus de cijfers van de eigen groepen.",
                  "Signed-in reader: what the public sees, plus named groups."),
}


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {text!r} (roles: {', '.join(r.value for r in Role)})") from None
