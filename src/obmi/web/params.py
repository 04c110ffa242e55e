"""The bounds of every request parameter, in one place.

Two layers with the same rules, so that they never disagree:
- `check_parameters`, a dependency of the whole app, holds every parameter of every route — also
  those no route declares (OData's `$filter`, Swing's options, junk) — to a size and refuses
  control characters (a line break in a value could otherwise reach a response header);
- the `Annotated` types below declare the tighter bounds of the parameters routes do declare
  (codes, free text, periods, LEVEL:CODE, whole numbers the database and the JSON encoder can
  hold), so that the OpenAPI document states exactly what is accepted.

Both answer with FastAPI's RequestValidationError, which `field_errors` puts in plain words in the
page's language (web/errors.py): one message per broken rule, whichever layer found it."""

from __future__ import annotations

import re
from typing import Annotated, Any, Optional

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints

from obmi.geo.levels import BELGIAN_REGIONS
from obmi.web import i18n

MAX_INT = 2**31 - 1  # ids, versions, offsets: PostgreSQL's INTEGER; more is never a row
MAX_TEXT = 200  # free text: a search, a filter
MAX_CODE = 100  # a code, or LEVEL:CODE
MAX_VALUE = 4096  # any one value, declared or not (an OData $filter with a few hundred codes)
MAX_QUERY = 32_768  # the whole query string, in bytes
MAX_PARAMETERS = 1000

# No control character (C0, DEL, C1): nothing a person types, and CR/LF could split a header.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
CONTROL = re.compile(f"[{_CONTROL}]")
PLAIN = rf"^[^{_CONTROL}]*$"
_DAY = r"[1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)"
# The grammar of obmi.indicators.periods: year, quarter, month, date, survey edition.
PERIOD = (rf"^([0-9]{{4}}|[0-9]{{4}}-Q[1-4]|[0-9]{{4}}-(0[1-9]|1[0-2])|{_DAY}"
          r"|[A-Za-z][A-Za-z0-9_.-]{0,15}[0-9]{4})$")
PERIOD_OR_LATEST = rf"{PERIOD}|^latest$"  # `latest`: the most recent period with data
AREA_KEY = rf"^[^:\s{_CONTROL}]+:[^\s{_CONTROL}]+$"  # gemeente:44021 (obmi.geo.codes.parse_area_key)
_REGION = "(" + "|".join(BELGIAN_REGIONS) + ")"  # Belgium's three regions
REGIONS = rf"^{_REGION}([ ,]+{_REGION})*$"

# What a value that does not match means, in words (Dutch msgids; English in messages.po).
PATTERN_WORDS = {
    PLAIN: "bevat een stuurteken (zoals een regeleinde), dat hier niet mag",
    PERIOD: "is geen periode: verwacht een jaar (2015), kwartaal (2015-Q1), maand (2015-03), datum (2015-03-01) "
            "of editie (stadsmonitor-2023)",
    PERIOD_OR_LATEST: "is geen periode: verwacht latest, een jaar (2015), kwartaal (2015-Q1), maand (2015-03), "
                      "datum (2015-03-01) of editie (stadsmonitor-2023)",
    AREA_KEY: "verwacht NIVEAU:CODE, bijvoorbeeld gemeente:44021",
    REGIONS: "verwacht gewestcodes (2000, 3000, 4000) gescheiden door komma's, bijvoorbeeld 2000 of 2000,4000",
}


def _text(max_length: int, pattern: str = PLAIN, **kwargs: Any) -> Any:
    return Query(max_length=max_length, pattern=pattern, **kwargs)


# --- text -------------------------------------------------------------------------------------
Code = Annotated[str, _text(MAX_CODE, min_length=1)]
OptionalCode = Annotated[Optional[str], _text(MAX_CODE, min_length=1)]
# One value of a repeatable parameter (a list's bounds are those of its values).
CodeItem = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE, pattern=PLAIN)]
AreaKeyItem = Annotated[str, StringConstraints(max_length=MAX_CODE, pattern=AREA_KEY)]
CodeList = Annotated[list[CodeItem], Query()]
SearchText = Annotated[str, _text(MAX_TEXT, description="Words to look for (accents and case ignored).")]
OptionalText = Annotated[Optional[str], _text(MAX_TEXT)]
OptionalPeriod = Annotated[Optional[str], _text(30, PERIOD_OR_LATEST, description=(
    "2015, 2015-Q1, 2015-03, 2015-03-01, a survey edition such as stadsmonitor-2023, or `latest` "
    "(the most recent with data); default: every period."))]
OptionalAreaKey = Annotated[Optional[str], _text(MAX_CODE, AREA_KEY, description="LEVEL:CODE, e.g. provincie:40000.")]
AreaKeyList = Annotated[list[AreaKeyItem], Query(description="LEVEL:CODE (repeatable).")]
RegionCodes = Annotated[Optional[str], _text(MAX_CODE, REGIONS, description=(
    "Region codes separated by commas, e.g. 2000 or 2000,4000."))]
