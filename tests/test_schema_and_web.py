"""Schema migrations match the table definitions; the demo builds from bundled data and its web
server answers; the API applies disclosure control."""

from __future__ import annotations

import csv
import gzip

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.demo import ACCOUNTS, ORGANISATION
from obmi.store.tables import metadata
from obmi.web.app import create_app

from conftest import SHARED, system


def test_migrations_create_exactly_the_declared_schema(empty_db):
    with empty_db.unguarded_engine.connect() as conn:  # an independent look at the schema
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    status = ops.database_status(system(empty_db))
    assert status.revision == status.head and status.current
    empty_db.dispose()


def flemish_built_area_2014() -> float:
    path = SHARED / "statbel" / "land_use" / "TF_EAE_LAND_OCCUPTN_2014.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return sum(float(r["MS_TOT_SUR"]) for r in csv.DictReader(handle, delimiter="|")
                   if r["CD_RGN_REFNIS"] == "2000" and r["CD_RUB_LVL_2"] == "2TOT")


def test_demo_builds_from_bundled_data_and_serves(demo):
    """`demo` is built by obmi.demo.build_demo from the bundled data (conftest, once per session)."""
    client = TestClient(create_app(demo.settings, demo.db))
    home = client.get("/")
    assert home.status_code == 200 and "Bevolking" in home.text and "Statbel" in home.text
    flanders = client.get("/api/v1/observations", params={"indicator": "pop_total", "level": "gewest", "period": "2015"})
    assert flanders.status_code == 200
    by_code = {r["area_code"]: r for r in flanders.json()["data"]}
    assert by_code["2000"]["value"] == 6444127  # Flanders on 1 January 2015 (Statbel)
    assert flanders.json()["count"] == len(flanders.json()["data"])
    small = client.get("/api/v1/observations", params={"indicator": "pop_non_belgian", "level": "gemeente2018", "period": "2015"})
    herstappe = next(r for r in small.json()["data"] if r["area_code"] == "73028")
    assert herstappe["status"] == "suppressed" and herstappe["value"] is None
    assert client.get("/api/v1/observations", params={"indicator": "nope", "level": "gemeente"}).status_code == 404
    assert client.get("/api/v1/observations", params={"indicator": "pop_total", "level": "gemeente",
                                                      "period": "20x5"}).status_code == 422
    # Land use: hectares with three decimals must not be read as thousands (965.384 ≠ 965384).
    built = client.get("/api/v1/observations", params={"indicator": "land_built_area", "level": "gewest",
                                                       "period": "2014", "area": "2000"}).json()["data"][0]
    assert built["value"] == round(flemish_built_area_2014(), 1)
    shapes = client.get("/api/v1/levels/ggw7/geojson", params={"within": "gemeente:44021"}).json()
    assert len(shapes["features"]) == 25  # the wijken of Gent, in WGS84 around 3.7°E 51.05°N
    lon, lat = shapes["features"][0]["geometry"]["coordinates"][0][0][:2] if \
        shapes["features"][0]["geometry"]["type"] == "Polygon" else shapes["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert 3.5 < lon < 3.9 and 50.9 < lat < 51.2
    levels = {lvl["code"]: lvl for lvl in client.get("/api/v1/levels").json()["data"]}
    assert levels["gemeente"]["areas"] == 308 and levels["gemeente"]["with_geometry"] == 304
    # One demo account per role, in the demo organisation.
    users = ops.list_users(demo)
    assert {u["name"] for u in users} == {name for name, _, _ in ACCOUNTS}
    assert {u["organisation"] for u in users} == {ORGANISATION[0]}
