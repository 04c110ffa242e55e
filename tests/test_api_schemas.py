"""The OpenAPI document describes every JSON response with a real schema, and the responses the
API actually gives validate against those schemas (pydantic models of obmi.web.schemas)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from obmi.web import schemas
from obmi.web.app import create_app


@pytest.fixture(scope="module")
def client(loaded_db, settings):
    return TestClient(create_app(settings, loaded_db))


def test_every_api_response_has_a_schema(client):
    spec = client.get("/openapi.json").json()
    empty = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            ok = operation["responses"].get("200", {}).get("content", {})
            schema = next(iter(ok.values()), {}).get("schema", {})
            binary = schema.get("format") == "binary" and all(m.startswith("application/") and m != "application/json"
                                                               for m in ok)  # a file (PDF, XLSX)
            if not (schema.get("$ref") or schema.get("properties") or schema.get("items") or binary):
                empty.append(f"{method.upper()} {path}")
            for status in ("422",):
                assert status in operation["responses"], f"{method.upper()} {path} documents no {status}"
    assert not empty, f"responses without a schema: {empty}"
    assert len(spec["paths"]) >= 10


CASES = [
    ("/api/v1/indicators", schemas.IndicatorList),
    ("/api/v1/indicators/share_65plus?level=gemeente", schemas.IndicatorDetail),
    ("/api/v1/levels", schemas.LevelList),
    ("/api/v1/levels/provincie/geojson", schemas.FeatureCollection),
    ("/api/v1/observations?indicator=share_65plus&level=gemeente&period=2015", schemas.ObservationPage),
    ("/api/v1/series?indicator=pop_total&area=gemeente:44021&ancestors=true", schemas.SeriesList),
    ("/api/v1/factsheets/gemeente/44021", schemas.FactSheetOut),
    ("/api/v1/search?q=gent", schemas.SearchOut),
    ("/api/v1/areas/suggest?q=borsbeek", schemas.AreaSuggestionList),
    ("/api/v1/me", schemas.MeOut),
]


@pytest.mark.parametrize("url, model", CASES, ids=[c[0].split("?")[0] for c in CASES])
def test_responses_match_their_schema(client, url, model):
    response = client.get(url)
    assert response.status_code == 200, response.text
    model.model_validate(response.json())


@pytest.mark.parametrize("url, status", [("/api/v1/indicators/no_such_code", 404),
                                         ("/api/v1/observations?indicator=pop_total&level=nowhere", 404),
                                         ("/api/v1/observations?indicator=pop_total&level=gemeente&period=x", 422),
                                         ("/api/v1/imports", 401)])
def test_errors_match_the_error_schema(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    schemas.ErrorOut.model_validate(response.json())
    if status == 401:
        assert "Bearer" in response.headers["www-authenticate"] and "Basic" in response.headers["www-authenticate"]
