"""Observations by indicator, level, period and area — with disclosure control applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, select

from obmi.errors import NotFound, ValidationError
from obmi.indicators.catalogue import Indicator, get_indicator
from obmi.indicators.periods import parse_period
from obmi.privacy.suppression import DisclosureContext, DisclosureRule, Row, default_rules
from obmi.store.tables import area, area_level, area_link, observation


@dataclass(frozen=True)
class ObservationQuery:
    indicator: str
    level: str
    period: str | None = None  # None: every period; "latest": the most recent with data
    areas: tuple[str, ...] = ()  # area codes; empty: every area of the level
    within: tuple[str, str] | None = None  # (level, code): only areas lying in that area


@dataclass
class QueryResult:
    indicator: Indicator
    level: str
    periods: list[str]
    rows: list[Row] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


def _check_level(conn: Connection, level: str) -> None:
    if conn.execute(select(area_level.c.code).where(area_level.c.code == level)).first() is None:
        known = ", ".join(r.code for r in conn.execute(select(area_level.c.code).order_by(area_level.c.sort_order)))
        raise NotFound(f"unknown level {level!r} (known: {known})")


def _area_filter(conn: Connection, q: ObservationQuery):
    conditions = [area.c.level == q.level]
    if q.areas:
        conditions.append(area.c.code.in_(q.areas))
    if q.within:
        parent = conn.execute(select(area.c.id).where(area.c.level == q.within[0], area.c.code == q.within[1])).first()
        if parent is None:
            raise NotFound(f"unknown area {q.within[1]!r} at level {q.within[0]!r}")
        conditions.append(area.c.id.in_(select(area_link.c.child_id).where(
            area_link.c.parent_id == parent.id, area_link.c.relation == "parent")))
    return and_(*conditions)


def _periods(conn: Connection, q: ObservationQuery, area_filter) -> list[str] | None:
    if q.period is None:
        return None
    if q.period != "latest":
        try:
            return [parse_period(q.period)[0]]
        except ValueError as exc:
            raise ValidationError(str(exc), {"period": [str(exc)]}) from None
    latest = conn.execute(select(observation.c.period).join(area, area.c.id == observation.c.area_id)
                          .where(observation.c.indicator == q.indicator, area_filter)
                          .order_by(observation.c.period.desc()).limit(1)).scalar()
    return [latest] if latest else []


# Above this many areas the raw loader selects them with the query's own area filter (a
# subquery) instead of one bound parameter per area id: a map of 3,000 wijken would otherwise
# send, parse and plan 3,000 parameters for every threshold indicator.
MAX_LISTED_AREAS = 200


def _raw_loader(conn: Connection, area_ids=None):
    """`area_ids`: optional subquery selecting (a superset of) the areas that will be asked for."""
    def load(code: str, keys: list[tuple[int, str]]) -> dict[tuple[int, str], float | None]:
        if not keys:
            return {}
        ids, periods = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
        by_area = (observation.c.area_id.in_(area_ids) if area_ids is not None and len(ids) > MAX_LISTED_AREAS
                   else observation.c.area_id.in_(ids))
        rows = conn.execute(select(observation.c.area_id, observation.c.period, observation.c.value)
                            .where(observation.c.indicator == code, observation.c.period.in_(periods), by_area)).all()
        wanted = set(keys)
        return {key: value for area_id, period, value in rows if (key := (area_id, period)) in wanted}
    return load


def _round(row: Row, decimals: int) -> Row:
    value, ci_low, ci_high = row.value, row.ci_low, row.ci_high
    if ci_low is None and ci_high is None and (value is None or value.is_integer()):
        return row  # suppressed, missing or a count: nothing to round
    value = None if value is None else round(value, decimals)
    ci_low = None if ci_low is None else round(ci_low, decimals)
    ci_high = None if ci_high is None else round(ci_high, decimals)
    if value == row.value and ci_low == row.ci_low and ci_high == row.ci_high:
        return row  # already rounded (counts, most values): no copy
    return row._replace(value=value, ci_low=ci_low, ci_high=ci_high)


def protect(ind: Indicator, rows: list[Row], raw_values, default_threshold: int,
            rules: list[DisclosureRule] | None) -> list[Row]:
    """The disclosure rules, then rounding to the indicator's decimals: the last step of every
    read of observations (this module and query.series)."""
    ctx = DisclosureContext(ind, default_threshold, raw_values)
    for rule in rules if rules is not None else default_rules():
        rows = rule.apply(ctx, rows)
    return [_round(row, ind.decimals) for row in rows]


def query_observations(conn: Connection, q: ObservationQuery, *, default_threshold: int = 5,
                       rules: list[DisclosureRule] | None = None) -> QueryResult:
    ind = get_indicator(conn, q.indicator)
    _check_level(conn, q.level)
    area_filter = _area_filter(conn, q)
    periods = _periods(conn, q, area_filter)
    o = observation.c
    join = and_(o.area_id == area.c.id, o.indicator == q.indicator)
    if periods is not None:
        join = and_(join, o.period.in_(periods))
    stmt = (select(area.c.id, area.c.code, area.c.name, area.c.is_unknown, o.period, o.value, o.status,
                   o.numerator, o.denominator, o.n, o.ci_low, o.ci_high)
            .select_from(area.outerjoin(observation, join)).where(area_filter)
            .order_by(area.c.code, o.period))
    rows = []
    level = q.level
    # Tuple unpacking: named attribute access on result rows costs 3× more at thousands of rows.
    for id_, code, name, is_unknown, period, value, status, numerator, denominator, n, ci_low, ci_high \
            in conn.execute(stmt).all():
        if period is None:  # no observation for this area
            if periods and not is_unknown:  # a map needs to know which areas have no data
                rows += [Row(id_, code, name, level, p, None, "missing") for p in periods]
            continue
        rows.append(Row(id_, code, name, level, period, value, status, numerator, denominator, n, ci_low, ci_high))
    rows = protect(ind, rows, _raw_loader(conn, select(area.c.id).where(area_filter)), default_threshold, rules)
    return QueryResult(ind, q.level, periods if periods is not None else sorted({r.period for r in rows}), rows)
