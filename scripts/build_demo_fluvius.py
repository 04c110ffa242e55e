#!/usr/bin/env python3
"""Build the demo's Fluvius data: a compact derivative of the shared Swing upload.

The shared file (`swing/fluvius_verbruik_statsec2019_2018-2021.xlsx`, 40,932 sector rows) is
imported by OBMi itself — the shared geography plus `geo2024/`, the indicator table, the upload —
into a scratch SQLite database. The values OBMi then holds (delivered or computed, before
disclosure control: the demo applies that itself) are written back as a Swing upload for

* every municipality on the 2019–2024 boundaries (`gemeente2024`: the sectors' own
  municipalities; the demo reaches today's municipalities, provinces and regions from there), and
* the wijken on the 2020–2024 sectors (`ggw72024`) of Gent and Antwerpen, as in the demo geography,

for the nine count and consumption indicators and 2018–2021, with Swing's special values where
OBMi has no number (-99999 unknown, -99998 not applicable, -99996 empty). The matching rows of
the indicator table are copied with two added columns, `Threshold indicator` (the connections
behind each consumption and consumption per connection) and `Thema`, and the attribution as
Source (see copy_indicator_table); its four
ratio indicators are computed by the demo.

Usage (from the repository root): python scripts/build_demo_fluvius.py [--shared PATH] [--out DIR]
Prints a JSON summary on stdout. Deterministic: rebuilding gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl
from sqlalchemy import select

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from build_demo_geo import save_deterministic  # noqa: E402  (the same byte-stable workbooks)

from obmi import operations as ops  # noqa: E402
from obmi.context import system_context  # noqa: E402
from obmi.settings import Settings  # noqa: E402
from obmi.store import open_database  # noqa: E402
from obmi.store.tables import area, observation  # noqa: E402

UPLOAD = "swing/fluvius_verbruik_statsec2019_2018-2021.xlsx"
INDICATOR_TABLE = "swing/fluvius_indicators.xlsx"
OUT_UPLOAD = "fluvius_swing.csv"
OUT_INDICATORS = "fluvius_indicators.xlsx"
DEMO_GEO = REPO_ROOT / "src/obmi/demo_data/geo"
# consumption (and consumption per connection) → the connections it is about
THRESHOLD_OF = {f"{p}2506_{kind}_{c}": f"v2506_{kind}_n"
                for kind in ("elek_res", "elek_nietres", "gas_res", "gas_nietres")
                for p, c in (("v", "cons"), ("vp", "n"))}
THEME = "energie"
ATTRIBUTION = "Fluvius open data (verbruiksgegevens per statistische sector), verwerking Provincies in Cijfers"
SPECIAL = {"missing": -99999, "not_applicable": -99998, "empty": -99996, "suppressed": -99997}


def _codes(path: Path) -> list[str]:
    """The area codes of an area definition file (column "geoitem code")."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        column = [str(h).strip().lower() for h in next(rows)].index("geoitem code")
        return [str(r[column]) for r in rows]
    finally:
        wb.close()


def demo_wijken() -> set[str]:
    return set(_codes(DEMO_GEO / "area_definitions/ggw72024.xlsx"))


def import_shared(shared: Path, database: Path):
    settings = Settings(environment="development")
    ctx = system_context(open_database(f"sqlite:///{database}"), settings, "build_demo_fluvius")
    ops.upgrade_database(ctx)
    ops.import_geography(ctx, shared / "geo")
    ops.import_geography(ctx, shared / "geo2024")
    ops.import_catalogue(ctx, shared / INDICATOR_TABLE)
    result = ops.import_swing(ctx, shared / UPLOAD)
    if result.status != "ok":
        raise SystemExit(f"import of {UPLOAD} failed: {result.status}")
    return ctx


def count_codes(shared: Path) -> list[str]:
    """The indicator columns of the upload, in file order (the ratio indicators are computed)."""
    wb = openpyxl.load_workbook(shared / UPLOAD, read_only=True)
    try:
        header = next(wb.worksheets[0].iter_rows(max_row=1, values_only=True))
    finally:
        wb.close()
    return [str(h) for h in header if str(h) not in ("geoitem", "period", "geolevel")]


