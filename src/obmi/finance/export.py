"""The finance views as rows (header first): one shape for the command line's CSV, the web
downloads and the tests, so every channel shows the same numbers."""

from __future__ import annotations

from obmi.finance.accounts import economic_labels
from obmi.finance.balance import Balance
from obmi.finance.figures import FinanceFigures, Money
from obmi.finance.reconcile import REASONS, Reconciliation
from obmi.plans.bbc import BELEIDSDOMEINEN

Row = list[object]
MONEY_HEADER = ["planned_out", "realised_out", "spend_rate", "planned_in", "realised_in"]


def _cents(value: float | None) -> object:
    return "" if value is None else f"{value:.2f}"


def _rate(value: float | None) -> object:
    return "" if value is None else f"{value:.4f}"


def money_cells(money: Money) -> Row:
    return [_cents(money.planned_out), _cents(money.realised_out), _rate(money.spend_rate),
            _cents(money.planned_in), _cents(money.realised_in)]


def overview_rows(figures: FinanceFigures, year: int, level: str) -> list[Row]:
    """Per item of a kind (beleidsdoelstelling, actieplan, actie, …), per beleidsdomein
    ("domain") or per economic category ("economic"), for one year."""
    if level == "domain":
        rows: list[Row] = [["beleidsdomein", "name", *MONEY_HEADER]]
        for code, money in sorted(figures.domains(year).items()):
            rows.append([code, BELEIDSDOMEINEN.get(code, ""), *money_cells(money)])
        return rows
    if level == "economic":
        labels = economic_labels()
        rows = [["economic", "name", *MONEY_HEADER]]
        for code, money in sorted(figures.economic(year).items()):
            rows.append([code, labels.get(code, (code, code))[0], *money_cells(money)])
        return rows
    rows = [["code", "kind", "title", *MONEY_HEADER, "forecast_linear", "forecast_seasonal"]]
    booked = figures.booked_to(year)
    for item in figures.items.values():
        if item.kind != level:
            continue
        forecast = figures.forecast(item.code, year, booked)
        rows.append([item.code, item.kind, item.title, *money_cells(figures.money(item.code, year)),
                     _cents(forecast.linear), _cents(forecast.seasonal)])
    return rows


def reconciliation_rows(reconciliation: Reconciliation) -> list[Row]:
    rows: list[Row] = [["actie", "year", "direction", "plan", "finance", "difference", "reason", "finance_lines"]]
    for d in reconciliation.differences:
        rows.append([d.item, d.year, d.direction, _cents(d.plan), _cents(d.finance), _cents(d.difference),
                     REASONS[d.reason][0], d.lines])
    return rows


def balance_rows(balance: Balance) -> list[Row]:
    rows: list[Row] = [["year", "ontvangsten", "uitgaven", "budgettair_resultaat", "gecumuleerd_resultaat",
                        "onbeschikbare_gelden", "beschikbaar_resultaat", "exploitatiesaldo",
                        "netto_periodieke_leningsuitgaven", "afm", "gecorrigeerde_afm"]]
    for y in balance.years:
        rows.append([y.year, _cents(sum(y.income.values())), _cents(sum(y.spending.values())), _cents(y.result),
                     _cents(y.cumulative), _cents(y.unavailable), _cents(y.available), _cents(y.operating_balance),
                     _cents(y.net_loan_outlays), _cents(y.afm), _cents(y.corrected_afm)])
    return rows
