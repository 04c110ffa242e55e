"""What an imported plan changes, compared with the plan's latest version, before it is written.

Both sides are `PlanSnapshot`s: the items by code and the planned amounts totalled per (item,
year, direction). `diff(old, new)` lists the items added and removed, those moved to another
parent, those retitled, other field changes, and the amounts that differ (by 0.005 or more) of
the items on both sides — an added or removed item's amounts come and go with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple

from obmi.plans.model import KIND_LABELS, ItemKind, PlanDraft

AMOUNT_TOLERANCE = 0.005  # below a half cent two amounts are the same
AmountKey = tuple[str, int, str]  # (item code, year, direction)


@dataclass(frozen=True)
class ItemSnapshot:
    kind: ItemKind
    parent: str | None = None
    title_short: str = ""
    title_long: str = ""
    description: str = ""
    beleidsdomein: str | None = None
    beleidsveld: str | None = None

    @property
    def title(self) -> str:
        return self.title_short or self.title_long


@dataclass
class PlanSnapshot:
    items: dict[str, ItemSnapshot] = field(default_factory=dict)
    amounts: dict[AmountKey, float] = field(default_factory=dict)  # totals


def snapshot_of(draft: PlanDraft, base: PlanSnapshot | None = None) -> PlanSnapshot:
    """The plan a draft would make. An amounts-only draft (a budget registration) keeps the
    base's items and replaces all of its amounts; any other draft is the whole plan by itself."""
    if draft.amounts_only:
        items = dict(base.items) if base is not None else {}
    else:
        items = {item.code: ItemSnapshot(item.kind, item.parent, item.title_short, item.title_long,
                                         item.description, item.beleidsdomein, item.beleidsveld)
                 for item in draft.items}
    return PlanSnapshot(items, totals((a.item, a.year, a.direction, a.amount) for a in draft.amounts))


def totals(lines: Iterable[tuple[str, int, str, float]]) -> dict[AmountKey, float]:
    """Amount lines summed per (item, year, direction), rounded to the cent so that float sums
    compare and serialise cleanly."""
    summed: dict[AmountKey, float] = {}
    for code, year, direction, amount in lines:
        summed[(code, year, direction)] = summed.get((code, year, direction), 0.0) + amount
    return {key: round(value, 2) for key, value in summed.items()}


class ItemEntry(NamedTuple):
    code: str
    item: ItemSnapshot


class Moved(NamedTuple):
    code: str
    old: str | None
    new: str | None


class Retitled(NamedTuple):
    code: str
    old: str
    new: str


class Changed(NamedTuple):
    code: str
    field: str
    old: str | None
    new: str | None


class AmountChange(NamedTuple):
    code: str
    year: int
    direction: str
    old: float
    new: float


# Fields compared as "changed": all but the parent and titles, which have their own lists.
CHANGED_FIELDS = ("kind", "description", "beleidsdomein", "beleidsveld")
FIELD_LABELS = {  # (nl, en)
    "kind": ("soort", "kind"),
    "description": ("omschrijving", "description"),
    "beleidsdomein": ("beleidsdomein", "beleidsdomein"),
    "beleidsveld": ("beleidsveld", "beleidsveld"),
}
WORDS = {  # (nl, en)
    "under": ("onder", "under"),
    "top": ("(bovenaan)", "(top)"),
    "moved": ("verplaatst", "moved"),
    "retitled": ("nieuwe titel", "retitled"),
    "ontvangst": ("ontvangst", "receipt"),
    "uitgave": ("uitgave", "expense"),
}


