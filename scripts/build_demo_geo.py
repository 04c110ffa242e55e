#!/usr/bin/env python3
"""Build OBMi's bundled demo geography: a compact subset of the shared `geo/` folder.

The subset is laid out exactly like the source (area_definitions/, aggregation_tables/,
shapefiles/ with the same file names, sheets, headers, column order and cell types), so the
importer reads it with the same code it uses for the full folder. Content:

* every area level except wijken in full (gemeente, gemeente2024, gemeente2018,
  deelgemeente2024, arrondiss, provincie, gewest) and their aggregation tables;
* wijken (`ggw7`) only for Gent (44021) and Antwerpen (11002), membership taken from
  `aggregation_tables/ggw7_gemeente.xlsx` (not from the code prefix: Antwerpen's 2025 territory
  includes the former Borsbeek wijken 11007A01-A03);
* shapefiles gemeente, arrondiss, provincie, gewest as they are, ggw7 rewritten with pyshp;
* from `geo2024/`: the wijken on the 2020–2024 sectors (`ggw72024`) of the same two cities
  (membership through `statsec2024_gemeente.xlsx`, so Antwerpen again includes Borsbeek's),
  their shapes, and a table `ggw72024_gemeente2024` derived from the two sector tables
  (`statsec2024_ggw72024` + `statsec2024_gemeente2024`: every sector of a wijk lies in one
  municipality; checked). Data delivered on the 2019 or 2024 sectors (the Fluvius demo data)
  reaches wijken on this level; the 2025 wijken (`ggw7`) are built on other sectors.

Unchanged files are copied byte for byte; rewritten files are deterministic (fixed zip
timestamps, the source's document and dBase dates), so rebuilding does not churn git.

Usage (from the repository root):  python scripts/build_demo_geo.py [--shared PATH] [--out PATH]
Prints a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import shapefile

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = "../shared/data"
DEFAULT_OUT = "src/obmi/demo_data/geo"

# Municipalities whose wijken are kept (2025 codes, as in ggw7_gemeente.xlsx).
WIJK_MUNICIPALITIES = {"44021": "Gent", "11002": "Antwerpen"}

AREA_DEFINITIONS_FULL = ("gemeente", "gemeente2024", "gemeente2018", "deelgemeente2024",
                         "arrondiss", "provincie", "gewest")
AGGREGATION_TABLES_FULL = ("gemeente2024_gemeente", "deelgemeente2024_gemeente2018",
                           "deelgemeente2024_gemeente2024", "gemeente_arrondiss",
                           "gemeente_provincie", "arrondiss_provincie", "provincie_gewest",
                           "gewest_belgie")
SHAPEFILES_FULL = ("gemeente", "arrondiss", "provincie", "gewest")
WIJK2024 = "ggw72024"
WIJK2024_TABLE = "ggw72024_gemeente2024"
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
LICENCE_FILES = ("LICENSE-wijken-modellicentie-gratis-hergebruik.md",)
MARKER = "scripts/build_demo_geo.py"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

ATTRIBUTION = """\
# Bundled demo geography — sources and licences

