"""The follow-up pages (beleidsopvolging) under /beleid: the organisation's plans and versions,
the college dashboard, the item list with its filters, the difference between two versions, one
item with everything about it (settings, progress and how it was computed, status updates and
their approval, KPIs, milestones as a timeline, history), "mijn rapporteringen" with the status
sheet, the coordinators' settings (periods, roll-up, plan import, reminders) — and the public
transparency page /stad/beleid/{organisation}.

Each page calls operations only; the operations check the permissions (another organisation's
plan answers 404). Which links and forms a page shows follows the pure permission rules
(`may`). Every POST checks its CSRF token first, then acts, then redirects (post/redirect/get);
a refused form is shown again with its messages, and an edit that someone else overtook
meanwhile (StaleEdit) shows both versions side by side and lets the user choose — nothing is
ever silently overwritten. Pages are complete without JavaScript: charts only add to tables.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Iterable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obmi import operations as ops
from obmi.auth.actor import Actor
from obmi.auth.permissions import Resource
from obmi.context import Context
from obmi.errors import Conflict, ImportRejected, NotAllowed, NotAuthenticated, NotFound, ValidationError
from obmi.operations.followup import REPORTING_KINDS
from obmi.plans.model import KIND_LABELS, STATUS_LABELS, ItemKind, ItemStatus, UpdateState
from obmi.plans.workflow import StaleEdit, allowed_actions
from obmi.web import i18n
from obmi.web.admin import may, when
from obmi.web.api_admin import save_upload
from obmi.web.auth_pages import NO_STORE
from obmi.web.deps import CtxDep, LangDep
from obmi.web.params import MAX_INT, OptionalId, RecordId
from obmi.web.plans_api import attachment_url, explanation_rows, kpi_json
from obmi.web.rendering import render, script_json
from obmi.web.security import check_csrf, safe_next

router = APIRouter(include_in_schema=False)

UPDATE_STATES = {"draft": ("concept", "draft"), "submitted": ("ingediend", "submitted"),
                 "approved": ("goedgekeurd", "approved"), "returned": ("teruggestuurd", "returned")}
DUE_STATES = {"open": ("open", "open"), "due_soon": ("bijna te laat", "due soon"), "overdue": ("te laat", "overdue")}
COLOUR_WORDS = {"groen": ("groen", "green"), "oranje": ("oranje", "orange"), "rood": ("rood", "red"),
                "grijs": ("grijs", "grey")}
# Bars of the status chart (the badges carry the same status in words).
STATUS_COLOURS = {"niet_gestart": "#8c96a0", "op_schema": "#2e7d4f", "risico": "#d98200", "vertraagd": "#c0392b",
                  "afgerond": "#1f5fa8", "stopgezet": "#4d4d4d", "on_hold": "#7d4fb5", "geen": "#c6ccd2"}
SETTINGS_FIELDS = ("owner", "department", "mandataris", "priority", "publish", "weight", "tags", "start_date",
                   "end_date")
SETTINGS_LABELS = {"owner": "Eigenaar", "department": "Dienst", "mandataris": "Mandataris", "priority": "Prioritair",
                   "publish": "Publiceren", "weight": "Gewicht", "tags": "Tags", "start_date": "Startdatum",
                   "end_date": "Einde", "status": "Status", "progress": "Voortgang", "narrative": "Toelichting",
                   "knelpunten": "Knelpunten", "state": "Toestand", "no_change": "Geen wijziging"}
ROLLUP_METHODS = {"equal": "Gelijke gewichten", "weights": "Opgegeven gewichten", "budget": "Naar budget"}
SCHEMES = {"semester": "Semester", "quarter": "Kwartaal", "year": "Jaar", "month": "Maand"}
PREVIEWS = Path(tempfile.gettempdir()) / "obmi-plan-previews"
PREVIEW_HOURS = 12
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --- helpers -----------------------------------------------------------------------------------------

def _signed_in(ctx: Context) -> None:
    if ctx.actor.is_anonymous:
        raise NotAuthenticated("sign in first")


def _org_resource(actor: Actor) -> Resource:
    return Resource("plan", None, actor.organisation)


def _item_resource(row: dict[str, Any], organisation: str | None) -> Resource:
    return Resource("plan_item", row["id"], organisation, owner=row.get("owner"))


def ackable_signals(actor: Actor, signals: list[dict[str, Any]], organisation: str | None) -> set[int]:
    """The ids of the open signals the actor may acknowledge (their owner, coordinators)."""
    return {x["id"] for x in signals if x["state"] == "open"
            and may(actor, "signals.acknowledge", Resource("signal", x["id"], organisation, owner=x["owner"]))}


class Words:
    """The labels and number formats pages use, in the page's language."""

    def __init__(self, lang: str):
        self.lang = lang

    def pick(self, pair: tuple[str, str]) -> str:
        return pair[1] if self.lang == "en" else pair[0]

    def status(self, code: str | None) -> str:
        if not code or code == "geen":
            return i18n.translate(self.lang, "nog geen rapportering")
        try:
            return self.pick(STATUS_LABELS[ItemStatus(code)])
        except ValueError:
            return code

    def kind(self, code: str) -> str:
        try:
            return self.pick(KIND_LABELS[ItemKind(code)])
        except ValueError:
            return code

    def state(self, code: str | None) -> str:
        return self.pick(UPDATE_STATES.get(code or "", (code or "—", code or "—")))

    def due(self, code: str) -> str:
        return self.pick(DUE_STATES.get(code, (code, code)))

    def colour(self, code: str) -> str:
        return self.pick(COLOUR_WORDS.get(code, (code, code)))

    def pct(self, value: float | None) -> str:
        if value is None:
            return "—"
        decimals = 0 if abs(value - round(value)) < 0.05 else 1
        return f"{i18n.number(value, decimals, self.lang)} %"

    def number(self, value: float | None) -> str:
        if value is None:
            return "—"
        decimals = 0 if abs(value - round(value)) < 0.005 else 2
        return i18n.number(value, decimals, self.lang)

    def euro(self, value: float | None) -> str:
        return "—" if value is None else f"€ {i18n.number(value, 0, self.lang)}"

    @staticmethod
    def day(value: date | None) -> str:
        return value.strftime("%d/%m/%Y") if value else "—"


