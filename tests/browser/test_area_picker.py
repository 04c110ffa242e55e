"""The area picker in a real browser (issue 11, defect 1): type-ahead as an ARIA combobox
(aria-expanded, aria-activedescendant, arrow keys, Enter, Escape) on compare and dashboards, the
tree as the second way in, and the indicator page keeping the chosen area when the period or
level changes, with its selectors matching the map after Back. Suggestions come from the JSON
API of the same server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from .browser_support import wait_ready
from .test_accessibility import FAILING_IMPACTS, describe, run_axe

COMBO = "#compare-picker-input"


def params_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def test_typing_a_former_municipality_adds_todays_area_with_the_keyboard(page, base_url):
    page.goto(base_url + "/vergelijk?area=gemeente:44021")
    combo = page.locator(COMBO)
    assert combo.get_attribute("role") == "combobox" and combo.get_attribute("aria-expanded") == "false"
    combo.fill("Borsb")
    options = page.locator("#compare-picker-input-options [role=option]")
    options.first.wait_for()
    assert combo.get_attribute("aria-expanded") == "true"
    assert options.first.inner_text() == "Borsbeek → Antwerpen (sinds 2025)"
    combo.press("ArrowDown")
    assert combo.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert options.first.get_attribute("aria-selected") == "true"
    combo.press("Enter")  # chooses; does not send the form
    assert combo.get_attribute("aria-expanded") == "false" and combo.input_value() == ""
    chosen = page.locator('.picked input[name=area]:checked')
    assert [chosen.nth(i).get_attribute("value") for i in range(chosen.count())] == ["gemeente:44021",
                                                                                     "gemeente:11002"]
    # The tree follows: Antwerpen is ticked there too.
    assert page.locator('input[data-tree-key="gemeente:11002"]').is_checked()
    page.shots.take("compare-picked")
    page.get_by_role("button", name="Vergelijk").click()
    page.wait_for_load_state("load")
    assert params_of(page.url)["area"] == ["gemeente:44021", "gemeente:11002"]
    assert page.locator("table.data thead a", has_text="Antwerpen").count() == 1


def test_escape_closes_the_suggestions_and_the_tree_chooses_too(page, base_url):
    page.goto(base_url + "/vergelijk?area=gemeente:44021")
    combo = page.locator(COMBO)
    combo.fill("vlaanderen")
    page.locator("#compare-picker-input-options [role=option]").first.wait_for()
    combo.press("Escape")
    assert combo.get_attribute("aria-expanded") == "false"
    assert page.locator("#compare-picker-input-options").is_hidden()
    page.locator(".area-tree > summary").click()
    page.locator(".area-tree details > summary", has_text="Vlaams Gewest").first.click()
    page.locator('input[data-tree-key="gewest:2000"]').check()
    page.locator('.area-tree details > summary', has_text="Oost-Vlaanderen").click()
    page.locator('.area-tree details > summary', has_text=re.compile(r"^Gent \(")).click()  # Gent and its wijken
    page.locator('input[data-tree-key="gemeente:44021"]').uncheck()  # unticking removes Gent
    page.get_by_role("button", name="Vergelijk").click()
    page.wait_for_load_state("load")
    assert params_of(page.url)["area"] == ["gewest:2000"]


def test_choosing_a_dashboard_area_shows_it_at_once(page, base_url):
    page.goto(base_url + "/dashboards/demografie")
    combo = page.locator("#dashboard-picker-input")
    combo.fill("sint nik")
    page.locator("#dashboard-picker-input-options [role=option]").first.wait_for()
    with page.expect_navigation():
        combo.press("Enter")
    assert params_of(page.url)["area"] == ["gemeente:46021"]
    assert page.locator('.picked input[name=area]').get_attribute("value") == "gemeente:46021"


def test_the_indicator_page_keeps_the_chosen_area_and_matches_the_map_after_back(page, base_url):
    page.goto(base_url + "/indicatoren/share_65plus?level=gemeente")
    wait_ready(page)
    page.locator('#table tbody tr[data-code="44021"]').click()  # the page came without an area
    period = page.locator("select[name=period]")
    shown = period.input_value()
    earlier = [o for o in page.locator("select[name=period] option").all_inner_texts() if o != shown][0]
    with page.expect_navigation():
        period.select_option(label=earlier)
    wait_ready(page)
    assert params_of(page.url)["area"] == ["44021"], "the area survives a change of period"
    assert page.locator('#table tbody tr[data-code="44021"]').get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        page.locator("select[name=level]").select_option("provincie")
    wait_ready(page)
    # Up a level the choice becomes the area that contains it: Gent → Oost-Vlaanderen.
    assert params_of(page.url).get("area") == ["40000"], "a level change keeps the area it lies in"
    assert page.locator('#table tbody tr[data-code="40000"]').get_attribute("aria-selected") == "true"
    page.go_back()
    wait_ready(page)
    # The selectors say what the map and the table show, and can be used again.
    assert page.locator("select[name=level]").input_value() == "gemeente"
    assert params_of(page.url)["area"] == ["44021"]
    assert page.locator("select[name=period]").input_value() == params_of(page.url)["period"][0]
    assert page.locator("select[name=period]").is_enabled()


def test_the_open_picker_has_no_accessibility_violations(page, base_url):
    page.goto(base_url + "/vergelijk?area=gemeente:44021")
    page.locator(".area-tree > summary").click()  # the tree open too (the suggestions will cover it)
    page.locator(COMBO).fill("gent")
    page.locator("#compare-picker-input-options [role=option]").first.wait_for()
    page.locator(COMBO).press("ArrowDown")
    page.shots.take("picker-open")
    results = run_axe(page, "compare-picker-open")
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, describe(failing)
