"""What the follow-up pages show: a plan's items with their derived progress and status, one
item with everything about it (history from the audit log), the college dashboard, due and
overdue lists, the reminder digests, and the public transparency view (approved and published
only)."""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from obmi import mail
from obmi.auth.permissions import allowed
from obmi.errors import NotFound
from obmi.operations import signals as signal_ops
from obmi.operations.followup import FINISHED, REPORTING_KINDS, kpi_views, milestone_view
from obmi.operations.plans import _organisation, item_resource, organisation_resource, plan_resource, version_or_latest
from obmi.operations.registry import Unit, operation
from obmi.plans import periods as period_rules
from obmi.plans import rollup as rollup_rules
from obmi.plans.bbc import BELEIDSDOMEINEN
from obmi.plans.model import ItemKind, ItemStatus, UpdateState
from obmi.plans.tree import Tree
from obmi.store import accounts as account_store
from obmi.store import audit as audit_store
from obmi.store import followup as store
from obmi.store import plans as plan_store
from obmi.store import signals as signal_store
from obmi.store.state import read_state

# --- the plan as a tree with derived progress --------------------------------------------------

@dataclass
class PlanState:
    """One plan version with everything the views derive from it."""
    plan: dict[str, Any]
    version: dict[str, Any]
    tree: Tree
    approved: dict[int, dict[str, Any]]  # item id → latest approved update
    results: dict[int, Any]  # item id → rollup.Result
    priority: dict[int, bool]
    budgets: dict[int, float]  # planned expenditure of the item and everything under it
    config: dict[str, Any]
    by_code: dict[str, int] = field(default_factory=dict)
    _rows: dict[int, dict[str, Any]] | None = None
    _due: dict[date, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self) -> dict[int, dict[str, Any]]:
        """Every item's row, computed once per state (callers copy before changing one)."""
        if self._rows is None:
            self._rows = {i: self.row(i) for i in self.tree.items}
        return self._rows

    def row(self, item_id: int) -> dict[str, Any]:
        item = self.tree.items[item_id]
        result = self.results.get(item_id)
        latest = self.approved.get(item_id)
        return {"id": item_id, "code": item["code"], "kind": item["kind"],
                "title": item["title_short"] or item["title_long"], "title_long": item["title_long"],
                "parent_id": item["parent_id"], "parent_code": item["parent_code"],
                "beleidsdomein": item["beleidsdomein"] or self._domain(item_id), "beleidsveld": item["beleidsveld"],
                "owner": item["owner"], "department": item["department"], "mandataris": item["mandataris"],
                "priority": self.priority.get(item_id, False), "priority_set": bool(item["priority"]),
                "publish": item["publish"], "tags": item["tags"] or [], "row_version": item["row_version"],
                "start_date": item["start_date"], "end_date": item["end_date"], "weight": item["weight"],
                "status": result.status.value if result is not None and result.status is not None else None,
                "progress": result.progress if result is not None else None,
                "reported_period": latest["period_code"] if latest else None,
                "knelpunten": latest["knelpunten"] if latest else "",
                "budget": self.budgets.get(item_id, 0.0),
                "children": len(self.tree.kids(item_id))}

    def _domain(self, item_id: int) -> str | None:
        top = self.tree.items[self.tree.top_of(item_id)]
        domain: str | None = top["beleidsdomein"]
        return domain


# Derived plan states by (database, plan, version, data version, day): every write advances the
# data version, so an entry is never stale; the dashboard, the item list and the item pages of
# one unchanged plan share one computation. The state holds no actor-specific data.
_STATES: OrderedDict[tuple[Any, ...], PlanState] = OrderedDict()
STATE_CACHE_SIZE = 16


def load_state(unit: Unit, plan_id: int, version: int | None = None, *, today: date | None = None) -> PlanState:
    day = today or date.today()
    key = (id(unit.ctx.db), plan_id, version, read_state(unit.conn).tag, day)
    state = _STATES.get(key)
    if state is None:
        state = _compute_state(unit, plan_id, version, day)
        _STATES[key] = state
        while len(_STATES) > STATE_CACHE_SIZE:
            _STATES.popitem(last=False)
    else:
        _STATES.move_to_end(key)
    return state


