"""The role × operation matrix: every operation of the registry, called by every kind of actor —
the anonymous public, each role of the host organisation, two roles of another organisation and
a read-only API token — is allowed or refused exactly as the permission table says, on SQLite
and PostgreSQL. Writes run with dry_run=True (the permission check, the body and the pipeline
all run; the transaction is rolled back), so one world serves every call.

Refusals are NotAuthenticated for the public, NotFound when the object belongs to another
organisation, NotAllowed otherwise; each refused write leaves an audit record."""

from __future__ import annotations

import email
import itertools
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from obmi import operations as ops
from obmi.auth.oidc import ExternalIdentity
from obmi.auth.roles import Role
from obmi.context import Context
from obmi.errors import NotAllowed, NotAuthenticated, NotFound
from obmi.operations import AuditFilter, ObservationQuery
from obmi.plans.sheet import write_sheet
from obmi.publish.selection_table import Selection
from obmi.settings import load_settings
from obmi.store.tables import audit_event

from conftest import GEO, STATBEL, system
from factories import PASSWORD, as_user, catalogue, observations, org, user

NEW_PASSWORD = "nog-een-ander-wachtwoord"
INCOME = STATBEL / "TF_PSNL_INC_TAX_MUNTY.txt.gz"  # the smallest real Statbel file
# Real 2015 population of three municipalities (Statbel TF_SOC_POP_STRUCT_2015), used as the
# values of the host organisation's own indicator.
OWN_VALUES = {"44021": 253266, "11002": 513570, "31005": 117915}

ANON, READER, ANALYST, EDITOR, COORD, ORG_ADMIN, ADMIN = ("anon", "reader", "analyst", "editor", "coordinator",
                                                           "org_admin", "admin")
COORD_B, ORG_ADMIN_B, READ_TOKEN = "coordinator_b", "org_admin_b", "read_token"
ALL = frozenset({ANON, READER, ANALYST, EDITOR, COORD, ORG_ADMIN, ADMIN, COORD_B, ORG_ADMIN_B, READ_TOKEN})
SIGNED_IN = ALL - {ANON}
WRITERS_SIGNED_IN = SIGNED_IN - {READ_TOKEN}  # a read-only token may not write, not even its own session
STAD_MEMBERS = frozenset({READER, ANALYST, EDITOR, COORD, ORG_ADMIN, ADMIN, READ_TOKEN})
STAD_STAFF = frozenset({ADMIN, COORD, ORG_ADMIN})
ITEM_REPORTERS = STAD_STAFF | {EDITOR}  # the editor owns the plan's action


@dataclass
class World:
    """One database with two organisations, one user per role, data, a token, a run, a backup."""
    actors: dict[str, Context]
    tmp: Path
    small_geo: Path
    catalogue_file: Path
    observations_file: Path
    backup: Path
    run_id: int
    spare_token: int
    reset_secret: str
    plan: dict[str, Any]
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    @property
    def swing_file(self) -> Path:
        """A Swing upload of the host organisation's own indicator (the real 2014 population of Gent)."""
        path = self.tmp / "upload.csv"
        if not path.exists():
            path.write_text("period;geolevel;geoitem;stad_eigen_telling\n2014;gemeente;44021;251133\n",
                            encoding="utf-8")
        return path


