"""`obmi demo`: a fresh database from the data bundled in the package (derived from
../shared/data by scripts/build_demo_data.py) — works offline — with a demo organisation and
one account per role (plus a second plan owner), printed on start.

The demo also holds a FICTIONAL meerjarenplan 2026–2031 (`build_demo_plan`): the shape of a real
BBC 2020 plan (the number of beleidsdoelstellingen, actieplannen per doelstelling, acties per
actieplan and their beleidsdomeinen, taken from ../shared/data/plans/12025.json by
scripts/build_demo_plan.py) with made-up titles ("[fictief] …"), made-up round amounts, made-up
departments and mandatarissen. The real plans carry no licence and are never shipped. Its
follow-up (periods, owners, KPIs, milestones, status updates in every state) is made through the
operations, acting as the demo users, so the audit log reads as it would in use."""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.engine import make_url

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import Settings
from obmi.store import open_database

DEMO_DATA = Path(__file__).parent / "demo_data"
CATALOGUE = Path(__file__).parent / "catalogue" / "statbel.yaml"
FLUVIUS_INDICATORS = DEMO_DATA / "fluvius_indicators.xlsx"
FLUVIUS_UPLOAD = DEMO_DATA / "fluvius_swing.csv"
ORGANISATION = ("demostad", "Demostad (voorbeeldorganisatie)")
# One account per role. The password is public (it is printed): a demo, never an installation.
DEMO_PASSWORD = "demo-wachtwoord-2026"
ACCOUNTS = (("beheerder", "admin", "Beheerder (demo)"), ("coordinator", "coordinator", "Coördinator (demo)"),
            ("analist", "analyst", "Analist (demo)"), ("redacteur", "editor", "Redacteur (demo)"),
            ("lezer", "reader", "Lezer (demo)"), ("eigenaar", "editor", "Eigenaar planitems (demo)"))


def build_demo(settings: Settings, database: Path, echo: Callable[[str], None] = print) -> Context:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    ctx = system_context(open_database(f"sqlite:///{database}"), settings, "demo")
    ops.upgrade_database(ctx)
    return populate_demo(ctx, echo)


def populate_demo(ctx: Context, echo: Callable[[str], None] = print) -> Context:
    """Fill an empty, migrated database (SQLite or PostgreSQL) with the demo: its organisation
    and accounts, the bundled statistics and the fictional plan with its follow-up."""
    ops.add_organisation(ctx, *ORGANISATION, host=True)
    for name, role, display in ACCOUNTS:
        ops.add_user(ctx, name, roles=[role], organisation=ORGANISATION[0], password=DEMO_PASSWORD,
                     display_name=display, email=f"{name}@demostad.invalid")
    echo("importing geography …")
    ops.import_geography(ctx, DEMO_DATA / "geo")
    ops.import_catalogue(ctx, CATALOGUE)
    for path in sorted(DEMO_DATA.glob("observations*.csv.gz")):
        echo(f"importing {path.name} …")
        echo(ops.import_observations(ctx, path).summary().splitlines()[0])
    # Energy per municipality and per wijk of Gent and Antwerpen (2018–2021): a city's Swing
    # indicator table and upload, read as OBMi reads them (scripts/build_demo_fluvius.py).
    echo(f"importing {FLUVIUS_UPLOAD.name} …")
    ops.import_catalogue(ctx, FLUVIUS_INDICATORS)
    echo(ops.import_swing(ctx, FLUVIUS_UPLOAD).summary().splitlines()[0])
    build_demo_plan(ctx, echo)
    echo(f"demo accounts (password {DEMO_PASSWORD}): " + ", ".join(f"{n} ({r})" for n, r, _ in ACCOUNTS))
    return ctx


# --- the fictional plan and its follow-up ------------------------------------------------------

PLAN_FILE = DEMO_DATA / "plan_demo.csv"
PLAN_TITLE = "Meerjarenplan 2026–2031 (fictief voorbeeld)"
OWNERS = ("redacteur", "eigenaar")  # the editors who report on the acties, projects and reguliere werking
# Fictional departments and mandatarissen per beleidsdomein (no real persons or services).
DEPARTMENTS = {"00": "Dienst Financiën (fictief)", "01": "Dienst Bestuurszaken (fictief)",
               "02": "Dienst Mobiliteit (fictief)", "03": "Dienst Milieu (fictief)",
               "04": "Dienst Veiligheid (fictief)", "05": "Dienst Economie (fictief)",
               "06": "Dienst Ruimte en Wonen (fictief)", "07": "Dienst Cultuur en Vrije Tijd (fictief)",
               "08": "Dienst Onderwijs (fictief)", "09": "Dienst Welzijn (fictief)"}
