"""The administration pages in a real browser: sign in with a local account, upload a real
Statbel file, follow the import's progress until its report appears, check the report's figures
against the file itself, sign out — after which /admin sends the browser to the login page."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest

from obmi.demo import DEMO_PASSWORD

from .browser_support import sign_in

STATBEL_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "statbel" / "TF_SOC_POP_STRUCT_2015.txt.gz"
WALLONIA = "3000"  # a region the demo's geography does not hold: its rows are skipped, not rejected


def dutch(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def file_figures(path: Path) -> dict[str, int]:
    """What the report must say, read from the file itself: data rows, and rows of Wallonia."""
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="|"))
    skipped = sum(1 for r in rows if r["CD_RGN_REFNIS"] == WALLONIA)
    return {"rows_in": len(rows), "rows_skipped": skipped, "rows_ok": len(rows) - skipped}


def count(page, name: str) -> str:
    return page.locator(f'#report td[data-count="{name}"]').inner_text().strip()


def test_coordinator_uploads_a_statbel_file_and_sees_its_report_then_signs_out(page, base_url):
    # Not signed in: /admin is never served, the browser lands on the login page.
    page.goto(f"{base_url}/admin")
    assert re.search(r"/login\?next=%2Fadmin$", page.url), page.url
    assert page.get_by_role("heading", name="Aanmelden").is_visible()
    page.shots.take("login")

    page.get_by_label("Gebruikersnaam").fill("coordinator")
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base_url}/admin")
    assert page.locator("header nav.account .who").inner_text().strip().endswith("coordinator")
    page.shots.take("overview")

    page.locator("nav.admin-nav").get_by_role("link", name="Nieuwe import").click()
    page.wait_for_url(re.compile(r"/admin/imports/nieuw"))
    page.get_by_label("Statbel open data").check()
    page.get_by_label("Bestand").set_input_files(str(STATBEL_FILE))
    page.shots.take("upload-form")
    page.get_by_role("button", name="Importeren").click()

    page.wait_for_url(re.compile(r"/admin/imports/taken/[\w-]+"))
    assert page.get_by_role("heading", name=f"Import van {STATBEL_FILE.name}").is_visible()
    page.shots.take("progress")
    # The job page polls its status fragment until the report replaces it (no waiting on the network).
    page.wait_for_selector("#report[data-status]", timeout=120_000)
    page.shots.take("report")

    expected = file_figures(STATBEL_FILE)
    assert expected["rows_in"] > 400_000 and expected["rows_skipped"] > 100_000
    status = page.locator("#report").get_attribute("data-status")
    assert status in ("ok", "no_change"), page.locator("#report").inner_text()
    assert count(page, "rows_in") == dutch(expected["rows_in"])
    assert count(page, "rows_skipped") == dutch(expected["rows_skipped"])
    assert count(page, "rows_ok") == dutch(expected["rows_ok"])
    assert count(page, "rejected") == "0"
    stored = sum(int(count(page, k).replace(".", "")) for k in ("inserted", "updated", "unchanged"))
    assert stored > 0, "the report counts no value at all"
    notes = page.locator("#report ul.notes").inner_text()
    assert "skipped" in notes and WALLONIA in notes
    assert page.locator("#job").get_attribute("hx-trigger") is None, "a finished job must stop polling"

    # The same run is the newest in the provenance list, with the same figures.
    page.locator("#report").get_by_role("link", name=re.compile(r"Details van import \d+")).click()
    page.wait_for_url(re.compile(r"/admin/imports/\d+"))
    assert page.get_by_role("heading", name=re.compile(STATBEL_FILE.name)).is_visible()
    assert page.locator('td[data-count="rows_in"]').inner_text().strip() == dutch(expected["rows_in"])
    page.shots.take("run-details")

    # Sign out through the header: a confirmation page, then the session is over.
    page.locator("header nav.account").get_by_role("link", name="Afmelden").click()
    page.wait_for_url(re.compile(r"/logout"))
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(re.compile(r"/login\?afgemeld=1"))
    assert page.get_by_role("status").filter(has_text="U bent afgemeld").is_visible()
    assert page.locator("header nav.account").get_by_role("link", name="Aanmelden").is_visible()
    page.shots.take("signed-out")

    page.goto(f"{base_url}/admin")
    assert re.search(r"/login\?next=%2Fadmin$", page.url), page.url
    page.goto(f"{base_url}/admin/imports")
    assert "/login?next=%2Fadmin%2Fimports" in page.url


def test_wrong_password_is_refused_with_a_message(page, base_url):
    page.goto(f"{base_url}/login?next=/admin/imports")
    page.get_by_label("Gebruikersnaam").fill("analist")
    page.get_by_label("Wachtwoord").fill("niet-het-wachtwoord")
    page.get_by_role("button", name="Aanmelden").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Onbekende gebruikersnaam of verkeerd wachtwoord" in alert.inner_text()
    assert page.get_by_label("Gebruikersnaam").input_value() == "analist"
    assert page.get_by_label("Wachtwoord").get_attribute("aria-invalid") == "true"
    page.shots.take("wrong-password")
    # The target survives the failed attempt: the next, correct one goes there.
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base_url}/admin/imports")


def test_administrator_adds_a_user_on_the_users_page(page, base_url):
    sign_in(page, base_url, "beheerder", DEMO_PASSWORD, "/admin/gebruikers")
    assert page.url == f"{base_url}/admin/gebruikers"
    table = page.locator("table.data")
    for name in ("beheerder", "coordinator", "analist", "redacteur", "lezer"):
        assert table.get_by_role("link", name=name, exact=True).count() == 1
    page.shots.take("users")

    form = page.locator("form", has=page.get_by_role("button", name="Gebruiker toevoegen"))
    form.get_by_label("Gebruikersnaam", exact=True).fill("nieuwe.analist")
    form.get_by_label("Volledige naam").fill("Nieuwe Analist")
    form.get_by_label("E-mailadres", exact=True).fill("nieuwe.analist@demostad.invalid")
    form.get_by_label("Analist", exact=True).check()
    form.get_by_label("Lezer", exact=True).uncheck()
    form.get_by_label("Groepen", exact=True).fill("welzijn, wonen")
    form.get_by_role("button", name="Gebruiker toevoegen").click()

    page.wait_for_url(re.compile(r"/admin/gebruikers/nieuwe\.analist\?"))
    status = page.get_by_role("status").first
    assert "toegevoegd" in status.inner_text()
    assert "gemaild naar nieuwe.analist@demostad.invalid" in page.locator("main").inner_text()
    facts = page.locator("dl.facts").inner_text()
    assert "Analist" in facts and "welzijn, wonen" in facts and "demostad" in facts
    page.shots.take("user-added")
    # The login page works in English too (the language choice is remembered in a cookie).
    page.goto(f"{base_url}/admin?lang=en")
    assert page.get_by_role("heading", name="Administration").is_visible()
    page.goto(f"{base_url}/admin?lang=nl")


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}])
def test_admin_pages_fit_a_phone(page, base_url):
    sign_in(page, base_url, "beheerder", DEMO_PASSWORD)
    for path in ("/admin", "/admin/gebruikers", "/admin/gebruikers/analist", "/admin/imports", "/admin/audit"):
        page.goto(base_url + path)
        page.locator("nav.admin-nav").wait_for()
        widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
        assert widths["scroll"] <= widths["inner"] + 1, (path, widths)
        assert page.locator("main h1").is_visible()
        page.shots.take("phone-" + path.strip("/").replace("/", "-"))


def test_a_new_api_token_is_shown_once_and_works(page, base_url, api):
    sign_in(page, base_url, "beheerder", DEMO_PASSWORD, "/admin/tokens")
    form = page.locator("form", has=page.get_by_role("button", name="Sleutel aanmaken"))
    form.get_by_label("Gebruiker").select_option("analist")
    form.get_by_label("Waarvoor (naam)").fill("Power BI-rapport")
    form.get_by_role("button", name="Sleutel aanmaken").click()
    shown = page.get_by_label(re.compile(r"Sleutel voor analist"))
    shown.wait_for()
    token = shown.input_value()
    assert token.startswith("obmi_") and len(token) > 40
    assert "maar één keer getoond" in page.locator(".created-token").inner_text()
    page.shots.take("token-created")
    assert api.get("/api/v1/indicators", headers={"authorization": f"Bearer {token}"}).status_code == 200

    page.goto(f"{base_url}/admin/tokens")
    assert token not in page.content()
    row = page.locator("table.data tbody tr", has_text="Power BI-rapport")
    assert row.locator("code").inner_text().rstrip("…") == token[:11]
    row.get_by_role("button", name=re.compile("intrekken")).click()
    page.get_by_role("status").filter(has_text="ingetrokken").wait_for()
    assert api.get("/api/v1/indicators", headers={"authorization": f"Bearer {token}"}).status_code == 401
