"""The text of a Statbel file, line by line: its header, its encoding, and — when pyarrow refuses
the file — which lines it could not get past and why (pyarrow names no line).

Statbel writes one record per line, pipe-separated, without quotes; so each line is looked at on
its own: a line longer than any record, a quote that does not close on its line, a line with
another number of fields than the header."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Iterator

from obmi.errors import ValidationError
from obmi.imports.sheets import FIELD_LIMIT, detect_encoding

MAX_PROBLEMS = 100  # a broken file shows its first problems, not a copy of itself
_PYARROW_NAMES = {"utf-8": "utf8", "utf-8-sig": "utf8"}


def _lines(path: Path, encoding: str) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding=encoding, errors="replace", newline="") as handle:
        yield from handle


def header_of(path: Path) -> list[str]:
    """The column names of the first line (ASCII in every Statbel layout; a BOM is dropped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = handle.readline()
    except (OSError, EOFError) as exc:
        raise ValidationError(f"{path.name}: cannot read the file ({exc})") from None
    return [c.strip() for c in first.rstrip("\r\n").split("|")]


def text_encoding(path: Path) -> str:
    """The encoding the whole file decodes in: UTF-8, else Windows-1252, else Latin-1."""
    found = detect_encoding(path)
    return "utf-8" if found == "utf-8-sig" else found


def pyarrow_encoding(encoding: str) -> str:
    return _PYARROW_NAMES.get(encoding, encoding)


def line_problem(text: str, width: int) -> str | None:
    """What keeps one line from being a Statbel record of `width` fields, or None."""
    if len(text) > FIELD_LIMIT:
        return f"a line of {len(text):,} characters (a record is far shorter: a missing line break?)"
    try:
        fields = next(csv.reader([text], delimiter="|", strict=True), [])
    except csv.Error as exc:
        if "expected after" in str(exc):
            return "text after the closing quote of a value (a stray quote?)"
        return "a quote (\") opens a value that is not closed on this line"
    if len(fields) != width:
        return f"{len(fields)} fields where the header has {width} (a missing or an extra separator?)"
    return None


def diagnose(path: Path, encoding: str, width: int) -> list[tuple[int, str]]:
    """(line, problem) for the first lines that are no record of `width` fields."""
    problems: list[tuple[int, str]] = []
    lines = _lines(path, encoding)
    next(lines, None)  # the header
    for number, line in enumerate(lines, start=2):
        problem = line_problem(line.rstrip("\r\n"), width)
        if problem:
            problems.append((number, problem))
            if len(problems) >= MAX_PROBLEMS:
                break
    return problems
