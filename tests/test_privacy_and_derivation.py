"""Disclosure control on source, aggregated and re-expressed areas; user-defined levels;
generic long format in CSV, XLSX and Parquet — on SQLite and PostgreSQL.

The small counts here are test fixtures (an indicator `test_small_count` that exists only in
these tests); the geography is the real shared one."""

from __future__ import annotations


import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from obmi import operations as ops
from obmi.errors import ImportRejected
from obmi.query import ObservationQuery

CATALOGUE = """
indicators:
  - {code: test_small_count, name_nl: Testtelling, unit: personen, aggregation: sum, is_count: true}
  - {code: test_base, name_nl: Testnoemer, unit: personen, aggregation: sum, is_count: true}
  - {code: test_share, name_nl: Testaandeel, unit: "%", aggregation: ratio, numerator: test_small_count,
     denominator: test_base, scale: 100, decimals: 1, threshold_indicator: test_small_count}
  - {code: test_rate, name_nl: Testgraad, unit: "%", aggregation: ratio, decimals: 1}
  - {code: test_mean, name_nl: Testgemiddelde, unit: jaar, aggregation: weighted_mean, weight: test_base, decimals: 2}
"""


@pytest.fixture(scope="module")
def db(geo_db, ctx, tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "test.yaml"
    path.write_text(CATALOGUE)
    ops.import_catalogue(ctx, geo_db, path)
    return geo_db


def write_csv(tmp_path, rows, name="data.csv"):
    path = tmp_path / name
    path.write_text("indicator,level,area,period,value,numerator,denominator\n"
                    + "\n".join(",".join(str(x) for x in r) for r in rows) + "\n")
    return path


def query(ctx, db, indicator, level, period, areas=()):
    rows = ops.query_observations(ctx, db, ObservationQuery(indicator, level, period, tuple(areas))).rows
    return {r.area_code: (r.value, r.status) for r in rows}


def test_counts_below_threshold_never_leave_the_query_layer(db, ctx, tmp_path):
    # 2025 merger Beveren-Kruibeke-Zwijndrecht (46030) = 46003 + 46013 + 11056 (gemeente2024).
    path = write_csv(tmp_path, [
        ("test_small_count", "gemeente2024", "46003", "2030", 1, "", ""),
        ("test_small_count", "gemeente2024", "46013", "2030", 2, "", ""),
        ("test_small_count", "gemeente2024", "11056", "2030", 0, "", ""),
        ("test_small_count", "gemeente2024", "44021", "2030", 7, "", ""),
        ("test_base", "gemeente2024", "46003", "2030", 100, "", ""),
        ("test_base", "gemeente2024", "46013", "2030", 100, "", ""),
        ("test_base", "gemeente2024", "11056", "2030", 100, "", ""),
        ("test_base", "gemeente2024", "44021", "2030", 100, "", ""),
    ])
    ops.import_observations(ctx, db, path)
    source = query(ctx, db, "test_small_count", "gemeente2024", "2030", ["46003", "46013", "11056", "44021"])
    assert source == {"46003": (None, "suppressed"), "46013": (None, "suppressed"),
                      "11056": (0, "final"), "44021": (7, "final")}
    merged = query(ctx, db, "test_small_count", "gemeente", "2030", ["46030", "44021"])
    assert merged == {"46030": (None, "suppressed"), "44021": (7, "final")}  # 1+2+0 = 3 < 5
    share = query(ctx, db, "test_share", "gemeente", "2030", ["46030", "44021"])
    assert share == {"46030": (None, "suppressed"), "44021": (7.0, "final")}
    # The rows are kept (with their status), so a table or map shows "suppressed", not nothing.
    result = ops.query_observations(ctx, db, ObservationQuery("test_small_count", "gemeente", "2030", ("46030",)))
    row = result.rows[0]
    assert (row.value, row.numerator, row.denominator, row.n) == (None, None, None, None)


def test_aggregated_small_count_is_suppressed(db, ctx, tmp_path):
    # Every wijk of Herstappe (73028) gets a count; the municipality is their sum.
    from sqlalchemy import select
    from obmi.store.tables import area, area_link
    with db.engine.connect() as conn:
        parent = conn.execute(select(area.c.id).where(area.c.level == "gemeente", area.c.code == "73028")).scalar_one()
        wijken = [r.code for r in conn.execute(select(area.c.code).join(area_link, area_link.c.child_id == area.c.id)
                                              .where(area_link.c.parent_id == parent, area.c.level == "ggw7"))]
    assert wijken
    path = write_csv(tmp_path, [("test_small_count", "ggw7", w, "2031", 1 if i == 0 else 0, "", "")
                                for i, w in enumerate(wijken)])
    ops.import_observations(ctx, db, path)
    assert query(ctx, db, "test_small_count", "gemeente", "2031", ["73028"]) == {"73028": (None, "suppressed")}


def test_ratio_delivered_with_numerator_and_denominator_aggregates_from_sums(db, ctx, tmp_path):
    path = write_csv(tmp_path, [
        ("test_rate", "gemeente2024", "46003", "2032", 50.0, 10, 20),
        ("test_rate", "gemeente2024", "46013", "2032", 10.0, 3, 30),
        ("test_rate", "gemeente2024", "11056", "2032", 20.0, 10, 50),
    ])
    ops.import_observations(ctx, db, path)
    value = query(ctx, db, "test_rate", "gemeente", "2032", ["46030"])["46030"][0]
    assert value == round((10 + 3 + 10) / (20 + 30 + 50), 1)  # scale 1, not the mean of 50, 10, 20


def test_weighted_mean_uses_the_weight_indicator(db, ctx, tmp_path):
    path = write_csv(tmp_path, [
        ("test_mean", "gemeente2024", "46003", "2033", 40, "", ""),
        ("test_mean", "gemeente2024", "46013", "2033", 30, "", ""),
        ("test_mean", "gemeente2024", "11056", "2033", 20, "", ""),
        ("test_base", "gemeente2024", "46003", "2033", 100, "", ""),
        ("test_base", "gemeente2024", "46013", "2033", 300, "", ""),
        ("test_base", "gemeente2024", "11056", "2033", 600, "", ""),
    ])
    ops.import_observations(ctx, db, path)
    expected = (40 * 100 + 30 * 300 + 20 * 600) / 1000
    assert query(ctx, db, "test_mean", "gemeente", "2033", ["46030"]) == {"46030": (expected, "final")}


def test_changed_source_value_updates_every_derived_value(db, ctx, tmp_path):
    rows = [("test_base", "gemeente2024", c, "2034", v, "", "") for c, v in (("46003", 10), ("46013", 20), ("11056", 30))]
    ops.import_observations(ctx, db, write_csv(tmp_path, rows))
    assert query(ctx, db, "test_base", "gemeente", "2034", ["46030"])["46030"][0] == 60
    rows[0] = ("test_base", "gemeente2024", "46003", "2034", 15, "", "")
    result = ops.import_observations(ctx, db, write_csv(tmp_path, rows))
    assert (result.stats.updated, result.stats.unchanged) == (1, 2)
    assert query(ctx, db, "test_base", "gemeente", "2034", ["46030"])["46030"][0] == 65
    again = ops.import_observations(ctx, db, write_csv(tmp_path, rows))
    assert again.status == "no_change" and again.stats.derived == 0


def test_xlsx_and_parquet_long_format(db, ctx, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["indicator", "level", "area", "period", "value"])
    sheet.append(["test_base", "gemeente", 44021, 2035, 12])  # numeric code and year, as Excel keeps them
    sheet.append(["test_base", "gemeente", "11002", "2035", 13])
    workbook.save(tmp_path / "data.xlsx")
    ops.import_observations(ctx, db, tmp_path / "data.xlsx")
    pq.write_table(pa.table({"indicator": ["test_base"], "area": ["44021"], "period": ["2036"], "value": [14.0]}),
                   tmp_path / "data.parquet")
    ops.import_observations(ctx, db, tmp_path / "data.parquet", level="gemeente")
    assert query(ctx, db, "test_base", "gemeente", "2035", ["44021", "11002"]) == {"44021": (12, "final"), "11002": (13, "final")}
    assert query(ctx, db, "test_base", "gemeente", "2036", ["44021"]) == {"44021": (14, "final")}
    sheet.append(["test_base", "gemeente", "44021", "2035", "veel"])
    workbook.save(tmp_path / "bad.xlsx")
    with pytest.raises(ImportRejected) as info:
        ops.import_observations(ctx, db, tmp_path / "bad.xlsx")
    assert info.value.rejected[0][0] == 4 and "not a number" in info.value.rejected[0][1]


def test_user_defined_level_gets_data_when_added(db, ctx, tmp_path):
    """A level of one's own (here the 13 centrumsteden as one group) added after the data:
    derived values appear without re-importing the data."""
    # Aalst, Antwerpen, Brugge, Genk, Gent, Hasselt (2025: 71072), Kortrijk, Leuven, Mechelen,
    # Oostende, Roeselare, Sint-Niklaas, Turnhout
    centrumsteden = ["41002", "11002", "31005", "71016", "44021", "71072", "34022", "24062", "12025",
                     "35013", "36015", "46021", "13040"]
    rows = [("test_base", "gemeente", code, "2037", 1000 + i, "", "") for i, code in enumerate(centrumsteden)]
    ops.import_observations(ctx, db, write_csv(tmp_path, rows))
    folder = tmp_path / "geo"
    (folder / "area_definitions").mkdir(parents=True)
    (folder / "aggregation_tables").mkdir()
    definitions = openpyxl.Workbook()
    definitions.active.append(["sequence nr", "geoitem code", "short name", "name"])
    definitions.active.append([1, "CS13", "Centrumsteden", "De 13 centrumsteden"])
    definitions.save(folder / "area_definitions" / "stedengroep.xlsx")
    links = openpyxl.Workbook()
    links.active.append(["gemeente", "stedengroep"])
    for code in centrumsteden:
        links.active.append([code, "CS13"])
    links.save(folder / "aggregation_tables" / "gemeente_stedengroep.xlsx")
    result = ops.import_geography(ctx, db, folder)
    assert result.stats.derived > 0
    assert query(ctx, db, "test_base", "stedengroep", "2037") == {"CS13": (sum(r[4] for r in rows), "final")}


def test_threshold_indicator_applies_on_every_read_path(db, ctx, tmp_path, monkeypatch):
    """The shortcuts of the read paths (a whole level's areas selected by subquery, threshold
    values reused from rows a series already read) suppress exactly what the plain path does."""
    from sqlalchemy import select
    from obmi.query import observations as obs_query
    from obmi.query.series import query_series
    from obmi.store.tables import area
    rows = [("test_small_count", "gemeente", "44021", "2038", 3, "", ""),
            ("test_base", "gemeente", "44021", "2038", 100, "", ""),
            ("test_small_count", "gemeente", "11002", "2038", 40, "", ""),
            ("test_base", "gemeente", "11002", "2038", 100, "", "")]
    ops.import_observations(ctx, db, write_csv(tmp_path, rows))
    whole_level = query(ctx, db, "test_share", "gemeente", "2038")  # > MAX_LISTED_AREAS areas: subquery
    assert len(whole_level) > obs_query.MAX_LISTED_AREAS
    assert whole_level["44021"] == (None, "suppressed") and whole_level["11002"] == (40.0, "final")
    monkeypatch.setattr(obs_query, "MAX_LISTED_AREAS", 100_000)  # every area id as a parameter
    assert query(ctx, db, "test_share", "gemeente", "2038") == whole_level
    with db.engine.connect() as conn:
        ids = [conn.execute(select(area.c.id).where(area.c.level == "gemeente", area.c.code == c)).scalar_one()
               for c in ("44021", "11002")]
        alone = query_series(conn, ["test_share"], ids)  # threshold values read from the database
        together = query_series(conn, ["test_share", "test_small_count"], ids)  # reused from the rows read
    assert alone[("test_share", ids[0])] == together[("test_share", ids[0])]
    assert alone[("test_share", ids[1])] == together[("test_share", ids[1])]
    assert [(r.period, r.value, r.status) for r in together[("test_share", ids[0])] if r.period == "2038"] == \
        [("2038", None, "suppressed")]
    assert [(r.period, r.value) for r in together[("test_share", ids[1])] if r.period == "2038"] == [("2038", 40.0)]
