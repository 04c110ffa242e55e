"""Frictionless Data Package v2 (https://datapackage.org/): a zip with one CSV per indicator and a
`datapackage.json` describing them — a Table Schema per CSV (types, the status categories with
their words, missing values, the primary key), the licence, the sources and the contributors.

The rows are exactly what the query layer published (the rows of /api/v1/observations): a cell
without a number has an empty `value` and says why in `status` and `status_label`. The zip is
deterministic for one data version (its times are the data version's), so its ETag holds."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from obmi.indicators.observation import Status
from obmi.publish.exchange import (
    IndicatorTable,
    Publisher,
    indicator_definition,
    published_cell,
    status_label,
)
from obmi.publish.jsonstat import timestamp
from obmi.publish.licences import known_licence

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
TABLE_SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
COLUMNS = ("indicator", "level", "area_code", "area_name", "period", "value", "unit", "status", "status_label")
STATUSES = tuple(str(s) for s in Status)
_LICENCE_ID = re.compile(r"^[-a-zA-Z0-9._]+$")
_URL = re.compile(r"^(https?|ftp)://\S+$")
_NAME = re.compile(r"[^a-z0-9._-]+")

DESCRIPTIONS = {
    "indicator": ("Code van de indicator in de catalogus.", "Code of the indicator in the catalogue."),
    "level": ("Code van het gebiedsniveau.", "Code of the area level."),
    "area_code": ("Code van het gebied op dat niveau.", "Code of the area at that level."),
    "area_name": ("Naam van het gebied.", "Name of the area."),
    "period": ("Periode: jaar (2015), kwartaal (2015-Q1), maand (2015-03), datum of editie van een enquête.",
               "Period: year (2015), quarter (2015-Q1), month (2015-03), date or survey edition."),
    "value": ("Waarde, afgerond op de decimalen van de indicator; leeg waar er geen getal is (zie status).",
              "Value, rounded to the indicator's decimals; empty where there is no number (see status)."),
    "unit": ("Eenheid van de waarde.", "Unit of the value."),
    "status": ("Status van de waarde; een onderdrukte cel heeft nooit een waarde.",
               "Status of the value; a suppressed cell never has a value."),
    "status_label": ("De status in woorden.", "The status in words."),
}


def _text(key: str, lang: str) -> str:
    nl, en = DESCRIPTIONS[key]
    return en if lang == "en" else nl


def resource_name(table: IndicatorTable) -> str:
    return _NAME.sub("-", f"{table.indicator.code}-{table.level.code}".lower()).strip("-")


def number_text(value: float | None) -> str:
    """A Table Schema number as text: integers without `.0`, others as Python writes them."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def csv_bytes(table: IndicatorTable, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    ind = table.indicator
    for row in table.rows:
        value, status = published_cell(row)
        writer.writerow([ind.code, table.level.code, row.area_code, row.area_name, row.period, number_text(value),
                         ind.unit, status, status_label(status, lang)])
    return out.getvalue().encode("utf-8")


