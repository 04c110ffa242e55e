"""Several indicators × several areas × all periods in one read (fact sheets, comparisons,
time series) — through the same disclosure rules as every other read."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.privacy.suppression import DisclosureContext, DisclosureRule, Row, default_rules
from obmi.query.observations import _raw_loader, _round
from obmi.store.tables import area, observation

SeriesKey = tuple[str, int]  # (indicator, area id)


def query_series(conn: Connection, indicators: list[str], area_ids: list[int], *,
                 periods: list[str] | None = None, default_threshold: int = 5,
                 rules: list[DisclosureRule] | None = None,
                 catalogue: dict[str, Indicator] | None = None) -> dict[SeriesKey, list[Row]]:
    """{(indicator, area id): rows sorted by period}; unknown indicators are left out."""
    catalogue = catalogue or load_catalogue(conn)
    codes = [c for c in indicators if c in catalogue]
    if not codes or not area_ids:
        return {}
    o = observation.c
    stmt = (select(o.indicator, area.c.id, area.c.code, area.c.name, area.c.level, o.period, o.value, o.status,
                   o.numerator, o.denominator, o.n, o.ci_low, o.ci_high)
            .join(area, area.c.id == o.area_id)
            .where(o.indicator.in_(codes), o.area_id.in_(list(area_ids))))
    if periods is not None:
        stmt = stmt.where(o.period.in_(periods))
    by_indicator: dict[str, list[Row]] = defaultdict(list)
    for r in conn.execute(stmt.order_by(o.indicator, area.c.id, o.period)):
        by_indicator[r.indicator].append(Row(r.id, r.code, r.name, r.level, r.period, r.value, r.status,
                                             r.numerator, r.denominator, r.n, r.ci_low, r.ci_high))
    loader = _raw_loader(conn)
    result: dict[SeriesKey, list[Row]] = defaultdict(list)
    for code, rows in by_indicator.items():
        ind = catalogue[code]
        ctx = DisclosureContext(ind, default_threshold, loader)
        for rule in rules if rules is not None else default_rules():
            rows = rule.apply(ctx, rows)
        for row in rows:
            result[(code, row.area_id)].append(_round(row, ind.decimals))
    return dict(result)
