"""KPI targets and the traffic light, each light stated in words with its numbers.

Numeric KPIs (statistic, manual):

- The latest measurement is the one whose period ends last (measurements without a value do not
  count). The target that applies is the target for that measurement's year, else the first
  target after it, else the last target.
- groen: the target is reached (up: value ≥ target; down: value ≤ target), or the value lies
  within `tolerance_pct` % of the target (the edge included; a target of 0 has no band).
- oranje: not groen, but better than the baseline (up: above it; down: below it); without a
  baseline: within twice the tolerance of the target.
- rood: otherwise.
- grijs: no measurement, or no target (the rule says which).

Steps KPIs (a text indicator: which of an ordered list of steps has been reached):

- The value is the index (0 = the first) of the step of the latest measurement; a step is reached
  in the period of the first measurement that names it or a later step.
- The milestone that applies (`target_step`: year → step) is the one of the current year, else
  the latest one whose year has passed, else the first one still to come.
- groen: its step was reached by the end of its year (or, for a milestone still to come, nothing
  is late yet); rood: its year has passed without it; oranje: its year is the current year and
  the step is not reached yet.
- grijs: no steps plan (`target_step`), or no step measured yet.

Measurements whose step is not in the list of steps (e.g. a renamed step) are not used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from obmi.errors import ValidationError
from obmi.plans.model import Direction, KpiKind
from obmi.plans.periods import FIRST_YEAR, LAST_YEAR, bounds, year_of
from obmi.reports.charts import format_number as _format_fixed

Colour = Literal["groen", "oranje", "rood", "grijs"]
COLOUR_EN: dict[str, str] = {"groen": "green", "oranje": "orange", "rood": "red", "grijs": "grey"}
# Comparisons at the band's edge ("exactly 5 %") must not fail on binary fractions.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Measurement:
    period: str
    value: float | None = None
    step: str | None = None


@dataclass(frozen=True)
class KpiSpec:
    kind: KpiKind
    direction: Direction = Direction.UP
    baseline: float | None = None
    baseline_period: str | None = None
    targets: dict[int, float] = field(default_factory=dict)
    tolerance_pct: float = 5.0
    steps: tuple[str, ...] = ()
    target_step: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Light:
    colour: Colour
    rule_nl: str
    rule_en: str
    value: float | None = None  # steps KPIs: the index of the reached step
    period: str | None = None
    target: float | None = None  # steps KPIs: the index of the planned step
    target_year: int | None = None
    step: str | None = None  # steps KPIs: the reached step and the planned one
    target_step: str | None = None


def format_number(x: float, decimals: int | None = None, lang: str = "nl") -> str:
    """A number the Belgian way ("1.234,5"; lang="en": "1,234.5"). Without `decimals`: as many
    as the number needs, at most two."""
    if decimals is None:
        decimals = next(d for d in (0, 1, 2) if round(x, d) == round(x, 2))
    return _format_fixed(x, decimals, lang)


def check_spec(spec: KpiSpec) -> None:
    """ValidationError, with the fields at fault, for a spec the traffic light cannot read."""
    errors: dict[str, list[str]] = {}
    if spec.baseline is not None and not _finite(spec.baseline):
        errors["baseline"] = ["must be a finite number"]
    if spec.baseline_period is not None and not _is_period(spec.baseline_period):
        errors["baseline_period"] = [f"{spec.baseline_period!r} is not a period (2026, 2026-S1, 2026-Q3, 2026-03)"]
    if not (_finite(spec.tolerance_pct) and 0 <= spec.tolerance_pct <= 100):
        errors["tolerance_pct"] = ["must be a number from 0 to 100"]
    if spec.kind == KpiKind.STEPS:
        _check_steps(spec, errors)
    else:
        _check_targets(spec, errors)
    if errors:
        raise ValidationError("the KPI's targets are not valid", errors)


def traffic_light(spec: KpiSpec, measurements: Iterable[Measurement], today: date) -> Light:
    """The KPI's colour with the rule that gave it (see the module's docstring)."""
    if spec.kind == KpiKind.STEPS:
        return _steps_light(spec, list(measurements), today)
    return _numeric_light(spec, [m for m in measurements if m.value is not None and _finite(m.value)])


# --- numeric KPIs ---------------------------------------------------------------------------


def _numeric_light(spec: KpiSpec, measured: list[Measurement]) -> Light:
    latest = max(measured, key=_period_key, default=None)
    if latest is None or not spec.targets:
        return _grey_numeric(latest is None, not spec.targets)
    assert latest.value is not None
    year = _applicable_year(spec.targets, year_of(latest.period))
    target = spec.targets[year]
    colour, reason_nl, reason_en = _judge(spec, latest.value, target)
    return Light(colour, f"{colour}: {reason_nl.format(year=year)} ({_facts(spec, latest, target, 'nl')})",
                 f"{COLOUR_EN[colour]}: {reason_en.format(year=year)} ({_facts(spec, latest, target, 'en')})",
                 value=latest.value, period=latest.period, target=target, target_year=year)


def _judge(spec: KpiSpec, value: float, target: float) -> tuple[Colour, str, str]:
    """The colour and its reason in Dutch and English, with a {year} to fill in."""
    tol, tol_en = format_number(spec.tolerance_pct), format_number(spec.tolerance_pct, lang="en")
    if _reached(spec.direction, value, target):
        return "groen", "doel voor {year} bereikt", "target for {year} reached"
    if _within(value, target, spec.tolerance_pct):
        return "groen", f"binnen {tol} % van het doel voor {{year}}", f"within {tol_en} % of the target for {{year}}"
    if spec.baseline is not None:
        if _better(spec.direction, value, spec.baseline):
            return ("oranje", f"niet binnen {tol} % van het doel voor {{year}}, wel beter dan de beginwaarde",
                    f"not within {tol_en} % of the target for {{year}}, but better than the baseline")
        return ("rood", f"niet binnen {tol} % van het doel voor {{year}} en niet beter dan de beginwaarde",
                f"not within {tol_en} % of the target for {{year}} and not better than the baseline")
    wide, wide_en = format_number(2 * spec.tolerance_pct), format_number(2 * spec.tolerance_pct, lang="en")
    if _within(value, target, 2 * spec.tolerance_pct):
        return ("oranje", f"niet binnen {tol} % maar wel binnen {wide} % van het doel voor {{year}}",
                f"not within {tol_en} % but within {wide_en} % of the target for {{year}}")
    return "rood", f"verder dan {wide} % van het doel voor {{year}}", f"more than {wide_en} % off the target for {{year}}"


def _facts(spec: KpiSpec, latest: Measurement, target: float, lang: str) -> str:
    assert latest.value is not None
    value, goal = format_number(latest.value, lang=lang), format_number(target, lang=lang)
    base = ""
    if spec.baseline is not None:
        when = f" in {spec.baseline_period}" if spec.baseline_period else ""
        base = f"{'beginwaarde' if lang == 'nl' else 'baseline'} {format_number(spec.baseline, lang=lang)}{when}, "
    if lang == "nl":
        return f"doel {goal}, {base}laatste waarde {value} in {latest.period}"
    return f"target {goal}, {base}latest value {value} in {latest.period}"


def _grey_numeric(no_measurement: bool, no_target: bool) -> Light:
    nl = [text for missing, text in ((no_measurement, "nog geen meting"), (no_target, "geen doel vastgelegd")) if missing]
    en = [text for missing, text in ((no_measurement, "no measurement yet"), (no_target, "no target set")) if missing]
    return Light("grijs", f"grijs: {' en '.join(nl)}", f"grey: {' and '.join(en)}")


def _reached(direction: Direction, value: float, target: float) -> bool:
    slack = _EPSILON * max(1.0, abs(target))
    return value >= target - slack if direction == Direction.UP else value <= target + slack


def _better(direction: Direction, value: float, baseline: float) -> bool:
    return value > baseline if direction == Direction.UP else value < baseline


def _within(value: float, target: float, pct: float) -> bool:
    band = abs(target) * pct / 100
    return abs(value - target) <= band + _EPSILON * max(1.0, abs(target))


# --- steps KPIs -----------------------------------------------------------------------------


def _steps_light(spec: KpiSpec, measurements: list[Measurement], today: date) -> Light:
    reached = sorted((m for m in measurements if m.step in spec.steps), key=_period_key)
    if not spec.target_step or not reached:
        return _grey_steps(not spec.target_step, not reached)
    latest = reached[-1]
    assert latest.step is not None
    year = _milestone_year(spec.target_step, today.year)
    planned = spec.target_step[year]
    needed = spec.steps.index(planned)
    first_reach = next((m for m in reached if spec.steps.index(m.step or "") >= needed), None)
    colour, nl, en = _judge_steps(year, planned, first_reach, today)
    current_nl, current_en = f"laatste stap: {latest.step}, {latest.period}", f"latest step: {latest.step}, {latest.period}"
    return Light(colour, f"{colour}: {nl} ({current_nl})", f"{COLOUR_EN[colour]}: {en} ({current_en})",
                 value=float(spec.steps.index(latest.step)), period=latest.period, target=float(needed),
                 target_year=year, step=latest.step, target_step=planned)


def _judge_steps(year: int, planned: str, first_reach: Measurement | None, today: date
                 ) -> tuple[Colour, str, str]:
    step_nl, step_en = f"stap '{planned}' gepland voor {year}", f"step '{planned}' planned for {year}"
    if first_reach is not None and year_of(first_reach.period) <= year:
        return "groen", f"{step_nl} bereikt in {first_reach.period}", f"{step_en} reached in {first_reach.period}"
    if year < today.year:
        late_nl = f", pas bereikt in {first_reach.period}" if first_reach else " niet bereikt"
        late_en = f", only reached in {first_reach.period}" if first_reach else " not reached"
        return "rood", f"{step_nl}{late_nl}", f"{step_en}{late_en}"
    if year == today.year:
        return "oranje", f"{step_nl} nog niet bereikt", f"{step_en} not reached yet"
    return "groen", f"{step_nl}: nog niets te laat", f"{step_en}: nothing late yet"


def _grey_steps(no_plan: bool, no_step: bool) -> Light:
    nl = [text for missing, text in ((no_plan, "geen stappenplan"), (no_step, "nog geen stap gemeld")) if missing]
    en = [text for missing, text in ((no_plan, "no steps plan"), (no_step, "no step reported yet")) if missing]
    return Light("grijs", f"grijs: {' en '.join(nl)}", f"grey: {' and '.join(en)}")


def _milestone_year(plan: dict[int, str], this_year: int) -> int:
    if this_year in plan:
        return this_year
    passed = [y for y in plan if y < this_year]
    return max(passed) if passed else min(plan)


# --- shared ---------------------------------------------------------------------------------


def _applicable_year(targets: dict[int, float], year: int) -> int:
    if year in targets:
        return year
    later = [y for y in targets if y > year]
    return min(later) if later else max(targets)


def _period_key(measurement: Measurement) -> tuple[date, str]:
    # Ties (2026 and 2026-S2 end on the same day) are broken by the code, so the order is stable.
    try:
        return bounds(measurement.period)[1], measurement.period
    except ValueError:
        raise ValidationError(f"measurement period {measurement.period!r} is not a period",
                              {"period": ["use 2026, 2026-S1, 2026-Q3 or 2026-03"]}) from None


def _check_targets(spec: KpiSpec, errors: dict[str, list[str]]) -> None:
    messages = []
    for year, value in sorted(spec.targets.items(), key=lambda item: str(item[0])):
        if problem := _year_problem(year):
            messages.append(f"{year}: {problem}")
        if not _finite(value):
            messages.append(f"{year}: the target must be a finite number")
    if messages:
        errors["targets"] = messages


def _check_steps(spec: KpiSpec, errors: dict[str, list[str]]) -> None:
    if not spec.steps or any(not str(step).strip() for step in spec.steps):
        errors["steps"] = ["a steps KPI needs a list of steps, none of them empty"]
    elif len(set(spec.steps)) != len(spec.steps):
        errors["steps"] = ["each step may appear only once"]
    messages = []
    for year, step in sorted(spec.target_step.items(), key=lambda item: str(item[0])):
        if problem := _year_problem(year):
            messages.append(f"{year}: {problem}")
        if step not in spec.steps:
            messages.append(f"{year}: {step!r} is not one of the steps")
    if messages:
        errors["target_step"] = messages


def _year_problem(year: object) -> str | None:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        return f"the year must lie between {FIRST_YEAR} and {LAST_YEAR}"
    return None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_period(code: str) -> bool:
    try:
        bounds(code)
    except ValueError:
        return False
    return True
