"""The demo's wijken in a real browser: Gent's wijk map (wijken on the 2020–2024 sectors, with
the bundled Fluvius figures) shows values; hovering and clicking link map, ranking chart and
table; a wijk fact sheet has figures and compares with Gent. Figures come from the JSON API of
the same server, never from the test."""

from __future__ import annotations

from .browser_support import wait_ready
from .test_pages import HIGHLIGHT, bar_fills, dutch, query_of, selected_codes

LEVEL = "ggw72024"
INDICATOR = "vp2506_elek_res_n"  # electricity per residential connection: a ratio of sums
WIJK_MAP = f"/indicatoren/{INDICATOR}?level={LEVEL}&within=gemeente:44021&period=2020"


def published(api) -> dict[str, dict]:
    rows = api.get("/api/v1/observations", params={"indicator": INDICATOR, "level": LEVEL, "period": "2020",
                                                   "within": "gemeente:44021"}).json()["data"]
    return {r["area_code"]: r for r in rows if r["value"] is not None}


def test_the_wijk_map_of_gent_shows_values_and_links_map_chart_and_table(page, base_url, api):
    wijken = published(api)
    assert len(wijken) >= 20, "Gent's wijken have figures"
    page.goto(base_url + WIJK_MAP)
    wait_ready(page)
    page.shots.take("gent-wijken")
    assert page.locator("select[name=level]").input_value() == LEVEL
    # Every wijk with a figure is coloured on the map (not the grey of "no data").
    fills = page.eval_on_selector_all("#map path[data-code]", "ps => ps.map(p => [p.dataset.code, "
                                      "getComputedStyle(p).fill || p.getAttribute('fill')])")
    coloured = {code for code, fill in fills if fill and "217, 217, 217" not in fill and fill != "#d9d9d9"}
    assert set(wijken) <= coloured
    assert page.locator("#table tbody tr").count() == len(wijken)

    code, row = max(wijken.items(), key=lambda item: item[1]["value"])  # the highest value
    cell = page.locator(f'#table tbody tr[data-code="{code}"] td').first.inner_text()
    assert dutch(row["value"], 1) in cell

    page.locator(f'#map path[data-code="{code}"]').hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(state="visible")
    assert row["area_name"].split(" (")[0] in tooltip.inner_text()

    page.locator(f'#map path[data-code="{code}"]').click()
    page.wait_for_function(f"document.querySelector('#table tbody tr[data-code=\"{code}\"]')"
                           ".getAttribute('aria-selected') === 'true'")
    assert selected_codes(page) == [code] and query_of(page.url)["area"] == [code]
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('#chart svg path[fill]'))"
                           f".some(p => p.getAttribute('fill').toLowerCase() === '{HIGHLIGHT}')")
    assert bar_fills(page).count(HIGHLIGHT) == 1
    # The evolution chart has the wijk and its city.
    page.wait_for_function("() => { const s = document.querySelector('#series svg'); return s && "
                           "s.textContent.includes('Gent'); }")
    page.shots.take("wijk-selected")


def test_a_wijk_fact_sheet_has_figures_and_compares_with_gent(page, base_url, api):
    code = sorted(published(api))[0]
    page.goto(f"{base_url}/gebieden/{LEVEL}/{code}")
    page.shots.take("wijk-factsheet")
    lead = page.locator("p.lead").inner_text()
    assert "Gent" in lead and "Vlaams Gewest" in lead
    assert page.locator(".empty-state").count() == 0
    sheet = api.get(f"/api/v1/factsheets/{LEVEL}/{code}").json()
    assert "Gent" in [r["name"] for r in sheet["references"]]
    figures = [f for s in sheet["themes"] for f in s["figures"] if f["value"] is not None]
    assert figures, "the wijk has published figures"
    gent_column = page.locator("table.data thead th", has_text="Gent")
    assert gent_column.count() >= 1
    assert "Fluvius open data" in page.locator("p.sources").inner_text()
