"""Early-warning signals. First the pure rules (obmi.plans.signals): each rule fires on facts built
to trigger it and stays silent on a near miss built not to. Then through the operations on SQLite
and PostgreSQL with the real plan of Turnhout (13040): evaluating (new, idempotent, resolved),
acknowledging (audited; refused for others), configuring the rules (field errors), the dashboard,
the item page, the API, the rules page, the digest mail and the command line.

Every expected number is computed here from the inputs, never written down."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from obmi import operations as ops
from obmi.errors import Conflict, NotAllowed, NotVisible, ValidationError
from obmi.finance.figures import ItemInfo, compute_figures
from obmi.finance.model import BudgetLine, Category, Flow, LineKind
from obmi.plans import signals as s
from obmi.plans.workflow import StaleEdit
from obmi.settings import load_settings
from obmi.store.tables import audit_event

from conftest import SHARED, system
from factories import catalogue, observations, org, user

TODAY = date(2026, 9, 15)
RULES = {r.code: r for r in s.BUILTIN_RULES}


# --- pure rules: helpers ------------------------------------------------------------------------------

def facts(**kwargs: Any) -> s.SignalFacts:
    items = {"AC1": s.ItemFact(1, "AC1", "actie", "Straatverlichting", "an"),
             "AC2": s.ItemFact(2, "AC2", "actie", "Fietspaden", "bert")}
    return s.SignalFacts(kwargs.pop("today", TODAY), items=kwargs.pop("items", items), **kwargs)


def fired(code: str, f: s.SignalFacts, **params: Any) -> list[s.Finding]:
    return RULES[code].run(f, params or None)


def kpi(points: list[tuple[str, float]], *, direction: str = "up", target: float = 100.0, kind: str = "manual",
        **kwargs: Any) -> s.KpiFact:
    return s.KpiFact(7, "AC1", "Lichtpunten", kind, direction, {2030: target},
                     tuple(s.Point(p, v) for p, v in points), **kwargs)


def series(start: float, step: float, count: int) -> list[tuple[str, float]]:
    return [(str(2020 + i), start + i * step) for i in range(count)]


# --- kpi_drifting -----------------------------------------------------------------------------------------

@pytest.mark.unit
def test_kpi_drifting_fires_after_n_moves_away_and_not_after_fewer():
    n = RULES["kpi_drifting"].defaults["measurements"]
    away = series(90, -5, n + 1)  # n moves down, an up-KPI with a target of 100
    [finding] = fired("kpi_drifting", facts(kpis=[kpi(away)]))
    assert finding.subject == "kpi:7" and finding.item == "AC1" and finding.owner == "an"
    assert [m["value"] for m in finding.evidence["measurements"]] == [v for _, v in away]
    assert finding.evidence["target"] == 100.0 and str(n) in finding.message_nl
    # One move fewer: silent.
    assert fired("kpi_drifting", facts(kpis=[kpi(series(90, -5, n))])) == []
    # N moves, but one of them back towards the target: silent.
    broken = away[:-1] + [(away[-1][0], away[-2][1] + 1)]
    assert fired("kpi_drifting", facts(kpis=[kpi(broken)])) == []
    # Lower is better: rising values move away.
    assert len(fired("kpi_drifting", facts(kpis=[kpi(series(110, 5, n + 1), direction="down")]))) == 1
    # The target is reached: falling from above is no drift.
    assert fired("kpi_drifting", facts(kpis=[kpi(series(130, -5, n + 1))])) == []


@pytest.mark.unit
def test_kpi_drifting_takes_its_n_from_the_parameters():
    away = series(90, -5, 3)  # two moves away
    assert fired("kpi_drifting", facts(kpis=[kpi(away)]), measurements=3) == []
    assert len(fired("kpi_drifting", facts(kpis=[kpi(away)]), measurements=2)) == 1


# --- milestone_overdue ------------------------------------------------------------------------------------

def milestone(planned_end: date, actual_end: date | None = None, owner: str | None = None) -> s.MilestoneFact:
    return s.MilestoneFact(5, "AC1", "Aanbesteding", planned_end, actual_end, owner)


@pytest.mark.unit
def test_milestone_overdue_fires_past_its_planned_end_and_not_before():
    late = 12
    [finding] = fired("milestone_overdue", facts(milestones=[milestone(TODAY - timedelta(days=late))]))
    assert finding.subject == "milestone:5" and finding.evidence["days_overdue"] == late
    assert finding.severity == "warning" and f"{late} dagen" in finding.message_nl
    assert fired("milestone_overdue", facts(milestones=[milestone(TODAY + timedelta(days=1))])) == []  # tomorrow
    assert fired("milestone_overdue", facts(milestones=[milestone(TODAY)])) == []  # today itself
    done = milestone(TODAY - timedelta(days=late), actual_end=TODAY - timedelta(days=1))
    assert fired("milestone_overdue", facts(milestones=[done])) == []
    # Within the days of grace: silent; past them: fires.
    assert fired("milestone_overdue", facts(milestones=[milestone(TODAY - timedelta(days=late))]), grace_days=late) == []
    # Long overdue: critical.
    limit = RULES["milestone_overdue"].defaults["critical_after_days"]
    [old] = fired("milestone_overdue", facts(milestones=[milestone(TODAY - timedelta(days=limit + 1))]))
    assert old.severity == "critical"


@pytest.mark.unit
def test_the_milestone_owner_is_the_owner_when_the_item_has_none():
    items = {"AC1": s.ItemFact(1, "AC1", "actie", "Zonder eigenaar", None)}
    [finding] = fired("milestone_overdue", facts(items=items, milestones=[milestone(TODAY - timedelta(days=3),
                                                                                    owner="mila")]))
    assert finding.owner == "mila"


# --- no_update and delayed -------------------------------------------------------------------------------------

def semesters(*codes: str, deadline_days: int = 15) -> list[s.PeriodFact]:
    from obmi.plans.periods import period
    return [s.PeriodFact(p.code, p.start, p.end, p.deadline) for p in (period(c, deadline_days) for c in codes)]


@pytest.mark.unit
def test_no_update_fires_after_n_passed_deadlines_without_an_update():
    periods = semesters("2025-S1", "2025-S2", "2026-S1", "2026-S2")
    passed = [p for p in periods if p.deadline < TODAY]
    n = RULES["no_update"].defaults["periods"]
    assert len(passed) > n, "the fixture needs more passed periods than the rule's N"
    # AC1 reported on the period before the last n: it has n periods without an update.
    reported = passed[-n - 1].code
    updates = [s.UpdateFact("AC1", reported, "approved", "op_schema"), s.UpdateFact("AC2", passed[-1].code,
                                                                                     "submitted", "op_schema")]
    found = {f.item: f for f in fired("no_update", facts(periods=periods, updates=updates))}
    assert set(found) == {"AC1"}  # AC2 submitted its latest period: silent
    assert [p["period"] for p in found["AC1"].evidence["periods"]] == [p.code for p in passed[-n:]]
    assert found["AC1"].evidence["last_approved"] == reported
    # A draft does not count as an update; one more recent submission silences the rule.
    drafted = updates + [s.UpdateFact("AC1", passed[-1].code, "draft", "op_schema")]
    assert "AC1" in {f.item for f in fired("no_update", facts(periods=periods, updates=drafted))}
    closer = [s.UpdateFact("AC1", passed[-n + 1 if n > 1 else -1].code, "submitted", "op_schema"), updates[1]]
    assert fired("no_update", facts(periods=periods, updates=closer)) == []
    # A finished item needs no updates.
    finished = [s.UpdateFact("AC1", reported, "approved", "afgerond"), updates[1]]
    assert fired("no_update", facts(periods=periods, updates=finished)) == []


@pytest.mark.unit
def test_no_update_waits_for_the_deadline():
    periods = semesters("2026-S1")  # deadline 15 July 2026
    deadline = periods[0].deadline
    assert fired("no_update", facts(today=deadline, periods=periods), periods=1) == []
    assert {f.item for f in fired("no_update", facts(today=deadline + timedelta(days=1), periods=periods),
                                  periods=1)} == {"AC1", "AC2"}


@pytest.mark.unit
def test_delayed_fires_when_the_last_n_approved_updates_say_vertraagd():
    n = RULES["delayed"].defaults["periods"]
    codes = [f"{2024 + i // 2}-S{i % 2 + 1}" for i in range(n + 1)]
    delayed = [s.UpdateFact("AC1", c, "approved", "vertraagd") for c in codes]
    [finding] = fired("delayed", facts(updates=delayed))
    assert [p["period"] for p in finding.evidence["periods"]] == codes[-n:]
    # The latest one on schedule again: silent. Only n-1 delayed: silent. A submitted one does not count.
    recovered = delayed[:-1] + [s.UpdateFact("AC1", codes[-1], "approved", "op_schema")]
    assert fired("delayed", facts(updates=recovered)) == []
    assert fired("delayed", facts(updates=delayed[-(n - 1):] if n > 1 else [])) == []
    unapproved = delayed[-(n - 1):] + [s.UpdateFact("AC1", "2030-S1", "submitted", "vertraagd")] if n > 1 else []
    assert fired("delayed", facts(updates=unapproved)) == []


# --- low_spend and over_budget ----------------------------------------------------------------------------------

def figures(planned: dict[str, float], realised: dict[str, list[float]], year: int = TODAY.year) -> Any:
    items = [ItemInfo("AP1", "actieplan", None, "0"), *(ItemInfo(c, "actie", "AP1", "0") for c in ("AC1", "AC2"))]
    lines = [BudgetLine(code, LineKind.RAMING, year, Category.EXPLOITATIE, Flow.UITGAVE, amount)
             for code, amount in planned.items()]
    lines += [BudgetLine(code, LineKind.REALISATIE, year, Category.EXPLOITATIE, Flow.UITGAVE, amount, quarter=q + 1)
              for code, quarters in realised.items() for q, amount in enumerate(quarters) if amount]
    return compute_figures(items, lines, source="finance")


@pytest.mark.unit
def test_low_spend_fires_below_the_threshold_after_the_day_and_not_otherwise():
    threshold = RULES["low_spend"].defaults["threshold_pct"]
    planned = 100_000.0
    low = planned * (threshold - 1) / 100  # just below
    at = planned * threshold / 100  # exactly at the threshold: not below
    f = facts(finance=figures({"AC1": planned, "AC2": planned}, {"AC1": [low / 2, low / 2], "AC2": [at / 2, at / 2]}))
    [finding] = fired("low_spend", f)
    assert finding.subject == f"item:AC1:{TODAY.year}" and finding.owner == "an"
    assert finding.evidence["spend_rate_pct"] == pytest.approx(low / planned * 100)
    assert finding.evidence["planned_out"] == planned and finding.evidence["realised_out"] == pytest.approx(low)
    # Before the day (30 June by default): silent.
    month, day = map(int, RULES["low_spend"].defaults["by"].split("-"))
    early = facts(today=date(TODAY.year, month, day), finance=f.finance)
    assert fired("low_spend", early) == []
    # No realisaties of the year imported yet: no evidence of low spending.
    assert fired("low_spend", facts(finance=figures({"AC1": planned}, {}))) == []
    # A higher threshold catches AC2 too.
    assert {x.item for x in fired("low_spend", f, threshold_pct=threshold + 1)} == {"AC1", "AC2"}


@pytest.mark.unit
def test_over_budget_fires_when_realised_exceeds_planned():
    planned = 50_000.0
    over = planned * 1.02
    f = facts(finance=figures({"AC1": planned, "AC2": planned}, {"AC1": [over, 0, 0, 0], "AC2": [planned, 0, 0, 0]}))
    [finding] = fired("over_budget", f)
    assert finding.item == "AC1" and finding.severity == "critical"
    assert finding.evidence["over"] == pytest.approx(over - planned)
    assert fired("over_budget", f, tolerance_pct=2.5) == []  # 2 % over, within a 2.5 % margin
    assert fired("over_budget", facts()) == []  # no finance at all


# --- indicator_worsening ------------------------------------------------------------------------------------------

@pytest.mark.unit
def test_indicator_worsening_fires_beyond_the_threshold_between_the_last_two_values():
    threshold = RULES["indicator_worsening"].defaults["threshold_pct"]
    before = 1000.0
    worse = before * (1 - (threshold + 1) / 100)
    slightly = before * (1 - (threshold - 1) / 100)
    stat = {"kind": "statistic", "indicator": "pop_total"}
    [finding] = fired("indicator_worsening", facts(kpis=[kpi([("2024", before), ("2025", worse)], **stat)]))
    assert finding.evidence["change_pct"] == pytest.approx((worse - before) / before * 100)
    assert finding.evidence["test"] == "relative_change" and finding.evidence["indicator"] == "pop_total"
    assert fired("indicator_worsening", facts(kpis=[kpi([("2024", before), ("2025", slightly)], **stat)])) == []
    better = before * (1 + (threshold + 1) / 100)
    assert fired("indicator_worsening", facts(kpis=[kpi([("2024", before), ("2025", better)], **stat)])) == []
    # A manual KPI is not an indicator of the statistics.
    assert fired("indicator_worsening", facts(kpis=[kpi([("2024", before), ("2025", worse)])])) == []


@pytest.mark.unit
def test_survey_estimates_wait_for_a_significance_test_that_plugs_in():
    before, after = 60.0, 50.0
    points = (s.Point("2023", before, before - 4, before + 4), s.Point("2025", after, after - 4, after + 4))
    survey = s.KpiFact(9, "AC1", "Tevredenheid", "statistic", "up", {2030: 70.0}, points, indicator="tevreden")
    assert fired("indicator_worsening", facts(kpis=[survey])) == []  # no test yet: not judged
    overlap = lambda a, b: not (a.ci_high is not None and b.ci_low is not None and b.ci_high < a.ci_low  # noqa: E731
                                or b.ci_low > a.ci_high)
    plugged = s.Rule(**{**RULES["indicator_worsening"].__dict__,
                        "evaluate": s.IndicatorWorsening(significance=lambda a, b: not overlap(a, b))})
    [finding] = plugged.run(facts(kpis=[survey]))
    assert finding.evidence["test"] == "significance"


# --- parameters and descriptions ------------------------------------------------------------------------------------

@pytest.mark.unit
def test_each_rule_says_what_it_does_with_its_parameters():
    for rule in s.BUILTIN_RULES:
        for lang in ("nl", "en"):
            text = rule.describe(lang=lang)
            assert "{" not in text, (rule.code, text)
        for p in rule.params:
            if p.kind != "monthday":
                assert s.format_number(float(p.default), lang="nl") in rule.describe(lang="nl"), (rule.code, p.name)
    assert "35,5" in RULES["low_spend"].describe({"threshold_pct": 35.5})


@pytest.mark.unit
def test_bad_parameters_are_refused_field_by_field():
    with pytest.raises(ValidationError) as caught:
        s.check_params(RULES["low_spend"], {"threshold_pct": 140, "by": "13-01", "colour": "red"})
    assert set(caught.value.errors) == {"threshold_pct", "by", "colour"}
    with pytest.raises(ValidationError) as caught:
        s.check_params(RULES["kpi_drifting"], {"measurements": 2.5})
    assert "whole" in caught.value.errors["measurements"][0]
    assert s.check_params(RULES["low_spend"], {"threshold_pct": "35,5", "by": "09-30"}) == {"threshold_pct": 35.5,
                                                                                           "by": "09-30"}


@pytest.mark.unit
def test_the_builtin_rules_come_through_the_hook():
    from obmi import plugins
    assert list(plugins.signal_rules()) == [r.code for r in s.BUILTIN_RULES]


# --- through the operations, on SQLite and PostgreSQL -----------------------------------------------------

PLAN_FILE = SHARED / "plans" / "13040.json"
DAY = date(2027, 8, 1)  # after the 2027-S1 deadline and after 30 June
YEAR = DAY.year


class City:
    """Turnhout's real plan with four acties, each set up to trip one or two rules."""

    def __init__(self, db, tmp_path: Path):
        self.outbox = tmp_path / "outbox"
        self.settings = load_settings({}, mail_outbox=str(self.outbox))
        self.root = system(db, self.settings)
        org(self.root, "turnhout", "Turnhout", host=True)
        org(self.root, "mechelen")
        self.coco = user(self.root, "coco", "coordinator", org="turnhout")
        self.an = user(self.root, "an", "editor", org="turnhout")
        self.bert = user(self.root, "bert", "editor", org="turnhout")
        self.rita = user(self.root, "rita", "reader", org="turnhout")
        self.tom = user(self.root, "tom", "coordinator", org="mechelen")
        result = ops.import_plan(self.coco, [PLAN_FILE], organisation="turnhout")
        self.plan_id = result.plan_id
        ops.add_reporting_periods(self.coco, range(2026, 2028), organisation="turnhout")
        acties = [r for r in ops.plan_items(self.coco, self.plan_id).items if r["kind"] == "actie" and "/" not in r["code"]]
        assert len(acties) >= 4, "the plan has too few acties for this test"
        self.a, self.b, self.c, self.d = acties[:4]
        for row, owner in ((self.a, "an"), (self.b, "bert"), (self.c, "an"), (self.d, "bert")):
            ops.update_item(self.coco, row["id"], expected_version=row["row_version"], owner=owner)
        # No update for N periods would fire on nearly every actie of a real plan: its own test.
        ops.configure_signal_rule(self.coco, "no_update", enabled=False)
        # A: a manual KPI drifting away, an overdue milestone, a statistic KPI worsening.
        self.n = RULES["kpi_drifting"].defaults["measurements"]
        self.kpi = ops.add_kpi(self.coco, self.a["id"], kind="manual", name="Lichtpunten", targets={YEAR: 100})
        self.values = [90 - 5 * i for i in range(self.n + 1)]
        for i, value in enumerate(self.values):
            ops.record_measurement(self.coco, self.kpi["id"], str(2020 + i), value=value)
        self.milestone = ops.add_milestone(self.coco, self.a["id"], title="Aanbesteding",
                                           planned_end=(DAY - timedelta(days=10)).isoformat())
        catalogue(self.coco, tmp_path, {"code": "tu_fietsers", "name_nl": "Fietsers", "is_count": True,
                                        "unit": "personen", "organisation": "turnhout", "access": "analysts"})
        self.before, self.after = 1000, 900  # a 10 % fall of an indicator where higher is better
        observations(self.coco, tmp_path, [{"indicator": "tu_fietsers", "level": "gemeente", "area": "13040",
                                            "period": p, "value": v} for p, v in (("2025", self.before),
                                                                                  ("2026", self.after))])
        self.stat = ops.add_kpi(self.coco, self.a["id"], kind="statistic", name="Fietsers", indicator="tu_fietsers",
                                area_level="gemeente", area_code="13040", targets={YEAR: 1200})
        # B: vertraagd in its last two approved updates.
        for period in ("2026-S1", "2026-S2"):
            update = ops.save_status_update(self.bert, self.b["id"], period=period, status="vertraagd", progress=10,
                                            submit=True).update
            ops.decide_status_update(self.coco, update["id"], approve=True)
        # C spends little, D more than planned (finance of YEAR, in the documented OBMi layout).
        self.planned = {self.c["code"]: 10_000.0, self.d["code"]: 5_000.0}
        self.realised = {self.c["code"]: 2_000.0, self.d["code"]: 6_000.0}
        path = tmp_path / "finance.csv"
        lines = ["actie;jaar;kwartaal;algemene rekening;uitgave/ontvangst;bedrag;raming/realisatie"]
        for code, amount in self.planned.items():
            lines.append(f"{code};{YEAR};;6130000;uitgave;{amount:.2f};raming")
        for code, amount in self.realised.items():
            lines.append(f"{code};{YEAR};1;6130000;uitgave;{amount:.2f};realisatie")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ops.import_finance(self.coco, [path], organisation="turnhout", today=DAY)
        self.db = db

    def signals(self, ctx=None, **kwargs: Any) -> dict[tuple[str, str], dict[str, Any]]:
        return {(x["rule"], x["subject"]): x for x in ops.list_signals(ctx or self.coco, self.plan_id, **kwargs)}

    def expected(self) -> set[tuple[str, str]]:
        return {("kpi_drifting", f"kpi:{self.kpi['id']}"), ("indicator_worsening", f"kpi:{self.stat['id']}"),
                ("milestone_overdue", f"milestone:{self.milestone['id']}"), ("delayed", f"item:{self.b['code']}"),
                ("low_spend", f"item:{self.c['code']}:{YEAR}"), ("over_budget", f"item:{self.d['code']}:{YEAR}")}


