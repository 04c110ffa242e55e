"""The one observation type and the one status enumeration, used from import to every channel.

An `Observation` is a named tuple: a map of 3,000 wijken builds 3,000 of these per request, and a
tuple is built several times faster than a dataclass. Reads fill in where the area is (`area_code`,
`area_name`, `level`); the store fills in `id`, `origin`, `import_id` and `disclosure`.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    FINAL = "final"
    PROVISIONAL = "provisional"
    ESTIMATED = "estimated"
    SUPPRESSED = "suppressed"  # withheld: delivered so (Swing -99997), or by OBMi's disclosure control
    NOT_APPLICABLE = "not_applicable"  # Swing -99998
    MISSING = "missing"  # unknown: should have a value but has none (Swing -99999)
    EMPTY = "empty"  # as if nothing was loaded (Swing -99996)


# Statuses that carry a value, weakest last: one provisional part makes a total provisional.
VALUE_STATUSES = (Status.FINAL, Status.PROVISIONAL, Status.ESTIMATED)
NO_VALUE_STATUSES = frozenset({Status.SUPPRESSED, Status.NOT_APPLICABLE, Status.MISSING, Status.EMPTY})
# No value, and a total that includes it is unknown (Swing's hidden and unknown values).
POISON_STATUSES = frozenset({Status.SUPPRESSED, Status.MISSING})
# No value, but a total can still be computed: the part contributes nothing (empty, n.v.t.).
NEUTRAL_STATUSES = frozenset({Status.EMPTY, Status.NOT_APPLICABLE})


class Origin(StrEnum):
    SOURCE = "source"  # delivered by an import
    REEXPRESSED = "reexpressed"  # computed on a newer geography version
    AGGREGATED = "aggregated"  # summed up the hierarchy
    DERIVED = "derived"  # ratio or formula of other indicators


VALUE_FIELDS = ("value", "numerator", "denominator", "n", "ci_low", "ci_high")


class Observation(NamedTuple):
    indicator: str
    area_id: int
    period: str
    value: float | None
    status: str = Status.FINAL
    numerator: float | None = None
    denominator: float | None = None
    n: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    origin: str = Origin.SOURCE
    disclosure: str | None = None  # "primary", "secondary": suppressed by disclosure control
    area_code: str = ""
    area_name: str = ""
    level: str = ""
    id: int | None = None
    import_id: int | None = None

    @property
    def usable(self) -> bool:
        """Has a value that may enter a sum (not withheld, not missing)."""
        return self.value is not None and self.status in VALUE_STATUSES

    @property
    def neutral(self) -> bool:
        """No value, yet a total that includes it can be computed: it contributes nothing."""
        return self.status in NEUTRAL_STATUSES

    def withheld(self, reason: str | None = None) -> Observation:
        """The published form of a suppressed observation: no value of any kind."""
        return self._replace(status=Status.SUPPRESSED, **dict.fromkeys(VALUE_FIELDS),  # type: ignore[arg-type]
                             disclosure=reason or self.disclosure)


def same_number(x: float, y: float) -> bool:
    """Equal to 1e-9 relative. A value that is not finite is the same only as an identical
    infinity: the relative tolerance of an infinity is infinite, so `5 → inf` would otherwise be
    "unchanged", and NaN equals nothing."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return x == y
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def same_values(a: Observation, b: Observation) -> bool:
    """Equal status and values (floats to 1e-9 relative): a re-import that changes nothing
    writes nothing."""
    if a.status != b.status:
        return False
    for name in VALUE_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            if x is not y:
                return False
        elif not same_number(float(x), float(y)):
            return False
    return True
