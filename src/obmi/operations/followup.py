"""Follow-up of a plan: reporting periods, status updates and their workflow (draft → submit →
approve or return; "geen wijziging"), attachments, KPIs and measurements, milestones, due and
overdue lists, reminder digests and the bulk update through a spreadsheet."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from obmi import mail
from obmi.auth.permissions import Resource
from obmi.auth.roles import Role
from obmi.errors import Conflict, ImportRejected, NotAllowed, NotFound, ValidationError
from obmi.operations.plans import _organisation, item_resource, organisation_resource
from obmi.operations.registry import Unit, operation
from obmi.plans import attachments as attachment_rules
from obmi.plans import kpis as kpi_rules
from obmi.plans import periods as period_rules
from obmi.plans import workflow
from obmi.plans.model import Direction, KpiKind, UpdateState
from obmi.plans.readers import parse_amount
from obmi.store import accounts as account_store
from obmi.store import followup as store
from obmi.store import plans as plan_store

log = logging.getLogger("obmi.plans")
REPORTING_KINDS = ("actie", "project", "reguliere_werking")  # the items owners report on; parents roll up
FINISHED = ("afgerond", "stopgezet")


def _now() -> datetime:
    return datetime.now(UTC)


def update_resource(unit: Unit, update_id: int, /, *args: Any, **_: Any) -> Resource:
    row = store.get_update(unit.conn, update_id)
    return Resource("plan_item", row["item_id"], row["organisation"], owner=row["item_owner"])


def kpi_resource(unit: Unit, kpi_id: int, /, *args: Any, **_: Any) -> Resource:
    return item_resource(unit, store.get_kpi(unit.conn, kpi_id)["item_id"])


def milestone_resource(unit: Unit, milestone_id: int, /, *args: Any, **_: Any) -> Resource:
    return item_resource(unit, store.get_milestone(unit.conn, milestone_id)["item_id"])


def attachment_resource(unit: Unit, attachment_id: int, /, *args: Any, **_: Any) -> Resource:
    return item_resource(unit, store.get_attachment(unit.conn, attachment_id)["item_id"])


# --- configuration --------------------------------------------------------------------------

@operation("plans.manage", resource=organisation_resource)
def configure_followup(unit: Unit, *, organisation: str | None = None, rollup: dict[str, Any] | None = None,
                       priority_propagation: str | None = None, reporting_scheme: str | None = None,
                       remind_days_before: int | None = None, remind_every_days: int | None = None) -> dict[str, Any]:
    """Set the organisation's roll-up rule, priority propagation, reporting scheme and reminder
    rhythm (only what is given changes)."""
    from obmi.plans.rollup import parse_rule
    org = _organisation(unit, organisation)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if rollup is not None:
        parse_rule(rollup)  # refuses an invalid rule with field details
        values["rollup"] = rollup
    if priority_propagation is not None:
        if priority_propagation not in ("up", "none"):
            errors["priority_propagation"] = ["up or none"]
        values["priority_propagation"] = priority_propagation
    if reporting_scheme is not None:
        if reporting_scheme not in ("semester", "quarter", "year", "month"):
            errors["reporting_scheme"] = ["semester, quarter, year or month"]
        values["reporting_scheme"] = reporting_scheme
    for name, value in (("remind_days_before", remind_days_before), ("remind_every_days", remind_every_days)):
        if value is not None:
            if not (isinstance(value, int) and 1 <= value <= 90):
                errors[name] = ["a whole number of days, 1–90"]
            values[name] = value
    if errors:
        raise ValidationError("the follow-up settings are not valid", errors)
    before = plan_store.get_config(unit.conn, org)
    plan_store.save_config(unit.conn, org, values)
    unit.changes.other = True
    unit.audit("plan_config", org, before={k: before[k] for k in values}, after=values)
    return plan_store.get_config(unit.conn, org)


@operation("plans.read", resource=organisation_resource)
def followup_settings(unit: Unit, *, organisation: str | None = None) -> dict[str, Any]:
    """The organisation's roll-up rule, priority propagation, reporting scheme and reminder rhythm."""
    return plan_store.get_config(unit.conn, _organisation(unit, organisation))