@pytest.fixture
def city(geo_db, tmp_path) -> City:
    return City(geo_db, tmp_path)


def signal_audits(db, outcome: str = "ok") -> int:
    with db.unguarded_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_event).where(
            audit_event.c.resource_type == "signal", audit_event.c.outcome == outcome)).scalar_one()


def test_evaluation_raises_each_signal_with_its_evidence_idempotently_and_resolves(city):
    first = ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    found = city.signals()
    assert set(found) == city.expected() and first.new == len(city.expected())
    assert all(x["state"] == "open" for x in found.values())
    assert signal_audits(city.db) == len(city.expected())
    drift = found[("kpi_drifting", f"kpi:{city.kpi['id']}")]
    assert [m["value"] for m in drift["evidence"]["measurements"]] == city.values and drift["owner"] == "an"
    low = found[("low_spend", f"item:{city.c['code']}:{YEAR}")]
    planned, realised = city.planned[city.c["code"]], city.realised[city.c["code"]]
    assert low["evidence"]["spend_rate_pct"] == pytest.approx(realised / planned * 100)
    over = found[("over_budget", f"item:{city.d['code']}:{YEAR}")]
    assert over["evidence"]["over"] == pytest.approx(city.realised[city.d["code"]] - city.planned[city.d["code"]])
    assert over["severity"] == "critical" and over["owner"] == "bert"
    worse = found[("indicator_worsening", f"kpi:{city.stat['id']}")]
    assert worse["evidence"]["change_pct"] == pytest.approx((city.after - city.before) / city.before * 100)
    milestone = found[("milestone_overdue", f"milestone:{city.milestone['id']}")]
    assert milestone["evidence"]["days_overdue"] == 10 and milestone["item_id"] == city.a["id"]

    # Again, the same day: nothing new, nothing resolved, the same rows at the same versions.
    again = ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    assert (again.new, again.reopened, again.resolved, again.still) == (0, 0, 0, len(city.expected()))
    assert {k: (v["id"], v["row_version"]) for k, v in city.signals().items()} == \
        {k: (v["id"], v["row_version"]) for k, v in found.items()}
    assert signal_audits(city.db) == len(city.expected())

    # The milestone completed: its signal is resolved (audited), the others stay.
    current = ops.item_detail(city.coco, city.a["id"]).milestones[0]
    ops.update_milestone(city.an, current["id"], expected_version=current["row_version"],
                         actual_end=date.today().isoformat())
    third = ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    assert third.resolved == 1
    assert city.signals()[("milestone_overdue", f"milestone:{city.milestone['id']}")]["state"] == "resolved"
    assert len(city.signals(state="open")) == len(city.expected()) - 1
    assert signal_audits(city.db) == len(city.expected()) + 1


