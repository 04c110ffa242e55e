"""What a write changed, as the write pipeline needs to know it: operations and the domain code
they call record changes here; the pipeline (obmi.operations.pipeline) then derives, decides
disclosure and advances the data version, in the transaction of the write."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class ChangeSet:
    # indicator → periods whose delivered values changed: derive and decide those
    observations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # indicators whose computation or disclosure rule changed: re-derive and decide all periods
    definitions: set[str] = field(default_factory=set)
    catalogue: bool = False  # definitions added or changed (what the catalogue shows)
    geography: bool = False  # areas or links changed: re-derive everything
    everything: bool = False  # `obmi derive`: re-derive everything and decide again
    redecide: bool = False  # decide disclosure for every cell again (restore, threshold, upgrade)
    other: bool = False  # any other state (accounts, roles, tokens, organisations)
    import_id: int | None = None  # the import run that caused the changes (provenance of derived rows)

    def observed(self, indicator: str, periods: set[str]) -> None:
        self.observations[indicator] |= periods

    def __bool__(self) -> bool:
        return bool(self.observations or self.definitions or self.catalogue or self.geography
                    or self.everything or self.redecide or self.other)

    def take(self) -> ChangeSet:
        """The changes so far, leaving this set empty (the pipeline settles them once)."""
        taken = ChangeSet(self.observations, set(self.definitions), self.catalogue, self.geography,
                          self.everything, self.redecide, self.other, self.import_id)
        self.observations, self.definitions = defaultdict(set), set()
        self.catalogue = self.geography = self.everything = self.redecide = self.other = False
        return taken