@operation("plans.read", resource=organisation_resource)
def plan_owners(unit: Unit, *, organisation: str | None = None) -> list[dict[str, str]]:
    """The active users of the organisation who can be named owner of an item (name and
    display name only)."""
    org = _organisation(unit, organisation)
    return [{"name": u.name, "display_name": u.display_name or u.name}
            for u in account_store.list_users(unit.conn, organisation_code=org) if u.is_active]


@operation("plans.manage", resource=organisation_resource)
def add_reporting_periods(unit: Unit, years: range, *, scheme: str | None = None, deadline_days: int = 15,
                          organisation: str | None = None) -> list[dict[str, Any]]:
    """Create (or correct) the reporting periods of `years` under the organisation's scheme
    (semester, quarter, year, month), each with its deadline."""
    org = _organisation(unit, organisation)
    chosen = scheme or plan_store.get_config(unit.conn, org)["reporting_scheme"]
    specs = period_rules.generate(chosen, years, deadline_days)  # type: ignore[arg-type]
    added, changed = store.upsert_periods(unit.conn, org, specs)
    unit.changes.other = True
    unit.audit("reporting_period", org, after={"scheme": chosen, "years": [years.start, years.stop - 1],
                                               "added": added, "changed": changed})
    return store.periods(unit.conn, org)


@operation("plans.read", resource=organisation_resource)
def list_reporting_periods(unit: Unit, *, organisation: str | None = None) -> list[dict[str, Any]]:
    """The organisation's reporting periods with their deadlines."""
    return store.periods(unit.conn, _organisation(unit, organisation))


# --- status updates -------------------------------------------------------------------------

@dataclass(frozen=True)
class UpdateResult:
    update: dict[str, Any]
    notified: list[str]


def _period_for(unit: Unit, item: dict[str, Any], period: str | None) -> dict[str, Any]:
    all_periods = store.periods(unit.conn, item["organisation"])
    if not all_periods:
        raise Conflict(f"organisation {item['organisation']} has no reporting periods yet (a coordinator adds them)")
    if period:
        return store.find_period(unit.conn, item["organisation"], period)
    today = date.today()
    started = [p for p in all_periods if p["start_date"] <= today]
    return started[-1] if started else all_periods[0]


def _stale(update: dict[str, Any], mine: dict[str, Any], unit: Unit) -> workflow.StaleEdit:
    theirs = store.get_update(unit.conn, update["id"])
    keys = ("state", "status", "progress", "narrative", "knelpunten")
    return workflow.StaleEdit(mine=mine, theirs={k: theirs[k] for k in keys}, theirs_version=theirs["row_version"],
                              changed_by=theirs["updated_by"], changed_at=theirs["updated_at"],
                              what=f"the status update of {theirs['item_code']} for {theirs['period_code']}")


def _write(unit: Unit, item: dict[str, Any], period: dict[str, Any], action: str, values: dict[str, Any],
           expected_version: int | None) -> dict[str, Any]:
    existing = store.find_update(unit.conn, item["id"], period["id"])
    current = UpdateState(existing["state"]) if existing else None
    if current == UpdateState.RETURNED and action != "save":
        current = workflow.transition(current, "save")  # editing a returned update drafts it again
    state = workflow.transition(current, action)  # type: ignore[arg-type]
    now, who = _now(), unit.actor.label
    # Enums are stored by value (psycopg would write an Enum's name).
    plain = {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}
    row = {**plain, "state": state.value, "updated_at": now, "updated_by": who}
    if state == UpdateState.SUBMITTED:
        row.update(submitted_at=now, submitted_by=who)
    if existing is None:
        update_id = store.insert_update(unit.conn, {**row, "item_id": item["id"], "period_id": period["id"],
                                                    "author": who, "created_at": now})
    else:
        if expected_version is not None and expected_version != existing["row_version"]:
            raise _stale(existing, plain, unit)
        if not store.change_update(unit.conn, existing["id"], expected_version=existing["row_version"], values=row):
            raise _stale(existing, plain, unit)
        update_id = existing["id"]
    unit.changes.other = True
    after = store.get_update(unit.conn, update_id)
    unit.audit("plan_item", item["id"], before=_public_update(existing) if existing else None,
               after=_public_update(after), message=f"status update {period['code']}: {action} → {state.value}")
    return after


