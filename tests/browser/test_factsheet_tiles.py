"""What only a browser shows of the fact sheet and the dashboard tiles (issue 11): the locator map
draws the area among its neighbours (highlighted, the neighbours linked to their fact sheets); on
a phone every indicator is a card that keeps the reference areas' values in view; a dashboard's
map tile is coloured as its legend says. Figures come from the server's own page and API."""

from __future__ import annotations

import json

from .browser_support import SCREENSHOTS, TIMEOUT_MS

GENT_SHEET = "/gebieden/gemeente/44021"
HIGHLIGHT = "rgb(217, 95, 2)"  # obmi.js HIGHLIGHT, #d95f02
PHONE = {"width": 390, "height": 844}


def locator_fills(page) -> list[str]:
    page.wait_for_selector("#locator[data-ready=true] path.leaflet-interactive", state="attached", timeout=TIMEOUT_MS)
    return page.eval_on_selector_all("#locator path.leaflet-interactive", "ps => ps.map(p => getComputedStyle(p).fill)")


def test_the_locator_map_shows_the_area_among_its_province(page, base_url, api):
    page.goto(base_url + GENT_SHEET)
    fills = locator_fills(page)
    province = api.get("/api/v1/levels/gemeente/geojson", params={"within": "provincie:40000"}).json()["features"]
    assert len(fills) == len(province) > 30
    assert fills.count(HIGHLIGHT) == 1, "Gent alone is highlighted"
    page.shots.take("locator")
    assert page.locator("figure.locator figcaption").inner_text() == "Ligging van Gent in Oost-Vlaanderen"
    # decorative beside the words: nothing in it is a tab stop
    assert page.eval_on_selector_all("#locator a, #locator [tabindex]:not([tabindex='-1'])", "els => els.length") == 0
    # a neighbour's shape opens its fact sheet
    neighbour = next(i for i, fill in enumerate(fills) if fill != HIGHLIGHT)
    page.locator("#locator path.leaflet-interactive").nth(neighbour).dispatch_event("click")
    page.wait_for_url("**/gebieden/gemeente/4*?lang=nl", timeout=TIMEOUT_MS)
    assert "/gebieden/gemeente/44021?" not in page.url


def test_on_a_phone_each_indicator_is_a_card_with_its_reference_values(browser, base_url):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(base_url + GENT_SHEET)
        page.wait_for_load_state("load")
        row = page.locator("table.factsheet tbody tr").first
        assert row.bounding_box()["width"] <= PHONE["width"]
        labels = row.locator("td").evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
        assert '"Oost-Vlaanderen"' in labels and '"Vlaams Gewest"' in labels and '"Verandering"' in labels
        for cell in row.locator("td.num").all():  # every value, the references' too, inside the screen
            box = cell.bounding_box()
            assert box is not None and box["width"] > 0 and box["x"] + box["width"] <= PHONE["width"]
        assert "t.o.v." in row.locator("td.change").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(SCREENSHOTS / "factsheet-tiles-phone-cards.png"), full_page=False)
    finally:
        context.close()


def test_a_dashboard_map_is_coloured_as_its_legend_says(page, base_url):
    page.goto(base_url + "/dashboards/demografie")
    page.wait_for_selector(".tile-map path.leaflet-interactive", state="attached", timeout=TIMEOUT_MS)
    data = json.loads(page.locator("#page-data").text_content())
    tile = next(t for t in data["tiles"] if t["type"] == "map")
    legend = page.locator(".tile-map ul.legend .swatch").evaluate_all(
        "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(legend) == 5
    fills = set(page.eval_on_selector_all(".tile-map path.leaflet-interactive",
                                          "ps => ps.map(p => getComputedStyle(p).fill)"))
    assert set(legend) <= fills, "every legend class is on the map"
    assert fills - set(legend) <= {"rgb(217, 217, 217)"}, "the map uses no colour the legend does not explain"
    assert page.locator(".tile-map .tile-caption").inner_text() == "Gemeenten, " + tile["periods"][-1]
    page.shots.take("map-tile")