This folder is a compact subset of the Flemish and Brussels area levels (state of 2025). It was
derived by `scripts/build_demo_geo.py` from the shared development data (`geo/`), which is an
unchanged copy of the files published by **Provincies in Cijfers** (Data & Analyse van de
Vlaamse provincies), repository
[provinciesincijfers/gebiedsniveaus](https://github.com/provinciesincijfers/gebiedsniveaus),
built from the statistical sectors of **Statbel** (Belgian statistical office).

## What the subset holds

- `area_definitions/`: gemeente, gemeente2024, gemeente2018, deelgemeente2024, arrondiss,
  provincie, gewest (all rows, unchanged); ggw7 restricted to the wijken of Gent (44021) and
  Antwerpen (11002), membership per `aggregation_tables/ggw7_gemeente.xlsx`.
- `aggregation_tables/`: gemeente2024_gemeente, deelgemeente2024_gemeente2018,
  deelgemeente2024_gemeente2024, gemeente_arrondiss, gemeente_provincie, arrondiss_provincie,
  provincie_gewest, gewest_belgie (all rows, unchanged); ggw7_gemeente (Gent and Antwerpen rows).
- `shapefiles/`: gemeente, arrondiss, provincie, gewest (unchanged, Belgian Lambert 72,
  EPSG:31370); ggw7 rewritten with only the Gent and Antwerpen wijken (same fields, .prj, .cpg).
- From `geo2024/` (same source and licence): `area_definitions/ggw72024.xlsx` and
  `shapefiles/ggw72024.*`, the wijken on the 2020–2024 statistical sectors of Gent and Antwerpen
  (incl. the former Borsbeek); `aggregation_tables/ggw72024_gemeente2024.xlsx`, the one table
  not in the source: derived by joining `statsec2024_ggw72024` and `statsec2024_gemeente2024`.

Rows were only selected, never edited. Files not listed above were left out.

## Licences and required attribution

- **Wijken (ggw7)** and the area files of Provincies in Cijfers: *Modellicentie Gratis Hergebruik
  v1.0* (Flemish model licence for free reuse; text in
  `LICENSE-wijken-modellicentie-gratis-hergebruik.md` next to this file). Required attribution:

  > Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse van de
  > Vlaamse provincies

  (link: https://github.com/provinciesincijfers/gebiedsniveaus/blob/master/gemeente_statsec_wijken/readme.md)

- **Statistical sectors and administrative boundaries** (Statbel): *Statbel open-data licence* —
  reuse allowed, cite "Statbel" as the source together with the date of the data.

When OBMi shows maps or figures built on these areas, it must show the attribution above.
"""


# --------------------------------------------------------------------------- helpers

def _code(raw: object) -> str | None:
    """Text form of an area code (11002 and 11002.0 and '11002' → '11002')."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    return text or None


def _repo_path(value: str, default: str) -> Path:
    """Defaults are relative to the repository root; paths given by the user to the cwd."""
    if value == default:
        return (REPO_ROOT / default).resolve()
    return Path(value).resolve()


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)  # bytes only, not the source's read-only mode


def _xlsx_rows(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    finally:
        wb.close()


def save_deterministic(wb: openpyxl.Workbook, dst: Path, modified) -> None:
    """Save a workbook with the given document date and fixed zip timestamps."""
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.modified = modified
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # unlike save_workbook, keeps properties.modified
    raw.seek(0)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            out.writestr(fixed, src.read(info.filename))


def _filter_xlsx(src: Path, dst: Path, keep) -> int:
    """Copy a one-sheet workbook keeping the header and the data rows where keep(row) is true.

    The source workbook is loaded and only its data rows replaced, so the sheet name, header
    cells (with their style), column widths and cell types stay as in the source.
    """
    wb = openpyxl.load_workbook(src)
    if len(wb.worksheets) != 1:
        raise SystemExit(f"{src}: expected one sheet, found {wb.sheetnames}")
    ws = wb.worksheets[0]
    kept = [row for row in ws.iter_rows(min_row=2, values_only=True) if keep(row)]
    if ws.max_row > 1:
        ws.delete_rows(2, ws.max_row - 1)
    for row in kept:
        ws.append(row)
    save_deterministic(wb, dst, wb.properties.modified)
    return len(kept)


def _filter_shapefile(src_base: Path, dst_base: Path, keep_codes: set[str]) -> dict[str, int]:
    """Rewrite a polygon shapefile with the records whose `geoitem` is in keep_codes."""
    cpg = src_base.with_suffix(".cpg")
    encoding = cpg.read_text().strip() if cpg.exists() else "latin-1"
    dst_base.parent.mkdir(parents=True, exist_ok=True)
    kept = 0
    with shapefile.Reader(str(src_base), encoding=encoding) as reader:
        fields = reader.fields[1:]  # without DeletionFlag
        names = [f[0] for f in fields]
        code_i = names.index("geoitem")
        with shapefile.Writer(str(dst_base), shapeType=reader.shapeType,
                              encoding=encoding) as writer:
            for f in fields:
                writer.field(f[0], f[1], f[2], f[3])
            for rec in reader.iterShapeRecords():
                if _code(rec.record[code_i]) in keep_codes:
                    writer.shape(rec.shape)
                    writer.record(*rec.record)
                    kept += 1
    # pyshp stamps today's date in the dBase header (bytes 1-3); keep the source's date instead.
    src_dbf = src_base.with_suffix(".dbf").read_bytes()
    dst_dbf = dst_base.with_suffix(".dbf")
    data = bytearray(dst_dbf.read_bytes())
    data[1:4] = src_dbf[1:4]
    dst_dbf.write_bytes(bytes(data))
    for ext in (".prj", ".cpg"):
        if src_base.with_suffix(ext).exists():
            _copy(src_base.with_suffix(ext), dst_base.with_suffix(ext))
    return {"records": kept}


def _check_xlsx_like_source(src: Path, dst: Path) -> None:
    """The subset must have the source's sheet name, header and per-column cell types."""
    def profile(path: Path):
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            ws = wb.worksheets[0]
            rows = ws.iter_rows(values_only=True)
            header = next(rows)
            types = [set() for _ in header]
            for row in rows:
                for i, value in enumerate(row):
                    types[i].add(type(value).__name__)
            return wb.sheetnames, header, types
        finally:
            wb.close()

    s_names, s_header, s_types = profile(src)
    d_names, d_header, d_types = profile(dst)
    if s_names != d_names or s_header != d_header:
        raise SystemExit(f"{dst}: sheet/header differ from {src}")
    for col, (s, d) in enumerate(zip(s_types, d_types)):
        if not d <= s:
            raise SystemExit(f"{dst}: column {s_header[col]!r} has types {d}, source {s}")


# --------------------------------------------------------------------------- build

def build(shared: Path, out_dir: Path) -> dict:
    geo = shared / "geo"
    if not geo.is_dir():
        raise SystemExit(f"no geo folder in {shared}")
    files: list[dict] = []

    def record(path: Path, mode: str, rows: int | None = None) -> None:
        entry = {"path": path.relative_to(out_dir).as_posix(), "mode": mode,
                 "bytes": path.stat().st_size}
        if rows is not None:
            entry["rows"] = rows
        files.append(entry)

    # Wijk membership from the aggregation table, not from code prefixes.
    src_ggw7_gem = geo / "aggregation_tables" / "ggw7_gemeente.xlsx"
    wb = openpyxl.load_workbook(src_ggw7_gem, read_only=True)
    header = None
    membership: dict[str, str] = {}
    for row in wb.worksheets[0].iter_rows(values_only=True):
        if header is None:
            header = [str(h).strip().lower() for h in row]
            wijk_i, gem_i = header.index("ggw7"), header.index("gemeente")
            continue
        gem = _code(row[gem_i])
        if gem in WIJK_MUNICIPALITIES:
            membership[_code(row[wijk_i])] = gem
    wb.close()
    keep = set(membership)

    # area_definitions
    for level in AREA_DEFINITIONS_FULL:
        src = geo / "area_definitions" / f"{level}.xlsx"
        dst = out_dir / "area_definitions" / src.name
        _copy(src, dst)
        record(dst, "copied", _xlsx_rows(dst))
    src = geo / "area_definitions" / "ggw7.xlsx"
    dst = out_dir / "area_definitions" / src.name
    rows = _filter_xlsx(src, dst, lambda r: _code(r[1]) in keep)  # column B: geoitem code
    _check_xlsx_like_source(src, dst)
    record(dst, "filtered", rows)

    # aggregation_tables
    for name in AGGREGATION_TABLES_FULL:
        src = geo / "aggregation_tables" / f"{name}.xlsx"
        dst = out_dir / "aggregation_tables" / src.name
        _copy(src, dst)
        record(dst, "copied", _xlsx_rows(dst))
    dst = out_dir / "aggregation_tables" / src_ggw7_gem.name
    rows = _filter_xlsx(src_ggw7_gem, dst, lambda r: _code(r[gem_i]) in WIJK_MUNICIPALITIES)
    _check_xlsx_like_source(src_ggw7_gem, dst)
    record(dst, "filtered", rows)

    # shapefiles
    shp_dir = geo / "shapefiles"
    for layer in SHAPEFILES_FULL:
        n = len(shapefile.Reader(str(shp_dir / layer)))
        for ext in SHAPEFILE_PARTS:
            src = shp_dir / f"{layer}{ext}"
            if src.exists():
                dst = out_dir / "shapefiles" / src.name
                _copy(src, dst)
                record(dst, "copied", n if ext in (".shp", ".dbf") else None)
    info = _filter_shapefile(shp_dir / "ggw7", out_dir / "shapefiles" / "ggw7", keep)
    for ext in SHAPEFILE_PARTS:
        dst = out_dir / "shapefiles" / f"ggw7{ext}"
        if dst.exists():
            mode = "copied" if ext in (".prj", ".cpg") else "filtered"
            record(dst, mode, info["records"] if ext in (".shp", ".dbf") else None)

    wijken2024 = _add_wijken2024(shared / "geo2024", out_dir, record)

    # licence text and attribution
    for name in LICENCE_FILES:
        if (geo / name).exists():
            _copy(geo / name, out_dir / name)
            record(out_dir / name, "copied")
    (out_dir / "ATTRIBUTION.md").write_text(ATTRIBUTION, encoding="utf-8")
    record(out_dir / "ATTRIBUTION.md", "written")

    # wijken per municipality as they ended up in the shapefile
    per_municipality = {name: 0 for name in WIJK_MUNICIPALITIES.values()}
    with shapefile.Reader(str(out_dir / "shapefiles" / "ggw7"), encoding="utf-8") as reader:
        for rec in reader.iterRecords():
            per_municipality[WIJK_MUNICIPALITIES[membership[_code(rec["geoitem"])]]] += 1
    per_table = {name: sum(1 for g in membership.values() if g == code)
                 for code, name in WIJK_MUNICIPALITIES.items()}

    return {"files": files, "file_count": len(files),
            "total_bytes": sum(f["bytes"] for f in files),
            "ggw7_shapefile_wijken": per_municipality,
            "ggw7_gemeente_rows": per_table, "ggw72024_wijken": wijken2024}


def _sheet_rows(path: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
    finally:
        wb.close()


def _add_wijken2024(geo2024: Path, out_dir: Path, record) -> dict[str, int]:
    """The wijken on the 2024 sectors of the demo cities, their shapes and their municipality."""
    tables = geo2024 / "aggregation_tables"
    city_of = {_code(s): _code(g) for s, g in _sheet_rows(tables / "statsec2024_gemeente.xlsx")}
    old_municipality = {_code(s): _code(g) for s, g in _sheet_rows(tables / "statsec2024_gemeente2024.xlsx")}
    municipality: dict[str, set[str]] = {}
    cities: dict[str, set[str]] = {}
    for sector, wijk in _sheet_rows(tables / "statsec2024_ggw72024.xlsx"):
        sector, wijk = _code(sector), _code(wijk)
        municipality.setdefault(wijk, set()).add(old_municipality[sector])
        cities.setdefault(wijk, set()).add(city_of[sector])
    keep = {w for w, c in cities.items() if c & set(WIJK_MUNICIPALITIES)}
    mixed = sorted(w for w in keep if len(municipality[w]) != 1)
    if mixed:
        raise SystemExit(f"wijken over several municipalities: {mixed}")

    src = geo2024 / "area_definitions" / f"{WIJK2024}.xlsx"
    dst = out_dir / "area_definitions" / src.name
    record(dst, "filtered", _filter_xlsx(src, dst, lambda r: _code(r[0]) in keep))
    _check_xlsx_like_source(src, dst)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append([WIJK2024, "gemeente2024"])
    for wijk in sorted(keep):
        ws.append([wijk, next(iter(municipality[wijk]))])
    dst = out_dir / "aggregation_tables" / f"{WIJK2024_TABLE}.xlsx"
    save_deterministic(wb, dst, datetime(2025, 1, 1))
    record(dst, "derived", len(keep))

    info = _filter_shapefile(geo2024 / "shapefiles" / WIJK2024, out_dir / "shapefiles" / WIJK2024, keep)
    for ext in SHAPEFILE_PARTS:
        dst = out_dir / "shapefiles" / f"{WIJK2024}{ext}"
        if dst.exists():
            mode = "copied" if ext in (".prj", ".cpg") else "filtered"
            record(dst, mode, info["records"] if ext in (".shp", ".dbf") else None)
    return {name: sum(1 for w in keep if code in cities[w]) for code, name in WIJK_MUNICIPALITIES.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=DEFAULT_SHARED,
                        help=f"shared data folder holding geo/ (default: {DEFAULT_SHARED} "
                             "relative to the repository root)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT} relative to the repository "
                             "root); replaced if it holds an earlier build")
    args = parser.parse_args(argv)
    shared = _repo_path(args.shared, DEFAULT_SHARED)
    out_dir = _repo_path(args.out, DEFAULT_OUT)

    if out_dir.exists() and any(out_dir.iterdir()):
        attribution = out_dir / "ATTRIBUTION.md"
        if not (attribution.exists() and MARKER in attribution.read_text(encoding="utf-8")):
            parser.error(f"{out_dir} exists and is not an earlier build; refusing to replace it")

    # Build next to the target, then swap, so a failed run leaves the old build in place.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build_demo_geo-", dir=out_dir.parent))
    try:
        summary = build(shared, tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
        out_dir.chmod(0o755)  # mkdtemp creates 0700
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = {"out": str(out_dir), **summary}
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
