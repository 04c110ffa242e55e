"""The warehouse export (`obmi export warehouse DIR`): the star schema of obmi.publish.warehouse
as Parquet, for one audience, incremental by data version.

Audiences, by the rules the rest of OBMi applies (nothing here decides visibility itself):

- public — exactly what an anonymous visitor may see: the catalogue as `CatalogueView` shows it
  to the public (public indicators, from their public level up), every value through the query
  layer's `publish_batch` (the stored disclosure decisions: a suppressed cell has status
  suppressed and no value, numerator, denominator, n or interval); of each organisation's latest
  plan only the published items (`plan_item.publish`, as the transparency page), their approved
  status updates without texts, their KPIs (statistic ones only for indicators the public sees),
  their planned amounts and ramingen (budgets are public documents) — no realisaties, no signals,
  no owners.
- internal — what the acting user sees: `CatalogueView` of the actor (their organisation's
  non-public indicators and levels), and the plans of one organisation (`plans.read`) with every
  item, approved updates with their texts, realisaties and signals. Disclosure control still
  applies: no channel shows a withheld cell to anyone.

The export is declared a write (like a backup): it is audited, and read-only tokens may not
write files on the server. It reads one snapshot (PostgreSQL: REPEATABLE READ).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text

from obmi.auth.actor import ANONYMOUS
from obmi.auth.permissions import Resource, allowed
from obmi.errors import NotFound, ValidationError
from obmi.operations.plan_views import load_state
from obmi.operations.registry import Unit, operation
from obmi.plans.bbc import BELEIDSDOMEINEN
from obmi.plans.model import KpiKind
from obmi.publish import warehouse as wh
from obmi.query.areas import find_area
from obmi.query.observations import check_disclosure_state, hide_parts_batch, publish_batch
from obmi.query.ratio_parts import has_parts, shown_parts
from obmi.query.visibility import CatalogueView
from obmi.store import accounts as account_store
from obmi.store import plans as plan_store
from obmi.store import warehouse as store
from obmi.store.state import changes_since, read_state

AUDIENCES = ("public", "internal")


@dataclass(frozen=True)
class WarehouseExport:
    directory: Path
    audience: str
    scope: str
    data_version: int
    full: bool
    reason: str
    rows: dict[str, int]  # table → rows in the export
    written: list[str]  # files (re)written by this export
    unchanged: list[str]  # files kept from the previous export
    deleted: list[str]
    bytes_written: int
    seconds: float
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)

    def summary(self) -> str:
        tables = ", ".join(f"{name} {rows:,}" for name, rows in self.rows.items())
        kind = "full" if self.full else "incremental"
        return (f"warehouse ({self.audience}, data version {self.data_version}, {kind}: {self.reason}) in "
                f"{self.directory}: {len(self.written)} files written ({self.bytes_written / 1e6:.1f} MB), "
                f"{len(self.unchanged)} unchanged, {len(self.deleted)} deleted, {self.seconds:.1f} s\n  {tables}")


def _target(unit: Unit, directory: Path, *, audience: str = "public", organisation: str | None = None,
            full: bool = False) -> Resource | None:
    """What the permission is checked against: for an internal export, the organisation whose
    data it holds (known to exist, so another organisation's user is refused, not misled)."""
    if audience == "internal":
        org = organisation or unit.actor.organisation
        return Resource("organisation", org, org, visible_across_organisations=True)
    return None


@operation("warehouse.export", resource=_target, advances_version=False)
def export_warehouse(unit: Unit, directory: Path, *, audience: str = "public", organisation: str | None = None,
                     full: bool = False) -> WarehouseExport:
    """Write the warehouse star schema (Parquet, hive-partitioned by indicator) to a folder on
    this machine for an audience (public, or internal: what the actor sees of an organisation);
    a second export rewrites only what changed since the previous one."""
    started = time.perf_counter()
    if audience not in AUDIENCES:
        raise ValidationError(f"audience must be one of {', '.join(AUDIENCES)}", {"audience": ["public or internal"]})
    conn = unit.conn
    if conn.dialect.name == "postgresql":  # one snapshot for every table of the export
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    org = (organisation or unit.actor.organisation) if audience == "internal" else None
    if org is not None and account_store.get_organisation(conn, org) is None:
        raise NotFound(f"unknown organisation {org!r}")
    check_disclosure_state(conn, unit.settings.default_threshold)
    public = audience == "public"
    view = CatalogueView.load(conn, ANONYMOUS if public else unit.actor)
    scope = "public" if public else f"{unit.actor.name}@{org or '*'}"
    state = read_state(conn)
    directory = Path(directory)
    previous = wh.read_manifest(directory)
    last = previous.get("data_version") if previous else None
    changes = changes_since(conn, int(last)) if isinstance(last, int) else None

    levels = store.levels(conn)
    exported = _exported_indicators(view, [lv["code"] for lv in levels])
    signatures = {code: wh.signature(code, view.visible[code].decimals, allowed_levels)
                  for code, allowed_levels in exported.items()}
    plan = wh.plan_export(previous, epoch=state.epoch, version=state.version, audience=audience, scope=scope,
                          changes=changes, signatures=signatures, full=full)
    old_tables: dict[str, Any] = previous["tables"] if previous and not plan.full else {}
    writer = wh.Writer(directory)
    try:
        written: list[wh.Written] = []
        tables: dict[str, Any] = {}
        organisations = store.organisations(conn)
        org_keys = {o["code"]: o["id"] for o in organisations}

        # fact_observation, one partition per indicator
        partitions: dict[str, Any] = {}
        before = old_tables.get("fact_observation", {}).get("partitions", {})
        for n, code in enumerate(sorted(exported)):
            if code in plan.write_partitions:
                unit.progress(f"fact_observation {code}", n)
                periods: set[str] = set()
                done = writer.write_batches(wh.partition_path(code), wh.TABLES["fact_observation"].schema,
                                            _observations(conn, view, code, exported[code], periods))
                written.append(done)
                partitions[code] = {"path": done.path, "rows": done.rows, "bytes": done.bytes,
                                    "signature": signatures[code], "periods": sorted(periods),
                                    "data_version": state.version}
            else:
                partitions[code] = before[code]
        tables["fact_observation"] = {"partitions": partitions, "rows": sum(p["rows"] for p in partitions.values())}

        # the plans and the dimensions
        built: dict[str, pa.Table] = {}
        plan_periods: dict[str, Any]
        if "dim_plan_item" in plan.recompute:
            built.update(_plan_tables(unit, view, org_keys, public=public, organisation=org))
            plan_periods = built.pop("__periods__")
        else:
            plan_periods = previous["plan_periods"] if previous else {"periods": [], "reporting": {}}
        if plan.full or "dim_area" in plan.recompute:
            built["dim_area"] = wh.dim_area(store.areas(conn), levels, store.parent_links(conn))
        built["dim_indicator"] = _dim_indicator(view, exported, org_keys)
        reporting = {k: (date.fromisoformat(a), date.fromisoformat(b)) for k, (a, b) in plan_periods["reporting"].items()}
        all_periods = {p for part in partitions.values() for p in part["periods"]} | set(plan_periods["periods"])
        built["dim_period"] = wh.dim_period(all_periods, reporting)
        for name in wh.TABLES:
            if name == "fact_observation":
                continue
            if name not in built:
                tables[name] = old_tables[name]
                continue
            content = built[name]
            digest = wh.content_hash(content)
            old = old_tables.get(name)
            if old is not None and old.get("hash") == digest:
                tables[name] = old
                continue
            done = writer.write_table(wh.table_path(name), content)
            written.append(done)
            tables[name] = {"path": done.path, "rows": done.rows, "bytes": done.bytes, "hash": digest,
                            "data_version": state.version}
        removed = [before[code]["path"] for code in plan.delete_partitions if code in before]
        manifest = {
            "format_version": wh.FORMAT_VERSION, "epoch": state.epoch, "data_version": state.version,
            "audience": audience, "scope": scope, "organisation": org, "actor": unit.actor.name,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "compression": wh.COMPRESSION,
            "partitioning": {"fact_observation": wh.PARTITION_COLUMN}, "plan_periods": plan_periods,
            "tables": {name: {**info, "kind": wh.TABLES[name].kind} for name, info in tables.items()},
        }
        writer.commit(manifest, removed)
    except BaseException:
        writer.discard()
        raise
    all_files = [p["path"] for p in partitions.values()] + [t["path"] for n, t in tables.items() if n != "fact_observation"]
    written_paths = [w.path for w in written]
    result = WarehouseExport(
        directory=directory, audience=audience, scope=scope, data_version=state.version, full=plan.full,
        reason=plan.reason, rows={name: info["rows"] for name, info in tables.items()}, written=written_paths,
        unchanged=sorted(set(all_files) - set(written_paths)), deleted=removed,
        bytes_written=sum(w.bytes for w in written), seconds=round(time.perf_counter() - started, 3),
        manifest=manifest)
    unit.audit("warehouse", str(directory), after={
        "audience": audience, "scope": scope, "data_version": state.version, "full": plan.full,
        "written": len(written_paths), "unchanged": len(result.unchanged), "rows": result.rows},
        message=f"warehouse export ({audience}) to {directory}")
    return result


# --- statistics ------------------------------------------------------------------------------

def _exported_indicators(view: CatalogueView, level_codes: list[str]) -> dict[str, list[str] | None]:
    """indicator → the levels the audience sees (None: all) for every indicator it sees."""
    out: dict[str, list[str] | None] = {}
    for code, ind in sorted(view.visible.items()):
        seen = [lv for lv in level_codes if view.sees_level(ind, lv)]
        out[code] = None if len(seen) == len(level_codes) else sorted(seen)
    return out


def _observations(conn: Any, view: CatalogueView, code: str, levels: list[str] | None,
                  periods: set[str]) -> Iterator[pa.RecordBatch]:
    ind = view.visible[code]
    key = wh.stable_key(code)
    if levels is not None and not levels:
        return
    # A ratio's parts only where the audience may see both (the query layer's rule, as in the API).
    shown = shown_parts(conn, view, ind, levels if levels is not None else list(view.orders)) \
        if has_parts(ind) else None
    for raw in store.observation_batches(conn, code, levels):
        published = publish_batch(ind, raw)  # the query layer's rule: disclosure applied, rounded
        if shown is not None:
            published = hide_parts_batch(published, shown)
        periods.update(pc.unique(published.column("period")).to_pylist())
        yield wh.observation_batch(raw, indicator_key=key, published=published)


def _dim_indicator(view: CatalogueView, exported: dict[str, Any], org_keys: dict[str, int]) -> pa.Table:
    rows = []
    for code in sorted(exported):
        ind = view.visible[code]
        rows.append({"indicator_key": wh.stable_key(code), "indicator_code": code, "name_nl": ind.name_nl,
                     "name_en": ind.name_en, "definition_nl": ind.definition_nl, "unit": ind.unit,
                     "themes": list(ind.themes), "source": ind.source, "licence": ind.licence,
                     "aggregation": str(ind.aggregation), "decimals": ind.decimals, "polarity": str(ind.polarity),
                     "frequency": ind.frequency, "is_count": ind.is_count,
                     "organisation_key": org_keys.get(ind.organisation) if ind.organisation else None,
                     "access": ind.access, "public_from_level": ind.public_from_level})
    return wh.rows_table("dim_indicator", rows, public=False)


# --- plans -----------------------------------------------------------------------------------

def _plans_in_scope(unit: Unit, *, public: bool, organisation: str | None) -> list[dict[str, Any]]:
    conn = unit.conn
    if public:  # what the transparency pages show: each organisation's latest plan
        found = [plan_store.find_plan(conn, organisation=o.code, code=None)
                 for o in account_store.list_organisations(conn)]
        return [p for p in found if p is not None]
    return [p for p in plan_store.list_plans(conn, organisation)
            if allowed(unit.actor, "plans.read", Resource("plan", p["id"], p["organisation"]))]


def _plan_tables(unit: Unit, view: CatalogueView, org_keys: dict[str, int], *, public: bool,
                 organisation: str | None) -> dict[str, Any]:
    conn = unit.conn
    items: list[dict[str, Any]] = []
    exported_items: dict[int, dict[str, Any]] = {}
    latest_versions: dict[int, int] = {}  # plan id → latest version id
    plans: dict[int, dict[str, Any]] = {}
    for found in _plans_in_scope(unit, public=public, organisation=organisation):
        if plan_store.get_version(conn, found["id"], None) is None:
            continue
        state = load_state(unit, found["id"])
        plans[found["id"]] = found
        latest_versions[found["id"]] = state.version["id"]
        rows = state.rows()
        keep = {i for i in rows if rows[i]["publish"]} if public else set(rows)
        flat = wh.flatten_tree({i: {"code": r["code"], "kind": r["kind"], "parent_id": r["parent_id"],
                                    "title": r["title"] if i in keep else None} for i, r in rows.items()})
        for item_id in sorted(keep):
            row = rows[item_id]
            domain = row["beleidsdomein"]
            record = {**row, **flat[item_id], "plan_item_key": item_id, "organisation_key": org_keys[found["organisation"]],
                      "plan_code": found["code"], "plan_title": found["title"], "plan_version": state.version["number"],
                      "beleidsdomein_name": BELEIDSDOMEINEN.get(domain) if domain else None,
                      "parent_key": row["parent_id"] if row["parent_id"] in keep else None}
            items.append(record)
            exported_items[item_id] = record
    ids = set(exported_items)
    out: dict[str, Any] = {"dim_plan_item": wh.rows_table("dim_plan_item", items, public=public)}

    periods: set[str] = set()
    reporting: dict[str, tuple[str, str]] = {}
    updates = []
    for u in store.approved_updates(conn, ids):
        item = exported_items[u["item_id"]]
        periods.add(u["period"])
        start, end = reporting.get(u["period"], (u["start_date"].isoformat(), u["end_date"].isoformat()))
        reporting[u["period"]] = (min(start, u["start_date"].isoformat()), max(end, u["end_date"].isoformat()))
        updates.append({**u, "status_update_id": u["id"], "plan_item_key": u["item_id"],
                        "organisation_key": item["organisation_key"], "period_key": wh.stable_key(u["period"]),
                        "period_start": u["start_date"], "period_end": u["end_date"]})
    out["fact_status_update"] = wh.rows_table("fact_status_update", updates, public=public)

    kpi_rows, measured = [], []
    for k in store.kpis(conn, ids):
        row = {**k, "kpi_key": k["id"], "plan_item_key": k["item_id"], "targets": json.dumps(k["targets"] or {},
                                                                                          sort_keys=True)}
        if k["kind"] == KpiKind.STATISTIC:
            ind = view.visible.get(k["indicator"] or "")
            if ind is None or not view.sees_level(ind, k["area_level"] or ""):
                continue  # the audience may not see the statistic: the KPI is left out, as on the pages
            try:
                row["area_key"] = find_area(conn, k["area_level"], k["area_code"]).id
            except NotFound:
                row["area_key"] = None
            row["indicator_key"] = wh.stable_key(ind.code)
        else:
            measured.append(k["id"])
        if k["baseline_period"]:
            periods.add(k["baseline_period"])
        kpi_rows.append(row)
    out["dim_kpi"] = wh.rows_table("dim_kpi", kpi_rows, public=public)
    item_of = {k["id"]: k["item_id"] for k in kpi_rows}
    measurements = []
    for m in store.kpi_measurements(conn, measured):
        periods.add(m["period"])
        measurements.append({**m, "kpi_measurement_id": m["id"], "kpi_key": m["kpi_id"],
                             "plan_item_key": item_of[m["kpi_id"]], "period_key": wh.stable_key(m["period"])})
    out["fact_kpi_measurement"] = wh.rows_table("fact_kpi_measurement", measurements, public=public)

    budget = _budget_lines(conn, plans, latest_versions, org_keys, ids, public=public)
    periods |= {str(y) for y in pc.unique(budget.column("year")).to_pylist() if y is not None}
    out["fact_budget_line"] = budget

    signals = [] if public else [
        {**s, "signal_id": s["id"], "organisation_key": org_keys.get(s["organisation"]), "plan_item_key": s["item_id"]}
        for s in store.signals(conn, plans)]
    out["fact_signal"] = wh.rows_table("fact_signal", signals, public=public)

    used = {item["organisation_key"] for item in items} | {
        org_keys[ind.organisation] for ind in view.visible.values() if ind.organisation in org_keys}
    if organisation is not None:
        used.add(org_keys[organisation])
    out["dim_organisation"] = wh.rows_table("dim_organisation", [
        {**o, "organisation_key": o["id"], "organisation_code": o["code"]} for o in store.organisations(conn)
        if o["id"] in used], public=public)
    out["__periods__"] = {"periods": sorted(periods), "reporting": reporting}
    return out


def _budget_lines(conn: Any, plans: dict[int, dict[str, Any]], latest: dict[int, int], org_keys: dict[str, int],
                  item_ids: set[int], *, public: bool) -> pa.Table:
    """fact_budget_line: the plan's own amounts (kind plan) and the imported finance lines; the
    public sees the latest version's plan amounts and ramingen of the published items only."""
    spec = wh.TABLES["fact_budget_line"]
    versions = store.plan_versions(conn, plans)
    number = {v["id"]: v["number"] for v in versions}
    latest_ids = set(latest.values())
    org_of = {pid: org_keys[p["organisation"]] for pid, p in plans.items()}
    code_of = {pid: p["code"] for pid, p in plans.items()}
    wanted_versions = latest_ids if public else set(number)
    kinds = ("raming",) if public else ("raming", "realisatie")
    batches: list[pa.RecordBatch] = []
    sources = [store.plan_amount_batches(conn, wanted_versions), store.budget_line_batches(conn, plans, kinds)]
    for source in sources:
        for raw in source:
            if public:
                keep = pc.and_(pc.is_in(raw.column("item_id"), value_set=pa.array(sorted(item_ids), pa.int64())),
                               pc.is_in(raw.column("version_id"), value_set=pa.array(sorted(latest_ids), pa.int64())))
                raw = raw.filter(pc.fill_null(keep, False))
                if not raw.num_rows:
                    continue
            version = raw.column("version_id")
            years = raw.column("year")
            columns = {
                "line_id": raw.column("line_id"), "plan_item_key": raw.column("item_id"),
                "organisation_key": wh.map_column(raw.column("plan_id"), org_of, pa.int64()),
                "plan_code": wh.map_column(raw.column("plan_id"), code_of, pa.string()),
                "plan_version": wh.map_column(version, number, pa.int32()),
                "is_latest_version": pc.if_else(pc.is_null(version), True,
                                                pc.is_in(version, value_set=pa.array(sorted(latest_ids), pa.int64()))),
                "period_key": wh.map_column(years, {y: wh.stable_key(str(y)) for y in pc.unique(years).to_pylist()},
                                            pa.int64()),
            }
            for name in ("item_code", "kind", "year", "quarter", "category", "direction", "beleidsitem", "account",
                         "envelope", "amount"):
                columns[name] = raw.column(name)
            batches.append(pa.record_batch([columns[c.name] for c in spec.columns], schema=spec.schema))
    return pa.Table.from_batches(batches, schema=spec.schema)
