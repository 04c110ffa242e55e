"""Every extension point of OBMi, as pluggy hook specifications (one line of documentation each;
docs/plugins.md explains them and a test fails when one is missing there).

A plugin is a module or object with functions named like these hooks and marked `@hookimpl`,
registered through the `obmi` entry-point group of its package. The built-in readers, rules,
methods, renderers and routes are registered the same way (obmi.plugins.BUILTIN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from obmi.imports.readers import ImportReader
    from obmi.indicators.aggregation import AggregationMethod
    from obmi.plans.signals import Rule
    from obmi.privacy.suppression import DisclosureRule
    from obmi.publish.renderers import OutputRenderer

hookspec = pluggy.HookspecMarker("obmi")
hookimpl = pluggy.HookimplMarker("obmi")


@hookspec
def obmi_import_readers() -> list[ImportReader]:
    """File readers for imports: each names its import kind and which files it accepts."""


@hookspec
def obmi_aggregation_methods() -> list[AggregationMethod]:
    """Methods by which parts combine into a whole, named as an indicator's `aggregation` field."""


@hookspec
def obmi_disclosure_rules() -> list[DisclosureRule]:
    """Disclosure-control rules the write pipeline applies, in order, to decide which cells are withheld."""


@hookspec
def obmi_output_renderers() -> list[OutputRenderer]:
    """Download formats: each turns a table (columns, rows, metadata) into bytes of one media type."""


@hookspec
def obmi_signal_rules() -> list[Rule]:
    """Early-warning rules over a plan (KPIs, milestones, status, finance); a later rule with the same code replaces one."""


@hookspec
def obmi_routers() -> list[Any]:
    """FastAPI routers added to the web app (pages, API endpoints), each with its own prefix."""