def _reset_secret(outbox: Path) -> str:
    [mail] = list(outbox.glob("*.eml"))
    text = email.message_from_bytes(mail.read_bytes()).get_payload(decode=True).decode()
    return re.search(r"/wachtwoord/(\S+)", text).group(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, db_factories, templates, tmp_path_factory, shared_data) -> World:
    tmp = tmp_path_factory.mktemp("matrix")
    settings = load_settings({}, mail_outbox=str(tmp / "outbox"))
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "geo", lambda ctx: ops.import_geography(ctx, GEO)))
    root = system(db, settings)
    org(root, "stad", "Stad", host=True)
    org(root, "buur", "Buurgemeente")
    actors = {ANON: Context(db, settings)}
    for name, role in ((READER, "reader"), (ANALYST, "analyst"), (EDITOR, "editor"), (COORD, "coordinator"),
                       (ORG_ADMIN, "org_admin"), (ADMIN, "admin")):
        actors[name] = user(root, name, role, org="stad")
    actors[COORD_B] = user(root, "coordinator_b", "coordinator", org="buur")
    actors[ORG_ADMIN_B] = user(root, "org_admin_b", "org_admin", org="buur")
    token = ops.create_token(root, COORD, scope="read", name="matrix").token
    actors[READ_TOKEN] = Context(db, settings, ops.authenticate_token(Context(db, settings), token))
    spare = ops.create_token(root, READER, scope="read", name="to revoke").id
    definition = {"code": "stad_eigen_telling", "name_nl": "Eigen telling", "is_count": True, "unit": "personen",
                  "organisation": "stad", "owner": EDITOR}
    catalogue(actors[COORD], tmp, definition)
    rows = [{"indicator": "stad_eigen_telling", "level": "gemeente", "area": code, "period": "2015", "value": v}
            for code, v in OWN_VALUES.items()]
    run_id = observations(actors[COORD], tmp, rows).import_id
    ops.import_statbel(root, STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz")
    small_geo = tmp / "small_geo"
    (small_geo / "area_definitions").mkdir(parents=True)
    shutil.copy(GEO / "area_definitions" / "gewest.xlsx", small_geo / "area_definitions")
    ops.send_password_reset(root, READER)
    backup = tmp / "world.sqlite"
    ops.backup_database(root, backup)
    catalogue_file = tmp / "update.yaml"
    catalogue_file.write_text("indicators:\n  - {code: stad_eigen_telling, name_nl: Eigen telling (bijgewerkt), "
                              "is_count: true, unit: personen, organisation: stad, owner: editor}\n", encoding="utf-8")
    observations_file = tmp / "more.csv"
    observations_file.write_text("indicator,level,area,period,value\nstad_eigen_telling,gemeente,44021,2014,251133\n",
                                 encoding="utf-8")
    return World(actors, tmp, small_geo, catalogue_file, observations_file, backup, run_id, spare,
                 _reset_secret(tmp / "outbox"), _plan_world(actors, tmp))


def _plan_world(actors: dict[str, Context], tmp: Path) -> dict[str, Any]:
    """The host organisation's plan: one action owned by the editor, with a draft (2026-S1) and a
    submitted (2026-S2) status update, an attachment, a KPI and a milestone."""
    coordinator = actors[COORD]
    plan_file = tmp / "plan.csv"
    plan_file.write_text("type,code,parent,title_short,beleidsveld,2026,2027\n"
                         "beleidsdoelstelling,BD1,,Een veilige stad,,,\n"
                         "actieplan,AP1,BD1,Veiligheid,,,\n"
                         "actie,AC1,AP1,Meer straatverlichting,0670,100000,120000\n", encoding="utf-8")
    result = ops.import_plan(coordinator, [plan_file], organisation="stad")
    ops.add_reporting_periods(coordinator, range(2026, 2028), organisation="stad")
    item = next(i for i in ops.plan_items(coordinator, result.plan_id).items if i["code"] == "AC1")
    ops.update_item(coordinator, item["id"], expected_version=item["row_version"], owner=EDITOR)
    editor = actors[EDITOR]
    draft = ops.save_status_update(editor, item["id"], period="2026-S1", status="op_schema", progress=10).update
    submitted = ops.save_status_update(editor, item["id"], period="2026-S2", status="risico", progress=20,
                                       submit=True).update
    attachment = ops.add_attachment(editor, draft["id"], "nota.txt", b"Een korte nota.\n")
    kpi = ops.add_kpi(coordinator, item["id"], kind="manual", name="Lichtpunten", targets={2027: 120})
    milestone = ops.add_milestone(coordinator, item["id"], title="Aanbesteding", planned_end="2027-03-31")
    evaluated = ops.evaluate_signals(coordinator, result.plan_id, today=date(2027, 6, 1))  # the milestone is late
    signal = next(x for x in evaluated.signals if x["rule"] == "milestone_overdue")
    finance = tmp / "finance.csv"
    finance.write_text("actie;jaar;algemene rekening;uitgave/ontvangst;bedrag;raming/realisatie\n"
                       "AC1;2026;2200000;U;100000;raming\n", encoding="utf-8")
    section = ops.save_report_section(editor, result.plan_id, "opvolging", "2026", "wijzigingen_veronderstellingen",
                                      "De rente stijgt sneller dan verwacht.", expected_version=0)
    risks = ops.save_report_section(editor, result.plan_id, "opvolging", "2026", "financiele_risicos",
                                    "Geen nieuwe risico's.", expected_version=0)
    risks = ops.submit_report_section(editor, risks["id"])
    sheet = tmp / "sheet.xlsx"  # no rows: whoever uploads it changes nothing (each row needs status.report)
    sheet.write_bytes(write_sheet([], period="2026-S2"))
    return {"file": plan_file, "id": result.plan_id, "item": item["id"], "draft": draft["id"],
            "submitted": submitted["id"], "attachment": attachment["id"], "kpi": kpi["id"],
            "milestone": milestone["id"], "sheet": sheet, "signal": signal["id"],
            "finance": finance, "section": section["id"], "submitted_section": risks["id"]}


def _identity(w: World) -> ExternalIdentity:
    return ExternalIdentity(w.fresh("sso-"), "https://idp.example", w.fresh("sso-user-"), "", "SSO",
                            frozenset({Role.READER}))


# An area report the world can show: it has the 2015 population of the regions, nothing else.
AREA_REPORT = ("title_nl: Bevolking\nlevels: [gewest]\nsections:\n  - heading_nl: Bevolking\n"
               "    text_nl: '{gebied}: {waarde:pop_total}'\n    blocks:\n      - {type: table, indicators: [pop_total]}\n")


def _with_report(c: Context, w: World) -> Context:
    """The actor on an installation whose content folder holds AREA_REPORT (reports/bevolking.yaml)."""
    folder = w.tmp / "content"
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    (folder / "reports" / "bevolking.yaml").write_text(AREA_REPORT, encoding="utf-8")
    return replace(c, settings=c.settings.model_copy(update={"content_dir": str(folder)}))


# Every operation: how to call it with valid arguments, and who may. Writes are dry runs.
CALLS: dict[str, tuple[Callable[[Context, World], Any], frozenset[str]]] = {
    # accounts
    "add_organisation": (lambda c, w: ops.add_organisation(c, w.fresh("org-"), "Nieuw", dry_run=True), {ADMIN}),
    "list_organisations": (lambda c, w: ops.list_organisations(c), SIGNED_IN),
    "add_user": (lambda c, w: ops.add_user(c, w.fresh("nieuw"), roles=["reader"], organisation="stad",
                                           password=PASSWORD, dry_run=True), {ADMIN, ORG_ADMIN}),
    "list_users": (lambda c, w: ops.list_users(c), {ADMIN, ORG_ADMIN, ORG_ADMIN_B}),
    "update_user": (lambda c, w: ops.update_user(c, READER, groups=["wijkteam"], dry_run=True), {ADMIN, ORG_ADMIN}),
    "set_password": (lambda c, w: ops.set_password(c, READER, NEW_PASSWORD, dry_run=True), {ADMIN, ORG_ADMIN}),
    "send_password_reset": (lambda c, w: ops.send_password_reset(c, READER, dry_run=True), {ADMIN, ORG_ADMIN}),
    "reset_password": (lambda c, w: ops.reset_password(c, w.reset_secret, NEW_PASSWORD, dry_run=True),
                       ALL - {READ_TOKEN}),
    "change_password": (lambda c, w: ops.change_password(c, PASSWORD, NEW_PASSWORD, dry_run=True), WRITERS_SIGNED_IN),
    "login": (lambda c, w: ops.login(c, READER, PASSWORD, dry_run=True), ALL - {READ_TOKEN}),
    "login_external": (lambda c, w: ops.login_external(c, _identity(w), dry_run=True), ALL - {READ_TOKEN}),
    "logout": (lambda c, w: ops.logout(c, dry_run=True), WRITERS_SIGNED_IN),
    "authenticate_session": (lambda c, w: ops.authenticate_session(c, "no-such-session-secret", dry_run=True),
                             ALL - {READ_TOKEN}),
    "identify_cli_user": (lambda c, w: ops.identify_cli_user(c, READER), frozenset()),
    "create_token": (lambda c, w: ops.create_token(c, READER, scope="read", dry_run=True), {ADMIN, ORG_ADMIN}),
    "list_tokens": (lambda c, w: ops.list_tokens(c), {ADMIN, ORG_ADMIN, ORG_ADMIN_B}),
    "revoke_token": (lambda c, w: ops.revoke_token(c, w.spare_token, dry_run=True), {ADMIN, ORG_ADMIN}),
    # beleidsopvolging
    "import_plan": (lambda c, w: ops.import_plan(c, [w.plan["file"]], organisation="stad", dry_run=True), STAD_STAFF),
    "list_plans": (lambda c, w: ops.list_plans(c), SIGNED_IN),
    "plan_summary": (lambda c, w: ops.plan_summary(c, organisation="stad"), STAD_MEMBERS),
    "plan_info": (lambda c, w: ops.plan_info(c, w.plan["id"]), STAD_MEMBERS),
    "compare_plan_versions": (lambda c, w: ops.compare_plan_versions(c, w.plan["id"], 1, 1), STAD_MEMBERS),
    "plan_items": (lambda c, w: ops.plan_items(c, w.plan["id"]), STAD_MEMBERS),
    "item_detail": (lambda c, w: ops.item_detail(c, w.plan["item"]), STAD_MEMBERS),
    "college_dashboard": (lambda c, w: ops.college_dashboard(c, w.plan["id"]), STAD_MEMBERS),
    "due_updates": (lambda c, w: ops.due_updates(c, w.plan["id"]), STAD_MEMBERS),
    "list_reporting_periods": (lambda c, w: ops.list_reporting_periods(c, organisation="stad"), STAD_MEMBERS),
    "export_status_sheet": (lambda c, w: ops.export_status_sheet(c, organisation="stad", period="2026-S2"),
                            STAD_MEMBERS),
    "get_attachment": (lambda c, w: ops.get_attachment(c, w.plan["attachment"]), STAD_MEMBERS),
    "public_plan": (lambda c, w: ops.public_plan(c, "stad"), ALL),
    "public_plans": (lambda c, w: ops.public_plans(c), ALL),
    "followup_settings": (lambda c, w: ops.followup_settings(c, organisation="stad"), STAD_MEMBERS),
    "plan_owners": (lambda c, w: ops.plan_owners(c, organisation="stad"), STAD_MEMBERS),
    "update_item": (lambda c, w: ops.update_item(c, w.plan["item"], expected_version=2, weight=2, dry_run=True),
                    STAD_STAFF),
    "add_budget_entity": (lambda c, w: ops.add_budget_entity(c, "agb", "AGB Sport", kind="agb", organisation="stad",
                                                             dry_run=True), STAD_STAFF),
    "configure_followup": (lambda c, w: ops.configure_followup(c, organisation="stad", priority_propagation="none",
                                                               dry_run=True), STAD_STAFF),
    "add_reporting_periods": (lambda c, w: ops.add_reporting_periods(c, range(2028, 2029), organisation="stad",
                                                                     dry_run=True), STAD_STAFF),
    "add_kpi": (lambda c, w: ops.add_kpi(c, w.plan["item"], kind="manual", name="Meldingen", dry_run=True),
                STAD_STAFF),
    "add_milestone": (lambda c, w: ops.add_milestone(c, w.plan["item"], title="Start", planned_end="2027-01-31",
                                                     dry_run=True), STAD_STAFF),
    "save_status_update": (lambda c, w: ops.save_status_update(c, w.plan["item"], period="2027-S1", status="op_schema",
                                                               progress=30, dry_run=True), ITEM_REPORTERS),
    "submit_status_update": (lambda c, w: ops.submit_status_update(c, w.plan["item"], period="2026-S1", dry_run=True),
                             ITEM_REPORTERS),
    "confirm_no_change": (lambda c, w: ops.confirm_no_change(c, w.plan["item"], period="2027-S1", dry_run=True),
                          ITEM_REPORTERS),
    "add_attachment": (lambda c, w: ops.add_attachment(c, w.plan["draft"], "extra.txt", b"Nog een nota.\n",
                                                       dry_run=True), ITEM_REPORTERS),
    "record_measurement": (lambda c, w: ops.record_measurement(c, w.plan["kpi"], "2026", value=80, dry_run=True),
                           ITEM_REPORTERS),
    "update_milestone": (lambda c, w: ops.update_milestone(c, w.plan["milestone"], expected_version=1,
                                                           actual_start="2026-11-02", dry_run=True), ITEM_REPORTERS),
    "decide_status_update": (lambda c, w: ops.decide_status_update(c, w.plan["submitted"], approve=True, dry_run=True),
                             STAD_STAFF),
    "import_status_sheet": (lambda c, w: ops.import_status_sheet(c, w.plan["sheet"], organisation="stad",
                                                                 dry_run=True), STAD_MEMBERS - {READ_TOKEN}),
    "send_reminders": (lambda c, w: ops.send_reminders(c, organisation="stad", dry_run=True), STAD_STAFF),
    "import_finance": (lambda c, w: ops.import_finance(c, [w.plan["finance"]], organisation="stad", dry_run=True),
                       STAD_STAFF),
    "finance_overview": (lambda c, w: ops.finance_overview(c, w.plan["id"]), STAD_MEMBERS),
    "finance_reconciliation": (lambda c, w: ops.finance_reconciliation(c, w.plan["id"]), STAD_MEMBERS),
    "balance_checks": (lambda c, w: ops.balance_checks(c, w.plan["id"]), STAD_MEMBERS),
    "item_finance": (lambda c, w: ops.item_finance(c, w.plan["item"]), STAD_MEMBERS),
    "set_balance_input": (lambda c, w: ops.set_balance_input(c, w.plan["id"], 2026, unavailable_funds=10.0,
                                                             dry_run=True), STAD_STAFF),
    "evaluate_signals": (lambda c, w: ops.evaluate_signals(c, w.plan["id"], dry_run=True), STAD_STAFF),
    "list_signals": (lambda c, w: ops.list_signals(c, w.plan["id"]), STAD_MEMBERS),
    "acknowledge_signal": (lambda c, w: ops.acknowledge_signal(c, w.plan["signal"], "Gezien", dry_run=True),
                           ITEM_REPORTERS),
    "signal_rules": (lambda c, w: ops.signal_rules(c, organisation="stad"), STAD_MEMBERS),
    "configure_signal_rule": (lambda c, w: ops.configure_signal_rule(c, "delayed", organisation="stad",
                                                                     params={"periods": 3}, dry_run=True), STAD_STAFF),
    "list_report_sections": (lambda c, w: ops.list_report_sections(c, w.plan["id"], "opvolging", "2026"),
                             STAD_MEMBERS),
    "save_report_section": (lambda c, w: ops.save_report_section(c, w.plan["id"], "opvolging", "2026",
                                                                 "wijzigingen_veronderstellingen", "Bijgewerkt.",
                                                                 expected_version=1, dry_run=True), ITEM_REPORTERS),
    "add_report_section": (lambda c, w: ops.add_report_section(c, w.plan["id"], "opvolging", "2026", "Personeel",
                                                               dry_run=True), ITEM_REPORTERS),
    "submit_report_section": (lambda c, w: ops.submit_report_section(c, w.plan["section"], dry_run=True),
                              ITEM_REPORTERS),
    "decide_report_section": (lambda c, w: ops.decide_report_section(c, w.plan["submitted_section"],
                                                                     decision="approve", dry_run=True), STAD_STAFF),
    "opvolging_report": (lambda c, w: ops.opvolging_report(c, 2026, plan_id=w.plan["id"]), STAD_MEMBERS),
    "college_report": (lambda c, w: ops.college_report(c, "2026-S1", plan_id=w.plan["id"], fmt="xlsx"),
                       STAD_MEMBERS),
    # audit
    "list_audit": (lambda c, w: ops.list_audit(c, AuditFilter()), {ADMIN, ORG_ADMIN, ORG_ADMIN_B}),
    "export_audit_csv": (lambda c, w: ops.export_audit_csv(c, AuditFilter()), {ADMIN, ORG_ADMIN, ORG_ADMIN_B}),
    # content
    "list_dashboards": (lambda c, w: ops.list_dashboards(c), ALL),
    "dashboard_view": (lambda c, w: ops.dashboard_view(c, "demografie"), ALL),
    "list_stories": (lambda c, w: ops.list_stories(c), ALL),
    "story_view": (lambda c, w: ops.story_view(c, "vergrijzing-centrumsteden"), ALL),
    # imports
    "import_geography": (lambda c, w: ops.import_geography(c, w.small_geo, dry_run=True), {ADMIN, COORD, ORG_ADMIN}),
    "import_statbel": (lambda c, w: ops.import_statbel(c, INCOME, dry_run=True), {ADMIN, COORD, ORG_ADMIN}),
    "import_observations": (lambda c, w: ops.import_observations(c, w.observations_file, dry_run=True),
                            {ADMIN, COORD, ORG_ADMIN, EDITOR}),
    "import_swing": (lambda c, w: ops.import_swing(c, w.swing_file, dry_run=True), {ADMIN, COORD, ORG_ADMIN, EDITOR}),
    "import_catalogue": (lambda c, w: ops.import_catalogue(c, w.catalogue_file, dry_run=True),
                         {ADMIN, COORD, ORG_ADMIN, EDITOR}),
    "list_imports": (lambda c, w: ops.list_imports(c), {ADMIN, ORG_ADMIN, COORD, ANALYST, COORD_B, ORG_ADMIN_B,
                                                        READ_TOKEN}),
    "import_details": (lambda c, w: ops.import_details(c, w.run_id), {ADMIN, ORG_ADMIN, COORD, ANALYST, READ_TOKEN}),
    "cleanup_imports": (lambda c, w: ops.cleanup_imports(c, dry_run=True), {ADMIN}),
    # statistics
    "list_indicators": (lambda c, w: ops.list_indicators(c), ALL),
    "export_catalogue": (lambda c, w: ops.export_catalogue(c, "yaml"), ALL),
    "indicator_availability": (lambda c, w: ops.indicator_availability(c, "pop_total", "gemeente"), ALL),
    "list_levels": (lambda c, w: ops.list_levels(c), ALL),
    "area_geojson": (lambda c, w: ops.area_geojson(c, "provincie"), ALL),
    "level_mergers": (lambda c, w: ops.level_mergers(c, "gemeente"), ALL),
    "area_on_level": (lambda c, w: ops.area_on_level(c, ("gemeente", "44021"), "provincie"), ALL),
    "query_observations": (lambda c, w: ops.query_observations(c, ObservationQuery("pop_total", "provincie", "2015")),
                           ALL),
    "area_series": (lambda c, w: ops.area_series(c, ["pop_total"], [("gemeente", "44021")]), ALL),
    "selection_table": (lambda c, w: ops.selection_table(c, Selection(("pop_total",), (("gemeente", "44021"),))), ALL),
    "area_factsheet": (lambda c, w: ops.area_factsheet(c, "gemeente", "44021"), ALL),
    "factsheet_pdf": (lambda c, w: ops.factsheet_pdf(c, "gewest", "2000"), ALL),
    "export_factsheets": (lambda c, w: ops.export_factsheets(c, "belgie", w.tmp / w.fresh("pdf-")),
                          {ADMIN, ORG_ADMIN, COORD, ANALYST, COORD_B, ORG_ADMIN_B, READ_TOKEN}),
    # area reports (YAML)
    "list_area_reports": (lambda c, w: ops.list_area_reports(_with_report(c, w)), ALL),
    "check_area_report": (lambda c, w: ops.check_area_report(c, AREA_REPORT, name="bevolking.yaml"), ALL),
    "area_report": (lambda c, w: ops.area_report(_with_report(c, w), "bevolking", "gewest", "2000"), ALL),
    "area_report_choices": (lambda c, w: ops.area_report_choices(_with_report(c, w), "bevolking", ("provincie", "40000")),
                            ALL),
    "area_report_pdf": (lambda c, w: ops.area_report_pdf(_with_report(c, w), "bevolking", "gewest", "2000"), ALL),
    "export_area_reports": (lambda c, w: ops.export_area_reports(_with_report(c, w), "bevolking", "gewest",
                                                                 w.tmp / w.fresh("reports-")),
                            {ADMIN, ORG_ADMIN, COORD, ANALYST, COORD_B, ORG_ADMIN_B, READ_TOKEN}),
    "export_warehouse": (lambda c, w: ops.export_warehouse(c, w.tmp / w.fresh("warehouse-")),
                         {ADMIN, ORG_ADMIN, COORD, ANALYST, EDITOR, COORD_B, ORG_ADMIN_B}),
    "search": (lambda c, w: ops.search(c, "gent"), ALL),
    "suggest_areas": (lambda c, w: ops.suggest_areas(c, "borsbeek"), ALL),
    "area_tree": (lambda c, w: ops.area_tree(c), ALL),
    # the Swing-compatible read API
    "list_areas": (lambda c, w: ops.list_areas(c, "provincie", codes=["10000", "40000"]), ALL),
    # the OData service
    "odata_model": (lambda c, w: ops.odata_model(c), ALL),
    "odata_read": (lambda c, w: ops.odata_read(c, "Indicators", {"$filter": "code eq 'pop_total'"},
                                               base_url="http://localhost/odata/"), ALL),
    # the open data formats (JSON-stat, Data Package, SDMX)
    "exchange_tables": (lambda c, w: ops.exchange_tables(c, ["pop_total"], "provincie", period="2015"), ALL),
    "exchange_theme": (lambda c, w: ops.exchange_theme(c, "demografie", "provincie"), ALL),
    # the open-data catalogue (DCAT-AP)
    "catalog_document": (lambda c, w: ops.catalog_document(c, "ttl", dataset="pop_total"), ALL),
    "validate_catalog": (lambda c, w: ops.validate_catalog(c, document="<urn:x> a <urn:y> .", fmt="ttl"), ALL),
    # the installation
    "upgrade_database": (lambda c, w: ops.upgrade_database(c, dry_run=True), {ADMIN}),
    "database_status": (lambda c, w: ops.database_status(c), {ADMIN}),
    "health": (lambda c, w: ops.health(c), ALL),
    "data_version": (lambda c, w: ops.data_version(c), ALL),
    "backup_database": (lambda c, w: ops.backup_database(c, w.tmp / f"{w.fresh('backup-')}.sqlite"), {ADMIN}),
    "restore_database": (lambda c, w: ops.restore_database(c, w.backup, dry_run=True), {ADMIN}),
    "rederive_all": (lambda c, w: ops.rederive_all(c, dry_run=True), {ADMIN}),
}


def _authenticate_token(c: Context, w: World) -> Any:
    token = ops.create_token(system(c.db, c.settings), READER, scope="read").token
    return ops.authenticate_token(c, token, dry_run=True)


CALLS["authenticate_token"] = (_authenticate_token, ALL - {READ_TOKEN})


def test_every_operation_is_in_the_matrix():
    assert set(CALLS) == set(ops.REGISTRY), "add new operations to the matrix (and remove gone ones)"


def _audit_count(ctx: Context, outcome: str) -> int:
    with ctx.db.unguarded_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_event).where(audit_event.c.outcome == outcome)
                            ).scalar_one()