def test_a_signal_is_acknowledged_by_its_owner_with_a_comment_and_refused_to_others(city):
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    drift = city.signals()[("kpi_drifting", f"kpi:{city.kpi['id']}")]
    with pytest.raises(NotVisible):
        ops.acknowledge_signal(city.tom, drift["id"], "niet van ons")
    for other in (city.rita, city.bert):  # a reader, an editor who does not own it
        with pytest.raises(NotAllowed):
            ops.acknowledge_signal(other, drift["id"], "niet van mij")
    with pytest.raises(ValidationError) as caught:
        ops.acknowledge_signal(city.an, drift["id"], "   ")
    assert "comment" in caught.value.errors
    with pytest.raises(StaleEdit):
        ops.acknowledge_signal(city.an, drift["id"], "te laat", expected_version=drift["row_version"] + 1)
    comment = "Nieuwe lampen besteld; meting na de winter."
    row = ops.acknowledge_signal(city.an, drift["id"], comment, expected_version=drift["row_version"])
    assert (row["state"], row["comment"], row["acknowledged_by"]) == ("acknowledged", comment, "an")
    with pytest.raises(Conflict):
        ops.acknowledge_signal(city.coco, drift["id"], "nog eens")
    history = ops.item_detail(city.coco, city.a["id"]).history
    assert any(e["operation"] == "acknowledge_signal" and e["after"]["comment"] == comment for e in history)
    # Still firing: it stays acknowledged.
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    assert city.signals()[("kpi_drifting", f"kpi:{city.kpi['id']}")]["state"] == "acknowledged"


