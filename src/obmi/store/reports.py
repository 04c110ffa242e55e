"""Rows of the plan reports: the text sections of the opvolgingsrapportering and the college
report (`report_section`), and the few reads the reports need beyond the plan and finance stores
(the approved status updates with their toelichting up to a date, the signals of a plan).
Keyword-only data functions returning plain dicts; the rules live in obmi.reports.opvolging and
obmi.plans.workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from obmi.errors import NotFound
from obmi.store.tables import plan, plan_item, report_section, reporting_period, signal, status_update

Row = dict[str, Any]


# --- text sections ---------------------------------------------------------------------------------

def sections(conn: Connection, plan_id: int, report: str, period: str) -> list[Row]:
    query = (select(report_section).where(report_section.c.plan_id == plan_id, report_section.c.report == report,
                                          report_section.c.period == period)
             .order_by(report_section.c.position, report_section.c.id))
    return [dict(r) for r in conn.execute(query).mappings()]


def find_section(conn: Connection, plan_id: int, report: str, period: str, code: str) -> Row | None:
    row = conn.execute(select(report_section).where(
        report_section.c.plan_id == plan_id, report_section.c.report == report, report_section.c.period == period,
        report_section.c.code == code)).mappings().first()
    return dict(row) if row is not None else None


def get_section(conn: Connection, section_id: int) -> Row:
    query = (select(report_section, plan.c.organisation, plan.c.code.label("plan_code"))
             .join(plan, plan.c.id == report_section.c.plan_id).where(report_section.c.id == section_id))
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"unknown report section {section_id}")
    return dict(row)


def insert_section(conn: Connection, values: Row) -> int:
    result = conn.execute(insert(report_section).values(**values, row_version=1))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def change_section(conn: Connection, section_id: int, *, expected_version: int, values: Row) -> bool:
    """False when the section changed since `expected_version` (nothing is written then)."""
    result = conn.execute(update(report_section).where(report_section.c.id == section_id,
                                                       report_section.c.row_version == expected_version)
                          .values(**values, row_version=expected_version + 1))
    return result.rowcount == 1


def next_position(conn: Connection, plan_id: int, report: str, period: str) -> int:
    found = conn.execute(select(func.max(report_section.c.position)).where(
        report_section.c.plan_id == plan_id, report_section.c.report == report,
        report_section.c.period == period)).scalar()
    return int(found or 0) + 1


# --- what the reports read -----------------------------------------------------------------------

def approved_updates(conn: Connection, plan_id: int, *, since: date, until: date) -> dict[int, Row]:
    """item id → its approved status update of the latest reporting period that lies within
    [since, until] (start on or after `since`, end on or before `until`), with the toelichting
    (narrative) and knelpunten: what a report states about the item for that stretch of time."""
    query = (select(status_update.c.item_id, status_update.c.status, status_update.c.progress,
                    status_update.c.narrative, status_update.c.knelpunten, status_update.c.decided_at,
                    status_update.c.decided_by, status_update.c.no_change, reporting_period.c.code,
                    reporting_period.c.end_date)
             .join(plan_item, plan_item.c.id == status_update.c.item_id)
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(plan_item.c.plan_id == plan_id, status_update.c.state == "approved",
                    reporting_period.c.start_date >= since, reporting_period.c.end_date <= until)
             .order_by(reporting_period.c.end_date))
    out: dict[int, Row] = {}
    for r in conn.execute(query).mappings():  # later periods overwrite earlier ones
        out[r["item_id"]] = {"status": r["status"], "progress": r["progress"], "narrative": r["narrative"],
                             "knelpunten": r["knelpunten"], "period_code": r["code"], "decided_at": r["decided_at"],
                             "decided_by": r["decided_by"], "no_change": r["no_change"]}
    return out


def plan_signals(conn: Connection, plan_id: int) -> list[Row]:
    """The plan's signals of the early-warning engine that are not resolved (open first, then
    acknowledged), with the code of the item they are about."""
    query = (select(signal.c.id, signal.c.state, signal.c.severity, signal.c.message_nl, signal.c.message_en,
                    signal.c.rule, signal.c.first_seen, plan_item.c.code.label("item_code"))
             .outerjoin(plan_item, plan_item.c.id == signal.c.item_id)
             .where(signal.c.plan_id == plan_id, signal.c.state.in_(("open", "acknowledged"))))
    return [dict(r) for r in conn.execute(query).mappings()]
