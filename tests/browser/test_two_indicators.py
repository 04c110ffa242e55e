"""Two indicators on one map (/kaart) in a real browser: hovering a point of the scatter plot
highlights its area on the map, clicking an area on the map marks its point and puts it in the
URL, the map is one tab stop whose arrow keys move between areas, the table sorts, and the mode
switch draws circles for a count. What the page shows is compared with its own data and the API."""

from __future__ import annotations

import json
import re

from .browser_support import wait_ready

SHARE, INCOME, SHARE_65, POPULATION = "share_non_belgian", "inc_mean_per_inhabitant", "share_65plus", "pop_total"
PAGE = f"/kaart?x={SHARE}&y={INCOME}"
GENT = "44021"


def open_page(page, base_url: str, path: str = PAGE) -> dict:
    page.goto(base_url + path)
    wait_ready(page)
    return page.evaluate("() => JSON.parse(document.getElementById('twomap-data').textContent)")


def area_name(data: dict, code: str) -> str:
    return next(a["name"] for a in data["areas"] if a["code"] == code)


def point(page, name: str):
    """The scatter plot's point of an area (its description starts with the area's name)."""
    return page.locator(f'#scatter g.area_points_marks path[aria-label^="{name} —"]').first


def selected_point_labels(page) -> list[str]:
    return page.eval_on_selector_all("#scatter g.selected_point_marks path",
                                     "ps => ps.map(p => p.getAttribute('aria-label'))")


def hovered_on_map(page) -> list[str]:
    return page.eval_on_selector_all("#map path.hovered", "ps => ps.map(p => p.dataset.code)")


def test_hovering_a_point_highlights_its_area_on_the_map_and_in_the_table(page, base_url):
    data = open_page(page, base_url)
    name = area_name(data, GENT)
    point(page, name).hover(force=True)
    page.wait_for_function("() => document.querySelector('#map path.hovered')")
    assert hovered_on_map(page) == [GENT]
    assert page.locator(f'#map path[data-code="{GENT}"]').get_attribute("stroke") == "#d95f02"
    assert page.locator("#table tbody tr.hover").get_attribute("data-code") == GENT
    page.shots.take("point-hovered")
    page.mouse.move(1, 1)
    page.wait_for_function("() => !document.querySelector('#map path.hovered')")


def test_clicking_an_area_on_the_map_marks_its_point_and_puts_it_in_the_url(page, base_url):
    data = open_page(page, base_url)
    assert selected_point_labels(page) == []
    shape = page.locator(f'#map path[data-code="{GENT}"]')
    shape.click(force=True)
    page.wait_for_function("() => new URL(location.href).searchParams.get('area') === '44021'")
    page.wait_for_function("() => document.querySelectorAll('#scatter g.selected_point_marks path').length === 1")
    gent = next(a for a in data["areas"] if a["code"] == GENT)
    [label] = selected_point_labels(page)
    assert label.startswith(f"{gent['name']} — x: {gent['xText']}; y: {gent['yText']}")
    assert page.locator(f'#table tbody tr[data-code="{GENT}"]').get_attribute("aria-selected") == "true"
    assert shape.get_attribute("stroke") == "#000"
    assert page.locator("#sheet-link a").get_attribute("href") == f"/gebieden/gemeente/{GENT}?lang=nl"
    page.shots.take("area-chosen")
    # The chosen area survives a reload from the URL.
    page.reload()
    wait_ready(page)
    assert len(selected_point_labels(page)) == 1


def test_the_map_is_one_tab_stop_and_its_arrow_keys_move_between_areas(page, base_url):
    data = open_page(page, base_url, f"{PAGE}&area={GENT}")
    assert page.locator("#map").get_attribute("tabindex") == "0"
    assert page.eval_on_selector_all("#map path[data-code]", "ps => ps.filter(p => p.tabIndex >= 0 "
                                                             "&& p.getAttribute('tabindex') !== null).length") == 0
    page.focus("#map")
    page.keyboard.press("ArrowRight")  # first press: the chosen area itself
    live = page.locator("#map-live")
    assert live.text_content().startswith(area_name(data, GENT))
    page.keyboard.press("ArrowRight")
    moved = live.text_content()
    neighbour = next(a for a in data["areas"] if moved.startswith(a["name"] + " —"))
    assert neighbour["code"] != GENT and hovered_on_map(page) == [neighbour["code"]]
    assert moved == f"{neighbour['name']} — x: {neighbour['xText']}; y: {neighbour['yText']}"
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('area') === '{neighbour['code']}'")
    assert live.text_content().startswith("Gekozen:")
    assert page.locator(f'#table tbody tr[data-code="{neighbour["code"]}"]').get_attribute("tabindex") == "0"
    page.shots.take("keyboard")