def _compute_state(unit: Unit, plan_id: int, version: int | None, day: date) -> PlanState:
    found = plan_store.get_plan(unit.conn, plan_id)
    chosen = version_or_latest(unit, plan_id, version)
    rows = plan_store.version_items(unit.conn, chosen["id"])
    tree = Tree.of(rows)
    config = plan_store.get_config(unit.conn, found["organisation"])
    own = plan_store.own_expenditure(unit.conn, chosen["id"])
    budgets = tree.subtree_totals(own)
    approved = store.latest_approved(unit.conn, plan_id, until=day)
    rule = rollup_rules.parse_rule(config["rollup"] or {})
    results: dict[int, Any] = {}
    by_code = {r["code"]: r["id"] for r in rows}
    for top in tree.kids(None):  # a node's budget is its own: the roll-up adds its children's
        _collect(rollup_rules.rollup(_node(tree, top, approved, own), rule), by_code, results)
    return PlanState(found, chosen, tree, approved, results, tree.effective_priority(config["priority_propagation"]),
                     budgets, config, by_code)


def _node(tree: Tree, item_id: int, approved: dict[int, dict[str, Any]], own: dict[int, float]) -> Any:
    item = tree.items[item_id]
    latest = approved.get(item_id)
    return rollup_rules.Node(code=item["code"], title=item["title_short"] or item["title_long"],
                             kind=ItemKind(item["kind"]),
                             progress=latest["progress"] if latest else None,
                             status=ItemStatus(latest["status"]) if latest else None,
                             weight=item["weight"], budget=own.get(item_id, 0.0),
                             children=[_node(tree, k, approved, own) for k in tree.kids(item_id)])


def _collect(result: Any, by_code: dict[str, int], out: dict[int, Any]) -> None:
    stack = [result]
    while stack:
        current = stack.pop()
        out[by_code[current.code]] = current
        stack.extend(current.children)


@dataclass(frozen=True)
class ItemFilter:
    kind: str | None = None
    status: str | None = None
    owner: str | None = None
    department: str | None = None
    mandataris: str | None = None
    beleidsdomein: str | None = None
    priority: bool | None = None
    search: str | None = None
    tag: str | None = None

    def keeps(self, row: dict[str, Any]) -> bool:
        for name in ("kind", "status", "owner", "department", "mandataris", "beleidsdomein"):
            wanted = getattr(self, name)
            if wanted and row[name] != wanted:
                return False
        if self.priority is not None and row["priority"] != self.priority:
            return False
        if self.tag and self.tag not in row["tags"]:
            return False
        if self.search:
            needle = self.search.lower()
            return needle in row["code"].lower() or needle in (row["title"] or "").lower() \
                or needle in (row["title_long"] or "").lower()
        return True


@dataclass(frozen=True)
class ItemList:
    plan: dict[str, Any]
    version: dict[str, Any]
    items: list[dict[str, Any]]
    total: int


@operation("plans.read", resource=plan_resource)
def plan_items(unit: Unit, plan_id: int, *, version: int | None = None, filters: ItemFilter | None = None,
               limit: int = 10000, offset: int = 0) -> ItemList:
    """The items of a plan version in hierarchy order, with derived progress and status, the
    effective priority and planned budget; filtered and searched."""
    state = load_state(unit, plan_id, version)
    chosen = filters or ItemFilter()
    rows = state.rows()
    kept = [dict(rows[i]) for i in _in_order(state.tree) if chosen.keeps(rows[i])]
    return ItemList(state.plan, state.version, kept[offset:offset + limit], len(kept))


def _in_order(tree: Tree) -> list[int]:
    out: list[int] = []
    for top in tree.kids(None):
        out.append(top)
        out.extend(tree.descendants(top))
    return out


# --- one item --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemDetail:
    item: dict[str, Any]
    plan: dict[str, Any]
    version: dict[str, Any]
    ancestors: list[dict[str, Any]]
    children: list[dict[str, Any]]
    explanation: list[str]
    rollup: Any
    amounts: list[dict[str, Any]]
    versions: list[dict[str, Any]]  # what each version says about the item, side by side
    updates: list[dict[str, Any]]
    kpis: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    history: list[dict[str, Any]]
    periods: list[dict[str, Any]]
    signals: list[dict[str, Any]] = field(default_factory=list)  # open and acknowledged, as the actor may see them


