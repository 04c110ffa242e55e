"""The balance checks of BBC 2020 for a plan version (BVR BBC art. 16), from the planned budget
lines of every year:

    budgettair resultaat boekjaar  = all ontvangsten − all uitgaven of the year
    gecumuleerd budgettair resultaat = that of the year before + the year's result (the first year
                                     starts from the result carried over, an input)
    beschikbaar budgettair resultaat = gecumuleerd − onbeschikbare gelden (an input per year)
                                     → must be ≥ 0 every year (toestandsevenwicht)
    exploitatiesaldo               = exploitatie-ontvangsten − exploitatie-uitgaven, both without
                                     interest (rekeningen 650 / 750: they are leningslasten)
    netto periodieke leningsuitgaven = netto periodieke aflossingen (aflossingen of loans, 17/42,
                                     minus repayments received on loans granted, 29)
                                     + netto interesten (650 − 750)
    autofinancieringsmarge (AFM)   = exploitatiesaldo − netto periodieke leningsuitgaven
                                     → must be ≥ 0 in the last plan year (structureel evenwicht)
    gecorrigeerde AFM              = AFM + (periodieke aflossingen conform de verbintenissen −
                                     gecorrigeerde aflossingen), the latter an input per year;
                                     without that input it equals the AFM, and the check says so

Which lines drive a year's figures: the acties with the largest effect on the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from obmi.finance.accounts import class_of
from obmi.finance.model import BudgetLine, Category, Flow, LineKind


@dataclass(frozen=True)
class BalanceInput:
    year: int
    opening_result: float | None = None
    unavailable_funds: float = 0.0
    corrected_loan_outlays: float | None = None  # gecorrigeerde aflossingen


@dataclass(frozen=True)
class Driver:
    item: str
    effect: float  # ontvangsten − uitgaven of the item's lines that year


@dataclass
class BalanceYear:
    year: int
    income: dict[str, float] = field(default_factory=dict)  # category → ontvangsten
    spending: dict[str, float] = field(default_factory=dict)  # category → uitgaven
    result: float = 0.0
    cumulative: float = 0.0
    unavailable: float = 0.0
    available: float = 0.0
    operating_balance: float = 0.0  # exploitatiesaldo (without interest)
    repayments: float = 0.0  # periodieke aflossingen
    repayments_received: float = 0.0
    net_interest: float = 0.0
    afm: float = 0.0
    corrected_afm: float = 0.0
    corrected_given: bool = False
    drivers: list[Driver] = field(default_factory=list)

    @property
    def net_loan_outlays(self) -> float:
        return self.repayments - self.repayments_received + self.net_interest


@dataclass
class Balance:
    years: list[BalanceYear]
    opening_result: float
    opening_given: bool

    @property
    def available_ok(self) -> bool:
        return all(y.available >= 0 for y in self.years)

    @property
    def afm_ok(self) -> bool:
        return bool(self.years) and self.years[-1].afm >= 0

    def failing_years(self) -> list[int]:
        return [y.year for y in self.years if y.available < 0]


def compute_balance(lines: Iterable[BudgetLine], years: range, inputs: Iterable[BalanceInput],
                    *, drivers: int = 5) -> Balance:
    given = {i.year: i for i in inputs}
    first = given.get(years.start)
    opening = first.opening_result if first and first.opening_result is not None else 0.0
    per_year = {year: BalanceYear(year) for year in years}
    effects: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        if line.kind != LineKind.RAMING or line.year not in per_year:
            continue
        _book(per_year[line.year], line)
        effects[line.year][line.item] += line.amount if line.direction == Flow.ONTVANGST else -line.amount
    cumulative = opening
    for year in years:
        figures = per_year[year]
        figures.result = sum(figures.income.values()) - sum(figures.spending.values())
        cumulative += figures.result
        figures.cumulative = cumulative
        entered = given.get(year)
        figures.unavailable = entered.unavailable_funds if entered else 0.0
        figures.available = cumulative - figures.unavailable
        figures.afm = figures.operating_balance - figures.net_loan_outlays
        if entered and entered.corrected_loan_outlays is not None:
            figures.corrected_afm = figures.afm + figures.repayments - entered.corrected_loan_outlays
            figures.corrected_given = True
        else:
            figures.corrected_afm = figures.afm
        ranked = sorted(effects[year].items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:drivers]
        figures.drivers = [Driver(code, effect) for code, effect in ranked]
    return Balance(list(per_year.values()), opening, first is not None and first.opening_result is not None)


def _book(figures: BalanceYear, line: BudgetLine) -> None:
    found = class_of(line.account)
    role = found.role if found else ""
    target = figures.income if line.direction == Flow.ONTVANGST else figures.spending
    target[line.category.value] = target.get(line.category.value, 0.0) + line.amount
    if line.category == Category.EXPLOITATIE:
        if role == "interest_paid":
            figures.net_interest += line.amount
        elif role == "interest_received":
            figures.net_interest -= line.amount
        else:
            figures.operating_balance += line.amount if line.direction == Flow.ONTVANGST else -line.amount
    elif line.category == Category.FINANCIERING:
        if role == "loan" and line.direction == Flow.UITGAVE:
            figures.repayments += line.amount
        elif role == "loan_granted" and line.direction == Flow.ONTVANGST:
            figures.repayments_received += line.amount
