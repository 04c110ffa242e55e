"""The web boundary (issue 13, "Web"): every parameter bounded in size and characters with a
plain 422 (JSON for programs, the error page in the page's language for people) instead of a
server error or a dropped connection; search without wildcards; HEAD for every GET; 405 naming
every method of the path; security headers on every response (CSP, nosniff, Referrer-Policy,
Permissions-Policy; HSTS and Secure cookies over HTTPS, also behind a trusted proxy only).

The probe set below is the attacker's and the careless user's list; each answered a 500, dropped
the connection or answered something else before (the LIKE probes excepted: the search rework of
issue 11 no longer builds LIKE patterns — they stay here so that it stays that way)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from obmi import operations as ops
from obmi import plugins
from obmi.context import public_context
from obmi.errors import ValidationError
from obmi.geo.codes import parse_area_key
from obmi.indicators.periods import parse_period
from obmi.settings import load_settings
from obmi.web import i18n
from obmi.web.app import create_app
from obmi.web.params import AREA_KEY, MAX_INT, PATTERN_WORDS, PERIOD, WORDS
from obmi.web.schemas import ErrorOut
from obmi.web.security_headers import SecurityHeaders
from pages_support import HTML

OBSERVATIONS = "/api/v1/observations?indicator=share_65plus&level=gemeente"
CRLF = "%0d%0aX-Injected:%201"

# (name, url, status, the parameter the answer must name)
API_PROBES = [
    ("offset beyond 64 bits", f"{OBSERVATIONS}&offset=99999999999999999999999999", 422, "offset"),
    ("id beyond 64 bits", "/api/v1/imports/99999999999999999999", 422, "run_id"),
    ("plan id beyond 32 bits", "/api/v1/plans/3000000000/items", 422, "plan_id"),
    ("a 50,000-character search", "/api/v1/search?q=" + "a" * 50_000, 422, "request"),
    ("a 300-character search", "/api/v1/search?q=" + "gent " * 60, 422, "q"),
    ("a 300-character type-ahead", "/api/v1/areas/suggest?q=" + "b" * 300, 422, "q"),
    ("a line break in a download's query", f"/download/observations.csv?indicator=share_65plus&level=gemeente"
                                           f"&period=2015{CRLF}", 422, "period"),
    ("a line break in a download's path", f"/download/factsheet/gemeente/44021{CRLF}.csv", 422, "code"),
    ("a line break in a redirect", f"/catalog/datasets/x{CRLF}", 422, "code"),
    ("a line break in an undeclared parameter", f"{OBSERVATIONS}&junk=1{CRLF}", 422, "junk"),
    ("an empty indicator", "/api/v1/observations?indicator=&level=gemeente", 422, "indicator"),
    ("a month 13", f"{OBSERVATIONS}&period=2015-13", 422, "period"),
    ("an area without its level", "/api/v1/series?indicator=pop_total&area=44021", 422, "area.0"),
    ("an unknown region", f"{OBSERVATIONS}&region=9999", 422, "region"),
    ("a tolerance of NaN", "/api/v1/levels/gemeente/geojson?tolerance=nan", 422, "tolerance"),
    ("a value of 5,000 characters", f"{OBSERVATIONS}&area=" + "1" * 5000, 422, "area"),
    ("1,001 parameters", OBSERVATIONS + "".join(f"&a{i}=1" for i in range(1001)), 422, "request"),
]


@pytest.fixture(scope="module")
def client(demo):
    return TestClient(create_app(demo.settings, demo.db), raise_server_exceptions=False)


def _app(demo, **environ: str):
    return create_app(load_settings({"OBMI_MAIL_OUTBOX": "unused", **environ}), demo.db)


@pytest.mark.parametrize("name, url, status, field", API_PROBES, ids=[p[0] for p in API_PROBES])
def test_a_bad_parameter_is_refused_with_a_plain_json_422(client, name, url, status, field):
    response = client.get(url)
    assert response.status_code == status, (name, response.status_code, response.text[:300])
    body = ErrorOut.model_validate(response.json())
    assert body.errors and field in body.errors, body
    assert "x-injected" not in response.headers and "Traceback" not in response.text
    assert body.detail.startswith("invalid request: ") and field in body.detail


@pytest.mark.parametrize("url", [f"{OBSERVATIONS}&period=latest", f"{OBSERVATIONS}&period=2015&region=2000,4000",
                                 f"{OBSERVATIONS}&within=provincie:40000&area=44021&offset=2147483647",
                                 "/api/v1/factsheets/gemeente/44021?ref=centrumsteden&ref=gewest:2000",
                                 "/api/v1/search?q=" + "gent+" * 39 + "gent", "/api/v1/series?indicator=pop_total"
                                 "&area=gemeente:44021&lang=en", "/api/v1/levels/provincie/geojson?tolerance=10000"])
def test_what_lies_within_the_bounds_is_answered(client, url):
    assert client.get(url).status_code == 200, url


def test_a_page_says_what_is_wrong_in_its_own_language(client):
    long = "/zoeken?q=" + "gent+" * 60
    dutch = client.get(long, headers=HTML)
    assert dutch.status_code == 422 and dutch.headers["content-type"].startswith("text/html")
    assert '<html lang="nl"' in dutch.text and "Ongeldige invoer" in dutch.text
    assert '<p class="detail">q: te lang: hoogstens 200 tekens</p>' in dutch.text  # Dutch words, no lang="en"
    english = client.get(long + "&lang=en", headers=HTML)
    assert english.status_code == 422 and '<html lang="en"' in english.text
    assert "q: too long: at most 200 characters" in english.text
    client.cookies.clear()  # ?lang=en is remembered
    control = client.get("/indicatoren/share_65plus?area=%0d%0a", headers=HTML)
    assert control.status_code == 422 and "area: bevat een stuurteken (zoals een regeleinde)" in control.text
    client.cookies.clear()


def test_a_page_refuses_a_record_number_out_of_range_before_asking_for_a_sign_in(client):
    response = client.get("/admin/imports?page=99999999999999999999", headers=HTML, follow_redirects=False)
    assert response.status_code == 422 and "page: hoogstens 2.147.483.647" in response.text


def test_every_message_of_the_boundary_is_translated():
    english = {text: i18n.translate("en", text) for text in [*(w for w, _ in WORDS.values()), *PATTERN_WORDS.values()]}
    assert not [nl for nl, en in english.items() if nl == en], "Dutch msgids without English in messages.po"


def _numeric(route: APIRoute) -> list[tuple[str, Any]]:
    params = [*route.dependant.query_params, *route.dependant.path_params]
    return [(p.name, p.field_info) for p in params if p.field_info.annotation in (int, float, int | None, float | None)]


def _bound(info: Any, kind: str) -> Any:
    return next((getattr(m, kind) for m in info.metadata if hasattr(m, kind)), None)


def test_every_whole_number_parameter_of_every_route_has_bounds_the_database_can_hold():
    loose = []
    for router in plugins.routers():
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for name, info in _numeric(route):
                low, high = _bound(info, "ge"), _bound(info, "le")
                if low is None or high is None or high > MAX_INT or low < -MAX_INT:
                    loose.append(f"{sorted(route.methods)} {route.path}: {name}")
    assert not loose, "whole numbers without bounds (use obmi.web.params): " + ", ".join(loose)


def test_every_text_parameter_of_the_api_is_bounded_in_its_schema(client):
    spec = client.get("/openapi.json").json()
    loose = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                variants = [s.get("items", s) for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
                for variant in variants:
                    if variant.get("type") == "string" and "enum" not in variant and not (
                            variant.get("maxLength") and variant.get("pattern")):
                        loose.append(f"{method.upper()} {path}: {parameter['name']}")
    assert not loose, "text parameters without maxLength and pattern (use obmi.web.params): " + ", ".join(loose)
    assert "HTTPValidationError" not in spec["components"]["schemas"], "a 422 documented as FastAPI's array"


@given(st.from_regex(PERIOD, fullmatch=True))
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_what_the_period_pattern_accepts_is_a_period(text):
    if not text.endswith("-02-29"):  # a 29 February the pattern cannot tell from a leap year's
        assert parse_period(text)[0] == text


@given(st.from_regex(AREA_KEY, fullmatch=True))
@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_what_the_area_key_pattern_accepts_is_an_area_key(text):
    if len(text) <= 100:
        level, code = parse_area_key(text)
        assert f"{level}:{code}" == text


# --- search: no wildcards -----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["%", "_", "%%", "\\", "*", "%_%"])
def test_a_wildcard_alone_matches_nothing(loaded_db, settings, typed):
    public = public_context(loaded_db, settings)
    assert any(a["name"] == "Gent" for a in ops.search(public, "gent")["areas"]), "the search itself works"
    found = ops.search(public, typed)
    assert not any(found[k] for k in ("indicators", "areas", "combinations")), (typed, found["counts"])
    assert ops.suggest_areas(public, typed) == ([], 0)


@pytest.mark.parametrize("typed", ["g_nt", "%ent", "gen%", "ant_erpen"])
def test_a_wildcard_in_words_is_a_separator_as_any_punctuation(loaded_db, settings, typed):
    """`g_nt` is the words g and nt (as "g-nt" would be): never "g, any letter, nt" as in LIKE."""
    public = public_context(loaded_db, settings)
    spaced = typed.replace("_", " ").replace("%", " ")
    assert ops.search(public, typed) == ops.search(public, spaced)
    assert ops.suggest_areas(public, typed) == ops.suggest_areas(public, spaced)
    assert not any(a["name"] == "Gent" for a in ops.search(public, "g_nt")["areas"])


# --- methods --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/api/v1/indicators", "/indicatoren/share_65plus", "/static/obmi.css",
                                 "/download/observations.csv?indicator=share_65plus&level=gemeente&period=2015"])
def test_head_answers_like_get_without_a_body(client, url):
    got, head = client.get(url), client.head(url)
    assert got.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content) or url == "/"  # the home page has a fresh token
    assert head.headers.get("etag") == got.headers.get("etag")


def test_head_of_a_path_that_has_no_get_is_405(client):
    response = client.head("/api/v1/plans/import")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


@pytest.mark.parametrize("method, url, allowed", [
    ("PUT", "/api/v1/imports", "GET, POST, HEAD"),
    ("DELETE", "/api/v1/indicators", "GET, HEAD"),
    ("OPTIONS", "/api/v1/items/1", "GET, PATCH, HEAD"),
    ("POST", "/static/obmi.css", "GET, HEAD"),
])
def test_405_names_every_method_of_the_path(client, method, url, allowed):
    response = client.request(method, url)
    assert response.status_code == 405 and response.headers["allow"] == allowed


# --- security headers -------------------------------------------------------------------------

def _policy(response) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split("; ")}


@pytest.mark.parametrize("url", ["/", "/api/v1/indicators", "/bestaat-niet", "/static/obmi.js",
                                 f"{OBSERVATIONS}&offset=-1"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url, headers=HTML)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["frame-ancestors"] == ["'self'"]
    assert policy["style-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:", "blob:"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert {"camera=()", "microphone=()", "geolocation=()"} <= set(response.headers["permissions-policy"].split(", "))
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_a_server_error_carries_them_too(demo):
    app = _app(demo)
    app.add_api_route("/boom", lambda: 1 / 0)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500 and "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_documentation_allows_exactly_its_own_start_up_script(client):
    response = client.get("/api/docs")
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    sources = _policy(response)["script-src"]
    assert len(inline) == 1 and sources[0] == "'self'" and len(sources) == 2 and sources[1].startswith("'sha256-")


def test_embedding_hosts_and_the_base_map_are_allowed_when_configured(demo):
    app = _app(demo, OBMI_EMBED_HOSTS="https://www.gent.be, https://*.stad.gent",
               OBMI_BASEMAP_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png",
               OBMI_BASEMAP_ATTRIBUTION="© example")
    policy = _policy(TestClient(app).get("/verhalen"))
    assert policy["frame-ancestors"] == ["'self'", "https://www.gent.be", "https://*.stad.gent"]
    assert policy["img-src"] == ["'self'", "data:", "blob:", "https://*.tiles.example.org"]


@pytest.mark.parametrize("name, value", [("OBMI_EMBED_HOSTS", "https://www.gent.be/verhalen"),
                                         ("OBMI_EMBED_HOSTS", "https://a.be 'unsafe-inline'"),
                                         ("OBMI_EMBED_HOSTS", "www.gent.be"),
                                         ("OBMI_TRUSTED_PROXIES", "*"), ("OBMI_TRUSTED_PROXIES", "proxy.local")])
def test_a_bad_embedding_host_or_proxy_is_refused_at_start(name, value):
    with pytest.raises(ValidationError) as refused:
        load_settings({name: value})
    assert name in refused.value.errors and repr(value.split()[-1].strip(",")) in str(refused.value) or value in str(
        refused.value)


def test_a_response_keeps_its_own_policy():
    """The sandbox policy of plan attachments (web/plans_pages.py) is not replaced."""
    def attachment(request):
        return Response(b"x", headers={"Content-Security-Policy": "sandbox; default-src 'none'"})
    app = SecurityHeaders(Starlette(routes=[Route("/a", attachment)]), load_settings({}))
    response = TestClient(app).get("/a")  # type: ignore[arg-type]
    assert response.headers.get_list("content-security-policy") == ["sandbox; default-src 'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_over_https_cookies_are_secure_and_hsts_is_sent(demo):
    secure = TestClient(_app(demo), base_url="https://testserver").get("/?lang=en")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    assert "secure" in [a.strip().lower() for a in secure.headers["set-cookie"].split(";")]
    plain = TestClient(_app(demo)).get("/?lang=en")
    assert "secure" not in plain.headers["set-cookie"].lower() and "strict-transport-security" not in plain.headers
    never = TestClient(_app(demo, OBMI_COOKIE_SECURE="never"), base_url="https://testserver").get("/?lang=en")
    assert "secure" not in never.headers["set-cookie"].lower()


@pytest.mark.parametrize("trusted, address, hsts", [("127.0.0.1", "127.0.0.1", True),
                                                    ("10.0.0.0/8", "10.1.2.3", True),
                                                    ("127.0.0.1", "192.0.2.7", False),
                                                    ("", "127.0.0.1", False)])
def test_a_proxys_word_on_https_counts_only_from_a_trusted_proxy(demo, trusted, address, hsts):
    app = _app(demo, **({"OBMI_TRUSTED_PROXIES": trusted} if trusted else {}))
    response = TestClient(app, client=(address, 40000)).get("/api/v1/levels", headers={"X-Forwarded-Proto": "https"})
    assert ("strict-transport-security" in response.headers) is hsts
