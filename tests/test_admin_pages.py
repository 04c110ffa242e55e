"""The sign-in, account and administration pages through HTTP (FastAPI's TestClient), against a
real database of each test's own (SQLite; nothing is mocked): who may open which page, what the
cookies carry, CSRF, session end by logout and by idle time, lockout, the organisation
boundary, the upload page running a real import in the background and showing its report, a
rejected upload changing nothing, one-time tokens and reset links, the audit log and its CSV.

Pages are asked for as a browser asks (Accept: text/html), redirects are not followed, so each
test sees exactly what the server answered."""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
from datetime import timedelta
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from obmi import operations as ops
from obmi.context import Context
from obmi.operations import AuditFilter
from obmi.settings import load_settings
from obmi.store.tables import observation, user_session
from obmi.timeutil import utcnow
from obmi.web.app import create_app
from obmi.web.jobs import registry

from conftest import STATBEL, system
from factories import PASSWORD, catalogue, org, user

# The pages are the same on every back end; the operations behind them are tested on both.
pytestmark = pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)

HTML = {"accept": "text/html,application/xhtml+xml"}
INCOME = STATBEL / "TF_PSNL_INC_TAX_MUNTY.txt.gz"  # the smallest real Statbel file
NEW_PASSWORD = "een-heel-ander-wachtwoord"
ADMIN_PAGES = ["/admin", "/admin/gebruikers", "/admin/gebruikers/lezer", "/admin/tokens", "/admin/organisaties",
               "/admin/imports", "/admin/imports/1", "/admin/imports/1/rapport.csv", "/admin/imports/nieuw",
               "/admin/imports/taken/abc", "/admin/imports/taken/abc/status", "/admin/audit",
               "/admin/audit.csv?actor=x", "/account"]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def text_of(html: str) -> str:
    """The page's text, as a reader sees it (tags dropped, entities for quotes undone)."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


class Site:
    """One browser on the app: a cookie jar, pages asked for as HTML, redirects not followed."""

    def __init__(self, app, *, https: bool = False):
        self.app = app
        self.client = TestClient(app, base_url=f"{'https' if https else 'http'}://testserver",
                                 follow_redirects=False)

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers={**HTML, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, data: dict | None = None, *, token_from: str | None = None, files=None):
        """POST a form; `token_from`: the page whose form's CSRF token to send (as a browser would)."""
        data = dict(data or {})
        if token_from is not None:
            page = self.get(token_from)
            assert page.status_code in (200, 201), (token_from, page.status_code)
            data["csrf_token"] = csrf(page.text)
        return self.client.post(url, data=data, files=files, headers=HTML)

    def sign_in(self, name: str, password: str = PASSWORD, next_path: str = ""):
        return self.post("/login", {"name": name, "password": password, "next": next_path}, token_from="/login")

    def wait_for_job(self, job_url: str, timeout: float = 120) -> str:
        """Poll the job's status fragment (what htmx does every second) until the job is over."""
        deadline = time.monotonic() + timeout
        while True:
            fragment = self.get(job_url.replace("?", "/status?") if "?" in job_url else job_url + "/status")
            assert fragment.status_code == 200, fragment.text
            state = re.search(r'data-state="(\w+)"', fragment.text).group(1)
            if state in ("done", "failed"):
                assert 'hx-trigger' not in fragment.text, "a finished job must stop the polling"
                return fragment.text
            assert time.monotonic() < deadline, f"the job is still {state} after {timeout}s"
            time.sleep(0.1)


@pytest.fixture
def make_site(tmp_path):
    """Build the app on a database with given settings; every worker thread is stopped at the end."""
    apps = []

    def make(db, *, https: bool = False, **overrides) -> Site:
        settings = load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")}, **overrides)
        app = create_app(settings, db)
        apps.append(app)
        return Site(app, https=https)
    yield make
    for app in apps:
        registry(app).stop()


@pytest.fixture
def world(empty_db, tmp_path):
    """Two organisations (stad is the host), one user per role that the tests need."""
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")})
    root = system(empty_db, settings)
    org(root, "stad", "Stad", host=True)
    org(root, "buur", "Buurgemeente")
    user(root, "admin", "admin")
    user(root, "stadbeheer", "org_admin", org="stad")
    user(root, "coordinator", "coordinator", org="stad")
    user(root, "lezer", "reader", org="stad")
    user(root, "buurbeheer", "org_admin", org="buur")
    user(root, "buuranalist", "analyst", org="buur")
    return root


