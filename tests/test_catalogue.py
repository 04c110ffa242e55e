"""The indicator catalogue: YAML/CSV import and export, validation, atomicity, provenance.
Runs on both back ends, each test on its own database, through the operations, as a coordinator of one
organisation (who may write that organisation's definitions)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from obmi import operations as ops
from obmi.context import Context
from obmi.errors import ImportRejected, ValidationError
from obmi.store import Database
from obmi.store.tables import indicator as indicator_table

import factories
from conftest import system

USER = "tester"
ORG = "gent"

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


def _add_tester(setup: Context) -> None:
    factories.org(setup, ORG)
    factories.user(setup, USER, "coordinator", org=ORG, password=None)  # never signs in


def own_database(db_factory, templates) -> Database:
    """A new database of this test's own (a clone of an empty one with ORG and USER)."""
    return db_factory.clone(templates.get(db_factory, "catalogue-tester", _add_tester))


def as_tester(db: Database) -> Context:
    """A context acting as USER, coordinator of ORG, on `db`."""
    return factories.as_user(system(db), USER)


def catalogue_rows(ctx: Context) -> dict[str, dict]:
    return {ind.code: ind.as_row() for ind in ops.list_indicators(ctx)}


def indicator_table_dump(db: Database) -> list[tuple]:
    """Every column, including updated_at: shows any write (read straight from the table)."""
    with db.unguarded_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(indicator_table).order_by(indicator_table.c.code))]


def latest_run(ctx: Context) -> dict:
    return ops.list_imports(ctx, limit=1).data[0]


@pytest.fixture
def ctx(db_factory, templates) -> Iterator[Context]:
    db = own_database(db_factory, templates)
    yield as_tester(db)
    db.dispose()  # its pooled connections: PostgreSQL allows only so many clients


@pytest.fixture
def catalogue_file(tmp_path) -> Path:
    return write(tmp_path, "catalogue.yaml", CATALOGUE)


@pytest.fixture
def loaded(ctx, catalogue_file) -> Context:
    ops.import_catalogue(ctx, catalogue_file)
    return ctx


def reject(ctx: Context, path: Path) -> ImportRejected | ValidationError:
    with pytest.raises(ValidationError) as info:
        ops.import_catalogue(ctx, path)
    return info.value


# --- import -------------------------------------------------------------------------------------

def test_import_yaml_inserts_every_definition(ctx, catalogue_file):
    result = ops.import_catalogue(ctx, catalogue_file)
    assert (result.status, result.stats.inserted, result.stats.rows_in) == ("ok", 5, 5)
    assert set(catalogue_rows(ctx)) == {"hh_people", "hh_count", "hh_mean_size", "hh_per_100", "hh_mean_age"}


def test_imported_definitions_keep_their_fields(loaded):
    rows = catalogue_rows(loaded)
    assert {r["organisation"] for r in rows.values()} == {ORG}  # the importer's organisation
    assert (rows["hh_mean_size"]["aggregation"], rows["hh_mean_size"]["numerator"],
            rows["hh_mean_size"]["denominator"], rows["hh_mean_size"]["decimals"]) == ("ratio", "hh_people", "hh_count", 2)
    assert rows["hh_per_100"]["formula"] == "(hh_people) / hh_count * 100"
    assert (rows["hh_mean_age"]["aggregation"], rows["hh_mean_age"]["weight"]) == ("weighted_mean", "hh_people")
    assert rows["hh_people"]["themes"] == ["demografie", "huishoudens"]
    assert (rows["hh_people"]["is_count"], rows["hh_people"]["threshold"]) == (True, 10)


def test_name_en_defaults_to_name_nl(loaded):
    assert catalogue_rows(loaded)["hh_count"]["name_en"] == "Huishoudens"


def test_import_logs_an_ok_run(loaded):
    run = latest_run(loaded)
    assert (run["kind"], run["status"], run["file_name"], run["user"], run["inserted"]) == \
        ("catalogue", "ok", "catalogue.yaml", USER, 5)


def test_reimporting_the_same_yaml_changes_nothing(loaded, catalogue_file):
    before, version = indicator_table_dump(loaded.db), ops.data_version(loaded)
    result = ops.import_catalogue(loaded, catalogue_file)
    assert (result.status, result.stats.inserted, result.stats.updated, result.stats.unchanged) == ("no_change", 0, 0, 5)
    assert indicator_table_dump(loaded.db) == before
    assert latest_run(loaded)["status"] == "no_change"
    assert ops.data_version(loaded) == version  # nothing changed: caches stay valid


