"""SDMX: the data structure (DSD) and data messages in SDMX-CSV 2.0 and SDMX-JSON 2.0.

One dataflow per area level, `OBMI:DF_<LEVEL>(1.0)`, structured by `OBMI:DSD_<LEVEL>(1.0)`:

    dimensions  INDICATOR (CL_INDICATOR), REF_AREA (CL_AREA_<LEVEL>), TIME_PERIOD (time)
    measure     OBS_VALUE (Double; empty where there is no number)
    attributes  OBS_STATUS (CL_OBS_STATUS), UNIT_MEASURE (CL_UNIT_MEASURE), per observation

The structure message (SDMX-JSON 2.0: code lists, concept scheme, DSD, dataflow) is built with
pysdmx's information model and written by pysdmx's writer. The data messages are written here:
pysdmx writes SDMX-CSV only through pandas (its `data` extra, which pins an older pyarrow than
OBMi's) and no Python SDMX library writes SDMX-JSON data messages; the tests read both back with
pysdmx and validate them against the official SDMX-JSON schemas (docs/open-data-formats.md).

Code lists in a structure message hold the codes of the request (`isPartial`) except the areas
(every area of the level, or of the `within` area) and the statuses (all of them)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from obmi.errors import ValidationError
from obmi.indicators.observation import Status
from obmi.indicators.periods import period_type_of, sort_periods
from obmi.publish.datapackage import number_text
from obmi.publish.exchange import IndicatorTable, Level, Publisher, published_cell
from obmi.publish.jsonstat import timestamp

AGENCY = "OBMI"
VERSION = "1.0"
SDMX_CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
SDMX_JSON = "application/vnd.sdmx.data+json;version=2.0.0"
SDMX_STRUCTURE = "application/vnd.sdmx.structure+json;version=2.0.0"
DATA_SCHEMA = ("https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/2.0.0/"
               "sdmx-json-data-schema.json")
# OBMi status → SDMX cross-domain code list CL_OBS_STATUS (codes and their SDMX names). A withheld
# value is Q ("suppressed"); C ("confidential") is a code of CL_CONF_STATUS, not of CL_OBS_STATUS.
OBS_STATUS: dict[str, str] = {
    Status.FINAL: "A",
    Status.PROVISIONAL: "P",
    Status.ESTIMATED: "E",
    Status.SUPPRESSED: "Q",
    Status.NOT_APPLICABLE: "M",
    Status.MISSING: "O",
    Status.EMPTY: "L",
}
OBS_STATUS_NAMES = {
    "A": "Normal value", "P": "Provisional value", "E": "Estimated value", "Q": "Missing value; suppressed",
    "M": "Missing value; data cannot exist", "O": "Missing value",
    "L": "Missing value; data exist but were not collected",
}
NO_UNIT = "_Z"  # SDMX's "not applicable"
DIMENSIONS = ("INDICATOR", "REF_AREA", "TIME_PERIOD")
ATTRIBUTES = ("OBS_STATUS", "UNIT_MEASURE")
CSV_COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES)
CONCEPTS = {
    "INDICATOR": ("Indicator", "Indicator"), "REF_AREA": ("Gebied", "Reference area"),
    "TIME_PERIOD": ("Periode", "Time period"), "OBS_VALUE": ("Waarde", "Observation value"),
    "OBS_STATUS": ("Status van de waarde", "Observation status"), "UNIT_MEASURE": ("Eenheid", "Unit of measure"),
}
_SYMBOLS = {"%": " PCT ", "‰": " PERMILLE ", "€": " EUR ", "²": "2", "³": "3", "°": " DEG "}
_NOT_ID = re.compile(r"[^A-Za-z0-9]+")
_ID = re.compile(r"^[A-Za-z0-9_@$-]+$")


def _word(key: str, lang: str) -> str:
    nl, en = CONCEPTS[key]
    return en if lang == "en" else nl


def artefact_id(prefix: str, level: str) -> str:
    return f"{prefix}_{_NOT_ID.sub('_', level).upper()}"


def dataflow_ref(level: str) -> str:
    return f"{AGENCY}:{artefact_id('DF', level)}({VERSION})"


def urn(kind: str, ident: str) -> str:
    package = {"Dataflow": "datastructure", "DataStructure": "datastructure", "Codelist": "codelist",
               "ConceptScheme": "conceptscheme"}[kind]
    return f"urn:sdmx:org.sdmx.infomodel.{package}.{kind}={AGENCY}:{ident}({VERSION})"


def unit_code(unit: str) -> str:
    """An SDMX code for a free-text unit: `%` → PCT, `€ per inwoner` → EUR_PER_INWONER, none → _Z."""
    text = unit.strip()
    if not text:
        return NO_UNIT
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    code = _NOT_ID.sub("_", text).strip("_").upper()
    return code or "U" + hashlib.sha256(unit.encode()).hexdigest()[:8].upper()


def check_periods(tables: Sequence[IndicatorTable]) -> None:
    """SDMX's TIME_PERIOD is a time period: survey editions (stadsmonitor-2023) have no SDMX form."""
    editions = sorted({p for t in tables for p in t.periods if period_type_of(p) == "edition"})
    if editions:
        raise ValidationError(f"SDMX's TIME_PERIOD must be a time period; survey editions ({', '.join(editions[:3])}) "
                              "are offered in JSON-stat and the Data Package", {"format": ["no SDMX form"]})


