"""Disclosure control on source, aggregated and re-expressed areas; user-defined levels;
generic long format in CSV, XLSX and Parquet — on SQLite and PostgreSQL.

Disclosure is decided when data is written (the write pipeline stores the decision in
`observation.disclosure`); every read publishes a withheld cell as `suppressed` with no value.
Reads here are the anonymous public's; the data is written by OBMi itself.

The small counts here are test fixtures (an indicator `test_small_count` that exists only in
these tests); the geography is the real shared one. Each test has its own database."""

from __future__ import annotations

from collections.abc import Iterator

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.errors import ImportRejected
from obmi.operations import ObservationQuery
from obmi.store.tables import area, observation

import factories
from conftest import system

CATALOGUE = [
    {"code": "test_small_count", "name_nl": "Testtelling", "unit": "personen", "aggregation": "sum", "is_count": True},
    {"code": "test_base", "name_nl": "Testnoemer", "unit": "personen", "aggregation": "sum", "is_count": True},
    {"code": "test_share", "name_nl": "Testaandeel", "unit": "%", "aggregation": "ratio",
     "numerator": "test_small_count", "denominator": "test_base", "scale": 100, "decimals": 1,
     "threshold_indicator": "test_small_count"},
    {"code": "test_rate", "name_nl": "Testgraad", "unit": "%", "aggregation": "ratio", "decimals": 1},
    {"code": "test_mean", "name_nl": "Testgemiddelde", "unit": "jaar", "aggregation": "weighted_mean",
     "weight": "test_base", "decimals": 2},
]


@pytest.fixture
def ctx(geo_db, tmp_path_factory) -> Iterator[Context]:
    """OBMi itself on this test's own database: the geography and the test catalogue."""
    ctx = system(geo_db)
    factories.catalogue(ctx, tmp_path_factory.mktemp("cat"), *CATALOGUE)
    yield ctx
    geo_db.dispose()  # its pooled connections: PostgreSQL allows only so many clients


@pytest.fixture
def public(ctx) -> Context:
    return public_context(ctx.db, ctx.settings)


def write_csv(tmp_path, rows, name="data.csv"):
    path = tmp_path / name
    path.write_text("indicator,level,area,period,value,numerator,denominator\n"
                    + "\n".join(",".join(str(x) for x in r) for r in rows) + "\n")
    return path


def query(ctx, indicator, level, period, areas=()):
    rows = ops.query_observations(ctx, ObservationQuery(indicator, level, period, tuple(areas))).rows
    return {r.area_code: (r.value, r.status) for r in rows}


def stored(db, indicator, level, period, code):
    """(raw value, disclosure decision) as stored, read straight from the table."""
    with db.unguarded_engine.connect() as conn:
        return tuple(conn.execute(select(observation.c.value, observation.c.disclosure)
                                  .join(area, area.c.id == observation.c.area_id)
                                  .where(observation.c.indicator == indicator, area.c.level == level,
                                         area.c.code == code, observation.c.period == period)).one())


def test_counts_below_threshold_never_leave_the_query_layer(ctx, public, tmp_path):
    # 2025 merger Beveren-Kruibeke-Zwijndrecht (46030) = 46003 + 46013 + 11056 (gemeente2024).
    path = write_csv(tmp_path, [
        ("test_small_count", "gemeente2024", "46003", "2024", 1, "", ""),
        ("test_small_count", "gemeente2024", "46013", "2024", 2, "", ""),
        ("test_small_count", "gemeente2024", "11056", "2024", 0, "", ""),
        ("test_small_count", "gemeente2024", "44021", "2024", 7, "", ""),
        ("test_base", "gemeente2024", "46003", "2024", 100, "", ""),
        ("test_base", "gemeente2024", "46013", "2024", 100, "", ""),
        ("test_base", "gemeente2024", "11056", "2024", 100, "", ""),
        ("test_base", "gemeente2024", "44021", "2024", 100, "", ""),
    ])
    ops.import_observations(ctx, path)
    source = query(public, "test_small_count", "gemeente2024", "2024", ["46003", "46013", "11056", "44021"])
    assert source == {"46003": (None, "suppressed"), "46013": (None, "suppressed"),
                      "11056": (0, "final"), "44021": (7, "final")}
    merged = query(public, "test_small_count", "gemeente", "2024", ["46030", "44021"])
    assert merged == {"46030": (None, "suppressed"), "44021": (7, "final")}  # 1+2+0 = 3 < 5
    share = query(public, "test_share", "gemeente", "2024", ["46030", "44021"])
    assert share == {"46030": (None, "suppressed"), "44021": (7.0, "final")}
    # The rows are kept (with their status), so a table or map shows "suppressed", not nothing.
    result = ops.query_observations(public, ObservationQuery("test_small_count", "gemeente", "2024", ("46030",)))
    row = result.rows[0]
    assert (row.value, row.numerator, row.denominator, row.n) == (None, None, None, None)
    # The decision was made when the data was written and is stored with the raw values.
    assert stored(ctx.db, "test_small_count", "gemeente2024", "2024", "46003") == (1, "primary")
    assert stored(ctx.db, "test_small_count", "gemeente", "2024", "46030") == (3, "primary")
    assert stored(ctx.db, "test_share", "gemeente", "2024", "46030")[1] == "primary"
    assert stored(ctx.db, "test_small_count", "gemeente", "2024", "44021") == (7, None)


