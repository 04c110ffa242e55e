"""Issue 13, "values accepted that should be refused": the rules every import applies to a
delivered value (obmi.indicators.values), the year of a Statbel file, the comparison that decides
"unchanged", and the aggregation that must never sum an infinity — each against the real shared
files, on SQLite and PostgreSQL where values are stored. The probe suite (test_probes.py) feeds
the same damage through the command line; these tests say what exactly is refused, and what is
still imported."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from python_calamine import CalamineWorkbook
from sqlalchemy import select, update

from obmi import operations as ops
from obmi.errors import ImportRejected, ValidationError
from obmi.imports.long_format import parse_number
from obmi.imports.sheets import read_csv
from obmi.imports.swing_catalogue import read_swing_table
from obmi.indicators.aggregation import combine
from obmi.indicators.catalogue import build_indicators, dump_catalogue, load_builtin, load_catalogue
from obmi.indicators.observation import Observation, Origin, same_values
from obmi.indicators.values import MAX_MAGNITUDE, value_problem, value_range
from obmi.store.tables import area, observation

from conftest import ROOT, SHARED, STATBEL, system

POPULATION_2012 = STATBEL / "TF_SOC_POP_STRUCT_2012.txt.gz"
LAND_2014 = STATBEL / "land_use" / "TF_EAE_LAND_OCCUPTN_2014.txt.gz"
FLUVIUS_INDICATORS = SHARED / "swing" / "fluvius_indicators.xlsx"
RUMST, BOOM, AARTSELAAR = "11037", "11005", "11001"  # arrondissement Antwerpen, codes of before 2019
LEVEL = "gemeente2018"
STATBEL_CATALOGUE = ROOT / "src" / "obmi" / "catalogue" / "statbel.yaml"


# --- the real data --------------------------------------------------------------------------------

def read_pipe(path: Path, codes: set[str]) -> tuple[list[str], list[list[str]]]:
    """Header and every row of these municipalities, as Statbel wrote them."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("|")
        column = header.index("CD_MUNTY_REFNIS")
        return header, [r for r in (line.rstrip("\n").split("|") for line in handle) if r[column] in codes]


