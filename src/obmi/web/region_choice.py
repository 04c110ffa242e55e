"""Which region(s) an indicator page shows (`?region=`): the Flemish Region, the Brussels-Capital
Region or both, by default the instance's own (OBMI_HOME_REGION). Only the reading of the URL
lives here; the areas are filtered in the query layer (ObservationQuery.regions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from obmi.geo.levels import BELGIAN_REGIONS
from obmi.publish import labels
from obmi.web import i18n

# The regions the shared geography has areas in (the Walloon region has none: choosing it would
# only ever show an empty page).
OFFERED = ("2000", "4000")
REGION_LEVEL = "gewest"


@dataclass(frozen=True)
class RegionChoice:
    codes: tuple[str, ...]  # chosen, in the order of OFFERED
    default: tuple[str, ...]
    notice: str = ""  # what was wrong with the URL's value (then the default is shown)

    @property
    def param(self) -> Optional[str]:
        """The value for links: nothing when it is the default."""
        return None if self.codes == self.default else ",".join(self.codes)

    @property
    def value(self) -> str:
        return ",".join(self.codes)


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.replace(" ", ",").split(",") if c.strip())


def region_codes(text: Optional[str]) -> tuple[str, ...]:
    """`?region=` of the API and downloads: region codes separated by commas (the query layer
    refuses an unknown one with a 422 naming the known ones); empty: every region."""
    return _codes(text) if text else ()


def _ordered(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(codes), key=lambda c: (OFFERED.index(c) if c in OFFERED else 99, c)))


def parse_region(text: Optional[str], home: str, lang: str) -> RegionChoice:
    """The regions asked for; an unknown code gets the default and a notice naming the choices."""
    default = _ordered(tuple(c for c in _codes(home) if c in OFFERED)) or OFFERED[:1]
    if not text or not text.strip():
        return RegionChoice(default, default)
    wanted = _codes(text)
    unknown = [c for c in wanted if c not in OFFERED]
    if unknown or not wanted:
        choices = ", ".join(f"{code} ({region_name(code, lang)})" for code in OFFERED)
        notice = i18n.translate(lang, "Onbekend gewest %(value)s: kies uit %(choices)s. Hieronder: %(shown)s.") % {
            "value": ", ".join(unknown) or text, "choices": choices, "shown": regions_label(default, lang)}
        return RegionChoice(default, default, notice)
    return RegionChoice(_ordered(wanted), default)


def region_name(code: str, lang: str) -> str:
    return labels.area_name(REGION_LEVEL, code, BELGIAN_REGIONS.get(code, code), lang)


def regions_label(codes: tuple[str, ...], lang: str) -> str:
    if len(codes) == len(OFFERED):
        return i18n.translate(lang, "Vlaams en Brussels Hoofdstedelijk Gewest")
    return ", ".join(region_name(c, lang) for c in codes)


def region_options(lang: str) -> list[tuple[str, str]]:
    """(value, label) for the region selector: each region, then both."""
    return [(code, region_name(code, lang)) for code in OFFERED] + [(",".join(OFFERED), regions_label(OFFERED, lang))]


def filters_level(level: Optional[str], sort_orders: dict[str, int]) -> bool:
    """Whether the region choice applies at `level`: areas below the regions (not the regions or
    Belgium themselves), in a geography that has regions at all."""
    if level is None or REGION_LEVEL not in sort_orders or level not in sort_orders:
        return False
    return sort_orders[level] < sort_orders[REGION_LEVEL]
