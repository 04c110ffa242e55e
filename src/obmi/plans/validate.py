"""Whether a plan draft makes sense as a plan, checked as a whole before anything is written.

The readers (`obmi.plans.readers`) refuse what they cannot read; this module refuses what reads
fine but is no plan: duplicate or missing codes, parents that are missing, of the wrong kind or
going round in a cycle, BBC codes that do not exist or do not match, years outside the plan,
amounts that cannot be meant, dates that do not exist or run backwards. Every problem is
reported at once, as (line, reason) — the line (or record) the item or amount was read from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date

from obmi.errors import ImportRejected
from obmi.plans.bbc import BELEIDSDOMEINEN, beleidsvelden, check_domain_matches, parse_beleidsitem
from obmi.plans.model import PARENT_KINDS, AmountLine, ItemDraft, ItemKind, PlanDraft

Problem = tuple[int, str]

MAX_CODE_LENGTH = 40
ABSURD_AMOUNT = 1e13  # ten thousand billion euro: more than any Flemish budget, so a slip
DIRECTIONS = ("uitgave", "ontvangst")
_ACCOUNT = re.compile(r"^\d{7}$")


def kind_name(kind: ItemKind) -> str:
    return kind.value.replace("_", " ")


def a_kind(kind: ItemKind) -> str:
    """'an actie', 'a beleidsdoelstelling': for reasons that read as sentences."""
    name = kind_name(kind)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def position_word(draft: PlanDraft) -> str:
    """What the draft's line numbers count: records of a JSON list, lines of a table."""
    return "record" if draft.layout == "bbc-json" else "line"


def validate_draft(draft: PlanDraft, *, existing: Mapping[str, ItemKind] | None = None,
                   years: range | None = None) -> list[Problem]:
    """Every problem of the draft, sorted by line. `existing`: the items (code → kind) of the
    plan's latest version, which an amounts-only draft's amounts must belong to. `years`: the
    plan's years (e.g. range(2026, 2032)); None checks no year."""
    unit = position_word(draft)
    items = _first_by_code(draft.items)
    kinds = {code: item.kind for code, item in items.items()}
    known = dict(existing or {}) if draft.amounts_only else kinds
    problems: list[Problem] = []
    problems += _duplicates(draft.items, items, unit)
    for item in draft.items:
        problems += [(item.line, reason) for reason in _item_problems(item)]
        problems += [(item.line, reason) for reason in _parent_problems(item, kinds, existing)]
    problems += _cycles(items)
    problems += _amount_problems(draft, known, existing, years, unit)
    return sorted(problems, key=lambda problem: problem[0])


def check_draft(draft: PlanDraft, *, existing: Mapping[str, ItemKind] | None = None,
                years: range | None = None) -> None:
    """`validate_draft`, raising ImportRejected when it finds anything."""
    problems = validate_draft(draft, existing=existing, years=years)
    if problems:
        raise ImportRejected(f"the plan has {len(problems)} problem{'s' if len(problems) != 1 else ''}; "
                             "nothing was imported", problems, unit=position_word(draft))


# --- items ------------------------------------------------------------------------------------

def _first_by_code(items: list[ItemDraft]) -> dict[str, ItemDraft]:
    found: dict[str, ItemDraft] = {}
    for item in items:
        found.setdefault(item.code, item)
    return found


def _label(item: ItemDraft) -> str:
    return f"{kind_name(item.kind)} {item.code}" if item.code else f"{a_kind(item.kind)} without code"


def _duplicates(items: list[ItemDraft], first: dict[str, ItemDraft], unit: str) -> list[Problem]:
    # A layout lists each item once (the JSON reader merges its repeated items itself), so a
    # second line with a code is a mistake, not an update.
    return [(item.line, f"{_label(item)} is listed twice (also at {unit} {first[item.code].line})")
            for item in items if item.code and first[item.code] is not item]


