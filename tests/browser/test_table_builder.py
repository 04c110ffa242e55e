"""The table builder in a real browser (issue 11): choosing indicators and areas in the page
builds the table and puts the whole selection in the address bar (htmx swaps only the result
in), a reload and Back give the same table, a download holds the same cells, columns sort, the
link is copied — and without JavaScript the plain form does the same."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlparse

from .browser_support import TIMEOUT_MS

WIJKEN = "/tabel?indicator=v2506_gas_res_n,vp2506_gas_res_n&level=ggw72024&within=gemeente:11002&ref=gemeente"


def params_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def table_text(page) -> str:
    return page.locator("#selection-table").inner_text()


def wait_for_params(page, **wanted: list[str]) -> None:
    page.wait_for_url(lambda url: all(params_of(url).get(k) == v for k, v in wanted.items()), timeout=TIMEOUT_MS)
    page.wait_for_selector("#table-result:not(.htmx-request)", timeout=TIMEOUT_MS)


def test_choosing_in_the_page_builds_the_table_and_the_address_follows(page, base_url, api):
    page.goto(base_url + "/tabel")
    page.get_by_label("Zoek een indicator").fill("bevolking")
    assert page.locator("li[data-search]:visible").count() < page.locator("li[data-search]").count()
    page.get_by_role("checkbox", name="Bevolking (personen)", exact=True).check()
    wait_for_params(page, indicator=["pop_total"])
    combo = page.locator("#table-picker-input")
    combo.fill("Gent")
    page.locator("#table-picker-input-options [role=option]").first.wait_for()
    combo.press("Enter")  # chooses Gent: the table follows without a page load
    wait_for_params(page, indicator=["pop_total"], area=["gemeente:44021"])
    page.locator("#selection-table").wait_for()
    page.shots.take("chosen")
    period = page.locator("#selection-table thead button[data-sort-column='1']").inner_text()
    gent = page.locator("#selection-table tbody tr", has_text="Gent").locator("td").first
    published = api.get("/api/v1/observations", params={"indicator": "pop_total", "level": "gemeente",
                                                        "period": period, "area": "44021"}).json()
    assert float(gent.get_attribute("data-value")) == published["data"][0]["value"]
    assert gent.inner_text() == f"{published['data'][0]['value']:,.0f}".replace(",", ".")

    shown = table_text(page)
    page.reload()
    assert table_text(page) == shown  # the address is the whole selection

    page.get_by_label("Periodes in de rijen").check()
    wait_for_params(page, layout=["periods"])
    page.get_by_label("Alle periodes").check()
    wait_for_params(page, layout=["periods"], periods=["all"])
    assert table_text(page) != shown
    with page.expect_event("load"):  # Back loads the page of the address again (no swapped-in snapshot)
        page.go_back()
    assert params_of(page.url).get("periods") is None and params_of(page.url)["layout"] == ["periods"]
    assert page.get_by_label("De laatste periode van elke indicator").is_checked()
    with page.expect_event("load"):
        page.go_back()
    assert "layout" not in params_of(page.url) and params_of(page.url)["area"] == ["gemeente:44021"]
    assert table_text(page) == shown and page.get_by_label("Gebieden in de rijen").is_checked()


def test_a_download_holds_the_cells_of_the_page(page, base_url):
    page.goto(base_url + WIJKEN)
    cells = page.locator("#selection-table td.num").count()
    with page.expect_download() as started:
        page.locator("#downloads a", has_text="CSV").first.click()
    body = open(started.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == cells > 100
    withheld = [r for r in rows if r["status"] == "suppressed"]
    assert withheld and all(r["value"] == "" for r in withheld)
    assert page.locator("#selection-table td.num .status-suppressed").count() == len(withheld)


def test_columns_sort_with_signs_last(page, base_url):
    page.goto(base_url + WIJKEN)
    button = page.locator("#selection-table thead button[data-sort-column='1']")
    for direction in ("ascending", "descending"):
        button.click()
        assert button.locator("xpath=..").get_attribute("aria-sort") == direction
        values = page.locator("#selection-table tbody.rows-level tr td:nth-of-type(1)").evaluate_all(
            "cells => cells.map(c => c.dataset.value)")
        numbers = [float(v) for v in values if v]
        assert numbers == sorted(numbers, reverse=direction == "descending") and len(numbers) > 50
        assert all(not v for v in values[len(numbers):])  # the signs come last


def test_the_link_is_copied(context, base_url):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    page.goto(base_url + WIJKEN)
    page.get_by_role("button", name="Kopieer link").click()
    page.locator(".copy-status", has_text="De link is gekopieerd.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == base_url + page.locator("#share-link").get_attribute("href")
    page.close()


def test_without_javascript_the_form_does_the_same(browser, base_url):
    context = browser.new_context(java_script_enabled=False, locale="nl-BE")
    try:
        page = context.new_page()
        page.goto(base_url + "/tabel")
        page.locator("details[data-theme-group] > summary", has_text="Demografie").click()  # without the filter
        page.get_by_role("checkbox", name="Bevolking (personen)", exact=True).check()
        page.locator("#table-picker-input").fill("Gent")
        page.get_by_role("button", name="Toon de tabel").click()
        page.wait_for_load_state("load")
        assert params_of(page.url)["area"] == ["Gent"]  # typed, looked up by the server
        assert "Gent" in table_text(page)
        link = page.locator("#share-link").get_attribute("href")
        assert params_of(link)["area"] == ["gemeente:44021"]
        page.goto(base_url + link)
        assert "Gent" in table_text(page)
    finally:
        context.close()
