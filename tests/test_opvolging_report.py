"""The opvolgingsrapportering and the college report (issue 8, point 5) through the operations on
SQLite and PostgreSQL, with the real multi-year plan of Turnhout (13040) and a finance export
written from that plan's own yearly amounts (the one of the finance acceptance test): the PDF has
the legal sections in order with the right figures (pdftotext), the XLSX has the same numbers,
both computed independently here from the export; text sections go draft → submitted →
approved (or returned) and only approved text reaches a report; who may read, write and approve."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.errors import Conflict, NotAllowed, NotVisible, ValidationError
from obmi.plans.workflow import StaleEdit
from obmi.reports import charts
from test_finance_acceptance import OBMI, PLAN, TODAY, export_rows, run_cli, write

from conftest import system
from factories import org, user

RISK_TEXT = "De energieprijzen blijven hoger dan geraamd; de stad legt een reserve aan van twee miljoen euro."
OWN_TITLE = "Personeelsbezetting"


def pdf_text(data: bytes) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is required for the PDF tests (Debian package poppler-utils)")
    done = subprocess.run([tool, "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def euro(value: float) -> str:
    return charts.format_number(value, 0, "nl")


def first_semester(rows: list[list[object]]) -> dict[str, float]:
    """The figures of 2026 computed from the export itself: ramingen of the year, realisaties of
    quarters 1–2 (quarter 3 lies after the first semester), split by account class."""
    out = {"planned": 0.0, "realised": 0.0, "planned_61": 0.0, "planned_22": 0.0}
    for _actie, year, quarter, account, _direction, amount, kind in rows:
        if int(year) != 2026:
            continue
        if kind == "raming":
            out["planned"] += float(amount)
            out[f"planned_{str(account)[:2]}"] += float(amount)
        elif int(quarter) <= 2:
            out["realised"] += float(amount)
    return out


@pytest.fixture
def city(empty_db, tmp_path):
    root = system(empty_db)
    org(root, "turnhout", "Turnhout")
    org(root, "mechelen")
    coco = user(root, "coco", "coordinator", org="turnhout", password=None)
    an = user(root, "an", "editor", org="turnhout", password=None)
    lezer = user(root, "lezer", "reader", org="turnhout", password=None)
    other = user(root, "mecoco", "coordinator", org="mechelen", password=None)
    plan_id = ops.import_plan(coco, [PLAN], organisation="turnhout").plan_id
    ops.add_reporting_periods(coco, range(2026, 2028), organisation="turnhout")
    rows = export_rows()
    ops.import_finance(coco, [write(tmp_path / "export.csv", rows)], organisation="turnhout", today=TODAY)
    acties = [i for i in ops.plan_items(coco, plan_id).items if i["kind"] == "actie" and "/" not in i["code"]]
    late, fine = acties[0], acties[1]
    for item in (late, fine):
        ops.update_item(coco, item["id"], expected_version=item["row_version"], priority=True, owner="an")
    for item, status, progress, narrative in (
            (late, "vertraagd", 20, "De aanbesteding liep drie maanden vertraging op."),
            (fine, "op_schema", 50, "De werken lopen volgens planning.")):
        update = ops.save_status_update(an, item["id"], period="2026-S1", status=status, progress=progress,
                                        narrative=narrative, submit=True).update
        ops.decide_status_update(coco, update["id"], approve=True)
    return {"db": empty_db, "coco": coco, "an": an, "lezer": lezer, "other": other, "plan": plan_id, "rows": rows,
            "late": late, "fine": fine}


def approve(city, code: str, body: str, *, title: str | None = None) -> dict:
    """Write a section as the editor, submit it, approve it as the coordinator."""
    plan = city["plan"]
    if title:
        row = ops.add_report_section(city["an"], plan, "opvolging", "2026", title, body=body)
    else:
        row = ops.save_report_section(city["an"], plan, "opvolging", "2026", code, body, expected_version=0)
    row = ops.submit_report_section(city["an"], row["id"])
    return ops.decide_report_section(city["coco"], row["id"], decision="approve")


def test_the_pdf_has_the_legal_sections_in_order_with_the_right_figures(city):
    approve(city, "financiele_risicos", RISK_TEXT)
    approve(city, "", "Twaalf vacatures zijn nog niet ingevuld.", title=OWN_TITLE)
    ops.save_report_section(city["an"], city["plan"], "opvolging", "2026", "wijzigingen_veronderstellingen",
                            "Nog niet klaar: een ontwerptekst.", expected_version=0)
    pdf = ops.opvolging_report(city["lezer"], 2026, organisation="turnhout")
    if os.environ.get("OBMI_TEST_KEEP_PDF"):  # look at it: OBMI_TEST_KEEP_PDF=/tmp/opvolging.pdf
        Path(os.environ["OBMI_TEST_KEEP_PDF"]).write_bytes(pdf)
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    headings = ["Kerncijfers", "Signalen", "Stand van zaken van de prioritaire actieplannen en acties",
                "Geraamde en gerealiseerde uitgaven en ontvangsten per beleidsdomein",
                "Geraamde en gerealiseerde uitgaven en ontvangsten per economische aard", "Toelichtingen",
                "Gewijzigde veronderstellingen", "Gewijzigde financiële risico's", OWN_TITLE,
                "Detail: alle acties per beleidsdoelstelling"]
    positions = [flat.find(h) for h in headings]
    assert -1 not in positions, [h for h, p in zip(headings, positions) if p == -1]
    assert positions == sorted(positions), "key figures and signals first, details after"
    figures = first_semester(city["rows"])
    assert figures["realised"] / figures["planned"] == pytest.approx(0.25, abs=1e-4)
    assert "25,0 %" in flat  # the bestedingsgraad of the first semester
    assert euro(figures["planned"]) in flat and euro(figures["realised"]) in flat
    assert euro(figures["planned_61"]) in flat and euro(figures["planned_22"]) in flat  # T2 rows
    assert "Realisaties t.e.m. kwartaal 2 van 2026" in flat  # quarter 3 is after the semester
    # The prioritaire acties with their approved status and toelichting; only approved texts.
    assert city["late"]["code"] in flat and "Vertraagd" in flat
    assert "De aanbesteding liep drie maanden vertraging op." in flat
    assert RISK_TEXT in flat and "Twaalf vacatures" in flat
    assert "ontwerptekst" not in flat and "Nog geen goedgekeurde tekst." in flat
    # A draft report for its writers shows the draft, marked.
    draft = " ".join(pdf_text(ops.opvolging_report(city["an"], 2026, organisation="turnhout",
                                                   include_drafts=True)).split())
    assert "ontwerptekst" in draft and "Gewijzigde veronderstellingen (ontwerp)" in draft
    english = " ".join(pdf_text(ops.opvolging_report(city["lezer"], 2026, organisation="turnhout",
                                                     lang="en")).split())
    assert "Key figures" in english and "Changed financial risks" in english and "25.0 %" in english


def test_the_xlsx_has_the_numbers_of_the_pdf(city):
    approve(city, "financiele_risicos", RISK_TEXT)
    data = ops.opvolging_report(city["coco"], 2026, plan_id=city["plan"], fmt="xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[:2] == ["Kerncijfers", "Signalen"]
    key = {row[0]: row[1] for row in book["Kerncijfers"].iter_rows(min_row=2, values_only=True)}
    figures = first_semester(city["rows"])
    assert key["Uitgaven Raming"] == pytest.approx(figures["planned"], abs=0.005)
    assert key["Uitgaven Realisatie"] == pytest.approx(figures["realised"], abs=0.005)
    assert key["Bestedingsgraad uitgaven"] == pytest.approx(figures["realised"] / figures["planned"])
    assert key["Prioritaire acties"] == 2
    j1 = list(book["J1 beleidsdomein"].iter_rows(min_row=2, values_only=True))
    by_category = {}
    for _domain, category, *money in j1:
        if category in ("Exploitatie", "Investeringen"):
            by_category[category] = by_category.get(category, 0.0) + money[0]
    assert by_category["Exploitatie"] == pytest.approx(figures["planned_61"], abs=0.01)
    assert by_category["Investeringen"] == pytest.approx(figures["planned_22"], abs=0.01)
    assert j1[-1][0] == "Totaal" and j1[-1][2] == pytest.approx(figures["planned"], abs=0.01)
    t2 = {row[1]: row for row in book["T2 economische aard"].iter_rows(min_row=2, values_only=True)}
    assert t2["Goederen en diensten"][2] == pytest.approx(figures["planned_61"], abs=0.01)
    assert t2["Goederen en diensten"][3] == pytest.approx(figures["realised"], abs=0.01)
    assert t2["Terreinen en gebouwen"][2] == pytest.approx(figures["planned_22"], abs=0.01)
    # The PDF prints the same numbers, rounded to the euro.
    flat = " ".join(pdf_text(ops.opvolging_report(city["coco"], 2026, plan_id=city["plan"])).split())
    for value in (key["Uitgaven Raming"], key["Uitgaven Realisatie"], t2["Terreinen en gebouwen"][2]):
        assert euro(value) in flat
    priority = {row[0]: row for row in book["Prioritair"].iter_rows(min_row=2, values_only=True)}
    assert priority[city["late"]["code"]][3] == "Vertraagd" and priority[city["fine"]["code"]][4] == 0.5
    texts = {row[0]: row for row in book["Toelichtingen"].iter_rows(min_row=2, values_only=True)}
    assert texts["financiele_risicos"][3] == RISK_TEXT and not texts["wijzigingen_veronderstellingen"][3]


def test_sections_go_through_the_workflow_and_only_approved_text_is_read(city):
    an, coco, lezer, plan = city["an"], city["coco"], city["lezer"], city["plan"]
    row = ops.save_report_section(an, plan, "opvolging", "2026", "financiele_risicos", "Eerste versie.",
                                  expected_version=0)
    assert row["state"] == "draft" and row["row_version"] == 1
    with pytest.raises(StaleEdit):  # based on an old version: nothing is overwritten
        ops.save_report_section(coco, plan, "opvolging", "2026", "financiele_risicos", "Andere tekst.",
                                expected_version=0)
    row = ops.submit_report_section(an, row["id"])
    assert row["state"] == "submitted"
    with pytest.raises(NotAllowed):  # an editor writes, a coordinator approves
        ops.decide_report_section(an, row["id"], decision="approve")
    with pytest.raises(ValidationError) as caught:
        ops.decide_report_section(coco, row["id"], decision="return")
    assert "comment" in caught.value.errors
    row = ops.decide_report_section(coco, row["id"], decision="return", comment="Cijfer van de reserve ontbreekt.")
    assert row["state"] == "returned"
    row = ops.save_report_section(an, plan, "opvolging", "2026", "financiele_risicos", RISK_TEXT,
                                  expected_version=row["row_version"])
    assert row["state"] == "draft"
    seen = {r["code"]: r for r in ops.list_report_sections(lezer, plan, "opvolging", "2026")}
    assert seen["financiele_risicos"]["body"] == "" and seen["financiele_risicos"]["state"] is None
    ops.submit_report_section(an, row["id"])
    row = ops.decide_report_section(coco, row["id"], decision="approve")
    seen = {r["code"]: r for r in ops.list_report_sections(lezer, plan, "opvolging", "2026")}
    assert seen["financiele_risicos"]["body"] == RISK_TEXT and seen["financiele_risicos"]["state"] == "approved"
    assert list(seen)[:2] == ["wijzigingen_veronderstellingen", "financiele_risicos"]
    # Every step is audited with the text before and after.
    audits = ops.list_audit(system(city["db"]), ops.AuditFilter(resource_type="report_section", outcome="ok")).data
    assert len(audits) == 6  # save, submit, return, save, submit, approve
    # Own sections: titled, unique, after the legal ones; bad input field by field.
    own = ops.add_report_section(an, plan, "opvolging", "2026", OWN_TITLE)
    assert own["code"] == "personeelsbezetting"
    with pytest.raises(Conflict):
        ops.add_report_section(an, plan, "opvolging", "2026", OWN_TITLE)
    with pytest.raises(ValidationError) as caught:
        ops.add_report_section(an, plan, "opvolging", "2026", "", code="Niet Goed!")
    assert set(caught.value.errors) == {"title_nl"}
    with pytest.raises(ValidationError) as caught:
        ops.save_report_section(an, plan, "opvolging", "2026", "financiele_risicos", "x" * 20_001,
                                expected_version=4)
    assert set(caught.value.errors) == {"body"}
    with pytest.raises(ValidationError):
        ops.list_report_sections(an, plan, "jaarrekening", "2026")


def test_who_may_read_write_and_approve_reports(city):
    plan = city["plan"]
    assert ops.opvolging_report(city["lezer"], 2026, plan_id=plan)[:5] == b"%PDF-"
    with pytest.raises(NotAllowed):  # drafts are for the writers
        ops.opvolging_report(city["lezer"], 2026, plan_id=plan, include_drafts=True)
    with pytest.raises(NotAllowed):
        ops.save_report_section(city["lezer"], plan, "opvolging", "2026", "financiele_risicos", "x",
                                expected_version=0)
    for call in (lambda c: ops.opvolging_report(c, 2026, plan_id=plan),
                 lambda c: ops.list_report_sections(c, plan, "opvolging", "2026"),
                 lambda c: ops.save_report_section(c, plan, "opvolging", "2026", "financiele_risicos", "x",
                                                   expected_version=0)):
        with pytest.raises(NotVisible):
            call(city["other"])
    with pytest.raises(ValidationError) as caught:
        ops.opvolging_report(city["coco"], 2040, plan_id=plan)
    assert "year" in caught.value.errors
    with pytest.raises(ValidationError):
        ops.opvolging_report(city["coco"], 2026, plan_id=plan, fmt="docx")


def test_the_college_report_covers_one_period(city):
    row = ops.save_report_section(city["an"], city["plan"], "college", "2026-S1", "toelichting",
                                  "Het college neemt kennis van de vertraging.", expected_version=0)
    ops.submit_report_section(city["an"], row["id"])
    ops.decide_report_section(city["coco"], row["id"], decision="approve")
    flat = " ".join(pdf_text(ops.college_report(city["lezer"], "2026-S1", organisation="turnhout")).split())
    assert "RAPPORTERING AAN HET COLLEGE" in flat and "Het college neemt kennis van de vertraging." in flat
    assert "De aanbesteding liep drie maanden vertraging op." in flat
    figures = first_semester(city["rows"])
    assert euro(figures["realised"]) in flat  # 2026-S1 ends on 30 June: realisaties of quarters 1–2
    # The next period has no approved update yet: the acties say so (and the 2026-S1 text is gone).
    later = load_workbook(io.BytesIO(ops.college_report(city["lezer"], "2026-S2", organisation="turnhout",
                                                        fmt="xlsx")))
    priority = {row[0]: row for row in later["Prioritair"].iter_rows(min_row=2, values_only=True)}
    assert priority[city["late"]["code"]][3] == "geen goedgekeurde rapportering"
    assert "vertraging" not in " ".join(str(c) for row in later["Prioritair"].iter_rows(values_only=True) for c in row)


def test_the_command_line_writes_pdf_and_xlsx_and_refuses_other_formats(city, tmp_path):
    db = city["db"]
    out = run_cli(db, "coco", "report", "opvolging", "--org", "turnhout", "--year", "2026", "--out",
                  str(tmp_path / "opvolging.pdf"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "opvolging.pdf").read_bytes()[:5] == b"%PDF-"
    out = run_cli(db, "coco", "report", "opvolging", "--org", "turnhout", "--period", "2026-S1", "--out",
                  str(tmp_path / "opvolging.xlsx"))
    assert out.exit_code == 0, out.output
    assert load_workbook(tmp_path / "opvolging.xlsx").sheetnames[0] == "Kerncijfers"
    # A process of its own: a wrong format is a user error (exit code 2, no traceback, no file).
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(OBMI_DATABASE_URL=make_url(db.url).render_as_string(hide_password=False), OBMI_USER="coco")
    done = subprocess.run([str(OBMI), "report", "opvolging", "--org", "turnhout", "--year", "2026", "--out",
                           str(tmp_path / "opvolging.docx")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr and ".pdf or .xlsx" in done.stderr
    assert not (tmp_path / "opvolging.docx").exists()
    text = tmp_path / "risico.txt"
    text.write_text(RISK_TEXT, encoding="utf-8")
    out = run_cli(db, "an", "report", "write", "financiele_risicos", "--org", "turnhout", "--period", "2026",
                  "--text", str(text), "--submit")
    assert out.exit_code == 0 and "submitted" in out.output, out.output
    listed = run_cli(db, "coco", "report", "sections", "--org", "turnhout", "--period", "2026")
    section = next(line.split("\t") for line in listed.output.splitlines() if "financiele_risicos" in line)
    out = run_cli(db, "coco", "report", "decide", section[0], "approve")
    assert out.exit_code == 0 and "approved" in out.output, out.output
    out = run_cli(db, "coco", "report", "college", "--org", "turnhout", "--period", "2026-S1", "--out",
                  str(tmp_path / "college.pdf"))
    assert out.exit_code == 0, out.output
    assert RISK_TEXT not in pdf_text((tmp_path / "college.pdf").read_bytes())  # another report's text
    assert RISK_TEXT in " ".join(pdf_text(ops.opvolging_report(city["lezer"], 2026, plan_id=city["plan"])).split())


def test_a_large_report_compiles_in_a_process_of_its_own_with_the_same_text(city, monkeypatch):
    """Typst's memo never shrinks inside a process: big reports compile in a child process."""
    from obmi.reports import opvolging_pdf, pdf
    inline = " ".join(pdf_text(ops.opvolging_report(city["lezer"], 2026, plan_id=city["plan"])).split())
    child, calls = pdf._compile_in_child, []

    def counted(*args):
        calls.append(args[2])
        return child(*args)

    monkeypatch.setattr(opvolging_pdf, "ISOLATE_ABOVE_ACTIES", 0)
    monkeypatch.setattr(pdf, "_compile_in_child", counted)
    isolated = " ".join(pdf_text(ops.opvolging_report(city["lezer"], 2026, plan_id=city["plan"])).split())
    assert len(calls) == 1 and isolated == inline
