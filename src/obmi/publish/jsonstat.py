"""JSON-stat 2.0 (https://json-stat.org/format/): one dataset per indicator × level, and a
collection per theme that links the datasets of that theme at a level.

A dataset is the cube indicator × area × period: `indicator` is a dimension of one category with
role `metric` (where JSON-stat puts the unit and its decimals), `area` has role `geo` (the level's
areas, by code, with their names) and `period` role `time`. `value` is dense, row-major (period
fastest); a cell without a number is `null` and says why in `status` (sparse: only cells that are
not final), with the words for each status letter in `extension.status.label` (as Eurostat's
JSON-stat does). An area without an observation reads "unknown" (`:`), as in the query layer.

Labels are in one language per document (`lang`: nl or en); JSON-stat has no multilingual labels.
Built from plain data (obmi.publish.exchange): a withheld cell never had a value to write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from obmi.indicators.observation import Status
from obmi.publish.exchange import (
    IndicatorTable,
    Level,
    Publisher,
    indicator_definition,
    published_cell,
    status_label,
)

VERSION = "2.0"
DIMENSIONS = ("indicator", "area", "period")
# OBMi status → JSON-stat status (Eurostat's flags where it has one). A final value has none.
STATUS_LETTERS: dict[str, str] = {
    Status.PROVISIONAL: "p",
    Status.ESTIMATED: "e",
    Status.SUPPRESSED: "c",  # confidential: withheld by the source or by OBMi's disclosure control
    Status.NOT_APPLICABLE: "z",
    Status.MISSING: ":",  # not available (unknown)
    Status.EMPTY: "-",  # no data, as if nothing was loaded
}
WORDS = {"indicator": ("Indicator", "Indicator"), "period": ("Periode", "Period"),
         "licence": ("Licentie", "Licence"), "theme": ("Thema", "Theme")}


def _word(key: str, lang: str) -> str:
    nl, en = WORDS[key]
    return en if lang == "en" else nl


def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 with time zone (JSON-stat `updated`); stored times without a zone are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dataset_url(publisher: Publisher, indicator: str, level: str, lang: str, **extra: str | None) -> str:
    query = {"indicator": indicator, "level": level, "lang": lang, **{k: v for k, v in extra.items() if v}}
    return f"{publisher.base_url}/api/v1/jsonstat?{urlencode(query)}"


def dataset(table: IndicatorTable, *, lang: str, publisher: Publisher, period: str | None = None,
            within: str | None = None) -> dict[str, Any]:
    """The JSON-stat dataset of one indicator at one level (optionally one period, within an area)."""
    ind = table.indicator
    areas, periods = table.areas, table.periods
    values: list[float | None] = []
    status: dict[str, str] = {}
    for a in areas:
        for p in periods:
            value, code = published_cell(table.cell(a.code, p))
            values.append(value)
            letter = STATUS_LETTERS.get(code)
            if letter is not None:
                status[str(len(values) - 1)] = letter
    unit: dict[str, Any] = {"decimals": ind.decimals}
    if ind.unit:
        unit["label"] = ind.unit
    doc: dict[str, Any] = {
        "version": VERSION,
        "class": "dataset",
        "href": dataset_url(publisher, ind.code, table.level.code, lang, period=period, within=within),
        "label": f"{table.name(lang)} — {table.level.name(lang)}",
    }
    if ind.source:
        doc["source"] = ind.source
    updated = timestamp(table.updated)
    if updated:
        doc["updated"] = updated
    notes = [text for text in (indicator_definition(ind, lang),
                               f"{_word('licence', lang)}: {ind.licence}" if ind.licence else "") if text]
    if notes:
        doc["note"] = notes
    doc.update({
        "id": list(DIMENSIONS),
        "size": [1, len(areas), len(periods)],
        "role": {"metric": ["indicator"], "geo": ["area"], "time": ["period"]},
        "dimension": {
            "indicator": {"label": _word("indicator", lang), "category": {
                "index": [ind.code], "label": {ind.code: table.name(lang)}, "unit": {ind.code: unit}}},
            "area": {"label": table.level.name(lang), "category": {
                "index": [a.code for a in areas], "label": {a.code: a.name for a in areas}}},
            "period": {"label": _word("period", lang), "category": {
                "index": list(periods), "label": {p: p for p in periods}}},
        },
        "value": values,
    })
    if status:
        doc["status"] = status
    doc["link"] = {"alternate": [
        {"type": "application/zip", "label": "Frictionless Data Package",
         "href": f"{publisher.base_url}/api/v1/datapackage?{urlencode(_query(ind.code, table.level.code, period, within))}"},
        {"type": "application/vnd.sdmx.data+csv;version=2.0.0", "label": "SDMX-CSV 2.0",
         "href": f"{publisher.base_url}/api/v1/sdmx?"
                 f"{urlencode({**_query(ind.code, table.level.code, period, within), 'format': 'csv'})}"},
    ]}
    doc["extension"] = {
        "status": {"label": {letter: status_label(code, lang) for code, letter in STATUS_LETTERS.items()}},
        "obmi": {"indicator": ind.code, "level": table.level.code, "period": period, "within": within,
                 "lang": lang, "unit": ind.unit, "decimals": ind.decimals, "licence": ind.licence or None,
                 "publisher": publisher.name, "data_version": publisher.data_version},
    }
    return doc


def _query(indicator: str, level: str, period: str | None, within: str | None) -> dict[str, str]:
    return {k: v for k, v in (("indicator", indicator), ("level", level), ("period", period), ("within", within)) if v}


def collection(theme: str, level: Level, items: Sequence[IndicatorTable], *, lang: str,
               publisher: Publisher) -> dict[str, Any]:
    """A JSON-stat collection of the datasets of one theme at one level: one `item` link per
    indicator with data there (class dataset, its href, label, source, updated; its unit and
    periods in `extension`). The items' tables need no rows: a collection carries no values."""
    links = []
    for table in items:
        ind = table.indicator
        link: dict[str, Any] = {"class": "dataset", "href": dataset_url(publisher, ind.code, level.code, lang),
                                "label": table.name(lang)}
        if ind.source:
            link["source"] = ind.source
        updated = timestamp(table.updated)
        if updated:
            link["updated"] = updated
        link["extension"] = {"indicator": ind.code, "unit": ind.unit, "periods": list(table.periods)}
        links.append(link)
    moments = [t.updated for t in items if t.updated is not None]
    doc: dict[str, Any] = {
        "version": VERSION,
        "class": "collection",
        "href": f"{publisher.base_url}/api/v1/jsonstat?{urlencode({'theme': theme, 'level': level.code, 'lang': lang})}",
        "label": f"{_word('theme', lang)} {theme} — {level.name(lang)}",
    }
    latest = timestamp(max(moments, key=_utc)) if moments else None
    if latest:
        doc["updated"] = latest
    doc["link"] = {"item": links}
    doc["extension"] = {"obmi": {"theme": theme, "level": level.code, "lang": lang, "publisher": publisher.name,
                                 "data_version": publisher.data_version}}
    return doc


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