@operation("plans.read", resource=item_resource)
def item_detail(unit: Unit, item_id: int, *, version: int | None = None, lang: str = "nl") -> ItemDetail:
    """Everything about one item: its place, derived progress with how it was computed, amounts
    per year, every version's text, status updates, KPIs, milestones and full history."""
    item = plan_store.get_item(unit.conn, item_id)
    today = date.today()
    state = load_state(unit, item["plan_id"], version, today=today)
    if item_id not in state.tree.items:
        raise NotFound(f"item {item['code']} is not in version {state.version['number']} of the plan")
    result = state.results[item_id]
    updates = store.item_updates(unit.conn, item_id)
    reporter = allowed(unit.actor, "status.report", unit.target)
    if not reporter:
        # Drafts, submitted and returned updates are the owner's and the coordinators' business.
        updates = [u for u in updates if u["state"] == UpdateState.APPROVED]
    files = defaultdict(list)
    for row in store.attachments(unit.conn, [u["id"] for u in updates]):
        files[row["update_id"]].append(row)
    history = audit_store.query_events(unit.conn, audit_store.AuditFilter(resource_type="plan_item",
                                                                          resource_id=str(item_id)), limit=500)
    return ItemDetail(
        item=state.row(item_id), plan=state.plan, version=state.version,
        ancestors=[state.row(a) for a in reversed(state.tree.ancestors(item_id))],
        children=[state.row(k) for k in state.tree.kids(item_id)],
        explanation=rollup_rules.explain_text(result, lang=lang), rollup=result,
        amounts=_amounts(unit, state, item_id), versions=_item_versions(unit, item["plan_id"], item_id),
        updates=[{**u, "attachments": files.get(u["id"], [])} for u in updates],
        kpis=kpi_views(unit, store.item_kpis(unit.conn, [item_id]), today),
        milestones=[milestone_view(m, today) for m in store.milestones(unit.conn, [item_id])],
        history=history[0] if reporter else [{**e, "before": None, "after": None} for e in history[0]],
        periods=store.periods(unit.conn, item["organisation"]),
        signals=signal_ops.visible_signals(unit, item["plan_id"], item["organisation"], item_id=item_id,
                                           states=("open", "acknowledged")))


def _amounts(unit: Unit, state: PlanState, item_id: int) -> list[dict[str, Any]]:
    members = [item_id, *state.tree.descendants(item_id)]
    per_year: dict[tuple[int, str], float] = defaultdict(float)
    for amount in plan_store.version_amounts(unit.conn, state.version["id"], members):
        per_year[(amount["year"], amount["direction"])] += amount["amount"]
    return [{"year": year, "direction": direction, "amount": total}
            for (year, direction), total in sorted(per_year.items())]


def _item_versions(unit: Unit, plan_id: int, item_id: int) -> list[dict[str, Any]]:
    present = plan_store.item_in_versions(unit.conn, item_id)
    out = []
    for version in plan_store.versions(unit.conn, plan_id):
        row = present.get(version["id"])
        out.append({"number": version["number"], "label": version["label"], "motivering": version["motivering"],
                    "present": row is not None, "title": (row["title_short"] or row["title_long"]) if row else None,
                    "parent": row["parent_code"] if row else None, "amount": row["amount"] if row else 0.0})
    return out


# --- the college dashboard -------------------------------------------------------------------

@dataclass(frozen=True)
class Dashboard:
    plan: dict[str, Any]
    version: dict[str, Any]
    period: dict[str, Any] | None
    status_counts: dict[str, int]  # reporting items by status ("geen" : no approved update yet)
    priority_items: list[dict[str, Any]]
    knelpunten: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    awaiting_approval: list[dict[str, Any]]
    domains: list[dict[str, Any]]  # progress per beleidsdomein
    objectives: list[dict[str, Any]]
    # The lists show the first DASHBOARD_LIST entries (earliest deadline, oldest first); these
    # are the full numbers.
    overdue_total: int = 0
    knelpunten_total: int = 0
    awaiting_total: int = 0
    # Early-warning signals the actor may see: open ones first, then acknowledged (first DASHBOARD_LIST).
    signals: list[dict[str, Any]] = field(default_factory=list)
    signals_open: int = 0
    signals_total: int = 0


DASHBOARD_LIST = 50


