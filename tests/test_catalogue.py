"""The indicator catalogue: YAML/CSV import and export, validation, atomicity, provenance.
Runs on both back ends through `empty_db`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from obmi.errors import ImportRejected, ValidationError
from obmi.imports.runs import list_runs, rejected_rows
from obmi.indicators.catalogue import export_catalogue, import_catalogue, load_catalogue
from obmi.store import Database, open_database
from obmi.store.tables import indicator as indicator_table

USER = "tester"

CATALOGUE = """\
indicators:
  - code: hh_people
    name_nl: Personen in huishoudens
    name_en: People in households
    unit: personen
    themes: [demografie, huishoudens]
    aggregation: sum
    is_count: true
    threshold: 10
  - code: hh_count
    name_nl: Huishoudens
    unit: huishoudens
    themes: [huishoudens]
    aggregation: sum
    is_count: true
  - code: hh_mean_size
    name_nl: Gemiddelde huishoudgrootte
    name_en: Mean household size
    definition_nl: "Personen in huishoudens gedeeld door het aantal huishoudens, bv. 2,3."
    unit: personen
    aggregation: ratio
    numerator: hh_people
    denominator: hh_count
    decimals: 2
    threshold_indicator: hh_count
  - code: hh_per_100
    name_nl: Personen per 100 huishoudens
    aggregation: none
    formula: "(hh_people) / hh_count * 100"
    decimals: 1
    polarity: neutral
  - code: hh_mean_age
    name_nl: Gemiddelde leeftijd
    unit: jaar
    aggregation: weighted_mean
    weight: hh_people
    scale: 1
    polarity: higher_is_worse
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def catalogue_rows(db: Database) -> dict[str, dict]:
    with db.engine.connect() as conn:
        return {code: ind.as_row() for code, ind in load_catalogue(conn).items()}


def indicator_table_dump(db: Database) -> list[tuple]:
    """Every column, including updated_at: shows any write."""
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(indicator_table).order_by(indicator_table.c.code))]


def another_empty_database(db: Database, tmp_path: Path, request) -> Database:
    """A second fresh, migrated database on the same back end as `db`."""
    if db.is_postgres:
        other = open_database(request.getfixturevalue("pg_server").new_database())
    else:
        other = open_database(f"sqlite:///{tmp_path / 'other.db'}")
    other.upgrade()
    request.addfinalizer(other.dispose)
    return other


@pytest.fixture
def catalogue_file(tmp_path) -> Path:
    return write(tmp_path, "catalogue.yaml", CATALOGUE)


@pytest.fixture
def loaded(empty_db, catalogue_file) -> Database:
    import_catalogue(empty_db, catalogue_file, user=USER)
    return empty_db


def reject(db: Database, path: Path) -> ImportRejected | ValidationError:
    with pytest.raises(ValidationError) as info:
        import_catalogue(db, path, user=USER)
    return info.value


# --- import -------------------------------------------------------------------------------------

def test_import_yaml_inserts_every_definition(empty_db, catalogue_file):
    result = import_catalogue(empty_db, catalogue_file, user=USER)
    assert (result.status, result.stats.inserted, result.stats.rows_in) == ("ok", 5, 5)
    assert set(catalogue_rows(empty_db)) == {"hh_people", "hh_count", "hh_mean_size", "hh_per_100", "hh_mean_age"}


def test_imported_definitions_keep_their_fields(loaded):
    rows = catalogue_rows(loaded)
    assert (rows["hh_mean_size"]["aggregation"], rows["hh_mean_size"]["numerator"],
            rows["hh_mean_size"]["denominator"], rows["hh_mean_size"]["decimals"]) == ("ratio", "hh_people", "hh_count", 2)
    assert rows["hh_per_100"]["formula"] == "(hh_people) / hh_count * 100"
    assert (rows["hh_mean_age"]["aggregation"], rows["hh_mean_age"]["weight"]) == ("weighted_mean", "hh_people")
    assert rows["hh_people"]["themes"] == ["demografie", "huishoudens"]
    assert (rows["hh_people"]["is_count"], rows["hh_people"]["threshold"]) == (True, 10)


def test_name_en_defaults_to_name_nl(loaded):
    assert catalogue_rows(loaded)["hh_count"]["name_en"] == "Huishoudens"


def test_import_logs_an_ok_run(loaded):
    run = list_runs(loaded)[0]
    assert (run["kind"], run["status"], run["file_name"], run["user"], run["inserted"]) == \
        ("catalogue", "ok", "catalogue.yaml", USER, 5)


def test_reimporting_the_same_yaml_changes_nothing(loaded, catalogue_file):
    before = indicator_table_dump(loaded)
    result = import_catalogue(loaded, catalogue_file, user=USER)
    assert (result.status, result.stats.inserted, result.stats.updated, result.stats.unchanged) == ("no_change", 0, 0, 5)
    assert indicator_table_dump(loaded) == before
    assert list_runs(loaded)[0]["status"] == "no_change"


