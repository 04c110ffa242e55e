"""WCAG 2.1 A/AA checks with axe-core (vendored at tests/vendor/axe.min.js) on the main public
pages, run once each page has drawn its maps and charts. Serious and critical violations fail;
the full axe results of every page are kept under artifacts/axe/."""

from __future__ import annotations

import json

import pytest

from .browser_support import AXE_JS, AXE_RESULTS, READY, TIMEOUT_MS, slug

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

# Resolves once every visual on the page is drawn: the triptych, small multiples, tiles, sparklines.
DRAWN = """() => {
  const triptych = document.getElementById('triptych');
  if (triptych && triptych.dataset.ready !== 'true') return false;
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
    page.wait_for_load_state("networkidle")
    page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    page.shots.take(name)

    page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return {url: r.url, testEngine: r.testEngine, violations: r.violations, incomplete: r.incomplete,
                passes: r.passes.map((p) => ({id: p.id, nodes: p.nodes.length})),
                inapplicable: r.inapplicable.map((p) => p.id)};
    }""", TAGS)
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{slug(name)}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")

    assert results["passes"], "axe ran no check at all"
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe: serious/critical WCAG 2.1 AA violations on {PAGES[name]}:\n{describe(failing)}"
