"""Validation of a DCAT-AP catalogue with pyshacl against two sets of shapes:

- `dcat-ap-3.0.1` — the official DCAT-AP 3.0.1 shapes of SEMIC, shipped unchanged in
  `obmi/publish/shapes/dcat-ap-3.0.1/` (CC BY 4.0, see the NOTICE there): `dcat-ap-SHACL.ttl` and
  `ranges.ttl` are one shapes graph (the first refers to two property shapes that only the second
  defines). The release's `ranges.ttl` also lists five property shapes it never defines (no
  `sh:path`, no constraint); pyshacl refuses such a graph, so those references are dropped when
  loading — they constrain nothing. The class checks need DCAT's class hierarchy
  (`shapes/dcat-classes.ttl`), given to pyshacl as the ontology graph.
- `dcat-ap-vl` — OBMi's shapes for the cardinalities of DCAT-AP Vlaanderen 3.0
  (`shapes/dcat-ap-vl.ttl`).

No inference beyond that class hierarchy: what the catalogue states is what is checked."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, NamespaceManager
from rdflib.term import Node

from obmi.publish.dcat import DCAT, PREFIXES

SHAPES = Path(__file__).parent / "shapes"
OFFICIAL = SHAPES / "dcat-ap-3.0.1"
OFFICIAL_FILES = ("dcat-ap-SHACL.ttl", "ranges.ttl")
VL_FILE = SHAPES / "dcat-ap-vl.ttl"
ONTOLOGY_FILE = SHAPES / "dcat-classes.ttl"
SEVERITIES: dict[Node | None, str] = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}


@dataclass(frozen=True)
class Finding:
    severity: str
    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.focus} {self.path}: {self.message}"


@dataclass(frozen=True)
class ShapesReport:
    name: str
    conforms: bool
    findings: tuple[Finding, ...]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def violations(self) -> int:
        return self.count("violation")


@dataclass(frozen=True)
class Validation:
    triples: int
    counts: dict[str, int]  # catalogs, datasets, series, distributions, services, records
    reports: tuple[ShapesReport, ...]

    @property
    def conforms(self) -> bool:
        return all(r.conforms for r in self.reports)

    @property
    def violations(self) -> int:
        return sum(r.violations for r in self.reports)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        lines = [f"{self.triples} triples: {counts}"]
        for report in self.reports:
            verdict = "conforms" if report.conforms else "does not conform"
            lines.append(f"{report.name}: {verdict} — {report.violations} violations, {report.count('warning')} "
                         f"warnings, {report.count('info')} infos")
        return "\n".join(lines)


def _load(paths: list[Path]) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@lru_cache(maxsize=1)
def official_shapes() -> Graph:
    """The DCAT-AP 3.0.1 shapes as one graph, without references to undefined property shapes."""
    graph = _load([OFFICIAL / name for name in OFFICIAL_FILES])
    for shape, prop in list(graph.subject_objects(SH.property)):
        if (prop, None, None) not in graph:
            graph.remove((shape, SH.property, prop))
    return graph


@lru_cache(maxsize=1)
def vl_shapes() -> Graph:
    return _load([VL_FILE])


@lru_cache(maxsize=1)
def ontology() -> Graph:
    return _load([ONTOLOGY_FILE])


def shape_sets() -> dict[str, Graph]:
    return {"DCAT-AP 3.0.1 (SEMIC)": official_shapes(), "DCAT-AP Vlaanderen 3.0 (OBMi)": vl_shapes()}


def _names() -> NamespaceManager:
    names = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        names.bind(prefix, namespace)
    return names


def _findings(report: Graph) -> tuple[Finding, ...]:
    names, out = _names(), []
    # The results of the report itself, not the nested sh:detail of an sh:node result.
    for result in (r for top in report.subjects(RDF.type, SH.ValidationReport) for r in report.objects(top, SH.result)):
        messages = list(report.objects(result, SH.resultMessage))
        english = [m for m in messages if isinstance(m, Literal) and m.language in (None, "en")]
        message = str((english or messages or [""])[0])
        path = report.value(result, SH.resultPath)
        out.append(Finding(SEVERITIES.get(report.value(result, SH.resultSeverity), "violation"),
                           str(report.value(result, SH.focusNode)),
                           names.normalizeUri(path) if isinstance(path, URIRef) else str(path or ""),
                           message, str(report.value(result, SH.sourceShape))))
    return tuple(sorted(out, key=lambda f: (f.focus, f.path, f.message)))


def count_entities(graph: Graph) -> dict[str, int]:
    kinds = {"catalogs": DCAT.Catalog, "datasets": DCAT.Dataset, "series": DCAT.DatasetSeries,
             "distributions": DCAT.Distribution, "services": DCAT.DataService, "records": DCAT.CatalogRecord}
    counts = {kind: len(set(graph.subjects(RDF.type, cls))) for kind, cls in kinds.items()}
    counts["datasets"] -= counts["series"]  # a series is also typed a dataset: count the indicators
    return counts


def validate(graph: Graph) -> Validation:
    """Both shape sets over `graph`; the report of each."""
    import pyshacl  # a second or so to import: only when validating

    reports = []
    for name, shapes in shape_sets().items():
        conforms, report, _ = pyshacl.validate(graph, shacl_graph=shapes, ont_graph=ontology(), inference="none",
                                               advanced=False, allow_warnings=True)
        assert isinstance(report, Graph)
        reports.append(ShapesReport(name, bool(conforms), _findings(report)))
    return Validation(len(graph), count_entities(graph), tuple(reports))