def table_schema(table: IndicatorTable, lang: str) -> dict[str, Any]:
    ind = table.indicator
    unit = f" ({ind.unit})" if ind.unit else ""

    def field(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
        return {"name": name, "type": kind, "description": _text(name, lang), **extra}

    return {
        "$schema": TABLE_SCHEMA_PROFILE,
        "fields": [
            field("indicator", constraints={"required": True, "enum": [ind.code]}),
            field("level", constraints={"required": True, "enum": [table.level.code]}),
            field("area_code", constraints={"required": True}),
            field("area_name"),
            field("period", constraints={"required": True}),
            {**field("value", "number"), "title": f"{table.name(lang)}{unit}"},
            field("unit"),
            field("status", categories=[{"value": s, "label": status_label(s, lang)} for s in STATUSES],
                  constraints={"required": True, "enum": list(STATUSES)}),
            field("status_label"),
        ],
        "missingValues": [""],
        "primaryKey": ["indicator", "level", "area_code", "period"],
    }


def licence(text: str, page: str) -> dict[str, str]:
    """A Data Package licence: an Open Definition identifier (`CC-BY-4.0`) as `name`, a URL as
    `path`, the words as `title`; the `path` of a named licence is its own page when it is a known
    one (`Statbel open data`), else the indicator's page, which states it."""
    text = text.strip()
    if _URL.match(text):
        return {"path": text, "title": text}
    known = known_licence(text)
    found = {"name": text} if _LICENCE_ID.match(text) else {}
    # A known licence ("Statbel open data") points at its own page, any other at the indicator's.
    return {**found, "title": text, "path": known.iri if known else page}


def descriptor(tables: Sequence[IndicatorTable], files: dict[str, bytes], *, lang: str, publisher: Publisher,
               period: str | None, within: str | None) -> dict[str, Any]:
    resources = []
    licences: dict[str, dict[str, str]] = {}
    sources: dict[str, dict[str, str]] = {}
    for table in tables:
        ind = table.indicator
        page = f"{publisher.base_url}/indicatoren/{ind.code}"
        path = f"data/{resource_name(table)}.csv"
        body = files[path]
        resource: dict[str, Any] = {
            "$schema": RESOURCE_PROFILE, "name": resource_name(table), "type": "table", "path": path,
            "title": f"{table.name(lang)} — {table.level.name(lang)}", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "bytes": len(body), "hash": "sha256:" + hashlib.sha256(body).hexdigest(),
            "homepage": page,
        }
        definition = indicator_definition(ind, lang)
        if definition:
            resource["description"] = definition
        if ind.source:
            resource["sources"] = [{"title": ind.source}]
            sources.setdefault(ind.source, {"title": ind.source})
        if ind.licence:
            resource["licenses"] = [licence(ind.licence, page)]
            licences.setdefault(ind.licence, resource["licenses"][0])
        resource["dialect"] = {"header": True, "delimiter": ",", "lineTerminator": "\r\n"}
        resource["schema"] = table_schema(table, lang)
        resources.append(resource)
    level_names = sorted({t.level.name(lang) for t in tables})
    names = [t.name(lang) for t in tables]
    scope = [f"periode {period}" if lang == "nl" else f"period {period}"] if period else []
    scope += [f"in {within}"] if within else []
    package: dict[str, Any] = {
        "$schema": PROFILE,
        "name": _NAME.sub("-", "-".join(["obmi", *(resource_name(t) for t in tables)])[:120].lower()).strip("-"),
        "title": f"{'; '.join(names)} — {', '.join(level_names)}" + (f" ({', '.join(scope)})" if scope else ""),
        "description": ("Cijfers zoals gepubliceerd door " if lang == "nl" else "Figures as published by ")
                       + publisher.name + (": onderdrukte cellen hebben geen waarde." if lang == "nl"
                                           else ": suppressed cells have no value."),
        "homepage": publisher.base_url or None,
        "version": publisher.data_version,
        "created": timestamp(publisher.prepared),
        "keywords": sorted({theme for t in tables for theme in t.indicator.themes}),
        "contributors": [{"title": publisher.name, "roles": ["publisher"], **(
            {"path": publisher.base_url} if _URL.match(publisher.base_url) else {})}]
        + [{"title": title, "roles": ["creator"]} for title in sources],
        "sources": list(sources.values()),
        "licenses": list(licences.values()),
        "resources": resources,
    }
    return {k: v for k, v in package.items() if v not in (None, [], "")}


def package_zip(tables: Sequence[IndicatorTable], *, lang: str, publisher: Publisher, period: str | None = None,
                within: str | None = None) -> bytes:
    """The zip: datapackage.json and data/INDICATOR-LEVEL.csv for each table."""
    files = {f"data/{resource_name(t)}.csv": csv_bytes(t, lang) for t in tables}
    meta = descriptor(tables, files, lang=lang, publisher=publisher, period=period, within=within)
    moment = publisher.prepared
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = {"datapackage.json": json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"), **files}
        for name, body in entries.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return buffer.getvalue()
