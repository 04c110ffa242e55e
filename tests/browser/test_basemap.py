"""The optional base map in a real browser (issue 11). With OBMI_BASEMAP_URL pointing at a tiny
tile server of the test (on a port of its own: another site), every map — the indicator map, a
dashboard's map tile, the fact sheet's locator map — asks it for tiles, lays them under the areas
and credits them; without the setting (the demo) no page asks anything of any other site."""

from __future__ import annotations

import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from obmi.settings import load_settings
from obmi.web.app import create_app

from .browser_support import READY, ROOT, LiveServer, free_port, wait_ready
from .test_accessibility import DRAWN, FAILING_IMPACTS, describe, run_axe

# Any real PNG will do as a tile: Leaflet's own layers icon, vendored with it.
TILE = (ROOT / "src" / "obmi" / "web" / "static" / "vendor" / "images" / "layers.png").read_bytes()
CREDIT = "Testtegels © Stad (proef)"
MAPS = {  # a page with a map → where its map is drawn
    "indicator": ("/indicatoren/share_65plus?area=44021", "#map"),
    "dashboard": ("/dashboards/demografie", ".tile-map [data-tile]"),
    "factsheet": ("/gebieden/gemeente/44021", "#locator"),
}


class TileServer:
    """Answers every GET with the PNG above and remembers the paths asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(TILE)))
                self.end_headers()
                self.wfile.write(TILE)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="tile-server", daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tiles():
    with TileServer() as server:
        yield server


@pytest.fixture(scope="module")
def basemap_url(live_server, tiles, tmp_path_factory):
    """The demo site once more, on the same database, with the test's tile server as base map."""
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path_factory.mktemp("outbox")),
                              "OBMI_BASEMAP_URL": tiles.url + "/tegels/{z}/{x}/{y}.png",
                              "OBMI_BASEMAP_ATTRIBUTION": CREDIT, "OBMI_BASEMAP_OPACITY": "0.8"})
    server = LiveServer(create_app(settings, live_server.server.config.app.state.db), free_port())
    server.start()
    yield server.url
    server.stop()


def tile_box(path: str) -> tuple[float, float, float, float]:
    """West, south, east, north (degrees) of the Web Mercator tile /tegels/z/x/y.png."""
    z, x, y = map(int, re.fullmatch(r"/tegels/(\d+)/(\d+)/(\d+)\.png", path).groups())
    n = 2 ** z
    north, south = (math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n)))) for row in (y, y + 1))
    return x / n * 360 - 180, south, (x + 1) / n * 360 - 180, north


def overlaps(box: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> bool:
    return box[0] < other[2] and box[2] > other[0] and box[1] < other[3] and box[3] > other[1]


BELGIUM = (2.5, 49.5, 6.4, 51.5)
AROUND = (-10.0, 40.0, 20.0, 60.0)  # the most a map of Flanders may show around it


def tile_paths_since(tiles, start: int) -> list[str]:
    return [p for p in tiles.paths[start:] if p.startswith("/tegels/")]


@pytest.mark.parametrize("name", list(MAPS))
def test_every_map_lays_the_base_map_under_its_areas_and_credits_it(page, basemap_url, tiles, name):
    path, selector = MAPS[name]
    start = len(tiles.paths)
    page.goto(basemap_url + path)
    page.wait_for_function(DRAWN)
    the_map = page.locator(selector).first
    the_map.locator("img.leaflet-tile-loaded").first.wait_for(state="attached")
    asked = tile_paths_since(tiles, start)
    # x and y reached the tile server in their places: the tiles cover Belgium, not some ocean.
    assert any(overlaps(tile_box(p), BELGIUM) for p in asked), asked
    assert all(overlaps(tile_box(p), AROUND) for p in asked), asked
    assert CREDIT in the_map.locator(".leaflet-control-attribution").inner_text()
    assert "Statbel" in the_map.locator(".leaflet-control-attribution").inner_text(), "the data's credit stays"
    # The tiles lie under the areas, and the areas let them show through.
    order = the_map.evaluate("""m => {
      const z = (cls) => Number(getComputedStyle(m.querySelector(cls)).zIndex);
      return { tiles: z('.leaflet-tile-pane'), areas: z('.leaflet-overlay-pane'),
               opacity: Number(m.querySelector('.leaflet-tile-pane .leaflet-layer').style.opacity),
               fill: Math.max(...Array.from(m.querySelectorAll('path.leaflet-interactive'))
                                  .map((p) => Number(p.getAttribute('fill-opacity')))) }; }""")
    assert order["tiles"] < order["areas"] and order["opacity"] == 0.8, order
    assert order["fill"] < 0.85, "the areas are drawn lighter over a base map"
    page.shots.take(f"{name}-with-base-map")


def test_the_indicator_page_with_a_base_map_stays_accessible(page, basemap_url):
    page.goto(basemap_url + MAPS["indicator"][0])
    page.wait_for_selector(READY, state="attached")
    page.wait_for_selector("#map img.leaflet-tile-loaded", state="attached")
    failing = [v for v in run_axe(page, "indicator-with-base-map")["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, describe(failing)


@pytest.mark.parametrize("name", list(MAPS))
def test_without_a_base_map_no_request_leaves_the_site(page, base_url, tiles, name):
    path, selector = MAPS[name]
    start = len(tiles.paths)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(base_url + path)
    if name == "indicator":
        wait_ready(page)
    page.wait_for_function(DRAWN)
    page.wait_for_load_state("networkidle")
    site = urlsplit(base_url).netloc
    elsewhere = [u for u in requests if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != site]
    assert requests and not elsewhere, elsewhere
    assert page.locator(f"{selector} .leaflet-control-attribution").first.is_visible()
    assert page.locator(".leaflet-tile").count() == 0 and not tile_paths_since(tiles, start)
    assert page.evaluate("() => typeof window.obmiBaseMap === 'function' && window.obmiBaseMap.enabled") is False
