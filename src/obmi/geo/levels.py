"""Built-in area levels. Names follow the shared Swing-style files; a version level carries the
year of its last state (gemeente2024 = 2019–2024) and belongs to the family of the current one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LevelDef:
    code: str
    name_nl: str
    name_en: str
    family: str
    sort_order: int  # small = fine-grained; used for display and for default derivation order
    is_current: bool = True
    valid_from: str | None = None
    valid_to: str | None = None


BUILTIN_LEVELS: tuple[LevelDef, ...] = (
    LevelDef("statsec", "Statistische sector", "Statistical sector", "statsec", 10, True, "2024-01-01"),
    LevelDef("statsec2024", "Statistische sector (2024)", "Statistical sector (2024)", "statsec", 11,
             False, "2024-01-01", "2024-12-31"),
    LevelDef("statsec2019", "Statistische sector (2019)", "Statistical sector (2019)", "statsec", 12,
             False, "2019-01-01", "2023-12-31"),
    LevelDef("ggw7", "Wijk", "Neighbourhood", "ggw7", 20),
    # The same cities' wijken built on the 2020–2024 sectors: data on 2019/2024 sector codes
    # reaches these; their borders differ from today's wijken where sectors were re-divided.
    LevelDef("ggw72024", "Wijk (sectoren 2020–2024)", "Neighbourhood (2020–2024 sectors)", "ggw7", 21,
             False, "2020-01-01", "2024-12-31"),
    LevelDef("deelgemeente", "Deelgemeente", "Former municipality", "deelgemeente", 30, True, "2025-01-01"),
    LevelDef("deelgemeente2024", "Deelgemeente (2019–2024)", "Former municipality (2019–2024)",
             "deelgemeente", 31, False, "2019-01-01", "2024-12-31"),
    LevelDef("gemeente", "Gemeente", "Municipality", "gemeente", 40, True, "2025-01-01"),
    LevelDef("gemeente2024", "Gemeente (2019–2024)", "Municipality (2019–2024)", "gemeente", 41,
             False, "2019-01-01", "2024-12-31"),
    LevelDef("gemeente2018", "Gemeente (tot 2018)", "Municipality (until 2018)", "gemeente", 42,
             False, None, "2018-12-31"),
    LevelDef("arrondiss", "Arrondissement", "District", "arrondiss", 50),
    LevelDef("provincie", "Provincie", "Province", "provincie", 60),
    LevelDef("gewest", "Gewest", "Region", "gewest", 70),
    LevelDef("belgie", "België", "Belgium", "belgie", 80),
)

BUILTIN_BY_CODE = {level.code: level for level in BUILTIN_LEVELS}

# Alternative spellings met in files (none in the shared files so far).
LEVEL_ALIASES: dict[str, str] = {}

# Belgium has three regions. The shared geography knows only Flanders and Brussels; adding the
# Walloon region (without children) keeps OBMi from passing a Flemish+Brussels sum off as Belgium.
BELGIAN_REGIONS = {"2000": "Vlaams Gewest", "3000": "Waals Gewest", "4000": "Brussels Hoofdstedelijk Gewest"}
BELGIUM = ("100", "België")


def canonical_level(name: str) -> str:
    name = name.strip().lower()
    return LEVEL_ALIASES.get(name, name)


def user_level(code: str, sort_order: int = 35) -> LevelDef:
    """A level a city defines itself (e.g. its own districts)."""
    return LevelDef(code, code, code, code, sort_order)
