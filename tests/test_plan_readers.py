"""Reading, validating and comparing plan files (obmi.plans.readers, .validate, .diff): pure, no
database. The real BBC exports of Mechelen (12025) and Turnhout (13040) are read from the shared
data; every expected number is computed here from their raw JSON, never written down."""

from __future__ import annotations

import copy
import csv
import json
import os
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from obmi import plugins
from obmi.errors import ImportRejected, ValidationError
from obmi.hookspecs import hookimpl
from obmi.imports.readers import ImportReader
from obmi.plans.diff import ItemSnapshot, PlanSnapshot, diff, format_amount, snapshot_of
from obmi.plans.model import AmountLine, ItemDraft, ItemKind, PlanDraft
from obmi.plans.readers import parse_amount, read_plan_files
from obmi.plans.validate import check_draft, validate_draft

PLANS = Path(os.environ.get("OBMI_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")) / "plans"
REAL = ("12025.json", "13040.json")
YEARS = range(2026, 2032)


def raw_records(name: str) -> list[dict[str, Any]]:
    path = PLANS / name
    assert path.is_file(), f"the shared plan data is missing at {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def conflicting_records(records: list[dict[str, Any]]) -> set[int]:
    """Record numbers that give a code seen earlier another title or parent: an export that
    mixes organisations (Mechelen with Audio, Turnhout with Welzijnszorg Kempen) does this."""
    first: dict[str, tuple[str, str, str]] = {}
    found = set()
    for number, record in enumerate(records, start=1):
        for level, parent in (("bd", ""), ("ap", record["bd_code"])):
            code = record[f"{level}_code"]
            if not code:
                continue
            seen = first.setdefault(code, (record[f"{level}_short"], record[f"{level}_long"], parent))
            if seen != (record[f"{level}_short"], record[f"{level}_long"], parent):
                found.add(number)
    return found


