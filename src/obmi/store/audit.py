"""Reading the append-only audit log (rows are written by obmi.operations.registry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

from obmi.store.tables import audit_event


@dataclass(frozen=True)
class AuditFilter:
    resource_type: str | None = None
    resource_id: str | None = None
    actor: str | None = None
    operation: str | None = None
    outcome: str | None = None
    since: date | None = None  # from the start of this day (UTC)
    until: date | None = None  # to the end of this day (UTC)
    organisation: str | None = None  # only events of this organisation
    limit_to_organisation: bool = False


def _where(f: AuditFilter) -> ColumnElement[bool]:
    c = audit_event.c
    conditions = []
    for column, value in ((c.resource_type, f.resource_type), (c.resource_id, f.resource_id), (c.actor, f.actor),
                          (c.operation, f.operation), (c.outcome, f.outcome)):
        if value:
            conditions.append(column == value)
    if f.since:
        conditions.append(c.at >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        conditions.append(c.at < datetime.combine(f.until + timedelta(days=1), time.min, UTC))
    if f.limit_to_organisation:
        conditions.append(c.organisation == f.organisation)
    return and_(*conditions) if conditions else c.id.is_not(None)


def query_events(conn: Connection, f: AuditFilter, *, limit: int = 100, offset: int = 0
                 ) -> tuple[list[dict[str, Any]], int]:
    where = _where(f)
    total = conn.execute(select(func.count()).select_from(audit_event).where(where)).scalar_one()
    rows = conn.execute(select(audit_event).where(where).order_by(audit_event.c.at.desc(), audit_event.c.id.desc())
                        .limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], total
