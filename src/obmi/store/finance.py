"""Storage of budget lines and balance inputs (obmi.finance)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from obmi.finance.balance import BalanceInput
from obmi.finance.model import BudgetLine, Category, Flow, LineKind
from obmi.store.tables import budget_line, plan_balance_input, plan_item

Scope = set[tuple[str, int, int | None]]  # (kind, year, version id of ramingen)
_COMPARED = ("item_code", "kind", "year", "quarter", "category", "direction", "beleidsitem", "account", "envelope")


def _in_scope(plan_id: int, scope: Scope) -> Any:
    clauses = [and_(budget_line.c.kind == kind, budget_line.c.year == year,
                    budget_line.c.version_id.is_(None) if version is None else budget_line.c.version_id == version)
               for kind, year, version in sorted(scope, key=lambda s: (s[0], s[1], s[2] or 0))]
    return and_(budget_line.c.plan_id == plan_id, or_(*clauses))


def _signature(row: Any) -> tuple[Any, ...]:
    return (*(row[name] for name in _COMPARED), round(float(row["amount"]), 2))


def same_as_stored(conn: Connection, plan_id: int, scope: Scope, rows: list[dict[str, Any]]) -> bool:
    """Whether the stored lines of the scope are exactly these (a re-import changes nothing)."""
    stored = conn.execute(select(*[budget_line.c[n] for n in (*_COMPARED, "amount")])
                          .where(_in_scope(plan_id, scope))).mappings()
    return Counter(_signature(r) for r in stored) == Counter(_signature(r) for r in rows)


def replace_lines(conn: Connection, plan_id: int, scope: Scope, rows: list[dict[str, Any]]) -> int:
    """Replace the lines of the scope (the kinds, years and versions the file holds) by `rows`;
    returns how many lines were there before."""
    removed = conn.execute(delete(budget_line).where(_in_scope(plan_id, scope))).rowcount or 0
    for start in range(0, len(rows), 5000):
        conn.execute(insert(budget_line), rows[start:start + 5000])
    return removed


def load_lines(conn: Connection, plan_id: int, *, version_id: int | None,
               kinds: Iterable[str] = ("raming", "realisatie")) -> list[BudgetLine]:
    """The plan's realisaties and the ramingen of one version (by item code)."""
    kinds = tuple(kinds)
    wanted = []
    if "realisatie" in kinds:
        wanted.append(budget_line.c.kind == "realisatie")
    if "raming" in kinds and version_id is not None:
        wanted.append(and_(budget_line.c.kind == "raming", budget_line.c.version_id == version_id))
    if not wanted:
        return []
    query = (select(budget_line.c.item_code, budget_line.c.kind, budget_line.c.year, budget_line.c.category,
                    budget_line.c.direction, budget_line.c.amount, budget_line.c.line, budget_line.c.quarter,
                    budget_line.c.beleidsitem, budget_line.c.account, budget_line.c.envelope)
             .where(budget_line.c.plan_id == plan_id, or_(*wanted)))
    return [BudgetLine(r[0], LineKind(r[1]), r[2], Category(r[3]), Flow(r[4]), float(r[5]), r[6], r[7], r[8], r[9],
                       r[10]) for r in conn.execute(query)]


def has_ramingen(conn: Connection, plan_id: int, version_id: int) -> bool:
    query = select(budget_line.c.id).where(budget_line.c.plan_id == plan_id, budget_line.c.kind == "raming",
                                           budget_line.c.version_id == version_id).limit(1)
    return conn.execute(query).first() is not None


def line_counts(conn: Connection, plan_id: int) -> dict[str, int]:
    from sqlalchemy import func
    query = select(budget_line.c.kind, func.count()).where(budget_line.c.plan_id == plan_id).group_by(budget_line.c.kind)
    return {kind: int(n) for kind, n in conn.execute(query)}


def item_codes_with_ids(conn: Connection, plan_id: int) -> dict[str, int]:
    return {code: id_ for id_, code in conn.execute(select(plan_item.c.id, plan_item.c.code)
                                                     .where(plan_item.c.plan_id == plan_id))}


def balance_inputs(conn: Connection, plan_id: int) -> list[BalanceInput]:
    rows = conn.execute(select(plan_balance_input).where(plan_balance_input.c.plan_id == plan_id)
                        .order_by(plan_balance_input.c.year)).mappings()
    return [BalanceInput(r["year"], r["opening_result"], r["unavailable_funds"], r["corrected_loan_outlays"])
            for r in rows]


def save_balance_input(conn: Connection, plan_id: int, entered: BalanceInput) -> dict[str, Any] | None:
    """Insert or update one year's inputs; returns the previous values (None: new)."""
    key = and_(plan_balance_input.c.plan_id == plan_id, plan_balance_input.c.year == entered.year)
    before = conn.execute(select(plan_balance_input).where(key)).mappings().first()
    values = {"opening_result": entered.opening_result, "unavailable_funds": entered.unavailable_funds,
              "corrected_loan_outlays": entered.corrected_loan_outlays}
    if before is None:
        conn.execute(insert(plan_balance_input).values(plan_id=plan_id, year=entered.year, **values))
        return None
    conn.execute(update(plan_balance_input).where(key)
                 .values(**values, row_version=plan_balance_input.c.row_version + 1))
    return dict(before)
