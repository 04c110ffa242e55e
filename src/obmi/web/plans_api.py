"""The follow-up API (beleidsopvolging) under /api/v1: plans and their items with derived
progress and status, the college dashboard, one item with everything about it, status updates
and their approval, item settings, KPI measurements, plan import and the public view.

Every endpoint calls operations only; the operations check the permissions (another
organisation's plan or item answers 404, the public 401). Writing needs an API token with scope
write (`Authorization: Bearer TOKEN`), or a browser session that sends its CSRF token in the
`X-CSRF-Token` header. A stale edit (someone changed the item or update after you read it)
answers 409 with both versions: `mine`, `theirs` and `theirs_version`."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import ImportRejected, NotAuthenticated, NotFound, ValidationError
from obmi.web.api_admin import MAX_REJECTED_IN_REPORT, save_upload
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import MAX_INT, MAX_TEXT, PLAIN, Offset, OptionalText, PathCode, RecordId, Version
from obmi.web.plans_schemas import (
    AcknowledgeIn,
    DashboardOut,
    DecisionIn,
    EvaluationOut,
    ItemDetailOut,
    ItemPage,
    ItemPatchIn,
    ItemSettingsOut,
    KpiList,
    MeasurementIn,
    MeasurementOut,
    PlanImportOut,
    PlanList,
    PublicPlanOut,
    SignalList,
    SignalOut,
    SignalRuleIn,
    SignalRuleList,
    SignalRuleOut,
    StatusUpdateIn,
    SummaryList,
    UpdateList,
    UpdateResultOut,
    VersionDiffOut,
    dump,
    responses,
)
from obmi.web.security import check_csrf

router = APIRouter(prefix="/api/v1", tags=["plans"])
PRIVATE = {"Cache-Control": "private, no-store"}


def _json(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers=PRIVATE)


def _writer(request: Request, ctx: Context) -> None:
    """A write needs an identity first (401), then — for a browser session — its CSRF token."""
    if ctx.actor.is_anonymous:
        raise NotAuthenticated("send an API token with scope write (Authorization: Bearer TOKEN), or sign in")
    check_csrf(request, ctx, None)


# --- shapes shared with the pages ------------------------------------------------------------------

def attachment_url(attachment_id: int) -> str:
    return f"/beleid/bijlagen/{attachment_id}"


def update_json(update: dict[str, Any]) -> dict[str, Any]:
    files = [{**a, "url": attachment_url(a["id"])} for a in update.get("attachments", [])]
    return {**update, "attachments": files}


def kpi_json(kpi: dict[str, Any]) -> dict[str, Any]:
    light = kpi["light"]
    if dataclasses.is_dataclass(light) and not isinstance(light, type):
        light = dataclasses.asdict(light)
    return {**kpi, "light": light}


def explanation_rows(result: Any, lang: str = "nl") -> list[dict[str, Any]]:
    """The children in an item's roll-up (code, weight, share, progress, status, counted)."""
    rows = []
    for row in getattr(getattr(result, "explanation", None), "rows", ()):
        reason = row.reason.in_lang(lang) if row.reason is not None else None
        rows.append({"code": row.code, "title": row.title, "weight": row.weight, "share": row.share,
                     "progress": row.progress, "status": str(row.status), "counted": row.counted, "reason": reason})
    return rows


def detail_json(detail: Any, lang: str = "nl") -> dict[str, Any]:
    return {"item": detail.item, "plan": detail.plan, "version": detail.version, "ancestors": detail.ancestors,
            "children": detail.children, "explanation": detail.explanation,
            "explanation_rows": explanation_rows(detail.rollup, lang), "amounts": detail.amounts,
            "versions": detail.versions, "updates": [update_json(u) for u in detail.updates],
            "kpis": [kpi_json(k) for k in detail.kpis], "milestones": detail.milestones, "history": detail.history,
            "periods": detail.periods}


def import_json(result: Any, lang: str = "nl") -> dict[str, Any]:
    return {"import_id": result.import_id, "status": result.status, "plan_id": result.plan_id,
            "plan_code": result.plan_code, "version": result.version, "layout": result.layout, "notes": result.notes,
            "lines": result.diff.lines(lang), "diff": result.diff.as_dict()}


def rejected_json(error: ImportRejected) -> dict[str, Any]:
    return {"detail": str(error.args[0]),
            "errors": {f"{error.unit} {line}" if line else "file": [reason]
                       for line, reason in error.rejected[:MAX_REJECTED_IN_REPORT]}}


