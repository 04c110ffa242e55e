"""Finance (issue 8, points 1–3) through the operations on SQLite and PostgreSQL, with the real
multi-year plan of Turnhout (13040) and a finance export written here from that plan's own yearly
amounts: totals per actie and year equal the file (summed independently here), a re-import changes
nothing, a broken file changes nothing and names its lines, injected differences are explained
exactly by the reconciliation, and the balance checks on a hand-computed example."""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from obmi import operations as ops
from obmi.cli import app
from obmi.errors import ImportRejected, NotAllowed, NotVisible, ValidationError
from obmi.finance.balance import BalanceInput, compute_balance
from obmi.finance.model import BudgetLine, Category, Flow, LineKind
from obmi.finance.reconcile import PlanAmount, reconcile

from conftest import SHARED, system
from factories import org, user

PLAN = SHARED / "plans" / "13040.json"
OBMI = Path(sys.executable).with_name("obmi")
TODAY = date(2026, 12, 1)
HEADER = ["actie", "jaar", "kwartaal", "algemene rekening", "uitgave/ontvangst", "bedrag", "raming/realisatie"]


def unambiguous_records() -> list[dict]:
    records = json.loads(PLAN.read_text(encoding="utf-8"))
    counts = Counter(r["ac_code"] for r in records)
    return [r for r in records if counts[r["ac_code"]] == 1]


def export_rows() -> list[list[object]]:
    """Ramingen equal to the plan's amounts (two accounts per actie-year: 70 % / 30 %) and
    realisaties for quarters 1–3 of 2026 (10 %, 15 %, 20 % of the raming), decimal commas."""
    rows: list[list[object]] = []
    for r in unambiguous_records():
        for year, amount in r["yearly_amounts"].items():
            if not amount:
                continue
            first = round(amount * 0.7, 2)
            rows.append([r["ac_code"], year, "", "6100000", "U", first, "raming"])
            rows.append([r["ac_code"], year, "", "2200000", "U", round(amount - first, 2), "raming"])
            if year == "2026":
                rows += [[r["ac_code"], 2026, q, "6100000", "U", round(amount * share, 2), "realisatie"]
                         for q, share in ((1, 0.10), (2, 0.15), (3, 0.20))]
    return rows


