"""Disclosure control. Rules decide, when data is written, which stored cells are withheld; the
decision is stored with the cell (`observation.disclosure` = the rule's reason) over the whole
table, so every query, channel and cache sees the same pattern. The query layer then publishes
a withheld cell with status `suppressed` and no value of any kind (obmi.query.observations).

Rules are registered through the `obmi_disclosure_rules` hook and run in order by the write
pipeline. Each rule owns its reason: it sets and clears only cells carrying its own reason (or
none), so a later rule (secondary suppression) adds to an earlier one and never undoes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from sqlalchemy import Connection, and_, case, literal, null, or_, select, update

from obmi.hookspecs import hookimpl
from obmi.indicators.catalogue import Indicator
from obmi.store.tables import observation

# indicator → periods to decide (None: every period of the indicator)
Scope = Mapping[str, "set[str] | None"]


@dataclass(frozen=True)
class DisclosureDecision:
    """What one rule changed: cells newly withheld and cells released again."""
    withheld: int = 0
    released: int = 0


class DisclosureRule(Protocol):
    name: str  # also the reason stored with the cells it withholds

    def decide(self, conn: Connection, scope: Scope, catalogue: Mapping[str, Indicator],
               default_threshold: int) -> DisclosureDecision: ...


def threshold_dependants(catalogue: Mapping[str, Indicator], scope: Scope) -> dict[str, set[str] | None]:
    """`scope` plus the indicators whose threshold indicator is in it (share_65plus is decided
    on pop_65plus: a new pop_65plus value can withhold or release a share)."""
    out: dict[str, set[str] | None] = dict(scope)
    for ind in catalogue.values():
        basis = ind.threshold_indicator
        if basis is None or basis not in scope:
            continue
        periods, already = scope[basis], out.get(ind.code, set())
        out[ind.code] = None if periods is None or already is None else already | periods
    return out


class PrimarySuppression:
    """A count below the threshold (the indicator's, else OBMI_DEFAULT_THRESHOLD) is withheld;
    0 is shown. A ratio or rate is withheld when its threshold indicator is below the threshold
    (or unknown) at that area and period; a value with a respondent count `n` below it too."""

    name = "primary"

    def decide(self, conn: Connection, scope: Scope, catalogue: Mapping[str, Indicator],
               default_threshold: int) -> DisclosureDecision:
        withheld = released = 0
        for code, periods in sorted(scope.items()):
            ind = catalogue.get(code)
            if ind is None:
                continue
            flag = self._flag(ind, default_threshold)
            target = and_(observation.c.indicator == code,
                          or_(observation.c.disclosure.is_(None), observation.c.disclosure == self.name),
                          observation.c.disclosure.is_distinct_from(flag))
            if periods is not None:
                if not periods:
                    continue
                target = and_(target, observation.c.period.in_(sorted(periods)))
            result = conn.execute(update(observation).where(target).values(disclosure=flag)
                                  .returning(observation.c.disclosure))
            for (now,) in result:
                withheld, released = (withheld + 1, released) if now else (withheld, released + 1)
        return DisclosureDecision(withheld, released)

    def _flag(self, ind: Indicator, default_threshold: int):
        """SQL expression: this rule's reason for a cell to be withheld, or NULL."""
        threshold = ind.threshold if ind.threshold is not None else default_threshold
        o = observation.c
        if threshold <= 0:
            return null()
        reason = literal(self.name)
        if ind.threshold_indicator:
            b = observation.alias("basis")
            basis = (select(b.c.value).where(b.c.indicator == ind.threshold_indicator,
                                             b.c.area_id == o.area_id, b.c.period == o.period)
                     .scalar_subquery())
            return case((o.value.is_(None), null()), (basis.is_(None), reason),
                        (and_(basis > 0, basis < threshold), reason), else_=null())
        measure = o.value if ind.is_count else o.n
        return case((and_(o.value.is_not(None), measure > 0, measure < threshold), reason), else_=null())


@hookimpl
def obmi_disclosure_rules() -> list[DisclosureRule]:
    return [PrimarySuppression()]
