"""Reporting periods: the rhythm in which an organisation reports on its plan.

An organisation reports per semester, quarter, year or month. A period's code names it
("2026-S1", "2026-Q3", "2026", "2026-03"); its deadline is its last day plus a number of days
(reports on a period are written after it ends). A period is open for reporting from its first
day until its deadline, "due soon" in the last days before the deadline and overdue after it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from obmi.errors import ValidationError

Scheme = Literal["semester", "quarter", "year", "month"]
DueState = Literal["not_yet", "open", "due_soon", "overdue"]

SCHEMES: tuple[Scheme, ...] = ("semester", "quarter", "year", "month")
FIRST_YEAR, LAST_YEAR = 1990, 2100

_CODE = re.compile(r"^(\d{4})(?:-(S[12]|Q[1-4]|\d{2}))?$")
_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december")
# English month names written out: calendar.month_name follows the process's locale.
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_ORDINALS_NL = ("1ste", "2de", "3de", "4de")


@dataclass(frozen=True)
class PeriodSpec:
    code: str
    label_nl: str
    label_en: str
    start: date
    end: date
    deadline: date


def bounds(code: str) -> tuple[date, date]:
    """First and last day of the period `code` ("2026", "2026-S1", "2026-Q3", "2026-03");
    ValueError for anything else."""
    year, part = _parse(code)
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part[0] in "SQ":
        months = 6 if part[0] == "S" else 3
        first = (int(part[1]) - 1) * months + 1
        return date(year, first, 1), _month_end(year, first + months - 1)
    return date(year, int(part), 1), _month_end(year, int(part))


def year_of(code: str) -> int:
    """The calendar year a period code falls in; ValueError for a code that is not a period."""
    return _parse(code)[0]


def period(code: str, deadline_days: int = 15) -> PeriodSpec:
    """The period `code` with its labels and its deadline (`deadline_days` after its last day)."""
    start, end = bounds(code)
    label_nl, label_en = _labels(code)
    return PeriodSpec(code, label_nl, label_en, start, end, end + timedelta(days=deadline_days))


def generate(scheme: Scheme, years: range, deadline_days: int = 15) -> list[PeriodSpec]:
    """The periods of `scheme` in `years`, in time order."""
    _check_generate(scheme, years, deadline_days)
    return [period(code, deadline_days) for year in years for code in _codes(scheme, year)]


def current(periods: list[PeriodSpec], today: date) -> PeriodSpec | None:
    """The period that `today` falls in (None: before the first or after the last)."""
    return next((p for p in periods if p.start <= today <= p.end), None)


def due_state(period: PeriodSpec, today: date, *, remind_days_before: int) -> DueState:
    """Where reporting on `period` stands on `today`: not yet open (before its first day), open,
    due soon (at most `remind_days_before` days before the deadline, the deadline itself
    included) or overdue (after the deadline)."""
    if remind_days_before < 0:
        raise ValidationError("remind_days_before cannot be negative",
                              {"remind_days_before": ["must be 0 or more"]})
    if today < period.start:
        return "not_yet"
    if today > period.deadline:
        return "overdue"
    if (period.deadline - today).days <= remind_days_before:
        return "due_soon"
    return "open"


def _parse(code: str) -> tuple[int, str | None]:
    match = _CODE.match(code.strip()) if isinstance(code, str) else None
    if not match or (match.group(2) and match.group(2).isdigit() and not 1 <= int(match.group(2)) <= 12):
        raise ValueError(f"{code!r} is not a period: use 2026, 2026-S1, 2026-Q3 or 2026-03")
    return int(match.group(1)), match.group(2)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _codes(scheme: Scheme, year: int) -> list[str]:
    if scheme == "semester":
        return [f"{year}-S{n}" for n in (1, 2)]
    if scheme == "quarter":
        return [f"{year}-Q{n}" for n in range(1, 5)]
    if scheme == "month":
        return [f"{year}-{n:02d}" for n in range(1, 13)]
    return [str(year)]


def _labels(code: str) -> tuple[str, str]:
    year, part = _parse(code)
    if part is None:
        return str(year), str(year)
    if part[0] == "S":
        return f"{_ORDINALS_NL[int(part[1]) - 1]} semester {year}", f"H{part[1]} {year}"
    if part[0] == "Q":
        return f"{_ORDINALS_NL[int(part[1]) - 1]} kwartaal {year}", f"Q{part[1]} {year}"
    return f"{_MONTHS_NL[int(part) - 1]} {year}", f"{_MONTHS_EN[int(part) - 1]} {year}"


def _check_generate(scheme: str, years: range, deadline_days: int) -> None:
    errors: dict[str, list[str]] = {}
    if scheme not in SCHEMES:
        errors["scheme"] = [f"{scheme!r} is not a reporting scheme: use {', '.join(SCHEMES)}"]
    if years and (min(years) < FIRST_YEAR or max(years) > LAST_YEAR):
        errors["years"] = [f"years must lie between {FIRST_YEAR} and {LAST_YEAR}"]
    if deadline_days < 0:
        errors["deadline_days"] = ["must be 0 or more"]
    if errors:
        raise ValidationError("the reporting periods cannot be generated", errors)
