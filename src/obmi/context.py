"""Who is asking: a typed, immutable context passed to every operation (no mutable dicts)."""

from __future__ import annotations

from dataclasses import dataclass

from obmi.errors import NotAllowed
from obmi.settings import Settings

# Roles, from least to most: the public reads published data; a data manager imports data and
# manages the catalogue; an admin also manages the database itself (backup, restore, migrate).
ROLES = ("public", "data_manager", "admin")


@dataclass(frozen=True)
class Context:
    user: str
    roles: frozenset[str]
    settings: Settings

    def require(self, role: str) -> None:
        """First line of every operation: refuse unless the caller has `role` or a higher one."""
        needed = ROLES.index(role)
        if not any(r in ROLES and ROLES.index(r) >= needed for r in self.roles):
            raise NotAllowed(f"{self.user or 'anonymous'} may not do this (needs role {role})")


def public_context(settings: Settings) -> Context:
    return Context(user="", roles=frozenset({"public"}), settings=settings)
