"""Access levels of statistics, on real sector-level data (Fluvius open data per statistical
sector, Gent, 2020): an indicator public only from municipality level up shows its sectors to
the analysts of its organisation and to nobody else — on pages, the API, downloads and the PDF —
and an analysts-only indicator does not exist at all for the public (404, never 403).

Access is decided in the query layer (obmi.query.visibility), so every channel obeys it."""

from __future__ import annotations

import csv
import io
import subprocess

import openpyxl
import pytest
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.web.app import create_app

from conftest import FLUVIUS, GEO, GEO2024, system
from factories import catalogue, observations, org, user

PERIOD = 2020
CONNECTIONS = "v2506_elek_res_n"  # residential electricity connections: a count, many below 5
CONSUMPTION = "v2506_elek_res_cons"  # residential electricity consumption (kWh)
PUBLIC_FROM_GEMEENTE = {"code": "fluvius_elek_res_n", "name_nl": "Residentiële aansluitingen elektriciteit",
                        "unit": "aansluitingen", "is_count": True, "organisation": "stad",
                        "public_from_level": "gemeente",
                        "source": "Fluvius open data (verbruiksgegevens per statistische sector), verwerking "
                                  "Provincies in Cijfers"}
FOR_A_GROUP = {"code": "fluvius_gas_res_n", "name_nl": "Residentiële aansluitingen gas", "unit": "aansluitingen",
               "is_count": True, "organisation": "stad", "access": "groups", "access_groups": ["wijkteam"]}
GAS_CONNECTIONS = "v2506_gas_res_n"
ANALYSTS_ONLY = {"code": "fluvius_elek_res_cons", "name_nl": "Residentieel elektriciteitsverbruik", "unit": "kWh",
                 "organisation": "stad", "access": "analysts", "source": PUBLIC_FROM_GEMEENTE["source"]}


def gent_sectors() -> dict[str, dict[str, float]]:
    """{sector code: {column: value}} of Gent (pre-2019 code 44021) in PERIOD, from the real file."""
    workbook = openpyxl.load_workbook(FLUVIUS, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = list(next(rows))
    found = {}
    for row in rows:
        record = dict(zip(header, row))
        if str(record["geoitem"]).startswith("44021") and int(record["period"]) == PERIOD:
            found[str(record["geoitem"])] = record
    workbook.close()
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, db_factories, templates, tmp_path_factory, shared_data):
    def geography(ctx):
        ops.import_geography(ctx, GEO)
        ops.import_geography(ctx, GEO2024)
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "geo+2024", geography))
    tmp = tmp_path_factory.mktemp("access")
    root = system(db)
    org(root, "stad", "Stad Gent", host=True)
    org(root, "buur", "Buurgemeente")
    coordinator = user(root, "coordinator", "coordinator", org="stad")
    catalogue(coordinator, tmp, PUBLIC_FROM_GEMEENTE, ANALYSTS_ONLY, FOR_A_GROUP)
    sectors = gent_sectors()
    rows = [{"indicator": ind["code"], "level": "statsec2019", "area": code, "period": PERIOD, "value": r[column]}
            for code, r in sectors.items() for ind, column in ((PUBLIC_FROM_GEMEENTE, CONNECTIONS),
                                                               (ANALYSTS_ONLY, CONSUMPTION),
                                                               (FOR_A_GROUP, GAS_CONNECTIONS))]
    observations(coordinator, tmp, rows)
    user(root, "analist", "analyst", org="stad")
    user(root, "analist_buur", "analyst", org="buur")
    user(root, "wijkwerker", "reader", org="stad", groups=["wijkteam"])
    user(root, "lezer", "reader", org="stad")
    tokens = {name: ops.create_token(root, name, scope="read").token
              for name in ("analist", "analist_buur", "wijkwerker", "lezer")}
    client = TestClient(create_app(root.settings, db))
    return {"db": db, "client": client, "tokens": tokens, "sectors": sectors, "tmp": tmp}


def get(world, url: str, who: str | None = None, html: bool = False):
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"} if who else {}
    if html:
        headers["Accept"] = "text/html"
    return world["client"].get(url, headers=headers)


def observations_url(code: str, level: str, **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"indicator": code, "level": level, "period": PERIOD, **extra}.items())
    return f"/api/v1/observations?{query}"


def test_the_analyst_sees_sectors_with_disclosure_control(world):
    response = get(world, observations_url("fluvius_elek_res_n", "statsec2019"), "analist")
    assert response.status_code == 200
    rows = {r["area_code"]: r for r in response.json()["data"]}
    sectors = world["sectors"]
    for code, record in sectors.items():
        raw = record[CONNECTIONS]
        if code.endswith("ZZZZ"):  # "sector unknown": counts in Gent's total, is never shown as an area
            assert code not in rows
        elif 0 < raw < 5:
            assert rows[code]["status"] == "suppressed" and rows[code]["value"] is None, code
        else:
            assert rows[code]["value"] == raw, code
    assert any(0 < r[CONNECTIONS] < 5 for r in sectors.values()), "the real data has small counts"


