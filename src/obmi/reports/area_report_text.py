"""The texts of an area report: Markdown with placeholders such as `{gebied}` or
`{waarde:share_65plus}`, each replaced by a figure of the area the report is rendered for.

The placeholders (Dutch names, English aliases; arguments after colons):

    {gebied}                  {area}                    the area's name
    {niveau}                  {level}                   its level, in words ("gemeente")
    {waarde:IND}              {value:IND}               the latest published value of indicator IND
    {periode:IND}             {period:IND}              the period of that value
    {verandering:IND}         {change:IND}              its change against the previous published period
    {verschil:IND:REF}        {difference:IND:REF}      the value minus that of reference REF, same period
    {rang:IND}, {rang:IND:LV} {rank:IND}, {rank:IND:LV} its rank among the areas of its level in the LV
                                                        area it lies in (1 = highest), "3 van 64"
    {referentie:REF}          {reference:REF}           the name of reference area REF

REF is a level name (the area of that level the report's area lies in: provincie, gewest) or
LEVEL:CODE. `{{` and `}}` write a literal brace. A value that is not published (small numbers,
withheld by the source, missing) is said in words, never as a number.

Placeholders are replaced after the Markdown is parsed, so an area called `*Oost*` or
`#set page()` stays text in the page and in the PDF (data never passes through Typst markup)."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from obmi.publish.content import sanitize


@dataclass(frozen=True)
class PlaceholderKind:
    name: str  # the Dutch name, used in the code
    alias: str  # the English one
    args: tuple[str, ...]  # "indicator", "reference" or "level" — a trailing "?" is optional


KINDS = (
    PlaceholderKind("gebied", "area", ()),
    PlaceholderKind("niveau", "level", ()),
    PlaceholderKind("waarde", "value", ("indicator",)),
    PlaceholderKind("periode", "period", ("indicator",)),
    PlaceholderKind("verandering", "change", ("indicator",)),
    PlaceholderKind("verschil", "difference", ("indicator", "reference")),
    PlaceholderKind("rang", "rank", ("indicator", "level?")),
    PlaceholderKind("referentie", "reference", ("reference",)),
)
BY_NAME = {k.name: k for k in KINDS} | {k.alias: k for k in KINDS}
# {word} or {word:arg:arg}: anything else in braces is left alone
_PLACEHOLDER = re.compile(r"\{([a-z]+)((?::[^{}:\s]+)*)\}")
_OPEN, _CLOSE = "\ue002", "\ue003"  # `{{` and `}}` while placeholders are looked for
_TOKEN = re.compile("\ue000(\\d+)\ue001")


@dataclass(frozen=True)
class Placeholder:
    kind: PlaceholderKind
    args: tuple[str, ...]
    raw: str

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.kind.name, self.args


def _escaped(text: str) -> str:
    return text.replace("{{", _OPEN).replace("}}", _CLOSE)


def _unescaped(text: str) -> str:
    return text.replace(_OPEN, "{").replace(_CLOSE, "}")


def _matches(text: str) -> Iterable[re.Match[str]]:
    return _PLACEHOLDER.finditer(_escaped(text))


# --- checking ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """What a report may name: the indicator codes of the catalogue and the area levels."""

    indicators: frozenset[str]
    levels: frozenset[str]


def nearest(word: str, choices: Iterable[str]) -> str:
    """" (did you mean share_65plus?)" for a typo, "" when nothing looks alike."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_indicator(code: str, known: Known) -> str:
    return f"unknown indicator {code!r}{nearest(code, known.indicators)}"


def check_placeholders(text: str, known: Known) -> list[tuple[int, str]]:
    """(line within the text, problem) of every placeholder that is unknown or badly written."""
    problems = []
    escaped = _escaped(text)
    for match in _PLACEHOLDER.finditer(escaped):
        line = escaped.count("\n", 0, match.start()) + 1
        problem = _problem(match, known)
        if problem:
            problems.append((line, problem))
    return problems