def test_owners_see_their_own_signals_and_only_statistics_they_may_see(city):
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    everything = city.signals()
    mine = {k for k, v in everything.items() if v["owner"] == "an"}
    hidden = ("indicator_worsening", f"kpi:{city.stat['id']}")  # tu_fietsers is for analysts only
    assert hidden in mine
    assert set(city.signals(city.an)) == mine - {hidden}
    assert set(city.signals(city.bert)) == {k for k, v in everything.items() if v["owner"] == "bert"}
    assert city.signals(city.rita) == {}
    with pytest.raises(NotVisible):
        ops.list_signals(city.tom, city.plan_id)
    assert set(city.signals(item=city.b["id"])) == {("delayed", f"item:{city.b['code']}")}


def test_rules_are_configured_per_organisation_with_their_parameters_checked(city):
    rules = {r["code"]: r for r in ops.signal_rules(city.coco)}
    assert set(rules) == set(RULES) and rules["no_update"]["enabled"] is False
    with pytest.raises(ValidationError) as caught:
        ops.configure_signal_rule(city.coco, "low_spend", params={"threshold_pct": 150, "by": "31-12"})
    assert set(caught.value.errors) == {"threshold_pct", "by"}
    with pytest.raises(ValidationError) as caught:
        ops.configure_signal_rule(city.coco, "no_such_rule", enabled=True)
    assert "code" in caught.value.errors
    with pytest.raises(NotAllowed):
        ops.configure_signal_rule(city.an, "low_spend", params={"threshold_pct": 10})
    with pytest.raises(NotVisible):
        ops.configure_signal_rule(city.tom, "low_spend", organisation="turnhout", params={"threshold_pct": 10})
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    key = ("low_spend", f"item:{city.c['code']}:{YEAR}")
    assert city.signals()[key]["state"] == "open"
    rate = city.realised[city.c["code"]] / city.planned[city.c["code"]] * 100
    row = ops.configure_signal_rule(city.coco, "low_spend", params={"threshold_pct": rate},
                                    expected_version=rules["low_spend"]["row_version"])
    assert row["params"]["threshold_pct"] == rate and s.format_number(rate) in row["description_nl"]
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    assert city.signals()[key]["state"] == "resolved"  # no longer below the (lowered) threshold
    # no_update, enabled again, fires on the acties without updates and not on B (it reported).
    ops.configure_signal_rule(city.coco, "no_update", enabled=True)
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    quiet = {k[1] for k, v in city.signals(state="open").items() if k[0] == "no_update"}
    assert {f"item:{city.a['code']}", f"item:{city.c['code']}"} <= quiet and f"item:{city.b['code']}" not in quiet


