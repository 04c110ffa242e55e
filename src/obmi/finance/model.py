"""What a finance import reads: budget lines, each with the line it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LineKind(StrEnum):
    RAMING = "raming"  # the budget of a plan version (krediet)
    REALISATIE = "realisatie"  # booked (aanrekening), per quarter


class Category(StrEnum):
    EXPLOITATIE = "exploitatie"
    INVESTERING = "investering"
    FINANCIERING = "financiering"


class Flow(StrEnum):
    UITGAVE = "uitgave"
    ONTVANGST = "ontvangst"


CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "exploitatie": ("Exploitatie", "Operating"), "investering": ("Investeringen", "Investment"),
    "financiering": ("Financiering", "Financing"),
}
FLOW_LABELS: dict[str, tuple[str, str]] = {"uitgave": ("Uitgaven", "Expenditure"),
                                           "ontvangst": ("Ontvangsten", "Income")}


@dataclass(frozen=True)
class BudgetLine:
    item: str  # the actie (or other item) code as the file names it
    kind: LineKind
    year: int
    category: Category
    direction: Flow
    amount: float  # never negative: the direction says which way the money goes
    line: int = 0
    quarter: int | None = None  # realisaties
    beleidsitem: str | None = None
    account: str | None = None  # algemene rekening
    envelope: str | None = None  # investeringsenveloppe
    entity: str | None = None  # budget entity code as the file names it
    version: int | None = None  # plan version number as the file names it (ramingen)

    @property
    def key(self) -> tuple[object, ...]:
        """What makes a line unique: two lines with the same key are a duplicate, not a sum."""
        return (self.entity or "", self.version or 0, self.kind.value, self.item, self.beleidsitem or "",
                self.account or "", self.envelope or "", self.year, self.quarter or 0, self.category.value,
                self.direction.value)


@dataclass
class FinanceDraft:
    lines: list[BudgetLine] = field(default_factory=list)
    layout: str = ""
    notes: list[str] = field(default_factory=list)

    def scope(self) -> set[tuple[str, int]]:
        """(kind, year) pairs the file holds: an import replaces exactly these."""
        return {(line.kind.value, line.year) for line in self.lines}
