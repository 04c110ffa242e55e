"""An import killed mid-way (kill -9) leaves nothing of its data, and its run does not stay
`running` for ever: the run records its process (host, pid, start time), and the next import or
`obmi imports --cleanup` marks a run whose process is gone `interrupted` — on SQLite and
PostgreSQL. The listing and the administration pages say so."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from obmi import operations as ops
from obmi.store.tables import import_run, observation
from obmi.timeutil import utcnow
from obmi.web.app import create_app

from conftest import INCOME_FILE, LAND_FILES, POPULATION_FILES, system
from factories import PASSWORD, user

OBMI = Path(sys.executable).with_name("obmi")
HTML = {"accept": "text/html"}


def cli_env(db, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_") or k.startswith("OBMI_TEST_")}
    env.update(OBMI_DATABASE_URL=db.url, OBMI_LOG_LEVEL="WARNING", **extra)
    return env


def runs_of(db) -> dict[int, dict]:
    with db.unguarded_engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(import_run))}


def observation_count(db) -> int:
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(observation)).scalar_one()


def kill_an_import(db, path: Path, **env: str) -> int:
    """Start `obmi import statbel PATH` in another process, kill -9 it while its run is running,
    and return the run's id."""
    child = subprocess.Popen([str(OBMI), "import", "statbel", str(path)], env=cli_env(db, **env),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while True:
            mine = [r for r in runs_of(db).values() if r["process_id"] == child.pid and r["status"] == "running"]
            if mine:
                time.sleep(0.3)  # well into reading the file
                break
            assert child.poll() is None, f"the import ended before it could be killed: {child.stderr.read()}"
            assert time.monotonic() < deadline, "the import did not start within a minute"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, "the import finished before it was killed"
    return mine[0]["id"]


def test_a_killed_import_is_marked_interrupted_by_cleanup_and_by_the_next_import(geo_db):
    ctx = system(geo_db)
    before = observation_count(geo_db)
    killed = kill_an_import(geo_db, POPULATION_FILES[0])
    run = runs_of(geo_db)[killed]
    assert run["status"] == "running" and run["finished"] is None
    assert run["process_host"] and run["process_started"] is not None
    assert observation_count(geo_db) == before, "a killed import leaves nothing of its data"

    # Listed as still running, but with its process gone; the command line says what to do.
    listed = {r["id"]: r for r in ops.list_imports(ctx).data}
    assert listed[killed]["status"] == "running" and listed[killed]["process_gone"] is True
    shown = subprocess.run([str(OBMI), "imports"], env=cli_env(geo_db), capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"runs {killed} are still marked running" in shown.stderr and "--cleanup" in shown.stderr

    cleaned = subprocess.run([str(OBMI), "imports", "--cleanup"], env=cli_env(geo_db), capture_output=True,
                             text=True, timeout=60)
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"1 run(s) marked interrupted: {killed}" in cleaned.stdout
    assert re.search(rf"^{killed}\tinterrupted\t", cleaned.stdout, re.M)
    run = runs_of(geo_db)[killed]
    assert run["status"] == "interrupted" and run["finished"] is not None
    assert f"pid {run['process_id']}" in run["message"] and "nothing of it was stored" in run["message"]
    assert ops.cleanup_imports(ctx) == [], "a second cleanup finds nothing more"

    # The next import tidies up on its own.
    second = kill_an_import(geo_db, POPULATION_FILES[1])
    result = ops.import_statbel(ctx, INCOME_FILE)
    runs = runs_of(geo_db)
    assert runs[second]["status"] == "interrupted"
    assert runs[result.import_id]["status"] == "ok"
    assert observation_count(geo_db) > before


def fake_run(db, *, pid: int, host: str, started, status: str = "running") -> int:
    with db.unguarded_engine.begin() as conn:
        return conn.execute(insert(import_run).values(
            kind="statbel", file_name="x.txt", sha256="0" * 64, user="test", started=utcnow(), status=status,
            message="", process_host=host, process_id=pid, process_started=started)).inserted_primary_key[0]


def ended_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_runs_whose_process_is_gone_are_marked(geo_db):
    from obmi.imports.processes import host_name, start_time
    here, me = host_name(), os.getpid()
    mine = start_time(me)
    gone = fake_run(geo_db, pid=ended_pid(), host=here, started=None)
    alive = fake_run(geo_db, pid=me, host=here, started=mine)
    reused = fake_run(geo_db, pid=me, host=here, started=(mine or utcnow()) - timedelta(days=3))
    elsewhere = fake_run(geo_db, pid=ended_pid(), host="another-server", started=None)
    finished = fake_run(geo_db, pid=ended_pid(), host=here, started=None, status="ok")
    unrecorded = fake_run(geo_db, pid=None, host=None, started=None)

    marked = ops.cleanup_imports(system(geo_db))
    expected = [gone, reused] if mine is not None else [gone]  # start times need /proc
    assert sorted(marked) == expected
    status = {i: r["status"] for i, r in runs_of(geo_db).items()}
    assert [status[i] for i in (alive, elsewhere, finished, unrecorded)] == ["running", "running", "ok", "running"]


def test_cleanup_is_for_administrators(geo_db):
    from obmi.errors import NotAllowed
    ctx = system(geo_db)
    ops.add_organisation(ctx, "stad", "Stad", host=True)
    analyst = user(ctx, "analist", "analyst", org="stad")
    with pytest.raises(NotAllowed):
        ops.cleanup_imports(analyst)


@pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)
def test_the_imports_pages_show_an_interrupted_run(geo_db):
    ctx = system(geo_db)
    ops.add_organisation(ctx, "stad", "Stad", host=True)
    user(ctx, "beheerder", "admin", org="stad")
    ok = ops.import_statbel(ctx, LAND_FILES[0]).import_id
    gone = fake_run(geo_db, pid=ended_pid(), host=_host(), started=None)
    site = TestClient(create_app(ctx.settings, geo_db), follow_redirects=False)
    login = site.get("/login", headers=HTML)
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', login.text).group(1)
    signed_in = site.post("/login", data={"name": "beheerder", "password": PASSWORD, "csrf_token": token},
                          headers=HTML)
    assert signed_in.status_code == 303, signed_in.text[:300]

    for lang, label in (("nl", "onderbroken"), ("en", "interrupted")):
        listing = site.get(f"/admin/imports?lang={lang}", headers=HTML)
        assert listing.status_code == 200
        row = re.search(rf'<a href="/admin/imports/{gone}\?lang={lang}">.*?</tr>', listing.text, re.S).group(0)
        assert f'badge-interrupted">{label}<' in row
        assert "badge-interrupted" not in re.search(rf'<a href="/admin/imports/{ok}\?lang={lang}">.*?</tr>',
                                                    listing.text, re.S).group(0)
        detail = site.get(f"/admin/imports/{gone}?lang={lang}", headers=HTML)
        assert f'badge-interrupted">{label}<' in detail.text
        assert ("importeer het bestand opnieuw" if lang == "nl" else "import the file again") in detail.text
    # Once marked, the page shows the stored state and its message.
    ops.cleanup_imports(ctx)
    detail = site.get(f"/admin/imports/{gone}?lang=nl", headers=HTML)
    assert 'badge-interrupted">onderbroken<' in detail.text and "nothing of it was stored" in detail.text
    api = site.get(f"/api/v1/imports/{gone}").json()
    assert api["status"] == "interrupted" and api["process_gone"] is None
    assert "process_host" not in api and "process_id" not in api


def _host() -> str:
    from obmi.imports.processes import host_name
    return host_name()