def read_arrondissement(path: Path, code: str) -> tuple[list[str], list[list[str]]]:
    """Every row of the municipalities of an arrondissement (a complete one sums up to it)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("|")
        column = header.index("CD_ADM_DSTR_REFNIS")
        return header, [r for r in (line.rstrip("\n").split("|") for line in handle) if r[column] == code]


def write_pipe(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("|".join(header) + "\n")
        handle.writelines("|".join(r) + "\n" for r in rows)
    return path


@pytest.fixture(scope="module")
def population() -> tuple[list[str], list[list[str]]]:
    return read_pipe(POPULATION_2012, {RUMST, BOOM, AARTSELAAR})


def total(header: list[str], rows: list[list[str]], code: str, *, sex: str | None = None) -> int:
    c, s, v = header.index("CD_MUNTY_REFNIS"), header.index("CD_SEX"), header.index("MS_POPULATION")
    return sum(int(r[v]) for r in rows if r[c] == code and (sex is None or r[s] == sex))


def first_row(header: list[str], rows: list[list[str]], code: str, sex: str) -> int:
    c, s = header.index("CD_MUNTY_REFNIS"), header.index("CD_SEX")
    return next(i for i, r in enumerate(rows) if r[c] == code and r[s] == sex)


def stored(db, indicator: str, code: str, period: str = "2012", level: str = LEVEL) -> float | None:
    """The stored value (None: no row), read from the store as the import left it."""
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(observation.c.value).join(area, area.c.id == observation.c.area_id).where(
            observation.c.indicator == indicator, area.c.code == code, area.c.level == level,
            observation.c.period == period)).scalar_one_or_none()


def all_observations(db) -> list[tuple]:
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(observation).order_by(observation.c.id)).all()


@pytest.fixture
def antwerp(geo_db, population, tmp_path):
    """Rumst, Boom and Aartselaar on 1 January 2012, imported from Statbel's rows."""
    ops.import_statbel(system(geo_db), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", *population))
    return geo_db


@pytest.fixture
def catalogued(geo_db):
    """The geography and the Statbel indicators, no data."""
    ops.import_catalogue(system(geo_db), STATBEL_CATALOGUE)
    return geo_db


def builtin(code: str):
    return next(i for i in load_builtin("statbel") if i.code == code)


# --- what a value may be (no database) ------------------------------------------------------------

def test_the_range_of_an_indicator_comes_from_the_catalogue_or_its_unit():
    assert value_range(builtin("pop_women")) == (0, None)  # a count
    assert value_range(builtin("land_total_area")) == (0, None)  # ha, and said so in statbel.yaml
    assert value_range(builtin("share_men")) == (0, 100)
    assert value_range(builtin("inc_net_taxable_total")) == (None, None)  # EUR: an amount may be negative
    percent = builtin("inc_residents").model_copy(update={"is_count": False, "unit": "%"})
    assert value_range(percent) == (0, 100)
    assert value_range(percent.model_copy(update={"min": -50.0, "max": 400.0})) == (-50, 400)


@pytest.mark.parametrize(("raw", "problem"), [
    ("-5", "-5 is negative: a count is a whole number ≥ 0"),
    ("2.5", "2.5 is not a whole number: a count is a whole number ≥ 0"),
    ("1e308", "1e+308 is too large (at most 9,007,199,254,740,991 in absolute value)"),
    ("99999999999999999999", "1e+20 is too large (at most 9,007,199,254,740,991 in absolute value)"),
    ("inf", "inf is not a finite number"),
    ("nan", "nan is not a finite number"),
])
def test_a_count_is_a_finite_whole_number_of_zero_or_more(raw, problem, population):
    women = builtin("pop_women")
    assert value_problem(women, float(raw)) == problem
    assert value_problem(women, float(total(*population, RUMST, sex="F"))) is None
    assert value_problem(women, MAX_MAGNITUDE) is None


def test_parse_number_refuses_a_parquet_nan_and_integers_beyond_float():
    for raw in (float("nan"), float("inf"), 10**400):
        with pytest.raises(ValueError, match="is not a number"):
            parse_number(raw)


def test_a_change_to_or_from_infinity_or_nan_is_never_unchanged(population):
    women = float(total(*population, RUMST, sex="F"))

    def obs(value: float | None) -> Observation:
        return Observation("pop_women", 1, "2012", value)

    for old, new in ((women, math.inf), (math.inf, women), (1e308, math.inf), (women, math.nan),
                     (math.nan, math.nan), (None, math.nan), (math.inf, -math.inf)):
        assert not same_values(obs(old), obs(new)), (old, new)
    assert same_values(obs(women), obs(women * (1 + 1e-12)))
    assert same_values(obs(math.inf), obs(math.inf))


def test_an_aggregate_never_sums_an_infinity_or_a_nan(population):
    women = builtin("pop_women")
    parts = [(1, Observation("pop_women", 1, "2012", float(total(*population, RUMST, sex="F")))),
             (2, Observation("pop_women", 2, "2012", float(total(*population, BOOM, sex="F"))))]

    def whole(values) -> Observation | None:
        return combine(women, values, lambda _: None, indicator="pop_women", area_id=9, period="2012",
                       origin=Origin.AGGREGATED)

    assert whole(parts).value == parts[0][1].value + parts[1][1].value  # type: ignore[union-attr]
    for bad in (math.inf, math.nan, -math.inf):
        assert whole([parts[0], (2, parts[1][1]._replace(value=bad))]) is None
    huge = [(i, o._replace(value=1e308)) for i, o in parts]
    assert whole(huge) is None  # 1e308 + 1e308 overflows: no total, never inf


@pytest.mark.parametrize(("fields", "problem"), [
    ({"min": 10, "max": 5}, "min 10 is above max 5"),
    ({"is_count": True, "min": -1}, "a count cannot be negative"),
    ({"max": ".inf"}, "max must be a finite number"),
])
def test_the_catalogue_refuses_a_range_that_cannot_be(fields, problem):
    item = {k: v for k, v in builtin("inc_residents").stored_row().items() if v is not None}
    item.update({"code": "test_range", "is_count": False, **fields})
    raw = yaml.safe_load(yaml.safe_dump(item).replace("'.inf'", ".inf"))
    built, rejected = build_indicators([(1, raw)], set(), None)
    assert any(problem in reason for _, reason in rejected), rejected


def test_a_swing_indicator_table_may_give_a_range(tmp_path):
    """Not a Swing field: a city that adds Minimum/Maximum columns gets them mapped."""
    book = CalamineWorkbook.from_path(str(FLUVIUS_INDICATORS))
    table = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    out = openpyxl.Workbook()
    sheet = out.active
    sheet.append([*table[0], "Minimum", "Maximum"])
    for row in table[1:]:
        sheet.append([*row, 0, None])
    out.save(tmp_path / "indicators.xlsx")
    swing = read_swing_table(tmp_path / "indicators.xlsx")
    assert not swing.rejected
    assert {item["min"] for _, item in swing.items} == {0.0} and all("max" not in item for _, item in swing.items)
    assert any("min 0: a delivered value below it is refused" in row.text() for row in swing.mapping)


def test_a_latin1_csv_is_read_as_windows_1252_and_said_so(tmp_path):
    """A real French name with its accent (Statbel's TX_MUNTY_DESCR_FR), written by Excel on Windows."""
    header, rows = read_pipe(POPULATION_2012, {"61080"})  # Engis, province of Liège
    province = rows[0][header.index("TX_PROV_DESCR_FR")]
    assert "è" in province
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"name\n{province}\n".encode("cp1252"))
    found, body = read_csv(path)
    assert (found, list(body)) == (["name"], [(2, (province,))])
    assert body.notes == ["the file is not UTF-8: read as Windows-1252 (cp1252, as Excel writes CSV on Windows) — "
                          "check that accented names came out right, or save the file as UTF-8"]