def _public_update(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("id", "state", "status", "progress", "narrative", "knelpunten", "no_change",
                                    "decision_comment")}


@operation("status.report", resource=item_resource)
def save_status_update(unit: Unit, item_id: int, *, period: str | None = None, status: str, progress: Any = None,
                       narrative: str = "", knelpunten: str = "", submit: bool = False,
                       expected_version: int | None = None) -> UpdateResult:
    """Draft (or, with submit=True, submit) the status update of an item for a reporting period
    (default: the current one). `expected_version`: the update's version the edit was based on."""
    item = plan_store.get_item(unit.conn, item_id)
    values = workflow.check_update_values(status, progress, narrative, knelpunten)
    row = _write(unit, item, _period_for(unit, item, period), "submit" if submit else "save",
                 {**values, "no_change": False}, expected_version)
    return UpdateResult(row, _notify_submitted(unit, item, row) if submit else [])


@operation("status.report", resource=item_resource)
def submit_status_update(unit: Unit, item_id: int, *, period: str | None = None,
                         expected_version: int | None = None) -> UpdateResult:
    """Submit the drafted status update of an item to the coordinators."""
    item = plan_store.get_item(unit.conn, item_id)
    chosen = _period_for(unit, item, period)
    existing = store.find_update(unit.conn, item_id, chosen["id"])
    if existing is None:
        raise NotFound(f"no status update of {item['code']} for {chosen['code']} to submit: draft one first")
    row = _write(unit, item, chosen, "submit", {}, expected_version)
    return UpdateResult(row, _notify_submitted(unit, item, row))


@operation("status.report", resource=item_resource)
def confirm_no_change(unit: Unit, item_id: int, *, period: str | None = None) -> UpdateResult:
    """"Geen wijziging": submit, in one step, the previous approved status and progress again —
    recorded with who confirmed it and when, like any update."""
    item = plan_store.get_item(unit.conn, item_id)
    chosen = _period_for(unit, item, period)
    previous = _previous_approved(unit, item_id, chosen)
    values = workflow.no_change_values(previous)
    row = _write(unit, item, chosen, "no_change", {**values, "no_change": True}, None)
    return UpdateResult(row, _notify_submitted(unit, item, row))


def _previous_approved(unit: Unit, item_id: int, period: dict[str, Any]) -> dict[str, Any] | None:
    for row in store.item_updates(unit.conn, item_id):  # newest period first
        if row["state"] == UpdateState.APPROVED and row["period_end"] <= period["end_date"] \
                and row["period_id"] != period["id"]:
            return row
    return None


@operation("status.approve", resource=update_resource)
def decide_status_update(unit: Unit, update_id: int, *, approve: bool, comment: str = "",
                         expected_version: int | None = None) -> UpdateResult:
    """Approve a submitted status update, or return it to its author with a comment."""
    current = store.get_update(unit.conn, update_id)
    state = workflow.transition(UpdateState(current["state"]), "approve" if approve else "return")
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError("say why the update goes back", {"comment": ["required when returning an update"]})
    if len(comment) > 5000 or "\x00" in comment:
        raise ValidationError("the comment is too long", {"comment": ["at most 5 000 characters"]})
    now, who = _now(), unit.actor.label
    values = {"state": state.value, "decided_at": now, "decided_by": who, "decision_comment": comment,
              "updated_at": now, "updated_by": who}
    if expected_version is not None and expected_version != current["row_version"]:
        raise _stale(current, {"state": state.value}, unit)
    if not store.change_update(unit.conn, update_id, expected_version=current["row_version"], values=values):
        raise _stale(current, {"state": state.value}, unit)
    unit.changes.other = True
    after = store.get_update(unit.conn, update_id)
    unit.audit("plan_item", current["item_id"], before=_public_update(current), after=_public_update(after),
               message=f"status update {current['period_code']}: {'approved' if approve else 'returned'}")
    return UpdateResult(after, _notify_decided(unit, after))


