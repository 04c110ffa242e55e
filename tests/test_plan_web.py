"""The follow-up pages (beleidsopvolging) and their JSON API through HTTP (FastAPI's TestClient),
on SQLite, with the real shared plan of Mechelen imported through the operations: which pages
the owner and the coordinator get, the status workflow through the forms (submit, approve,
"geen wijziging"), the public transparency page showing published and approved items only,
the API's shapes against their schemas, refusals (the owner of another item, the anonymous
public, another organisation), a stale edit answered with both versions, an attachment whose
name lies about its content, a broken status sheet refused with its line numbers, and the plan
import with its dry-run preview.

Pages are asked for as a browser asks (Accept: text/html) and redirects are not followed, so
each test sees exactly what the server answered."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.settings import load_settings
from obmi.web import plans_schemas as schemas
from obmi.web.app import create_app

from conftest import SHARED, system
from factories import PASSWORD, org, user

pytestmark = pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)

PLAN_FILE = SHARED / "plans" / "12025.json"  # Mechelen's meerjarenplan 2026–2031 (BBC export)
HTML = {"accept": "text/html,application/xhtml+xml"}
SECRET_DRAFT = "Concepttekst-NIET-PUBLIEK-4711"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def text_of(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


class Site:
    """One browser on the app: a cookie jar, pages asked for as HTML, redirects not followed."""

    def __init__(self, app):
        self.client = TestClient(app, follow_redirects=False)

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers={**HTML, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, data: dict | None = None, *, token_from: str, files=None):
        page = self.get(token_from)
        assert page.status_code == 200, (token_from, page.status_code, page.text[:500])
        return self.client.post(url, data={**(data or {}), "csrf_token": csrf(page.text)}, files=files, headers=HTML)

    def sign_in(self, name: str) -> Site:
        response = self.post("/login", {"name": name, "password": PASSWORD, "next": "/beleid"}, token_from="/login")
        assert response.status_code == 303, response.text[:500]
        return self

    def api(self, method: str, url: str, *, token_from: str = "/beleid/mijn", **kwargs):
        """An API call with the session cookie and the CSRF header (as the pages' script would)."""
        page = self.get(token_from)
        return self.client.request(method, url, headers={"x-csrf-token": csrf(page.text)}, **kwargs)


class World:
    def __init__(self, db, tmp_path: Path):
        self.settings = load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")})
        self.root = system(db, self.settings)
        org(self.root, "mechelen", "Mechelen", host=True)
        org(self.root, "buur", "Buurgemeente")
        self.coord = user(self.root, "coord", "coordinator", org="mechelen")
        self.owner = user(self.root, "eigenaar", "editor", org="mechelen")
        self.other = user(self.root, "ander", "editor", org="mechelen")
        user(self.root, "buurcoord", "coordinator", org="buur")
        result = ops.import_plan(self.coord, [PLAN_FILE], organisation="mechelen", label="Meerjarenplan")
        assert result.status == "created"
        self.plan_id = result.plan_id
        ops.add_reporting_periods(self.coord, range(2026, 2028), scheme="semester", organisation="mechelen")
        rows = ops.plan_items(self.coord, self.plan_id).items
        actions = [r for r in rows if r["kind"] == "actie"]
        self.mine, self.theirs, self.hidden = actions[0], actions[1], actions[2]
        self.objective = next(r for r in rows if r["kind"] == "beleidsdoelstelling")
        self._set(self.mine, owner="eigenaar", publish=True)
        self._set(self.theirs, owner="ander", publish=True)
        self._set(self.hidden, owner="eigenaar", publish=False)
        self.app = create_app(self.settings, db)

    def _set(self, row: dict, **values) -> None:
        current = ops.item_detail(self.coord, row["id"]).item
        ops.update_item(self.coord, row["id"], expected_version=current["row_version"], **values)

    def site(self, name: str | None = None) -> Site:
        site = Site(self.app)
        return site.sign_in(name) if name else site

    def token(self, name: str, scope: str = "write") -> dict[str, str]:
        created = ops.create_token(self.root, name, scope=scope, name="test")
        return {"authorization": f"Bearer {created.token}"}


@pytest.fixture
def world(empty_db, tmp_path):
    return World(empty_db, tmp_path)


# --- the pages ----------------------------------------------------------------------------------

def test_the_pages_render_for_the_owner_and_the_coordinator(world):
    plan, item = world.plan_id, world.mine["id"]
    pages = ["/beleid", f"/beleid/plannen/{plan}", f"/beleid/plannen/{plan}/items",
             f"/beleid/plannen/{plan}/items?kind=actie&status=niet_gestart&priority=nee&q=mechelen",
             f"/beleid/plannen/{plan}/items?owner=eigenaar", f"/beleid/plannen/{plan}/versies",
             f"/beleid/items/{item}", f"/beleid/items/{world.objective['id']}", "/beleid/mijn"]
    for name in ("eigenaar", "coord"):
        site = world.site(name)
        for url in pages:
            response = site.get(url)
            assert response.status_code == 200, (name, url, response.text[:800])
            assert response.headers["cache-control"].startswith("no-store"), url
            assert '<html lang="nl">' in response.text
    owner, coord = world.site("eigenaar"), world.site("coord")

    dashboard = text_of(coord.get(f"/beleid/plannen/{plan}").text)
    assert "Collegedashboard" in dashboard and "Status van de acties" in dashboard
    assert "Voortgang per beleidsdomein" in dashboard and "Te late rapporteringen" in dashboard

    listing = owner.get(f"/beleid/plannen/{plan}/items?owner=eigenaar")
    assert world.mine["code"] in listing.text and world.theirs["code"] not in listing.text

    page = owner.get(f"/beleid/items/{item}").text
    assert 'name="action" value="submit"' in page and "Geen wijziging" in page  # the owner reports
    assert f"/beleid/items/{item}/instellingen" not in page  # but does not change the settings
    assert "Voortgang: hoe berekend" in page and "Bedragen per jaar" in page
    other = owner.get(f"/beleid/items/{world.theirs['id']}").text
    assert 'name="action" value="submit"' not in other, "another owner's item offers no status form"

    coord_page = coord.get(f"/beleid/items/{item}").text
    assert f"/beleid/items/{item}/instellingen" in coord_page and 'name="expected_version"' in coord_page

    assert coord.get("/beleid/instellingen").status_code == 200
    assert owner.get("/beleid/instellingen").status_code == 403
    anonymous = world.site()
    response = anonymous.get("/beleid")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_owner_submits_coordinator_approves_and_the_dashboard_counts_it(world):
    owner, coord, item = world.site("eigenaar"), world.site("coord"), world.mine["id"]
    page = f"/beleid/items/{item}"
    response = owner.post(f"{page}/status", {"action": "submit", "period": "2026-S2", "status": "Op schema",
                                             "progress": "45", "narrative": "Het ontwerp is klaar.",
                                             "knelpunten": "Aanbesteding loopt vertraging op"},
                          token_from=page)
    assert response.status_code == 303, response.text[:1000]
    assert response.headers["location"].startswith(f"{page}?") and "bewaard=ingediend" in response.headers["location"]
    assert "ingediend ter goedkeuring" in text_of(owner.get(response.headers["location"]).text)

    dashboard = coord.get(f"/beleid/plannen/{world.plan_id}").text
    assert "Wacht op goedkeuring (1)" in text_of(dashboard)
    update_id = int(re.search(r'/beleid/updates/(\d+)/beslissing', dashboard).group(1))
    # Returning needs a comment: the form comes back with its message, nothing changes.
    refused = coord.post(f"/beleid/updates/{update_id}/beslissing", {"decision": "return", "comment": "",
                                                                     "item_id": item}, token_from=page)
    assert refused.status_code == 422 and "Dit werd niet bewaard" in refused.text
    approved = coord.post(f"/beleid/updates/{update_id}/beslissing",
                          {"decision": "approve", "item_id": item, "terug": f"/beleid/plannen/{world.plan_id}"},
                          token_from=f"/beleid/plannen/{world.plan_id}")
    assert approved.status_code == 303 and approved.headers["location"].startswith(f"/beleid/plannen/{world.plan_id}?")

    board = ops.college_dashboard(world.coord, world.plan_id)
    assert board.status_counts["op_schema"] == 1 and not board.awaiting_approval
    after = text_of(coord.get(f"/beleid/plannen/{world.plan_id}").text)
    assert "Wacht op goedkeuring (0)" in after and "Aanbesteding loopt vertraging op" in after  # a knelpunt now
    assert "45 %" in text_of(owner.get(page).text)


def test_geen_wijziging_is_one_click_from_mijn_rapporteringen(world):
    owner = world.site("eigenaar")
    mine = owner.get("/beleid/mijn").text
    assert world.mine["code"] in mine and world.hidden["code"] in mine and world.theirs["code"] not in mine
    response = owner.post(f"/beleid/items/{world.mine['id']}/geen-wijziging", {"period": "2026-S1", "terug": "mijn"},
                          token_from="/beleid/mijn")
    assert response.status_code == 303 and response.headers["location"].startswith("/beleid/mijn?")
    updates = ops.item_detail(world.coord, world.mine["id"]).updates
    assert [(u["period_code"], u["state"], u["no_change"]) for u in updates] == [("2026-S1", "submitted", True)]


def test_the_public_page_shows_only_published_items_and_approved_status(world):
    # The owner's draft says something that must never leave the organisation.
    ops.save_status_update(world.owner, world.mine["id"], period="2026-S1", status="vertraagd", progress=5,
                           narrative=SECRET_DRAFT, knelpunten=SECRET_DRAFT)
    ops.save_status_update(world.other, world.theirs["id"], period="2026-S1", status="risico", progress=30,
                           narrative="ingediend maar niet goedgekeurd", submit=True)
    public = world.site()  # anonymous
    response = public.get("/stad/beleid/mechelen")
    assert response.status_code == 200, response.text[:500]
    page = text_of(response.text)
    assert world.mine["code"] in page and world.theirs["code"] in page
    assert world.hidden["code"] not in page, "an unpublished item appears on the public page"
    assert SECRET_DRAFT not in response.text, "a draft's text appears on the public page"
    assert "Vertraagd" not in page and "Risico" not in page, "a status that was not approved is public"

    # Approved: now it shows, still without the narrative.
    result = ops.save_status_update(world.other, world.theirs["id"], period="2026-S2", status="op_schema", progress=60,
                                    narrative="goedgekeurde toelichting", submit=True)
    ops.decide_status_update(world.coord, result.update["id"], approve=True)
    page = text_of(public.get("/stad/beleid/mechelen").text)
    assert "Op schema" in page and "60 %" in page and "goedgekeurde toelichting" not in page

    api = public.client.get("/api/v1/public/plans/mechelen")
    assert api.status_code == 200
    body = schemas.PublicPlanOut.model_validate(api.json())
    codes = {i.code for i in body.data}
    assert world.mine["code"] in codes and world.hidden["code"] not in codes
    assert SECRET_DRAFT not in api.text
    assert public.get("/stad/beleid/nergens").status_code == 404


# --- the API ------------------------------------------------------------------------------------

def test_api_shapes_match_their_schemas(world):
    headers = world.token("eigenaar", "read")
    client = world.site().client
    plan, item = world.plan_id, world.mine["id"]
    kpi = ops.add_kpi(world.coord, item, kind="manual", name="Woningen gerenoveerd", unit_label="woningen",
                      targets={2027: 100}, baseline=10)
    ops.record_measurement(world.owner, kpi["id"], "2026-S1", value=40)
    cases = [("/api/v1/plans", schemas.PlanList), (f"/api/v1/plans/{plan}/items?kind=actie", schemas.ItemPage),
             (f"/api/v1/plans/{plan}/dashboard", schemas.DashboardOut), (f"/api/v1/plans/{plan}/summary", schemas.SummaryList),
             (f"/api/v1/items/{item}", schemas.ItemDetailOut), (f"/api/v1/items/{item}/status-updates", schemas.UpdateList),
             (f"/api/v1/items/{item}/kpis", schemas.KpiList)]
    for url, model in cases:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text[:500])
        model.model_validate(response.json())
    plans = client.get("/api/v1/plans", headers=headers).json()
    assert plans["count"] == 1 and plans["data"][0]["versions"][0]["label"] == "Meerjarenplan"
    items = client.get(f"/api/v1/plans/{plan}/items", params={"owner": "eigenaar"}, headers=headers).json()
    assert {r["code"] for r in items["data"]} == {world.mine["code"], world.hidden["code"]}
    kpis = client.get(f"/api/v1/items/{item}/kpis", headers=headers).json()
    assert kpis["data"][0]["light"]["colour"] == "oranje" and "beginwaarde" in kpis["data"][0]["light"]["rule_nl"]

    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/plans", "/api/v1/plans/{plan_id}/items", "/api/v1/items/{item_id}",
                 "/api/v1/items/{item_id}/status-updates", "/api/v1/status-updates/{update_id}/decision",
                 "/api/v1/kpis/{kpi_id}/measurements", "/api/v1/plans/import", "/api/v1/public/plans/{organisation}"):
        assert path in spec["paths"], path
    patch = spec["paths"]["/api/v1/items/{item_id}"]["patch"]["responses"]["409"]["content"]["application/json"]
    assert patch["schema"]["$ref"].endswith("/StaleEditOut")
    assert not [p for p in spec["paths"] if p.startswith("/beleid") or p.startswith("/stad")], "pages are not API"