def test_a_withheld_value_is_only_a_word_in_the_tooltip_and_is_not_plotted(page, base_url):
    data = open_page(page, base_url)
    herstappe = next(a for a in data["areas"] if a["x"] is None and a["y"] is not None)
    assert herstappe["xText"] == "onderdrukt"
    assert page.locator(f'#map path[data-code="{herstappe["code"]}"]').get_attribute("fill") == "url(#twomap-hatch)"
    assert point(page, herstappe["name"]).count() == 0
    page.locator(f'#map path[data-code="{herstappe["code"]}"]').hover(force=True)
    tooltip = page.locator(".leaflet-tooltip").first
    tooltip.wait_for()
    assert tooltip.text_content() == f"{herstappe['name']} — x: onderdrukt; y: {herstappe['yText']}"
    plotted = page.eval_on_selector_all("#scatter g.area_points_marks path", "ps => ps.length")
    assert plotted == sum(1 for a in data["areas"] if a["x"] is not None and a["y"] is not None)


def test_the_table_sorts_by_either_indicator(page, base_url):
    data = open_page(page, base_url)
    page.locator("#table thead button[data-sort=y]").click()
    codes = page.eval_on_selector_all("#table tbody tr", "rs => rs.map(r => r.dataset.code)")
    ys = {a["code"]: a["y"] for a in data["areas"]}
    shown = [ys[c] for c in codes if ys[c] is not None]
    assert shown == sorted(shown)
    assert page.locator("#table thead th:has(button[data-sort=y])").get_attribute("aria-sort") == "ascending"
    page.locator("#table thead button[data-sort=y]").click()
    codes = page.eval_on_selector_all("#table tbody tr", "rs => rs.map(r => r.dataset.code)")
    shown = [ys[c] for c in codes if ys[c] is not None]
    assert shown == sorted(shown, reverse=True)


def test_the_mode_switch_draws_circles_for_a_count(page, base_url, api):
    open_page(page, base_url, f"/kaart?x={SHARE_65}&y={POPULATION}&within=provincie:40000")
    assert page.locator("#map path.symbol").count() == 0
    with page.expect_navigation():
        page.get_by_label("kleur van x, cirkels van y").check()
    wait_ready(page)
    assert re.search(r"[?&]mode=symbols(&|$)", page.url)
    data = page.evaluate("() => JSON.parse(document.getElementById('twomap-data').textContent)")
    sized = [a for a in data["areas"] if a["radius"]]
    assert page.locator("#map path.symbol").count() == len(sized) > 0
    # Each circle is as large as its value says: the largest municipality's is the largest one.
    largest = max(sized, key=lambda a: a["y"])
    boxes = page.eval_on_selector_all("#map path.symbol", "ps => ps.map(p => [p.dataset.symbol, p.getBBox().width])")
    assert max(boxes, key=lambda b: b[1])[0] == largest["code"]
    population = {r["area_code"]: r["value"] for r in api.get("/api/v1/observations", params={
        "indicator": POPULATION, "level": "gemeente", "period": data["y"]["period"], "within": "provincie:40000",
        "limit": 50000}).json()["data"]}
    assert {a["code"]: a["y"] for a in sized} == {c: v for c, v in population.items() if v}
    page.shots.take("symbols")
    # Back to two colours: no circles.
    with page.expect_navigation():
        page.get_by_label("twee kleuren (bivariaat)").check()
    wait_ready(page)
    assert page.locator("#map path.symbol").count() == 0
    assert json.loads(page.locator("#twomap-data").text_content())["mode"] == "bivariate"
