"""The warehouse export (`obmi export warehouse`) on SQLite and PostgreSQL: DuckDB (and Spark)
read the Parquet star schema, and the three documented queries of docs/warehouse.md return the
numbers the operations return; the public export holds nothing the public may not see; a second
export rewrites only what changed.

Data: the real geography, every shared Statbel file and Mechelen's real multi-year plan
(../shared/data/plans/12025.json). Two indicators exist only in these tests, as in the privacy
tests: a count per wijk of Mechelen with small counts (disclosure cases; its values are test
fixtures) that two actions target with a statistic KPI, and an indicator for Mechelen's analysts
only. Every expected number is computed from the operations, never written down.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from obmi import operations as ops
from obmi.context import Context, public_context
from obmi.errors import NotAllowed
from obmi.indicators.catalogue import Indicator
from obmi.operations import ObservationQuery
from obmi.operations.plan_views import ItemFilter
from obmi.publish import warehouse as wh
from obmi.query.observations import publish_batch, round_like_python

import factories
from conftest import SHARED, load_everything, system
from factories import org, user

PLAN = SHARED / "plans" / "12025.json"
MECHELEN = "12025"
WIJK = "wh_wijk_count"
INTERNAL = "wh_internal_share"
CATALOGUE = [
    {"code": WIJK, "name_nl": "Testtelling per wijk", "unit": "personen", "aggregation": "sum", "is_count": True},
    {"code": INTERNAL, "name_nl": "Intern testaandeel", "unit": "%", "aggregation": "none", "decimals": 1,
     "organisation": "mechelen", "access": "analysts"},
]
BEHIND = ("vertraagd", "risico")


# --- the documented queries (docs/warehouse.md has the same SQL) ---------------------------------

def q_planned_per_domain(d: str) -> str:
    return f"""
SELECT i.beleidsdomein, b.year,
       sum(b.amount) FILTER (WHERE b.kind = 'plan' AND b.is_latest_version) AS planned,
       sum(b.amount) FILTER (WHERE b.kind = 'realisatie') AS realised,
       sum(b.amount) FILTER (WHERE b.kind = 'realisatie')
         / nullif(sum(b.amount) FILTER (WHERE b.kind = 'plan' AND b.is_latest_version), 0) AS spend_rate
FROM read_parquet('{d}/fact_budget_line/*.parquet') b
JOIN read_parquet('{d}/dim_plan_item/*.parquet') i USING (plan_item_key)
WHERE b.direction = 'uitgave'
GROUP BY ALL ORDER BY ALL"""


def q_priority_behind(d: str) -> str:
    return f"""
WITH latest AS (
  SELECT u.plan_item_key, u.status,
         row_number() OVER (PARTITION BY u.plan_item_key ORDER BY u.period_end DESC) AS rank
  FROM read_parquet('{d}/fact_status_update/*.parquet') u
  WHERE u.period_start <= current_date)
SELECT a.code, a.title, l.status,
       (SELECT coalesce(sum(b.amount), 0)
        FROM read_parquet('{d}/fact_budget_line/*.parquet') b
        JOIN read_parquet('{d}/dim_plan_item/*.parquet') s USING (plan_item_key)
        WHERE b.kind = 'plan' AND b.is_latest_version AND b.direction = 'uitgave'
          AND (s.path = a.path OR starts_with(s.path, a.path || '/'))) AS budget
FROM read_parquet('{d}/dim_plan_item/*.parquet') a
JOIN latest l ON l.plan_item_key = a.plan_item_key AND l.rank = 1
WHERE a.kind = 'actie' AND a.priority AND l.status IN ('vertraagd', 'risico')
ORDER BY a.code"""


def q_indicator_per_wijk(d: str, indicator: str, period: str, gemeente: str) -> str:
    return f"""
SELECT a.area_code, a.name, o.value, o.status,
       list(p.code ORDER BY p.code) FILTER (WHERE p.code IS NOT NULL) AS actions