PathCode = Annotated[str, Path(max_length=MAX_CODE, pattern=PLAIN)]

# --- whole numbers ----------------------------------------------------------------------------
Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="Rows to skip.")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_INT)]
OptionalId = Annotated[Optional[int], Query(ge=1, le=MAX_INT)]
Version = Annotated[Optional[int], Query(ge=1, le=MAX_INT, description="Plan version (default: latest).")]
RecordId = Annotated[int, Path(ge=1, le=MAX_INT)]
Year = Annotated[int, Path(ge=1900, le=2200)]


# --- the whole request ------------------------------------------------------------------------

def _problem(kind: str, where: str, name: str, value: str = "", **ctx: Any) -> dict[str, Any]:
    return {"type": kind, "loc": (where, name), "msg": kind, "input": value, "ctx": ctx}


def _value_problems(where: str, name: str, value: str) -> list[dict[str, Any]]:
    shown = name[:MAX_CODE]
    if len(value) > MAX_VALUE:
        return [_problem("string_too_long", where, shown, value, max_length=MAX_VALUE)]
    if CONTROL.search(name) or CONTROL.search(value):
        return [_problem("string_pattern_mismatch", where, shown, value, pattern=PLAIN)]
    return []


def check_parameters(request: Request) -> None:
    """Refuse (422) a request whose query string or path parameters break the rules above."""
    if len(request.scope.get("query_string", b"")) > MAX_QUERY:
        raise RequestValidationError([_problem("query_too_long", "query", "request", max_length=MAX_QUERY)])
    items = request.query_params.multi_items()
    if len(items) > MAX_PARAMETERS:
        raise RequestValidationError([_problem("too_many_parameters", "query", "request", limit=MAX_PARAMETERS)])
    problems = [p for name, value in items for p in _value_problems("query", name, value)]
    problems += [p for name, value in request.path_params.items() if isinstance(value, str)
                 for p in _value_problems("path", name, value)]
    if problems:
        raise RequestValidationError(problems[:20])


# --- in words ---------------------------------------------------------------------------------

# pydantic's error types (and check_parameters' own) → Dutch msgid, with the `ctx` key it names.
WORDS: dict[str, tuple[str, str | None]] = {
    "missing": ("ontbreekt", None),
    "string_too_short": ("mag niet leeg zijn", None),
    "int_parsing": ("moet een geheel getal zijn", None),
    "int_from_float": ("moet een geheel getal zijn", None),
    "float_parsing": ("moet een getal zijn", None),
    "finite_number": ("moet een eindig getal zijn", None),
    "bool_parsing": ("moet true of false zijn", None),
    "less_than_equal": ("hoogstens %(n)s", "le"),
    "less_than": ("kleiner dan %(n)s", "lt"),
    "greater_than_equal": ("minstens %(n)s", "ge"),
    "greater_than": ("groter dan %(n)s", "gt"),
    "literal_error": ("kies uit %(n)s", "expected"),
    "enum": ("kies uit %(n)s", "expected"),
    "string_too_long": ("te lang: hoogstens %(n)s tekens", "max_length"),
    "query_too_long": ("het adres is te lang: hoogstens %(n)s tekens na het vraagteken", "max_length"),
    "too_many_parameters": ("te veel parameters: hoogstens %(n)s", "limit"),
    "json_invalid": ("is geen geldige JSON", None),
    "body_unreadable": ("kan niet gelezen worden (geen UTF-8, of onvolledige multipart-gegevens)", None),
}


def describe(error: dict[str, Any], lang: str) -> str:
    """One validation error (pydantic's or check_parameters') in plain words, in `lang`."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return i18n.translate(lang, PATTERN_WORDS.get(str(ctx.get("pattern")), "heeft niet de verwachte vorm"))
    if kind not in WORDS:
        return str(error.get("msg", kind))
    text, key = WORDS[kind]
    value = ctx.get(key) if key else None
    if isinstance(value, str):  # pydantic's "'nl' or 'en'": the choices, without an English word
        value = value.replace("' or '", "', '")
    return i18n.translate(lang, text) % {"n": i18n.number(value, 0, lang) if isinstance(value, int) else value}


def field_errors(errors: Any, lang: str) -> dict[str, list[str]]:
    """Parameter (or body field) → what is wrong with it, in `lang`."""
    out: dict[str, list[str]] = {}
    for error in errors:
        where = ".".join(str(p) for p in tuple(error.get("loc", ()))[1:]) or "request"
        out.setdefault(where, []).append(describe(error, lang))
    return out


def summary(errors: dict[str, list[str]]) -> str:
    """field_errors as one line: `offset: at most 2,147,483,647; q: too long: …`."""
    return "; ".join(f"{field}: {', '.join(messages)}" for field, messages in errors.items())


def in_words(exc: RequestValidationError) -> str:
    """What is wrong with a request, in English, for the services that answer errors their own way."""
    return summary(field_errors(exc.errors(), "en"))
