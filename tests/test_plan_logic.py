"""The pure logic of beleidsopvolging: roll-up, KPI traffic lights, the update workflow, reporting
periods and attachment checks. No database, no web: each expectation is computed from its input."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import date, datetime

import openpyxl
import pytest

from obmi.errors import Conflict, ValidationError
from obmi.plans import attachments, kpis, periods, rollup, workflow
from obmi.plans.kpis import KpiSpec, Measurement, check_spec, format_number, traffic_light
from obmi.plans.model import DEFAULT_STEPS, Direction, ItemKind, ItemStatus, UpdateState
from obmi.plans.rollup import Node, RollupRule

S = ItemStatus
ACTIE, PROJECT = ItemKind.ACTIE, ItemKind.PROJECT


def actie(code, progress=None, status=None, **kw):
    return Node(code, f"Actie {code}", ACTIE, progress, status, **kw)


def plan(children, **kw):
    return Node("1.1", "Actieplan", ItemKind.ACTIEPLAN, children=children, **kw)


# --- roll-up ----------------------------------------------------------------------------------


def test_budget_weighting_with_rows_and_formula():
    result = rollup.rollup(plan([actie("1.1.1", 40, S.ON_TRACK, budget=50_000),
                                 actie("1.1.2", 100, S.DONE, budget=30_000),
                                 actie("1.1.3", budget=20_000)]), RollupRule(method="budget"))
    assert result.progress == pytest.approx(40 * 0.5 + 100 * 0.3 + 0 * 0.2)
    assert result.explanation.formula.nl == ("Gewogen gemiddelde van 3 acties (gewicht: budget): "
                                             "(40 % × 0,50) + (100 % × 0,30) + (0 % × 0,20) = 50,0 %")
    assert result.explanation.formula.en.startswith("Weighted mean of 3 actions (weight: budget): (40 % × 0.50)")
    rows = {row.code: row for row in result.explanation.rows}
    assert [row.code for row in result.explanation.rows] == ["1.1.1", "1.1.2", "1.1.3"]
    assert (rows["1.1.1"].weight, rows["1.1.1"].share) == (50_000, pytest.approx(50.0))
    assert rows["1.1.3"].progress is None and rows["1.1.3"].counted
    assert rows["1.1.3"].reason is not None and "0 %" in rows["1.1.3"].reason.nl
    assert sum(row.share or 0 for row in rows.values()) == pytest.approx(100)


def test_equal_weighting_and_code_order():
    result = rollup.rollup(plan([actie("1.1.10", 90, S.ON_TRACK), actie("1.1.9", 30, S.ON_TRACK)]))
    assert result.progress == pytest.approx(60)
    assert [row.code for row in result.explanation.rows] == ["1.1.9", "1.1.10"]  # 9 before 10
    assert result.explanation.formula.nl == "Gemiddelde van 2 acties (gelijke gewichten): (30 % × 0,50) + (90 % × 0,50) = 60,0 %"


def test_given_weights_missing_weight_counts_as_one_with_a_note():
    result = rollup.rollup(plan([actie("1.1.1", 20, S.ON_TRACK, weight=3), actie("1.1.2", 60, S.ON_TRACK)]),
                           RollupRule(method="weights"))
    assert result.progress == pytest.approx((20 * 3 + 60 * 1) / 4)
    assert [row.weight for row in result.explanation.rows] == [3, 1]
    assert any("1.1.2 heeft geen gewicht" in note.nl for note in result.explanation.notes)


def test_all_zero_budgets_fall_back_to_equal_weights():
    result = rollup.rollup(plan([actie("1.1.1", 20, S.ON_TRACK), actie("1.1.2", 60, S.ON_TRACK)]),
                           RollupRule(method="budget"))
    assert result.progress == pytest.approx(40)
    assert "gelijke gewichten" in result.explanation.formula.nl
    assert any("Geen van de 2 items heeft een budget" in note.nl for note in result.explanation.notes)


def test_budget_includes_the_subtree():
    actie_with_projects = Node("1.1.1", "A", ACTIE, children=[
        Node("1.1.1.1", "P1", PROJECT, 100, S.DONE, budget=300), Node("1.1.1.2", "P2", PROJECT, 0, S.NOT_STARTED, budget=100)])
    result = rollup.rollup(plan([actie_with_projects, actie("1.1.2", 0, S.NOT_STARTED, budget=600)]),
                           RollupRule(method="budget"))
    assert result.children[0].budget == 400 and result.children[0].progress == pytest.approx(75)
    assert result.progress == pytest.approx(75 * 0.4)


def test_a_parent_never_shows_no_progress_while_a_child_has_some():
    # The child with progress has no budget, so budget weighting alone would give 0 %.
    result = rollup.rollup(plan([actie("1.1.1", 50, S.ON_TRACK, budget=0), actie("1.1.2", budget=1_000)]),
                           RollupRule(method="budget"))
    assert result.progress == rollup.MINIMUM_SHOWN and result.shown == 0.1
    assert "→ minstens 0,1 %" in result.explanation.formula.nl
    assert any("minstens 0,1 %" in note.nl for note in result.explanation.notes)


def test_no_update_anywhere_gives_no_figure_and_not_started():
    result = rollup.rollup(plan([actie("1.1.1"), actie("1.1.2")]))
    assert result.progress is None and result.status == S.NOT_STARTED and not result.has_update


def test_status_only_child_counts_for_status_not_for_the_mean():
    result = rollup.rollup(plan([actie("1.1.1", 80, S.ON_TRACK), actie("1.1.2", None, S.DELAYED)]))
    assert result.progress == pytest.approx(80)
    assert result.status == S.DELAYED
    row = result.explanation.rows[1]
    assert row.weight is None and row.counted and row.reason is not None and "status" in row.reason.nl


def test_stopped_children_are_not_counted_by_default_but_can_be():
    children = [actie("1.1.1", 100, S.DONE), actie("1.1.2", 10, S.STOPPED)]
    default = rollup.rollup(plan(children))
    assert default.progress == 100 and default.status == S.DONE
    stopped = default.explanation.rows[1]
    assert not stopped.counted and stopped.reason == ("niet meegeteld: status Stopgezet", "not counted: status Stopped")
    counting = rollup.rollup(plan(children), RollupRule(counted=frozenset(ItemStatus)))
    assert counting.progress == pytest.approx(55) and counting.status == S.ON_HOLD


def test_without_counted_children_the_own_report_applies():
    result = rollup.rollup(plan([actie("1.1.1", 10, S.STOPPED)], progress=25, status=S.AT_RISK))
    assert (result.progress, result.status) == (25, S.AT_RISK)
    assert rollup.rollup(plan([actie("1.1.1", 10, S.STOPPED)])).status == S.NOT_STARTED


@pytest.mark.parametrize(("statuses", "expected"), [
    ((S.ON_TRACK, S.DELAYED, S.AT_RISK), S.DELAYED),
    ((S.ON_TRACK, S.AT_RISK, S.ON_HOLD), S.AT_RISK),
    ((S.ON_TRACK, S.ON_HOLD), S.ON_HOLD),
    ((S.NOT_STARTED, S.ON_TRACK), S.ON_TRACK),
    ((S.NOT_STARTED, S.NOT_STARTED), S.NOT_STARTED),
    ((S.DONE, S.DONE), S.DONE),
    ((S.DONE, S.NOT_STARTED), S.ON_TRACK),  # started: one is done
])
def test_worst_status(statuses, expected):
    children = [actie(f"1.1.{i}", 100 if s == S.DONE else 10, s) for i, s in enumerate(statuses, 1)]
    assert rollup.rollup(plan(children)).status == expected


def test_leaf_rules():
    assert rollup.rollup(actie("1", None, S.DONE)).progress == 100
    assert rollup.rollup(actie("1", None, S.NOT_STARTED)).progress == 0
    leaf = rollup.rollup(actie("1"))
    assert leaf.progress is None and leaf.status == S.NOT_STARTED
    assert leaf.explanation.formula.nl == "Nog geen goedgekeurde update"


def test_own_report_of_a_parent_is_shown_but_not_used():
    result = rollup.rollup(plan([actie("1.1.1", 80, S.ON_TRACK)], progress=20, status=S.DELAYED))
    assert (result.progress, result.status) == (80, S.ON_TRACK)
    assert any(note.nl.startswith("Eigen melding: 20 %, Vertraagd") for note in result.explanation.notes)


def test_three_levels_nested():
    tree = Node("1", "Beleidsdoelstelling", ItemKind.BELEIDSDOELSTELLING, children=[
        Node("1.1", "AP1", ItemKind.ACTIEPLAN, children=[actie("1.1.1", 100, S.DONE), actie("1.1.2", 50, S.AT_RISK)]),
        Node("1.2", "AP2", ItemKind.ACTIEPLAN, children=[
            Node("1.2.1", "A", ACTIE, children=[Node("1.2.1.1", "P", PROJECT, 30, S.ON_TRACK),
                                                 Node("1.2.1.2", "P", PROJECT)])]),
    ])
    result = rollup.rollup(tree)
    ap1, ap2 = result.children
    assert ap1.progress == pytest.approx(75) and ap1.status == S.AT_RISK
    assert ap2.children[0].progress == pytest.approx(15) and ap2.progress == pytest.approx(15)
    assert result.progress == pytest.approx((75 + 15) / 2) and result.status == S.AT_RISK
    assert "2 actieplannen" in result.explanation.formula.nl


def test_explain_text_in_both_languages():
    result = rollup.rollup(plan([actie("1.1.1", 40, S.ON_TRACK), actie("1.1.2", 10, S.STOPPED)]))
    nl, en = rollup.explain_text(result), rollup.explain_text(result, "en")
    assert nl[0] == "1.1 Actieplan: 40,0 % · Op schema" and en[0] == "1.1 Actieplan: 40.0 % · On track"
    assert any("niet meegeteld: status Stopgezet" in line for line in nl)
    assert any("not counted: status Stopped" in line for line in en)
    assert rollup.explain_text(result) == nl  # deterministic


def test_parse_rule():
    assert rollup.parse_rule(None) == RollupRule()
    rule = rollup.parse_rule({"method": "budget", "counted": ["Op schema", "vertraagd", "on hold"]})
    assert rule.method == "budget" and rule.counted == {S.ON_TRACK, S.DELAYED, S.ON_HOLD}
    with pytest.raises(ValidationError) as caught:
        rollup.parse_rule({"method": "median", "counted": ["bijna klaar"], "status_rule": "best", "extra": 1})
    assert set(caught.value.errors) == {"method", "counted", "status_rule", "extra"}
    with pytest.raises(ValidationError) as caught:
        rollup.parse_rule({"counted": []})
    assert "counted" in caught.value.errors


# --- KPIs -------------------------------------------------------------------------------------

TODAY = date(2026, 6, 15)


def numeric(direction=Direction.UP, baseline=None, targets=None, tolerance=5.0):
    return KpiSpec(kind=kpis.KpiKind.MANUAL, direction=direction, baseline=baseline,
                   baseline_period="2019" if baseline is not None else None,
                   targets={2027: 1200} if targets is None else targets, tolerance_pct=tolerance)


def light(spec, *values):
    return traffic_light(spec, [Measurement(period, value) for period, value in values], TODAY)


def test_green_within_tolerance_stated_in_words():
    result = light(numeric(), ("2025", 1000), ("2026", 1180))
    assert result.colour == "groen" and (result.value, result.period, result.target_year) == (1180, "2026", 2027)
    assert result.rule_nl == "groen: binnen 5 % van het doel voor 2027 (doel 1.200, laatste waarde 1.180 in 2026)"
    assert result.rule_en == "green: within 5 % of the target for 2027 (target 1,200, latest value 1,180 in 2026)"


@pytest.mark.parametrize(("direction", "value", "colour"), [
    (Direction.UP, 1200 * 0.95, "groen"),  # exactly 5 % below: the edge is in the band
    (Direction.UP, 1200 * 0.95 - 0.01, "oranje"),  # just outside, within 10 %
    (Direction.UP, 1300, "groen"),  # beyond the target is reached
    (Direction.UP, 1000, "rood"),
    (Direction.DOWN, 1200 * 1.05, "groen"),
    (Direction.DOWN, 1200 * 1.05 + 0.01, "oranje"),
    (Direction.DOWN, 900, "groen"),
    (Direction.DOWN, 1400, "rood"),
])
def test_direction_and_tolerance_edges(direction, value, colour):
    assert light(numeric(direction), ("2026", value)).colour == colour


def test_orange_against_the_baseline():
    up = numeric(baseline=1000)
    assert light(up, ("2026", 1001)).colour == "oranje"
    assert "beter dan de beginwaarde" in light(up, ("2026", 1001)).rule_nl
    assert light(up, ("2026", 1000)).colour == "rood"  # equal to the baseline is not better
    down = numeric(Direction.DOWN, baseline=2000)
    assert light(down, ("2026", 1900)).colour == "oranje" and light(down, ("2026", 2100)).colour == "rood"


def test_the_target_that_applies():
    spec = numeric(targets={2024: 100, 2026: 200, 2028: 300})
    assert light(spec, ("2026-S1", 190)).target_year == 2026  # the measurement's own year
    assert light(spec, ("2027-Q1", 290)).target_year == 2028  # the first after it
    assert light(spec, ("2030", 290)).target_year == 2028  # else the last
    assert light(spec, ("2025-03", 1), ("2027-03", 290), ("2026", 0)).period == "2027-03"  # the latest


@pytest.mark.parametrize(("spec", "values", "words"), [
    (numeric(), (), "grijs: nog geen meting"),
    (numeric(targets={}), (("2026", 10),), "grijs: geen doel vastgelegd"),
    (numeric(targets={}), (("2026", None),), "grijs: nog geen meting en geen doel vastgelegd"),
])
def test_grey(spec, values, words):
    result = light(spec, *values)
    assert result.colour == "grijs" and result.rule_nl == words


def steps_light(plan_, *reached, today=TODAY):
    spec = KpiSpec(kind=kpis.KpiKind.STEPS, steps=DEFAULT_STEPS, target_step=plan_)
    return traffic_light(spec, [Measurement(period, None, step) for period, step in reached], today)


def test_steps_kpis():
    on_time = steps_light({2025: "aanbesteding"}, ("2024", "studie"), ("2025-S2", "aanbesteding"))
    assert on_time.colour == "groen" and on_time.value == 1 and on_time.target == 1
    late = steps_light({2025: "uitvoering"}, ("2025-S2", "aanbesteding"))
    assert late.colour == "rood" and "niet bereikt" in late.rule_nl
    reached_late = steps_light({2025: "aanbesteding"}, ("2026-S1", "uitvoering"))
    assert reached_late.colour == "rood" and "pas bereikt in 2026-S1" in reached_late.rule_nl
    this_year = steps_light({2026: "uitvoering"}, ("2025", "aanbesteding"))
    assert this_year.colour == "oranje" and this_year.target_year == 2026
    assert steps_light({2026: "uitvoering"}, ("2026-Q1", "opgeleverd")).colour == "groen"  # a later step counts
    assert steps_light({2028: "opgeleverd"}, ("2026", "studie")).colour == "groen"  # nothing late yet
    assert steps_light({}, ("2026", "studie")).rule_nl == "grijs: geen stappenplan"
    assert steps_light({2026: "studie"}, ("2026", "onbekend")).rule_nl == "grijs: nog geen stap gemeld"


def test_check_spec():
    check_spec(numeric(baseline=10))
    bad = KpiSpec(kind=kpis.KpiKind.MANUAL, baseline=float("nan"), baseline_period="2019-X",
                  targets={1980: 1.0, 2027: float("inf")}, tolerance_pct=150)
    with pytest.raises(ValidationError) as caught:
        check_spec(bad)
    assert set(caught.value.errors) == {"baseline", "baseline_period", "targets", "tolerance_pct"}
    assert len(caught.value.errors["targets"]) == 2
    steps = KpiSpec(kind=kpis.KpiKind.STEPS, steps=("a", "a"), target_step={2026: "b"})
    with pytest.raises(ValidationError) as caught:
        check_spec(steps)
    assert set(caught.value.errors) == {"steps", "target_step"}
    with pytest.raises(ValidationError) as caught:
        check_spec(KpiSpec(kind=kpis.KpiKind.STEPS))
    assert "steps" in caught.value.errors


def test_format_number():
    assert format_number(1234.5) == "1.234,5"
    assert format_number(1200) == "1.200"
    assert format_number(1234.5, 2) == "1.234,50"
    assert format_number(1234.5, lang="en") == "1,234.5"


# --- workflow ---------------------------------------------------------------------------------

U = UpdateState
ALLOWED = {
    (None, "save"): U.DRAFT, (None, "submit"): U.SUBMITTED, (None, "no_change"): U.SUBMITTED,
    (U.DRAFT, "save"): U.DRAFT, (U.DRAFT, "submit"): U.SUBMITTED, (U.DRAFT, "no_change"): U.SUBMITTED,
    (U.SUBMITTED, "approve"): U.APPROVED, (U.SUBMITTED, "return"): U.RETURNED,
    (U.RETURNED, "save"): U.DRAFT, (U.APPROVED, "reopen"): U.DRAFT,
}
ACTIONS = ("save", "submit", "approve", "return", "reopen", "no_change")
STATES = (None, *UpdateState)


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in STATES for a in ACTIONS])
def test_every_transition(state, action):
    if (state, action) in ALLOWED:
        assert workflow.transition(state, action) == ALLOWED[(state, action)]
    else:
        with pytest.raises(Conflict, match="^cannot "):
            workflow.transition(state, action)


def test_refusals_name_the_way_out():
    with pytest.raises(Conflict, match="cannot approve a draft: the owner submits it first"):
        workflow.transition(U.DRAFT, "approve")
    with pytest.raises(Conflict, match="a coordinator can reopen it"):
        workflow.transition(U.APPROVED, "submit")
    assert workflow.allowed_actions(U.SUBMITTED) == ("approve", "return")


def test_check_update_values_normalises():
    values = workflow.check_update_values("Op schema", "45,5 %", "Vordert.\r\nGoed.", None)
    assert values == {"status": S.ON_TRACK, "progress": 45.5, "narrative": "Vordert.\nGoed.", "knelpunten": ""}
    assert workflow.check_update_values("on hold", "45", "", "")["status"] == S.ON_HOLD
    assert workflow.check_update_values("vertraagd", 45, "", "")["progress"] == 45.0
    done = workflow.check_update_values("Afgerond", None, "", "")
    assert done["progress"] == 100 and done["status"] == S.DONE


@pytest.mark.parametrize("progress", [float("nan"), float("inf"), "abc", 101, -1, "-1", "1.000,5", True])
def test_check_update_values_refuses_bad_progress(progress):
    with pytest.raises(ValidationError) as caught:
        workflow.check_update_values("op_schema", progress, "", "")
    assert set(caught.value.errors) == {"progress"}


def test_check_update_values_refusals_per_field():
    with pytest.raises(ValidationError) as caught:
        workflow.check_update_values("bijna klaar", 10, "x" * 10_001, "a\x00b")
    assert set(caught.value.errors) == {"status", "narrative", "knelpunten"}
    with pytest.raises(ValidationError, match="afgerond item is at 100 %, not 80 %"):
        workflow.check_update_values("afgerond", 80, "", "")
    assert workflow.check_update_values("op_schema", 1, "x" * 10_000, "y" * 5_000)["narrative"] == "x" * 10_000


def test_no_change_values():
    assert workflow.no_change_values(None) == {"status": S.NOT_STARTED, "progress": 0.0,
                                               "narrative": "Geen wijziging", "knelpunten": ""}
    previous = {"status": "risico", "progress": 60, "narrative": "Oud verhaal", "knelpunten": "Personeel"}
    assert workflow.no_change_values(previous) == {"status": S.AT_RISK, "progress": 60.0,
                                                   "narrative": "Geen wijziging", "knelpunten": "Personeel"}


def test_stale_edit():
    error = workflow.StaleEdit({"progress": 50, "narrative": "a"}, {"progress": 60, "narrative": "a"}, 4,
                               changed_by="An Peeters", changed_at=datetime(2026, 3, 2, 14, 5))
    assert isinstance(error, Conflict) and error.theirs_version == 4 and error.differences == ["progress"]
    assert "changed by An Peeters on 2026-03-02 14:05" in str(error) and "version 4" in str(error)


# --- periods ----------------------------------------------------------------------------------


def test_semesters_and_deadlines():
    generated = periods.generate("semester", range(2026, 2028))
    assert [p.code for p in generated] == ["2026-S1", "2026-S2", "2027-S1", "2027-S2"]
    first = generated[0]
    assert (first.start, first.end, first.deadline) == (date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 15))
    assert first.label_nl == "1ste semester 2026" and first.label_en == "H1 2026"


@pytest.mark.parametrize(("scheme", "count", "second_code", "second_end"), [
    ("quarter", 4, "2026-Q2", date(2026, 6, 30)),
    ("month", 12, "2026-02", date(2026, 2, 28)),
    ("year", 1, None, None),
])
def test_other_schemes(scheme, count, second_code, second_end):
    generated = periods.generate(scheme, range(2026, 2027), deadline_days=30)
    assert len(generated) == count and generated[-1].end == date(2026, 12, 31)
    assert generated[-1].deadline == date(2027, 1, 30)
    if second_code:
        assert (generated[1].code, generated[1].end) == (second_code, second_end)


def test_generate_refuses_bad_input():
    with pytest.raises(ValidationError) as caught:
        periods.generate("week", range(1800, 1801), deadline_days=-1)  # type: ignore[arg-type]
    assert set(caught.value.errors) == {"scheme", "years", "deadline_days"}


def test_current_and_due_states():
    generated = periods.generate("semester", range(2026, 2027))
    assert periods.current(generated, date(2026, 8, 1)) == generated[1]
    assert periods.current(generated, date(2027, 1, 1)) is None
    s1 = generated[0]  # deadline 15 July 2026
    state = [periods.due_state(s1, day, remind_days_before=7) for day in
             (date(2025, 12, 31), date(2026, 1, 1), date(2026, 7, 7), date(2026, 7, 8), date(2026, 7, 15), date(2026, 7, 16))]
    assert state == ["not_yet", "open", "open", "due_soon", "due_soon", "overdue"]


def test_period_codes_give_their_year():
    assert [periods.year_of(code) for code in ("2026", "2026-S1", "2026-Q3", "2026-03")] == [2026] * 4
    assert periods.bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    for bad in ("2026-13", "2026-S3", "26", "2026-Q0"):
        with pytest.raises(ValueError):
            periods.year_of(bad)


# --- attachments ------------------------------------------------------------------------------

MB = 1 << 20


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # one red pixel, filter byte first
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["jaar", "waarde"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_accepted_by_content():
    assert attachments.check_attachment("verslag.pdf", PDF, MB) == ("verslag.pdf", "application/pdf")
    assert attachments.check_attachment("foto.PNG", png_bytes(), MB) == ("foto.PNG", "image/png")
    name, kind = attachments.check_attachment("cijfers.xlsx", xlsx_bytes(), MB)
    assert kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert attachments.check_attachment("lijst.csv", "a;b\n1;é\n".encode(), MB)[1] == "text/csv; charset=utf-8"
    assert attachments.check_attachment("rapport", PDF, MB) == ("rapport.pdf", "application/pdf")


def test_renamed_png_is_refused():
    with pytest.raises(ValidationError, match="ends in .pdf but the file is a PNG image"):
        attachments.check_attachment("evil.pdf", png_bytes(), MB)
    with pytest.raises(ValidationError, match="ends in .docx but the file is an Excel workbook"):
        attachments.check_attachment("cijfers.docx", xlsx_bytes(), MB)  # Office types told apart


def zipped(entries: dict[str, str]) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return packed.getvalue()


OOXML = "application/vnd.openxmlformats-officedocument."


@pytest.mark.parametrize(("name", "entries", "content_type"), [
    ("nota.docx", {"[Content_Types].xml": OOXML + "wordprocessingml.document.main+xml"}, OOXML + "wordprocessingml.document"),
    ("dia.pptx", {"[Content_Types].xml": OOXML + "presentationml.presentation.main+xml"},
     OOXML + "presentationml.presentation"),
    ("tekst.odt", {"mimetype": "application/vnd.oasis.opendocument.text"}, "application/vnd.oasis.opendocument.text"),
    ("blad.ods", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet"},
     "application/vnd.oasis.opendocument.spreadsheet"),
])
def test_zip_based_documents_told_apart(name, entries, content_type):
    assert attachments.check_attachment(name, zipped(entries), MB) == (name, content_type)


@pytest.mark.parametrize(("name", "entries", "words"), [
    ("macro.docm", {"[Content_Types].xml": "application/vnd.ms-word.document.macroEnabled.main+xml"}, "not a plain"),
    ("macro.xlsx", {"[Content_Types].xml": OOXML + "spreadsheetml.sheet.main+xml", "xl/vbaProject.bin": "x"}, "macros"),
    ("dia.odp", {"mimetype": "application/vnd.oasis.opendocument.presentation"}, "OpenDocument"),
    ("archief.zip", {"a.txt": "a"}, "zip archives are not accepted"),
])
def test_zip_based_refusals(name, entries, words):
    with pytest.raises(ValidationError, match=words):
        attachments.check_attachment(name, zipped(entries), MB)


def test_damaged_zip_is_refused():
    with pytest.raises(ValidationError, match="damaged"):
        attachments.check_attachment("kapot.xlsx", b"PK\x03\x04" + b"\x00" * 40, MB)


def test_oversize_is_refused_by_size():
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        archive.writestr("xl/big.bin", b"\x00" * (2 * MB))
    with pytest.raises(ValidationError, match="larger than 1 MB") as caught:
        attachments.check_attachment("groot.xlsx", packed.getvalue(), MB)
    assert caught.value.errors == {"file": [caught.value.args[0]]}


@pytest.mark.parametrize(("name", "data", "words"), [
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "programs"),
    ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "programs"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "programs"),
    ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML"),
    ("logo.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "HTML"),
    ("leeg.pdf", b"", "empty"),
    ("data.bin", b"\x00\x01\x02\x03", "not accepted"),
    ("notes.js", b"alert(1)", "plain text"),
])
def test_refused(name, data, words):
    with pytest.raises(ValidationError, match=words):
        attachments.check_attachment(name, data, MB)


def test_safe_name():
    assert attachments.safe_name("C:\\Users\\an\\..\\verslag.pdf") == "verslag.pdf"
    assert attachments.safe_name("../../etc/pass\x00wd") == "passwd"
    assert attachments.safe_name("fdp\u202e.exe") == "fdp.exe"
    long = attachments.safe_name("a" * 300 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    with pytest.raises(ValidationError):
        attachments.safe_name("/tmp/")
