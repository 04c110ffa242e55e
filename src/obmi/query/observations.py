"""Observations by indicator, level, period and area — as the actor may see them, with the
stored disclosure decisions applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, select

from obmi.errors import Conflict, ValidationError
from obmi.geo.codes import AreaKey
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import VALUE_FIELDS, Observation, Status
from obmi.indicators.periods import parse_period, sort_periods
from obmi.query.areas import areas_of_level
from obmi.query.ratio_parts import has_parts, shown_parts
from obmi.query.visibility import CatalogueView
from obmi.store.state import read_state
from obmi.store.tables import area, observation


@dataclass(frozen=True)
class ObservationQuery:
    indicator: str
    level: str
    period: str | None = None  # None: every period; "latest": the most recent with data
    areas: tuple[str, ...] = ()  # area codes; empty: every area of the level
    within: AreaKey | None = None  # only areas lying in that area
    rounded: bool = True  # False: values at their stored precision (downloads), not the display's
    regions: tuple[str, ...] = ()  # only areas lying in these regions (gewest codes); empty: all


@dataclass
class QueryResult:
    indicator: Indicator
    level: str
    periods: list[str]
    rows: list[Observation] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)


def check_disclosure_state(conn: Connection, default_threshold: int) -> None:
    """Refuse to publish cells decided with another default threshold than the one configured:
    raising OBMI_DEFAULT_THRESHOLD must never leave the smaller cells of the old one visible."""
    decided = read_state(conn).default_threshold
    if decided is not None and decided != default_threshold:
        raise Conflict(f"disclosure control was applied with threshold {decided}, but OBMI_DEFAULT_THRESHOLD "
                       f"is {default_threshold}: an administrator must run `obmi derive` first")


def publish(ind: Indicator, rows: list[Observation], *, rounded: bool = True) -> list[Observation]:
    """The last step of every read: withheld cells lose every value; values are rounded to the
    indicator's decimals (unless `rounded` is off: a download at full precision)."""
    if not rounded:
        return [row.withheld() if row.disclosure else row for row in rows]
    return [_round(row.withheld() if row.disclosure else row, ind.decimals) for row in rows]


def _hide_parts(conn: Connection, view: CatalogueView, ind: Indicator, rows: list[Observation], level: str,
                periods: list[str] | None) -> list[Observation]:
    """A ratio's rows keep their numerator and denominator only where the caller may see both
    (query/ratio_parts.py); elsewhere they lose them, and a value at full precision is rounded
    after all, so that its digits cannot give the hidden count back."""
    if not has_parts(ind):
        return rows
    with_parts = [r for r in rows if r.numerator is not None or r.denominator is not None]
    if not with_parts:
        return rows
    shown = shown_parts(conn, view, ind, [level], area_ids={r.area_id for r in with_parts}, periods=periods)
    out = []
    for row in rows:
        if (row.numerator is not None or row.denominator is not None) and (row.area_id, row.period) not in shown:
            row = _round(row._replace(numerator=None, denominator=None), ind.decimals)
        out.append(row)
    return out


# What publish() does to every row, as one definition for both forms below: a withheld cell
# (a disclosure decision) loses every value field and reads "suppressed"; these are rounded.
WITHHELD_FIELDS = VALUE_FIELDS
ROUNDED_FIELDS = ("value", "ci_low", "ci_high")


def publish_batch(ind: Indicator, batch: Any) -> Any:
    """publish() for a pyarrow RecordBatch or Table of one indicator's observations (the bulk
    channels: the warehouse export). Columns `disclosure`, `status` and the value fields."""
    import pyarrow as pa
    import pyarrow.compute as pc
    withheld = pc.is_valid(batch.column("disclosure"))
    columns = {}
    for name in batch.schema.names:
        column = batch.column(name)
        if name in WITHHELD_FIELDS:
            column = pc.if_else(withheld, pa.scalar(None, column.type), column)
        elif name == "status":
            column = pc.if_else(withheld, pa.scalar(str(Status.SUPPRESSED), column.type), column)
        if name in ROUNDED_FIELDS:
            column = round_like_python(column, ind.decimals)
        columns[name] = column
    return type(batch).from_pydict(columns, schema=batch.schema)


