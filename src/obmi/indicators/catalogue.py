"""The indicator catalogue: the definition model (pydantic), its validation, dependency order,
reading definitions from YAML/CSV, and loading/saving them. Imports of catalogue files live in
obmi.imports.catalogue; this module knows nothing of import runs."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Connection, insert, select, update

from obmi.auth.permissions import ACCESS_LEVELS, Access, Resource
from obmi.errors import NotFound, ValidationError
from obmi.indicators.formula import parse_formula
from obmi.indicators.periods import PERIOD_TYPES
from obmi.store.tables import indicator as indicator_table

POLARITIES = ("higher_is_better", "higher_is_worse", "neutral")
CODE_LENGTH = 80
_CODE = re.compile(rf"^[a-z][a-z0-9_]{{0,{CODE_LENGTH - 1}}}$")
# Lengths of the store's columns (obmi.store.tables.indicator): refused here, not by the database.
TEXT_LIMITS = {"name_nl": 300, "name_en": 300, "unit": 40, "source": 300, "licence": 300}
LIST_FIELDS = ("themes", "levels", "access_groups")
# Fields that change how values are computed or disclosed: a change re-derives the indicator.
COMPUTATION_FIELDS = ("aggregation", "numerator", "denominator", "scale", "weight", "formula", "is_count",
                      "threshold", "threshold_indicator")


class Indicator(BaseModel):
    """One indicator definition, as in catalogue files (docs/user-guide.md, section 3)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name_nl: str
    name_en: str = ""
    definition_nl: str = ""
    definition_en: str = ""
    unit: str = ""
    themes: list[str] = Field(default_factory=list)
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
    # The range a delivered value must lie in (obmi.indicators.values; unset: the default of the
    # unit). Stored and exported (stored_row) but not part of as_row(), the published definition.
    min: float | None = Field(None, exclude=True)
    max: float | None = Field(None, exclude=True)
    levels: list[str] = Field(default_factory=list)
    frequency: str = "year"
    # Ownership and access (auth.permissions.Access): organisation code (None: shared by the
    # instance), the owning editor, who may see it and from which level it is public.
    organisation: str | None = None
    owner: str | None = None
    access: str = "public"
    access_groups: list[str] = Field(default_factory=list)
    public_from_level: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        """CSV cells and YAML scalars: trimmed, empty means absent, `a;b` lists."""
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            key = key.strip() if isinstance(key, str) else key
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
                if key in LIST_FIELDS:
                    value = [v.strip() for v in value.split(";") if v.strip()]
                elif key == "is_count":
                    value = value.lower() in {"1", "true", "yes", "ja"}
            elif value is None and key in LIST_FIELDS:
                continue
            out[key] = value
        if not out.get("name_en"):
            out["name_en"] = out.get("name_nl", "")
        return out

    @property
    def is_derived(self) -> bool:
        """Computed from other indicators everywhere (formula, or ratio of two indicators)."""
        return bool(self.formula) or (self.aggregation == "ratio" and bool(self.numerator))

    def inputs(self) -> set[str]:
        """Indicators this one is computed from (for dependency order), in any period."""
        refs = set(parse_formula(self.formula).inputs) if self.formula else set()
        refs |= {c for c in (self.numerator, self.denominator, self.weight) if c}
        return refs

    def references(self) -> set[tuple[str, int]]:
        """(code, period offset) of every value this one is computed from: a formula may use
        another period's value (`data_from_period(code, "-1")`); numerator, denominator and
        weight are always of the period computed (offset 0)."""
        refs = set(parse_formula(self.formula).references) if self.formula else set()
        refs |= {(c, 0) for c in (self.numerator, self.denominator, self.weight) if c}
        return refs

    @property
    def access_rule(self) -> Access:
        return Access(self.organisation, self.owner, self.access,  # type: ignore[arg-type]
                      tuple(self.access_groups), self.public_from_level)

    @property
    def resource(self) -> Resource:
        """The indicator as the object of a permission check (indicator.write)."""
        return Resource("indicator", self.code, self.organisation, self.owner,
                        visible_across_organisations=self.access == "public")

    def as_row(self) -> dict[str, Any]:
        """The published definition (API, pages)."""
        return self.model_dump()

    def stored_row(self) -> dict[str, Any]:
        """Every field, as the store and catalogue files hold it."""
        return {**self.model_dump(), "min": self.min, "max": self.max}

    def computation(self) -> tuple:
        return tuple(getattr(self, f) for f in COMPUTATION_FIELDS)


