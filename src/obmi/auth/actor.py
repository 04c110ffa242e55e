"""Who is asking: the acting user as every operation sees it (immutable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from obmi.auth.roles import Role

Via = Literal["anonymous", "session", "token", "cli", "system"]


@dataclass(frozen=True)
class Actor:
    name: str  # "" for the anonymous public
    user_id: int | None = None
    organisation: str | None = None  # organisation code; None for instance administrators without one
    host_organisation: bool = False  # the organisation that maintains the shared data (geography, Statbel)
    roles: frozenset[Role] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    scope: Literal["read", "write"] | None = None  # an API token's scope; None: a person, full rights
    via: Via = "anonymous"
    session_id: str | None = None
    token_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.via == "anonymous"

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def label(self) -> str:
        return self.name or "anonymous"


ANONYMOUS = Actor(name="")


def system_actor(name: str = "system") -> Actor:
    """OBMi itself (bootstrap of an empty installation, the demo builder): full rights."""
    return Actor(name=name, roles=frozenset({Role.ADMIN}), via="system")
