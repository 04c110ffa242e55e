"""The indicator page's map, ranking and table for keyboard and animation (issue 11): a keyboard
user reaches the downloads in a few Tab presses (map and table are one tab stop each, skip links
at the start), moves through the map with the arrow keys (each area announced), sees the ranking's
top and bottom with the chosen area in its place, moves through the periods with a slider that
recolours map, ranking and table without reloading, chooses custom classes, and reads time
series on a time axis with gaps. Figures come from the JSON API of the same server."""

from __future__ import annotations

import re

from .browser_support import wait_ready
from .test_pages import GENT, HIGHLIGHT, dutch, query_of, selected_codes

INDICATOR = "share_65plus"
GEMEENTE_URL = f"/indicatoren/{INDICATOR}?level=gemeente"
TOP_AND_BOTTOM = 10
ACTIVE = "() => { const e = document.activeElement; return {tag: e.tagName, id: e.id, text: (e.textContent || '')" \
         ".trim(), code: e.dataset ? e.dataset.code || null : null, href: e.getAttribute('href') || ''}; }"


def open_page(page, base_url: str, path: str = GEMEENTE_URL) -> None:
    page.goto(base_url + path)
    wait_ready(page)


def observations(api, period: str | None = None, region: str | None = None) -> list[dict]:
    """The API's rows; with `region` those of the areas in it, as the page (its region choice) shows."""
    params = {"indicator": INDICATOR, "level": "gemeente", "limit": 50000}
    if period:
        params["period"] = period
    if region:
        params["region"] = region
    return api.get("/api/v1/observations", params=params).json()["data"]


def page_data(page) -> dict:
    return page.evaluate("() => JSON.parse(document.getElementById('page-data').textContent)")


def periods(api) -> list[str]:
    return api.get(f"/api/v1/indicators/{INDICATOR}", params={"level": "gemeente"}).json()["periods"]


def bar_fills(page) -> list[str]:
    """The fills of the ranking's bars (not of the chart's transparent background)."""
    return [f for f in page.eval_on_selector_all("#chart svg .mark-rect path[fill]",
                                                 "ps => ps.map(p => p.getAttribute('fill').toLowerCase())")]


def hovered_code(page) -> str | None:
    return page.evaluate("() => { const r = document.querySelector('#table tbody tr.hover');"
                         " return r ? r.dataset.code : null; }")


def centre(page, code: str) -> tuple[float, float]:
    box = page.evaluate(f"() => {{ const b = document.querySelector('#map path[data-code=\"{code}\"]')"
                        ".getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; }")
    return box[0], box[1]


def test_tab_from_the_page_start_reaches_the_csv_download_in_at_most_15_presses(page, base_url):
    open_page(page, base_url)
    presses = 0
    while presses < 15:
        page.keyboard.press("Tab")
        presses += 1
        active = page.evaluate(ACTIVE)
        if active["tag"] == "A" and active["text"] == "CSV":
            break
        if active["href"] == "#downloads":  # the skip link: follow it, as a keyboard user does
            page.keyboard.press("Enter")
    else:
        raise AssertionError(f"after 15 Tab presses focus is on {page.evaluate(ACTIVE)}, not on CSV")
    assert "/download/observations.csv" in active["href"] and "level=gemeente" in active["href"]
    page.shots.take("csv-focused")


def test_map_and_table_are_one_tab_stop_each(page, base_url):
    open_page(page, base_url)
    stops = page.evaluate("""() => Array.from(document.querySelectorAll(
        '#triptych a, #triptych button, #triptych [tabindex], #triptych path')).filter((e) => e.tabIndex >= 0
        && !e.closest('[hidden]') && !e.disabled).map((e) => e.tagName + (e.dataset.code ? ':' + e.dataset.code : ''))""")
    assert sum(1 for s in stops if s.startswith("TR")) == 1, stops
    assert not any(s.startswith("path") for s in stops), "map shapes must not be tab stops"
    assert page.locator("#table tbody tr a[tabindex='-1']").count() == page.locator("#table tbody tr").count()
    # In the table the arrow keys move between the rows; Tab leaves the table.
    first = page.locator("#table tbody tr").nth(0)
    first.focus()
    page.keyboard.press("ArrowDown")
    second = page.locator("#table tbody tr").nth(1).get_attribute("data-code")
    assert page.evaluate(ACTIVE)["code"] == second
    assert page.locator("#table tbody tr[tabindex='0']").count() == 1
    page.keyboard.press("End")
    assert page.evaluate(ACTIVE)["code"] == page.locator("#table tbody tr").last.get_attribute("data-code")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["tag"] != "TR"


