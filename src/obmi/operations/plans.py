"""Plans (BBC 2020): importing a plan and its amendments as versions, reading items and their
amounts, comparing versions, and the per-item follow-up settings (owner, priority, publish …).
Status reporting, KPIs and milestones are in obmi.operations.followup."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Sequence

from obmi.auth.permissions import Resource
from obmi.errors import ImportRejected, NotFound, ValidationError
from obmi.imports.runs import ImportStats, file_sha256, run_import
from obmi.operations.registry import Unit, operation
from obmi.plans import bbc
from obmi.plans.diff import PlanDiff, PlanSnapshot, diff, snapshot_of
from obmi.plans.model import ItemDraft, ItemKind
from obmi.plans.readers import parse_priority, read_plan_files
from obmi.plans.tree import Tree
from obmi.plans.validate import check_draft
from obmi.plans.workflow import StaleEdit
from obmi.store import accounts as account_store
from obmi.store import plans as store

DEFAULT_YEARS = (2026, 2031)  # the meerjarenplan 2026–2031
ENTITY_KINDS = ("gemeente_ocmw", "agb", "other")


def _now() -> datetime:
    return datetime.now(UTC)


def _organisation(unit: Unit, organisation: str | None) -> str:
    code = organisation or unit.actor.organisation
    if not code:
        raise ValidationError("which organisation? (--org ORG)", {"organisation": ["required"]})
    if account_store.get_organisation(unit.conn, code) is None:
        raise NotFound(f"unknown organisation {code!r}")
    return code


# --- resources: what the permission check is about -------------------------------------------

def organisation_resource(unit: Unit, *args: Any, organisation: str | None = None, **_: Any) -> Resource:
    return Resource("plan", None, organisation or unit.actor.organisation)


def plan_resource(unit: Unit, plan_id: int, /, *args: Any, **_: Any) -> Resource:
    row = store.get_plan(unit.conn, plan_id)
    return Resource("plan", plan_id, row["organisation"])


def item_resource(unit: Unit, item_id: int, /, *args: Any, **_: Any) -> Resource:
    row = store.get_item(unit.conn, item_id)
    return Resource("plan_item", item_id, row["organisation"], owner=row["owner"])


# --- import ---------------------------------------------------------------------------------

@dataclass
class PlanImportResult:
    import_id: int
    status: str  # created, new_version, unchanged, dry_run
    plan_id: int
    plan_code: str
    version: int | None  # the version written (None: unchanged)
    diff: PlanDiff
    layout: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.diff.counts().items() if v) or "no differences"
        where = f"plan {self.plan_code}" + (f", version {self.version}" if self.version else "")
        return f"import {self.import_id} ({self.status}): {where} — {counts}"


@operation("plans.import", resource=organisation_resource)
def import_plan(unit: Unit, paths: Sequence[Path], *, organisation: str | None = None, plan: str | None = None,
                entity: str = "gemeente-ocmw", entity_name: str | None = None, entity_kind: str = "gemeente_ocmw",
                title: str | None = None, label: str = "", motivering: str = "") -> PlanImportResult:
    """Import a plan (the shared BBC JSON, the documented CSV/XLSX layout or a budget-registration
    export; recognised by content). A changed plan becomes a new version; the same plan again
    changes nothing. With dry_run=True, only the difference is computed."""
    org = _organisation(unit, organisation)
    files = [Path(p) for p in paths]
    if not files:
        raise ValidationError("no plan file given")
    if entity_kind not in ENTITY_KINDS:
        raise ValidationError(f"unknown budget entity kind {entity_kind!r}", {"entity_kind": list(ENTITY_KINDS)})
    outcome: dict[str, Any] = {}

    def work(conn: Any, run_id: int) -> ImportStats:
        draft = read_plan_files(files)
        target = _plan_for(unit, org, plan, entity, entity_name or entity, entity_kind, title, draft)
        base = store.get_version(conn, target["id"], None)
        if draft.amounts_only and base is None:
            raise ValidationError(f"plan {target['code']} has no items yet: import its structure (beleidsdoelstellingen,"
                                  " actieplannen, acties) before a budget-registration file")
        existing = {code: ItemKind(kind) for code, kind in store.item_kinds(conn, target["id"]).items()}
        check_draft(draft, existing=existing if base is not None else None,
                    years=range(target["start_year"], target["end_year"] + 1))
        _check_owners(conn, org, draft.items)
        old = store.snapshot(conn, base["id"]) if base is not None else PlanSnapshot(items={}, amounts={})
        changes = diff(old, snapshot_of(draft, base=old))
        outcome.update(plan=target, diff=changes, layout=draft.layout, notes=list(draft.notes))
        stats = ImportStats(rows_in=len(draft.items) + len(draft.amounts), rows_ok=len(draft.items) + len(draft.amounts))
        stats.notes.extend(draft.notes)
        if changes.is_empty and base is not None:
            stats.unchanged = stats.rows_in
            return stats
        items = _items_of(conn, base["id"]) if draft.amounts_only and base is not None else draft.items
        version = store.add_version(conn, plan_id=target["id"], label=label, motivering=motivering,
                                    layout=draft.layout, import_id=run_id, now=_now(), user=unit.actor.label)
        store.write_version_content(conn, plan_id=target["id"], version_id=version["id"], items=items,
                                    amounts=draft.amounts, now=_now(), user=unit.actor.label)
        outcome["version"] = version["number"]
        stats.inserted = len(changes.added)
        stats.updated = stats.rows_in - stats.inserted
        unit.changes.other = True
        unit.audit("plan", target["id"], after={"version": version["number"], "label": version["label"],
                                                "layout": draft.layout, "differences": changes.counts()},
                   message=f"plan {target['code']}: version {version['number']} ({version['label']})")
        return stats

    result = run_import(unit, kind="plan", file_name=", ".join(p.name for p in files), sha256=file_sha256(files),
                        work=work)
    target = outcome["plan"]
    version = outcome.get("version")
    status = ("dry_run" if unit.dry_run else "unchanged" if version is None
              else "created" if version == 1 else "new_version")
    return PlanImportResult(result.import_id, status, target["id"], target["code"], None if unit.dry_run else version,
                            outcome["diff"], outcome["layout"], outcome["notes"])


def _plan_for(unit: Unit, org: str, code: str | None, entity: str, entity_name: str, entity_kind: str,
              title: str | None, draft: Any) -> dict[str, Any]:
    conn = unit.conn
    found = store.find_plan(conn, organisation=org, code=code)
    if found is not None:
        return found
    years = sorted({a.year for a in draft.amounts}) or list(DEFAULT_YEARS)
    start, end = min(years[0], DEFAULT_YEARS[0]), max(years[-1], DEFAULT_YEARS[1])
    budget = store.get_or_add_entity(conn, organisation=org, code=entity, name=entity_name, kind=entity_kind)
    new_code = code or f"MJP{start}-{end}"
    unit.audit("plan", new_code, after={"organisation": org, "entity": entity, "years": [start, end]},
               message=f"new plan {new_code}")
    return store.add_plan(conn, organisation=org, entity_id=budget["id"], code=new_code,
                          title=title or f"Meerjarenplan {start}–{end}", start_year=start, end_year=end, now=_now())


def _check_owners(conn: Any, org: str, items: list[ItemDraft]) -> None:
    """An owner named in a plan file must be a user of the organisation (they will report)."""
    members = {u.name for u in account_store.list_users(conn, organisation_code=org)}
    for item in items:  # user names are lower case (sign-in names)
        item.owner = item.owner.strip().lower() if item.owner else None
    unknown = [(i.line, f"owner {i.owner!r} of {i.code} is not a user of organisation {org}")
               for i in items if i.owner and i.owner not in members]
    if unknown:
        raise ImportRejected(f"{len(unknown)} items name an unknown owner; nothing was changed", unknown)


def _items_of(conn: Any, version_id: int) -> list[ItemDraft]:
    """The items of a stored version as drafts (an amounts-only import keeps the structure)."""
    return [ItemDraft(code=r["code"], kind=ItemKind(r["kind"]), line=0, parent=r["parent_code"],
                      title_short=r["title_short"], title_long=r["title_long"], description=r["description"],
                      beleidsdomein=r["beleidsdomein"], beleidsveld=r["beleidsveld"], beleidsitem=r["beleidsitem"])
            for r in store.version_items(conn, version_id)]


# --- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanInfo:
    id: int
    organisation: str
    code: str
    title: str
    start_year: int
    end_year: int
    entity: dict[str, Any]
    versions: list[dict[str, Any]]


@operation("plans.read", resource=organisation_resource)
def list_plans(unit: Unit, *, organisation: str | None = None) -> list[PlanInfo]:
    """The plans of an organisation (administrators: of every organisation) with their versions."""
    org = organisation or (None if unit.actor.is_admin else unit.actor.organisation)
    return [_plan_info(unit, r) for r in store.list_plans(unit.conn, org)]


@operation("plans.read", resource=plan_resource)
def plan_info(unit: Unit, plan_id: int) -> PlanInfo:
    """One plan with its budget entity and versions (no items: cheap, whatever the plan's size)."""
    row = store.get_plan(unit.conn, plan_id)
    return next(_plan_info(unit, r) for r in store.list_plans(unit.conn, row["organisation"]) if r["id"] == plan_id)


def _plan_info(unit: Unit, r: dict[str, Any]) -> PlanInfo:
    return PlanInfo(r["id"], r["organisation"], r["code"], r["title"], r["start_year"], r["end_year"],
                    {"code": r["entity_code"], "name": r["entity_name"], "kind": r["entity_kind"]},
                    [_version_info(v) for v in store.versions(unit.conn, r["id"])])


def _version_info(v: dict[str, Any]) -> dict[str, Any]:
    return {k: v[k] for k in ("number", "kind", "label", "motivering", "layout", "import_id", "created_at",
                              "created_by")}


def version_or_latest(unit: Unit, plan_id: int, number: int | None) -> dict[str, Any]:
    version = store.get_version(unit.conn, plan_id, number)
    if version is None:
        raise NotFound(f"plan {plan_id} has no version {number}" if number else f"plan {plan_id} has no versions yet")
    return version


@dataclass(frozen=True)
class SummaryRow:
    code: str
    title: str
    year: int
    amount: float


@operation("plans.read", resource=organisation_resource)
def plan_summary(unit: Unit, *, organisation: str | None = None, plan: str | None = None,
                 version: int | None = None) -> list[SummaryRow]:
    """One row per beleidsdoelstelling × year: the planned expenditure (uitgaven) of everything
    under it, as imported in the chosen (default: latest) version."""
    org = _organisation(unit, organisation)
    found = store.find_plan(unit.conn, organisation=org, code=plan)
    if found is None:
        raise NotFound(f"organisation {org} has no plan" + (f" {plan}" if plan else ""))
    chosen = version_or_latest(unit, found["id"], version)
    rows = store.version_items(unit.conn, chosen["id"])
    tree = Tree.of(rows)
    per_year: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for amount in store.version_amounts(unit.conn, chosen["id"]):
        if amount["direction"] == "uitgave":
            per_year[amount["item_id"]][amount["year"]] += amount["amount"]
    out: list[SummaryRow] = []
    for item_id in tree.kids(None):
        row = tree.items[item_id]
        if row["kind"] != ItemKind.BELEIDSDOELSTELLING:
            continue
        totals: dict[int, float] = defaultdict(float)
        for member in (item_id, *tree.descendants(item_id)):
            for year, money in per_year[member].items():
                totals[year] += money
        title = row["title_short"] or row["title_long"]
        out.extend(SummaryRow(row["code"], title, year, totals.get(year, 0.0))
                   for year in range(found["start_year"], found["end_year"] + 1))
    return out


@operation("plans.read", resource=plan_resource)
def compare_plan_versions(unit: Unit, plan_id: int, old: int, new: int) -> PlanDiff:
    """What changed between two versions of a plan (added, removed, moved, retitled, amounts)."""
    before, after = version_or_latest(unit, plan_id, old), version_or_latest(unit, plan_id, new)
    return diff(store.snapshot(unit.conn, before["id"]), store.snapshot(unit.conn, after["id"]))


# --- per-item settings ----------------------------------------------------------------------

ITEM_FIELDS = {"priority": bool, "owner": str, "department": str, "mandataris": str, "start_date": date,
               "end_date": date, "tags": list, "weight": float, "publish": bool}


def _check_item_values(unit: Unit, org: str, values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in ITEM_FIELDS:
            errors[name] = [f"not an item setting (settings: {', '.join(ITEM_FIELDS)})"]
            continue
        try:
            clean[name] = _coerce(name, value)
        except (TypeError, ValueError) as exc:
            errors[name] = [str(exc)]
    owner = clean.get("owner")
    if owner:
        user = account_store.get_user(unit.conn, owner)
        if user is None or user.organisation != org:
            errors["owner"] = [f"{owner!r} is not a user of organisation {org}"]
    start, end = clean.get("start_date"), clean.get("end_date")
    if start and end and end < start:
        errors["end_date"] = ["ends before it starts"]
    if errors:
        raise ValidationError("the item settings are not valid", errors)
    return clean


def _coerce(name: str, value: Any) -> Any:
    kind = ITEM_FIELDS[name]
    if value is None or value == "":
        if kind is bool:
            return False
        return [] if kind is list else None
    if kind is bool:
        return bool(parse_priority("ja" if value == "on" else value))  # "on": an HTML checkbox
    if kind is date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind is float:
        number = float(str(value).replace(",", "."))
        if not (0 <= number < 1e9):
            raise ValueError("a weight of 0 or more")
        return number
    if kind is list:
        items = value if isinstance(value, list) else str(value).replace(",", ";").split(";")
        return sorted({str(t).strip()[:60] for t in items if str(t).strip()})
    text = str(value).strip()
    if len(text) > 200 or "\x00" in text:
        raise ValueError("at most 200 characters")
    return text


@operation("plans.manage", resource=item_resource)
def update_item(unit: Unit, item_id: int, *, expected_version: int, **values: Any) -> dict[str, Any]:
    """Change an item's follow-up settings (owner, department, mandataris, priority, publish,
    weight, tags, dates). `expected_version` is the item's row version the edit was based on:
    when someone else changed it since, nothing is written and both versions are shown."""
    current = store.get_item(unit.conn, item_id)
    clean = _check_item_values(unit, current["organisation"], values)
    if not store.update_item_settings(unit.conn, item_id, expected_version=expected_version, values=clean,
                                      now=_now(), user=unit.actor.label):
        theirs = store.get_item(unit.conn, item_id)
        raise StaleEdit(mine=clean, theirs={k: theirs[k] for k in clean}, theirs_version=theirs["row_version"],
                        changed_by=theirs["updated_by"], changed_at=theirs["updated_at"], what=f"item {current['code']}")
    unit.changes.other = True
    unit.audit("plan_item", item_id, before={k: current[k] for k in clean}, after=clean,
               message=f"settings of {current['code']} changed")
    return store.get_item(unit.conn, item_id)


# --- configuration --------------------------------------------------------------------------

@operation("plans.manage", resource=organisation_resource)
def add_budget_entity(unit: Unit, code: str, name: str, *, kind: str = "gemeente_ocmw",
                      organisation: str | None = None) -> dict[str, Any]:
    """Add a budget entity (gemeente and OCMW jointly, an AGB apart) to an organisation."""
    org = _organisation(unit, organisation)
    if kind not in ENTITY_KINDS:
        raise ValidationError(f"unknown budget entity kind {kind!r}", {"kind": list(ENTITY_KINDS)})
    row = store.get_or_add_entity(unit.conn, organisation=org, code=code, name=name, kind=kind)
    unit.changes.other = True
    unit.audit("budget_entity", row["id"], after=row)
    return row


def beleidsvelden() -> list[dict[str, str]]:
    """The shipped list of beleidsvelden (public reference data: no store, no permission)."""
    return [{"beleidsveld": code, "beleidsdomein": domain, "name": name,
             "beleidsdomein_name": bbc.BELEIDSDOMEINEN[domain]}
            for code, (domain, name) in sorted(bbc.beleidsvelden().items())]
