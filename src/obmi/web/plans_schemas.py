"""The response (and request) schemas of the follow-up API (beleidsopvolging): plans, items with
their derived progress and status, the college dashboard, status updates, KPIs and the public
view. Like obmi.web.schemas they are the OpenAPI documentation; responses are built through them
(`dump`), so a field the operations add later never leaks out undocumented."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from obmi.web.schemas import Timestamp


class Out(BaseModel):
    """A response: built from the operations' dicts, keeping only the documented fields."""
    model_config = ConfigDict(extra="ignore")


class In(BaseModel):
    """A request body: an unknown field is an error, not silently dropped."""
    model_config = ConfigDict(extra="forbid")


def dump(model: type[Out], data: Any) -> dict[str, Any]:
    """`data` (dicts, dataclasses' dicts) as JSON-ready output of `model`."""
    return model.model_validate(data).model_dump(mode="json")


# --- plans -------------------------------------------------------------------------------------

class EntityOut(Out):
    code: str
    name: str
    kind: str


class VersionOut(Out):
    number: int
    kind: str = ""
    label: str = ""
    motivering: str = ""
    layout: str = ""
    import_id: int | None = None
    created_at: Timestamp | None = None
    created_by: str | None = None


class PlanOut(Out):
    id: int
    organisation: str
    code: str
    title: str
    start_year: int
    end_year: int
    entity: EntityOut
    versions: list[VersionOut]


class PlanList(Out):
    data: list[PlanOut]
    count: int


class PlanRef(Out):
    id: int
    organisation: str
    code: str
    title: str
    start_year: int
    end_year: int


class ItemOut(Out):
    id: int
    code: str
    kind: str = Field(description="beleidsdoelstelling, actieplan, actie, project or reguliere_werking")
    title: str
    title_long: str = ""
    parent_id: int | None
    parent_code: str | None
    beleidsdomein: str | None
    beleidsveld: str | None = None
    owner: str | None
    department: str | None
    mandataris: str | None
    priority: bool = Field(description="Effective priority (set on the item or, by propagation, below it).")
    priority_set: bool = Field(False, description="Priority set on the item itself.")
    publish: bool
    tags: list[str]
    row_version: int = Field(description="Send it back as expected_version when changing the item.")
    start_date: date | None = None
    end_date: date | None = None
    weight: float | None = None
    status: str | None = Field(description="Derived status (approved updates only, rolled up).")
    progress: float | None = Field(description="Derived progress in % (approved updates only, rolled up).")
    reported_period: str | None = Field(description="Period of the latest approved update; null: none yet.")
    knelpunten: str = ""
    budget: float = Field(0.0, description="Planned expenditure of the item and everything under it.")
    children: int = 0


class ItemPage(Out):
    data: list[ItemOut]
    count: int = Field(description="All items that pass the filters, before limit/offset.")
    plan: PlanRef
    version: VersionOut


class PeriodOut(Out):
    id: int | None = None
    code: str
    label_nl: str = ""
    label_en: str = ""
    start_date: date | None = None
    end_date: date | None = None
    deadline: date | None = None


class DueItemOut(ItemOut):
    period_code: str
    deadline: date
    state: Literal["open", "due_soon", "overdue"]
    update_state: str | None


class AwaitingOut(ItemOut):
    update_id: int
    period_code: str
    submitted_by: str | None
    submitted_at: Timestamp | None
    update_version: int


class DomainOut(Out):
    beleidsdomein: str
    name: str
    items: int
    progress: float | None
    statuses: dict[str, int]


class SignalOut(Out):
    id: int
    plan_id: int
    item_id: int | None
    item_code: str | None = None
    rule: str = Field(description="The rule that raised it (see /api/v1/signal-rules).")
    rule_name_nl: str = ""
    rule_name_en: str = ""
    subject: str = Field(description="What it is about: kpi:ID, milestone:ID, item:CODE or item:CODE:YEAR.")
    state: Literal["open", "acknowledged", "resolved"]
    severity: Literal["info", "warning", "critical"]
    message_nl: str
    message_en: str
    evidence: dict[str, Any] = Field(description="The numbers, dates and periods that triggered it.")
    owner: str | None
    first_seen: Timestamp
    last_seen: Timestamp
    acknowledged_by: str | None = None
    acknowledged_at: Timestamp | None = None
    comment: str = ""
    resolved_at: Timestamp | None = None
    row_version: int


class SignalList(Out):
    data: list[SignalOut]
    count: int


class EvaluationOut(Out):
    plan_id: int
    new: int
    reopened: int
    still: int
    resolved: int
    signals: list[SignalOut]


class SignalParamOut(Out):
    name: str
    kind: Literal["int", "number", "monthday"]
    default: Any
    label_nl: str
    label_en: str
    minimum: float | None = None
    maximum: float | None = None


