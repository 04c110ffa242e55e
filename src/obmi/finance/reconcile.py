"""The reconciliation of a finance import with the plan: every difference between the ramingen
of the finance package and the plan's own amounts (per actie, year and direction) gets one
explanation, so that the explained differences add up to the difference of the totals exactly —
nothing is left unexplained.

    rounding     both have the actie, and the difference is less than one euro per budget line
                 (the plan rounds to whole euros, the finance package does not)
    not_in_plan  the finance package books on an actie the plan does not have (kept on import
                 with --keep-unplanned)
    missing      the plan has an amount for the actie, the finance package none
    unplanned    the actie is in the plan, but the plan has no amount for it that year
    amount       both have it, with a different amount: a genuine difference to look into
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from obmi.finance.model import BudgetLine, LineKind

REASONS: dict[str, tuple[str, str]] = {  # (nl, en)
    "rounding": ("afronding", "rounding"),
    "not_in_plan": ("actie niet in het plan", "actie not in the plan"),
    "missing": ("ontbreekt in de financiële export", "missing from the finance export"),
    "unplanned": ("niet gepland in dat jaar", "not planned in that year"),
    "amount": ("ander bedrag", "different amount"),
}
TOLERANCE = 0.005  # below half a cent two amounts are the same


@dataclass(frozen=True)
class PlanAmount:
    item: str
    year: int
    direction: str
    amount: float


@dataclass(frozen=True)
class Difference:
    item: str
    year: int
    direction: str
    plan: float
    finance: float
    reason: str
    lines: int  # finance lines behind the amount

    @property
    def difference(self) -> float:
        return self.finance - self.plan


@dataclass
class Reconciliation:
    plan_total: dict[tuple[int, str], float] = field(default_factory=dict)  # (year, direction) → total
    finance_total: dict[tuple[int, str], float] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    def by_reason(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for d in self.differences:
            totals[d.reason] += d.difference
        return dict(totals)

    @property
    def total_difference(self) -> float:
        return sum(self.finance_total.values()) - sum(self.plan_total.values())

    @property
    def unexplained(self) -> float:
        """What the differences do not explain: zero up to floating-point noise, by construction;
        the report shows it so that a reader can check it."""
        return self.total_difference - sum(d.difference for d in self.differences)


def reconcile(plan: Iterable[PlanAmount], finance: Iterable[BudgetLine], items: set[str]) -> Reconciliation:
    planned: dict[tuple[str, int, str], float] = defaultdict(float)
    booked: dict[tuple[str, int, str], float] = defaultdict(float)
    counts: dict[tuple[str, int, str], int] = defaultdict(int)
    planned_items = set()
    for amount in plan:
        planned[(amount.item, amount.year, amount.direction)] += amount.amount
        planned_items.add((amount.item, amount.year))
    for line in finance:
        if line.kind != LineKind.RAMING:
            continue
        key = (line.item, line.year, line.direction.value)
        booked[key] += line.amount
        counts[key] += 1
    result = Reconciliation()
    for (_item, year, direction), value in planned.items():
        result.plan_total[(year, direction)] = result.plan_total.get((year, direction), 0.0) + value
    for (_item, year, direction), value in booked.items():
        result.finance_total[(year, direction)] = result.finance_total.get((year, direction), 0.0) + value
    for key in sorted(set(planned) | set(booked)):
        p, f = planned.get(key, 0.0), booked.get(key, 0.0)
        if abs(f - p) < TOLERANCE:
            continue
        item, year, direction = key
        result.differences.append(Difference(item, year, direction, p, f, _reason(key, p, f, counts[key], items,
                                                                                   planned_items), counts[key]))
    return result


def _reason(key: tuple[str, int, str], plan: float, finance: float, lines: int, items: set[str],
            planned_items: set[tuple[str, int]]) -> str:
    item, year, _ = key
    if item not in items:
        return "not_in_plan"
    if lines == 0:
        return "missing"
    if not plan and (item, year) not in planned_items:
        return "unplanned"
    if abs(finance - plan) < lines * 1.0:
        return "rounding"
    return "amount"
