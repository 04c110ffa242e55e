"""The Content-Security-Policy holds in a real browser: every page of the accessibility test's
PAGES (other pages added there are covered too), the sign-in, API documentation, follow-up and
administration pages — including the import job page that htmx keeps polling — draw their
maps, charts and tables without a single `securitypolicyviolation` and with nothing refused on
the console. Each page is checked to carry the policy, so a page without one cannot pass."""

from __future__ import annotations

import pytest

from obmi.demo import DEMO_PASSWORD

from .browser_support import TIMEOUT_MS, sign_in, watch
from .test_accessibility import ADMIN_PAGES, DRAWN, PAGES

# Collects what the policy refused, from the first script on (Playwright's init scripts are not
# subject to the page's policy).
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  `${e.violatedDirective} refused ${e.blockedURI || 'inline'} at ${e.sourceFile || '?'}:${e.lineNumber}`
  + (e.sample ? ` (${e.sample})` : '')));"""
OTHER_PUBLIC = {"login": "/login", "api-docs": "/api/docs", "public-plan": "/stad/beleid/demostad",
                "error": "/bestaat-niet", "search-empty": "/zoeken?q=%25"}
SIGNED_IN = {**ADMIN_PAGES, "admin": "/admin", "admin-imports": "/admin/imports", "plans": "/beleid",
             "plan-dashboard": "/beleid/plannen/1", "plan-items": "/beleid/plannen/1/items", "mine": "/beleid/mijn"}
DEMO_ROWS = "indicator,level,area,period,value\npop_total,gemeente,44021,2015,1\n"
# What shows that a page's own script has finished, where DRAWN cannot tell.
READY = {"/api/docs": ".swagger-ui .information-container .title"}


@pytest.fixture
def strict_page(context, request):
    """A page of a context that does not bypass the policy, listening for its violations."""
    context.add_init_script(LISTEN)
    page = watch(context.new_page(), request.node.name)
    page.console_refusals = []
    page.on("console", lambda m: page.console_refusals.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    yield page
    assert not page.js_errors, f"uncaught JavaScript errors on the page: {page.js_errors}"


def visit(page, base_url: str, path: str) -> list[str]:
    """Open `path`, wait until its visuals are drawn, and return what the policy refused."""
    url = base_url + path
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url} answered {response and response.status}"
    policy = response.header_value("content-security-policy") or ""
    assert "script-src 'self'" in policy and "frame-ancestors" in policy, f"{url} has no policy: {policy!r}"
    page.wait_for_load_state("load")
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    if path in READY:
        page.wait_for_selector(READY[path], timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)  # a chart's or map's late work (tooltip handlers, tiles) has run
    return page.evaluate("window.__csp") + page.console_refusals


@pytest.mark.parametrize("name", [*PAGES, *OTHER_PUBLIC])
def test_public_page_satisfies_the_policy(strict_page, base_url, name):
    path = {**PAGES, **OTHER_PUBLIC}[name]
    refused = visit(strict_page, base_url, path)
    strict_page.shots.take(name)
    assert not refused, f"{path}: the Content-Security-Policy refused:\n" + "\n".join(refused)


def test_signed_in_pages_satisfy_the_policy(strict_page, base_url, tmp_path):
    sign_in(strict_page, base_url, "beheerder", DEMO_PASSWORD)
    refused = {path: found for path in SIGNED_IN.values() if (found := visit(strict_page, base_url, path))}

    # The import job page polls its status with htmx: a dry run of one row changes nothing.
    rows = tmp_path / "probe.csv"
    rows.write_text(DEMO_ROWS, encoding="utf-8")
    strict_page.goto(f"{base_url}/admin/imports/nieuw")
    strict_page.get_by_label("Waarnemingen (lang formaat)").check()
    strict_page.get_by_label("Bestand").set_input_files(str(rows))
    strict_page.get_by_label("Proefimport").check()
    strict_page.get_by_role("button", name="Importeren").click()
    strict_page.wait_for_selector("#report[data-status]", timeout=60_000)
    strict_page.shots.take("job")
    job = strict_page.evaluate("window.__csp") + strict_page.console_refusals
    if job:
        refused[strict_page.url] = job
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(
        f"{path}: {line}" for path, lines in refused.items() for line in lines)
