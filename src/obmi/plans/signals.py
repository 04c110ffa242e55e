"""Early-warning signals: rules over a plan's KPIs, milestones, status updates and finance that
say, in words and with their numbers, where something goes wrong. Pure: the operation
(obmi.operations.signals) builds the `SignalFacts` from the store; a rule reads them and returns
its `Finding`s, each with its subject (what it is about), its evidence (the numbers, dates and
periods that triggered it) and its owner.

Every rule has a code, a name and a description in words with its parameters (what an
administrator reads and tunes per organisation), default parameters with their bounds, and a
severity (info, warning, critical). The built-in rules (`BUILTIN_RULES`) are registered through
the `obmi_signal_rules` hook like a plugin's; a plugin's rule with a built-in code replaces it.

- kpi_drifting: a numeric KPI (statistic or manual) whose last `measurements` measurements each
  moved the wrong way (up: lower, down: higher) while its target is not reached.
- milestone_overdue: a milestone past its planned end (plus `grace_days`) without an actual end.
- no_update: a reporting item without a submitted or approved update for its last `periods`
  reporting periods whose deadline has passed (finished items need none).
- delayed: a reporting item whose last `periods` approved updates all say vertraagd.
- low_spend: an actie whose spend rate (realised / planned uitgaven of the year) is below
  `threshold_pct` % after the day `by` (MM-DD) of the year — only once realisaties of that year
  have been imported (no realisaties is not evidence of low spending).
- over_budget: an actie whose realised uitgaven of a year exceed its planned uitgaven by more than
  `tolerance_pct` %.
- indicator_worsening: a statistic KPI whose indicator moved the wrong way by more than
  `threshold_pct` % between its last two (disclosed) values. That relative change is the test for
  register data; for survey estimates (points with a confidence interval) the rule stays silent
  unless a significance test is plugged in (`IndicatorWorsening(significance=...)`, registered
  under the same code through the hook) — the surveys module will provide one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from obmi.errors import ValidationError
from obmi.finance.figures import FinanceFigures
from obmi.hookspecs import hookimpl
from obmi.plans.kpis import format_number
from obmi.plans.periods import bounds, year_of

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
FINISHED = ("afgerond", "stopgezet")
REPORTING_KINDS = ("actie", "project", "reguliere_werking")


# --- the facts a rule reads ------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemFact:
    id: int
    code: str
    kind: str
    title: str = ""
    owner: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Point:
    """One measured value (statistic KPIs: disclosed values only). `ci_low`/`ci_high`: the
    confidence interval of a survey estimate (None for register data)."""
    period: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class KpiFact:
    id: int
    item: str  # the item's code
    name: str
    kind: str  # statistic, manual (steps KPIs are not judged by these rules)
    direction: str = "up"
    targets: dict[int, float] = field(default_factory=dict)
    points: tuple[Point, ...] = ()  # in time order
    unit: str = ""
    indicator: str | None = None


@dataclass(frozen=True)
class MilestoneFact:
    id: int
    item: str
    title: str
    planned_end: date
    actual_end: date | None = None
    owner: str | None = None


@dataclass(frozen=True)
class PeriodFact:
    code: str
    start: date
    end: date
    deadline: date


@dataclass(frozen=True)
class UpdateFact:
    item: str
    period: str
    state: str  # draft, submitted, approved, returned
    status: str


@dataclass
class SignalFacts:
    today: date
    items: dict[str, ItemFact] = field(default_factory=dict)
    kpis: list[KpiFact] = field(default_factory=list)
    milestones: list[MilestoneFact] = field(default_factory=list)
    periods: list[PeriodFact] = field(default_factory=list)  # of the plan's years, in time order
    updates: list[UpdateFact] = field(default_factory=list)
    finance: FinanceFigures | None = None

    def owner(self, code: str, fallback: str | None = None) -> str | None:
        item = self.items.get(code)
        return (item.owner if item is not None else None) or fallback


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str  # "kpi:12", "milestone:5", "item:AC1", "item:AC1:2026"
    item: str | None  # the item's code
    severity: Severity
    message_nl: str
    message_en: str
    evidence: dict[str, Any]
    owner: str | None


# --- rules and their parameters --------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str
    kind: Literal["int", "number", "monthday"]
    default: Any
    label_nl: str
    label_en: str
    minimum: float | None = None
    maximum: float | None = None


class Evaluate(Protocol):
    def __call__(self, facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]: ...


@dataclass(frozen=True)
class Rule:
    code: str
    name_nl: str
    name_en: str
    description_nl: str  # with {param} placeholders, filled in by `describe`
    description_en: str
    params: tuple[Param, ...]
    severity: Severity
    evaluate: Evaluate

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def run(self, facts: SignalFacts, params: dict[str, Any] | None = None) -> list[Finding]:
        return self.evaluate(facts, {**self.defaults, **(params or {})}, self)

    def describe(self, params: dict[str, Any] | None = None, lang: str = "nl") -> str:
        """The rule in words with its (current) parameters."""
        chosen = {**self.defaults, **(params or {})}
        shown = {k: _show(v, lang) for k, v in chosen.items()}
        return (self.description_en if lang == "en" else self.description_nl).format(**shown)

    def finding(self, subject: str, item: str | None, nl: str, en: str, evidence: dict[str, Any],
                owner: str | None, severity: Severity | None = None) -> Finding:
        return Finding(self.code, subject, item, severity or self.severity, nl, en, evidence, owner)


_MONTHDAY = re.compile(r"^(\d{2})-(\d{2})$")


def check_params(rule: Rule, params: dict[str, Any]) -> dict[str, Any]:
    """The rule's parameters, complete and normalised; ValidationError naming each field at fault
    (unknown names, wrong types, out of bounds)."""
    errors: dict[str, list[str]] = {}
    known = {p.name: p for p in rule.params}
    for name in params:
        if name not in known:
            errors[name] = [f"not a parameter of {rule.code} (its parameters: {', '.join(known) or 'none'})"]
    out = rule.defaults
    for name, spec in known.items():
        if name not in params:
            continue
        try:
            out[name] = _parse_param(spec, params[name])
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(f"the parameters of rule {rule.code} are not valid", errors)
    return out


def _parse_param(spec: Param, value: Any) -> Any:
    if spec.kind == "monthday":
        match = _MONTHDAY.match(str(value).strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError("a day of the year as MM-DD (06-30)")
        try:
            date(2024, int(match.group(1)), int(match.group(2)))  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"{value!r} is not a day of the year (MM-DD)") from None
        return match.group(0)
    if isinstance(value, bool):
        raise ValueError("a number")
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValueError("a number") from None
    if not isinstance(value, int | float) or value != value or value in (float("inf"), float("-inf")):
        raise ValueError("a number")
    if spec.kind == "int":
        if float(value) != int(value):
            raise ValueError("a whole number")
        value = int(value)
    if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
        raise ValueError(f"from {_show(spec.minimum, 'en')} to {_show(spec.maximum, 'en')}")
    return value


def _show(value: Any, lang: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(float(value), lang=lang)
    return str(value)


def _n(value: float, lang: str = "nl") -> str:
    return format_number(value, lang=lang)


def _pct(value: float, lang: str = "nl") -> str:
    return f"{format_number(value, 1, lang)} %"


def _euro(value: float, lang: str = "nl") -> str:
    return f"€ {format_number(value, 0, lang)}"


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _period_end(code: str) -> tuple[date, str]:
    return bounds(code)[1], code


# --- kpi_drifting ------------------------------------------------------------------------------------

def _applicable_target(targets: dict[int, float], year: int) -> tuple[int, float] | None:
    if not targets:
        return None
    if year in targets:
        return year, targets[year]
    later = [y for y in targets if y > year]
    chosen = min(later) if later else max(targets)
    return chosen, targets[chosen]


def _reached(direction: str, value: float, target: float) -> bool:
    return value >= target if direction == "up" else value <= target


def _kpi_drifting(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    needed = int(params["measurements"])
    out = []
    for kpi in facts.kpis:
        if kpi.kind not in ("statistic", "manual") or not kpi.targets:
            continue
        points = sorted(kpi.points, key=lambda p: _period_end(p.period))
        if len(points) < needed + 1:
            continue
        latest = points[-1]
        target_year, target = _applicable_target(kpi.targets, year_of(latest.period)) or (0, 0.0)
        if _reached(kpi.direction, latest.value, target):
            continue
        run = points[-(needed + 1):]
        wrong = all((b.value < a.value) if kpi.direction == "up" else (b.value > a.value) for a, b in zip(run, run[1:]))
        if not wrong:
            continue
        series_nl = " → ".join(f"{_n(p.value)} ({p.period})" for p in run)
        series_en = " → ".join(f"{_n(p.value, 'en')} ({p.period})" for p in run)
        out.append(rule.finding(
            f"kpi:{kpi.id}", kpi.item,
            f"KPI '{kpi.name}' beweegt {needed} metingen op rij weg van het doel {_n(target)} voor {target_year}: "
            f"{series_nl}",
            f"KPI '{kpi.name}' moved away from its target {_n(target, 'en')} for {target_year} in {needed} "
            f"measurements in a row: {series_en}",
            {"kpi": kpi.id, "kpi_name": kpi.name, "direction": kpi.direction, "target": target,
             "target_year": target_year, "measurements": [{"period": p.period, "value": p.value} for p in run],
             "indicator": kpi.indicator},
            facts.owner(kpi.item)))
    return out


# --- milestone_overdue ---------------------------------------------------------------------------------

def _milestone_overdue(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    grace = int(params["grace_days"])
    critical_after = int(params["critical_after_days"])
    out = []
    for m in facts.milestones:
        if m.actual_end is not None or m.planned_end + timedelta(days=grace) >= facts.today:
            continue
        late = (facts.today - m.planned_end).days
        out.append(rule.finding(
            f"milestone:{m.id}", m.item,
            f"Mijlpaal '{m.title}' van {m.item} is {late} dagen te laat: gepland tegen {_day(m.planned_end)}, "
            f"nog niet afgerond op {_day(facts.today)}",
            f"Milestone '{m.title}' of {m.item} is {late} days overdue: planned by {_day(m.planned_end)}, "
            f"not completed on {_day(facts.today)}",
            {"milestone": m.id, "title": m.title, "planned_end": m.planned_end.isoformat(),
             "today": facts.today.isoformat(), "days_overdue": late},
            facts.owner(m.item, m.owner), "critical" if late > critical_after else None))
    return out


# --- no_update and delayed --------------------------------------------------------------------------------

def _reporting_items(facts: SignalFacts) -> list[ItemFact]:
    return [i for i in facts.items.values() if i.kind in REPORTING_KINDS]


def _updates_by_item(facts: SignalFacts) -> dict[str, dict[str, UpdateFact]]:
    out: dict[str, dict[str, UpdateFact]] = {}
    for u in facts.updates:
        out.setdefault(u.item, {})[u.period] = u
    return out


def _approved(per_period: dict[str, UpdateFact]) -> list[UpdateFact]:
    return sorted((u for u in per_period.values() if u.state == "approved"), key=lambda u: _period_end(u.period))


def _no_update(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    needed = int(params["periods"])
    passed = [p for p in facts.periods if p.deadline < facts.today]
    updates = _updates_by_item(facts)
    out = []
    for item in _reporting_items(facts):
        mine = updates.get(item.code, {})
        approved = _approved(mine)
        if approved and approved[-1].status in FINISHED:
            continue
        relevant = [p for p in passed if (item.start is None or p.end >= item.start)
                    and (item.end is None or p.start <= item.end)]
        missing: list[PeriodFact] = []
        for p in reversed(relevant):  # the latest periods first, until one was reported on
            u = mine.get(p.code)
            if u is not None and u.state in ("submitted", "approved"):
                break
            missing.append(p)
        if len(missing) < needed:
            continue
        missing.reverse()
        codes = ", ".join(p.code for p in missing)
        last = approved[-1].period if approved else None
        since_nl = f"; laatste goedgekeurde rapportering: {last}" if last else "; nog geen goedgekeurde rapportering"
        since_en = f"; latest approved update: {last}" if last else "; no approved update yet"
        out.append(rule.finding(
            f"item:{item.code}", item.code,
            f"{item.code} heeft al {len(missing)} periodes geen ingediende rapportering ({codes}; uiterste datum "
            f"{_day(missing[-1].deadline)} voorbij){since_nl}",
            f"{item.code} has had no submitted update for {len(missing)} periods ({codes}; deadline "
            f"{_day(missing[-1].deadline)} passed){since_en}",
            {"periods": [{"period": p.code, "deadline": p.deadline.isoformat(),
                          "state": mine[p.code].state if p.code in mine else None} for p in missing],
             "missing": len(missing), "last_approved": last, "today": facts.today.isoformat()},
            item.owner))
    return out


def _delayed(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    needed = int(params["periods"])
    updates = _updates_by_item(facts)
    out = []
    for item in _reporting_items(facts):
        approved = _approved(updates.get(item.code, {}))[-needed:]
        if len(approved) < needed or any(u.status != "vertraagd" for u in approved):
            continue
        codes = ", ".join(u.period for u in approved)
        out.append(rule.finding(
            f"item:{item.code}", item.code,
            f"{item.code} staat {needed} periodes op rij op vertraagd in de goedgekeurde rapporteringen ({codes})",
            f"{item.code} has been delayed for {needed} periods in a row in its approved updates ({codes})",
            {"periods": [{"period": u.period, "status": u.status} for u in approved]}, item.owner))
    return out


# --- low_spend and over_budget ------------------------------------------------------------------------------

def _acties(facts: SignalFacts) -> list[ItemFact]:
    return [i for i in facts.items.values() if i.kind == "actie"]


def _low_spend(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    figures = facts.finance
    year = facts.today.year
    month, day = (int(x) for x in str(params["by"]).split("-"))
    try:
        by = date(year, month, day)
    except ValueError:  # 02-29 in a year that has none
        by = date(year, 2, 28)
    threshold = float(params["threshold_pct"])
    if figures is None or facts.today <= by or figures.booked_to(year) == 0:
        return []
    out = []
    for item in _acties(facts):
        money = figures.money(item.code, year)
        rate = money.spend_rate
        if rate is None or rate * 100 >= threshold:
            continue
        out.append(rule.finding(
            f"item:{item.code}:{year}", item.code,
            f"Bestedingsgraad van {item.code} in {year} is {_pct(rate * 100)} na {_day(by)}, onder de drempel van "
            f"{_pct(threshold)} ({_euro(money.realised_out)} gerealiseerd van {_euro(money.planned_out)} gepland)",
            f"Spend rate of {item.code} in {year} is {_pct(rate * 100, 'en')} after {_day(by)}, below the threshold "
            f"of {_pct(threshold, 'en')} ({_euro(money.realised_out, 'en')} realised of "
            f"{_euro(money.planned_out, 'en')} planned)",
            {"year": year, "by": by.isoformat(), "planned_out": money.planned_out, "realised_out": money.realised_out,
             "spend_rate_pct": rate * 100, "threshold_pct": threshold, "booked_to_quarter": figures.booked_to(year),
             "source": figures.source}, item.owner))
    return out


def _over_budget(facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
    figures = facts.finance
    if figures is None:
        return []
    tolerance = float(params["tolerance_pct"])
    out = []
    for item in _acties(facts):
        for year in figures.years:
            if year > facts.today.year:
                continue
            money = figures.money(item.code, year)
            limit = money.planned_out * (1 + tolerance / 100)
            if money.realised_out <= limit or money.realised_out <= 0:
                continue
            over = money.realised_out - money.planned_out
            out.append(rule.finding(
                f"item:{item.code}:{year}", item.code,
                f"{item.code} heeft in {year} {_euro(money.realised_out)} uitgegeven, {_euro(over)} meer dan de "
                f"{_euro(money.planned_out)} die gepland was (marge {_pct(tolerance)})",
                f"{item.code} spent {_euro(money.realised_out, 'en')} in {year}, {_euro(over, 'en')} more than the "
                f"{_euro(money.planned_out, 'en')} planned (margin {_pct(tolerance, 'en')})",
                {"year": year, "planned_out": money.planned_out, "realised_out": money.realised_out,
                 "over": over, "tolerance_pct": tolerance, "source": figures.source}, item.owner))
    return out


# --- indicator_worsening ------------------------------------------------------------------------------------

Significance = Callable[[Point, Point], bool | None]


@dataclass(frozen=True)
class IndicatorWorsening:
    """The evaluation of indicator_worsening. `significance(previous, latest)`: whether a change
    between two survey estimates is significant (None: cannot tell); without one, estimates with a
    confidence interval are not judged."""
    significance: Significance | None = None

    def __call__(self, facts: SignalFacts, params: dict[str, Any], rule: Rule) -> list[Finding]:
        threshold = float(params["threshold_pct"])
        out = []
        for kpi in facts.kpis:
            if kpi.kind != "statistic" or len(kpi.points) < 2:
                continue
            previous, latest = sorted(kpi.points, key=lambda p: _period_end(p.period))[-2:]
            worse = latest.value < previous.value if kpi.direction == "up" else latest.value > previous.value
            if not worse:
                continue
            survey = latest.ci_low is not None or previous.ci_low is not None
            if survey:
                if self.significance is None or not self.significance(previous, latest):
                    continue
                test = "significance"
            elif previous.value == 0:
                continue  # no relative change from zero
            else:
                test = "relative_change"
            change = (latest.value - previous.value) / abs(previous.value) * 100 if previous.value else 0.0
            if test == "relative_change" and abs(change) <= threshold:
                continue
            name = kpi.indicator or kpi.name
            out.append(rule.finding(
                f"kpi:{kpi.id}", kpi.item,
                f"Indicator '{name}' van KPI '{kpi.name}' verslechterde met {_pct(abs(change))} van {_n(previous.value)} "
                f"({previous.period}) naar {_n(latest.value)} ({latest.period}), meer dan {_pct(threshold)}",
                f"Indicator '{name}' of KPI '{kpi.name}' worsened by {_pct(abs(change), 'en')} from "
                f"{_n(previous.value, 'en')} ({previous.period}) to {_n(latest.value, 'en')} ({latest.period}), "
                f"more than {_pct(threshold, 'en')}",
                {"kpi": kpi.id, "indicator": kpi.indicator, "direction": kpi.direction, "test": test,
                 "previous": {"period": previous.period, "value": previous.value},
                 "latest": {"period": latest.period, "value": latest.value}, "change_pct": change,
                 "threshold_pct": threshold}, facts.owner(kpi.item)))
        return out


# --- the built-in rules ---------------------------------------------------------------------------------------

BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("kpi_drifting", "KPI beweegt weg van het doel", "KPI moving away from its target",
         "Een KPI (statistiek of handmatig) waarvan de laatste {measurements} metingen elk de verkeerde kant op "
         "gingen (lager als hoger beter is, hoger als lager beter is), terwijl het doel niet bereikt is.",
         "A KPI (statistic or manual) whose last {measurements} measurements each went the wrong way (lower when "
         "higher is better, higher when lower is better) while its target is not reached.",
         (Param("measurements", "int", 3, "Aantal metingen op rij", "Measurements in a row", 1, 20),),
         "warning", _kpi_drifting),
    Rule("milestone_overdue", "Mijlpaal te laat", "Milestone overdue",
         "Een mijlpaal waarvan de geplande einddatum meer dan {grace_days} dagen voorbij is zonder werkelijke "
         "einddatum; kritiek na {critical_after_days} dagen.",
         "A milestone more than {grace_days} days past its planned end without an actual end; critical after "
         "{critical_after_days} days.",
         (Param("grace_days", "int", 0, "Dagen speling", "Days of grace", 0, 365),
          Param("critical_after_days", "int", 90, "Kritiek na (dagen)", "Critical after (days)", 1, 3650)),
         "warning", _milestone_overdue),
    Rule("no_update", "Geen statusrapportering", "No status update",
         "Een actie, project of reguliere werking zonder ingediende of goedgekeurde rapportering voor de laatste "
         "{periods} rapporteringsperiodes waarvan de uiterste datum voorbij is (afgeronde en stopgezette items "
         "niet).",
         "An action, project or regular operation without a submitted or approved update for its last {periods} "
         "reporting periods whose deadline has passed (finished and stopped items excepted).",
         (Param("periods", "int", 2, "Aantal periodes", "Periods", 1, 24),), "warning", _no_update),
    Rule("delayed", "Langdurig vertraagd", "Delayed for long",
         "Een item waarvan de laatste {periods} goedgekeurde rapporteringen alle de status vertraagd hebben.",
         "An item whose last {periods} approved updates all have the status delayed.",
         (Param("periods", "int", 2, "Aantal periodes", "Periods", 1, 24),), "warning", _delayed),
    Rule("low_spend", "Lage bestedingsgraad", "Low spend rate",
         "Een actie waarvan de bestedingsgraad (gerealiseerde / geplande uitgaven van het jaar) na {by} (MM-DD) "
         "onder {threshold_pct} % ligt, zodra er realisaties van dat jaar zijn ingelezen.",
         "An action whose spend rate (realised / planned expenditure of the year) is below {threshold_pct} % after "
         "{by} (MM-DD), once realisations of that year have been imported.",
         (Param("threshold_pct", "number", 40, "Drempel (%)", "Threshold (%)", 0, 100),
          Param("by", "monthday", "06-30", "Na de dag (MM-DD)", "After the day (MM-DD)")),
         "warning", _low_spend),
    Rule("over_budget", "Boven budget", "Over budget",
         "Een actie waarvan de gerealiseerde uitgaven van een jaar de geplande uitgaven met meer dan "
         "{tolerance_pct} % overschrijden.",
         "An action whose realised expenditure of a year exceeds its planned expenditure by more than "
         "{tolerance_pct} %.",
         (Param("tolerance_pct", "number", 0, "Marge (%)", "Margin (%)", 0, 1000),), "critical", _over_budget),
    Rule("indicator_worsening", "Indicator verslechtert", "Indicator worsening",
         "Een KPI uit de statistieken waarvan de indicator tussen de laatste twee waarden meer dan "
         "{threshold_pct} % de verkeerde kant op ging (registerdata; voor enquêteschattingen beslist een "
         "significantietoets).",
         "A statistic KPI whose indicator went the wrong way by more than {threshold_pct} % between its last two "
         "values (register data; for survey estimates a significance test decides).",
         (Param("threshold_pct", "number", 5, "Drempel (%)", "Threshold (%)", 0, 1000),), "warning",
         IndicatorWorsening()),
)


@hookimpl
def obmi_signal_rules() -> list[Rule]:
    return list(BUILTIN_RULES)


def evaluate(facts: SignalFacts, rules: Sequence[tuple[Rule, dict[str, Any]]]) -> list[Finding]:
    """Every finding of the given (rule, parameters), rule by rule."""
    return [finding for rule, params in rules for finding in rule.run(facts, params)]
