"""The plan's vocabulary (BBC 2020) and what an imported plan file is read into.

A plan file is read into a `PlanDraft`: its items (`ItemDraft`) and planned amounts
(`AmountLine`), each with the line (or record) it came from, so that every refusal names it. A
draft is checked as a whole (`obmi.plans.validate`) and compared with the plan's latest version
(`obmi.plans.diff`) before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ItemKind(StrEnum):
    BELEIDSDOELSTELLING = "beleidsdoelstelling"
    ACTIEPLAN = "actieplan"
    ACTIE = "actie"
    PROJECT = "project"
    REGULIERE_WERKING = "reguliere_werking"


# Which kind of parent each kind needs (None in the tuple: may stand at the top).
PARENT_KINDS: dict[ItemKind, tuple[ItemKind | None, ...]] = {
    ItemKind.BELEIDSDOELSTELLING: (None,),
    # The BBC exports put the actieplannen of the reguliere werking under no beleidsdoelstelling.
    ItemKind.ACTIEPLAN: (ItemKind.BELEIDSDOELSTELLING, None),
    ItemKind.ACTIE: (ItemKind.ACTIEPLAN,),
    ItemKind.PROJECT: (ItemKind.ACTIE,),
    ItemKind.REGULIERE_WERKING: (None, ItemKind.BELEIDSDOELSTELLING),
}

KIND_LABELS: dict[ItemKind, tuple[str, str]] = {  # (nl, en)
    ItemKind.BELEIDSDOELSTELLING: ("Beleidsdoelstelling", "Policy objective"),
    ItemKind.ACTIEPLAN: ("Actieplan", "Action plan"),
    ItemKind.ACTIE: ("Actie", "Action"),
    ItemKind.PROJECT: ("Project", "Project"),
    ItemKind.REGULIERE_WERKING: ("Reguliere werking", "Regular operations"),
}


class ItemStatus(StrEnum):
    NOT_STARTED = "niet_gestart"
    ON_TRACK = "op_schema"
    AT_RISK = "risico"
    DELAYED = "vertraagd"
    DONE = "afgerond"
    STOPPED = "stopgezet"
    ON_HOLD = "on_hold"


STATUS_LABELS: dict[ItemStatus, tuple[str, str]] = {  # (nl, en)
    ItemStatus.NOT_STARTED: ("Niet gestart", "Not started"),
    ItemStatus.ON_TRACK: ("Op schema", "On track"),
    ItemStatus.AT_RISK: ("Risico", "At risk"),
    ItemStatus.DELAYED: ("Vertraagd", "Delayed"),
    ItemStatus.DONE: ("Afgerond", "Done"),
    ItemStatus.STOPPED: ("Stopgezet", "Stopped"),
    ItemStatus.ON_HOLD: ("On hold", "On hold"),
}


class UpdateState(StrEnum):
    """Where a status update is in its workflow: the owner drafts and submits, a coordinator
    approves or returns it (with a comment). Only approved updates count and are published."""
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class Direction(StrEnum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better


class KpiKind(StrEnum):
    STATISTIC = "statistic"  # an indicator of the statistics store, for one area: values flow in
    MANUAL = "manual"  # a plan-specific number, measured by hand
    STEPS = "steps"  # a text indicator: which of a list of steps has been reached


DEFAULT_STEPS = ("studie", "aanbesteding", "uitvoering", "opgeleverd")


@dataclass
class ItemDraft:
    code: str
    kind: ItemKind
    line: int  # where it was read (line of a CSV/XLSX, record of a JSON list)
    parent: str | None = None  # the parent's code
    title_short: str = ""
    title_long: str = ""
    description: str = ""
    beleidsdomein: str | None = None
    beleidsveld: str | None = None
    beleidsitem: str | None = None
    priority: bool | None = None  # None: not given by the file (keep what is set)
    owner: str | None = None  # user name
    department: str | None = None
    mandataris: str | None = None
    start: str | None = None  # ISO date
    end: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.title_short or self.title_long


@dataclass(frozen=True)
class AmountLine:
    """One planned amount: an item (actie, or any item for the simple layout), one year."""
    item: str
    year: int
    amount: float
    line: int
    direction: str = "uitgave"  # uitgave or ontvangst
    beleidsitem: str | None = None
    account: str | None = None  # algemene rekening, e.g. 6479999
    envelope: str | None = None  # investeringsenveloppe

    @property
    def key(self) -> tuple[str, int, str, str, str, str]:
        return (self.item, self.year, self.direction, self.beleidsitem or "", self.account or "", self.envelope or "")


@dataclass
class PlanDraft:
    """What one or more plan files hold. `amounts_only`: a budget-registration file, which
    changes the amounts of the items of the latest version and leaves the structure as it is."""
    items: list[ItemDraft] = field(default_factory=list)
    amounts: list[AmountLine] = field(default_factory=list)
    layout: str = ""
    amounts_only: bool = False
    organisation_hint: str | None = None  # e.g. the NIS code and name a BBC export names
    notes: list[str] = field(default_factory=list)
