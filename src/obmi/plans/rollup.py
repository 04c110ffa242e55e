"""Roll-up: the progress and status of an item derived from the items below it, explainably.

Progress
- A leaf (no children) has its own approved figure; afgerond without a figure is 100 %, niet
  gestart without a figure 0 %; without any approved update it has none (status niet gestart).
- A parent's progress is the weighted mean of its counted children (`RollupRule.counted`, by
  default every status but stopgezet) that have a figure. Weights: `equal` 1 each; `weights` the
  child's weight (missing or invalid: 1, with a note); `budget` the planned budget of the child and
  everything below it (all zero: equal weights, with a note). A child without any approved update
  is part of the plan and counts as 0 %; a child with a status but no figure counts for the status
  only. Nothing reported below at all: no figure.
- A parent never shows "no progress" (0 % or none) while a counted child has progress > 0 (it can,
  when that child weighs nothing or the mean rounds to 0,0 %): it then shows at least 0,1 %.
- A parent's own approved report does not override the derived figure; the explanation gives it
  as "eigen melding". Without counted children, the parent's own report is used, as for a leaf.

Status (`status_rule` "worst", the only rule so far)
- The worst status among the counted children, in the order vertraagd > risico > on hold >
  op schema > niet gestart; afgerond only when every counted child is afgerond (until then an
  afgerond child counts as op schema: work has started; a stopgezet child, when the rule counts
  it, as on hold). No counted children: the parent's own status, or niet gestart.

Children are taken in code order (numbers as numbers: 2.9 before 2.10), so the result and its
explanation are the same for the same input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, cast, get_args

from obmi.errors import ValidationError
from obmi.plans.kpis import format_number
from obmi.plans.model import KIND_LABELS, STATUS_LABELS, ItemKind, ItemStatus
from obmi.plans.workflow import parse_status

Method = Literal["equal", "weights", "budget"]
StatusRule = Literal["worst"]
METHODS: tuple[str, ...] = get_args(Method)
STATUS_RULES: tuple[str, ...] = get_args(StatusRule)
DEFAULT_COUNTED = frozenset(ItemStatus) - {ItemStatus.STOPPED}
# Worst first. Afgerond is not in it: see the module's docstring.
WORST_FIRST = (ItemStatus.DELAYED, ItemStatus.AT_RISK, ItemStatus.ON_HOLD, ItemStatus.ON_TRACK, ItemStatus.NOT_STARTED)
# In the worst-status rule, until every counted child is afgerond: afgerond work has started (op
# schema); stopgezet (when a rule counts it) is work that does not go on, nearest to on hold.
_STATUS_AS = {ItemStatus.DONE: ItemStatus.ON_TRACK, ItemStatus.STOPPED: ItemStatus.ON_HOLD}
MINIMUM_SHOWN = 0.1
_RULE_KEYS = ("method", "counted", "status_rule")

_PLURALS: dict[ItemKind, tuple[str, str]] = {
    ItemKind.BELEIDSDOELSTELLING: ("beleidsdoelstellingen", "policy objectives"),
    ItemKind.ACTIEPLAN: ("actieplannen", "action plans"),
    ItemKind.ACTIE: ("acties", "actions"),
    ItemKind.PROJECT: ("projecten", "projects"),
    ItemKind.REGULIERE_WERKING: ("onderdelen reguliere werking", "regular operations items"),
}
_WEIGHT_LABELS: dict[str, tuple[str, str]] = {
    "equal": ("gelijke gewichten", "equal weights"),
    "weights": ("gewicht: opgegeven gewicht", "weight: given weight"),
    "budget": ("gewicht: budget", "weight: budget"),
}


class Text(NamedTuple):
    """A text in Dutch and English."""
    nl: str
    en: str

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


@dataclass(frozen=True)
class RollupRule:
    """How a parent is derived from its children. `method`: equal, weights or budget (the
    weights of the mean); `counted`: the statuses whose children count; `status_rule`: "worst"
    (the worst counted status, afgerond only when all are; see the module's docstring)."""
    method: Method = "equal"
    counted: frozenset[ItemStatus] = DEFAULT_COUNTED
    status_rule: StatusRule = "worst"


@dataclass
class Node:
    """An item with its own approved report (progress/status None: none) and its children."""
    code: str
    title: str
    kind: ItemKind
    progress: float | None = None
    status: ItemStatus | None = None
    weight: float | None = None
    budget: float = 0.0  # its own planned amount; the roll-up adds its children's
    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One child in a parent's explanation."""
    code: str
    title: str
    weight: float | None  # the weight used in the mean (None: not in the mean)
    share: float | None  # its share of the mean in % (the shares add up to 100)
    progress: float | None  # its own (derived) progress; None: no figure
    status: ItemStatus
    counted: bool
    reason: Text | None = None  # why it is not counted, or how it counts (no update: as 0 %)


@dataclass(frozen=True)
class Explanation:
    rows: tuple[Row, ...]
    formula: Text
    status_reason: Text
    notes: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Result:
    code: str
    title: str
    kind: ItemKind
    progress: float | None  # exact; `shown` rounds it for display
    status: ItemStatus
    explanation: Explanation
    has_update: bool  # it, or an item below it that counts, has an approved update
    budget: float  # its planned amount with everything below it
    children: tuple[Result, ...] = ()

    @property
    def shown(self) -> float | None:
        return None if self.progress is None else round(self.progress, 1)


def parse_rule(mapping: Mapping[str, object] | None) -> RollupRule:
    """A rule from settings ({"method": "budget", "counted": ["op_schema", ...]}); missing keys
    take the defaults; ValidationError naming each field at fault."""
    values = dict(mapping or {})
    errors: dict[str, list[str]] = {key: ["unknown setting"] for key in values if key not in _RULE_KEYS}
    method = values.get("method", "equal")
    if method not in METHODS:
        errors["method"] = [f"{method!r} is not a roll-up method: use {', '.join(METHODS)}"]
    status_rule = values.get("status_rule", "worst")
    if status_rule not in STATUS_RULES:
        errors["status_rule"] = [f"{status_rule!r} is not a status rule: use {', '.join(STATUS_RULES)}"]
    counted = _parse_counted(values.get("counted", DEFAULT_COUNTED), errors)
    if errors:
        raise ValidationError("the roll-up rule is not valid", errors)
    return RollupRule(method=cast(Method, method), counted=counted, status_rule=cast(StatusRule, status_rule))


def rollup(node: Node, rule: RollupRule = RollupRule()) -> Result:
    """The item's derived progress and status, with those of everything below it."""
    pairs = [(child, rollup(child, rule)) for child in sorted(node.children, key=lambda n: _code_key(n.code))]
    children = tuple(result for _, result in pairs)
    budget = node.budget + sum(result.budget for result in children)
    if not children:
        return _own_report(node, budget, (), ())
    counted = [(child, result) for child, result in pairs if result.status in rule.counted]
    if not counted:
        note = Text("Geen meegetelde onderliggende items: de eigen melding geldt.",
                    "No counted items below: the item's own report applies.")
        return _own_report(node, budget, children, (note,), rows=tuple(_row_not_counted(r) for r in children))
    return _derived(node, budget, children, counted, rule)


def explain_text(result: Result, lang: str = "nl") -> list[str]:
    """The explanation as lines of text, in Dutch or English."""
    exp = result.explanation
    lines = [f"{result.code} {result.title}: {_progress_text(result.shown, lang)} · {_status_label(result.status, lang)}",
             exp.formula.in_lang(lang)]
    lines += [f"  {_row_text(row, lang)}" for row in exp.rows]
    lines.append(f"Status: {exp.status_reason.in_lang(lang)}")
    lines += [f"• {note.in_lang(lang)}" for note in exp.notes]
    return lines


# --- a leaf, or a parent without counted children: its own report ----------------------------


def _own_report(node: Node, budget: float, children: tuple[Result, ...], notes: tuple[Text, ...],
                rows: tuple[Row, ...] = ()) -> Result:
    has_update = node.progress is not None or node.status is not None
    status = node.status or (ItemStatus.ON_TRACK if (node.progress or 0) > 0 else ItemStatus.NOT_STARTED)
    progress = node.progress
    if progress is None and has_update and status in (ItemStatus.DONE, ItemStatus.NOT_STARTED):
        progress = 100.0 if status == ItemStatus.DONE else 0.0
    explanation = Explanation(rows, _own_formula(node, status, progress), _own_status_reason(has_update), notes)
    return Result(node.code, node.title, node.kind, progress, status, explanation, has_update, budget, children)


def _own_formula(node: Node, status: ItemStatus, progress: float | None) -> Text:
    if node.progress is not None:
        return Text(f"Eigen melding: {_pct(node.progress)}", f"Own report: {_pct(node.progress, 'en')}")
    if progress is not None:
        label_nl, label_en = STATUS_LABELS[status]
        return Text(f"{label_nl} zonder cijfer: {_pct(progress)}", f"{label_en} without a figure: {_pct(progress, 'en')}")
    if node.status is not None:
        label_nl, label_en = STATUS_LABELS[status]
        return Text(f"Eigen melding zonder voortgangscijfer ({label_nl})",
                    f"Own report without a progress figure ({label_en})")
    return Text("Nog geen goedgekeurde update", "No approved update yet")


def _own_status_reason(has_update: bool) -> Text:
    if has_update:
        return Text("eigen melding", "own report")
    return Text("nog geen goedgekeurde update: niet gestart", "no approved update yet: not started")


# --- a parent: derived from its counted children ---------------------------------------------


def _derived(node: Node, budget: float, children: tuple[Result, ...], counted: list[tuple[Node, Result]],
             rule: RollupRule) -> Result:
    notes: list[Text] = []
    in_mean = [(child, result) for child, result in counted if result.progress is not None or not result.has_update]
    weights, method = _weights(in_mean, rule.method, notes)
    total = sum(weights.values())
    rows = tuple(_row(result, weights, total, rule) for result in children)
    counted_results = [result for _, result in counted]
    progress, formula = _mean(node, [result for _, result in in_mean], weights, total, method, notes)
    status, status_reason = _worst_status(counted_results)
    if node.progress is not None or node.status is not None:
        notes.append(_own_report_note(node, len(counted_results)))
    has_update = any(result.has_update for result in counted_results)
    explanation = Explanation(rows, formula, status_reason, tuple(notes))
    return Result(node.code, node.title, node.kind, progress, status, explanation, has_update, budget, children)


def _weights(in_mean: list[tuple[Node, Result]], method: str, notes: list[Text]) -> tuple[dict[str, float], str]:
    """The weight of each child in the mean (by code) and the method actually used."""
    if method == "weights":
        weights = {result.code: _given_weight(child, notes) for child, result in in_mean}
    elif method == "budget":
        # A negative total (more ontvangsten than uitgaven) weighs nothing rather than against.
        weights = {result.code: max(result.budget, 0.0) for _, result in in_mean}
    else:
        weights = {result.code: 1.0 for _, result in in_mean}
    if in_mean and not any(weights.values()):
        what = ("een budget", "a budget") if method == "budget" else ("een gewicht groter dan 0", "a weight above 0")
        notes.append(Text(f"Geen van de {len(in_mean)} items heeft {what[0]}: gelijke gewichten.",
                          f"None of the {len(in_mean)} items has {what[1]}: equal weights."))
        return {code: 1.0 for code in weights}, "equal"
    return weights, method


def _given_weight(child: Node, notes: list[Text]) -> float:
    weight = child.weight
    if weight is not None and math.isfinite(weight) and weight >= 0:
        return float(weight)
    problem = ("geen gewicht", "no weight") if weight is None else ("een ongeldig gewicht", "an invalid weight")
    notes.append(Text(f"{child.code} heeft {problem[0]}: telt met gewicht 1.",
                      f"{child.code} has {problem[1]}: counted with weight 1."))
    return 1.0


def _mean(node: Node, in_mean: list[Result], weights: dict[str, float], total: float, method: str,
          notes: list[Text]) -> tuple[float | None, Text]:
    noun = _noun([r.kind for r in in_mean] or [c.kind for c in node.children], len(in_mean))
    if not any(result.has_update for result in in_mean):
        if in_mean:
            return None, Text(f"Nog geen voortgang gemeld voor de {noun[0]}", f"No progress reported yet for the {noun[1]}")
        return None, Text("Geen voortgangscijfers gemeld, enkel statussen", "No progress figures reported, statuses only")
    mean = sum(weights[r.code] * (r.progress or 0.0) for r in in_mean) / total
    terms = [(r.progress or 0.0, weights[r.code] / total) for r in in_mean]
    shown = mean
    if round(mean, 1) < MINIMUM_SHOWN and any((r.progress or 0) > 0 for r in in_mean):
        shown = MINIMUM_SHOWN
        notes.append(Text("Er is voortgang gemeld maar die weegt (bijna) niet mee: minstens 0,1 % getoond.",
                          "Progress was reported but weighs (almost) nothing: at least 0.1 % shown."))
    return shown, _formula(noun, method, terms, mean, shown)


def _formula(noun: tuple[str, str], method: str, terms: list[tuple[float, float]], mean: float, shown: float) -> Text:
    return Text(_formula_in("nl", noun[0], method, terms, mean, shown), _formula_in("en", noun[1], method, terms, mean, shown))


def _formula_in(lang: str, noun: str, method: str, terms: list[tuple[float, float]], mean: float, shown: float) -> str:
    nl = lang == "nl"
    head = ("Gemiddelde" if nl else "Mean") if method == "equal" else ("Gewogen gemiddelde" if nl else "Weighted mean")
    label = _WEIGHT_LABELS[method][0 if nl else 1]
    products = " + ".join(f"({_pct(value, lang)} × {format_number(share, 2, lang)})" for value, share in terms)
    result = f"{format_number(mean, 1, lang)} %"
    if shown != mean:
        result += f" → {'minstens' if nl else 'at least'} {format_number(shown, 1, lang)} %"
    return f"{head} {'van' if nl else 'of'} {noun} ({label}): {products} = {result}"


def _worst_status(counted: list[Result]) -> tuple[ItemStatus, Text]:
    if all(result.status == ItemStatus.DONE for result in counted):
        return ItemStatus.DONE, Text(f"afgerond: alle {len(counted)} meegetelde items zijn afgerond",
                                     f"done: all {len(counted)} counted items are done")

    def effective(status: ItemStatus) -> ItemStatus:
        return _STATUS_AS.get(status, status)

    worst = min((effective(r.status) for r in counted), key=WORST_FIRST.index)
    codes = ", ".join(r.code for r in counted if effective(r.status) == worst)
    label_nl, label_en = STATUS_LABELS[worst]
    reason = Text(f"{label_nl.lower()}: de slechtste status van de meegetelde items ({codes})",
                  f"{label_en.lower()}: the worst status of the counted items ({codes})")
    if worst == ItemStatus.ON_TRACK and any(r.status == ItemStatus.DONE for r in counted):
        reason = Text(reason.nl + "; afgerond telt als op schema zolang niet alles afgerond is",
                      reason.en + "; done counts as on track until everything is done")
    return worst, reason


def _own_report_note(node: Node, count: int) -> Text:
    parts_nl = [_pct(node.progress)] if node.progress is not None else []
    parts_en = [_pct(node.progress, "en")] if node.progress is not None else []
    if node.status is not None:
        parts_nl.append(STATUS_LABELS[node.status][0])
        parts_en.append(STATUS_LABELS[node.status][1])
    return Text(f"Eigen melding: {', '.join(parts_nl)} (niet gebruikt: het cijfer volgt uit de {count} meegetelde items).",
                f"Own report: {', '.join(parts_en)} (not used: the figure follows from the {count} counted items).")


def _row(result: Result, weights: dict[str, float], total: float, rule: RollupRule) -> Row:
    if result.status not in rule.counted:
        return _row_not_counted(result)
    weight = weights.get(result.code)
    reason = None
    if weight is None:
        reason = Text("geen voortgangscijfer: telt enkel mee voor de status", "no progress figure: counts for the status only")
    elif not result.has_update:
        reason = Text("nog geen goedgekeurde update: telt als 0 %", "no approved update yet: counts as 0 %")
    share = None if weight is None else weight / total * 100
    return Row(result.code, result.title, weight, share, result.progress, result.status, True, reason)


def _row_not_counted(result: Result) -> Row:
    label_nl, label_en = STATUS_LABELS[result.status]
    reason = Text(f"niet meegeteld: status {label_nl}", f"not counted: status {label_en}")
    return Row(result.code, result.title, None, None, result.progress, result.status, False, reason)


# --- helpers -------------------------------------------------------------------------------


def _parse_counted(value: object, errors: dict[str, list[str]]) -> frozenset[ItemStatus]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        errors["counted"] = ["a list of statuses"]
        return DEFAULT_COUNTED
    statuses, problems = set(), []
    for item in value:
        try:
            statuses.add(parse_status(item))
        except ValueError as exc:
            problems.append(str(exc))
    if not statuses and not problems:
        problems.append("at least one status must count")
    if problems:
        errors["counted"] = problems
    return frozenset(statuses)


def _code_key(code: str) -> tuple[str | int, ...]:
    # re.split with a group alternates text and digits, so equal positions compare equal types.
    return tuple(int(part) if i % 2 else part.casefold() for i, part in enumerate(re.split(r"(\d+)", code)))


def _noun(kinds: list[ItemKind], count: int) -> tuple[str, str]:
    """'3 acties' / '3 actions' (kinds mixed: '3 items')."""
    if len(set(kinds)) != 1:
        word = "item" if count == 1 else "items"
        return f"{count} {word}", f"{count} {word}"
    singular = KIND_LABELS[kinds[0]]
    words = (singular[0].lower(), singular[1].lower()) if count == 1 else _PLURALS[kinds[0]]
    return f"{count} {words[0]}", f"{count} {words[1]}"


def _pct(value: float | None, lang: str = "nl") -> str:
    return "—" if value is None else f"{format_number(round(value, 1), lang=lang)} %"


def _progress_text(value: float | None, lang: str) -> str:
    if value is None:
        return "no figure" if lang == "en" else "geen cijfer"
    return f"{format_number(value, 1, lang)} %"


def _status_label(status: ItemStatus, lang: str) -> str:
    return STATUS_LABELS[status][1 if lang == "en" else 0]


def _row_text(row: Row, lang: str) -> str:
    parts = [f"{row.code} {row.title}: {_pct(row.progress, lang)}", _status_label(row.status, lang)]
    if row.weight is not None and row.share is not None:
        word = "weight" if lang == "en" else "gewicht"
        parts.append(f"{word} {format_number(row.weight, lang=lang)} ({format_number(row.share, 1, lang)} %)")
    if row.reason is not None:
        parts.append(row.reason.in_lang(lang))
    return " · ".join(parts)
