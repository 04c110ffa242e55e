"""The catalogue as one actor may see it. Every read of indicators and observations goes
through a `CatalogueView`, so access levels hold in every channel: a hidden indicator does not
exist for the actor (404, never 403: the public must not learn that it exists), and an
indicator public only from some level up shows finer levels to the privileged alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from obmi.auth.actor import Actor
from obmi.auth.permissions import sees_indicator, sees_level
from obmi.errors import NotAllowed, NotFound
from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.query.areas import level_orders


@dataclass
class CatalogueView:
    actor: Actor
    everything: dict[str, Indicator]
    orders: dict[str, int]
    visible: dict[str, Indicator] = field(init=False)

    def __post_init__(self) -> None:
        self.visible = {code: ind for code, ind in self.everything.items()
                        if sees_indicator(self.actor, ind.access_rule)}

    @classmethod
    def load(cls, conn: Connection, actor: Actor) -> CatalogueView:
        return cls(actor, load_catalogue(conn), level_orders(conn))

    def get(self, code: str) -> Indicator:
        ind = self.visible.get(code)
        if ind is None:
            raise NotFound(f"unknown indicator {code!r}")
        return ind

    def sees_level(self, ind: Indicator, level: str) -> bool:
        floor = self.orders.get(ind.public_from_level) if ind.public_from_level else None
        return sees_level(self.actor, ind.access_rule, self.orders.get(level, 0), floor)

    def require_level(self, ind: Indicator, level: str) -> None:
        if not self.sees_level(ind, level):
            raise NotAllowed(f"{ind.code} is published from level {ind.public_from_level} up; finer levels "
                             "are for the analysts of its organisation")
