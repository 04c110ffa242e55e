"""Several indicators × several areas × all periods in one read (fact sheets, comparisons,
time series) — through the same disclosure rules as every other read."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from obmi.indicators.catalogue import Indicator, load_catalogue
from obmi.privacy.suppression import DisclosureRule, Row
from obmi.query.observations import _raw_loader, protect
from obmi.store.tables import area, observation

SeriesKey = tuple[str, int]  # (indicator, area id)


def _reusing_loader(conn: Connection, fetched: dict[str, list[Row]], reusable: set[str], area_ids: set[int],
                    periods: set[str] | None):
    """The raw-value loader of the disclosure rules, answering from the rows this query already
    read (before any rule ran) when it can: a threshold indicator that is itself among the
    requested indicators (pop_total for share_men, …) has every row for these areas and periods
    in `fetched`, so a key absent there does not exist in the database either. Other keys go to
    the database as usual."""
    from_db = _raw_loader(conn)
    raw = {code: {(r.area_id, r.period): r.value for r in fetched.get(code, ())} for code in reusable}

    def load(code: str, keys: list[tuple[int, str]]) -> dict[tuple[int, str], float | None]:
        if code in raw and all(a in area_ids and (periods is None or p in periods) for a, p in keys):
            known = raw[code]
            return {k: known[k] for k in keys if k in known}
        return from_db(code, keys)
    return load


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
    # Tuple unpacking: named attribute access on result rows costs 3× more at thousands of rows.
    for code, *fields in conn.execute(stmt.order_by(o.indicator, area.c.id, o.period)).all():
        by_indicator[code].append(Row(*fields))
    loader = _reusing_loader(conn, by_indicator, {catalogue[c].threshold_indicator for c in codes} & set(codes),
                             set(area_ids), set(periods) if periods is not None else None)
    result: dict[SeriesKey, list[Row]] = defaultdict(list)
    for code, rows in by_indicator.items():
        for row in protect(catalogue[code], rows, loader, default_threshold, rules):
            result[(code, row.area_id)].append(row)
    return dict(result)
