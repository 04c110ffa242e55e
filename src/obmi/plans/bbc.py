"""The BBC 2020 classification: beleidsdomeinen (00–09) and the official list of beleidsvelden
(four digits), shipped as data in `data/beleidsvelden.csv` (see docs/plans.md for its source).
A beleidsitem is a beleidsveld refined by the organisation: `0020-00` as finance packages export
it, or five digits (`00200`)."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "beleidsvelden.csv"

BELEIDSDOMEINEN: dict[str, str] = {
    "00": "Algemene financiering",
    "01": "Algemeen bestuur",
    "02": "Zich verplaatsen en mobiliteit",
    "03": "Natuur en milieubeheer",
    "04": "Veiligheidszorg",
    "05": "Ondernemen en werken",
    "06": "Wonen en ruimtelijke ordening",
    "07": "Cultuur en vrije tijd",
    "08": "Leren en onderwijs",
    "09": "Zorg en opvang",
}

_ITEM = re.compile(r"^(\d{4})(?:-(\d{2})|(\d))?$")


@cache
def beleidsvelden() -> dict[str, tuple[str, str]]:
    """beleidsveld code → (beleidsdomein, name)."""
    with open(DATA, encoding="utf-8", newline="") as handle:
        return {row["beleidsveld"]: (row["beleidsdomein"], row["naam"]) for row in csv.DictReader(handle)}


def domain_of(text: str) -> str:
    """A beleidsdomein from '07', '7', '07-cultuur-vrije-tijd' or '07 Cultuur en vrije tijd'."""
    match = re.match(r"^\s*(\d{1,2})(?:\D|$)", text or "")
    if not match:
        raise ValueError(f"{text!r} is not a beleidsdomein (00–09)")
    code = match.group(1).zfill(2)
    if code not in BELEIDSDOMEINEN:
        raise ValueError(f"{text!r} is not a beleidsdomein (00–09)")
    return code


def parse_beleidsitem(text: str) -> tuple[str, str]:
    """(beleidsveld, beleidsitem as given, normalised) of a beleidsveld or beleidsitem code;
    ValueError for a code that is not in the official list of beleidsvelden."""
    value = (text or "").strip()
    match = _ITEM.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a beleidsveld (four digits, e.g. 0200) or beleidsitem "
                         "(e.g. 0020-00 or 00200)")
    veld = match.group(1)
    if veld not in beleidsvelden():
        raise ValueError(f"beleidsveld {veld} is not in the official BBC list of beleidsvelden")
    return veld, value


def check_domain_matches(domain: str | None, beleidsveld: str) -> None:
    expected = beleidsvelden()[beleidsveld][0]
    if domain is not None and domain != expected:
        raise ValueError(f"beleidsveld {beleidsveld} belongs to beleidsdomein {expected}, not {domain}")
