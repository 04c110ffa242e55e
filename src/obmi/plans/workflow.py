"""The status-update workflow, as a pure state machine, and the checks on an update's values.

An item's owner drafts an update for a period (save), and submits it; a coordinator approves it or
returns it with a comment. A returned update is edited (saved: back to draft) and submitted again.
Approval is final for the period: only a coordinator can reopen an approved update, which puts it
back in draft. "Geen wijziging" (no change) creates and submits in one step a copy of the previous
approved status and progress. Who may do what (owner, coordinator) is checked by the caller: this
module only knows which step may follow which.

    (none) ──save──▶ draft ──submit──▶ submitted ──approve──▶ approved ──reopen──▶ draft
    (none) ──submit/no_change──▶ submitted          ╰──return──▶ returned ──save──▶ draft
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypedDict, TypeVar

from obmi.errors import Conflict, ValidationError
from obmi.plans.model import STATUS_LABELS, ItemStatus, UpdateState

T = TypeVar("T")
Action = Literal["save", "submit", "approve", "return", "reopen", "no_change"]

MAX_NARRATIVE = 10_000
MAX_KNELPUNTEN = 5_000
NO_CHANGE_NARRATIVE = "Geen wijziging"

_NEXT: dict[tuple[UpdateState | None, Action], UpdateState] = {
    (None, "save"): UpdateState.DRAFT,
    (None, "submit"): UpdateState.SUBMITTED,
    (None, "no_change"): UpdateState.SUBMITTED,
    (UpdateState.DRAFT, "save"): UpdateState.DRAFT,
    (UpdateState.DRAFT, "submit"): UpdateState.SUBMITTED,
    (UpdateState.DRAFT, "no_change"): UpdateState.SUBMITTED,
    (UpdateState.SUBMITTED, "approve"): UpdateState.APPROVED,
    (UpdateState.SUBMITTED, "return"): UpdateState.RETURNED,
    (UpdateState.RETURNED, "save"): UpdateState.DRAFT,
    (UpdateState.APPROVED, "reopen"): UpdateState.DRAFT,
}
_VERBS: dict[str, str] = {"save": "edit", "submit": "submit", "approve": "approve", "return": "return",
                          "reopen": "reopen", "no_change": "report 'no change' for"}
_STATES: dict[UpdateState | None, str] = {
    None: "an update that does not exist yet",
    UpdateState.DRAFT: "a draft",
    UpdateState.SUBMITTED: "a submitted update",
    UpdateState.APPROVED: "an approved update",
    UpdateState.RETURNED: "a returned update",
}
# What to do instead, per state: the message tells the way out, not only the refusal.
_WAY_OUT: dict[UpdateState | None, str] = {
    None: "save or submit an update first",
    UpdateState.DRAFT: "the owner submits it first",
    UpdateState.SUBMITTED: "a coordinator approves or returns it first",
    UpdateState.APPROVED: "an approved update is final for its period; a coordinator can reopen it",
    UpdateState.RETURNED: "the owner edits (saves) it first and then submits it again",
}


class UpdateValues(TypedDict):
    status: ItemStatus
    progress: float | None
    narrative: str
    knelpunten: str


class StaleEdit(Conflict):
    """Someone saved the update after the editor opened it (optimistic locking): nothing was
    written. `mine` are the values the editor sent, `theirs` the stored ones, at `theirs_version`."""

    def __init__(self, mine: dict[str, Any], theirs: dict[str, Any], theirs_version: int, *,
                 changed_by: str | None = None, changed_at: datetime | None = None, what: str = "this update"):
        who = f" by {changed_by}" if changed_by else ""
        when = f" on {changed_at:%Y-%m-%d %H:%M}" if changed_at else ""
        super().__init__(f"{what} was changed{who}{when} after you opened it (now version {theirs_version}): "
                         "nothing was saved; compare your text with theirs and save again")
        self.mine = mine
        self.theirs = theirs
        self.theirs_version = theirs_version
        self.changed_by = changed_by
        self.changed_at = changed_at

    @property
    def differences(self) -> list[str]:
        """The fields whose values differ, sorted: what the editor has to compare."""
        return sorted(k for k in self.mine.keys() | self.theirs.keys() if self.mine.get(k) != self.theirs.get(k))


def transition(state: UpdateState | None, action: Action) -> UpdateState:
    """The state after `action` on an update in `state` (None: there is no update yet); Conflict,
    naming the way out, when the action is not possible in that state."""
    new = _NEXT.get((state, action))
    if new is None:
        way_out = "only an approved update can be reopened" if action == "reopen" else _WAY_OUT[state]
        raise Conflict(f"cannot {_VERBS.get(action, action)} {_STATES[state]}: {way_out}")
    return new


def allowed_actions(state: UpdateState | None) -> tuple[Action, ...]:
    """The actions possible in `state` (which buttons a page offers, before permissions)."""
    return tuple(action for (source, action) in _NEXT if source == state)


def no_change_values(previous: dict[str, Any] | None) -> UpdateValues:
    """The values of a "geen wijziging" update: the previous approved update's status, progress
    and knelpunten with the narrative "Geen wijziging"; without one: niet gestart, 0 %."""
    if previous is None:
        return check_update_values(ItemStatus.NOT_STARTED, 0, NO_CHANGE_NARRATIVE, "")
    return check_update_values(previous.get("status"), previous.get("progress"), NO_CHANGE_NARRATIVE,
                               previous.get("knelpunten"))


def check_update_values(status: object, progress: object, narrative: object, knelpunten: object) -> UpdateValues:
    """The update's values, normalised; ValidationError naming each field at fault.

    Status: a status code or its Dutch or English label, in any case ("Op schema", "on hold").
    Progress: a number from 0 to 100, also as text ("45", "45 %", "45,5"), or empty (a status
    without a figure); afgerond means 100 (filled in when missing, a different figure refused).
    """
    errors: dict[str, list[str]] = {}
    parsed_status = _field(errors, "status", parse_status, status)
    parsed_progress = _field(errors, "progress", _parse_progress, progress)
    if parsed_status == ItemStatus.DONE and "progress" not in errors:
        if parsed_progress is not None and parsed_progress != 100:
            errors["progress"] = [f"an afgerond item is at 100 %, not {_percent(parsed_progress)}"]
        parsed_progress = 100.0
    text = _field(errors, "narrative", lambda v: _parse_text(v, MAX_NARRATIVE), narrative)
    problems = _field(errors, "knelpunten", lambda v: _parse_text(v, MAX_KNELPUNTEN), knelpunten)
    if errors:
        raise ValidationError("the status update is not valid", errors)
    assert parsed_status is not None and text is not None and problems is not None
    return UpdateValues(status=parsed_status, progress=parsed_progress, narrative=text, knelpunten=problems)


def _field(errors: dict[str, list[str]], name: str, parse: Callable[[object], T], value: object) -> T | None:
    """`parse(value)`, or None with the ValueError's message recorded under `name`."""
    try:
        return parse(value)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None