MANDATARISSEN = {"00": "Burgemeester A. Voorbeeld (fictief)", "01": "Burgemeester A. Voorbeeld (fictief)",
                 "02": "Schepen B. Proef (fictief)", "03": "Schepen B. Proef (fictief)",
                 "04": "Burgemeester A. Voorbeeld (fictief)", "05": "Schepen C. Model (fictief)",
                 "06": "Schepen B. Proef (fictief)", "07": "Schepen D. Staal (fictief)",
                 "08": "Schepen C. Model (fictief)", "09": "Schepen E. Demo (fictief)"}
# The statistics the KPIs follow: real Statbel figures of the store. Demostad itself is fictional,
# so its statistic KPIs follow Mechelen (gemeente 12025), whose plan lent the demo plan its shape.
KPI_AREA = ("gemeente", "12025")
REPORTING = ("actie", "project", "reguliere_werking")


def build_demo_plan(ctx: Context, echo: Callable[[str], None] = print) -> int:
    """Import the fictional plan and give it a follow-up as the demo users would: periods
    2026–2027 per semester, owners, departments and mandatarissen, published items, KPIs (real
    statistics, a manual number, steps) with measurements, milestones (late, done late, on time)
    and status updates in every state; some items get no update for 2026-S1, whose deadline has
    passed, so that they show as overdue. Returns the plan's id."""
    echo("importing the fictional demo plan …")
    # Notifications (submitted, approved) go to .eml files beside the demo database (emptied
    # first, like the database), never to an SMTP server: the demo addresses are @demostad.invalid.
    outbox = _outbox(ctx)
    shutil.rmtree(outbox, ignore_errors=True)
    ctx = replace(ctx, settings=ctx.settings.model_copy(update={"smtp_host": "", "mail_outbox": str(outbox)}))
    org = ORGANISATION[0]
    coordinator = _as(ctx, "coordinator")
    owners = {name: _as(ctx, name) for name in OWNERS}
    result = ops.import_plan(coordinator, [PLAN_FILE], organisation=org, title=PLAN_TITLE, entity="gemeente-ocmw",
                             entity_name="Gemeente en OCMW Demostad (fictief)", label="Meerjarenplan (fictief)",
                             motivering="Fictief voorbeeld voor de demo")
    echo(result.summary())
    ops.add_reporting_periods(coordinator, range(2026, 2028), scheme="semester", organisation=org)
    items = {row["code"]: row for row in ops.plan_items(coordinator, result.plan_id).items}
    reporting = [row for row in items.values() if row["kind"] in REPORTING]
    owner_of = {row["code"]: OWNERS[n % 2] for n, row in enumerate(reporting)}
    # Published: the first two beleidsdoelstellingen with their first actieplan and its acties.
    tops = [code for code, row in items.items() if row["kind"] == "beleidsdoelstelling"][:2]
    firsts = [next(c for c, r in items.items() if r["parent_code"] == top) for top in tops]
    published = {*tops, *firsts, *(c for c, r in items.items() if r["parent_code"] in firsts and r["kind"] == "actie")}
    for code, row in items.items():
        domain = row["beleidsdomein"] or "01"
        values: dict[str, Any] = {"department": DEPARTMENTS[domain], "mandataris": MANDATARISSEN[domain],
                                  "publish": code in published}
        if code in owner_of:
            values["owner"] = owner_of[code]
        ops.update_item(coordinator, row["id"], expected_version=row["row_version"], **values)
    ids = {code: row["id"] for code, row in items.items()}

    def owner(code: str) -> Context:
        return owners[owner_of[code]]

    projects = [code for code, row in items.items() if row["kind"] == "project"]
    _kpis(coordinator, owner, ids, items, tops[0], projects[1])
    _milestones(coordinator, owner, ids, projects)
    _status_updates(coordinator, owner, ids, [row["code"] for row in reporting])
    echo(_finance(coordinator, org).summary())
    _report_texts(coordinator, owners[OWNERS[0]], result.plan_id)
    # The early-warning rules run once, so the dashboard, the item pages and the reports show signals.
    echo(ops.evaluate_signals(coordinator, result.plan_id).summary())
    return result.plan_id


def _report_texts(coordinator: Context, writer: Context, plan_id: int) -> None:
    """The opvolgingsrapportering 2026: the financial risks approved, the changed assumptions
    submitted and awaiting the coordinator (fictional texts)."""
    risks = ops.save_report_section(writer, plan_id, "opvolging", "2026", "financiele_risicos",
                                    "Fictieve tekst: de energieprijzen liggen hoger dan geraamd; de aanbesteding van "
                                    "twee projecten kan duurder uitvallen.\n\nDe stad houdt een buffer aan in het "
                                    "budgettair resultaat (fictief).", expected_version=0)
    ops.submit_report_section(writer, risks["id"])
    ops.decide_report_section(coordinator, risks["id"], decision="approve")
    assumptions = ops.save_report_section(writer, plan_id, "opvolging", "2026", "wijzigingen_veronderstellingen",
                                          "Fictieve tekst: de indexsprong van de lonen valt een maand vroeger dan "
                                          "verondersteld.", expected_version=0)
    ops.submit_report_section(writer, assumptions["id"])