def consistent(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad = conflicting_records(records)
    return [r for number, r in enumerate(records, start=1) if number not in bad]


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def refusal(paths: list[Path]) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        read_plan_files(paths)
    return caught.value


def reasons_at(error: ImportRejected, line: int) -> list[str]:
    return [reason for at, reason in error.rejected if at == line]


# --- the real exports -------------------------------------------------------------------------

def distinct_items(records: list[dict[str, Any]]) -> dict[tuple[str, ...], int]:
    """(level, code, titles, parent identity) → first record: the items a reader must keep apart,
    computed from the raw records."""
    found: dict[tuple[str, ...], int] = {}
    for number, r in enumerate(records, start=1):
        bd = ("bd", r["bd_code"], r["bd_short"], r["bd_long"]) if r["bd_code"] else None
        if bd:
            found.setdefault(bd, number)
        ap = ("ap", r["ap_code"], r["ap_short"], r["ap_long"], *(bd or ()))
        found.setdefault(ap, number)
    return found


@pytest.mark.parametrize("name", REAL)
def test_a_real_export_keeps_apart_the_items_of_bundled_budget_entities(name):
    """The exports bundle several budget entities (Mechelen with Audio, Turnhout with
    Welzijnszorg Kempen) whose codes collide: each distinct item is kept, the later ones as
    CODE/2…, and the import notes name the records."""
    records = raw_records(name)
    assert conflicting_records(records), "the shared export no longer reuses codes: this test's premise changed"
    draft = read_plan_files([PLANS / name])
    expected = distinct_items(records)
    assert len([i for i in draft.items if i.kind is not ItemKind.ACTIE]) == len(expected)
    assert len([i for i in draft.items if i.kind is ItemKind.ACTIE]) == len(records)
    renamed = [i for i in draft.items if "/" in i.code]
    assert renamed and len(draft.notes) == len(renamed)
    for item in renamed:
        assert any(f"record {item.line}: {item.code.split('/')[0]}" in note and item.code in note for note in draft.notes)
    assert validate_draft(draft, years=YEARS) == []
    assert read_plan_files([PLANS / name]).items == draft.items  # the same file reads the same way


@pytest.mark.parametrize("name", REAL)
def test_a_real_export_reads_into_its_items_and_yearly_totals(name):
    records = raw_records(name)
    draft = read_plan_files([PLANS / name])
    assert draft.layout == "bbc-json" and not draft.amounts_only
    assert draft.organisation_hint == f"{records[0]['nis_code']} {records[0]['municipality']}"
    # Expected: per beleidsdoelstelling (code and title: one code may name two) and year.
    expected: dict[tuple[str, str, int], float] = defaultdict(float)
    for r in records:
        for year, amount in r["yearly_amounts"].items():
            expected[(r["bd_code"].split("/")[0], r["bd_short"] if r["bd_code"] else "", int(year))] += amount
    items = {item.code: item for item in draft.items}
    totals: dict[tuple[str, str, int], float] = defaultdict(float)
    for line in draft.amounts:
        assert line.direction == "uitgave"
        top = items[line.item]
        while top.parent:
            top = items[top.parent]
        bd = top if top.kind is ItemKind.BELEIDSDOELSTELLING else None
        totals[(bd.code.split("/")[0] if bd else "", bd.title_short if bd else "", line.year)] += line.amount
    assert totals.keys() == expected.keys()
    assert all(totals[key] == pytest.approx(expected[key]) for key in expected)
    acties = {item.code: item for item in draft.items if item.kind is ItemKind.ACTIE}
    assert all(acties[r["ac_code"]].beleidsdomein == r["categories"][0][:2] for r in records)


def test_an_amended_export_gives_exactly_its_changes(tmp_path):
    records = consistent(raw_records("12025.json"))
    base = read_plan_files([write_json(tmp_path / "base.json", records)])
    amended = copy.deepcopy(records)
    per_ap = defaultdict(list)
    for index, r in enumerate(amended):
        per_ap[r["ap_code"]].append(index)
    # Remove an actie whose actieplan keeps other acties; move, retitle and re-budget others.
    removed = next(indexes[0] for indexes in per_ap.values() if len(indexes) > 1)
    others = [i for i in range(len(amended)) if amended[i]["ap_code"] != amended[removed]["ap_code"]]
    moved, retitled, rebudgeted = others[0], others[1], others[2]
    target = next(r for r in amended if r["ap_code"] != amended[moved]["ap_code"])
    old_parent = amended[moved]["ap_code"]
    for key in ("bd_code", "bd_short", "bd_long", "ap_code", "ap_short", "ap_long"):
        amended[moved][key] = target[key]
    old_title = amended[retitled]["ac_short"]
    amended[retitled]["ac_short"] = "Een nieuwe titel"
    old_amount = amended[rebudgeted]["yearly_amounts"]["2027"]
    amended[rebudgeted]["yearly_amounts"]["2027"] = 22_000_000
    added = {**copy.deepcopy(target), "ac_code": "AC999999", "ac_short": "Een nieuwe actie", "ac_long": "Een nieuwe actie"}
    removed_code = amended[removed]["ac_code"]
    amended = [r for i, r in enumerate(amended) if i != removed] + [added]

    new = read_plan_files([write_json(tmp_path / "amended.json", amended)])
    change = diff(snapshot_of(base), snapshot_of(new))

    assert [e.code for e in change.added] == ["AC999999"]
    assert [e.code for e in change.removed] == [removed_code]
    assert change.moved == [(amended_code := records[moved]["ac_code"], old_parent, target["ap_code"])]
    assert change.retitled == [(records[retitled]["ac_code"], old_title, "Een nieuwe titel")]
    assert change.changed == []
    assert change.amounts == [(records[rebudgeted]["ac_code"], 2027, "uitgave", old_amount, 22_000_000)]
    assert change.counts() == {"added": 1, "removed": 1, "moved": 1, "retitled": 1, "changed": 0, "amounts": 1}
    assert not change.is_empty and diff(snapshot_of(base), snapshot_of(base)).is_empty

    lines = change.lines()
    dutch_old = f"{round(old_amount):,}".replace(",", ".")
    assert f"+ actie AC999999 'Een nieuwe actie' (onder {target['ap_code']})" in lines
    assert f"~ {amended_code} verplaatst: {old_parent} → {target['ap_code']}" in lines
    assert f"€ {records[rebudgeted]['ac_code']} 2027: {dutch_old} → 22.000.000" in lines
    assert f"~ {amended_code} moved: {old_parent} → {target['ap_code']}" in change.lines("en")
    assert json.loads(json.dumps(change.as_dict()))["counts"]["moved"] == 1


def test_amounts_below_half_a_cent_are_no_difference_and_amounts_read_as_written():
    old = PlanSnapshot({"A": ItemSnapshot(ItemKind.REGULIERE_WERKING, title_short="A")}, {("A", 2026, "uitgave"): 10.0})
    assert diff(old, PlanSnapshot(old.items, {("A", 2026, "uitgave"): 10.004})).is_empty
    assert diff(old, PlanSnapshot(old.items, {})).amounts == [("A", 2026, "uitgave", 10.0, 0.0)]
    assert format_amount(1234.5) == "1.234,50" and format_amount(21012492.0) == "21.012.492"
    assert format_amount(1234.5, "en") == "1,234.50"
    assert [parse_amount(t) for t in ("1.234,56", "1234.56", "1.234", "-12", "1 000", 7)] == [
        1234.56, 1234.56, 1234.0, -12.0, 1000.0, 7.0]
    for text in ("veel", "nan", "inf", "1,2,3.4.5"):
        with pytest.raises(ValueError):
            parse_amount(text)


# --- plan-table -------------------------------------------------------------------------------

PLAN_ROWS: list[list[Any]] = [
    ["type", "code", "parent", "title_short", "title_long", "description", "beleidsdomein", "beleidsveld",
     "priority", "owner", "department", "mandataris", "start", "end", "tags", "2026", "2027"],
    ["BD", "BD1", "", "Een veilige stad", "", "", "", "", "ja", "", "", "", "", "", "", "", ""],
    ["AP", "AP1", "BD1", "Veiligheid", "Veiligheid voor iedereen", "", "", "", "", "", "", "", "", "", "", "", ""],
    ["actie", "AC1", "AP1", "Camera's", "", "Meer camera's", "04", "0400", "nee", "jan", "Politie", "Schepen X",
     "2026-01-01", "31/12/2027", "veiligheid; camera, techniek", "1000", "2500.5"],
    ["Reguliere werking", "RW1", "", "Belastingen", "", "", "00", "0020-00", "", "", "", "", "", "", "", "12", ""],
]


def expected_plan() -> tuple[list[tuple[Any, ...]], list[tuple[str, int, float]]]:
    items = [("BD1", ItemKind.BELEIDSDOELSTELLING, None, "Een veilige stad", None, None, None, True, None, ()),
             ("AP1", ItemKind.ACTIEPLAN, "BD1", "Veiligheid", None, None, None, None, None, ()),
             ("AC1", ItemKind.ACTIE, "AP1", "Camera's", "04", "0400", None, False, ("2026-01-01", "2027-12-31"),
              ("veiligheid", "camera", "techniek")),
             ("RW1", ItemKind.REGULIERE_WERKING, None, "Belastingen", "00", "0020", "0020-00", None, None, ())]
    return items, [("AC1", 2026, 1000.0), ("AC1", 2027, 2500.5), ("RW1", 2026, 12.0)]


def summary(draft: PlanDraft) -> tuple[list[tuple[Any, ...]], list[tuple[str, int, float]]]:
    items = [(i.code, i.kind, i.parent, i.title_short, i.beleidsdomein, i.beleidsveld, i.beleidsitem, i.priority,
              (i.start, i.end) if i.start else None, i.tags) for i in draft.items]
    return items, [(a.item, a.year, a.amount) for a in draft.amounts]


def test_a_plan_table_reads_the_same_from_csv_and_xlsx(tmp_path):
    csv_path = tmp_path / "plan.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(PLAN_ROWS)  # quotes the tags, which hold a ;
    rows = copy.deepcopy(PLAN_ROWS)
    rows[0] = [{"title_short": "Titel", "description": "Omschrijving", "type": "Type"}.get(h, h) for h in rows[0]]
    rows[3][12], rows[3][15], rows[3][16] = date(2026, 1, 1), 1000, 2500.5  # typed cells, as Excel keeps them
    rows[3][7] = 400  # Excel drops the leading zero of 0400
    xlsx_path = write_xlsx(tmp_path / "plan.xlsx", rows)

    from_csv, from_xlsx = read_plan_files([csv_path]), read_plan_files([xlsx_path])
    assert summary(from_csv) == summary(from_xlsx) == expected_plan()
    assert from_csv.items[1].title_long == "Veiligheid voor iedereen" and from_csv.items[2].owner == "jan"
    assert [i.line for i in from_csv.items] == [2, 3, 4, 5]
    assert from_csv.layout == "plan-table" and validate_draft(from_csv, years=YEARS) == []


def test_a_budget_registration_with_decimal_commas_gives_amounts_only(tmp_path):
    budget = write_csv(tmp_path / "budget.csv", [
        "Actie;Beleidsitem;Algemene rekening;Investeringsenveloppe;Uitgave/Ontvangst;Omschrijving;2026;2027",
        "AC1;0400-01;6130000;;U;Materiaal;1.234,56;2.000",
        "AC1;0400-01;2300000;IE-7;uitgave;Camera's;10.000,00;",
        "RW1;0020-00;7300000;;O;Belasting;-5,5;12",
    ])
    draft = read_plan_files([budget])
    assert draft.amounts_only and draft.layout == "budget-registration" and draft.items == []
    assert [(a.item, a.year, a.amount, a.direction, a.beleidsitem, a.account, a.envelope, a.line) for a in draft.amounts] == [
        ("AC1", 2026, 1234.56, "uitgave", "0400-01", "6130000", None, 2),
        ("AC1", 2027, 2000.0, "uitgave", "0400-01", "6130000", None, 2),
        ("AC1", 2026, 10000.0, "uitgave", "0400-01", "2300000", "IE-7", 3),
        ("RW1", 2026, -5.5, "ontvangst", "0020-00", "7300000", None, 4),
        ("RW1", 2027, 12.0, "ontvangst", "0020-00", "7300000", None, 4)]
    assert draft.notes == ["columns not read: Omschrijving"]

    existing = {"AC1": ItemKind.ACTIE}
    assert validate_draft(draft, existing=existing, years=YEARS) == [
        (4, "amounts for RW1, which is not in the current plan")]
    base = PlanSnapshot({"AC1": ItemSnapshot(ItemKind.ACTIE, "AP1", "Camera's")}, {("AC1", 2031, "uitgave"): 5.0})
    after = snapshot_of(draft, base)
    assert after.items == base.items  # the structure stays, the amounts are replaced entirely
    assert after.amounts[("AC1", 2026, "uitgave")] == pytest.approx(11234.56) and ("AC1", 2031, "uitgave") not in after.amounts


def test_a_budget_registration_in_xlsx_with_other_header_spellings(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [["ACTIE", "beleidsitem", "AR", "investeringsenveloppe",
                                                   "uitgave / ontvangst", 2026],
                                                  ["AC1", "0400-01", 6130000, None, "U", 1234.56]])
    draft = read_plan_files([path])
    assert [(a.item, a.account, a.amount) for a in draft.amounts] == [("AC1", "6130000", 1234.56)]
    path = write_csv(tmp_path / "export.csv", ["actie,beleidsitem,algemene_rekening,uitgave_ontvangst,2026",
                                               "AC1,0400-01,6130000,O,12.5"])
    assert [(a.direction, a.amount) for a in read_plan_files([path]).amounts] == [("ontvangst", 12.5)]


def test_a_structure_file_and_a_budget_file_are_read_as_one_plan(tmp_path):
    plan = write_csv(tmp_path / "plan.csv", ["type;code;parent;titel", "BD;BD1;;Doel", "AP;AP1;BD1;Plan",
                                             "AC;AC1;AP1;Actie"])
    budget = write_csv(tmp_path / "budget.csv", ["actie;beleidsitem;algemene rekening;uitgave/ontvangst;2026",
                                                 "AC1;0400-01;6130000;U;1.000,00"])
    draft = read_plan_files([plan, budget])
    assert not draft.amounts_only and draft.layout == "plan-table+budget-registration"
    assert [i.code for i in draft.items] == ["BD1", "AP1", "AC1"] and [a.amount for a in draft.amounts] == [1000.0]
    assert validate_draft(draft, years=YEARS) == []


# --- refusals ---------------------------------------------------------------------------------

def test_a_duplicate_code_is_refused_at_its_second_line(tmp_path):
    path = write_csv(tmp_path / "plan.csv", ["type,code,parent,title_short", "BD,BD1,,Doel", "AP,AP1,BD1,Plan",
                                             "AP,AP1,BD1,Nog een plan"])
    with pytest.raises(ImportRejected) as caught:
        check_draft(read_plan_files([path]))
    assert caught.value.rejected == [(4, "actieplan AP1 is listed twice (also at line 3)")]


def test_an_actie_without_actieplan_is_refused(tmp_path):
    records = [{"bd_code": "BD1", "bd_short": "Doel", "ap_code": "AP1", "ap_short": "Plan", "ac_code": "AC1",
                "ac_short": "Actie", "categories": ["01-algemeen-bestuur"], "yearly_amounts": {"2026": 1}},
               {"bd_code": "BD1", "bd_short": "Doel", "ap_code": "", "ac_code": "AC2", "ac_short": "Los",
                "categories": ["01-algemeen-bestuur"], "yearly_amounts": {"2026": 1}}]
    error = refusal([write_json(tmp_path / "plan.json", records)])
    assert error.rejected == [(2, "actie AC2 has no actieplan (ap_code is empty)")]
    assert "record 2: actie AC2 has no actieplan" in str(error)

    table = write_csv(tmp_path / "plan.csv", ["type,code,parent,title_short", "actie,AC3,,Zonder plan"])
    assert validate_draft(read_plan_files([table])) == [(2, "actie AC3 has no actieplan (its parent is empty)")]


def test_an_unknown_beleidsveld_is_refused_with_its_line(tmp_path):
    path = write_csv(tmp_path / "plan.csv", ["type,code,title_short,beleidsveld", "RW,RW1,Werking,0020",
                                             "RW,RW2,Werking,0001"])
    error = refusal([path])
    assert error.rejected == [(3, "beleidsveld: beleidsveld 0001 is not in the official BBC list of beleidsvelden")]
    mismatch = PlanDraft([ItemDraft("RW1", ItemKind.REGULIERE_WERKING, 2, title_short="W", beleidsdomein="07",
                                    beleidsveld="0020")])
    assert validate_draft(mismatch) == [(2, "reguliere werking RW1: beleidsveld 0020 belongs to beleidsdomein 00, not 07")]


def test_a_non_numeric_amount_is_refused_naming_the_field(tmp_path):
    records = [{"bd_code": "BD1", "bd_short": "Doel", "ap_code": "AP1", "ap_short": "Plan", "ac_code": "AC1",
                "ac_short": "Actie", "categories": [], "yearly_amounts": {"2026": 1, "2027": "veel"}}]
    error = refusal([write_json(tmp_path / "plan.json", records)])
    assert error.rejected == [(1, "yearly_amounts 2027: 'veel' is not a number")]
    table = write_csv(tmp_path / "plan.csv", ["type;code;title_short;2026", "RW;RW1;Werking;1.000", "RW;RW2;Werking;veel"])
    assert refusal([table]).rejected == [(3, "column 2026: 'veel' is not a number")]


def test_a_cycle_is_reported_as_a_cycle(tmp_path):
    path = write_csv(tmp_path / "plan.csv", ["type,code,parent,title_short", "AP,AP0,BD1,Plan",
                                             "BD,BD1,RW1,Doel", "RW,RW1,BD1,Werking"])
    problems = validate_draft(read_plan_files([path]))
    assert (3, "cycle in the hierarchy: BD1 → RW1 → BD1 (each is under the next)") in problems
    assert (3, "beleidsdoelstelling BD1 stands at the top of the plan and cannot be under RW1") in problems
    assert len(problems) == 2  # AP0 under BD1 is fine; the cycle is reported once


@pytest.mark.parametrize(("content", "line", "words"), [
    ('[{"ac_code": "AC1",\n  "ap_code" "AP1"}]', 2, "not valid JSON: Expecting ':' delimiter (line 2, column 13)"),
    ('{"ac_code": "AC1"}', 1, "a JSON object, not a list"),
    ("", 0, "the file is empty"),
    ("  \n", 0, "the file is empty"),
    ("[]", 1, "the JSON list holds no records"),
])
def test_a_broken_json_file_is_refused_clearly(tmp_path, content, line, words):
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    error = refusal([path])
    assert len(error.rejected) == 1 and error.rejected[0][0] == line
    assert words in error.rejected[0][1] and "expected one of: bbc-json" in error.rejected[0][1]


def test_an_unknown_column_is_refused_at_line_1(tmp_path):
    path = write_csv(tmp_path / "plan.csv", ["type,code,title_short,kleur", "RW,RW1,Werking,rood"])
    error = refusal([path])
    assert len(error.rejected) == 1 and error.rejected[0][0] == 1
    assert error.rejected[0][1].startswith("unknown column 'kleur' (the columns are type, code, parent, title_short")


def test_files_that_are_no_plan_are_refused_without_a_stack_trace(tmp_path):
    binary = tmp_path / "plan.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    other = write_csv(tmp_path / "other.csv", ["naam,waarde", "a,1"])
    empty = write_csv(tmp_path / "leeg.csv", [""])
    error = refusal([binary, other, empty, tmp_path / "missing.csv"])
    reasons = [reason for _, reason in error.rejected]
    assert reasons[0].startswith("plan.csv: not a readable JSON, CSV or XLSX file")
    assert reasons[1].startswith("other.csv: the columns (naam, waarde) match no plan layout — expected one of: "
                                 "bbc-json (")
    assert "plan-table (" in reasons[1] and "budget-registration (" in reasons[1]
    assert reasons[2].startswith("leeg.csv: the file is empty") and reasons[3] == "missing.csv: file not found"
    with pytest.raises(ValidationError):
        read_plan_files([])


def test_every_problem_of_every_file_is_listed_with_its_file(tmp_path):
    plan = write_csv(tmp_path / "plan.csv", ["type,code,title_short,start,end", "RW,RW1,Werking,2027-01-01,1/1/2026",
                                             "XX,RW2,Werking,,", "RW,RW3,Werking,31/02/2026,"])
    budget = write_csv(tmp_path / "budget.csv", ["actie;beleidsitem;algemene rekening;uitgave/ontvangst;2026",
                                                 "AC1;0400-01;613;U;1", "AC1;0400-01;6130000;X;1"])
    error = refusal([plan, budget])
    assert error.rejected == [
        (3, "plan.csv: type: 'XX' is not a kind of item (beleidsdoelstelling, actieplan, actie, project, "
            "reguliere werking, or BD/AP/AC/PR/RW)"),
        (4, "plan.csv: start: '31/02/2026' is not a date (write 2026-03-31 or 31/03/2026)"),
        (2, "budget.csv: algemene rekening: '613' is not an algemene rekening (seven digits, e.g. 6479999)"),
        (3, "budget.csv: uitgave/ontvangst: 'X' is not U/O, uitgave or ontvangst")]


def test_validation_lists_what_reads_but_is_no_plan():
    items = [ItemDraft("BD1", ItemKind.BELEIDSDOELSTELLING, 2, title_short="Doel"),
             ItemDraft("", ItemKind.ACTIEPLAN, 3, "BD1", title_short="Zonder code"),
             ItemDraft("X" * 41, ItemKind.REGULIERE_WERKING, 4, title_short="Lang"),
             ItemDraft("AP1", ItemKind.ACTIEPLAN, 5, "BD1"),
             ItemDraft("AC1", ItemKind.ACTIE, 6, "BD1", title_short="Actie", start="2027-01-01", end="2026-01-01"),
             ItemDraft("AP2", ItemKind.ACTIEPLAN, 7, "BD9", title_short="Wees")]
    amounts = [AmountLine("AP1", 2040, 5.0, 8), AmountLine("AP1", 2026, 1e13, 9), AmountLine("AP1", 2027, float("nan"), 10),
               AmountLine("ZZ", 2026, 1.0, 11)]
    problems = validate_draft(PlanDraft(items, amounts, layout="plan-table"), existing={"BD9": ItemKind.BELEIDSDOELSTELLING},
                              years=YEARS)
    assert problems == [
        (3, "an actieplan without code ('Zonder code')"),
        (4, f"code '{'X' * 40}…' is longer than 40 characters"),
        (5, "actieplan AP1 has no title (title_short or title_long)"),
        (6, "actie AC1: ends (2026-01-01) before it starts (2027-01-01)"),
        (6, "actie AC1 is under beleidsdoelstelling BD1, but an actie belongs under an actieplan"),
        (7, "the parent BD9 of actieplan AP2 is in the current plan but not in this file (a plan file holds the whole plan)"),
        (8, "AP1 2040: the year is outside the plan's years 2026–2031"),
        (9, "AP1 2026: the amount 1e+13 cannot be meant (10^13 or more)"),
        (10, "AP1 2027: the amount nan is not a finite number"),
        (11, "ZZ, which has amounts, is not in the plan")]


def test_a_plugin_adds_a_plan_layout_through_the_hook(tmp_path):
    """read_plan_files asks the registered plan readers: a new layout is one registration."""
    class Yaml:
        @hookimpl
        def obmi_import_readers(self):
            def read(path):
                return PlanDraft([ItemDraft("RW1", ItemKind.REGULIERE_WERKING, 1, title_short="Uit YAML")],
                                 layout="yaml-plan")
            return [ImportReader("plan", "yaml-plan", "YAML plan", lambda p: p.read_text().startswith("plan:"), read)]

    path = tmp_path / "plan.txt"
    path.write_text("plan: yes\n", encoding="utf-8")
    plugin = Yaml()
    plugins.manager().register(plugin)
    try:
        assert read_plan_files([path]).layout == "yaml-plan"
    finally:
        plugins.manager().unregister(plugin)
    assert {r.name for r in plugins.import_readers("plan")} == {"bbc-json", "plan-table", "budget-registration"}


def test_plans_of_two_organisations_are_not_read_as_one(tmp_path):
    first, second = (write_json(tmp_path / name, consistent(raw_records(name))) for name in REAL)
    error = refusal([first, second])
    nis = [raw_records(name)[0]["nis_code"] for name in REAL]
    assert len(error.rejected) == 1 and error.rejected[0][0] == 0
    assert error.rejected[0][1].startswith(f"{second.name}: is the plan of {nis[1]} ")
    assert f"{first.name} is the plan of {nis[0]} " in error.rejected[0][1]


def test_a_snapshot_from_stored_rows_may_hold_kinds_as_text():
    old = PlanSnapshot({"AC1": ItemSnapshot("actie", "AP1", "Oud")}, {})  # type: ignore[arg-type]
    new = PlanSnapshot({"AC1": ItemSnapshot(ItemKind.ACTIE, "AP1", "Nieuw"), "AC2": ItemSnapshot("actie", "AP1", "Twee")},  # type: ignore[arg-type]
                       {})
    change = diff(old, new)
    assert change.changed == [] and change.retitled == [("AC1", "Oud", "Nieuw")]
    assert change.as_dict()["added"][0]["kind"] == "actie"
    assert change.lines() == ["+ actie AC2 'Twee' (onder AP1)", "~ AC1 nieuwe titel: 'Oud' → 'Nieuw'"]