@dataclass
class PlanDiff:
    added: list[ItemEntry] = field(default_factory=list)
    removed: list[ItemEntry] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    retitled: list[Retitled] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    amounts: list[AmountChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(self.counts().values())

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def lines(self, lang: str = "nl") -> list[str]:
        """The differences as readable lines, in Dutch (or English with lang="en")."""
        en = int(lang == "en")
        return ([_added_line("+", entry, en) for entry in self.added]
                + [_added_line("-", entry, en) for entry in self.removed]
                + [f"~ {m.code} {WORDS['moved'][en]}: {_parent(m.old, en)} → {_parent(m.new, en)}" for m in self.moved]
                + [f"~ {r.code} {WORDS['retitled'][en]}: '{_short(r.old)}' → '{_short(r.new)}'" for r in self.retitled]
                + [f"~ {c.code} {FIELD_LABELS[c.field][en]}: {_value(c, c.old, en)} → {_value(c, c.new, en)}"
                   for c in self.changed]
                + [_amount_line(a, en) for a in self.amounts])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: plain strings, numbers and None."""
        def entry(e: ItemEntry) -> dict[str, Any]:
            # ItemKind(…): a snapshot built from stored rows may hold the kind as plain text.
            return {"code": e.code, **asdict(e.item), "kind": ItemKind(e.item.kind).value}
        return {"added": [entry(e) for e in self.added], "removed": [entry(e) for e in self.removed],
                "moved": [m._asdict() for m in self.moved], "retitled": [r._asdict() for r in self.retitled],
                "changed": [c._asdict() for c in self.changed], "amounts": [a._asdict() for a in self.amounts],
                "counts": self.counts()}


def diff(old: PlanSnapshot, new: PlanSnapshot) -> PlanDiff:
    """What going from `old` to `new` changes, each list sorted by code (and year)."""
    result = PlanDiff(added=[ItemEntry(c, new.items[c]) for c in sorted(new.items.keys() - old.items.keys())],
                      removed=[ItemEntry(c, old.items[c]) for c in sorted(old.items.keys() - new.items.keys())])
    for code in sorted(old.items.keys() & new.items.keys()):
        _compare_item(code, old.items[code], new.items[code], result)
    coming_and_going = {e.code for e in result.added} | {e.code for e in result.removed}
    for key in sorted(old.amounts.keys() | new.amounts.keys()):
        before, after = old.amounts.get(key, 0.0), new.amounts.get(key, 0.0)
        if key[0] not in coming_and_going and abs(before - after) >= AMOUNT_TOLERANCE:
            result.amounts.append(AmountChange(*key, before, after))
    return result


def _compare_item(code: str, a: ItemSnapshot, b: ItemSnapshot, result: PlanDiff) -> None:
    if a.parent != b.parent:
        result.moved.append(Moved(code, a.parent, b.parent))
    if a.title_short != b.title_short:
        result.retitled.append(Retitled(code, a.title, b.title))
    elif a.title_long != b.title_long:
        result.retitled.append(Retitled(code, a.title_long, b.title_long))
    for name in CHANGED_FIELDS:
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            result.changed.append(Changed(code, name, _plain(before), _plain(after)))


def _plain(value: Any) -> str | None:
    return value.value if isinstance(value, ItemKind) else value


# --- wording ----------------------------------------------------------------------------------

def _short(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _kind_label(kind: ItemKind | str, en: int) -> str:
    return KIND_LABELS[ItemKind(kind)][en].lower()


def _parent(code: str | None, en: int) -> str:
    return code or WORDS["top"][en]


def _added_line(sign: str, entry: ItemEntry, en: int) -> str:
    item = entry.item
    text = f"{sign} {_kind_label(item.kind, en)} {entry.code} '{_short(item.title)}'"
    return text + (f" ({WORDS['under'][en]} {item.parent})" if item.parent else "")


def _value(change: Changed, value: str | None, en: int) -> str:
    if value is None or value == "":
        return "—"
    if change.field == "kind":
        return _kind_label(value, en)
    return f"'{_short(value)}'" if change.field == "description" else value


def _amount_line(change: AmountChange, en: int) -> str:
    direction = f" ({WORDS['ontvangst'][en]})" if change.direction == "ontvangst" else ""
    lang = "en" if en else "nl"
    return f"€ {change.code} {change.year}{direction}: {format_amount(change.old, lang)} → {format_amount(change.new, lang)}"


def format_amount(amount: float, lang: str = "nl") -> str:
    """21.012.492 and 1.234,56 (Belgian Dutch; 21,012,492 and 1,234.56 with lang="en"): two
    decimals only when the amount is not whole."""
    whole = abs(amount - round(amount)) < AMOUNT_TOLERANCE
    text = f"{round(amount):,}" if whole else f"{amount:,.2f}"
    # Python writes 1,234.56: swap the separators for Belgian Dutch.
    return text if lang == "en" else text.translate(str.maketrans(",.", ".,"))
