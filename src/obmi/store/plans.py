"""Rows of plans: budget entities, plans, versions, items and planned amounts. Keyword-only data
functions returning plain dicts; the rules live in obmi.plans, the use cases in
obmi.operations.plans. Follow-up rows (periods, status updates, KPIs, milestones) are in
obmi.store.followup."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import Connection, func, insert, select, update

from obmi.errors import NotFound
from obmi.plans.diff import ItemSnapshot, PlanSnapshot
from obmi.plans.model import AmountLine, ItemDraft
from obmi.store.tables import budget_entity, plan, plan_amount, plan_config, plan_item, plan_item_version, plan_version

Row = dict[str, Any]

# Items editable outside imports (the per-item follow-up settings), with optimistic locking.
ITEM_SETTINGS = ("priority", "owner", "department", "mandataris", "start_date", "end_date", "tags", "weight", "publish")


def _one(conn: Connection, query: Any, what: str) -> Row:
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"unknown {what}")
    return dict(row)


# --- budget entities and plans -----------------------------------------------------------------

def get_or_add_entity(conn: Connection, *, organisation: str, code: str, name: str, kind: str) -> Row:
    c = budget_entity.c
    row = conn.execute(select(budget_entity).where(c.organisation == organisation, c.code == code)).mappings().first()
    if row is not None:
        return dict(row)
    new_id = conn.execute(insert(budget_entity).values(organisation=organisation, code=code, name=name,
                                                        kind=kind)).inserted_primary_key[0]  # type: ignore[index]
    return {"id": new_id, "organisation": organisation, "code": code, "name": name, "kind": kind}


def list_entities(conn: Connection, organisation: str) -> list[Row]:
    return [dict(r) for r in conn.execute(select(budget_entity).where(budget_entity.c.organisation == organisation)
                                          .order_by(budget_entity.c.code)).mappings()]


def find_plan(conn: Connection, *, organisation: str, code: str | None) -> Row | None:
    """The plan with `code`, or (code None) the organisation's most recent plan."""
    query = select(plan).where(plan.c.organisation == organisation)
    query = query.where(plan.c.code == code) if code else query.order_by(plan.c.start_year.desc(), plan.c.id.desc())
    row = conn.execute(query.limit(1)).mappings().first()
    return dict(row) if row is not None else None


def get_plan(conn: Connection, plan_id: int) -> Row:
    return _one(conn, select(plan).where(plan.c.id == plan_id), f"plan {plan_id}")


