"""The open-data catalogue in DCAT-AP 3 (with the extra cardinalities of DCAT-AP Vlaanderen), as
an rdflib Graph built from plain data — no database, no web: `obmi.operations.opendata` gathers
what an audience may see and hands it here; `obmi.publish.dcat_validation` checks the result.

What the catalogue holds (docs/open-data.md):

- a `dcat:Dataset` per indicator, and a `dcat:DatasetSeries` per theme (each indicator is
  `dcat:inSeries` of its themes' series);
- per dataset six distributions — CSV, XLSX and JSON (the downloads), JSON-stat and a Frictionless
  data package (under the JSON API), and the OData service — with a download URL per area level;
- two `dcat:DataService`s: the JSON API (`/api/v1`, described by `/openapi.json`) and the OData
  service (`/odata/`, described by `/odata/$metadata`);
- a `dcat:CatalogRecord` per dataset and per series.

Every value that names a concept comes from a controlled vocabulary: the EU Publications Office
authority tables (data theme, access right, frequency, file type, language) and the data.gov.be
themes (`http://vocab.belgif.be/auth/datatheme`, the list DCAT-AP Vlaanderen recommends). The
referenced concepts carry the types and labels the DCAT-AP shapes ask for (`skos:Concept` with a
`skos:prefLabel`, `dct:RightsStatement`, `dct:Frequency`, …), so that the catalogue validates on
its own, without fetching the vocabularies. Labels of the EU tables are their own (English and
Dutch; EU Vocabularies, © European Union, reused under Commission Decision 2011/833/EU).

Nodes have stable IRIs under the instance's base URL (no blank nodes), so two builds of the same
data are the same graph, in every serialisation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from obmi.indicators.catalogue import Indicator
from obmi.indicators.periods import parse_period
from obmi.publish.licences import known_licence
from obmi.timeutil import as_utc

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
PREFIXES = {"adms": ADMS, "dcat": DCAT, "dct": DCT, "foaf": FOAF, "rdf": RDF, "rdfs": RDFS, "skos": SKOS,
            "vcard": VCARD, "xsd": XSD}

EU = "http://publications.europa.eu/resource/authority/"
EU_THEMES = EU + "data-theme"
BE_THEMES = "http://vocab.belgif.be/auth/datatheme"
IANA = "https://www.iana.org/assignments/media-types/"
DCAT_AP = "https://semiceu.github.io/DCAT-AP/releases/3.0.1"
# DCAT-AP Vlaanderen fixes the licence of a catalogue's own metadata: CC0, so that catalogues can
# be harvested and shared again.
METADATA_LICENCE = "https://data.vlaanderen.be/id/licentie/creative-commons-zero-verklaring/v1.0"
LOCAL_AUTHORITY = "http://purl.org/adms/publishertype/LocalAuthority"
LANGUAGES = {"nl": (EU + "language/NLD", "Nederlands", "Dutch"), "en": (EU + "language/ENG", "Engels", "English")}

# The concepts the catalogue can name, with their labels (nl, en).
EU_THEME_LABELS = {
    "ECON": ("Economie en financiën", "Economy and finance"), "ENER": ("Energie", "Energy"),
    "ENVI": ("Milieu", "Environment"), "REGI": ("Regio's en steden", "Regions and cities"),
    "SOCI": ("Bevolking en samenleving", "Population and society"),
}
# The data.gov.be themes extend the EU table slightly, with the same codes and Dutch labels. Only
# codes found in use in the Flemish and federal catalogues are listed: no energy theme was found in
# the Belgian list, so energy datasets carry the EU ENER and the Belgian ENVI (environment).
BE_THEME_LABELS = {code: EU_THEME_LABELS[code] for code in ("ECON", "ENVI", "REGI", "SOCI")}
ACCESS_RIGHTS = {"PUBLIC": ("openbaar", "public"), "RESTRICTED": ("beperkt", "restricted"),
                 "NON_PUBLIC": ("niet-openbaar", "non-public")}
FREQUENCIES = {"ANNUAL": ("jaarlijks", "annual"), "QUARTERLY": ("driemaandelijks", "quarterly"),
               "MONTHLY": ("maandelijks", "monthly"), "IRREG": ("onregelmatig", "irregular")}
# OBMi period types → how often such figures come; a reference date or a survey edition has no
# fixed rhythm.
PERIOD_FREQUENCY = {"year": "ANNUAL", "quarter": "QUARTERLY", "month": "MONTHLY", "date": "IRREG", "edition": "IRREG"}


@dataclass(frozen=True)
class Theme:
    name_nl: str
    name_en: str
    eu: tuple[str, ...]  # EU data-theme codes
    be: tuple[str, ...]  # data.gov.be theme codes


# OBMi's themes (the `themes` of indicator definitions) and the vocabulary themes they fall under.
THEMES = {
    "demografie": Theme("Demografie", "Population", ("SOCI",), ("SOCI",)),
    "vergrijzing": Theme("Vergrijzing", "Ageing", ("SOCI",), ("SOCI",)),
    "diversiteit": Theme("Diversiteit", "Diversity", ("SOCI",), ("SOCI",)),
    "inkomen": Theme("Inkomen", "Income", ("ECON", "SOCI"), ("ECON", "SOCI")),
    "ruimte": Theme("Ruimte en bodemgebruik", "Land use", ("REGI", "ENVI"), ("REGI", "ENVI")),
    "energie": Theme("Energie", "Energy", ("ENER", "ENVI"), ("ENVI",)),
    "overige": Theme("Overige", "Other", (), ()),
}
ACCESS_OF = {"public": "PUBLIC", "analysts": "NON_PUBLIC", "groups": "RESTRICTED"}


@dataclass(frozen=True)
class Format:
    key: str  # the distribution's last IRI segment
    label: str
    file_type: str  # EU file-type code
    media_type: str  # IANA media type
    path: str | None  # download URL of one level: path?indicator=CODE&level=LEVEL (None: the OData service)
    service: str | None = None  # the data service that gives access ("api", "odata")
    standard: tuple[str, str] | None = None  # (IRI, title) of the specification the data follows
    package: str | None = None  # IANA media type of the package the files come in (dcat:packageFormat)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = (
    Format("csv", "CSV", "CSV", "text/csv", "/download/observations.csv"),
    Format("xlsx", "XLSX", "XLSX", XLSX_TYPE, "/download/observations.xlsx"),
    Format("json", "JSON", "JSON", "application/json", "/download/observations.json"),
    Format("jsonstat", "JSON-stat", "JSON", "application/json", "/api/v1/jsonstat", "api",
           ("https://json-stat.org/format/", "JSON-stat 2.0")),
    # A zip of datapackage.json and a CSV per indicator: the data is CSV, packaged.
    Format("datapackage", "Frictionless data package", "CSV", "text/csv", "/api/v1/datapackage", "api",
           ("https://datapackage.org/standard/data-package/", "Data Package (Frictionless Standard 2.0)"),
           "application/zip"),
    # SDMX-CSV 2.0 is CSV with SDMX's header row; its data structure is at format=structure.
    Format("sdmx", "SDMX-CSV", "SDMX", "text/csv", "/api/v1/sdmx?format=csv", "api",
           ("https://github.com/sdmx-twg/sdmx-csv", "SDMX-CSV 2.0")),
    Format("odata", "OData", "JSON", "application/json", None, "odata"),
)


@dataclass(frozen=True)
class Service:
    key: str
    title_nl: str
    title_en: str
    description_nl: str
    description_en: str
    endpoint: str  # path of the endpoint URL
    description_path: str  # path of the machine-readable description


SERVICES = (
    Service("api", "JSON-API", "JSON API",
            "De JSON-API van de statistieken: indicatoren, gebieden, waarnemingen, tijdreeksen, steekkaarten, "
            "JSON-stat en Frictionless datapakketten.",
            "The JSON API of the statistics: indicators, areas, observations, time series, fact sheets, JSON-stat "
            "and Frictionless data packages.", "/api/v1", "/openapi.json"),
    Service("odata", "OData-dienst", "OData service",
            "De statistieken als OData-dienst, voor Power BI, Excel en andere BI-hulpmiddelen.",
            "The statistics as an OData service, for Power BI, Excel and other BI tools.", "/odata/",
            "/odata/$metadata"),
)
SERVICE_OF = {service.key: service for service in SERVICES}


@dataclass(frozen=True)
class Agent:
    iri: str
    name: str
    local_authority: bool = False  # a municipality, OCMW or AGB (ADMS publisher type)


@dataclass(frozen=True)
class Level:
    code: str
    name_nl: str
    name_en: str


@dataclass(frozen=True)
class Place:
    level: str
    code: str
    name: str


@dataclass(frozen=True)
class DatasetEntry:
    """One indicator as the audience sees it: its definition, the levels with data it may see
    (fine to coarse), its first and last period, when its data was first and last written (the
    provenance records of the imports), the areas it covers and who publishes it."""

    indicator: Indicator
    levels: tuple[Level, ...]
    first_period: str | None
    last_period: str | None
    issued: datetime | None
    modified: datetime | None
    places: tuple[Place, ...]
    publisher: Agent


@dataclass(frozen=True)
class CatalogInfo:
    base_url: str
    site_name: str
    publisher: Agent
    contact_email: str
    licence: str  # IRI of the data's licence, for indicators whose licence is not a known one
    issued: datetime | None = None
    modified: datetime | None = None
    keywords: tuple[str, ...] = ()  # added to every dataset (in Dutch)


class Iris:
    """The stable IRIs of the catalogue's nodes."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")

    def __call__(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    @property
    def catalog(self) -> URIRef:
        return self("/catalog")

    def dataset(self, code: str) -> URIRef:
        return self(f"/catalog/datasets/{code}")

    def distribution(self, code: str, fmt: str) -> URIRef:
        return self(f"/catalog/datasets/{code}/distributions/{fmt}")

    def series(self, theme: str) -> URIRef:
        return self(f"/catalog/series/{theme}")

    def record(self, key: str) -> URIRef:
        return self(f"/catalog/records/{key}")

    def service(self, key: str) -> URIRef:
        return self(f"/catalog/services/{key}")

    def publisher(self, organisation: str) -> URIRef:
        return self(f"/catalog/publishers/{organisation}")

    @property
    def contact(self) -> URIRef:
        return self("/catalog/contact")


def text(value: str, lang: str) -> Literal:
    return Literal(value, lang=lang)


def timestamp(value: datetime) -> Literal:
    """A moment with its time zone (DCAT-AP Vlaanderen asks for one), to the second."""
    return Literal(as_utc(value).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def period_bounds(period: str) -> tuple[Literal, Literal]:
    """A period as the start and end of a dct:PeriodOfTime, in the precision of the period: a
    year as xsd:gYear, a month as xsd:gYearMonth, a date as xsd:date, a quarter by its first and
    last day, a survey edition by its year."""
    text_, kind = parse_period(period)
    if kind == "year":
        return Literal(text_, datatype=XSD.gYear), Literal(text_, datatype=XSD.gYear)
    if kind == "month":
        return Literal(text_, datatype=XSD.gYearMonth), Literal(text_, datatype=XSD.gYearMonth)
    if kind == "date":
        return Literal(text_, datatype=XSD.date), Literal(text_, datatype=XSD.date)
    if kind == "quarter":
        year, quarter = int(text_[:4]), int(text_[-1])
        first = date(year, 3 * quarter - 2, 1)
        after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        last = date.fromordinal(after.toordinal() - 1)
        return Literal(first.isoformat(), datatype=XSD.date), Literal(last.isoformat(), datatype=XSD.date)
    year_ = text_[-4:]
    return Literal(year_, datatype=XSD.gYear), Literal(year_, datatype=XSD.gYear)


def theme_names(code: str) -> tuple[str, str]:
    theme = THEMES.get(code)
    return (theme.name_nl, theme.name_en) if theme else (code, code)


class CatalogBuilder:
    """Adds the catalogue's statements to one graph; supporting nodes (concepts, agents, licences)
    are described once, however many datasets name them."""

    def __init__(self, info: CatalogInfo):
        self.info = info
        self.iri = Iris(info.base_url)
        self.graph = Graph()
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.described: set[URIRef] = set()

    def add(self, subject: URIRef, predicate: URIRef, value: object) -> None:
        self.graph.add((subject, predicate, value if isinstance(value, (URIRef, Literal)) else Literal(value)))

    def texts(self, subject: URIRef, predicate: URIRef, nl: str, en: str) -> None:
        """A text in Dutch and English (either may be empty: absent)."""
        if nl:
            self.add(subject, predicate, text(nl, "nl"))
        if en:
            self.add(subject, predicate, text(en, "en"))

    def once(self, node: URIRef) -> bool:
        """True the first time a supporting node is met (describe it then)."""
        if node in self.described:
            return False
        self.described.add(node)
        return True

    # --- supporting nodes -------------------------------------------------------------------

    def concept(self, iri: str, kind: URIRef, labels: tuple[str, str], scheme: str | None = None) -> URIRef:
        node = URIRef(iri)
        if self.once(node):
            self.add(node, RDF.type, kind)
            self.texts(node, SKOS.prefLabel, *labels)
            if scheme is not None:
                self.add(node, RDF.type, SKOS.Concept)
                self.add(node, SKOS.inScheme, self.scheme(scheme))
        return node

    def scheme(self, iri: str) -> URIRef:
        node = URIRef(iri)
        if self.once(node):
            self.add(node, RDF.type, SKOS.ConceptScheme)
            title = "Data theme" if iri == EU_THEMES else "Data.gov.be themes"
            self.add(node, DCT.title, text(title, "en"))
        return node

    def themes(self, subject: URIRef, codes: Iterable[str]) -> None:
        for code in codes:
            theme = THEMES.get(code)
            if theme is None:
                continue
            for eu in theme.eu:
                self.add(subject, DCAT.theme, self.concept(f"{EU_THEMES}/{eu}", SKOS.Concept, EU_THEME_LABELS[eu],
                                                           EU_THEMES))
            for be in theme.be:
                self.add(subject, DCAT.theme, self.concept(f"{BE_THEMES}/{be}", SKOS.Concept, BE_THEME_LABELS[be],
                                                           BE_THEMES))

    def typed(self, iri: str, kind: URIRef, label: str | None = None) -> URIRef:
        node = URIRef(iri)
        if self.once(node):
            self.add(node, RDF.type, kind)
            if label:
                self.add(node, RDFS.label, Literal(label))
        return node

    def agent(self, agent: Agent) -> URIRef:
        node = URIRef(agent.iri)
        if self.once(node):
            self.add(node, RDF.type, FOAF.Agent)
            self.add(node, RDF.type, FOAF.Organization)
            self.add(node, FOAF.name, text(agent.name, "nl"))
            if agent.local_authority:
                self.add(node, DCT.type, self.concept(LOCAL_AUTHORITY, SKOS.Concept, ("", "Local Authority")))
        return node

    def contact(self) -> URIRef:
        node = self.iri.contact
        if self.once(node):
            self.add(node, RDF.type, VCARD.Kind)
            self.add(node, RDF.type, VCARD.Organization)
            self.add(node, VCARD.fn, text(self.info.publisher.name, "nl"))
            self.add(node, VCARD.hasEmail, URIRef(f"mailto:{self.info.contact_email}"))
        return node

    def access(self, code: str) -> URIRef:
        return self.concept(f"{EU}access-right/{code}", DCT.RightsStatement, ACCESS_RIGHTS[code])

    def language(self, lang: str) -> URIRef:
        iri, nl, en = LANGUAGES[lang]
        return self.concept(iri, DCT.LinguisticSystem, (nl, en))

    def licence(self, iri: str) -> URIRef:
        return self.typed(iri, DCT.LicenseDocument)

    def document(self, url: str) -> URIRef:
        return self.typed(url, FOAF.Document)

    def common(self, subject: URIRef, publisher: Agent, access: str) -> None:
        """What DCAT-AP Vlaanderen asks of every dataset and data service: one identifier, access
        rights, contact point and publisher."""
        self.add(subject, DCT.identifier, Literal(str(subject)))
        self.add(subject, DCT.publisher, self.agent(publisher))
        self.add(subject, DCAT.contactPoint, self.contact())
        self.add(subject, DCT.accessRights, self.access(access))

    # --- the main entities ------------------------------------------------------------------

    def catalog(self, entries: list[DatasetEntry]) -> None:
        info, node = self.info, self.iri.catalog
        self.add(node, RDF.type, DCAT.Catalog)
        self.add(node, DCT.identifier, Literal(str(node)))
        self.texts(node, DCT.title, f"Open data van {info.site_name}", f"Open data of {info.site_name}")
        self.texts(node, DCT.description,
                   f"De statistieken die {info.site_name} publiceert (Stad in cijfers): een dataset per "
                   "indicator, een reeks per thema, te downloaden als CSV, XLSX, JSON, JSON-stat en Frictionless "
                   "datapakket, en via de JSON-API en de OData-dienst.",
                   f"The statistics {info.site_name} publishes: a dataset per indicator, a series per theme, "
                   "downloadable as CSV, XLSX, JSON, JSON-stat and Frictionless data package, and through the "
                   "JSON API and the OData service.")
        self.add(node, DCT.publisher, self.agent(info.publisher))
        self.add(node, DCAT.contactPoint, self.contact())
        self.add(node, DCT.license, self.licence(METADATA_LICENCE))
        self.add(node, FOAF.homepage, self.document(self.iri.base + "/"))
        for lang in LANGUAGES:
            self.add(node, DCT.language, self.language(lang))
        for scheme in (EU_THEMES, BE_THEMES):
            self.add(node, DCAT.themeTaxonomy, self.scheme(scheme))
        if info.issued is not None:
            self.add(node, DCT.issued, timestamp(info.issued))
        if info.modified is not None:
            self.add(node, DCT.modified, timestamp(info.modified))
        for entry in entries:
            self.add(node, DCAT.dataset, self.iri.dataset(entry.indicator.code))
            self.add(node, DCAT.record, self.iri.record(entry.indicator.code))
            for place in entry.places:
                self.add(node, DCT.spatial, self.place(place))
        for theme in series_of(entries):
            self.add(node, DCAT.dataset, self.iri.series(theme))
            self.add(node, DCAT.record, self.iri.record(f"series-{theme}"))
        for service in SERVICES:
            self.add(node, DCAT.service, self.iri.service(service.key))

    def place(self, place: Place) -> URIRef:
        node = self.iri(f"/gebieden/{place.level}/{place.code}")
        if self.once(node):
            self.add(node, RDF.type, DCT.Location)
            self.add(node, SKOS.prefLabel, text(place.name, "nl"))
        return node

    def dataset(self, entry: DatasetEntry) -> None:
        ind, node = entry.indicator, self.iri.dataset(entry.indicator.code)
        self.add(node, RDF.type, DCAT.Dataset)
        self.common(node, entry.publisher, ACCESS_OF.get(ind.access, "NON_PUBLIC"))
        identifier = URIRef(f"{node}#identifier")
        self.add(node, ADMS.identifier, identifier)
        self.add(identifier, RDF.type, ADMS.Identifier)
        self.add(identifier, SKOS.notation, Literal(ind.code))
        self.texts(node, DCT.title, ind.name_nl, ind.name_en if ind.name_en != ind.name_nl else "")
        self.texts(node, DCT.description, *describe(entry))
        for code in ind.themes:
            for name, lang in zip(theme_names(code), ("nl", "en")):
                self.add(node, DCAT.keyword, text(name, lang))
            self.add(node, DCAT.inSeries, self.iri.series(code))
        for keyword in self.info.keywords:
            self.add(node, DCAT.keyword, text(keyword, "nl"))
        self.themes(node, ind.themes)
        frequency = PERIOD_FREQUENCY.get(ind.frequency, "IRREG")
        self.add(node, DCT.accrualPeriodicity, self.concept(f"{EU}frequency/{frequency}", DCT.Frequency,
                                                            FREQUENCIES[frequency]))
        self.add(node, DCT.language, self.language("nl"))
        self.add(node, DCAT.landingPage, self.document(f"{self.iri.base}/indicatoren/{ind.code}"))
        if entry.first_period and entry.last_period:
            temporal = URIRef(f"{node}#temporal")
            self.add(node, DCT.temporal, temporal)
            self.add(temporal, RDF.type, DCT.PeriodOfTime)
            self.add(temporal, DCAT.startDate, period_bounds(entry.first_period)[0])
            self.add(temporal, DCAT.endDate, period_bounds(entry.last_period)[1])
        for place in entry.places:
            self.add(node, DCT.spatial, self.place(place))
        if entry.issued is not None:
            self.add(node, DCT.issued, timestamp(entry.issued))
        if entry.modified is not None:
            self.add(node, DCT.modified, timestamp(entry.modified))
        if ind.source:
            provenance = URIRef(f"{node}#provenance")
            self.add(node, DCT.provenance, provenance)
            self.add(provenance, RDF.type, DCT.ProvenanceStatement)
            self.add(provenance, RDFS.label, text(f"Bron: {ind.source}", "nl"))
        for fmt in FORMATS:
            self.distribution(entry, fmt)
        self.record(ind.code, node, entry.issued, entry.modified)

    def distribution(self, entry: DatasetEntry, fmt: Format) -> None:
        ind = entry.indicator
        node = self.iri.distribution(ind.code, fmt.key)
        self.add(self.iri.dataset(ind.code), DCAT.distribution, node)
        self.add(node, RDF.type, DCAT.Distribution)
        self.add(node, DCT.identifier, Literal(str(node)))
        self.texts(node, DCT.title, f"{ind.name_nl} ({fmt.label})",
                   f"{ind.name_en} ({fmt.label})" if ind.name_en != ind.name_nl else "")
        levels_nl = ", ".join(level.name_nl for level in entry.levels)
        levels_en = ", ".join(level.name_en or level.name_nl for level in entry.levels)
        if fmt.path is None:
            self.texts(node, DCT.description, f"De waarden per gebied en periode via de {fmt.label}-dienst.",
                       f"The values per area and period through the {fmt.label} service.")
            self.add(node, DCAT.accessURL, self.iri(SERVICE_OF[fmt.service or ""].endpoint))
        else:
            self.texts(node, DCT.description,
                       f"De waarden per gebied en periode als {fmt.label}, een bestand per niveau ({levels_nl}).",
                       f"The values per area and period as {fmt.label}, one file per level ({levels_en}).")
            self.add(node, DCAT.accessURL, self.iri(f"/indicatoren/{ind.code}"))
            for level in entry.levels:
                joint = "&" if "?" in fmt.path else "?"
                self.add(node, DCAT.downloadURL,
                         self.iri(f"{fmt.path}{joint}indicator={ind.code}&level={level.code}"))
        if fmt.service is not None:
            self.add(node, DCAT.accessService, self.iri.service(fmt.service))
        self.add(node, DCT["format"], self.typed(f"{EU}file-type/{fmt.file_type}", DCT.MediaTypeOrExtent))
        self.add(node, DCAT.mediaType, self.typed(IANA + fmt.media_type, DCT.MediaType))
        if fmt.package is not None:
            self.add(node, DCAT.packageFormat, self.typed(IANA + fmt.package, DCT.MediaType))
        if fmt.standard is not None:
            self.add(node, DCT.conformsTo, self.typed(fmt.standard[0], DCT.Standard, fmt.standard[1]))
        own = ind.licence.strip()
        known = known_licence(own)
        self.add(node, DCT.license, self.licence(known.iri if known else self.info.licence))
        if own and known is None:  # the words stand as a rights statement; the IRI is the default
            rights = URIRef(f"{self.iri.dataset(ind.code)}#rights")
            self.add(node, DCT.rights, rights)
            if self.once(rights):
                self.add(rights, RDF.type, DCT.RightsStatement)
                self.add(rights, RDFS.label, text(own, "nl"))

    def series(self, theme: str, entries: list[DatasetEntry]) -> None:
        node = self.iri.series(theme)
        nl, en = theme_names(theme)
        self.add(node, RDF.type, DCAT.DatasetSeries)
        self.add(node, RDF.type, DCAT.Dataset)  # entailed by DCAT (a series is a dataset), stated for the shapes
        self.common(node, self.info.publisher, "PUBLIC" if all(e.indicator.access == "public" for e in entries)
                    else "RESTRICTED")
        self.texts(node, DCT.title, f"Thema {nl}", f"Theme {en}")
        self.texts(node, DCT.description, f"De indicatoren van het thema {nl.lower()}: {len(entries)} datasets.",
                   f"The indicators of the theme {en.lower()}: {len(entries)} datasets.")
        self.themes(node, [theme])
        self.add(node, DCAT.keyword, text(nl, "nl"))
        self.add(node, DCAT.keyword, text(en, "en"))
        dates = [e.modified for e in entries if e.modified is not None]
        issued = [e.issued for e in entries if e.issued is not None]
        if issued:
            self.add(node, DCT.issued, timestamp(min(issued)))
        if dates:
            self.add(node, DCT.modified, timestamp(max(dates)))
        self.record(f"series-{theme}", node, min(issued) if issued else None, max(dates) if dates else None)

    def service(self, service: Service, entries: list[DatasetEntry]) -> None:
        node = self.iri.service(service.key)
        self.add(node, RDF.type, DCAT.DataService)
        self.common(node, self.info.publisher, "PUBLIC")
        self.texts(node, DCT.title, f"{service.title_nl} van {self.info.site_name}",
                   f"{service.title_en} of {self.info.site_name}")
        self.texts(node, DCT.description, service.description_nl, service.description_en)
        endpoint, description = self.iri(service.endpoint), self.iri(service.description_path)
        self.add(node, DCAT.endpointURL, endpoint)
        self.add(node, DCAT.endpointDescription, description)
        # DCAT-AP declares both ranges rdfs:Resource; stated, since nothing is inferred here.
        self.add(endpoint, RDF.type, RDFS.Resource)
        self.add(description, RDF.type, RDFS.Resource)
        self.add(node, DCT.license, self.licence(self.info.licence))
        for entry in entries:
            self.add(node, DCAT.servesDataset, self.iri.dataset(entry.indicator.code))

    def record(self, key: str, topic: URIRef, issued: datetime | None, modified: datetime | None) -> None:
        node = self.iri.record(key)
        self.add(node, RDF.type, DCAT.CatalogRecord)
        self.add(node, DCT.identifier, Literal(str(node)))
        self.add(node, FOAF.primaryTopic, topic)
        self.add(node, DCT.conformsTo, self.typed(DCAT_AP, DCT.Standard, "DCAT-AP 3.0.1"))
        changed = modified or self.info.modified or issued
        if changed is not None:
            self.add(node, DCT.modified, timestamp(changed))
        if issued is not None:
            self.add(node, DCT.issued, timestamp(issued))


def series_of(entries: list[DatasetEntry]) -> dict[str, list[DatasetEntry]]:
    """Theme → its datasets, themes in first-seen order."""
    out: dict[str, list[DatasetEntry]] = {}
    for entry in entries:
        for theme in entry.indicator.themes:
            out.setdefault(theme, []).append(entry)
    return out


def describe(entry: DatasetEntry) -> tuple[str, str]:
    """The dataset's description (nl, en): the definition, or what the figures are."""
    ind = entry.indicator
    unit = f" ({ind.unit})" if ind.unit else ""
    nl = ind.definition_nl or f"{ind.name_nl}{unit} per gebied en periode."
    en = ind.definition_en or (f"{ind.name_en}{unit} per area and period." if ind.name_en != ind.name_nl else "")
    return nl, en


def build_catalog(info: CatalogInfo, entries: list[DatasetEntry], *, only: str | None = None) -> Graph:
    """The catalogue of `entries` — or, with `only`, the document of that one dataset: the dataset,
    its distributions and record, the series and services it is part of and the nodes they name,
    without the catalogue node."""
    builder = CatalogBuilder(info)
    if only is None:
        builder.catalog(entries)
        chosen = entries
    else:
        chosen = [e for e in entries if e.indicator.code == only]
    for entry in chosen:
        builder.dataset(entry)
    themes = {theme for entry in chosen for theme in entry.indicator.themes}
    for theme, members in series_of(entries).items():  # a series is the same in every document
        if theme in themes:
            builder.series(theme, members)
    for service in SERVICES:
        builder.service(service, chosen)
    return builder.graph


# --- serialisations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Serialisation:
    suffix: str
    rdflib_format: str
    media_type: str


SERIALISATIONS = {s.suffix: s for s in (
    Serialisation("ttl", "turtle", "text/turtle; charset=utf-8"),
    Serialisation("jsonld", "json-ld", "application/ld+json"),
    Serialisation("rdf", "pretty-xml", "application/rdf+xml"),
)}


def serialisation(suffix: str) -> Serialisation:
    try:
        return SERIALISATIONS[suffix]
    except KeyError:
        raise KeyError(f"unknown RDF format {suffix!r} (known: {', '.join(SERIALISATIONS)})") from None


def serialise(graph: Graph, suffix: str) -> str:
    """The graph in Turtle, JSON-LD (compacted with the catalogue's prefixes) or RDF/XML."""
    fmt = serialisation(suffix)
    if fmt.suffix == "jsonld":
        context = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
        data = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
        return json.dumps(_ordered(data), ensure_ascii=False, indent=1, sort_keys=True)
    return graph.serialize(format=fmt.rdflib_format)


def _ordered(value: Any) -> Any:
    """JSON-LD with its arrays in one order (they are sets here: the catalogue uses no @list), so
    that the same graph is always the same bytes."""
    if isinstance(value, dict):
        return {key: _ordered(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_ordered(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def parse(document: str, suffix: str) -> Graph:
    return Graph().parse(data=document, format=serialisation(suffix).rdflib_format.replace("pretty-", ""))