def test_changed_definition_is_updated(loaded, tmp_path):
    path = write(tmp_path, "changed.yaml", CATALOGUE.replace("decimals: 2", "decimals: 3"))
    result = import_catalogue(loaded, path, user=USER)
    assert (result.status, result.stats.updated, result.stats.unchanged) == ("ok", 1, 4)
    assert catalogue_rows(loaded)["hh_mean_size"]["decimals"] == 3


def test_dry_run_writes_nothing(empty_db, catalogue_file):
    result = import_catalogue(empty_db, catalogue_file, user=USER, dry_run=True)
    assert result.status == "dry_run"
    assert catalogue_rows(empty_db) == {}
    assert list_runs(empty_db)[0]["status"] == "dry_run"


@pytest.mark.parametrize("polarity", ["higher_is_better", "higher_is_worse"])
def test_every_valid_polarity_can_be_stored(empty_db, tmp_path, polarity):
    # Regression: polarity was String(10), too short for higher_is_better on PostgreSQL.
    path = write(tmp_path, "polarity.yaml", f"- {{code: pol_x, name_nl: X, polarity: {polarity}}}\n")
    assert import_catalogue(empty_db, path, user=USER).status == "ok"
    assert catalogue_rows(empty_db)["pol_x"]["polarity"] == polarity


# --- export and round trip ----------------------------------------------------------------------

def test_export_yaml_contains_every_definition(loaded):
    text = export_catalogue(loaded, "yaml")
    assert text.startswith("indicators:")
    for code in catalogue_rows(loaded):
        assert f"code: {code}" in text


def test_export_csv_has_a_header_and_one_row_per_definition(loaded):
    lines = export_catalogue(loaded, "csv").splitlines()
    assert lines[0].startswith("code,name_nl,name_en,")
    assert len(lines) == 1 + 5


def test_export_in_an_unknown_format_is_refused(loaded):
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        export_catalogue(loaded, "xml")


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_exported_catalogue_reimports_identically_into_a_fresh_database(loaded, tmp_path, request, fmt):
    exported = tmp_path / f"exported.{fmt}"
    exported.write_text(export_catalogue(loaded, fmt), encoding="utf-8")
    other = another_empty_database(loaded, tmp_path, request)
    result = import_catalogue(other, exported, user=USER)
    assert (result.status, result.stats.inserted) == ("ok", 5)
    assert catalogue_rows(other) == catalogue_rows(loaded)


def test_exported_csv_reimported_into_the_same_database_is_no_change(loaded, tmp_path):
    exported = tmp_path / "exported.csv"
    exported.write_text(export_catalogue(loaded, "csv"), encoding="utf-8")
    assert import_catalogue(loaded, exported, user=USER).status == "no_change"


# --- validation ---------------------------------------------------------------------------------

def one_bad_item(**fields: str) -> str:
    """The valid catalogue plus a sixth item with the given fields."""
    item = "\n".join(f"    {k}: {v}" for k, v in fields.items())
    return CATALOGUE + "  - " + item.lstrip() + "\n"


@pytest.mark.parametrize("fields, reason", [
    ({"code": "bad_agg", "name_nl": "X", "aggregation": "median"}, "aggregation 'median' must be one of"),
    ({"code": "half_ratio", "name_nl": "X", "aggregation": "ratio", "numerator": "hh_people"},
     "a ratio needs both numerator and denominator"),
    ({"code": "bad_formula", "name_nl": "X", "aggregation": "none", "formula": '"hh_people / hh_missing"'},
     "refers to unknown indicator 'hh_missing'"),
    ({"code": "bad_weight", "name_nl": "X", "aggregation": "weighted_mean"}, "weighted_mean needs a weight"),
    ({"code": "unsafe", "name_nl": "X", "formula": '"__import__(\'os\').system(\'x\')"'}, "not allowed in a formula"),
    ({"code": '"Pop Total"', "name_nl": "X"}, "code 'Pop Total' must be lower case"),
    ({"code": "self_ref", "name_nl": "X", "formula": '"self_ref * 2"'}, "refers to itself"),
    ({"code": "bad_polarity", "name_nl": "X", "polarity": "up"}, "polarity 'up'"),
    ({"code": "bad_decimals", "name_nl": "X", "decimals": "9"}, "decimals must be between 0 and 6"),
    ({"code": "bad_scale", "name_nl": "X", "scale": "lots"}, "could not convert"),
    ({"code": "no_name"}, "name_nl"),
], ids=["unknown-aggregation", "ratio-numerator-only", "formula-unknown-code", "weighted-mean-no-weight",
        "unsafe-formula", "bad-code", "self-reference", "bad-polarity", "bad-decimals", "bad-scale", "no-name"])
def test_invalid_definition_is_rejected_naming_its_item(empty_db, tmp_path, fields, reason):
    error = reject(empty_db, write(tmp_path, "bad.yaml", one_bad_item(**fields)))
    assert isinstance(error, ImportRejected)
    assert [line for line, _ in error.rejected] == [6]
    assert reason in error.rejected[0][1]
    assert f"item 6: {error.rejected[0][1]}" in str(error)
    assert "item 6" in str(error) and "nothing imported" in str(error)