def test_api_writes_a_status_update_and_the_coordinator_decides(world):
    owner, coord = world.token("eigenaar"), world.token("coord")
    client = world.site().client
    item = world.mine["id"]
    response = client.post(f"/api/v1/items/{item}/status-updates", headers=owner,
                           json={"action": "save", "period": "2026-S2", "status": "op_schema", "progress": "30,5",
                                 "narrative": "bezig"})
    assert response.status_code == 200, response.text
    saved = schemas.UpdateResultOut.model_validate(response.json()).update
    assert saved.state == "draft" and saved.progress == 30.5
    response = client.post(f"/api/v1/items/{item}/status-updates", headers=owner,
                           json={"action": "submit", "period": "2026-S2", "expected_version": saved.row_version})
    assert response.status_code == 200 and response.json()["update"]["state"] == "submitted"
    update_id = saved.id
    assert client.post(f"/api/v1/status-updates/{update_id}/decision", headers=owner,
                       json={"decision": "approve"}).status_code == 403, "an owner does not approve"
    assert client.post(f"/api/v1/status-updates/{update_id}/decision", headers=coord,
                       json={"decision": "return"}).status_code == 422, "returning needs a comment"
    decided = client.post(f"/api/v1/status-updates/{update_id}/decision", headers=coord,
                          json={"decision": "approve", "comment": "ok"})
    assert decided.status_code == 200 and decided.json()["update"]["state"] == "approved"

    kpi = ops.add_kpi(world.coord, item, kind="manual", name="Bezoekers", targets={2026: 1000})
    measured = client.post(f"/api/v1/kpis/{kpi['id']}/measurements", headers=owner, json={"period": "2026", "value": 990})
    assert measured.status_code == 200, measured.text
    schemas.MeasurementOut.model_validate(measured.json())
    # A session writes too, with its CSRF token in a header; without it, it is refused.
    site = world.site("eigenaar")
    assert site.client.post(f"/api/v1/items/{item}/status-updates", json={"action": "no_change",
                                                                          "period": "2027-S1"}).status_code == 403
    with_token = site.api("POST", f"/api/v1/items/{item}/status-updates", json={"action": "no_change", "period": "2026-S1"})
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["update"]["no_change"] is True