def test_the_digest_mail_names_each_owners_open_signals_once(city):
    earlier = set(city.outbox.glob("*.eml"))  # the notifications of the setup
    run = ops.send_reminders(city.coco, organisation="turnhout", today=DAY)  # evaluates first
    signals = city.signals(state="open")
    assert signals, "the reminders evaluate the rules"
    mails = {m["To"]: m.get_content() for m in read_outbox(city.outbox, earlier)}
    for owner in ("an", "bert"):
        text = mails[f"{owner}@example.invalid"]
        for x in signals.values():
            if x["owner"] == owner:
                assert x["message_nl"] in text
            else:
                assert x["message_nl"] not in text
    assert {s_["user"] for s_ in run.sent} >= {"an", "bert"}
    # The next day nothing new: no second mail about the same signals (overdue reminders wait too).
    count = len(list(city.outbox.glob("*.eml")))
    ops.send_reminders(city.coco, organisation="turnhout", today=DAY + timedelta(days=1))
    assert len(list(city.outbox.glob("*.eml"))) == count


def read_outbox(folder: Path, earlier: set[Path]) -> list[Any]:
    from email import message_from_bytes, policy
    return [message_from_bytes(f.read_bytes(), policy=policy.default)
            for f in sorted(set(folder.glob("*.eml")) - earlier)]