def test_changed_definition_is_updated(loaded, tmp_path):
    path = write(tmp_path, "changed.yaml", CATALOGUE.replace("decimals: 2", "decimals: 3"))
    result = ops.import_catalogue(loaded, path)
    assert (result.status, result.stats.updated, result.stats.unchanged) == ("ok", 1, 4)
    assert catalogue_rows(loaded)["hh_mean_size"]["decimals"] == 3


def test_dry_run_writes_nothing(ctx, catalogue_file):
    version = ops.data_version(ctx)
    result = ops.import_catalogue(ctx, catalogue_file, dry_run=True)
    assert result.status == "dry_run"
    assert catalogue_rows(ctx) == {} and indicator_table_dump(ctx.db) == []
    assert latest_run(ctx)["status"] == "dry_run"
    assert ops.data_version(ctx) == version


@pytest.mark.parametrize("polarity", ["higher_is_better", "higher_is_worse"])
def test_every_valid_polarity_can_be_stored(ctx, tmp_path, polarity):
    # Regression: polarity was String(10), too short for higher_is_better on PostgreSQL.
    path = write(tmp_path, "polarity.yaml", f"- {{code: pol_x, name_nl: X, polarity: {polarity}}}\n")
    assert ops.import_catalogue(ctx, path).status == "ok"
    assert catalogue_rows(ctx)["pol_x"]["polarity"] == polarity


# --- export and round trip ----------------------------------------------------------------------

def test_export_yaml_contains_every_definition(loaded):
    text = ops.export_catalogue(loaded, "yaml")
    assert text.startswith("indicators:")
    for code in catalogue_rows(loaded):
        assert f"code: {code}" in text


def test_export_csv_has_a_header_and_one_row_per_definition(loaded):
    lines = ops.export_catalogue(loaded, "csv").splitlines()
    assert lines[0].startswith("code,name_nl,name_en,")
    assert len(lines) == 1 + 5


def test_export_in_an_unknown_format_is_refused(loaded):
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        ops.export_catalogue(loaded, "xml")


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_exported_catalogue_reimports_identically_into_a_fresh_database(loaded, tmp_path, db_factory, templates, request,
                                                                        fmt):
    exported = tmp_path / f"exported.{fmt}"
    exported.write_text(ops.export_catalogue(loaded, fmt), encoding="utf-8")
    other = as_tester(own_database(db_factory, templates))  # a second fresh database on the same back end
    request.addfinalizer(other.db.dispose)
    result = ops.import_catalogue(other, exported)
    assert (result.status, result.stats.inserted) == ("ok", 5)
    assert catalogue_rows(other) == catalogue_rows(loaded)


def test_exported_csv_reimported_into_the_same_database_is_no_change(loaded, tmp_path):
    exported = tmp_path / "exported.csv"
    exported.write_text(ops.export_catalogue(loaded, "csv"), encoding="utf-8")
    assert ops.import_catalogue(loaded, exported).status == "no_change"


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
    ({"code": "bad_scale", "name_nl": "X", "scale": "lots"}, "scale: Input should be a valid number"),
    ({"code": "no_name"}, "name_nl"),
], ids=["unknown-aggregation", "ratio-numerator-only", "formula-unknown-code", "weighted-mean-no-weight",
        "unsafe-formula", "bad-code", "self-reference", "bad-polarity", "bad-decimals", "bad-scale", "no-name"])
def test_invalid_definition_is_rejected_naming_its_item(ctx, tmp_path, fields, reason):
    error = reject(ctx, write(tmp_path, "bad.yaml", one_bad_item(**fields)))
    assert isinstance(error, ImportRejected)
    assert [line for line, _ in error.rejected] == [6]
    assert reason in error.rejected[0][1]
    assert f"item 6: {error.rejected[0][1]}" in str(error)
    assert "item 6" in str(error) and "nothing imported" in str(error)


def test_duplicate_code_is_rejected_naming_the_second_item(ctx, tmp_path):
    error = reject(ctx, write(tmp_path, "dupe.yaml", one_bad_item(code="hh_count", name_nl="Nog eens")))
    assert error.rejected == [(6, "duplicate indicator hh_count")]
    assert "item 6: duplicate indicator hh_count" in str(error)


def test_circular_formulas_are_rejected(ctx, tmp_path):
    path = write(tmp_path, "circle.yaml", """\
        - {code: circ_a, name_nl: A, aggregation: none, formula: "circ_b * 2"}
        - {code: circ_b, name_nl: B, aggregation: none, formula: "circ_a / 2"}
        """)
    error = reject(ctx, path)
    assert isinstance(error, ImportRejected)
    assert "circular definition: circ_a → circ_b → circ_a" in str(error)


