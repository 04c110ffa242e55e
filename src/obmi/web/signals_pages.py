"""The early-warning pages under /beleid: acknowledging a signal with a comment (from the item
page or the college dashboard), evaluating the rules now (coordinators), and the rules page
(/beleid/instellingen/signalen) where organisation administrators and coordinators read each
rule in words with its current parameters and change them.

Like the other follow-up pages: operations only, CSRF first, post/redirect/get, a refused form
shown again with its messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import Conflict, ValidationError
from obmi.plans.workflow import StaleEdit
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import RecordId
from obmi.web.plans_pages import _back, _int, _item_view, _org_resource, _page, _signed_in
from obmi.web.security import check_csrf, safe_next

router = APIRouter(include_in_schema=False)
RULE_NOTICES = {"regel": "De regel is bewaard.", "geevalueerd": "De signalen zijn geëvalueerd."}


@router.post("/beleid/signalen/{signal_id:int}/erkennen", response_class=HTMLResponse)
def acknowledge(request: Request, ctx: CtxDep, lang: LangDep, signal_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                comment: Annotated[str, Form()] = "", expected_version: Annotated[str, Form()] = "",
                terug: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        row = ops.acknowledge_signal(ctx, signal_id, comment, expected_version=_int(expected_version, "expected_version"))
    except (ValidationError, Conflict) as exc:
        item = _item_of(ctx, signal_id, terug)
        if item is None:
            raise
        status = 422 if isinstance(exc, ValidationError) else 409
        error = exc if not isinstance(exc, StaleEdit) else Conflict(str(exc))
        return _item_view(request, ctx, lang, item, status_code=status, error=error, error_form=f"signal-{signal_id}")
    target = safe_next(terug, "")
    if target.startswith("/beleid/plannen/"):
        return _back(target.split("?")[0], lang, "signalen")
    if row["item_id"] is not None:
        return _back(f"/beleid/items/{row['item_id']}", lang, "signalen", bewaard="signaal")
    return _back("/beleid", lang)


def _item_of(ctx: Context, signal_id: int, back: str) -> int | None:
    """The item page to show a refused acknowledgement on (its form is there)."""
    target = safe_next(back, "")
    if target.startswith("/beleid/items/"):
        return _int(target.removeprefix("/beleid/items/").split("?")[0].split("#")[0], "terug")
    for plan in ops.list_plans(ctx):
        for row in ops.list_signals(ctx, plan.id):
            if row["id"] == signal_id:
                return int(row["item_id"]) if row["item_id"] is not None else None
    return None


@router.post("/beleid/plannen/{plan_id:int}/signalen/evalueren", response_class=HTMLResponse)
def evaluate(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId,
             csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    ops.evaluate_signals(ctx, plan_id)
    return _back(f"/beleid/plannen/{plan_id}", lang, "signalen")


# --- the rules page ------------------------------------------------------------------------------------

def _rules_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200, error: Any = None,
                error_form: str = "", form: dict[str, Any] | None = None, notice: str = "") -> Response:
    _signed_in(ctx)
    rules = ops.signal_rules(ctx)
    return _page(request, ctx, lang, "plans_signal_rules.html", section="instellingen", status_code=status_code,
                 rules=rules, error=error, error_form=error_form, form=form or {}, notice=notice,
                 can_configure=_may_configure(ctx))


def _may_configure(ctx: Context) -> bool:
    from obmi.web.admin import may
    return may(ctx.actor, "signals.configure", _org_resource(ctx.actor))


@router.get("/beleid/instellingen/signalen", response_class=HTMLResponse)
def rules_page(request: Request, ctx: CtxDep, lang: LangDep, bewaard: str = "") -> Response:
    return _rules_view(request, ctx, lang, notice=RULE_NOTICES.get(bewaard, ""))


@router.post("/beleid/instellingen/signalen/{code}", response_class=HTMLResponse)
async def configure_rule(request: Request, ctx: CtxDep, lang: LangDep, code: str) -> Response:
    form = await request.form()
    check_csrf(request, ctx, str(form.get("csrf_token", "")))
    _signed_in(ctx)
    params = {key.removeprefix("param_"): str(value) for key, value in form.items() if key.startswith("param_")}
    try:
        ops.configure_signal_rule(ctx, code, enabled=bool(form.get("enabled")), params=params,
                                  expected_version=_int(str(form.get("expected_version", "")), "expected_version"))
    except (ValidationError, Conflict) as exc:
        error = exc if isinstance(exc, ValidationError) else ValidationError(str(exc))
        return _rules_view(request, ctx, lang, status_code=422 if isinstance(exc, ValidationError) else 409,
                           error=error, error_form=f"rule-{code}", form=params)
    return _back("/beleid/instellingen/signalen", lang, f"regel-{code}", bewaard="regel")