def _check_ids(kind: str, codes: Sequence[str]) -> None:
    bad = [c for c in codes if not _ID.match(c)]
    if bad:
        raise ValidationError(f"{kind} codes {', '.join(bad[:3])} are not SDMX identifiers", {"format": ["no SDMX form"]})


def _cells(tables: Sequence[IndicatorTable]) -> list[tuple[IndicatorTable, str, str, float | None, str]]:
    """(table, area code, period, value, OBMi status) of every published row, in order."""
    cells = []
    for table in tables:
        for row in table.rows:
            value, status = published_cell(row)
            cells.append((table, row.area_code, row.period, value, status))
    return cells


# --- data messages ------------------------------------------------------------------------

def data_csv(tables: Sequence[IndicatorTable], level: Level) -> bytes:
    """SDMX-CSV 2.0: one row per published observation of the dataflow of `level`."""
    check_periods(tables)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    flow = dataflow_ref(level.code)
    for table, area, period, value, status in _cells(tables):
        writer.writerow(["dataflow", flow, "I", table.indicator.code, area, period, number_text(value),
                         OBS_STATUS[status], unit_code(table.indicator.unit)])
    return out.getvalue().encode("utf-8")


def message_id(publisher: Publisher, *parts: str) -> str:
    digest = hashlib.sha256("|".join((publisher.data_version, *parts)).encode()).hexdigest()[:24]
    return f"OBMI-{digest}"