@pytest.mark.parametrize("who", [None, "analist_buur"], ids=["public", "other-organisation"])
def test_others_see_the_indicator_only_from_municipality_level_up(world, who):
    fine = get(world, observations_url("fluvius_elek_res_n", "statsec2019"), who)
    assert fine.status_code == 403 and "gemeente" in fine.json()["detail"]
    for level in ("ggw72024", "statsec2024"):
        assert get(world, observations_url("fluvius_elek_res_n", level), who).status_code == 403
    coarse = get(world, observations_url("fluvius_elek_res_n", "gemeente", area="44021"), who)
    assert coarse.status_code == 200
    [gent] = coarse.json()["data"]
    assert gent["value"] == sum(r[CONNECTIONS] for r in world["sectors"].values())
    levels = get(world, "/api/v1/indicators/fluvius_elek_res_n", who).json()["levels"]
    assert "gemeente" in levels and not {"statsec2019", "statsec2024", "ggw72024"} & set(levels)
    analyst_levels = get(world, "/api/v1/indicators/fluvius_elek_res_n", "analist").json()["levels"]
    assert {"statsec2019", "gemeente"} <= set(analyst_levels)


@pytest.mark.parametrize("who", [None, "analist_buur"], ids=["public", "other-organisation"])
def test_an_analysts_only_indicator_does_not_exist_for_others(world, who):
    code = "fluvius_elek_res_cons"
    assert get(world, observations_url(code, "gemeente"), who).status_code == 404
    assert get(world, f"/api/v1/indicators/{code}", who).status_code == 404
    assert code not in {i["code"] for i in get(world, "/api/v1/indicators", who).json()["data"]}
    assert code not in {i["code"] for i in get(world, "/api/v1/search?q=elektriciteitsverbruik", who).json()["indicators"]}
    page = get(world, f"/indicatoren/{code}", who, html=True)
    assert page.status_code == 404 and "elektriciteitsverbruik" not in page.text.lower()
    assert get(world, f"/download/observations.csv?indicator={code}&level=gemeente", who).status_code == 404
    sheet = get(world, "/api/v1/factsheets/gemeente/44021", who).json()
    assert code not in {f["indicator"] for t in sheet["themes"] for f in t["figures"]}
    # …while its own analysts see it everywhere.
    assert get(world, observations_url(code, "statsec2019"), "analist").status_code == 200
    assert code in {i["code"] for i in get(world, "/api/v1/indicators", "analist").json()["data"]}


def test_downloads_follow_the_same_rule(world):
    url = f"/download/observations.csv?indicator=fluvius_elek_res_n&level=statsec2019&period={PERIOD}"
    assert get(world, url).status_code == 403
    analyst = get(world, url, "analist")
    assert analyst.status_code == 200
    rows = list(csv.DictReader(io.StringIO(analyst.content.decode("utf-8-sig"))))
    assert {r["area_code"] for r in rows if r["status"] != "missing"} == \
        {code for code in world["sectors"] if not code.endswith("ZZZZ")}  # unknown locations are no areas
    public = get(world, url.replace("statsec2019", "gemeente") + "&area=44021")
    assert public.status_code == 200 and "Gent" in public.text


def test_pages_follow_the_same_rule(world):
    url = "/indicatoren/fluvius_elek_res_n?level=statsec2019"
    assert get(world, url, html=True).status_code == 403
    assert get(world, url, "analist", html=True).status_code == 200
    sector = next(iter(world["sectors"]))
    public_sheet = get(world, f"/gebieden/statsec2019/{sector}", html=True)
    assert public_sheet.status_code == 200 and "aansluitingen" not in public_sheet.text.lower()
    assert "aansluitingen" in get(world, f"/gebieden/statsec2019/{sector}", "analist", html=True).text.lower()


def test_the_pdf_follows_the_same_rule(world, tmp_path):
    sector = next(code for code, r in world["sectors"].items() if r[CONNECTIONS] >= 5)
    name = "Residentiële aansluitingen"

    def pdf_text(who):
        response = get(world, f"/gebieden/statsec2019/{sector}.pdf", who)
        assert response.status_code == 200
        path = tmp_path / f"{who or 'public'}.pdf"
        path.write_bytes(response.content)
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout

    assert name not in pdf_text(None)
    analyst = pdf_text("analist")
    assert name in analyst
    assert f"{int(world['sectors'][sector][CONNECTIONS]):,}".replace(",", ".") in analyst


def test_a_group_indicator_is_seen_by_its_group_only(world):
    url = observations_url("fluvius_gas_res_n", "gemeente", area="44021")
    expected = sum(r[GAS_CONNECTIONS] for r in world["sectors"].values())
    for who in ("wijkwerker", "analist"):
        response = get(world, url, who)
        assert response.status_code == 200, who
        assert response.json()["data"][0]["value"] == expected
    for who in (None, "lezer", "analist_buur"):
        assert get(world, url, who).status_code == 404, who