def test_api_refusals(world):
    client = world.site().client
    plan, mine, theirs = world.plan_id, world.mine["id"], world.theirs["id"]
    # The anonymous public: sign in first.
    response = client.get("/api/v1/plans")
    assert response.status_code == 401 and "Bearer" in response.headers["www-authenticate"]
    assert client.post(f"/api/v1/items/{mine}/status-updates", json={"action": "no_change"}).status_code == 401
    # The owner of another item may read it, but not report on it.
    owner = world.token("eigenaar")
    assert client.get(f"/api/v1/items/{theirs}", headers=owner).status_code == 200
    refused = client.post(f"/api/v1/items/{theirs}/status-updates", headers=owner,
                          json={"action": "save", "status": "op_schema"})
    assert refused.status_code == 403, refused.text
    assert client.patch(f"/api/v1/items/{mine}", headers=owner, json={"expected_version": 1, "priority": True}
                        ).status_code == 403, "an owner does not change the item's settings"
    # A read-only token writes nothing.
    reader = world.token("eigenaar", "read")
    assert client.post(f"/api/v1/items/{mine}/status-updates", headers=reader,
                       json={"action": "no_change"}).status_code == 403
    # Another organisation's plan and items do not exist for its coordinator.
    neighbour = world.token("buurcoord")
    for url in (f"/api/v1/plans/{plan}/items", f"/api/v1/plans/{plan}/dashboard", f"/api/v1/items/{mine}"):
        assert client.get(url, headers=neighbour).status_code == 404, url
    assert client.get("/api/v1/plans", headers=neighbour).json()["count"] == 0
    site = world.site("buurcoord")
    assert site.get(f"/beleid/plannen/{plan}").status_code == 404
    assert site.get(f"/beleid/items/{mine}").status_code == 404
    assert client.get("/api/v1/plans/999999/items", headers=owner).status_code == 404