def _item_problems(item: ItemDraft) -> Iterator[str]:
    if not item.code:
        yield f"{a_kind(item.kind)} without code ('{item.title[:60]}')"
    elif len(item.code) > MAX_CODE_LENGTH:
        yield f"code '{item.code[:MAX_CODE_LENGTH]}…' is longer than {MAX_CODE_LENGTH} characters"
    if not item.title.strip():
        yield f"{_label(item)} has no title (title_short or title_long)"
    yield from (f"{_label(item)}: {reason}" for reason in _bbc_problems(item))
    yield from (f"{_label(item)}: {reason}" for reason in _date_problems(item))


def _bbc_problems(item: ItemDraft) -> Iterator[str]:
    domain_ok = item.beleidsdomein is None or item.beleidsdomein in BELEIDSDOMEINEN
    if not domain_ok:
        yield f"beleidsdomein {item.beleidsdomein!r} is not one of 00–09"
    if item.beleidsveld is not None:
        if item.beleidsveld not in beleidsvelden():
            yield f"unknown beleidsveld {item.beleidsveld} (not in the official BBC list of beleidsvelden)"
            return
        if domain_ok:
            try:
                check_domain_matches(item.beleidsdomein, item.beleidsveld)
            except ValueError as exc:
                yield str(exc)
    if item.beleidsitem is not None:
        yield from _beleidsitem_problems(item.beleidsitem, item.beleidsveld)


def _beleidsitem_problems(beleidsitem: str, beleidsveld: str | None) -> Iterator[str]:
    try:
        veld, _ = parse_beleidsitem(beleidsitem)
    except ValueError as exc:
        yield str(exc)
        return
    if beleidsveld is not None and veld != beleidsveld:
        yield f"beleidsitem {beleidsitem} is not in beleidsveld {beleidsveld}"


def _date_problems(item: ItemDraft) -> Iterator[str]:
    parsed: dict[str, date] = {}
    for name, value in (("start", item.start), ("end", item.end)):
        if value is None:
            continue
        try:
            parsed[name] = date.fromisoformat(value)
        except ValueError:
            yield f"{name} {value!r} is not a date (YYYY-MM-DD)"
    if "start" in parsed and "end" in parsed and parsed["end"] < parsed["start"]:
        yield f"ends ({item.end}) before it starts ({item.start})"


def _allowed(kind: ItemKind) -> str:
    return " or ".join(kind_name(k) for k in PARENT_KINDS[kind] if k is not None)


def _parent_problems(item: ItemDraft, kinds: Mapping[str, ItemKind],
                     existing: Mapping[str, ItemKind] | None) -> Iterator[str]:
    allowed = PARENT_KINDS[item.kind]
    if item.parent is None:
        if None not in allowed:
            yield f"{_label(item)} has no {_allowed(item.kind)} (its parent is empty)"
        return
    if allowed == (None,):
        yield f"{_label(item)} stands at the top of the plan and cannot be under {item.parent}"
        return
    parent_kind = kinds.get(item.parent)
    if parent_kind is None:
        yield _missing(f"the parent {item.parent} of {_label(item)}", item.parent, existing)
    elif parent_kind not in allowed:
        parents = [kind for kind in allowed if kind is not None]
        under = a_kind(parents[0]) if len(parents) == 1 else _allowed(item.kind)
        top = " or at the top" if None in allowed else ""
        yield (f"{_label(item)} is under {kind_name(parent_kind)} {item.parent}, but {a_kind(item.kind)} "
               f"belongs under {under}{top}")


def _missing(what: str, code: str, existing: Mapping[str, ItemKind] | None) -> str:
    if existing is not None and code in existing:
        # A structure file is the whole new version: what it leaves out is removed.
        return f"{what} is in the current plan but not in this file (a plan file holds the whole plan)"
    return f"{what} is not in the plan"


