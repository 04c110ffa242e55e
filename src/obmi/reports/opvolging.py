"""The opvolgingsrapportering (the legal follow-up report of the first semester, due to the
council before 30 September) and the per-period college report, as one pure report model that
the PDF (obmi.reports.opvolging_pdf) and XLSX (obmi.reports.opvolging_xlsx) renderers turn into
files. Built from plain inputs: the plan's items with their status of the period, the budget
lines, the signals and the text sections; no database.

Key figures and signals come first, details after (councils read the first page):

1. key figures — bestedingsgraad of the year to date, planned vs. realised uitgaven and
   ontvangsten, prioritaire acties per status, open signals;
2. the signals of the early-warning engine that are not resolved;
3. the state of the prioritaire actieplannen and acties (the latest approved status update of the
   period with its toelichting; an item without one says so);
4. J1-style table: per beleidsdomein and category (exploitatie, investeringen, financiering),
   uitgaven and ontvangsten, raming of the plan version vs. realised to date;
5. T2-style table: per economic category, raming vs. realised to date;
6. the text sections (changed assumptions, changed financial risks, the organisation's own);
7. the detail: every actie per beleidsdoelstelling.

Finance figures are computed by obmi.finance.figures (the same code as the finance pages), from
the lines the caller chose: the ramingen of the plan version and the realisaties of the year up
to the last quarter the report covers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from obmi.finance.accounts import economic_labels
from obmi.finance.figures import ItemInfo, Money, Rates, compute_figures
from obmi.finance.model import CATEGORY_LABELS, BudgetLine, Category, LineKind
from obmi.plans.bbc import BELEIDSDOMEINEN
from obmi.plans.model import STATUS_LABELS, ItemStatus

ReportKind = Literal["opvolging", "college"]
REPORTS: tuple[ReportKind, ...] = ("opvolging", "college")

# The text sections every report has (code, Dutch title, English title); an organisation adds its own.
DEFAULT_SECTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "opvolging": (("wijzigingen_veronderstellingen", "Gewijzigde veronderstellingen", "Changed assumptions"),
                  ("financiele_risicos", "Gewijzigde financiële risico's", "Changed financial risks")),
    "college": (("toelichting", "Toelichting van het college", "Notes of the college"),),
}
DOMAINS_EN: dict[str, str] = {
    "00": "General financing", "01": "General administration", "02": "Mobility", "03": "Nature and environment",
    "04": "Safety", "05": "Enterprise and employment", "06": "Housing and spatial planning",
    "07": "Culture and leisure", "08": "Education", "09": "Care and childcare",
}
NO_STATUS = "geen"  # no approved update for the period
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
FIRST_SEMESTER_QUARTERS = 2  # the opvolgingsrapportering covers the realisaties of quarters 1–2


@dataclass(frozen=True)
class MoneyRow(Rates):
    """One row of a finance table: raming (planned) vs. realised, uitgaven and ontvangsten."""
    key: str
    label_nl: str
    label_en: str
    planned_out: float
    realised_out: float
    planned_in: float
    realised_in: float
    category: str = ""  # J1: exploitatie, investering, financiering ("" on a domain's total row)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_nl


@dataclass(frozen=True)
class KeyFigures(Rates):
    planned_out: float
    realised_out: float
    planned_in: float
    realised_in: float
    booked_to: int  # the last quarter with realisaties (0: none yet)
    priority_acties: int
    priority_by_status: dict[str, int]  # status code (or "geen") → number of prioritaire acties
    open_signals: int


@dataclass(frozen=True)
class ItemLine:
    """An item as the report states it: its status of the period (derived for actieplannen and
    beleidsdoelstellingen), and for an item with its own approved update, that update's text."""
    id: int
    code: str
    kind: str
    title: str
    parent_code: str | None
    priority: bool
    status: str | None  # None: no approved update of the period (nor below it)
    progress: float | None
    period: str | None  # the reporting period of the approved update
    narrative: str = ""
    knelpunten: str = ""
    owner: str | None = None
    planned_out: float = 0.0  # uitgaven of the year: raming, and realised to the report's date
    realised_out: float = 0.0

    @property
    def reported(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class SignalLine:
    severity: str
    state: str
    item_code: str | None
    message_nl: str
    message_en: str

    def message(self, lang: str) -> str:
        return (self.message_en or self.message_nl) if lang == "en" else self.message_nl


@dataclass(frozen=True)
class TextSection:
    code: str
    title_nl: str
    title_en: str
    body: str
    state: str | None  # None: nothing written yet
    draft: bool  # shown although not approved (a draft report for staff): marked "ontwerp"

    def title(self, lang: str) -> str:
        return (self.title_en or self.title_nl) if lang == "en" else self.title_nl


@dataclass(frozen=True)
class DetailGroup:
    """A beleidsdoelstelling (None: the actieplannen under none, e.g. the reguliere werking) with
    every actie under it."""
    objective: ItemLine | None
    acties: list[ItemLine]


@dataclass(frozen=True)
class FollowUpReport:
    kind: ReportKind
    organisation: str
    organisation_name: str
    plan_code: str
    plan_title: str
    version: int
    version_label: str
    year: int
    period: str  # the year (opvolging) or the reporting period code (college)
    period_label: str
    as_of: date  # the last day the report covers
    quarters: int  # the realisaties of quarters 1..quarters of the year
    generated: datetime
    data_version: str
    finance_source: str  # finance (ramingen imported) or plan (the plan's own amounts)
    key: KeyFigures
    signals: list[SignalLine]
    priority_items: list[ItemLine]  # prioritaire actieplannen and acties, in plan order
    j1: list[MoneyRow]  # per beleidsdomein and category, with a total row per domain
    j1_total: MoneyRow
    t2: list[MoneyRow]  # per economic category
    t2_total: MoneyRow
    sections: list[TextSection]
    detail: list[DetailGroup]
    drafts_included: bool = False
    notes: list[str] = field(default_factory=list)


def status_label(status: str | None, lang: str) -> str:
    if status is None or status == NO_STATUS:
        return "geen goedgekeurde rapportering" if lang == "nl" else "no approved update"
    try:
        labels = STATUS_LABELS[ItemStatus(status)]
    except ValueError:
        return status
    return labels[1] if lang == "en" else labels[0]


def domain_label(code: str, lang: str) -> str:
    if lang == "en":
        return DOMAINS_EN.get(code, "unknown")
    return BELEIDSDOMEINEN.get(code, "onbekend")


def realised_to_date(lines: Iterable[BudgetLine], year: int, quarters: int) -> list[BudgetLine]:
    """The realisaties of `year` booked in quarters 1..`quarters` (a realisatie without a quarter
    counts: the export did not say when, only that it is booked)."""
    return [line for line in lines if line.kind == LineKind.REALISATIE and line.year == year
            and (line.quarter is None or line.quarter <= quarters)]


def _money_row(key: str, nl: str, en: str, money: Money, category: str = "") -> MoneyRow:
    return MoneyRow(key, nl, en, money.planned_out, money.realised_out, money.planned_in, money.realised_in, category)


def _sum_rows(rows: Sequence[MoneyRow], key: str, nl: str, en: str, category: str = "") -> MoneyRow:
    return MoneyRow(key, nl, en, sum(r.planned_out for r in rows), sum(r.realised_out for r in rows),
                    sum(r.planned_in for r in rows), sum(r.realised_in for r in rows), category)


def j1_rows(items: Sequence[ItemInfo], lines: Sequence[BudgetLine], year: int) -> list[MoneyRow]:
    """Per beleidsdomein: the domain's total (key "<domain>", category ""), then one row per
    category with lines. The beleidsdomein of a line is its item's (or its beleidsitem's),
    exactly as the finance pages place it."""
    per_category = {c: compute_figures(items, [line for line in lines if line.category == c], source="")
                    for c in Category}
    domains = sorted({d for figures in per_category.values() for d in figures.domains(year)})
    out: list[MoneyRow] = []
    for domain in domains:
        rows = []
        for category in Category:
            money = per_category[category].domains(year).get(domain)
            if money is None or money.empty:
                continue
            nl, en = CATEGORY_LABELS[category.value]
            rows.append(_money_row(f"{domain}/{category.value}", nl, en, money, category.value))
        out.append(_sum_rows(rows, domain, f"{domain} {domain_label(domain, 'nl')}",
                             f"{domain} {domain_label(domain, 'en')}"))
        out += rows
    return out


def t2_rows(items: Sequence[ItemInfo], lines: Sequence[BudgetLine], year: int) -> list[MoneyRow]:
    """Per economic category (from the algemene rekening), in the order of the accounts file."""
    figures = compute_figures(items, lines, source="")
    found = figures.economic(year)
    labels = economic_labels()
    order = list(labels) + sorted(set(found) - set(labels))
    return [_money_row(code, *labels.get(code, (code, code)), found[code]) for code in order
            if code in found and not found[code].empty]


def build_report(*, kind: ReportKind, organisation: str, organisation_name: str, plan_code: str, plan_title: str,
                 version: int, version_label: str, year: int, period: str, period_label: str, as_of: date,
                 quarters: int, generated: datetime, data_version: str, items: Sequence[Mapping[str, Any]],
                 finance_items: Sequence[ItemInfo], planned: Sequence[BudgetLine], realised: Sequence[BudgetLine],
                 finance_source: str, signals: Sequence[Mapping[str, Any]],
                 sections: Sequence[TextSection], drafts_included: bool = False) -> FollowUpReport:
    """The report from plain inputs.

    `items`: the plan version's items in plan order, each a mapping with id, code, kind, title,
    parent_id, parent_code, priority (effective), owner, status, progress (derived for parents),
    period (of the approved update), narrative, knelpunten. `planned`: the ramingen of the
    version (all years); `realised`: the realisaties (all years: the report keeps those of `year`
    up to quarter `quarters`). `sections`: in their order."""
    lines_planned = [line for line in planned if line.year == year]
    lines_realised = realised_to_date(realised, year, quarters)
    lines = lines_planned + lines_realised
    figures = compute_figures(finance_items, lines, source=finance_source)
    totals = figures.totals(year)

    lines_of = [_with_money(_item_line(i), figures.money(i["code"], year)) for i in items]
    by_id = {line.id: line for line in lines_of}
    priority_items = [line for line in lines_of if line.priority and line.kind in ("actieplan", "actie")]
    priority_acties = [line for line in priority_items if line.kind == "actie"]
    counts = Counter(line.status or NO_STATUS for line in priority_acties)
    by_status = {s: counts[s] for s in [*[x.value for x in ItemStatus], NO_STATUS] if counts.get(s)}

    signal_lines = sorted((SignalLine(s["severity"], s["state"], s.get("item_code"), s["message_nl"],
                                      s.get("message_en") or "") for s in signals),
                          key=lambda s: (s.state != "open", SEVERITY_ORDER.get(s.severity, 9), s.item_code or ""))
    key = KeyFigures(totals.planned_out, totals.realised_out, totals.planned_in, totals.realised_in,
                     figures.booked_to(year), len(priority_acties), by_status,
                     sum(1 for s in signal_lines if s.state == "open"))

    j1 = j1_rows(finance_items, lines, year)
    j1_total = _sum_rows([r for r in j1 if not r.category and "/" not in r.key], "totaal", "Totaal", "Total")
    t2 = t2_rows(finance_items, lines, year)
    t2_total = _sum_rows(t2, "totaal", "Totaal", "Total")

    detail = _detail(items, by_id)
    notes = []
    if finance_source == "plan":
        notes.append("plan")  # ramingen: the plan's own amounts (no finance import of ramingen)
    return FollowUpReport(kind, organisation, organisation_name, plan_code, plan_title, version, version_label, year,
                          period, period_label, as_of, quarters, generated, data_version, finance_source, key,
                          signal_lines, priority_items, j1, j1_total, t2, t2_total, list(sections), detail,
                          drafts_included, notes)


def _item_line(row: Mapping[str, Any]) -> ItemLine:
    return ItemLine(row["id"], row["code"], row["kind"], row.get("title") or "", row.get("parent_code"),
                    bool(row.get("priority")), row.get("status"), row.get("progress"), row.get("period"),
                    row.get("narrative") or "", row.get("knelpunten") or "", row.get("owner"))


def _with_money(line: ItemLine, money: Money) -> ItemLine:
    return replace(line, planned_out=money.planned_out, realised_out=money.realised_out)


def _detail(items: Sequence[Mapping[str, Any]], by_id: Mapping[int, ItemLine]) -> list[DetailGroup]:
    """Every actie under its beleidsdoelstelling (plan order); acties under no beleidsdoelstelling
    (the reguliere werking) form the last group."""
    parent = {i["id"]: i.get("parent_id") for i in items}

    def objective_of(item_id: int) -> int | None:
        current: int | None = item_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            if by_id[current].kind == "beleidsdoelstelling":
                return current
            current = parent.get(current)
        return None

    groups: dict[int | None, list[ItemLine]] = {}
    for item in items:
        if item["kind"] == "beleidsdoelstelling":
            groups.setdefault(item["id"], [])
    for item in items:
        if item["kind"] == "actie":
            groups.setdefault(objective_of(item["id"]), []).append(by_id[item["id"]])
    ordered = [k for k in groups if k is not None] + ([None] if None in groups else [])
    return [DetailGroup(by_id[k] if k is not None else None, groups[k]) for k in ordered if groups[k] or k is not None]
