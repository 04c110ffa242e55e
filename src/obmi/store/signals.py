"""Rows of the early-warning signals: the organisation's rule settings and the signals raised on
its plans. Keyword-only data functions returning plain dicts; the rules live in
obmi.plans.signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Connection, insert, select, update

from obmi.errors import NotFound
from obmi.store.tables import plan, plan_item, reporting_period, signal, signal_rule, status_update

Row = dict[str, Any]


# --- rule settings ---------------------------------------------------------------------------------

def rule_settings(conn: Connection, organisation: str) -> dict[str, Row]:
    """code → the organisation's stored setting (enabled, params, row_version, updated_by/at)."""
    query = select(signal_rule).where(signal_rule.c.organisation == organisation)
    return {r["code"]: dict(r) for r in conn.execute(query).mappings()}


def save_rule(conn: Connection, organisation: str, code: str, *, enabled: bool, params: Row,
              expected_version: int | None, who: str, now: datetime) -> bool:
    """Insert or change one rule's setting; False when it changed since `expected_version`
    (nothing is written then). `expected_version` None: whatever is stored."""
    c = signal_rule.c
    current = conn.execute(select(c.row_version).where(c.organisation == organisation, c.code == code)).scalar()
    values = {"enabled": enabled, "params": params, "updated_by": who, "updated_at": now}
    if current is None:
        if expected_version not in (None, 0):
            return False
        conn.execute(insert(signal_rule).values(organisation=organisation, code=code, row_version=1, **values))
        return True
    if expected_version is not None and expected_version != current:
        return False
    result = conn.execute(update(signal_rule).where(c.organisation == organisation, c.code == code,
                                                    c.row_version == current).values(row_version=current + 1, **values))
    return result.rowcount == 1


# --- signals ---------------------------------------------------------------------------------------

def _with_item() -> Any:
    return (select(signal, plan_item.c.code.label("item_code"))
            .outerjoin(plan_item, plan_item.c.id == signal.c.item_id))


def plan_signals(conn: Connection, plan_id: int, *, states: Iterable[str] | None = None,
                 item_id: int | None = None, owner: str | None = None) -> list[Row]:
    """The plan's signals (with their item's code): critical first, then the newest."""
    query = _with_item().where(signal.c.plan_id == plan_id)
    if states is not None:
        query = query.where(signal.c.state.in_(list(states)))
    if item_id is not None:
        query = query.where(signal.c.item_id == item_id)
    if owner is not None:
        query = query.where(signal.c.owner == owner)
    rows = [dict(r) for r in conn.execute(query.order_by(signal.c.first_seen.desc(), signal.c.id.desc())).mappings()]
    order = {"critical": 0, "warning": 1, "info": 2}
    rows.sort(key=lambda r: order.get(r["severity"], 3))  # stable: the newest first within a severity
    return rows


def get_signal(conn: Connection, signal_id: int) -> Row:
    row = conn.execute(_with_item().where(signal.c.id == signal_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown signal {signal_id}")
    return dict(row)


def insert_signal(conn: Connection, values: Row) -> int:
    return int(conn.execute(insert(signal).values(**values, row_version=1)).inserted_primary_key[0])  # type: ignore[index]


def change_signal(conn: Connection, signal_id: int, *, expected_version: int, values: Row) -> bool:
    """False when the signal changed since `expected_version` (nothing is written then)."""
    result = conn.execute(update(signal).where(signal.c.id == signal_id, signal.c.row_version == expected_version)
                          .values(**values, row_version=expected_version + 1))
    return result.rowcount == 1


def touch_signals(conn: Connection, signal_ids: Iterable[int], at: datetime) -> None:
    """Signals still firing with the same evidence: only when they were last seen changes."""
    ids = list(signal_ids)
    if ids:
        conn.execute(update(signal).where(signal.c.id.in_(ids)).values(last_seen=at))


def mark_notified(conn: Connection, signal_ids: Iterable[int], at: datetime) -> None:
    ids = list(signal_ids)
    if ids:
        conn.execute(update(signal).where(signal.c.id.in_(ids), signal.c.notified_at.is_(None)).values(notified_at=at))


def plans_of(conn: Connection, organisation: str) -> list[int]:
    return list(conn.execute(select(plan.c.id).where(plan.c.organisation == organisation).order_by(plan.c.id)).scalars())


# --- what the rules read -----------------------------------------------------------------------------

def plan_updates(conn: Connection, plan_id: int) -> list[Row]:
    """(item_id, period code, state, status) of every status update of a plan: narrow columns only."""
    query = (select(status_update.c.item_id, reporting_period.c.code.label("period_code"), status_update.c.state,
                    status_update.c.status)
             .join(plan_item, plan_item.c.id == status_update.c.item_id)
             .join(reporting_period, reporting_period.c.id == status_update.c.period_id)
             .where(plan_item.c.plan_id == plan_id))
    return [dict(r) for r in conn.execute(query).mappings()]