class SignalRuleOut(Out):
    code: str
    name_nl: str
    name_en: str
    description_nl: str = Field(description="The rule in words with its current parameters.")
    description_en: str
    severity: Literal["info", "warning", "critical"]
    enabled: bool
    params: dict[str, Any]
    defaults: dict[str, Any]
    customised: bool
    param_specs: list[SignalParamOut]
    row_version: int = Field(description="0: never configured (the defaults apply).")
    updated_by: str | None = None
    updated_at: Timestamp | None = None


class SignalRuleList(Out):
    data: list[SignalRuleOut]
    count: int


class DashboardOut(Out):
    plan: PlanRef
    version: VersionOut
    period: PeriodOut | None
    status_counts: dict[str, int] = Field(description="Reporting items by derived status; 'geen': no approved update.")
    priority_items: list[ItemOut]
    knelpunten: list[ItemOut]
    overdue: list[DueItemOut]
    awaiting_approval: list[AwaitingOut]
    domains: list[DomainOut]
    objectives: list[ItemOut]
    overdue_total: int = Field(description="All overdue updates; `overdue` lists the first 50 (earliest deadline).")
    knelpunten_total: int = Field(description="All items with knelpunten; `knelpunten` lists the first 50.")
    awaiting_total: int = Field(description="All updates awaiting a decision; `awaiting_approval` lists the first 50.")
    signals: list[SignalOut] = Field(default_factory=list,
                                     description="Open, then acknowledged early-warning signals (the first 50).")
    signals_open: int = 0
    signals_total: int = Field(0, description="All open and acknowledged signals the caller may see.")


class SummaryRowOut(Out):
    code: str
    title: str
    year: int
    amount: float


class SummaryList(Out):
    data: list[SummaryRowOut]
    count: int


# --- one item ----------------------------------------------------------------------------------

class AttachmentOut(Out):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str | None = None
    uploaded_by: str | None = None
    uploaded_at: Timestamp | None = None
    url: str = Field(description="Where to download it.")


class UpdateOut(Out):
    id: int
    item_id: int
    period_id: int | None = None
    period_code: str | None = None
    period_label: str | None = None
    state: Literal["draft", "submitted", "approved", "returned"]
    status: str
    progress: float | None
    narrative: str
    knelpunten: str
    no_change: bool
    author: str
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    updated_by: str | None = None
    submitted_at: Timestamp | None = None
    submitted_by: str | None = None
    decided_at: Timestamp | None = None
    decided_by: str | None = None
    decision_comment: str = ""
    row_version: int = Field(description="Send it back as expected_version when changing the update.")
    attachments: list[AttachmentOut] = []


class UpdateList(Out):
    data: list[UpdateOut]
    count: int


class UpdateResultOut(Out):
    update: UpdateOut
    notified: list[str] = Field(description="Who was notified by mail.")


class LightOut(Out):
    colour: Literal["groen", "oranje", "rood", "grijs"]
    rule_nl: str = Field(description="Why this colour, in words, with its numbers (Dutch).")
    rule_en: str
    value: float | None = None
    period: str | None = None
    target: float | None = None
    target_year: int | None = None
    step: str | None = None
    target_step: str | None = None


class MeasurementPoint(Out):
    period: str
    value: float | None = None
    step: str | None = None


class KpiOut(Out):
    id: int
    item_id: int
    kind: Literal["statistic", "manual", "steps"]
    name: str
    unit: str = ""
    indicator: str | None = None
    area_level: str | None = None
    area_code: str | None = None
    direction: str = "up"
    baseline: float | None = None
    baseline_period: str | None = None
    targets: dict[str, float] = {}
    tolerance_pct: float = 5.0
    steps: list[str] = []
    target_steps: dict[str, str] = {}
    row_version: int | None = None
    measurements: list[MeasurementPoint]
    light: LightOut


class KpiList(Out):
    data: list[KpiOut]
    count: int


class AmountOut(Out):
    year: int
    direction: str
    amount: float


class ItemVersionOut(Out):
    number: int
    label: str = ""
    motivering: str = ""
    present: bool
    title: str | None
    parent: str | None
    amount: float


class ExplanationRow(Out):
    code: str
    title: str
    weight: float | None
    share: float | None = Field(description="Share of the mean in %.")
    progress: float | None
    status: str
    counted: bool
    reason: str | None = None


class MilestoneOut(Out):
    id: int
    item_id: int
    title: str
    owner: str | None = None
    planned_start: date | None = None
    planned_end: date
    actual_start: date | None = None
    actual_end: date | None = None
    depends_on: list[int] = []
    row_version: int | None = None
    done: bool
    overdue: bool
    slippage_days: int


class HistoryOut(Out):
    at: Timestamp
    actor: str
    operation: str
    outcome: str
    message: str = ""
    before: Any = None
    after: Any = None


class ItemDetailOut(Out):
    item: ItemOut
    plan: PlanRef
    version: VersionOut
    ancestors: list[ItemOut]
    children: list[ItemOut]
    explanation: list[str] = Field(description="How the progress and status were derived, line by line.")
    explanation_rows: list[ExplanationRow] = Field(description="The children in the derivation, with weights.")
    amounts: list[AmountOut]
    versions: list[ItemVersionOut] = Field(description="What each plan version says about the item.")
    updates: list[UpdateOut]
    kpis: list[KpiOut]
    milestones: list[MilestoneOut]
    history: list[HistoryOut]
    periods: list[PeriodOut]
    signals: list[SignalOut] = Field(default_factory=list, description="Open and acknowledged signals of the item.")


