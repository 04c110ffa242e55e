#!/usr/bin/env python3
"""Build the demo's plan (src/obmi/demo_data/plan_demo.csv): the SHAPE of a real BBC 2020
meerjarenplan with FICTIONAL titles and FICTIONAL amounts.

The real plans in ../shared/data/plans/*.json carry no licence, so none of their text or amounts
may ship. What is taken from the source file (by default Mechelen's 12025.json) is only its
structure: how many beleidsdoelstellingen there are, how many actieplannen each has, how many
acties each actieplan has (in file order) and the beleidsdomein of each actie (its first
category). Everything else is made up here:

  * codes are new and hierarchical (BD03, AP03.2, AC03.2.1, PR03.2.1.1, RW00), never the
    source's (which look like BD000007, AP000026, AC000496);
  * every title is "[fictief] <kind> <number> — <beleidsdomein name>" — the name of the BBC
    beleidsdomein (a public classification), never the source's title text; every description
    says the item is fictional. The beleidsdomein of an actie is its source category; a
    beleidsdoelstelling gets the most frequent one of its acties, an actieplan that of its first
    actie (the source gives none for these two, so the college dashboard could not group them);
  * amounts are deterministic, round (multiples of € 5 000) and FICTIONAL: a function of the
    item's position only, nothing to do with the source's amounts;
  * a few projects under acties, one reguliere werking and priority flags on some acties are
    added (the source has none of these).

The output uses the documented plan-table layout (obmi.plans.readers: type, code, parent,
title_short, title_long, description, beleidsdomein, beleidsveld, priority, owner, department,
mandataris, start, end, tags and one column per year). Owners, departments and mandatarissen are
assigned by obmi.demo through the operations, so they are left empty here.

Usage (from the repository root): python scripts/build_demo_plan.py [--source FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

from obmi.plans.bbc import BELEIDSDOMEINEN, domain_of

REPO_ROOT = Path(__file__).resolve().parents[1]
YEARS = range(2026, 2032)  # the meerjarenplan 2026–2031
COLUMNS = ["type", "code", "parent", "title_short", "title_long", "description", "beleidsdomein", "beleidsveld",
           "priority", "owner", "department", "mandataris", "start", "end", "tags", *map(str, YEARS)]
FICTION = ("Fictief voorbeeld voor de OBMi-demo: geen echte beleidstekst en fictieve bedragen "
           "(scripts/build_demo_plan.py).")
# Projects added under some acties (1-based position of the actie in the file) and what they do.
PROJECTS = ((1, "Ontwerp en studie"), (4, "Aanbesteding en bouw"), (9, "Digitaal loket"), (15, "Renovatie"),
            (22, "Participatietraject"))
PRIORITY_EVERY = 5  # every fifth actie is a priority


def structure(records: list[dict]) -> list[tuple[str, list[list[str]]]]:
    """[(bd code, [[domain of each actie] per actieplan])] in file order — the shape, no text."""
    shape: dict[str, dict[str, list[str]]] = {}
    for record in records:
        categories = record.get("categories") or []
        domain = domain_of(str(categories[0])) if categories else "00"
        shape.setdefault(record["bd_code"], {}).setdefault(record["ap_code"], []).append(domain)
    return [(bd, list(aps.values())) for bd, aps in shape.items()]


def amount(position: int, year: int, scale: int) -> int:
    """A fictional, round, deterministic yearly amount (multiples of € 5 000)."""
    base = ((position * 37) % 11 + 2) * scale
    profile = (1.0, 1.2, 1.4, 1.3, 1.1, 0.8)[year - YEARS.start]
    return int(round(base * profile / 5_000) * 5_000)


def rows_of(shape: list[tuple[str, list[list[str]]]]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    actie_no = 0

    def row(kind: str, code: str, parent: str, title: str, domain: str | None = None, **extra: str) -> dict[str, str]:
        out = dict.fromkeys(COLUMNS, "")
        out.update(type=kind, code=code, parent=parent, title_short=title, description=FICTION,
                   title_long=f"{title} (fictieve omschrijving)", beleidsdomein=domain or "", **extra)
        rows.append(out)
        return out

    row("reguliere_werking", "RW00", "", "[fictief] Reguliere werking — Algemene financiering", "00",
        **{str(y): str(amount(99, y, 400_000)) for y in YEARS})
    for bd_no, (_, actieplannen) in enumerate(shape, start=1):
        domains = [d for ap in actieplannen for d in ap]
        main = Counter(domains).most_common(1)[0][0]
        bd_code = f"BD{bd_no:02d}"
        row("beleidsdoelstelling", bd_code, "", f"[fictief] Doelstelling {bd_no} — {BELEIDSDOMEINEN[main]}", main)
        for ap_in_bd, acties in enumerate(actieplannen, start=1):
            ap_code = f"AP{bd_no:02d}.{ap_in_bd}"
            row("actieplan", ap_code, bd_code,
                f"[fictief] Actieplan {bd_no}.{ap_in_bd} — {BELEIDSDOMEINEN[acties[0]]}", acties[0])
            for ac_in_ap, domain in enumerate(acties, start=1):
                actie_no += 1
                number = f"{bd_no}.{ap_in_bd}.{ac_in_ap}"
                ac_code = f"AC{bd_no:02d}.{ap_in_bd}.{ac_in_ap}"
                row("actie", ac_code, ap_code, f"[fictief] Actie {number} — {BELEIDSDOMEINEN[domain]}", domain,
                    priority="ja" if actie_no % PRIORITY_EVERY == 1 else "",
                    **{str(y): str(amount(actie_no, y, 50_000)) for y in YEARS})
                for k, (at, what) in enumerate(PROJECTS, start=1):
                    if at == actie_no:
                        row("project", f"PR{bd_no:02d}.{ap_in_bd}.{ac_in_ap}.1", ac_code,
                            f"[fictief] Project {number}.1 — {what}", domain,
                            start=f"2026-0{1 + k % 3}-01", end=f"{2027 + k % 3}-12-31",
                            tags="demo;fictief", **{str(y): str(amount(200 + k, y, 20_000)) for y in YEARS[:3]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "plans" / "12025.json")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "src/obmi/demo_data/plan_demo.csv")
    args = parser.parse_args()
    shape = structure(json.loads(args.source.read_text(encoding="utf-8")))
    rows = rows_of(shape)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    counts = Counter(r["type"] for r in rows)
    print(json.dumps({"file": str(args.out), "rows": len(rows), "kinds": counts,
                      "shape": [[len(a) for a in aps] for _, aps in shape]}))


if __name__ == "__main__":
    main()
