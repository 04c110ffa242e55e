"""The warehouse export: a star schema as hive-partitioned Parquet that DuckDB, Spark and Trino
read as it is (docs/warehouse.md documents every table and column; `TABLES` below is that
documentation's source).

    DIR/manifest.json                                   written last: what the files hold
    DIR/fact_observation/indicator_code=<code>/part-0.parquet
    DIR/<table>/part-0.parquet                          every other table, one file

This module is pure with respect to the database: it gets Arrow data and plain rows from the
operation (obmi.operations.warehouse), builds the tables, plans what an incremental export
rewrites (`plan_export`) and writes the files atomically (`Writer`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from obmi.indicators.periods import parse_period

FORMAT_VERSION = 1  # bump when a table's layout changes: the next export is then a full one
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 1_000_000
PARTITION_COLUMN = "indicator_code"
MANIFEST = "manifest.json"


# --- the schema --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    internal: bool = False  # filled only in internal exports (NULL in public ones)


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: str  # fact, dimension
    doc: str
    columns: tuple[Column, ...]
    group: str  # statistics, geography, plans: what a change of that kind rewrites
    partitioned_by: str | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])


def _c(name: str, type_: pa.DataType, doc: str, internal: bool = False) -> Column:
    return Column(name, type_, doc, internal)


S, I64, I32, F, B, D = pa.string(), pa.int64(), pa.int32(), pa.float64(), pa.bool_(), pa.date32()
TS = pa.timestamp("us", tz="UTC")

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("fact_observation", "fact", "One published observation per indicator, area and period: the access "
              "rules of the audience and the stored disclosure decisions applied, values rounded to the indicator's "
              "decimals — exactly what the API shows that audience.", (
                  _c("indicator_key", I64, "→ dim_indicator"), _c("area_key", I64, "→ dim_area"),
                  _c("period_key", I64, "→ dim_period"),
                  _c("value", F, "the value (NULL when status is suppressed, missing, not_applicable or empty)"),
                  _c("numerator", F, "ratio indicators: the summed numerator (NULL when suppressed)"),
                  _c("denominator", F, "ratio indicators: the summed denominator (NULL when suppressed)"),
                  _c("n", F, "survey estimates: respondents (NULL when suppressed)"),
                  _c("ci_low", F, "lower bound of the confidence interval"),
                  _c("ci_high", F, "upper bound of the confidence interval"),
                  _c("status", S, "final, provisional, estimated, suppressed, not_applicable, missing, empty"),
                  _c("origin", S, "source (delivered), reexpressed, aggregated, derived (computed by OBMi)"),
              ), "statistics", PARTITION_COLUMN),
    TableSpec("dim_indicator", "dimension", "The indicators the audience may see.", (
        _c("indicator_key", I64, "surrogate key (stable: derived from the code)"),
        _c("indicator_code", S, "the catalogue code"), _c("name_nl", S, "name (Dutch)"), _c("name_en", S, "name (English)"),
        _c("definition_nl", S, "definition (Dutch)"), _c("unit", S, "unit"), _c("themes", pa.list_(S), "themes"),
        _c("source", S, "source"), _c("licence", S, "licence"),
        _c("aggregation", S, "sum, ratio, weighted_mean, none"), _c("decimals", I32, "decimals values are rounded to"),
        _c("polarity", S, "positive, negative, neutral"), _c("frequency", S, "year, quarter, month, …"),
        _c("is_count", B, "a count of people or things (disclosure control applies)"),
        _c("organisation_key", I64, "→ dim_organisation (NULL: shared by the installation)"),
        _c("access", S, "public, analysts, groups"),
        _c("public_from_level", S, "public only from this level up (finer levels: internal exports only)"),
    ), "statistics"),
    TableSpec("dim_area", "dimension", "Every area of every level and geography version, with the code of the "
              "area it lies in at each level (`<level>_code` columns, one per level of the installation).", (
                  _c("area_key", I64, "surrogate key (area.id: stable)"), _c("area_code", S, "the area code"),
                  _c("level", S, "the level code (gemeente, ggw7, statsec, gemeente2024, …)"),
                  _c("level_name", S, "the level's name (Dutch)"),
                  _c("family", S, "the geography the level is a version of (gemeente2024 → gemeente)"),
                  _c("level_is_current", B, "the level is the current version of its family"),
                  _c("level_valid_from", S, "first day of the version"), _c("level_valid_to", S, "last day of the version"),
                  _c("name", S, "name"), _c("short_name", S, "short name"),
                  _c("is_unknown", B, "a catch-all area (niet te lokaliseren)"),
              ), "geography"),
    TableSpec("dim_period", "dimension", "Every period of the export: statistics periods and reporting periods.", (
        _c("period_key", I64, "surrogate key (stable: derived from the period text)"),
        _c("period", S, "2015, 2015-Q1, 2015-03, 2015-03-01, stadsmonitor-2023, 2026-S1 (reporting period)"),
        _c("period_type", S, "year, quarter, month, date, edition, reporting"), _c("year", I32, "the year"),
        _c("start_date", D, "first day"), _c("end_date", D, "last day"),
    ), "statistics"),
    TableSpec("dim_organisation", "dimension", "The organisations the exported rows belong to.", (
        _c("organisation_key", I64, "surrogate key (organisation.id: stable)"),
        _c("organisation_code", S, "code"), _c("name", S, "name"), _c("kind", S, "gemeente, ocmw, agb, other"),
        _c("is_host", B, "runs the installation"),
    ), "plans"),
    TableSpec("dim_plan_item", "dimension", "The items of each exported plan's latest version, the tree flattened.", (
        _c("plan_item_key", I64, "surrogate key (plan_item.id: stable across versions)"),
        _c("organisation_key", I64, "→ dim_organisation"), _c("plan_code", S, "the plan"), _c("plan_title", S, "its title"),
        _c("plan_version", I32, "number of the plan version described (the latest)"),
        _c("code", S, "the item code"), _c("kind", S, "beleidsdoelstelling, actieplan, actie, project, milestone"),
        _c("title", S, "short title"), _c("title_long", S, "long title"),
        _c("beleidsdomein", S, "BBC beleidsdomein (the item's, else its objective's)"),
        _c("beleidsdomein_name", S, "its name"), _c("beleidsveld", S, "BBC beleidsveld"),
        _c("priority", B, "priority as shown (propagated up when the organisation says so)"),
        _c("priority_set", B, "priority set on the item itself"), _c("publish", B, "shown on the public site"),
        _c("owner", S, "who reports on it", internal=True), _c("department", S, "department", internal=True),
        _c("start_date", D, "planned start"), _c("end_date", D, "planned end"),
        _c("status", S, "derived status on the export day (roll-up of approved updates)"),
        _c("progress", F, "derived progress (0–100) on the export day"),
        _c("budget", F, "planned expenditure of the item and everything under it, all years (latest version)"),
        _c("parent_key", I64, "→ dim_plan_item (NULL at the top)"), _c("depth", I32, "0 at the top"),
        _c("path", S, "codes from the top, separated by /"),
        _c("beleidsdoelstelling_code", S, "the objective above (or the item itself)"),
        _c("beleidsdoelstelling_title", S, "its title"),
        _c("actieplan_code", S, "the action plan above (or the item itself)"), _c("actieplan_title", S, "its title"),
        _c("actie_code", S, "the action above (or the item itself)"),
    ), "plans"),
    TableSpec("dim_kpi", "dimension", "The KPIs of the exported items; statistic KPIs name the indicator and area "
              "their values come from (fact_observation).", (
                  _c("kpi_key", I64, "surrogate key (kpi.id)"), _c("plan_item_key", I64, "→ dim_plan_item"),
                  _c("kind", S, "statistic, number, steps, …"), _c("name", S, "name"), _c("unit", S, "unit"),
                  _c("indicator_key", I64, "statistic KPIs: → dim_indicator"),
                  _c("area_key", I64, "statistic KPIs: → dim_area"), _c("direction", S, "up or down is better"),
                  _c("baseline", F, "baseline value"), _c("baseline_period", S, "its period"),
                  _c("targets", S, "targets per year (JSON)"), _c("tolerance_pct", F, "tolerance of the traffic light"),
              ), "plans"),
    TableSpec("fact_status_update", "fact", "Approved status updates (one per item and reporting period).", (
        _c("status_update_id", I64, "status_update.id"), _c("plan_item_key", I64, "→ dim_plan_item"),
        _c("organisation_key", I64, "→ dim_organisation"), _c("period_key", I64, "→ dim_period (the reporting period)"),
        _c("period_start", D, "first day of the reporting period"), _c("period_end", D, "last day"),
        _c("status", S, "niet_gestart, op_schema, risico, vertraagd, afgerond, stopgezet, on_hold"),
        _c("progress", F, "progress 0–100"), _c("no_change", B, "confirmed as geen wijziging"),
        _c("narrative", S, "the text", internal=True), _c("knelpunten", S, "bottlenecks", internal=True),
        _c("decided_at", TS, "when it was approved", internal=True),
    ), "plans"),
    TableSpec("fact_kpi_measurement", "fact", "Measured values of the KPIs that are measured by hand (statistic "
              "KPIs read fact_observation through dim_kpi).", (
                  _c("kpi_measurement_id", I64, "kpi_measurement.id"), _c("kpi_key", I64, "→ dim_kpi"),
                  _c("plan_item_key", I64, "→ dim_plan_item"), _c("period_key", I64, "→ dim_period"),
                  _c("value", F, "value"), _c("step", S, "steps KPIs: the step reached"),
                  _c("note", S, "note", internal=True), _c("recorded_at", TS, "when it was recorded", internal=True),
              ), "plans"),
    TableSpec("fact_budget_line", "fact", "Amounts of the exported plans: the plan's own planned amounts (kind plan, "
              "from the plan file, every version) and the finance package's lines (raming per plan version, "
              "realisatie per quarter: internal exports only).", (
                  _c("line_id", I64, "id in budget_line (raming, realisatie) or plan_amount (plan)"),
                  _c("plan_item_key", I64, "→ dim_plan_item (NULL: a line for an action not in the plan)"),
                  _c("organisation_key", I64, "→ dim_organisation"), _c("plan_code", S, "the plan"),
                  _c("plan_version", I32, "plan and raming: the plan version's number; realisatie: NULL"),
                  _c("is_latest_version", B, "plan and raming: of the latest plan version; realisatie: true"),
                  _c("period_key", I64, "→ dim_period (the year)"), _c("item_code", S, "the action code as given"),
                  _c("kind", S, "plan, raming, realisatie"), _c("year", I32, "year"), _c("quarter", I32, "realisatie: 1–4"),
                  _c("category", S, "exploitatie, investering, financiering (NULL for kind plan)"),
                  _c("direction", S, "uitgave, ontvangst"), _c("beleidsitem", S, "beleidsitem"),
                  _c("account", S, "algemene rekening"), _c("envelope", S, "investeringsenveloppe"),
                  _c("amount", F, "amount in euro, positive (the direction says which way)"),
              ), "plans"),
    TableSpec("fact_signal", "fact", "Early-warning signals (internal exports only).", (
        _c("signal_id", I64, "signal.id"), _c("organisation_key", I64, "→ dim_organisation"),
        _c("plan_item_key", I64, "→ dim_plan_item (NULL: about the plan)"), _c("rule", S, "the rule that raised it"),
        _c("subject", S, "what it is about"), _c("state", S, "open, acknowledged, resolved"),
        _c("severity", S, "info, warning, critical"), _c("message_nl", S, "message (Dutch)"),
        _c("message_en", S, "message (English)"), _c("owner", S, "whom it concerns"),
        _c("first_seen", TS, "first raised"), _c("last_seen", TS, "last seen"),
        _c("acknowledged_at", TS, "acknowledged"), _c("resolved_at", TS, "resolved"),
    ), "plans"),
)}
FACTS = tuple(n for n, t in TABLES.items() if t.kind == "fact")
DIMENSIONS = tuple(n for n, t in TABLES.items() if t.kind == "dimension")


def stable_key(text: str) -> int:
    """A deterministic surrogate key for a natural code (indicator, period): the first 63 bits
    of its BLAKE2b digest — the same in every export, on every machine."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def map_column(column: Any, mapping: Mapping[Any, Any], type_: pa.DataType) -> pa.Array:
    """column → mapping[value] for every row (NULL where the value is not mapped), vectorised."""
    keys = list(mapping)
    if not keys:
        return pa.nulls(len(column), type_)
    index = pc.index_in(column, value_set=pa.array(keys, type=column.type))
    return pc.take(pa.array([mapping[k] for k in keys], type=type_), index)


