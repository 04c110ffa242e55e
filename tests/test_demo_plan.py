"""The demo's fictional plan (`obmi demo`, obmi.demo.build_demo_plan): the shape of a real BBC
plan (../shared/data/plans/12025.json, counted here from its raw JSON), none of its text, and a
follow-up in every state. Uses the session's demo (conftest: `build_demo` into a temporary
directory, once per session), which this module only reads."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import date

import pytest
from sqlalchemy import text

from obmi import operations as ops
from obmi.demo import ACCOUNTS, ORGANISATION, PLAN_FILE, PLAN_TITLE
from obmi.plans.bbc import domain_of

from conftest import SHARED
from factories import as_user

SOURCE = SHARED / "plans" / "12025.json"
TODAY = date(2026, 12, 2)  # the dates of the demo's follow-up assume this day (or later)


def real_shape() -> tuple[list[list[int]], list[str]]:
    """([acties per actieplan] per beleidsdoelstelling, the beleidsdomein of every actie), in file order."""
    records = json.loads(SOURCE.read_text(encoding="utf-8"))
    tree: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for record in records:
        tree[record["bd_code"]].setdefault(record["ap_code"], []).append(domain_of(record["categories"][0]))
    return ([[len(acties) for acties in aps.values()] for aps in tree.values()],
            [domain for aps in tree.values() for acties in aps.values() for domain in acties])


@pytest.fixture(scope="module")
def coordinator(demo):
    return as_user(demo, "coordinator")


@pytest.fixture(scope="module")
def plan(coordinator):
    plans = ops.list_plans(coordinator, organisation=ORGANISATION[0])
    assert len(plans) == 1
    return plans[0]


@pytest.fixture(scope="module")
def items(coordinator, plan):
    return ops.plan_items(coordinator, plan.id).items


def test_the_plan_has_the_shape_of_the_shared_plan(items):
    shape, domains = real_shape()
    by_id = {row["id"]: row for row in items}
    kids = defaultdict(list)
    for row in items:
        kids[row["parent_id"]].append(row)
    objectives = [row for row in items if row["kind"] == "beleidsdoelstelling"]
    assert [[len([a for a in kids[ap["id"]] if a["kind"] == "actie"]) for ap in kids[bd["id"]]]
            for bd in objectives] == shape
    acties = [row for row in items if row["kind"] == "actie"]
    assert [row["beleidsdomein"] for row in acties] == domains
    assert Counter(row["kind"] for row in items)["actieplan"] == sum(len(aps) for aps in shape)
    # Added by the demo: a few projects under acties, one reguliere werking, priority acties.
    projects = [row for row in items if row["kind"] == "project"]
    assert projects and all(by_id[p["parent_id"]]["kind"] == "actie" for p in projects)
    assert [row["kind"] for row in items].count("reguliere_werking") == 1
    assert any(row["priority_set"] for row in acties)


def test_nothing_of_the_real_plan_ships_but_its_shape(plan, items):
    assert "fictief" in plan.title and plan.title == PLAN_TITLE
    assert all("fictief" in row["title"] and "fictief" in row["title_long"] for row in items)
    records = json.loads(SOURCE.read_text(encoding="utf-8"))
    real_texts = {r[f"{level}_{length}"] for r in records for level in ("bd", "ap", "ac") for length in ("short", "long")}
    real_codes = {r[f"{level}_code"] for r in records for level in ("bd", "ap", "ac")}
    years = [str(y) for y in range(2026, 2032)]
    real_amounts = {tuple(float(r["yearly_amounts"].get(y) or 0) for y in years) for r in records}
    shipped = PLAN_FILE.read_text(encoding="utf-8")
    # (Some real titles are one word such as "Cultuur", which a beleidsdomein's name holds too.)
    assert not [t for t in real_texts if len(t) > 20 and t in shipped]
    assert not [c for c in real_codes if c in shipped]
    rows = list(csv.DictReader(shipped.splitlines()))
    amounts = [int(row[year]) for row in rows for year in years if row[year]]
    assert amounts and all(a % 5_000 == 0 for a in amounts)  # fictional: round, and no item's series is a real one
    assert not {tuple(float(row[y] or 0) for y in years) for row in rows if any(row[y] for y in years)} & real_amounts
    assert all("Fictief" in row["description"] for row in rows)


def test_owners_and_coordinator_are_demo_accounts(items):
    roles = {name: role for name, role, _ in ACCOUNTS}
    assert roles["coordinator"] == "coordinator" and roles["eigenaar"] == "editor" and roles["redacteur"] == "editor"
    reporting = [row for row in items if row["kind"] in ("actie", "project", "reguliere_werking")]
    assert {row["owner"] for row in reporting} == {"redacteur", "eigenaar"}
    assert all(row["department"] and "fictief" in row["department"] for row in items)
    assert all(row["mandataris"] and "fictief" in row["mandataris"] for row in items)
    assert any(row["publish"] for row in items)


def test_status_updates_in_every_state_and_overdue_items(demo, coordinator, plan):
    with demo.db.unguarded_engine.connect() as conn:
        states = Counter(conn.execute(text("SELECT state FROM status_update")).scalars())
        no_change = conn.execute(text("SELECT count(*) FROM status_update WHERE no_change")).scalar_one()
        authors = set(conn.execute(text("SELECT DISTINCT author FROM status_update")).scalars())
        deciders = set(conn.execute(text("SELECT DISTINCT decided_by FROM status_update WHERE decided_by IS NOT NULL"))
                       .scalars())
    assert set(states) == {"draft", "submitted", "approved", "returned"} and no_change >= 1
    assert authors == {"redacteur", "eigenaar"} and deciders == {"coordinator"}
    due = ops.due_updates(coordinator, plan.id, today=TODAY).items
    overdue = [d for d in due if d["state"] == "overdue"]
    assert {d["period_code"] for d in overdue} == {"2026-S1"}
    assert {d["update_state"] for d in overdue} == {None, "draft", "returned"}
    board = ops.college_dashboard(coordinator, plan.id, today=TODAY)
    assert board.overdue and board.awaiting_approval and board.knelpunten
    assert board.status_counts["geen"] > 0 and sum(board.status_counts.values()) == len(
        [r for r in ops.plan_items(coordinator, plan.id).items if r["kind"] in ("actie", "project", "reguliere_werking")])
    assert {d["beleidsdomein"] for d in board.domains} <= set(f"{n:02d}" for n in range(10))


def test_milestones_and_kpis(demo, coordinator, items):
    details = [ops.item_detail(coordinator, row["id"]) for row in items if row["kind"] in ("project", "actie",
                                                                                            "beleidsdoelstelling")]
    milestones = [m for d in details for m in d.milestones]
    assert any(m["overdue"] for m in milestones)
    assert any(m["done"] and m["slippage_days"] > 0 for m in milestones)  # done late
    assert any(m["done"] and m["slippage_days"] <= 0 for m in milestones)  # done on time
    kpis = [k for d in details for k in d.kpis]
    assert {k["kind"] for k in kpis} == {"statistic", "manual", "steps"}
    assert all(k["measurements"] for k in kpis)
    population = next(k for k in kpis if k["indicator"] == "pop_total")
    with demo.db.unguarded_engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT o.period, o.value FROM observation o JOIN area a ON a.id = o.area_id "
            "WHERE o.indicator = 'pop_total' AND a.level = :level AND a.code = :code"),
            {"level": population["area_level"], "code": population["area_code"]}).all())
    assert stored and {m["period"]: m["value"] for m in population["measurements"]} == stored
    assert population["light"].colour != "grijs"
    # Every step of the follow-up left an audit record under the user who took it.
    history = [e for d in details for e in d.history]
    actors = {e["actor"] for e in history}
    assert {"coordinator", "redacteur", "eigenaar"} <= actors
