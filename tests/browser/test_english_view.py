"""What only a browser shows of the English view and the region choice (issue 11, defects 6 and
13): the evolution chart, drawn by obmi.js from the JSON API, names the region as the map legend
does ("Flemish Region", not "Vlaams Gewest"); choosing a region in the selector reloads the page
with only that region's areas on the map and in the table."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .browser_support import wait_ready

GENT = "44021"


def series_text(page) -> str:
    return page.locator("#series svg").text_content() or ""


def test_the_english_evolution_chart_names_the_region_as_the_map_legend_does(page, base_url):
    page.goto(f"{base_url}/indicatoren/share_65plus?level=gemeente&lang=en")
    wait_ready(page)
    page.locator(f'#table tbody tr[data-code="{GENT}"]').click()
    page.wait_for_function("() => { const s = document.querySelector('#series svg');"
                           " return s && s.textContent.includes('Gent') && s.textContent.includes('Region'); }")
    text = series_text(page)
    assert "Flemish Region" in text and "Vlaams Gewest" not in text
    assert "Flemish Region: " in page.locator("#map-panel .legend .reference, .legend .reference").first.text_content()
    page.shots.take("english-series")


def test_choosing_brussels_shows_only_its_municipalities_on_map_and_table(page, base_url):
    page.goto(f"{base_url}/indicatoren/land_built_share?level=gemeente&lang=nl")
    wait_ready(page)
    assert page.locator("select[name=region]").input_value() == "2000"
    with page.expect_navigation():
        page.locator("select[name=region]").select_option("4000")
    wait_ready(page)
    assert parse_qs(urlparse(page.url).query)["region"] == ["4000"]
    codes = page.eval_on_selector_all("#table tbody tr", "rows => rows.map(r => r.dataset.code)")
    assert len(codes) == 19 and all(c.startswith("21") for c in codes)
    page.wait_for_function("() => document.querySelectorAll('#map path[data-code]').length > 0")
    shapes = page.eval_on_selector_all("#map path[data-code]", "ps => ps.map(p => p.dataset.code)")
    assert sorted(set(shapes)) == sorted(codes)
    assert "Brussels Hoofdstedelijk Gewest: " in page.locator(".legend .reference").first.text_content()
    page.shots.take("brussels")