class ItemSettingsOut(Out):
    id: int
    plan_id: int
    code: str
    kind: str
    priority: bool
    owner: str | None
    department: str | None
    mandataris: str | None
    start_date: date | None
    end_date: date | None
    tags: list[str]
    weight: float | None
    publish: bool
    row_version: int
    updated_at: Timestamp | None = None
    updated_by: str | None = None


class MeasurementOut(Out):
    kpi_id: int
    period: str
    value: float | None
    step: str | None
    note: str
    recorded_by: str
    recorded_at: Timestamp


# --- import --------------------------------------------------------------------------------------

class PlanDiffOut(Out):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    moved: list[dict[str, Any]]
    retitled: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    amounts: list[dict[str, Any]]
    counts: dict[str, int]


class PlanImportOut(Out):
    import_id: int
    status: Literal["created", "new_version", "unchanged", "dry_run"]
    plan_id: int
    plan_code: str
    version: int | None = Field(description="The version written; null: unchanged or a dry run.")
    layout: str
    notes: list[str]
    lines: list[str] = Field(description="The differences with the latest version, as readable lines.")
    diff: PlanDiffOut


class VersionDiffOut(Out):
    old: int
    new: int
    lines: list[str]
    diff: PlanDiffOut


# --- the public view -----------------------------------------------------------------------------

class PublicKpiOut(Out):
    name: str
    unit: str = ""
    light: LightOut
    measurements: list[MeasurementPoint]


class PublicItemOut(Out):
    id: int
    code: str
    kind: str
    title: str
    title_long: str = ""
    beleidsdomein: str | None
    parent_code: str | None
    priority: bool
    status: str | None
    progress: float | None
    reported_period: str | None
    budget: float
    kpis: list[PublicKpiOut]


class PublicPlanInfo(Out):
    code: str
    title: str
    start_year: int
    end_year: int


class PublicPlanOut(Out):
    organisation: str
    plan: PublicPlanInfo | None
    data: list[PublicItemOut] = Field(description="Published items only: approved status, progress and KPIs.")
    count: int


# --- errors and request bodies ---------------------------------------------------------------------

class StaleEditOut(Out):
    detail: str
    mine: dict[str, Any] = Field(description="The values you sent (nothing was written).")
    theirs: dict[str, Any] = Field(description="The values stored now.")
    theirs_version: int = Field(description="Send this as expected_version to overwrite theirs after all.")


class StatusUpdateIn(In):
    action: Literal["save", "submit", "no_change"] = Field(
        "save", description="save: a draft; submit: to the coordinators; no_change: the previous approved status again.")
    period: str | None = Field(None, description="Reporting period code (2026-S1); default: the current one.")
    status: str | None = Field(None, description="Status code or label (op_schema, 'Op schema'); save/submit only.")
    progress: float | str | None = None
    narrative: str = ""
    knelpunten: str = ""
    expected_version: int | None = Field(None, description="row_version of the update the edit is based on.")


class DecisionIn(In):
    decision: Literal["approve", "return"]
    comment: str = Field("", description="Required when returning an update.")
    expected_version: int | None = None


class ItemPatchIn(In):
    expected_version: int = Field(description="row_version of the item the edit is based on.")
    owner: str | None = None
    department: str | None = None
    mandataris: str | None = None
    priority: bool | None = None
    publish: bool | None = None
    weight: float | None = None
    tags: list[str] | None = None
    start_date: date | None = None
    end_date: date | None = None


class AcknowledgeIn(In):
    comment: str = Field(description="What is being done about it (required).")
    expected_version: int | None = Field(None, description="row_version of the signal you read.")


class SignalRuleIn(In):
    enabled: bool | None = None
    params: dict[str, Any] | None = Field(None, description="Only the parameters to change; checked per rule.")
    expected_version: int | None = Field(None, description="row_version of the setting you read (0: none yet).")


class MeasurementIn(In):
    period: str = Field(description="2026, 2026-S1, 2026-Q3 or 2026-03")
    value: float | str | None = Field(None, description="Manual KPIs: the measured number.")
    step: str | None = Field(None, description="Steps KPIs: the step reached.")
    note: str = ""


ERROR_TEXT = {400: "Bad request", 401: "Sign in or send a valid API token", 403: "Not allowed",
              404: "Not found (or not visible to you)", 409: "Conflict", 422: "Invalid parameters"}


def responses(model: type[BaseModel], *errors: int, stale: bool = False) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses`: the 200 model and the errors (409 with both versions when `stale`)."""
    from obmi.web.schemas import ErrorOut
    out: dict[int | str, dict[str, Any]] = {200: {"model": model}}
    for status in (*errors, 422):
        out[status] = {"model": StaleEditOut if status == 409 and stale else ErrorOut, "description": ERROR_TEXT[status]}
    return out