def _expected_refusal(name: str, actor: str) -> tuple[type[Exception], ...]:
    if actor == ANON:
        return (NotAuthenticated,)
    return (NotAllowed, NotFound)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_operation_is_allowed_and_refused_as_the_matrix_says(world, name):
    call, allowed = CALLS[name]
    write = ops.REGISTRY[name].kind == "write" and ops.REGISTRY[name].audited
    wrong = []
    for actor, ctx in sorted(world.actors.items()):
        refused_before = _audit_count(ctx, "refused")
        try:
            call(ctx, world)
        except _expected_refusal(name, actor) as exc:
            if actor in allowed:
                wrong.append(f"{actor}: refused but should be allowed ({type(exc).__name__}: {exc})")
            elif write and _audit_count(ctx, "refused") != refused_before + 1:
                wrong.append(f"{actor}: refused write left no audit record")
            continue
        except (NotAllowed, NotFound) as exc:
            wrong.append(f"{actor}: refused as {type(exc).__name__} ({exc}), expected "
                         f"{' or '.join(e.__name__ for e in _expected_refusal(name, actor))}")
            continue
        if actor not in allowed:
            wrong.append(f"{actor}: allowed but should be refused")
    assert not wrong, f"{name}:\n  " + "\n  ".join(wrong)


