"""Who is asking, and where: the typed, immutable context every operation receives (no mutable
dicts). Adapters build it: the web per request (obmi.web.deps), the command line per command
(obmi.cli), tests through their factories."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from obmi.auth.actor import ANONYMOUS, Actor, system_actor
from obmi.settings import Settings
from obmi.store import Database


@dataclass(frozen=True)
class Context:
    db: Database
    settings: Settings
    actor: Actor = ANONYMOUS
    request_id: str = ""
    source_address: str = ""
    # Told the phases of a long operation ("reading", "checking", "deriving", …) and row counts:
    # the upload page shows them while an import runs.
    progress: Callable[[str, int | None], None] | None = None

    def acting_as(self, actor: Actor) -> Context:
        return replace(self, actor=actor)


def public_context(db: Database, settings: Settings, *, request_id: str = "", source_address: str = "") -> Context:
    return Context(db, settings, ANONYMOUS, request_id=request_id, source_address=source_address)


def system_context(db: Database, settings: Settings, name: str = "system") -> Context:
    """OBMi itself: bootstrap of an empty installation, the demo builder, tests' setup."""
    return Context(db, settings, system_actor(name))
