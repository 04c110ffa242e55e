"""Every page type of the public site, in Dutch and English, on a phone (390 px) and a desktop:
the phone view has no horizontal page scroll (the document is no wider than the window: wide
tables and charts scroll inside their own box), and a full-page screenshot of each is kept under
artifacts/screenshots/ (issue 11: "screenshots of each page type, nl and en")."""

from __future__ import annotations

import pytest

from .browser_support import TIMEOUT_MS, watch
from .test_accessibility import DRAWN, PAGES

PAGE_TYPES = {**PAGES,
              "search": "/zoeken?q=gent",
              "factsheet-wijk": "/gebieden/ggw72024/11002ANT03",
              "not-found": "/bestaat-niet"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}
# The document may not be wider than the window (1 px for sub-pixel rounding).
OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1
                    && !el.closest('.table-scroll, .map, .leaflet-container, .chart-scroll, .skip-link'))
    .slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                     + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '')
                     + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


def open_page(page, base_url: str, path: str, lang: str) -> None:
    joint = "&" if "?" in path else "?"
    response = page.goto(f"{base_url}{path}{joint}lang={lang}")
    assert response is not None
    page.wait_for_load_state("load")
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_a_phone_never_scrolls_the_page_sideways(browser, base_url, name, lang):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        page = watch(context.new_page(), f"phone-{name}-{lang}")
        open_page(page, base_url, PAGE_TYPES[name], lang)
        page.shots.take(f"phone-{lang}")
        measured = page.evaluate(OVERFLOW)
        assert measured["scroll"] <= measured["client"] + 1, \
            f"{PAGE_TYPES[name]} ({lang}) is {measured['scroll']} px wide on a {measured['client']} px phone: " \
            f"{measured['wide']}"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_a_screenshot_of_every_page_type_on_a_desktop(page, base_url, name, lang):
    page.set_viewport_size(DESKTOP)
    open_page(page, base_url, PAGE_TYPES[name], lang)
    path = page.shots.take(f"desktop-{lang}")
    assert path.stat().st_size > 10_000  # a drawn page, not a blank one
    assert page.locator("html").get_attribute("lang") == lang
