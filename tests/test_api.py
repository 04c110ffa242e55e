"""The JSON API and downloads on SQLite and PostgreSQL: the stable observations contract,
pagination, caching (ETag, invalidated by imports), fact sheets, series, GeoJSON, search, and
disclosure control on every channel (JSON, CSV, XLSX). Plus schemathesis: no 5xx for any input."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import select

from obmi import operations as ops
from obmi.store.tables import area, observation
from obmi.web.app import create_app

import factories
from conftest import system


@pytest.fixture(scope="session")
def client(loaded_db, settings):
    return TestClient(create_app(settings, loaded_db))


def observations(client, **params):
    response = client.get("/api/v1/observations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_observations_contract(client):
    body = observations(client, indicator="pop_total", level="provincie", period="2015")
    assert body["count"] == len(body["data"]) > 0
    first = body["data"][0]
    assert {"area_code", "area_name", "period", "value", "status"} <= set(first)
    antwerpen = next(r for r in body["data"] if r["area_code"] == "10000")
    assert antwerpen["value"] == 1794346 and antwerpen["status"] == "final"  # 2025 provinces
    one = observations(client, indicator="pop_total", level="gemeente", period="2015", area="44021")
    assert [(r["area_code"], r["value"]) for r in one["data"]] == [("44021", 253266)]


def test_pagination_keeps_the_total(client):
    full = observations(client, indicator="pop_total", level="gemeente", period="2015")
    page = observations(client, indicator="pop_total", level="gemeente", period="2015", limit=10, offset=20)
    assert page["count"] == full["count"] and page["data"] == full["data"][20:30]


def test_etag_and_cache_control(client):
    url = "/api/v1/observations?indicator=pop_total&level=gewest&period=2014"
    first = client.get(url)
    assert first.headers["cache-control"].startswith("public") and first.headers["etag"]
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def suppressed_raw_values(db, indicator, level, period):
    """The stored (raw) values behind rows the API must show as suppressed (read independently of
    the query layer)."""
    with db.unguarded_engine.connect() as conn:
        rows = conn.execute(select(area.c.code, observation.c.value).join(area, area.c.id == observation.c.area_id)
                            .where(observation.c.indicator == indicator, area.c.level == level,
                                   observation.c.period == period, observation.c.value < 5,
                                   observation.c.value > 0)).all()
    return {r.code: r.value for r in rows}


def test_suppressed_values_do_not_leak_through_json_csv_or_xlsx(client, loaded_db):
    raw = suppressed_raw_values(loaded_db, "pop_non_belgian", "gemeente2018", "2015")
    assert raw, "the real data has municipalities with fewer than 5 non-Belgians"
    params = {"indicator": "pop_non_belgian", "level": "gemeente2018", "period": "2015"}
    api = {r["area_code"]: r for r in observations(client, **params)["data"]}
    text = client.get("/download/observations.csv", params=params).content.decode("utf-8-sig")
    table = {r["area_code"]: r for r in csv.DictReader(io.StringIO(text))}
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/download/observations.xlsx", params=params).content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    xlsx = {row[header.index("area_code")]: row for row in rows}
    for code in raw:
        assert api[code]["status"] == "suppressed" and api[code]["value"] is None
        assert api[code]["numerator"] is None and api[code]["denominator"] is None
        assert table[code]["status"] == "suppressed" and table[code]["value"] == ""
        assert xlsx[code][header.index("value")] is None
    share = observations(client, indicator="share_non_belgian", level="gemeente2018", period="2015")["data"]
    for row in share:
        if row["area_code"] in raw:
            assert row["value"] is None and row["numerator"] is None


def test_downloads_equal_the_api(client):
    params = {"indicator": "share_65plus", "level": "gemeente", "period": "2012"}
    api = observations(client, **params)["data"]
    text = client.get("/download/observations.csv", params=params).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # The download has the stored precision, the API (like the page) the indicator's one decimal.
    assert [(r["area_code"], round(float(r["value"]), 1) if r["value"] else None, r["status"]) for r in rows] == \
        [(r["area_code"], r["value"], r["status"]) for r in api]
    as_json = client.get("/download/observations.json", params=params).json()
    assert [None if r["value"] is None else round(r["value"], 1) for r in as_json["data"]] == [r["value"] for r in api]
    assert [(r["numerator"], r["denominator"]) for r in as_json["data"]] == \
        [(r["numerator"], r["denominator"]) for r in api]


def test_factsheet_has_themes_trends_and_default_references(client):
    sheet = client.get("/api/v1/factsheets/gemeente/44021").json()
    assert sheet["area"]["name"] == "Gent"
    assert [r["code"] for r in sheet["references"]] == ["40000", "2000"]  # Oost-Vlaanderen, Flanders
    figures = {f["indicator"]: f for t in sheet["themes"] for f in t["figures"]}
    pop = figures["pop_total"]
    assert pop["value"] == 253266 and pop["period"] == "2015" and len(pop["series"]) == 6
    assert [r["value"] for r in pop["references"]] == [1496282, 6444127]
    other = client.get("/api/v1/factsheets/gemeente/44021", params={"ref": ["gemeente:11002"]}).json()
    assert [r["name"] for r in other["references"]] == ["Antwerpen"]


def test_series_with_ancestors_and_geojson_and_search(client):
    series = client.get("/api/v1/series", params={"indicator": "pop_total", "area": "gemeente:44021",
                                                  "ancestors": "true"}).json()
    assert {a["code"] for a in series["areas"]} >= {"44021", "40000", "2000"}
    shapes = client.get("/api/v1/levels/provincie/geojson").json()
    assert shapes["type"] == "FeatureCollection" and len(shapes["features"]) == 6
    found = client.get("/api/v1/search", params={"q": "inkomen"}).json()
    assert "inc_mean_per_inhabitant" in [i["code"] for i in found["indicators"]]
    assert "Gent" in [a["name"] for a in client.get("/api/v1/search", params={"q": "gent"}).json()["areas"]]


def test_errors_are_json_with_status(client):
    assert client.get("/api/v1/observations", params={"indicator": "nope", "level": "gemeente"}).status_code == 404
    bad = client.get("/api/v1/observations", params={"indicator": "pop_total", "level": "gemeente", "period": "x"})
    assert bad.status_code == 422 and "period" in bad.json()["errors"]
    assert client.get("/api/v1/factsheets/gemeente/00000").status_code == 404
    assert client.get("/api/v1/series", params={"indicator": "pop_total", "area": "44021"}).status_code == 422


@pytest.fixture
def own_db(geo_db):
    yield geo_db
    geo_db.dispose()  # its pooled connections: PostgreSQL allows only so many clients


def test_imports_invalidate_the_cache(own_db, settings, tmp_path):
    geo_db = own_db
    ctx = system(geo_db)
    factories.catalogue(ctx, tmp_path, {"code": "cache_count", "name_nl": "Cachetest", "aggregation": "sum"})
    api = TestClient(create_app(settings, geo_db))
    data = tmp_path / "d.csv"
    data.write_text("indicator,level,area,period,value\ncache_count,gemeente,44021,2015,10\n")
    ops.import_observations(ctx, data)
    url = "/api/v1/observations?indicator=cache_count&level=gemeente&period=2015&area=44021"
    before = api.get(url)
    data.write_text("indicator,level,area,period,value\ncache_count,gemeente,44021,2015,11\n")
    ops.import_observations(ctx, data)
    after = api.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert before.json()["data"][0]["value"] == 10 and after.json()["data"][0]["value"] == 11


def test_api_never_answers_5xx(loaded_db, settings):
    """Schemathesis generates requests from /openapi.json for every operation (valid and invalid
    parameters); none may end in a server error."""
    app = create_app(settings, loaded_db)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                             derandomize=True)
        def no_server_error(case):
            response = case.call()
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path} {case.query}: {response.text[:300]}"
        no_server_error()
