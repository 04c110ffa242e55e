"""The OData sets of the beleidsopvolging (PlanItems, StatusUpdates, Kpis, KpiMeasurements,
BudgetLines, Signals) on the demo installation: only for a member of the organisation with a
token (Bearer or HTTP Basic, as Power BI sends), never for the public or another organisation,
and with the same query options as the public sets. Expected numbers are read from the store; the
demo is built on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from obmi import operations as ops
from obmi.context import system_context
from obmi.demo import ORGANISATION, build_demo, populate_demo
from obmi.store.tables import budget_line, plan, plan_item, signal, status_update
from obmi.web.app import create_app

from conftest import BACKENDS

SETS = ("PlanItems", "StatusUpdates", "Kpis", "KpiMeasurements", "BudgetLines", "Signals")


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory, settings, db_factories):
    if request.param == "sqlite":
        ctx = build_demo(settings, tmp_path_factory.mktemp("odata_plans") / "demo.db", echo=lambda _: None)
    else:  # the same demo, built on PostgreSQL: the plan sets' SQL runs on both back ends
        ctx = populate_demo(system_context(db_factories(request.param).new(), settings, "demo"), echo=lambda _: None)
    ops.add_organisation(ctx, "buurgemeente", "Buurgemeente")
    ops.add_user(ctx, "analist_buur", roles=["analyst"], organisation="buurgemeente", password="buur-wachtwoord-2026")
    tokens = {who: ops.create_token(ctx, who, scope="read").token for who in ("coordinator", "analist_buur")}
    client = TestClient(create_app(ctx.settings, ctx.db))
    yield {"ctx": ctx, "client": client, "tokens": tokens}
    ctx.db.dispose()


def get(world, path: str, who: str | None = "coordinator", **params):
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"} if who else {}
    return world["client"].get(f"/odata/{path}", params=params or None, headers=headers)


def scalar(world, stmt):
    with world["ctx"].db.unguarded_engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def test_the_service_document_lists_the_plan_sets_only_for_a_signed_in_caller(world):
    public = {s["name"] for s in get(world, "", who=None).json()["value"]}
    member = {s["name"] for s in get(world, "").json()["value"]}
    assert not set(SETS) & public and set(SETS) <= member
    for name in SETS:
        assert get(world, name, who=None).status_code == 401, name
        assert get(world, name).status_code == 200, name


def test_plan_items_are_the_organisations_items_with_their_tree(world):
    own = plan_item.join(plan, plan.c.id == plan_item.c.plan_id)
    expected = scalar(world, select(func.count()).select_from(own).where(plan.c.organisation == ORGANISATION[0]))
    body = get(world, "PlanItems", **{"$count": "true", "$top": "5000"}).json()
    assert body["@odata.count"] == expected == len(body["value"]) and expected > 50
    by_code = {i["item_code"]: i for i in body["value"]}
    children = [i for i in body["value"] if i["parent_code"]]
    assert children and all(c["parent_code"] in by_code for c in children)
    acties = get(world, "PlanItems", **{"$filter": "kind eq 'actie' and priority eq true",
                                        "$select": "item_code,title,kind"}).json()["value"]
    assert acties and all(set(a) == {"item_code", "title", "kind"} and a["kind"] == "actie" for a in acties)


def test_budget_lines_and_filters_equal_the_store(world):
    lines = budget_line.join(plan, plan.c.id == budget_line.c.plan_id)
    own = plan.c.organisation == ORGANISATION[0]
    for kind in ("raming", "realisatie"):
        expected = scalar(world, select(func.count(), func.sum(budget_line.c.amount).label("s"))
                          .select_from(lines).where(own, budget_line.c.kind == kind, budget_line.c.year == 2026)
                          .with_only_columns(func.count()))
        total = scalar(world, select(func.sum(budget_line.c.amount)).select_from(lines)
                       .where(own, budget_line.c.kind == kind, budget_line.c.year == 2026))
        rows = get(world, "BudgetLines", **{"$filter": f"kind eq '{kind}' and year eq 2026", "$top": "5000"}).json()
        assert len(rows["value"]) == expected > 0, kind
        assert sum(r["amount"] for r in rows["value"]) == pytest.approx(total), kind
    count = get(world, "BudgetLines/$count", **{"$filter": "year ge 2027"})
    assert int(count.text) == scalar(world, select(func.count()).select_from(lines).where(own, budget_line.c.year >= 2027))


def test_status_updates_are_only_the_approved_ones_and_expand_to_their_item(world):
    approved = scalar(world, select(func.count()).select_from(status_update).where(status_update.c.state == "approved"))
    others = scalar(world, select(func.count()).select_from(status_update).where(status_update.c.state != "approved"))
    assert approved and others, "the demo has updates in every state"
    body = get(world, "StatusUpdates", **{"$expand": "PlanItem", "$count": "true"}).json()
    assert body["@odata.count"] == approved
    assert all(u["PlanItem"]["item_code"] == u["item_code"] for u in body["value"])


def test_signals_and_kpis_with_their_dates(world):
    raised = scalar(world, select(func.count()).select_from(signal).where(signal.c.organisation == ORGANISATION[0]))
    body = get(world, "Signals", **{"$orderby": "first_seen desc", "$count": "true"}).json()
    assert body["@odata.count"] == raised > 0
    assert all(s["first_seen"].endswith("Z") for s in body["value"])
    since = body["value"][-1]["first_seen"]
    assert len(get(world, "Signals", **{"$filter": f"first_seen ge {since}"}).json()["value"]) == raised
    kpis = get(world, "Kpis").json()["value"]
    assert kpis and get(world, "KpiMeasurements", **{"$expand": "Kpi"}).status_code == 200


def test_another_organisation_sees_nothing_and_basic_auth_works(world):
    for name in SETS:
        assert get(world, name, who="analist_buur").json()["value"] == [], name
    basic = base64.b64encode(f"powerbi:{world['tokens']['coordinator']}".encode()).decode()
    response = world["client"].get("/odata/PlanItems", params={"$top": "3"}, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and len(response.json()["value"]) == 3


def test_plan_answers_carry_an_etag_that_a_plan_write_changes(world):
    ctx = world["ctx"]
    manual = get(world, "Kpis", **{"$filter": "kind eq 'manual'", "$select": "id"}).json()["value"][0]["id"]
    path = "KpiMeasurements"
    query = {"$filter": f"kpi_id eq {manual}"}
    first = get(world, path, **query)
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("private")  # a token's answer is nobody else's
    again = world["client"].get(f"/odata/{path}", params=query, headers={
        "Authorization": f"Bearer {world['tokens']['coordinator']}", "If-None-Match": etag})
    assert again.status_code == 304
    coordinator = ctx.acting_as(ops.identify_cli_user(ctx, "coordinator"))
    ops.record_measurement(coordinator, manual, "2027-S1", value=47_500, note="test")
    after = get(world, path, **query)
    assert after.headers["etag"] != etag
    assert 47_500 in [m["value"] for m in after.json()["value"]]
