"""Swing upload files (issue 10, points 1–3) through the operations on SQLite and PostgreSQL: the
real Fluvius upload per statistical sector (../shared/data/swing) with totals and ratios computed
here from the file itself; each special value with its aggregation rule; unknown locations in
the regional totals; loaded over computed; the upload options; broken files refused with their
sheet and line, nothing written."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.errors import ImportRejected, ValidationError
from obmi.operations import ObservationQuery
from obmi.web.app import create_app

from conftest import GEO, SHARED, system
from factories import catalogue

FLUVIUS = SHARED / "swing" / "fluvius_verbruik_statsec2019_2018-2021.xlsx"
GEO2024 = SHARED / "geo2024"
OBMI = Path(sys.executable).with_name("obmi")
COUNT = "v2506_elek_res_n"  # residential electricity connections (a count)
CONSUMPTION = "v2506_elek_res_cons"
PER_CONNECTION = "tst_elek_res_per_aansluiting"
FLUVIUS_INDICATORS = [
    {"code": COUNT, "name_nl": "Consumenten elektriciteit residentieel", "is_count": True, "unit": "aantal",
     "threshold": 5},
    {"code": CONSUMPTION, "name_nl": "Consumptie elektriciteit residentieel", "unit": "kwh"},
    {"code": PER_CONNECTION, "name_nl": "Verbruik per aansluiting", "unit": "kwh", "aggregation": "ratio",
     "numerator": CONSUMPTION, "denominator": COUNT, "decimals": 1, "threshold_indicator": COUNT},
]
SPECIAL = -99999.0


def load_geo2024(ctx) -> None:
    ops.import_geography(ctx, GEO)
    ops.import_geography(ctx, GEO2024)


@pytest.fixture
def sectors_db(db_factory, templates, shared_data):
    db = db_factory.clone(templates.get(db_factory, "geo2024", load_geo2024))
    yield db
    db.dispose()


def source_rows() -> list[dict]:
    book = CalamineWorkbook.from_path(str(FLUVIUS))
    table = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    return [dict(zip(table[0], row)) for row in table[1:]]


def expected_per_municipality(rows: list[dict], period: int) -> dict[str, tuple[float | None, float | None]]:
    """(connections, consumption) per municipality from the sector rows: unknown (None) when a
    sector of it says -99999, as Swing computes it."""
    sums: dict[str, list[float | None]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        if int(row["period"]) != period:
            continue
        entry = sums[str(row["geoitem"])[:5]]
        for i, code in enumerate((COUNT, CONSUMPTION)):
            value = row[code]
            entry[i] = None if entry[i] is None or value == SPECIAL else entry[i] + value  # type: ignore[operator]
    return {nis: (v[0], v[1]) for nis, v in sums.items()}


def query(ctx, indicator: str, level: str, period: str) -> dict[str, object]:
    """{area code: observation}; an area without data is there too, with status missing."""
    result = ops.query_observations(ctx, ObservationQuery(indicator, level, period))
    return {o.area_code: o for o in result.rows}


def loaded(ctx, indicator: str, level: str, period: str) -> set[str]:
    """The areas with a value."""
    return {code for code, o in query(ctx, indicator, level, period).items() if o.value is not None}


def test_the_fluvius_upload_imports_totals_and_ratios_equal_the_source(sectors_db, tmp_path):
    root = system(sectors_db)
    catalogue(root, tmp_path, *FLUVIUS_INDICATORS)
    result = ops.import_swing(root, FLUVIUS)
    assert result.status == "ok" and result.stats.inserted == 40_932 * 2
    assert any("ignored" in n and "v2506_gas_res_n" in n for n in result.stats.notes)  # not in this catalogue
    rows = source_rows()
    expected = expected_per_municipality(rows, 2020)
    # The municipalities of 2024 (before the mergers of 2025): a sector's NIS prefix is its municipality.
    connections = query(root, COUNT, "gemeente2024", "2020")
    ratio = query(root, PER_CONNECTION, "gemeente2024", "2020")
    checked = unknown = 0
    for nis in ("44021", "31005", "24062", "11002", "71016", "21004"):  # Gent, Brugge, Leuven, Antwerpen, Genk, Brussel
        count, consumption = expected[nis]
        obs = connections.get(nis)
        if count is None:  # a sector with -99999: the municipality's total is unknown, never a partial sum
            assert obs is None or obs.value is None, nis
            unknown += 1
            continue
        assert obs.value == pytest.approx(count), nis
        assert ratio[nis].value == pytest.approx(consumption / count, abs=0.05), nis  # a ratio of sums, 1 decimal
        checked += 1
    assert checked == 5 and unknown == 1
    # Antwerpen today includes Borsbeek (merged on 1 January 2025): both sums, through the split
    # "sector unknown" areas and the sectors new in 2024.
    merged = query(root, COUNT, "gemeente", "2020")["11002"]
    assert merged.value == pytest.approx(expected["11002"][0] + expected["11007"][0])
    # Brussels' sectors say -99999: no Brussels (nor a Flemish + Brussels) total appears.
    brussels = query(root, COUNT, "gewest", "2020").get("4000")
    assert brussels is None or brussels.value is None
    # Sector counts below the threshold never leave the query layer.
    small = {str(r["geoitem"]) for r in rows if int(r["period"]) == 2020 and 0 < r[COUNT] < 5}
    assert len(small) > 10, "the real file has small connection counts"
    published = query(root, COUNT, "statsec2019", "2020")
    assert all(published[code].value is None for code in small if code in published)
    assert all(published[code].status == "suppressed" for code in small if code in published)
    # The same file again changes nothing.
    again = ops.import_swing(root, FLUVIUS)
    assert again.status == "no_change" and again.stats.unchanged == 40_932 * 2


# --- small uploads on municipalities ----------------------------------------------------------

PROVINCE = "70000"  # Limburg
TEST_COUNT = "tst_inwoners"


def area_codes(ctx, level: str, within: tuple[str, str]) -> list[str]:
    """The areas of a level within an area, as the map shows them (no unknown locations)."""
    features = ops.area_geojson(ctx, level, within=within)["features"]
    return sorted(f["properties"]["code"] for f in features)


def write_upload(path: Path, header: list[str], *sheets: tuple[str, list[list[object]]]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(header)
            writer.writerows(sheets[0][1])
        return path
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def limburg(geo_db, tmp_path):
    root = system(geo_db)
    catalogue(root, tmp_path, {"code": TEST_COUNT, "name_nl": "Inwoners (test)", "is_count": True,
                               "unit": "personen"},
              {"code": "tst_score", "name_nl": "Score (test)", "aggregation": "none"})
    codes = area_codes(root, "gemeente", ("provincie", PROVINCE))
    return {"root": root, "codes": codes, "tmp": tmp_path}


def upload(world, rows: list[list[object]], name: str = "upload.xlsx", **options):
    path = write_upload(world["tmp"] / name, ["period", "geolevel", "geoitem", TEST_COUNT], ("data", rows))
    return ops.import_swing(world["root"], path, **options)


def province_total(world, period: str = "2020"):
    return query(world["root"], TEST_COUNT, "provincie", period).get(PROVINCE)


def base_rows(codes: list[str], period: int = 2020, value: float = 100.0) -> list[list[object]]:
    return [[period, "gemeente", code, value + i] for i, code in enumerate(codes)]


def test_empty_and_not_applicable_parts_contribute_nothing(limburg):
    codes = limburg["codes"]
    assert len(codes) > 30
    rows = base_rows(codes)
    full = sum(r[3] for r in rows)
    for special in (-99996, -99998):
        changed = [r[:] for r in rows]
        changed[0][3] = special
        upload(limburg, changed)
        total = province_total(limburg)
        assert total.value == pytest.approx(full - rows[0][3]) and total.status == "final", special
        assert query(limburg["root"], TEST_COUNT, "gemeente", "2020")[codes[0]].status == \
            {-99996: "empty", -99998: "not_applicable"}[special]
    # Nothing but empty parts: the total is empty too (it has no value, and it is not unknown).
    upload(limburg, [[2020, "gemeente", code, -99996] for code in codes])
    assert province_total(limburg).status == "empty" and province_total(limburg).value is None


def test_hidden_and_unknown_parts_make_the_total_unknown(limburg):
    codes = limburg["codes"]
    for special, status in ((-99997, "suppressed"), (-99999, "missing")):
        rows = base_rows(codes)
        rows[3][3] = special
        upload(limburg, rows)
        total = province_total(limburg)
        assert total is None or total.value is None, special
        assert query(limburg["root"], TEST_COUNT, "gemeente", "2020")[codes[3]].status == status
        flanders = query(limburg["root"], TEST_COUNT, "gewest", "2020").get("2000")
        assert flanders is None or flanders.value is None
    rows = base_rows(codes)
    rows[3][3] = 0  # a real zero is a value
    upload(limburg, rows)
    assert province_total(limburg).value == pytest.approx(sum(r[3] for r in rows))


def test_unknown_locations_count_in_the_regional_total_but_are_no_areas(geo_db, tmp_path):
    root = system(geo_db)
    catalogue(root, tmp_path, {"code": TEST_COUNT, "name_nl": "Inwoners (test)", "is_count": True})
    flemish = [code for province in ("10000", "20001", "30000", "40000", "70000")
               for code in area_codes(root, "gemeente", ("provincie", province))]
    assert len(flemish) == 285  # since the mergers of 1 January 2025
    rows = [[2015, "gemeente", code, 10] for code in flemish] + [[2015, "gemeente", "99991", 7]]
    path = write_upload(tmp_path / "u.csv", ["period", "geolevel", "geoitem", TEST_COUNT], ("u", rows))
    ops.import_swing(root, path)
    flanders = query(root, TEST_COUNT, "gewest", "2015")["2000"]
    assert flanders.value == 10 * len(flemish) + 7  # "somewhere in Flanders" counts in Flanders
    assert "99991" not in query(root, TEST_COUNT, "gemeente", "2015")  # but is never shown as an area
    assert len(loaded(root, TEST_COUNT, "gemeente", "2015")) == 285


def test_a_loaded_higher_level_value_wins_over_the_computed_one(limburg):
    rows = base_rows(limburg["codes"])
    computed = sum(r[3] for r in rows)
    upload(limburg, rows + [[2020, "provincie", PROVINCE, 12345]])
    total = province_total(limburg)
    assert total.value == 12345 and total.origin == "source" and computed != 12345
    # The API says which it is: delivered by the source, or computed from the areas within.
    client = TestClient(create_app(limburg["root"].settings, limburg["root"].db))
    url = f"/api/v1/observations?indicator={TEST_COUNT}&level=provincie&period=2020"
    shown = {r["area_code"]: r for r in client.get(url).json()["data"]}
    assert shown[PROVINCE]["origin"] == "source" and shown[PROVINCE]["value"] == 12345
    assert shown["10000"]["origin"] is None  # Antwerp province: no observation at all
    upload(limburg, rows)  # clears only the gemeente combinations of the file: the province value stays
    assert province_total(limburg).value == 12345
    upload(limburg, rows, clear="all")  # now it is gone, and computed from the municipalities again
    assert province_total(limburg).origin == "aggregated" and province_total(limburg).value == computed
    assert {r["area_code"]: r["origin"] for r in client.get(url).json()["data"]}[PROVINCE] == "aggregated"


def test_the_clear_options_replace_combinations_all_or_nothing(limburg):
    codes = limburg["codes"]
    upload(limburg, base_rows(codes, 2020) + base_rows(codes, 2021))
    # combinations (the default): 2020 at gemeente level is replaced by the file's rows; 2021 stays.
    result = upload(limburg, base_rows(codes[:5], 2020))
    assert result.stats.deleted == len(codes) - 5
    assert loaded(limburg["root"], TEST_COUNT, "gemeente", "2020") == set(codes[:5])
    assert len(loaded(limburg["root"], TEST_COUNT, "gemeente", "2021")) == len(codes)
    # none: nothing is cleared.
    result = upload(limburg, base_rows(codes[5:7], 2020), clear="none")
    assert result.stats.deleted == 0 and len(loaded(limburg["root"], TEST_COUNT, "gemeente", "2020")) == 7
    # all: every value of the indicator that the file does not hold again.
    result = upload(limburg, base_rows(codes[:2], 2021), clear="all")
    assert loaded(limburg["root"], TEST_COUNT, "gemeente", "2020") == set()
    assert loaded(limburg["root"], TEST_COUNT, "gemeente", "2021") == set(codes[:2])
    with pytest.raises(ValidationError):
        upload(limburg, base_rows(codes[:2], 2021), clear="sommige")


def test_duplicates_unknown_areas_and_special_values_follow_the_options(limburg):
    codes = limburg["codes"]
    rows = base_rows(codes[:3]) + [[2020, "gemeente", codes[0], 5]]
    with pytest.raises(ImportRejected) as caught:
        upload(limburg, rows)
    assert caught.value.rejected == [(5, f"sheet data: duplicate: {TEST_COUNT}, gemeente {codes[0]}, 2020 is also "
                                         f"on sheet data line 2")]
    upload(limburg, rows, sum_duplicates=True)
    assert query(limburg["root"], TEST_COUNT, "gemeente", "2020")[codes[0]].value == 105
    rows = base_rows(codes[:3]) + [[2020, "gemeente", "12345", 1]]
    with pytest.raises(ImportRejected) as caught:
        upload(limburg, rows)
    assert caught.value.rejected == [(5, "sheet data: unknown geoitem '12345' for geolevel gemeente")]
    result = upload(limburg, rows, skip_unknown_areas=True)
    assert result.stats.rows_skipped == 1 and any("12345" in n for n in result.stats.notes)
    rows = base_rows(codes[:3])
    rows[1][3] = -99997
    result = upload(limburg, rows, drop_special_values=True, clear="none")
    assert result.stats.rows_skipped == 1
    assert query(limburg["root"], TEST_COUNT, "gemeente", "2020")[codes[1]].status == "final"


def test_every_sheet_imports_and_helper_columns_are_reported(limburg):
    codes = limburg["codes"]
    header = ["geoitem", "naam (te verwijderen)", "period", TEST_COUNT, "geolevel", "tst_score"]
    path = write_upload(limburg["tmp"] / "two.xlsx", header,
                        ("2019", [[c, f"Gemeente {c}", 2019, 10, "gemeente", 1.5] for c in codes]),
                        ("2020", [[c, f"Gemeente {c}", 2020, 20, "gemeente", None] for c in codes]))
    result = ops.import_swing(limburg["root"], path)
    assert result.stats.inserted == 3 * len(codes)  # the empty score cells load nothing
    assert any("naam (te verwijderen)" in n for n in result.stats.notes)
    assert province_total(limburg, "2019").value == 10 * len(codes)
    assert province_total(limburg, "2020").value == 20 * len(codes)
    assert PROVINCE not in loaded(limburg["root"], "tst_score", "provincie", "2019")  # never summed


def test_broken_uploads_name_sheet_and_line_and_write_nothing(limburg):
    codes = limburg["codes"]
    header = ["period", "geolevel", "geoitem", TEST_COUNT]
    good = base_rows(codes[:4])
    path = write_upload(limburg["tmp"] / "broken.xlsx", header, ("goed", good), ("fout", [
        [2020, "gemeente", codes[5], 2.5],         # line 2: a count that is not whole
        [2020, "gemeente", codes[6], -3],          # line 3: a negative count
        [2020, "gemeente", codes[7], "veel"],      # line 4: not a number
        [2020, "wijk", codes[8], 1],               # line 5: unknown level
        ["twintig", "gemeente", codes[9], 1],      # line 6: not a period
        [2020, "gemeente", None, 1],               # line 7: no area
    ]))
    with pytest.raises(ImportRejected) as caught:
        ops.import_swing(limburg["root"], path)
    rejected = dict(caught.value.rejected)
    assert set(rejected) == {2, 3, 4, 5, 6, 7} and all(r.startswith("sheet fout: ") for r in rejected.values())
    assert "whole number" in rejected[2] and "whole number" in rejected[3] and "not a number" in rejected[4]
    assert loaded(limburg["root"], TEST_COUNT, "gemeente", "2020") == set()
    for bad_header in (["period", "geoitem", TEST_COUNT], ["period", "geolevel", "geoitem", "onbekend"]):
        path = write_upload(limburg["tmp"] / "header.csv", bad_header, ("x", [[2020, "gemeente", codes[0], 1]]))
        with pytest.raises(ValidationError):
            ops.import_swing(limburg["root"], path)
    # The command line (a process of its own): exit code 2, the lines in the report, no traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env["OBMI_DATABASE_URL"] = make_url(limburg["root"].db.url).render_as_string(hide_password=False)
    done = subprocess.run([str(OBMI), "import", "swing", str(limburg["tmp"] / "broken.xlsx"), "--report",
                           str(limburg["tmp"] / "rejected.csv")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "nothing imported" in done.stderr
    lines = {row["line"] for row in csv.DictReader((limburg["tmp"] / "rejected.csv").open())}
    assert lines == {"2", "3", "4", "5", "6", "7"}


def test_the_import_api_takes_the_swing_options(limburg):
    from factories import org, user
    root, codes = limburg["root"], limburg["codes"]
    org(root, "stad", "Stad", host=True)
    user(root, "coco", "coordinator", org="stad")
    token = ops.create_token(root, "coco", scope="write").token
    client = TestClient(create_app(root.settings, root.db))
    headers = {"authorization": f"Bearer {token}"}
    first = write_upload(limburg["tmp"] / "eerste.csv", ["period", "geolevel", "geoitem", TEST_COUNT],
                         ("x", base_rows(codes[:4])))
    answer = client.post("/api/v1/imports", headers=headers, data={"kind": "swing"},
                         files={"file": ("eerste.csv", first.read_bytes())})
    assert answer.status_code == 200 and answer.json()["inserted"] == 4, answer.text
    second = write_upload(limburg["tmp"] / "tweede.csv", ["period", "geolevel", "geoitem", TEST_COUNT],
                          ("x", base_rows(codes[:1]) + [[2020, "gemeente", "12345", 1]]))
    refused = client.post("/api/v1/imports", headers=headers, data={"kind": "swing"},
                          files={"file": ("tweede.csv", second.read_bytes())})
    assert refused.status_code == 422 and refused.json()["rejected"][0]["line"] == 3
    answer = client.post("/api/v1/imports", headers=headers,
                         data={"kind": "swing", "clear": "none", "skip_unknown_areas": "true"},
                         files={"file": ("tweede.csv", second.read_bytes())})
    assert answer.status_code == 200 and answer.json()["rows_skipped"] == 1
    assert len(loaded(root, TEST_COUNT, "gemeente", "2020")) == 4  # clear none: nothing was cleared