def _check(table: pa.Table, spec: TableSpec) -> pa.Table:
    if table.schema != spec.schema:
        return table.select(spec.schema.names).cast(spec.schema)
    return table


def rows_table(name: str, rows: Iterable[Mapping[str, Any]], *, public: bool) -> pa.Table:
    """A table of TABLES from plain rows; columns marked internal are NULL in public exports."""
    spec = TABLES[name]
    hidden = {c.name for c in spec.columns if c.internal} if public else set()
    data = [{c.name: (None if c.name in hidden else row.get(c.name)) for c in spec.columns} for row in rows]
    return pa.Table.from_pylist(data, schema=spec.schema)


# --- building the dimensions -------------------------------------------------------------------

def level_column(level: str) -> str:
    return f"{level}_code"


def dim_area(areas: pa.Table, levels: list[dict[str, Any]], parents: Iterable[tuple[int, int, float]]) -> pa.Table:
    """dim_area from the areas, their levels and the hierarchy links (child, parent, weight):
    each area gets the code of the area it lies in at every level above it (itself at its own
    level). Where an area has several parents at one level (a sector split over two wijken), the
    one with the largest weight, then the smallest code, is taken."""
    ids = areas.column("id").to_pylist()
    codes = dict(zip(ids, areas.column("code").to_pylist()))
    level_of = dict(zip(ids, areas.column("level").to_pylist()))
    best: dict[tuple[int, str], tuple[float, str, int]] = {}
    for child, parent, weight in parents:
        if child not in level_of or parent not in level_of:
            continue
        key = (child, level_of[parent])
        candidate = (-weight, codes[parent], parent)
        if key not in best or candidate < best[key]:
            best[key] = candidate
    direct: dict[int, dict[str, int]] = {}
    for (child, level), (_, _, parent) in best.items():
        direct.setdefault(child, {})[level] = parent
    resolved: dict[int, dict[str, int]] = {}

    def ancestors(area_id: int, seen: frozenset[int] = frozenset()) -> dict[str, int]:
        if area_id in resolved:
            return resolved[area_id]
        out: dict[str, int] = {}
        for parent in direct.get(area_id, {}).values():
            if parent in seen:
                continue  # a cycle in the links: ignore the link
            for level, above in ancestors(parent, seen | {area_id}).items():
                out.setdefault(level, above)
        out.update(direct.get(area_id, {}))  # a direct parent wins over one found further up
        out[level_of[area_id]] = area_id
        resolved[area_id] = out
        return out

    info = {lv["code"]: lv for lv in levels}
    level_codes = [lv["code"] for lv in levels]
    columns: dict[str, list[Any]] = {level_column(lv): [] for lv in level_codes}
    for area_id in ids:
        found = ancestors(area_id)
        for lv in level_codes:
            columns[level_column(lv)].append(codes[found[lv]] if lv in found else None)
    level_values = areas.column("level")

    def per_level(name: str, type_: pa.DataType) -> pa.Array:
        return map_column(level_values, {code: info[code][name] for code in info}, type_)

    base = {
        "area_key": areas.column("id"), "area_code": areas.column("code"), "level": level_values,
        "level_name": per_level("name_nl", S), "family": per_level("family", S),
        "level_is_current": per_level("is_current", B), "level_valid_from": per_level("valid_from", S),
        "level_valid_to": per_level("valid_to", S), "name": areas.column("name"),
        "short_name": areas.column("short_name"), "is_unknown": areas.column("is_unknown"),
    }
    table = _check(pa.table(base), TABLES["dim_area"])
    for name, values in columns.items():
        table = table.append_column(pa.field(name, S), pa.array(values, type=S))
    return table