def add_plan(conn: Connection, *, organisation: str, entity_id: int, code: str, title: str, start_year: int,
             end_year: int, now: datetime) -> Row:
    values = dict(organisation=organisation, budget_entity_id=entity_id, code=code, title=title,
                  start_year=start_year, end_year=end_year, created_at=now)
    new_id = conn.execute(insert(plan).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    return {"id": new_id, **values}


def list_plans(conn: Connection, organisation: str | None) -> list[Row]:
    query = select(plan, budget_entity.c.code.label("entity_code"), budget_entity.c.name.label("entity_name"),
                   budget_entity.c.kind.label("entity_kind")).join(budget_entity)
    if organisation is not None:
        query = query.where(plan.c.organisation == organisation)
    return [dict(r) for r in conn.execute(query.order_by(plan.c.organisation, plan.c.start_year, plan.c.code)).mappings()]


# --- versions ------------------------------------------------------------------------------------

def versions(conn: Connection, plan_id: int) -> list[Row]:
    return [dict(r) for r in conn.execute(select(plan_version).where(plan_version.c.plan_id == plan_id)
                                          .order_by(plan_version.c.number)).mappings()]


def get_version(conn: Connection, plan_id: int, number: int | None) -> Row | None:
    """Version `number` of the plan, or its latest (number None); None when it has none."""
    query = select(plan_version).where(plan_version.c.plan_id == plan_id)
    query = query.where(plan_version.c.number == number) if number else query.order_by(plan_version.c.number.desc())
    row = conn.execute(query.limit(1)).mappings().first()
    return dict(row) if row is not None else None


def add_version(conn: Connection, *, plan_id: int, label: str, motivering: str, layout: str, import_id: int | None,
                now: datetime, user: str) -> Row:
    number = (conn.execute(select(func.max(plan_version.c.number)).where(plan_version.c.plan_id == plan_id))
              .scalar() or 0) + 1
    values = dict(plan_id=plan_id, number=number, kind="meerjarenplan" if number == 1 else "aanpassing",
                  label=label or ("Meerjarenplan" if number == 1 else f"Aanpassing {number - 1}"),
                  motivering=motivering, layout=layout, import_id=import_id, created_at=now, created_by=user)
    new_id = conn.execute(insert(plan_version).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    return {"id": new_id, **values}


# --- items -------------------------------------------------------------------------------------

def item_ids(conn: Connection, plan_id: int) -> dict[str, int]:
    return {code: id_ for id_, code in conn.execute(select(plan_item.c.id, plan_item.c.code)
                                                    .where(plan_item.c.plan_id == plan_id))}


def item_kinds(conn: Connection, plan_id: int) -> dict[str, str]:
    return dict(conn.execute(select(plan_item.c.code, plan_item.c.kind).where(plan_item.c.plan_id == plan_id)).all())


def write_version_content(conn: Connection, *, plan_id: int, version_id: int, items: list[ItemDraft],
                          amounts: Iterable[AmountLine], now: datetime, user: str) -> dict[str, int]:
    """Store what a version says: the items (new ones created; an existing item's follow-up
    settings are changed only where the file gives them), their place and titles, the amounts."""
    ids = item_ids(conn, plan_id)
    for item in items:
        if item.code not in ids:
            ids[item.code] = conn.execute(insert(plan_item).values(
                plan_id=plan_id, code=item.code, kind=item.kind.value, priority=bool(item.priority),
                owner=item.owner, department=item.department, mandataris=item.mandataris,
                start_date=_date(item.start), end_date=_date(item.end), tags=list(item.tags), publish=False,
                row_version=1, updated_at=now, updated_by=user)).inserted_primary_key[0]  # type: ignore[index]
        else:
            given = _given_settings(item)
            if given:
                conn.execute(update(plan_item).where(plan_item.c.id == ids[item.code]).values(
                    **given, kind=item.kind.value, updated_at=now, updated_by=user,
                    row_version=plan_item.c.row_version + 1))
    if items:
        conn.execute(insert(plan_item_version), [{
            "version_id": version_id, "item_id": ids[i.code], "parent_id": ids[i.parent] if i.parent else None,
            "position": position, "title_short": i.title_short[:500], "title_long": i.title_long,
            "description": i.description, "beleidsdomein": i.beleidsdomein, "beleidsveld": i.beleidsveld,
            "beleidsitem": i.beleidsitem} for position, i in enumerate(items)])
    rows = [{"version_id": version_id, "item_id": ids[a.item], "year": a.year, "direction": a.direction,
             "beleidsitem": a.beleidsitem, "account": a.account, "envelope": a.envelope, "amount": a.amount}
            for a in amounts]
    if rows:
        conn.execute(insert(plan_amount), rows)
    return ids


def _given_settings(item: ItemDraft) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in (("priority", item.priority), ("owner", item.owner), ("department", item.department),
                        ("mandataris", item.mandataris), ("start_date", _date(item.start)),
                        ("end_date", _date(item.end))):
        if value is not None:
            values[name] = value
    if item.tags:
        values["tags"] = list(item.tags)
    return values


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def version_items(conn: Connection, version_id: int) -> list[Row]:
    """Every item of a version with its content and follow-up settings, in file order."""
    parent = plan_item.alias("parent")
    query = (select(*[c for c in plan_item.c if c.name not in ("updated_at", "updated_by")],
                    plan_item_version.c.parent_id, plan_item_version.c.position,
                    plan_item_version.c.title_short, plan_item_version.c.title_long,
                    plan_item_version.c.description, plan_item_version.c.beleidsdomein,
                    plan_item_version.c.beleidsveld, plan_item_version.c.beleidsitem,
                    parent.c.code.label("parent_code"))
             .join(plan_item_version, plan_item_version.c.item_id == plan_item.c.id)
             .outerjoin(parent, parent.c.id == plan_item_version.c.parent_id)
             .where(plan_item_version.c.version_id == version_id)
             .order_by(plan_item_version.c.position))
    result = conn.execute(query)
    keys = list(result.keys())  # zip per row: several times faster than RowMapping → dict
    return [dict(zip(keys, row)) for row in result]


def version_amounts(conn: Connection, version_id: int, item_ids_: Iterable[int] | None = None) -> list[Row]:
    query = select(plan_amount).where(plan_amount.c.version_id == version_id)
    if item_ids_ is not None:
        query = query.where(plan_amount.c.item_id.in_(list(item_ids_)))
    return [dict(r) for r in conn.execute(query.order_by(plan_amount.c.item_id, plan_amount.c.year)).mappings()]


def own_expenditure(conn: Connection, version_id: int) -> dict[int, float]:
    """item id → its own planned expenditure (uitgaven, all years) in a version."""
    query = (select(plan_amount.c.item_id, func.sum(plan_amount.c.amount))
             .where(plan_amount.c.version_id == version_id, plan_amount.c.direction == "uitgave")
             .group_by(plan_amount.c.item_id))
    return {item_id: float(total or 0.0) for item_id, total in conn.execute(query)}


def amount_lines(conn: Connection, version_id: int) -> list[AmountLine]:
    code = plan_item.c.code
    query = (select(code, plan_amount.c.year, plan_amount.c.amount, plan_amount.c.direction,
                    plan_amount.c.beleidsitem, plan_amount.c.account, plan_amount.c.envelope)
             .join(plan_item, plan_item.c.id == plan_amount.c.item_id).where(plan_amount.c.version_id == version_id))
    return [AmountLine(r.code, r.year, r.amount, 0, r.direction, r.beleidsitem, r.account, r.envelope)
            for r in conn.execute(query)]


def snapshot(conn: Connection, version_id: int) -> PlanSnapshot:
    items = {r["code"]: ItemSnapshot(kind=r["kind"], parent=r["parent_code"], title_short=r["title_short"],
                                     title_long=r["title_long"], description=r["description"],
                                     beleidsdomein=r["beleidsdomein"], beleidsveld=r["beleidsveld"])
             for r in version_items(conn, version_id)}
    totals: dict[tuple[str, int, str], float] = defaultdict(float)
    for line in amount_lines(conn, version_id):
        totals[(line.item, line.year, line.direction)] += line.amount
    return PlanSnapshot(items=items, amounts=dict(totals))


def item_in_versions(conn: Connection, item_id: int) -> dict[int, Row]:
    """version id → what that version says about the item (title, parent) and its planned
    expenditure; versions without the item are absent."""
    parent = plan_item.alias("parent")
    query = (select(plan_item_version.c.version_id, plan_item_version.c.title_short, plan_item_version.c.title_long,
                    parent.c.code.label("parent_code"))
             .outerjoin(parent, parent.c.id == plan_item_version.c.parent_id)
             .where(plan_item_version.c.item_id == item_id))
    out = {r["version_id"]: {**r, "amount": 0.0} for r in conn.execute(query).mappings()}
    totals = (select(plan_amount.c.version_id, func.sum(plan_amount.c.amount).label("amount"))
              .where(plan_amount.c.item_id == item_id, plan_amount.c.direction == "uitgave")
              .group_by(plan_amount.c.version_id))
    for version_id, amount in conn.execute(totals):
        if version_id in out:
            out[version_id]["amount"] = float(amount or 0.0)
    return out


def has_published_items(conn: Connection, plan_id: int) -> bool:
    return conn.execute(select(plan_item.c.id).where(plan_item.c.plan_id == plan_id, plan_item.c.publish)
                        .limit(1)).first() is not None


def get_item(conn: Connection, item_id: int) -> Row:
    query = select(plan_item, plan.c.organisation, plan.c.code.label("plan_code")).join(plan).where(
        plan_item.c.id == item_id)
    return _one(conn, query, f"plan item {item_id}")


def update_item_settings(conn: Connection, item_id: int, *, expected_version: int, values: dict[str, Any],
                         now: datetime, user: str) -> bool:
    """False when the item changed since `expected_version` (nothing is written then)."""
    result = conn.execute(update(plan_item).where(plan_item.c.id == item_id,
                                                  plan_item.c.row_version == expected_version)
                          .values(**values, row_version=expected_version + 1, updated_at=now, updated_by=user))
    return result.rowcount == 1


# --- configuration -------------------------------------------------------------------------------

CONFIG_DEFAULTS: Row = {"rollup": {}, "priority_propagation": "up", "reporting_scheme": "semester",
                        "remind_days_before": 7, "remind_every_days": 7, "row_version": 0}


def get_config(conn: Connection, organisation: str) -> Row:
    row = conn.execute(select(plan_config).where(plan_config.c.organisation == organisation)).mappings().first()
    return dict(row) if row is not None else {"organisation": organisation, **CONFIG_DEFAULTS}


def save_config(conn: Connection, organisation: str, values: Row) -> None:
    current = get_config(conn, organisation)
    merged = {k: values.get(k, current[k]) for k in CONFIG_DEFAULTS if k != "row_version"}
    if current["row_version"] == 0:
        conn.execute(insert(plan_config).values(organisation=organisation, row_version=1, **merged))
    else:
        conn.execute(update(plan_config).where(plan_config.c.organisation == organisation)
                     .values(**merged, row_version=plan_config.c.row_version + 1))
