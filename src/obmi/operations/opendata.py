"""The open-data catalogue (DCAT-AP 3, docs/open-data.md): what an audience may see of the
indicator catalogue, gathered here and described by obmi.publish.dcat; validated by
obmi.publish.dcat_validation against the DCAT-AP 3.0.1 and DCAT-AP Vlaanderen shapes.

Audiences, by the rules every channel follows (`CatalogueView`): `public` — what an anonymous
visitor sees (public indicators, their levels from `public_from_level` up); `internal` — what the
acting user sees (their organisation's non-public indicators too, with access rights
NON_PUBLIC or RESTRICTED). The web answers each asker with their own view; harvesters ask as the
public."""

from __future__ import annotations

from dataclasses import dataclass

from obmi.auth.actor import ANONYMOUS
from obmi.errors import NotFound, ValidationError
from obmi.indicators.periods import sort_periods
from obmi.operations.registry import Unit, operation
from obmi.publish import dcat
from obmi.publish.dcat_validation import Validation, validate
from obmi.query import areas as area_query
from obmi.query import availability
from obmi.query.visibility import CatalogueView
from obmi.store import accounts as account_store
from obmi.store.state import read_state

__all__ = ["AUDIENCES", "CatalogDocument", "catalog_document", "validate_catalog"]

AUDIENCES = ("public", "internal")
LOCAL_AUTHORITIES = ("gemeente", "ocmw", "agb")


@dataclass(frozen=True)
class CatalogDocument:
    text: str
    media_type: str
    datasets: int


def _view(unit: Unit, audience: str | None) -> CatalogueView:
    if audience not in (None, *AUDIENCES):
        raise ValidationError(f"audience must be one of {', '.join(AUDIENCES)}", {"audience": [str(audience)]})
    actor = ANONYMOUS if audience == "public" else unit.actor
    return CatalogueView.load(unit.conn, actor)


def _agents(unit: Unit) -> tuple[dcat.Agent, dict[str, dcat.Agent]]:
    """The catalogue's publisher (the host organisation, named by the settings) and an agent per
    organisation."""
    settings, base = unit.settings, unit.settings.public_base_url
    organisations = account_store.list_organisations(unit.conn)
    host = next((o for o in organisations if o.is_host), None)
    iri = dcat.Iris(base)
    by_code = {o.code: dcat.Agent(str(iri.publisher(o.code)), o.name, o.kind in LOCAL_AUTHORITIES)
               for o in organisations}
    name = settings.catalog_publisher or (host.name if host else settings.site_name)
    uri = settings.catalog_publisher_uri or (by_code[host.code].iri if host else str(iri.publisher("instance")))
    publisher = dcat.Agent(uri, name, host.kind in LOCAL_AUTHORITIES if host else False)
    if host is not None:
        by_code[host.code] = publisher
    return publisher, by_code


def _catalog(unit: Unit, audience: str | None) -> tuple[dcat.CatalogInfo, list[dcat.DatasetEntry]]:
    view = _view(unit, audience)
    conn, settings = unit.conn, unit.settings
    indicators = sorted(view.visible.values(), key=lambda i: i.code)
    codes = [i.code for i in indicators]
    levels = {lvl.code: lvl for lvl in area_query.list_levels(conn)}
    coverage = availability.coverage(conn, codes)
    provenance = availability.provenance(conn, codes)
    publisher, agents = _agents(unit)
    seen: dict[str, list[str]] = {}
    for ind in indicators:
        seen[ind.code] = sorted((lvl for lvl in coverage.get(ind.code, {}) if lvl in levels and view.sees_level(ind, lvl)),
                                key=lambda lvl: (levels[lvl].sort_order, lvl))
    coarsest = {code: lvls[-1] for code, lvls in seen.items() if lvls}
    places: dict[str, list[tuple[str, str]]] = {}
    for level in sorted(set(coarsest.values())):
        found = availability.areas_with_data(conn, level, [c for c, lvl in coarsest.items() if lvl == level])
        places.update(found)
    entries = []
    for ind in indicators:
        periods = sort_periods({p for lvl in seen[ind.code] for p in coverage[ind.code][lvl]})
        issued, modified = provenance.get(ind.code, (None, None))
        entries.append(dcat.DatasetEntry(
            ind, tuple(dcat.Level(lvl, levels[lvl].name_nl, levels[lvl].name_en) for lvl in seen[ind.code]),
            periods[0] if periods else None, periods[-1] if periods else None, issued, modified,
            tuple(dcat.Place(coarsest[ind.code], code, name) for code, name in places.get(ind.code, [])),
            agents.get(ind.organisation or "", publisher)))
    state = read_state(conn)
    issued_all = [e.issued for e in entries if e.issued is not None]
    keywords = tuple(k.strip() for k in settings.catalog_keywords.split(",") if k.strip())
    info = dcat.CatalogInfo(settings.public_base_url, settings.site_name, publisher, settings.catalog_contact_email,
                            settings.catalog_licence, min(issued_all) if issued_all else None, state.changed_at,
                            keywords)
    return info, entries


@operation("catalogue.read")
def catalog_document(unit: Unit, fmt: str = "ttl", *, dataset: str | None = None,
                     audience: str | None = None) -> CatalogDocument:
    """The DCAT-AP 3 catalogue of the published statistics (or the document of one dataset) in
    Turtle, JSON-LD or RDF/XML: what the audience may see (default: the actor)."""
    try:
        serialisation = dcat.serialisation(fmt)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), {"format": [fmt]}) from None
    info, entries = _catalog(unit, audience)
    if dataset is not None and dataset not in {e.indicator.code for e in entries}:
        raise NotFound(f"unknown dataset {dataset!r}")
    graph = dcat.build_catalog(info, entries, only=dataset)
    return CatalogDocument(dcat.serialise(graph, serialisation.suffix), serialisation.media_type,
                           1 if dataset else len(entries))


@operation("catalogue.read")
def validate_catalog(unit: Unit, *, audience: str = "public", document: str | None = None,
                     fmt: str = "ttl") -> Validation:
    """Check the catalogue of an audience — or a given RDF document — against the official
    DCAT-AP 3.0.1 shapes and OBMi's DCAT-AP Vlaanderen 3.0 shapes."""
    if document is not None:
        try:
            graph = dcat.parse(document, fmt)
        except KeyError as exc:
            raise ValidationError(str(exc.args[0]), {"format": [fmt]}) from None
        except Exception as exc:  # noqa: BLE001 — any parser's complaint is the document's problem
            raise ValidationError(f"not a readable {fmt} document: {exc}", {"document": [str(exc)[:300]]}) from None
    else:
        graph = dcat.build_catalog(*_catalog(unit, audience))
    return validate(graph)