def period_row(text: str, reporting: Mapping[str, tuple[date, date]]) -> dict[str, Any]:
    """dim_period's row for a period text (reporting periods: their own dates)."""
    if text in reporting:
        start, end = reporting[text]
        return {"period_key": stable_key(text), "period": text, "period_type": "reporting", "year": start.year,
                "start_date": start, "end_date": end}
    try:
        _, kind = parse_period(text)
    except ValueError:
        return {"period_key": stable_key(text), "period": text, "period_type": "other", "year": None,
                "start_date": None, "end_date": None}
    year = int(text[-4:]) if kind == "edition" else int(text[:4])
    start, end = date(year, 1, 1), date(year, 12, 31)
    if kind == "quarter":
        q = int(text[-1])
        start, end = date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    elif kind == "month":
        m = int(text[5:7])
        start, end = date(year, m, 1), _month_end(year, m)
    elif kind == "date":
        start = end = date.fromisoformat(text)
    return {"period_key": stable_key(text), "period": text, "period_type": kind, "year": year, "start_date": start,
            "end_date": end}


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def dim_period(periods: Iterable[str], reporting: Mapping[str, tuple[date, date]]) -> pa.Table:
    return rows_table("dim_period", [period_row(p, reporting) for p in sorted(set(periods))], public=False)


