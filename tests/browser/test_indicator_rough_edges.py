"""Three rough edges of the indicator page (issue 11), in a real browser: "play" loads every period
once before it starts, so it runs through all of them without a request per step (and with the
same classes for all periods the legend stays put); the full ranking scrolls the chosen area's bar
into sight within its own box, keeping focus on its button; a change of level carries the chosen
area over (a gemeente → its provincie; back down, the provincie's gemeenten). Figures and
memberships come from the JSON API of the same server."""

from __future__ import annotations

import re

from .browser_support import wait_ready
from .test_pages import HIGHLIGHT, query_of, selected_codes

INDICATOR = "share_65plus"
GEMEENTE_URL = f"/indicatoren/{INDICATOR}?level=gemeente"
GENT = "44021"
OBSERVATIONS = "/api/v1/observations"

# Every period the map title shows, and the legend beside it, as the animation moves on.
WATCH_PERIODS = """() => {
  window.shownPeriods = []; window.shownLegends = [];
  const title = document.querySelector('#map-title small');
  const legend = () => Array.from(document.querySelectorAll('#triptych .legend li.class'))
    .map((li) => li.textContent).join('|');
  new MutationObserver(() => {
    const p = title.textContent;
    if (window.shownPeriods[window.shownPeriods.length - 1] === p) return;
    window.shownPeriods.push(p);
    window.shownLegends.push(legend());
  }).observe(title, { childList: true, characterData: true, subtree: true });
}"""


def open_page(page, base_url: str, path: str) -> None:
    page.goto(base_url + path)
    wait_ready(page)


def periods(api) -> list[str]:
    return api.get(f"/api/v1/indicators/{INDICATOR}", params={"level": "gemeente"}).json()["periods"]


