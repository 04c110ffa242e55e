"""The optional base map (issue 11): OBMI_BASEMAP_URL takes an XYZ or a WMTS GetTile template
(the Flemish GRB as the documented example), needs its credit, and is refused with words naming
the variable when Leaflet could not use it. The pages carry it to static/basemap.js on <body>;
without it they carry nothing, so no map asks anything of another site."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from obmi.errors import ValidationError
from obmi.settings import basemap_origin, leaflet_template, load_settings
from obmi.web.app import create_app
from pages_support import get_html

# The Flemish GRB base map as docs/admin-guide.md gives it: a KVP GetTile template of
# geo.api.vlaanderen.be in its Web Mercator matrix set GoogleMapsVL.
GRB = ("https://geo.api.vlaanderen.be/GRB/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=grb_bsk&STYLE="
       "&FORMAT=image/png&TILEMATRIXSET=GoogleMapsVL&TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}")
GRB_CREDIT = "Basiskaart © Digitaal Vlaanderen (GRB)"
XYZ = "https://{s}.tiles.example.org/grijs/{z}/{x}/{y}.png"
BODY = re.compile(r"<body([^>]*)>")


def with_basemap(url: str = GRB, credit: str = GRB_CREDIT, **more: str):
    return load_settings({"OBMI_BASEMAP_URL": url, "OBMI_BASEMAP_ATTRIBUTION": credit, **more})


def refused(environ: dict[str, str]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        load_settings(environ)
    return info.value.errors


# --- the setting ------------------------------------------------------------------------------

def test_there_is_no_base_map_by_default():
    settings = load_settings({})
    assert settings.basemap_url == "" and settings.basemap is None and basemap_origin(settings) is None


def test_a_wmts_template_becomes_leaflets_z_x_y():
    settings = with_basemap()
    config = settings.basemap
    assert config is not None and config["attribution"] == GRB_CREDIT and config["opacity"] == 1.0
    assert "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in config["url"]
    assert "{Tile" not in config["url"] and config["url"].startswith("https://geo.api.vlaanderen.be/GRB/wmts?")
    # A REST template (as a WMTS capabilities document writes its ResourceURL) is taken the same way.
    rest = "https://tiles.stad.be/wmts/basis/GoogleMapsVL/{TileMatrix}/{TileRow}/{TileCol}.png"
    assert leaflet_template(rest) == "https://tiles.stad.be/wmts/basis/GoogleMapsVL/{z}/{y}/{x}.png"


def test_an_xyz_template_stays_as_it_is_with_its_opacity():
    settings = with_basemap(XYZ, "© Stad", OBMI_BASEMAP_OPACITY="0.6")
    assert settings.basemap == {"url": XYZ, "attribution": "© Stad", "opacity": 0.6}


def test_the_content_security_policy_gets_the_tile_origin():
    assert basemap_origin(with_basemap()) == "https://geo.api.vlaanderen.be"
    assert basemap_origin(with_basemap(XYZ, "© Stad")) == "https://*.tiles.example.org"
    assert basemap_origin(with_basemap("http://127.0.0.1:8999/t/{z}/{x}/{y}.png", "test")) == "http://127.0.0.1:8999"


def test_a_base_map_without_its_credit_is_refused_at_startup():
    errors = refused({"OBMI_BASEMAP_URL": GRB})
    assert list(errors) == ["OBMI_BASEMAP_ATTRIBUTION"]
    assert "OBMI_BASEMAP_URL" in errors["OBMI_BASEMAP_ATTRIBUTION"][0]
    assert load_settings({"OBMI_BASEMAP_ATTRIBUTION": "© iemand"}).basemap is None, "a credit alone is harmless"


@pytest.mark.parametrize("url, words", [
    ("ftp://tiles.example.org/{z}/{x}/{y}.png", "http(s)"),
    ("tiles.example.org/{z}/{x}/{y}.png", "http(s)"),
    ("javascript:alert(1)//{z}/{x}/{y}", "http(s)"),
    ("https://tiles.example.org/{z}/{x}.png", "{y}"),
    ("https://tiles.example.org/tiles.png", "{z}"),
    ("https://tiles.example.org/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png", "{TileMatrixSet}"),
    ("https://tiles{s}.example.org/{z}/{x}/{y}.png", "{s}"),
    ("https://{z}.example.org/{z}/{x}/{y}.png", "host"),
    ("https://tiles.example.org/{z}/{x}/{y}.png with spaces", "http(s)"),
])
def test_a_tile_address_leaflet_cannot_use_is_refused_in_words(url, words):
    errors = refused({"OBMI_BASEMAP_URL": url, "OBMI_BASEMAP_ATTRIBUTION": "© x"})
    assert list(errors) == ["OBMI_BASEMAP_URL"]
    assert words in errors["OBMI_BASEMAP_URL"][0], errors


@pytest.mark.parametrize("opacity", ["0", "1.5", "half"])
def test_an_opacity_outside_0_1_to_1_is_refused(opacity):
    assert list(refused({"OBMI_BASEMAP_URL": GRB, "OBMI_BASEMAP_ATTRIBUTION": "x",
                         "OBMI_BASEMAP_OPACITY": opacity})) == ["OBMI_BASEMAP_OPACITY"]


# --- the pages --------------------------------------------------------------------------------

PAGES = ["/indicatoren/share_65plus?area=44021", "/gebieden/gemeente/44021", "/dashboards/demografie", "/"]


def body_attributes(page: str) -> str:
    found = BODY.search(page)
    assert found, "the page has a <body>"
    return found.group(1)


@pytest.fixture(scope="module")
def basemap_client(demo):
    return TestClient(create_app(with_basemap(credit='GRB <b>"Digitaal Vlaanderen"</b>'), demo.db))


@pytest.mark.parametrize("url", PAGES)
def test_a_page_carries_the_base_map_and_its_credit_when_one_is_set(basemap_client, url):
    page = get_html(basemap_client, url)
    found = re.search(r"data-basemap='([^']*)'", body_attributes(page))
    assert found, "the base map rides on <body data-basemap>"
    config = json.loads(html.unescape(found.group(1)))
    assert config["url"] == leaflet_template(GRB)
    assert config["attribution"] == 'GRB <b>"Digitaal Vlaanderen"</b>', "the credit arrives as written (as text)"
    assert "<b>" not in found.group(1), "the credit cannot break out of the attribute"
    assert '<script src="/static/basemap.js' in page


@pytest.mark.parametrize("url", PAGES)
def test_without_a_base_map_a_page_names_no_tile_server(client, url):
    page = get_html(client, url)
    assert "data-basemap" not in body_attributes(page)
    assert "geo.api.vlaanderen.be" not in page and "{z}" not in page
    # Every script, style sheet and image of the page comes from the site itself.
    loaded = (re.findall(r'<(?:script|img|iframe)\b[^>]*\bsrc="([^"]*)"', page)
              + re.findall(r'<link\b[^>]*\bhref="([^"]*)"', page))
    assert loaded and all(u.startswith("/") and not u.startswith("//") for u in loaded), loaded
