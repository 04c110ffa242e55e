"""The indicator catalogue: definitions, validation, YAML/CSV import and export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import yaml
from sqlalchemy import Connection, insert, select, update

from obmi.errors import ImportRejected, NotFound, ValidationError
from obmi.imports.runs import ImportResult, ImportStats, file_sha256, run_import
from obmi.indicators.formula import parse_formula
from obmi.indicators.periods import PERIOD_TYPES
from obmi.store import Database
from obmi.store.tables import area_level, indicator as indicator_table

AGGREGATIONS = ("sum", "ratio", "weighted_mean", "none")
POLARITIES = ("higher_is_better", "higher_is_worse", "neutral")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
LIST_FIELDS = ("themes", "levels")


@dataclass
class Indicator:
    code: str
    name_nl: str
    name_en: str = ""
    definition_nl: str = ""
    definition_en: str = ""
    unit: str = ""
    themes: list[str] = field(default_factory=list)
    source: str = ""
    licence: str = ""
    aggregation: str = "sum"
    numerator: str | None = None  # ratio: indicator codes whose aggregated values form the ratio
    denominator: str | None = None
    scale: float = 1.0
    weight: str | None = None  # weighted_mean: the weight indicator
    formula: str | None = None
    polarity: str = "neutral"
    decimals: int = 0
    is_count: bool = False  # counts of people/households: protected by the privacy threshold
    threshold: int | None = None
    threshold_indicator: str | None = None
    levels: list[str] = field(default_factory=list)
    frequency: str = "year"

    @property
    def is_derived(self) -> bool:
        """Computed from other indicators everywhere (formula, or ratio of two indicators)."""
        return bool(self.formula) or (self.aggregation == "ratio" and bool(self.numerator))

    def inputs(self) -> set[str]:
        """Indicators this one is computed from (for dependency order)."""
        refs = set(parse_formula(self.formula).inputs) if self.formula else set()
        refs |= {c for c in (self.numerator, self.denominator, self.weight) if c}
        return refs

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


FIELD_NAMES = [f.name for f in fields(Indicator)]


def _coerce(raw: dict[str, Any]) -> dict[str, Any]:
    data = {k.strip(): v for k, v in raw.items() if k and k.strip() in FIELD_NAMES}
    for key, value in list(data.items()):
        if isinstance(value, str):
            value = value.strip()
            data[key] = value if value != "" else None
    for key in LIST_FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            data[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif value is None:
            data[key] = []
    if isinstance(data.get("is_count"), str):
        data["is_count"] = data["is_count"].lower() in {"1", "true", "yes", "ja"}
    for key in ("scale",):
        if data.get(key) is not None:
            data[key] = float(data[key])
    for key in ("decimals", "threshold"):
        if data.get(key) is not None:
            data[key] = int(float(data[key]))
    data = {k: v for k, v in data.items() if v is not None or k in ("numerator", "denominator", "weight",
                                                                      "formula", "threshold", "threshold_indicator")}
    if not data.get("name_en"):
        data["name_en"] = data.get("name_nl", "")
    return data


def validate(ind: Indicator, known: set[str], levels: set[str] | None = None) -> list[str]:
    """Problems with one definition; `known` holds every indicator code it may refer to."""
    problems = []
    if not _CODE.match(ind.code or ""):
        problems.append(f"code {ind.code!r} must be lower case letters, digits and _ (starting with a letter)")
    if not ind.name_nl:
        problems.append("name_nl is required")
    if ind.aggregation not in AGGREGATIONS:
        problems.append(f"aggregation {ind.aggregation!r} must be one of {', '.join(AGGREGATIONS)}")
    if ind.aggregation == "ratio" and bool(ind.numerator) != bool(ind.denominator):
        problems.append("a ratio needs both numerator and denominator (or neither, when imports deliver them)")
    if ind.aggregation == "weighted_mean" and not ind.weight:
        problems.append("weighted_mean needs a weight indicator")
    if ind.polarity not in POLARITIES:
        problems.append(f"polarity {ind.polarity!r} must be one of {', '.join(POLARITIES)}")
    if ind.frequency not in PERIOD_TYPES:
        problems.append(f"frequency {ind.frequency!r} must be one of {', '.join(PERIOD_TYPES)}")
    if not 0 <= ind.decimals <= 6:
        problems.append("decimals must be between 0 and 6")
    if ind.threshold is not None and ind.threshold < 0:
        problems.append("threshold must be 0 or more")
    if ind.formula:
        try:
            parse_formula(ind.formula)
        except ValueError as exc:
            problems.append(str(exc))
            return problems
    for ref in sorted((ind.inputs() | {ind.threshold_indicator} if ind.threshold_indicator else ind.inputs())):
        if ref not in known:
            problems.append(f"refers to unknown indicator {ref!r}")
    if ind.code in ind.inputs():
        problems.append("refers to itself")
    if levels is not None:
        unknown = sorted(set(ind.levels) - levels)
        if unknown:
            problems.append(f"unknown levels {', '.join(unknown)}")
    return problems


def dependency_order(catalogue: dict[str, Indicator]) -> list[str]:
    """Codes so that every indicator comes after its inputs; ValueError on a cycle."""
    order, state = [], {}

    def visit(code: str, path: tuple[str, ...]) -> None:
        if state.get(code) == "done":
            return
        if state.get(code) == "busy":
            raise ValueError(f"circular definition: {' → '.join(path + (code,))}")
        state[code] = "busy"
        for ref in sorted(catalogue[code].inputs()):
            if ref in catalogue:
                visit(ref, path + (code,))
        state[code] = "done"
        order.append(code)

    for code in sorted(catalogue):
        visit(code, ())
    return order


def dependants(catalogue: dict[str, Indicator], codes: Iterable[str]) -> set[str]:
    """The given codes plus every indicator computed from them, transitively."""
    result = set(codes)
    changed = True
    while changed:
        changed = False
        for ind in catalogue.values():
            if ind.code not in result and ind.inputs() & result:
                result.add(ind.code)
                changed = True
    return result


# ------------------------------------------------------------------------------------ persistence

def load_catalogue(conn: Connection) -> dict[str, Indicator]:
    rows = conn.execute(select(indicator_table))
    names = set(FIELD_NAMES)
    return {r.code: Indicator(**{k: v for k, v in r._mapping.items() if k in names}) for r in rows}


def get_indicator(conn: Connection, code: str) -> Indicator:
    row = conn.execute(select(indicator_table).where(indicator_table.c.code == code)).first()
    if row is None:
        raise NotFound(f"unknown indicator {code!r}")
    names = set(FIELD_NAMES)
    return Indicator(**{k: v for k, v in row._mapping.items() if k in names})


def upsert_indicators(conn: Connection, items: list[Indicator], stats: ImportStats,
                      *, replace: bool = True) -> None:
    """Insert new definitions; update changed ones (only when `replace`, so built-in readers never
    overwrite what an analyst edited)."""
    existing = load_catalogue(conn)
    now = datetime.now(timezone.utc)
    for ind in items:
        row = ind.as_row()
        old = existing.get(ind.code)
        if old is None:
            conn.execute(insert(indicator_table).values(**row, updated_at=now))
            stats.inserted += 1
        elif replace and old.as_row() != row:
            conn.execute(update(indicator_table).where(indicator_table.c.code == ind.code)
                         .values(**row, updated_at=now))
            stats.updated += 1
        else:
            stats.unchanged += 1


def parse_definitions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line or item number, raw mapping) from a YAML or CSV catalogue file."""
    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser: 20× faster
        except yaml.YAMLError as exc:
            raise ValidationError(f"{path.name}: not valid YAML ({exc})") from None
        items = data.get("indicators") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValidationError(f"{path.name}: expected a list of indicators (under `indicators:`)")
        return list(enumerate(items, start=1))
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(line, row) for line, row in enumerate(reader, start=2)]
    raise ValidationError(f"{path.name}: catalogue files are .yaml, .yml or .csv")