def test_aggregated_small_count_is_suppressed(ctx, public, tmp_path):
    # Every wijk of Herstappe (73028) gets a count; the municipality is their sum.
    shapes = ops.area_geojson(public, "ggw7", within=("gemeente", "73028"))
    wijken = sorted(f["properties"]["code"] for f in shapes["features"])
    assert wijken
    path = write_csv(tmp_path, [("test_small_count", "ggw7", w, "2015", 1 if i == 0 else 0, "", "")
                                for i, w in enumerate(wijken)])
    ops.import_observations(ctx, path)
    assert query(public, "test_small_count", "gemeente", "2015", ["73028"]) == {"73028": (None, "suppressed")}


def test_ratio_delivered_with_numerator_and_denominator_aggregates_from_sums(ctx, public, tmp_path):
    path = write_csv(tmp_path, [
        ("test_rate", "gemeente2024", "46003", "2024", 50.0, 10, 20),
        ("test_rate", "gemeente2024", "46013", "2024", 10.0, 3, 30),
        ("test_rate", "gemeente2024", "11056", "2024", 20.0, 10, 50),
    ])
    ops.import_observations(ctx, path)
    value = query(public, "test_rate", "gemeente", "2024", ["46030"])["46030"][0]
    assert value == round((10 + 3 + 10) / (20 + 30 + 50), 1)  # scale 1, not the mean of 50, 10, 20


def test_weighted_mean_uses_the_weight_indicator(ctx, public, tmp_path):
    path = write_csv(tmp_path, [
        ("test_mean", "gemeente2024", "46003", "2024", 40, "", ""),
        ("test_mean", "gemeente2024", "46013", "2024", 30, "", ""),
        ("test_mean", "gemeente2024", "11056", "2024", 20, "", ""),
        ("test_base", "gemeente2024", "46003", "2024", 100, "", ""),
        ("test_base", "gemeente2024", "46013", "2024", 300, "", ""),
        ("test_base", "gemeente2024", "11056", "2024", 600, "", ""),
    ])
    ops.import_observations(ctx, path)
    expected = (40 * 100 + 30 * 300 + 20 * 600) / 1000
    assert query(public, "test_mean", "gemeente", "2024", ["46030"]) == {"46030": (expected, "final")}


def test_changed_source_value_updates_every_derived_value(ctx, public, tmp_path):
    rows = [("test_base", "gemeente2024", c, "2024", v, "", "") for c, v in (("46003", 10), ("46013", 20), ("11056", 30))]
    ops.import_observations(ctx, write_csv(tmp_path, rows))
    assert query(public, "test_base", "gemeente", "2024", ["46030"])["46030"][0] == 60
    rows[0] = ("test_base", "gemeente2024", "46003", "2024", 15, "", "")
    version = ops.data_version(ctx)
    result = ops.import_observations(ctx, write_csv(tmp_path, rows))
    assert (result.stats.updated, result.stats.unchanged) == (1, 2)
    assert query(public, "test_base", "gemeente", "2024", ["46030"])["46030"][0] == 65
    assert ops.data_version(ctx).version > version.version  # every changing write advances it
    version = ops.data_version(ctx)
    again = ops.import_observations(ctx, write_csv(tmp_path, rows))
    assert again.status == "no_change" and again.stats.derived == 0
    assert ops.data_version(ctx) == version