def users_named(root: Context) -> dict[str, dict]:
    return {u["name"]: u for u in ops.list_users(root)}


# --- the anonymous public never sees an administration page --------------------------------------

def test_anonymous_visitor_is_sent_to_login_for_every_admin_page(world, make_site):
    site = make_site(world.db)
    for path in ADMIN_PAGES:
        answer = site.get(path)
        assert answer.status_code == 303, (path, answer.status_code, answer.text[:300])
        location = answer.headers["location"]
        assert location.startswith("/login?next="), (path, location)
        assert "Gebruikers" not in answer.text and "csrf_token" not in answer.text
    assert site.get("/admin/imports?page=2").headers["location"] == "/login?next=%2Fadmin%2Fimports%3Fpage%3D2"
    # The job page's poll (htmx) is told to send the whole page to the login page instead.
    polled = site.get("/admin/imports/taken/abc/status", headers={"hx-request": "true"})
    assert polled.status_code == 204 and polled.headers["hx-redirect"] == "/login?next=%2Fadmin%2Fimports%2Ftaken%2Fabc"
    # A script (no HTML wanted) is told 401 with a challenge, not redirected.
    api_like = site.client.get("/admin/gebruikers")
    assert api_like.status_code == 401 and "WWW-Authenticate" in api_like.headers
    # The login page links back: after sign-in the browser goes where it wanted to go.
    page = site.get("/login?next=/admin/audit")
    assert page.status_code == 200 and 'name="next" value="/admin/audit"' in page.text
    answer = site.post("/login", {"name": "admin", "password": PASSWORD, "next": "/admin/audit"},
                       token_from="/login?next=/admin/audit")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/audit"
    # Never an open redirect: a target on another site is replaced by the overview.
    site2 = make_site(world.db)
    answer = site2.post("/login", {"name": "admin", "password": PASSWORD, "next": "//evil.example/x"},
                        token_from="/login")
    assert answer.headers["location"] == "/admin"


def test_anonymous_form_posts_are_refused_and_change_nothing(world, make_site):
    site = make_site(world.db)
    before = users_named(world)
    # Without a token: 403. With the pre-session token of the login page: still not signed in, 401.
    assert site.post("/admin/gebruikers", {"name": "indringer", "roles": ["admin"]}).status_code == 403
    answer = site.post("/admin/gebruikers", {"name": "indringer", "roles": ["admin"]}, token_from="/login")
    assert answer.status_code == 401
    assert "Traceback" not in answer.text
    assert users_named(world) == before


# --- signing in --------------------------------------------------------------------------------

def test_wrong_password_answers_401_with_the_message_and_is_audited(world, make_site):
    site = make_site(world.db)
    answer = site.sign_in("coordinator", "niet-het-juiste-wachtwoord", "/admin/imports")
    assert answer.status_code == 401
    assert "Onbekende gebruikersnaam of verkeerd wachtwoord." in answer.text
    assert 'role="alert"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="coordinator"' in answer.text, "the name is kept in the form"
    assert 'name="next" value="/admin/imports"' in answer.text, "so is the target"
    assert "obmi_session" not in answer.headers.get("set-cookie", "")
    # In English when the page is English.
    english = site.post("/login?lang=en", {"name": "coordinator", "password": "nope"}, token_from="/login?lang=en")
    assert english.status_code == 401 and "Unknown user name or wrong password." in english.text
    assert '<html lang="en">' in english.text
    # An unknown account is refused the same way (no hint which names exist).
    unknown = make_site(world.db).sign_in("bestaat-niet", "wat-dan-ook-lang-genoeg")
    assert unknown.status_code == 401 and "Onbekende gebruikersnaam of verkeerd wachtwoord." in unknown.text

    events = ops.list_audit(world, AuditFilter(operation="login", resource_id="coordinator")).data
    assert [e["outcome"] for e in events] == ["refused", "refused"]
    assert events[0]["resource_type"] == "user" and events[0]["actor"] == ""
    assert "wrong user name or password" in events[0]["message"]