def test_cycle_through_an_existing_definition_is_rejected_and_rolled_back(ctx, tmp_path):
    ops.import_catalogue(ctx, write(tmp_path, "first.yaml", """\
        - {code: cyc_base, name_nl: Basis}
        - {code: cyc_double, name_nl: Dubbel, aggregation: none, formula: "cyc_base * 2"}
        """))
    before = indicator_table_dump(ctx.db)
    error = reject(ctx, write(tmp_path, "second.yaml", """\
        - {code: cyc_base, name_nl: Basis, aggregation: none, formula: "cyc_double / 2"}
        """))
    assert "circular definition" in str(error)
    assert indicator_table_dump(ctx.db) == before
    assert latest_run(ctx)["status"] == "failed"


@pytest.mark.parametrize("text", ["just a string\n", "code: pop\nname_nl: Bevolking\n", "- 1\n- 2\n",
                                  "indicators: 5\n"],
                         ids=["scalar", "mapping-without-indicators", "list-of-numbers", "indicators-not-a-list"])
def test_yaml_that_is_not_a_list_of_definitions_is_refused(ctx, tmp_path, text):
    error = reject(ctx, write(tmp_path, "notalist.yaml", text))
    assert "notalist.yaml: expected a list of indicators" in str(error)


def test_invalid_yaml_is_refused(ctx, tmp_path):
    error = reject(ctx, write(tmp_path, "broken.yaml", "- {code: a, name_nl: [unclosed\n"))
    assert "broken.yaml: not valid YAML" in str(error)


def test_other_file_types_are_refused(ctx, tmp_path):
    error = reject(ctx, write(tmp_path, "catalogue.json", "[]"))
    assert "catalogue files are .yaml, .yml or .csv" in str(error)


def test_csv_problems_are_named_by_line(ctx, tmp_path):
    path = write(tmp_path, "bad.csv", """\
        code,name_nl,aggregation
        csv_ok,Goed,sum
        csv_bad,Slecht,median
        """)
    error = reject(ctx, path)
    assert [line for line, _ in error.rejected] == [3]
    assert error.rejected[0][1].startswith("csv_bad: aggregation 'median'")
    assert "line 3: csv_bad: aggregation 'median'" in str(error)


def test_all_problems_of_a_file_are_reported_together(ctx, tmp_path):
    path = write(tmp_path, "many.yaml", """\
        - {code: many_ok, name_nl: Goed}
        - {code: many_a, name_nl: A, aggregation: median}
        - {code: "Many B", name_nl: B}
        """)
    error = reject(ctx, path)
    assert sorted(line for line, _ in error.rejected) == [2, 3]


# --- a rejected import changes nothing and is logged --------------------------------------------

def test_rejected_import_leaves_the_indicator_table_unchanged(loaded, tmp_path):
    before, version = indicator_table_dump(loaded.db), ops.data_version(loaded)
    # A file that would also update a valid definition and add a new one.
    bad = CATALOGUE.replace("decimals: 2", "decimals: 3") + \
        "  - {code: hh_new, name_nl: Nieuw}\n  - {code: hh_broken, name_nl: Kapot, aggregation: median}\n"
    reject(loaded, write(tmp_path, "bad.yaml", bad))
    assert indicator_table_dump(loaded.db) == before and ops.data_version(loaded) == version


def test_rejected_import_is_logged_as_failed_with_its_rejected_rows(loaded, tmp_path):
    reject(loaded, write(tmp_path, "bad.yaml", one_bad_item(code="bad_agg", name_nl="X", aggregation="median")))
    run = latest_run(loaded)
    assert (run["kind"], run["status"], run["file_name"], run["rows_rejected"]) == ("catalogue", "failed", "bad.yaml", 1)
    assert run["finished"] is not None
    [(line, reason)] = ops.import_details(loaded, run["id"]).rejected
    assert line == 6 and "aggregation 'median'" in reason


def test_refused_file_is_logged_as_failed(ctx, tmp_path):
    reject(ctx, write(tmp_path, "notalist.yaml", "just a string\n"))
    run = latest_run(ctx)
    assert run["status"] == "failed" and "expected a list of indicators" in run["message"]


def test_missing_file_is_refused(ctx, tmp_path):
    error = reject(ctx, tmp_path / "nowhere.yaml")
    assert "file not found" in str(error)