def test_arrow_keys_move_through_the_map_and_enter_selects(page, base_url, api):
    open_page(page, base_url, GEMEENTE_URL + f"&area={GENT}")
    page.locator("#map").focus()
    assert page.evaluate(ACTIVE)["id"] == "map"
    live = page.locator("#map-live")

    page.keyboard.press("ArrowRight")  # the first arrow starts at the chosen area: Gent
    page.wait_for_function("() => document.querySelector('#map-live').textContent.includes('Gent')")
    assert hovered_code(page) == GENT
    gent_text = live.inner_text()
    row = next(r for r in observations(api) if r["area_code"] == GENT and r["period"] == periods(api)[-1])
    assert dutch(row["value"], 1) in gent_text and re.search(r"\d+e van \d+", gent_text), gent_text

    page.keyboard.press("ArrowRight")
    east = hovered_code(page)
    assert east and east != GENT
    assert centre(page, east)[0] > centre(page, GENT)[0], "ArrowRight goes to an area east of Gent"
    page.wait_for_function("t => document.querySelector('#map-live').textContent !== t", arg=gent_text)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    south = hovered_code(page)
    assert south and centre(page, south)[1] > centre(page, GENT)[1] - 1, "ArrowDown goes south"

    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('#table tbody tr[data-code=\"{south}\"]')"
                           ".getAttribute('aria-selected') === 'true'")
    assert selected_codes(page) == [south] and query_of(page.url)["area"] == [south]
    assert page.locator(f'#map path[data-code="{south}"]').get_attribute("aria-pressed") == "true"
    assert "Gekozen" in live.inner_text()
    assert page.evaluate(ACTIVE)["id"] == "map", "focus stays on the map"
    # The chosen area's fact sheet is one tab stop away, named.
    sheet = page.locator("#sheet-link a")
    assert sheet.is_visible() and sheet.get_attribute("href").startswith(f"/gebieden/gemeente/{south}")
    page.shots.take("moved-by-arrow-keys")


def test_ranking_shows_top_and_bottom_with_the_chosen_area_in_its_place(page, base_url, api):
    latest = periods(api)[-1]
    open_page(page, base_url)
    region = page_data(page)["region"]
    published = sorted((r for r in observations(api, latest, region) if r["value"] is not None),
                       key=lambda r: -r["value"])
    middle = published[len(published) // 2]
    open_page(page, base_url, GEMEENTE_URL + f"&area={middle['area_code']}")
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('#chart svg path[fill]'))"
                           f".some(p => p.getAttribute('fill').toLowerCase() === '{HIGHLIGHT}')")
    assert len(bar_fills(page)) == 2 * TOP_AND_BOTTOM + 1
    assert bar_fills(page).count(HIGHLIGHT) == 1
    text = page.locator("#chart svg").text_content()
    rank = 1 + sum(1 for r in published if r["value"] > middle["value"])
    assert f"{rank}. {middle['area_name']}" in text and "⋯" in text
    assert f"1. {published[0]['area_name']}" in text
    flanders = api.get("/api/v1/observations", params={"indicator": INDICATOR, "level": "gewest",
                                                        "period": latest, "area": "2000"}).json()["data"][0]
    assert f"Vlaams Gewest: {dutch(flanders['value'], 1)}" in text, "the reference line is labelled"
    # The chart is no longer a 4,000 px scroll box.
    assert page.locator("#chart").bounding_box()["height"] < 600

    # The tooltip: name, value with unit and rank.
    page.locator(f"#chart svg path[fill='{HIGHLIGHT}']").first.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible")
    words = tooltip.inner_text()
    assert middle["area_name"] in words and f"{dutch(middle['value'], 1)} %" in words
    assert f"{rank}e van {len(published)}" in words

    page.get_by_role("button", name="Toon volledige rangorde").click()
    toggle = page.locator("#ranking-toggle")
    page.wait_for_function(f"() => document.querySelectorAll('#chart svg .mark-rect path[fill]').length "
                           f"=== {len(published)}")
    assert toggle.get_attribute("aria-expanded") == "true" and toggle.inner_text() == "Toon alleen top en staart"
    page.shots.take("full-ranking")


def test_the_period_slider_recolours_map_ranking_and_table_without_reloading(page, base_url, api):
    shown = periods(api)
    open_page(page, base_url)
    page.evaluate("() => { window.notReloaded = true; }")
    slider = page.locator("#period-slider")
    assert slider.is_visible() and page.get_by_label("Periodes doorlopen").count() == 1
    assert slider.get_attribute("aria-valuetext") == shown[-1]
    before = page.locator(f'#map path[data-code="{GENT}"]').get_attribute("fill")

    slider.focus()
    page.keyboard.press("ArrowLeft")  # a range input moves one step with the arrow keys
    previous = shown[-2]
    page.wait_for_function("p => document.querySelector('#map-title small').textContent === p", arg=previous)
    assert page.evaluate("() => window.notReloaded") is True
    assert slider.get_attribute("aria-valuetext") == previous
    assert page.locator("#period-output").inner_text() == previous
    assert query_of(page.url)["period"] == [previous]
    gent = next(r for r in observations(api, previous) if r["area_code"] == GENT)
    page.wait_for_function(f"v => document.querySelector('#table tbody tr[data-code=\"{GENT}\"] td')"
                           ".textContent.trim() === v", arg=dutch(gent["value"], 1) + "\u00a0%")
    classes = page_data(page)["classesByPeriod"][previous]
    expected = next(c for b, c in zip(classes["breaks"], classes["colours"]) if gent["value"] <= b)
    page.wait_for_function(f"c => document.querySelector('#map path[data-code=\"{GENT}\"]')"
                           ".getAttribute('fill') === c", arg=expected)
    assert len(page.locator("#triptych .legend li.class").all()) == len(classes["colours"])
    assert "period=" + previous in page.locator("#downloads a").first.get_attribute("href")
    assert before is not None

    # Play runs through the periods and can be paused, all on the same page.
    play = page.locator("#period-play")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    page.wait_for_function("p => document.querySelector('#map-title small').textContent === p", arg=shown[-1],
                           timeout=15000)
    page.wait_for_function("() => document.querySelector('#period-play').getAttribute('aria-pressed') === 'false'")
    assert page.evaluate("() => window.notReloaded") is True
    page.shots.take("after-play")


