"""Licences by name: the indicator catalogue states a licence the way a source does ("Statbel
open data"), while DCAT and Data Packages want the licence's own IRI. One table, so that every
format names the same document for the same words.

Each IRI is the licence publisher's own: the Flemish government's licence register
(data.vlaanderen.be/id/licentie) for the Flemish model licences, Statbel's licence page for its
open-data licence, Creative Commons for CC BY. A licence that is not listed keeps its words and
the catalogue's default IRI (`OBMI_CATALOG_LICENCE`) — the catalogue says so with a rights
statement instead of inventing an IRI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Licence:
    iri: str
    title: str


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_VLAANDEREN = "https://data.vlaanderen.be/id/licentie/"
_KNOWN = {
    "statbel open data": Licence("https://statbel.fgov.be/en/statistics/opendata/licence",
                                 "Statbel open-data licence"),
    "modellicentie gratis hergebruik v1 0": Licence(f"{_VLAANDEREN}modellicentie-gratis-hergebruik/v1.0",
                                                    "Modellicentie Gratis Hergebruik v1.0"),
    "cc0": Licence(f"{_VLAANDEREN}creative-commons-zero-verklaring/v1.0", "Creative Commons Zero"),
    "cc by 4 0": Licence("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"),
}


def known_licence(text: str) -> Optional[Licence]:
    """The licence named by `text` (an IRI is taken as it is), or None when it is not known."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        return Licence(text, text)
    return _KNOWN.get(_key(text))
