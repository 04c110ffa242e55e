"""The Swing-compatible read API (docs/swing-api.md) against a running `obmi serve`, on SQLite and
PostgreSQL: the OData lists (levels, areas, period levels, indicators paged with $skip), the
selection table (mrp, one area, a list of areas), disclosure control (a suppressed cell is ""),
access (a non-public indicator does not exist for the public), caching, and the errors.

A city's scripts are the reason for this API, so one test reads the site as the public Python
client of Stad in cijfers does and checks that it gets exactly what the query layer publishes.
The data is real: Statbel population 2014 and 2015 on the shared geography."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.operations import ObservationQuery
from obmi.store import Database
from obmi.store.tables import area, observation

from conftest import BACKENDS, STATBEL, load_geography, system
from factories import catalogue, observations, org, user

POPULATION = [STATBEL / "TF_SOC_POP_STRUCT_2014.txt.gz", STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz"]
SELECTION = "/jive/selectiontableasjson.ashx"
ODATA = "/jiveservices/odata"
# An indicator for the organisation's analysts only; its values are the real 2015 population of
# three municipalities (Statbel TF_SOC_POP_STRUCT_2015).
PRIVATE = {"code": "stad_eigen_telling", "name_nl": "Eigen telling", "is_count": True, "unit": "personen",
           "organisation": "stad", "access": "analysts"}
OWN_VALUES = {"11002": 513570, "31005": 117915, "44021": 253266}
OBMI = Path(sys.executable).with_name("obmi")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


# --- the running server ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`obmi serve` in its own process on a free port, reading the test's database through
    OBMI_DATABASE_URL (and no other OBMI_* setting of whoever runs the tests)."""

    def __init__(self, database_url: str, log: Path):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
        env["OBMI_DATABASE_URL"] = database_url
        with log.open("wb") as out:
            self.process = subprocess.Popen([str(OBMI), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                            env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"obmi serve stopped ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"obmi serve did not answer /healthz within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


@dataclass
class Site:
    url: str
    db: Database
    public: Context  # the anonymous public, in this process: what the query layer publishes
    token: str  # a read token of an analyst of the organisation that owns PRIVATE

    def get(self, path: str, *, params: dict | None = None, token: bool = False,
            headers: dict | None = None) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {self.token}"
        return httpx.get(self.url + path, params=params, headers=sent, timeout=30)

    def json(self, path: str, **kwargs: Any) -> Any:
        response = self.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("application/json")
        return response.json()


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, db_factories, templates, tmp_path_factory, shared_data):
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "geo", load_geography))
    tmp = tmp_path_factory.mktemp("swing")
    root = system(db)
    for path in POPULATION:
        ops.import_statbel(root, path)
    org(root, "stad", "Stad", host=True)
    coordinator = user(root, "coordinator", "coordinator", org="stad")
    catalogue(coordinator, tmp, PRIVATE)
    observations(coordinator, tmp, [{"indicator": PRIVATE["code"], "level": "gemeente", "area": code,
                                     "period": "2015", "value": value} for code, value in OWN_VALUES.items()])
    user(root, "analist", "analyst", org="stad")
    token = ops.create_token(root, "analist", scope="read").token
    server = ServerProcess(db.url, tmp / "server.log")
    try:
        server.wait_ready()
        yield Site(server.url, db, public_context(db, root.settings), token)
    finally:
        server.stop()
        db.dispose()


# --- what a city's script does ------------------------------------------------------------