def build_indicators(raw_items: list[tuple[int, dict]], existing: set[str], levels: set[str] | None,
                     where: str) -> tuple[list[Indicator], list[tuple[int, str]]]:
    built, rejected, seen = [], [], set()
    for line, raw in raw_items:
        unknown = sorted(str(k) for k in raw if k and str(k).strip() not in FIELD_NAMES)
        if unknown:
            rejected.append((line, f"unknown field(s) {', '.join(unknown)} (fields: docs/user-guide.md, section 3)"))
            continue
        missing = [f for f in ("code", "name_nl") if not str(raw.get(f) or "").strip()]
        if missing:
            rejected.append((line, f"{' and '.join(missing)} required"))
            continue
        try:
            ind = Indicator(**_coerce(raw))
        except (TypeError, ValueError) as exc:
            rejected.append((line, str(exc)))
            continue
        if ind.code in seen:
            rejected.append((line, f"duplicate indicator {ind.code}"))
            continue
        seen.add(ind.code)
        built.append((line, ind))
    known = existing | seen
    for line, ind in built:
        rejected += [(line, f"{ind.code}: {p}") for p in validate(ind, known, levels)]
    items = [ind for _, ind in built]
    if not rejected:
        catalogue = {i.code: i for i in items}
        try:
            dependency_order(catalogue)
        except ValueError as exc:
            first = next((line for line, ind in built if ind.code in str(exc)), 0)
            rejected.append((first, str(exc)))
    return items, rejected


