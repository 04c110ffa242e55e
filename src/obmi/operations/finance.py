"""Finance: importing ramingen and realisaties from finance-package exports, and reading the
figures, the reconciliation with the plan and the balance checks of a plan version.

`finance_figures`, `plan_items_info` and `planned_lines` are shared loaders (not operations):
the signal, report and warehouse operations read finance through them, so that every channel
computes the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import Connection

from obmi.errors import NotFound, ValidationError
from obmi.finance.accounts import class_of
from obmi.finance.balance import Balance, BalanceInput, compute_balance
from obmi.finance.figures import FinanceFigures, ItemInfo, compute_figures
from obmi.finance.model import BudgetLine, Category, FinanceDraft, Flow, LineKind
from obmi.finance.readers import KIND
from obmi.finance.reconcile import PlanAmount, Reconciliation, reconcile
from obmi.finance.validate import PlanFacts, check_finance
from obmi.imports.readers import reader_for
from obmi.imports.runs import ImportStats, file_sha256, run_import
from obmi.operations.plans import item_resource, organisation_resource, plan_resource, version_or_latest
from obmi.operations.registry import Unit, operation
from obmi.store import finance as store
from obmi.store import plans as plan_store

# --- shared loaders ----------------------------------------------------------------------------

def plan_items_info(conn: Connection, version_id: int) -> list[ItemInfo]:
    return [ItemInfo(r["code"], r["kind"], r["parent_code"], r["beleidsdomein"], r["title_short"] or r["title_long"],
                     bool(r["priority"])) for r in plan_store.version_items(conn, version_id)]


def planned_lines(conn: Connection, plan_id: int, version_id: int) -> tuple[list[BudgetLine], str]:
    """(the planned lines of a version, their source): the imported ramingen when there are any,
    otherwise the plan's own amounts read as ramingen (category from the algemene rekening;
    exploitatie when the plan gives none)."""
    if store.has_ramingen(conn, plan_id, version_id):
        return store.load_lines(conn, plan_id, version_id=version_id, kinds=("raming",)), "finance"
    lines = []
    for a in plan_store.amount_lines(conn, version_id):
        found = class_of(a.account)
        lines.append(BudgetLine(a.item, LineKind.RAMING, a.year, found.category if found else Category.EXPLOITATIE,
                                Flow(a.direction), a.amount, 0, None, a.beleidsitem, a.account, a.envelope))
    return lines, "plan"


def finance_figures(conn: Connection, plan_id: int, version_id: int) -> FinanceFigures:
    planned, source = planned_lines(conn, plan_id, version_id)
    realised = store.load_lines(conn, plan_id, version_id=None, kinds=("realisatie",))
    return compute_figures(plan_items_info(conn, version_id), planned + realised, source=source)


# --- import ------------------------------------------------------------------------------------

@dataclass
class FinanceImportResult:
    import_id: int
    status: str  # imported, unchanged, dry_run
    plan_code: str
    layout: str
    lines: int
    replaced: int  # lines of the same kinds and years that were there before
    scope: list[tuple[str, int]]  # (kind, year) the file replaced
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = ", ".join(f"{kind} {year}" for kind, year in self.scope)
        text = (f"import {self.import_id} ({self.status}): plan {self.plan_code}, layout {self.layout}, "
                f"{self.lines} budget lines ({parts}); {self.replaced} earlier lines replaced")
        return "\n".join([text, *(f"  note: {n}" for n in self.notes)])


@operation("finance.import", resource=organisation_resource)
def import_finance(unit: Unit, paths: Sequence[Path], *, organisation: str | None = None, plan: str | None = None,
                   layout: str | None = None, keep_unplanned: bool = False, today: date | None = None
                   ) -> FinanceImportResult:
    """Import ramingen and realisaties from finance-package exports (recognised by content, or
    the named layout). A file replaces the plan's lines of the kinds and years it holds (ramingen
    of its plan version); the same file again changes nothing."""
    org = unit.actor.organisation if organisation is None else organisation
    files = [Path(p) for p in paths]
    if not files:
        raise ValidationError("no finance file given")
    if not org:
        raise ValidationError("which organisation? (--org ORG)", {"organisation": ["required"]})
    target = plan_store.find_plan(unit.conn, organisation=org, code=plan)
    if target is None:
        raise NotFound(f"organisation {org} has no plan" + (f" {plan}" if plan else "") +
                       ": import the plan before its finance")
    outcome: dict[str, Any] = {}

    def work(conn: Connection, run_id: int) -> ImportStats:
        draft = _read(files, layout)
        facts, versions = _facts(conn, target)
        notes = check_finance(draft, facts, keep_unplanned=keep_unplanned, today=today or date.today())
        ids = store.item_codes_with_ids(conn, target["id"])
        rows, scope = _rows(draft, target, versions, facts.latest, ids, run_id)
        stats = ImportStats(rows_in=len(draft.lines), rows_ok=len(draft.lines), notes=[*draft.notes, *notes])
        outcome.update(layout=draft.layout, lines=len(rows), scope=sorted({(k, y) for k, y, _ in scope}),
                       notes=stats.notes, replaced=0)
        if store.same_as_stored(conn, target["id"], scope, rows):
            stats.unchanged = len(rows)
            outcome["status"] = "unchanged"
            return stats
        outcome["replaced"] = store.replace_lines(conn, target["id"], scope, rows)
        stats.inserted = len(rows)
        outcome["status"] = "imported"
        unit.changes.other = True
        unit.audit("plan", target["id"], after={"finance_lines": len(rows), "replaced": outcome["replaced"],
                                                "scope": outcome["scope"], "layout": draft.layout},
                   message=f"finance of plan {target['code']}: {len(rows)} lines")
        return stats

    result = run_import(unit, kind="finance", file_name=", ".join(p.name for p in files), sha256=file_sha256(files),
                        work=work)
    status = "dry_run" if unit.dry_run else outcome["status"]
    return FinanceImportResult(result.import_id, status, target["code"], outcome["layout"], outcome["lines"],
                               outcome["replaced"], outcome["scope"], outcome["notes"])


def _read(files: list[Path], layout: str | None) -> FinanceDraft:
    from obmi.plugins import import_readers
    readers = import_readers(KIND)
    if layout is not None:
        named = [r for r in readers if r.name == layout]
        if not named:
            raise ValidationError(f"unknown finance layout {layout!r}",
                                  {"layout": [r.name for r in readers]})
    merged = FinanceDraft()
    for path in files:
        reader = named[0] if layout is not None else reader_for(KIND, path, refusal="not a finance export")
        draft = reader.read(path)
        merged.lines += draft.lines
        merged.notes += [f"{path.name}: {n}" if len(files) > 1 else n for n in draft.notes]
        merged.layout = ", ".join(dict.fromkeys([*filter(None, merged.layout.split(", ")), draft.layout]))
    return merged


def _facts(conn: Connection, target: Any) -> tuple[PlanFacts, dict[int, int]]:
    versions = {v["number"]: v["id"] for v in plan_store.versions(conn, target["id"])}
    if not versions:
        raise ValidationError(f"plan {target['code']} has no version yet: import its structure first")
    latest = max(versions)
    entities = frozenset(e["code"] for e in plan_store.list_entities(conn, target["organisation"]))
    entity = next(e["code"] for e in plan_store.list_entities(conn, target["organisation"])
                  if e["id"] == target["budget_entity_id"])
    items = {code: kind for code, kind in plan_store.item_kinds(conn, target["id"]).items()}
    return PlanFacts(target["code"], entity, entities, items, frozenset(versions), latest,
                     range(target["start_year"], target["end_year"] + 1)), versions


def _rows(draft: FinanceDraft, target: Any, versions: dict[int, int], latest: int, ids: dict[str, int],
          run_id: int) -> tuple[list[dict[str, Any]], store.Scope]:
    rows, scope = [], set()
    for line in draft.lines:
        version_id = versions[line.version or latest] if line.kind == LineKind.RAMING else None
        scope.add((line.kind.value, line.year, version_id))
        rows.append({"plan_id": target["id"], "budget_entity_id": target["budget_entity_id"],
                     "version_id": version_id, "item_id": ids.get(line.item), "item_code": line.item,
                     "kind": line.kind.value, "year": line.year, "quarter": line.quarter,
                     "category": line.category.value, "direction": line.direction.value,
                     "beleidsitem": line.beleidsitem, "account": line.account, "envelope": line.envelope,
                     "amount": line.amount, "import_id": run_id, "line": line.line})
    return rows, scope


# --- reading -----------------------------------------------------------------------------------

@dataclass
class FinanceOverview:
    plan_id: int
    plan_code: str
    version: int
    year: int
    figures: FinanceFigures
    line_counts: dict[str, int]
    items: list[ItemInfo]


@operation("plans.read", resource=plan_resource)
def finance_overview(unit: Unit, plan_id: int, *, version: int | None = None, year: int | None = None
                     ) -> FinanceOverview:
    """The plan's finance for one year (default: the current year within the plan): planned vs.
    realised per item and up the tree, spend rate, forecasts, per beleidsdomein and per economic
    category."""
    target = plan_store.get_plan(unit.conn, plan_id)
    chosen = version_or_latest(unit, plan_id, version)
    years = range(target["start_year"], target["end_year"] + 1)
    if year is None:
        year = min(max(date.today().year, years.start), years.stop - 1)
    elif year not in years:
        raise ValidationError(f"year {year} lies outside plan {target['code']} ({years.start}–{years.stop - 1})",
                              {"year": [str(years.start), str(years.stop - 1)]})
    figures = finance_figures(unit.conn, plan_id, chosen["id"])
    return FinanceOverview(plan_id, target["code"], chosen["number"], year, figures,
                           store.line_counts(unit.conn, plan_id), list(figures.items.values()))


@dataclass
class ReconciliationReport:
    plan_code: str
    version: int
    reconciliation: Reconciliation
    has_ramingen: bool


@operation("plans.read", resource=plan_resource)
def finance_reconciliation(unit: Unit, plan_id: int, *, version: int | None = None) -> ReconciliationReport:
    """Every difference between the imported ramingen and the plan's own amounts, explained."""
    target = plan_store.get_plan(unit.conn, plan_id)
    chosen = version_or_latest(unit, plan_id, version)
    plan = [PlanAmount(a.item, a.year, a.direction, a.amount) for a in plan_store.amount_lines(unit.conn, chosen["id"])]
    finance = store.load_lines(unit.conn, plan_id, version_id=chosen["id"], kinds=("raming",))
    items = set(plan_store.item_kinds(unit.conn, plan_id))
    return ReconciliationReport(target["code"], chosen["number"], reconcile(plan, finance, items), bool(finance))