def _status_key(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text).strip().casefold()


_STATUS_NAMES: dict[str, ItemStatus] = {
    _status_key(name): status for status, labels in STATUS_LABELS.items() for name in (status.value, *labels)
}


def parse_status(value: object) -> ItemStatus:
    """A status from its code or its Dutch or English label, in any case or spacing ("Op schema",
    "on hold", "ON_HOLD"); ValueError naming the statuses otherwise."""
    if isinstance(value, ItemStatus):
        return value
    found = _STATUS_NAMES.get(_status_key(value)) if isinstance(value, str) else None
    if found is None:
        names = ", ".join(labels[0] for labels in STATUS_LABELS.values())
        raise ValueError(f"{value!r} is not a status: use one of {names}")
    return found


def _parse_progress(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("the progress is a number from 0 to 100")
    number = value if isinstance(value, int | float) else _number_from_text(value)
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValueError(f"the progress is a number from 0 to 100, not {value!r}")
    return float(number)


def _number_from_text(value: object) -> float:
    text = str(value).strip().removesuffix("%").strip()
    # A decimal comma is the Belgian way; a thousands separator cannot occur below 100.
    if not re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        raise ValueError(f"the progress is a number from 0 to 100, not {value!r}")
    return float(text.replace(",", "."))


def _parse_text(value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    # Browsers send a textarea's line breaks as CRLF: counted as one character, as the user sees them.
    text = value.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    if len(text) > limit:
        raise ValueError(f"at most {limit:,} characters ({len(text):,} given)")
    return text


def _percent(value: float) -> str:
    return f"{value:g} %"
