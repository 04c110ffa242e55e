"""The plan reports page under /beleid/plannen/{id}/rapportering: choose the opvolgingsrapportering
of a year or the college report of a reporting period, download it as PDF or XLSX (Dutch or
English; report writers also as a draft with the texts not yet approved), and write, submit,
approve or return its text sections. Pages call operations only; another organisation's plan is
a 404, a section saved by someone else meanwhile is shown next to yours (409), nothing is lost."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.auth.permissions import Resource
from obmi.context import Context
from obmi.errors import Conflict, NotAllowed, ValidationError
from obmi.plans.workflow import StaleEdit
from obmi.web.admin import may
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import RecordId
from obmi.web.plans_pages import _back, _int, _page, _signed_in
from obmi.web.security import check_csrf

router = APIRouter(include_in_schema=False)
REPORT_NAMES = {"opvolging": "Opvolgingsrapportering", "college": "Rapportering aan het college"}
REPORT_NOTICES = {"bewaard": "De tekst is bewaard als ontwerp.", "ingediend": "De tekst is ingediend ter goedkeuring.",
                  "toegevoegd": "De sectie is toegevoegd.", "approve": "De tekst is goedgekeurd.",
                  "return": "De tekst is teruggestuurd.", "reopen": "De tekst is heropend als ontwerp."}
STATE_LABELS = {None: "leeg", "draft": "ontwerp", "submitted": "ingediend", "returned": "teruggestuurd",
                "approved": "goedgekeurd"}
MEDIA = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _default_period(report: str, plan: Any, periods: list[dict[str, Any]]) -> str:
    """This year's report within the plan; for the college report the latest period that has ended."""
    today = date.today()
    if report == "college":
        ended = [p for p in periods if p["end_date"] <= today]
        return (ended[-1] if ended else periods[0])["code"] if periods else ""
    return str(min(max(today.year, plan.start_year), plan.end_year))


def _periods(ctx: Context, organisation: str) -> list[dict[str, Any]]:
    try:
        return ops.list_reporting_periods(ctx, organisation=organisation)
    except NotAllowed:
        return []


def _report_page(request: Request, ctx: Context, lang: str, plan_id: int, report: str, period: str, *,
                 notice: str = "", error: Exception | None = None, error_section: str = "",
                 stale: dict[str, Any] | None = None, form: dict[str, str] | None = None,
                 status_code: int = 200) -> Response:
    plan = ops.plan_info(ctx, plan_id)
    if report not in REPORT_NAMES:
        raise ValidationError(f"unknown report {report!r}", {"rapport": list(REPORT_NAMES)})
    periods = _periods(ctx, plan.organisation)
    period = period or _default_period(report, plan, periods)
    sections = ops.list_report_sections(ctx, plan_id, report, period) if period else []
    resource = Resource("plan", plan_id, plan.organisation)
    base = f"/beleid/plannen/{plan_id}/rapportering/{report}/{period}"
    return _page(request, ctx, lang, "plans_reports.html", section="plannen", status_code=status_code, plan=plan,
                 report=report, report_name=REPORT_NAMES[report], period=period, periods=periods,
                 years=range(plan.start_year, plan.end_year + 1), sections=sections, download=base,
                 can_write=may(ctx.actor, "reports.write", resource),
                 can_approve=may(ctx.actor, "reports.approve", resource), states=STATE_LABELS,
                 notice=REPORT_NOTICES.get(notice, ""), error=error, error_section=error_section, stale=stale,
                 form=form or {})


@router.get("/beleid/plannen/{plan_id:int}/rapportering", response_class=HTMLResponse)
def reports_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, rapport: str = "opvolging",
                 periode: str = "", bewaard: str = "") -> Response:
    return _report_page(request, ctx, lang, plan_id, rapport, periode.strip(), notice=bewaard)


@router.get("/beleid/plannen/{plan_id:int}/rapportering/{report}/{period}.{fmt}")
def report_file(ctx: CtxDep, lang: LangDep, plan_id: RecordId, report: str, period: str, fmt: str,
                ontwerp: str = "") -> Response:
    """The report as a file; `?ontwerp=1` (report writers) includes the texts not yet approved."""
    drafts = bool(ontwerp)
    if report == "opvolging":
        year = _int(period, "periode")
        if year is None:
            raise ValidationError("which year?", {"periode": ["a year"]})
        data = ops.opvolging_report(ctx, year, plan_id=plan_id, fmt=fmt, lang=lang, include_drafts=drafts)
    elif report == "college":
        data = ops.college_report(ctx, period, plan_id=plan_id, fmt=fmt, lang=lang, include_drafts=drafts)
    else:
        raise ValidationError(f"unknown report {report!r}", {"rapport": list(REPORT_NAMES)})
    name = f"{report}-{period}{'-ontwerp' if drafts else ''}-{lang}.{fmt}"
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "private, no-store"})