@dataclass
class BalanceReport:
    plan_code: str
    version: int
    balance: Balance
    source: str
    without_account: int  # planned lines the balance cannot place (no algemene rekening)


@operation("plans.read", resource=plan_resource)
def balance_checks(unit: Unit, plan_id: int, *, version: int | None = None) -> BalanceReport:
    """The BBC 2020 balance checks of a plan version (obmi.finance.balance)."""
    target = plan_store.get_plan(unit.conn, plan_id)
    chosen = version_or_latest(unit, plan_id, version)
    lines, source = planned_lines(unit.conn, plan_id, chosen["id"])
    placed = [line for line in lines if class_of(line.account) is not None]
    balance = compute_balance(placed, range(target["start_year"], target["end_year"] + 1),
                              store.balance_inputs(unit.conn, plan_id))
    return BalanceReport(target["code"], chosen["number"], balance, source, len(lines) - len(placed))


@operation("plans.manage", resource=plan_resource)
def set_balance_input(unit: Unit, plan_id: int, year: int, *, opening_result: float | None = None,
                      unavailable_funds: float = 0.0, corrected_loan_outlays: float | None = None) -> BalanceInput:
    """Set what the balance checks need beyond the budget lines for one plan year."""
    target = plan_store.get_plan(unit.conn, plan_id)
    if not target["start_year"] <= year <= target["end_year"]:
        raise ValidationError(f"year {year} lies outside plan {target['code']}", {"year": ["outside the plan"]})
    errors = {name: ["must be a finite number"] for name, value in
              (("opening_result", opening_result), ("unavailable_funds", unavailable_funds),
               ("corrected_loan_outlays", corrected_loan_outlays))
              if value is not None and not _finite(value)}
    if unavailable_funds is not None and _finite(unavailable_funds) and unavailable_funds < 0:
        errors["unavailable_funds"] = ["cannot be negative"]
    if opening_result is not None and year != target["start_year"]:
        errors["opening_result"] = [f"only for the first plan year ({target['start_year']})"]
    if errors:
        raise ValidationError("balance inputs not accepted", errors)
    entered = BalanceInput(year, opening_result, unavailable_funds or 0.0, corrected_loan_outlays)
    before = store.save_balance_input(unit.conn, plan_id, entered)
    unit.changes.other = True
    unit.audit("plan", plan_id, before=before, after=entered.__dict__, message=f"balance inputs {year}")
    return entered


def _finite(value: float) -> bool:
    import math
    return isinstance(value, (int, float)) and math.isfinite(value)


@dataclass
class ItemFinance:
    code: str
    source: str
    years: list[Any]  # obmi.finance.figures.YearFigures per plan year with any amount


@operation("plans.read", resource=item_resource)
def item_finance(unit: Unit, item_id: int, *, version: int | None = None) -> ItemFinance:
    """One item's finance per plan year (with everything under it): planned vs. realised,
    bestedingsgraad and the forecasts of the year with realisaties."""
    row = plan_store.get_item(unit.conn, item_id)
    target = plan_store.get_plan(unit.conn, row["plan_id"])
    chosen = version_or_latest(unit, target["id"], version)
    figures = finance_figures(unit.conn, target["id"], chosen["id"])
    years = [figures.item_year(row["code"], year) for year in range(target["start_year"], target["end_year"] + 1)]
    return ItemFinance(row["code"], figures.source, [y for y in years if not y.money.empty])
