"""The web adapter's own guarantees: no stack trace ever reaches a browser, every response has a
request id, API tokens work as Bearer and as the HTTP Basic password (what Power BI sends), a
revoked or read-only token is refused where it must be, and POST /api/v1/imports runs the same
atomic import as the command line."""

from __future__ import annotations

import base64

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi import plugins
from obmi.hookspecs import hookimpl
from obmi.web.app import create_app

from conftest import STATBEL, system
from factories import org, user


class Broken:
    @hookimpl
    def obmi_routers(self):
        router = APIRouter()

        @router.get("/kapot")
        def broken():
            raise RuntimeError("secret internals: /etc/obmi/db-password")

        return [router]


@pytest.fixture
def app_with_a_bug(empty_db):
    plugin = Broken()
    plugins.manager().register(plugin)
    try:
        yield TestClient(create_app(system(empty_db).settings, empty_db), raise_server_exceptions=False)
    finally:
        plugins.manager().unregister(plugin)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_internal_error_shows_no_trace(app_with_a_bug, accept):
    response = app_with_a_bug.get("/kapot", headers={"Accept": accept})
    assert response.status_code == 500
    assert "Traceback" not in response.text and "secret internals" not in response.text
    assert response.headers["x-request-id"] in response.text


@pytest.fixture
def world(geo_db, tmp_path):
    root = system(geo_db)
    org(root, "stad", host=True)
    user(root, "coordinator", "coordinator", org="stad")
    write = ops.create_token(root, "coordinator", scope="write").token
    read = ops.create_token(root, "coordinator", scope="read").token
    return TestClient(create_app(root.settings, geo_db)), write, read, geo_db


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"powerbi:{token}".encode()).decode()}


def test_tokens_as_bearer_and_as_basic_password(world):
    client, write, read, _ = world
    for headers in ({"Authorization": f"Bearer {read}"}, basic(read)):
        me = client.get("/api/v1/me", headers=headers).json()
        assert (me["name"], me["via"], me["scope"]) == ("coordinator", "token", "read")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer obmi_not-a-real-token-at-all"}).status_code == 401
    refused = client.get("/api/v1/me", headers=basic("a password, not a token"))
    assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]


def test_the_import_api_runs_the_atomic_import(world):
    client, write, read, db = world
    path = STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz"

    def post(token: str | None, **form: str):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with path.open("rb") as handle:
            return client.post("/api/v1/imports", headers=headers, data={"kind": "statbel", **form},
                               files={"file": (path.name, handle, "application/gzip")})

    assert post(None).status_code == 401
    assert post(read).status_code == 403  # a read token never writes
    version = ops.data_version(system(db)).version
    dry = post(write, dry_run="true").json()
    assert dry["status"] == "dry_run" and ops.data_version(system(db)).version == version
    report = post(write).json()
    assert (report["status"], report["rows_in"], report["inserted"]) == ("ok", 457051, 2616)
    assert ops.data_version(system(db)).version == version + 1
    assert post(write).json()["status"] == "no_change"
    runs = client.get("/api/v1/imports", headers={"Authorization": f"Bearer {read}"}).json()
    assert runs["data"][0]["id"] == report["import_id"] + 1 and runs["count"] >= 3


def test_a_read_token_is_refused_before_the_upload_is_read_and_the_refusal_is_audited(world):
    # An empty file would be a 422 "the file is empty" if the upload were read first.
    from obmi.store.audit import AuditFilter
    client, _, read, db = world
    response = client.post("/api/v1/imports", headers={"Authorization": f"Bearer {read}"},
                           data={"kind": "statbel"}, files={"file": ("TF_SOC_POP_STRUCT_2015.txt", b"", "text/plain")})
    assert response.status_code == 403, response.text
    refused = ops.list_audit(system(db), AuditFilter(operation="import_statbel", outcome="refused")).data
    assert [e["actor"] for e in refused] == ["coordinator"]


def test_a_rejected_upload_answers_its_rejected_lines(world, tmp_path):
    client, write, _, db = world
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,level,area,period,value\npop_total,gemeente,44021,2015,abc\n", encoding="utf-8")
    with bad.open("rb") as handle:
        response = client.post("/api/v1/imports", headers={"Authorization": f"Bearer {write}"},
                               data={"kind": "observations"}, files={"file": ("bad.csv", handle, "text/csv")})
    body = response.json()
    assert response.status_code == 422 and body["status"] == "failed"
    assert body["rejected"] and body["rejected"][0]["line"] == 2


def test_a_revoked_token_stops_working_at_once(world):
    client, write, read, db = world
    [token] = [t for t in ops.list_tokens(system(db)) if t.scope == "read"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {read}"}).status_code == 200
    ops.revoke_token(system(db), token.id)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {read}"}).status_code == 401
