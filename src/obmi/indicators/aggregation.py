"""How the parts of an area combine into the whole, per the indicator's aggregation method.

Used both for aggregating up the hierarchy and for re-expressing old geography versions on new
ones (a merged municipality is the sum of its parts). Pure functions, no database. The methods
are registered through the `obmi_aggregation_methods` hook; these are the built-in ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from obmi.hookspecs import hookimpl
from obmi.indicators.observation import VALUE_STATUSES, Observation, Status

if TYPE_CHECKING:
    from obmi.indicators.catalogue import Indicator

Parts = Sequence[tuple[int, Observation]]  # (area id, observation) of each part
WeightOf = Callable[[int], "float | None"]
# What a method computes for the whole: value and the fields that travel with it.
Values = dict[str, "float | None"]

_STATUS_RANK = {status: rank for rank, status in enumerate(VALUE_STATUSES)}


@dataclass(frozen=True)
class AggregationMethod:
    name: str
    description: str
    combine: Callable[[Indicator, Parts, WeightOf], Values | None]
    # Problems with a definition using this method (e.g. a weighted mean without weight).
    check: Callable[[Indicator], list[str]] = lambda ind: []


def combined_status(parts: Sequence[Observation]) -> str:
    """The weakest status among the parts: one provisional part makes the total provisional."""
    if all(p.status == Status.FINAL for p in parts):
        return Status.FINAL
    return max((p.status or Status.FINAL for p in parts), key=lambda s: _STATUS_RANK.get(Status(s), 0))


def _sum(values: list[float | None]) -> float | None:
    """The total; None when a part is unknown, not finite, or the total overflows: a sum with an
    infinity or a NaN in it is no total (imports refuse such values; this holds for old data too)."""
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    total = float(sum(values))  # type: ignore[arg-type]
    return total if math.isfinite(total) else None


def _finite(values: Values) -> bool:
    return all(v is None or math.isfinite(v) for v in values.values())


def _combine_sum(ind: Indicator, parts: Parts, weight_of: WeightOf) -> Values | None:
    values: Values = {"value": _sum([o.value for _, o in parts])}
    if all(o.n is not None for _, o in parts):
        values["n"] = _sum([o.n for _, o in parts])
    return values


def _combine_ratio(ind: Indicator, parts: Parts, weight_of: WeightOf) -> Values | None:
    # Ratios are never averaged: recompute from the summed numerator and denominator.
    num, den = _sum([o.numerator for _, o in parts]), _sum([o.denominator for _, o in parts])
    if num is None or not den:
        return None
    return {"value": num / den * ind.scale, "numerator": num, "denominator": den}


def _combine_weighted_mean(ind: Indicator, parts: Parts, weight_of: WeightOf) -> Values | None:
    weights = [weight_of(area_id) for area_id, _ in parts]
    if any(w is None for w in weights):
        return None
    known = [float(w) for w in weights if w is not None]
    total = sum(known)
    if not total:
        return None
    return {"value": sum(float(o.value or 0.0) * w for (_, o), w in zip(parts, known)) / total}


def _combine_none(ind: Indicator, parts: Parts, weight_of: WeightOf) -> Values | None:
    if len(parts) != 1:  # only a renamed area (one part) carries its value over
        return None
    only = parts[0][1]
    return {"value": only.value, "numerator": only.numerator, "denominator": only.denominator,
            "n": only.n, "ci_low": only.ci_low, "ci_high": only.ci_high}


def _check_ratio(ind: Indicator) -> list[str]:
    if bool(ind.numerator) != bool(ind.denominator):
        return ["a ratio needs both numerator and denominator (or neither, when imports deliver them)"]
    return []


def _check_weighted_mean(ind: Indicator) -> list[str]:
    return [] if ind.weight else ["weighted_mean needs a weight indicator"]


BUILT_IN = (
    AggregationMethod("sum", "the sum of the parts (counts, amounts)", _combine_sum),
    AggregationMethod("ratio", "summed numerator over summed denominator, times scale", _combine_ratio,
                      _check_ratio),
    AggregationMethod("weighted_mean", "mean of the parts weighted by the weight indicator",
                      _combine_weighted_mean, _check_weighted_mean),
    AggregationMethod("none", "not aggregated (only carried over to a renamed area)", _combine_none),
)


@hookimpl
def obmi_aggregation_methods() -> list[AggregationMethod]:
    return list(BUILT_IN)


def method_of(ind: Indicator) -> AggregationMethod:
    from obmi.plugins import aggregation_methods
    return aggregation_methods()[ind.aggregation]


def combine(ind: Indicator, parts: Parts, weight_of: WeightOf, *, indicator: str, area_id: int,
            period: str, origin: str) -> Observation | None:
    """The whole (an Observation of `area_id`) from its parts; None when the method cannot
    produce a value (a part unknown or withheld, a zero denominator, …).

    Swing's semantics of special values: an empty or not-applicable part contributes nothing
    (the total is computed from the others; with nothing else, the total is empty or not
    applicable itself), a withheld or unknown part makes the total unknown."""
    if not parts or any(not o.usable and not o.neutral for _, o in parts):
        return None
    if ind.aggregation == "none" and len(parts) != 1:  # never "the one part that has a value"
        return None
    counted = [(a, o) for a, o in parts if o.usable]
    if not counted:
        status = Status.NOT_APPLICABLE if all(o.status == Status.NOT_APPLICABLE for _, o in parts) else Status.EMPTY
        return Observation(indicator, area_id, period, None, status, origin=origin)
    values = method_of(ind).combine(ind, counted, weight_of)
    if values is None or values.get("value") is None or not _finite(values):
        return None  # no method, built-in or a plugin's, may hand on an infinity or a NaN
    return Observation(indicator, area_id, period, status=combined_status([o for _, o in counted]),
                       origin=origin, **values)  # type: ignore[arg-type]