# --- notifications --------------------------------------------------------------------------

def _send(unit: Unit, users: list[Any], subject: str, body: str) -> list[str]:
    sent = []
    for user in users:
        if not user.email or not user.is_active:
            continue
        try:
            mail.send(unit.settings, to=user.email, subject=subject, body=body)
            sent.append(user.name)
        except Conflict as exc:  # a mail server that is down must not undo the update itself
            log.warning("notification not sent", extra={"to": user.name, "reason": str(exc)})
    return sent


def _link(unit: Unit, item_id: int) -> str:
    return f"{unit.settings.base_url.rstrip('/')}/beleid/items/{item_id}"


def _notify_submitted(unit: Unit, item: dict[str, Any], row: dict[str, Any]) -> list[str]:
    staff = [u for u in account_store.list_users(unit.conn, organisation_code=item["organisation"])
             if u.roles & {Role.COORDINATOR, Role.ORG_ADMIN} and u.name != unit.actor.name]
    subject = f"Ter goedkeuring: statusrapportering {item['code']} ({row['period_code']})"
    body = (f"{unit.actor.label} diende de statusrapportering van {item['code']} voor {row['period_code']} in"
            f"{' (geen wijziging)' if row['no_change'] else ''}.\n\nStatus: {row['status']}, voortgang: "
            f"{_percent(row['progress'])}\n\nBekijken en goedkeuren of terugsturen: {_link(unit, item['id'])}\n")
    return _send(unit, staff, subject, body)


def _notify_decided(unit: Unit, row: dict[str, Any]) -> list[str]:
    author = account_store.get_user(unit.conn, row["submitted_by"] or row["author"])
    approved = row["state"] == UpdateState.APPROVED
    subject = (f"{'Goedgekeurd' if approved else 'Teruggestuurd'}: statusrapportering {row['item_code']} "
               f"({row['period_code']})")
    body = (f"{unit.actor.label} heeft de statusrapportering van {row['item_code']} voor {row['period_code']} "
            f"{'goedgekeurd' if approved else 'teruggestuurd'}.\n"
            + (f"\nOpmerking: {row['decision_comment']}\n" if row["decision_comment"] else "")
            + f"\n{_link(unit, row['item_id'])}\n")
    return _send(unit, [author] if author is not None else [], subject, body)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{kpi_rules.format_number(value, 0)} %"


# --- attachments ----------------------------------------------------------------------------

@operation("status.report", resource=update_resource)
def add_attachment(unit: Unit, update_id: int, file_name: str, data: bytes) -> dict[str, Any]:
    """Attach a file (PDF, image, office document, text) to a status update; its type is checked
    by content and its size against OBMI_ATTACHMENT_MAX_MB."""
    update = store.get_update(unit.conn, update_id)
    if update["state"] == UpdateState.APPROVED:
        raise Conflict("an approved status update is final: attach files to the next one")
    safe_name, content_type = attachment_rules.check_attachment(file_name, data,
                                                                unit.settings.attachment_max_mb * 1024 * 1024)
    values = {"update_id": update_id, "file_name": safe_name, "content_type": content_type, "size": len(data),
              "sha256": hashlib.sha256(data).hexdigest(), "data": data, "uploaded_by": unit.actor.label,
              "uploaded_at": _now()}
    attachment_id = store.add_attachment(unit.conn, values)
    unit.changes.other = True
    unit.audit("plan_item", update["item_id"], after={"attachment": attachment_id, "file": safe_name,
                                                      "size": len(data), "sha256": values["sha256"]},
               message=f"attachment {safe_name} added to the update of {update['period_code']}")
    return {k: v for k, v in values.items() if k != "data"} | {"id": attachment_id}


@operation("plans.read", resource=attachment_resource)
def get_attachment(unit: Unit, attachment_id: int) -> dict[str, Any]:
    """One attachment with its content (for download)."""
    return store.get_attachment(unit.conn, attachment_id)