def test_duplicate_code_is_rejected_naming_the_second_item(empty_db, tmp_path):
    error = reject(empty_db, write(tmp_path, "dupe.yaml", one_bad_item(code="hh_count", name_nl="Nog eens")))
    assert error.rejected == [(6, "duplicate indicator hh_count")]
    assert "item 6: duplicate indicator hh_count" in str(error)


def test_circular_formulas_are_rejected(empty_db, tmp_path):
    path = write(tmp_path, "circle.yaml", """\
        - {code: circ_a, name_nl: A, aggregation: none, formula: "circ_b * 2"}
        - {code: circ_b, name_nl: B, aggregation: none, formula: "circ_a / 2"}
        """)
    error = reject(empty_db, path)
    assert isinstance(error, ImportRejected)
    assert "circular definition: circ_a → circ_b → circ_a" in str(error)


def test_cycle_through_an_existing_definition_is_rejected_and_rolled_back(empty_db, tmp_path):
    import_catalogue(empty_db, write(tmp_path, "first.yaml", """\
        - {code: cyc_base, name_nl: Basis}
        - {code: cyc_double, name_nl: Dubbel, aggregation: none, formula: "cyc_base * 2"}
        """), user=USER)
    before = indicator_table_dump(empty_db)
    error = reject(empty_db, write(tmp_path, "second.yaml", """\
        - {code: cyc_base, name_nl: Basis, aggregation: none, formula: "cyc_double / 2"}
        """))
    assert "circular definition" in str(error)
    assert indicator_table_dump(empty_db) == before
    assert list_runs(empty_db)[0]["status"] == "failed"


@pytest.mark.parametrize("text", ["just a string\n", "code: pop\nname_nl: Bevolking\n", "- 1\n- 2\n",
                                  "indicators: 5\n"],
                         ids=["scalar", "mapping-without-indicators", "list-of-numbers", "indicators-not-a-list"])
def test_yaml_that_is_not_a_list_of_definitions_is_refused(empty_db, tmp_path, text):
    error = reject(empty_db, write(tmp_path, "notalist.yaml", text))
    assert "notalist.yaml: expected a list of indicators" in str(error)


def test_invalid_yaml_is_refused(empty_db, tmp_path):
    error = reject(empty_db, write(tmp_path, "broken.yaml", "- {code: a, name_nl: [unclosed\n"))
    assert "broken.yaml: not valid YAML" in str(error)


def test_other_file_types_are_refused(empty_db, tmp_path):
    error = reject(empty_db, write(tmp_path, "catalogue.json", "[]"))
    assert "catalogue files are .yaml, .yml or .csv" in str(error)


def test_csv_problems_are_named_by_line(empty_db, tmp_path):
    path = write(tmp_path, "bad.csv", """\
        code,name_nl,aggregation
        csv_ok,Goed,sum
        csv_bad,Slecht,median
        """)
    error = reject(empty_db, path)
    assert [line for line, _ in error.rejected] == [3]
    assert error.rejected[0][1].startswith("csv_bad: aggregation 'median'")
    assert "line 3: csv_bad: aggregation 'median'" in str(error)


def test_all_problems_of_a_file_are_reported_together(empty_db, tmp_path):
    path = write(tmp_path, "many.yaml", """\
        - {code: many_ok, name_nl: Goed}
        - {code: many_a, name_nl: A, aggregation: median}
        - {code: "Many B", name_nl: B}
        """)
    error = reject(empty_db, path)
    assert sorted(line for line, _ in error.rejected) == [2, 3]


# --- a rejected import changes nothing and is logged --------------------------------------------

def test_rejected_import_leaves_the_indicator_table_unchanged(loaded, tmp_path):
    before = indicator_table_dump(loaded)
    # A file that would also update a valid definition and add a new one.
    bad = CATALOGUE.replace("decimals: 2", "decimals: 3") + \
        "  - {code: hh_new, name_nl: Nieuw}\n  - {code: hh_broken, name_nl: Kapot, aggregation: median}\n"
    reject(loaded, write(tmp_path, "bad.yaml", bad))
    assert indicator_table_dump(loaded) == before


def test_rejected_import_is_logged_as_failed_with_its_rejected_rows(loaded, tmp_path):
    reject(loaded, write(tmp_path, "bad.yaml", one_bad_item(code="bad_agg", name_nl="X", aggregation="median")))
    run = list_runs(loaded)[0]
    assert (run["kind"], run["status"], run["file_name"], run["rows_rejected"]) == ("catalogue", "failed", "bad.yaml", 1)
    assert run["finished"] is not None
    [(line, reason)] = rejected_rows(loaded, run["id"])
    assert line == 6 and "aggregation 'median'" in reason


def test_refused_file_is_logged_as_failed(empty_db, tmp_path):
    reject(empty_db, write(tmp_path, "notalist.yaml", "just a string\n"))
    run = list_runs(empty_db)[0]
    assert run["status"] == "failed" and "expected a list of indicators" in run["message"]


def test_missing_file_is_refused(empty_db, tmp_path):
    error = reject(empty_db, tmp_path / "nowhere.yaml")
    assert "file not found" in str(error)