@operation("plans.read", resource=plan_resource)
def college_dashboard(unit: Unit, plan_id: int, *, today: date | None = None) -> Dashboard:
    """The college's view of a plan: status distribution, priority items, knelpunten, overdue
    updates, updates awaiting approval, progress per beleidsdomein."""
    day = today or date.today()
    state = load_state(unit, plan_id, today=day)
    rows = state.rows()
    reporting = [r for r in rows.values() if r["kind"] in REPORTING_KINDS]
    counts = Counter(r["status"] if r["reported_period"] else "geen" for r in reporting)
    period = _current_period(unit, state.plan["organisation"], day)
    due = _due(unit, state, rows, day)
    tops = [dict(rows[i]) for i in state.tree.kids(None)]
    overdue = [d for d in due if d["state"] == "overdue"]
    knelpunten = [r for r in rows.values() if r["knelpunten"]]
    awaiting = _awaiting(unit, state, rows)
    signals = signal_ops.visible_signals(unit, plan_id, state.plan["organisation"], states=("open", "acknowledged"))
    signals.sort(key=lambda x: x["state"] != "open")  # stable: open first, each by severity and age
    return Dashboard(
        plan=state.plan, version=state.version, period=period,
        status_counts={s: counts.get(s, 0) for s in [*[x.value for x in ItemStatus], "geen"]},
        priority_items=[dict(r) for r in rows.values() if r["priority"]
                        and r["kind"] in ("beleidsdoelstelling", "actieplan")],
        knelpunten=[dict(r) for r in knelpunten[:DASHBOARD_LIST]],
        overdue=[dict(d) for d in overdue[:DASHBOARD_LIST]],
        awaiting_approval=awaiting[:DASHBOARD_LIST],
        domains=_domains(reporting), objectives=tops, overdue_total=len(overdue), knelpunten_total=len(knelpunten),
        awaiting_total=len(awaiting), signals=signals[:DASHBOARD_LIST],
        signals_open=sum(x["state"] == "open" for x in signals), signals_total=len(signals))


def _current_period(unit: Unit, org: str, day: date) -> dict[str, Any] | None:
    started = [p for p in store.periods(unit.conn, org) if p["start_date"] <= day]
    return started[-1] if started else None


