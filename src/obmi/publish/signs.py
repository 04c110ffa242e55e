"""How a figure without a number is shown, and where a figure comes from, in words — one table
for every channel (web pages and their tooltips, CSV/XLSX/JSON downloads, the PDF fact sheet).

Swing/Statbel conventions: a cell without a number shows a sign, and a legend says what the sign
means. The sign is never a number, so a suppressed cell can never be read as a value.

    x       onderdrukt            suppressed        (Swing -99997, or OBMi's disclosure control)
    n.v.t.  niet van toepassing   not applicable    (-99998; English "n/a")
    ?       onbekend              unknown           (-99999: should have a value, has none)
    –       geen gegevens         no data           (-99996: as if nothing was loaded)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from obmi.indicators.observation import NO_VALUE_STATUSES, Origin, Status


@dataclass(frozen=True)
class Sign:
    status: str
    symbol_nl: str
    symbol_en: str
    label_nl: str
    label_en: str

    def symbol(self, lang: str) -> str:
        return self.symbol_en if lang == "en" else self.symbol_nl

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_nl


# In the order a legend lists them.
SIGNS: dict[str, Sign] = {s.status: s for s in (
    Sign(Status.SUPPRESSED, "x", "x", "onderdrukt", "suppressed"),
    Sign(Status.NOT_APPLICABLE, "n.v.t.", "n/a", "niet van toepassing", "not applicable"),
    Sign(Status.MISSING, "?", "?", "onbekend", "unknown"),
    Sign(Status.EMPTY, "–", "–", "geen gegevens", "no data"),
)}
assert set(SIGNS) == NO_VALUE_STATUSES  # every status without a value has its sign

# Statuses of a figure that has a number: a word next to it (final needs none).
VALUE_WORDS: dict[str, tuple[str, str]] = {
    Status.FINAL: ("", ""), Status.PROVISIONAL: ("voorlopig", "provisional"),
    Status.ESTIMATED: ("schatting", "estimate"),
}


def shown_status(value: float | None, status: str | None) -> str | None:
    """The status whose sign a cell shows, or None when it shows its number. As the query layer
    says: an area without an observation reads "missing" (unknown) — derivation stores nothing
    for a total that a withheld or unknown part makes unknown, so "no observation" cannot be told
    apart from "unknown" and must not claim "no data". "–" (empty) is what was loaded or
    computed as empty. A status without a sign (or an absent point, None) shows as unknown."""
    if value is not None:
        return None
    return status if status in SIGNS else Status.MISSING


def sign_of(value: float | None, status: str | None) -> Sign | None:
    shown = shown_status(value, status)
    return SIGNS[shown] if shown is not None else None


def status_word(value: float | None, status: str | None, lang: str) -> str:
    """The readable word for a cell's status ("onderdrukt", "voorlopig", "" for a final value)."""
    sign = sign_of(value, status)
    if sign is not None:
        return sign.label(lang)
    nl, en = VALUE_WORDS.get(status or "", (status or "", status or ""))
    return en if lang == "en" else nl


def used_signs(statuses: Any) -> list[Sign]:
    """The signs of `statuses` (shown statuses, None for numbers), once each, in legend order."""
    present = set(statuses)
    return [sign for status, sign in SIGNS.items() if status in present]


# --- where a value comes from ------------------------------------------------------------------

@dataclass(frozen=True)
class OriginWords:
    origin: str
    marker: str  # compact, the same in both languages
    label_nl: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_nl


ORIGINS: dict[str, OriginWords] = {o.origin: o for o in (
    OriginWords(Origin.SOURCE, "●", "door de bron geleverd", "delivered by the source"),
    OriginWords(Origin.AGGREGATED, "Σ", "berekend uit de onderliggende gebieden", "computed from the areas below"),
    OriginWords(Origin.REEXPRESSED, "↻", "omgerekend naar de huidige indeling",
                "re-expressed on the current boundaries"),
    OriginWords(Origin.DERIVED, "ƒ", "berekend uit andere indicatoren", "computed from other indicators"),
)}


def origin_word(origin: str | None, lang: str) -> str:
    """The words for an observation's origin; "" for an area without an observation."""
    words = ORIGINS.get(origin or "")
    return words.label(lang) if words else ""
