"""The response cache and ETags (obmi.web.caching): bounded in bytes, keyed on the parameters an
answer depends on (made-up ones add no entry), errors never stored, the host asked for part of
the key; and a restore followed by new imports never brings back an old ETag or an old body, on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.web.app import create_app
from obmi.web.caching import ENTRY_OVERHEAD, MB, BodyCache, entry_cost

from conftest import LAND_FILES, system

JUNK_REQUESTS = 200


@pytest.fixture(scope="module")
def demo_app(demo):
    return create_app(demo.settings, demo.db)


@pytest.fixture
def site(demo_app):
    """A client of the demo site whose cache starts empty (each test counts its own entries)."""
    demo_app.state.body_cache.clear()
    return TestClient(demo_app)


def largest_level(site: TestClient) -> str:
    levels = site.get("/api/v1/levels").json()["data"]
    return max(levels, key=lambda lvl: lvl["with_geometry"])["code"]


# --- the bound ----------------------------------------------------------------------------------

def test_the_cache_holds_its_byte_bound_and_drops_the_least_recently_used():
    cache = BodyCache(max_bytes=10_000)
    body = b"x" * 900
    keys = [("v", "public", "http://testserver/", "/p", f"i={i}", "") for i in range(40)]
    for key in keys:
        assert cache.put(key, body)
        assert cache.bytes <= cache.max_bytes
    assert cache.bytes == sum(entry_cost(k, b) for k, b in cache.entries.items())
    kept = len(cache)
    assert kept == 10_000 // entry_cost(keys[0], body)
    assert list(cache.entries) == keys[-kept:]  # the oldest went first
    cache.get(keys[-kept])  # used again: now the newest
    cache.put(("v", "public", "http://testserver/", "/p", "i=new", ""), body)
    assert keys[-kept] in cache.entries and keys[-kept + 1] not in cache.entries


def test_an_answer_larger_than_a_quarter_of_the_cache_is_served_but_not_kept():
    cache = BodyCache(max_bytes=4 * 1000)
    key = ("v", "public", "h", "/p", "", "")
    assert not cache.put(key, b"x" * (1000 - ENTRY_OVERHEAD))
    assert len(cache) == 0 and cache.bytes == 0
    assert cache.put(key, b"x" * 10)


def test_replacing_an_entry_counts_it_once():
    cache = BodyCache(max_bytes=10_000)
    key = ("v", "public", "h", "/p", "", "")
    cache.put(key, b"a" * 100)
    cache.put(key, b"b" * 300)
    assert len(cache) == 1 and cache.bytes == entry_cost(key, b"b" * 300)


def test_the_server_cache_stays_within_the_configured_bytes(demo):
    app = create_app(demo.settings.model_copy(update={"response_cache_mb": 1}), demo.db)
    cache = app.state.body_cache
    assert cache.max_bytes == MB
    site = TestClient(app)
    sizes = []
    # Distinct, valid answers (every page size is another body): more than twice 1 MB together.
    for limit in range(300, 260, -1):
        answer = site.get("/api/v1/observations", params={"indicator": "pop_total", "level": "gemeente",
                                                          "limit": limit})
        assert answer.status_code == 200
        sizes.append(len(answer.content))
        assert cache.bytes <= cache.max_bytes
    assert sum(sizes) > 2 * cache.max_bytes, "the test must ask for more than the cache may hold"
    assert 1 < len(cache) < len(sizes)
    assert cache.bytes == sum(entry_cost(k, b) for k, b in cache.entries.items())


# --- the key --------------------------------------------------------------------------------------

def test_made_up_parameters_add_no_entry_and_get_the_same_answer(site):
    level = largest_level(site)
    url = f"/api/v1/levels/{level}/geojson?detail=full"
    first = site.get(url)
    assert first.status_code == 200
    cache = site.app.state.body_cache
    entries, used = len(cache), cache.bytes
    for i in range(JUNK_REQUESTS):
        answer = site.get(f"{url}&junk{i}={i}&_={i * 7919}")
        assert answer.status_code == 200
        assert answer.headers["etag"] == first.headers["etag"]
        assert answer.content == first.content
    assert (len(cache), cache.bytes) == (entries, used)


def test_the_order_of_parameters_does_not_matter_but_their_values_do(site):
    level = largest_level(site)
    entries = len(site.app.state.body_cache)
    a = site.get(f"/api/v1/levels/{level}/geojson?detail=full&tolerance=50")
    b = site.get(f"/api/v1/levels/{level}/geojson?tolerance=50&detail=full")
    c = site.get(f"/api/v1/levels/{level}/geojson?tolerance=500&detail=full")
    assert a.headers["etag"] == b.headers["etag"] != c.headers["etag"]
    assert a.content == b.content != c.content
    assert len(site.app.state.body_cache) == entries + 2


def test_errors_are_never_cached(site):
    cache = site.app.state.body_cache
    for url in ("/api/v1/levels/no_such_level/geojson", "/api/v1/observations?indicator=pop_total&level=x",
                "/api/v1/observations?indicator=pop_total&level=gemeente&limit=0",
                "/api/v1/indicators/no_such_indicator"):
        for _ in range(3):
            answer = site.get(url)
            assert answer.status_code in (404, 409, 422), (url, answer.status_code)
            assert "etag" not in answer.headers
    assert len(cache) == 0


def test_an_old_etag_gets_a_304_only_for_the_same_answer(site):
    first = site.get("/api/v1/levels")
    again = site.get("/api/v1/levels?junk=1", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    other = site.get("/api/v1/indicators", headers={"if-none-match": first.headers["etag"]})
    assert other.status_code == 200


def test_the_host_asked_for_is_part_of_the_key(site):
    # The OData service document links to the host it was asked on: one asked for with a forged
    # Host header must not be served to everyone else from the cache.
    forged = site.get("/odata/", headers={"host": "attacker.example"})
    assert forged.status_code == 200 and "attacker.example" in forged.text
    honest = site.get("/odata/")
    assert honest.status_code == 200 and "attacker.example" not in honest.text


def test_routes_that_parse_the_query_themselves_key_on_what_they_parsed(site):
    # OData: $top changes the answer; a custom parameter neither does nor is echoed in next links.
    one = site.get("/odata/Indicators?$top=1").json()
    two = site.get("/odata/Indicators?$top=2").json()
    assert (len(one["value"]), len(two["value"])) == (1, 2)
    cache = site.app.state.body_cache
    entries = len(cache)
    junk = site.get("/odata/Indicators?$top=1&utm_source=junk")
    assert junk.json() == one and "utm_source" not in junk.text
    assert len(cache) == entries
    # Swing ignores the case of parameter names: $TOP is $top, and one entry serves both.
    upper = site.get("/jiveservices/odata/Variables?$TOP=1").json()
    lower = site.get("/jiveservices/odata/Variables?$top=1&junk=2").json()
    wider = site.get("/jiveservices/odata/Variables?$top=3").json()
    assert upper == lower and len(upper["value"]) == 1 and len(wider["value"]) == 3
    assert len(cache) == entries + 2


# --- restore, then import again ---------------------------------------------------------------------

def _indicator(site: TestClient, etag: str | None = None):
    headers = {"if-none-match": etag} if etag else {}
    return site.get("/api/v1/indicators/land_total_area?level=gemeente", headers=headers)


def test_restore_then_import_never_brings_back_an_old_etag_or_body(geo_db, tmp_path: Path):
    ctx = system(geo_db)
    first, second = LAND_FILES[0], LAND_FILES[1]
    year = lambda path: path.name.split("_")[-1].split(".")[0]  # noqa: E731
    ops.import_statbel(ctx, first)
    site = TestClient(create_app(ctx.settings, geo_db))  # one server throughout: its cache too

    before = _indicator(site)
    assert before.status_code == 200 and before.json()["periods"] == [year(first)]
    ops.backup_database(ctx, tmp_path / "backup.sqlite")

    ops.import_statbel(ctx, second)
    imported = _indicator(site)
    assert imported.json()["periods"] == [year(first), year(second)]

    ops.restore_database(ctx, tmp_path / "backup.sqlite")
    restored = _indicator(site)
    assert restored.json()["periods"] == [year(first)], "the restored data, not a cached body"
    assert _indicator(site, imported.headers["etag"]).status_code == 200

    ops.import_statbel(ctx, second)
    again = _indicator(site)
    assert again.json()["periods"] == [year(first), year(second)]
    etags = [r.headers["etag"] for r in (before, imported, restored, again)]
    assert len(set(etags)) == 4, "every data state has its own ETag"
    for old in etags[:3]:
        assert _indicator(site, old).status_code == 200, "an ETag of another data state must not get a 304"
    assert _indicator(site, etags[3]).status_code == 304


def test_a_backup_file_is_another_database(geo_db, tmp_path: Path):
    # A backup can itself be opened as a database (`OBMI_DATABASE_URL=sqlite:///backup.sqlite`):
    # it must never answer the ETags of the database it was made from.
    from obmi.store import open_database
    ctx = system(geo_db)
    ops.backup_database(ctx, tmp_path / "backup.sqlite")
    copy = open_database(f"sqlite:///{tmp_path / 'backup.sqlite'}")
    try:
        original, copied = ops.data_version(ctx), ops.data_version(system(copy))
        assert copied.epoch != original.epoch and copied.version == original.version
    finally:
        copy.dispose()
