"""schemathesis with every check (`--checks all`: server errors, status codes, content types,
headers and bodies against the OpenAPI document, valid input accepted, invalid input refused,
methods and Allow) against the JSON API (/api/v1) of a live demo server — as the public, and with
a read token for everything a signed-in program reads. The schema and the behaviour agree: no
failure at all.

A few operations refuse, with a 422, input the schema cannot call invalid — a rule across two
parameters, or values that are data (a plan's years) rather than a format. schemathesis' own
advice for those is to allow the 422 for that operation (EXEMPT, each with its reason); every
other check still holds for them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from browser.browser_support import LiveServer, free_port
from obmi import operations as ops
from obmi.context import system_context
from obmi.settings import load_settings
from obmi.store import open_database
from obmi.web.app import create_app

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# operation → why a 422 may answer a request its schema accepts
EXEMPT = {
    "GET /api/v1/jsonstat": "either indicator (a dataset) or theme (a collection), not both, not neither",
    "GET /api/v1/sdmx": "indicator is required unless format=structure",
    "GET /api/v1/factsheets/{level}/{code}": "at most 13 reference areas once a preset (13 cities) is expanded",
    "GET /api/v1/plans/{plan_id}/finance": "the year must be one of the plan's years (data)",
    "GET /api/v1/plans/{plan_id}/reports/opvolging/{year}.{fmt}": "the year must be one of the plan's years (data)",
    "GET /api/v1/plans/{plan_id}/reports/college/{period}.{fmt}": "a reporting period of the plan (data)",
    "GET /api/v1/plans/{plan_id}/reports/{report}/{period}/sections": "a reporting period of the plan (data)",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def server(demo, tmp_path_factory):
    """A writable copy of the demo (a token's use is recorded) behind uvicorn, and a read token."""
    folder = tmp_path_factory.mktemp("schemathesis")
    copy = folder / "demo.db"
    with sqlite3.connect(make_url(demo.db.url).database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(folder / "outbox"), "OBMI_OPEN_DATA_RATE_PER_MINUTE": "0"})
    db = open_database(f"sqlite:///{copy}")
    token = ops.create_token(system_context(db, settings, "test"), "coordinator", scope="read", name="schemathesis")
    live = LiveServer(create_app(settings, db), free_port())
    live.start()
    yield live, token.token
    live.stop()
    db.dispose()


def _config(folder: Path) -> Path:
    lines = []
    for name in EXEMPT:
        lines += ["[[operations]]", f'include-name = "{name}"',
                  f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED!r}".replace("'", '"'), ""]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _run(url: str, folder: Path, phases: str, *options: str) -> subprocess.CompletedProcess:
    command = [str(SCHEMATHESIS), "--config-file", str(_config(folder)), "run", f"{url}/openapi.json",
               "--checks", "all", "--include-path-regex", "^/api/v1/", "--phases", phases,
               "--max-examples", "10", "--seed", "1", "--generation-database", "none", "--workers", "2",
               "--no-color", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=folder)


def _failures(output: str) -> str:
    """The report's failure blocks (from the first ___ header on), or its tail."""
    start = output.find("\n___")
    return output[start:start + 6000] if start >= 0 else output[-3000:]


def test_the_public_api_matches_its_schema(server, tmp_path):
    live, _token = server
    result = _run(live.url, tmp_path, "examples,coverage,fuzzing")
    assert "Tested: " in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, _failures(result.stdout)


def test_what_a_read_token_reads_matches_its_schema(server, tmp_path):
    """The boundary values of every parameter (the coverage phase) were tried as the public
    above; here generated requests reach what only a signed-in program sees. Writes are left
    out: a read token may write nothing (403), but FastAPI reads a request's body before the
    endpoint refuses it, so a body's own rules (a file that is not empty) would answer first —
    the write path's tests cover those."""
    live, token = server
    excluded = [option for method in WRITES for option in ("--exclude-method", method)]
    result = _run(live.url, tmp_path, "examples,fuzzing", "--header", f"Authorization: Bearer {token}",
                  *excluded)
    assert "Tested: " in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, _failures(result.stdout)
