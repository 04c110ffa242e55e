"""What the area picker (templates/_area_picker.html, static/picker.js) needs from the web side:
the words of a suggestion in the page's language ("Borsbeek → Antwerpen (sinds 2025)"), and the
reading of what a form sent for an area: a LEVEL:CODE, or a name typed without JavaScript, which
is looked up the same way the type-ahead does (obmi.query.area_names via the operations)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from obmi import operations as ops
from obmi.operations.statistics import AreaMatch, NamedArea, TreeNode, resolve
from obmi.publish import labels
from obmi.web import i18n

MAX_OFFERED = 6


def level_word(level_name_nl: str, level_name_en: str, lang: str) -> str:
    return (level_name_en if lang == "en" and level_name_en else level_name_nl).lower()


def area_label(found: NamedArea, lang: str) -> str:
    """"Gent (gemeente)"; a former municipality: "Borsbeek → Antwerpen (sinds 2025)"."""
    level = level_word(found.level_name_nl, found.level_name_en, lang)
    name = labels.area_name(found.level, found.code, found.name, lang)
    if found.former:
        when = i18n.translate(lang, "sinds %(year)s") % {"year": found.since} if found.since else level
        return f"{found.former} → {name} ({when})"
    return f"{name}, {level}" if name.endswith(")") else f"{name} ({level})"


def suggestion_json(match: AreaMatch, lang: str) -> dict[str, Any]:
    a = match.area
    return {"key": a.key, "level": a.level, "code": a.code, "name": a.name, "level_name": a.level_name_nl,
            "level_name_en": a.level_name_en, "former": a.former, "former_level": a.former_level, "since": a.since,
            "label": area_label(a, lang), "exact": match.exact}


@dataclass
class TypedArea:
    """What a typed area name came to: the one area it means (`key`), or the candidates to
    choose from (`offers`: label and LEVEL:CODE), none when nothing matches."""

    text: str
    key: str | None = None
    offers: list[tuple[str, str]] = field(default_factory=list)


def is_area_key(text: str) -> bool:
    """LEVEL:CODE, or a preset without spaces the page knows (centrumsteden) — not a typed name."""
    return ":" in text


def look_up(ctx, text: str, lang: str) -> TypedArea:
    """The area a name typed in a picker without JavaScript means."""
    matches, _ = ops.suggest_areas(ctx, text, limit=MAX_OFFERED)
    found = resolve(matches)
    if found is not None:
        return TypedArea(text, found.area.key)
    return TypedArea(text, None, [(area_label(m.area, lang), m.area.key) for m in matches])


def picked(refs, lang: str) -> list[dict[str, str]]:
    """The chosen areas (AreaRefs) as the picker shows them."""
    return [{"key": f"{r.level}:{r.code}", "name": labels.area_name(r.level, r.code, r.name, lang),
             "level_name": r.level_name} for r in refs]


def tree_in_language(nodes: list[TreeNode], lang: str) -> list[TreeNode]:
    """The tree with the regions' names in the page's language (Flemish Region)."""
    return [replace(n, name=labels.area_name(n.level, n.code, n.name, lang),
                    children=tuple(tree_in_language(list(n.children), lang))) for n in nodes]