def _cycles(items: dict[str, ItemDraft]) -> list[Problem]:
    """Each cycle of parents once, at the line of its first item: walking up from every item,
    a walk that meets itself has gone round."""
    done: set[str] = set()
    problems: list[Problem] = []
    for start in items:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node in items and node not in done and node not in on_path:
            on_path[node] = len(path)
            path.append(node)
            node = items[node].parent
        if node is not None and node in on_path:
            problems.append(_cycle_problem(path[on_path[node]:], items))
        done.update(path)
    return problems


def _cycle_problem(cycle: list[str], items: dict[str, ItemDraft]) -> Problem:
    first = min(range(len(cycle)), key=lambda i: items[cycle[i]].line)
    ordered = cycle[first:] + cycle[:first]
    return (items[ordered[0]].line,
            f"cycle in the hierarchy: {' → '.join([*ordered, ordered[0]])} (each is under the next)")


# --- amounts ----------------------------------------------------------------------------------

def _amount_problems(draft: PlanDraft, known: Mapping[str, ItemKind], existing: Mapping[str, ItemKind] | None,
                     years: range | None, unit: str) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[str] = set()
    for amount in draft.amounts:
        if amount.item not in known and amount.item not in reported:
            reported.add(amount.item)
            problems.append((amount.line, _unknown_item(amount, draft, existing)))
        problems += [(amount.line, f"{amount.item} {amount.year}: {reason}") for reason in _line_problems(amount, years)]
    problems += _repeated_amounts(draft.amounts, unit)
    return problems


def _unknown_item(amount: AmountLine, draft: PlanDraft, existing: Mapping[str, ItemKind] | None) -> str:
    if not amount.item:
        return "an amount without actie"
    if draft.amounts_only:
        return f"amounts for {amount.item}, which is not in the current plan"
    return _missing(f"{amount.item}, which has amounts,", amount.item, existing)


def _line_problems(amount: AmountLine, years: range | None) -> Iterator[str]:
    if years is not None and amount.year not in years:
        yield f"the year is outside the plan's years {years.start}–{years.stop - 1}"
    if not math.isfinite(amount.amount):
        yield f"the amount {amount.amount} is not a finite number"
    elif abs(amount.amount) >= ABSURD_AMOUNT:
        yield f"the amount {amount.amount:.4g} cannot be meant (10^13 or more)"
    if amount.direction not in DIRECTIONS:
        yield f"direction {amount.direction!r} is not uitgave or ontvangst"
    if amount.account is not None and not _ACCOUNT.match(amount.account):
        yield f"algemene rekening {amount.account!r} is not seven digits"
    if amount.beleidsitem is not None:
        yield from _beleidsitem_problems(amount.beleidsitem, None)


def _describe(amount: AmountLine) -> str:
    parts = [amount.direction]
    parts += [f"beleidsitem {amount.beleidsitem}"] if amount.beleidsitem else []
    parts += [f"rekening {amount.account}"] if amount.account else []
    parts += [f"enveloppe {amount.envelope}"] if amount.envelope else []
    return ", ".join(parts)


def _repeated_amounts(amounts: list[AmountLine], unit: str) -> list[Problem]:
    """The same budget line twice, or one year of an item given both as plain amount and as
    budget lines: either would count the money twice."""
    problems: list[Problem] = []
    first: dict[tuple[str, int, str, str, str, str], AmountLine] = {}
    plain: dict[tuple[str, int, str], AmountLine] = {}
    detailed: dict[tuple[str, int, str], AmountLine] = {}
    for amount in amounts:
        seen = first.setdefault(amount.key, amount)
        if seen is not amount:
            problems.append((amount.line, f"{amount.item} {amount.year} ({_describe(amount)}) is given twice "
                                          f"(also at {unit} {seen.line})"))
        (detailed if amount.account else plain).setdefault((amount.item, amount.year, amount.direction), amount)
    for total_key, line in detailed.items():
        other = plain.get(total_key)
        if other is not None:
            problems.append((line.line, f"{line.item} {line.year}: amounts are given both per algemene rekening and "
                                        f"as one amount (at {unit} {other.line}); they would count twice"))
    return problems
