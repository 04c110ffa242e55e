"""The public pages in a real browser (Debian Chromium through Playwright): the linked map, chart
and table; keyboard selection; period switching; CSV and PDF downloads; the language switch; a
phone-sized viewport. Figures are checked against the JSON API of the same server."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest

from .browser_support import wait_ready

HIGHLIGHT = "#d95f02"  # the selection colour in obmi.js
GENT = "44021"
INDICATOR_URL = "/indicatoren/share_65plus"


def dutch(value: float, decimals: int) -> str:
    """How the pages write a number in Dutch: 253.266 and 17,0."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def english(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def open_indicator(page, base_url: str, path: str = INDICATOR_URL) -> None:
    page.goto(base_url + path)
    wait_ready(page)
    page.shots.take("ready")


def selected_codes(page) -> list[str]:
    return page.eval_on_selector_all("#table tbody tr[aria-selected=true]", "rows => rows.map(r => r.dataset.code)")


def series_text(page) -> str:
    return page.locator("#series svg").text_content() or ""


def bar_fills(page) -> list[str]:
    return page.eval_on_selector_all("#chart svg path[fill]", "ps => ps.map(p => p.getAttribute('fill').toLowerCase())")


def test_clicking_the_map_selects_the_area_in_table_charts_and_url(page, base_url):
    open_indicator(page, base_url)
    assert page.locator("select[name=level]").input_value() == "gemeente"
    assert HIGHLIGHT not in bar_fills(page), "no bar may be highlighted before a selection"

    page.locator(f'#map path[data-code="{GENT}"]').click()

    gent_row = page.locator(f'#table tbody tr[data-code="{GENT}"]')
    gent_row.wait_for(state="attached")
    page.wait_for_function(f"document.querySelector('#table tbody tr[data-code=\"{GENT}\"]')"
                           ".getAttribute('aria-selected') === 'true'")
    assert selected_codes(page) == [GENT]
    assert query_of(page.url)["area"] == [GENT]
    assert page.locator(f'#map path[data-code="{GENT}"]').get_attribute("aria-pressed") == "true"
    assert page.locator('#map path[aria-pressed="true"]').count() == 1

    # The evolution chart: one line for Gent, its province and its region (legend labels).
    page.wait_for_function("() => { const s = document.querySelector('#series svg');"
                           " return s && s.textContent.includes('Gent') && s.textContent.includes('Vlaams Gewest'); }")
    text = series_text(page)
    assert "Gent" in text and "Oost-Vlaanderen" in text and "Vlaams Gewest" in text
    # The ranking chart highlights exactly one bar: Gent's.
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('#chart svg path[fill]'))"
                           f".some(p => p.getAttribute('fill').toLowerCase() === '{HIGHLIGHT}')")
    assert bar_fills(page).count(HIGHLIGHT) == 1
    page.shots.take("gent-selected")


def test_keyboard_tab_to_a_table_row_and_enter_selects_it(page, base_url):
    open_indicator(page, base_url)
    # Start on the table's last header control and move on with the Tab key, as a keyboard user does.
    page.locator("#table thead button[data-sort=value]").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => { const e = document.activeElement;"
                            " return {tag: e.tagName, code: e.dataset ? e.dataset.code : null}; }")
    assert focused["tag"] == "TR" and focused["code"], f"Tab did not reach a table row: {focused}"
    code = focused["code"]
    assert code == page.locator("#table tbody tr").first.get_attribute("data-code")

    page.keyboard.press("Enter")

    page.wait_for_function(f"document.querySelector('#table tbody tr[data-code=\"{code}\"]')"
                           ".getAttribute('aria-selected') === 'true'")
    assert selected_codes(page) == [code]
    assert page.locator(f'#map path[data-code="{code}"]').get_attribute("aria-pressed") == "true"
    assert page.locator('#map path[aria-pressed="true"]').count() == 1
    assert query_of(page.url)["area"] == [code]
    name = page.locator(f'#table tbody tr[data-code="{code}"] th').inner_text().strip()
    page.wait_for_function("name => { const s = document.querySelector('#series svg');"
                           " return s && s.textContent.includes(name); }", arg=name)
    assert page.evaluate("() => document.activeElement.tagName") == "TR", "focus must stay on the row"
    page.shots.take("row-selected-by-keyboard")


