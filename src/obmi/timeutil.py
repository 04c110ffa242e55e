"""Time in UTC. SQLite keeps no time zone: naive timestamps read from it are UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: Any) -> Any:
    """An aware UTC datetime for any datetime (naive ones are taken to be UTC); others unchanged."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
