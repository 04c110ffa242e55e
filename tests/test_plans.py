"""Beleidsopvolging (BBC 2020 plan follow-up) through the operations, on SQLite and PostgreSQL:
importing the real plans of Mechelen (12025) and Turnhout (13040) and their amendments as
versions, refusals that change nothing, the status-update workflow with its permissions and
optimistic locking, notifications and reminder digests through the file outbox, roll-up,
KPIs fed by the statistics store, milestones, the status sheet, due lists and the public view.

Every expected number is computed here from the inputs (the shared JSON, the values the test
itself reports), never written down. The real exports bundle several budget entities whose codes
collide: the reader keeps each distinct item, the later ones as CODE/2, CODE/3… in file order
(tests/test_plan_readers.py); the expectations here follow that documented rule, and the items a
test picks to work on are taken from the records whose codes are unambiguous.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.errors import Conflict, ImportRejected, NotAllowed, NotFound, NotVisible, ValidationError
from obmi.plans import bbc
from obmi.plans.workflow import StaleEdit
from obmi.settings import load_settings
from obmi.store import Database

from conftest import SHARED, system
from factories import invoke_cli, observations, org, user

PLANS = SHARED / "plans"
S1, S2 = "2026-S1", "2026-S2"  # the default scheme is per semester
S1_START, S1_DEADLINE = date(2026, 1, 1), date(2026, 7, 15)  # deadline: 15 days after 30 June
REMIND_DAYS_BEFORE = 7  # the default reminder rhythm
ACTIE_KINDS = ("actie",)


# --- the real plans -----------------------------------------------------------------------------

def raw_records(name: str) -> list[dict[str, Any]]:
    path = PLANS / name
    assert path.is_file(), f"the shared plan data is missing at {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def variants(records: list[dict[str, Any]]) -> dict[str, list[tuple[str, ...]]]:
    """Code → the distinct beleidsdoelstellingen or actieplannen it names, in file order: a
    beleidsdoelstelling by its titles, an actieplan by its titles and beleidsdoelstelling."""
    found: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for r in records:
        bd = (r["bd_code"], r["bd_short"], r["bd_long"]) if r["bd_code"] else ()
        for code, key in ((r["bd_code"], bd), (r["ap_code"], (r["ap_short"], r["ap_long"], *bd))):
            if code and key not in found[code]:
                found[code].append(key)
    return found


def bd_code_of(record: dict[str, Any], known: dict[str, list[tuple[str, ...]]]) -> str:
    """The code the record's beleidsdoelstelling has in the plan: the first one its code names
    keeps it, a later one is CODE/2, CODE/3… (the reader's documented rule)."""
    number = known[record["bd_code"]].index((record["bd_code"], record["bd_short"], record["bd_long"]))
    return record["bd_code"] if number == 0 else f"{record['bd_code']}/{number + 1}"


def plain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records whose beleidsdoelstelling and actieplan codes each name one item only."""
    known = variants(records)
    return [r for r in records if r["bd_code"] and len(known[r["bd_code"]]) == 1 and len(known[r["ap_code"]]) == 1]


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def expected_summary(records: list[dict[str, Any]], years: range) -> dict[tuple[str, int], float]:
    """(beleidsdoelstelling, year) → the planned expenditure of its acties, from the records."""
    known = variants(records)
    totals: dict[tuple[str, int], float] = {}
    for record in records:
        if not record["bd_code"]:
            continue  # an actieplan at the top (reguliere werking): under no beleidsdoelstelling
        code = bd_code_of(record, known)
        for year in years:
            totals.setdefault((code, year), 0.0)
        for year, amount in (record["yearly_amounts"] or {}).items():
            totals[(code, int(year))] += amount or 0.0
    return totals


def expected_titles(records: list[dict[str, Any]]) -> dict[str, str]:
    known = variants(records)
    return {bd_code_of(r, known): r["bd_short"] or r["bd_long"] for r in records if r["bd_code"]}


def expected_kinds(records: list[dict[str, Any]]) -> dict[str, int]:
    known = variants(records)
    return {"beleidsdoelstelling": sum(len(known[c]) for c in {r["bd_code"] for r in records if r["bd_code"]}),
            "actieplan": sum(len(known[c]) for c in {r["ap_code"] for r in records}),
            "actie": len({r["ac_code"] for r in records})}


def actie_budget(record: dict[str, Any]) -> float:
    return sum(v or 0.0 for v in (record["yearly_amounts"] or {}).values())


# --- a town with a plan, people and reporting periods --------------------------------------------

@dataclass
class Town:
    db: Database
    root: Context  # OBMi itself, with this test's outbox
    coco: Context  # coordinator of mechelen
    cora: Context  # a second coordinator of mechelen
    an: Context  # editor, owns A1 and A2
    bert: Context  # editor, owns B1
    eva: Context  # editor, owns nothing
    tom: Context  # coordinator of turnhout
    plan_id: int
    records: list[dict[str, Any]]
    path: Path
    outbox: Path
    codes: dict[str, str] = field(default_factory=dict)  # A1, A2, B1 → actie code

    def items(self, version: int | None = None) -> dict[str, dict[str, Any]]:
        return {r["code"]: r for r in ops.plan_items(self.coco, self.plan_id, version=version).items}

    def id(self, code: str) -> int:
        return self.items()[code]["id"]

    def item(self, name: str) -> int:
        """The id of A1, A2 or B1."""
        return self.id(self.codes[name])


def make_town(db: Database, tmp_path: Path) -> Town:
    outbox = tmp_path / "outbox"
    settings = load_settings({"OBMI_MAIL_OUTBOX": str(outbox)})
    root = system(db, settings)
    org(root, "mechelen")
    org(root, "turnhout")
    people = {name: user(root, name, role, org=organisation, password=None)
              for name, role, organisation in (("coco", "coordinator", "mechelen"), ("cora", "coordinator", "mechelen"),
                                               ("an", "editor", "mechelen"), ("bert", "editor", "mechelen"),
                                               ("eva", "editor", "mechelen"), ("tom", "coordinator", "turnhout"))}
    records = raw_records("12025.json")
    path = write_json(tmp_path / "12025.json", records)  # the real export, as it is
    result = ops.import_plan(people["coco"], [path], organisation="mechelen")
    assert result.status == "created", result.summary()
    ops.add_reporting_periods(people["coco"], range(2026, 2028), organisation="mechelen")
    town = Town(db, root, *people.values(), plan_id=result.plan_id, records=records, path=path, outbox=outbox)
    per_ap = defaultdict(list)
    for record in plain(records):
        per_ap[record["ap_code"]].append(record["ac_code"])
    first_ap = next(ap for ap, acties in per_ap.items() if len(acties) >= 2)
    other_ap = next(ap for ap in per_ap if ap != first_ap)
    town.codes = {"A1": per_ap[first_ap][0], "A2": per_ap[first_ap][1], "B1": per_ap[other_ap][0]}
    items = town.items()
    for name, owner in (("A1", "an"), ("A2", "an"), ("B1", "bert")):
        row = items[town.codes[name]]
        ops.update_item(town.coco, row["id"], expected_version=row["row_version"], owner=owner)
    return town


@pytest.fixture
def town(empty_db, tmp_path) -> Town:
    return make_town(empty_db, tmp_path)


def report(ctx: Context, item_id: int, period: str, *, status: str = "op_schema", progress: float | None = None,
           narrative: str = "", submit: bool = True) -> dict[str, Any]:
    return ops.save_status_update(ctx, item_id, period=period, status=status, progress=progress,
                                  narrative=narrative, submit=submit).update


def approved(town: Town, item_id: int, period: str, *, status: str = "op_schema", progress: float | None = None,
             narrative: str = "", by: Context | None = None) -> dict[str, Any]:
    """An update reported (by the coordinator unless `by`) and approved by the coordinator."""
    row = report(by or town.coco, item_id, period, status=status, progress=progress, narrative=narrative)
    return ops.decide_status_update(town.coco, row["id"], approve=True).update


def update_of(town: Town, item_id: int, period: str) -> dict[str, Any] | None:
    return next((u for u in ops.item_detail(town.coco, item_id).updates if u["period_code"] == period), None)


class Outbox:
    """The .eml files the file outbox received since the last `take`."""

    def __init__(self, folder: Path):
        self.folder, self.seen = folder, set()

    def take(self) -> list[EmailMessage]:
        files = sorted(set(self.folder.glob("*.eml")) - self.seen) if self.folder.is_dir() else []
        self.seen.update(files)
        return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]  # type: ignore[misc]


def body(message: EmailMessage) -> str:
    return message.get_content()


def plan_state(ctx: Context, organisation: str) -> Any:
    """What the operations show of an organisation's plans: versions, items, amounts."""
    plans = ops.list_plans(ctx, organisation=organisation)
    out: list[Any] = [[(p.code, [v["number"] for v in p.versions]) for p in plans]]
    for found in plans:
        if found.versions:
            out.append([(r["code"], r["kind"], r["title"], r["parent_code"], r["budget"])
                        for r in ops.plan_items(ctx, found.id).items])
            out.append(ops.plan_summary(ctx, organisation=organisation, plan=found.code))
    return out


# --- 1. the real plans, their totals, the command line ----------------------------------------------

def test_the_real_plans_import_with_their_totals_per_beleidsdoelstelling_and_year(empty_db, tmp_path):
    root = system(empty_db, load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")}))
    towns = {"mechelen": "12025.json", "turnhout": "13040.json"}
    coordinators = {}
    for code in towns:
        org(root, code)
        coordinators[code] = user(root, f"coord-{code}", "coordinator", org=code, password=None)
    for code, name in towns.items():
        records = raw_records(name)
        result = ops.import_plan(coordinators[code], [PLANS / name], organisation=code)
        assert (result.status, result.version, result.layout) == ("created", 1, "bbc-json")
        assert result.diff.counts()["added"] == sum(expected_kinds(records).values())
        [info] = ops.list_plans(coordinators[code], organisation=code)
        years = range(info.start_year, info.end_year + 1)
        assert set(years) >= {int(y) for r in records for y in r["yearly_amounts"]}

        expected = expected_summary(records, years)
        rows = ops.plan_summary(coordinators[code], organisation=code)
        got = {(r.code, r.year): r.amount for r in rows}
        assert got.keys() == expected.keys() and len(rows) == len(got)
        for key, amount in expected.items():
            assert got[key] == pytest.approx(amount, abs=0.005), key
        titles = {r.code: r.title for r in rows}
        assert titles == expected_titles(records)

        kinds = Counter(r["kind"] for r in ops.plan_items(coordinators[code], info.id).items)
        assert kinds == expected_kinds(records)

        # The command line prints the same rows.
        out = run_cli(empty_db, coordinators[code].actor.name, "plan", "summary", "--org", code, "--format", "csv")
        printed = list(csv.DictReader(io.StringIO(out)))
        assert [(p["code"], int(p["year"])) for p in printed] == [(r.code, r.year) for r in rows]
        for line in printed:
            assert float(line["amount"]) == pytest.approx(expected[(line["code"], int(line["year"]))], abs=0.005)
            assert line["title"] == titles[line["code"]]

    # Each organisation sees its own plan only; the other's does not exist for it.
    mechelen, turnhout = coordinators["mechelen"], coordinators["turnhout"]
    assert [p.organisation for p in ops.list_plans(mechelen)] == ["mechelen"]
    with pytest.raises(NotVisible):
        ops.plan_summary(turnhout, organisation="mechelen")
    mechelen_plan = ops.list_plans(mechelen)[0].id
    with pytest.raises(NotVisible):
        ops.plan_items(turnhout, mechelen_plan)


def run_cli(db: Database, acting_as: str, *args: str) -> str:
    """`obmi ARGS` in this process on the test's database, as a user; must succeed."""
    result = invoke_cli(db, acting_as, *args)
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return result.stdout


# --- 2. the same plan again, an amended plan --------------------------------------------------------

def amend(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A copy of the records with one actie retitled, one moved to another actieplan, one removed,
    one added and one amount changed — and the differences that makes."""
    amended = copy.deepcopy(records)
    usable = {r["ac_code"] for r in plain(records)}
    per_ap = defaultdict(list)
    for index, record in enumerate(amended):
        if record["ac_code"] in usable:
            per_ap[record["ap_code"]].append(index)
    big = [ap for ap, indices in per_ap.items() if len(indices) >= 2]
    assert len(big) >= 3, "the plan has too few actieplannen with two acties for this test"
    retitle, move, remove = per_ap[big[0]][0], per_ap[big[1]][0], per_ap[big[2]][0]
    change = next(i for i, r in enumerate(amended) if i not in (retitle, move, remove) and r["ac_code"] in usable
                  and any(r["yearly_amounts"].values()))
    target = next(r for r in amended if r["ac_code"] in usable and r["ap_code"] != amended[move]["ap_code"])

    retitled = amended[retitle]
    old_title = retitled["ac_short"]
    retitled["ac_short"] = old_title + " (herzien)"
    moved = amended[move]
    old_ap = moved["ap_code"]
    for key in ("bd_code", "bd_short", "bd_long", "ap_code", "ap_short", "ap_long"):
        moved[key] = target[key]
    changed = amended[change]
    year, old_amount = next((y, v) for y, v in changed["yearly_amounts"].items() if v)
    changed["yearly_amounts"][year] = old_amount + 12345.67
    added = {**copy.deepcopy(retitled), "ac_code": "AC990001", "ac_short": "Nieuwe actie (test)",
             "ac_long": "Nieuwe actie (test)"}
    gone = amended.pop(remove)
    amended.append(added)
    expected = {
        "added": [added["ac_code"]], "removed": [gone["ac_code"]],
        "moved": [(moved["ac_code"], old_ap, moved["ap_code"])],
        "retitled": [(retitled["ac_code"], old_title, retitled["ac_short"])],
        "changed": [],
        "amounts": [(changed["ac_code"], int(year), "uitgave", old_amount, old_amount + 12345.67)],
    }
    return amended, expected


def diff_of(changes: Any) -> dict[str, Any]:
    return {"added": [e.code for e in changes.added], "removed": [e.code for e in changes.removed],
            "moved": [tuple(m) for m in changes.moved], "retitled": [tuple(r) for r in changes.retitled],
            "changed": [tuple(c) for c in changes.changed],
            "amounts": [(a.code, a.year, a.direction, pytest.approx(a.old), pytest.approx(a.new))
                        for a in changes.amounts]}


def test_the_same_plan_again_changes_nothing_and_an_amended_plan_is_a_new_version(town, tmp_path):
    a1 = town.item("A1")
    before = approved(town, a1, S1, progress=40, narrative="Goed op weg", by=town.an)

    again = ops.import_plan(town.coco, [town.path], organisation="mechelen")
    assert (again.status, again.version, again.diff.is_empty) == ("unchanged", None, True)
    assert [v["number"] for v in ops.list_plans(town.coco, organisation="mechelen")[0].versions] == [1]

    amended, expected = amend(town.records)
    path = write_json(tmp_path / "aanpassing.json", amended)
    items_v1 = town.items()

    trial = ops.import_plan(town.coco, [path], organisation="mechelen", dry_run=True)
    assert (trial.status, trial.version) == ("dry_run", None)
    assert diff_of(trial.diff) == expected
    assert [v["number"] for v in ops.list_plans(town.coco, organisation="mechelen")[0].versions] == [1]
    assert town.items() == items_v1

    result = ops.import_plan(town.coco, [path], organisation="mechelen", label="Aanpassing 2027",
                             motivering="test")
    assert (result.status, result.version) == ("new_version", 2)
    assert diff_of(result.diff) == expected
    versions = ops.list_plans(town.coco, organisation="mechelen")[0].versions
    assert [(v["number"], v["label"], v["motivering"]) for v in versions] == [(1, "Meerjarenplan", ""),
                                                                            (2, "Aanpassing 2027", "test")]
    assert diff_of(ops.compare_plan_versions(town.coco, town.plan_id, 1, 2)) == expected

    # Version 1 is still readable as it was; the latest is version 2.
    old, new = town.items(version=1), town.items()
    assert {c: (r["title"], r["parent_code"]) for c, r in old.items()} == \
        {c: (r["title"], r["parent_code"]) for c, r in items_v1.items()}
    [(moved, old_ap, new_ap)] = expected["moved"]
    [(retitled, old_title, new_title)] = expected["retitled"]
    assert (old[moved]["parent_code"], new[moved]["parent_code"]) == (old_ap, new_ap)
    assert (old[retitled]["title"], new[retitled]["title"]) == (old_title, new_title)
    assert expected["removed"][0] in old and expected["removed"][0] not in new
    assert expected["added"][0] in new and expected["added"][0] not in old
    summary_v1 = {(r.code, r.year): r.amount for r in ops.plan_summary(town.coco, organisation="mechelen", version=1)}
    assert summary_v1 == pytest.approx(expected_summary(town.records, range(2026, 2032)))

    # The status update made before the amendment stays with its item, as does its owner.
    kept = update_of(town, a1, S1)
    assert kept is not None and (kept["id"], kept["state"], kept["progress"]) == (before["id"], "approved", 40)
    assert (new[town.codes["A1"]]["owner"], new[town.codes["A1"]]["progress"]) == ("an", 40)
    detail = ops.item_detail(town.coco, a1)
    assert [v["number"] for v in detail.versions if v["present"]] == [1, 2]


# --- 3. bad plan files ------------------------------------------------------------------------------

PLAN_HEADER = "type,code,parent,title_short,beleidsveld,2026,2027"
VALID_PLAN = [PLAN_HEADER,
              "beleidsdoelstelling,BD1,,Een veilige stad,,,",  # line 2
              "actieplan,AP1,BD1,Verkeersveiligheid,,,",  # line 3
              "actie,AC1,AP1,Schoolstraten,0200,1000,1500",  # line 4
              "actie,AC2,AP1,Zone 30,0200,2000,"]  # line 5


def unknown_beleidsveld() -> str:
    known = bbc.beleidsvelden()
    return next(code for code in (f"{n:04d}" for n in range(1, 10000)) if code not in known)


def bad_plans() -> dict[str, tuple[list[str], dict[int, str]]]:
    """name → (extra lines after the valid plan, {line: a word its reason must hold})."""
    veld = unknown_beleidsveld()
    return {
        "duplicate code": (["actie,AC1,AP1,Nog eens schoolstraten,0200,5,5"], {6: "twice"}),
        "actie without actieplan": (["actie,AC3,,Losse actie,0200,5,5"], {6: "actieplan"}),
        "unknown beleidsveld": ([f"actie,AC3,AP1,Onbekend veld,{veld},5,5"], {6: veld}),
        "non-numeric amount": (["actie,AC3,AP1,Fout bedrag,0200,veel,5"], {6: "veel"}),
        "cycle": (["actie,AC3,AC4,Kip,0200,5,5", "actie,AC4,AC3,Ei,0200,5,5"], {6: "cycle", 7: "AC3"}),
    }


def write_plan_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_plan_files_are_refused_with_their_lines_and_change_nothing(empty_db, tmp_path):
    root = system(empty_db, load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")}))
    org(root, "gent")
    gina = user(root, "gina", "coordinator", org="gent", password=None)

    # Into an organisation without a plan: no plan, no version afterwards.
    empty = plan_state(gina, "gent")
    for name, (extra, reasons) in bad_plans().items():
        path = write_plan_csv(tmp_path / f"{name}.csv", VALID_PLAN + extra)
        with pytest.raises(ImportRejected) as caught:
            ops.import_plan(gina, [path], organisation="gent")
        error = caught.value
        assert {line for line, _ in error.rejected} == set(reasons), (name, error.rejected)
        for line, word in reasons.items():
            assert any(word in reason for at, reason in error.rejected if at == line), (name, error.rejected)
        assert plan_state(gina, "gent") == empty == [[]], name
        run = ops.import_details(gina, error.import_id)
        assert (run.run["status"], run.run["kind"], run.run["organisation"]) == ("failed", "plan", "gent"), name
        assert run.rejected == [tuple(r) for r in error.rejected], name

    # Into an organisation with a plan: the plan stays as it was.
    first = ops.import_plan(gina, [write_plan_csv(tmp_path / "plan.csv", VALID_PLAN)], organisation="gent")
    assert (first.status, first.layout) == ("created", "plan-table")
    summary = {(r.code, r.year): r.amount for r in ops.plan_summary(gina, organisation="gent")}
    assert summary[("BD1", 2026)] == 1000 + 2000 and summary[("BD1", 2027)] == 1500
    kept = plan_state(gina, "gent")
    for name, (extra, reasons) in bad_plans().items():
        path = write_plan_csv(tmp_path / f"again {name}.csv", VALID_PLAN + extra)
        with pytest.raises(ImportRejected) as caught:
            ops.import_plan(gina, [path], organisation="gent")
        assert {line for line, _ in caught.value.rejected} == set(reasons), name
        assert plan_state(gina, "gent") == kept, name
        assert ops.import_details(gina, caught.value.import_id).run["status"] == "failed"

    # A real export with two faulty records: refused at those records, nothing left behind.
    org(root, "turnhout")
    tom = user(root, "tom", "coordinator", org="turnhout", password=None)
    records = raw_records("13040.json")
    broken, twice = len(records) // 3, len(records) // 2
    records[broken]["yearly_amounts"]["2027"] = "veel"
    records[twice]["ac_code"] = records[0]["ac_code"]
    with pytest.raises(ImportRejected) as caught:
        ops.import_plan(tom, [write_json(tmp_path / "13040.json", records)], organisation="turnhout")
    assert caught.value.unit == "record"
    assert {line for line, _ in caught.value.rejected} == {broken + 1, twice + 1}  # records count from 1
    assert plan_state(tom, "turnhout") == [[]]
    assert ops.import_details(tom, caught.value.import_id).rejected == [tuple(r) for r in caught.value.rejected]


# --- 4. the workflow, its permissions, optimistic locking -------------------------------------------

def test_the_status_workflow_draft_submit_approve_return_and_no_change(town):
    a1, a2, b1 = town.item("A1"), town.item("A2"), town.item("B1")

    draft = report(town.an, a1, S1, progress=35, narrative="Eerste versie", submit=False)
    assert (draft["state"], draft["author"], draft["submitted_at"]) == ("draft", "an", None)
    with pytest.raises(Conflict):
        ops.decide_status_update(town.coco, draft["id"], approve=True)  # a draft cannot be approved
    submitted = ops.submit_status_update(town.an, a1, period=S1).update
    assert (submitted["state"], submitted["submitted_by"]) == ("submitted", "an")
    assert submitted["submitted_at"] is not None and submitted["progress"] == 35
    with pytest.raises(NotAllowed):
        ops.decide_status_update(town.an, submitted["id"], approve=True)  # an editor does not approve
    done = ops.decide_status_update(town.coco, submitted["id"], approve=True).update
    assert (done["state"], done["decided_by"]) == ("approved", "coco")
    assert town.items()[town.codes["A1"]]["progress"] == 35

    # Returned with a comment (never without), edited and submitted again.
    second = report(town.an, a2, S1, status="risico", progress=10, narrative="Vertraging bij de aannemer")
    with pytest.raises(ValidationError) as refused:
        ops.decide_status_update(town.coco, second["id"], approve=False, comment="  ")
    assert "comment" in refused.value.errors
    assert update_of(town, a2, S1)["state"] == "submitted"
    back = ops.decide_status_update(town.coco, second["id"], approve=False, comment="Welke aannemer?").update
    assert (back["state"], back["decision_comment"]) == ("returned", "Welke aannemer?")
    edited = report(town.an, a2, S1, status="risico", progress=10, narrative="Aannemer X is failliet",
                    submit=False)
    assert edited["state"] == "draft" and edited["id"] == second["id"]
    again = ops.submit_status_update(town.an, a2, period=S1).update
    assert (again["state"], again["narrative"]) == ("submitted", "Aannemer X is failliet")
    assert ops.decide_status_update(town.coco, again["id"], approve=True).update["state"] == "approved"

    # "Geen wijziging": the previous approved status and progress again, recorded like any update.
    same = ops.confirm_no_change(town.an, a1, period=S2).update
    assert (same["state"], same["no_change"], same["status"], same["progress"]) == \
        ("submitted", True, done["status"], done["progress"])
    assert (same["submitted_by"], same["author"]) == ("an", "an") and same["submitted_at"] is not None
    history = ops.item_detail(town.coco, a1).history
    confirmations = [e for e in history if e["actor"] == "an" and e["outcome"] == "ok"
                     and (e["after"] or {}).get("no_change") is True]
    assert len(confirmations) == 1 and confirmations[0]["at"] is not None
    assert confirmations[0]["operation"] == "confirm_no_change"
    audit = ops.list_audit(town.root, ops.AuditFilter(resource_type="plan_item", resource_id=str(a1), actor="an",
                                                     operation="confirm_no_change")).data
    assert [e["id"] for e in audit] == [confirmations[0]["id"]]

    # Who may do what.
    with pytest.raises(NotAllowed):
        report(town.eva, a1, S2, progress=50)  # eva does not own A1
    with pytest.raises(NotAllowed):
        report(town.an, b1, S1, progress=50)  # nor does an own B1
    with pytest.raises(NotAllowed):
        ops.decide_status_update(town.bert, same["id"], approve=True)  # an editor, not a coordinator
    with pytest.raises(NotVisible):
        report(town.tom, a1, S2, progress=50)  # another organisation's coordinator
    with pytest.raises(NotFound):
        ops.item_detail(town.tom, a1)
    with pytest.raises(NotFound):
        ops.decide_status_update(town.tom, same["id"], approve=True)
    assert update_of(town, a1, S2)["state"] == "submitted"
    assert update_of(town, b1, S1) is None


def test_two_edits_of_an_item_based_on_the_same_version_the_second_is_stale(town):
    a1 = town.item("A1")
    row = town.items()[town.codes["A1"]]
    ops.update_item(town.coco, a1, expected_version=row["row_version"], department="Mobiliteit")
    with pytest.raises(StaleEdit) as caught:
        ops.update_item(town.cora, a1, expected_version=row["row_version"], department="Openbaar domein")
    assert caught.value.mine == {"department": "Openbaar domein"}
    assert caught.value.theirs == {"department": "Mobiliteit"}
    assert town.items()[town.codes["A1"]]["department"] == "Mobiliteit"


def test_two_edits_of_a_status_update_based_on_the_same_version_the_second_is_stale(town):
    a1 = town.item("A1")
    first = report(town.an, a1, S1, progress=20, narrative="Versie van An", submit=False)
    ops.save_status_update(town.an, a1, period=S1, status="op_schema", progress=30, narrative="Nieuwe versie van An",
                           expected_version=first["row_version"])
    with pytest.raises(StaleEdit) as caught:
        ops.save_status_update(town.coco, a1, period=S1, status="risico", progress=25, narrative="Versie van Coco",
                               expected_version=first["row_version"])
    assert caught.value.mine["narrative"] == "Versie van Coco"
    assert caught.value.theirs["narrative"] == "Nieuwe versie van An"
    stored = update_of(town, a1, S1)
    assert (stored["narrative"], stored["progress"], stored["status"]) == ("Nieuwe versie van An", 30, "op_schema")


# --- 5. notifications and reminders -----------------------------------------------------------------

def test_submitting_mails_the_coordinators_and_deciding_mails_the_author(town):
    outbox = Outbox(town.outbox)
    a1 = town.item("A1")
    code = town.codes["A1"]
    result = ops.save_status_update(town.an, a1, period=S1, status="op_schema", progress=60, submit=True)
    assert sorted(result.notified) == ["coco", "cora"]
    mails = outbox.take()
    assert sorted(m["To"] for m in mails) == ["coco@example.invalid", "cora@example.invalid"]
    for mail in mails:
        assert code in mail["Subject"] and S1 in mail["Subject"] and mail["Subject"].startswith("Ter goedkeuring")
        assert code in body(mail) and f"/beleid/items/{a1}" in body(mail)

    decided = ops.decide_status_update(town.coco, result.update["id"], approve=True)
    assert decided.notified == ["an"]
    [mail] = outbox.take()
    assert mail["To"] == "an@example.invalid"
    assert mail["Subject"].startswith("Goedgekeurd") and code in mail["Subject"]
    assert "coco" in body(mail) and code in body(mail)

    second = report(town.an, town.item("A2"), S1, progress=5)
    outbox.take()
    ops.decide_status_update(town.cora, second["id"], approve=False, comment="Graag meer uitleg")
    [mail] = outbox.take()
    assert mail["To"] == "an@example.invalid" and mail["Subject"].startswith("Teruggestuurd")
    assert "Graag meer uitleg" in body(mail)


def test_reminders_before_and_after_the_deadline_once_a_day(town):
    outbox = Outbox(town.outbox)
    codes = town.codes
    soon = S1_DEADLINE - timedelta(days=REMIND_DAYS_BEFORE - 2)
    assert (S1_DEADLINE - soon).days < REMIND_DAYS_BEFORE

    run = ops.send_reminders(town.coco, organisation="mechelen", today=soon)
    assert sorted((s["user"], s["kind"], sorted(s["items"])) for s in run.sent) == \
        [("an", "before", sorted([codes["A1"], codes["A2"]])), ("bert", "before", [codes["B1"]])]
    mails = {m["To"]: m for m in outbox.take()}
    assert sorted(mails) == ["an@example.invalid", "bert@example.invalid"]
    for address, owned in (("an@example.invalid", ["A1", "A2"]), ("bert@example.invalid", ["B1"])):
        assert mails[address]["Subject"].startswith("Herinnering")
        assert f"{len(owned)} statusrapportering" in mails[address]["Subject"]
        text = body(mails[address])
        assert all(codes[name] in text for name in owned)
        assert not any(codes[name] in text for name in codes if name not in owned)
    again = ops.send_reminders(town.coco, organisation="mechelen", today=soon)
    assert again.sent == [] and outbox.take() == []

    # After the deadline: "Te laat", without the item whose update went in meanwhile.
    report(town.an, town.item("A2"), S1, progress=50)
    outbox.take()
    late = S1_DEADLINE + timedelta(days=3)
    run = ops.send_reminders(town.coco, organisation="mechelen", today=late)
    assert sorted((s["user"], s["kind"], s["items"]) for s in run.sent) == \
        [("an", "overdue", [codes["A1"]]), ("bert", "overdue", [codes["B1"]])]
    mails = {m["To"]: m for m in outbox.take()}
    assert all(m["Subject"].startswith("Te laat") for m in mails.values())
    assert codes["A1"] in body(mails["an@example.invalid"]) and codes["A2"] not in body(mails["an@example.invalid"])
    assert ops.send_reminders(town.coco, organisation="mechelen", today=late).sent == []
    assert outbox.take() == []


def test_a_reminder_names_the_period_and_deadline_of_the_updates_it_asks_for(town):
    """During the first days of a semester the previous one is still due: its reminder must
    name that period and its deadline, not those of the semester that just began."""
    outbox = Outbox(town.outbox)
    soon = S1_DEADLINE - timedelta(days=REMIND_DAYS_BEFORE - 2)
    ops.send_reminders(town.coco, organisation="mechelen", today=soon)
    mails = outbox.take()
    assert mails
    for mail in mails:
        assert S1 in mail["Subject"] and f"{S1_DEADLINE:%d/%m/%Y}" in mail["Subject"], mail["Subject"]
        assert S2 not in mail["Subject"], mail["Subject"]


# --- 6. roll-up -------------------------------------------------------------------------------------

def structure(records: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """beleidsdoelstelling → actieplan → acties, from the records, for the beleidsdoelstellingen
    all of whose records have unambiguous codes."""
    usable = plain(records)
    complete = {r["bd_code"] for r in usable} - {r["bd_code"] for r in records if r not in usable}
    tree: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record in usable:
        if record["bd_code"] in complete:
            tree[record["bd_code"]][record["ap_code"]].append(record["ac_code"])
    return tree


def pick_objective(town: Town) -> tuple[str, dict[str, list[str]]]:
    """A beleidsdoelstelling with at least two actieplannen, one of them with two acties or more."""
    for bd, aps in structure(town.records).items():
        if len(aps) >= 2 and any(len(acties) >= 2 for acties in aps.values()):
            return bd, aps
    raise AssertionError("the plan has no beleidsdoelstelling with two actieplannen")


def test_approved_progress_rolls_up_with_equal_weights_and_is_explained(town):
    ops.configure_followup(town.coco, organisation="mechelen", rollup={"method": "equal"})
    bd, aps = pick_objective(town)
    ap = next(a for a, acties in aps.items() if len(acties) >= 2)
    progress = {code: 10.0 * (n + 2) for n, code in enumerate(aps[ap])}  # 20, 30, …
    for code, value in progress.items():
        approved(town, town.id(code), S1, progress=value)
    # An update that is not approved does not count.
    other = next(a for a in aps if a != ap)
    report(town.coco, town.id(aps[other][0]), S1, progress=90)

    items = town.items()
    expected_ap = sum(progress.values()) / len(progress)
    expected_bd = expected_ap / len(aps)  # the other actieplannen have nothing approved: 0 %
    assert items[ap]["progress"] == pytest.approx(expected_ap)
    assert items[bd]["progress"] == pytest.approx(expected_bd)
    assert items[aps[other][0]]["progress"] is None and items[other]["progress"] is None

    detail = ops.item_detail(town.coco, town.id(ap))
    rows = {row.code: row for row in detail.rollup.explanation.rows}
    assert set(rows) == set(aps[ap])
    assert all(row.weight == 1 and row.share == pytest.approx(100 / len(progress)) for row in rows.values())
    for code in aps[ap]:  # one line per child, with its weight and share
        [line] = [line for line in detail.explanation if line.strip().startswith(code)]
        assert f"{progress[code]:g} %" in line and "gewicht 1 (" in line, line
    formula = detail.explanation[1]
    assert "gelijke gewichten" in formula and f"{len(progress)} acties" in formula
    assert all(f"{value:g} %" in formula for value in progress.values())
    assert formula.endswith(f"= {expected_ap:.1f} %".replace(".", ","))
    bd_detail = ops.item_detail(town.coco, town.id(bd))
    assert {row.code for row in bd_detail.rollup.explanation.rows} == set(aps)


def test_a_parent_never_shows_no_progress_while_a_child_has_some(town):
    ops.configure_followup(town.coco, organisation="mechelen", rollup={"method": "weights"})
    bd, aps = pick_objective(town)
    ap = next(a for a, acties in aps.items() if len(acties) >= 2)
    first, *rest = aps[ap]
    row = town.items()[first]
    ops.update_item(town.coco, row["id"], expected_version=row["row_version"], weight=0)
    approved(town, town.id(first), S1, progress=80)
    items = town.items()
    assert items[first]["progress"] == 80
    for parent in (ap, bd):
        assert items[parent]["progress"] is not None and items[parent]["progress"] > 0, parent


def test_the_budget_rule_weighs_children_by_their_imported_amounts(town):
    ops.configure_followup(town.coco, organisation="mechelen", rollup={"method": "budget"})
    bd, aps = pick_objective(town)
    budgets = {r["ac_code"]: actie_budget(r) for r in town.records}
    ap_budgets = {ap: sum(budgets[c] for c in acties) for ap, acties in aps.items()}
    ap = next(a for a, acties in aps.items() if len(acties) >= 2)
    progress = {code: 25.0 * (n + 1) for n, code in enumerate(aps[ap])}
    for code, value in progress.items():
        approved(town, town.id(code), S1, progress=value)

    expected_ap = sum(budgets[c] * p for c, p in progress.items()) / sum(budgets[c] for c in aps[ap])
    expected_bd = expected_ap * ap_budgets[ap] / sum(ap_budgets.values())
    items = town.items()
    assert items[ap]["progress"] == pytest.approx(expected_ap)
    assert items[bd]["progress"] == pytest.approx(expected_bd)
    assert items[bd]["budget"] == pytest.approx(sum(ap_budgets.values()))

    detail = ops.item_detail(town.coco, town.id(ap))
    assert {r.code: r.weight for r in detail.rollup.explanation.rows} == pytest.approx(
        {c: budgets[c] for c in aps[ap]})
    assert "gewicht: budget" in detail.explanation[1]
    # One level up the children are actieplannen: their weight is their budget too.
    bd_detail = ops.item_detail(town.coco, town.id(bd))
    assert bd_detail.rollup.budget == pytest.approx(sum(ap_budgets.values()))
    assert {r.code: r.weight for r in bd_detail.rollup.explanation.rows} == pytest.approx(ap_budgets)


def test_the_budget_rule_weighs_an_actieplan_and_a_reguliere_werking_by_their_own_amounts(empty_db, tmp_path):
    """A beleidsdoelstelling with an actieplan (its money is on its actie) and a reguliere werking
    (its money is its own): each weighs with the planned amount of everything it holds."""
    root = system(empty_db, load_settings({"OBMI_MAIL_OUTBOX": str(tmp_path / "outbox")}))
    org(root, "gent")
    gina = user(root, "gina", "coordinator", org="gent", password=None)
    amounts = {"AC1": (600, 400), "RW1": (2000, 1000)}
    lines = ["type,code,parent,title_short,2026,2027", "beleidsdoelstelling,BD1,,Zorg,,",
             "actieplan,AP1,BD1,Thuiszorg,,", "actie,AC1,AP1,Maaltijden aan huis,{},{}".format(*amounts["AC1"]),
             "reguliere werking,RW1,BD1,Woonzorgcentrum,{},{}".format(*amounts["RW1"])]
    result = ops.import_plan(gina, [write_plan_csv(tmp_path / "zorg.csv", lines)], organisation="gent")
    ops.add_reporting_periods(gina, range(2026, 2027), organisation="gent")
    ops.configure_followup(gina, organisation="gent", rollup={"method": "budget"})
    items = {r["code"]: r for r in ops.plan_items(gina, result.plan_id).items}
    report_row = report(gina, items["AC1"]["id"], S1, progress=100)
    ops.decide_status_update(gina, report_row["id"], approve=True)

    budget = {code: float(sum(values)) for code, values in amounts.items()}
    expected = (budget["AC1"] * 100 + budget["RW1"] * 0) / (budget["AC1"] + budget["RW1"])  # RW1: nothing yet, 0 %
    items = {r["code"]: r for r in ops.plan_items(gina, result.plan_id).items}
    assert items["AP1"]["progress"] == 100
    assert items["BD1"]["progress"] == pytest.approx(expected)
    detail = ops.item_detail(gina, items["BD1"]["id"])
    assert {r.code: r.weight for r in detail.rollup.explanation.rows} == pytest.approx(
        {"AP1": budget["AC1"], "RW1": budget["RW1"]})


# --- 7. KPIs ----------------------------------------------------------------------------------------

KPI_INDICATOR, KPI_LEVEL, KPI_AREA = "pop_total", "gemeente", "12025"  # Mechelen's population


def store_series(ctx: Context, indicator: str, level: str, code: str) -> list[tuple[str, float | None, str]]:
    series = ops.area_series(ctx, [indicator], [(level, code)])
    [area] = series.areas
    return [(o.period, o.value, o.status) for o in series.rows.get((indicator, area.id), [])]


def test_a_statistic_kpi_follows_the_store_and_never_shows_a_suppressed_value(loaded_clone, tmp_path):
    town = make_town(loaded_clone, tmp_path)
    assert KPI_INDICATOR in {i.code for i in ops.list_indicators(town.coco)}
    series = store_series(town.coco, KPI_INDICATOR, KPI_LEVEL, KPI_AREA)
    values = [(p, v) for p, v, _ in series if v is not None]
    assert values, "the shared Statbel data has no population of Mechelen"
    last_period, last_value = values[-1]
    a1 = town.item("A1")
    row = town.items()[town.codes["A1"]]
    ops.update_item(town.coco, a1, expected_version=row["row_version"], publish=True)
    kpi = ops.add_kpi(town.coco, a1, kind="statistic", name="Inwoners", unit_label="personen",
                      indicator=KPI_INDICATOR, area_level=KPI_LEVEL, area_code=KPI_AREA,
                      targets={int(last_period) + 2: last_value * 1.1})

    def kpi_points() -> list[tuple[str, float]]:
        [view] = ops.item_detail(town.coco, a1).kpis
        assert view["id"] == kpi["id"]
        return [(m["period"], m["value"]) for m in view["measurements"]]

    assert kpi_points() == values

    # A new observation flows in without any change to the KPI.
    later = str(int(last_period) + 1)
    new_value = round(last_value * 1.02)
    observations(town.root, tmp_path, [{"indicator": KPI_INDICATOR, "level": KPI_LEVEL, "area": KPI_AREA,
                                        "period": later, "value": new_value}])
    assert store_series(town.coco, KPI_INDICATOR, KPI_LEVEL, KPI_AREA)[-1][:2] == (later, new_value)
    assert kpi_points() == values + [(later, new_value)]

    # A small count the store withholds is never shown, not even to the coordinator.
    small = str(int(last_period) + 2)
    observations(town.root, tmp_path, [{"indicator": KPI_INDICATOR, "level": KPI_LEVEL, "area": KPI_AREA,
                                        "period": small, "value": 2}])
    assert store_series(town.coco, KPI_INDICATOR, KPI_LEVEL, KPI_AREA)[-1] == (small, None, "suppressed")
    assert kpi_points() == values + [(later, new_value)]
    [view] = ops.item_detail(town.coco, a1).kpis
    assert view["light"].period == later and view["light"].value == new_value
    public = ops.public_plan(public_context(town.db, town.root.settings), "mechelen")
    [shown] = [i for i in public.items if i["id"] == a1]
    assert [(m["period"], m["value"]) for m in shown["kpis"][0]["measurements"]] == values + [(later, new_value)]


def expected_colour(value: float, target: float, baseline: float, tolerance_pct: float) -> str:
    """The documented rule for a KPI where higher is better, with a baseline."""
    if value >= target or abs(value - target) <= abs(target) * tolerance_pct / 100:
        return "groen"
    return "oranje" if value > baseline else "rood"


def test_a_manual_kpi_validates_its_values_and_its_light_follows_the_target(town):
    a1 = town.item("A1")
    baseline, target, tolerance = 40.0, 60.0, 5.0
    kpi = ops.add_kpi(town.coco, a1, kind="manual", name="Schoolstraten", unit_label="straten", direction="up",
                      baseline=baseline, baseline_period="2025", targets={2027: target}, tolerance_pct=tolerance)
    for bad in (float("nan"), "abc", float("inf")):
        with pytest.raises(ValidationError) as refused:
            ops.record_measurement(town.an, kpi["id"], "2026", value=bad)
        assert "value" in refused.value.errors, bad
    with pytest.raises(ValidationError):
        ops.record_measurement(town.an, kpi["id"], "26", value=50)
    with pytest.raises(NotAllowed):
        ops.record_measurement(town.eva, kpi["id"], "2026", value=50)
    [view] = ops.item_detail(town.coco, a1).kpis
    assert view["measurements"] == [] and view["light"].colour == "grijs"

    near = target * (1 - tolerance / 200)  # within the tolerance
    for value in (near, (baseline + near) / 2 - 1, baseline - 5, target + 3):
        ops.record_measurement(town.an, kpi["id"], "2026", value=str(value).replace(".", ","))
        [view] = ops.item_detail(town.coco, a1).kpis
        light = view["light"]
        assert [(m["period"], m["value"]) for m in view["measurements"]] == [("2026", pytest.approx(value))]
        assert light.colour == expected_colour(value, target, baseline, tolerance), value
        assert (light.target, light.target_year, light.period) == (target, 2027, "2026")
        assert light.rule_nl.startswith(light.colour)
    assert math.isclose(view["measurements"][0]["value"], target + 3)


# --- 8. milestones ----------------------------------------------------------------------------------

def test_milestones_overdue_slippage_and_no_dependency_cycle(town):
    a1 = town.item("A1")
    today = date.today()
    planned = today - timedelta(days=10)
    first = ops.add_milestone(town.coco, a1, title="Ontwerp klaar", planned_end=planned.isoformat())
    second = ops.add_milestone(town.coco, a1, title="Aanbesteding", planned_end=today + timedelta(days=30),
                               depends_on=[first["id"]])

    views = {m["id"]: m for m in ops.item_detail(town.an, a1).milestones}
    assert views[first["id"]]["overdue"] is True and views[first["id"]]["done"] is False
    assert views[first["id"]]["slippage_days"] == (today - planned).days
    assert views[second["id"]]["overdue"] is False and views[second["id"]]["slippage_days"] == 0

    finished = today - timedelta(days=3)
    ops.update_milestone(town.an, first["id"], expected_version=first["row_version"], actual_end=finished)
    done = {m["id"]: m for m in ops.item_detail(town.an, a1).milestones}[first["id"]]
    assert (done["overdue"], done["done"], done["slippage_days"]) == (False, True, (finished - planned).days)
    with pytest.raises(ValidationError):
        ops.update_milestone(town.an, first["id"], expected_version=done["row_version"],
                             actual_end=today + timedelta(days=1))
    with pytest.raises(StaleEdit) as stale:  # based on the version before the completion
        ops.update_milestone(town.coco, first["id"], expected_version=first["row_version"], title="Ontwerp")
    assert stale.value.mine == {"title": "Ontwerp"} and stale.value.theirs == {"title": "Ontwerp klaar"}

    with pytest.raises(ValidationError) as refused:
        ops.update_milestone(town.coco, first["id"], expected_version=done["row_version"],
                             depends_on=[second["id"]])
    assert "depends_on" in refused.value.errors and "cycle" in " ".join(refused.value.errors["depends_on"])
    after = {m["id"]: m for m in ops.item_detail(town.an, a1).milestones}
    assert after[first["id"]]["depends_on"] == [] and after[first["id"]]["row_version"] == done["row_version"]


# --- 9. the status sheet ----------------------------------------------------------------------------

def sheet_rows(data: bytes) -> dict[int, tuple[int, dict[str, Any]]]:
    """item id → (line, cells) of a downloaded status sheet."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "item_id")
    header = rows[header_at]
    return {r[0]: (line, dict(zip(header, r))) for line, r in enumerate(rows[header_at + 1:], start=header_at + 2)
            if r and r[0] is not None}


def fill_sheet(data: bytes, path: Path, values: dict[int, dict[str, Any]]) -> Path:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    header = [c.value for c in next(r for r in sheet.iter_rows() if r[0].value == "item_id")]
    for row in sheet.iter_rows():
        if row[0].value in values:
            for name, value in values[row[0].value].items():
                row[header.index(name)].value = value
    book.save(path)
    return path


def test_the_status_sheet_round_trip_all_rows_or_none(town, tmp_path):
    reportable = [r for r in town.items().values() if r["kind"] in ACTIE_KINDS]
    everything = sheet_rows(ops.export_status_sheet(town.coco, organisation="mechelen", period=S1))
    assert set(everything) == {r["id"] for r in reportable}
    data = ops.export_status_sheet(town.an, organisation="mechelen", period=S1)
    rows = sheet_rows(data)
    mine = {r["id"] for r in reportable if r["owner"] == "an"}
    assert set(rows) == mine == {town.item("A1"), town.item("A2")}
    assert {cells["code"] for _, cells in rows.values()} == {town.codes["A1"], town.codes["A2"]}

    a1, a2 = town.item("A1"), town.item("A2")
    filled = fill_sheet(data, tmp_path / "ingevuld.xlsx", {
        a1: {"status": "Op schema", "voortgang": 45, "toelichting": "Via het blad"},
        a2: {"status": "Risico", "voortgang": "12,5", "knelpunten": "Budget"}})
    result = ops.import_status_sheet(town.an, filled, organisation="mechelen")
    assert (result["period"], result["rows"], result["written"]) == (S1, 2, 2)
    one, two = update_of(town, a1, S1), update_of(town, a2, S1)
    assert (one["state"], one["status"], one["progress"], one["narrative"]) == ("draft", "op_schema", 45, "Via het blad")
    assert (two["status"], two["progress"], two["knelpunten"]) == ("risico", 12.5, "Budget")

    # One invalid row refuses the whole sheet, naming its line; nothing changes.
    data = ops.export_status_sheet(town.an, organisation="mechelen", period=S1)
    lines = {item: line for item, (line, _) in sheet_rows(data).items()}
    bad = fill_sheet(data, tmp_path / "fout.xlsx", {a1: {"voortgang": 55, "toelichting": "Nieuw"},
                                                      a2: {"voortgang": 150}})
    with pytest.raises(ImportRejected) as caught:
        ops.import_status_sheet(town.an, bad, organisation="mechelen")
    assert [line for line, _ in caught.value.rejected] == [lines[a2]]
    assert "150" in caught.value.rejected[0][1]
    assert update_of(town, a1, S1) == one and update_of(town, a2, S1) == two


# --- 10. due lists ----------------------------------------------------------------------------------

def test_due_lists_per_owner_overdue_after_the_deadline_not_when_submitted(town):
    a1, a2 = town.codes["A1"], town.codes["A2"]
    early = S1_START + timedelta(days=40)
    due = ops.due_updates(town.coco, town.plan_id, owner="an", today=early)
    assert due.period["code"] == S1
    assert sorted((d["code"], d["period_code"], d["state"]) for d in due.items) == \
        sorted([(a1, S1, "open"), (a2, S1, "open")])
    assert {d["code"] for d in ops.due_updates(town.coco, town.plan_id, owner="bert", today=early).items} == \
        {town.codes["B1"]}

    report(town.an, town.item("A2"), S1, progress=10)  # submitted: no longer due
    report(town.an, town.item("A1"), S1, progress=10, submit=False)  # a draft is still due
    due = ops.due_updates(town.coco, town.plan_id, owner="an", today=early)
    assert [(d["code"], d["update_state"]) for d in due.items] == [(a1, "draft")]

    late = S1_DEADLINE + timedelta(days=1)
    due = ops.due_updates(town.coco, town.plan_id, owner="an", today=late)
    states = {(d["code"], d["period_code"]): d["state"] for d in due.items}
    assert states[(a1, S1)] == "overdue" and (a2, S1) not in states
    assert states[(a1, S2)] == states[(a2, S2)] == "open"  # the second semester has begun

    update = update_of(town, town.item("A2"), S1)
    ops.decide_status_update(town.coco, update["id"], approve=False, comment="Onvolledig")
    due = ops.due_updates(town.coco, town.plan_id, owner="an", today=late)
    assert {(d["code"], d["period_code"]): d["state"] for d in due.items}[(a2, S1)] == "overdue"  # returned: due


# --- 11. the public view ----------------------------------------------------------------------------

def test_the_public_view_shows_published_items_and_approved_data_only(town):
    public = public_context(town.db, town.root.settings)
    a1, a2 = town.item("A1"), town.item("A2")
    items = town.items()
    for name in ("A1", "A2"):
        row = items[town.codes[name]]
        ops.update_item(town.coco, row["id"], expected_version=row["row_version"], publish=True)
    approved(town, a1, S1, status="op_schema", progress=30, narrative="Openbaar goedgekeurd", by=town.an)
    report(town.bert, town.item("B1"), S1, progress=70)
    shown = ops.public_plan(public, "mechelen")
    assert [i["code"] for i in shown.items] == [town.codes["A1"], town.codes["A2"]]
    by_code = {i["code"]: i for i in shown.items}
    assert (by_code[town.codes["A1"]]["status"], by_code[town.codes["A1"]]["progress"]) == ("op_schema", 30)

    report(town.an, a1, S2, status="vertraagd", progress=5, narrative="GEHEIM-ONTWERP", submit=False)
    report(town.an, a2, S1, status="vertraagd", progress=5, narrative="GEHEIM-INGEDIEND")
    after = ops.public_plan(public, "mechelen")
    assert after == shown
    text = json.dumps([after.plan, after.items], default=str)
    assert "GEHEIM" not in text
    assert set(after.items[0]) - {"kpis"} <= {"id", "code", "kind", "title", "title_long", "beleidsdomein",
                                              "parent_code", "priority", "status", "progress", "reported_period",
                                              "budget"}
    # Unpublished items are not there, whatever their data.
    assert town.codes["B1"] not in text
    assert ops.public_plan(public, "turnhout").items == []


def test_a_plan_file_naming_an_unknown_owner_is_refused_with_its_line(empty_db, tmp_path):
    """An owner reports on the item: a name that is no user of the organisation is a mistake in
    the file, refused like any other bad row (and a known name in capitals is accepted)."""
    root = system(empty_db, load_settings({}, mail_outbox=str(tmp_path / "outbox")))  # never the working directory
    org(root, "stad", "Stad", host=True)
    user(root, "eva", "editor", org="stad")
    coordinator = user(root, "coco", "coordinator", org="stad")
    path = tmp_path / "plan.csv"
    path.write_text("type,code,parent,title_short,owner\n"
                    "beleidsdoelstelling,BD1,,Doel,\n"
                    "actieplan,AP1,BD1,Plan,\n"
                    "actie,AC1,AP1,Actie een,Eva\n"
                    "actie,AC2,AP1,Actie twee,niemand\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        ops.import_plan(coordinator, [path], organisation="stad")
    assert [line for line, _ in refused.value.rejected] == [5]
    assert "niemand" in refused.value.rejected[0][1]
    assert ops.list_plans(coordinator, organisation="stad") == []
    path.write_text(path.read_text(encoding="utf-8").replace("niemand", ""), encoding="utf-8")
    result = ops.import_plan(coordinator, [path], organisation="stad")
    owners = {i["code"]: i["owner"] for i in ops.plan_items(coordinator, result.plan_id).items}
    assert owners["AC1"] == "eva" and owners["AC2"] is None


def test_readers_of_an_item_see_only_its_approved_updates(empty_db, tmp_path):
    """A reader of the organisation sees the item and its approved updates; drafts (and their
    text in the history) stay with the owner and the coordinators."""
    root = system(empty_db, load_settings({}, mail_outbox=str(tmp_path / "outbox")))  # never the working directory
    org(root, "stad", "Stad", host=True)
    owner = user(root, "eva", "editor", org="stad")
    coordinator = user(root, "coco", "coordinator", org="stad")
    reader = user(root, "lea", "reader", org="stad")
    path = tmp_path / "plan.csv"
    path.write_text("type,code,parent,title_short,owner\nbeleidsdoelstelling,BD1,,Doel,\nactieplan,AP1,BD1,Plan,\n"
                    "actie,AC1,AP1,Actie,eva\n", encoding="utf-8")
    plan_id = ops.import_plan(coordinator, [path], organisation="stad").plan_id
    ops.add_reporting_periods(coordinator, range(2026, 2027), organisation="stad")
    item = next(i for i in ops.plan_items(coordinator, plan_id).items if i["code"] == "AC1")
    done = ops.save_status_update(owner, item["id"], period="2026-S1", status="op_schema", progress=50,
                                  narrative="Goedgekeurde tekst", submit=True).update
    ops.decide_status_update(coordinator, done["id"], approve=True)
    ops.save_status_update(owner, item["id"], period="2026-S2", status="risico", progress=55,
                           narrative="Geheime kladtekst")
    seen_by_owner = ops.item_detail(owner, item["id"])
    assert {u["state"] for u in seen_by_owner.updates} == {"approved", "draft"}
    seen = ops.item_detail(reader, item["id"])
    assert [u["state"] for u in seen.updates] == ["approved"]
    assert "Geheime kladtekst" not in json.dumps(
        {"updates": seen.updates, "history": seen.history, "item": seen.item}, default=str)
