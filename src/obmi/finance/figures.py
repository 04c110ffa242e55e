"""Finance figures of a plan: per item and rolled up the plan tree, per year — planned vs.
realised uitgaven and ontvangsten, the bestedingsgraad (spend rate: realised uitgaven to date /
planned uitgaven of the year) and the year-end forecast, linear and seasonal; and the same per
beleidsdomein and per economic category. Pure: built from budget lines and the plan's items.

Planned amounts are the ramingen of the chosen plan version when a finance import brought them,
otherwise the plan's own amounts (`source` says which)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from obmi.finance.accounts import class_of
from obmi.finance.model import BudgetLine, Flow, LineKind


@dataclass(frozen=True)
class ItemInfo:
    code: str
    kind: str
    parent: str | None
    beleidsdomein: str | None
    title: str = ""
    priority: bool = False


class Rates:
    """The two rates of anything with planned and realised uitgaven and ontvangsten."""
    planned_out: float
    planned_in: float
    realised_out: float
    realised_in: float

    @property
    def spend_rate(self) -> float | None:
        """Realised / planned uitgaven (0.42 = 42 %); None without planned uitgaven."""
        return self.realised_out / self.planned_out if self.planned_out > 0 else None

    @property
    def income_rate(self) -> float | None:
        return self.realised_in / self.planned_in if self.planned_in > 0 else None


@dataclass
class Money(Rates):
    planned_out: float = 0.0
    planned_in: float = 0.0
    realised_out: float = 0.0
    realised_in: float = 0.0

    def add(self, line: BudgetLine) -> None:
        out = line.direction == Flow.UITGAVE
        if line.kind == LineKind.REALISATIE:
            if out:
                self.realised_out += line.amount
            else:
                self.realised_in += line.amount
        elif out:
            self.planned_out += line.amount
        else:
            self.planned_in += line.amount

    @property
    def empty(self) -> bool:
        return not (self.planned_out or self.planned_in or self.realised_out or self.realised_in)


@dataclass(frozen=True)
class Forecast:
    linear: float | None  # realised to date × 4 / quarters booked
    seasonal: float | None  # realised to date / the share earlier years had reached by then
    basis: str  # in words, for the page and the report


@dataclass(frozen=True)
class YearFigures:
    year: int
    money: Money
    booked_to: int  # the last quarter with realisaties in the whole plan (0: none yet)
    forecast: Forecast


@dataclass
class FinanceFigures:
    items: dict[str, ItemInfo]
    source: str  # finance (ramingen imported) or plan (the plan's own amounts)
    own: dict[str, dict[int, Money]]  # lines booked on the item itself
    rolled: dict[str, dict[int, Money]]  # the item and everything under it
    quarterly: dict[str, dict[int, list[float]]]  # item → year → realised uitgaven per quarter (own + under)
    by_domain_year: dict[int, dict[str, Money]] = field(default_factory=dict)
    by_economic_year: dict[int, dict[str, Money]] = field(default_factory=dict)
    unplanned: dict[int, Money] = field(default_factory=dict)  # lines of codes not in the plan

    # --- reading ---------------------------------------------------------------------------

    @property
    def years(self) -> list[int]:
        return sorted({y for per_year in self.own.values() for y in per_year} | set(self.unplanned))

    def booked_to(self, year: int) -> int:
        return max((q + 1 for per_year in self.quarterly.values() for q, v in enumerate(per_year.get(year, ()))
                    if v), default=0)

    def money(self, code: str, year: int) -> Money:
        return self.rolled.get(code, {}).get(year, Money())

    def totals(self, year: int) -> Money:
        total = Money()
        for per_year in self.own.values():
            _add_money(total, per_year.get(year))
        _add_money(total, self.unplanned.get(year))
        return total

    def item_year(self, code: str, year: int) -> YearFigures:
        booked = self.booked_to(year)
        return YearFigures(year, self.money(code, year), booked, self.forecast(code, year, booked))

    def forecast(self, code: str | None, year: int, booked: int | None = None) -> Forecast:
        """Year-end realised uitgaven of an item (None: the whole plan)."""
        booked = self.booked_to(year) if booked is None else booked
        series = self._quarters(code)
        to_date = sum(series.get(year, [0.0] * 4)[:booked])
        if booked == 0:
            return Forecast(None, None, "nog geen realisaties dit jaar")
        linear = to_date * 4 / booked
        share, basis = self._share(series, year, booked)
        if share is None:
            share, basis = self._share(self._quarters(None), year, booked)
            basis = basis and basis + " (patroon van het hele plan)"
        seasonal = to_date / share if share else None
        return Forecast(linear, seasonal, basis or "geen eerder jaar om het seizoenspatroon uit te leren")

    def _quarters(self, code: str | None) -> dict[int, list[float]]:
        if code is not None:
            return self.quarterly.get(code, {})
        whole: dict[int, list[float]] = defaultdict(lambda: [0.0] * 4)
        for code_, per_year in self.quarterly.items():
            if self.items.get(code_) is None or self.items[code_].parent is None:  # tops hold the rest
                for y, values in per_year.items():
                    whole[y] = [a + b for a, b in zip(whole[y], values)]
        return whole

    @staticmethod
    def _share(series: dict[int, list[float]], year: int, booked: int) -> tuple[float | None, str]:
        earlier = [y for y, v in series.items() if y < year and sum(v) > 0]
        if not earlier:
            return None, ""
        reached = sum(sum(series[y][:booked]) for y in earlier) / sum(sum(series[y]) for y in earlier)
        return (reached or None), (f"in {', '.join(str(y) for y in sorted(earlier))} was {reached:.0%} van de "
                                   f"uitgaven geboekt na kwartaal {booked}")

    def domains(self, year: int) -> dict[str, Money]:
        return self.by_domain_year.get(year, {})

    def economic(self, year: int) -> dict[str, Money]:
        return self.by_economic_year.get(year, {})


def _add_money(total: Money, money: Money | None) -> None:
    if money is not None:
        total.planned_out += money.planned_out
        total.planned_in += money.planned_in
        total.realised_out += money.realised_out
        total.realised_in += money.realised_in


def compute_figures(items: Iterable[ItemInfo], lines: Iterable[BudgetLine], *, source: str) -> FinanceFigures:
    """Figures from the plan's items (of the chosen version) and its lines: the planned ones
    (ramingen of that version, or the plan's amounts as ramingen) and the realisaties."""
    known = {item.code: item for item in items}
    figures = FinanceFigures(known, source, defaultdict(lambda: defaultdict(Money)),
                             defaultdict(lambda: defaultdict(Money)),
                             defaultdict(lambda: defaultdict(lambda: [0.0] * 4)),
                             defaultdict(lambda: defaultdict(Money)), defaultdict(lambda: defaultdict(Money)),
                             defaultdict(Money))
    chains: dict[str, list[str]] = {}
    for line in lines:
        item = known.get(line.item)
        domain = (item.beleidsdomein if item else None) or _domain_of_item(line.beleidsitem) or "??"
        figures.by_domain_year[line.year][domain].add(line)
        found = class_of(line.account)
        figures.by_economic_year[line.year][found.economic if found else "onbekend"].add(line)
        if item is None:
            figures.unplanned[line.year].add(line)
            continue
        figures.own[line.item][line.year].add(line)
        chain = chains.get(line.item) or chains.setdefault(line.item, _chain(line.item, known))
        for code in chain:
            figures.rolled[code][line.year].add(line)
            if line.kind == LineKind.REALISATIE and line.direction == Flow.UITGAVE and line.quarter:
                figures.quarterly[code][line.year][line.quarter - 1] += line.amount
    return figures


def _chain(code: str, known: dict[str, ItemInfo]) -> list[str]:
    """The item and its ancestors (a cycle cannot occur: plans are validated on import)."""
    chain, seen = [], set()
    current: str | None = code
    while current is not None and current in known and current not in seen:
        chain.append(current)
        seen.add(current)
        current = known[current].parent
    return chain


def _domain_of_item(beleidsitem: str | None) -> str | None:
    from obmi.plans.bbc import beleidsvelden
    if not beleidsitem:
        return None
    found = beleidsvelden().get(beleidsitem[:4])
    return found[0] if found else None