def test_excels_unicode_text_is_read_and_a_binary_file_refused(tmp_path):
    """Excel's "Unicode text" is UTF-16 with a byte order mark; NUL bytes mean no text at all."""
    header, rows = read_pipe(POPULATION_2012, {"25118"})
    name = rows[0][header.index("TX_MUNTY_DESCR_NL")]  # Hélécine
    path = tmp_path / "unicode.txt"
    path.write_bytes(f"name\tcode\n{name}\t25118\n".encode("utf-16"))
    found, body = read_csv(path)
    assert (found, list(body), body.notes) == (["name", "code"], [(2, (name, "25118"))], [])
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValidationError, match="binary.csv: a binary file"):
        read_csv(binary)


# --- Statbel: counts, empty measures, years (SQLite and PostgreSQL) ---------------------------------

def test_a_negative_count_is_refused_and_rumst_keeps_its_women(antwerp, population, tmp_path):
    header, rows = population
    women = total(header, rows, RUMST, sex="F")
    assert stored(antwerp, "pop_women", RUMST) == women  # 7,501: the figure, from Statbel's file
    bad = [list(r) for r in rows]
    at = first_row(header, rows, RUMST, "F")
    bad[at][header.index("MS_POPULATION")] = "-5"
    before = all_observations(antwerp)
    with pytest.raises(ImportRejected) as refused:
        ops.import_statbel(system(antwerp), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, bad))
    assert refused.value.rejected == [(at + 2, "MS_POPULATION: -5 is negative: a count is a whole number ≥ 0")]
    assert all_observations(antwerp) == before


@pytest.mark.parametrize(("raw", "reason"), [("", "MS_POPULATION is empty (every row needs a value)"),
                                             ("NaN", "MS_POPULATION: nan is not a finite number")])
def test_an_empty_or_nan_count_is_refused_not_dropped_from_the_sums(antwerp, population, tmp_path, raw, reason):
    header, rows = population
    bad = [list(r) for r in rows]
    at = first_row(header, rows, BOOM, "M")
    bad[at][header.index("MS_POPULATION")] = raw
    before = all_observations(antwerp)
    with pytest.raises(ImportRejected) as refused:
        ops.import_statbel(system(antwerp), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, bad))
    assert refused.value.rejected == [(at + 2, reason)]
    assert all_observations(antwerp) == before


