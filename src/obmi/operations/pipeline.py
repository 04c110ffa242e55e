"""The one write pipeline. Whatever a write changed (an import, a catalogue or geography change,
`obmi derive`, a restore, later plan and finance edits) is settled the same way, in the
transaction of the write:

    1. derive   — re-express, aggregate and compute what depends on the changed inputs;
    2. disclose — the registered disclosure rules decide the changed cells (and, when the
                  configured threshold differs from the one the stored decisions used, all);
    3. version  — the data version advances (obmi.store.state), which every cache and ETag
                  keys on, so nothing can serve what the store no longer holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, update

from obmi.changes import ChangeSet
from obmi.indicators.catalogue import load_catalogue
from obmi.indicators.derive import DeriveCounts, derive, derive_everything, periods_with_data
from obmi.plugins import disclosure_rules
from obmi.privacy.suppression import Scope, threshold_dependants
from obmi.store.state import read_state
from obmi.store.tables import data_state


@dataclass(frozen=True)
class Settled:
    derived: int
    withheld: int
    released: int
    touched: frozenset[tuple[str, str]] = frozenset()  # (scope, key) rows of the data change log


def touched_scopes(changes: ChangeSet, decided: Scope) -> frozenset[tuple[str, str]]:
    """What this write changed, as the data change log records it (obmi.store.tables.data_change):
    an incremental export rewrites exactly these parts."""
    touched = {("indicator", code) for code in decided}
    for flag, scope in ((changes.everything or changes.redecide, "all"), (changes.geography, "geography"),
                        (changes.catalogue, "catalogue"), (changes.other, "other")):
        if flag:
            touched.add((scope, ""))
    return frozenset(touched)


def _derive(conn: Connection, changes: ChangeSet) -> DeriveCounts:
    counts = DeriveCounts()
    if changes.everything or changes.geography:
        counts.add(derive_everything(conn, changes.import_id))
        return counts
    if changes.definitions:
        catalogue = load_catalogue(conn)
        inputs = {ref for code in changes.definitions if code in catalogue for ref in catalogue[code].inputs()}
        periods = periods_with_data(conn, changes.definitions | inputs)
        if periods:
            counts.add(derive(conn, set(changes.definitions), periods, changes.import_id))
    if changes.observations:
        periods = {p for ps in changes.observations.values() for p in ps}
        counts.add(derive(conn, set(changes.observations), periods, changes.import_id))
    return counts


def _scope(changes: ChangeSet, derived: DeriveCounts, everything: list[str], redecide_all: bool) -> Scope:
    if redecide_all or changes.everything or changes.geography:
        return {code: None for code in everything}
    scope: dict[str, set[str] | None] = defaultdict(set)
    for source in (changes.observations, derived.scope):
        for code, periods in source.items():
            if scope[code] is not None:
                scope[code] |= periods  # type: ignore[operator]
    for code in changes.definitions:
        scope[code] = None
    return dict(scope)


def settle(conn: Connection, changes: ChangeSet, *, default_threshold: int) -> Settled:
    derived = _derive(conn, changes)
    state = read_state(conn)
    redecide_all = changes.redecide or (state.default_threshold is not None
                                        and state.default_threshold != default_threshold)
    catalogue = load_catalogue(conn)
    scope = threshold_dependants(catalogue, _scope(changes, derived, sorted(catalogue), redecide_all))
    withheld = released = 0
    for rule in disclosure_rules():
        decision = rule.decide(conn, scope, catalogue, default_threshold)
        withheld, released = withheld + decision.withheld, released + decision.released
    if state.default_threshold != default_threshold:
        conn.execute(update(data_state).where(data_state.c.id == 1).values(default_threshold=default_threshold))
    return Settled(derived.written, withheld, released, touched_scopes(changes, scope))