def observation_requests(page) -> list[str]:
    """The page's requests to the observations API from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if OBSERVATIONS in request.url else None)
    return seen


def play_through(page) -> None:
    page.evaluate(WATCH_PERIODS)
    page.locator("#period-play").click()
    page.wait_for_function("() => document.querySelector('#period-play').getAttribute('aria-pressed') === 'false'",
                           timeout=30_000)


def test_play_loads_every_period_once_and_then_runs_through_all_of_them(page, base_url, api):
    shown = periods(api)
    assert len(shown) >= 4, "the demo has several periods to play"
    open_page(page, base_url, GEMEENTE_URL)
    requests = observation_requests(page)
    play_through(page)
    assert page.evaluate("() => window.shownPeriods") == shown, "every period, in order, from the first"
    assert len(requests) == 1, f"one request for all periods, not one per step: {requests}"
    assert "period=" not in requests[0] and "region=2000" in requests[0], requests[0]
    # Moving the slider back afterwards needs no request either: every period is at hand.
    page.locator("#period-slider").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("p => document.querySelector('#map-title small').textContent === p", arg=shown[-2])
    assert len(requests) == 1
    page.shots.take("after-play")


def test_play_with_the_same_classes_for_all_periods_keeps_the_legend(page, base_url, api):
    open_page(page, base_url, GEMEENTE_URL + "&same_classes=1")
    before = page.locator("#triptych .legend li.class").all_inner_texts()
    play_through(page)
    legends = page.evaluate("() => window.shownLegends")
    assert len(legends) == len(periods(api)) and set(legends) == {"|".join(before)}


def highlighted_bar_in_sight(page) -> dict:
    return page.evaluate(f"""() => {{
      const chart = document.getElementById('chart');
      const bar = Array.from(chart.querySelectorAll('svg .mark-rect path'))
        .find((p) => (p.getAttribute('fill') || '').toLowerCase() === '{HIGHLIGHT}');
      if (!bar) return {{ bar: false }};
      const b = bar.getBoundingClientRect(), c = chart.getBoundingClientRect();
      return {{ bar: true, inside: b.top >= c.top && b.bottom <= c.bottom, scrolled: chart.scrollTop,
               pageScroll: window.scrollY }};
    }}""")


def ranking(api, page) -> list[dict]:
    region = page.evaluate("() => JSON.parse(document.getElementById('page-data').textContent).region")
    rows = api.get(OBSERVATIONS, params={"indicator": INDICATOR, "level": "gemeente", "period": periods(api)[-1],
                                         "region": region, "limit": 50000}).json()["data"]
    return sorted((r for r in rows if r["value"] is not None), key=lambda r: (-r["value"], r["area_name"]))


def test_the_full_ranking_scrolls_the_chosen_area_into_sight(page, base_url, api):
    open_page(page, base_url, GEMEENTE_URL)
    ordered = ranking(api, page)
    middle = ordered[len(ordered) // 2]["area_code"]
    open_page(page, base_url, GEMEENTE_URL + f"&area={middle}")
    toggle = page.get_by_role("button", name="Toon volledige rangorde")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#chart svg .mark-rect path[fill]').length "
                           f"=== {len(ordered)}")
    page.wait_for_function("() => document.getElementById('chart').scrollTop > 0")
    sight = highlighted_bar_in_sight(page)
    assert sight["bar"] and sight["inside"], sight
    assert page.evaluate("() => document.activeElement.id") == "ranking-toggle", "focus stays on the button"
    assert page.locator("#ranking-toggle").is_visible()
    page.shots.take("full-ranking-middle")

    # Choosing another area in the table while the full ranking is open: its bar comes into sight.
    last = ordered[-3]["area_code"]
    page.locator(f'#table tbody tr[data-code="{last}"]').click()
    page.wait_for_function(f"document.querySelector('#table tbody tr[data-code=\"{last}\"]')"
                           ".getAttribute('aria-selected') === 'true'")
    page.wait_for_function(f"""() => {{
      const chart = document.getElementById('chart');
      const bar = Array.from(chart.querySelectorAll('svg .mark-rect path'))
        .find((p) => (p.getAttribute('fill') || '').toLowerCase() === '{HIGHLIGHT}');
      if (!bar) return false;
      const b = bar.getBoundingClientRect(), c = chart.getBoundingClientRect();
      return b.top >= c.top && b.bottom <= c.bottom && chart.scrollTop > {sight['scrolled']};
    }}""")
    assert selected_codes(page) == [last]
    page.shots.take("full-ranking-near-the-end")


def test_changing_the_level_carries_the_chosen_area_over(page, base_url, api):
    provinces = api.get(OBSERVATIONS, params={"indicator": INDICATOR, "level": "provincie"}).json()["data"]
    province = next(p["area_code"] for p in provinces if any(
        r["area_code"] == GENT for r in api.get(OBSERVATIONS, params={
            "indicator": INDICATOR, "level": "gemeente", "within": f"provincie:{p['area_code']}"}).json()["data"]))
    open_page(page, base_url, GEMEENTE_URL + f"&area={GENT}")
    page.locator("select[name=level]").select_option("provincie")
    page.wait_for_url(re.compile(r"level=provincie"))
    wait_ready(page)
    assert query_of(page.url)["area"] == [province] and "from_level" not in query_of(page.url)
    assert selected_codes(page) == [province]
    assert not page.locator(".empty-state").count(), "no notice that the area is not in the table"
    page.shots.take("provincie-of-gent")

    page.locator("select[name=level]").select_option("gemeente")
    page.wait_for_url(re.compile(r"level=gemeente"))
    wait_ready(page)
    assert query_of(page.url)["within"] == [f"provincie:{province}"] and "area" not in query_of(page.url)
    inside = {r["area_code"] for r in api.get(OBSERVATIONS, params={
        "indicator": INDICATOR, "level": "gemeente", "within": f"provincie:{province}",
        "period": query_of(page.url).get("period", [periods(api)[-1]])[0]}).json()["data"]}
    shown = set(page.eval_on_selector_all("#table tbody tr", "rows => rows.map(r => r.dataset.code)"))
    assert shown == inside and GENT in shown
    page.shots.take("gemeenten-of-the-provincie")


def test_choosing_on_the_map_then_changing_the_level_carries_that_area(page, base_url):
    open_page(page, base_url, GEMEENTE_URL)
    page.locator(f'#map path[data-code="{GENT}"]').click()
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('area') === '{GENT}'")
    # Another choice than the level (the number of classes) keeps the address as it was.
    page.locator("select[name=class_count]").select_option("4")
    page.wait_for_url(re.compile(r"class_count=4"))
    wait_ready(page)
    assert "from_level" not in query_of(page.url) and query_of(page.url)["area"] == [GENT]
    page.locator("select[name=level]").select_option("arrondiss")
    page.wait_for_url(re.compile(r"level=arrondiss"))
    wait_ready(page)
    assert len(selected_codes(page)) == 1 and query_of(page.url)["area"] == selected_codes(page)
    assert query_of(page.url)["class_count"] == ["4"]