def test_rows_of_another_year_are_refused_with_their_lines(antwerp, population, tmp_path):
    header, rows = population
    mixed, lines = _boom_in_2013(header, rows)
    before = all_observations(antwerp)
    with pytest.raises(ImportRejected) as refused:
        ops.import_statbel(system(antwerp), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, mixed))
    assert [line for line, _ in refused.value.rejected] == lines
    assert refused.value.rejected[0][1] == ("CD_YEAR 2013 is not 2012, the year of the file (from its name): a file "
                                            "holds one year, or import it with --allow-mixed-years")
    assert all_observations(antwerp) == before
    assert stored(antwerp, "pop_total", BOOM, "2013") is None  # no partial total published as final


def test_mixed_years_are_imported_when_allowed_and_said_so(antwerp, population, tmp_path):
    header, rows = population
    mixed, lines = _boom_in_2013(header, rows)
    result = ops.import_statbel(system(antwerp), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, mixed),
                                allow_mixed_years=True)
    moved = sum(int(mixed[line - 2][header.index("MS_POPULATION")]) for line in lines)
    assert stored(antwerp, "pop_total", BOOM, "2013") == moved
    assert stored(antwerp, "pop_total", BOOM, "2012") == total(header, rows, BOOM) - moved
    assert f"rows of several years imported (allow mixed years): 2012: {len(rows) - len(lines)} rows, " \
           f"2013: {len(lines)} rows" in result.stats.notes


def _boom_in_2013(header: list[str], rows: list[list[str]]) -> tuple[list[list[str]], list[int]]:
    """The 2012 file with Boom's first 100 rows marked 2013 (the issue's case), and their lines."""
    mixed = [list(r) for r in rows]
    boom = [i for i, r in enumerate(mixed) if r[header.index("CD_MUNTY_REFNIS")] == BOOM][:100]
    for i in boom:
        mixed[i][header.index("CD_YEAR")] = "2013"
    return mixed, [i + 2 for i in boom]


def test_a_municipality_total_outside_the_catalogue_range_is_refused_with_its_lines(antwerp, population, tmp_path):
    """Rows that are each fine add up to more than an analyst's `max` for pop_women allows."""
    header, rows = population
    women = total(header, rows, RUMST, sex="F")
    definition = {**{k: v for k, v in builtin("pop_women").stored_row().items() if v is not None}, "max": women - 1}
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump({"indicators": [definition]}), encoding="utf-8")
    ops.import_catalogue(system(antwerp), tmp_path / "catalogue.yaml")
    before = all_observations(antwerp)
    with pytest.raises(ImportRejected) as refused:
        ops.import_statbel(system(antwerp), write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, rows))
    expected = []
    for code in sorted({RUMST, BOOM, AARTSELAAR}):
        if total(header, rows, code, sex="F") > women - 1:  # Rumst's and any larger one's
            lines = [i + 2 for i, r in enumerate(rows) if r[header.index("CD_MUNTY_REFNIS")] == code]
            expected.append((lines[0], f"pop_women of municipality {code} in 2012, the sum of lines {lines[0]}–"
                                       f"{lines[-1]} ({len(lines)} rows): {total(header, rows, code, sex='F'):,} is "
                                       f"above the maximum {women - 1:,} (the catalogue's max)"))
    assert len(expected) >= 1 and refused.value.rejected == sorted(expected)
    assert all_observations(antwerp) == before


def test_land_use_refuses_what_overflows_and_stores_no_infinity(geo_db, tmp_path):
    header, rows = read_pipe(LAND_2014, {RUMST, BOOM})
    ops.import_statbel(system(geo_db), write_pipe(tmp_path / "TF_EAE_LAND_OCCUPTN_2014.txt.gz", header, rows))
    area_before = stored(geo_db, "land_total_area", RUMST, "2014")
    bad = [list(r) for r in rows]
    rumst = [i for i, r in enumerate(bad) if r[header.index("CD_MUNTY_REFNIS")] == RUMST][:2]
    for i in rumst:
        bad[i][header.index("MS_TOT_SUR")] = "1e308"  # 1e308 + 1e308 = inf
    with pytest.raises(ImportRejected) as refused:
        ops.import_statbel(system(geo_db), write_pipe(tmp_path / "TF_EAE_LAND_OCCUPTN_2014.txt.gz", header, bad))
    assert [line for line, _ in refused.value.rejected] == [i + 2 for i in rumst]
    assert stored(geo_db, "land_total_area", RUMST, "2014") == area_before
    assert all(math.isfinite(o.value) for o in all_observations(geo_db) if o.value is not None)