def flatten_tree(items: Mapping[int, Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """item id → depth, path and the codes and titles of the objective, action plan and action
    at or above it (items: id → row with code, kind, title, parent_id)."""
    out: dict[int, dict[str, Any]] = {}
    for item_id in items:
        chain, current, seen = [], item_id, set()
        while current is not None and current in items and current not in seen:
            seen.add(current)
            chain.append(items[current])
            current = items[current]["parent_id"]
        chain.reverse()
        flat: dict[str, Any] = {"depth": len(chain) - 1, "path": "/".join(r["code"] for r in chain)}
        for kind, fields in (("beleidsdoelstelling", ("code", "title")), ("actieplan", ("code", "title")),
                             ("actie", ("code",))):
            row = next((r for r in chain if r["kind"] == kind), None)
            for name in fields:
                flat[f"{kind}_{name}"] = row[name] if row is not None else None
        out[item_id] = flat
    return out


# --- the observations --------------------------------------------------------------------------

def observation_batch(raw: pa.RecordBatch, *, indicator_key: int, published: Any) -> pa.RecordBatch:
    """fact_observation's columns from a batch that publish_batch (the query layer's rule) has
    already withheld and rounded."""
    periods = published.column("period")
    unique = pc.unique(periods).to_pylist()
    spec = TABLES["fact_observation"]
    columns = {
        "indicator_key": pa.array([indicator_key] * published.num_rows, type=I64),
        "area_key": published.column("area_id").cast(I64),
        "period_key": map_column(periods, {p: stable_key(p) for p in unique}, I64),
    }
    for name in ("value", "numerator", "denominator", "n", "ci_low", "ci_high", "status", "origin"):
        columns[name] = published.column(name)
    return pa.record_batch([columns[c.name] for c in spec.columns], schema=spec.schema)


# --- the incremental plan ----------------------------------------------------------------------

@dataclass(frozen=True)
class ExportPlan:
    full: bool
    reason: str
    write_partitions: frozenset[str]  # indicators whose partition is (re)written
    delete_partitions: frozenset[str]  # partitions of indicators no longer exported
    keep_partitions: frozenset[str]
    recompute: frozenset[str]  # non-partitioned tables built again (written only when they differ)


def plan_export(previous: Mapping[str, Any] | None, *, epoch: str, version: int, audience: str, scope: str,
                changes: set[tuple[str, str]] | None, signatures: Mapping[str, str], full: bool = False) -> ExportPlan:
    """What an export writes, given the previous manifest (None: none), the data change log since
    its version (`changes`, None: unknown) and each exported indicator's partition signature
    (what decides its contents besides the data: decimals, visible levels).

    Everything when asked, when there is no usable previous export (none, another format,
    database epoch, audience or scope), when the log says "all" or "geography", or is missing.
    Otherwise: the partitions of changed indicators, of indicators new to the export or whose
    signature changed; the removed ones are deleted; the dimensions and plan tables are built
    again on a catalogue or "other" change (and written only when their content differs);
    dim_period and dim_indicator are always rebuilt (cheap) and compared."""
    exported = set(signatures)
    reason = ""
    if full:
        reason = "--full"
    elif previous is None:
        reason = "no previous export"
    elif previous.get("format_version") != FORMAT_VERSION:
        reason = "another format version"
    elif previous.get("epoch") != epoch:
        reason = "another database (epoch)"
    elif (previous.get("audience"), previous.get("scope")) != (audience, scope):
        reason = "another audience"
    elif changes is None:
        reason = "the change log does not reach back to the previous export"
    elif {("all", ""), ("geography", "")} & changes:
        reason = "everything changed (geography, re-derivation or restore)"
    if reason:
        return ExportPlan(True, reason, frozenset(exported), frozenset(), frozenset(), frozenset(TABLES) - {"fact_observation"})
    assert previous is not None and changes is not None
    before = previous["tables"]["fact_observation"]["partitions"]
    touched = {key for scope_, key in changes if scope_ == "indicator"}
    write = {code for code in exported
             if code in touched or code not in before or before[code].get("signature") != signatures[code]}
    delete = set(before) - exported
    recompute = {"dim_period", "dim_indicator"}
    if {("other", ""), ("catalogue", "")} & changes:
        recompute |= {n for n, t in TABLES.items() if n != "fact_observation" and t.group != "geography"}
    if version == previous.get("data_version"):
        why = "no change since the previous export"
    else:
        why = f"incremental from data version {previous.get('data_version')}"
    return ExportPlan(False, why, frozenset(write), frozenset(delete), frozenset(exported - write), frozenset(recompute))


def signature(*parts: object) -> str:
    return hashlib.sha256(json.dumps([FORMAT_VERSION, *parts], sort_keys=True, default=str).encode()).hexdigest()[:16]


def content_hash(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks() if table.num_rows else table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:32]


# --- writing -----------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "tables" in found else None


@dataclass
class Written:
    path: str  # relative to the export folder
    rows: int
    bytes: int


@dataclass
class Writer:
    """Stages every new file in DIR/.staging-<id>/ and, at commit, renames each over its place
    (a rename replaces a file atomically: a reader sees the old partition or the new one, never
    half a file), removes what is no longer exported, then writes the manifest — last, through a
    temporary file — so the manifest always describes complete files."""
    directory: Path
    staged: dict[str, Path] = field(default_factory=dict)
    stage: Path = field(init=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stage = self.directory / f".staging-{uuid.uuid4().hex[:12]}"
        self.stage.mkdir()

    def write_batches(self, relative: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Written:
        target = self.stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with pq.ParquetWriter(target, schema, compression=COMPRESSION) as writer:
            pending: list[pa.RecordBatch] = []
            count = 0
            for batch in batches:
                pending.append(batch)
                count += batch.num_rows
                if count >= ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=ROW_GROUP_ROWS)
                    rows, pending, count = rows + count, [], 0
            if pending or rows == 0:
                writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=ROW_GROUP_ROWS)
                rows += count
        self.staged[relative] = target
        return Written(relative, rows, target.stat().st_size)

    def write_table(self, relative: str, table: pa.Table) -> Written:
        return self.write_batches(relative, table.schema, iter(table.to_batches()))

    def commit(self, manifest: dict[str, Any], remove: Iterable[str]) -> None:
        for relative, staged in self.staged.items():
            final = self.directory / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        for relative in remove:
            gone = self.directory / relative
            if gone.is_file():
                gone.unlink()
                try:
                    gone.parent.rmdir()  # an empty partition folder
                except OSError:
                    pass
        temporary = self.directory / f".{MANIFEST}.{uuid.uuid4().hex[:8]}"
        temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str), encoding="utf-8")
        os.replace(temporary, self.directory / MANIFEST)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def partition_path(code: str) -> str:
    return f"fact_observation/{PARTITION_COLUMN}={code}/part-0.parquet"


def table_path(name: str) -> str:
    return f"{name}/part-0.parquet"


def describe_markdown() -> str:
    """The tables and columns as Markdown (docs/warehouse.md embeds this list)."""
    lines: list[str] = []
    for spec in TABLES.values():
        where = f"`{spec.name}/{PARTITION_COLUMN}=<code>/part-0.parquet`" if spec.partitioned_by else \
            f"`{spec.name}/part-0.parquet`"
        lines += [f"### {spec.name} ({spec.kind})", "", f"{spec.doc} Files: {where}.", "",
                  "| column | type | meaning |", "| --- | --- | --- |"]
        for column in spec.columns:
            note = " *(internal exports only)*" if column.internal else ""
            lines.append(f"| `{column.name}` | {column.type} | {column.doc}{note} |")
        if spec.name == "dim_area":
            lines.append("| `<level>_code` | string | the code of the area it lies in at that level (one column per "
                         "level: `gemeente_code`, `ggw7_code`, `provincie_code`, …; NULL when not below it) |")
        if spec.partitioned_by:
            lines.append(f"| `{spec.partitioned_by}` | string | the indicator code (hive partition in the path) |")
        lines.append("")
    return "\n".join(lines)
