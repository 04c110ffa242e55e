"""The audit log: who changed what, when, from where — per resource, by user and period."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from typing import Any

from obmi.operations.registry import Unit, operation
from obmi.store.audit import AuditFilter, query_events
from obmi.timeutil import as_utc

CSV_COLUMNS = ("at", "actor", "organisation", "via", "operation", "permission", "resource_type", "resource_id",
               "outcome", "message", "before", "after", "request_id", "source_address")
MAX_EXPORT = 100_000


@dataclass(frozen=True)
class AuditPage:
    data: list[dict[str, Any]]
    count: int


def _scoped(unit: Unit, f: AuditFilter) -> AuditFilter:
    """An organisation administrator reads the events of their own organisation only."""
    if unit.actor.is_admin:
        return f
    return replace(f, organisation=unit.actor.organisation, limit_to_organisation=True)


@operation("audit.read")
def list_audit(unit: Unit, f: AuditFilter | None = None, *, limit: int = 100, offset: int = 0) -> AuditPage:
    """Audit events, newest first, filtered by resource, user, operation, outcome and period."""
    rows, total = query_events(unit.conn, _scoped(unit, f or AuditFilter()), limit=min(limit, 1000), offset=offset)
    return AuditPage(rows, total)


@operation("audit.read")
def export_audit_csv(unit: Unit, f: AuditFilter | None = None) -> str:
    """The filtered audit log as CSV (UTF-8, one event per line, before/after as JSON)."""
    rows, _ = query_events(unit.conn, _scoped(unit, f or AuditFilter()), limit=MAX_EXPORT)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([as_utc(row["at"]).isoformat(timespec="seconds") if c == "at"
                         else json.dumps(row[c], ensure_ascii=False) if c in ("before", "after") and row[c] is not None
                         else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
