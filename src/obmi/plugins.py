"""The plugin manager: built-in plugins first, then those of installed packages (entry-point
group `obmi`). Accessors return what all plugins registered, in registration order."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pluggy

from obmi import hookspecs

if TYPE_CHECKING:
    from obmi.imports.readers import ImportReader
    from obmi.indicators.aggregation import AggregationMethod
    from obmi.plans.signals import Rule
    from obmi.privacy.suppression import DisclosureRule
    from obmi.publish.renderers import OutputRenderer

# Modules holding the built-in hook implementations. The web routes are registered by the web
# app itself (obmi.web.app), so the command line never has to import the web stack.
BUILTIN = ("obmi.imports.readers", "obmi.indicators.aggregation", "obmi.privacy.suppression",
           "obmi.publish.renderers", "obmi.plans.signals")
WEB_BUILTIN = "obmi.web.routes"


@lru_cache(maxsize=1)
def manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("obmi")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("obmi")
    return pm


def _collect(results: list[list[Any]]) -> list[Any]:
    # pluggy calls the last registered plugin first; built-ins should come first.
    return [item for result in reversed(results) for item in (result or [])]


def import_readers(kind: str | None = None) -> list[ImportReader]:
    readers = _collect(manager().hook.obmi_import_readers())
    return [r for r in readers if kind is None or r.kind == kind]


@lru_cache(maxsize=1)
def aggregation_methods() -> dict[str, AggregationMethod]:
    return {m.name: m for m in _collect(manager().hook.obmi_aggregation_methods())}


def disclosure_rules() -> list[DisclosureRule]:
    return _collect(manager().hook.obmi_disclosure_rules())


def output_renderers() -> dict[str, OutputRenderer]:
    return {r.format: r for r in _collect(manager().hook.obmi_output_renderers())}


def signal_rules() -> dict[str, Rule]:
    """Code → rule, in registration order; a plugin's rule with a built-in code replaces it."""
    return {r.code: r for r in _collect(manager().hook.obmi_signal_rules())}


def routers() -> list[Any]:
    pm = manager()
    if not pm.has_plugin(WEB_BUILTIN):
        pm.register(importlib.import_module(WEB_BUILTIN), name=WEB_BUILTIN)
    return _collect(pm.hook.obmi_routers())