FROM read_parquet('{d}/fact_observation/**/*.parquet', hive_partitioning = true) o
JOIN read_parquet('{d}/dim_indicator/*.parquet') i USING (indicator_key)
JOIN read_parquet('{d}/dim_area/*.parquet') a USING (area_key)
JOIN read_parquet('{d}/dim_period/*.parquet') t USING (period_key)
LEFT JOIN read_parquet('{d}/dim_kpi/*.parquet') k
       ON k.indicator_key = o.indicator_key AND k.area_key = o.area_key AND k.kind = 'statistic'
LEFT JOIN read_parquet('{d}/dim_plan_item/*.parquet') p ON p.plan_item_key = k.plan_item_key
WHERE i.indicator_code = '{indicator}' AND t.period = '{period}' AND a.level = 'ggw7'
  AND a.gemeente_code = '{gemeente}'
GROUP BY ALL ORDER BY a.area_code"""


def rows(sql: str) -> list[tuple[Any, ...]]:
    return duckdb.sql(sql).fetchall()


# --- a city with statistics and a plan -----------------------------------------------------------

@dataclass
class City:
    root: Context
    coco: Context  # coordinator of mechelen
    ana: Context  # analyst of mechelen
    lezer: Context  # reader of mechelen
    tom: Context  # coordinator of turnhout
    public: Context
    plan_id: int
    wijken: list[str]
    targeted: dict[str, list[str]]  # wijk → codes of the actions with a statistic KPI on it
    tmp: Path


def plain_acties(coco: Context, plan_id: int) -> list[dict[str, Any]]:
    """Acties without children whose code names one item (no CODE/2 variants)."""
    items = ops.plan_items(coco, plan_id).items
    return [r for r in items if r["kind"] == "actie" and r["children"] == 0 and "/" not in r["code"]]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def city(request, db_factories, templates, tmp_path_factory, shared_data) -> City:
    factory = db_factories(request.param)
    db = factory.clone(templates.get(factory, "loaded", load_everything))
    tmp = tmp_path_factory.mktemp("warehouse")
    root = system(db)
    org(root, "mechelen")
    org(root, "turnhout")
    coco = user(root, "coco", "coordinator", org="mechelen", password=None)
    ana = user(root, "ana", "analyst", org="mechelen", password=None)
    lezer = user(root, "lezer", "reader", org="mechelen", password=None)
    tom = user(root, "tom", "coordinator", org="turnhout", password=None)
    public = public_context(db, root.settings)
    factories.catalogue(coco, tmp, *CATALOGUE)
    shapes = ops.area_geojson(public, "ggw7", within=("gemeente", MECHELEN))
    wijken = sorted(f["properties"]["code"] for f in shapes["features"])
    assert len(wijken) >= 4, "the shared geography has too few wijken in Mechelen"
    # One small count per year (a disclosure case), the others well above the threshold.
    factories.observations(coco, tmp, [{"indicator": WIJK, "level": "ggw7", "area": w, "period": year,
                                        "value": 2 if i == 1 else 40 + 7 * i + (year - 2023)}
                                       for year in (2023, 2024) for i, w in enumerate(wijken)])
    factories.observations(coco, tmp, [{"indicator": INTERNAL, "level": "gemeente", "area": MECHELEN, "period": 2024,
                                        "value": 12.345}])
    result = ops.import_plan(coco, [PLAN], organisation="mechelen")
    assert result.status == "created", result.summary()
    ops.add_reporting_periods(coco, range(2026, 2028), organisation="mechelen")
    acties = plain_acties(coco, result.plan_id)
    assert len(acties) >= 8
    # Priorities, publication and approved statuses: S1 then (for some) S2, the latest counts.
    plan_of: dict[str, tuple[bool, bool, list[str]]] = {
        acties[0]["code"]: (True, True, ["vertraagd"]), acties[1]["code"]: (True, False, ["risico"]),
        acties[2]["code"]: (True, True, ["op_schema"]), acties[3]["code"]: (True, True, ["vertraagd", "op_schema"]),
        acties[4]["code"]: (False, True, ["vertraagd"]), acties[5]["code"]: (True, True, ["op_schema", "risico"]),
    }
    for row in acties:
        if row["code"] not in plan_of:
            continue
        priority, publish, statuses = plan_of[row["code"]]
        ops.update_item(coco, row["id"], expected_version=row["row_version"], priority=priority, publish=publish)
        for period, status in zip(("2026-S1", "2026-S2"), statuses):
            update = ops.save_status_update(coco, row["id"], period=period, status=status, progress=50,
                                            narrative=f"tekst {row['code']}", submit=True).update
            ops.decide_status_update(coco, update["id"], approve=True)
    targeted: dict[str, list[str]] = defaultdict(list)
    for row, wijk in ((acties[0], wijken[1]), (acties[1], wijken[1]), (acties[2], wijken[2])):
        ops.add_kpi(coco, row["id"], kind="statistic", name="Telling", indicator=WIJK, area_level="ggw7",
                    area_code=wijk)
        targeted[wijk].append(row["code"])
    ops.add_kpi(coco, acties[0]["id"], kind="manual", name="Schoolstraten", unit_label="straten")
    # Realisaties of the first quarter of 2026 on three acties (a finance import), so that the
    # spend-rate query has something to divide.
    realised = tmp / "realisaties.csv"
    realised.write_text("actie;jaar;kwartaal;algemene rekening;uitgave/ontvangst;bedrag;raming/realisatie\n" + "".join(
        f"{row['code']};2026;1;6100000;U;{1000 * (n + 1)},50;realisatie\n" for n, row in enumerate(acties[:3])),
        encoding="utf-8")
    assert ops.import_finance(coco, [realised], organisation="mechelen", today=date(2026, 12, 1)).lines == 3
    yield City(root, coco, ana, lezer, tom, public, result.plan_id, wijken, dict(targeted), tmp)
    db.dispose()


@pytest.fixture(scope="module")
def exports(city) -> dict[str, Path]:
    out = {"public": city.tmp / "public", "internal": city.tmp / "internal"}
    ops.export_warehouse(city.ana, out["public"], audience="public")
    ops.export_warehouse(city.ana, out["internal"], audience="internal")
    return out


def published(ctx: Context, code: str, level: str) -> dict[tuple[str, str], tuple[Any, str]]:
    """(area, period) → (value, status) as the API returns them (areas without data left out)."""
    result = ops.query_observations(ctx, ObservationQuery(code, level))
    return {(r.area_code, r.period): (r.value, str(r.status)) for r in result.rows if r.status != "missing"}


def exported(d: Path, code: str, level: str) -> dict[tuple[str, str], tuple[Any, str]]:
    found = rows(f"""
        SELECT a.area_code, t.period, o.value, o.status
        FROM read_parquet('{d}/fact_observation/**/*.parquet', hive_partitioning = true) o
        JOIN read_parquet('{d}/dim_area/*.parquet') a USING (area_key)
        JOIN read_parquet('{d}/dim_period/*.parquet') t USING (period_key)
        WHERE o.indicator_code = '{code}' AND a.level = '{level}'""")
    return {(a, p): (v, s) for a, p, v, s in found}


# --- 1. the export is what the API shows ---------------------------------------------------------

def test_observations_in_the_warehouse_are_what_the_api_shows(city, exports):
    d = exports["public"]
    codes = [i.code for i in ops.list_indicators(city.public)]
    assert WIJK in codes and INTERNAL not in codes
    compared = 0
    for code in codes:
        for level in ("gemeente", "provincie"):
            api = published(city.public, code, level)
            assert exported(d, code, level) == api, (code, level)
            compared += len(api)
    assert compared > 50_000  # the real Statbel data, every period
    assert exported(d, WIJK, "ggw7") == published(city.public, WIJK, "ggw7")
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["audience"] == "public"
    total = rows(f"SELECT count(*) FROM read_parquet('{d}/fact_observation/**/*.parquet')")[0][0]
    assert manifest["tables"]["fact_observation"]["rows"] == total
    # Every table named in the interface is there, with its manifest row count.
    for name in wh.TABLES:
        count = rows(f"SELECT count(*) FROM read_parquet('{d}/{name}/**/*.parquet')")[0][0]
        assert manifest["tables"][name]["rows"] == count, name


def test_query_planned_and_spend_rate_per_beleidsdomein(city, exports):
    items = ops.plan_items(city.ana, city.plan_id).items
    children: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in items:
        children[row["parent_id"]].append(row)
    # The item's own planned expenditure is its budget less its children's (budget: the subtree).
    own_per_domain: dict[str, float] = defaultdict(float)
    for row in items:
        own = row["budget"] - sum(k["budget"] for k in children[row["id"]])
        own_per_domain[row["beleidsdomein"]] += own
    found: dict[str, float] = defaultdict(float)
    per_domain_year = {}
    for domain, year, planned, realised, spend_rate in rows(q_planned_per_domain(exports["internal"])):
        found[domain] += planned or 0.0
        per_domain_year[(domain or "??", year)] = (planned or 0.0, realised or 0.0, spend_rate)
    # The same numbers as the finance operation (the finance pages and API), per domain and year.
    plan = ops.plan_info(city.ana, city.plan_id)
    compared = 0
    for year in range(plan.start_year, plan.end_year + 1):
        figures = ops.finance_overview(city.ana, city.plan_id, year=year).figures
        for domain, money in figures.domains(year).items():
            planned, realised, spend_rate = per_domain_year.pop((domain, year), (0.0, 0.0, None))
            assert planned == pytest.approx(money.planned_out, abs=0.01), (domain, year)
            assert realised == pytest.approx(money.realised_out, abs=0.01), (domain, year)
            if money.realised_out:
                assert spend_rate == pytest.approx(money.spend_rate), (domain, year)
                compared += 1
    assert compared >= 1  # at least one domain with realisaties
    assert not {k: v for k, v in per_domain_year.items() if v[0] or v[1]}, "rows the operation does not know"
    assert set(found) == {d for d, v in own_per_domain.items() if abs(v) > 0.004} | (set(found) - set(own_per_domain))
    for domain, amount in own_per_domain.items():
        assert found.get(domain, 0.0) == pytest.approx(amount, abs=0.01), domain
    assert sum(found.values()) > 1_000_000


def test_query_priority_actions_behind_schedule_with_their_budget(city, exports):
    api = [r for r in ops.plan_items(city.ana, city.plan_id, filters=ItemFilter(kind="actie", priority=True)).items
           if r["status"] in BEHIND]
    assert len(api) >= 2
    expected = [(r["code"], r["title"], r["status"], pytest.approx(r["budget"], abs=0.005)) for r in api]
    assert rows(q_priority_behind(exports["internal"])) == sorted(expected, key=lambda r: r[0])
    # The public sees the published ones only (the same rule as the transparency page).
    public_items = {i["code"]: i for i in ops.public_plan(city.public, "mechelen").items}
    public_expected = [e for e in expected if e[0] in public_items]
    assert 0 < len(public_expected) < len(expected)
    assert rows(q_priority_behind(exports["public"])) == sorted(public_expected, key=lambda r: r[0])


def test_query_an_indicator_per_wijk_with_the_actions_that_target_it(city, exports):
    api = ops.query_observations(city.public, ObservationQuery(WIJK, "ggw7", "2024", within=("gemeente", MECHELEN)))
    by_code = {r.area_code: r for r in api.rows}
    found = rows(q_indicator_per_wijk(exports["internal"], WIJK, "2024", MECHELEN))
    assert [f[0] for f in found] == sorted(c for c, r in by_code.items() if r.status != "missing")
    for code, name, value, status, actions in found:
        row = by_code[code]
        assert (name, value, status) == (row.area_name, row.value, str(row.status))
        assert sorted(actions or []) == sorted(city.targeted.get(code, []))
    assert any(f[3] == "suppressed" and f[4] for f in found), "a targeted wijk has a suppressed count"
    # The KPIs the item pages show are the ones in dim_kpi.
    for wijk, codes in city.targeted.items():
        for item in ops.plan_items(city.ana, city.plan_id, filters=ItemFilter(kind="actie")).items:
            if item["code"] in codes:
                kpis = ops.item_detail(city.ana, item["id"]).kpis
                assert any(k["area_code"] == wijk and k["indicator"] == WIJK for k in kpis)


# --- 2. audiences ------------------------------------------------------------------------------

def test_the_public_export_holds_only_what_the_public_may_see(city, exports):
    d, internal = exports["public"], exports["internal"]
    leaks = rows(f"""SELECT count(*) FROM read_parquet('{d}/fact_observation/**/*.parquet')
                     WHERE status = 'suppressed' AND (value IS NOT NULL OR numerator IS NOT NULL
                       OR denominator IS NOT NULL OR n IS NOT NULL OR ci_low IS NOT NULL OR ci_high IS NOT NULL)""")
    assert leaks == [(0,)]
    small = exported(d, WIJK, "ggw7")[(city.wijken[1], "2024")]
    assert small == (None, "suppressed")  # the cell is there, without its value
    assert not (d / "fact_observation" / f"indicator_code={INTERNAL}").exists()
    assert INTERNAL not in {r[0] for r in rows(f"SELECT indicator_code FROM read_parquet('{d}/dim_indicator/*.parquet')")}
    # Plans: published items only, no realisaties, no signals, no owners or texts.
    public_codes = {i["code"] for i in ops.public_plan(city.public, "mechelen").items}
    assert {r[0] for r in rows(f"SELECT code FROM read_parquet('{d}/dim_plan_item/*.parquet')")} == public_codes
    assert rows(f"SELECT count(*) FROM read_parquet('{d}/dim_plan_item/*.parquet') WHERE owner IS NOT NULL") == [(0,)]
    assert rows(f"SELECT DISTINCT kind FROM read_parquet('{d}/fact_budget_line/*.parquet')") == [("plan",)]
    assert rows(f"SELECT count(*) FROM read_parquet('{d}/fact_signal/*.parquet')") == [(0,)]
    assert rows(f"SELECT count(*) FROM read_parquet('{d}/fact_status_update/*.parquet') "
                "WHERE narrative IS NOT NULL") == [(0,)]

    # The analysts' export has their organisation's indicator, its plan in full, with the texts;
    # a withheld cell is withheld for them too (no channel shows it to anyone).
    assert json.loads((internal / "manifest.json").read_text())["audience"] == "internal"
    assert exported(internal, INTERNAL, "gemeente") == published(city.ana, INTERNAL, "gemeente") == \
        {(MECHELEN, "2024"): (12.3, "final")}
    assert exported(internal, WIJK, "ggw7")[(city.wijken[1], "2024")] == (None, "suppressed")
    all_items = ops.plan_items(city.ana, city.plan_id).items
    assert rows(f"SELECT count(*) FROM read_parquet('{internal}/dim_plan_item/*.parquet')") == [(len(all_items),)]
    texts = rows(f"SELECT count(*) FROM read_parquet('{internal}/fact_status_update/*.parquet') WHERE narrative <> ''")
    assert texts[0][0] >= 6


def test_who_may_export(city, tmp_path):
    with pytest.raises(NotAllowed):
        ops.export_warehouse(city.public, tmp_path / "anonymous")
    with pytest.raises(NotAllowed):
        ops.export_warehouse(city.lezer, tmp_path / "reader")  # readers read, they do not export
    with pytest.raises(NotAllowed):  # another organisation's internal data
        ops.export_warehouse(city.tom, tmp_path / "other", audience="internal", organisation="mechelen")
    assert not (tmp_path / "other" / "manifest.json").exists()
    # Turnhout's coordinator exports Turnhout's internal data: none of Mechelen's plan or indicator.
    result = ops.export_warehouse(city.tom, tmp_path / "turnhout", audience="internal")
    assert result.rows["dim_plan_item"] == 0 and INTERNAL not in json.loads(
        (tmp_path / "turnhout" / "manifest.json").read_text())["tables"]["fact_observation"]["partitions"]
    events = ops.list_audit(city.root, ops.AuditFilter(resource_type="warehouse")).data
    assert any(e["operation"] == "export_warehouse" and e["outcome"] == "ok" for e in events)


# --- 3. incremental ----------------------------------------------------------------------------

def mtimes(d: Path) -> dict[str, int]:
    return {str(p.relative_to(d)): p.stat().st_mtime_ns for p in d.rglob("*.parquet")}


def test_a_second_export_rewrites_only_what_changed(city, tmp_path):
    d = tmp_path / "inc"
    first = ops.export_warehouse(city.ana, d)
    assert first.full and first.unchanged == []
    before = mtimes(d)

    again = ops.export_warehouse(city.ana, d)
    assert (again.full, again.written, again.deleted) == (False, [], [])
    assert mtimes(d) == before

    # One more year of one indicator: its partition alone (and the periods it adds).
    factories.observations(city.coco, city.tmp, [{"indicator": WIJK, "level": "ggw7", "area": w, "period": 2025,
                                                  "value": 50 + i} for i, w in enumerate(city.wijken)])
    third = ops.export_warehouse(city.ana, d)
    assert not third.full
    assert set(third.written) == {wh.partition_path(WIJK), wh.table_path("dim_period")}
    after = mtimes(d)
    assert {k for k in after if after[k] != before.get(k)} == set(third.written)
    assert exported(d, WIJK, "ggw7") == published(city.public, WIJK, "ggw7")

    # A plan change (an item published): the plan tables, no observation partition.
    row = next(r for r in plain_acties(city.coco, city.plan_id) if not r["publish"])
    ops.update_item(city.coco, row["id"], expected_version=row["row_version"], publish=True)
    fourth = ops.export_warehouse(city.ana, d)
    assert not fourth.full and wh.table_path("dim_plan_item") in fourth.written
    assert not any(p.startswith("fact_observation/") for p in fourth.written)
    assert row["code"] in {r[0] for r in rows(f"SELECT code FROM read_parquet('{d}/dim_plan_item/*.parquet')")}

    # --full, and another audience into the same folder, rewrite everything.
    assert ops.export_warehouse(city.ana, d, full=True).unchanged == []
    other = ops.export_warehouse(city.ana, d, audience="internal")
    assert other.full and other.reason == "another audience"
    assert not list(d.glob(".staging-*"))


# --- 4. Spark reads it too -----------------------------------------------------------------------

@pytest.mark.spark
def test_spark_reads_the_warehouse_and_answers_like_duckdb(city, exports):
    from pyspark.sql import SparkSession  # the test extra; a Java runtime (CI installs one)
    d = exports["internal"]
    spark = (SparkSession.builder.master("local[2]").appName("obmi-warehouse-test")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    try:
        for name in ("fact_status_update", "fact_budget_line", "dim_plan_item"):
            spark.read.parquet(str(d / name)).createOrReplaceTempView(name)
        spark.read.parquet(str(d / "fact_observation")).createOrReplaceTempView("fact_observation")
        assert spark.table("fact_observation").count() == json.loads((d / "manifest.json").read_text())[
            "tables"]["fact_observation"]["rows"]
        found = spark.sql(SPARK_PRIORITY_BEHIND).collect()
        expected = rows(q_priority_behind(d))
        assert [(r.code, r.title, r.status) for r in found] == [e[:3] for e in expected]
        assert [r.budget for r in found] == pytest.approx([e[3] for e in expected], abs=0.005)
    finally:
        spark.stop()


SPARK_PRIORITY_BEHIND = """
WITH latest AS (
  SELECT u.plan_item_key, u.status,
         row_number() OVER (PARTITION BY u.plan_item_key ORDER BY u.period_end DESC) AS rank
  FROM fact_status_update u WHERE u.period_start <= current_date()),
