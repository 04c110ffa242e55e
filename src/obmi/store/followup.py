"""Rows of the follow-up of a plan: reporting periods, status updates and their attachments,
KPIs with their measurements, milestones and the reminders that went out. Keyword-only data
functions returning plain dicts; the rules live in obmi.plans."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from obmi.errors import NotFound
from obmi.store.tables import (
    attachment,
    kpi,
    kpi_measurement,
    milestone,
    plan,
    plan_item,
    plan_item_version,
    reminder_sent,
    reporting_period,
    status_update,
)

Row = dict[str, Any]


def _new_id(conn: Connection, statement: Any) -> int:
    return int(conn.execute(statement).inserted_primary_key[0])  # type: ignore[index]


# --- reporting periods -------------------------------------------------------------------------

def periods(conn: Connection, organisation: str) -> list[Row]:
    return [dict(r) for r in conn.execute(select(reporting_period).where(reporting_period.c.organisation == organisation)
                                          .order_by(reporting_period.c.start_date)).mappings()]


def find_period(conn: Connection, organisation: str, code: str) -> Row:
    row = conn.execute(select(reporting_period).where(reporting_period.c.organisation == organisation,
                                                      reporting_period.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"unknown reporting period {code!r} (see the organisation's reporting periods)")
    return dict(row)


def get_period(conn: Connection, period_id: int) -> Row:
    row = conn.execute(select(reporting_period).where(reporting_period.c.id == period_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown reporting period {period_id}")
    return dict(row)


def upsert_periods(conn: Connection, organisation: str, specs: Iterable[Any]) -> tuple[int, int]:
    """(added, changed) for PeriodSpec-like objects (code, labels, start, end, deadline)."""
    existing = {p["code"]: p for p in periods(conn, organisation)}
    added = changed = 0
    for spec in specs:
        values = dict(label_nl=spec.label_nl, label_en=spec.label_en, start_date=spec.start, end_date=spec.end,
                      deadline=spec.deadline)
        old = existing.get(spec.code)
        if old is None:
            conn.execute(insert(reporting_period).values(organisation=organisation, code=spec.code, **values))
            added += 1
        elif any(old[k] != v for k, v in values.items()):
            conn.execute(update(reporting_period).where(reporting_period.c.id == old["id"]).values(**values))
            changed += 1
    return added, changed


# --- status updates ------------------------------------------------------------------------------

def find_update(conn: Connection, item_id: int, period_id: int) -> Row | None:
    row = conn.execute(select(status_update).where(status_update.c.item_id == item_id,
                                                   status_update.c.period_id == period_id)).mappings().first()
    return dict(row) if row is not None else None


def get_update(conn: Connection, update_id: int) -> Row:
    query = (select(status_update, plan_item.c.plan_id, plan_item.c.code.label("item_code"),
                    plan_item.c.owner.label("item_owner"), plan.c.organisation,
                    reporting_period.c.code.label("period_code"))
             .join(plan_item, plan_item.c.id == status_update.c.item_id).join(plan, plan.c.id == plan_item.c.plan_id)
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(status_update.c.id == update_id))
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"unknown status update {update_id}")
    return dict(row)


def insert_update(conn: Connection, values: Row) -> int:
    return _new_id(conn, insert(status_update).values(**values, row_version=1))


def change_update(conn: Connection, update_id: int, *, expected_version: int, values: Row) -> bool:
    """False when the update changed since `expected_version` (nothing is written then)."""
    result = conn.execute(update(status_update).where(status_update.c.id == update_id,
                                                      status_update.c.row_version == expected_version)
                          .values(**values, row_version=expected_version + 1))
    return result.rowcount == 1


def item_updates(conn: Connection, item_id: int) -> list[Row]:
    query = (select(status_update, reporting_period.c.code.label("period_code"),
                    reporting_period.c.label_nl.label("period_label"), reporting_period.c.end_date.label("period_end"))
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(status_update.c.item_id == item_id).order_by(reporting_period.c.start_date.desc()))
    return [dict(r) for r in conn.execute(query).mappings()]


def latest_approved(conn: Connection, plan_id: int, *, until: date | None = None) -> dict[int, Row]:
    """item id → its approved update of the latest reporting period (ending by `until`): status,
    progress, period code and knelpunten. The ranking carries only narrow columns (wide texts
    would make the sort spill to disk for tens of thousands of updates); the knelpunten texts are
    fetched afterwards for the few latest updates that have any."""
    rank = func.row_number().over(partition_by=status_update.c.item_id,
                                  order_by=reporting_period.c.end_date.desc()).label("rank")
    conditions = [plan_item.c.plan_id == plan_id, status_update.c.state == "approved"]
    if until is not None:
        conditions.append(reporting_period.c.start_date <= until)
    inner = (select(status_update.c.id, status_update.c.item_id, status_update.c.status, status_update.c.progress,
                    (status_update.c.knelpunten != "").label("has_knelpunten"),
                    reporting_period.c.code.label("period_code"), rank)
             .join(plan_item, plan_item.c.id == status_update.c.item_id)
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(and_(*conditions)).subquery())
    query = select(inner.c.id, inner.c.item_id, inner.c.status, inner.c.progress, inner.c.has_knelpunten,
                   inner.c.period_code).where(inner.c.rank == 1)
    out: dict[int, Row] = {}
    with_texts: dict[int, int] = {}
    for update_id, item_id, status, progress, has_knelpunten, period_code in conn.execute(query):
        out[item_id] = {"item_id": item_id, "status": status, "progress": progress, "period_code": period_code,
                        "knelpunten": ""}
        if has_knelpunten:
            with_texts[update_id] = item_id
    if with_texts:
        texts = select(status_update.c.id, status_update.c.knelpunten).where(status_update.c.id.in_(list(with_texts)))
        for update_id, text in conn.execute(texts):
            out[with_texts[update_id]]["knelpunten"] = text
    return out


def period_updates(conn: Connection, plan_id: int, period_id: int) -> dict[int, Row]:
    """item id → its update (any state) for one reporting period."""
    query = (select(status_update).join(plan_item, plan_item.c.id == status_update.c.item_id)
             .where(plan_item.c.plan_id == plan_id, status_update.c.period_id == period_id))
    return {r["item_id"]: dict(r) for r in conn.execute(query).mappings()}


def open_updates(conn: Connection, *, version_id: int, kinds: Iterable[str], period_ids: Iterable[int]) -> list[Row]:
    """(item_id, period_id, state) of the items of `kinds` in a plan version that have no
    submitted or approved update for one of `period_ids` (state: None, draft or returned) — the
    due list, computed by the database rather than by reading every update."""
    periods_ = list(period_ids)
    if not periods_:
        return []
    joined = and_(status_update.c.item_id == plan_item.c.id, status_update.c.period_id == reporting_period.c.id)
    query = (select(plan_item.c.id.label("item_id"), reporting_period.c.id.label("period_id"),
                    status_update.c.state)
             .select_from(plan_item_version.join(plan_item, plan_item.c.id == plan_item_version.c.item_id)
                          .join(reporting_period, reporting_period.c.id.in_(periods_))
                          .outerjoin(status_update, joined))
             .where(plan_item_version.c.version_id == version_id, plan_item.c.kind.in_(list(kinds)),
                    or_(status_update.c.state.is_(None), status_update.c.state.in_(("draft", "returned")))))
    return [dict(r) for r in conn.execute(query).mappings()]


def submitted_updates(conn: Connection, plan_id: int) -> list[Row]:
    """The updates of a plan waiting for a decision, oldest first."""
    query = (select(status_update.c.id, status_update.c.item_id, status_update.c.submitted_by,
                    status_update.c.submitted_at, status_update.c.row_version,
                    reporting_period.c.code.label("period_code"))
             .join(plan_item, plan_item.c.id == status_update.c.item_id)
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(plan_item.c.plan_id == plan_id, status_update.c.state == "submitted")
             .order_by(status_update.c.submitted_at))
    return [dict(r) for r in conn.execute(query).mappings()]


# --- attachments -------------------------------------------------------------------------------

def add_attachment(conn: Connection, values: Row) -> int:
    return _new_id(conn, insert(attachment).values(**values))


def attachments(conn: Connection, update_ids: Iterable[int]) -> list[Row]:
    ids = list(update_ids)
    if not ids:
        return []
    columns = [c for c in attachment.c if c.name != "data"]
    return [dict(r) for r in conn.execute(select(*columns).where(attachment.c.update_id.in_(ids))
                                          .order_by(attachment.c.id)).mappings()]


def get_attachment(conn: Connection, attachment_id: int) -> Row:
    row = conn.execute(select(attachment, status_update.c.item_id).join(status_update)
                       .where(attachment.c.id == attachment_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown attachment {attachment_id}")
    return dict(row)


# --- KPIs ----------------------------------------------------------------------------------------

def add_kpi(conn: Connection, values: Row) -> int:
    return _new_id(conn, insert(kpi).values(**values, row_version=1))


def get_kpi(conn: Connection, kpi_id: int) -> Row:
    row = conn.execute(select(kpi).where(kpi.c.id == kpi_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown KPI {kpi_id}")
    return dict(row)


def item_kpis(conn: Connection, item_ids: Iterable[int]) -> list[Row]:
    ids = list(item_ids)
    if not ids:
        return []
    return [dict(r) for r in conn.execute(select(kpi).where(kpi.c.item_id.in_(ids)).order_by(kpi.c.id)).mappings()]


def kpis_of_indicator(conn: Connection, indicator: str) -> list[Row]:
    return [dict(r) for r in conn.execute(select(kpi).where(kpi.c.indicator == indicator)).mappings()]


def measurements(conn: Connection, kpi_ids: Iterable[int]) -> dict[int, list[Row]]:
    ids = list(kpi_ids)
    out: dict[int, list[Row]] = {i: [] for i in ids}
    if ids:
        for r in conn.execute(select(kpi_measurement).where(kpi_measurement.c.kpi_id.in_(ids))
                              .order_by(kpi_measurement.c.period)).mappings():
            out[r["kpi_id"]].append(dict(r))
    return out


def put_measurement(conn: Connection, kpi_id: int, period: str, values: Row) -> str:
    """'added' or 'changed' (one measurement per KPI and period)."""
    c = kpi_measurement.c
    existing = conn.execute(select(c.id).where(c.kpi_id == kpi_id, c.period == period)).scalar()
    if existing is None:
        conn.execute(insert(kpi_measurement).values(kpi_id=kpi_id, period=period, **values))
        return "added"
    conn.execute(update(kpi_measurement).where(c.id == existing).values(**values))
    return "changed"


# --- milestones ----------------------------------------------------------------------------------

def add_milestone(conn: Connection, values: Row) -> int:
    return _new_id(conn, insert(milestone).values(**values, row_version=1))


def get_milestone(conn: Connection, milestone_id: int) -> Row:
    row = conn.execute(select(milestone).where(milestone.c.id == milestone_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown milestone {milestone_id}")
    return dict(row)


def change_milestone(conn: Connection, milestone_id: int, *, expected_version: int, values: Row) -> bool:
    result = conn.execute(update(milestone).where(milestone.c.id == milestone_id,
                                                  milestone.c.row_version == expected_version)
                          .values(**values, row_version=expected_version + 1))
    return result.rowcount == 1


def milestones(conn: Connection, item_ids: Iterable[int]) -> list[Row]:
    ids = list(item_ids)
    if not ids:
        return []
    return [dict(r) for r in conn.execute(select(milestone).where(milestone.c.item_id.in_(ids))
                                          .order_by(milestone.c.planned_end, milestone.c.id)).mappings()]


def plan_milestones(conn: Connection, plan_id: int) -> list[Row]:
    query = (select(milestone, plan_item.c.code.label("item_code")).join(plan_item)
             .where(plan_item.c.plan_id == plan_id).order_by(milestone.c.planned_end))
    return [dict(r) for r in conn.execute(query).mappings()]


# --- reminders -----------------------------------------------------------------------------------

def reminder_was_sent(conn: Connection, *, user: str, period_id: int, kind: str, since: date) -> bool:
    c = reminder_sent.c
    return conn.execute(select(func.count()).where(c.user_name == user, c.period_id == period_id, c.kind == kind,
                                                   c.sent_on >= since)).scalar_one() > 0


def record_reminder(conn: Connection, *, user: str, period_id: int, kind: str, sent_on: date) -> None:
    conn.execute(insert(reminder_sent).values(user_name=user, period_id=period_id, kind=kind, sent_on=sent_on))