def import_catalogue(db: Database, path: Path, *, user: str, dry_run: bool = False) -> ImportResult:
    path = Path(path)

    def work(conn: Connection, run_id: int) -> ImportStats:
        raw_items = parse_definitions(path)
        existing = set(load_catalogue(conn))
        levels = {r.code for r in conn.execute(select(area_level.c.code))} or None
        where = "item" if path.suffix.lower() in {".yaml", ".yml"} else "line"
        items, rejected = build_indicators(raw_items, existing, levels, where)
        if rejected:
            raise ImportRejected(f"{path.name}: {len(rejected)} problems, nothing imported", rejected,
                                 unit=where)
        stats = ImportStats(rows_in=len(raw_items), rows_ok=len(items))
        upsert_indicators(conn, items, stats)
        merged = load_catalogue(conn)
        try:
            dependency_order(merged)
        except ValueError as exc:
            raise ImportRejected(f"{path.name}: {exc}", [(0, str(exc))]) from None
        return stats

    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    return run_import(db, kind="catalogue", file_name=path.name, sha256=file_sha256([path]),
                      user=user, dry_run=dry_run, work=work)


def export_catalogue(db: Database, fmt: str) -> str:
    db.require_schema()
    with db.engine.connect() as conn:
        items = [i.as_row() for i in load_catalogue(conn).values()]
    if fmt == "yaml":
        return yaml.safe_dump({"indicators": items}, allow_unicode=True, sort_keys=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELD_NAMES)
        writer.writeheader()
        for item in items:
            writer.writerow({k: ";".join(v) if k in LIST_FIELDS else v for k, v in item.items()})
        return out.getvalue()
    raise ValidationError(f"unknown format {fmt!r}: use yaml or csv")


def load_builtin(name: str) -> list[Indicator]:
    """A catalogue shipped in obmi/catalogue/<name>.yaml (definitions of the built-in readers)."""
    path = Path(__file__).resolve().parent.parent / "catalogue" / f"{name}.yaml"
    items, rejected = build_indicators(parse_definitions(path), set(), None, "item")
    if rejected:
        raise RuntimeError(f"built-in catalogue {name} is invalid: {rejected}")
    return items