def values_at(ctx, codes: list[str], wijken: set[str]) -> dict[tuple[str, str, str], dict[str, object]]:
    """{(period, level, code): {indicator: value or special value}} before disclosure control."""
    query = (select(area.c.level, area.c.code, observation.c.period, observation.c.indicator,
                    observation.c.value, observation.c.status)
             .join(area, area.c.id == observation.c.area_id)
             .where(observation.c.indicator.in_(codes), area.c.level.in_(("gemeente2024", "ggw72024"))))
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    with ctx.db.unguarded_engine.connect() as conn:  # a build step reading raw values, not the product
        for level, code, period, indicator, value, status in conn.execute(query):
            if level == "ggw72024" and code not in wijken:
                continue
            rows.setdefault((period, level, code), {})[indicator] = SPECIAL[status] if value is None else _cell(value)
    return rows


def _cell(value: float) -> int | float:
    """Whole numbers as such; amounts to the source's two decimals (sums carry float noise)."""
    return int(value) if float(value).is_integer() else round(value, 2)


def unknown_municipalities(shared: Path, rows, codes: list[str]) -> int:
    """A municipality of the upload without a value had a sector saying -99999 (unknown): its
    total is unknown, and the derivative says so rather than leave it out."""
    wb = openpyxl.load_workbook(shared / UPLOAD, read_only=True)
    try:
        seen = {(str(int(r[1])), str(r[0])[:5]) for ws in wb.worksheets
                for r in ws.iter_rows(min_row=2, max_col=2, values_only=True) if r[0] is not None}
    finally:
        wb.close()
    known = set(_codes(DEMO_GEO / "area_definitions/gemeente2024.xlsx"))
    added = 0
    for period, nis in sorted(seen):
        if nis not in known:  # a sector code keeps the NIS code of before the 2019 mergers
            continue
        values = rows.setdefault((period, "gemeente2024", nis), {})
        for code in codes:
            if code not in values:
                values[code] = SPECIAL["missing"]
                added += 1
    return added


def write_upload(path: Path, codes: list[str], rows) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "geolevel", "geoitem", *codes])
    for (period, level, code) in sorted(rows):
        values = rows[(period, level, code)]
        writer.writerow([period, level, code, *(values.get(c, SPECIAL["empty"]) for c in codes)])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def copy_indicator_table(shared: Path, path: Path) -> list[str]:
    """The indicator table as it is, plus the columns a careful city adds before publishing:
    `Threshold indicator`, so a consumption or a consumption per connection is withheld where
    the connections it is about are fewer than the threshold (a few firms' meters), and
    `Thema`, so the indicators appear under a theme on the site; and the Source code
    (`fluvius_opendata`) becomes the attribution the data asks for, shown with every figure."""
    wb = openpyxl.load_workbook(shared / INDICATOR_TABLE)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    column = len(header) + 1
    ws.cell(1, column, "Threshold indicator")
    ws.cell(1, column + 1, "Thema")  # OBMi's theme (Swing files indicators in folders instead)
    source = header.index("Source") + 1
    protected = []
    for row in ws.iter_rows(min_row=2):
        code = str(row[0].value)
        counts = THRESHOLD_OF.get(code)
        if counts:
            ws.cell(row[0].row, column, counts)
            protected.append(code)
        ws.cell(row[0].row, column + 1, THEME)
        ws.cell(row[0].row, source, ATTRIBUTION)  # the attribution the source asks for, not a code
    save_deterministic(wb, path, datetime(2025, 1, 1))
    return protected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO_ROOT / "src/obmi/demo_data"))
    args = parser.parse_args(argv)
    shared, out = Path(args.shared).resolve(), Path(args.out).resolve()
    codes = count_codes(shared)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = import_shared(shared, Path(tmp) / "fluvius.db")
        rows = values_at(ctx, codes, demo_wijken())
        ctx.db.dispose()
    unknown = unknown_municipalities(shared, rows, codes)
    written = write_upload(out / OUT_UPLOAD, codes, rows)
    protected = copy_indicator_table(shared, out / OUT_INDICATORS)
    levels: dict[str, int] = {}
    for _, level, _ in rows:
        levels[level] = levels.get(level, 0) + 1
    special = sum(1 for v in rows.values() for x in v.values() if isinstance(x, int) and x <= -99996)
    json.dump({"out": str(out / OUT_UPLOAD), "file_rows": written, "indicators": codes, "rows_per_level": levels,
               "special_values": special, "unknown_municipality_values": unknown,
               "threshold_indicator_added": protected, "bytes": (out / OUT_UPLOAD).stat().st_size}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
