"""WCAG 2.1 A/AA checks with axe-core (vendored at tests/vendor/axe.min.js) on the main public
pages, run once each page has drawn its maps and charts, and on the login page and the
administration pages. Serious and critical violations fail the public pages; the login and
administration pages (forms and tables only) must have none at all. The full axe results of
every page are kept under artifacts/axe/."""

from __future__ import annotations

import json

import pytest

from obmi.demo import DEMO_PASSWORD

from .browser_support import AXE_JS, AXE_RESULTS, READY, TIMEOUT_MS, sign_in, slug

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

# Resolves once every visual on the page is drawn: the triptych, small multiples, tiles, sparklines.
DRAWN = """() => {
  const triptych = document.getElementById('triptych');
  if (triptych && triptych.dataset.ready !== 'true') return false;
  const locator = document.getElementById('locator');  // the fact sheet's locator map
  if (locator && locator.dataset.ready !== 'true') return false;
  const multiples = document.getElementById('multiples');
  if (multiples && !multiples.querySelector('svg')) return false;
  for (const el of document.querySelectorAll('[data-tile]')) {
    const tile = el.closest('.tile');
    if (!tile) continue;
    if ((tile.classList.contains('tile-line') || tile.classList.contains('tile-bar')) && !el.querySelector('svg')) return false;
    if (tile.classList.contains('tile-map') && !el.querySelector('path.leaflet-interactive')) return false;
  }
  for (const el of document.querySelectorAll('.spark[data-series]')) {
    const known = JSON.parse(el.dataset.series).filter((v) => v !== null).length;
    if (known >= 2 && !el.querySelector('svg')) return false;
  }
  return true;
}"""

PAGES = {
    "home": "/",
    "indicator": "/indicatoren/share_65plus?area=44021",
    "factsheet": "/gebieden/gemeente/44021",
    "compare": "/vergelijk?area=gemeente:44021&area=gemeente:11002&area=gewest:2000",
    "dashboard": "/dashboards/demografie",
    "story": "/verhalen/vergrijzing-centrumsteden",
    "search": "/zoeken?q=gent+inkomen",
    # the index pages behind the navigation and breadcrumbs (issue 11)
    "indicator-index": "/indicatoren", "theme-index": "/themas", "area-index": "/gebieden",
    "level-index": "/gebieden/gemeente", "dashboard-index": "/dashboards", "story-index": "/verhalen",
    "two-indicators": "/kaart?x=share_non_belgian&y=inc_mean_per_inhabitant&area=44021",
    "area-report": "/rapporten/gemeenterapport/gemeente/44021", "report-index": "/rapporten",
    "table-builder": "/tabel?indicator=v2506_gas_res_n,vp2506_gas_res_n&level=ggw72024&within=gemeente:11002&ref=gemeente",
}


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(t) if isinstance(t, list) else t for n in v["nodes"][:3] for t in n["target"][:1]]
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({len(v['nodes'])} nodes) targets: {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violations(page, base_url, name):
    response = page.goto(base_url + PAGES[name])
    assert response is not None and response.ok, f"{PAGES[name]} answered {response and response.status}"
    if name == "indicator":
        page.wait_for_selector(READY, state="attached")
        page.wait_for_selector("#series svg", state="attached")
    page.wait_for_load_state("load")  # every script has run; DRAWN then waits for what they draw
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    page.shots.take(name)

    results = run_axe(page, name)
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe: serious/critical WCAG 2.1 AA violations on {PAGES[name]}:\n{describe(failing)}"


def run_axe(page, name: str) -> dict:
    # Evaluated, not added as a <script> tag: the site's Content-Security-Policy refuses inline scripts.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    results = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return {url: r.url, testEngine: r.testEngine, violations: r.violations, incomplete: r.incomplete,
                passes: r.passes.map((p) => ({id: p.id, nodes: p.nodes.length})),
                inapplicable: r.inapplicable.map((p) => p.id)};
    }""", TAGS)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{slug(name)}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    assert results["passes"], "axe ran no check at all"
    return results


def test_login_page_has_no_accessibility_violations(page, base_url):
    page.goto(f"{base_url}/login?next=/admin")
    page.get_by_label("Wachtwoord").wait_for()
    page.shots.take("login")
    results = run_axe(page, "login")
    assert not results["violations"], f"axe: WCAG 2.1 AA violations on /login:\n{describe(results['violations'])}"

    # The same page after a refused attempt: the alert and the fields marked invalid.
    page.get_by_label("Gebruikersnaam").fill("lezer")
    page.get_by_label("Wachtwoord").fill("fout")
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("alert").wait_for()
    results = run_axe(page, "login-refused")
    assert not results["violations"], f"axe: violations on the refused login:\n{describe(results['violations'])}"


ADMIN_PAGES = {"admin-users": "/admin/gebruikers", "admin-user": "/admin/gebruikers/analist",
               "admin-upload": "/admin/imports/nieuw", "admin-audit": "/admin/audit"}


def test_admin_pages_have_no_accessibility_violations(page, base_url):
    sign_in(page, base_url, "beheerder", DEMO_PASSWORD)
    for name, path in ADMIN_PAGES.items():
        response = page.goto(base_url + path)
        assert response is not None and response.ok, f"{path} answered {response and response.status}"
        page.locator("nav.admin-nav").wait_for()
        page.shots.take(name)
        results = run_axe(page, name)
        assert not results["violations"], f"axe: WCAG 2.1 AA violations on {path}:\n{describe(results['violations'])}"
