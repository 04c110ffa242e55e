"""The finance API under /api/v1: import finance-package exports into a plan, and read the
figures (planned vs. realised, bestedingsgraad, forecasts; per item kind, beleidsdomein or
economic category), the reconciliation with the plan and the balance checks. Operations do the
permission checks (another organisation's plan answers 404); writes need a token with scope
write or a session's CSRF token (see obmi.web.plans_api)."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from obmi import operations as ops
from obmi.errors import ImportRejected
from obmi.finance.accounts import economic_labels
from obmi.finance.figures import FinanceFigures, Money
from obmi.finance.reconcile import REASONS
from obmi.plans.bbc import BELEIDSDOMEINEN
from obmi.web.api_admin import save_upload
from obmi.web.deps import CtxDep
from obmi.web.finance_schemas import BalanceInputIn, BalanceInputOut, BalanceOut, FinanceImportOut, FinanceOut, ReconciliationOut
from obmi.web.params import RecordId, Version, Year
from obmi.web.plans_api import _json, _writer, rejected_json
from obmi.web.plans_schemas import dump, responses

router = APIRouter(prefix="/api/v1", tags=["finance"])
Level = Literal["beleidsdoelstelling", "actieplan", "actie", "project", "reguliere_werking", "domain", "economic"]


def _money(money: Money) -> dict[str, Any]:
    return {**dataclasses.asdict(money), "spend_rate": money.spend_rate}


def _rows(figures: FinanceFigures, year: int, level: str) -> list[dict[str, Any]]:
    if level == "domain":
        return [{"code": code, "name": BELEIDSDOMEINEN.get(code, ""), **_money(m)}
                for code, m in sorted(figures.domains(year).items())]
    if level == "economic":
        labels = economic_labels()
        return [{"code": code, "name": labels.get(code, (code,))[0], **_money(m)}
                for code, m in sorted(figures.economic(year).items())]
    booked = figures.booked_to(year)
    rows = []
    for item in figures.items.values():
        if item.kind == level:
            forecast = figures.forecast(item.code, year, booked)
            rows.append({"code": item.code, "name": item.title, "kind": item.kind,
                         **_money(figures.money(item.code, year)),
                         "forecast_linear": forecast.linear, "forecast_seasonal": forecast.seasonal})
    return rows


@router.get("/plans/{plan_id}/finance", responses=responses(FinanceOut, 401, 403, 404))
def finance(ctx: CtxDep, plan_id: RecordId,
            year: Annotated[Optional[int], Query(ge=1900, le=2200,
                                                 description="Year (default: this year within the plan)")] = None,
            version: Version = None,
            level: Annotated[Level, Query(description="Rows per item kind, beleidsdomein or economic category")]
            = "beleidsdoelstelling") -> JSONResponse:
    """Planned vs. realised for one year, with the bestedingsgraad and the year-end forecasts."""
    view = ops.finance_overview(ctx, plan_id, version=version, year=year)
    figures = view.figures
    unplanned = figures.unplanned.get(view.year)
    body = {"plan_id": plan_id, "plan_code": view.plan_code, "version": view.version, "year": view.year,
            "level": level, "source": figures.source, "booked_to": figures.booked_to(view.year),
            "totals": _money(figures.totals(view.year)), "forecast": dataclasses.asdict(figures.forecast(None, view.year)),
            "rows": _rows(figures, view.year, level), "unplanned": _money(unplanned) if unplanned else None}
    return _json(dump(FinanceOut, body))


@router.get("/plans/{plan_id}/finance/reconciliation", responses=responses(ReconciliationOut, 401, 403, 404))
def reconciliation(ctx: CtxDep, plan_id: RecordId,
                   version: Version = None
                   ) -> JSONResponse:
    """Every difference between the imported ramingen and the plan's amounts, with its reason."""
    report = ops.finance_reconciliation(ctx, plan_id, version=version)
    rec = report.reconciliation
    differences = [{**dataclasses.asdict(d), "difference": d.difference, "reason_label": REASONS[d.reason][0]}
                   for d in rec.differences]
    return _json(dump(ReconciliationOut, {"plan_code": report.plan_code, "version": report.version,
                                          "has_ramingen": report.has_ramingen,
                                          "total_difference": rec.total_difference, "unexplained": rec.unexplained,
                                          "by_reason": rec.by_reason(), "differences": differences}))


@router.get("/plans/{plan_id}/finance/balance", responses=responses(BalanceOut, 401, 403, 404))
def balance(ctx: CtxDep, plan_id: RecordId,
            version: Version = None
            ) -> JSONResponse:
    """The BBC 2020 balance checks per plan year and the lines that drive them."""
    report = ops.balance_checks(ctx, plan_id, version=version)
    b = report.balance
    years = [{**dataclasses.asdict(y), "net_loan_outlays": y.net_loan_outlays} for y in b.years]
    return _json(dump(BalanceOut, {"plan_code": report.plan_code, "version": report.version, "source": report.source,
                                   "without_account": report.without_account, "available_ok": b.available_ok,
                                   "afm_ok": b.afm_ok, "opening_given": b.opening_given, "years": years}))


@router.put("/plans/{plan_id}/finance/balance/{year}", responses=responses(BalanceInputOut, 401, 403, 404))
def balance_input(request: Request, ctx: CtxDep, plan_id: RecordId, year: Year, body: BalanceInputIn) -> JSONResponse:
    """Set the balance inputs of one plan year (result carried over, onbeschikbare gelden,
    gecorrigeerde aflossingen)."""
    _writer(request, ctx)
    entered = ops.set_balance_input(ctx, plan_id, year, opening_result=body.opening_result,
                                    unavailable_funds=body.unavailable_funds,
                                    corrected_loan_outlays=body.corrected_loan_outlays)
    return _json(dump(BalanceInputOut, dataclasses.asdict(entered)))


@router.post("/finance/import", responses=responses(FinanceImportOut, 401, 403, 404))
def import_finance(request: Request, ctx: CtxDep,
                   file: Annotated[list[UploadFile], File(min_length=1, description="Finance-package export(s), CSV or XLSX")],
                   organisation: Annotated[Optional[str], Form(max_length=40)] = None,
                   plan: Annotated[Optional[str], Form(max_length=40, description="Plan code (default: latest)")] = None,
                   layout: Annotated[Optional[str], Form(max_length=40, description="obmi, cipal, cevi, …")] = None,
                   keep_unplanned: Annotated[bool, Form(description="Keep lines of acties not in the plan")] = False,
                   dry_run: Annotated[bool, Form(description="Check only; change nothing")] = False) -> JSONResponse:
    """Import ramingen and realisaties; a rejected file answers 422 with its problems per line and
    changes nothing; the same file again changes nothing."""
    _writer(request, ctx)
    folder = Path(tempfile.mkdtemp(prefix="obmi-finance-"))
    try:
        paths = []
        for number, upload in enumerate(file):
            own = folder / str(number)
            own.mkdir()
            paths.append(save_upload(upload, own, request.app.state.settings.upload_max_mb << 20))
        try:
            result = ops.import_finance(ctx, paths, organisation=organisation or None, plan=plan or None,
                                        layout=layout or None, keep_unplanned=keep_unplanned, dry_run=dry_run)
        except ImportRejected as exc:
            return _json(rejected_json(exc), status_code=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _json(dump(FinanceImportOut, dataclasses.asdict(result)))
