"""The finance pages in a real browser (Playwright driving Debian's Chromium) on a server of
their own with the real shared plan of Turnhout and a finance export written here from that plan's
own yearly amounts (ramingen on operating or investment accounts, a tax income line, a loan and
its repayments, realisaties for the first two quarters of 2026). A coordinator signs in, reads the
overview, the reconciliation and the balance checks, enters an input for the balance, and axe-core
finds no serious or critical WCAG 2.1 AA violation on the three pages."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date

import pytest

from obmi import operations as ops
from obmi.context import system_context
from obmi.settings import load_settings
from obmi.store import open_database
from obmi.web.app import create_app
from obmi.web.i18n import number

from .browser_support import LiveServer, free_port, sign_in, watch
from .test_accessibility import FAILING_IMPACTS, describe, run_axe

PASSWORD = "een-lang-testwachtwoord"
YEAR = 2026


def finance_rows(records: list[dict]) -> list[list[object]]:
    """Ramingen from the plan's own amounts (acties whose code is unambiguous in the file) and
    realisaties for quarters 1 and 2 of 2026 (a fifth and a quarter of the raming)."""
    once = {code for code, n in Counter(r["ac_code"] for r in records).items() if n == 1}
    rows: list[list[object]] = [["actie", "jaar", "kwartaal", "algemene rekening", "uitgave/ontvangst", "bedrag",
                                 "raming/realisatie"]]
    totals: Counter = Counter()
    for record in records:
        if record["ac_code"] not in once:
            continue
        account = "6100000" if record["ap_short"] == "Reguliere werking" else "2200000"
        for year, amount in record["yearly_amounts"].items():
            if amount:
                rows.append([record["ac_code"], year, "", account, "U", f"{amount:.2f}".replace(".", ","), "raming"])
                totals[int(year)] += amount
        planned = record["yearly_amounts"].get(str(YEAR)) or 0
        for quarter, share in ((1, 0.2), (2, 0.25)):
            if planned:
                rows.append([record["ac_code"], YEAR, quarter, account, "U", f"{planned * share:.2f}".replace(".", ","),
                             "realisatie"])
    income = next(r["ac_code"] for r in records if r["ac_code"] in once)
    for year, total in totals.items():  # taxes that cover the plan with a margin: the balance holds
        rows.append([income, year, "", "7300000", "O", f"{total * 1.1:.2f}".replace(".", ","), "raming"])
    return rows


@pytest.fixture(scope="module")
def finance_world(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("finance-browser")
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(folder / "outbox")})
    db = open_database(f"sqlite:///{folder / 'obmi.db'}")
    root = system_context(db, settings, "test-setup")
    ops.upgrade_database(root)
    ops.add_organisation(root, "turnhout", "Turnhout", host=True)
    ops.add_user(root, "coord", roles=["coordinator"], organisation="turnhout", password=PASSWORD,
                 email="coord@example.invalid")
    coord = root.acting_as(ops.identify_cli_user(root, "coord"))
    source = shared_data / "plans" / "13040.json"
    plan = ops.import_plan(coord, [source], organisation="turnhout")
    rows = finance_rows(json.loads(source.read_text(encoding="utf-8")))
    path = folder / "financien.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    ops.import_finance(coord, [path], organisation="turnhout", today=date(YEAR, 12, 1))
    planned = sum(float(str(r[5]).replace(",", ".")) for r in rows[1:]
                  if r[6] == "raming" and int(r[1]) == YEAR and r[4] == "U")
    realised = sum(float(str(r[5]).replace(",", ".")) for r in rows[1:] if r[6] == "realisatie")
    server = LiveServer(create_app(settings, db), free_port())
    server.start()
    try:
        yield {"url": server.url, "plan": plan.plan_id, "planned": planned, "realised": realised}
    finally:
        server.stop()
        db.dispose()


@pytest.fixture
def coordinator(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-BE")
    page = watch(context.new_page(), request.node.name)
    yield page
    try:
        page.shots.take("end")
    finally:
        context.close()
    assert not page.js_errors, f"uncaught JavaScript errors on the page: {page.js_errors}"


def test_finance_pages_show_the_figures_and_pass_axe(finance_world, coordinator):
    page, url, plan = coordinator, finance_world["url"], finance_world["plan"]
    sign_in(page, url, "coord", PASSWORD, f"/beleid/plannen/{plan}/financien?jaar={YEAR}")
    figures = page.locator(".key-figures")
    assert f"€ {number(finance_world['planned'], 0, 'nl')}" in figures.inner_text()
    assert f"€ {number(finance_world['realised'], 0, 'nl')}" in figures.inner_text()
    rate = finance_world["realised"] / finance_world["planned"] * 100
    assert f"{number(rate, 0 if abs(rate - round(rate)) < 0.05 else 1, 'nl')} %" in figures.inner_text()
    assert "Realisaties geboekt tot en met kwartaal 2" in page.content()
    results = {"overzicht": run_axe(page, "finance-overview")}
    page.shots.take("overview")

    page.get_by_role("link", name="Aansluiting met het plan").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Aansluiting met het plan")
    assert "Onverklaard" in page.content()
    results["aansluiting"] = run_axe(page, "finance-reconciliation")

    page.get_by_role("link", name="Financieel evenwicht").click()
    checks = page.locator(".checks").inner_text()
    assert "Toestandsevenwicht" in checks and "voldaan" in checks
    page.get_by_label("Onbeschikbare gelden").fill("1.000,50")
    with page.expect_navigation():
        page.get_by_role("button", name="Bewaar").click()
    assert "De gegevens voor het evenwicht zijn bewaard" in page.content()
    assert f"€ {number(1000.5, 0, 'nl')}" in page.locator("table.data").first.inner_text()
    results["evenwicht"] = run_axe(page, "finance-balance")
    page.shots.take("balance")
    failing = {name: [v for v in r["violations"] if v["impact"] in FAILING_IMPACTS] for name, r in results.items()}
    assert not any(failing.values()), "\n".join(f"{name}:\n{describe(v)}" for name, v in failing.items() if v)


def test_the_report_page_writes_approves_and_downloads_and_passes_axe(finance_world, coordinator):
    page, url, plan = coordinator, finance_world["url"], finance_world["plan"]
    sign_in(page, url, "coord", PASSWORD, f"/beleid/plannen/{plan}")
    page.get_by_role("link", name="Rapportering: opvolgingsrapportering en rapportering aan het college").click()
    page.get_by_label("Jaar of periode").select_option(str(YEAR))
    with page.expect_navigation():
        page.get_by_role("button", name="Toon").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Opvolgingsrapportering")
    risks = page.locator("#sectie-financiele_risicos")
    risks.get_by_label("Tekst").fill("De rente op de nieuwe lening ligt een procentpunt hoger.")
    with page.expect_navigation():
        risks.get_by_role("button", name="Bewaar en dien in").click()
    assert "De tekst is ingediend ter goedkeuring." in page.get_by_role("status").inner_text()
    with page.expect_navigation():
        page.locator("#sectie-financiele_risicos").get_by_role("button", name="Goedkeuren").click()
    assert "goedgekeurd" in page.locator("#sectie-financiele_risicos").inner_text()
    results = run_axe(page, "report-page")
    page.shots.take("report")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF (toegankelijk, A4)").click()
    pdf = download.value.path().read_bytes()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, describe(failing)