def _page(request: Request, ctx: Context, lang: str, template: str, *, status_code: int = 200,
          section: str = "", **context: Any) -> Response:
    actor = ctx.actor
    nav = [("/beleid", "Plannen", "plannen"), ("/beleid/mijn", "Mijn rapporteringen", "mijn")]
    if may(actor, ("plans.manage", "plans.import", "plans.remind"), _org_resource(actor)):
        nav.append(("/beleid/instellingen", "Instellingen", "instellingen"))
    response = render(request, template, lang, status_code=status_code, when=when, words=Words(lang),
                      may=lambda permission, resource=None: may(actor, permission, resource),
                      plans_nav=[{"url": u, "label": label, "current": key == section} for u, label, key in nav],
                      **context)
    response.headers.update(NO_STORE)
    return response


def _back(url: str, lang: str, anchor: str = "", **params: Any) -> RedirectResponse:
    query = urlencode({**{k: v for k, v in params.items() if v not in (None, "")}, "lang": lang})
    return RedirectResponse(f"{url}?{query}{'#' + anchor if anchor else ''}", status_code=303)


def _int(text: str | None, field: str) -> int | None:
    if text is None or not str(text).strip():
        return None
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValidationError("not a whole number", {field: ["a whole number"]}) from None
    if abs(value) > MAX_INT:  # no row has it, and the database cannot compare with it
        raise ValidationError("number out of range", {field: [f"a whole number of at most {MAX_INT}"]})
    return value


def _depths(rows: Iterable[dict[str, Any]]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for row in rows:  # hierarchy order: a parent comes before its children
        depth[row["id"]] = depth.get(row["parent_id"], -1) + 1 if row["parent_id"] is not None else 0
    return depth


def _status_chart(counts: dict[str, int], words: Words) -> dict[str, Any]:
    """A Vega-Lite bar chart of the status distribution (the table beside it says the same)."""
    values = [{"status": words.status(code), "aantal": n, "kleur": STATUS_COLOURS.get(code, "#888")}
              for code, n in counts.items()]
    _ = lambda text: i18n.translate(words.lang, text)  # noqa: E731
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "width": "container", "height": {"step": 24},
            "autosize": {"type": "fit-x", "contains": "padding"}, "padding": {"left": 4, "right": 8, "top": 4, "bottom": 4},
            "data": {"values": values}, "mark": {"type": "bar"},
            "encoding": {"y": {"field": "status", "type": "nominal", "sort": None, "title": None,
                               "axis": {"labelLimit": 200}},
                         "x": {"field": "aantal", "type": "quantitative", "title": _("Aantal items"),
                               "axis": {"tickMinStep": 1, "format": "d"}},
                         "color": {"field": "kleur", "type": "nominal", "scale": None},
                         "tooltip": [{"field": "status", "title": _("Status")},
                                     {"field": "aantal", "title": _("Aantal")}]}}


def _kpi_chart(kpi: dict[str, Any], lang: str = "nl") -> dict[str, Any] | None:
    """A small Vega-Lite line of a numeric KPI's measurements, with its targets."""
    _ = lambda text: i18n.translate(lang, text)  # noqa: E731
    measured, target = _("meting"), _("doel")
    points = [{"periode": m["period"], "waarde": m["value"], "reeks": measured} for m in kpi["measurements"]
              if m.get("value") is not None]
    if kpi["kind"] == "steps" or not points:
        return None
    targets = [{"periode": str(year), "waarde": value, "reeks": target} for year, value in
               sorted((kpi.get("targets") or {}).items())]
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "width": "container", "height": 140,
            "data": {"values": points + targets}, "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "periode", "type": "ordinal", "title": None, "sort": "ascending",
                               "axis": {"labelAngle": 0}},
                         "y": {"field": "waarde", "type": "quantitative", "title": kpi.get("unit") or None,
                               "scale": {"zero": False}},
                         "color": {"field": "reeks", "type": "nominal", "title": None, "legend": {"orient": "bottom"},
                                   "scale": {"domain": [measured, target], "range": ["#00539b", "#a4000f"]}},
                         "strokeDash": {"field": "reeks", "type": "nominal", "legend": None,
                                        "scale": {"domain": [measured, target], "range": [[1, 0], [4, 3]]}},
                         "tooltip": [{"field": "reeks", "title": _("Reeks")}, {"field": "periode", "title": _("Periode")},
                                     {"field": "waarde", "title": _("Waarde")}]}}


