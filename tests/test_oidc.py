"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock: Flask + Authlib's
server, over HTTP on a free port), with OBMi served by uvicorn on another port and a cookie-keeping
httpx client playing the browser. Nothing of the client side is mocked: discovery, PKCE, the
token request with the client secret, the ID token's signature, issuer, audience and nonce are
all checked by Authlib against what the provider really sends."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from oidc_provider_mock import run_server_in_thread

from browser.browser_support import LiveServer, free_port
from obmi import operations as ops
from obmi.auth.sessions import COOKIE
from obmi.settings import load_settings
from obmi.web.app import create_app
from obmi.web.oidc import FLOW_COOKIE, FLOW_SALT

from conftest import system
from factories import org

ROLE_MAP = "obmi-analisten=analyst,obmi-beheer=org_admin"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    """A real provider: clients must register (so the secret is checked) and send a nonce."""
    with run_server_in_thread(require_client_registration=True, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def register_client(issuer: str, redirect_uri: str) -> tuple[str, str]:
    answer = httpx.post(f"{issuer}/oauth2/clients", json={"redirect_uris": [redirect_uri],
                                                          "token_endpoint_auth_method": "client_secret_basic"})
    assert answer.status_code == 201, answer.text
    return answer.json()["client_id"], answer.json()["client_secret"]


def set_user(issuer: str, sub: str, **claims) -> None:
    """What the provider knows (and will assert) about a person."""
    assert httpx.put(f"{issuer}/users/{sub}", json=claims).status_code == 204


@dataclass
class Site:
    url: str
    issuer: str
    settings: object
    db: object

    def browser(self) -> httpx.Client:
        return httpx.Client(follow_redirects=False, timeout=20)


@pytest.fixture
def site(empty_db, issuer, tmp_path) -> Iterator:
    """Start OBMi (on its own port, registered at the provider) with the given overrides."""
    org(system(empty_db), "gent")
    servers: list[LiveServer] = []

    def start(*, client_secret: str | None = None, **overrides) -> Site:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        client_id, secret = register_client(issuer, f"{url}/login/oidc/callback")
        settings = load_settings({
            "OBMI_MAIL_OUTBOX": str(tmp_path / "outbox"), "OBMI_OIDC_ISSUER": issuer,
            "OBMI_OIDC_CLIENT_ID": client_id, "OBMI_OIDC_CLIENT_SECRET": client_secret or secret,
            "OBMI_OIDC_ROLE_CLAIM": "groups", "OBMI_OIDC_ROLE_MAP": ROLE_MAP,
        }, **{"oidc_default_role": "", **overrides})
        server = LiveServer(create_app(settings, empty_db), port)
        server.start()
        servers.append(server)
        return Site(url, issuer, settings, empty_db)

    yield start
    for server in servers:
        server.stop()


def to_provider(site: Site, browser: httpx.Client, next: str = "/api/v1/me") -> str:
    """GET /login/oidc: OBMi sends the browser to the provider (returns the authorization URL)."""
    start = browser.get(f"{site.url}/login/oidc", params={"next": next})
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{site.issuer}/oauth2/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["nonce"][0] and query["state"][0]
    assert "openid" in query["scope"][0].split()
    flow_cookie = start.headers["set-cookie"]
    assert flow_cookie.startswith(f"{FLOW_COOKIE}=")
    for attribute in ("HttpOnly", "Max-Age=600", "Path=/login/oidc", "SameSite=lax"):
        assert attribute.lower() in flow_cookie.lower(), flow_cookie
    return authorize


def at_provider(browser: httpx.Client, authorize: str, sub: str | None = None) -> str:
    """The provider's sign-in page: submit the user (or deny); returns where it sends us back."""
    page = browser.get(authorize)
    assert page.status_code == 200 and 'name="sub"' in page.text
    answer = browser.post(authorize, data={"sub": sub} if sub else {"action": "deny"})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(site: Site, browser: httpx.Client, sub: str, next: str = "/api/v1/me") -> httpx.Response:
    callback = at_provider(browser, to_provider(site, browser, next), sub)
    assert callback.startswith(f"{site.url}/login/oidc/callback?")
    return browser.get(callback)


def me(site: Site, browser: httpx.Client) -> dict:
    answer = browser.get(f"{site.url}/api/v1/me")
    assert answer.status_code == 200
    return answer.json()


def new_sub() -> str:
    return f"sub-{uuid.uuid4().hex[:10]}"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_first_sign_in_creates_the_user_with_the_mapped_role(site):
    s = site()
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="Ann.Peeters", email="ann.peeters@gent.example",
             name="Ann Peeters", groups=["obmi-analisten", "iets-anders"])
    with s.browser() as browser:
        done = sign_in(s, browser, sub)
        assert done.status_code == 303 and done.headers["location"] == "/api/v1/me"
        assert COOKIE in done.cookies
        assert any(h.startswith(f'{FLOW_COOKIE}=""') and "max-age=0" in h.lower()
                   for h in done.headers.get_list("set-cookie")), "the flow cookie is single-use"
        assert me(s, browser) == {"name": "ann.peeters", "organisation": "gent", "roles": ["analyst"], "groups": [],
                                  "via": "session", "scope": None}
    users = {u["name"]: u for u in ops.list_users(system(s.db))}
    assert users["ann.peeters"]["email"] == "ann.peeters@gent.example"