def data_json(tables: Sequence[IndicatorTable], level: Level, *, lang: str, publisher: Publisher) -> dict[str, Any]:
    """An SDMX-JSON 2.0 data message: every dimension at observation level, each observation
    `[OBS_VALUE, OBS_STATUS index, UNIT_MEASURE index]` keyed by its dimension indices."""
    check_periods(tables)
    cells = _cells(tables)
    indicators = [t.indicator for t in tables]
    areas: dict[str, str] = {}
    for table in tables:
        areas.update({r.area_code: r.area_name for r in table.rows})
    area_codes = sorted(areas)
    periods = sort_periods({c[2] for c in cells})
    statuses = sorted(set(OBS_STATUS.values()), key=list(OBS_STATUS.values()).index)
    units = list(dict.fromkeys(unit_code(i.unit) for i in indicators))
    unit_names = {unit_code(i.unit): i.unit or "-" for i in indicators}
    ind_index = {i.code: n for n, i in enumerate(indicators)}
    area_index = {code: n for n, code in enumerate(area_codes)}
    period_index = {p: n for n, p in enumerate(periods)}
    observations: dict[str, list[Any]] = {}
    for table, area, period, value, status in cells:
        key = f"{ind_index[table.indicator.code]}:{area_index[area]}:{period_index[period]}"
        observations[key] = [value, statuses.index(OBS_STATUS[status]), units.index(unit_code(table.indicator.unit))]

    def dimension(ident: str, position: int, values: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
        return {"id": ident, "name": _word(ident, lang), "keyPosition": position, **extra, "values": values}

    links = [{"rel": "dataflow", "urn": urn("Dataflow", artefact_id("DF", level.code)),
              "href": f"{publisher.base_url}/api/v1/sdmx?level={level.code}&format=structure"}]
    structure = {
        "links": links,
        "name": f"{', '.join(t.name(lang) for t in tables)} — {level.name(lang)}",
        "dimensions": {"dataSet": [], "series": [], "observation": [
            dimension("INDICATOR", 0, [{"id": t.indicator.code, "name": t.name(lang)} for t in tables]),
            dimension("REF_AREA", 1, [{"id": c, "name": areas[c] or c} for c in area_codes]),
            dimension("TIME_PERIOD", 2, [{"id": p, "name": p} for p in periods], roles=["TIME_PERIOD"]),
        ]},
        "measures": {"observation": [{"id": "OBS_VALUE", "name": _word("OBS_VALUE", lang)}]},
        "attributes": {"dataSet": [], "series": [], "observation": [
            {"id": "OBS_STATUS", "name": _word("OBS_STATUS", lang), "relationship": {"observation": {}},
             "values": [{"id": s, "name": OBS_STATUS_NAMES[s]} for s in statuses]},
            {"id": "UNIT_MEASURE", "name": _word("UNIT_MEASURE", lang), "relationship": {"observation": {}},
             "values": [{"id": u, "name": unit_names[u]} for u in units]},
        ]},
    }
    return {
        "meta": {"schema": DATA_SCHEMA, "id": message_id(publisher, level.code, lang, *(i.code for i in indicators)),
                 "test": False, "prepared": timestamp(publisher.prepared), "contentLanguages": [lang],
                 "sender": {"id": AGENCY, "name": publisher.name}},
        "data": {"structures": [structure],
                 "dataSets": [{"structure": 0, "action": "Information", "links": links,
                               "observations": observations}]},
    }


# --- the structure ------------------------------------------------------------------------

def structure_json(tables: Sequence[IndicatorTable], level: Level, areas: Sequence[tuple[str, str]], *, lang: str,
                   publisher: Publisher, partial_areas: bool = False) -> str:
    """The SDMX-JSON 2.0 structure message of the dataflow of `level`: code lists (indicators and
    units of `tables`; `areas` as (code, name)), the concept scheme, the DSD and the dataflow."""
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.model import Code, Codelist, Component, Components, Concept, ConceptScheme, Dataflow
    from pysdmx.model import DataStructureDefinition as DSD
    from pysdmx.model.__base import DataType, Organisation
    from pysdmx.model.dataflow import Role
    from pysdmx.model.message import Header

    _check_ids("area", [code for code, _ in areas])
    _check_ids("indicator", [t.indicator.code for t in tables])

    def codelist(ident: str, name: str, codes: Sequence[tuple[str, str]], partial: bool) -> Any:
        return Codelist(id=ident, name=name, agency=AGENCY, version=VERSION, is_partial=partial,
                        items=[Code(id=c, name=n or c) for c, n in codes])

    area_list = artefact_id("CL_AREA", level.code)
    units = {unit_code(t.indicator.unit): t.indicator.unit or "-" for t in tables}
    lists = [
        codelist("CL_INDICATOR", "Indicatoren" if lang == "nl" else "Indicators",
                 [(t.indicator.code, t.name(lang)) for t in tables], True),
        codelist(area_list, level.name(lang), list(areas), partial_areas),
        codelist("CL_OBS_STATUS", "Observation status (SDMX CL_OBS_STATUS)",
                 [(code, OBS_STATUS_NAMES[code]) for code in OBS_STATUS.values()], False),
        codelist("CL_UNIT_MEASURE", "Eenheden" if lang == "nl" else "Units of measure", sorted(units.items()), True),
    ]
    concept_urn = urn("ConceptScheme", "CS_OBMI").replace("ConceptScheme=", "Concept=")
    concepts = {k: Concept(id=k, name=_word(k, lang), urn=f"{concept_urn}.{k}") for k in CONCEPTS}
    enum = {"INDICATOR": "CL_INDICATOR", "REF_AREA": area_list, "OBS_STATUS": "CL_OBS_STATUS",
            "UNIT_MEASURE": "CL_UNIT_MEASURE"}

    def component(ident: str, role: Any, required: bool, dtype: Any = None) -> Any:
        return Component(id=ident, required=required, role=role, concept=concepts[ident], local_dtype=dtype,
                         local_enum_ref=urn("Codelist", enum[ident]) if ident in enum else None,
                         attachment_level="O" if role == Role.ATTRIBUTE else None)

    dsd = DSD(id=artefact_id("DSD", level.code), name=f"OBMi — {level.name(lang)}", agency=AGENCY, version=VERSION,
              components=Components([
                  component("INDICATOR", Role.DIMENSION, True), component("REF_AREA", Role.DIMENSION, True),
                  component("TIME_PERIOD", Role.DIMENSION, True, DataType.PERIOD),
                  component("OBS_VALUE", Role.MEASURE, False, DataType.DOUBLE),
                  component("OBS_STATUS", Role.ATTRIBUTE, True), component("UNIT_MEASURE", Role.ATTRIBUTE, True)]))
    flow = Dataflow(id=artefact_id("DF", level.code), name=f"{publisher.name} — {level.name(lang)}", agency=AGENCY,
                    version=VERSION, structure=urn("DataStructure", artefact_id("DSD", level.code)))
    scheme = ConceptScheme(id="CS_OBMI", name="OBMi", agency=AGENCY, version=VERSION, items=list(concepts.values()))
    header = Header(id=message_id(publisher, "structure", level.code, lang, *(t.indicator.code for t in tables)),
                    prepared=publisher.prepared, sender=Organisation(id=AGENCY, name=publisher.name))
    text = write_sdmx([*lists, scheme, dsd, flow], Format.STRUCTURE_SDMX_JSON_2_0_0, header=header)
    assert text is not None
    document = json.loads(text)
    # pysdmx writes `"groups": []` for a DSD without groups, which its own schema check refuses
    # (the SDMX-JSON schema wants at least one group when the member is present): leave it out.
    for dsd_json in document.get("data", {}).get("dataStructures", []):
        if dsd_json.get("dataStructureComponents", {}).get("groups") == []:
            del dsd_json["dataStructureComponents"]["groups"]
    return json.dumps(document, ensure_ascii=False)