# --- KPIs -----------------------------------------------------------------------------------

def _spec_of(row: dict[str, Any]) -> kpi_rules.KpiSpec:
    return kpi_rules.KpiSpec(kind=KpiKind(row["kind"]), direction=Direction(row["direction"]),
                             baseline=row["baseline"], baseline_period=row["baseline_period"],
                             targets={int(y): float(v) for y, v in (row["targets"] or {}).items()},
                             tolerance_pct=row["tolerance_pct"], steps=tuple(row["steps"] or ()),
                             target_step={int(y): s for y, s in (row["target_steps"] or {}).items()})


@operation("plans.manage", resource=item_resource)
def add_kpi(unit: Unit, item_id: int, *, kind: str, name: str, unit_label: str = "", indicator: str | None = None,
            area_level: str | None = None, area_code: str | None = None, direction: str = "up",
            baseline: float | None = None, baseline_period: str | None = None,
            targets: dict[int, float] | None = None, tolerance_pct: float = 5.0,
            steps: list[str] | None = None, target_steps: dict[int, str] | None = None) -> dict[str, Any]:
    """Add a KPI to an item: a statistic of the store for one area (its values flow in with every
    import), a plan-specific number measured by hand, or a list of steps."""
    from obmi.query.areas import find_area
    from obmi.query.visibility import CatalogueView
    errors: dict[str, list[str]] = {}
    try:
        spec = kpi_rules.KpiSpec(kind=KpiKind(kind), direction=Direction(direction), baseline=baseline,
                                 baseline_period=baseline_period, targets=dict(targets or {}),
                                 tolerance_pct=tolerance_pct, steps=tuple(steps or ()),
                                 target_step=dict(target_steps or {}))
    except ValueError as exc:
        raise ValidationError("the KPI is not valid", {"kind": [str(exc)]}) from None
    kpi_rules.check_spec(spec)
    if not name.strip() or len(name) > 300:
        errors["name"] = ["a name of 1–300 characters"]
    if spec.kind == KpiKind.STATISTIC:
        if not (indicator and area_level and area_code):
            errors["indicator"] = ["a statistic KPI needs an indicator, an area level and an area code"]
        else:
            view = CatalogueView.load(unit.conn, unit.actor)
            if indicator not in view.visible:
                errors["indicator"] = [f"unknown indicator {indicator!r}"]
            else:
                find_area(unit.conn, area_level, area_code)  # NotFound for an unknown area
    if errors:
        raise ValidationError("the KPI is not valid", errors)
    values = {"item_id": item_id, "kind": spec.kind.value, "name": name.strip(), "unit": unit_label,
              "indicator": indicator if spec.kind == KpiKind.STATISTIC else None,
              "area_level": area_level if spec.kind == KpiKind.STATISTIC else None,
              "area_code": area_code if spec.kind == KpiKind.STATISTIC else None,
              "direction": spec.direction.value, "baseline": baseline, "baseline_period": baseline_period,
              "targets": {str(y): v for y, v in spec.targets.items()}, "tolerance_pct": spec.tolerance_pct,
              "steps": list(spec.steps), "target_steps": {str(y): s for y, s in spec.target_step.items()}}
    kpi_id = store.add_kpi(unit.conn, values)
    unit.changes.other = True
    unit.audit("plan_item", item_id, after={"kpi": kpi_id, **values}, message=f"KPI {name!r} added")
    return store.get_kpi(unit.conn, kpi_id)