def test_login_cookie_is_httponly_samesite_lax_and_secure_over_https(world, make_site):
    answer = make_site(world.db).sign_in("lezer")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("obmi_session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain HTTP in development: a Secure cookie would never come back

    secure = make_site(world.db, https=True).sign_in("lezer")
    assert secure.status_code == 303
    cookie = next(c for c in secure.headers.get_list("set-cookie") if c.startswith("obmi_session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags


def test_a_missing_or_wrong_csrf_token_is_refused_with_403_and_changes_nothing(world, make_site):
    site = make_site(world.db)
    site.get("/login")  # the pre-session cookie exists, but the form's token is not sent back
    answer = site.post("/login", {"name": "admin", "password": PASSWORD})
    assert answer.status_code == 403 and "obmi_session" not in answer.headers.get("set-cookie", "")
    assert "Het formulier is verlopen" in answer.text
    answer = site.post("/login", {"name": "admin", "password": PASSWORD, "csrf_token": "0" * 64})
    assert answer.status_code == 403
    assert not ops.list_audit(world, AuditFilter(operation="login", resource_id="admin")).data, "no sign-in happened"

    assert site.sign_in("admin").status_code == 303
    before = users_named(world)
    tokens_before = ops.list_tokens(world)
    for path, data in (("/admin/gebruikers", {"name": "nieuw", "roles": ["reader"], "organisation": "stad"}),
                       ("/admin/gebruikers/lezer/status", {"active": "0"}),
                       ("/admin/gebruikers/lezer", {"roles": ["admin"]}),
                       ("/admin/tokens", {"user": "lezer", "scope": "write"}),
                       ("/admin/organisaties", {"code": "nieuw", "name": "Nieuw"})):
        for token in (None, "f" * 64):
            answer = site.post(path, {**data, **({"csrf_token": token} if token else {})})
            assert answer.status_code == 403, (path, token, answer.status_code)
            assert "Geen toegang" in answer.text and "Traceback" not in answer.text
    # A token of another browser's session does not count either.
    other = make_site(world.db)
    other.sign_in("admin")
    foreign = csrf(other.get("/admin/gebruikers").text)
    assert site.post("/admin/gebruikers/lezer/status", {"active": "0", "csrf_token": foreign}).status_code == 403
    assert users_named(world) == before
    assert ops.list_tokens(world) == tokens_before
    assert [o.code for o in ops.list_organisations(world)] == ["buur", "stad"]


def test_logout_ends_the_session_for_good(world, make_site):
    site = make_site(world.db)
    assert site.sign_in("coordinator").status_code == 303
    stolen = site.client.cookies.get("obmi_session")
    assert site.get("/admin").status_code == 200

    confirm = site.get("/logout")
    assert confirm.status_code == 200 and 'action="/logout' in confirm.text
    answer = site.post("/logout", token_from="/logout")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?afgemeld=1")
    assert 'obmi_session=""' in answer.headers["set-cookie"] or "Max-Age=0" in answer.headers["set-cookie"]
    shown = site.get(answer.headers["location"])
    assert "U bent afgemeld." in shown.text
    assert site.get("/admin").status_code == 303

    # The old cookie, replayed by someone who copied it, opens nothing any more.
    thief = make_site(world.db)
    replayed = {"cookie": f"obmi_session={stolen}"}
    answer = thief.get("/admin", headers=replayed)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert thief.get("/account", headers=replayed).status_code == 303


def test_an_idle_session_expires_and_the_login_page_says_so(world, make_site):
    site = make_site(world.db, session_idle_minutes=5)
    assert site.sign_in("coordinator").status_code == 303
    assert site.get("/admin/imports").status_code == 200
    # Ten minutes without a request (the session's last use moved back in the store itself).
    with world.db.unguarded_engine.begin() as conn:
        conn.execute(update(user_session).values(last_seen_at=utcnow() - timedelta(minutes=10)))

    answer = site.get("/admin/imports")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fadmin%2Fimports"
    login = site.get(answer.headers["location"])
    assert login.status_code == 200 and "Uw sessie is verlopen. Meld u opnieuw aan." in login.text
    assert any(c.startswith('obmi_session=""') or "Max-Age=0" in c for c in login.headers.get_list("set-cookie"))
    with world.db.unguarded_engine.connect() as conn:
        reasons = conn.execute(select(user_session.c.end_reason)).scalars().all()
    assert reasons == ["idle"]
    # Signing in again works and continues where the user was.
    answer = site.post("/login", {"name": "coordinator", "password": PASSWORD, "next": "/admin/imports"},
                       token_from=answer.headers["location"])
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/imports"
    assert site.get("/admin/imports").status_code == 200


def test_an_account_is_locked_after_too_many_failures(world, make_site):
    site = make_site(world.db, login_max_failures_account=3, login_lockout_minutes=15)
    for _ in range(3):
        assert site.sign_in("coordinator", "fout-wachtwoord-123").status_code == 401
    locked = site.sign_in("coordinator")  # the right password, but too late
    assert locked.status_code == 401
    assert "Te veel mislukte aanmeldpogingen. Probeer het over 15 minuten opnieuw." in locked.text
    assert "obmi_session" not in locked.headers.get("set-cookie", "")
    # The lock is per account: another account from the same address still signs in.
    assert make_site(world.db, login_max_failures_account=3).sign_in("lezer").status_code == 303
    english = site.post("/login?lang=en", {"name": "coordinator", "password": PASSWORD}, token_from="/login?lang=en")
    assert english.status_code == 401 and "Too many failed sign-in attempts. Try again in 15 minutes." in english.text


# --- who sees which page -------------------------------------------------------------------------

def test_a_reader_gets_403_on_the_users_page_and_sees_only_their_links(world, make_site):
    site = make_site(world.db)
    site.sign_in("lezer")
    answer = site.get("/admin/gebruikers")
    assert answer.status_code == 403
    assert "Geen toegang" in answer.text and "Traceback" not in answer.text
    for path in ("/admin/tokens", "/admin/audit", "/admin/imports", "/admin/imports/nieuw", "/admin/audit.csv"):
        assert site.get(path).status_code == 403, path
    overview = site.get("/admin")
    assert overview.status_code == 200
    assert 'href="/account?lang=nl"' in overview.text and 'href="/admin/gebruikers' not in overview.text
    assert 'href="/admin/audit' not in overview.text
    account = site.get("/account")
    assert account.status_code == 200
    assert "lezer" in account.text and "Stad" in account.text and "Lezer" in account.text


def test_an_organisation_administrator_cannot_see_another_organisations_users(world, make_site):
    site = make_site(world.db)
    site.sign_in("stadbeheer")
    page = site.get("/admin/gebruikers")
    assert page.status_code == 200
    shown = set(re.findall(r'href="/admin/gebruikers/([^"?]+)\?', page.text))
    assert shown == {"stadbeheer", "coordinator", "lezer"}
    assert "buuranalist" not in page.text and "buurbeheer" not in page.text
    assert 'value="admin"' not in page.text, "an organisation administrator cannot make administrators"
    assert site.get("/admin/gebruikers/buuranalist").status_code == 404
    assert site.get("/admin/gebruikers/lezer").status_code == 200
    before = users_named(world)["buuranalist"]
    answer = site.post("/admin/gebruikers/buuranalist/status", {"active": "0"}, token_from="/admin/gebruikers")
    assert answer.status_code == 404
    answer = site.post("/admin/gebruikers", {"name": "spion", "roles": ["reader"], "organisation": "buur"},
                       token_from="/admin/gebruikers")
    assert answer.status_code == 404
    assert users_named(world)["buuranalist"] == before and "spion" not in users_named(world)
    # Users of its own organisation it does manage.
    answer = site.post("/admin/gebruikers", {"name": "nieuwe.lezer", "roles": ["reader"], "organisation": "stad",
                                             "email": "nieuwe.lezer@example.invalid", "send_link": "1"},
                       token_from="/admin/gebruikers")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/gebruikers/nieuwe.lezer?aangemaakt=1&link=verzonden&lang=nl"
    detail = site.get(answer.headers["location"])
    assert "De gebruiker is toegevoegd." in detail.text and "nieuwe.lezer@example.invalid" in detail.text
    assert users_named(world)["nieuwe.lezer"]["organisation"] == "stad"


def test_administrator_edits_roles_disables_and_sets_a_password(world, make_site):
    site = make_site(world.db)
    site.sign_in("admin")
    answer = site.post("/admin/gebruikers/lezer", {"roles": ["analyst", "reader"], "groups": "welzijn, Wonen",
                                                   "display_name": "Lea Lezer", "email": "lea@example.invalid"},
                       token_from="/admin/gebruikers/lezer")
    assert answer.status_code == 303
    lezer = users_named(world)["lezer"]
    assert lezer["roles"] == ["analyst", "reader"] and lezer["groups"] == ["welzijn", "wonen"]
    assert lezer["display_name"] == "Lea Lezer"
    # A bad group name is shown on the page (422), nothing saved.
    bad = site.post("/admin/gebruikers/lezer", {"roles": ["reader"], "groups": "niet geldig!"},
                    token_from="/admin/gebruikers/lezer")
    assert bad.status_code == 422 and "Dit werd niet bewaard." in bad.text
    assert users_named(world)["lezer"]["roles"] == ["analyst", "reader"]
    # A weak password is refused with the rules in Dutch.
    weak = site.post("/admin/gebruikers/lezer/wachtwoord", {"password": "kort", "password2": "kort"},
                     token_from="/admin/gebruikers/lezer")
    assert weak.status_code == 422 and "minstens 12 tekens" in weak.text

    reader = make_site(world.db)
    assert reader.sign_in("lezer").status_code == 303
    answer = site.post("/admin/gebruikers/lezer/status", {"active": "0"}, token_from="/admin/gebruikers/lezer")
    assert answer.status_code == 303 and not users_named(world)["lezer"]["is_active"]
    assert reader.get("/account").status_code == 303, "disabling ends the user's sessions"
    assert reader.sign_in("lezer").status_code == 401
    site.post("/admin/gebruikers/lezer/status", {"active": "1"}, token_from="/admin/gebruikers/lezer")
    answer = site.post("/admin/gebruikers/lezer/wachtwoord", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD},
                       token_from="/admin/gebruikers/lezer")
    assert answer.status_code == 303
    assert reader.sign_in("lezer", PASSWORD).status_code == 401
    assert reader.sign_in("lezer", NEW_PASSWORD).status_code == 303


# --- passwords: one's own, and a one-time link ---------------------------------------------------

def test_a_reset_link_from_the_users_page_sets_a_new_password_once(world, make_site, tmp_path):
    admin = make_site(world.db)
    admin.sign_in("admin")
    answer = admin.post("/admin/gebruikers/coordinator/resetlink", token_from="/admin/gebruikers/coordinator")
    assert answer.status_code == 303 and "link=verzonden" in answer.headers["location"]
    (mail,) = (tmp_path / "outbox").glob("*.eml")
    body = message_from_bytes(mail.read_bytes()).get_payload(decode=True).decode()
    link = re.search(r"http://[^/\s]+(/wachtwoord/[\w-]+)", body).group(1)

    visitor = make_site(world.db)
    page = visitor.get(link)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    mismatch = visitor.post(link, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}, token_from=link)
    assert mismatch.status_code == 422 and "niet gelijk" in mismatch.text
    answer = visitor.post(link, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}, token_from=link)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?wachtwoord=ingesteld")
    assert "Uw nieuwe wachtwoord is ingesteld" in visitor.get(answer.headers["location"]).text
    assert visitor.sign_in("coordinator", NEW_PASSWORD).status_code == 303
    # Used once: the same link no longer works.
    again = make_site(world.db)
    answer = again.post(link, {"password": "nog-een-wachtwoord-1", "password2": "nog-een-wachtwoord-1"},
                        token_from=link)
    assert answer.status_code == 401 and "Deze link is ongeldig, al gebruikt of verlopen." in answer.text


