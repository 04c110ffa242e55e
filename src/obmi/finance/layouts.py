"""Finance-package layouts: one mapping file per package (layouts/*.yaml) says which header
names hold which field, how coded values read, and the sign convention. Every layout becomes a
reader of import kind "finance" on the `obmi_import_readers` hook, so a city adds a package by
adding a file (or a plugin registers one), not by changing the reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LAYOUT_DIR = Path(__file__).with_name("layouts")
FIELDS = ("entity", "version", "actie", "beleidsitem", "account", "envelope", "year", "quarter", "month", "date",
          "category", "direction", "amount", "kind")
SIGNS = ("positive", "signed")

# Coded values every layout understands; a layout's `values` add to these.
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "category": {"e": "exploitatie", "exploitatie": "exploitatie", "i": "investering", "investering": "investering",
                 "investeringen": "investering", "f": "financiering", "financiering": "financiering"},
    "direction": {"u": "uitgave", "uitgave": "uitgave", "uitgaven": "uitgave", "o": "ontvangst",
                  "ontvangst": "ontvangst", "ontvangsten": "ontvangst"},
    "kind": {"raming": "raming", "ramingen": "raming", "budget": "raming", "krediet": "raming",
             "realisatie": "realisatie", "realisaties": "realisatie", "aanrekening": "realisatie",
             "actual": "realisatie"},
}


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    columns: dict[str, tuple[str, ...]]
    detect: tuple[str, ...]
    required: tuple[str, ...]
    sign: str = "positive"
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)

    def value(self, field_name: str, text: str) -> str | None:
        key = text.strip().lower()
        return self.values.get(field_name, {}).get(key) or DEFAULT_VALUES.get(field_name, {}).get(key)


def parse_layout(data: Any, source: str) -> Layout:
    """A layout from a mapping file's content; ValueError naming the file and the problem."""
    if not isinstance(data, dict) or not data.get("name"):
        raise ValueError(f"{source}: a layout needs a name and columns")
    columns = {k: tuple(str(n).lower() for n in v) for k, v in (data.get("columns") or {}).items()}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise ValueError(f"{source}: unknown fields {unknown} (known: {', '.join(FIELDS)})")
    if data.get("sign", "positive") not in SIGNS:
        raise ValueError(f"{source}: sign must be one of {SIGNS}")
    required = tuple(data.get("required") or ("actie", "year", "amount"))
    fixed = {str(k): str(v) for k, v in (data.get("fixed") or {}).items()}
    missing = [f for f in required if f not in columns and f not in fixed]
    if missing:
        raise ValueError(f"{source}: required fields without a column: {missing}")
    values = {str(k): {str(a).lower(): str(b) for a, b in v.items()} for k, v in (data.get("values") or {}).items()}
    return Layout(str(data["name"]), str(data.get("description", "")), columns,
                  tuple(data.get("detect") or required), required, data.get("sign", "positive"), values, fixed)


@lru_cache(maxsize=1)
def builtin_layouts() -> tuple[Layout, ...]:
    """The shipped layouts, package-specific ones first (they are recognised by their columns;
    the generic OBMi layout last)."""
    layouts = [parse_layout(yaml.safe_load(p.read_text(encoding="utf-8")), p.name)
               for p in sorted(LAYOUT_DIR.glob("*.yaml"))]
    return tuple(sorted(layouts, key=lambda layout: (layout.name == "obmi", layout.name)))
