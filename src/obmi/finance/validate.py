"""Whether a finance file's lines fit the plan they are imported into. Pure: the plan is given as
a `PlanFacts`. Every refusal names its line; nothing is summed silently: a duplicate line is
refused with both lines, a line for an actie that is not in the plan is refused (or, when the
import asks to keep such lines, kept for the reconciliation report)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from obmi.errors import ImportRejected
from obmi.finance.model import BudgetLine, FinanceDraft, LineKind

BUDGETED_KINDS = ("actie", "project", "reguliere_werking")


@dataclass(frozen=True)
class PlanFacts:
    plan: str
    entity: str  # the plan's budget entity code
    entities: frozenset[str]  # every budget entity code of the organisation
    items: dict[str, str]  # code → kind, of the version the ramingen are for
    versions: frozenset[int]
    latest: int
    years: range


def check_finance(draft: FinanceDraft, facts: PlanFacts, *, keep_unplanned: bool, today: date) -> list[str]:
    """Raises ImportRejected with every problem; returns notes (kept unplanned lines, …)."""
    problems: list[tuple[int, str]] = []
    for line in draft.lines:
        problems += [(line.line, why) for why in _line_problems(line, facts, keep_unplanned, today)]
    problems += _duplicates(draft.lines)
    if problems:
        problems.sort()
        raise ImportRejected(f"{len(problems)} finance lines do not fit plan {facts.plan}; nothing was imported",
                             problems)
    unplanned = sorted({line.item for line in draft.lines if line.item not in facts.items})
    if not unplanned:
        return []
    return [f"{len(unplanned)} acties are not in the plan and were kept for the reconciliation: "
            f"{', '.join(unplanned[:10])}{' …' if len(unplanned) > 10 else ''}"]


def _line_problems(line: BudgetLine, facts: PlanFacts, keep_unplanned: bool, today: date) -> list[str]:
    problems = []
    if line.entity and line.entity not in facts.entities:
        problems.append(f"unknown budget entity {line.entity!r} (known: {', '.join(sorted(facts.entities))})")
    elif line.entity and line.entity != facts.entity:
        problems.append(f"budget entity {line.entity} is not the entity of plan {facts.plan} ({facts.entity}): "
                        "import its lines into that entity's plan")
    if line.version is not None and line.version not in facts.versions:
        problems.append(f"plan {facts.plan} has no version {line.version} "
                        f"(versions {', '.join(str(v) for v in sorted(facts.versions))})")
    kind = facts.items.get(line.item)
    if kind is None and not keep_unplanned:
        problems.append(f"actie {line.item} is not in plan {facts.plan} (import with --keep-unplanned to keep such "
                        "lines for the reconciliation report)")
    elif kind is not None and kind not in BUDGETED_KINDS:
        problems.append(f"{line.item} is a {kind}: budget lines belong to acties (or projects, reguliere werking)")
    if line.year not in facts.years:
        problems.append(f"year {line.year} lies outside plan {facts.plan} "
                        f"({facts.years.start}–{facts.years.stop - 1})")
    if line.kind == LineKind.REALISATIE and line.quarter is not None:
        begins = date(line.year, 3 * (line.quarter - 1) + 1, 1)
        if begins > today:
            problems.append(f"a realisatie in quarter {line.quarter} of {line.year}, which has not begun yet")
    return problems


def _duplicates(lines: list[BudgetLine]) -> list[tuple[int, str]]:
    seen: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for line in lines:
        seen[line.key].append(line.line)
    return [(numbers[i], f"the same budget line as line {numbers[0]} (actie, beleidsitem, rekening, enveloppe, "
                         "year, quarter and direction): duplicates are not summed — merge them in the export")
            for numbers in seen.values() if len(numbers) > 1 for i in range(1, len(numbers))]
