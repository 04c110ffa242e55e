"""The finance pages of a plan under /beleid/plannen/{id}/financien: planned vs. realised for a
year per beleidsdoelstelling (the tree), per beleidsdomein and per economic category, with the
bestedingsgraad and the year-end forecasts; the reconciliation with the plan's amounts; the
balance checks with the inputs staff enter. CSV downloads carry the same rows as the command
line (obmi.finance.export). Pages call operations only; another organisation's plan is a 404."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.auth.permissions import Resource
from obmi.context import Context
from obmi.errors import ValidationError
from obmi.finance.accounts import economic_labels
from obmi.finance.export import overview_rows, reconciliation_rows
from obmi.finance.model import CATEGORY_LABELS
from obmi.finance.reconcile import REASONS
from obmi.plans.bbc import BELEIDSDOMEINEN
from obmi.web.admin import may
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import RecordId
from obmi.web.plans_pages import _back, _int, _page
from obmi.web.security import check_csrf

router = APIRouter(include_in_schema=False)
LEVELS = ("beleidsdoelstelling", "actieplan", "actie", "domain", "economic")


def _version(text: str) -> int | None:
    return _int(text, "versie")


@router.get("/beleid/plannen/{plan_id:int}/financien", response_class=HTMLResponse)
def finance_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, jaar: str = "", versie: str = ""
                 ) -> Response:
    plan = ops.plan_info(ctx, plan_id)
    view = ops.finance_overview(ctx, plan_id, version=_version(versie), year=_int(jaar, "jaar"))
    figures = view.figures
    year = view.year
    tops = [i for i in view.items if i.parent is None]
    booked = figures.booked_to(year)
    return _page(request, ctx, lang, "finance_overview.html", section="plannen", plan=plan, view=view, year=year,
                 years=range(plan.start_year, plan.end_year + 1), tops=tops, booked=booked,
                 total=figures.totals(year), forecast=figures.forecast(None, year, booked),
                 domains=sorted(figures.domains(year).items()), domain_names=BELEIDSDOMEINEN,
                 economic=sorted(figures.economic(year).items()), economic_names=economic_labels(),
                 unplanned=figures.unplanned.get(year))


@router.get("/beleid/plannen/{plan_id:int}/financien.csv")
def finance_csv(ctx: CtxDep, plan_id: RecordId, jaar: str = "", versie: str = "", niveau: str = "beleidsdoelstelling"
                ) -> Response:
    if niveau not in LEVELS:
        raise ValidationError(f"unknown niveau {niveau!r}", {"niveau": list(LEVELS)})
    view = ops.finance_overview(ctx, plan_id, version=_version(versie), year=_int(jaar, "jaar"))
    return _csv(overview_rows(view.figures, view.year, niveau), f"financien-{view.plan_code}-{view.year}-{niveau}.csv")


def _csv(rows: list[list[Any]], name: str) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@router.get("/beleid/plannen/{plan_id:int}/financien/aansluiting", response_class=HTMLResponse)
def reconciliation_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, versie: str = "") -> Response:
    plan = ops.plan_info(ctx, plan_id)
    report = ops.finance_reconciliation(ctx, plan_id, version=_version(versie))
    return _page(request, ctx, lang, "finance_reconciliation.html", section="plannen", plan=plan, report=report,
                 rec=report.reconciliation, reasons=REASONS)


@router.get("/beleid/plannen/{plan_id:int}/financien/aansluiting.csv")
def reconciliation_csv(ctx: CtxDep, plan_id: RecordId, versie: str = "") -> Response:
    report = ops.finance_reconciliation(ctx, plan_id, version=_version(versie))
    return _csv(reconciliation_rows(report.reconciliation), f"aansluiting-{report.plan_code}-v{report.version}.csv")


@router.get("/beleid/plannen/{plan_id:int}/financien/evenwicht", response_class=HTMLResponse)
def balance_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, versie: str = "", bewaard: str = ""
                 ) -> Response:
    return _balance_view(request, ctx, lang, plan_id, versie, bewaard)


def _balance_view(request: Request, ctx: Context, lang: str, plan_id: int, versie: str = "", bewaard: str = "", *,
                  errors: dict[str, list[str]] | None = None, status_code: int = 200) -> Response:
    # Not the route itself: its keyword arguments would be query parameters (?status_code=…).
    plan = ops.plan_info(ctx, plan_id)
    report = ops.balance_checks(ctx, plan_id, version=_version(versie))
    return _page(request, ctx, lang, "finance_balance.html", section="plannen", plan=plan, report=report,
                 balance=report.balance, categories=CATEGORY_LABELS, saved=bewaard[:4], errors=errors or {},
                 status_code=status_code,
                 can_edit=may(ctx.actor, "plans.manage", Resource("plan", None, plan.organisation)))


@router.post("/beleid/plannen/{plan_id:int}/financien/evenwicht", response_class=HTMLResponse)
def balance_input(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId,
                  csrf_token: Annotated[str, Form()] = "", jaar: Annotated[str, Form()] = "",
                  overgedragen: Annotated[str, Form()] = "", onbeschikbaar: Annotated[str, Form()] = "",
                  gecorrigeerd: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    try:
        year = _int(jaar, "jaar")
        if year is None:
            raise ValidationError("which year?", {"jaar": ["required"]})
        ops.set_balance_input(ctx, plan_id, year, opening_result=_amount(overgedragen, "overgedragen"),
                              unavailable_funds=_amount(onbeschikbaar, "onbeschikbaar") or 0.0,
                              corrected_loan_outlays=_amount(gecorrigeerd, "gecorrigeerd"))
    except ValidationError as exc:
        return _balance_view(request, ctx, lang, plan_id, errors=exc.errors or {"": [str(exc)]}, status_code=422)
    return _back(f"/beleid/plannen/{plan_id}/financien/evenwicht", lang, "invoer", bewaard=str(year))


def _amount(text: str, field: str) -> float | None:
    from obmi.plans.readers import parse_amount
    if not text.strip():
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise ValidationError(str(exc), {field: [str(exc)]}) from None