budget AS (
  SELECT a.plan_item_key, coalesce(sum(b.amount), 0) AS budget
  FROM dim_plan_item a JOIN dim_plan_item s ON s.path = a.path OR startswith(s.path, concat(a.path, '/'))
  JOIN fact_budget_line b ON b.plan_item_key = s.plan_item_key
   AND b.kind = 'plan' AND b.is_latest_version AND b.direction = 'uitgave'
  GROUP BY a.plan_item_key)
SELECT a.code, a.title, l.status, coalesce(g.budget, 0) AS budget
FROM dim_plan_item a JOIN latest l ON l.plan_item_key = a.plan_item_key AND l.rank = 1
LEFT JOIN budget g ON g.plan_item_key = a.plan_item_key
WHERE a.kind = 'actie' AND a.priority AND l.status IN ('vertraagd', 'risico')
ORDER BY a.code"""


# --- 5. the pure parts -------------------------------------------------------------------------

def test_rounding_like_python_on_ties_and_ordinary_values():
    import random
    rng = random.Random(8)
    values = [rng.uniform(-1e6, 1e6) for _ in range(20_000)] + [1.115, 2.675, 0.285, 1.005, 0.5, 2.5, -0.5, 1e300,
                                                               123456789012.345678, 4.35, -2.675, 0.125]
    values += [round(v, 3) for v in values[:5000]] + [k / 1000 + 0.0005 for k in range(5000)]
    for decimals in (0, 1, 2, 3):
        column = pa.array(values + [None], type=pa.float64())
        got = round_like_python(column, decimals).to_pylist()
        assert got == [round(v, decimals) for v in values] + [None], decimals


def test_publish_batch_withholds_like_publish():
    ind = Indicator(code="x", name_nl="x", name_en="x", decimals=1)
    batch = pa.record_batch({
        "area_id": pa.array([1, 2], pa.int64()), "period": ["2024", "2024"], "value": [3.0, 12.345],
        "numerator": [3.0, 1.0], "denominator": [10.0, 8.1], "n": [3.0, None], "ci_low": [1.0, 11.04],
        "ci_high": [4.0, 13.06], "status": ["final", "final"], "origin": ["source", "aggregated"],
        "disclosure": ["primary", None]})
    out = publish_batch(ind, batch).to_pylist()
    assert out[0] | {"disclosure": None} == {"area_id": 1, "period": "2024", "value": None, "numerator": None,
                                             "denominator": None, "n": None, "ci_low": None, "ci_high": None,
                                             "status": "suppressed", "origin": "source", "disclosure": None}
    assert (out[1]["value"], out[1]["ci_low"], out[1]["ci_high"], out[1]["numerator"]) == (12.3, 11.0, 13.1, 1.0)


def test_dim_area_flattens_the_hierarchy_per_level():
    areas = pa.table({"id": pa.array([1, 2, 3, 4, 5], pa.int64()), "level": ["gemeente", "ggw7", "statsec", "ggw7",
                                                                            "provincie"],
                      "code": ["12025", "W1", "S1", "W2", "P1"], "name": list("abcde"), "short_name": [None] * 5,
                      "is_unknown": [False] * 5})
    levels = [{"code": c, "name_nl": c, "family": c, "is_current": True, "valid_from": None, "valid_to": None}
              for c in ("statsec", "ggw7", "gemeente", "provincie")]
    # S1 lies in W1 (weight 0.7) and W2 (0.3): the larger part wins.
    links = [(3, 2, 0.7), (3, 4, 0.3), (2, 1, 1.0), (4, 1, 1.0), (1, 5, 1.0)]
    table = wh.dim_area(areas, levels, links).to_pylist()
    sector = next(r for r in table if r["area_code"] == "S1")
    assert (sector["statsec_code"], sector["ggw7_code"], sector["gemeente_code"], sector["provincie_code"]) == \
        ("S1", "W1", "12025", "P1")
    assert next(r for r in table if r["area_code"] == "12025")["ggw7_code"] is None


def test_flatten_tree_and_period_rows():
    items = {1: {"code": "BD1", "kind": "beleidsdoelstelling", "title": "Doel", "parent_id": None},
             2: {"code": "AP1", "kind": "actieplan", "title": "Plan", "parent_id": 1},
             3: {"code": "AC1", "kind": "actie", "title": "Actie", "parent_id": 2}}
    flat = wh.flatten_tree(items)[3]
    assert flat == {"depth": 2, "path": "BD1/AP1/AC1", "beleidsdoelstelling_code": "BD1",
                    "beleidsdoelstelling_title": "Doel", "actieplan_code": "AP1", "actieplan_title": "Plan",
                    "actie_code": "AC1"}
    from datetime import date
    assert wh.period_row("2024-Q4", {})["end_date"] == date(2024, 12, 31)
    assert wh.period_row("2024-02", {})["end_date"] == date(2024, 2, 29)
    assert wh.period_row("2026-S1", {"2026-S1": (date(2026, 1, 1), date(2026, 6, 30))})["period_type"] == "reporting"
    assert wh.stable_key("2024") == wh.stable_key("2024") != wh.stable_key("2025")


def test_the_incremental_plan():
    sig = {"a": "1", "b": "2", "c": "3"}
    previous = {"format_version": wh.FORMAT_VERSION, "epoch": "e", "data_version": 10, "audience": "public",
                "scope": "public", "tables": {"fact_observation": {"partitions": {
                    "a": {"signature": "1"}, "b": {"signature": "old"}, "gone": {"signature": "9"}}}}}
    plan = wh.plan_export(previous, epoch="e", version=12, audience="public", scope="public",
                          changes={("indicator", "a")}, signatures=sig)
    assert not plan.full
    assert plan.write_partitions == {"a", "b", "c"}  # changed, other signature, new
    assert plan.delete_partitions == {"gone"} and plan.recompute == {"dim_period", "dim_indicator"}
    quiet = wh.plan_export(previous, epoch="e", version=10, audience="public", scope="public", changes=set(),
                           signatures={"a": "1"})
    assert (quiet.write_partitions, quiet.keep_partitions) == (frozenset(), {"a"})
    other = wh.plan_export(previous, epoch="e", version=11, audience="public", scope="public",
                           changes={("other", "")}, signatures={"a": "1"})
    assert "fact_budget_line" in other.recompute and "dim_area" not in other.recompute
    for kwargs, reason in (({"epoch": "x"}, "another database (epoch)"), ({"audience": "internal"}, "another audience"),
                           ({"changes": {("geography", "")}}, "everything changed (geography, re-derivation or restore)"),
                           ({"full": True}, "--full")):
        args = {"epoch": "e", "version": 12, "audience": "public", "scope": "public", "changes": set(),
                "signatures": sig, **kwargs}
        found = wh.plan_export(previous, **args)
        assert found.full and found.reason == reason and found.write_partitions == set(sig)
    assert wh.plan_export(None, epoch="e", version=1, audience="public", scope="public", changes=None,
                          signatures=sig).full


def test_the_documented_queries_are_the_tested_ones():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "warehouse.md").read_text(encoding="utf-8")
    for sql in (q_planned_per_domain("DIR"), q_priority_behind("DIR"),
                q_indicator_per_wijk("DIR", WIJK, "2024", MECHELEN)):
        assert sql.strip() in doc
    for name in wh.TABLES:
        assert f"### {name} " in doc
