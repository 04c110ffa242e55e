"""Human names of levels, palettes and the regions, in Dutch and English, for every channel that
shows them (pages, captions, breadcrumbs, downloads' metadata). Never a raw code such as
`gemeente2024` or `blues` where a person reads it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from obmi.geo.levels import AREA_NAMES_EN, BUILTIN_BY_CODE
from obmi.publish.classify import PALETTE_NAMES, PALETTES
from obmi.query.areas import AreaRef

# Levels in sentences ("Geen gegevens voor wijken in 2015"), by level family; a version level
# keeps the bracketed part of its name ("gemeenten (tot 2018)"). Other levels use their name.
LEVEL_PLURALS = {
    "statsec": ("statistische sectoren", "statistical sectors"), "ggw7": ("wijken", "neighbourhoods"),
    "deelgemeente": ("deelgemeenten", "former municipalities"), "gemeente": ("gemeenten", "municipalities"),
    "arrondiss": ("arrondissementen", "districts"), "provincie": ("provincies", "provinces"),
    "gewest": ("gewesten", "regions"), "belgie": ("België", "Belgium"),
}

PALETTE_KINDS = {"sequential": ("oplopend", "sequential"), "diverging": ("tweezijdig", "diverging")}
AROUND = ("rond", "around")  # a diverging palette's middle: "tweezijdig rond Vlaams Gewest"


def level_label(code: str, lang: str, name_nl: str = "", name_en: str = "") -> str:
    """A level's name with its boundary version: "Gemeente (indeling 2025)", "Gemeente (2019–2024)",
    "Wijk"; a city's own level by its stored name (`name_nl`/`name_en`), else its code."""
    builtin = BUILTIN_BY_CODE.get(code)
    if builtin is not None:
        return builtin.label(lang)
    return (name_en if lang == "en" and name_en else name_nl) or code


def level_plural(code: str, family: str | None, lang: str, name_nl: str = "", name_en: str = "") -> str:
    """A level in a sentence, plural: "wijken", "gemeenten (tot 2018)", "municipalities (2019–2024)";
    today's state reads plainly ("gemeenten": the selector and caption say which boundaries); a
    city's own level by its name."""
    builtin = BUILTIN_BY_CODE.get(code)
    plural = LEVEL_PLURALS.get(family or "") if builtin is not None else None
    if builtin is None or plural is None:
        return level_label(code, lang, name_nl, name_en)
    name = builtin.name_en if lang == "en" and builtin.name_en else builtin.name_nl
    suffix = name[name.index("("):] if "(" in name else ""
    return f"{plural[lang == 'en']} {suffix}".strip()


def area_name(level: str, code: str, name: str, lang: str) -> str:
    """An area's name in the page's language: the regions and Belgium have English names; every
    other area keeps its own (official) name."""
    return AREA_NAMES_EN.get((level, code), name) if lang == "en" else name


def refs_in_language(refs: Sequence[AreaRef], lang: str) -> list[AreaRef]:
    """Area references with their names in the page's language."""
    return [replace(r, name=area_name(r.level, r.code, r.name, lang)) for r in refs]


def palette_label(code: str, lang: str, reference: str = "") -> str:
    """A palette by name and kind: "Blauw (oplopend)", "Rood-blauw (tweezijdig rond Vlaams Gewest)"; English alike."""
    names = PALETTE_NAMES.get(code)
    if names is None or code not in PALETTES:
        return code
    en = lang == "en"
    kind = PALETTES[code][0]
    words = PALETTE_KINDS.get(kind, (kind, kind))[en]
    if kind == "diverging" and reference:
        words += f" {AROUND[en]} {reference}"
    return f"{names[en]} ({words})"


def palette_labels(lang: str, reference: str = "") -> dict[str, str]:
    return {code: palette_label(code, lang, reference) for code in PALETTES}