def _gantt(milestones: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Positions (in % of the time span) of each milestone's planned and actual bar."""
    if not milestones:
        return {"rows": [], "ticks": [], "today": None}
    days: list[date] = [today]
    for m in milestones:
        days += [d for d in (m["planned_start"], m["planned_end"], m["actual_start"], m["actual_end"]) if d]
    first, last = min(days) - timedelta(days=7), max(days) + timedelta(days=7)
    span = max((last - first).days, 1)

    def at(day: date) -> float:
        return round((day - first).days / span * 100, 2)

    rows = []
    for m in milestones:
        start = m["planned_start"] or m["planned_end"]
        planned = {"left": at(start), "width": max(at(m["planned_end"]) - at(start), 0.8)}
        actual = None
        if m["actual_start"] or m["actual_end"]:
            a_start = m["actual_start"] or m["actual_end"]
            a_end = m["actual_end"] or today
            actual = {"left": at(a_start), "width": max(at(a_end) - at(a_start), 0.8), "open": m["actual_end"] is None}
        rows.append({**m, "planned_bar": planned, "actual_bar": actual})
    ticks = []
    year = first.year
    while date(year, 1, 1) <= last:
        if date(year, 1, 1) >= first:
            ticks.append({"label": str(year), "left": at(date(year, 1, 1))})
        year += 1
    return {"rows": rows, "ticks": ticks, "today": at(today), "first": first, "last": last}


def _amount_table(amounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    years: dict[int, dict[str, float]] = defaultdict(dict)
    for row in amounts:
        years[row["year"]][row["direction"]] = row["amount"]
    return [{"year": y, "uitgave": v.get("uitgave"), "ontvangst": v.get("ontvangst")} for y, v in sorted(years.items())]


def _text(value: Any, lang: str = "nl") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return i18n.translate(lang, "ja" if value else "nee")
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value)) or "—"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(getattr(value, "value", value))


def _form_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _stale_view(exc: StaleEdit, kind: str, lang: str = "nl") -> dict[str, Any]:
    """Both versions of a stale edit, field by field, for the page to show side by side."""
    names = [n for n in (*SETTINGS_FIELDS, "state", "status", "progress", "narrative", "knelpunten", "no_change")
             if n in exc.mine or n in exc.theirs]
    fields = [{"name": n, "label": SETTINGS_LABELS.get(n, n), "mine": _text(exc.mine.get(n), lang),
               "theirs": _text(exc.theirs.get(n), lang), "value": _form_value(exc.mine.get(n)),
               "differs": exc.mine.get(n) != exc.theirs.get(n) and n in exc.mine}
              for n in names]
    return {"kind": kind, "message": str(exc.args[0]) if exc.args else str(exc), "fields": fields,
            "version": exc.theirs_version, "changed_by": getattr(exc, "changed_by", None)}


# --- the plans ---------------------------------------------------------------------------------------

@router.get("/beleid", response_class=HTMLResponse)
def plans_page(request: Request, ctx: CtxDep, lang: LangDep, geimporteerd: str = "", versie: str = "") -> Response:
    plans = ops.list_plans(ctx)  # refuses the anonymous public (→ /login)
    return _page(request, ctx, lang, "plans_index.html", section="plannen", plans=plans,
                 imported=geimporteerd[:20], imported_version=versie[:10])


def _plan_of(ctx: Context, plan_id: int) -> Any:
    """The plan with its versions (the permission check is the operation's: 404 across organisations)."""
    return ops.plan_info(ctx, plan_id)


@router.get("/beleid/plannen/{plan_id:int}", response_class=HTMLResponse)
def dashboard_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, beslist: str = "") -> Response:
    board = ops.college_dashboard(ctx, plan_id)
    everything = ops.plan_items(ctx, plan_id).items
    words = Words(lang)
    organisation = board.plan["organisation"]
    people = {name: sorted({r[name] for r in everything if r[name]}) for name in ("mandataris", "department", "owner")}
    reporting = sum(board.status_counts.values())
    return _page(request, ctx, lang, "plans_dashboard.html", section="plannen", board=board, people=people,
                 reporting=reporting, organisation=organisation, decided=beslist[:20],
                 can_approve=may(ctx.actor, "status.approve", Resource("plan_item", None, organisation)),
                 ackable=ackable_signals(ctx.actor, board.signals, organisation),
                 can_evaluate=may(ctx.actor, "signals.evaluate", Resource("plan", plan_id, organisation)),
                 statuses=[s.value for s in ItemStatus], kinds=[k.value for k in ItemKind],
                 charts_json=script_json({"status": _status_chart(board.status_counts, words)}))


def _item_filter(kind: str, status: str, owner: str, department: str, mandataris: str, beleidsdomein: str,
                 priority: str, tag: str, q: str) -> Any:
    return ops.ItemFilter(kind=kind or None, status=status or None, owner=owner or None, department=department or None,
                          mandataris=mandataris or None, beleidsdomein=beleidsdomein or None,
                          priority={"ja": True, "nee": False}.get(priority), search=q.strip() or None,
                          tag=tag or None)


FilterText = Annotated[str, Query(max_length=200)]


@router.get("/beleid/plannen/{plan_id:int}/items", response_class=HTMLResponse)
def items_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId, kind: FilterText = "",
               status: FilterText = "", owner: FilterText = "", department: FilterText = "", mandataris: FilterText = "",
               beleidsdomein: FilterText = "", priority: FilterText = "", tag: FilterText = "", q: FilterText = "",
               versie: OptionalId = None) -> Response:
    filters = {"kind": kind, "status": status, "owner": owner, "department": department, "mandataris": mandataris,
               "beleidsdomein": beleidsdomein, "priority": priority, "tag": tag, "q": q}
    everything = ops.plan_items(ctx, plan_id, version=versie)
    shown = ops.plan_items(ctx, plan_id, version=versie, filters=_item_filter(**filters))
    options = {name: sorted({r[name] for r in everything.items if r[name]})
               for name in ("owner", "department", "mandataris", "beleidsdomein")}
    options["tag"] = sorted({t for r in everything.items for t in r["tags"]})
    active = {k: v for k, v in filters.items() if v}
    plan = _plan_of(ctx, plan_id)
    return _page(request, ctx, lang, "plans_items.html", section="plannen", listing=shown, plan=plan,
                 depth=_depths(everything.items), filters=filters, active=active, options=options,
                 statuses=[s.value for s in ItemStatus], kinds=[k.value for k in ItemKind], version=versie)