@operation("status.report", resource=kpi_resource)
def record_measurement(unit: Unit, kpi_id: int, period: str, *, value: Any = None, step: str | None = None,
                       note: str = "") -> dict[str, Any]:
    """Record the value (manual KPI) or reached step (steps KPI) for a period ("2026", "2026-S1")."""
    row = store.get_kpi(unit.conn, kpi_id)
    errors: dict[str, list[str]] = {}
    if row["kind"] == KpiKind.STATISTIC:
        raise Conflict("a statistic KPI takes its values from the statistics store: import them there")
    try:
        period_rules.year_of(period)
    except ValueError as exc:
        errors["period"] = [str(exc)]
    number = None
    if row["kind"] == KpiKind.MANUAL:
        number = _number(value, errors)
    elif step not in (row["steps"] or []):
        errors["step"] = [f"one of {', '.join(row['steps'] or [])}"]
    if errors:
        raise ValidationError("the measurement is not valid", errors)
    values = {"value": number, "step": step if row["kind"] == KpiKind.STEPS else None, "note": note[:2000],
              "recorded_by": unit.actor.label, "recorded_at": _now()}
    outcome = store.put_measurement(unit.conn, kpi_id, period, values)
    unit.changes.other = True
    unit.audit("plan_item", row["item_id"], after={"kpi": kpi_id, "period": period, "value": number, "step": step},
               message=f"KPI {row['name']!r} {period}: measurement {outcome}")
    return {"kpi_id": kpi_id, "period": period, **values}


def _number(value: Any, errors: dict[str, list[str]]) -> float | None:
    try:
        number = parse_amount(value)  # finite; 1234,5 and 1.234,5 the Belgian way
    except (TypeError, ValueError) as exc:
        errors["value"] = [str(exc)]
        return None
    if abs(number) >= 1e13:
        errors["value"] = ["a number below 10¹³"]
        return None
    return number


