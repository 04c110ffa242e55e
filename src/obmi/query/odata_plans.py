"""The OData entity sets of the beleidsopvolging, for a signed-in member of an organisation (a
token): plan items (the tree of the latest plan version, flattened), approved status updates,
KPIs and their measurements, budget lines and signals — of the actor's own organisation only.
Kept flat, as Power BI wants its tables; each is a Source of obmi.query.odata, so $filter,
$select, $orderby, paging and $count work as on the public sets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Callable

from sqlalchemy import ColumnElement, Connection, and_, func, select

from obmi.query.odata import DATE, DTO, I32, I64, B, D, EntitySet, Nav, S, Source, _p, plain_rows
from obmi.store.tables import (
    budget_line,
    kpi,
    kpi_measurement,
    plan,
    plan_item,
    plan_item_version,
    plan_version,
    reporting_period,
    signal,
    status_update,
)

ITEM = Nav("PlanItem", "PlanItems", (("item_id", "id"),), "the plan item it is about")

PLAN_ITEMS = EntitySet("PlanItems", "PlanItem", ("id",), (
    _p("id", I64, "the item's id", False), _p("plan", S, "plan code", False),
    _p("item_code", S, "BBC code of the item (beleidsdoelstelling, actieplan, actie, …)", False),
    _p("kind", S, "beleidsdoelstelling, actieplan, actie, project, reguliere_werking, …", False),
    _p("title", S, "short title in the latest plan version"),
    _p("parent_code", S, "code of the item it belongs to in the latest plan version"),
    _p("beleidsdomein", S, "BBC beleidsdomein"), _p("beleidsveld", S, "BBC beleidsveld"),
    _p("priority", B, "prioritaire actie or actieplan (as set)", False), _p("owner", S, "who reports on it"),
    _p("department", S, "department"), _p("mandataris", S, "responsible member of the college"),
    _p("start_date", DATE, "planned start"), _p("end_date", DATE, "planned end"),
    _p("published", B, "its approved status is on the public site", False),
), "The items of the organisation's plans (latest version), one row each; parent_code gives the tree.",
    protected=True)

STATUS_UPDATES = EntitySet("StatusUpdates", "StatusUpdate", ("id",), (
    _p("id", I64, "the update's id", False), _p("item_id", I64, "plan item id", False),
    _p("item_code", S, "plan item code", False), _p("period", S, "reporting period code", False),
    _p("status", S, "op_schema, vertraagd, … (the item's status)", False),
    _p("progress", D, "progress in %"), _p("no_change", B, "confirmed 'geen wijziging'", False),
    _p("submitted_at", DTO, "when it was submitted"), _p("decided_at", DTO, "when it was approved"),
), "Approved status updates (the only ones that count), one per item and reporting period.",
    (ITEM,), protected=True)

KPIS = EntitySet("Kpis", "Kpi", ("id",), (
    _p("id", I64, "the KPI's id", False), _p("item_id", I64, "plan item id", False),
    _p("item_code", S, "plan item code", False), _p("kind", S, "statistic, manual or steps", False),
    _p("name", S, "name", False), _p("unit", S, "unit"), _p("indicator", S, "statistic: the indicator"),
    _p("area_level", S, "statistic: the area's level"), _p("area_code", S, "statistic: the area"),
    _p("direction", S, "up or down: which way is better", False), _p("baseline", D, "baseline value"),
    _p("baseline_period", S, "period of the baseline"),
), "The KPIs of the plan items.", (ITEM,), protected=True)

KPI_MEASUREMENTS = EntitySet("KpiMeasurements", "KpiMeasurement", ("id",), (
    _p("id", I64, "the measurement's id", False), _p("kpi_id", I64, "KPI id", False),
    _p("period", S, "period measured", False), _p("value", D, "value"), _p("step", S, "steps KPI: the step"),
    _p("recorded_at", DTO, "when it was recorded", False),
), "Measurements of the KPIs (manual and steps KPIs; statistic KPIs read Observations).",
    (Nav("Kpi", "Kpis", (("kpi_id", "id"),), "the KPI measured"),), protected=True)

BUDGET_LINES = EntitySet("BudgetLines", "BudgetLine", ("id",), (
    _p("id", I64, "the line's id", False), _p("plan", S, "plan code", False),
    _p("item_id", I64, "plan item id (null: not in the plan)"), _p("item_code", S, "actie code in the export", False),
    _p("kind", S, "raming or realisatie", False), _p("year", I32, "budget year", False),
    _p("quarter", I32, "realisaties: the quarter"), _p("category", S, "exploitatie, investering, financiering", False),
    _p("direction", S, "uitgave or ontvangst", False), _p("beleidsitem", S, "BBC beleidsitem"),
    _p("account", S, "algemene rekening"), _p("envelope", S, "investeringsenveloppe"),
    _p("amount", D, "amount in euro (positive; direction says which way)", False),
), "Budget (ramingen) and realisation lines from the finance imports.", protected=True)

SIGNALS = EntitySet("Signals", "Signal", ("id",), (
    _p("id", I64, "the signal's id", False), _p("plan", S, "plan code", False),
    _p("item_id", I64, "plan item id"), _p("rule", S, "the rule that raised it", False),
    _p("subject", S, "what it is about", False), _p("state", S, "open, acknowledged, resolved", False),
    _p("message_nl", S, "message (Dutch)", False), _p("message_en", S, "message (English)", False),
    _p("owner", S, "who should act"), _p("first_seen", DTO, "first raised", False),
    _p("last_seen", DTO, "last seen firing", False), _p("resolved_at", DTO, "when the rule stopped firing"),
), "Early-warning signals and their state.", protected=True)

PLAN_SETS = (PLAN_ITEMS, STATUS_UPDATES, KPIS, KPI_MEASUREMENTS, BUDGET_LINES, SIGNALS)


def _iso(rows_of: Callable[[list[Any]], list[dict[str, Any]]]) -> Callable[[list[Any]], list[dict[str, Any]]]:
    """Dates and moments as OData writes them (2026-06-30, 2026-06-30T12:00:00Z)."""
    def finish(rows: list[Any]) -> list[dict[str, Any]]:
        out = rows_of(rows)
        for row in out:
            for key, value in row.items():
                if isinstance(value, datetime):
                    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
                    row[key] = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
                elif isinstance(value, date):
                    row[key] = value.isoformat()
        return out
    return finish


def _source(conn: Connection, spec: EntitySet, from_, columns: dict[str, ColumnElement[Any]], key,
            where: list[ColumnElement[bool]]) -> Source:
    return Source(spec, from_, columns, [columns[n] for n in spec.names], key, _iso(plain_rows(spec)),
                  where=where, dialect=conn.dialect.name)


def _own_items(organisation: str):
    """plan_item joined to its plan, for one organisation."""
    return plan_item.join(plan, plan.c.id == plan_item.c.plan_id), plan.c.organisation == organisation


def plan_items_source(conn: Connection, organisation: str) -> Source:
    i, v = plan_item.c, plan_item_version.alias("v")
    parent = plan_item.alias("parent")
    latest = select(func.max(plan_version.c.id)).where(plan_version.c.plan_id == plan.c.id).scalar_subquery()
    joined, own = _own_items(organisation)
    from_ = (joined.join(v, and_(v.c.item_id == i.id, v.c.version_id == latest))
             .outerjoin(parent, parent.c.id == v.c.parent_id))
    columns: dict[str, ColumnElement[Any]] = {
        "id": i.id, "plan": plan.c.code, "item_code": i.code, "kind": i.kind, "title": v.c.title_short,
        "parent_code": parent.c.code, "beleidsdomein": v.c.beleidsdomein, "beleidsveld": v.c.beleidsveld,
        "priority": i.priority, "owner": i.owner, "department": i.department, "mandataris": i.mandataris,
        "start_date": i.start_date, "end_date": i.end_date, "published": i.publish}
    return _source(conn, PLAN_ITEMS, from_, columns, (i.id,), [own])


def status_updates_source(conn: Connection, organisation: str) -> Source:
    u = status_update.c
    joined, own = _own_items(organisation)
    from_ = (status_update.join(joined, plan_item.c.id == u.item_id)
             .join(reporting_period, reporting_period.c.id == u.period_id))
    columns: dict[str, ColumnElement[Any]] = {
        "id": u.id, "item_id": u.item_id, "item_code": plan_item.c.code, "period": reporting_period.c.code,
        "status": u.status, "progress": u.progress, "no_change": u.no_change, "submitted_at": u.submitted_at,
        "decided_at": u.decided_at}
    return _source(conn, STATUS_UPDATES, from_, columns, (u.id,), [own, u.state == "approved"])


def kpis_source(conn: Connection, organisation: str) -> Source:
    k = kpi.c
    joined, own = _own_items(organisation)
    columns: dict[str, ColumnElement[Any]] = {
        "id": k.id, "item_id": k.item_id, "item_code": plan_item.c.code, "kind": k.kind, "name": k.name,
        "unit": k.unit, "indicator": k.indicator, "area_level": k.area_level, "area_code": k.area_code,
        "direction": k.direction, "baseline": k.baseline, "baseline_period": k.baseline_period}
    return _source(conn, KPIS, kpi.join(joined, plan_item.c.id == k.item_id), columns, (k.id,), [own])


def kpi_measurements_source(conn: Connection, organisation: str) -> Source:
    m = kpi_measurement.c
    joined, own = _own_items(organisation)
    from_ = kpi_measurement.join(kpi, kpi.c.id == m.kpi_id).join(joined, plan_item.c.id == kpi.c.item_id)
    columns: dict[str, ColumnElement[Any]] = {
        "id": m.id, "kpi_id": m.kpi_id, "period": m.period, "value": m.value, "step": m.step,
        "recorded_at": m.recorded_at}
    return _source(conn, KPI_MEASUREMENTS, from_, columns, (m.id,), [own])


def budget_lines_source(conn: Connection, organisation: str) -> Source:
    b = budget_line.c
    columns: dict[str, ColumnElement[Any]] = {
        "id": b.id, "plan": plan.c.code, "item_id": b.item_id, "item_code": b.item_code, "kind": b.kind,
        "year": b.year, "quarter": b.quarter, "category": b.category, "direction": b.direction,
        "beleidsitem": b.beleidsitem, "account": b.account, "envelope": b.envelope, "amount": b.amount}
    return _source(conn, BUDGET_LINES, budget_line.join(plan, plan.c.id == b.plan_id), columns, (b.id,),
                   [plan.c.organisation == organisation])


def signals_source(conn: Connection, organisation: str) -> Source:
    s = signal.c
    columns: dict[str, ColumnElement[Any]] = {
        "id": s.id, "plan": plan.c.code, "item_id": s.item_id, "rule": s.rule, "subject": s.subject,
        "state": s.state, "message_nl": s.message_nl, "message_en": s.message_en, "owner": s.owner,
        "first_seen": s.first_seen, "last_seen": s.last_seen, "resolved_at": s.resolved_at}
    return _source(conn, SIGNALS, signal.join(plan, plan.c.id == s.plan_id), columns, (s.id,),
                   [s.organisation == organisation])


SOURCES: dict[str, Callable[[Connection, str], Source]] = {
    "PlanItems": plan_items_source, "StatusUpdates": status_updates_source, "Kpis": kpis_source,
    "KpiMeasurements": kpi_measurements_source, "BudgetLines": budget_lines_source, "Signals": signals_source}