def test_a_latin1_statbel_file_is_read_as_windows_1252_and_said_so(geo_db, population, tmp_path):
    """Re-saved by Excel on Windows: Hélécine (a Walloon municipality, skipped) has its accents."""
    header, rows = population
    helecine = read_pipe(POPULATION_2012, {"25118"})[1]
    assert "é" in helecine[0][header.index("TX_MUNTY_DESCR_NL")]
    path = tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(("|".join(header) + "\n" + "".join("|".join(r) + "\n" for r in rows + helecine)).encode("cp1252"))
    result = ops.import_statbel(system(geo_db), path)
    assert stored(geo_db, "pop_women", RUMST) == total(header, rows, RUMST, sex="F")
    assert result.stats.rows_skipped == len(helecine)
    assert any("read as Windows-1252" in note for note in result.stats.notes)


# --- the long format ----------------------------------------------------------------------------

def _long_file(path: Path, header: list[str], rows: list[list[str]], values: dict[str, object]) -> Path:
    """pop_total 2012 of the three municipalities, summed from Statbel's rows; `values` replaces some."""
    table = {"indicator": ["pop_total"] * 3, "level": [LEVEL] * 3, "area": [RUMST, BOOM, AARTSELAAR],
             "period": ["2012"] * 3}
    numbers = [values.get(code, total(header, rows, code)) for code in table["area"]]
    if path.suffix == ".parquet":
        pq.write_table(pa.table({**table, "value": [float(v) for v in numbers]}), path)  # type: ignore[arg-type]
        return path
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*table, "value"])
        writer.writerows(zip(*table.values(), map(str, numbers)))
    return path


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("negative.csv", "-5", "pop_total: -5 is negative: a count is a whole number ≥ 0"),
    ("fraction.csv", "2.5", "pop_total: 2.5 is not a whole number: a count is a whole number ≥ 0"),
    ("persons.csv", "1e308", "pop_total: 1e+308 is too large (at most 9,007,199,254,740,991 in absolute value)"),
    ("overflow.csv", "99999999999999999999",
     "pop_total: 1e+20 is too large (at most 9,007,199,254,740,991 in absolute value)"),
    ("nan.parquet", "nan", "nan is not a number"),
])
def test_the_long_format_refuses_what_no_count_can_be(catalogued, population, tmp_path, name, value, reason):
    path = _long_file(tmp_path / name, *population, {BOOM: value})
    with pytest.raises(ImportRejected) as refused:
        ops.import_observations(system(catalogued), path)
    assert refused.value.rejected == [(3, reason)]
    assert all_observations(catalogued) == []


def test_a_parquet_nan_is_refused_for_an_indicator_that_is_no_count(catalogued, tmp_path):
    """Land use in hectares: once stored as an empty value with status `final`."""
    header, rows = read_pipe(LAND_2014, {RUMST, BOOM})
    surface = {code: sum(float(r[header.index("MS_TOT_SUR")]) for r in rows if r[header.index("CD_MUNTY_REFNIS")] == code)
               for code in (RUMST, BOOM)}
    pq.write_table(pa.table({"indicator": ["land_total_area"] * 2, "level": [LEVEL] * 2, "area": [RUMST, BOOM],
                             "period": ["2014"] * 2, "value": [surface[RUMST], math.nan]}), tmp_path / "land.parquet")
    with pytest.raises(ImportRejected) as refused:
        ops.import_observations(system(catalogued), tmp_path / "land.parquet")
    assert refused.value.rejected == [(3, "nan is not a number")]
    assert all_observations(catalogued) == []


