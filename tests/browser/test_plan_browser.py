"""The follow-up pages in a real browser (Playwright driving Debian's Chromium) on a server of
their own with the real shared plan of Mechelen: an owner signs in and submits a status update
on their action, a coordinator signs in and approves it from the college dashboard, after which
the dashboard counts the new status. axe-core then finds no serious or critical WCAG 2.1 AA
violation on the dashboard, the item page, the item list and "mijn rapporteringen"."""

from __future__ import annotations

import re
from datetime import date

import pytest

from obmi import operations as ops
from obmi.context import system_context
from obmi.settings import load_settings
from obmi.store import open_database
from obmi.web.app import create_app

from .browser_support import TIMEOUT_MS, LiveServer, free_port, sign_in, watch
from .test_accessibility import FAILING_IMPACTS, describe, run_axe

PASSWORD = "een-lang-testwachtwoord"
CHARTS_DRAWN = ("() => !document.getElementById('plan-charts') || "
                "['ready', 'failed', 'none'].includes(document.documentElement.dataset.planCharts)")


@pytest.fixture(scope="module")
def plan_world(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("plan-browser")
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(folder / "outbox")})
    db = open_database(f"sqlite:///{folder / 'obmi.db'}")
    root = system_context(db, settings, "test-setup")
    ops.upgrade_database(root)
    ops.add_organisation(root, "mechelen", "Mechelen", host=True)
    for name, role in (("coord", "coordinator"), ("eigenaar", "editor")):
        ops.add_user(root, name, roles=[role], organisation="mechelen", password=PASSWORD, email=f"{name}@example.invalid")
    coord = root.acting_as(ops.identify_cli_user(root, "coord"))
    result = ops.import_plan(coord, [shared_data / "plans" / "12025.json"], organisation="mechelen")
    ops.add_reporting_periods(coord, range(2026, 2028), scheme="semester", organisation="mechelen")
    rows = ops.plan_items(coord, result.plan_id).items
    action = next(r for r in rows if r["kind"] == "actie")
    ops.update_item(coord, action["id"], expected_version=action["row_version"], owner="eigenaar", priority=True,
                    publish=True)
    kpi = ops.add_kpi(coord, action["id"], kind="manual", name="Gerenoveerde woningen", unit_label="woningen",
                      targets={2027: 120}, baseline=10)
    owner = root.acting_as(ops.identify_cli_user(root, "eigenaar"))
    ops.record_measurement(owner, kpi["id"], "2026-S1", value=35)
    ops.record_measurement(owner, kpi["id"], "2026-S2", value=70)
    first = ops.add_milestone(coord, action["id"], title="Ontwerp goedgekeurd", planned_start=date(2026, 1, 1),
                              planned_end=date(2026, 6, 30))
    ops.add_milestone(coord, action["id"], title="Aanbesteding", planned_start=date(2026, 7, 1),
                      planned_end=date(2027, 3, 31), depends_on=[first["id"]])
    ops.update_milestone(owner, first["id"], expected_version=first["row_version"], actual_start=date(2026, 2, 1),
                         actual_end=date(2026, 8, 14))
    server = LiveServer(create_app(settings, db), free_port())
    server.start()
    try:
        yield {"url": server.url, "plan": result.plan_id, "item": action["id"], "code": action["code"]}
    finally:
        server.stop()
        db.dispose()


@pytest.fixture
def coordinator_page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-BE")
    context.set_default_timeout(TIMEOUT_MS)
    page = watch(context.new_page(), request.node.name + "-coordinator")
    yield page
    try:
        page.shots.take("end")
    finally:
        context.close()
    assert not page.js_errors, f"uncaught JavaScript errors on the page: {page.js_errors}"


def drawn(page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_function(CHARTS_DRAWN, timeout=TIMEOUT_MS)


def test_owner_submits_coordinator_approves_and_the_dashboard_shows_it(page, coordinator_page, plan_world):
    base, item = plan_world["url"], plan_world["item"]
    sign_in(page, base, "eigenaar", PASSWORD, next_path=f"/beleid/items/{item}")
    assert page.get_by_role("heading", name=re.compile(plan_world["code"])).is_visible()
    page.get_by_label("Status", exact=True).select_option(label="Op schema")
    page.get_by_label("Voortgang (%)").fill("55")
    page.get_by_label("Toelichting").fill("Het ontwerp is goedgekeurd; de aanbesteding is voorbereid.")
    page.get_by_label("Knelpunten").fill("")
    page.shots.take("status-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Indienen ter goedkeuring").click()
    assert page.get_by_role("status").filter(has_text="ingediend ter goedkeuring").is_visible()
    assert "ingediend" in page.locator("#rapporteringen tbody tr").first.inner_text()
    page.shots.take("submitted")

    coordinator = coordinator_page
    sign_in(coordinator, base, "coord", PASSWORD, next_path=f"/beleid/plannen/{plan_world['plan']}")
    drawn(coordinator)
    awaiting = coordinator.locator("#goedkeuring tbody tr").filter(has_text=plan_world["code"])
    assert awaiting.count() == 1, coordinator.locator("#goedkeuring").inner_text()
    coordinator.shots.take("awaiting")
    with coordinator.expect_navigation():
        awaiting.get_by_role("button", name=re.compile("^Goedkeuren")).click()
    assert coordinator.get_by_role("status").filter(has_text="goedgekeurd").is_visible()
    drawn(coordinator)
    counts = coordinator.locator("#dash-status-title").locator("xpath=..").locator("table tbody tr")
    on_track = counts.filter(has_text="Op schema")
    assert on_track.locator("td.num").inner_text().strip() == "1"
    assert "Wacht op goedkeuring (0)" in coordinator.locator("#dash-awaiting-title").inner_text()
    assert coordinator.locator("[data-plan-chart=status] svg").count() == 1, "the status chart was not drawn"
    coordinator.shots.take("approved")

    # The owner's item page now shows the approved figure; the public page too.
    page.goto(f"{base}/beleid/items/{item}")
    assert "55 %" in page.locator(".item-facts").inner_text()
    page.goto(f"{base}/stad/beleid/mechelen")
    assert "Op schema" in page.locator("table.plan-items").inner_text()


@pytest.mark.parametrize("who", ["eigenaar", "coord"])
def test_plan_pages_have_no_serious_accessibility_violations(page, plan_world, who):
    base = plan_world["url"]
    pages = {"dashboard": f"/beleid/plannen/{plan_world['plan']}", "item": f"/beleid/items/{plan_world['item']}",
             "items": f"/beleid/plannen/{plan_world['plan']}/items", "mine": "/beleid/mijn"}
    if who == "coord":
        pages.update(settings="/beleid/instellingen", public="/stad/beleid/mechelen", plans="/beleid")
    sign_in(page, base, who, PASSWORD, next_path="/beleid")
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path} answered {response and response.status}"
        drawn(page)
        page.shots.take(f"{who}-{name}")
        results = run_axe(page, f"plan-{who}-{name}")
        failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
        assert not failing, f"axe: serious/critical WCAG 2.1 AA violations on {path}:\n{describe(failing)}"