class SwingClient:
    """A script in the style of the public Python client of Stad in cijfers
    (Team-Data-Antwerpen/stadincijfers.py): lists as {ExternalCode: Name}, indicators read 10 at a
    time until an empty page, the selection table's third column through float()."""

    STEP = 10

    def __init__(self, base_url: str, headers: dict | None = None):
        self.url = base_url.rstrip("/") + "/"
        self.headers = headers or {}

    def _json(self, path: str, params: dict | None = None) -> Any:
        response = httpx.get(self.url + path, params=params, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def _dict(self, path: str) -> dict[str, str]:
        return {n["ExternalCode"]: n["Name"] for n in self._json(path)["value"]}

    def geolevels(self, var: str | None = None) -> dict[str, str]:
        return self._dict(f"jiveservices/odata/Variables('{var}')/GeoLevels" if var else "jiveservices/odata/GeoLevels")

    def periodlevels(self, var: str, geolevel: str) -> dict[str, str]:
        return self._dict(f"jiveservices/odata/Variables('{var}')/GeoLevels('{geolevel}')/PeriodLevels")

    def variables(self) -> dict[str, str]:
        data: list[dict[str, str]] = []
        skip = 0
        while True:
            page = self._json("jiveservices/odata/Variables", {"$skip": skip})["value"]
            if not page:
                return {n["ExternalCode"]: n["Name"] for n in data}
            data += page
            skip += self.STEP

    def values(self, var: str, geolevel: str, period: str = "mrp") -> dict[str, float | None]:
        """{area code: value} of one period, validated first as the client does."""
        assert geolevel in self.geolevels(var) and "year" in self.periodlevels(var, geolevel)
        table = self._json("jive/selectiontableasjson.ashx", {"var": var, "geolevel": geolevel,
                                                              "periodlevel": "year", "period": period})
        assert table["headers"][2]["type"] == "Numeric"
        return {code: self._float(value) for code, _, value in table["rows"]}

    @staticmethod
    def _float(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None


def own_context(site: Site) -> Context:
    """The analyst behind the site's token, in this process."""
    return Context(site.db, site.public.settings, ops.authenticate_token(site.public, site.token))


def published(ctx: Context, indicator: str, level: str, period: str) -> dict[str, float | None]:
    rows = ops.query_observations(ctx, ObservationQuery(indicator, level, period)).rows
    return {r.area_code: r.value for r in rows}


def test_a_swing_script_reads_exactly_what_the_query_layer_publishes(site):
    client = SwingClient(site.url)
    assert client.variables() == {i.code: i.name_nl for i in ops.list_indicators(site.public)}
    for indicator, level, period in (("pop_total", "gemeente", "2015"), ("share_non_belgian", "gemeente2018", "2014"),
                                     ("share_65plus", "provincie", "2015"), ("pop_non_belgian", "gemeente2018", "mrp")):
        expected = published(site.public, indicator, level, "latest" if period == "mrp" else period)
        assert client.values(indicator, level, period) == expected, (indicator, level, period)
    own = SwingClient(site.url, {"Authorization": f"Bearer {site.token}"})
    values = own.values(PRIVATE["code"], "gemeente", "2015")
    assert {code: v for code, v in values.items() if v is not None} == {c: float(v) for c, v in OWN_VALUES.items()}
    assert values == published(own_context(site), PRIVATE["code"], "gemeente", "2015")


# --- the OData lists ------------------------------------------------------------------------

def check_odata_list(body: Any) -> list[tuple[str, str]]:
    """Swing's list shape, field by field; returns (code, name) in order."""
    assert isinstance(body, dict) and list(body) == ["value"] and isinstance(body["value"], list)
    for item in body["value"]:
        assert list(item) == ["ExternalCode", "Name"], item
        assert isinstance(item["ExternalCode"], str) and item["ExternalCode"]
        assert isinstance(item["Name"], str) and item["Name"]
    return [(item["ExternalCode"], item["Name"]) for item in body["value"]]


def test_geo_levels_and_their_areas(site):
    levels = check_odata_list(site.json(f"{ODATA}/GeoLevels"))
    assert levels == [(lvl.code, lvl.name_nl) for lvl in ops.list_levels(site.public)]
    assert ("gemeente", "Gemeente") in levels and ("ggw7", "Wijk") in levels
    provinces = check_odata_list(site.json(f"{ODATA}/GeoLevels('provincie')/GeoItems"))
    assert ("40000", "Oost-Vlaanderen") in provinces and ("70000", "Limburg") in provinces
    assert provinces == [(a.code, a.name) for a in ops.list_areas(site.public, "provincie")]
    municipalities = dict(check_odata_list(site.json(f"{ODATA}/GeoLevels('gemeente')/GeoItems")))
    assert municipalities["44021"] == "Gent" and not any(code.startswith("9999") for code in municipalities)


def test_period_levels(site):
    year = [("year", "Jaar")]
    assert check_odata_list(site.json(f"{ODATA}/PeriodLevels")) == year
    assert check_odata_list(site.json(f"{ODATA}/Variables('pop_total')/GeoLevels('gemeente')/PeriodLevels")) == year
    # A level without data of the indicator has no period levels.
    assert check_odata_list(site.json(f"{ODATA}/Variables('pop_total')/GeoLevels('statsec')/PeriodLevels")) == []


def test_variables_are_paged_with_skip_until_an_empty_page(site):
    codes = [i.code for i in ops.list_indicators(site.public)]
    assert len(codes) > 20
    pages, skip = [], 0
    while True:
        page = check_odata_list(site.json(f"{ODATA}/Variables", params={"$skip": skip}))
        pages.append(page)
        if not page:
            break
        skip += 10
    assert [len(p) for p in pages[:-1]] == [10] * (len(codes) // 10) + ([len(codes) % 10] if len(codes) % 10 else [])
    assert [code for page in pages for code, _ in page] == codes and pages[-1] == []
    assert len(check_odata_list(site.json(f"{ODATA}/Variables", params={"$skip": 3, "$top": 5}))) == 5
    everything = check_odata_list(site.json(f"{ODATA}/Variables", params={"$top": 1000}))
    assert [c for c, _ in everything] == codes and PRIVATE["code"] not in codes  # not public
    with_token = dict(check_odata_list(site.json(f"{ODATA}/Variables", params={"$top": 1000}, token=True)))
    assert with_token[PRIVATE["code"]] == "Eigen telling"


def test_the_levels_of_an_indicator(site):
    levels = check_odata_list(site.json(f"{ODATA}/Variables('pop_total')/GeoLevels"))
    assert [code for code, _ in levels] == ops.indicator_availability(site.public, "pop_total").levels
    assert ("gemeente2018", "Gemeente (tot 2018)") in levels and ("provincie", "Provincie") in levels
    items = check_odata_list(site.json(f"{ODATA}/Variables('pop_total')/GeoLevels('provincie')/GeoItems"))
    assert items == [(a.code, a.name) for a in ops.list_areas(site.public, "provincie")]
    assert site.get(f"{ODATA}/Variables('{PRIVATE['code']}')/GeoLevels").status_code == 404  # the public
    assert check_odata_list(site.json(f"{ODATA}/Variables('{PRIVATE['code']}')/GeoLevels", token=True)) == [
        ("gemeente", "Gemeente")]


# --- the selection table --------------------------------------------------------------------

def selection(site: Site, **params: str) -> dict:
    return site.json(SELECTION, params={"periodlevel": "year", **params})


def check_table(body: Any, name: str) -> list[list[str]]:
    """Swing's table shape, field by field; returns the rows."""
    assert isinstance(body, dict) and list(body) == ["headers", "rows"]
    assert body["headers"] == [{"name": "Geo", "type": "Text"}, {"name": "Perioden", "type": "Text"},
                               {"name": name, "type": "Numeric"}]
    for row in body["rows"]:
        assert isinstance(row, list) and len(row) == 3 and all(isinstance(cell, str) for cell in row), row
        assert row[2] == "" or PLAIN_DECIMAL.fullmatch(row[2]), row  # what float() parses, no separators
    return body["rows"]


def test_the_selection_table_of_one_period(site):
    rows = check_table(selection(site, var="pop_total", geolevel="provincie", period="2015"), "Bevolking")
    assert ["40000", "2015", "1496282"] in rows and ["10000", "2015", "1794346"] in rows
    assert [r[0] for r in rows] == [a.code for a in ops.list_areas(site.public, "provincie")]
    shares = check_table(selection(site, var="share_65plus", geolevel="gemeente", period="2015"),
                         "Aandeel 65-plussers")
    gent = next(value for code, _, value in shares if code == "44021")
    assert gent == f"{published(site.public, 'share_65plus', 'gemeente', '2015')['44021']:.1f}"  # 1 decimal
    assert len(gent.split(".")[1]) == 1


def test_mrp_is_the_most_recent_period(site):
    latest = selection(site, var="pop_total", geolevel="gemeente", period="mrp")
    assert {row[1] for row in check_table(latest, "Bevolking")} == {"2015"}
    assert latest == selection(site, var="pop_total", geolevel="gemeente", period="2015")
    assert latest == site.json(SELECTION, params={"var": "pop_total", "geolevel": "gemeente"})  # the defaults
    older = check_table(selection(site, var="pop_total", geolevel="gemeente", period="2014"), "Bevolking")
    assert {row[1] for row in older} == {"2014"} and older != latest["rows"]


def raw_small_counts(db: Database, indicator: str, level: str, period: str) -> dict[str, float]:
    """Stored values between 0 and 5 (exclusive), read straight from the table: what disclosure
    control must keep from leaving."""
    with db.unguarded_engine.connect() as conn:
        rows = conn.execute(select(area.c.code, observation.c.value).join(area, area.c.id == observation.c.area_id)
                            .where(observation.c.indicator == indicator, area.c.level == level,
                                   observation.c.period == period, observation.c.value > 0,
                                   observation.c.value < 5)).all()
    return {r.code: r.value for r in rows}


def test_a_suppressed_cell_is_an_empty_string(site):
    raw = raw_small_counts(site.db, "pop_non_belgian", "gemeente2018", "2015")
    assert raw, "the real data has municipalities with fewer than 5 non-Belgians"
    rows = {r[0]: r for r in check_table(selection(site, var="pop_non_belgian", geolevel="gemeente2018",
                                                   period="2015"), "Inwoners met een niet-Belgische nationaliteit")}
    statuses = {r.area_code: r.status for r in ops.query_observations(
        site.public, ObservationQuery("pop_non_belgian", "gemeente2018", "2015")).rows}
    for code in raw:
        assert statuses[code] == "suppressed" and rows[code] == [code, "2015", ""]
    assert all(rows[code][2] == "" for code, status in statuses.items() if status != "final")
    one = check_table(selection(site, var="pop_non_belgian", geolevel="gemeente2018", period="2015",
                                geoitem=sorted(raw)[0]), "Inwoners met een niet-Belgische nationaliteit")
    assert one == [[sorted(raw)[0], "2015", ""]]


def test_one_area_and_a_list_of_areas(site):
    one = check_table(selection(site, var="pop_total", geolevel="gemeente", period="2015", geoitem="44021"), "Bevolking")
    assert one == [["44021", "2015", "253266"]]
    some = check_table(selection(site, var="pop_total", geolevel="gemeente", period="2015",
                                 geoitem_codes="44021, 11002"), "Bevolking")
    assert some == [["11002", "2015", "524035"], ["44021", "2015", "253266"]]  # Antwerpen with Borsbeek (2025)
    both = selection(site, var="pop_total", geolevel="gemeente", period="2015", geoitem="31005", geoitem_codes="44021")
    assert [r[0] for r in both["rows"]] == ["31005", "44021"]


def test_a_non_public_indicator_does_not_exist_for_the_public(site):
    params = {"var": PRIVATE["code"], "geolevel": "gemeente", "periodlevel": "year", "period": "2015"}
    refused = site.get(SELECTION, params=params)
    assert refused.status_code == 404 and "error" in refused.json()
    rows = check_table(site.json(SELECTION, params=params, token=True), "Eigen telling")
    assert {code: value for code, _, value in rows if value} == {c: str(v) for c, v in OWN_VALUES.items()}


# --- caching and errors ---------------------------------------------------------------------

def test_etag_and_cache_control_follow_the_api(site):
    params = {"var": "pop_total", "geolevel": "gewest", "period": "2015"}
    first = site.get(SELECTION, params=params)
    assert first.headers["cache-control"].startswith("public") and first.headers["etag"]
    again = site.get(SELECTION, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    lists = site.get(f"{ODATA}/Variables")
    assert lists.headers["etag"] and lists.headers["etag"] != first.headers["etag"]
    private = site.get(SELECTION, params=params, token=True)
    assert private.headers["cache-control"].startswith("private") and private.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize("path, params, status", [
    (SELECTION, {"var": "pop_total", "geolevel": "nergens", "period": "2015"}, 404),
    (SELECTION, {"var": "pop_total", "geolevel": "nergens", "period": "mrp"}, 404),
    (SELECTION, {"var": "geen_indicator", "geolevel": "gemeente", "period": "2015"}, 404),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015", "geoitem": "00000"}, 404),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015", "geosplit": "ggw7"}, 400),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015", "geocompare": "2000"}, 400),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015", "dimlevel": "geslacht"}, 400),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "vorig jaar"}, 400),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015", "periodlevel": "week"}, 400),
    (SELECTION, {"var": "pop_total", "geolevel": "gemeente", "period": "2015-03", "periodlevel": "year"}, 400),
    (SELECTION, {"geolevel": "gemeente"}, 400),
    (f"{ODATA}/GeoLevels('nergens')/GeoItems", {}, 404),
    (f"{ODATA}/Variables('geen_indicator')/GeoLevels", {}, 404),
    (f"{ODATA}/Variables('pop_total')/GeoLevels('nergens')/PeriodLevels", {}, 404),
    (f"{ODATA}/Variables", {"$skip": "-1"}, 400),
    (f"{ODATA}/Variables", {"$top": "0"}, 400),
    (f"{ODATA}/Variables", {"$filter": "Name eq 'Bevolking'"}, 400),
    (f"{ODATA}/CubeVariables('kubus_bevolking')/Dimensions", {}, 400),
    (f"{ODATA}/Onbekend", {}, 404),
    ("/jive/report.ashx", {}, 404),
])
def test_errors_answer_json_without_a_traceback(site, path, params, status):
    response = site.get(path, params=params, headers={"Accept": "text/html"})  # JSON even for a browser
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in response.text


def test_an_invalid_token_is_refused_as_json(site):
    response = site.get(f"{ODATA}/Variables", headers={"Authorization": "Bearer obmi_not-a-token"})
    assert response.status_code == 401 and "error" in response.json()
    assert "Bearer" in response.headers["www-authenticate"]
