"""`obmi import geo DIR`: a folder laid out like ../shared/data/geo (Swing-style).

    area_definitions/<level>.xlsx          code and name per area
    aggregation_tables/<child>_<parent>.xlsx  which area lies in which (or: old version → new)
    shapefiles/<level>.shp (+ .dbf .prj …)  polygons, Belgian Lambert 72

The real files are messy; everything handled is reported as a note, never silently:
numeric vs text codes, blank cells, areas without geometry, shapes without a definition,
codes in aggregation tables that no definition knows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.orm import aliased

from obmi.errors import ImportRejected, ValidationError
from obmi.geo import geometry
from obmi.geo.codes import is_unknown_area, normalise_code
from obmi.geo.levels import BELGIAN_REGIONS, BELGIUM, BUILTIN_BY_CODE, LevelDef, canonical_level, user_level
from obmi.imports.readers import reader_for
from obmi.imports.runs import ImportResult, ImportStats, WriteUnit, file_sha256, run_import
from obmi.imports.sheets import read_xlsx
from obmi.store.tables import area, area_geometry, area_level, area_link

LinkKey = tuple[str, str, str]  # (child level, parent level, relation)


@dataclass
class GeoBundle:
    areas: dict[tuple[str, str], dict] = field(default_factory=dict)
    links: dict[LinkKey, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    levels: set[str] = field(default_factory=set)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_in: int = 0


def level_def(code: str) -> LevelDef:
    return BUILTIN_BY_CODE.get(code) or user_level(code)


def _examples(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f", … ({len(items)} in all)" if len(items) > n else "")


def _column(header: list[str], *candidates: str) -> int | None:
    lowered = [h.lower() for h in header]
    for candidate in candidates:
        if candidate in lowered:
            return lowered.index(candidate)
    return None


def parse_definitions(path: Path, bundle: GeoBundle) -> None:
    level = canonical_level(path.stem)
    header, rows = read_xlsx(path)
    code_i = _column(header, "geoitem code", "geoitem", "code")
    name_i = _column(header, "name", "naam")
    short_i = _column(header, "short name", "korte naam")
    if code_i is None or name_i is None:
        raise ValidationError(f"{path.name}: needs columns 'geoitem code' and 'name', found {header}")
    bundle.levels.add(level)
    numeric = 0
    for line, row in rows:
        bundle.rows_in += 1
        raw = row[code_i]
        numeric += isinstance(raw, (int, float))
        try:
            code = normalise_code(raw)
        except ValueError as exc:
            bundle.rejected.append((line, f"{path.name}: {exc}"))
            continue
        name = str(row[name_i] or "").strip()
        if code is None or not name:
            bundle.rejected.append((line, f"{path.name}: empty code or name"))
            continue
        if (level, code) in bundle.areas:
            bundle.rejected.append((line, f"{path.name}: duplicate code {code}"))
            continue
        short = str(row[short_i]).strip() if short_i is not None and row[short_i] else None
        bundle.areas[(level, code)] = {"level": level, "code": code, "name": name, "short_name": short,
                                       "is_unknown": is_unknown_area(code, name)}
    if numeric:
        bundle.notes.append(f"{path.name}: {numeric} numeric codes read as text")


def parse_links(path: Path, bundle: GeoBundle) -> None:
    header, rows = read_xlsx(path)
    if len(header) < 2 or not header[0] or not header[1]:
        raise ValidationError(f"{path.name}: the header must name the child and parent level")
    child_level, parent_level = canonical_level(header[0]), canonical_level(header[1])
    same_family = level_def(child_level).family == level_def(parent_level).family
    key = (child_level, parent_level, "version" if same_family else "parent")
    bundle.levels.update((child_level, parent_level))
    parents: dict[str, str] = {}
    blank: list[str] = []
    for line, row in rows:
        bundle.rows_in += 1
        try:
            child, parent = normalise_code(row[0]), normalise_code(row[1])
        except ValueError as exc:
            bundle.rejected.append((line, f"{path.name}: {exc}"))
            continue
        if child is None or parent is None:
            blank.append(f"line {line}")
            continue
        if key[2] == "parent" and parents.get(child, parent) != parent:
            bundle.rejected.append((line, f"{path.name}: {child} has two parents ({parents[child]}, {parent})"))
            continue
        parents[child] = parent
        bundle.links[key].add((child, parent))
    if blank:
        bundle.notes.append(f"{path.name}: {len(blank)} rows with an empty code skipped ({_examples(blank)})")


def parse_shapes(path: Path, bundle: GeoBundle) -> None:
    level = canonical_level(path.stem)
    epsg, warning = geometry.source_epsg(path.with_suffix(".prj"))
    if warning:
        bundle.notes.append(warning)
    records, warnings = geometry.read_layer(path)
    bundle.notes.extend(warnings)
    bundle.levels.add(level)
    tolerance = geometry.WEB_TOLERANCE.get(level, geometry.DEFAULT_WEB_TOLERANCE)
    undefined: list[str] = []
    for raw_code, name, shp in records:
        bundle.rows_in += 1
        code = normalise_code(raw_code)
        if code is None:
            continue  # a shape without a code cannot belong to any area
        full, web = geometry.to_wgs84(shp, epsg, tolerance)
        target = bundle.areas.get((level, code))
        if target is None:
            undefined.append(code)
            target = bundle.areas[(level, code)] = {
                "level": level, "code": code, "name": (name or code).strip(), "short_name": None,
                "is_unknown": is_unknown_area(code, name or "")}
        target["geometry"], target["geometry_web"] = full, web
    if undefined:
        bundle.notes.append(f"{path.name}: {len(undefined)} shapes without a definition, "
                            f"added with their shapefile name ({_examples(undefined)})")


def derive_version_links(bundle: GeoBundle) -> None:
    """A child level linked to two versions of one family (deelgemeente2024 → gemeente2018 and
    gemeente2024) yields the mapping old version → new version."""
    by_child: dict[str, list[LinkKey]] = defaultdict(list)
    for key in bundle.links:
        if key[2] == "parent":
            by_child[key[0]].append(key)
    for child_level, keys in by_child.items():
        for a in keys:
            for b in keys:
                old, new = level_def(a[1]), level_def(b[1])
                if a == b or old.family != new.family or old.sort_order <= new.sort_order:
                    continue  # the newer version has the smaller sort order
                old_of = dict(bundle.links[a])
                new_of = dict(bundle.links[b])
                pairs = {(old_of[c], new_of[c]) for c in old_of if c in new_of}
                targets: dict[str, set[str]] = defaultdict(set)
                for o, n in pairs:
                    targets[o].add(n)
                split = sorted(o for o, ns in targets.items() if len(ns) > 1)
                if split:
                    bundle.notes.append(f"{old.code}→{new.code}: {len(split)} areas split over several "
                                        f"new areas cannot be re-expressed by summing ({_examples(split)})")
                key = (old.code, new.code, "version")
                bundle.links[key] |= {(o, n) for o, n in pairs if o not in split}
                bundle.notes.append(f"{old.code}→{new.code}: version mapping derived via {child_level} "
                                    f"({len(bundle.links[key])} areas)")


def complete_belgium(bundle: GeoBundle) -> None:
    key = ("gewest", "belgie", "parent")
    if key not in bundle.links:
        return
    belgium_code, belgium_name = BELGIUM
    added = []
    for code, name in BELGIAN_REGIONS.items():
        if ("gewest", code) not in bundle.areas:
            bundle.areas[("gewest", code)] = {"level": "gewest", "code": code, "name": name,
                                              "short_name": name, "is_unknown": False}
            added.append(f"{code} {name}")
        bundle.links[key].add((code, belgium_code))
    bundle.areas.setdefault(("belgie", belgium_code), {
        "level": "belgie", "code": belgium_code, "name": belgium_name, "short_name": belgium_name,
        "is_unknown": False})
    if added:
        bundle.notes.append(f"gewest: added {', '.join(added)} (no data of its own) so that a Belgian "
                            "total is only computed when all three regions have data")


def parse_folder(directory: Path) -> GeoBundle:
    if not directory.is_dir():
        raise ValidationError(f"{directory}: not a folder")
    bundle = GeoBundle()
    definitions = sorted((directory / "area_definitions").glob("*.xlsx"))
    tables = sorted((directory / "aggregation_tables").glob("*.xlsx"))
    shapes = sorted((directory / "shapefiles").glob("*.shp"))
    if not (definitions or tables or shapes):
        raise ValidationError(f"{directory}: no area_definitions/, aggregation_tables/ or shapefiles/ found")
    for path in definitions:
        parse_definitions(path, bundle)
    for path in tables:
        parse_links(path, bundle)
    for path in shapes:
        parse_shapes(path, bundle)
    derive_version_links(bundle)
    complete_belgium(bundle)
    return bundle


# ---------------------------------------------------------------------------------------- writing

def _resolve_link_codes(conn: Connection, bundle: GeoBundle) -> None:
    """Codes in tables must be defined; a level nobody defines (belgie, statsec2019) is made
    from the table itself."""
    existing = defaultdict(set)
    for row in conn.execute(select(area.c.level, area.c.code)):
        existing[row.level].add(row.code)
    defined = defaultdict(set, {k: set(v) for k, v in existing.items()})
    for level, code in bundle.areas:
        defined[level].add(code)
    for (child_level, parent_level, relation), pairs in list(bundle.links.items()):
        unknown = []
        for side_level, index in ((child_level, 0), (parent_level, 1)):
            codes = {p[index] for p in pairs}
            if not defined[side_level]:
                for code in codes:
                    bundle.areas[(side_level, code)] = {
                        "level": side_level, "code": code, "name": code, "short_name": None,
                        "is_unknown": is_unknown_area(code, "")}
                defined[side_level] |= codes
                bundle.notes.append(f"{side_level}: no definitions, {len(codes)} areas created from "
                                    f"{child_level}_{parent_level}")
            unknown += [f"{side_level} {c}" for c in codes if c not in defined[side_level]]
        if unknown:
            bundle.links[(child_level, parent_level, relation)] = {
                p for p in pairs if p[0] in defined[child_level] and p[1] in defined[parent_level]}
            bundle.notes.append(f"{child_level}_{parent_level}: {len(unknown)} links to undefined "
                                f"areas skipped ({_examples(sorted(unknown))})")


def _write_levels(conn: Connection, bundle: GeoBundle) -> None:
    existing = {r.code for r in conn.execute(select(area_level.c.code))}
    parent_orders = defaultdict(list)
    for child, parent, relation in bundle.links:
        if relation == "parent":
            parent_orders[child].append(level_def(parent).sort_order)
    for code in sorted(bundle.levels - existing):
        d = level_def(code)
        order = d.sort_order if code in BUILTIN_BY_CODE else min(parent_orders[code] or [36]) - 1
        conn.execute(insert(area_level).values(
            code=d.code, name_nl=d.name_nl, name_en=d.name_en, family=d.family,
            is_current=d.is_current, valid_from=d.valid_from, valid_to=d.valid_to,
            sort_order=order, user_defined=code not in BUILTIN_BY_CODE))


def _write_areas(conn: Connection, bundle: GeoBundle, stats: ImportStats) -> dict[tuple[str, str], int]:
    current = {(r.level, r.code): r for r in conn.execute(
        select(area.c.id, area.c.level, area.c.code, area.c.name, area.c.short_name, area.c.is_unknown))}
    new_rows = []
    fields = ("name", "short_name", "is_unknown")
    for key, data in bundle.areas.items():
        row = current.get(key)
        if row is None:
            new_rows.append({f: data.get(f) for f in ("level", "code", *fields)})
            continue
        changes = {f: data[f] for f in fields if f in data and data[f] != getattr(row, f)}
        if changes:
            conn.execute(update(area).where(area.c.id == row.id).values(**changes))
            stats.updated += 1
        else:
            stats.unchanged += 1
    if new_rows:
        conn.execute(insert(area), new_rows)
        stats.inserted += len(new_rows)
    ids = {(r.level, r.code): r.id for r in conn.execute(select(area.c.id, area.c.level, area.c.code))}
    _write_geometry(conn, bundle, ids, stats)
    return ids


def _write_geometry(conn: Connection, bundle: GeoBundle, ids: dict, stats: ImportStats) -> None:
    """Geometry only for areas the import has shapes for: re-importing definitions alone keeps it."""
    shapes = {ids[key]: (d["geometry"], d["geometry_web"]) for key, d in bundle.areas.items() if d.get("geometry")}
    current = {r.area_id: (r.geometry, r.geometry_web) for r in conn.execute(select(area_geometry))
               } if shapes else {}
    added = [{"area_id": a, "geometry": g, "geometry_web": w} for a, (g, w) in shapes.items() if a not in current]
    changed = [(a, g, w) for a, (g, w) in shapes.items() if a in current and current[a] != (g, w)]
    if added:
        conn.execute(insert(area_geometry), added)
    for area_id, full, web in changed:
        conn.execute(update(area_geometry).where(area_geometry.c.area_id == area_id)
                     .values(geometry=full, geometry_web=web))
    stats.inserted += len(added)
    stats.updated += len(changed)
    stats.unchanged += len(shapes) - len(added) - len(changed)


def _write_links(conn: Connection, bundle: GeoBundle, ids: dict, stats: ImportStats) -> None:
    child, parent = aliased(area), aliased(area)
    for (child_level, parent_level, relation), pairs in bundle.links.items():
        wanted = {(ids[(child_level, c)], ids[(parent_level, p)]) for c, p in pairs}
        existing = {(r.child_id, r.parent_id) for r in conn.execute(
            select(area_link.c.child_id, area_link.c.parent_id)
            .join(child, child.c.id == area_link.c.child_id)
            .join(parent, parent.c.id == area_link.c.parent_id)
            .where(child.c.level == child_level, parent.c.level == parent_level,
                   area_link.c.relation == relation))}
        for c, p in existing - wanted:
            conn.execute(delete(area_link).where(and_(
                area_link.c.child_id == c, area_link.c.parent_id == p, area_link.c.relation == relation)))
        added = [{"child_id": c, "parent_id": p, "relation": relation, "weight": 1.0}
                 for c, p in wanted - existing]
        if added:
            conn.execute(insert(area_link), added)
        stats.inserted += len(added)
        stats.updated += len(existing - wanted)
        stats.unchanged += len(wanted & existing)


def _report_missing_geometry(bundle: GeoBundle, shapes: set[str]) -> None:
    for level in sorted(shapes):
        missing = sorted(code for (lvl, code), data in bundle.areas.items()
                         if lvl == level and not data.get("geometry"))
        if missing:
            bundle.notes.append(f"{level}: {len(missing)} areas without geometry ({_examples(missing)})")


def import_geo(unit: WriteUnit, directory: Path) -> ImportResult:
    directory = Path(directory)
    files = [p for p in directory.rglob("*") if p.is_file()] if directory.is_dir() else []

    def work(conn: Connection, run_id: int) -> ImportStats:
        bundle = reader_for("geo", directory, refusal="not a folder").read(directory)
        if bundle.rejected:
            raise ImportRejected(f"{directory}: {len(bundle.rejected)} rows rejected, nothing imported",
                                 bundle.rejected)
        _report_missing_geometry(bundle, {canonical_level(p.stem) for p in
                                          (directory / "shapefiles").glob("*.shp")})
        _resolve_link_codes(conn, bundle)
        stats = ImportStats(rows_in=bundle.rows_in, rows_ok=bundle.rows_in)
        _write_levels(conn, bundle)
        ids = _write_areas(conn, bundle, stats)
        links_before = stats.inserted + stats.updated
        _write_links(conn, bundle, ids, stats)
        if stats.inserted + stats.updated > links_before:  # hierarchy or versions changed: re-derive
            unit.changes.geography = True
        elif stats.changed:
            unit.changes.other = True
        stats.notes = bundle.notes
        return stats

    # The folder's name, not its path on the server: runs are shown to organisation staff.
    return run_import(unit, kind="geo", file_name=directory.resolve().name, sha256=file_sha256(files), work=work)
