"""Early-warning signals: evaluating the organisation's rules over a plan (signals raised, kept up
to date and resolved), reading them, acknowledging one with a comment, and reading and tuning the
rules themselves.

The facts the pure rules read (obmi.plans.signals) are built here, in one place
(`build_facts`). `sync_signals` and `visible_signals` are plain functions, not operations:
`evaluate_signals`, the college dashboard, the item page and the reminder digest
(`send_reminders`, which evaluates first) share them.

Who sees which signal follows the status updates (item_detail): coordinators and organisation
administrators see every signal of the plan; anyone else sees the signals they own. A signal
about a statistic KPI is shown only to whom may see that indicator."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from obmi.auth.permissions import Resource, allowed
from obmi.errors import Conflict, ValidationError
from obmi.operations.finance import finance_figures
from obmi.operations.followup import kpi_views
from obmi.operations.plans import _organisation, organisation_resource, plan_resource
from obmi.operations.registry import Unit, operation
from obmi.plans import signals as rules
from obmi.plans.workflow import StaleEdit
from obmi.store import followup as followup_store
from obmi.store import plans as plan_store
from obmi.store import signals as store

log = logging.getLogger("obmi.plans")
SIGNAL_STATES = ("open", "acknowledged", "resolved")
MAX_COMMENT = 5000


def signal_resource(unit: Unit, signal_id: int, /, *args: Any, **_: Any) -> Resource:
    row = store.get_signal(unit.conn, signal_id)
    return Resource("signal", signal_id, row["organisation"], owner=row["owner"])


def _now() -> datetime:
    return datetime.now(UTC)


# --- the facts and the rules of an organisation -------------------------------------------------------

def build_facts(unit: Unit, plan_id: int, day: date) -> rules.SignalFacts:
    """What the rules read about the latest version of a plan (KPI values as the acting user may
    see them: statistic KPIs through the catalogue's access rules and disclosure decisions)."""
    found = plan_store.get_plan(unit.conn, plan_id)
    version = plan_store.get_version(unit.conn, plan_id, None)
    facts = rules.SignalFacts(day)
    if version is None:
        return facts
    rows = plan_store.version_items(unit.conn, version["id"])
    code_of = {r["id"]: r["code"] for r in rows}
    facts.items = {r["code"]: rules.ItemFact(r["id"], r["code"], r["kind"], r["title_short"] or r["title_long"] or "",
                                             r["owner"], r["start_date"], r["end_date"]) for r in rows}
    for kpi in kpi_views(unit, followup_store.item_kpis(unit.conn, code_of), day):
        if kpi["kind"] == "steps":
            continue
        points = tuple(rules.Point(m["period"], float(m["value"])) for m in kpi["measurements"]
                       if m.get("value") is not None)
        facts.kpis.append(rules.KpiFact(kpi["id"], code_of[kpi["item_id"]], kpi["name"], kpi["kind"],
                                        kpi["direction"], {int(y): float(v) for y, v in (kpi["targets"] or {}).items()},
                                        points, kpi["unit"] or "", kpi["indicator"]))
    facts.milestones = [rules.MilestoneFact(m["id"], code_of[m["item_id"]], m["title"], m["planned_end"],
                                            m["actual_end"], m["owner"])
                        for m in followup_store.milestones(unit.conn, code_of)]
    years = range(found["start_year"], found["end_year"] + 1)
    facts.periods = [rules.PeriodFact(p["code"], p["start_date"], p["end_date"], p["deadline"])
                     for p in followup_store.periods(unit.conn, found["organisation"]) if p["start_date"].year in years]
    facts.updates = [rules.UpdateFact(code_of[u["item_id"]], u["period_code"], u["state"], u["status"])
                     for u in store.plan_updates(unit.conn, plan_id) if u["item_id"] in code_of]
    facts.finance = finance_figures(unit.conn, plan_id, version["id"])
    return facts


def configured_rules(unit: Unit, organisation: str) -> list[dict[str, Any]]:
    """Every known rule with the organisation's setting: enabled, parameters (stored ones over the
    defaults), whether they were changed, and the rule's description with them."""
    from obmi.plugins import signal_rules
    stored = store.rule_settings(unit.conn, organisation)
    out = []
    for code, rule in signal_rules().items():
        setting = stored.get(code)
        params = rule.defaults
        if setting is not None:
            try:
                params = rules.check_params(rule, setting["params"] or {})
            except ValidationError as exc:  # a rule whose parameters changed since: its defaults
                log.warning("stored signal rule parameters ignored", extra={"rule": code, "reason": str(exc)})
        out.append({"code": code, "rule": rule, "name_nl": rule.name_nl, "name_en": rule.name_en,
                    "severity": rule.severity, "enabled": setting["enabled"] if setting is not None else True,
                    "params": params, "defaults": rule.defaults, "customised": setting is not None,
                    "description_nl": rule.describe(params, "nl"), "description_en": rule.describe(params, "en"),
                    "param_specs": [dataclasses.asdict(p) for p in rule.params],
                    "row_version": setting["row_version"] if setting is not None else 0,
                    "updated_by": setting["updated_by"] if setting is not None else None,
                    "updated_at": setting["updated_at"] if setting is not None else None})
    return out


# --- evaluating: raise, keep up to date, resolve ---------------------------------------------------------

@dataclass
class SyncResult:
    plan_id: int
    new: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    still: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def sync_signals(unit: Unit, plan_id: int, day: date) -> SyncResult:
    """Evaluate the organisation's enabled rules over the plan and bring its signals in line, by
    (rule, subject): a new finding opens a signal; one still firing keeps its state (acknowledged
    stays acknowledged) with today's evidence; a resolved one that fires again is opened anew; a
    signal no rule raises any more (or whose rule was disabled) is resolved. New, reopened and
    resolved signals are audited one by one."""
    found = plan_store.get_plan(unit.conn, plan_id)
    organisation = found["organisation"]
    facts = build_facts(unit, plan_id, day)
    chosen = [(c["rule"], c["params"]) for c in configured_rules(unit, organisation) if c["enabled"]]
    findings = {(f.rule, f.subject): f for f in rules.evaluate(facts, chosen)}
    existing = {(s["rule"], s["subject"]): s for s in store.plan_signals(unit.conn, plan_id)}
    now, result = _now(), SyncResult(plan_id)
    seen: list[int] = []
    for key, finding in findings.items():
        item = facts.items.get(finding.item) if finding.item else None
        values = {"item_id": item.id if item is not None else None, "severity": finding.severity,
                  "message_nl": finding.message_nl, "message_en": finding.message_en, "evidence": finding.evidence,
                  "owner": finding.owner, "last_seen": now}
        old = existing.get(key)
        if old is None:
            signal_id = store.insert_signal(unit.conn, {**values, "organisation": organisation, "plan_id": plan_id,
                                                        "rule": finding.rule, "subject": finding.subject,
                                                        "state": "open", "first_seen": now, "comment": ""})
            result.new.append(signal_id)
            unit.audit("signal", signal_id, after=_public(values, finding), message=f"signal raised: {finding.message_en}")
        elif old["state"] == "resolved":
            store.change_signal(unit.conn, old["id"], expected_version=old["row_version"], values={
                **values, "state": "open", "first_seen": now, "resolved_at": None, "acknowledged_by": None,
                "acknowledged_at": None, "comment": "", "notified_at": None})
            result.reopened.append(old["id"])
            unit.audit("signal", old["id"], before={"state": "resolved"}, after=_public(values, finding),
                       message=f"signal raised again: {finding.message_en}")
        else:
            if any(old[k] != v for k, v in values.items() if k != "last_seen"):
                store.change_signal(unit.conn, old["id"], expected_version=old["row_version"], values=values)
            else:
                seen.append(old["id"])  # the same evidence: only when it was last seen (its version stays)
            result.still.append(old["id"])
    store.touch_signals(unit.conn, seen, now)
    for key, old in existing.items():
        if key not in findings and old["state"] != "resolved":
            store.change_signal(unit.conn, old["id"], expected_version=old["row_version"],
                                values={"state": "resolved", "resolved_at": now})
            result.resolved.append(old["id"])
            unit.audit("signal", old["id"], before={"state": old["state"], "evidence": old["evidence"]},
                       after={"state": "resolved"}, message=f"signal resolved: {old['message_en']}")
    unit.changes.other = True
    return result


def _public(values: dict[str, Any], finding: rules.Finding) -> dict[str, Any]:
    return {"rule": finding.rule, "subject": finding.subject, "item": finding.item, "severity": finding.severity,
            "owner": finding.owner, "evidence": values["evidence"]}


def mark_notified(unit: Unit, signal_ids: list[int]) -> None:
    """The signals a digest named for the first time (a new signal alone brings a digest once)."""
    store.mark_notified(unit.conn, signal_ids, _now())


# --- who sees which signal ------------------------------------------------------------------------------

def sees_all_signals(unit: Unit, organisation: str) -> bool:
    return allowed(unit.actor, "signals.evaluate", Resource("plan", None, organisation))


def visible_signals(unit: Unit, plan_id: int, organisation: str, *, states: tuple[str, ...] | None = None,
                    item_id: int | None = None) -> list[dict[str, Any]]:
    """The plan's signals the actor may see (see the module's docstring), with their rule's name."""
    from obmi.plugins import signal_rules
    owner = None if sees_all_signals(unit, organisation) else unit.actor.name
    rows = store.plan_signals(unit.conn, plan_id, states=states, item_id=item_id, owner=owner)
    if any((r["evidence"] or {}).get("indicator") for r in rows):
        from obmi.query.visibility import CatalogueView
        view = CatalogueView.load(unit.conn, unit.actor)
        rows = [r for r in rows if not (r["evidence"] or {}).get("indicator")
                or r["evidence"]["indicator"] in view.visible]
    known = signal_rules()
    for row in rows:
        rule = known.get(row["rule"])
        row["rule_name_nl"] = rule.name_nl if rule is not None else row["rule"]
        row["rule_name_en"] = rule.name_en if rule is not None else row["rule"]
    return rows


# --- the operations ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluation:
    plan_id: int
    new: int
    reopened: int
    still: int
    resolved: int
    signals: list[dict[str, Any]]  # the plan's open and acknowledged signals

    def summary(self) -> str:
        return (f"plan {self.plan_id}: {self.new} new, {self.reopened} raised again, {self.still} still firing, "
                f"{self.resolved} resolved")


@operation("signals.evaluate", resource=plan_resource)
def evaluate_signals(unit: Unit, plan_id: int, *, today: date | None = None) -> Evaluation:
    """Evaluate the organisation's early-warning rules over a plan: new signals open, those still
    firing are brought up to date, those no longer firing are resolved (each audited)."""
    day = today or date.today()
    result = sync_signals(unit, plan_id, day)
    unit.audit("plan", plan_id, after={"new": len(result.new), "reopened": len(result.reopened),
                                       "still": len(result.still), "resolved": len(result.resolved)},
               message=f"signals evaluated on {day.isoformat()}")
    organisation = plan_store.get_plan(unit.conn, plan_id)["organisation"]
    return Evaluation(plan_id, len(result.new), len(result.reopened), len(result.still), len(result.resolved),
                      visible_signals(unit, plan_id, organisation, states=("open", "acknowledged")))


@operation("plans.read", resource=plan_resource)
def list_signals(unit: Unit, plan_id: int, *, state: str | None = None, item: int | None = None
                 ) -> list[dict[str, Any]]:
    """The plan's signals the actor may see (coordinators: all; others: their own), critical
    first; by state (open, acknowledged, resolved) and item."""
    if state is not None and state not in SIGNAL_STATES:
        raise ValidationError(f"unknown signal state {state!r}", {"state": list(SIGNAL_STATES)})
    organisation = plan_store.get_plan(unit.conn, plan_id)["organisation"]
    return visible_signals(unit, plan_id, organisation, states=(state,) if state else None, item_id=item)


@operation("signals.acknowledge", resource=signal_resource)
def acknowledge_signal(unit: Unit, signal_id: int, comment: str, *, expected_version: int | None = None
                       ) -> dict[str, Any]:
    """Acknowledge an open signal with a comment (what is being done about it): its owner or a
    coordinator. It stays visible, marked, until its rule no longer fires."""
    current = store.get_signal(unit.conn, signal_id)
    text = (comment or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError("say what is being done about it", {"comment": ["required"]})
    if len(text) > MAX_COMMENT or "\x00" in text:
        raise ValidationError("the comment is too long", {"comment": [f"at most {MAX_COMMENT:,} characters"]})
    if expected_version is not None and expected_version != current["row_version"]:
        raise _stale(unit, current, text)
    if current["state"] != "open":
        by = f" by {current['acknowledged_by']}" if current["acknowledged_by"] else ""
        raise Conflict(f"signal {signal_id} is {current['state']}{by}: only an open signal can be acknowledged")
    values = {"state": "acknowledged", "acknowledged_by": unit.actor.label, "acknowledged_at": _now(),
              "comment": text}
    if not store.change_signal(unit.conn, signal_id, expected_version=current["row_version"], values=values):
        raise _stale(unit, current, text)
    unit.changes.other = True
    kind, key = ("plan_item", current["item_id"]) if current["item_id"] is not None else ("signal", signal_id)
    unit.audit(kind, key, before={"signal": signal_id, "state": current["state"]},
               after={"signal": signal_id, "rule": current["rule"], "state": "acknowledged", "comment": text},
               message=f"signal {current['rule']} acknowledged")
    return store.get_signal(unit.conn, signal_id)


def _stale(unit: Unit, current: dict[str, Any], text: str) -> StaleEdit:
    theirs = store.get_signal(unit.conn, current["id"])
    return StaleEdit(mine={"state": "acknowledged", "comment": text},
                     theirs={"state": theirs["state"], "comment": theirs["comment"]},
                     theirs_version=theirs["row_version"], changed_by=theirs["acknowledged_by"],
                     changed_at=theirs["acknowledged_at"], what=f"signal {current['id']}")


@operation("plans.read", resource=organisation_resource)
def signal_rules(unit: Unit, *, organisation: str | None = None) -> list[dict[str, Any]]:
    """The early-warning rules with the organisation's settings: each rule in words with its
    current parameters, its defaults and whether it is enabled."""
    return [{k: v for k, v in row.items() if k != "rule"}
            for row in configured_rules(unit, _organisation(unit, organisation))]


@operation("signals.configure", resource=organisation_resource)
def configure_signal_rule(unit: Unit, code: str, *, organisation: str | None = None, enabled: bool | None = None,
                          params: dict[str, Any] | None = None, expected_version: int | None = None
                          ) -> dict[str, Any]:
    """Enable or disable one early-warning rule for the organisation and set its parameters
    (checked per rule; what is not given keeps its value). Takes effect at the next evaluation."""
    org = _organisation(unit, organisation)
    current = {c["code"]: c for c in configured_rules(unit, org)}
    if code not in current:
        raise ValidationError(f"unknown signal rule {code!r}", {"code": [f"one of {', '.join(current)}"]})
    before = current[code]
    errors: dict[str, list[str]] = {}
    if enabled is not None and not isinstance(enabled, bool):
        errors["enabled"] = ["true or false"]
    try:
        checked = rules.check_params(before["rule"], {**before["params"], **(params or {})})
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(f"the setting of rule {code} is not valid", errors)
    turned_on = before["enabled"] if enabled is None else enabled
    if not store.save_rule(unit.conn, org, code, enabled=turned_on, params=checked,
                           expected_version=expected_version, who=unit.actor.label, now=_now()):
        theirs = {c["code"]: c for c in configured_rules(unit, org)}[code]
        raise StaleEdit(mine={"enabled": turned_on, "params": checked},
                        theirs={"enabled": theirs["enabled"], "params": theirs["params"]},
                        theirs_version=theirs["row_version"], changed_by=theirs["updated_by"],
                        changed_at=theirs["updated_at"], what=f"rule {code}")
    unit.changes.other = True
    unit.audit("signal_rule", f"{org}:{code}", before={"enabled": before["enabled"], "params": before["params"]},
               after={"enabled": turned_on, "params": checked}, message=f"signal rule {code} configured")
    return {k: v for k, v in {c["code"]: c for c in configured_rules(unit, org)}[code].items() if k != "rule"}