def test_changing_ones_own_password_keeps_one_signed_in_and_ends_other_sessions(world, make_site):
    site, elsewhere = make_site(world.db), make_site(world.db)
    site.sign_in("coordinator")
    elsewhere.sign_in("coordinator")
    wrong = site.post("/account/wachtwoord", {"current": "fout", "password": NEW_PASSWORD,
                                              "password2": NEW_PASSWORD}, token_from="/account")
    assert wrong.status_code == 401 and "Uw huidige wachtwoord is niet juist." in wrong.text
    answer = site.post("/account/wachtwoord", {"current": PASSWORD, "password": NEW_PASSWORD,
                                               "password2": NEW_PASSWORD}, token_from="/account")
    assert answer.status_code == 303 and answer.headers["location"] == "/account?gewijzigd=1&lang=nl"
    assert "Uw wachtwoord is gewijzigd" in site.get(answer.headers["location"]).text
    assert elsewhere.get("/account").status_code == 303
    assert make_site(world.db).sign_in("coordinator", NEW_PASSWORD).status_code == 303


# --- API tokens and organisations ---------------------------------------------------------------

def test_a_new_token_is_shown_once_works_and_can_be_revoked(world, make_site):
    site = make_site(world.db)
    site.sign_in("stadbeheer")
    answer = site.post("/admin/tokens", {"user": "coordinator", "scope": "read", "name": "Rapport welzijn"},
                       token_from="/admin/tokens")
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    token = re.search(r'id="token-value"[^>]*value="(obmi_[\w-]+)"', answer.text).group(1)
    assert "Kopieer deze sleutel nu." in answer.text
    listing = site.get("/admin/tokens")
    assert token not in listing.text and token[:11] in listing.text and "Rapport welzijn" in listing.text
    api = TestClient(site.app)
    assert api.get("/api/v1/imports", headers={"authorization": f"Bearer {token}"}).status_code == 200

    token_id = next(t.id for t in ops.list_tokens(world) if t.name == "Rapport welzijn")
    answer = site.post(f"/admin/tokens/{token_id}/intrekken", token_from="/admin/tokens")
    assert answer.status_code == 303 and f"ingetrokken={token_id}" in answer.headers["location"]
    assert api.get("/api/v1/imports", headers={"authorization": f"Bearer {token}"}).status_code == 401
    # Another organisation's administrator neither sees nor revokes it.
    other = make_site(world.db)
    other.sign_in("buurbeheer")
    assert "Rapport welzijn" not in other.get("/admin/tokens").text
    assert other.post(f"/admin/tokens/{token_id}/intrekken", token_from="/admin/tokens").status_code == 404


