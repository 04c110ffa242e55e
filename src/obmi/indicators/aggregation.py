"""How the parts of an area combine into the whole, per the indicator's aggregation rule.

Used both for aggregating up the hierarchy and for re-expressing old geography versions on new
ones (a merged municipality is the sum of its parts). Pure functions, no database.
"""

from __future__ import annotations

from typing import Callable

from obmi.indicators.catalogue import Indicator

Obs = dict  # value, numerator, denominator, n, ci_low, ci_high, status

_STATUS_RANK = {"final": 0, "provisional": 1, "estimated": 2}


def combined_status(parts: list[Obs]) -> str:
    """The weakest status among the parts: one provisional part makes the total provisional."""
    if all(p.get("status") == "final" for p in parts):
        return "final"
    return max((p.get("status") or "final" for p in parts), key=lambda s: _STATUS_RANK.get(s, 0))


def usable(obs: Obs | None) -> bool:
    return obs is not None and obs.get("value") is not None and obs.get("status") in _STATUS_RANK


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))


def combine(ind: Indicator, parts: list[tuple[int, Obs]], weight_of: Callable[[int], float | None]) -> Obs | None:
    """Whole from parts [(area id, obs)]; None when the rule cannot produce a value."""
    obs = [o for _, o in parts]
    if not obs or not all(usable(o) for o in obs):
        return None
    result: Obs = {"status": combined_status(obs), "numerator": None, "denominator": None, "n": None,
                   "ci_low": None, "ci_high": None}
    if ind.aggregation == "sum":
        result["value"] = _sum([o["value"] for o in obs])
        if all(o.get("n") is not None for o in obs):
            result["n"] = _sum([o["n"] for o in obs])
    elif ind.aggregation == "ratio":
        # Ratios are never averaged: recompute from the summed numerator and denominator.
        num, den = _sum([o.get("numerator") for o in obs]), _sum([o.get("denominator") for o in obs])
        if num is None or not den:
            return None
        result.update(value=num / den * ind.scale, numerator=num, denominator=den)
    elif ind.aggregation == "weighted_mean":
        weights = [weight_of(area_id) for area_id, _ in parts]
        if any(w is None for w in weights) or not sum(weights):
            return None
        result["value"] = sum(o["value"] * w for o, w in zip(obs, weights)) / sum(weights)
    elif len(obs) == 1:  # "none": only a renamed area (one part) carries its value over
        result.update({k: obs[0].get(k) for k in ("value", "numerator", "denominator", "n", "ci_low", "ci_high")})
    else:
        return None
    return result