def test_custom_classes_count_breaks_and_the_same_classes_for_all_periods(page, base_url, api):
    open_page(page, base_url, GEMEENTE_URL + "&class_count=7")
    assert page.locator("#triptych .legend li.class").count() == 7
    assert page.locator("select[name=class_count]").input_value() == "7"

    open_page(page, base_url, GEMEENTE_URL + "&breaks=18;21;24")
    legend = page.locator("#triptych .legend li.class").all_inner_texts()
    assert len(legend) == 4 and legend[0].endswith("18,0") and legend[2].startswith("21,0"), legend

    open_page(page, base_url, GEMEENTE_URL + "&same_classes=1")
    data = page_data(page)["classesByPeriod"]
    assert len({str(c["breaks"]) for c in data.values()}) == 1, "one set of classes for every period"
    everything = [r["value"] for r in observations(api, None, page_data(page)["region"]) if r["value"] is not None]
    first = next(iter(data.values()))
    assert first["lower"] == min(everything) and first["breaks"][-1] == max(everything)
    assert page.locator("input[name=same_classes]").is_checked()


def test_bad_class_requests_show_the_default_with_a_notice_not_an_error(page, base_url, api):
    for query, words in [("&breaks=10;twintig", "twintig"), ("&class_count=12", "3 tot 9"),
                         ("&classes=regenboog", "regenboog"), ("&breaks=30;20", "van klein naar groot")]:
        response = api.get(GEMEENTE_URL + query)
        assert response.status_code == 200, (query, response.status_code)
        assert words in response.text, query
    open_page(page, base_url, GEMEENTE_URL + "&breaks=10;twintig&lang=en")
    notice = page.locator(".notice[role=status]")
    assert notice.is_visible() and "twintig" in notice.inner_text() and "number" in notice.inner_text()
    assert page.locator("#triptych .legend li.class").count() == 5  # the default
    assert page.locator("input[name=breaks]").input_value() == "10;twintig", "what was typed stays to correct"


def test_time_series_have_a_time_axis_with_gaps(page, base_url, api):
    shown = periods(api)
    missing = [y for y in range(int(shown[0]), int(shown[-1])) if str(y) not in shown]
    assert missing, "the demo's share_65plus skips a year (the gap this test is about)"
    open_page(page, base_url, GEMEENTE_URL + f"&area={GENT}")
    page.wait_for_function("() => document.querySelector('#series svg')")
    line = page.locator("#series svg .mark-line path").first
    line.wait_for(state="attached")
    # The line breaks at the missing year: more than one sub-path.
    assert line.get_attribute("d").count("M") >= 2
    labels = page.locator("#series svg .role-axis-label text").all_text_contents()
    assert str(missing[0]) in labels, f"the missing year is on the axis: {labels}"


def test_compare_small_multiples_have_names_and_their_own_axes(page, base_url, api):
    page.goto(base_url + "/vergelijk?area=gemeente:44021&area=gemeente:11002&indicator=share_65plus"
                         "&indicator=pop_total")
    page.wait_for_selector("#multiples svg")
    text = page.locator("#multiples svg").text_content()
    names = {i["code"]: i["name_nl"] for i in api.get("/api/v1/indicators").json()["data"]}
    assert names["share_65plus"] in text and names["pop_total"] in text
    assert "share_65plus" not in text and "pop_total" not in text
    # Each panel has its own x axis, spanning its own years.
    assert page.locator("#multiples svg .role-axis").count() >= 4
    page.shots.take("multiples")


def test_fact_sheet_sparklines_break_at_a_missing_year(page, base_url, api):
    page.goto(f"{base_url}/gebieden/gemeente/{GENT}")
    link = page.locator(f"tr:has(a[href^='/indicatoren/{INDICATOR}?']) .spark svg path")
    link.wait_for(state="attached")
    assert link.get_attribute("d").count("M") >= 2, "no line across the year without data"