def test_xlsx_and_parquet_long_format(ctx, public, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["indicator", "level", "area", "period", "value"])
    sheet.append(["test_base", "gemeente", 44021, 2024, 12])  # numeric code and year, as Excel keeps them
    sheet.append(["test_base", "gemeente", "11002", "2024", 13])
    workbook.save(tmp_path / "data.xlsx")
    ops.import_observations(ctx, tmp_path / "data.xlsx")
    pq.write_table(pa.table({"indicator": ["test_base"], "area": ["44021"], "period": ["2025"], "value": [14.0]}),
                   tmp_path / "data.parquet")
    ops.import_observations(ctx, tmp_path / "data.parquet", level="gemeente")
    assert query(public, "test_base", "gemeente", "2024", ["44021", "11002"]) == {"44021": (12, "final"), "11002": (13, "final")}
    assert query(public, "test_base", "gemeente", "2025", ["44021"]) == {"44021": (14, "final")}
    sheet.append(["test_base", "gemeente", "44021", "2024", "veel"])
    workbook.save(tmp_path / "bad.xlsx")
    with pytest.raises(ImportRejected) as info:
        ops.import_observations(ctx, tmp_path / "bad.xlsx")
    assert info.value.rejected[0][0] == 4 and "not a number" in info.value.rejected[0][1]


def test_user_defined_level_gets_data_when_added(ctx, public, tmp_path):
    """A level of one's own (here the 13 centrumsteden as one group) added after the data:
    derived values appear without re-importing the data."""
    # Aalst, Antwerpen, Brugge, Genk, Gent, Hasselt (2025: 71072), Kortrijk, Leuven, Mechelen,
    # Oostende, Roeselare, Sint-Niklaas, Turnhout
    centrumsteden = ["41002", "11002", "31005", "71016", "44021", "71072", "34022", "24062", "12025",
                     "35013", "36015", "46021", "13040"]
    rows = [("test_base", "gemeente", code, "2024", 1000 + i, "", "") for i, code in enumerate(centrumsteden)]
    ops.import_observations(ctx, write_csv(tmp_path, rows))
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
    result = ops.import_geography(ctx, folder)
    assert result.stats.derived > 0
    assert query(public, "test_base", "stedengroep", "2024") == {"CS13": (sum(r[4] for r in rows), "final")}


def test_threshold_indicator_applies_on_every_read_path(ctx, public, tmp_path):
    """A share is withheld where its threshold indicator is small — decided once, when written —
    and every read path (a whole level, listed areas, series of one or several indicators)
    publishes exactly that decision. A later value of the threshold indicator alone re-decides
    the share."""
    rows = [("test_small_count", "gemeente", "44021", "2024", 3, "", ""),
            ("test_base", "gemeente", "44021", "2024", 100, "", ""),
            ("test_small_count", "gemeente", "11002", "2024", 40, "", ""),
            ("test_base", "gemeente", "11002", "2024", 100, "", "")]
    ops.import_observations(ctx, write_csv(tmp_path, rows))
    whole_level = query(public, "test_share", "gemeente", "2024")
    assert len(whole_level) > 300  # every municipality, most without data
    assert whole_level["44021"] == (None, "suppressed") and whole_level["11002"] == (40.0, "final")
    assert query(public, "test_share", "gemeente", "2024", ["44021", "11002"]) == \
        {code: whole_level[code] for code in ("44021", "11002")}
    assert stored(ctx.db, "test_share", "gemeente", "2024", "44021") == (3.0, "primary")  # raw value kept
    areas = [("gemeente", "44021"), ("gemeente", "11002")]
    alone = ops.area_series(public, ["test_share"], areas)
    together = ops.area_series(public, ["test_share", "test_small_count"], areas)
    gent, antwerpen = (ref.id for ref in alone.areas)
    assert [a.code for a in alone.areas] == [a.code for a in together.areas] == ["44021", "11002"]
    assert alone.rows[("test_share", gent)] == together.rows[("test_share", gent)]
    assert alone.rows[("test_share", antwerpen)] == together.rows[("test_share", antwerpen)]
    assert [(r.period, r.value, r.status) for r in together.rows[("test_share", gent)] if r.period == "2024"] == \
        [("2024", None, "suppressed")]
    assert [(r.period, r.value) for r in together.rows[("test_share", antwerpen)] if r.period == "2024"] == \
        [("2024", 40.0)]
    assert [(r.period, r.value, r.status) for r in together.rows[("test_small_count", gent)]] == \
        [("2024", None, "suppressed")]
    # Only the threshold indicator changes: the share is released (it was computed all along).
    ops.import_observations(ctx, write_csv(tmp_path, [("test_small_count", "gemeente", "44021", "2024", 30, "", ""),
                                                      ("test_base", "gemeente", "44021", "2024", 100, "", "")]))
    assert query(public, "test_share", "gemeente", "2024", ["44021"]) == {"44021": (30.0, "final")}
    assert stored(ctx.db, "test_share", "gemeente", "2024", "44021") == (30.0, None)
