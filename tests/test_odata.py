"""The OData v4 service (docs/odata.md) against a running `obmi serve`, on SQLite and PostgreSQL:
an OData client library (python-odata) reads observations with $filter, $select and paging;
$metadata validates against the OASIS CSDL XML schema; raw-protocol tests for every system query
option, the errors (OData error JSON), disclosure control, access with a token (Bearer and HTTP
Basic), caching and the rate limit. The data is real: Statbel population 2014 and 2015 on the
shared geography (the fixture of tests/test_swing_api.py, which reads the same site)."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import test_swing_api
from obmi import operations as ops
from obmi.operations import ObservationQuery
from obmi.settings import load_settings
from obmi.web.app import create_app
from obmi.web.ratelimit import TokenBucket
from test_swing_api import OWN_VALUES, PRIVATE, Site, own_context, raw_small_counts

site = test_swing_api.site  # the same site (a real `obmi serve` on each back end) and data

ODATA = "/odata"
XSD = Path(__file__).with_name("vendor") / "odata-csdl"


def get(site: Site, path: str, **params: Any) -> httpx.Response:
    return site.get(f"{ODATA}/{path}", params=params or None)


def ok(site: Site, path: str, *, token: bool = False, **params: Any) -> Any:
    response = site.get(f"{ODATA}/{path}", params=params or None, token=token)
    assert response.status_code == 200, (path, params, response.status_code, response.text[:500])
    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def error(site: Site, path: str, status: int = 400, **params: Any) -> dict[str, Any]:
    response = get(site, path, **params)
    assert response.status_code == status, (path, params, response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


def published(site: Site, indicator: str, level: str, period: str | None = None, ctx=None) -> dict[tuple, Any]:
    rows = ops.query_observations(ctx or site.public, ObservationQuery(indicator, level, period)).rows
    return {(r.area_code, r.period): (r.value, str(r.status)) for r in rows if r.origin != ""}


def all_pages(site: Site, path: str, prefer: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    headers = {"Prefer": f"odata.maxpagesize={prefer}"}
    response = site.get(f"{ODATA}/{path}", params=params, headers=headers)
    assert response.status_code == 200 and response.headers["Preference-Applied"] == headers["Prefer"]
    body = response.json()
    rows, pages = list(body["value"]), 1
    while "@odata.nextLink" in body:
        assert len(body["value"]) == prefer
        response = httpx.get(body["@odata.nextLink"], headers=headers, timeout=30)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        rows += body["value"]
        pages += 1
    return rows, pages


# --- the service document and $metadata ----------------------------------------------------

def test_the_service_document_lists_the_entity_sets(site):
    body = ok(site, "")
    names = [s["name"] for s in body["value"]]
    assert names[:4] == ["Observations", "Indicators", "Areas", "Periods"]
    assert all(s["kind"] == "EntitySet" and s["url"] == s["name"] for s in body["value"])
    assert body["@odata.context"].endswith("/odata/$metadata")
    assert ok(site, "", token=False) == body


def test_metadata_is_valid_csdl(site):
    import xml.etree.ElementTree as ET

    import xmlschema
    response = get(site, "$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    schema = xmlschema.XMLSchema11(str(XSD / "edmx.xsd"))  # the OASIS CSDL XML schema (tests/vendor/odata-csdl)
    errors = [str(e) for e in schema.iter_errors(response.text)]
    assert not errors, errors[:3]
    document = ET.fromstring(response.content)
    assert document.get("Version") == "4.0"
    ns = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    observation = document.find(".//edm:EntityType[@Name='Observation']", ns)
    props = [p.get("Name") for p in observation.findall("edm:Property", ns)]
    assert {"indicator", "level", "area_code", "area_name", "period", "period_start", "value", "status"} <= set(props)
    assert observation.find("edm:Property[@Name='period_start']", ns).get("Type") == "Edm.Date"
    area = document.find(".//edm:EntityType[@Name='Area']", ns)
    assert area.find("edm:Property[@Name='in_gemeente']", ns) is not None
    # The schema itself catches a broken document (so the check above is not vacuous).
    assert list(schema.iter_errors(response.text.replace('Name="Observation"', 'Name="Obs ervation"')))


# --- what the client library reads -----------------------------------------------------------

def test_an_odata_client_reads_observations_with_filter_select_and_paging(site):
    import requests
    from odata import ODataService
    session = requests.Session()
    session.headers["Prefer"] = "odata.maxpagesize=100"  # server-driven paging in pages of 100
    pages: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: pages.append(r.url))
    service = ODataService(f"{site.url}{ODATA}/", reflect_entities=True, session=session)
    Observation = service.entities["Observations"]
    query = (service.query(Observation)
             .filter(Observation.indicator == "pop_total")
             .filter(Observation.level == "gemeente")
             .filter(Observation.period == "2015")
             .select(Observation.area_code, Observation.value, Observation.status))
    rows = list(query)
    expected = published(site, "pop_total", "gemeente", "2015")
    assert len(rows) == len(expected) > 300
    assert {(r["area_code"], "2015"): (r["value"], r["status"]) for r in rows} == expected
    followed = [u for u in pages if "skiptoken" in u]
    assert len(followed) == len(expected) // 100, pages  # it followed every @odata.nextLink


def test_server_driven_paging_returns_every_row_once(site):
    f = {"$filter": "indicator eq 'pop_total' and level eq 'gemeente'", "$select": "area_code,period,value"}
    expected = published(site, "pop_total", "gemeente")
    full, pages = all_pages(site, "Observations", prefer=100, **f)
    assert len(full) == len(expected) and {(r["area_code"], r["period"]) for r in full} == set(expected)
    assert pages == -(-len(expected) // 100)
    some, pages = all_pages(site, "Observations", prefer=100, **f, **{"$top": "250"})
    assert [(r["area_code"], r["period"]) for r in some] == [(r["area_code"], r["period"]) for r in full[:250]]
    assert pages == 3
    ordered, _ = all_pages(site, "Observations", prefer=100, **f, **{"$orderby": "value desc"})
    assert [r["value"] for r in ordered] == sorted((r["value"] for r in full), reverse=True)  # $skip links


# --- the raw protocol: each option --------------------------------------------------------------

def test_filter_operators(site):
    base = "indicator eq 'pop_total' and level eq 'provincie'"
    def codes(extra: str, **params: Any) -> set[str]:
        body = ok(site, "Observations", **{"$filter": f"{base} and ({extra})", **params})
        return {r["area_code"] for r in body["value"]}
    expected = published(site, "pop_total", "provincie", "2015")
    big = {c for (c, _), (v, _) in expected.items() if v is not None and v > 1_000_000}
    assert codes("period eq '2015' and value gt 1000000") == big
    assert codes("period eq '2015' and value ge 1000000") >= big
    assert codes("period eq '2015' and not (value gt 1000000)") == {c for c, _ in expected} - big
    assert codes("period eq '2015' and (area_code eq '10000' or area_code eq '40000')") == {"10000", "40000"}
    assert codes("period eq '2015' and area_code in ('10000', '40000')") == {"10000", "40000"}
    assert codes("period eq '2015' and area_code ne '10000'") == {c for c, _ in expected} - {"10000"}
    assert codes("period eq '2015' and value lt 500000") == {c for (c, _), (v, _) in expected.items() if v < 500000}
    assert codes("period eq '2015' and value le 0") == set()
    assert codes("contains(area_name, 'Vlaanderen') and period eq '2015'") == {"30000", "40000"}
    assert codes("startswith(area_name, 'Oost') and period eq '2015'") == {"40000"}
    assert codes("endswith(area_name, 'burg') and period eq '2015'") == {"70000"}
    assert codes("contains(tolower(area_name), 'vlaanderen') and period eq '2015'") == {"30000", "40000"}
    assert codes("contains(area_name, 'vlaanderen')") == set()  # case-sensitive, as OData says


def test_dates_filter_the_period_start(site):
    f = "indicator eq 'pop_total' and level eq 'provincie' and "
    only_2015 = ok(site, "Observations", **{"$filter": f + "period_start ge 2015-01-01 and period_start lt 2016-01-01"})
    assert {r["period"] for r in only_2015["value"]} == {"2015"}
    assert {r["period_start"] for r in only_2015["value"]} == {"2015-01-01"}
    as_time = ok(site, "Observations", **{"$filter": f + "period_start_time ge 2015-01-01T00:00:00Z and "
                                                          "period_start_time lt 2016-01-01T00:00:00+00:00"})
    assert as_time["value"] == only_2015["value"]
    assert {r["period_start_time"] for r in as_time["value"]} == {"2015-01-01T00:00:00Z"}
    both = ok(site, "Observations", **{"$filter": f + "period_start le 2015-06-30"})
    assert {r["period"] for r in both["value"]} == {"2014", "2015"}
    none = ok(site, "Observations", **{"$filter": f + "period_start gt 2030-01-01"})
    assert none["value"] == []
    periods = ok(site, "Periods", **{"$filter": "start_date ge 2015-01-01"})
    assert [p["period"] for p in periods["value"]] == ["2015"]
    assert periods["value"][0] == {"period": "2015", "period_type": "year", "year": 2015,
                                   "start_date": "2015-01-01", "end_date": "2015-12-31"}


def test_select_orderby_top_skip_count(site):
    f = {"$filter": "indicator eq 'pop_total' and level eq 'provincie' and period eq '2015'"}
    body = ok(site, "Observations", **f, **{"$select": "area_code,value", "$orderby": "value desc", "$count": "true"})
    assert body["@odata.context"].endswith("$metadata#Observations(area_code,value)")
    values = [r["value"] for r in body["value"]]
    assert values == sorted(values, reverse=True) and all(set(r) == {"area_code", "value"} for r in body["value"])
    assert body["@odata.count"] == len(body["value"]) == len(published(site, "pop_total", "provincie", "2015"))
    by_name = ok(site, "Observations", **f, **{"$orderby": "area_name asc", "$top": "3", "$skip": "2"})
    names = sorted(r["area_name"] for r in ok(site, "Observations", **f)["value"])
    assert [r["area_name"] for r in by_name["value"]] == names[2:5]
    counted = get(site, "Observations/$count", **f)
    assert counted.status_code == 200 and counted.text == str(len(names))


def test_expand_and_entities_by_key(site):
    f = "indicator eq 'pop_total' and level eq 'gemeente' and area_code eq '44021' and period eq '2015'"
    body = ok(site, "Observations", **{"$filter": f, "$expand": "Indicator,Area,Period"})
    [row] = body["value"]
    assert row["Indicator"]["code"] == "pop_total" and row["Indicator"]["name_nl"] == "Bevolking"
    assert row["Area"]["name"] == "Gent" and row["Area"]["in_provincie"] == "40000"
    assert row["Period"]["start_date"] == "2015-01-01"
    one = ok(site, "Observations(indicator='pop_total',level='gemeente',area_code='44021',period='2015')")
    assert one["value"] == row["value"] == 253266 and one["@odata.context"].endswith("#Observations/$entity")
    area = ok(site, "Observations(indicator='pop_total',level='gemeente',area_code='44021',period='2015')/Area")
    assert area["code"] == "44021" and area["level"] == "gemeente"
    assert ok(site, "Indicators('pop_total')")["unit"] == ok(site, "Indicators", **{
        "$filter": "code eq 'pop_total'"})["value"][0]["unit"]
    gent = ok(site, "Areas(level='gemeente',code='44021')")
    assert gent["name"] == "Gent" and gent["in_gemeente"] == "44021" and gent["in_provincie"] == "40000"
    assert error(site, "Areas(level='gemeente',code='nope')", 404)["code"] == "NotFound"


def test_areas_carry_the_codes_of_the_areas_above(site):
    body = ok(site, "Areas", **{"$filter": "level eq 'gemeente' and in_provincie eq '40000'", "$select": "code,name"})
    names = {r["name"] for r in body["value"]}
    assert "Gent" in names and "Antwerpen" not in names
    assert all(not r["code"].startswith("9999") for r in ok(site, "Areas", **{"$filter": "level eq 'gemeente'"})["value"])


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, code", [
    ({"$filter": "nonsense eq 1"}, "UnknownProperty"),
    ({"$filter": "indicator eq"}, "InvalidFilter"),
    ({"$filter": "indicator eq 'a' and"}, "InvalidFilter"),
    ({"$filter": "(indicator eq 'a'"}, "InvalidFilter"),
    ({"$filter": "value eq 'text'"}, "TypeMismatch"),
    ({"$filter": "period_start ge 2015-13-01"}, "InvalidFilter"),
    ({"$filter": "substringof('a', area_name)"}, "NotSupported"),
    ({"$select": "area_code,nope"}, "UnknownProperty"),
    ({"$orderby": "nope desc"}, "UnknownProperty"),
    ({"$orderby": "value sideways"}, "InvalidOption"),
    ({"$top": "-1"}, "InvalidOption"),
    ({"$skip": "x"}, "InvalidOption"),
    ({"$count": "maybe"}, "InvalidOption"),
    ({"$expand": "Nope"}, "UnknownProperty"),
    ({"$frobnicate": "1"}, "InvalidOption"),
    ({"$format": "xml"}, "InvalidOption"),
    ({"$skiptoken": "!!!"}, "InvalidOption"),
])
def test_bad_options_answer_odata_error_json_with_400(site, params, code):
    assert error(site, "Observations", 400, **params)["code"] == code


def test_unsupported_and_unknown_resources(site):
    assert error(site, "Observations", 501, **{"$apply": "groupby((level))"})["code"] == "NotImplemented"
    assert error(site, "Nothing", 404)["code"] == "NotFound"
    assert error(site, "Observations(indicator='pop_total')", 400)["code"] == "InvalidKey"


# --- access, disclosure, caching, rate limit ------------------------------------------------------

def test_suppressed_cells_never_leave(site):
    raw = raw_small_counts(site.db, "pop_non_belgian", "gemeente2018", "2015")
    assert raw
    f = "indicator eq 'pop_non_belgian' and level eq 'gemeente2018' and period eq '2015'"
    rows = {r["area_code"]: r for r in ok(site, "Observations", **{"$filter": f})["value"]}
    for code in raw:
        assert rows[code]["status"] == "suppressed" and rows[code]["value"] is None and rows[code]["reason"]
    # A filter sees the published value too: it cannot probe a withheld number.
    probe = ok(site, "Observations", **{"$filter": f + " and value lt 5"})["value"]
    assert not {r["area_code"] for r in probe} & set(raw)
    counted = ok(site, "Observations", **{"$filter": f + " and status eq 'suppressed'", "$count": "true"})
    assert counted["@odata.count"] >= len(raw)


def test_non_public_indicators_need_a_token(site):
    f = {"$filter": f"indicator eq '{PRIVATE['code']}'"}
    assert ok(site, "Observations", **f)["value"] == []
    assert error(site, f"Indicators('{PRIVATE['code']}')", 404)["code"] == "NotFound"
    bearer = ok(site, "Observations", token=True, **f)["value"]
    assert {r["area_code"]: r["value"] for r in bearer} == OWN_VALUES
    basic = base64.b64encode(f"powerbi:{site.token}".encode()).decode()
    response = site.get(f"{ODATA}/Observations", params=f, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and response.json()["value"] == bearer
    bad = site.get(f"{ODATA}/Observations", params=f, headers={"Authorization": "Bearer obmi_nottoken"})
    assert bad.status_code == 401 and "error" in bad.json() and "Basic" in bad.headers["WWW-Authenticate"]
    assert published(site, PRIVATE["code"], "gemeente", "2015", own_context(site))


def test_answers_carry_validators_tied_to_the_data_version(site):
    path = f"{ODATA}/Observations"
    params = {"$filter": "indicator eq 'pop_total' and level eq 'provincie'"}
    first = site.get(path, params=params)
    assert first.headers["ETag"] and first.headers["Cache-Control"] == "public, max-age=60"
    again = site.get(path, params=params, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    metadata = get(site, "$metadata")
    assert site.get(f"{ODATA}/$metadata", headers={"If-None-Match": metadata.headers["ETag"]}).status_code == 304


@pytest.mark.unit
def test_the_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(60, 3, clock=lambda: now[0])
    assert [bucket.take("a") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("a") == pytest.approx(1.0)
    assert bucket.take("b") == 0  # per client
    now[0] = 1.0
    assert bucket.take("a") == 0 and bucket.take("a") > 0
    assert TokenBucket(0, 1).take("a") == 0  # 0: no limit


def test_over_the_rate_limit_answers_429_with_retry_after(site):
    settings = load_settings({"OBMI_DATABASE_URL": site.db.url, "OBMI_OPEN_DATA_RATE_PER_MINUTE": "6",
                              "OBMI_OPEN_DATA_RATE_BURST": "2"})
    client = TestClient(create_app(settings, site.db))
    assert [client.get(f"{ODATA}/Periods").status_code for _ in range(2)] == [200, 200]
    refused = client.get(f"{ODATA}/Periods")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "TooManyRequests"
    other = client.get(f"{ODATA}/Periods", headers={"Authorization": f"Bearer {site.token}"})
    assert other.status_code == 200  # another client (a token) has its own bucket
    assert date.fromisoformat(other.json()["value"][0]["start_date"])


OPEN_DATA_SERVICES = (f"{ODATA}/Periods", "/catalog.ttl", "/api/v1/jsonstat?indicator=pop_total&level=provincie",
                      "/api/v1/datapackage?indicator=pop_total&level=provincie",
                      "/api/v1/sdmx?indicator=pop_total&level=provincie&format=csv")


@pytest.mark.parametrize("path", OPEN_DATA_SERVICES)
def test_every_open_data_service_counts_against_the_callers_one_limit(site, path):
    settings = load_settings({"OBMI_DATABASE_URL": site.db.url, "OBMI_OPEN_DATA_RATE_PER_MINUTE": "6",
                              "OBMI_OPEN_DATA_RATE_BURST": "2"})
    client = TestClient(create_app(settings, site.db))
    others = [p for p in OPEN_DATA_SERVICES if p != path]
    assert [client.get(p).status_code for p in others[:2]] == [200, 200]  # the burst, spent elsewhere
    refused = client.get(path)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1, path
    assert "too many requests" in str(refused.json())
    token = client.get(path, headers={"Authorization": f"Bearer {site.token}"})
    assert token.status_code == 200, path  # a token has its own bucket
    assert client.get("/api/v1/levels").status_code == 200  # the site's own JSON API is not limited
