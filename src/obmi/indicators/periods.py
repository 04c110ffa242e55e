"""Periods: year `2015`, quarter `2015-Q1`, month `2015-03`, date `2015-03-01`, survey edition
(`stadsmonitor-2023`: a name starting with a letter and ending in its year)."""

from __future__ import annotations

import re
from datetime import date, datetime

_PATTERNS = (
    ("year", re.compile(r"^\d{4}$")),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("month", re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")),
    ("date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("edition", re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,15}\d{4}$")),  # a name ending in its year
)
PERIOD_TYPES = tuple(name for name, _ in _PATTERNS)


def parse_period(raw: object) -> tuple[str, str]:
    """Return (period text, period type) or raise ValueError with a readable reason."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("period is empty")
    if isinstance(raw, (datetime, date)):
        return (raw.date() if isinstance(raw, datetime) else raw).isoformat(), "date"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip().upper() if re.match(r"^\d{4}-q", str(raw).strip(), re.I) else str(raw).strip()
    for name, pattern in _PATTERNS:
        if pattern.match(text):
            if name == "date":
                date.fromisoformat(text)  # rejects 2015-02-30
            return text, name
    raise ValueError(f"period {raw!r} is not a year (2015), quarter (2015-Q1), month (2015-03), "
                     "date (2015-03-01) or survey edition (stadsmonitor-2023)")