@router.post("/beleid/plannen/{plan_id:int}/rapportering/secties", response_class=HTMLResponse)
def save_section(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                 rapport: Annotated[str, Form()] = "", periode: Annotated[str, Form()] = "",
                 code: Annotated[str, Form()] = "", tekst: Annotated[str, Form()] = "",
                 expected_version: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "save") -> Response:
    """Save the text of a section as a draft, or save and submit it."""
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        version = _int(expected_version, "expected_version")
        if version is None:
            raise ValidationError("the form lacks the section's version: reload the page",
                                  {"expected_version": ["required"]})
        row = ops.save_report_section(ctx, plan_id, rapport, periode, code, tekst, expected_version=version)
        if action == "submit":
            row = ops.submit_report_section(ctx, row["id"])
    except StaleEdit as exc:
        stale = {"code": code, "theirs": exc.theirs.get("body") or "", "version": exc.theirs_version,
                 "changed_by": exc.changed_by}
        return _report_page(request, ctx, lang, plan_id, rapport, periode, stale=stale, error_section=code,
                            form={code: tekst}, status_code=409)
    except (ValidationError, Conflict) as exc:
        return _report_page(request, ctx, lang, plan_id, rapport, periode, error=exc, error_section=code,
                            form={code: tekst}, status_code=422 if isinstance(exc, ValidationError) else 409)
    return _back(f"/beleid/plannen/{plan_id}/rapportering", lang, f"sectie-{row['code']}", rapport=rapport,
                 periode=periode, bewaard="ingediend" if action == "submit" else "bewaard")


@router.post("/beleid/plannen/{plan_id:int}/rapportering/secties/nieuw", response_class=HTMLResponse)
def add_section(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                rapport: Annotated[str, Form()] = "", periode: Annotated[str, Form()] = "",
                titel: Annotated[str, Form()] = "", titel_en: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        row = ops.add_report_section(ctx, plan_id, rapport, periode, titel, title_en=titel_en)
    except (ValidationError, Conflict) as exc:
        return _report_page(request, ctx, lang, plan_id, rapport, periode, error=exc, error_section="nieuw",
                            form={"titel": titel, "titel_en": titel_en},
                            status_code=422 if isinstance(exc, ValidationError) else 409)
    return _back(f"/beleid/plannen/{plan_id}/rapportering", lang, f"sectie-{row['code']}", rapport=rapport,
                 periode=periode, bewaard="toegevoegd")


@router.post("/beleid/plannen/{plan_id:int}/rapportering/secties/{section_id:int}/beslissing",
             response_class=HTMLResponse)
def decide_section(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, section_id: RecordId,
                   csrf_token: Annotated[str, Form()] = "", rapport: Annotated[str, Form()] = "",
                   periode: Annotated[str, Form()] = "", beslissing: Annotated[str, Form()] = "",
                   commentaar: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "",
                   expected_version: Annotated[str, Form()] = "") -> Response:
    """Approve, return (with a comment) or reopen a section; submit a draft (beslissing=submit)."""
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        version = _int(expected_version, "expected_version")
        if beslissing == "submit":
            ops.submit_report_section(ctx, section_id, expected_version=version)
        else:
            ops.decide_report_section(ctx, section_id, decision=beslissing,
                                      comment=commentaar, expected_version=version)
    except (ValidationError, Conflict) as exc:
        error = exc if not isinstance(exc, StaleEdit) else Conflict(str(exc))
        return _report_page(request, ctx, lang, plan_id, rapport, periode, error=error, error_section=code,
                            status_code=422 if isinstance(exc, ValidationError) else 409)
    notice = "ingediend" if beslissing == "submit" else beslissing
    return _back(f"/beleid/plannen/{plan_id}/rapportering", lang, f"sectie-{code}", rapport=rapport,
                 periode=periode, bewaard=notice)