# --- plans -------------------------------------------------------------------------------------------

@router.get("/plans", responses=responses(PlanList, 401, 403))
def list_plans(ctx: CtxDep) -> JSONResponse:
    """The plans of your organisation, each with its versions (the plan and its amendments)."""
    plans = [dataclasses.asdict(p) for p in ops.list_plans(ctx)]
    return _json(dump(PlanList, {"data": plans, "count": len(plans)}))


def _filters(kind: str | None, status: str | None, owner: str | None, department: str | None,
             mandataris: str | None, beleidsdomein: str | None, priority: bool | None, tag: str | None,
             q: str | None) -> Any:
    return ops.ItemFilter(kind=kind or None, status=status or None, owner=owner or None, department=department or None,
                          mandataris=mandataris or None, beleidsdomein=beleidsdomein or None, priority=priority,
                          search=(q or "").strip() or None, tag=tag or None)


Text = OptionalText
Organisation = Annotated[Optional[str], Query(max_length=40, pattern=PLAIN)]


@router.get("/plans/{plan_id}/items", responses=responses(ItemPage, 401, 403, 404))
def plan_items(ctx: CtxDep, plan_id: RecordId, kind: Text = None, status: Text = None, owner: Text = None,
               department: Text = None, mandataris: Text = None, beleidsdomein: Text = None,
               priority: Optional[bool] = None, tag: Text = None,
               q: Annotated[Optional[str], Query(max_length=MAX_TEXT, pattern=PLAIN,
                                                 description="Search code and titles.")] = None,
               version: Version = None,
               limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
               offset: Offset = 0) -> JSONResponse:
    """The items of a plan version in hierarchy order with their derived progress and status,
    effective priority and planned budget; filtered and searched."""
    found = ops.plan_items(ctx, plan_id, version=version, limit=limit, offset=offset,
                           filters=_filters(kind, status, owner, department, mandataris, beleidsdomein, priority, tag, q))
    return _json(dump(ItemPage, {"data": found.items, "count": found.total, "plan": found.plan,
                                 "version": found.version}))


@router.get("/plans/{plan_id}/dashboard", responses=responses(DashboardOut, 401, 403, 404))
def dashboard(ctx: CtxDep, plan_id: RecordId) -> JSONResponse:
    """The college dashboard: status distribution, priority items, knelpunten, overdue updates,
    updates awaiting approval and progress per beleidsdomein."""
    board = ops.college_dashboard(ctx, plan_id)
    return _json(dump(DashboardOut, dataclasses.asdict(board)))


@router.get("/plans/{plan_id}/summary", responses=responses(SummaryList, 401, 403, 404))
def summary(ctx: CtxDep, plan_id: RecordId,
            version: Version = None
            ) -> JSONResponse:
    """Planned expenditure per beleidsdoelstelling and year (everything under it)."""
    plan = ops.plan_info(ctx, plan_id)
    rows = [dataclasses.asdict(r) for r in ops.plan_summary(ctx, organisation=plan.organisation, plan=plan.code,
                                                            version=version)]
    return _json(dump(SummaryList, {"data": rows, "count": len(rows)}))


@router.get("/plans/{plan_id}/compare", responses=responses(VersionDiffOut, 401, 403, 404))
def compare(ctx: CtxDep, lang: LangDep, plan_id: RecordId, old: Annotated[int, Query(ge=1, le=MAX_INT)],
            new: Annotated[int, Query(ge=1, le=MAX_INT)]) -> JSONResponse:
    """What changed between two versions of a plan."""
    changes = ops.compare_plan_versions(ctx, plan_id, old, new)
    return _json(dump(VersionDiffOut, {"old": old, "new": new, "lines": changes.lines(lang), "diff": changes.as_dict()}))


