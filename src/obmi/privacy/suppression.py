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

from sqlalchemy import ColumnElement, Connection, and_, func, not_, null, or_, select, update

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
        o = observation.c
        for code, periods in sorted(scope.items()):
            ind = catalogue.get(code)
            if ind is None or (periods is not None and not periods):
                continue
            cells = o.indicator == code
            if periods is not None:
                cells = and_(cells, o.period.in_(sorted(periods)))
            unsafe = self._unsafe(ind, default_threshold)
            # Two targeted UPDATEs (withhold what is unsafe and undecided, release what this rule
            # withheld and is safe now) touch only the cells that change: most of a table is
            # neither, and an UPDATE of an unchanged row still writes a new row version.
            if unsafe is not None:
                withheld += conn.execute(update(observation).where(cells, o.disclosure.is_(None), unsafe)
                                         .values(disclosure=self.name)).rowcount
            still = o.disclosure == self.name
            release = and_(cells, still) if unsafe is None else and_(cells, still, not_(unsafe))
            released += conn.execute(update(observation).where(release).values(disclosure=null())).rowcount
        return DisclosureDecision(withheld, released)

    @staticmethod
    def _unsafe(ind: Indicator, default_threshold: int) -> ColumnElement[bool] | None:
        """SQL condition: the cell must be withheld (never NULL: NOT of it must be true when safe)."""
        threshold = ind.threshold if ind.threshold is not None else default_threshold
        if threshold <= 0:
            return None
        o = observation.c
        if ind.threshold_indicator:
            b = observation.alias("basis")
            basis = (select(b.c.value).where(b.c.indicator == ind.threshold_indicator,
                                             b.c.area_id == o.area_id, b.c.period == o.period)
                     .scalar_subquery())
            # No basis at all is unsafe too (a share of an unknown count). Never NULL: when the basis
            # is NULL the first branch is true, otherwise both comparisons are defined.
            return and_(o.value.is_not(None), or_(basis.is_(None), and_(basis > 0, basis < threshold)))
        measure = func.coalesce(o.value if ind.is_count else o.n, 0.0)
        return and_(o.value.is_not(None), measure > 0, measure < threshold)


@hookimpl
def obmi_disclosure_rules() -> list[DisclosureRule]:
    return [PrimarySuppression()]