@router.get("/beleid/plannen/{plan_id:int}/versies", response_class=HTMLResponse)
def versions_page(request: Request, ctx: CtxDep, lang: LangDep, plan_id: RecordId,
                  oud: OptionalId = None,
                  nieuw: OptionalId = None) -> Response:
    plan = _plan_of(ctx, plan_id)
    numbers = [v["number"] for v in plan.versions]
    changes = None
    if len(numbers) >= 2:
        new = nieuw if nieuw in numbers else numbers[-1]
        old = oud if oud in numbers else max((n for n in numbers if n < new), default=numbers[0])
        changes = ops.compare_plan_versions(ctx, plan_id, old, new)
    else:
        old = new = numbers[0] if numbers else 0
    return _page(request, ctx, lang, "plans_versions.html", section="plannen", plan=plan, old=old, new=new,
                 changes=changes, lines=changes.lines(lang) if changes is not None else [])


# --- one item --------------------------------------------------------------------------------------------

def _chosen_period(periods: list[dict[str, Any]], code: str, today: date) -> dict[str, Any] | None:
    if code:
        found = next((p for p in periods if p["code"] == code), None)
        if found is not None:
            return found
    started = [p for p in periods if p["start_date"] <= today]
    return started[-1] if started else (periods[0] if periods else None)


def _item_view(request: Request, ctx: Context, lang: str, item_id: int, *, status_code: int = 200,
               period: str = "", error: ValidationError | Conflict | None = None, error_form: str = "",
               form: dict[str, Any] | None = None, stale: dict[str, Any] | None = None, notice: str = "",
               versie: int | None = None) -> Response:
    detail = ops.item_detail(ctx, item_id, version=versie, lang=lang)
    today = date.today()
    item, organisation = detail.item, detail.plan["organisation"]
    resource = _item_resource(item, organisation)
    can_manage = may(ctx.actor, "plans.manage", resource)
    can_report = may(ctx.actor, "status.report", resource)
    can_approve = may(ctx.actor, "status.approve", resource)
    reportable = [p for p in detail.periods if p["start_date"] <= today
                  and detail.plan["start_year"] - 1 <= p["start_date"].year <= detail.plan["end_year"]]
    chosen = _chosen_period(reportable or detail.periods, period, today)
    by_period = {u["period_code"]: u for u in detail.updates}
    current = by_period.get(chosen["code"]) if chosen else None
    state = UpdateState(current["state"]) if current else None
    actions = allowed_actions(state)
    previous = next((u for u in detail.updates if u["state"] == "approved" and chosen is not None
                     and u["period_code"] != chosen["code"] and u["period_end"] <= chosen["end_date"]), None)
    kpis = [kpi_json(k) for k in detail.kpis]
    charts = {f"kpi-{k['id']}": spec for k in kpis if (spec := _kpi_chart(k, lang)) is not None}
    status_form = form if form is not None and error_form == "status" else {
        "status": current["status"] if current else (previous["status"] if previous else "niet_gestart"),
        "progress": current["progress"] if current else (previous["progress"] if previous else None),
        "narrative": current["narrative"] if current else "",
        "knelpunten": current["knelpunten"] if current else (previous["knelpunten"] if previous else "")}
    settings_form = form if form is not None and error_form == "settings" else {
        name: _form_value(item[name]) for name in SETTINGS_FIELDS}
    return _page(request, ctx, lang, "plans_item.html", section="plannen", status_code=status_code, d=detail,
                 item=item, can_manage=can_manage, can_report=can_report, can_approve=can_approve,
                 reportable=reportable, chosen=chosen, current=current, actions=actions, previous=previous,
                 leaf=item["kind"] in REPORTING_KINDS or not detail.children,
                 explanation_rows=explanation_rows(detail.rollup, lang), amounts=_amount_table(detail.amounts),
                 kpis=kpis, gantt=_gantt(detail.milestones, today), today=today, error=error, error_form=error_form,
                 status_form=status_form, settings_form=settings_form, stale=stale, notice=notice,
                 owners=ops.plan_owners(ctx, organisation=detail.plan["organisation"]) if can_manage else [],
                 statuses=[s.value for s in ItemStatus], attachment_url=attachment_url,
                 submitted=[u for u in detail.updates if u["state"] == "submitted"],
                 ackable=ackable_signals(ctx.actor, detail.signals, organisation),
                 max_mb=request.app.state.settings.attachment_max_mb, finance=ops.item_finance(ctx, item_id,
                                                                                  version=versie),
                 charts_json=script_json(charts) if charts else "", chart_keys=set(charts))


NOTICES = {"instellingen": "De instellingen van het item zijn bewaard.",
           "concept": "De statusrapportering is bewaard als concept.",
           "ingediend": "De statusrapportering is ingediend ter goedkeuring.",
           "geen-wijziging": "‘Geen wijziging’ is ingediend ter goedkeuring.",
           "goedgekeurd": "De statusrapportering is goedgekeurd.",
           "teruggestuurd": "De statusrapportering is teruggestuurd naar de eigenaar.",
           "bijlage": "De bijlage is toegevoegd.", "meting": "De meting is bewaard.",
           "mijlpaal": "De mijlpaal is bijgewerkt.", "signaal": "Het signaal is erkend."}