def kpi_views(unit: Unit, rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """KPIs with their series and traffic light, as the actor may see them (a statistic passes
    the catalogue's access rules and the stored disclosure decisions)."""
    from obmi.query.areas import find_area
    from obmi.query.series import query_series
    from obmi.query.visibility import CatalogueView
    measured = store.measurements(unit.conn, [r["id"] for r in rows if r["kind"] != KpiKind.STATISTIC])
    view = CatalogueView.load(unit.conn, unit.actor) if any(r["kind"] == KpiKind.STATISTIC for r in rows) else None
    out = []
    for row in rows:
        points: list[kpi_rules.Measurement]
        if row["kind"] == KpiKind.STATISTIC and view is not None:
            if row["indicator"] not in view.visible:
                continue  # the actor may not see the statistic: the KPI is left out, like a tile
            area = find_area(unit.conn, row["area_level"], row["area_code"])
            series = query_series(unit.conn, [row["indicator"]], [area.id], view=view,
                                  default_threshold=unit.settings.default_threshold)
            points = [kpi_rules.Measurement(p.period, p.value, None)
                      for p in series.get((row["indicator"], area.id), [])]
            points = [p for p in points if p.value is not None]  # suppressed values never judge a KPI
        else:
            points = [kpi_rules.Measurement(m["period"], m["value"], m["step"]) for m in measured.get(row["id"], [])]
        light = kpi_rules.traffic_light(_spec_of(row), points, today)
        out.append({**row, "measurements": [dataclasses.asdict(p) for p in points], "light": light})
    return out


# --- milestones -----------------------------------------------------------------------------

def _dates(values: dict[str, Any], names: tuple[str, ...], errors: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        if name not in values:
            continue
        value = values[name]
        try:
            out[name] = None if value in (None, "") else value if isinstance(value, date) else date.fromisoformat(value)
        except (TypeError, ValueError):
            errors[name] = ["a date (YYYY-MM-DD)"]
    return out


def _check_dependencies(unit: Unit, item_id: int, depends_on: list[int], own_id: int | None,
                        errors: dict[str, list[str]]) -> list[int]:
    known = {m["id"]: m for m in store.milestones(unit.conn, [item_id])}
    ids = sorted({int(i) for i in depends_on})
    unknown = [i for i in ids if i not in known or i == own_id]
    if unknown:
        errors["depends_on"] = [f"not a milestone of this project: {', '.join(map(str, unknown))}"]
        return ids
    if own_id is not None:  # would this milestone come to depend on itself?
        graph = {m: [int(d) for d in known[m]["depends_on"]] for m in known}
        graph[own_id] = ids
        stack, seen = list(ids), set()
        while stack:
            current = stack.pop()
            if current == own_id:
                errors["depends_on"] = ["these dependencies form a cycle"]
                break
            if current not in seen:
                seen.add(current)
                stack.extend(graph.get(current, []))
    return ids


@operation("plans.manage", resource=item_resource)
def add_milestone(unit: Unit, item_id: int, *, title: str, planned_end: Any, planned_start: Any = None,
                  owner: str | None = None, depends_on: list[int] | None = None) -> dict[str, Any]:
    """Add a milestone (a release, a phase) to a project or action, with its planned dates and
    the milestones it waits for."""
    errors: dict[str, list[str]] = {}
    if not title.strip() or len(title) > 300:
        errors["title"] = ["a title of 1–300 characters"]
    dates = _dates({"planned_start": planned_start, "planned_end": planned_end}, ("planned_start", "planned_end"),
                   errors)
    if dates.get("planned_end") is None and "planned_end" not in errors:
        errors["planned_end"] = ["required"]
    if dates.get("planned_start") and dates.get("planned_end") and dates["planned_end"] < dates["planned_start"]:
        errors["planned_end"] = ["ends before it starts"]
    deps = _check_dependencies(unit, item_id, depends_on or [], None, errors)
    if errors:
        raise ValidationError("the milestone is not valid", errors)
    values = {"item_id": item_id, "title": title.strip(), "owner": owner or None, "depends_on": deps, **dates}
    milestone_id = store.add_milestone(unit.conn, values)
    unit.changes.other = True
    unit.audit("plan_item", item_id, after={"milestone": milestone_id, **values}, message=f"milestone {title!r} added")
    return store.get_milestone(unit.conn, milestone_id)


@operation("status.report", resource=milestone_resource)
def update_milestone(unit: Unit, milestone_id: int, *, expected_version: int, **values: Any) -> dict[str, Any]:
    """Record a milestone's actual start and end (its completion) or move its planned dates."""
    current = store.get_milestone(unit.conn, milestone_id)
    errors: dict[str, list[str]] = {}
    allowed = ("planned_start", "planned_end", "actual_start", "actual_end", "title", "depends_on")
    for name in values:
        if name not in allowed:
            errors[name] = [f"not a milestone field ({', '.join(allowed)})"]
    clean = _dates(values, ("planned_start", "planned_end", "actual_start", "actual_end"), errors)
    if "planned_end" in clean and clean["planned_end"] is None:
        errors["planned_end"] = ["required"]
    if "title" in values:
        clean["title"] = str(values["title"]).strip()[:300]
    if "depends_on" in values:
        clean["depends_on"] = _check_dependencies(unit, current["item_id"], list(values["depends_on"] or []),
                                                  milestone_id, errors)
    merged = {**current, **clean}
    if merged["actual_end"] and merged["actual_start"] and merged["actual_end"] < merged["actual_start"]:
        errors["actual_end"] = ["ends before it starts"]
    if merged["actual_end"] and merged["actual_end"] > date.today():
        errors["actual_end"] = ["a completion date cannot lie in the future"]
    if errors:
        raise ValidationError("the milestone is not valid", errors)
    if not store.change_milestone(unit.conn, milestone_id, expected_version=expected_version, values=clean):
        theirs = store.get_milestone(unit.conn, milestone_id)
        raise workflow.StaleEdit(mine=clean, theirs={k: theirs[k] for k in clean}, theirs_version=theirs["row_version"],
                                 what=f"milestone {current['title']!r}")
    unit.changes.other = True
    unit.audit("plan_item", current["item_id"], before={k: current[k] for k in clean}, after=clean,
               message=f"milestone {current['title']!r} updated")
    return store.get_milestone(unit.conn, milestone_id)


def milestone_view(row: dict[str, Any], today: date) -> dict[str, Any]:
    """A milestone with its slippage (days late, planned versus actual or today) and whether it
    is overdue: past its planned end without completion."""
    end = row["actual_end"] or (today if row["planned_end"] < today else None)
    slip = (end - row["planned_end"]).days if end is not None else 0
    return {**row, "done": row["actual_end"] is not None, "overdue": row["actual_end"] is None and row["planned_end"] < today,
            "slippage_days": max(slip, 0) if row["actual_end"] is None else slip}


# --- bulk update through a spreadsheet --------------------------------------------------------

@operation("plans.read", resource=organisation_resource)
def export_status_sheet(unit: Unit, *, organisation: str | None = None, period: str | None = None,
                        mine_only: bool = False) -> bytes:
    """The open items of a reporting period as an XLSX sheet to fill in (the items the actor may
    report on; `mine_only`: only those the actor owns)."""
    from obmi.plans import sheet
    org = _organisation(unit, organisation)
    rows = _reportable(unit, org, period)
    if mine_only:
        rows = [r for r in rows if r["item"]["owner"] == unit.actor.name]
    return sheet.write_sheet(rows, period=rows[0]["period"]["code"] if rows else (period or ""))


@operation("status.bulk", resource=organisation_resource)
def import_status_sheet(unit: Unit, path: Path, *, organisation: str | None = None, submit: bool = False) -> dict[str, Any]:
    """Read a filled-in status sheet: every row is checked (values, permission, stale versions)
    and all are written, or none (a refusal lists each row's line number and reason)."""
    from obmi.plans import sheet
    org = _organisation(unit, organisation)
    period_code, parsed = sheet.read_sheet(Path(path))
    chosen = store.find_period(unit.conn, org, period_code)
    rejected: list[tuple[int, str]] = []
    plans = {p["id"] for p in plan_store.list_plans(unit.conn, org)}
    written = unchanged = 0
    for line, values in parsed:
        try:
            item = plan_store.get_item(unit.conn, values["item_id"])
            if item["plan_id"] not in plans:
                raise NotFound(f"unknown item {values['item_id']}")
            unit.require("status.report", Resource("plan_item", item["id"], item["organisation"], owner=item["owner"]))
            existing = store.find_update(unit.conn, item["id"], chosen["id"])
            if values["no_change"]:
                fields = {**workflow.no_change_values(_previous_approved(unit, item["id"], chosen)), "no_change": True}
                action = "no_change"
            else:
                fields = {**workflow.check_update_values(values["status"], values["progress"], values["narrative"],
                                                         values["knelpunten"]), "no_change": False}
                action = "submit" if submit else "save"
            if existing is not None and all(existing[k] == v for k, v in fields.items()) \
                    and (action != "submit" or existing["state"] == UpdateState.SUBMITTED):
                unchanged += 1
                continue
            _write(unit, item, chosen, action, fields, values["version"] if existing is not None else None)
            written += 1
        except (ValidationError, NotFound, NotAllowed, Conflict) as exc:  # per row: all reasons, then refuse
            rejected.append((line, str(exc)))
    if rejected:
        raise ImportRejected(f"{len(rejected)} of {len(parsed)} rows refused; nothing was changed", rejected,
                             rows_in=len(parsed))
    unit.audit("reporting_period", chosen["id"], after={"sheet": Path(path).name, "written": written,
                                                        "unchanged": unchanged})
    return {"period": chosen["code"], "rows": len(parsed), "written": written, "unchanged": unchanged}


def _reportable(unit: Unit, org: str, period: str | None) -> list[dict[str, Any]]:
    """Items the actor may report on, in the latest version of each plan, with the period's
    update (if any)."""
    from obmi.auth.permissions import allowed
    out = []
    for plan_row in plan_store.list_plans(unit.conn, org):
        version = plan_store.get_version(unit.conn, plan_row["id"], None)
        if version is None:
            continue
        items = [r for r in plan_store.version_items(unit.conn, version["id"]) if r["kind"] in REPORTING_KINDS]
        if not items:
            continue
        chosen = _period_for(unit, {"organisation": org}, period)
        updates = store.period_updates(unit.conn, plan_row["id"], chosen["id"])
        for item in items:
            if allowed(unit.actor, "status.report", Resource("plan_item", item["id"], org, owner=item["owner"])):
                out.append({"item": item, "period": chosen, "update": updates.get(item["id"])})
    return out
