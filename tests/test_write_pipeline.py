"""The one write pipeline: every write derives what depends on it, decides disclosure and
advances the data version in its own transaction, so no cache or ETag can serve what the store
no longer holds. Regression tests for the three stale-data bugs found in review:

1. a catalogue import that changed a formula did not re-derive (the API kept the old value);
2. `obmi derive` wrote data without advancing the data version (old bodies under old ETags);
3. `obmi restore` likewise.
Plus: the data version and ETag move with every write of any kind; the audit log is written in
the transaction of the change and cannot be altered; the store refuses use outside an operation.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update

from obmi import operations as ops
from obmi.errors import Conflict, ImportRejected
from obmi.settings import load_settings
from obmi.store.database import OutsideOperation
from obmi.store.tables import area, audit_event, observation
from obmi.web.app import create_app

from conftest import STATBEL, system
from factories import catalogue, observations, org, user

POP_2015 = STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz"
OLD = {"code": "test_share_old", "name_nl": "Aandeel (test)", "aggregation": "none",
       "formula": "pop_65plus / pop_total * 100", "decimals": 4}
SHARE_URL = "/api/v1/observations?indicator=test_share_old&level=gemeente&period=2015&area=44021"


@pytest.fixture
def pop_db(geo_db):
    ops.import_statbel(system(geo_db), POP_2015)
    return geo_db


def api_value(client: TestClient, url: str) -> tuple[float | None, str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    [row] = response.json()["data"]
    return row["value"], response.headers["etag"]


def stored(db, indicator: str, code: str, period: str = "2015") -> float:
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(observation.c.value).join(area, area.c.id == observation.c.area_id)
                            .where(observation.c.indicator == indicator, area.c.code == code,
                                   area.c.level == "gemeente", observation.c.period == period)).scalar_one()


def version(db) -> int:
    return ops.data_version(system(db)).version


def test_a_catalogue_change_of_formula_is_rederived_and_served(pop_db, tmp_path):
    root = system(pop_db)
    catalogue(root, tmp_path, OLD)
    client = TestClient(create_app(root.settings, pop_db))
    before, etag = api_value(client, SHARE_URL)
    assert before == pytest.approx(stored(pop_db, "pop_65plus", "44021") / stored(pop_db, "pop_total", "44021") * 100,
                                   abs=1e-4)
    catalogue(root, tmp_path, {**OLD, "formula": "pop_80plus / pop_total * 100"})
    after, new_etag = api_value(client, SHARE_URL)
    assert after == pytest.approx(stored(pop_db, "pop_80plus", "44021") / stored(pop_db, "pop_total", "44021") * 100,
                                  abs=1e-4)
    assert after != before and new_etag != etag
    assert client.get(SHARE_URL, headers={"If-None-Match": etag}).status_code == 200  # the old ETag is stale


def test_a_new_formula_indicator_is_computed_at_once(pop_db, tmp_path):
    catalogue(system(pop_db), tmp_path, {**OLD, "code": "test_share_new"})
    expected = stored(pop_db, "pop_65plus", "44021") / stored(pop_db, "pop_total", "44021") * 100
    assert stored(pop_db, "test_share_new", "44021") == pytest.approx(expected)


def test_derive_restores_derived_values_and_advances_the_version(pop_db):
    root = system(pop_db)
    client = TestClient(create_app(root.settings, pop_db))
    url = "/api/v1/observations?indicator=pop_total&level=provincie&period=2015&area=40000"
    value, etag = api_value(client, url)
    with pop_db.unguarded_engine.begin() as conn:  # a derived total lost behind OBMi's back
        conn.execute(delete(observation).where(observation.c.indicator == "pop_total", observation.c.period == "2015",
                                               observation.c.origin == "aggregated"))
    v0 = version(pop_db)
    assert ops.rederive_all(root) > 0
    assert version(pop_db) == v0 + 1
    again, new_etag = api_value(client, url)
    assert again == value and new_etag != etag


def test_restore_advances_the_version_and_stops_serving_later_data(pop_db, tmp_path):
    root = system(pop_db)
    backup = tmp_path / "before.sqlite"
    ops.backup_database(root, backup)
    client = TestClient(create_app(root.settings, pop_db))
    ops.import_statbel(root, STATBEL / "TF_SOC_POP_STRUCT_2014.txt.gz")
    url = "/api/v1/observations?indicator=pop_total&level=gemeente&period=2014&area=44021"
    value, etag = api_value(client, url)
    assert value is not None
    v0 = version(pop_db)
    ops.restore_database(root, backup)
    assert version(pop_db) == v0 + 1
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["etag"] != etag
    assert response.json()["data"][0]["value"] is None  # 2014 is not in the backup


def test_every_write_advances_the_version_and_a_no_op_does_not(pop_db, tmp_path):
    root = system(pop_db)
    org(root, "stad", host=True)
    backup = tmp_path / "b.sqlite"
    ops.backup_database(root, backup)
    writes = {
        "statbel import": lambda: ops.import_statbel(root, STATBEL / "TF_SOC_POP_STRUCT_2014.txt.gz"),
        "catalogue import": lambda: catalogue(root, tmp_path, OLD),
        "observations import": lambda: observations(root, tmp_path, [
            {"indicator": "pop_total", "level": "gemeente", "area": "44021", "period": "2016", "value": 259083}]),
        "derive": lambda: ops.rederive_all(root),
        "user": lambda: user(root, "lezer", "reader", org="stad"),
        "token": lambda: ops.create_token(root, "lezer", scope="read"),
        "restore": lambda: ops.restore_database(root, backup),
    }
    for what, write in writes.items():
        before = version(pop_db)
        write()
        assert version(pop_db) == before + 1, what
    before = version(pop_db)
    assert ops.import_statbel(root, POP_2015).status == "no_change"
    assert version(pop_db) == before  # nothing changed: caches stay valid


def test_a_rejected_write_changes_neither_data_nor_version_and_is_audited(pop_db, tmp_path):
    root = system(pop_db)
    v0 = version(pop_db)
    with pytest.raises(ImportRejected):
        observations(root, tmp_path, [{"indicator": "pop_total", "level": "gemeente", "area": "00000",
                                       "period": "2016", "value": 1}])
    assert version(pop_db) == v0
    with pop_db.unguarded_engine.connect() as conn:
        last = conn.execute(select(audit_event).order_by(audit_event.c.id.desc())).first()
        periods = conn.execute(select(func.count()).select_from(observation)
                               .where(observation.c.period == "2016")).scalar_one()
    assert (last.operation, last.outcome, periods) == ("import_observations", "rejected", 0)
    assert "1 rows rejected" in last.message


def test_the_audit_record_is_part_of_the_change(pop_db, tmp_path):
    """A write that succeeds leaves its audit records (with before and after); one rolled back
    (a dry run) leaves none."""
    root = system(pop_db)
    with pop_db.unguarded_engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(audit_event)).scalar_one()
    catalogue(root, tmp_path, OLD, dry_run=True)
    with pop_db.unguarded_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_event)).scalar_one() == count
    catalogue(root, tmp_path, OLD)
    catalogue(root, tmp_path, {**OLD, "decimals": 2})
    with pop_db.unguarded_engine.connect() as conn:
        rows = conn.execute(select(audit_event).where(audit_event.c.resource_type == "indicator",
                                                      audit_event.c.resource_id == OLD["code"])
                            .order_by(audit_event.c.id)).all()
    assert [(r.before, r.after["decimals"]) for r in rows][0] == (None, 4)
    assert (rows[1].before["decimals"], rows[1].after["decimals"], rows[1].actor) == (4, 2, "test-setup")


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"])
def test_the_audit_log_cannot_be_altered(empty_db, statement):
    ops.add_organisation(system(empty_db), "stad", "Stad")
    with pytest.raises(Exception, match="append-only"):
        with empty_db.unguarded_engine.begin() as conn:
            conn.execute(text(statement))
    with empty_db.unguarded_engine.connect() as conn:
        assert conn.execute(select(audit_event.c.actor)).scalars().all()[-1] == "test-setup"


def test_a_changed_threshold_is_refused_until_derived_again(pop_db):
    strict = load_settings({}, default_threshold=10)
    ctx = system(pop_db).__class__(pop_db, strict, system(pop_db).actor)
    with pytest.raises(Conflict, match="obmi derive"):
        ops.query_observations(ctx, ops.ObservationQuery("pop_total", "gemeente", "2015"))
    ops.rederive_all(ctx)
    rows = ops.query_observations(ctx, ops.ObservationQuery("pop_80plus", "gemeente", "2015")).rows
    small = [r for r in rows if r.status == "suppressed"]
    with pop_db.unguarded_engine.connect() as conn:
        raw = dict(conn.execute(select(area.c.code, observation.c.value).join(area, area.c.id == observation.c.area_id)
                                .where(observation.c.indicator == "pop_80plus", observation.c.period == "2015",
                                       area.c.level == "gemeente")).all())
    assert {r.area_code for r in small} == {code for code, v in raw.items() if 0 < v < 10}


def test_the_store_is_used_only_inside_an_operation(empty_db):
    with pytest.raises(OutsideOperation):
        empty_db.engine.connect()


def test_operations_do_not_call_each_other(empty_db, monkeypatch):
    from obmi.operations import statistics
    monkeypatch.setattr(statistics.availability, "search", lambda conn, text, visible, **_: ops.list_levels(system(empty_db)))
    with pytest.raises(RuntimeError, match="do not call each other"):
        ops.search(system(empty_db), "gent")


def test_derived_values_of_a_write_are_decided_before_anyone_reads(pop_db, tmp_path):
    """Disclosure is stored with the cells by the write itself: no read computes it."""
    with pop_db.unguarded_engine.connect() as conn:
        undecided = conn.execute(text(
            "SELECT count(*) FROM observation o JOIN indicator i ON i.code = o.indicator "
            "WHERE i.is_count AND o.value > 0 AND o.value < 5 AND o.disclosure IS NULL")).scalar_one()
        decided = conn.execute(select(func.count()).select_from(observation)
                               .where(observation.c.disclosure == "primary")).scalar_one()
    assert undecided == 0 and decided > 0


def test_an_updated_value_is_decided_again(pop_db, tmp_path):
    root = system(pop_db)
    catalogue(root, tmp_path, {"code": "test_count", "name_nl": "Telling", "is_count": True})
    observations(root, tmp_path, [{"indicator": "test_count", "level": "gemeente", "area": "44021",
                                   "period": "2015", "value": 3}])
    query = ops.ObservationQuery("test_count", "gemeente", "2015", ("44021",))
    assert ops.query_observations(root, query).rows[0].status == "suppressed"
    observations(root, tmp_path, [{"indicator": "test_count", "level": "gemeente", "area": "44021",
                                   "period": "2015", "value": 30}])
    assert [(r.value, r.status) for r in ops.query_observations(root, query).rows] == [(30, "final")]
    with pop_db.unguarded_engine.begin() as conn:  # keep the pipeline honest: it decided, not the read
        conn.execute(update(observation).where(observation.c.indicator == "test_count").values(disclosure="primary"))
    assert ops.query_observations(root, query).rows[0].status == "suppressed"
