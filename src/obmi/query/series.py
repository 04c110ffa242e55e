"""Several indicators × several areas × all periods in one read (fact sheets, comparisons,
time series) — as the actor may see them, with the stored disclosure decisions applied."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from obmi.indicators.observation import Observation
from obmi.indicators.periods import period_sort_key
from obmi.query.observations import check_disclosure_state, publish
from obmi.query.visibility import CatalogueView
from obmi.store.tables import area, observation

SeriesKey = tuple[str, int]  # (indicator, area id)


def query_series(conn: Connection, indicators: list[str], area_ids: list[int], *, view: CatalogueView,
                 default_threshold: int, periods: list[str] | None = None) -> dict[SeriesKey, list[Observation]]:
    """{(indicator, area id): observations in time order}. Indicators the actor may not see are
    left out, and so are areas at levels the actor may not see an indicator at."""
    codes = [c for c in indicators if c in view.visible]
    if not codes or not area_ids:
        return {}
    check_disclosure_state(conn, default_threshold)
    o = observation.c
    stmt = (select(o.indicator, o.area_id, o.period, o.value, o.status, o.numerator, o.denominator, o.n, o.ci_low,
                   o.ci_high, o.disclosure, area.c.code, area.c.name, area.c.level)
            .join(area, area.c.id == o.area_id)
            .where(o.indicator.in_(codes), o.area_id.in_(list(area_ids))))
    if periods is not None:
        stmt = stmt.where(o.period.in_(periods))
    by_indicator: dict[str, list[Observation]] = defaultdict(list)
    # Tuple unpacking: named attribute access on result rows costs 3× more at thousands of rows.
    for code, area_id, period, value, status, num, den, n, lo, hi, disclosure, area_code, name, level \
            in conn.execute(stmt).all():
        by_indicator[code].append(Observation(code, area_id, period, value, status, num, den, n, lo, hi,
                                              disclosure=disclosure, area_code=area_code, area_name=name,
                                              level=level))
    result: dict[SeriesKey, list[Observation]] = defaultdict(list)
    for code, rows in by_indicator.items():
        ind = view.visible[code]
        for row in publish(ind, [r for r in rows if view.sees_level(ind, r.level)]):
            result[(code, row.area_id)].append(row)
    for rows in result.values():
        rows.sort(key=lambda r: period_sort_key(r.period))
    return dict(result)