def write(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows([[str(c).replace(".", ",") if isinstance(c, float) else c for c in row] for row in rows])
    return path


def run_cli(db, acting_as: str, *args: str):
    env: dict[str, str | None] = {"OBMI_DATABASE_URL": make_url(db.url).render_as_string(hide_password=False),
                                  "OBMI_USER": acting_as}
    env.update({k: None for k in os.environ if k.startswith("OBMI_") and k not in env and not k.startswith("OBMI_TEST_")})
    logger = logging.getLogger("obmi")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def turnhout(empty_db):
    root = system(empty_db)
    org(root, "turnhout")
    org(root, "mechelen")
    coco = user(root, "coco", "coordinator", org="turnhout", password=None)
    lezer = user(root, "lezer", "reader", org="turnhout", password=None)
    other = user(root, "mecoco", "coordinator", org="mechelen", password=None)
    result = ops.import_plan(coco, [PLAN], organisation="turnhout")
    return {"db": empty_db, "coco": coco, "lezer": lezer, "other": other, "plan": result.plan_id}


def test_totals_per_actie_and_year_equal_the_file_and_a_reimport_changes_nothing(turnhout, tmp_path):
    coco, plan = turnhout["coco"], turnhout["plan"]
    rows = export_rows()
    path = write(tmp_path / "export.csv", rows)
    first = ops.import_finance(coco, [path], organisation="turnhout", today=TODAY)
    assert first.status == "imported" and first.lines == len(rows)
    expected: dict[tuple[str, int, str], float] = defaultdict(float)
    for actie, year, _q, _acc, _dir, amount, kind in rows:
        expected[(actie, int(year), kind)] += float(amount)
    for year in range(2026, 2032):
        figures = ops.finance_overview(coco, plan, year=year).figures
        assert figures.source == "finance"
        for (actie, y, kind), amount in expected.items():
            if y != year:
                continue
            money = figures.money(actie, year)
            got = money.planned_out if kind == "raming" else money.realised_out
            assert got == pytest.approx(amount, abs=0.005), (actie, year, kind)
    # 2026: quarters 1–3 booked; spend rate 45 % of every actie; the linear forecast 4/3 of it.
    figures = ops.finance_overview(coco, plan, year=2026).figures
    planned = sum(a for (_, y, k), a in expected.items() if y == 2026 and k == "raming")
    realised = sum(a for (_, y, k), a in expected.items() if y == 2026 and k == "realisatie")
    assert figures.booked_to(2026) == 3
    assert figures.totals(2026).spend_rate == pytest.approx(realised / planned)
    assert figures.forecast(None, 2026).linear == pytest.approx(realised * 4 / 3)
    # The same file again: recorded, nothing written, the data version unchanged.
    version = ops.data_version(coco)
    again = ops.import_finance(coco, [path], organisation="turnhout", today=TODAY)
    assert again.status == "unchanged" and ops.data_version(coco) == version
    # The reconciliation: rounding at most (70/30 split rounded to cents), nothing unexplained.
    rec = ops.finance_reconciliation(coco, plan).reconciliation
    assert {d.reason for d in rec.differences} <= {"rounding", "missing"}
    assert rec.unexplained == pytest.approx(0.0, abs=1e-6)
    # The command line prints the same totals per beleidsdomein.
    out = run_cli(turnhout["db"], "coco", "finance", "overview", "--org", "turnhout", "--year", "2026",
                  "--level", "domain")
    assert out.exit_code == 0, out.output
    printed = list(csv.DictReader(out.stdout.splitlines()))
    assert sum(float(r["planned_out"]) for r in printed) == pytest.approx(figures.totals(2026).planned_out, abs=0.01)


def test_a_broken_file_changes_nothing_and_names_its_lines(turnhout, tmp_path):
    coco, plan = turnhout["coco"], turnhout["plan"]
    good = export_rows()[:20]
    actie = good[0][0]
    broken = good + [
        ["AC_BESTAAT_NIET", 2026, "", "6100000", "U", 100.0, "raming"],      # line 22: not in the plan
        [actie, 2026, 5, "6100000", "U", 100.0, "realisatie"],              # 23: quarter 5
        [actie, 2026, "", "6100000", "U", -100.0, "raming"],                # 24: wrong sign
        [actie, 2026, "", "6300000", "U", 100.0, "raming"],                 # 25: afschrijvingen
        [actie, 2040, "", "6100000", "U", 100.0, "raming"],                 # 26: outside the plan
        good[0],                                                            # 27: duplicate of line 2
        [actie, 2026, "", "6100000", "U", "inf", "raming"],                 # 28: not finite
    ]
    path = write(tmp_path / "broken.csv", broken)
    with pytest.raises(ImportRejected) as caught:
        ops.import_finance(coco, [path], organisation="turnhout", today=TODAY)
    lines = {line for line, _reason in caught.value.rejected}
    assert {23, 24, 25, 28} <= lines  # the reader's refusals (the plan checks come after a clean read)
    assert ops.finance_overview(coco, plan, year=2026).line_counts == {}
    # Without the cell errors, the plan checks name theirs.
    path = write(tmp_path / "plan-errors.csv", good + [broken[20], broken[24], broken[25]])
    with pytest.raises(ImportRejected) as caught:
        ops.import_finance(coco, [path], organisation="turnhout", today=TODAY)
    reasons = dict(caught.value.rejected)
    assert "not in plan" in reasons[22] and "outside plan" in reasons[23] and "line 2" in reasons[24]
    assert ops.finance_overview(coco, plan, year=2026).line_counts == {}
    # The command line (a process of its own): exit code 2 and the lines, no traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(OBMI_DATABASE_URL=make_url(turnhout["db"].url).render_as_string(hide_password=False), OBMI_USER="coco")
    done = subprocess.run([str(OBMI), "import", "finance", str(path), "--org", "turnhout", "--report",
                           str(tmp_path / "rejected.csv")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "nothing was imported" in done.stderr
    assert {row["line"] for row in csv.DictReader((tmp_path / "rejected.csv").open())} == {"22", "23", "24"}
    # With --keep-unplanned the unknown actie is kept and the reconciliation names it.
    path = write(tmp_path / "unplanned.csv", good + [broken[20]])
    ops.import_finance(coco, [path], organisation="turnhout", keep_unplanned=True, today=TODAY)
    rec = ops.finance_reconciliation(coco, plan).reconciliation
    kept = [d for d in rec.differences if d.reason == "not_in_plan"]
    assert [(d.item, d.year, d.finance) for d in kept] == [("AC_BESTAAT_NIET", 2026, 100.0)]


def test_who_may_import_and_read_finance(turnhout, tmp_path):
    path = write(tmp_path / "export.csv", export_rows()[:10])
    with pytest.raises(NotAllowed):
        ops.import_finance(turnhout["lezer"], [path], organisation="turnhout", today=TODAY)
    assert ops.finance_overview(turnhout["lezer"], turnhout["plan"]).plan_id == turnhout["plan"]
    with pytest.raises((NotVisible, NotAllowed)):
        ops.import_finance(turnhout["other"], [path], organisation="turnhout", today=TODAY)
    for read in (ops.finance_overview, ops.finance_reconciliation, ops.balance_checks):
        with pytest.raises(NotVisible):
            read(turnhout["other"], turnhout["plan"])
    with pytest.raises(ValidationError) as caught:
        ops.set_balance_input(turnhout["coco"], turnhout["plan"], 2027, opening_result=5.0,
                              unavailable_funds=float("nan"))
    assert set(caught.value.errors) == {"opening_result", "unavailable_funds"}


# --- pure: reconciliation and balance on hand-built inputs ---------------------------------------

def raming(item: str, year: int, amount: float, account: str = "6100000", category=Category.EXPLOITATIE,
           direction=Flow.UITGAVE) -> BudgetLine:
    return BudgetLine(item, LineKind.RAMING, year, category, direction, amount, account=account)


@pytest.mark.unit
def test_the_reconciliation_explains_injected_differences_exactly():
    plan = [PlanAmount("A1", 2026, "uitgave", 1000.0), PlanAmount("A2", 2026, "uitgave", 500.0),
            PlanAmount("A3", 2026, "uitgave", 300.0), PlanAmount("A4", 2026, "uitgave", 200.0)]
    finance = [raming("A1", 2026, 600.2), raming("A1", 2026, 400.2),   # rounding: +0.40 on two lines
               raming("A2", 2026, 650.0),                              # amount: +150
               raming("A4", 2026, 200.0), raming("A4", 2027, 80.0),    # unplanned in 2027: +80
               raming("X9", 2026, 55.0)]                               # not in the plan: +55
    # A3 is missing from the export: −300.
    rec = reconcile(plan, finance, items={"A1", "A2", "A3", "A4"})
    assert rec.by_reason() == pytest.approx({"rounding": 0.4, "amount": 150.0, "unplanned": 80.0,
                                             "not_in_plan": 55.0, "missing": -300.0})
    assert rec.total_difference == pytest.approx(0.4 + 150 + 80 + 55 - 300)
    assert rec.unexplained == pytest.approx(0.0, abs=1e-9)


@pytest.mark.unit
def test_balance_checks_on_a_hand_computed_example():
    lines = [
        # 2026: taxes 1000, staff 700, interest 50, investment 600 with a 400 loan, repayment 100
        raming("R", 2026, 1000.0, "7300000", direction=Flow.ONTVANGST),
        raming("R", 2026, 700.0, "6200000"), raming("R", 2026, 50.0, "6500000"),
        raming("I", 2026, 600.0, "2200000", Category.INVESTERING),
        raming("R", 2026, 400.0, "1710000", Category.FINANCIERING, Flow.ONTVANGST),
        raming("R", 2026, 100.0, "4200000", Category.FINANCIERING),
        # 2027: taxes 900, staff 800, interest 40, repayment 120
        raming("R", 2027, 900.0, "7300000", direction=Flow.ONTVANGST),
        raming("R", 2027, 800.0, "6200000"), raming("R", 2027, 40.0, "6500000"),
        raming("R", 2027, 120.0, "4200000", Category.FINANCIERING),
    ]
    inputs = [BalanceInput(2026, opening_result=200.0, unavailable_funds=100.0),
              BalanceInput(2027, unavailable_funds=50.0, corrected_loan_outlays=150.0)]
    balance = compute_balance(lines, range(2026, 2028), inputs)
    y26, y27 = balance.years
    # 2026: result = (1000 + 400) − (700 + 50 + 600 + 100) = −50; cumulative 200 − 50 = 150;
    # available 150 − 100 = 50; operating balance (without interest) 1000 − 700 = 300;
    # net loan outlays 100 + 50 = 150; AFM 300 − 150 = 150.
    assert (y26.result, y26.cumulative, y26.available) == (-50.0, 150.0, 50.0)
    assert (y26.operating_balance, y26.net_loan_outlays, y26.afm) == (300.0, 150.0, 150.0)
    assert y26.corrected_afm == 150.0 and not y26.corrected_given
    # 2027: result 900 − (800 + 40 + 120) = −60; cumulative 90; available 40; operating 100;
    # net loan outlays 160; AFM −60; corrected: −60 + (120 − 150) = −90.
    assert (y27.result, y27.cumulative, y27.available) == (-60.0, 90.0, 40.0)
    assert (y27.operating_balance, y27.net_loan_outlays, y27.afm, y27.corrected_afm) == (100.0, 160.0, -60.0, -90.0)
    assert balance.available_ok and not balance.afm_ok  # AFM of the last year is negative
    # Drivers by size of effect: the investment (−600) before the rest (1000 + 400 − 700 − 50 − 100 = 550).
    assert [(d.item, d.effect) for d in y26.drivers] == [("I", -600.0), ("R", 550.0)]