# --- the pages, the API, the command line ---------------------------------------------------------------

def test_dashboard_item_page_rules_page_and_api_show_the_signals(city):
    from obmi.web.app import create_app
    from obmi.web.plans_schemas import DashboardOut, SignalList, SignalRuleList
    from test_plan_web import Site, text_of
    ops.evaluate_signals(city.coco, city.plan_id, today=DAY)
    everything = city.signals()
    app = create_app(city.settings, city.db)
    coco, an, rita = Site(app).sign_in("coco"), Site(app).sign_in("an"), Site(app).sign_in("rita")

    board = coco.get(f"/beleid/plannen/{city.plan_id}")
    assert board.status_code == 200
    page = text_of(board.text)
    assert f"Signalen ({len(everything)} open)" in page
    for x in everything.values():
        assert x["message_nl"] in page
    assert all(x["message_nl"] not in text_of(rita.get(f"/beleid/plannen/{city.plan_id}").text)
               for x in everything.values())  # a reader owns none

    # The item page shows A's signals (as its owner may see them) with the acknowledge form.
    item_url = f"/beleid/items/{city.a['id']}"
    theirs = {k: v for k, v in city.signals(city.an).items() if v["item_id"] == city.a["id"]}
    html = an.get(item_url).text
    for x in theirs.values():
        assert x["message_nl"] in text_of(html) and f"/beleid/signalen/{x['id']}/erkennen" in html
    drift = everything[("kpi_drifting", f"kpi:{city.kpi['id']}")]
    refused = an.post(f"/beleid/signalen/{drift['id']}/erkennen", {"comment": "", "terug": item_url,
                                                                     "expected_version": drift["row_version"]},
                      token_from=item_url)
    assert refused.status_code == 422 and "Dit werd niet bewaard" in refused.text
    done = an.post(f"/beleid/signalen/{drift['id']}/erkennen", {"comment": "Lampen besteld", "terug": item_url,
                                                                  "expected_version": drift["row_version"]},
                   token_from=item_url)
    assert done.status_code == 303 and done.headers["location"].startswith(item_url)
    assert "Lampen besteld" in text_of(an.get(item_url).text)
    assert city.signals()[("kpi_drifting", f"kpi:{city.kpi['id']}")]["state"] == "acknowledged"

    # The API: the list, the dashboard, acknowledging, the rules.
    listed = coco.api("GET", f"/api/v1/plans/{city.plan_id}/signals?state=open")
    assert listed.status_code == 200
    body = SignalList.model_validate(listed.json())
    assert body.count == len(everything) - 1
    dash = DashboardOut.model_validate(coco.api("GET", f"/api/v1/plans/{city.plan_id}/dashboard").json())
    assert (dash.signals_open, dash.signals_total) == (len(everything) - 1, len(everything))
    milestone = everything[("milestone_overdue", f"milestone:{city.milestone['id']}")]
    acked = an.api("POST", f"/api/v1/signals/{milestone['id']}/acknowledge", json={"comment": "Nieuwe datum"})
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert rita.api("POST", f"/api/v1/signals/{milestone['id']}/acknowledge",
                    json={"comment": "x"}).status_code == 403
    rules = SignalRuleList.model_validate(coco.api("GET", "/api/v1/signal-rules").json())
    assert {r.code for r in rules.data} == set(RULES)
    bad = coco.api("PUT", "/api/v1/signal-rules/delayed", json={"params": {"periods": 0}})
    assert bad.status_code == 422 and "periods" in json.dumps(bad.json())
    good = coco.api("PUT", "/api/v1/signal-rules/delayed", json={"params": {"periods": 3}})
    assert good.status_code == 200 and good.json()["params"]["periods"] == 3
    assert an.api("PUT", "/api/v1/signal-rules/delayed", json={"enabled": False}).status_code == 403

    # The rules page: each rule in words with its current parameters; its form for coordinators.
    rules_page = coco.get("/beleid/instellingen/signalen")
    assert rules_page.status_code == 200
    for r in ops.signal_rules(city.coco):
        assert r["description_nl"] in text_of(rules_page.text)
    saved = coco.post("/beleid/instellingen/signalen/kpi_drifting",
                      {"enabled": "1", "param_measurements": "5", "expected_version": "0"},
                      token_from="/beleid/instellingen/signalen")
    assert saved.status_code == 303
    assert {r["code"]: r for r in ops.signal_rules(city.coco)}["kpi_drifting"]["params"]["measurements"] == 5
    wrong = coco.post("/beleid/instellingen/signalen/kpi_drifting", {"enabled": "1", "param_measurements": "abc"},
                      token_from="/beleid/instellingen/signalen")
    assert wrong.status_code == 422 and "measurements" in wrong.text
    assert 'action="/beleid/instellingen/signalen/' not in an.get("/beleid/instellingen/signalen").text


def test_the_command_line_evaluates_and_prints_the_signals(city):
    from test_plans import run_cli
    out = run_cli(city.db, "coco", "plan", "signals", "--org", "turnhout", "--evaluate", "--today", DAY.isoformat())
    assert f"{len(city.expected())} new" in out
    for x in city.signals().values():
        assert x["message_nl"] in out
