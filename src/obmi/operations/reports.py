"""Plan reports: the opvolgingsrapportering (the legal follow-up report of the first semester)
and the per-period college report, as PDF or XLSX, and their text sections (changed assumptions,
changed financial risks, an organisation's own), which are drafted, submitted and approved or
returned like status updates (obmi.plans.workflow, optimistic locking with StaleEdit).

The report model is obmi.reports.opvolging; the finance figures come from the shared loaders of
obmi.operations.finance, so the report shows the numbers the finance pages show."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from obmi.auth.permissions import Resource, allowed
from obmi.errors import Conflict, NotFound, ValidationError
from obmi.operations.finance import plan_items_info, planned_lines
from obmi.operations.plans import organisation_resource, plan_resource, version_or_latest
from obmi.operations.registry import Unit, operation
from obmi.plans import rollup as rollup_rules
from obmi.plans import workflow
from obmi.plans.model import ItemKind, ItemStatus, UpdateState
from obmi.plans.tree import Tree
from obmi.reports.opvolging import (
    DEFAULT_SECTIONS,
    FIRST_SEMESTER_QUARTERS,
    REPORTS,
    FollowUpReport,
    ReportKind,
    TextSection,
    build_report,
)
from obmi.store import accounts as account_store
from obmi.store import finance as finance_store
from obmi.store import followup as followup_store
from obmi.store import plans as plan_store
from obmi.store import reports as store
from obmi.store.state import read_state

FORMATS = ("pdf", "xlsx")
MAX_BODY = 20_000
MAX_TITLE = 300
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
SECTION_FIELDS = ("id", "code", "title_nl", "title_en", "position", "body", "state", "row_version", "updated_at",
                  "updated_by", "decided_at", "decided_by", "decision_comment")


def _now() -> datetime:
    return datetime.now(UTC)


# --- resources ----------------------------------------------------------------------------------

def section_resource(unit: Unit, section_id: int, /, *args: Any, **_: Any) -> Resource:
    row = store.get_section(unit.conn, section_id)
    return Resource("plan", row["plan_id"], row["organisation"])


def report_resource(unit: Unit, *args: Any, plan_id: int | None = None, organisation: str | None = None,
                    **_: Any) -> Resource:
    """The plan named by id, or the organisation whose plan the report is about."""
    if plan_id is not None:
        return plan_resource(unit, plan_id)
    return organisation_resource(unit, organisation=organisation)


def _target(unit: Unit, plan_id: int | None, organisation: str | None, plan: str | None) -> dict[str, Any]:
    if plan_id is not None:
        return plan_store.get_plan(unit.conn, plan_id)
    org = organisation or unit.actor.organisation
    if not org:
        raise ValidationError("which organisation? (--org ORG)", {"organisation": ["required"]})
    found = plan_store.find_plan(unit.conn, organisation=org, code=plan)
    if found is None:
        raise NotFound(f"organisation {org} has no plan" + (f" {plan}" if plan else "") + ": import one first")
    return found


# --- text sections --------------------------------------------------------------------------------

def _check_report(report: str, period: str) -> None:
    errors: dict[str, list[str]] = {}
    if report not in REPORTS:
        errors["report"] = [f"one of {', '.join(REPORTS)}"]
    if not period or len(period) > 20 or not re.fullmatch(r"[0-9A-Za-z_-]+", period):
        errors["period"] = ["the year (opvolging) or a reporting period code, e.g. 2026 or 2026-S1"]
    if errors:
        raise ValidationError("unknown report", errors)


def _section_view(row: dict[str, Any], *, may_write: bool) -> dict[str, Any]:
    view = {k: row.get(k) for k in SECTION_FIELDS}
    if not may_write and view["state"] != UpdateState.APPROVED:
        # Drafts, submitted and returned texts are the writers' and approvers' business.
        view.update(body="", state=None, decision_comment="", updated_by=None)
    return view


def _with_defaults(unit: Unit, plan_id: int, report: str, period: str) -> list[dict[str, Any]]:
    """The stored sections, with the default ones that are not stored yet as unsaved rows
    (id None, row_version 0): they are created on their first save."""
    stored = store.sections(unit.conn, plan_id, report, period)
    codes = {r["code"] for r in stored}
    virtual = [{"id": None, "code": code, "title_nl": nl, "title_en": en, "position": -len(DEFAULT_SECTIONS[report])
                + number, "body": "", "state": None, "row_version": 0, "updated_at": None, "updated_by": None,
                "decided_at": None, "decided_by": None, "decision_comment": ""}
               for number, (code, nl, en) in enumerate(DEFAULT_SECTIONS[report]) if code not in codes]
    return sorted(virtual + stored, key=lambda r: (r["position"], r["id"] or 0))


@operation("reports.read", resource=plan_resource)
def list_report_sections(unit: Unit, plan_id: int, report: str, period: str) -> list[dict[str, Any]]:
    """The text sections of a report (the legal ones, then the organisation's own): those who may
    write them see every state; others only approved texts."""
    _check_report(report, period)
    may_write = allowed(unit.actor, "reports.write", unit.target)
    return [_section_view(r, may_write=may_write) for r in _with_defaults(unit, plan_id, report, period)]


def _clean_text(value: Any, limit: int, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("the text section is not valid", {field: ["must be text"]})
    text = value.replace("\r\n", "\n").strip()
    if "\x00" in text or len(text) > limit:
        raise ValidationError("the text section is not valid", {field: [f"at most {limit:,} characters, no NUL"]})
    return text


def _stale(unit: Unit, section_id: int, mine: dict[str, Any]) -> workflow.StaleEdit:
    theirs = store.get_section(unit.conn, section_id)
    return workflow.StaleEdit(mine=mine, theirs={k: theirs[k] for k in ("state", "body", "title_nl", "title_en")},
                              theirs_version=theirs["row_version"], changed_by=theirs["updated_by"],
                              changed_at=theirs["updated_at"],
                              what=f"section {theirs['code']!r} of the {theirs['report']} report {theirs['period']}")


def _public(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: row.get(k) for k in ("id", "code", "state", "title_nl", "body",
                                                            "decision_comment", "row_version")}


@operation("reports.write", resource=plan_resource)
def save_report_section(unit: Unit, plan_id: int, report: str, period: str, code: str, body: str, *,
                        title_nl: str | None = None, title_en: str | None = None,
                        expected_version: int) -> dict[str, Any]:
    """Save (draft) the text of a report section. `expected_version`: the section's version the
    edit was based on (0 for a legal section never saved); a section saved by someone else since
    is not overwritten (StaleEdit). A returned section is edited back into a draft."""
    _check_report(report, period)
    text = _clean_text(body, MAX_BODY, "body")
    existing = store.find_section(unit.conn, plan_id, report, period, code)
    now, who = _now(), unit.actor.label
    titles = {k: _clean_text(v, MAX_TITLE, k) for k, v in (("title_nl", title_nl), ("title_en", title_en))
              if v is not None}
    if "title_nl" in titles and not titles["title_nl"]:
        raise ValidationError("the text section is not valid", {"title_nl": ["a title is required"]})
    if existing is None:
        defaults = {c: (nl, en) for c, nl, en in DEFAULT_SECTIONS[report]}
        if code not in defaults:
            raise NotFound(f"the {report} report {period} has no section {code!r} (add it first)")
        if expected_version != 0:
            raise Conflict(f"section {code!r} was never saved: save it with expected version 0")
        state = workflow.transition(None, "save")
        position = -len(DEFAULT_SECTIONS[report]) + list(defaults).index(code)
        section_id = store.insert_section(unit.conn, {
            "plan_id": plan_id, "report": report, "period": period, "code": code,
            "title_nl": titles.get("title_nl") or defaults[code][0], "title_en": titles.get("title_en", defaults[code][1]),
            "position": position, "body": text, "state": state.value, "updated_at": now, "updated_by": who,
            "decision_comment": ""})
    else:
        current = UpdateState(existing["state"])
        state = workflow.transition(current, "save")
        mine = {"body": text, **titles}
        if expected_version != existing["row_version"] or not store.change_section(
                unit.conn, existing["id"], expected_version=existing["row_version"],
                values={**mine, "state": state.value, "updated_at": now, "updated_by": who}):
            raise _stale(unit, existing["id"], mine)
        section_id = existing["id"]
    after = store.get_section(unit.conn, section_id)
    unit.changes.other = True
    unit.audit("report_section", section_id, before=_public(existing), after=_public(after),
               message=f"{report} report {period}, section {code}: save → {state.value}")
    return _section_view(after, may_write=True)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40] or "sectie"


@operation("reports.write", resource=plan_resource)
def add_report_section(unit: Unit, plan_id: int, report: str, period: str, title_nl: str, *, title_en: str = "",
                       code: str | None = None, body: str = "") -> dict[str, Any]:
    """Add an organisation's own section to a report (after the legal ones), as a draft."""
    _check_report(report, period)
    title = _clean_text(title_nl, MAX_TITLE, "title_nl")
    if not title:
        raise ValidationError("the text section is not valid", {"title_nl": ["a title is required"]})
    chosen = code or _slug(title)
    if not _CODE.fullmatch(chosen):
        raise ValidationError("the text section is not valid", {"code": ["1–40 of a–z, 0–9 and _"]})
    if chosen in {c for c, _, _ in DEFAULT_SECTIONS[report]} or \
            store.find_section(unit.conn, plan_id, report, period, chosen) is not None:
        raise Conflict(f"the {report} report {period} has a section {chosen!r} already")
    now, who = _now(), unit.actor.label
    section_id = store.insert_section(unit.conn, {
        "plan_id": plan_id, "report": report, "period": period, "code": chosen, "title_nl": title,
        "title_en": _clean_text(title_en, MAX_TITLE, "title_en"), "body": _clean_text(body, MAX_BODY, "body"),
        "position": max(store.next_position(unit.conn, plan_id, report, period), 1),
        "state": workflow.transition(None, "save").value, "updated_at": now, "updated_by": who,
        "decision_comment": ""})
    after = store.get_section(unit.conn, section_id)
    unit.changes.other = True
    unit.audit("report_section", section_id, after=_public(after), message=f"{report} report {period}: section "
                                                                           f"{chosen} added")
    return _section_view(after, may_write=True)


@operation("reports.write", resource=section_resource)
def submit_report_section(unit: Unit, section_id: int, *, expected_version: int | None = None) -> dict[str, Any]:
    """Submit a drafted section for approval."""
    current = store.get_section(unit.conn, section_id)
    state = workflow.transition(UpdateState(current["state"]), "submit")
    return _decide(unit, current, state, "submit", {}, expected_version)


@operation("reports.approve", resource=section_resource)
def decide_report_section(unit: Unit, section_id: int, *, decision: Literal["approve", "return", "reopen"],
                          comment: str = "", expected_version: int | None = None) -> dict[str, Any]:
    """Approve a submitted section, return it with a comment, or reopen an approved one (back to
    draft). Only approved text goes into the report."""
    current = store.get_section(unit.conn, section_id)
    if decision not in ("approve", "return", "reopen"):
        raise ValidationError("unknown decision", {"decision": ["approve, return or reopen"]})
    state = workflow.transition(UpdateState(current["state"]), decision)
    text = _clean_text(comment, 5000, "comment")
    if decision == "return" and not text:
        raise ValidationError("say why the section goes back", {"comment": ["required when returning a section"]})
    now, who = _now(), unit.actor.label
    return _decide(unit, current, state, decision, {"decided_at": now, "decided_by": who, "decision_comment": text},
                   expected_version)


def _decide(unit: Unit, current: dict[str, Any], state: UpdateState, action: str, values: dict[str, Any],
            expected_version: int | None) -> dict[str, Any]:
    mine = {"state": state.value}
    if expected_version is not None and expected_version != current["row_version"]:
        raise _stale(unit, current["id"], mine)
    if not store.change_section(unit.conn, current["id"], expected_version=current["row_version"],
                                values={**values, **mine, "updated_at": _now(), "updated_by": unit.actor.label}):
        raise _stale(unit, current["id"], mine)
    after = store.get_section(unit.conn, current["id"])
    unit.changes.other = True
    unit.audit("report_section", current["id"], before=_public(current), after=_public(after),
               message=f"{current['report']} report {current['period']}, section {current['code']}: {action} → "
                       f"{state.value}")
    return _section_view(after, may_write=True)


# --- the reports ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportScope:
    kind: ReportKind
    year: int
    period: str
    label_nl: str
    label_en: str
    since: date
    until: date
    quarters: int


def _node(tree: Tree, item_id: int, approved: dict[int, dict[str, Any]], own: dict[int, float]) -> rollup_rules.Node:
    item = tree.items[item_id]
    latest = approved.get(item_id)
    return rollup_rules.Node(code=item["code"], title=item["title_short"] or item["title_long"],
                             kind=ItemKind(item["kind"]), progress=latest["progress"] if latest else None,
                             status=ItemStatus(latest["status"]) if latest else None, weight=item["weight"],
                             budget=own.get(item_id, 0.0),
                             children=[_node(tree, k, approved, own) for k in tree.kids(item_id)])


def _items(unit: Unit, target: dict[str, Any], version_id: int, scope: ReportScope) -> list[dict[str, Any]]:
    """The version's items in plan order with their status of the report's stretch of time: the
    latest approved update within it, rolled up the tree by the organisation's rule."""
    rows = plan_store.version_items(unit.conn, version_id)
    tree = Tree.of(rows)
    config = plan_store.get_config(unit.conn, target["organisation"])
    priority = tree.effective_priority(config["priority_propagation"])
    approved = store.approved_updates(unit.conn, target["id"], since=scope.since, until=scope.until)
    own = plan_store.own_expenditure(unit.conn, version_id)
    rule = rollup_rules.parse_rule(config["rollup"] or {})
    by_code = {r["code"]: r["id"] for r in rows}
    results: dict[int, rollup_rules.Result] = {}
    for top in tree.kids(None):
        stack = [rollup_rules.rollup(_node(tree, top, approved, own), rule)]
        while stack:
            current = stack.pop()
            results[by_code[current.code]] = current
            stack.extend(current.children)
    order: list[int] = []
    for top in tree.kids(None):
        order += [top, *tree.descendants(top)]
    out = []
    for item_id in order:
        item, result, update = tree.items[item_id], results.get(item_id), approved.get(item_id)
        reported = result is not None and result.has_update
        out.append({"id": item_id, "code": item["code"], "kind": item["kind"],
                    "title": item["title_short"] or item["title_long"], "parent_id": item["parent_id"],
                    "parent_code": item["parent_code"], "priority": priority.get(item_id, False),
                    "owner": item["owner"],
                    "status": result.status.value if reported and result is not None else None,
                    "progress": result.shown if reported and result is not None else None,
                    "period": update["period_code"] if update else None,
                    "narrative": update["narrative"] if update else "",
                    "knelpunten": update["knelpunten"] if update else ""})
    return out


def _sections(unit: Unit, plan_id: int, scope: ReportScope, include_drafts: bool) -> list[TextSection]:
    out = []
    for row in _with_defaults(unit, plan_id, scope.kind, scope.period):
        approved = row["state"] == UpdateState.APPROVED
        shown = approved or (include_drafts and row["state"] is not None)
        out.append(TextSection(row["code"], row["title_nl"], row["title_en"], row["body"] if shown else "",
                               row["state"], include_drafts and not approved and row["state"] is not None))
    return out


def _report(unit: Unit, target: dict[str, Any], scope: ReportScope, *, version: int | None, lang: str,
            include_drafts: bool) -> FollowUpReport:
    if include_drafts:
        unit.require("reports.write", Resource("plan", target["id"], target["organisation"]))
    if not target["start_year"] <= scope.year <= target["end_year"]:
        raise ValidationError(f"year {scope.year} lies outside plan {target['code']} "
                              f"({target['start_year']}–{target['end_year']})", {"year": ["outside the plan"]})
    chosen = version_or_latest(unit, target["id"], version)
    planned, source = planned_lines(unit.conn, target["id"], chosen["id"])
    realised = finance_store.load_lines(unit.conn, target["id"], version_id=None, kinds=("realisatie",))
    organisation = account_store.get_organisation(unit.conn, target["organisation"])
    return build_report(
        kind=scope.kind, organisation=target["organisation"],
        organisation_name=organisation.name if organisation is not None else target["organisation"],
        plan_code=target["code"], plan_title=target["title"], version=chosen["number"],
        version_label=chosen["label"] or "", year=scope.year, period=scope.period,
        period_label=scope.label_en if lang == "en" else scope.label_nl, as_of=scope.until, quarters=scope.quarters,
        generated=_now(), data_version=str(read_state(unit.conn).version),
        items=_items(unit, target, chosen["id"], scope), finance_items=plan_items_info(unit.conn, chosen["id"]),
        planned=planned, realised=realised, finance_source=source,
        signals=store.plan_signals(unit.conn, target["id"]),
        sections=_sections(unit, target["id"], scope, include_drafts), drafts_included=include_drafts)


def _render(report: FollowUpReport, fmt: str, lang: str, site_name: str) -> bytes:
    if fmt == "pdf":
        from obmi.reports.opvolging_pdf import render_report_pdf
        return render_report_pdf(report, lang=lang, site_name=site_name)
    from obmi.reports.opvolging_xlsx import render_report_xlsx
    return render_report_xlsx(report, lang=lang, site_name=site_name)


def _check_output(fmt: str, lang: str) -> None:
    errors = {}
    if fmt not in FORMATS:
        errors["fmt"] = ["pdf or xlsx"]
    if lang not in ("nl", "en"):
        errors["lang"] = ["nl or en"]
    if errors:
        raise ValidationError("unknown report format", errors)


def opvolging_scope(year: int) -> ReportScope:
    """The opvolgingsrapportering of `year`: the first semester (status updates of reporting
    periods within 1 January–30 June, realisaties of quarters 1–2)."""
    return ReportScope("opvolging", year, str(year), f"{year}, eerste semester", f"{year}, first semester",
                       date(year, 1, 1), date(year, 6, 30), FIRST_SEMESTER_QUARTERS)


def build_opvolging(unit: Unit, year: int, *, plan_id: int | None = None, organisation: str | None = None,
                    plan: str | None = None, lang: str = "nl", version: int | None = None,
                    include_drafts: bool = False) -> FollowUpReport:
    """The report model of the opvolgingsrapportering (for the operations and the benchmark)."""
    target = _target(unit, plan_id, organisation, plan)
    return _report(unit, target, opvolging_scope(year), version=version, lang=lang, include_drafts=include_drafts)


@operation("reports.read", resource=report_resource)
def opvolging_report(unit: Unit, year: int, *, plan_id: int | None = None, organisation: str | None = None,
                     plan: str | None = None, fmt: str = "pdf", lang: str = "nl", version: int | None = None,
                     include_drafts: bool = False) -> bytes:
    """The opvolgingsrapportering of a year (first semester) as PDF or XLSX: key figures and
    signals, the prioritaire actieplannen and acties, J1- and T2-style finance tables, the
    approved text sections, every actie. `include_drafts` (report writers): unapproved texts too,
    marked as ontwerp."""
    _check_output(fmt, lang)
    report = build_opvolging(unit, year, plan_id=plan_id, organisation=organisation, plan=plan, lang=lang,
                             version=version, include_drafts=include_drafts)
    return _render(report, fmt, lang, unit.settings.site_name)


@operation("reports.read", resource=report_resource)
def college_report(unit: Unit, period: str, *, plan_id: int | None = None, organisation: str | None = None,
                   plan: str | None = None, fmt: str = "pdf", lang: str = "nl", version: int | None = None,
                   include_drafts: bool = False) -> bytes:
    """The college report of one reporting period as PDF or XLSX: the period's approved status,
    signals, finance of the year up to the period's end, the approved text sections."""
    _check_output(fmt, lang)
    target = _target(unit, plan_id, organisation, plan)
    found = followup_store.find_period(unit.conn, target["organisation"], period)
    start, end = found["start_date"], found["end_date"]
    quarters = (end.month + 2) // 3 if end.year == start.year else 4
    scope = ReportScope("college", start.year, found["code"], found["label_nl"], found["label_en"], start, end,
                        quarters)
    report = _report(unit, target, scope, version=version, lang=lang, include_drafts=include_drafts)
    return _render(report, fmt, lang, unit.settings.site_name)