def test_only_administrators_add_organisations(world, make_site):
    site = make_site(world.db)
    site.sign_in("stadbeheer")
    page = site.get("/admin/organisaties")
    assert page.status_code == 200 and "Organisatie toevoegen" not in page.text and "Buurgemeente" not in page.text
    assert site.post("/admin/organisaties", {"code": "x", "name": "X"}, token_from="/account").status_code == 403
    admin = make_site(world.db)
    admin.sign_in("admin")
    bad = admin.post("/admin/organisaties", {"code": "Niet Geldig", "name": "X"}, token_from="/admin/organisaties")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    answer = admin.post("/admin/organisaties", {"code": "ocmw-stad", "name": "OCMW Stad", "kind": "ocmw"},
                        token_from="/admin/organisaties")
    assert answer.status_code == 303
    assert "OCMW Stad" in admin.get(answer.headers["location"]).text
    assert {o.code: o.is_host for o in ops.list_organisations(world)} == {"buur": False, "ocmw-stad": False,
                                                                          "stad": True}


# --- the upload page ---------------------------------------------------------------------------

def income_figures() -> dict[str, int]:
    with gzip.open(INCOME, "rt", encoding="utf-8-sig", newline="") as handle:
        return {"rows_in": sum(1 for _ in csv.DictReader(handle, delimiter="|"))}


