"""`obmi import catalogue FILE`: indicator definitions from YAML or CSV — or a Swing indicator
table ("onderwerpentabel", XLSX or CSV, recognised by its columns and mapped onto OBMi's fields by
obmi.imports.swing_catalogue, with a mapping report in the notes) — atomic and idempotent.

Each definition is also an object-level permission check (`indicator.write`): a coordinator
writes the definitions of their organisation, an editor only those they own, the host
organisation's coordinators the shared ones. A new definition without `organisation` belongs to
the importer's organisation (shared when an instance administrator imports it); an existing one
keeps its organisation unless the file names another."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, select

from obmi.auth.permissions import Resource, allowed
from obmi.errors import ImportRejected, NotAllowed, ValidationError
from obmi.imports.readers import reader_for
from obmi.imports.runs import ImportResult, ImportStats, WriteUnit, file_sha256, run_import
from obmi.imports.swing_catalogue import SwingImportStats, is_swing_table, read_swing_table
from obmi.indicators.catalogue import Indicator, build_indicators, dependency_order, load_catalogue, upsert_indicators
from obmi.store.tables import area_level, organisation, user_account

REFUSAL = "catalogue files are .yaml, .yml or .csv, or a Swing indicator table (.xlsx or .csv)"


def _with_owners(items: list[tuple[int, Indicator]], raw: dict[int, dict], existing: dict[str, Indicator],
                 actor_organisation: str | None) -> list[tuple[int, Indicator]]:
    out = []
    for line, ind in items:
        old = existing.get(ind.code)
        if not str(raw[line].get("organisation") or "").strip():  # omitted (or an empty CSV cell)
            ind = ind.model_copy(update={"organisation": old.organisation if old else actor_organisation})
        out.append((line, ind))
    return out


def _unknown_references(conn: Connection, items: list[tuple[int, Indicator]]) -> list[tuple[int, str]]:
    organisations = {r.code for r in conn.execute(select(organisation.c.code))}
    users = {r.name: r.organisation for r in conn.execute(select(user_account.c.name, user_account.c.organisation))}
    problems = []
    for line, ind in items:
        if ind.organisation is not None and ind.organisation not in organisations:
            problems.append((line, f"{ind.code}: unknown organisation {ind.organisation!r}"))
        if ind.owner is not None and ind.owner not in users:
            problems.append((line, f"{ind.code}: unknown owner {ind.owner!r} (a user name)"))
        elif ind.owner is not None and users[ind.owner] != ind.organisation and ind.organisation is not None:
            problems.append((line, f"{ind.code}: owner {ind.owner!r} is not of organisation {ind.organisation}"))
    return problems


def _require_writable(unit: WriteUnit, items: list[tuple[int, Indicator]], existing: dict[str, Indicator]) -> None:
    refused = []
    for line, ind in items:
        old = existing.get(ind.code)
        targets = [old.resource] if old else []
        if old is None or old.organisation != ind.organisation or old.owner != ind.owner:
            targets.append(Resource("indicator", None if old is None else ind.code, ind.organisation, ind.owner))
        if not all(allowed(unit.actor, "indicator.write", target) for target in targets):
            refused.append(f"{ind.code} (item {line})")
    if refused:
        raise NotAllowed(f"{unit.actor.label} may not write the definitions of {', '.join(refused)}: nothing imported")


def import_catalogue(unit: WriteUnit, path: Path) -> ImportResult:
    path = Path(path)

    def work(conn: Connection, run_id: int) -> ImportStats:
        swing = read_swing_table(path) if is_swing_table(path) else None
        if swing is not None:  # a Swing indicator table: its rows mapped onto OBMi's fields
            raw_items = swing.items
        else:
            raw_items = reader_for("catalogue", path, refusal=REFUSAL).read(path)
        existing = load_catalogue(conn)
        levels = {r.code for r in conn.execute(select(area_level.c.code))} or None
        where = "item" if path.suffix.lower() in {".yaml", ".yml"} else "line"
        built, rejected = build_indicators(raw_items, set(existing), levels)
        built = _with_owners(built, dict(raw_items), existing, unit.actor.organisation)
        rejected += _unknown_references(conn, built) + (swing.rejected if swing else [])
        if rejected:
            raise ImportRejected(f"{path.name}: {len(rejected)} problems, nothing imported", sorted(rejected),
                                 unit=where, rows_in=len(raw_items))
        _require_writable(unit, built, existing)
        stats = ImportStats(rows_in=len(raw_items), rows_ok=len(built))
        if swing is not None:
            stats = SwingImportStats(rows_in=len(raw_items), rows_ok=len(built), mapping=swing.mapping,
                                     notes=swing.notes())
        counts, written = upsert_indicators(conn, [ind for _, ind in built])
        stats.inserted, stats.updated, stats.unchanged = counts["inserted"], counts["updated"], counts["unchanged"]
        try:
            dependency_order(load_catalogue(conn))
        except ValueError as exc:
            raise ImportRejected(f"{path.name}: {exc}", [(0, str(exc))]) from None
        for old, new in written:
            unit.changes.catalogue = True
            if old is None or old.computation() != new.computation():
                unit.changes.definitions.add(new.code)
            unit.audit("indicator", new.code, before=old.as_row() if old else None, after=new.as_row())
        return stats

    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    return run_import(unit, kind="catalogue", file_name=path.name, sha256=file_sha256([path]), work=work)
