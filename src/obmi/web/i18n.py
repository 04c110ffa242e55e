"""Dutch first, English second: UI strings are written in Dutch and translated through a
gettext catalogue (web/locale/en/LC_MESSAGES/messages.po, read with Babel); numbers and dates are
formatted per locale with Babel."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date as babel_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("nl", "en")
LOCALES = {"nl": "nl_BE", "en": "en_GB"}
CATALOGUES = Path(__file__).parent / "locale"


@cache
def _catalogue(lang: str) -> dict[str, str]:
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def translate(lang: str, text: str) -> str:
    return _catalogue(lang).get(text, text) if lang != "nl" else text


def number(value: float | None, decimals: int, lang: str) -> str:
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(round(value, decimals), format=pattern, locale=LOCALES[lang])


def date(value: datetime, lang: str) -> str:
    return babel_date(value, format="long", locale=LOCALES[lang])


def pick(lang: str, nl: str, en: str) -> str:
    """A bilingual field (indicator names): English when asked and present."""
    return en if lang == "en" and en else nl