def hide_parts_batch(batch: Any, shown: set[tuple[int, str]]) -> Any:
    """_hide_parts for a published pyarrow batch (columns area_id, period, numerator,
    denominator): the parts stay only in the `shown` cells (query/ratio_parts.py)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if batch.num_rows == 0:
        return batch
    keys = pc.binary_join_element_wise(pc.cast(batch.column("area_id"), pa.string()), batch.column("period"), "|")
    keep = pc.is_in(keys, value_set=pa.array(sorted(f"{a}|{p}" for a, p in shown), pa.string()))
    columns = {name: batch.column(name) for name in batch.schema.names}
    for name in ("numerator", "denominator"):
        columns[name] = pc.if_else(keep, columns[name], pa.scalar(None, columns[name].type))
    return type(batch).from_pydict(columns, schema=batch.schema)


def round_like_python(column: Any, decimals: int) -> Any:
    """Python's round(x, decimals) over a float column (nulls kept): numpy's rint of x·10^d,
    which equals the correctly rounded result except where x·10^d lands exactly on a half (or
    is too large to scale exactly): those few values are rounded by Python itself."""
    import numpy as np
    import pyarrow as pa
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([round_like_python(c, decimals) for c in column.chunks], type=column.type)
    if len(column) == 0 or column.null_count == len(column):
        return column
    values = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False))
    if not 0 <= decimals <= 15:
        risky = ~nulls
        rounded = values.copy()
    else:
        scale = 10.0 ** decimals
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = values * scale
            rounded = np.rint(scaled) / scale
            risky = ~nulls & (~np.isfinite(scaled) | (np.abs(scaled) >= 2.0 ** 52)
                              | (np.abs(scaled - np.floor(scaled)) == 0.5))
    for i in np.flatnonzero(risky):
        rounded[i] = round(float(values[i]), decimals)
    return pa.array(rounded, type=column.type, mask=nulls)


def _round(row: Observation, decimals: int) -> Observation:
    value, ci_low, ci_high = row.value, row.ci_low, row.ci_high
    if ci_low is None and ci_high is None and (value is None or value.is_integer()):
        return row  # withheld, missing or a count: nothing to round
    value = None if value is None else round(value, decimals)
    ci_low = None if ci_low is None else round(ci_low, decimals)
    ci_high = None if ci_high is None else round(ci_high, decimals)
    if value == row.value and ci_low == row.ci_low and ci_high == row.ci_high:
        return row  # already rounded: no copy
    return row._replace(value=value, ci_low=ci_low, ci_high=ci_high)


def _periods(conn: Connection, q: ObservationQuery, area_ids) -> list[str] | None:
    if q.period is None:
        return None
    if q.period != "latest":
        try:
            return [parse_period(q.period)[0]]
        except ValueError as exc:
            raise ValidationError(str(exc), {"period": [str(exc)]}) from None
    found = conn.execute(select(observation.c.period).distinct()
                         .where(observation.c.indicator == q.indicator, observation.c.area_id.in_(area_ids))).all()
    periods = sort_periods(r.period for r in found)
    return periods[-1:]


def query_observations(conn: Connection, q: ObservationQuery, *, view: CatalogueView,
                       default_threshold: int) -> QueryResult:
    ind = view.get(q.indicator)
    # Unknown locations (99991, …ZZZZ) count in the totals above them but are never shown as areas.
    of_level = areas_of_level(conn, q.level, within=q.within, include_unknown=False, regions=q.regions)
    view.require_level(ind, q.level)
    check_disclosure_state(conn, default_threshold)
    if q.areas:
        of_level = of_level.where(area.c.code.in_(q.areas))
    areas = of_level.subquery()
    periods = _periods(conn, q, select(areas.c.id))
    o = observation.c
    join = and_(o.area_id == areas.c.id, o.indicator == q.indicator)
    if periods is not None:
        join = and_(join, o.period.in_(periods))
    stmt = (select(areas.c.id, areas.c.code, areas.c.name, areas.c.is_unknown, o.period, o.value, o.status,
                   o.numerator, o.denominator, o.n, o.ci_low, o.ci_high, o.disclosure, o.origin)
            .select_from(areas.outerjoin(observation, join)).order_by(areas.c.code, o.period))
    rows: list[Observation] = []
    code_ = q.indicator
    level = q.level
    # Tuple unpacking: named attribute access on result rows costs 3× more at thousands of rows.
    for id_, code, name, is_unknown, period, value, status, num, den, n, lo, hi, disclosure, origin \
            in conn.execute(stmt).all():
        if period is None:  # no observation for this area
            if periods and not is_unknown:  # a map needs to know which areas have no data
                rows += [Observation(code_, id_, p, None, Status.MISSING, origin="", area_code=code, area_name=name,
                                     level=level) for p in periods]  # origin "": no observation at all
            continue
        rows.append(Observation(code_, id_, period, value, status, num, den, n, lo, hi, origin, disclosure,
                                area_code=code, area_name=name, level=level))
    rows = _hide_parts(conn, view, ind, publish(ind, rows, rounded=q.rounded), level, periods)
    return QueryResult(ind, q.level, periods if periods is not None else sort_periods({r.period for r in rows}), rows)
