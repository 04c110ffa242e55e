"""The OData v4 service (docs/odata.md; routes in obmi.web.odata_api): its model and one read
operation that answers every resource path — an entity set, one entity by key, a navigation
property of one, or `/$count` — with the system query options translated to SQL by
obmi.query.odata, for whoever asks (the catalogue's visibility; disclosure control in the query
layer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from obmi.auth.permissions import Resource, check
from obmi.errors import NotAllowed, NotFound
from obmi.operations.registry import Unit, operation
from obmi.query import odata as q
from obmi.query.areas import list_levels
from obmi.query.observations import check_disclosure_state
from obmi.query.odata_plans import PLAN_SETS
from obmi.query.odata_plans import SOURCES as PLAN_SOURCES
from obmi.query.visibility import CatalogueView

__all__ = ["ODataAnswer", "odata_model", "odata_read"]

PATH = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>\$count|[A-Za-z_][A-Za-z0-9_]*))?$")


@dataclass(frozen=True)
class ODataAnswer:
    kind: str  # collection, entity, count
    payload: Any  # the JSON document (collection, entity) or the number (count)


def _levels(unit: Unit) -> list[str]:
    return [lv.code for lv in list_levels(unit.conn)]


@operation("statistics.read")
def odata_model(unit: Unit) -> q.Model:
    """The OData entity model (entity sets, properties, navigation properties) of this installation."""
    return q.build_model(_levels(unit), PLAN_SETS)


class _Sources:
    """The sources of one request, built when first needed."""

    def __init__(self, unit: Unit, levels: list[str]):
        self.unit, self.levels = unit, levels
        self.view = CatalogueView.load(unit.conn, unit.actor)
        self.built: dict[str, q.Source] = {}

    def __call__(self, name: str) -> q.Source:
        if name not in self.built:
            conn = self.unit.conn
            if name == "Observations":
                check_disclosure_state(conn, self.unit.settings.default_threshold)
                self.built[name] = q.observations_source(conn, self.view, self.levels)
            elif name == "Indicators":
                self.built[name] = q.indicators_source(conn, self.view)
            elif name == "Areas":
                self.built[name] = q.areas_source(conn, self.levels)
            elif name == "Periods":
                self.built[name] = q.periods_source(conn, self.view)
            elif name in PLAN_SOURCES:
                self.built[name] = PLAN_SOURCES[name](conn, self._plan_organisation())
            else:
                raise q.ODataError(f"unknown entity set {name!r}", "NotFound", name, 404)
        return self.built[name]


    def _plan_organisation(self) -> str:
        """Plan data is read per organisation, by its own members with plans.read (a token for
        Power BI and Excel): the anonymous public gets 401, another organisation never sees it."""
        actor = self.unit.actor
        if actor.organisation is None:
            check(actor, "plans.read", Resource("plan"))  # the anonymous public: 401
            raise NotAllowed("plan data is read per organisation: use a token of a member of it")
        check(actor, "plans.read", Resource("plan", None, actor.organisation))
        return actor.organisation


def _expand(unit: Unit, model: q.Model, sources: _Sources, spec: q.EntitySet, rows: list[dict[str, Any]],
            expand: tuple[str, ...]) -> None:
    for name in expand:
        nav = spec.nav(name)
        target = model.get(nav.target)
        local = [a for a, _ in nav.on]
        remote = [b for _, b in nav.on]
        found = q.find_many(unit.conn, sources(target.name), [tuple(r[n] for n in local) for r in rows], remote)
        for row in rows:
            hit = found.get(tuple(row[n] for n in local))
            row[name] = q.project(hit, (), target) if hit is not None else None


def _entity(row: dict[str, Any], opts: q.Options, spec: q.EntitySet) -> dict[str, Any]:
    out = q.project(row, opts.select, spec)
    for name in opts.expand:
        out[name] = row[name]
    return out


@operation("statistics.read")
def odata_read(unit: Unit, path: str, params: Mapping[str, str], *, base_url: str,
               max_page_size: int | None = None) -> ODataAnswer:
    """Answer one OData resource path (entity set, entity by key, its navigation property, or
    /$count) with the system query options ($filter, $select, $orderby, $top, $skip, $count,
    $expand, server-driven paging), as the caller may see it; `max_page_size` is the client's
    `Prefer: odata.maxpagesize` (never more than OBMI_ODATA_PAGE_SIZE)."""
    match = PATH.match(path)
    levels = _levels(unit)
    model = q.build_model(levels, PLAN_SETS)
    if match is None:
        raise q.ODataError(f"unknown resource {path!r}", "NotFound", path, 404)
    spec = model.get(match["set"])
    sources = _Sources(unit, levels)
    src = sources(spec.name)
    nav = match["nav"]
    if match["key"] is not None:
        key = q.parse_key(spec, match["key"])
        row = q.find_one(unit.conn, src, key)
        if row is None:
            raise NotFound(f"no {spec.type_name} with key {match['key']}")
        if nav is None:
            opts = q.parse_options(spec, {k: v for k, v in params.items() if k in ("$select", "$expand", "$format")})
            _expand(unit, model, sources, spec, [row], opts.expand)
            context = f"{base_url}$metadata#{spec.name}/$entity"
            return ODataAnswer("entity", {"@odata.context": context, **_entity(row, opts, spec)})
        if nav == "$count":
            raise q.ODataError("$count applies to a collection", "InvalidOption", "$count")
        target = model.get(spec.nav(nav).target)
        opts = q.parse_options(target, {k: v for k, v in params.items() if k in ("$select", "$format")})
        _expand(unit, model, sources, spec, [row], (nav,))
        if row[nav] is None:
            raise NotFound(f"no {target.type_name} for this {spec.type_name}")
        context = f"{base_url}$metadata#{target.name}/$entity"
        return ODataAnswer("entity", {"@odata.context": context, **q.project(row[nav], opts.select, target)})
    if nav is not None and nav != "$count":
        raise q.ODataError(f"navigation needs one {spec.type_name}: {spec.name}(key)/{nav}", "InvalidKey", nav)
    if nav == "$count":
        opts = q.parse_options(spec, {k: v for k, v in params.items() if k in ("$filter", "$format")})
        opts = q.Options(filter=opts.filter, count=True, top=0, raw={})
        return ODataAnswer("count", q.run(unit.conn, src, opts, page_size=0).count)
    opts = q.parse_options(spec, params)
    page_size = unit.settings.odata_page_size
    if max_page_size is not None:
        page_size = max(1, min(page_size, max_page_size))
    page = q.run(unit.conn, src, opts, page_size=page_size)
    _expand(unit, model, sources, spec, page.rows, opts.expand)
    context = f"{base_url}$metadata#{spec.name}" + (f"({','.join(opts.select)})" if opts.select else "")
    payload: dict[str, Any] = {"@odata.context": context}
    if page.count is not None:
        payload["@odata.count"] = page.count
    payload["value"] = [_entity(r, opts, spec) for r in page.rows]
    if page.next_options is not None:
        payload["@odata.nextLink"] = f"{base_url}{spec.name}?{urlencode(page.next_options, quote_via=quote)}"
    return ODataAnswer("collection", payload)