# Fictional finance for the fictional plan: the ramingen are the plan's own amounts on an
# operating or an investment account, plus taxes, a loan and its interest and repayments that keep
# the plan in balance; the realisaties of the quarters begun are fixed shares of the raming.
SPEND_SHARES = (0.55, 0.7, 0.85, 1.0, 1.15)  # of the raming by year end, per item in turn


def _finance(coordinator: Context, org: str) -> Any:
    with PLAN_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    years = [int(h) for h in rows[0] if h.isdigit()]
    today = date.today()
    lines: list[list[object]] = []
    spent: dict[int, float] = {year: 0.0 for year in years}
    for n, row in enumerate(r for r in rows if r["type"] in REPORTING):
        account = "6100000" if row["type"] == "reguliere_werking" or n % 3 else "2200000"
        share = SPEND_SHARES[n % len(SPEND_SHARES)]
        for year in years:
            amount = float(row[str(year)] or 0)
            if not amount:
                continue
            spent[year] += amount
            lines.append([row["code"], year, "", account, "U", amount, "raming"])
            if year == today.year:
                begun = (today.month - 1) // 3 + 1
                lines += [[row["code"], year, q, account, "U", round(amount * share / 4, 2), "realisatie"]
                          for q in range(1, begun + 1)]
    general = next(r["code"] for r in rows if r["type"] == "reguliere_werking")
    for year in years:
        taxes = round(spent[year] * 1.08, -3)
        lines.append([general, year, "", "7300000", "O", taxes, "raming"])
        if year == today.year:
            lines += [[general, year, q, "7300000", "O", round(taxes * 0.95 / 4, 2), "realisatie"]
                      for q in range(1, (today.month - 1) // 3 + 2)]
        lines.append([general, year, "", "6500000", "U", 40000, "raming"])
        if year == years[1]:
            lines.append([general, year, "", "1710000", "O", 2000000, "raming"])
        if year > years[1]:
            lines.append([general, year, "", "4200000", "U", 200000, "raming"])
    folder = Path(tempfile.mkdtemp(prefix="obmi-demo-finance-"))
    try:
        path = folder / "financien_demo.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(["actie", "jaar", "kwartaal", "algemene rekening", "uitgave/ontvangst", "bedrag",
                             "raming/realisatie"])
            writer.writerows(lines)
        return ops.import_finance(coordinator, [path], organisation=org)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _outbox(ctx: Context) -> Path:
    """Beside a SQLite demo file; for a server database (PostgreSQL) in the temporary folder,
    never in the working directory."""
    url = make_url(ctx.db.url)
    if url.get_backend_name() == "sqlite":
        return Path(f"{url.database or 'obmi-demo.db'}-outbox")
    return Path(tempfile.gettempdir()) / f"obmi-demo-{url.database}-outbox"


def _as(ctx: Context, name: str) -> Context:
    """`ctx` acting as demo user `name` (resolved as `obmi --as NAME` does)."""
    return ctx.acting_as(ops.identify_cli_user(ctx, name))


def _kpis(coordinator: Context, owner: Callable[[str], Context], ids: dict[str, int],
          items: dict[str, dict[str, Any]], top: str, project: str) -> None:
    culture = next(code for code, row in items.items() if row["kind"] == "actie" and row["beleidsdomein"] == "07")
    care = next(code for code, row in items.items() if row["kind"] == "beleidsdoelstelling"
                and row["title"].endswith("Zorg en opvang"))
    # Statistic KPIs: real Statbel values of the store flow in (Mechelen, see KPI_AREA).
    ops.add_kpi(coordinator, ids[top], kind="statistic", name="Inwoners op 1 januari", unit_label="personen",
                indicator="pop_total", area_level=KPI_AREA[0], area_code=KPI_AREA[1], direction="up",
                baseline=80_000, baseline_period="2009", targets={2026: 86_000})
    ops.add_kpi(coordinator, ids[care], kind="statistic", name="Aandeel 65-plussers", unit_label="%",
                indicator="share_65plus", area_level=KPI_AREA[0], area_code=KPI_AREA[1], direction="down",
                targets={2026: 18.0}, tolerance_pct=10)
    # A manual KPI, measured by the actie's owner (fictional numbers).
    visitors = ops.add_kpi(coordinator, ids[culture], kind="manual", unit_label="bezoekers", direction="up",
                           name="Bezoekers cultuuraanbod sinds 1 januari (fictief)", baseline=40_000,
                           baseline_period="2025", targets={2026: 50_000, 2027: 55_000, 2028: 60_000})
    for period, value, note in (("2026-S1", 21_000, "Fictieve telling op 30 juni"),
                                ("2026-S2", 44_000, "Fictieve tussentijdse telling op 30 november")):
        ops.record_measurement(owner(culture), visitors["id"], period, value=value, note=note)
    # A steps KPI on a project: which phase has been reached.
    steps = ops.add_kpi(coordinator, ids[project], kind="steps", name="Fase van het bouwproject (fictief)",
                        steps=["studie", "aanbesteding", "uitvoering", "opgeleverd"],
                        target_steps={2026: "aanbesteding", 2027: "uitvoering", 2028: "opgeleverd"})
    for period, step in (("2026-S1", "studie"), ("2026-S2", "aanbesteding")):
        ops.record_measurement(owner(project), steps["id"], period, step=step)


