"""The plan reports page (/beleid/plannen/{id}/rapportering) and API through HTTP (FastAPI's
TestClient), on SQLite, with the real shared plan of Turnhout: an editor writes and submits a
text section through the form, a coordinator returns it (a comment is required) and approves it,
a reader sees only approved text and downloads the PDF and XLSX but not the draft, another
organisation gets a 404, a stale edit keeps both texts, and the API's shapes."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from obmi import operations as ops
from obmi.settings import load_settings
from obmi.web.app import create_app
from test_plan_web import Site, text_of

from conftest import SHARED, system
from factories import org, user

pytestmark = pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)

PLAN_FILE = SHARED / "plans" / "13040.json"
RISK = "Twee leningen worden herzien tegen een hogere rentevoet."


@pytest.fixture
def site(empty_db, tmp_path):
    db = empty_db
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")})
    root = system(db, settings)
    org(root, "turnhout", "Turnhout", host=True)
    org(root, "mechelen", "Mechelen")
    coco = user(root, "coco", "coordinator", org="turnhout")
    user(root, "an", "editor", org="turnhout")
    user(root, "lezer", "reader", org="turnhout")
    user(root, "mecoco", "coordinator", org="mechelen")
    plan_id = ops.import_plan(coco, [PLAN_FILE], organisation="turnhout").plan_id
    ops.add_reporting_periods(coco, range(2026, 2028), organisation="turnhout")
    app = create_app(settings, db)
    return {"app": app, "plan": plan_id, "url": f"/beleid/plannen/{plan_id}/rapportering"}


def browser(site, name: str) -> Site:
    return Site(site["app"]).sign_in(name)


def section_form(site, who: Site, code: str, text: str, version: int, action: str = "save"):
    return who.post(f"{site['url']}/secties", {"rapport": "opvolging", "periode": "2026", "code": code,
                                               "tekst": text, "expected_version": str(version), "action": action},
                    token_from=f"{site['url']}?periode=2026")


def sections(site, who: Site) -> dict[str, dict]:
    response = who.api("GET", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections")
    assert response.status_code == 200, response.text
    return {row["code"]: row for row in response.json()["data"]}


def test_an_editor_writes_a_coordinator_returns_and_approves_a_reader_reads(site):
    an, coco, lezer = browser(site, "an"), browser(site, "coco"), browser(site, "lezer")
    page = an.get(f"{site['url']}?periode=2026")
    assert page.status_code == 200
    assert "Gewijzigde financiële risico's" in text_of(page.text) and page.text.count("<textarea") == 2
    response = section_form(site, an, "financiele_risicos", RISK, 0, action="submit")
    assert response.status_code == 303 and "bewaard=ingediend" in response.headers["location"]
    row = sections(site, an)["financiele_risicos"]
    assert row["state"] == "submitted" and row["body"] == RISK
    # The reader sees the section, not yet its text, and no forms.
    page = lezer.get(f"{site['url']}?periode=2026")
    assert RISK not in page.text and "<textarea" not in page.text and "Nog geen goedgekeurde tekst." in page.text
    assert sections(site, lezer)["financiele_risicos"]["body"] == ""
    # Returned without a comment: refused on the page (422), nothing changes.
    decide = f"{site['url']}/secties/{row['id']}/beslissing"
    form = {"rapport": "opvolging", "periode": "2026", "code": "financiele_risicos",
            "expected_version": str(row["row_version"])}
    refused = coco.post(decide, {**form, "beslissing": "return"}, token_from=f"{site['url']}?periode=2026")
    assert refused.status_code == 422 and "Dit werd niet bewaard." in refused.text
    assert sections(site, coco)["financiele_risicos"]["state"] == "submitted"
    returned = coco.post(decide, {**form, "beslissing": "return", "commentaar": "Welke leningen?"},
                         token_from=f"{site['url']}?periode=2026")
    assert returned.status_code == 303
    page = an.get(f"{site['url']}?periode=2026")
    assert "Welke leningen?" in page.text and "teruggestuurd" in text_of(page.text)
    version = sections(site, an)["financiele_risicos"]["row_version"]
    assert section_form(site, an, "financiele_risicos", RISK, version, action="submit").status_code == 303
    row = sections(site, an)["financiele_risicos"]
    approved = coco.post(decide, {**form, "beslissing": "approve", "expected_version": str(row["row_version"])},
                         token_from=f"{site['url']}?periode=2026")
    assert approved.status_code == 303
    page = lezer.get(f"{site['url']}?periode=2026")
    assert RISK in page.text and "goedgekeurd" in text_of(page.text)
    # The downloads: the PDF carries the approved text; the draft PDF is for writers.
    pdf = lezer.get(f"{site['url']}/opvolging/2026.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-", "-"], input=pdf.content,
                          capture_output=True, check=True).stdout.decode()
    assert RISK in " ".join(text.split())
    assert lezer.get(f"{site['url']}/opvolging/2026.pdf?ontwerp=1").status_code == 403
    assert an.get(f"{site['url']}/opvolging/2026.pdf?ontwerp=1").status_code == 200
    book = load_workbook(io.BytesIO(lezer.get(f"{site['url']}/opvolging/2026.xlsx?lang=en").content))
    assert book.sheetnames[0] == "Key figures"
    assert lezer.get(f"{site['url']}/opvolging/2040.pdf").status_code == 422
    assert lezer.get(f"{site['url']}/opvolging/2026.docx").status_code == 422


def test_a_stale_edit_keeps_both_texts_and_other_organisations_see_nothing(site):
    an, coco = browser(site, "an"), browser(site, "coco")
    assert section_form(site, an, "wijzigingen_veronderstellingen", "De versie van An.", 0).status_code == 303
    stale = section_form(site, coco, "wijzigingen_veronderstellingen", "De versie van Coco.", 0)
    assert stale.status_code == 409
    shown = text_of(stale.text)
    assert "De versie van An." in shown and "De versie van Coco." in shown and "iemand anders" in shown
    assert sections(site, an)["wijzigingen_veronderstellingen"]["body"] == "De versie van An."
    # Through the API: 409 with both versions and the version to send to overwrite.
    response = coco.api("PUT", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections/"
                               "wijzigingen_veronderstellingen", json={"body": "Nog een versie.", "expected_version": 0})
    assert response.status_code == 409 and response.json()["theirs_version"] == 1
    response = coco.api("PUT", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections/"
                               "wijzigingen_veronderstellingen",
                        json={"body": "Nog een versie.", "expected_version": 1, "submit": True})
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    response = coco.api("POST", f"/api/v1/report-sections/{response.json()['id']}/decision",
                        json={"decision": "approve"})
    assert response.status_code == 200 and response.json()["state"] == "approved"
    response = an.api("POST", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections",
                      json={"title_nl": "Personeel", "body": "Twaalf vacatures."})
    assert response.status_code == 201 and response.json()["code"] == "personeel"
    response = an.api("PUT", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections/personeel",
                      json={"body": "x", "expected_version": 1, "onbekend": 1})
    assert response.status_code == 422
    xlsx = an.api("GET", f"/api/v1/plans/{site['plan']}/reports/college/2026-S1.xlsx")
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "Kerncijfers"
    # Another organisation: not found, on the page, the files and the API.
    other = browser(site, "mecoco")
    assert other.get(f"{site['url']}?periode=2026").status_code == 404
    assert other.get(f"{site['url']}/opvolging/2026.pdf").status_code == 404
    assert other.api("GET", f"/api/v1/plans/{site['plan']}/reports/opvolging/2026/sections").status_code == 404
    anonymous = TestClient(site["app"], follow_redirects=False)
    assert anonymous.get(f"/api/v1/plans/{site['plan']}/reports/opvolging/2026.pdf").status_code == 401
