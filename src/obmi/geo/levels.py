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
    # The name people read in selectors and captions when it differs from `name_nl`: the current
    # state of a level that has older versions says which boundaries it is ("indeling 2025"), so
    # that nobody takes Antwerpen 2015 (with Borsbeek) for Statbel's Antwerpen 2015.
    label_nl: str = ""
    label_en: str = ""

    def label(self, lang: str) -> str:
        if lang == "en":
            return self.label_en or self.name_en or self.name_nl
        return self.label_nl or self.name_nl


BUILTIN_LEVELS: tuple[LevelDef, ...] = (
    LevelDef("statsec", "Statistische sector", "Statistical sector", "statsec", 10, True, "2024-01-01",
             label_nl="Statistische sector (indeling 2025)", label_en="Statistical sector (2025 boundaries)"),
    LevelDef("statsec2024", "Statistische sector (2024)", "Statistical sector (2024)", "statsec", 11,
             False, "2024-01-01", "2024-12-31"),
    LevelDef("statsec2019", "Statistische sector (2019)", "Statistical sector (2019)", "statsec", 12,
             False, "2019-01-01", "2023-12-31"),
    LevelDef("ggw7", "Wijk", "Neighbourhood", "ggw7", 20),
    # The same cities' wijken built on the 2020–2024 sectors: data on 2019/2024 sector codes
    # reaches these; their borders differ from today's wijken where sectors were re-divided.
    LevelDef("ggw72024", "Wijk (sectoren 2020–2024)", "Neighbourhood (2020–2024 sectors)", "ggw7", 21,
             False, "2020-01-01", "2024-12-31"),
    LevelDef("deelgemeente", "Deelgemeente", "Former municipality", "deelgemeente", 30, True, "2025-01-01",
             label_nl="Deelgemeente (indeling 2025)", label_en="Former municipality (2025 boundaries)"),
    LevelDef("deelgemeente2024", "Deelgemeente (2019–2024)", "Former municipality (2019–2024)",
             "deelgemeente", 31, False, "2019-01-01", "2024-12-31"),
    LevelDef("gemeente", "Gemeente", "Municipality", "gemeente", 40, True, "2025-01-01",
             label_nl="Gemeente (indeling 2025)", label_en="Municipality (2025 boundaries)"),
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
# Their names in English (the stored names are the official Dutch ones).
AREA_NAMES_EN = {("gewest", "2000"): "Flemish Region", ("gewest", "3000"): "Walloon Region",
                 ("gewest", "4000"): "Brussels-Capital Region", ("provincie", "4000"): "Brussels-Capital Region",
                 ("belgie", "100"): "Belgium"}


def canonical_level(name: str) -> str:
    name = name.strip().lower()
    return LEVEL_ALIASES.get(name, name)


def user_level(code: str, sort_order: int = 35) -> LevelDef:
    """A level a city defines itself (e.g. its own districts)."""
    return LevelDef(code, code, code, code, sort_order)