def _milestones(coordinator: Context, owner: Callable[[str], Context], ids: dict[str, int],
                projects: list[str]) -> None:
    """On the projects: one overdue, one done late, one done on time, two still to come."""
    first, second, third = projects[:3]

    def add(code: str, title: str, start: str, end: str, **kwargs: Any) -> dict[str, Any]:
        return ops.add_milestone(coordinator, ids[code], title=f"{title} (fictief)", planned_start=start,
                                 planned_end=end, owner=kwargs.pop("owner", None), **kwargs)

    study = add(first, "Studie afgerond", "2026-01-15", "2026-05-31")
    ops.update_milestone(owner(first), study["id"], expected_version=study["row_version"],
                         actual_start="2026-01-20", actual_end="2026-07-10")  # done, six weeks late
    design = add(first, "Ontwerp goedgekeurd", "2026-06-01", "2026-10-31", depends_on=[study["id"]])
    ops.update_milestone(owner(first), design["id"], expected_version=design["row_version"],
                         actual_start="2026-07-15")  # started, not done: overdue since 31 October
    tender = add(second, "Aanbesteding gepubliceerd", "2026-03-01", "2026-09-30")
    ops.update_milestone(owner(second), tender["id"], expected_version=tender["row_version"],
                         actual_start="2026-03-02", actual_end="2026-09-18")  # on time
    add(second, "Gunning", "2026-10-01", "2027-02-28", depends_on=[tender["id"]])
    add(third, "Eerste versie digitaal loket", "2026-09-01", "2027-06-30")


def _status_updates(coordinator: Context, owner: Callable[[str], Context], ids: dict[str, int],
                    codes: list[str]) -> None:
    """2026-S1 (deadline passed): most items approved, one returned, one draft, two submitted
    and the rest none (overdue). 2026-S2 (open): a few drafts, submissions and "geen wijziging"."""
    statuses = ("op_schema", "op_schema", "risico", "vertraagd", "op_schema", "afgerond", "niet_gestart")
    first = codes[: len(codes) * 2 // 3]
    returned, draft, submitted = first[-4], first[-3], first[-2:]
    for n, code in enumerate(first):
        status = statuses[n % len(statuses)]
        progress = {"niet_gestart": 0, "afgerond": 100}.get(status, 10 + (n * 15) % 60)
        knelpunten = "Fictief knelpunt: vertraging bij de leverancier." if status in ("risico", "vertraagd") else ""
        update = ops.save_status_update(owner(code), ids[code], period="2026-S1", status=status, progress=progress,
                                        narrative=f"Fictieve stand van zaken voor {code}.", knelpunten=knelpunten,
                                        submit=code != draft).update
        if code in (draft, *submitted):
            continue
        if code == returned:
            ops.decide_status_update(coordinator, update["id"], approve=False,
                                     comment="Graag de voortgang toelichten (fictieve opmerking).")
            continue
        ops.decide_status_update(coordinator, update["id"], approve=True)
    # 2026-S2: the current period, open until its deadline.
    approved = [c for c in first if c not in (returned, draft, *submitted)]
    for code in approved[:3]:
        ops.confirm_no_change(owner(code), ids[code], period="2026-S2")
    done = ops.confirm_no_change(owner(approved[3]), ids[approved[3]], period="2026-S2").update
    ops.decide_status_update(coordinator, done["id"], approve=True, comment="Geen wijziging: akkoord.")
    ops.save_status_update(owner(approved[4]), ids[approved[4]], period="2026-S2", status="op_schema", progress=55,
                           narrative="Fictieve tussenstand, nog niet ingediend.")
