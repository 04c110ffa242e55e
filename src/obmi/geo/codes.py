"""Area codes as they come out of spreadsheets and shapefiles: numbers or text, padded or not."""

from __future__ import annotations

import re

from obmi.errors import ValidationError

_UNKNOWN_NAME = re.compile(r"niet te lokaliseren|onbekend|buiten vlaanderen", re.IGNORECASE)


def normalise_code(raw: object) -> str | None:
    """Return the text form of an area code, or None for an empty cell.

    Excel stores 11001 as a number and '11001A00-' as text; 11001.0 must become '11001'.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not an area code: {raw!r}")
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(f"not an area code: {raw!r}")
        raw = int(raw)
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def is_unknown_area(code: str, name: str) -> bool:
    """Pseudo-areas for records that cannot be located (99991, 11001ZZZZ, 11002ONB, …)."""
    return (code.startswith("9999") or code.endswith(("ZZZZ", "ONB", "ONBE", "WONB"))
            or bool(_UNKNOWN_NAME.search(name or "")))


AreaKey = tuple[str, str]  # (level, code)


def parse_area_key(text: str, field: str = "area") -> AreaKey:
    """`LEVEL:CODE` (gemeente:44021) → (level, code); the one parser of area references in
    URLs, options and content files."""
    level, sep, code = str(text).strip().partition(":")
    level, code = level.strip(), code.strip()
    if not sep or not level or not code or len(text) > 100:
        raise ValidationError(f"{text!r} is not LEVEL:CODE (e.g. gemeente:44021)",
                              {field: ["expected LEVEL:CODE, e.g. gemeente:44021"]})
    return level, code