@router.post("/plans/import", responses=responses(PlanImportOut, 401, 403, 404))
def import_plan(request: Request, ctx: CtxDep, lang: LangDep,
                file: Annotated[list[UploadFile], File(min_length=1,
                                                      description="Plan file(s): BBC JSON, plan table, budget file.")],
                dry_run: Annotated[bool, Form(description="Compute the difference only; change nothing.")] = False,
                organisation: Annotated[Optional[str], Form(max_length=40)] = None,
                plan: Annotated[Optional[str], Form(max_length=40, description="Plan code (default: the plan).")] = None,
                label: Annotated[str, Form(max_length=200, description="e.g. Aanpassing 1")] = "",
                motivering: Annotated[str, Form(max_length=5000)] = "") -> JSONResponse:
    """Import a plan or an amended plan: a changed plan becomes a new version, the same plan again
    changes nothing. Answers the difference with the latest version; a rejected file answers 422
    with its problems (per line or record) and changes nothing."""
    _writer(request, ctx)
    folder = Path(tempfile.mkdtemp(prefix="obmi-plan-"))
    try:
        paths = []
        for number, upload in enumerate(file):
            own = folder / str(number)
            own.mkdir()
            paths.append(save_upload(upload, own, request.app.state.settings.upload_max_mb << 20))
        try:
            result = ops.import_plan(ctx, paths, organisation=organisation or None, plan=plan or None, label=label,
                                     motivering=motivering, dry_run=dry_run)
        except ImportRejected as exc:
            return _json(rejected_json(exc), status_code=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _json(dump(PlanImportOut, import_json(result, lang)))


# --- items ---------------------------------------------------------------------------------------------

@router.get("/items/{item_id}", responses=responses(ItemDetailOut, 401, 403, 404))
def item(ctx: CtxDep, lang: LangDep, item_id: RecordId,
         version: Version = None
         ) -> JSONResponse:
    """Everything about one item: its place, derived progress with how it was computed, amounts
    per year, every version's text, status updates, KPIs, milestones and history."""
    detail = ops.item_detail(ctx, item_id, version=version, lang=lang)
    return _json(dump(ItemDetailOut, detail_json(detail, lang)))


@router.patch("/items/{item_id}", responses=responses(ItemSettingsOut, 401, 403, 404, 409, stale=True))
def update_item(request: Request, ctx: CtxDep, item_id: RecordId, body: ItemPatchIn) -> JSONResponse:
    """Change an item's follow-up settings (only the fields sent). `expected_version` is the
    item's row_version your edit is based on: changed meanwhile, nothing is written (409)."""
    _writer(request, ctx)
    values = body.model_dump(exclude_unset=True)
    expected = values.pop("expected_version")
    if not values:
        raise ValidationError("send at least one setting to change", {"body": ["no settings given"]})
    row = ops.update_item(ctx, item_id, expected_version=expected, **values)
    return _json(dump(ItemSettingsOut, row))


@router.get("/items/{item_id}/status-updates", responses=responses(UpdateList, 401, 403, 404))
def status_updates(ctx: CtxDep, item_id: RecordId) -> JSONResponse:
    """The item's status updates, newest period first, each with its state and attachments."""
    updates = [update_json(u) for u in ops.item_detail(ctx, item_id).updates]
    return _json(dump(UpdateList, {"data": updates, "count": len(updates)}))


@router.post("/items/{item_id}/status-updates", responses=responses(UpdateResultOut, 401, 403, 404, 409, stale=True))
def post_status_update(request: Request, ctx: CtxDep, item_id: RecordId, body: StatusUpdateIn) -> JSONResponse:
    """Draft (save), submit, or confirm "geen wijziging" (no_change) for a reporting period
    (default: the current one). Without a status, submit sends the saved draft as it is."""
    _writer(request, ctx)
    if body.action == "no_change":
        result = ops.confirm_no_change(ctx, item_id, period=body.period)
    elif body.status is None and body.action == "submit":
        result = ops.submit_status_update(ctx, item_id, period=body.period, expected_version=body.expected_version)
    elif body.status is None:
        raise ValidationError("the status update is not valid", {"status": ["required"]})
    else:
        result = ops.save_status_update(ctx, item_id, period=body.period, status=body.status, progress=body.progress,
                                        narrative=body.narrative, knelpunten=body.knelpunten,
                                        submit=body.action == "submit", expected_version=body.expected_version)
    return _json(dump(UpdateResultOut, {"update": update_json(result.update), "notified": result.notified}))


@router.post("/status-updates/{update_id}/decision",
             responses=responses(UpdateResultOut, 401, 403, 404, 409, stale=True))
def decide(request: Request, ctx: CtxDep, update_id: RecordId, body: DecisionIn) -> JSONResponse:
    """Approve a submitted status update, or return it to its author (a comment is required)."""
    _writer(request, ctx)
    result = ops.decide_status_update(ctx, update_id, approve=body.decision == "approve", comment=body.comment,
                                      expected_version=body.expected_version)
    return _json(dump(UpdateResultOut, {"update": update_json(result.update), "notified": result.notified}))


@router.get("/items/{item_id}/kpis", responses=responses(KpiList, 401, 403, 404))
def kpis(ctx: CtxDep, item_id: RecordId) -> JSONResponse:
    """The item's KPIs with their measurements and traffic light (with the rule in words)."""
    rows = [kpi_json(k) for k in ops.item_detail(ctx, item_id).kpis]
    return _json(dump(KpiList, {"data": rows, "count": len(rows)}))


@router.post("/kpis/{kpi_id}/measurements", responses=responses(MeasurementOut, 401, 403, 404, 409))
def post_measurement(request: Request, ctx: CtxDep, kpi_id: RecordId, body: MeasurementIn) -> JSONResponse:
    """Record the value (manual KPI) or the reached step (steps KPI) for a period."""
    _writer(request, ctx)
    row = ops.record_measurement(ctx, kpi_id, body.period, value=body.value, step=body.step, note=body.note)
    return _json(dump(MeasurementOut, row))


# --- early-warning signals ------------------------------------------------------------------------------

@router.get("/plans/{plan_id}/signals", responses=responses(SignalList, 401, 403, 404))
def plan_signals(ctx: CtxDep, plan_id: RecordId,
                 state: Annotated[Optional[Literal["open", "acknowledged", "resolved"]], Query()] = None,
                 item: Annotated[Optional[int], Query(ge=1, le=MAX_INT, description="Only the signals of this item (id).")] = None
                 ) -> JSONResponse:
    """The plan's early-warning signals the caller may see (coordinators: all; others: their
    own), critical first, each with its rule, evidence and owner."""
    rows = ops.list_signals(ctx, plan_id, state=state, item=item)
    return _json(dump(SignalList, {"data": rows, "count": len(rows)}))


@router.post("/plans/{plan_id}/signals/evaluate", responses=responses(EvaluationOut, 401, 403, 404))
def evaluate_signals(request: Request, ctx: CtxDep, plan_id: RecordId) -> JSONResponse:
    """Evaluate the organisation's rules over the plan now (coordinators)."""
    _writer(request, ctx)
    result = ops.evaluate_signals(ctx, plan_id)
    return _json(dump(EvaluationOut, dataclasses.asdict(result)))


@router.post("/signals/{signal_id}/acknowledge", responses=responses(SignalOut, 401, 403, 404, 409, stale=True))
def acknowledge_signal(request: Request, ctx: CtxDep, signal_id: RecordId, body: AcknowledgeIn) -> JSONResponse:
    """Acknowledge an open signal with a comment (its owner, or a coordinator)."""
    _writer(request, ctx)
    row = ops.acknowledge_signal(ctx, signal_id, body.comment, expected_version=body.expected_version)
    return _json(dump(SignalOut, row))


@router.get("/signal-rules", responses=responses(SignalRuleList, 401, 403, 404))
def signal_rules(ctx: CtxDep, organisation: Organisation = None) -> JSONResponse:
    """The early-warning rules with the organisation's settings, each in words with its parameters."""
    rows = ops.signal_rules(ctx, organisation=organisation)
    return _json(dump(SignalRuleList, {"data": rows, "count": len(rows)}))


@router.put("/signal-rules/{code}", responses=responses(SignalRuleOut, 401, 403, 404, 409, stale=True))
def configure_signal_rule(request: Request, ctx: CtxDep, code: PathCode, body: SignalRuleIn,
                          organisation: Organisation = None) -> JSONResponse:
    """Enable, disable or tune one rule for the organisation (org admins and coordinators)."""
    _writer(request, ctx)
    row = ops.configure_signal_rule(ctx, code, organisation=organisation, enabled=body.enabled, params=body.params,
                                    expected_version=body.expected_version)
    return _json(dump(SignalRuleOut, row))


# --- the public view --------------------------------------------------------------------------------------

@router.get("/public/plans/{organisation}", responses=responses(PublicPlanOut, 404))
def public_plan(ctx: CtxDep, organisation: PathCode) -> JSONResponse:
    """The published items of an organisation's plan: approved status, progress and KPIs only."""
    view = ops.public_plan(ctx, organisation)
    if view.plan is None:
        raise NotFound(f"organisation {organisation!r} publishes no plan")
    items = [{**i, "kpis": [kpi_json(k) for k in i["kpis"]]} for i in view.items]
    body = dump(PublicPlanOut, {"organisation": view.organisation, "plan": view.plan, "data": items,
                                "count": len(items)})
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})