@router.get("/beleid/items/{item_id:int}", response_class=HTMLResponse)
def item_page(request: Request, ctx: CtxDep, lang: LangDep, item_id: RecordId,
              periode: Annotated[str, Query(max_length=20)] = "", bewaard: str = "",
              versie: OptionalId = None) -> Response:
    return _item_view(request, ctx, lang, item_id, period=periode, notice=NOTICES.get(bewaard, ""), versie=versie)


@router.post("/beleid/items/{item_id:int}/instellingen", response_class=HTMLResponse)
def item_settings(request: Request, ctx: CtxDep, lang: LangDep, item_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                  expected_version: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
                  department: Annotated[str, Form()] = "", mandataris: Annotated[str, Form()] = "",
                  priority: Annotated[str, Form()] = "", publish: Annotated[str, Form()] = "",
                  weight: Annotated[str, Form()] = "", tags: Annotated[str, Form()] = "",
                  start_date: Annotated[str, Form()] = "", end_date: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    form = {"owner": owner.strip().lower(), "department": department, "mandataris": mandataris,
            "priority": "1" if priority else "", "publish": "1" if publish else "", "weight": weight, "tags": tags,
            "start_date": start_date, "end_date": end_date}
    try:
        version = _int(expected_version, "expected_version")
        if version is None:
            raise ValidationError("the form lacks the item's version: reload the page", {"expected_version": ["required"]})
        ops.update_item(ctx, item_id, expected_version=version,
                        **{**form, "priority": bool(priority), "publish": bool(publish)})
    except StaleEdit as exc:
        return _item_view(request, ctx, lang, item_id, status_code=409, stale=_stale_view(exc, "settings", lang),
                          error_form="stale-settings")
    except ValidationError as exc:
        return _item_view(request, ctx, lang, item_id, status_code=422, error=exc, error_form="settings", form=form)
    return _back(f"/beleid/items/{item_id}", lang, "instellingen", bewaard="instellingen")


def _read_upload(upload: UploadFile, limit_mb: int) -> bytes:
    data = upload.file.read((limit_mb << 20) + 1)  # one byte more than allowed: the operation refuses it
    return data


@router.post("/beleid/items/{item_id:int}/status", response_class=HTMLResponse)
def item_status(request: Request, ctx: CtxDep, lang: LangDep, item_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                action: Annotated[str, Form()] = "save", period: Annotated[str, Form()] = "",
                status: Annotated[str, Form()] = "", progress: Annotated[str, Form()] = "",
                narrative: Annotated[str, Form()] = "", knelpunten: Annotated[str, Form()] = "",
                expected_version: Annotated[str, Form()] = "",
                file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    form = {"status": status, "progress": progress, "narrative": narrative, "knelpunten": knelpunten}
    try:
        if action == "no_change":
            result = ops.confirm_no_change(ctx, item_id, period=period or None)
        elif action in ("save", "submit"):
            result = ops.save_status_update(ctx, item_id, period=period or None, status=status, progress=progress,
                                            narrative=narrative, knelpunten=knelpunten, submit=action == "submit",
                                            expected_version=_int(expected_version, "expected_version"))
        else:
            raise ValidationError("unknown action", {"action": ["save, submit or no_change"]})
    except StaleEdit as exc:
        return _item_view(request, ctx, lang, item_id, status_code=409, period=period, stale=_stale_view(exc, "status", lang),
                          error_form="stale-status")
    except (ValidationError, Conflict) as exc:
        return _item_view(request, ctx, lang, item_id, status_code=422 if isinstance(exc, ValidationError) else 409,
                          period=period, error=exc, error_form="status", form=form)
    period_code = result.update["period_code"]
    if file is not None and file.filename:
        try:
            ops.add_attachment(ctx, result.update["id"], file.filename,
                               _read_upload(file, request.app.state.settings.attachment_max_mb))
        except (ValidationError, Conflict) as exc:
            return _item_view(request, ctx, lang, item_id, status_code=422, period=period_code, error=exc,
                              error_form=f"attachment-{result.update['id']}",
                              notice="De statusrapportering is bewaard, maar de bijlage werd geweigerd.")
    done = {"no_change": "geen-wijziging", "submit": "ingediend"}.get(action, "concept")
    return _back(f"/beleid/items/{item_id}", lang, "rapportering", periode=period_code, bewaard=done)


@router.post("/beleid/items/{item_id:int}/geen-wijziging", response_class=HTMLResponse)
def item_no_change(request: Request, ctx: CtxDep, lang: LangDep, item_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                   period: Annotated[str, Form()] = "", terug: Annotated[str, Form()] = "") -> Response:
    """The one-click "Geen wijziging" (also from "mijn rapporteringen")."""
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        result = ops.confirm_no_change(ctx, item_id, period=period or None)
    except (ValidationError, Conflict) as exc:
        return _item_view(request, ctx, lang, item_id, status_code=409 if isinstance(exc, Conflict) else 422,
                          period=period, error=exc, error_form="status")
    if terug == "mijn":
        return _back("/beleid/mijn", lang, "due", bevestigd=result.update["item_code"])
    return _back(f"/beleid/items/{item_id}", lang, "rapportering", periode=result.update["period_code"],
                 bewaard="geen-wijziging")


@router.post("/beleid/updates/{update_id:int}/beslissing", response_class=HTMLResponse)
def decide(request: Request, ctx: CtxDep, lang: LangDep, update_id: RecordId, csrf_token: Annotated[str, Form()] = "",
           decision: Annotated[str, Form()] = "", comment: Annotated[str, Form()] = "",
           expected_version: Annotated[str, Form()] = "", item_id: Annotated[str, Form()] = "",
           terug: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    item = _int(item_id, "item_id")
    try:
        if decision not in ("approve", "return"):
            raise ValidationError("choose approve or return", {"decision": ["approve or return"]})
        result = ops.decide_status_update(ctx, update_id, approve=decision == "approve", comment=comment,
                                          expected_version=_int(expected_version, "expected_version"))
    except (ValidationError, Conflict) as exc:
        if item is None:
            raise
        return _item_view(request, ctx, lang, item, status_code=422 if isinstance(exc, ValidationError) else 409,
                          error=exc, error_form=f"decision-{update_id}", form={"comment": comment})
    word = "goedgekeurd" if decision == "approve" else "teruggestuurd"
    target = safe_next(terug, "")
    if target.startswith("/beleid/plannen/"):
        return _back(target.split("?")[0], lang, "goedkeuring", beslist=word)
    return _back(f"/beleid/items/{result.update['item_id']}", lang, "rapportering",
                 periode=result.update["period_code"], bewaard=word)


@router.post("/beleid/updates/{update_id:int}/bijlagen", response_class=HTMLResponse)
def add_attachment(request: Request, ctx: CtxDep, lang: LangDep, update_id: RecordId,
                   csrf_token: Annotated[str, Form()] = "", item_id: Annotated[str, Form()] = "",
                   file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    item = _int(item_id, "item_id")
    try:
        if file is None or not file.filename:
            raise ValidationError("choose a file", {"file": ["required"]})
        ops.add_attachment(ctx, update_id, file.filename, _read_upload(file, request.app.state.settings.attachment_max_mb))
    except (ValidationError, Conflict) as exc:
        if item is None:
            raise
        return _item_view(request, ctx, lang, item, status_code=422, error=exc, error_form=f"attachment-{update_id}")
    return _back(f"/beleid/items/{item}", lang, "rapporteringen", bewaard="bijlage")


@router.get("/beleid/bijlagen/{attachment_id:int}")
def download_attachment(ctx: CtxDep, attachment_id: RecordId) -> Response:
    """An attachment as a download, with its stored (content-checked) type; never shown inline."""
    row = ops.get_attachment(ctx, attachment_id)
    name = row["file_name"]
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", name) or "bijlage"
    return Response(bytes(row["data"]), media_type=row["content_type"], headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox", **NO_STORE})


@router.post("/beleid/kpis/{kpi_id:int}/metingen", response_class=HTMLResponse)
def add_measurement(request: Request, ctx: CtxDep, lang: LangDep, kpi_id: RecordId, csrf_token: Annotated[str, Form()] = "",
                    item_id: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "",
                    value: Annotated[str, Form()] = "", step: Annotated[str, Form()] = "",
                    note: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    item = _int(item_id, "item_id")
    try:
        ops.record_measurement(ctx, kpi_id, period.strip(), value=value if value.strip() else None,
                               step=step or None, note=note)
    except (ValidationError, Conflict) as exc:
        if item is None:
            raise
        return _item_view(request, ctx, lang, item, status_code=422, error=exc, error_form=f"kpi-{kpi_id}",
                          form={"period": period, "value": value, "step": step, "note": note})
    return _back(f"/beleid/items/{item}" if item else "/beleid", lang, f"kpi-{kpi_id}", bewaard="meting")


@router.post("/beleid/mijlpalen/{milestone_id:int}", response_class=HTMLResponse)
def update_milestone(request: Request, ctx: CtxDep, lang: LangDep, milestone_id: RecordId,
                     csrf_token: Annotated[str, Form()] = "", item_id: Annotated[str, Form()] = "",
                     expected_version: Annotated[str, Form()] = "", actual_start: Annotated[str, Form()] = "",
                     actual_end: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    item = _int(item_id, "item_id")
    try:
        version = _int(expected_version, "expected_version")
        if version is None:
            raise ValidationError("the form lacks the milestone's version: reload the page",
                                  {"expected_version": ["required"]})
        ops.update_milestone(ctx, milestone_id, expected_version=version, actual_start=actual_start or None,
                             actual_end=actual_end or None)
    except (ValidationError, Conflict) as exc:
        if item is None:
            raise
        return _item_view(request, ctx, lang, item, status_code=409 if isinstance(exc, Conflict) else 422, error=exc,
                          error_form=f"milestone-{milestone_id}")
    return _back(f"/beleid/items/{item}" if item else "/beleid", lang, "mijlpalen", bewaard="mijlpaal")


# --- mijn rapporteringen --------------------------------------------------------------------------------

def _mine_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200,
               error: ValidationError | None = None, rejected: list[tuple[int, str]] | None = None,
               notice: str = "") -> Response:
    _signed_in(ctx)
    plans = [p for p in ops.list_plans(ctx) if p.versions]
    due: list[dict[str, Any]] = []
    owned: list[dict[str, Any]] = []
    for plan in plans:
        found = ops.due_updates(ctx, plan.id, owner=ctx.actor.name)
        due += [{**row, "plan": plan} for row in found.items]
        listing = ops.plan_items(ctx, plan.id, filters=ops.ItemFilter(owner=ctx.actor.name))
        owned += [{**row, "plan": plan} for row in listing.items]
    order = {"overdue": 0, "due_soon": 1, "open": 2}
    due.sort(key=lambda r: (order.get(r["state"], 3), r["deadline"], r["code"]))
    return _page(request, ctx, lang, "plans_mine.html", section="mijn", status_code=status_code, due=due, owned=owned,
                 plans=plans, error=error, rejected=rejected or [], notice=notice,
                 max_mb=request.app.state.settings.upload_max_mb)


@router.get("/beleid/mijn", response_class=HTMLResponse)
def mine_page(request: Request, ctx: CtxDep, lang: LangDep, bevestigd: str = "", geschreven: str = "",
              ongewijzigd: str = "") -> Response:
    notice = ""
    if bevestigd:
        notice = i18n.translate(lang, "‘Geen wijziging’ voor %(code)s is ingediend ter goedkeuring.") % {
            "code": bevestigd[:40]}
    elif geschreven:
        notice = i18n.translate(lang, "Het statusblad is ingelezen: %(written)s rapportering(en) bewaard, "
                                      "%(unchanged)s ongewijzigd.") % {"written": geschreven[:6],
                                                                       "unchanged": ongewijzigd[:6] or 0}
    return _mine_view(request, ctx, lang, notice=notice)


@router.get("/beleid/mijn/statusblad.xlsx")
def status_sheet(ctx: CtxDep) -> Response:
    _signed_in(ctx)
    data = ops.export_status_sheet(ctx, mine_only=True)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="statusblad-{date.today():%Y%m%d}.xlsx"',
                             "X-Content-Type-Options": "nosniff", **NO_STORE})


@router.post("/beleid/mijn/statusblad", response_class=HTMLResponse)
def upload_status_sheet(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                        submit: Annotated[str, Form()] = "",
                        file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    folder = Path(tempfile.mkdtemp(prefix="obmi-sheet-"))
    try:
        if file is None or not file.filename:
            raise ValidationError("choose the filled-in status sheet", {"file": ["required"]})
        path = save_upload(file, folder, request.app.state.settings.upload_max_mb << 20)
        outcome = ops.import_status_sheet(ctx, path, submit=bool(submit))
    except ImportRejected as exc:
        return _mine_view(request, ctx, lang, status_code=422, error=exc, rejected=exc.rejected)
    except (ValidationError, Conflict) as exc:
        return _mine_view(request, ctx, lang, status_code=422,
                          error=exc if isinstance(exc, ValidationError) else ValidationError(str(exc)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _back("/beleid/mijn", lang, geschreven=outcome["written"], ongewijzigd=outcome["unchanged"])


# --- the coordinators' settings ----------------------------------------------------------------------------

def _settings_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200,
                   error: ValidationError | None = None, error_form: str = "", rejected: list[tuple[int, str]] | None = None,
                   notice: str = "") -> Response:
    _signed_in(ctx)
    resource = _org_resource(ctx.actor)
    if not may(ctx.actor, ("plans.manage", "plans.import", "plans.remind"), resource):
        raise NotAllowed(f"{ctx.actor.label} may not configure the follow-up (coordinators and organisation admins)")
    # There is no read operation for the settings: a dry run of the write answers them and changes nothing.
    config = ops.followup_settings(ctx) if may(ctx.actor, "plans.manage", resource) else None
    periods = ops.list_reporting_periods(ctx)
    plans = ops.list_plans(ctx)
    this_year = date.today().year
    return _page(request, ctx, lang, "plans_settings.html", section="instellingen", status_code=status_code,
                 config=config, periods=periods, plans=plans, error=error, error_form=error_form,
                 rejected=rejected or [], notice=notice, methods=ROLLUP_METHODS, schemes=SCHEMES,
                 statuses=[s.value for s in ItemStatus], counted=_counted(config),
                 years=(min([p.start_year for p in plans] or [this_year]), max([p.end_year for p in plans] or [this_year])),
                 max_mb=request.app.state.settings.upload_max_mb)


def _counted(config: dict[str, Any] | None) -> list[str]:
    rule = (config or {}).get("rollup") or {}
    return list(rule.get("counted") or [s.value for s in ItemStatus if s != ItemStatus.STOPPED])


SETTINGS_NOTICES = {"perioden": "De rapporteringsperiodes zijn bewaard.", "opvolging": "De opvolgingsregels zijn bewaard.",
                    "herinneringen": "Herinneringen verstuurd."}


@router.get("/beleid/instellingen", response_class=HTMLResponse)
def settings_page(request: Request, ctx: CtxDep, lang: LangDep, bewaard: str = "", verzonden: str = "",
                  overgeslagen: str = "") -> Response:
    notice = SETTINGS_NOTICES.get(bewaard, "")
    if bewaard == "herinneringen":
        notice = i18n.translate(lang, "Herinneringen: %(sent)s verstuurd, %(skipped)s overgeslagen "
                                      "(al verstuurd of geen e-mailadres).") % {"sent": verzonden[:6] or 0,
                                                                                "skipped": overgeslagen[:6] or 0}
    return _settings_view(request, ctx, lang, notice=notice)


@router.post("/beleid/instellingen/perioden", response_class=HTMLResponse)
def add_periods(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                first_year: Annotated[str, Form()] = "", last_year: Annotated[str, Form()] = "",
                scheme: Annotated[str, Form()] = "semester", deadline_days: Annotated[str, Form()] = "15") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        first, last = _int(first_year, "first_year"), _int(last_year, "last_year")
        days = _int(deadline_days, "deadline_days")
        if first is None or last is None or last < first or last - first > 20:
            raise ValidationError("give the first and last year (at most 20 years)", {"years": ["first ≤ last"]})
        ops.add_reporting_periods(ctx, range(first, last + 1), scheme=scheme, deadline_days=15 if days is None else days)
    except ValidationError as exc:
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="periods")
    return _back("/beleid/instellingen", lang, "perioden", bewaard="perioden")


@router.post("/beleid/instellingen/opvolging", response_class=HTMLResponse)
def configure(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
              method: Annotated[str, Form()] = "equal", counted: Annotated[list[str], Form()] = [],  # noqa: B006
              priority_propagation: Annotated[str, Form()] = "up", reporting_scheme: Annotated[str, Form()] = "",
              remind_days_before: Annotated[str, Form()] = "", remind_every_days: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        ops.configure_followup(ctx, rollup={"method": method, "counted": counted}, priority_propagation=priority_propagation,
                               reporting_scheme=reporting_scheme or None,
                               remind_days_before=_int(remind_days_before, "remind_days_before"),
                               remind_every_days=_int(remind_every_days, "remind_every_days"))
    except ValidationError as exc:
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="followup")
    return _back("/beleid/instellingen", lang, "opvolging", bewaard="opvolging")


@router.post("/beleid/instellingen/herinneringen", response_class=HTMLResponse)
def remind(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    run = ops.send_reminders(ctx)
    return _back("/beleid/instellingen", lang, "herinneringen", bewaard="herinneringen", verzonden=len(run.sent),
                 overgeslagen=run.skipped)


def _clean_previews() -> None:
    if not PREVIEWS.is_dir():
        return
    cutoff = time.time() - PREVIEW_HOURS * 3600
    for folder in PREVIEWS.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


@router.post("/beleid/instellingen/import", response_class=HTMLResponse)
def import_preview(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                   plan: Annotated[str, Form()] = "", label: Annotated[str, Form()] = "",
                   motivering: Annotated[str, Form()] = "",
                   file: Annotated[list[UploadFile], File()] = [],  # noqa: B006
                   ) -> Response:
    """Step 1 of an import: the files are kept aside and imported as a dry run; the page shows
    what would change, with a button to confirm."""
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    _clean_previews()
    token = secrets.token_hex(16)
    folder = PREVIEWS / token
    try:
        uploads = [f for f in file if f.filename]
        if not uploads:
            raise ValidationError("choose a plan file", {"file": ["required"]})
        paths = []
        for number, upload in enumerate(uploads):
            own = folder / str(number)
            own.mkdir(parents=True)
            paths.append(save_upload(upload, own, request.app.state.settings.upload_max_mb << 20))
        options = {"plan": plan.strip() or None, "label": label.strip()[:200], "motivering": motivering.strip()[:5000]}
        result = ops.import_plan(ctx, paths, dry_run=True, **options)
    except ImportRejected as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="import", rejected=exc.rejected)
    except ValidationError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="import")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    meta = {"actor": ctx.actor.name, "files": [str(p.relative_to(folder)) for p in paths], **options}
    (folder / "preview.json").write_text(json.dumps(meta), encoding="utf-8")
    return _page(request, ctx, lang, "plans_import.html", section="instellingen", result=result,
                 lines=result.diff.lines(lang), counts=result.diff.counts(), token=token, options=options,
                 files=[p.name for p in paths])


@router.post("/beleid/instellingen/import/bevestigen", response_class=HTMLResponse)
def import_confirm(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                   token: Annotated[str, Form()] = "") -> Response:
    """Step 2: the previewed files are imported for real (and then thrown away)."""
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    folder = PREVIEWS / token
    meta_path = folder / "preview.json"
    if not _TOKEN.match(token) or not meta_path.is_file():
        return _settings_view(request, ctx, lang, status_code=422, error_form="import", error=ValidationError(
            "this preview has expired: upload the file again", {"file": ["upload again"]}))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("actor") != ctx.actor.name:
        raise NotAllowed("this preview belongs to someone else")
    try:
        result = ops.import_plan(ctx, [folder / name for name in meta["files"]], plan=meta.get("plan"),
                                 label=meta.get("label", ""), motivering=meta.get("motivering", ""))
    except ImportRejected as exc:
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="import", rejected=exc.rejected)
    except ValidationError as exc:
        return _settings_view(request, ctx, lang, status_code=422, error=exc, error_form="import")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _back("/beleid", lang, f"plan-{result.plan_id}", geimporteerd=result.status, versie=result.version or "")


# --- the public transparency page --------------------------------------------------------------------------

@router.get("/stad/beleid", response_class=HTMLResponse)
def public_index(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    response = render(request, "plans_public_index.html", lang, plans=ops.public_plans(ctx))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@router.get("/stad/beleid/{organisation}", response_class=HTMLResponse)
def public_page(request: Request, ctx: CtxDep, lang: LangDep, organisation: str) -> Response:
    view = ops.public_plan(ctx, organisation)
    if view.plan is None:
        raise NotFound(f"organisation {organisation!r} publishes no plan")
    words = Words(lang)
    depth = _depths([{"id": i["code"], "parent_id": i["parent_code"]} for i in view.items])
    items = [{**i, "kpis": [kpi_json(k) for k in i["kpis"]], "depth": depth.get(i["code"], 0)} for i in view.items]
    counts: dict[str, int] = defaultdict(int)
    for i in items:
        if i["kind"] in REPORTING_KINDS:
            counts[i["status"] if i["reported_period"] else "geen"] += 1
    response = render(request, "plans_public.html", lang, view=view, items=items, words=words, counts=dict(counts))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