def _problem(match: re.Match[str], known: Known) -> str:
    name, args = match.group(1), [a for a in match.group(2).split(":") if a]
    kind = BY_NAME.get(name)
    raw = _unescaped(match.group(0))
    if kind is None:
        return f"unknown placeholder {raw}{nearest(name, BY_NAME)} (known: {', '.join(k.name for k in KINDS)})"
    required = [a for a in kind.args if not a.endswith("?")]
    if not len(required) <= len(args) <= len(kind.args):
        wanted = "".join(f"[:{a[:-1].upper()}]" if a.endswith("?") else f":{a.upper()}" for a in kind.args)
        return f"placeholder {raw} is written {{{kind.name}{wanted}}}"
    for arg, role in zip(args, kind.args):
        role = role.rstrip("?")
        if role == "indicator" and arg not in known.indicators:
            return f"{raw}: {unknown_indicator(arg, known)}"
        level = arg.partition(":")[0] if role == "reference" else arg
        if role in ("reference", "level") and level not in known.levels:
            return f"{raw}: unknown level {level!r}{nearest(level, known.levels)}"
    return ""


def placeholders(text: str) -> list[Placeholder]:
    """The well-formed placeholders of `text`, in order (a checked report has only those)."""
    found = []
    for match in _matches(text):
        kind = BY_NAME.get(match.group(1))
        if kind is not None:
            found.append(Placeholder(kind, tuple(a for a in match.group(2).split(":") if a), match.group(0)))
    return found


# --- rendering -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """A piece of a paragraph with one style (the PDF sets each as Typst text, never markup)."""

    text: str
    strong: bool = False
    em: bool = False
    link: str = ""


@dataclass(frozen=True)
class Paragraph:
    kind: str  # "p", or "li" (an item of a list), "heading" (a heading inside the text)
    runs: tuple[Run, ...]
    number: int | None = None  # ordered lists


@dataclass(frozen=True)
class RenderedText:
    html: str  # sanitised
    paragraphs: tuple[Paragraph, ...]


def render_text(text: str, fill: Callable[[Placeholder], str]) -> RenderedText:
    """The text as sanitised HTML and as styled paragraphs, every placeholder replaced by `fill`."""
    values: list[str] = []

    def token(match: re.Match[str]) -> str:
        kind = BY_NAME.get(match.group(1))
        if kind is None:
            return match.group(0)
        values.append(fill(Placeholder(kind, tuple(a for a in match.group(2).split(":") if a), match.group(0))))
        return f"\ue000{len(values) - 1}\ue001"

    tokenised = _unescaped(_PLACEHOLDER.sub(token, _escaped(text)))
    markup = _TOKEN.sub(lambda m: html.escape(values[int(m.group(1))]), sanitize(MarkdownIt().render(tokenised)))
    paragraphs = tuple(_paragraphs(MarkdownIt().parse(tokenised), lambda s: _TOKEN.sub(
        lambda m: values[int(m.group(1))], s)))
    return RenderedText(markup, paragraphs)


def _paragraphs(tokens: list[Any], filled: Callable[[str], str]) -> Iterable[Paragraph]:
    """Paragraphs, list items and headings of parsed Markdown with their inline runs."""
    kind, number, counters = "p", None, []
    for tok in tokens:
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            counters.append(0 if tok.type == "ordered_list_open" else None)
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
        elif tok.type == "list_item_open":
            kind = "li"
            if counters and counters[-1] is not None:
                counters[-1] += 1
            number = counters[-1] if counters else None
        elif tok.type == "heading_open":
            kind = "heading"
        elif tok.type == "inline":
            runs = tuple(_runs(tok.children or [], filled))
            if runs:
                yield Paragraph(kind, runs, number if kind == "li" else None)
            kind = "li" if counters else "p"
        elif tok.type in ("code_block", "fence"):
            yield Paragraph("p", (Run(filled(tok.content.rstrip("\n"))),))


def _runs(children: list[Any], filled: Callable[[str], str]) -> Iterable[Run]:
    strong = em = False
    link = ""
    for child in children:
        if child.type in ("strong_open", "strong_close"):
            strong = child.type == "strong_open"
        elif child.type in ("em_open", "em_close"):
            em = child.type == "em_open"
        elif child.type == "link_open":
            link = str(child.attrs.get("href", ""))
        elif child.type == "link_close":
            link = ""
        elif child.type in ("text", "code_inline"):
            yield Run(filled(child.content), strong, em, link)
        elif child.type in ("softbreak", "hardbreak"):
            yield Run(" ")
        elif child.type in ("html_inline",):
            continue  # pasted markup: the HTML page drops it as well (sanitize)