def test_second_sign_in_follows_the_claims(site):
    s = site()
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="bert", name="Bert", groups=["obmi-analisten"])
    with s.browser() as browser:
        assert sign_in(s, browser, sub).status_code == 303
        assert me(s, browser)["roles"] == ["analyst"]
    set_user(s.issuer, sub, preferred_username="bert", name="Bert Claes", groups="obmi-beheer")
    with s.browser() as browser:
        done = sign_in(s, browser, sub, next="//evil.example/steal")
        assert done.status_code == 303 and done.headers["location"] == "/admin"  # no open redirect
        assert me(s, browser)["roles"] == ["org_admin"] and me(s, browser)["name"] == "bert"
    names = [u["name"] for u in ops.list_users(system(s.db))]
    assert names.count("bert") == 1


def test_tampered_state_is_refused_and_signs_nobody_in(site):
    s = site()
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="carla", groups=["obmi-analisten"])
    with s.browser() as browser:
        callback = at_provider(browser, to_provider(s, browser), sub)
        tampered = browser.get(with_query(callback, state="forged-" + uuid.uuid4().hex))
        assert tampered.status_code == 401
        assert "state" in tampered.text and "Traceback" not in tampered.text
        assert COOKIE not in tampered.cookies
        assert me(s, browser)["name"] == ""
        # The flow cookie was spent: even the genuine answer no longer signs in (no replay).
        replay = browser.get(callback)
        assert replay.status_code == 401 and COOKIE not in replay.cookies
        assert me(s, browser)["name"] == ""


def test_id_token_with_another_nonce_is_refused(site):
    """A flow cookie that is validly signed but carries another nonce: Authlib's ID token check
    must refuse the provider's (genuine, signed) token."""
    s = site()
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="dirk", groups=["obmi-analisten"])
    serializer = URLSafeTimedSerializer(s.settings.secret_key.get_secret_value(), salt=FLOW_SALT)
    with s.browser() as browser:
        callback = at_provider(browser, to_provider(s, browser), sub)
        flow = serializer.loads(browser.cookies[FLOW_COOKIE])
        browser.cookies.set(FLOW_COOKIE, serializer.dumps({**flow, "nonce": "another-nonce"}),
                            domain="127.0.0.1", path="/login/oidc")
        refused = browser.get(callback)
        assert refused.status_code == 401 and "ID-token" in refused.text
        assert COOKIE not in refused.cookies and me(s, browser)["name"] == ""


def test_expired_or_missing_flow_cookie_is_refused(site):
    s = site()
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="els", groups=["obmi-analisten"])

    class Past(TimestampSigner):  # signs as if 11 minutes ago
        def get_timestamp(self) -> int:
            return int(time.time()) - 11 * 60

    old = URLSafeTimedSerializer(s.settings.secret_key.get_secret_value(), salt=FLOW_SALT, signer=Past)
    with s.browser() as browser:
        callback = at_provider(browser, to_provider(s, browser), sub)
        flow = old.loads(browser.cookies[FLOW_COOKIE])
        browser.cookies.set(FLOW_COOKIE, old.dumps(flow), domain="127.0.0.1", path="/login/oidc")
        expired = browser.get(callback)
        assert expired.status_code == 401 and "verlopen" in expired.text
        assert me(s, browser)["name"] == ""
    with s.browser() as other:  # a callback in a browser that never started a sign-in
        assert other.get(callback).status_code == 401


def test_provider_refusal_wrong_secret_and_no_role_give_clear_401_pages(site):
    s = site()
    with s.browser() as browser:
        denied = browser.get(at_provider(browser, to_provider(s, browser)))
        assert denied.status_code == 401 and "access_denied" in denied.text

    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="frank", groups=["geen-obmi-groep"])
    with s.browser() as browser:
        browser.cookies.set("obmi_lang", "en", domain="127.0.0.1")
        refused = sign_in(s, browser, sub)
        assert refused.status_code == 401 and "has no role in OBMi" in refused.text
        assert me(s, browser)["name"] == ""
    assert "frank" not in [u["name"] for u in ops.list_users(system(s.db))]

    wrong = site(client_secret="not-the-registered-secret")
    sub = new_sub()
    set_user(s.issuer, sub, preferred_username="greet", groups=["obmi-analisten"])
    with wrong.browser() as browser:
        refused = sign_in(wrong, browser, sub)
        assert refused.status_code == 401 and "Traceback" not in refused.text
        assert COOKIE not in refused.cookies


def test_without_configuration_single_sign_on_says_so(empty_db):
    app = create_app(load_settings({}), empty_db)
    with TestClient(app) as client:
        page = client.get("/login/oidc", headers={"accept": "text/html"})
        assert page.status_code == 404 and "niet ingesteld" in page.text
        answer = client.get("/login/oidc")
        assert answer.status_code == 404 and "OBMI_OIDC_ISSUER" in answer.json()["detail"]
        assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