FIELD_NAMES = list(Indicator.model_fields)


def validate(ind: Indicator, known: set[str], levels: set[str] | None = None) -> list[str]:
    """Problems with one definition; `known` holds every indicator code it may refer to."""
    from obmi.plugins import aggregation_methods
    methods = aggregation_methods()
    problems = []
    if not _CODE.match(ind.code or ""):
        length = f" ({len(ind.code)} characters)" if len(ind.code or "") > CODE_LENGTH else ""
        problems.append(f"code {ind.code!r} must be lower case letters, digits and _ (starting with a letter, "
                        f"at most {CODE_LENGTH} characters){length}")
    if not ind.name_nl:
        problems.append("name_nl is required")
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(ind, name) or "") > limit:
            problems.append(f"{name} longer than {limit} characters")
    if ind.aggregation not in methods:
        problems.append(f"aggregation {ind.aggregation!r} must be one of {', '.join(methods)}")
    else:
        problems += methods[ind.aggregation].check(ind)
    if ind.polarity not in POLARITIES:
        problems.append(f"polarity {ind.polarity!r} must be one of {', '.join(POLARITIES)}")
    if ind.frequency not in PERIOD_TYPES:
        problems.append(f"frequency {ind.frequency!r} must be one of {', '.join(PERIOD_TYPES)}")
    if not 0 <= ind.decimals <= 6:
        problems.append("decimals must be between 0 and 6")
    if ind.threshold is not None and ind.threshold < 0:
        problems.append("threshold must be 0 or more")
    problems += _range_problems(ind)
    if ind.access not in ACCESS_LEVELS:
        problems.append(f"access {ind.access!r} must be one of {', '.join(ACCESS_LEVELS)}")
    if ind.access == "groups" and not ind.access_groups:
        problems.append("access groups needs access_groups (the names of the groups that may see it)")
    if ind.formula:
        try:
            parse_formula(ind.formula)
        except ValueError as exc:
            problems.append(str(exc))
            return problems
    for ref in sorted(ind.inputs() | {ind.threshold_indicator} if ind.threshold_indicator else ind.inputs()):
        if ref not in known:
            problems.append(f"refers to unknown indicator {ref!r}")
    if ind.code in ind.inputs():
        problems.append("refers to itself")
    if levels is not None:
        unknown = sorted((set(ind.levels) | ({ind.public_from_level} if ind.public_from_level else set())) - levels)
        if unknown:
            problems.append(f"unknown levels {', '.join(unknown)}")
    return problems


def _range_problems(ind: Indicator) -> list[str]:
    problems = [f"{name} must be a finite number" for name in ("min", "max")
                if getattr(ind, name) is not None and not math.isfinite(getattr(ind, name))]
    if not problems and ind.min is not None and ind.max is not None and ind.min > ind.max:
        problems.append(f"min {ind.min:g} is above max {ind.max:g}")
    if not problems and ind.is_count and ind.min is not None and ind.min < 0:
        problems.append("a count cannot be negative: min must be 0 or more")
    return problems


def dependency_order(catalogue: dict[str, Indicator]) -> list[str]:
    """Codes so that every indicator comes after its inputs; ValueError on a cycle."""
    order: list[str] = []
    state: dict[str, str] = {}

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

def _from_row(mapping: Any) -> Indicator:
    # Rows in the store were validated when written: construct without validating again (the
    # catalogue is read on every request).
    data = {k: mapping[k] for k in FIELD_NAMES}
    data["themes"], data["levels"], data["access_groups"] = (list(mapping["themes"] or []), list(mapping["levels"] or []),
                                                              list(mapping["access_groups"] or []))
    return Indicator.model_construct(**data)