def test_table_order_matches_its_sort_state_and_sorts_by_value(page, base_url):
    open_indicator(page, base_url)
    names_js = "rows => rows.map(r => r.querySelector('th').textContent.trim())"
    values_js = "rows => rows.map(r => r.dataset.value === '' ? null : parseFloat(r.dataset.value))"
    name_header = page.locator("#table thead th").nth(0)
    value_header = page.locator("#table thead th").nth(1)
    # As served: ascending by name, as aria-sort on "Gebied" says.
    assert name_header.get_attribute("aria-sort") == "ascending"
    names = page.eval_on_selector_all("#table tbody tr", names_js)
    assert len(names) > 280  # the Flemish municipalities (the home region; Brussels on request)
    collated = page.evaluate("names => names.slice().sort((a, b) => a.localeCompare(b, 'nl-BE'))", names)
    assert names == collated

    value_header.get_by_role("button").click()
    assert value_header.get_attribute("aria-sort") == "ascending" and name_header.get_attribute("aria-sort") is None
    values = [v for v in page.eval_on_selector_all("#table tbody tr", values_js) if v is not None]
    assert values == sorted(values)
    value_header.get_by_role("button").click()
    assert value_header.get_attribute("aria-sort") == "descending"
    values = [v for v in page.eval_on_selector_all("#table tbody tr", values_js) if v is not None]
    assert values == sorted(values, reverse=True)
    page.shots.take("sorted-by-value")


def test_changing_the_period_reloads_with_that_years_figures(page, base_url, api):
    open_indicator(page, base_url)
    latest = page.locator("#period").input_value()
    assert latest != "2010"
    before = {
        "legend": page.locator("#triptych .legend").inner_text(),
        "caption": page.locator("#table caption").inner_text(),
        "gent": page.locator(f'#table tbody tr[data-code="{GENT}"] td').inner_text(),
    }
    assert latest in page.locator("#map-title").inner_text()

    page.locator("#period").select_option("2010")  # the form submits itself on change
    page.wait_for_url(re.compile(r"[?&]period=2010(&|$)"))
    wait_ready(page)
    page.shots.take("period-2010")

    assert query_of(page.url)["period"] == ["2010"]
    assert page.locator("#period").input_value() == "2010"
    assert page.locator("#map-title small").inner_text().strip() == "2010"
    caption = page.locator("#table caption").inner_text()
    assert "2010" in caption and caption != before["caption"]
    assert page.locator("#triptych .legend").inner_text() != before["legend"]

    wanted = api.get("/api/v1/observations", params={"indicator": "share_65plus", "level": "gemeente",
                                                      "period": "2010", "area": GENT}).json()
    value = wanted["data"][0]["value"]
    expected = dutch(value, wanted["decimals"]) + ("\u00a0%" if wanted["unit"] == "%" else "")
    gent = page.locator(f'#table tbody tr[data-code="{GENT}"] td').inner_text()
    assert gent.strip() == expected.strip(), (gent, expected)
    assert gent != before["gent"]
    # The ranking chart was drawn again for 2010 (its top and bottom ten: one bar each).
    page.locator("#chart svg").wait_for()
    published = sum(1 for r in api.get("/api/v1/observations", params={
        "indicator": "share_65plus", "level": "gemeente", "period": "2010"}).json()["data"] if r["value"] is not None)
    assert len(bar_fills(page)) >= min(published, 20)


