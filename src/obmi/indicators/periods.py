"""Periods: year `2015`, quarter `2015-Q1`, month `2015-03`, date `2015-03-01`, survey edition
(`stadsmonitor-2023`: a name starting with a letter and ending in its year).

`Period` is the value object: it knows its type, its year and how it sorts — by time first, so
that survey editions of different names fall between the years they belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache, total_ordering
from typing import Iterable

_PATTERNS = (
    ("year", re.compile(r"^\d{4}$")),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("month", re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")),
    ("date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("edition", re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,15}\d{4}$")),  # a name ending in its year
)
PERIOD_TYPES = tuple(name for name, _ in _PATTERNS)


@total_ordering
@dataclass(frozen=True)
class Period:
    text: str
    type: str

    @classmethod
    def parse(cls, raw: object) -> Period:
        text, kind = parse_period(raw)
        return cls(text, kind)

    @property
    def year(self) -> int:
        return int(self.text[-4:]) if self.type == "edition" else int(self.text[:4])

    @property
    def sort_key(self) -> tuple:
        return period_sort_key(self.text)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.sort_key < other.sort_key

    def __str__(self) -> str:
        return self.text


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


@lru_cache(maxsize=8192)
def period_type_of(text: str) -> str:
    """Type of a stored (already valid) period text."""
    return parse_period(text)[1]


@lru_cache(maxsize=8192)
def period_sort_key(text: str) -> tuple:
    """Time order of stored period texts: (year, month within the year, type, text). An edition
    counts as the middle of its year; unknown texts sort last."""
    try:
        _, kind = parse_period(text)
    except ValueError:
        return (9999, 99, 9, text)
    if kind == "edition":
        return (int(text[-4:]), 6, 4, text)
    month = 0
    if kind == "quarter":
        month = (int(text[-1]) - 1) * 3 + 1
    elif kind in ("month", "date"):
        month = int(text[5:7])
    return (int(text[:4]), month, PERIOD_TYPES.index(kind), text)


def sort_periods(periods: Iterable[str]) -> list[str]:
    return sorted(periods, key=period_sort_key)
