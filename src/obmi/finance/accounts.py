"""The algemene rekeningen a budget line may carry, by prefix: which category (exploitatie,
investering, financiering) and direction a class of accounts belongs to, its economic category
for the views, and the roles the balance checks need (interest, loans). A simplified reading of
the minimaal algemeen rekeningstelsel of BBC 2020 (data/accounts.csv; the longest prefix wins):
an organisation with other conventions changes that file, not the code."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from obmi.finance.model import Category, Flow

DATA = Path(__file__).with_name("data") / "accounts.csv"


@dataclass(frozen=True)
class AccountClass:
    prefix: str
    category: Category
    directions: tuple[Flow, ...]
    economic: str
    role: str  # "", interest_paid, interest_received, loan, loan_granted
    label_nl: str
    label_en: str
    economic_nl: str  # the economic category's name (several prefixes may share one)
    economic_en: str


@lru_cache(maxsize=1)
def account_classes() -> tuple[AccountClass, ...]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    classes = [AccountClass(r["prefix"], Category(r["category"]), tuple(Flow(d) for d in r["directions"].split()),
                            r["economic"], r["role"], r["label_nl"], r["label_en"], r["economic_nl"],
                            r["economic_en"]) for r in rows]
    return tuple(sorted(classes, key=lambda c: -len(c.prefix)))


def class_of(account: str | None) -> AccountClass | None:
    """The most specific class of an account; None for no account or one outside every class."""
    if not account:
        return None
    return next((c for c in account_classes() if account.startswith(c.prefix)), None)


def economic_labels() -> dict[str, tuple[str, str]]:
    """economic category → (nl, en)."""
    labels: dict[str, tuple[str, str]] = {}
    for c in sorted(account_classes(), key=lambda c: (len(c.prefix), c.prefix)):
        labels.setdefault(c.economic, (c.economic_nl, c.economic_en))
    labels.setdefault("onbekend", ("Zonder algemene rekening", "Without account"))
    return labels


def check_account(account: str, category: Category | None, direction: Flow) -> tuple[Category | None, str | None]:
    """(the account's category, None) when the account fits; (None, why not) otherwise. A line
    whose file names no category takes the account's."""
    found = class_of(account)
    if found is None:
        classes = ", ".join(sorted({c.prefix[:2] for c in account_classes()}))
        return None, (f"algemene rekening {account} lies outside the budget accounts (classes {classes}; "
                      "63 afschrijvingen and the balance classes are not budgeted)")
    if category is not None and category != found.category:
        return None, (f"algemene rekening {account} ({found.label_nl}) is {found.category.value}, "
                      f"not {category.value}")
    if direction not in found.directions:
        return None, f"algemene rekening {account} ({found.label_nl}) takes no {direction.value}"
    return found.category, None
