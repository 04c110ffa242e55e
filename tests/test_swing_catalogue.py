"""Swing indicator tables ("onderwerpentabel") through `obmi import catalogue FILE`, and formulas
with `data_from_period(code, "-1")`.

The real table is the Fluvius one in the shared data; the others are written here. Storage tests
run on SQLite and PostgreSQL, each on its own database, through the operations. The formula
parser and the row mapping are also tested on their own (marker `unit`)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import ImportRejected, ValidationError
from obmi.imports.swing_catalogue import SwingImportStats, map_row, read_swing_table
from obmi.indicators.catalogue import Indicator, dependants, dependency_order
from obmi.indicators.derive import periods_to_compute
from obmi.indicators.formula import parse_formula, shift_period
from obmi.store.tables import area, observation
from obmi.store.tables import indicator as indicator_table

import factories
from conftest import SHARED, system

FLUVIUS_TABLE = SHARED / "swing" / "fluvius_indicators.xlsx"
FLUVIUS_RATIOS = {  # ratio → (numerator, denominator), as the table's formulas say
    "vp2506_elek_nietres_n": ("v2506_elek_nietres_cons", "v2506_elek_nietres_n"),
    "vp2506_elek_res_n": ("v2506_elek_res_cons", "v2506_elek_res_n"),
    "vp2506_gas_res_n": ("v2506_gas_res_cons", "v2506_gas_res_n"),
    "vp2506_gas_nietres_n": ("v2506_gas_nietres_cons", "v2506_gas_nietres_n"),
}
TWO_YEARS = '(v9001_pop + data_from_period(v9001_pop, "-1")) / 2'
FIVE_YEARS = " + ".join(["v9001_births"] + [f'data_from_period(v9001_births, "-{k}")' for k in range(1, 5)])


# --- helpers ------------------------------------------------------------------------------------

def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Indicators"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ";") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def definitions(ctx: Context) -> dict[str, dict]:
    return {ind.code: ind.as_row() for ind in ops.list_indicators(ctx)}


def indicator_table_dump(ctx: Context) -> list[tuple]:
    with ctx.db.unguarded_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(indicator_table).order_by(indicator_table.c.code))]


def stored(ctx: Context, indicator: str, level: str, code: str, period: str) -> tuple[float | None, str | None] | None:
    """(raw value, disclosure decision) as stored, or None when there is no such cell."""
    with ctx.db.unguarded_engine.connect() as conn:
        row = conn.execute(select(observation.c.value, observation.c.disclosure)
                           .join(area, area.c.id == observation.c.area_id)
                           .where(observation.c.indicator == indicator, area.c.level == level,
                                  area.c.code == code, observation.c.period == period)).first()
    return None if row is None else (row.value, row.disclosure)


def value(ctx: Context, indicator: str, level: str, code: str, period: int) -> float | None:
    cell = stored(ctx, indicator, level, code, str(period))
    return None if cell is None else cell[0]


@pytest.fixture
def ctx(empty_db) -> Iterator[Context]:
    yield system(empty_db)
    empty_db.dispose()


@pytest.fixture
def geo(geo_db) -> Iterator[Context]:
    yield system(geo_db)
    geo_db.dispose()


# --- formulas with data_from_period (no database) -----------------------------------------------

@pytest.mark.unit
def test_data_from_period_is_a_reference_to_another_period():
    formula = parse_formula(TWO_YEARS)
    assert formula.inputs == {"v9001_pop"}  # what it depends on
    assert formula.references == {("v9001_pop", 0), ("v9001_pop", -1)}
    assert formula.offsets == {("v9001_pop", -1)}
    assert formula.evaluate({"v9001_pop": 110, ("v9001_pop", -1): 100}) == pytest.approx(105)


@pytest.mark.unit
def test_five_year_sum_references_four_earlier_periods():
    formula = parse_formula(FIVE_YEARS)
    assert formula.references == {("v9001_births", k) for k in (0, -1, -2, -3, -4)}
    values = {("v9001_births", -k): float(10 + k) for k in range(5)}
    assert formula.evaluate(values) == pytest.approx(60)


@pytest.mark.unit
def test_a_missing_period_gives_no_value():
    assert parse_formula(TWO_YEARS).evaluate({"v9001_pop": 110}) is None


@pytest.mark.unit
@pytest.mark.parametrize("text, references", [
    ('data_from_period(x, "+1")', {("x", 1)}),
    ('data_from_period(x,"-4")', {("x", -4)}),
    ('data_from_period( x , " -2 " )', {("x", -2)}),
    ('data_from_period(x, "12")', {("x", 12)}),
    ('data_from_period(x, "0") + y', {("x", 0), ("y", 0)}),  # offset 0: the period itself
    ('data_from_period(x, "+1") + x - x', {("x", 1), ("x", 0)}),  # Swing's "shift a year"
    ('x / data_from_period(x, "-1") * 100 - 100', {("x", 0), ("x", -1)}),
], ids=repr)
def test_allowed_period_references(text, references):
    assert parse_formula(text).references == references


@pytest.mark.unit
@pytest.mark.parametrize("text, reason", [
    ('data_from_period(x, "abc")', 'the offset must be a quoted whole number'),
    ('data_from_period(x, "1.5")', 'the offset must be a quoted whole number'),
    ('data_from_period(x, "-1000")', 'the offset must be a quoted whole number'),
    ('data_from_period(x, "")', 'the offset must be a quoted whole number'),
    ("data_from_period(x, -1)", 'the offset must be a quoted whole number'),
    ("data_from_period(x, y)", 'the offset must be a quoted whole number'),
    ("data_from_period(x)", "takes two arguments"),
    ('data_from_period(x, "-1", "-2")', "takes two arguments"),
    ('data_from_period(x, offset="-1")', "takes two arguments"),
    ('data_from_period(*x, "-1")', "the first argument must be an indicator code"),
    ('data_from_period("x", "-1")', "the first argument must be an indicator code"),
    ('data_from_period(x + y, "-1")', "the first argument must be an indicator code"),
    ('data_from_period(data_from_period(x, "-1"), "-1")', "the first argument must be an indicator code"),
    ('__import__("os")', "not allowed in a formula"),
    ('__import__("os").system("x")', "not allowed in a formula"),
    ("threshold(x) / y", "not allowed in a formula"),
    ('DATA_FROM_PERIOD(x, "-1")', "not allowed in a formula"),
    ('data_from_period(x, "-1")(y)', "not allowed in a formula"),
    ('data_from_period.x', "not allowed in a formula"),
    ('eval("x")', "not allowed in a formula"),
    ('(lambda: data_from_period)()', "not allowed in a formula"),
], ids=repr)
def test_refused_calls(text, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        parse_formula(text)


@pytest.mark.unit
@pytest.mark.parametrize("text, expected", [
    ("a / b", ("a", "b", 1.0)),
    ("a / b * 100", ("a", "b", 100.0)),
    ("100 * a / b", ("a", "b", 100.0)),
    ("(a * 1000) / b", ("a", "b", 1000.0)),
    ("(a + c) / b", (None, "b", 1.0)),
    ('data_from_period(a, "-1") / b', (None, "b", 1.0)),
    ("a + b", None),
    (TWO_YEARS, None),  # divided by a number, not by an indicator
    ('a / data_from_period(b, "-1")', None),
])
@pytest.mark.unit
def test_ratio_shape_of_a_formula(text, expected):
    shape = parse_formula(text).ratio()
    assert (shape if shape is None else (shape.numerator, shape.denominator, shape.scale)) == expected


@pytest.mark.unit
@pytest.mark.parametrize("period, offset, expected", [
    ("2020", -1, "2019"), ("2020", 1, "2021"), ("2020", -4, "2016"), ("2020", 0, "2020"),
    ("2020-Q1", -1, "2019-Q4"), ("2020-Q4", 1, "2021-Q1"), ("2020-Q2", -8, "2018-Q2"),
    ("2020-01", -1, "2019-12"), ("2020-12", 1, "2021-01"), ("2020-03", -15, "2018-12"),
    ("2020-03-01", -1, None), ("stadsmonitor-2023", -1, None), ("9999", 1, None), ("nonsense", -1, None),
], ids=repr)
def test_period_arithmetic(period, offset, expected):
    assert shift_period(period, offset) == expected


@pytest.mark.unit
def test_an_indicator_reading_another_period_depends_on_it():
    catalogue = {"x": Indicator(code="x", name_nl="X"),
                 "y": Indicator(code="y", name_nl="Y", aggregation="none", formula='data_from_period(x, "-1")'),
                 "z": Indicator(code="z", name_nl="Z", aggregation="none", formula="y * 2")}
    assert catalogue["y"].inputs() == {"x"} and catalogue["y"].references() == {("x", -1)}
    assert dependants(catalogue, {"x"}) == {"x", "y", "z"}
    assert dependency_order(catalogue) == ["x", "y", "z"]
    # x changed in 2020: y (x a year later) changes in 2021, and so does z, which reads y.
    scope = periods_to_compute(catalogue, ["x", "y", "z"], {"x"}, {"2020"})
    assert scope == {"x": {"2020"}, "y": {"2020", "2021"}, "z": {"2020", "2021"}}


# --- mapping one row (no database) --------------------------------------------------------------

def mapped(**cells: object) -> tuple[dict, list[str], str]:
    columns = {"code": "Indicator code", "name": "Name", "description": "Description", "unit": "Unit",
               "aggregation_indicator": "Aggregation indicator", "formula": "Formula", "data_type": "Data type",
               "period_type": "Period type", "round_off": "RoundOff", "threshold": "Threshold",
               "threshold_indicator": "Threshold indicator"}
    item, row, problems = map_row(7, {k: (columns[k], v) for k, v in cells.items()})
    return item, problems, row.text()


@pytest.mark.unit
def test_percentage_sum_formula_maps_to_a_ratio_of_sums():
    item, problems, report = mapped(code="vp2506_x", name="X", formula="v2506_cons / v2506_n * 100",
                                    aggregation_indicator="v2506_n", data_type="Percentage (sum)", round_off=0.1)
    assert problems == []
    assert (item["aggregation"], item["numerator"], item["denominator"], item["scale"], item["decimals"]) == \
        ("ratio", "v2506_cons", "v2506_n", 100.0, 1)
    assert "formula" not in item and item["is_count"] is False
    assert ("Data type 'Percentage (sum)' → aggregation ratio, numerator v2506_cons, denominator v2506_n, "
            "scale 100") in report
    assert report.startswith("line 7 vp2506_x:")


@pytest.mark.unit
@pytest.mark.parametrize("tag_first", [True, False])
def test_description_type_tag_is_parsed_off(tag_first):
    description = "[aantal] Inwoners op 1 januari" if tag_first else "Inwoners op 1 januari [aantal]"
    item, problems, report = mapped(code="pop_x", name="X", description=description, data_type="Numeric")
    assert (item["definition_nl"], item["aggregation"], item["is_count"], problems) == \
        ("Inwoners op 1 januari", "sum", True, [])
    assert "type tag [aantal]: count" in report and "is_count true (tag [aantal])" in report


@pytest.mark.unit
@pytest.mark.parametrize("cells, aggregation, weight", [
    ({"description": "[mediaan] Mediaan inkomen", "data_type": "Numeric"}, "none", None),
    ({"description": "[mediaan] Mediaan inkomen", "data_type": "Mean", "aggregation_indicator": "v1_n"}, "none", None),
    ({"data_type": "Mean", "aggregation_indicator": "v1_n"}, "weighted_mean", "v1_n"),
    ({"data_type": "Mean"}, "none", None),
    ({"data_type": "Percentage (mean)", "aggregation_indicator": "v1_n"}, "weighted_mean", "v1_n"),
    ({"data_type": "Percentage (mean)"}, "none", None),
    ({"data_type": "Percentage (sum)", "aggregation_indicator": "v1_n"}, "weighted_mean", "v1_n"),
    ({"description": "[gemiddelde] Gemiddelde leeftijd", "data_type": "Numeric"}, "none", None),
    ({"data_type": "Numeric"}, "sum", None),
    ({}, "sum", None),  # no data type: Numeric
], ids=["median", "median-with-weight", "mean-weighted", "mean-unweighted", "pmean-weighted", "pmean-unweighted",
        "psum-loaded", "gemiddelde-tag", "numeric", "no-type"])
def test_loaded_indicators_aggregate_by_data_type_and_tag(cells, aggregation, weight):
    item, problems, _ = mapped(code="vx1_x", name="X", **cells)
    assert (item["aggregation"], item.get("weight"), problems) == (aggregation, weight, [])


@pytest.mark.unit
@pytest.mark.parametrize("code, is_count", [("v1101_t", True), ("vs2207_in", True), ("vp1101_share", False),
                                            ("vg1101_age", False), ("pop_total", False)])
def test_code_prefix_marks_counts(code, is_count):
    item, _, _ = mapped(code=code, name="X", data_type="Numeric")
    assert item["is_count"] is is_count


@pytest.mark.unit
@pytest.mark.parametrize("raw, decimals", [(1, 0), ("1", 0), (0.1, 1), ("0,01", 2), ("0.001", 3), (10, 0), ("", 0)],
                         ids=repr)
def test_round_off_is_a_rounding_step(raw, decimals):
    item, problems, _ = mapped(code="v1_x", name="X", round_off=raw)
    assert (item["decimals"], problems) == (decimals, [])


@pytest.mark.unit
@pytest.mark.parametrize("cells, reason", [
    ({"data_type": "Banana"}, "unknown Data type 'Banana'"),
    ({"data_type": "Percentage"}, "unknown Data type 'Percentage'"),
    ({"formula": "a / b", "aggregation_indicator": "c"}, "the denominator of a ratio formula must be the aggregation"),
    ({"formula": "a / b"}, "a ratio formula needs its denominator as Aggregation indicator"),
    ({"formula": "a + b", "data_type": "Percentage (sum)", "aggregation_indicator": "b"},
     "the formula must be a numerator divided by the aggregation indicator"),
    ({"data_type": "Percentage (sum)"}, "needs a formula or an Aggregation indicator"),
    ({"formula": 'data_from_period(a, "abc")'}, "the offset must be a quoted whole number"),
    ({"round_off": "0.5"}, "not a power of ten"),
    ({"threshold": "vijf"}, "Threshold 'vijf' must be a whole number"),
    ({"period_type": "Decade"}, "Period type 'Decade'"),
], ids=["data-type", "plain-percentage", "denominator", "no-aggregation-indicator", "psum-no-ratio", "psum-nothing",
        "offset", "round-off", "threshold", "period-type"])
def test_row_problems(cells, reason):
    _, problems, _ = mapped(code="v1_x", name="X", **cells)
    assert any(reason in p for p in problems), problems


@pytest.mark.unit
def test_threshold_and_threshold_indicator_map_onto_obmi():
    item, problems, report = mapped(code="vp1_share", name="X", formula="v1_a / v1_b", aggregation_indicator="v1_b",
                                    data_type="Percentage (sum)", threshold=5, threshold_indicator="v1_a")
    assert (item["threshold"], item["threshold_indicator"], problems) == (5, "v1_a", [])
    assert "threshold_indicator v1_a: withheld where v1_a is below its threshold" in report


@pytest.mark.unit
def test_uncomputed_excel_text_formulas_are_evaluated(tmp_path):
    # A table written by a script: the Formula cell holds =CONCATENATE(…) and no computed value.
    path = write_xlsx(tmp_path / "scripted.xlsx", ["Indicator code", "Name", "Aggregation indicator", "Formula",
                                                   "Data type"], [
        ["v1_a", "A", None, None, "Numeric"],
        ["v1_b", "B", None, None, "Numeric"],
        ["vp1_ab", "A per B", "=A3", '=CONCATENATE(A2,"/",A3)', "Percentage (sum)"],
        ["vp1_ab100", "A per 100 B", "v1_b", '=A2&" / "&A3&" * 100"', "Percentage (sum)"],
        ["vp1_odd", "Odd", "v1_b", "=SUM(B2:B3)", "Percentage (sum)"],
    ])
    table = read_swing_table(path)
    items = dict((item["code"], item) for _, item in table.items)
    assert (items["vp1_ab"]["numerator"], items["vp1_ab"]["denominator"]) == ("v1_a", "v1_b")
    assert items["vp1_ab100"]["scale"] == 100.0
    assert [line for line, _ in table.rejected if "Excel formula =SUM(B2:B3)" in _] == [6]


# --- the real Fluvius table ---------------------------------------------------------------------

def test_fluvius_table_imports_and_maps_field_by_field(ctx):
    result = ops.import_catalogue(ctx, FLUVIUS_TABLE)
    assert (result.status, result.stats.rows_in, result.stats.inserted) == ("ok", 13, 13)
    rows = definitions(ctx)
    assert len(rows) == 13
    count = rows["v2506_elek_res_n"]
    assert {k: count[k] for k in ("code", "name_nl", "name_en", "definition_nl", "unit", "source", "aggregation",
                                  "numerator", "denominator", "weight", "formula", "is_count", "decimals",
                                  "frequency", "threshold", "threshold_indicator")} == {
        "code": "v2506_elek_res_n", "name_nl": "Consumenten elektriciteit residentieel",
        "name_en": "Consumenten elektriciteit residentieel", "definition_nl": "", "unit": "aantal",
        "source": "fluvius_opendata", "aggregation": "sum", "numerator": None, "denominator": None, "weight": None,
        "formula": None, "is_count": True, "decimals": 0, "frequency": "year", "threshold": None,
        "threshold_indicator": None}
    ratio = rows["vp2506_elek_res_n"]
    assert {k: ratio[k] for k in ("code", "name_nl", "unit", "source", "aggregation", "numerator", "denominator",
                                  "scale", "weight", "formula", "is_count", "decimals", "frequency")} == {
        "code": "vp2506_elek_res_n", "name_nl": "Consumptie elektriciteit per residentiële klant", "unit": "kwh",
        "source": "fluvius_opendata", "aggregation": "ratio", "numerator": "v2506_elek_res_cons",
        "denominator": "v2506_elek_res_n", "scale": 1.0, "weight": None, "formula": None, "is_count": False,
        "decimals": 1, "frequency": "year"}
    for code, (numerator, denominator) in FLUVIUS_RATIOS.items():  # ratios of sums, never means of ratios
        assert (rows[code]["aggregation"], rows[code]["numerator"], rows[code]["denominator"]) == \
            ("ratio", numerator, denominator)
    consumption = rows["v2506_gas_res_cons"]
    assert (consumption["aggregation"], consumption["unit"], consumption["decimals"]) == ("sum", "kwh", 0)


def test_fluvius_mapping_report_is_in_the_result_and_the_summary(ctx):
    result = ops.import_catalogue(ctx, FLUVIUS_TABLE)
    stats = result.stats
    assert isinstance(stats, SwingImportStats)
    by_code = {m.code: m for m in stats.mapping}
    assert set(by_code) == {f"v2506_{x}" for x in ("elek_nietres_cons", "elek_res_cons", "elek_nietres_n",
                                                   "elek_res_n", "elek_res_injectie", "gas_res_cons",
                                                   "gas_nietres_cons", "gas_res_n", "gas_nietres_n")} | set(FLUVIUS_RATIOS)
    ratio = {f.column: f for f in by_code["vp2506_elek_res_n"].fields}
    assert by_code["vp2506_elek_res_n"].line == 12
    assert ratio["Data type"].value == "Percentage (mean)"
    assert ratio["Data type"].result.startswith(
        "aggregation ratio, numerator v2506_elek_res_cons, denominator v2506_elek_res_n: a ratio of sums")
    assert ratio["Aggregation indicator"].result == "the ratio's denominator"
    assert ratio["RoundOff"].result == "decimals 1"
    assert ratio["Period type"].result.startswith("frequency year")
    count = {f.column: f for f in by_code["v2506_elek_res_n"].fields}
    assert count["Data type"].result.startswith("aggregation sum")
    assert count["→ is_count"].result.startswith("true")
    summary = result.summary()  # what `obmi import catalogue` prints
    assert "Swing indicator table (onderwerpentabel): 13 rows" in summary
    assert ("Data type 'Percentage (mean)' → aggregation ratio, numerator v2506_elek_res_cons, "
            "denominator v2506_elek_res_n") in summary
    assert "line 5 v2506_elek_res_n:" in summary


def test_dry_run_reports_the_mapping_and_writes_nothing(ctx):
    result = ops.import_catalogue(ctx, FLUVIUS_TABLE, dry_run=True)
    assert (result.status, len(result.stats.mapping)) == ("dry_run", 13)
    assert "line 14 vp2506_gas_nietres_n:" in result.summary()
    assert indicator_table_dump(ctx) == []


def test_fluvius_reimport_changes_nothing(ctx):
    ops.import_catalogue(ctx, FLUVIUS_TABLE)
    before, version = indicator_table_dump(ctx), ops.data_version(ctx)
    result = ops.import_catalogue(ctx, FLUVIUS_TABLE)
    assert (result.status, result.stats.inserted, result.stats.updated, result.stats.unchanged) == \
        ("no_change", 0, 0, 13)
    assert indicator_table_dump(ctx) == before
    assert ops.data_version(ctx) == version


def test_fluvius_ratios_are_ratios_of_sums_on_merged_municipalities(geo, tmp_path):
    # 2025 merger Beveren-Kruibeke-Zwijndrecht (gemeente 46030) = 46003 + 46013 + 11056 (gemeente2024).
    ops.import_catalogue(geo, FLUVIUS_TABLE)
    parts = {"46003": (4_000_000.0, 1000.0), "46013": (9_000_000.0, 3000.0), "11056": (500_000.0, 100.0)}
    factories.observations(geo, tmp_path, [
        {"indicator": code, "level": "gemeente2024", "area": area_code, "period": "2021", "value": number}
        for area_code, (cons, n) in parts.items()
        for code, number in (("v2506_elek_res_cons", cons), ("v2506_elek_res_n", n))])
    for area_code, (cons, n) in parts.items():
        assert value(geo, "vp2506_elek_res_n", "gemeente2024", area_code, 2021) == pytest.approx(cons / n)
    total_cons, total_n = sum(c for c, _ in parts.values()), sum(n for _, n in parts.values())
    merged = value(geo, "vp2506_elek_res_n", "gemeente", "46030", 2021)
    assert merged == pytest.approx(total_cons / total_n)  # 3,375 kWh per connection
    mean_of_ratios = sum(c / n for c, n in parts.values()) / len(parts)
    assert merged != pytest.approx(mean_of_ratios)  # 4,333: what a mean of the ratios would say


# --- a table with formulas over periods, thresholds and threshold indicators --------------------

SWING_HEADER = ["indicator_code", "NAME", "Description", "unit", "Aggregation Indicator", "formula", "DataType",
                "Period type", "Round off", "Threshold", "Threshold indicator", "Volgnummer"]
SWING_ROWS = [
    ["v9001_pop", "Inwoners", "[aantal] Inwoners op 1 januari", "aantal", None, None, "Numeric", "Stock", 1, 5,
     None, 1],
    ["v9001_births", "Geboorten", "[aantal] Levend geborenen", "aantal", None, None, "Numeric", "Pending", 1, None,
     None, 2],
    ["v9001_pop_2j", "Gemiddelde bevolking over twee jaar", "[aantal] Gemiddelde van dit en vorig jaar", "aantal",
     None, TWO_YEARS, "Numeric", "Pending", 1, None, None, 3],
    ["vs9001_births_5j", "Geboorten over vijf jaar", "Som van de laatste vijf jaar", "aantal", None, FIVE_YEARS,
     "Numeric", "Pending", 1, 5, None, 4],
    ["vp9001_birth_rate", "Geboortecijfer", "Geboorten per 1.000 inwoners [promille]", "promille", "v9001_pop",
     "v9001_births / v9001_pop * 1000", "Percentage (sum)", "Stock", 0.1, 5, "v9001_births", 5],
    ["vp9001_birth_rate_5j", "Geboortecijfer over vijf jaar", "[ratio] Geboorten over vijf jaar per 1.000 inwoners",
     "promille", "v9001_pop_2j", "vs9001_births_5j / v9001_pop_2j * 1000", "Percentage (sum)", "Stock", 0.01, 5,
     "vs9001_births_5j", 6],
]
AREAS = ("46003", "46013", "11056", "44021")  # gemeente2024; the first three merged into 46030 in 2025
YEARS = range(2015, 2022)


def population(area_code: str, year: int) -> float:
    return {"46003": 28_000.0, "46013": 16_000.0, "11056": 19_000.0, "44021": 260_000.0}[area_code] + 100 * (year - 2015)


def births(area_code: str, year: int) -> float:
    if (area_code, year) == ("11056", 2019):
        return 3.0  # below the threshold: its birth rate is withheld
    return round(population(area_code, year) / 90) + year % 7


def load_figures(ctx: Context, folder: Path, years=YEARS, births_of=births) -> None:
    factories.observations(ctx, folder, [
        {"indicator": code, "level": "gemeente2024", "area": a, "period": str(y), "value": fn(a, y)}
        for a in AREAS for y in years for code, fn in (("v9001_pop", population), ("v9001_births", births_of))])


@pytest.fixture
def swing_table(tmp_path) -> Path:
    return write_xlsx(tmp_path / "onderwerpentabel.xlsx", SWING_HEADER, SWING_ROWS)


def test_swing_table_with_periods_and_thresholds_maps_onto_obmi(ctx, swing_table):
    result = ops.import_catalogue(ctx, swing_table)
    assert (result.status, result.stats.inserted) == ("ok", 6)
    rows = definitions(ctx)
    assert (rows["v9001_pop"]["is_count"], rows["v9001_pop"]["threshold"], rows["v9001_pop"]["frequency"],
            rows["v9001_pop"]["definition_nl"]) == (True, 5, "year", "Inwoners op 1 januari")
    assert (rows["v9001_pop_2j"]["formula"], rows["v9001_pop_2j"]["aggregation"], rows["v9001_pop_2j"]["is_count"]) \
        == (TWO_YEARS, "sum", True)
    assert (rows["vs9001_births_5j"]["formula"], rows["vs9001_births_5j"]["threshold"],
            rows["vs9001_births_5j"]["is_count"]) == (FIVE_YEARS, 5, True)
    rate = rows["vp9001_birth_rate"]
    assert (rate["aggregation"], rate["numerator"], rate["denominator"], rate["scale"], rate["formula"],
            rate["threshold"], rate["threshold_indicator"], rate["decimals"], rate["is_count"],
            rate["definition_nl"]) == ("ratio", "v9001_births", "v9001_pop", 1000.0, None, 5, "v9001_births", 1,
                                       False, "Geboorten per 1.000 inwoners")
    rate5 = rows["vp9001_birth_rate_5j"]
    assert (rate5["numerator"], rate5["denominator"], rate5["threshold_indicator"], rate5["decimals"]) == \
        ("vs9001_births_5j", "v9001_pop_2j", "vs9001_births_5j", 2)
    report = "\n".join(result.stats.notes)
    assert "ignored columns: Volgnummer" in report
    assert 'uses other periods (data_from_period): v9001_births -1, v9001_births -2' in report
    # Dependencies: the averages and sums depend on what they read from other periods.
    assert ops.import_catalogue(ctx, swing_table).status == "no_change"


def test_derived_values_over_periods_equal_a_computation_by_hand(geo, tmp_path, swing_table):
    ops.import_catalogue(geo, swing_table)
    load_figures(geo, tmp_path)

    def pop(a, y):
        return population(a, y) if a != "46030" else sum(population(p, y) for p in AREAS[:3])

    def born(a, y):
        return births(a, y) if a != "46030" else sum(births(p, y) for p in AREAS[:3])

    for level, a in [("gemeente2024", "44021"), ("gemeente2024", "11056"), ("gemeente", "46030"),
                     ("gemeente", "44021")]:
        assert value(geo, "v9001_pop_2j", level, a, 2015) is None  # 2014 was not loaded
        assert value(geo, "vs9001_births_5j", level, a, 2018) is None  # 2014 is missing from 2014–2018
        for y in YEARS[1:]:
            assert value(geo, "v9001_pop_2j", level, a, y) == pytest.approx((pop(a, y) + pop(a, y - 1)) / 2)
        for y in YEARS[4:]:
            five = sum(born(a, y - k) for k in range(5))
            assert value(geo, "vs9001_births_5j", level, a, y) == pytest.approx(five)
            rate5 = five / ((pop(a, y) + pop(a, y - 1)) / 2) * 1000
            assert value(geo, "vp9001_birth_rate_5j", level, a, y) == pytest.approx(rate5)
        for y in YEARS:
            assert value(geo, "vp9001_birth_rate", level, a, y) == pytest.approx(born(a, y) / pop(a, y) * 1000)
        assert value(geo, "v9001_pop_2j", level, a, 2022) is None  # 2022 was not loaded
    # The threshold indicator: 3 births in 11056 in 2019 withhold its birth rate, not the merged one.
    assert stored(geo, "vp9001_birth_rate", "gemeente2024", "11056", "2019")[1] == "primary"
    assert stored(geo, "vp9001_birth_rate", "gemeente2024", "11056", "2020")[1] is None
    assert stored(geo, "vp9001_birth_rate", "gemeente", "46030", "2019")[1] is None


def test_a_changed_year_recomputes_the_later_years_that_read_it(geo, tmp_path, swing_table):
    ops.import_catalogue(geo, swing_table)
    load_figures(geo, tmp_path)

    def more_births(a, y):
        return births(a, y) + (50 if (a, y) == ("44021", 2019) else 0)

    load_figures(geo, tmp_path, years=[2019], births_of=more_births)  # a correction of 2019 only
    for y in (2019, 2020, 2021):  # every five-year sum that includes 2019
        five = sum(more_births("44021", y - k) for k in range(5))
        assert value(geo, "vs9001_births_5j", "gemeente2024", "44021", y) == pytest.approx(five)
        assert value(geo, "vs9001_births_5j", "gemeente", "44021", y) == pytest.approx(five)
    load_figures(geo, tmp_path, years=[2022])  # a new year: its averages and sums appear
    expected = (population("44021", 2022) + population("44021", 2021)) / 2
    assert value(geo, "v9001_pop_2j", "gemeente2024", "44021", 2022) == pytest.approx(expected)
    five = sum(more_births("44021", 2022 - k) for k in range(5))
    assert value(geo, "vs9001_births_5j", "gemeente2024", "44021", 2022) == pytest.approx(five)


def test_a_definition_imported_after_the_data_is_computed_in_every_period(geo, tmp_path, swing_table):
    load_base = write_xlsx(tmp_path / "base.xlsx", SWING_HEADER, SWING_ROWS[:2])
    ops.import_catalogue(geo, load_base)
    load_figures(geo, tmp_path)
    ops.import_catalogue(geo, swing_table)  # the formulas arrive after the figures
    assert value(geo, "v9001_pop_2j", "gemeente2024", "44021", 2016) == pytest.approx(
        (population("44021", 2016) + population("44021", 2015)) / 2)
    assert value(geo, "vs9001_births_5j", "gemeente", "46030", 2021) == pytest.approx(
        sum(births(p, y) for p in AREAS[:3] for y in range(2017, 2022)))
    assert value(geo, "v9001_pop_2j", "gemeente2024", "44021", 2022) is None


# --- broken tables ------------------------------------------------------------------------------

BROKEN_HEADER = ["Indicator code", "Name", "Description", "Aggregation indicator", "Formula", "Data type",
                 "Period type", "RoundOff"]
BROKEN_ROWS = [
    ["v9001_pop", "Inwoners", "[aantal]", "", "", "Numeric", "Pending", "1"],  # line 2: fine
    ["v9001_births", "Geboorten", "[aantal]", "", "", "Numeric", "Pending", "1"],  # line 3: fine
    ["v9001_bad_type", "X", "", "", "", "Banana", "Pending", "1"],  # line 4
    ["v9001_unknown", "X", "", "", "v9001_pop + v9001_nope", "Numeric", "Pending", "1"],  # line 5
    ["v9001_offset", "X", "", "", 'data_from_period(v9001_pop, "abc")', "Numeric", "Pending", "1"],  # line 6
    ["v9001_import", "X", "", "", '__import__("os")', "Numeric", "Pending", "1"],  # line 7
    ["V9001_Upper", "X", "", "", "", "Numeric", "Pending", "1"],  # line 8
    ["vp9001_rate", "X", "", "v9001_births", "v9001_births / v9001_pop", "Percentage (sum)", "Pending",
     "0,1"],  # line 9
    ["v" + "x" * 80, "X", "", "", "", "Numeric", "Pending", "1"],  # line 10: 81 characters
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_broken_table_is_refused_with_line_numbers_and_writes_nothing(ctx, tmp_path, fmt):
    path = (write_csv(tmp_path / "broken.csv", BROKEN_HEADER, BROKEN_ROWS) if fmt == "csv"
            else write_xlsx(tmp_path / "broken.xlsx", BROKEN_HEADER, BROKEN_ROWS))
    with pytest.raises(ImportRejected) as info:
        ops.import_catalogue(ctx, path)
    rejected = info.value.rejected
    reasons = {line: " | ".join(r for ln, r in rejected if ln == line) for line, _ in rejected}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert "unknown Data type 'Banana'" in reasons[4]
    assert "refers to unknown indicator 'v9001_nope'" in reasons[5]
    assert 'the offset must be a quoted whole number of periods such as "-1"' in reasons[6]
    assert "not allowed in a formula" in reasons[7]
    assert "code 'V9001_Upper' must be lower case" in reasons[8]
    assert ("the denominator of a ratio formula must be the aggregation indicator: the formula divides by "
            "v9001_pop, the Aggregation indicator is v9001_births") in reasons[9]
    assert "at most 80 characters) (81 characters)" in reasons[10]
    assert "line 4: v9001_bad_type: unknown Data type 'Banana'" in str(info.value)
    assert "nothing imported" in str(info.value)
    assert indicator_table_dump(ctx) == []
    run = ops.list_imports(ctx, limit=1).data[0]
    assert (run["status"], run["rows_rejected"]) == ("failed", len(rejected))
    assert ops.import_details(ctx, run["id"]).rejected == sorted(rejected)


def test_a_workbook_that_is_no_swing_table_is_refused(ctx, tmp_path):
    path = write_xlsx(tmp_path / "other.xlsx", ["code", "name_nl"], [["pop", "Bevolking"]])
    with pytest.raises(ValidationError, match="other.xlsx: not a Swing indicator table"):
        ops.import_catalogue(ctx, path)


def test_a_swing_table_without_names_is_refused(ctx, tmp_path):
    path = write_csv(tmp_path / "nameless.csv", ["Indicator code", "Unit"], [["v1_x", "aantal"]])
    with pytest.raises(ValidationError, match="needs the columns 'Indicator code' and 'Name'"):
        ops.import_catalogue(ctx, path)


def test_obmi_csv_catalogues_are_still_read_as_before(ctx, tmp_path):
    path = tmp_path / "obmi.csv"
    path.write_text("code,name_nl,aggregation\nobmi_x,X,sum\n", encoding="utf-8")
    result = ops.import_catalogue(ctx, path)
    assert (result.status, result.stats.inserted, type(result.stats).__name__) == ("ok", 1, "ImportStats")