def test_csv_download_holds_exactly_the_api_rows_of_the_view(page, base_url, api):
    open_indicator(page, base_url)
    link = page.locator(".downloads a", has_text=re.compile(r"^\s*CSV\s*$"))
    params = query_of(link.get_attribute("href"))
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))

    wanted = api.get("/api/v1/observations", params={"indicator": params["indicator"][0], "level": params["level"][0],
                                                      "period": params["period"][0],
                                                      "region": params["region"][0]}).json()
    assert params["indicator"] == ["share_65plus"] and params["level"] == ["gemeente"]
    assert params["region"] == ["2000"]  # the view's regions travel with the link
    assert wanted["count"] == len(wanted["data"]) and len(rows) == wanted["count"] > 280
    by_code = {r["area_code"]: r for r in wanted["data"]}
    assert [r["area_code"] for r in rows] == [r["area_code"] for r in wanted["data"]]
    for row in rows:
        expected = by_code[row["area_code"]]
        assert row["status"] == expected["status"], row
        assert row["period"] == expected["period"] == params["period"][0]
        if expected["value"] is None:
            assert row["value"] == "", row
        else:
            # The download holds the stored value; the API the page's, rounded to the indicator's decimals.
            stored = float(row["value"])
            assert abs(round(stored, wanted["decimals"]) - expected["value"]) < 1e-9, (row, expected)


def test_fact_sheet_pdf_download_contains_the_area_and_its_figures(page, base_url, api, tmp_path):
    sheet = api.get(f"/api/v1/factsheets/gemeente/{GENT}").json()
    population = next(f for t in sheet["themes"] for f in t["figures"] if f["indicator"] == "pop_total")
    assert population["period"] == "2015"
    page.goto(f"{base_url}/gebieden/gemeente/{GENT}")
    page.shots.take("factsheet")

    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("link", name="Download steekkaart (PDF)").click()
    download = info.value
    failure = download.failure()
    assert failure is None, f"the PDF download failed: {failure}"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.name == f"steekkaart-gemeente-{GENT}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Gent" in text
    assert dutch(population["value"], population["decimals"]) == "253.266"
    assert dutch(population["value"], population["decimals"]) in text


def test_language_switch_to_english(page, base_url, api):
    open_indicator(page, base_url)
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"[?&]lang=en(&|$)"))
    wait_ready(page)
    page.shots.take("english")
    assert page.locator("html").get_attribute("lang") == "en"
    assert query_of(page.url)["lang"] == ["en"]
    assert page.locator("#map-title").inner_text().startswith("Map")
    assert page.get_by_role("link", name="Nederlands").count() == 1

    # Numbers in English: the fact sheet shows Gent's population as 253,266.
    sheet = api.get(f"/api/v1/factsheets/gemeente/{GENT}").json()
    population = next(f for t in sheet["themes"] for f in t["figures"] if f["indicator"] == "pop_total")
    page.goto(f"{base_url}/gebieden/gemeente/{GENT}?lang=en")
    page.shots.take("factsheet-english")
    assert page.locator("html").get_attribute("lang") == "en"
    main = page.locator("main").inner_text()
    assert english(population["value"], population["decimals"]) == "253,266"
    assert "253,266" in main and "253.266" not in main


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_phone_viewport_has_no_horizontal_scroll(page, base_url):
    open_indicator(page, base_url, INDICATOR_URL + f"?area={GENT}")
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
                           " body: document.body.scrollWidth})")
    assert widths["inner"] == 390
    assert widths["scroll"] <= widths["inner"] + 1, widths
    assert widths["body"] <= widths["inner"] + 1, widths
    for selector in ("#map", "#table"):
        locator = page.locator(selector)
        locator.scroll_into_view_if_needed()
        assert locator.is_visible(), selector
        box = locator.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (selector, box)
        assert box["x"] >= -1 and box["x"] + box["width"] <= widths["inner"] + 1, (selector, box)
    page.shots.take("phone")