def test_a_latin1_long_format_file_is_imported_and_the_encoding_reported(catalogued, population, tmp_path):
    header, rows = population
    engis = read_pipe(POPULATION_2012, {"61080"})
    province = engis[1][0][engis[0].index("TX_PROV_DESCR_FR")]  # "Province de Liège"
    path = _long_file(tmp_path / "utf8.csv", header, rows, {})
    lines = path.read_text(encoding="utf-8").splitlines()
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("\n".join([lines[0] + ",note", lines[1] + f",{province}", *(f"{line}," for line in lines[2:])])
                      .encode("cp1252"))
    result = ops.import_observations(system(catalogued), latin)
    assert result.stats.inserted == 3 and stored(catalogued, "pop_total", RUMST) == total(header, rows, RUMST)
    assert any("read as Windows-1252" in note for note in result.stats.notes)


# --- the catalogue's range, stored ----------------------------------------------------------------

def test_a_range_is_stored_exported_and_kept_out_of_the_published_definition(empty_db, tmp_path):
    defs = [{**{k: v for k, v in builtin(code).stored_row().items() if v is not None}} for code in
            ("pop_men", "pop_total", "share_men", "land_total_area")]
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump({"indicators": defs}), encoding="utf-8")
    ops.import_catalogue(system(empty_db), tmp_path / "catalogue.yaml")
    with empty_db.unguarded_engine.connect() as conn:
        found = load_catalogue(conn)
    assert [(found[c].min, found[c].max) for c in ("share_men", "land_total_area", "pop_total")] == \
        [(0, 100), (0, None), (None, None)]
    exported = yaml.safe_load(dump_catalogue(list(found.values()), "yaml"))["indicators"]
    assert {d["code"]: (d["min"], d["max"]) for d in exported}["share_men"] == (0, 100)
    assert "min" not in found["share_men"].as_row()  # the API's definition lists its own fields


# --- aggregation of what an older version stored -------------------------------------------------------

def test_a_stored_infinity_is_never_summed_up_the_hierarchy(geo_db, tmp_path):
    """Land use as a version before these checks stored it (1e308 + 1e308 = inf in Rumst): the
    arrondissement of Antwerpen then has no total, not an infinite one."""
    header, rows = read_arrondissement(LAND_2014, "11000")
    root = system(geo_db)
    ops.import_statbel(root, write_pipe(tmp_path / "TF_EAE_LAND_OCCUPTN_2014.txt.gz", header, rows))
    assert stored(geo_db, "land_total_area", "11000", "2014", "arrondiss") is not None
    with geo_db.unguarded_engine.begin() as conn:
        rumst = conn.execute(select(area.c.id).where(area.c.level == LEVEL, area.c.code == RUMST)).scalar_one()
        conn.execute(update(observation).where(observation.c.area_id == rumst,
                                               observation.c.indicator == "land_total_area").values(value=math.inf))
    ops.rederive_all(root)
    assert stored(geo_db, "land_total_area", "11000", "2014", "arrondiss") is None
    assert all(o.value is None or math.isfinite(o.value) for o in all_observations(geo_db) if o.area_id != rumst)


def test_the_import_api_passes_allow_mixed_years(antwerp, population, tmp_path):
    from fastapi.testclient import TestClient

    from obmi.web.app import create_app

    from factories import org, user
    root = system(antwerp)
    org(root, "stad", host=True)
    user(root, "coordinator", "coordinator", org="stad")
    token = ops.create_token(root, "coordinator", scope="write").token
    header, rows = population
    mixed, lines = _boom_in_2013(header, rows)
    path = write_pipe(tmp_path / "TF_SOC_POP_STRUCT_2012.txt.gz", header, mixed)
    client = TestClient(create_app(root.settings, antwerp))

    def post(**form: str):
        with path.open("rb") as handle:
            return client.post("/api/v1/imports", headers={"Authorization": f"Bearer {token}"},
                               data={"kind": "statbel", **form}, files={"file": (path.name, handle, "application/gzip")})
    refused = post()
    assert refused.status_code == 422 and refused.json()["rejected_count"] == len(lines)
    allowed = post(allow_mixed_years="true")
    assert allowed.status_code == 200, allowed.text
    assert any("allow mixed years" in note for note in allowed.json()["notes"])