def test_another_organisations_objects_are_not_even_found(world):
    """Cross-organisation access is refused as 404: ids of users, runs and tokens cannot be probed."""
    other = world.actors[ORG_ADMIN_B]
    with pytest.raises(NotFound):
        ops.update_user(other, READER, groups=["x"])
    with pytest.raises(NotFound):
        ops.revoke_token(other, world.spare_token)
    with pytest.raises(NotFound):
        ops.import_details(world.actors[COORD_B], world.run_id)
    assert {u["name"] for u in ops.list_users(other)} == {"coordinator_b", "org_admin_b"}
    assert all(t.organisation == "buur" for t in ops.list_tokens(other))
    assert [o.code for o in ops.list_organisations(other)] == ["buur"]
    assert world.run_id not in {r["id"] for r in ops.list_imports(world.actors[COORD_B]).data}


def test_an_editor_writes_only_the_indicators_they_own(world):
    editor = world.actors[EDITOR]
    assert ops.import_observations(editor, world.observations_file, dry_run=True).status == "dry_run"
    shared = world.tmp / "shared.csv"
    shared.write_text("indicator,level,area,period,value\npop_total,gemeente,44021,2016,259083\n", encoding="utf-8")
    with pytest.raises(NotAllowed, match="pop_total"):
        ops.import_observations(editor, shared)
    with pytest.raises(NotAllowed, match="pop_total"):
        ops.import_observations(world.actors[COORD_B], shared)