def count_in(html: str, name: str) -> int:
    value = re.search(rf'data-count="{name}">([\d.]+)<', html).group(1)
    return int(value.replace(".", ""))


def test_the_upload_page_runs_a_statbel_import_in_the_background_and_shows_its_report(geo_db, make_site):
    root = system(geo_db)
    org(root, "stad", "Stad", host=True)
    user(root, "coordinator", "coordinator", org="stad")
    user(root, "andere", "coordinator", org="stad")
    user(root, "admin", "admin")
    site = make_site(geo_db)
    site.sign_in("coordinator")
    form = site.get("/admin/imports/nieuw")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    for kind in ops.IMPORT_KINDS.values():
        assert kind.label_nl in form.text and kind.files.replace("<", "&lt;") in form.text

    with INCOME.open("rb") as handle:
        answer = site.post("/admin/imports/nieuw", {"kind": "statbel"}, token_from="/admin/imports/nieuw",
                           files={"file": (INCOME.name, handle, "application/gzip")})
    assert answer.status_code == 303, answer.text
    job_url = answer.headers["location"]
    assert re.fullmatch(r"/admin/imports/taken/[\w-]+\?lang=nl", job_url)
    page = site.get(job_url)
    assert page.status_code == 200 and f"Import van {INCOME.name}" in page.text
    assert '<script src="/static/vendor/htmx.min.js' in page.text
    if 'data-state="done"' not in page.text:
        assert 'hx-trigger="every 1s"' in page.text and 'hx-get="/admin/imports/taken/' in page.text

    report = site.wait_for_job(job_url)
    assert 'data-state="done"' in report and 'data-status="ok"' in report, text_of(report)[:2000]
    run = ops.list_imports(root).data[0]
    assert run["status"] == "ok" and run["file_name"] == INCOME.name and run["user"] == "coordinator"
    assert count_in(report, "rows_in") == run["rows_in"] == income_figures()["rows_in"]
    for name in ("rows_ok", "rows_skipped", "inserted", "updated", "unchanged", "derived"):
        assert count_in(report, name) == run[name], name
    assert run["inserted"] > 0 and run["derived"] > 0
    assert count_in(report, "rows_ok") + count_in(report, "rows_skipped") == run["rows_in"]
    assert "Import geslaagd: de nieuwe cijfers zijn gepubliceerd." in report
    assert f'href="/admin/imports/{run["id"]}?lang=nl"' in report
    # The same figures stay visible in the provenance list and the run's own page.
    listing = site.get("/admin/imports")
    assert f'href="/admin/imports/{run["id"]}?lang=nl"' in listing.text and INCOME.name in listing.text
    details = site.get(f"/admin/imports/{run['id']}")
    assert details.status_code == 200 and count_in(details.text, "rows_in") == run["rows_in"]

    # The job is its starter's (and the administrators'): another coordinator is told it does not exist.
    other = Site(site.app)  # another browser on the same server (jobs live in the server's memory)
    other.sign_in("andere")
    assert other.get(job_url).status_code == 404
    admin = Site(site.app)
    admin.sign_in("admin")
    assert admin.get(job_url).status_code == 200

    # The same file again: idempotent, the report says nothing changed.
    with INCOME.open("rb") as handle:
        answer = site.post("/admin/imports/nieuw", {"kind": "statbel"}, token_from="/admin/imports/nieuw",
                           files={"file": (INCOME.name, handle, "application/gzip")})
    again = site.wait_for_job(answer.headers["location"])
    assert 'data-status="no_change"' in again and count_in(again, "inserted") == 0


