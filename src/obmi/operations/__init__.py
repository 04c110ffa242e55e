"""The named operations of OBMi, one module per domain. Web pages, the API, the command line
and the tests all call these (`ops.import_statbel(ctx, path)`); each declares its permission,
and the registry (obmi.operations.registry) checks it first, runs it in one transaction, writes
its audit record and — for writes — runs the write pipeline. `obmi operations` lists them."""

from obmi.operations.accounts import (
                                      add_organisation,
                                      add_user,
                                      authenticate_session,
                                      authenticate_token,
                                      change_password,
                                      create_token,
                                      identify_cli_user,
                                      list_organisations,
                                      list_tokens,
                                      list_users,
                                      login,
                                      login_external,
                                      logout,
                                      reset_password,
                                      revoke_token,
                                      send_password_reset,
                                      set_password,
                                      update_user,
)
from obmi.operations.area_reports import (
                                      area_report,
                                      area_report_choices,
                                      area_report_pdf,
                                      check_area_report,
                                      export_area_reports,
                                      list_area_reports,
)
from obmi.operations.audit import AuditFilter, export_audit_csv, list_audit
from obmi.operations.content import dashboard_view, list_dashboards, list_stories, story_view
from obmi.operations.exchange import ExchangeView, ThemeView, exchange_tables, exchange_theme
from obmi.operations.finance import (
                                      balance_checks,
                                      finance_overview,
                                      finance_reconciliation,
                                      import_finance,
                                      item_finance,
                                      set_balance_input,
)
from obmi.operations.followup import (
                                      add_attachment,
                                      add_kpi,
                                      add_milestone,
                                      add_reporting_periods,
                                      configure_followup,
                                      confirm_no_change,
                                      decide_status_update,
                                      export_status_sheet,
                                      followup_settings,
                                      get_attachment,
                                      import_status_sheet,
                                      list_reporting_periods,
                                      plan_owners,
                                      record_measurement,
                                      save_status_update,
                                      submit_status_update,
                                      update_milestone,
)
from obmi.operations.imports import (
                                      IMPORT_KINDS,
                                      cleanup_imports,
                                      import_catalogue,
                                      import_details,
                                      import_geography,
                                      import_kind,
                                      import_observations,
                                      import_statbel,
                                      import_swing,
                                      list_imports,
)
from obmi.operations.odata import ODataAnswer, odata_model, odata_read
from obmi.operations.opendata import CatalogDocument, catalog_document, validate_catalog
from obmi.operations.plan_views import (
                                      ItemFilter,
                                      college_dashboard,
                                      due_updates,
                                      item_detail,
                                      plan_items,
                                      public_plan,
                                      public_plans,
                                      send_reminders,
)
from obmi.operations.plans import (
                                      add_budget_entity,
                                      compare_plan_versions,
                                      import_plan,
                                      list_plans,
                                      plan_info,
                                      plan_summary,
                                      update_item,
)
from obmi.operations.registry import REGISTRY, list_operations
from obmi.operations.reports import (
                                      add_report_section,
                                      college_report,
                                      decide_report_section,
                                      list_report_sections,
                                      opvolging_report,
                                      save_report_section,
                                      submit_report_section,
)
from obmi.operations.signals import (
                                      acknowledge_signal,
                                      configure_signal_rule,
                                      evaluate_signals,
                                      list_signals,
                                      signal_rules,
)
from obmi.operations.statistics import (
                                      ObservationQuery,
                                      area_factsheet,
                                      area_geojson,
                                      area_on_level,
                                      area_series,
                                      area_tree,
                                      export_catalogue,
                                      export_factsheets,
                                      factsheet_pdf,
                                      indicator_availability,
                                      level_mergers,
                                      list_indicators,
                                      list_levels,
                                      query_observations,
                                      search,
                                      suggest_areas,
)
from obmi.operations.swing_read import AreaItem, list_areas
from obmi.operations.system import (
                                      backup_database,
                                      data_version,
                                      database_status,
                                      health,
                                      rederive_all,
                                      restore_database,
                                      upgrade_database,
)
from obmi.operations.tables import selection_table
from obmi.operations.warehouse import WarehouseExport, export_warehouse

__all__ = [
    "balance_checks", "finance_overview", "finance_reconciliation", "import_finance", "item_finance", "set_balance_input",
    "ItemFilter", "add_attachment", "add_budget_entity", "add_kpi", "add_milestone", "add_reporting_periods",
    "college_dashboard", "compare_plan_versions", "configure_followup", "confirm_no_change", "decide_status_update",
    "due_updates", "export_status_sheet", "followup_settings", "plan_owners", "public_plans",
    "get_attachment", "import_plan", "import_status_sheet", "item_detail",
    "list_plans", "list_reporting_periods", "plan_info", "plan_items", "plan_summary", "public_plan", "record_measurement",
    "save_status_update", "send_reminders", "submit_status_update", "update_item", "update_milestone",
    "AuditFilter", "IMPORT_KINDS", "ObservationQuery", "REGISTRY", "add_organisation", "add_user", "area_factsheet",
    "area_geojson", "area_on_level", "area_series", "level_mergers", "area_tree", "suggest_areas",
    "authenticate_session", "authenticate_token", "backup_database", "change_password", "create_token",
    "cleanup_imports", "dashboard_view", "data_version", "database_status", "export_audit_csv", "export_catalogue",
    "export_factsheets", "factsheet_pdf", "health", "identify_cli_user", "import_catalogue", "import_details",
    "import_geography", "import_kind", "import_observations", "import_statbel", "import_swing", "indicator_availability",
    "list_audit", "list_dashboards", "list_imports", "list_indicators", "list_levels", "list_operations",
    "list_organisations", "list_stories", "list_tokens", "list_users", "login", "login_external", "logout",
    "query_observations", "rederive_all", "reset_password", "restore_database", "revoke_token", "search",
    "send_password_reset", "set_password", "story_view", "update_user", "upgrade_database",
    "WarehouseExport", "export_warehouse",
    "AreaItem", "list_areas",
    "selection_table",
    "ExchangeView", "ThemeView", "exchange_tables", "exchange_theme",
    "ODataAnswer", "odata_model", "odata_read",
    "CatalogDocument", "catalog_document", "validate_catalog",
    "acknowledge_signal", "configure_signal_rule", "evaluate_signals", "list_signals", "signal_rules",
    "area_report", "area_report_choices", "area_report_pdf", "check_area_report", "export_area_reports",
    "list_area_reports",
    "add_report_section", "college_report", "decide_report_section", "list_report_sections", "opvolging_report",
    "save_report_section", "submit_report_section",
]
