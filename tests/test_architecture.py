"""The architecture holds: adapters (web, CLI) reach the store only through operations; domain
packages never import the web; every operation, permission and hook is documented; the built-in
readers, rules, methods, renderers and routes are registered through the hooks."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from obmi import hookspecs, plugins
from obmi import operations as ops
from obmi.auth import permissions

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "obmi"
ADAPTERS = sorted((PACKAGE / "web").glob("*.py")) + [PACKAGE / "cli.py"]
# What an adapter may not import: the store's modules, the importers, the query layer, the
# derivation and pipeline, the registry internals, SQL.
FORBIDDEN = ("obmi.store.", "obmi.imports", "obmi.query", "obmi.indicators.derive", "obmi.operations.pipeline",
             "obmi.operations.registry", "obmi.privacy", "sqlalchemy", "psycopg")
DOMAIN = ("auth", "geo", "indicators", "privacy", "publish", "reports", "imports", "query", "store")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", ADAPTERS, ids=lambda p: p.name)
def test_adapters_reach_the_store_only_through_operations(path):
    front_door = {"obmi.store.Database", "obmi.store.open_database"}  # a handle, not a query
    bad = sorted(m for m in imported_modules(path) - front_door if m.startswith(FORBIDDEN))
    assert not bad, f"{path.name} imports {bad}: call an operation instead"
    source = path.read_text(encoding="utf-8")
    assert ".engine" not in source and "unguarded_engine" not in source, f"{path.name} touches the engine"


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_never_import_the_adapters(package):
    for path in (PACKAGE / package).rglob("*.py"):
        bad = sorted(m for m in imported_modules(path) if m.startswith(("obmi.web", "obmi.cli", "fastapi", "typer")))
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_indicators_do_not_import_the_importers():
    """The cycle found in review (catalogue → imports.runs → indicators) stays gone."""
    for path in (PACKAGE / "indicators").rglob("*.py"):
        assert not [m for m in imported_modules(path) if m.startswith("obmi.imports")], path.name


def test_reports_run_no_sql_of_their_own():
    """Fact sheets and PDFs read through the query layer (areas, series, availability)."""
    for path in (PACKAGE / "reports").rglob("*.py"):
        modules = imported_modules(path)
        assert not [m for m in modules if m.startswith("obmi.store")], path.name
        assert "select(" not in path.read_text(encoding="utf-8"), path.name


def test_every_operation_is_listed_with_its_permission_in_the_docs():
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [f"{op.name} ({op.permission})" for op in ops.list_operations()
               if f"| `{op.name}` | `{op.permission}` |" not in docs]
    assert not missing, f"docs/operations.md lacks {missing} (regenerate: python scripts/document_platform.py)"


def test_every_permission_is_documented():
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert not [name for name in permissions.PERMISSIONS if f"`{name}`" not in docs]


def test_every_operation_declares_a_known_permission_and_a_summary():
    for op in ops.list_operations():
        assert op.permission in permissions.PERMISSIONS
        assert op.summary, f"{op.name} has no docstring"


def test_obmi_operations_lists_every_operation(tmp_path):
    from typer.testing import CliRunner

    from obmi.cli import app
    result = CliRunner().invoke(app, ["operations"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t")[:2] for line in result.output.strip().splitlines()]
    assert sorted(map(tuple, lines)) == sorted((op.name, op.permission) for op in ops.list_operations())


def hook_names() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("obmi_")]


def test_every_hook_has_a_one_line_description_and_is_documented():
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert len(hook_names()) >= 5
    for name in hook_names():
        doc = getattr(hookspecs, name).__doc__
        assert doc and len(doc.strip().splitlines()) == 1, f"{name} needs a one-line docstring"
        assert f"`{name}`" in docs, f"docs/plugins.md does not describe {name}"


def test_built_ins_are_registered_through_the_hooks():
    assert {"csv", "xlsx", "json"} <= set(plugins.output_renderers())
    assert {"sum", "ratio", "weighted_mean", "none"} <= set(plugins.aggregation_methods())
    assert [rule.name for rule in plugins.disclosure_rules()][:1] == ["primary"]
    kinds = {reader.kind for reader in plugins.import_readers()}
    assert {"table", "statbel", "catalogue", "geo"} <= kinds
    paths = {route.path for router in plugins.routers() for route in router.routes}
    assert {"/api/v1/observations", "/login", "/admin", "/indicatoren/{code}"} <= paths


def test_a_plugin_adds_a_download_format_without_touching_the_routes():
    """A new output format is one registration: the download route offers it at once."""
    from obmi.hookspecs import hookimpl
    from obmi.publish.renderers import OutputRenderer

    class TabSeparated:
        @hookimpl
        def obmi_output_renderers(self):
            def render(columns, rows, meta):
                return ("\t".join(columns) + "\n" + "".join(
                    "\t".join(str(r.get(c, "")) for c in columns) + "\n" for r in rows)).encode()
            return [OutputRenderer("tsv", "text/tab-separated-values", "Tab-separated", render)]

    plugin = TabSeparated()
    plugins.manager().register(plugin)
    try:
        assert "tsv" in plugins.output_renderers()
        from obmi.publish.renderers import renderer
        body = renderer("tsv").render(["a", "b"], [{"a": 1, "b": 2}], {})
        assert body == b"a\tb\n1\t2\n"
    finally:
        plugins.manager().unregister(plugin)
    assert "tsv" not in plugins.output_renderers()
