"""What a delivered value of an indicator may be. Every import (Statbel, long format, Swing) asks
here, so one rule holds for every file:

- finite: no NaN, no infinity;
- at most ±2^53 − 1 (9,007,199,254,740,991): beyond it a float no longer holds every whole
  number, a count would silently change, and sums could overflow to infinity;
- a count (`is_count`) is a whole number ≥ 0;
- within the indicator's range: its catalogue `min`/`max`, or else the default of its unit
  (`value_range`).

Pure functions, no database."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from obmi.indicators.catalogue import Indicator

MAX_MAGNITUDE = float(2**53 - 1)
COUNT_RULE = "a count is a whole number ≥ 0"
# Units whose values cannot be negative, and those that are shares of a whole (0–100). Only
# clear-cut units: a growth rate in % may be negative, so the percentage default applies to
# the unit "%" (and its spelled-out names) and nothing that merely mentions it.
NON_NEGATIVE_UNITS = frozenset({"ha", "are", "m²", "m2", "km²", "km2"})
PERCENT_UNITS = frozenset({"%", "procent", "percent", "percentage"})


def value_range(ind: Indicator) -> tuple[float | None, float | None]:
    """(lowest, highest) value the indicator accepts; None: no bound. The catalogue's `min` and
    `max` win; without them a count or an area is ≥ 0 and a percentage lies in 0–100."""
    unit = (ind.unit or "").strip().lower()
    low = 0.0 if ind.is_count or unit in NON_NEGATIVE_UNITS or unit in PERCENT_UNITS else None
    high = 100.0 if unit in PERCENT_UNITS else None
    return (low if ind.min is None else ind.min), (high if ind.max is None else ind.max)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) < 1e16 else repr(value)


def finite_problem(value: float) -> str | None:
    """Why `value` cannot be stored at all (not finite, too large), or None."""
    if not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if abs(value) > MAX_MAGNITUDE:
        return f"{_number(value)} is too large (at most {_number(MAX_MAGNITUDE)} in absolute value)"
    return None


def value_problem(ind: Indicator, value: float) -> str | None:
    """Why `value` cannot be a value of `ind` (without the indicator's code: the caller says which
    value it was), or None when it can."""
    problem = finite_problem(value)
    if problem:
        return problem
    if ind.is_count and not float(value).is_integer():
        return f"{value!r} is not a whole number: {COUNT_RULE}"
    low, high = value_range(ind)
    if ind.is_count and ind.min is None and value < 0:
        return f"{_number(value)} is negative: {COUNT_RULE}"
    if low is not None and value < low:
        return f"{_number(value)} is below the minimum {_number(low)}{_why(ind, 'min')}"
    if high is not None and value > high:
        return f"{_number(value)} is above the maximum {_number(high)}{_why(ind, 'max')}"
    return None


def _why(ind: Indicator, bound: str) -> str:
    """Where a bound comes from, so a user knows what to change: the catalogue or the unit."""
    if getattr(ind, bound) is not None:
        return f" (the catalogue's {bound})"
    return f" (unit {ind.unit})"


def check_value(ind: Indicator, value: float) -> float:
    """`value` when `ind` may hold it; ValueError with the reason otherwise."""
    problem = value_problem(ind, value)
    if problem:
        raise ValueError(problem)
    return value