def _domains(reporting: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per beleidsdomein: the mean progress and the statuses of the items reported on (actions
    carry the beleidsdomein in BBC exports; others inherit their objective's)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in reporting:
        groups[row["beleidsdomein"] or "??"].append(row)
    out = []
    for domain, members in sorted(groups.items()):
        values = [m["progress"] or 0.0 for m in members]
        out.append({"beleidsdomein": domain, "name": BELEIDSDOMEINEN.get(domain, "onbekend"), "items": len(members),
                    "progress": sum(values) / len(values) if values else None,
                    "statuses": dict(Counter(m["status"] or "geen" for m in members))})
    return out


def _awaiting(unit: Unit, state: PlanState, rows: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**rows[u["item_id"]], "update_id": u["id"], "period_code": u["period_code"],
             "submitted_by": u["submitted_by"], "submitted_at": u["submitted_at"], "update_version": u["row_version"]}
            for u in store.submitted_updates(unit.conn, state.plan["id"]) if u["item_id"] in rows]


def _due(unit: Unit, state: PlanState, rows: dict[int, dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """Reporting items without a submitted or approved update for a reporting period of the plan's
    years that has started (finished items need none), with their due state: open, due_soon,
    overdue. Returned updates count as due. Computed once per plan state and day."""
    if day in state._due:
        return state._due[day]
    started: dict[int, tuple[dict[str, Any], period_rules.DueState]] = {}
    for period in store.periods(unit.conn, state.plan["organisation"]):
        if not state.plan["start_year"] <= period["start_date"].year <= state.plan["end_year"]:
            continue
        spec = period_rules.PeriodSpec(period["code"], period["label_nl"], period["label_en"], period["start_date"],
                                       period["end_date"], period["deadline"])
        when = period_rules.due_state(spec, day, remind_days_before=state.config["remind_days_before"])
        if when != "not_yet":
            started[period["id"]] = (period, when)
    out = []
    for gap in store.open_updates(unit.conn, version_id=state.version["id"], kinds=REPORTING_KINDS,
                                  period_ids=started):
        period, when = started[gap["period_id"]]
        row = rows.get(gap["item_id"])
        if row is None or _finished_before(row, period):
            continue
        out.append({**row, "period_id": period["id"], "period_code": period["code"],
                    "period_label": period["label_nl"], "deadline": period["deadline"], "state": when,
                    "update_state": gap["state"]})
    out.sort(key=lambda d: (d["deadline"], d["code"]))
    state._due[day] = out
    return out


def _finished_before(row: dict[str, Any], period: dict[str, Any]) -> bool:
    """Nothing more to report for `period`: the item was finished (afgerond, stopgezet) in an
    earlier period, or a later period's update was approved already (the gap is history)."""
    reported = row["reported_period"]
    if reported is None:
        return False
    return reported > period["code"] or (row["status"] in FINISHED and reported < period["code"])


@dataclass(frozen=True)
class DueList:
    period: dict[str, Any] | None
    items: list[dict[str, Any]]


@operation("plans.read", resource=plan_resource)
def due_updates(unit: Unit, plan_id: int, *, owner: str | None = None, department: str | None = None,
                today: date | None = None) -> DueList:
    """The status updates due or overdue (every started reporting period of the plan), per person
    or department; returned updates count as due."""
    day = today or date.today()
    state = load_state(unit, plan_id, today=day)
    period = _current_period(unit, state.plan["organisation"], day)
    rows = state.rows()
    items = [dict(d) for d in _due(unit, state, rows, day)
             if (owner is None or d["owner"] == owner) and (department is None or d["department"] == department)]
    return DueList(period, items)


# --- reminders -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderRun:
    sent: list[dict[str, Any]]
    skipped: int


@operation("plans.remind", resource=organisation_resource)
def send_reminders(unit: Unit, *, organisation: str | None = None, today: date | None = None) -> ReminderRun:
    """Mail each owner one digest of their updates due soon (before the deadline) or overdue,
    grouped per reporting period, with their open early-warning signals (evaluated first).
    Idempotent: per owner and period, the "before" reminder goes out once, the overdue one at
    most once every `remind_every_days`; a new signal alone brings a digest once."""
    org = _organisation(unit, organisation)
    day = today or date.today()
    config = plan_store.get_config(unit.conn, org)
    per_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    signals_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for found in plan_store.list_plans(unit.conn, org):
        if plan_store.get_version(unit.conn, found["id"], None) is None:
            continue
        state = load_state(unit, found["id"], today=day)
        for due in _due(unit, state, state.rows(), day):
            if due["owner"] and due["state"] in ("due_soon", "overdue"):
                per_owner[due["owner"]].append(due)
        signal_ops.sync_signals(unit, found["id"], day)
        for row in signal_store.plan_signals(unit.conn, found["id"], states=("open",)):
            if row["owner"]:
                signals_of[row["owner"]].append(row)
    sent, skipped = [], 0
    for owner in sorted(per_owner.keys() | signals_of.keys()):
        user = account_store.get_user(unit.conn, owner)
        pending = [group for group in _per_period(per_owner.get(owner, []))
                   if not _reminded(unit, owner, group, config, day)]
        signals = signals_of.get(owner, [])
        fresh = [x for x in signals if x["notified_at"] is None]
        if user is None or not user.email or not (pending or fresh):
            skipped += owner in per_owner or bool(fresh)
            continue
        mail.send(unit.settings, to=user.email, subject=_subject(pending, len(fresh)),
                  body=_digest(unit, pending, signals))
        for group in pending:
            store.record_reminder(unit.conn, user=owner, period_id=group["period_id"], kind=group["kind"], sent_on=day)
        signal_ops.mark_notified(unit, [x["id"] for x in fresh])
        sent.append({"user": owner, "periods": [g["period_code"] for g in pending],
                     "kind": "overdue" if any(g["kind"] == "overdue" for g in pending) else "before" if pending
                     else "signals",
                     "items": [i["code"] for g in pending for i in g["items"]], "signals": [x["id"] for x in signals]})
    if sent:
        unit.changes.other = True
    unit.audit("reporting_period", org, after={"sent": sent, "skipped": skipped},
               message=f"reminders of {org}: {len(sent)} sent")
    return ReminderRun(sent, skipped)


def _per_period(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Due items grouped by their reporting period, the earliest deadline first."""
    groups: dict[int, dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: (i["deadline"], i["code"])):
        group = groups.setdefault(item["period_id"], {
            "period_id": item["period_id"], "period_code": item["period_code"], "period_label": item["period_label"],
            "deadline": item["deadline"], "kind": "overdue" if item["state"] == "overdue" else "before", "items": []})
        group["items"].append(item)
    return list(groups.values())


def _reminded(unit: Unit, owner: str, group: dict[str, Any], config: dict[str, Any], day: date) -> bool:
    since = day - timedelta(days=config["remind_every_days"] - 1) if group["kind"] == "overdue" else date.min
    return store.reminder_was_sent(unit.conn, user=owner, period_id=group["period_id"], kind=group["kind"], since=since)


def _subject(groups: list[dict[str, Any]], new_signals: int = 0) -> str:
    if not groups:
        return f"Signalen: {new_signals} nieuw(e) signaal/signalen in de beleidsopvolging"
    count = sum(len(g["items"]) for g in groups)
    first = groups[0]
    if any(g["kind"] == "overdue" for g in groups):
        late = [g for g in groups if g["kind"] == "overdue"]
        return f"Te laat: {count} statusrapportering(en) voor {', '.join(g['period_code'] for g in late)}"
    return f"Herinnering: {count} statusrapportering(en) voor {first['period_code']} tegen {first['deadline']:%d/%m/%Y}"


def _digest(unit: Unit, groups: list[dict[str, Any]], signals: list[dict[str, Any]] | None = None) -> str:
    base = unit.settings.base_url.rstrip("/")
    lines = ["Beste,", ""]
    if signals:
        lines.append("Signalen die uw aandacht vragen (erkennen met een opmerking kan op de pagina van het item):")
        for x in signals:
            link = f"{base}/beleid/items/{x['item_id']}#signalen" if x["item_id"] else f"{base}/beleid/plannen/{x['plan_id']}"
            new = " [nieuw]" if x["notified_at"] is None else ""
            lines.append(f"- {x['message_nl']}{new} — {link}")
        lines.append("")
    for group in groups:
        verb = "zijn te laat" if group["kind"] == "overdue" else "verwachten we"
        lines.append(f"De volgende statusrapporteringen voor {group['period_label']} ({group['period_code']}) {verb} "
                     f"(uiterste datum {group['deadline']:%d/%m/%Y}):")
        lines += [f"- {i['code']} {i['title']} — {base}/beleid/items/{i['id']}" for i in group["items"]]
        lines.append("")
    lines += ["Niets veranderd? Eén klik op 'Geen wijziging' volstaat.", f"Uw overzicht: {base}/beleid/mijn"]
    return "\n".join(lines) + "\n"


# --- the public transparency view --------------------------------------------------------------

@dataclass(frozen=True)
class PublicPlan:
    organisation: str
    plan: dict[str, Any] | None
    items: list[dict[str, Any]]


PUBLIC_FIELDS = ("id", "code", "kind", "title", "title_long", "beleidsdomein", "parent_code", "priority", "status",
                 "progress", "reported_period", "budget")


@operation("plans.public.read")
def public_plans(unit: Unit) -> list[dict[str, Any]]:
    """The organisations that publish items of a plan: where the public transparency pages are."""
    out = []
    for organisation in account_store.list_organisations(unit.conn):
        found = plan_store.find_plan(unit.conn, organisation=organisation.code, code=None)
        if found is not None and plan_store.has_published_items(unit.conn, found["id"]):
            out.append({"organisation": organisation.code, "name": organisation.name, "plan": found["title"]})
    return out


@operation("plans.public.read")
def public_plan(unit: Unit, organisation: str) -> PublicPlan:
    """The published items of an organisation's latest plan: approved status, derived progress
    and KPIs only — never drafts, submitted updates or unpublished items."""
    found = plan_store.find_plan(unit.conn, organisation=organisation, code=None)
    if found is None or plan_store.get_version(unit.conn, found["id"], None) is None:
        return PublicPlan(organisation, None, [])
    state = load_state(unit, found["id"])
    today = date.today()
    published = [i for i in _in_order(state.tree) if state.tree.items[i]["publish"]]
    kpis = defaultdict(list)
    for row in kpi_views(unit, store.item_kpis(unit.conn, published), today):
        kpis[row["item_id"]].append({"name": row["name"], "unit": row["unit"], "light": row["light"],
                                     "measurements": row["measurements"]})
    items = []
    for item_id in published:
        row = state.row(item_id)
        items.append({**{k: row[k] for k in PUBLIC_FIELDS}, "kpis": kpis.get(item_id, [])})
    return PublicPlan(organisation, {k: state.plan[k] for k in ("code", "title", "start_year", "end_year")}, items)