def load_catalogue(conn: Connection) -> dict[str, Indicator]:
    """Every definition in the store (no access filtering: see obmi.query.visibility)."""
    return {r.code: _from_row(r._mapping) for r in conn.execute(select(indicator_table))}


def get_indicator(conn: Connection, code: str) -> Indicator:
    row = conn.execute(select(indicator_table).where(indicator_table.c.code == code)).first()
    if row is None:
        raise NotFound(f"unknown indicator {code!r}")
    return _from_row(row._mapping)


def upsert_indicators(conn: Connection, items: list[Indicator], *, replace: bool = True
                      ) -> tuple[dict[str, int], list[tuple[Indicator | None, Indicator]]]:
    """Insert new definitions; update changed ones (only when `replace`, so built-in readers never
    overwrite what an analyst edited). Returns counts and the (old, new) pairs written."""
    existing = load_catalogue(conn)
    now = datetime.now(UTC)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    written: list[tuple[Indicator | None, Indicator]] = []
    for ind in items:
        row = ind.stored_row()
        old = existing.get(ind.code)
        if old is None:
            conn.execute(insert(indicator_table).values(**row, updated_at=now))
            counts["inserted"] += 1
            written.append((None, ind))
        elif replace and old.stored_row() != row:
            conn.execute(update(indicator_table).where(indicator_table.c.code == ind.code)
                         .values(**row, updated_at=now))
            counts["updated"] += 1
            written.append((old, ind))
        else:
            counts["unchanged"] += 1
    return counts, written


# ------------------------------------------------------------------------------------ files

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


def _pydantic_problems(exc: PydanticValidationError) -> str:
    problems = []
    for item in exc.errors():
        field = ".".join(str(p) for p in item["loc"])
        error = item.get("ctx", {}).get("error")
        problems.append(str(error) if error is not None else f"{field}: {item['msg']}")
    return "; ".join(problems)


def build_indicators(raw_items: list[tuple[int, dict]], existing: set[str], levels: set[str] | None
                     ) -> tuple[list[tuple[int, Indicator]], list[tuple[int, str]]]:
    """Definitions from raw mappings, each checked; (line, indicator) pairs and rejected lines."""
    built: list[tuple[int, Indicator]] = []
    rejected: list[tuple[int, str]] = []
    seen: set[str] = set()
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
            ind = Indicator.model_validate(raw)
        except PydanticValidationError as exc:
            rejected.append((line, f"{str(raw.get('code')).strip()}: {_pydantic_problems(exc)}"))
            continue
        if ind.code in seen:
            rejected.append((line, f"duplicate indicator {ind.code}"))
            continue
        seen.add(ind.code)
        built.append((line, ind))
    known = existing | seen
    for line, ind in built:
        rejected += [(line, f"{ind.code}: {p}") for p in validate(ind, known, levels)]
    if not rejected:
        try:
            dependency_order({i.code: i for _, i in built})
        except ValueError as exc:
            first = next((line for line, ind in built if ind.code in str(exc)), 0)
            rejected.append((first, str(exc)))
    return built, rejected


def dump_catalogue(items: list[Indicator], fmt: str) -> str:
    rows = [i.stored_row() for i in sorted(items, key=lambda i: i.code)]
    if fmt == "yaml":
        return yaml.safe_dump({"indicators": rows}, allow_unicode=True, sort_keys=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELD_NAMES)
        writer.writeheader()
        for item in rows:
            writer.writerow({k: ";".join(v) if k in LIST_FIELDS else v for k, v in item.items()})
        return out.getvalue()
    raise ValidationError(f"unknown format {fmt!r}: use yaml or csv", {"format": ["yaml or csv"]})


def load_builtin(name: str) -> list[Indicator]:
    """A catalogue shipped in obmi/catalogue/<name>.yaml (definitions of the built-in readers)."""
    path = Path(__file__).resolve().parent.parent / "catalogue" / f"{name}.yaml"
    built, rejected = build_indicators(parse_definitions(path), set(), None)
    if rejected:
        raise RuntimeError(f"built-in catalogue {name} is invalid: {rejected}")
    return [ind for _, ind in built]