def test_a_rejected_upload_shows_its_line_numbers_and_changes_nothing(geo_db, make_site, tmp_path):
    root = system(geo_db)
    org(root, "stad", "Stad", host=True)
    coordinator = user(root, "coordinator", "coordinator", org="stad")
    catalogue(coordinator, tmp_path, {"code": "stad_telling", "name_nl": "Telling", "is_count": True,
                                      "unit": "personen", "organisation": "stad"})
    upload = tmp_path / "waarnemingen.csv"
    upload.write_text("indicator,level,area,period,value\n"
                      "stad_telling,gemeente,44021,2015,120\n"
                      "stad_telling,planeet,44021,2015,7\n"
                      "stad_telling,gemeente,11002,2015,veel\n"
                      "onbekend,gemeente,44021,2015,3\n", encoding="utf-8")
    with geo_db.unguarded_engine.connect() as conn:
        observations_before = conn.execute(select(func.count()).select_from(observation)).scalar_one()
    runs_before = ops.list_imports(root).count

    site = make_site(geo_db)
    site.sign_in("coordinator")
    with upload.open("rb") as handle:
        answer = site.post("/admin/imports/nieuw", {"kind": "observations"}, token_from="/admin/imports/nieuw",
                           files={"file": (upload.name, handle, "text/csv")})
    assert answer.status_code == 303
    report = site.wait_for_job(answer.headers["location"])
    assert 'data-state="failed"' in report and 'data-status="failed"' in report
    assert "Het bestand werd geweigerd: er is niets veranderd." in report
    rejected = dict(re.findall(r'<tr><th scope="row" class="num">(\d+)</th><td[^>]*>([^<]+)</td></tr>', report))
    assert sorted(map(int, rejected)) == [3, 4, 5], rejected
    assert "planeet" in rejected["3"] and "veel" in rejected["4"] and "onbekend" in rejected["5"]
    assert count_in(report, "rejected") == 3

    # Nothing was written, not even the valid line 2; the run is recorded as failed with its rows.
    with geo_db.unguarded_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observation)).scalar_one() == observations_before
    runs = ops.list_imports(root)
    assert runs.count == runs_before + 1
    run = runs.data[0]
    assert run["status"] == "failed" and run["rows_rejected"] == 3
    csv_link = f"/admin/imports/{run['id']}/rapport.csv"
    assert f'href="{csv_link}"' in report
    download = site.get(csv_link)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(int(r["line"]), r["reason"]) for r in rows] == ops.import_details(root, run["id"]).rejected
    assert [int(r["line"]) for r in rows] == [3, 4, 5]
    details = site.get(f"/admin/imports/{run['id']}")
    assert all(f'<th scope="row" class="num">{n}</th>' in details.text for n in (3, 4, 5))


