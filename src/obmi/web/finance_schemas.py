"""Response and request schemas of the finance API (see obmi.web.plans_schemas for the rules:
responses are built through them, so nothing undocumented leaks out)."""

from __future__ import annotations

from pydantic import Field

from obmi.web.plans_schemas import In, Out


class MoneyOut(Out):
    planned_out: float = Field(description="Planned uitgaven of the year (EUR)")
    realised_out: float = Field(description="Realised uitgaven to date (EUR)")
    spend_rate: float | None = Field(description="Bestedingsgraad: realised / planned uitgaven (0.42 = 42 %)")
    planned_in: float
    realised_in: float


class FinanceRowOut(MoneyOut):
    code: str
    name: str = ""
    kind: str = ""
    forecast_linear: float | None = None
    forecast_seasonal: float | None = None


class ForecastOut(Out):
    linear: float | None
    seasonal: float | None
    basis: str


class FinanceOut(Out):
    plan_id: int
    plan_code: str
    version: int
    year: int
    level: str
    source: str = Field(description="finance: ramingen imported from the finance package; plan: the plan's amounts")
    booked_to: int = Field(description="Last quarter of the year with realisaties (0: none)")
    totals: MoneyOut
    forecast: ForecastOut
    rows: list[FinanceRowOut]
    unplanned: MoneyOut | None = Field(None, description="Lines of acties that are not in the plan")


class DifferenceOut(Out):
    item: str
    year: int
    direction: str
    plan: float
    finance: float
    difference: float
    reason: str
    reason_label: str
    lines: int


class ReconciliationOut(Out):
    plan_code: str
    version: int
    has_ramingen: bool
    total_difference: float
    unexplained: float = Field(description="What the differences leave unexplained (0 up to rounding noise)")
    by_reason: dict[str, float]
    differences: list[DifferenceOut]


class DriverOut(Out):
    item: str
    effect: float


class BalanceYearOut(Out):
    year: int
    income: dict[str, float]
    spending: dict[str, float]
    result: float
    cumulative: float
    unavailable: float
    available: float
    operating_balance: float
    net_loan_outlays: float
    afm: float
    corrected_afm: float
    corrected_given: bool
    drivers: list[DriverOut]


class BalanceOut(Out):
    plan_code: str
    version: int
    source: str
    without_account: int
    available_ok: bool = Field(description="Beschikbaar budgettair resultaat ≥ 0 in every year")
    afm_ok: bool = Field(description="AFM ≥ 0 in the last plan year")
    opening_given: bool
    years: list[BalanceYearOut]


class BalanceInputIn(In):
    opening_result: float | None = Field(None, description="Gecumuleerd budgettair resultaat carried over "
                                                           "(first plan year only)")
    unavailable_funds: float = Field(0.0, ge=0, description="Onbeschikbare gelden")
    corrected_loan_outlays: float | None = Field(None, description="Gecorrigeerde aflossingen")


class BalanceInputOut(Out):
    year: int
    opening_result: float | None
    unavailable_funds: float
    corrected_loan_outlays: float | None


class FinanceImportOut(Out):
    import_id: int
    status: str
    plan_code: str
    layout: str
    lines: int
    replaced: int
    scope: list[tuple[str, int]]
    notes: list[str]