def test_a_stale_edit_answers_409_with_both_versions(world):
    item = world.mine["id"]
    version = ops.item_detail(world.coord, item).item["row_version"]
    coord = world.token("coord")
    client = world.site().client
    first = client.patch(f"/api/v1/items/{item}", headers=coord,
                         json={"expected_version": version, "department": "Stadsontwikkeling"})
    assert first.status_code == 200, first.text
    stale = client.patch(f"/api/v1/items/{item}", headers=coord,
                         json={"expected_version": version, "department": "Financiën"})
    assert stale.status_code == 409, stale.text
    body = schemas.StaleEditOut.model_validate(stale.json())
    assert body.mine["department"] == "Financiën" and body.theirs["department"] == "Stadsontwikkeling"
    assert body.theirs_version == first.json()["row_version"]

    # The page: both versions side by side, and the choice between them; nothing was written.
    site = world.site("coord")
    page = f"/beleid/items/{item}"
    response = site.post(f"{page}/instellingen", {"expected_version": version, "department": "Cultuur",
                                                  "owner": "eigenaar", "publish": "1"}, token_from=page)
    assert response.status_code == 409, response.text[:500]
    text = text_of(response.text)
    assert "Uw versie" in text and "Huidige versie" in text and "Cultuur" in text and "Stadsontwikkeling" in text
    assert "Mijn versie bewaren" in text and "De huidige versie houden" in text
    assert ops.item_detail(world.coord, item).item["department"] == "Stadsontwikkeling"