def test_the_upload_form_refuses_what_it_cannot_run_without_storing_it(geo_db, make_site):
    root = system(geo_db)
    org(root, "stad", "Stad", host=True)
    org(root, "buur", "Buur")
    user(root, "buurcoord", "coordinator", org="buur")  # not the host: may not import shared Statbel data
    site = make_site(geo_db)
    site.sign_in("buurcoord")
    form = site.get("/admin/imports/nieuw")
    assert 'value="statbel"' not in form.text and 'value="observations"' in form.text
    with INCOME.open("rb") as handle:
        answer = site.post("/admin/imports/nieuw", {"kind": "statbel"}, token_from="/admin/imports/nieuw",
                           files={"file": (INCOME.name, handle)})
    assert answer.status_code == 403
    empty = site.post("/admin/imports/nieuw", {"kind": "observations"}, token_from="/admin/imports/nieuw",
                      files={"file": ("leeg.csv", b"")})
    assert empty.status_code == 422 and "Dit werd niet bewaard." in empty.text
    assert ops.list_imports(root).count == 1  # only the geography of the fixture


# --- the audit log ------------------------------------------------------------------------------

def test_the_audit_page_filters_and_exports_the_same_selection(world, make_site):
    site = make_site(world.db)
    site.sign_in("admin")
    site.post("/admin/gebruikers/lezer/status", {"active": "0"}, token_from="/admin/gebruikers/lezer")
    make_site(world.db).sign_in("coordinator", "fout-wachtwoord-42")

    page = site.get("/admin/audit?resource_type=user&resource_id=lezer")
    assert page.status_code == 200
    assert set(re.findall(r"<td><code>(\w+)</code></td>", page.text)) == {"add_user", "update_user"}
    refused = site.get("/admin/audit?outcome=refused")
    assert "coordinator" in refused.text and "wrong user name or password" in refused.text
    export = site.get("/admin/audit.csv?resource_type=user&resource_id=lezer")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {r["operation"] for r in rows} == {"add_user", "update_user"}
    assert all(r["resource_id"] == "lezer" for r in rows)
    shown = ops.list_audit(world, AuditFilter(resource_type="user", resource_id="lezer"))
    assert len(rows) == shown.count
    today = utcnow().date().isoformat()
    assert site.get(f"/admin/audit?since={today}&until={today}").status_code == 200
    bad = site.get("/admin/audit?since=gisteren")
    assert bad.status_code == 422 and "JJJJ-MM-DD" in bad.text and 'aria-invalid="true"' in bad.text
    # An organisation administrator reads only their organisation's events.
    org_admin = make_site(world.db)
    org_admin.sign_in("buurbeheer")
    table = org_admin.get("/admin/audit?resource_type=user").text.split("<tbody>")[1].split("</tbody>")[0]
    assert "lezer" not in table and "admin" not in re.findall(r"<td>(\w*)", table)


def test_the_imports_list_is_paginated_newest_first(world, make_site, tmp_path):
    definition = tmp_path / "definitie.yaml"
    definition.write_text("indicators:\n  - code: stad_telling\n    name_nl: Telling\n    is_count: true\n"
                          "    organisation: stad\n", encoding="utf-8")
    for _ in range(27):
        ops.import_catalogue(world, definition)
    site = make_site(world.db)
    site.sign_in("admin")
    first = site.get("/admin/imports")
    ids = [int(i) for i in re.findall(r'<th scope="row"><a href="/admin/imports/(\d+)\?', first.text)]
    assert len(ids) == 25 and ids == sorted(ids, reverse=True) and ids[0] == 27
    assert 'aria-current="page">1<' in first.text and 'rel="next"' in first.text
    second = site.get("/admin/imports?page=2")
    ids2 = [int(i) for i in re.findall(r'<th scope="row"><a href="/admin/imports/(\d+)\?', second.text)]
    assert ids2 == [2, 1] and 'rel="prev"' in second.text and 'rel="next"' not in second.text
