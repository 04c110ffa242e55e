"""The open-data catalogue in DCAT-AP 3 (docs/open-data.md).

- The demo's catalogue (real Statbel and Fluvius indicators) validates with zero violations
  against the official DCAT-AP 3.0.1 shapes of SEMIC and against OBMi's DCAT-AP Vlaanderen 3.0
  shapes; Turtle, JSON-LD and RDF/XML are the same graph; the temporal coverage of each dataset is
  its data's first and last period; `obmi catalog validate` says so and exits 0, and exits 1 on a
  broken document.
- The VL shapes can fail: every cardinality they add is broken once, on a small catalogue built
  from plain data (no database).
- Access: in a small world on SQLite and PostgreSQL (real Statbel population 2014–2015, and two
  indicators of the city's own: one for its analysts only, one public from the province up), the
  public catalogue lists only what the public may see, an analyst's lists the rest as non-public,
  another organisation's analyst sees none of it; every answer carries an ETag of the data version.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import rdflib.namespace
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from obmi import operations as ops
from obmi.context import public_context
from obmi.indicators.catalogue import Indicator
from obmi.operations import ObservationQuery
from obmi.publish import dcat
from obmi.publish.dcat import DCAT, DCT, FOAF
from obmi.publish.dcat_validation import OFFICIAL, OFFICIAL_FILES, official_shapes, validate
from obmi.web.app import create_app
from obmi.web.catalog_api import negotiate

from conftest import BACKENDS, SHARED, STATBEL, load_geography, system
from factories import catalogue, invoke_cli, observations, org, user

pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's JSON-LD parser
BASE = "http://127.0.0.1:8000"  # the development default of OBMI_BASE_URL
DCAT_PUBLIC = URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC")
PUBLIC = str(DCAT_PUBLIC)
NON_PUBLIC = URIRef("http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC")


def dataset_iri(code: str) -> URIRef:
    return URIRef(f"{BASE}/catalog/datasets/{code}")


def datasets_of(graph: Graph) -> set[str]:
    """Codes of the indicator datasets (not the theme series) of a catalogue."""
    series = set(graph.subjects(RDF.type, DCAT.DatasetSeries))
    return {str(s).rsplit("/", 1)[1] for s in graph.subjects(RDF.type, DCAT.Dataset) if s not in series}


def temporal(graph: Graph, code: str) -> tuple[str, str]:
    period = graph.value(dataset_iri(code), DCT.temporal)
    return str(graph.value(period, DCAT.startDate)), str(graph.value(period, DCAT.endDate))


def run_cli(db, acting_as: str, *args: str):
    """`obmi ARGS` in this process on the database, as a user (exit code and output returned)."""
    return invoke_cli(db, acting_as, *args)


# --- the shapes shipped, and the pure parts ----------------------------------------------------

def test_the_official_shapes_are_shipped_unchanged():
    for name in OFFICIAL_FILES:
        assert (OFFICIAL / name).read_bytes() == (SHARED / "validators" / "dcat-ap-3.0.1" / name).read_bytes(), name


def test_the_official_shapes_load_as_one_graph_with_every_reference_defined():
    from rdflib.namespace import SH
    shapes = official_shapes()
    properties = set(shapes.objects(None, SH.property))
    assert len(properties) > 200
    assert all((prop, SH.path, None) in shapes for prop in properties)
    # dcat-ap-SHACL.ttl refers to the data service's endpoint shapes, which only ranges.ttl defines
    endpoint = [p for p in properties if shapes.value(p, SH.path) == DCAT.endpointURL]
    assert {shapes.value(p, SH.minCount) for p in endpoint} >= {Literal(1)}


@pytest.mark.parametrize("period, start, end", [
    ("2015", "2015 gYear", "2015 gYear"), ("2015-03", "2015-03 gYearMonth", "2015-03 gYearMonth"),
    ("2015-Q4", "2015-10-01 date", "2015-12-31 date"), ("2016-Q1", "2016-01-01 date", "2016-03-31 date"),
    ("2015-01-01", "2015-01-01 date", "2015-01-01 date"), ("stadsmonitor-2023", "2023 gYear", "2023 gYear"),
])
def test_periods_become_the_bounds_of_a_period_of_time(period, start, end):
    def typed(text: str) -> Literal:
        value, kind = text.split()
        return Literal(value, datatype=rdflib.namespace.XSD[kind])
    assert dcat.period_bounds(period) == (typed(start), typed(end))


@pytest.mark.parametrize("accept, suffix", [
    ("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/rdf+xml", "rdf"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", None), ("", "ttl"), ("*/*", "ttl"),
    ("text/html;q=0.5, text/turtle", "ttl"), ("application/rdf+xml;q=0.9, application/ld+json", "jsonld"),
])
def test_the_iris_negotiate_the_format(accept, suffix):
    assert negotiate(accept) == suffix


MODEL_LICENCE = "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0"


def small_catalog(licence: str = "Statbel open data", keywords: tuple[str, ...] = ()) -> Graph:
    """A catalogue of one real Statbel indicator, built from plain data."""
    info = dcat.CatalogInfo(BASE, "Stad", dcat.Agent(f"{BASE}/catalog/publishers/stad", "Stad", True),
                            "opendata@stad.example", MODEL_LICENCE, datetime(2024, 3, 1, tzinfo=UTC),
                            datetime(2024, 3, 2, tzinfo=UTC), keywords)
    indicator = Indicator(code="pop_total", name_nl="Bevolking", name_en="Population", unit="personen",
                          themes=["demografie"], source="Statbel (TF_SOC_POP_STRUCT)", licence=licence)
    entry = dcat.DatasetEntry(indicator, (dcat.Level("gemeente", "Gemeente", "Municipality"),), "2014", "2015",
                              datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC),
                              (dcat.Place("gewest", "2000", "Vlaams Gewest"),), info.publisher)
    return dcat.build_catalog(info, [entry])


def test_a_catalogue_built_from_plain_data_conforms_to_both_shape_sets():
    result = validate(small_catalog())
    assert result.conforms and result.violations == 0, result.summary()
    assert result.counts == {"catalogs": 1, "datasets": 1, "series": 1, "distributions": 7, "services": 2,
                             "records": 2}


def test_the_licence_is_the_indicators_own_iri_or_the_configured_one_with_the_text_as_rights():
    graph = small_catalog()
    csv = URIRef(f"{BASE}/catalog/datasets/pop_total/distributions/csv")
    # "Statbel open data" is Statbel's own licence, not the Flemish model licence.
    assert graph.value(csv, DCT.license) == URIRef("https://statbel.fgov.be/en/statistics/opendata/licence")
    assert graph.value(csv, DCT.rights) is None
    graph = small_catalog(licence="Licentie van de stad, artikel 3")
    assert graph.value(csv, DCT.license) == URIRef(MODEL_LICENCE)
    assert str(graph.value(graph.value(csv, DCT.rights), rdflib.namespace.RDFS.label)) == \
        "Licentie van de stad, artikel 3"
    assert validate(graph).conforms
    by = "https://creativecommons.org/licenses/by/4.0/"
    graph = small_catalog(licence=by)
    assert graph.value(csv, DCT.license) == URIRef(by) and graph.value(csv, DCT.rights) is None
    assert validate(graph).conforms


def test_configured_keywords_go_on_every_dataset():
    graph = small_catalog(keywords=("Vlaamse open data",))
    assert Literal("Vlaamse open data", lang="nl") in set(graph.objects(dataset_iri("pop_total"), DCAT.keyword))


DISTRIBUTION = URIRef(f"{BASE}/catalog/datasets/pop_total/distributions/csv")
SERVICE = URIRef(f"{BASE}/catalog/services/odata")
RECORD = URIRef(f"{BASE}/catalog/records/pop_total")
CATALOG = URIRef(f"{BASE}/catalog")
BREAKS = {  # what DCAT-AP Vlaanderen adds, each broken once: (subject, property, remove or a second value)
    "dataset without identifier": (dataset_iri("pop_total"), DCT.identifier, None),
    "dataset with two identifiers": (dataset_iri("pop_total"), DCT.identifier, Literal("pop_total")),
    "dataset without access rights": (dataset_iri("pop_total"), DCT.accessRights, None),
    "dataset without contact point": (dataset_iri("pop_total"), DCAT.contactPoint, None),
    "dataset without publisher": (dataset_iri("pop_total"), DCT.publisher, None),
    "dataset with two publishers": (dataset_iri("pop_total"), DCT.publisher, URIRef(f"{BASE}/catalog/publishers/x")),
    "distribution without identifier": (DISTRIBUTION, DCT.identifier, None),
    "catalogue without identifier": (CATALOG, DCT.identifier, None),
    "catalogue without contact point": (CATALOG, DCAT.contactPoint, None),
    "data service without identifier": (SERVICE, DCT.identifier, None),
    "data service without endpoint description": (SERVICE, DCAT.endpointDescription, None),
    "data service without access rights": (SERVICE, DCT.accessRights, None),
    "record without identifier": (RECORD, DCT.identifier, None),
    "record without modified": (RECORD, DCT.modified, None),
    "record without primary topic": (RECORD, FOAF.primaryTopic, None),
}


@pytest.mark.parametrize("case", BREAKS)
def test_the_vl_shapes_fail_where_dcat_ap_vl_adds_a_cardinality(case):
    subject, prop, second = BREAKS[case]
    graph = small_catalog()
    if second is None:
        graph.remove((subject, prop, None))
    else:
        graph.add((subject, prop, second))
    [_, vl] = validate(graph).reports
    assert not vl.conforms
    assert [(f.focus, f.path) for f in vl.findings] == [(str(subject), graph.namespace_manager.normalizeUri(prop))]


def test_the_vl_shapes_want_a_mailto_address():
    graph = small_catalog()
    contact = URIRef(f"{BASE}/catalog/contact")
    graph.remove((contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"), None))
    graph.add((contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"), URIRef("https://stad.example/contact")))
    [official, vl] = validate(graph).reports
    assert official.conforms and not vl.conforms
    assert {f.focus for f in vl.findings} == {str(CATALOG), str(dataset_iri("pop_total")),
                                              f"{BASE}/catalog/series/demografie"}


@pytest.mark.parametrize("fmt", ["jsonld", "rdf"])
def test_every_serialisation_is_the_same_graph(fmt):
    graph = small_catalog()
    assert isomorphic(dcat.parse(dcat.serialise(graph, fmt), fmt), graph)
    assert dcat.serialise(graph, fmt) == dcat.serialise(small_catalog(), fmt)  # the same bytes every time


# --- the demo: real data -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_catalog(demo):
    public = public_context(demo.db, demo.settings)
    return {fmt: ops.catalog_document(public, fmt).text for fmt in ("ttl", "jsonld", "rdf")}


def test_the_demo_catalogue_validates_with_zero_violations(demo):
    public = public_context(demo.db, demo.settings)
    result = ops.validate_catalog(public)
    assert result.conforms and result.violations == 0, result.summary()
    indicators = ops.list_indicators(public)
    assert result.counts["datasets"] == len(indicators) > 30
    assert result.counts["distributions"] == 7 * len(indicators)
    assert result.counts["records"] == result.counts["datasets"] + result.counts["series"]
    assert result.counts["series"] == len({t for i in indicators for t in i.themes})
    print(result.summary())


def test_the_three_serialisations_of_the_demo_are_one_graph(demo_catalog):
    turtle = dcat.parse(demo_catalog["ttl"], "ttl")
    for fmt in ("jsonld", "rdf"):
        assert isomorphic(dcat.parse(demo_catalog[fmt], fmt), turtle), fmt


def test_the_demo_catalogue_lists_every_public_indicator_as_public(demo, demo_catalog):
    graph = dcat.parse(demo_catalog["ttl"], "ttl")
    public = public_context(demo.db, demo.settings)
    assert datasets_of(graph) == {i.code for i in ops.list_indicators(public)}
    assert {graph.value(dataset_iri(code), DCT.accessRights) for code in datasets_of(graph)} == {DCAT_PUBLIC}


def test_temporal_coverage_is_the_first_and_last_period_of_the_data(demo, demo_catalog):
    graph = dcat.parse(demo_catalog["ttl"], "ttl")
    public = public_context(demo.db, demo.settings)
    for ind in ops.list_indicators(public):
        found = ops.indicator_availability(public, ind.code)
        periods = sorted({p for level in found.levels for p in ops.indicator_availability(public, ind.code, level).periods})
        assert temporal(graph, ind.code) == (periods[0], periods[-1]), ind.code
    assert temporal(graph, "pop_total") == ("2009", "2015")  # Statbel population on 1 January, in the demo
    assert temporal(graph, "v2506_elek_res_cons") == ("2018", "2021")  # Fluvius consumption


def test_datasets_name_their_vocabulary_concepts(demo_catalog):
    graph = dcat.parse(demo_catalog["ttl"], "ttl")
    energy = dataset_iri("v2506_elek_res_cons")
    themes = set(graph.objects(energy, DCAT.theme))
    assert URIRef("http://publications.europa.eu/resource/authority/data-theme/ENER") in themes
    assert URIRef("http://vocab.belgif.be/auth/datatheme/ENVI") in themes
    assert graph.value(energy, DCT.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/ANNUAL")
    formats = {graph.value(d, DCT["format"]) for d in graph.objects(energy, DCAT.distribution)}
    assert {str(f).rsplit("/", 1)[1] for f in formats} == {"CSV", "XLSX", "JSON", "SDMX"}
    sdmx_urls = {str(u) for u in graph.objects(URIRef(f"{energy}/distributions/sdmx"), DCAT.downloadURL)}
    assert f"{BASE}/api/v1/sdmx?format=csv&indicator=v2506_elek_res_cons&level=ggw72024" in sdmx_urls
    csv = URIRef(f"{energy}/distributions/csv")
    urls = {str(u) for u in graph.objects(csv, DCAT.downloadURL)}
    assert f"{BASE}/download/observations.csv?indicator=v2506_elek_res_cons&level=ggw72024" in urls
    jsonstat = URIRef(f"{energy}/distributions/jsonstat")
    assert f"{BASE}/api/v1/jsonstat?indicator=v2506_elek_res_cons&level=gemeente2024" in {
        str(u) for u in graph.objects(jsonstat, DCAT.downloadURL)}
    assert graph.value(URIRef(f"{energy}/distributions/odata"), DCAT.accessService) == URIRef(
        f"{BASE}/catalog/services/odata")
    contact = graph.value(energy, DCAT.contactPoint)
    assert str(graph.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"))).startswith("mailto:")


def test_a_dataset_document_validates_on_its_own(demo):
    public = public_context(demo.db, demo.settings)
    document = ops.catalog_document(public, "ttl", dataset="share_65plus")
    result = ops.validate_catalog(public, document=document.text, fmt="ttl")
    assert result.conforms, result.summary()
    assert result.counts["datasets"] == 1 and result.counts["catalogs"] == 0
    assert result.counts["series"] == 2  # demografie, vergrijzing
    # what the document says, the catalogue says too (the same series, records, services)
    whole = dcat.parse(ops.catalog_document(public, "ttl").text, "ttl")
    part = dcat.parse(document.text, "ttl")
    assert not [t for t in part if t not in whole]


def test_obmi_catalog_validate_prints_a_summary_and_exits_0(demo):
    result = run_cli(demo.db, "lezer", "catalog", "validate")
    assert result.exit_code == 0, result.output
    assert "DCAT-AP 3.0.1 (SEMIC): conforms — 0 violations" in result.output
    assert "DCAT-AP Vlaanderen 3.0 (OBMi): conforms — 0 violations" in result.output
    assert "datasets" in result.output.splitlines()[0]


def test_obmi_catalog_validate_exits_1_on_a_broken_document(demo, tmp_path):
    exported = tmp_path / "catalogus.ttl"
    result = run_cli(demo.db, "lezer", "catalog", "export", str(exported))
    assert result.exit_code == 0, result.output
    graph = Graph().parse(exported, format="turtle")
    graph.remove((dataset_iri("pop_total"), DCT.identifier, None))
    broken = tmp_path / "kapot.jsonld"
    broken.write_text(dcat.serialise(graph, "jsonld"), encoding="utf-8")
    result = run_cli(demo.db, "lezer", "catalog", "validate", "--file", str(broken))
    assert result.exit_code == 1, result.output
    assert "DCAT-AP Vlaanderen 3.0 (OBMi): does not conform — 1 violations" in result.output
    assert f"{dataset_iri('pop_total')} dct:identifier" in result.output


# --- access, caching and the web, on SQLite and PostgreSQL ---------------------------------------

POPULATION = [STATBEL / "TF_SOC_POP_STRUCT_2014.txt.gz", STATBEL / "TF_SOC_POP_STRUCT_2015.txt.gz"]
# Real 2015 population of three municipalities (Statbel TF_SOC_POP_STRUCT_2015), as the city's own
# counts: one indicator for its analysts only, one public from the province up (with the provinces'
# 2015 population as imported from the same file).
OWN_VALUES = {"11002": 513570, "31005": 117915, "44021": 253266}
PRIVATE = {"code": "stad_eigen_telling", "name_nl": "Eigen telling", "unit": "personen", "is_count": True,
           "organisation": "stad", "access": "analysts", "themes": ["demografie"]}
FROM_PROVINCE = {"code": "stad_telling_provincie", "name_nl": "Telling per provincie", "unit": "personen",
                 "is_count": True, "organisation": "stad", "public_from_level": "provincie", "themes": ["demografie"]}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, db_factories, templates, tmp_path_factory, shared_data):
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "geo", load_geography))
    tmp = tmp_path_factory.mktemp("dcat")
    root = system(db)
    for path in POPULATION:
        ops.import_statbel(root, path)
    org(root, "stad", "Stad Gent", host=True)
    org(root, "buur", "Buurgemeente")
    coordinator = user(root, "coordinator", "coordinator", org="stad")
    catalogue(coordinator, tmp, PRIVATE, FROM_PROVINCE)
    provinces = ops.query_observations(root, ObservationQuery("pop_total", "provincie", "2015")).rows
    observations(coordinator, tmp, [{"indicator": ind["code"], "level": "gemeente", "area": code, "period": "2015",
                                     "value": value} for code, value in OWN_VALUES.items()
                                    for ind in (PRIVATE, FROM_PROVINCE)]
                 + [{"indicator": FROM_PROVINCE["code"], "level": "provincie", "area": r.area_code, "period": "2015",
                     "value": r.value} for r in provinces])
    user(root, "analist", "analyst", org="stad")
    user(root, "analist_buur", "analyst", org="buur")
    tokens = {name: ops.create_token(root, name, scope="read").token for name in ("analist", "analist_buur")}
    client = TestClient(create_app(root.settings, db))
    yield {"db": db, "root": root, "coordinator": coordinator, "client": client, "tokens": tokens, "tmp": tmp}
    db.dispose()


def get(world, url: str, who: str | None = None, **headers: str):
    if who:
        headers["Authorization"] = f"Bearer {world['tokens'][who]}"
    return world["client"].get(url, headers=headers, follow_redirects=False)


def catalog_of(world, who: str | None = None) -> Graph:
    response = get(world, "/catalog.ttl", who)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=response.text, format="turtle")


def test_the_public_catalogue_lists_only_public_datasets(world):
    public = catalog_of(world)
    assert PRIVATE["code"] not in datasets_of(public)
    assert {"pop_total", FROM_PROVINCE["code"]} <= datasets_of(public)
    assert {str(a) for code in datasets_of(public) for a in public.objects(dataset_iri(code), DCT.accessRights)} == {PUBLIC}
    assert PRIVATE["code"] not in get(world, "/catalog.jsonld").text
    assert get(world, f"/catalog/datasets/{PRIVATE['code']}.ttl").status_code == 404
    assert get(world, f"/catalog/datasets/{PRIVATE['code']}.ttl", "analist_buur").status_code == 404
    assert PRIVATE["code"] not in datasets_of(catalog_of(world, "analist_buur"))


def test_the_analyst_sees_the_non_public_dataset_as_non_public(world):
    graph = catalog_of(world, "analist")
    assert graph.value(dataset_iri(PRIVATE["code"]), DCT.accessRights) == NON_PUBLIC
    assert graph.value(dataset_iri("pop_total"), DCT.accessRights) == DCAT_PUBLIC
    document = get(world, f"/catalog/datasets/{PRIVATE['code']}.rdf", "analist")
    assert document.status_code == 200 and document.headers["content-type"].startswith("application/rdf+xml")
    result = ops.validate_catalog(world["coordinator"], audience="internal")
    assert result.conforms, result.summary()
    # the public audience from the command line is the public's catalogue, whoever runs it
    public = ops.catalog_document(world["coordinator"], "ttl", audience="public").text
    assert PRIVATE["code"] not in public


def test_levels_below_the_public_level_are_offered_to_the_analyst_only(world):
    csv = URIRef(f"{dataset_iri(FROM_PROVINCE['code'])}/distributions/csv")

    def levels(graph: Graph) -> set[str]:
        return {str(u).rsplit("level=", 1)[1] for u in graph.objects(csv, DCAT.downloadURL)}
    assert "gemeente" not in levels(catalog_of(world)) and "provincie" in levels(catalog_of(world))
    assert {"gemeente", "provincie"} <= levels(catalog_of(world, "analist"))


def test_the_world_validates_and_its_coverage_is_the_data(world):
    public = public_context(world["db"], world["root"].settings)
    result = ops.validate_catalog(public)
    assert result.conforms and result.violations == 0, result.summary()
    graph = catalog_of(world)
    assert temporal(graph, "pop_total") == ("2014", "2015")
    assert temporal(graph, FROM_PROVINCE["code"]) == ("2015", "2015")
    places = {str(p) for p in graph.objects(dataset_iri("pop_total"), DCT.spatial)}
    assert places and all(p.startswith(f"{BASE}/gebieden/") for p in places)


def test_the_iris_redirect_to_their_documents(world):
    assert get(world, "/catalog", accept="application/ld+json").headers["location"] == "/catalog.jsonld"
    assert get(world, "/catalog").headers["location"] == "/catalog.ttl"
    found = get(world, "/catalog/datasets/pop_total", accept="text/html")
    assert found.status_code == 303 and found.headers["location"] == "/indicatoren/pop_total"
    assert get(world, "/catalog/datasets/pop_total", accept="text/turtle").headers["location"] == \
        "/catalog/datasets/pop_total.ttl"
    assert get(world, "/catalog.nt").status_code == 404


def test_answers_carry_an_etag_of_the_data_version(world):
    first = get(world, "/catalog.ttl")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert get(world, "/catalog.ttl", **{"if-none-match": etag}).status_code == 304
    assert get(world, "/catalog.ttl", "analist").headers["etag"] != etag  # another audience, another tag
    assert get(world, "/catalog.rdf").headers["etag"] != etag
    # a write advances the data version: the old tag no longer matches, and the catalogue says what
    # changed (an older Statbel population file widens the population's coverage)
    version = ops.data_version(world["root"]).version
    ops.import_statbel(world["root"], STATBEL / "TF_SOC_POP_STRUCT_2012.txt.gz")
    assert ops.data_version(world["root"]).version > version
    again = get(world, "/catalog.ttl", **{"if-none-match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag
    assert temporal(Graph().parse(data=again.text, format="turtle"), "pop_total") == ("2012", "2015")
    assert get(world, "/catalog.ttl", **{"if-none-match": again.headers["etag"]}).status_code == 304