def test_an_attachment_is_judged_by_its_content_and_downloaded_safely(world):
    owner, item = world.site("eigenaar"), world.mine["id"]
    page = f"/beleid/items/{item}"
    response = owner.post(f"{page}/status", {"action": "save", "period": "2026-S2", "status": "op_schema",
                                             "progress": "10"}, token_from=page,
                          files={"file": ("verslag.pdf", PNG, "application/pdf")})
    assert response.status_code == 422, response.text[:500]
    assert "bijlage werd geweigerd" in text_of(response.text) and "PNG" in response.text
    update = ops.item_detail(world.coord, item).updates[0]
    assert update["attachments"] == [], "the renamed PNG was stored"

    added = owner.post(f"/beleid/updates/{update['id']}/bijlagen", {"item_id": item}, token_from=page,
                       files={"file": ("verslag.pdf", PDF, "application/octet-stream")})
    assert added.status_code == 303, added.text[:500]
    attachment = ops.item_detail(world.coord, item).updates[0]["attachments"][0]
    download = owner.get(f"/beleid/bijlagen/{attachment['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert world.site("buurcoord").get(f"/beleid/bijlagen/{attachment['id']}").status_code == 404
    assert world.site().get(f"/beleid/bijlagen/{attachment['id']}").status_code == 303  # → sign in


def test_a_broken_status_sheet_is_refused_with_its_line_numbers(world):
    owner = world.site("eigenaar")
    download = owner.get("/beleid/mijn/statusblad.xlsx")
    assert download.status_code == 200, download.text[:500]
    assert download.headers["content-disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    sheet = book.active
    header = [c.value for c in sheet[3]]
    rows = {sheet.cell(r, header.index("code") + 1).value: r for r in range(4, sheet.max_row + 1)}
    assert set(rows) == {world.mine["code"], world.hidden["code"]}
    good, bad = rows[world.mine["code"]], rows[world.hidden["code"]]
    sheet.cell(good, header.index("status") + 1, "Op schema")
    sheet.cell(good, header.index("voortgang") + 1, 50)
    sheet.cell(bad, header.index("status") + 1, "Bijna klaar")
    sheet.cell(bad, header.index("voortgang") + 1, "veel")
    out = io.BytesIO()
    book.save(out)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = owner.post("/beleid/mijn/statusblad", {}, token_from="/beleid/mijn",
                          files={"file": ("statusblad.xlsx", out.getvalue(), xlsx)})
    assert response.status_code == 422, response.text[:500]
    table = re.search(r'<table class="data" id="rejected">.*?</table>', response.text, re.S).group(0)
    assert re.search(rf'<th scope="row" class="num">{bad}</th>', table), table
    assert f'class="num">{good}</th>' not in table
    assert ops.item_detail(world.coord, world.mine["id"]).updates == [], "a refused sheet changed something"

    # Corrected, it goes in whole.
    sheet.cell(bad, header.index("status") + 1, "Niet gestart")
    sheet.cell(bad, header.index("voortgang") + 1, 0)
    out = io.BytesIO()
    book.save(out)
    response = owner.post("/beleid/mijn/statusblad", {}, token_from="/beleid/mijn",
                          files={"file": ("statusblad.xlsx", out.getvalue(), xlsx)})
    assert response.status_code == 303, response.text[:500]
    assert "geschreven=2" in response.headers["location"]


def test_plan_import_shows_a_preview_and_imports_only_when_confirmed(world, tmp_path):
    records = json.loads(PLAN_FILE.read_text(encoding="utf-8"))
    records[0]["ac_short"] = "Een nieuwe titel voor deze actie"
    amended = tmp_path / "aanpassing.json"
    amended.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    coord = world.site("coord")
    response = coord.post("/beleid/instellingen/import", {"label": "Aanpassing 1", "motivering": "nieuwe titel"},
                          token_from="/beleid/instellingen",
                          files={"file": ("aanpassing.json", amended.read_bytes(), "application/json")})
    assert response.status_code == 200, response.text[:1000]
    assert "Een nieuwe titel voor deze actie" in response.text and "proefimport" in response.text
    assert len(ops.list_plans(world.coord)[0].versions) == 1, "the preview imported something"
    token = re.search(r'name="token" value="([0-9a-f]{32})"', response.text).group(1)
    confirmed = coord.client.post("/beleid/instellingen/import/bevestigen", headers=HTML,
                                  data={"token": token, "csrf_token": csrf(response.text)})
    assert confirmed.status_code == 303, confirmed.text[:500]
    versions = ops.list_plans(world.coord)[0].versions
    assert [(v["number"], v["label"]) for v in versions] == [(1, "Meerjarenplan"), (2, "Aanpassing 1")]
    diff = text_of(coord.get(f"/beleid/plannen/{world.plan_id}/versies?oud=1&nieuw=2").text)
    assert "Een nieuwe titel voor deze actie" in diff and "nieuwe titel" in diff

    # A broken file: the rejected rows, nothing written. The API answers the same difference.
    broken = tmp_path / "kapot.json"
    broken.write_text(json.dumps([{**records[0], "yearly_amounts": {"2026": "veel"}}]), encoding="utf-8")
    refused = coord.post("/beleid/instellingen/import", {}, token_from="/beleid/instellingen",
                         files={"file": ("kapot.json", broken.read_bytes(), "application/json")})
    assert refused.status_code == 422 and 'id="rejected"' in refused.text and "veel" in refused.text
    assert len(ops.list_plans(world.coord)[0].versions) == 2
    api = world.site().client.post("/api/v1/plans/import", headers=world.token("coord"), data={"dry_run": "true"},
                                   files={"file": ("plan.json", PLAN_FILE.read_bytes(), "application/json")})
    assert api.status_code == 200, api.text
    body = schemas.PlanImportOut.model_validate(api.json())
    assert body.status == "dry_run" and body.diff.counts["retitled"] == 1
    assert world.site().client.post("/api/v1/plans/import", headers=world.token("eigenaar"),
                                    files={"file": ("plan.json", b"[]", "application/json")}).status_code == 403


def test_the_owner_records_a_measurement_and_sees_the_light_in_words(world):
    kpi = ops.add_kpi(world.coord, world.mine["id"], kind="manual", name="Nieuwe bomen", unit_label="bomen",
                      targets={2026: 200}, tolerance_pct=5)
    owner = world.site("eigenaar")
    page = f"/beleid/items/{world.mine['id']}"
    bad = owner.post(f"/beleid/kpis/{kpi['id']}/metingen", {"item_id": world.mine["id"], "period": "2026",
                                                            "value": "veel"}, token_from=page)
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    good = owner.post(f"/beleid/kpis/{kpi['id']}/metingen", {"item_id": world.mine["id"], "period": "2026",
                                                             "value": "195"}, token_from=page)
    assert good.status_code == 303
    text = text_of(owner.get(page).text)
    assert "groen: binnen 5 % van het doel voor 2026" in text


def test_a_stale_status_update_shows_both_texts_and_keeps_mine_only_when_chosen(world):
    item = world.mine["id"]
    first = ops.save_status_update(world.owner, item, period="2026-S2", status="op_schema", progress=20,
                                   narrative="eerste versie").update
    owner = world.site("eigenaar")
    page = f"/beleid/items/{item}?periode=2026-S2"
    opened = owner.get(page).text
    assert f'name="expected_version" value="{first["row_version"]}"' in opened
    # Meanwhile the coordinator corrects the draft.
    ops.save_status_update(world.coord, item, period="2026-S2", status="risico", progress=20,
                           narrative="tekst van de coördinator", expected_version=first["row_version"])
    response = owner.client.post(f"/beleid/items/{item}/status", headers=HTML, data={
        "csrf_token": csrf(opened), "action": "save", "period": "2026-S2", "status": "op_schema", "progress": "25",
        "narrative": "mijn nieuwe tekst", "knelpunten": "", "expected_version": str(first["row_version"])})
    assert response.status_code == 409, response.text[:500]
    text = text_of(response.text)
    assert "mijn nieuwe tekst" in text and "tekst van de coördinator" in text and "Mijn versie bewaren" in text
    assert ops.item_detail(world.coord, item).updates[0]["narrative"] == "tekst van de coördinator"
    # The API says the same, with both versions in the body.
    api = world.site().client.post(f"/api/v1/items/{item}/status-updates", headers=world.token("eigenaar"), json={
        "action": "save", "period": "2026-S2", "status": "op_schema", "narrative": "via de API",
        "expected_version": first["row_version"]})
    assert api.status_code == 409
    body = schemas.StaleEditOut.model_validate(api.json())
    assert body.mine["narrative"] == "via de API" and body.theirs["narrative"] == "tekst van de coördinator"
    # Choosing "mijn versie": the hidden form carries my values and the version I have now seen.
    keep = re.search(r'<form method="post" action="/beleid/items/\d+/status[^"]*"[^>]*>(.*?)</form>', response.text, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', keep.group(1)))
    assert fields["narrative"] == "mijn nieuwe tekst" and fields["expected_version"] == str(body.theirs_version)
    kept = owner.client.post(f"/beleid/items/{item}/status", headers=HTML, data=fields)
    assert kept.status_code == 303, kept.text[:500]
    assert ops.item_detail(world.coord, item).updates[0]["narrative"] == "mijn nieuwe tekst"


def test_the_coordinator_sends_reminders_and_generates_periods(world, tmp_path):
    coord = world.site("coord")
    response = coord.post("/beleid/instellingen/herinneringen", {}, token_from="/beleid/instellingen")
    assert response.status_code == 303 and "verzonden=" in response.headers["location"]
    mails = list((tmp_path / "outbox").glob("*.eml"))
    assert any("eigenaar@example.invalid" in m.read_text(encoding="utf-8", errors="replace") for m in mails)
    response = coord.post("/beleid/instellingen/perioden", {"first_year": "2028", "last_year": "2029",
                                                            "scheme": "quarter", "deadline_days": "20"},
                          token_from="/beleid/instellingen")
    assert response.status_code == 303
    codes = [p["code"] for p in ops.list_reporting_periods(world.coord)]
    assert "2028-Q1" in codes and "2029-Q4" in codes
    refused = coord.post("/beleid/instellingen/opvolging", {"method": "median"}, token_from="/beleid/instellingen")
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    saved = coord.post("/beleid/instellingen/opvolging", {"method": "budget", "counted": ["op_schema", "afgerond"],
                                                          "priority_propagation": "none", "remind_days_before": "5",
                                                          "remind_every_days": "3"}, token_from="/beleid/instellingen")
    assert saved.status_code == 303
    page = coord.get("/beleid/instellingen").text
    assert 'id="method-budget" name="method" value="budget" checked' in page
    assert world.site("eigenaar").post("/beleid/instellingen/herinneringen", {},
                                       token_from="/beleid/mijn").status_code == 403


@pytest.mark.usefixtures("db_factory")  # the module's back-end parametrisation; this test needs no database
def test_every_text_of_the_follow_up_pages_has_an_english_translation():
    from babel.messages.pofile import read_po

    from obmi.web import plans_pages, report_pages

    web = Path(plans_pages.__file__).parent
    with open(web / "locale" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
    used: dict[str, str] = {}
    templates = [*(web / "templates").glob("plans_*.html"), *(web / "templates").glob("finance_*.html")]
    for template in sorted(templates):
        for match in literal.finditer(template.read_text(encoding="utf-8")):
            used.setdefault(match.group(1) if match.group(1) is not None else match.group(2), template.name)
    assert len(used) > 250, f"only {len(used)} texts found: is the pattern still right?"
    # The Dutch labels plans_pages.py hands to the templates, which translate them with _(label).
    for table in (plans_pages.SETTINGS_LABELS, plans_pages.ROLLUP_METHODS, plans_pages.SCHEMES,
                  plans_pages.NOTICES, plans_pages.SETTINGS_NOTICES, report_pages.REPORT_NAMES,
                  report_pages.REPORT_NOTICES, report_pages.STATE_LABELS):
        used.update(dict.fromkeys(table.values(), "plans_pages.py"))
    used.update(dict.fromkeys(("Plannen", "Mijn rapporteringen", "Instellingen"), "plans_pages.py"))
    missing = sorted(f"{where}: {text!r}" for text, where in used.items() if not english.get(text, "").strip())
    assert not missing, "no English translation in messages.po:\n" + "\n".join(missing)