def test_an_organisation_administrator_cannot_make_an_instance_administrator(world):
    with pytest.raises(NotAllowed):
        ops.add_user(world.actors[ORG_ADMIN], world.fresh("baas"), roles=["admin"], organisation="stad",
                     password=PASSWORD)
    with pytest.raises(NotAllowed):
        ops.update_user(world.actors[ORG_ADMIN], READER, roles=["admin"])


def test_refused_writes_change_nothing(world):
    before = {u["name"]: u for u in ops.list_users(world.actors[ADMIN])}
    for actor in (READER, ANALYST, EDITOR, COORD_B, READ_TOKEN):
        with pytest.raises((NotAllowed, NotFound)):
            ops.update_user(world.actors[actor], READER, roles=["admin"])
    assert {u["name"]: u for u in ops.list_users(world.actors[ADMIN])} == before


def test_the_command_line_acts_as_a_named_user(world):
    root = system(world.actors[ADMIN].db, world.actors[ADMIN].settings)
    assert ops.identify_cli_user(root, READER).name == READER
    with pytest.raises(NotAuthenticated, match="OBMI_USER"):
        ops.identify_cli_user(root, "")
    with pytest.raises(NotAuthenticated, match="unknown or disabled user"):
        ops.identify_cli_user(root, "niemand")
    reader = as_user(root, READER)
    with pytest.raises(NotAllowed, match="reader may not do this: system.backup"):
        ops.backup_database(reader, world.tmp / "nope.sqlite")
