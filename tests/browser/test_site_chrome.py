"""What only a browser shows of the site's chrome (issue 11): the API documentation renders with
every request off this machine blocked, the chart pages log no warning or error in the console
(Vega-Lite's `Dropping "fit-y"` was on every dashboard), and the new index pages have no
accessibility violation at all."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from .browser_support import TIMEOUT_MS
from .test_accessibility import DRAWN, describe, run_axe

CHART_PAGES = {
    "indicator": "/indicatoren/share_65plus?area=44021",
    "factsheet": "/gebieden/gemeente/44021",
    "compare": "/vergelijk?area=gemeente:44021&area=gemeente:11002&area=gewest:2000",
    "dashboard": "/dashboards/demografie",
    "dashboard-income": "/dashboards/inkomen",
    "story": "/verhalen/vergrijzing-centrumsteden",
}
INDEX_PAGES = {
    "indicators": "/indicatoren", "themes": "/themas?lang=en", "areas": "/gebieden", "level": "/gebieden/gemeente",
    "dashboards": "/dashboards", "stories": "/verhalen?lang=en",
}


def test_the_api_documentation_renders_offline(page, base_url):
    blocked: list[str] = []

    def only_this_machine(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()
    page.route("**/*", only_this_machine)
    page.goto(f"{base_url}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=TIMEOUT_MS)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/observations" in p for p in paths), paths
    assert page.locator(".info .title").inner_text().startswith("OBMi API")
    page.shots.take("api-docs")
    assert not blocked, f"the documentation asked for other hosts: {blocked}"


@pytest.mark.parametrize("name", list(CHART_PAGES))
def test_chart_pages_log_no_console_warning_or_error(page, base_url, name):
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None)
    response = page.goto(base_url + CHART_PAGES[name])
    assert response is not None and response.ok
    page.wait_for_load_state("load")
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    assert page.locator("svg").count() > 0, "no chart was drawn"
    assert not messages, f"console of {CHART_PAGES[name]}: {messages}"


@pytest.mark.parametrize("name", list(INDEX_PAGES))
def test_index_pages_have_no_accessibility_violations(page, base_url, name):
    response = page.goto(base_url + INDEX_PAGES[name])
    assert response is not None and response.ok
    page.shots.take(name)
    violations = run_axe(page, f"index-{name}")["violations"]
    assert not violations, f"axe on {INDEX_PAGES[name]}:\n{describe(violations)}"


def test_the_error_page_has_no_accessibility_violations(page, base_url):
    response = page.goto(f"{base_url}/bestaat-niet")
    assert response is not None and response.status == 404
    violations = run_axe(page, "not-found")["violations"]
    assert not violations, describe(violations)
