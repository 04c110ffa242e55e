"""Reading plan files into a `PlanDraft`. Pure: no database, no HTTP.

A plan file is recognised by its content, never by its name, as one of the layouts registered
under the import kind "plan" (the `obmi_import_readers` hook, so a plugin can add one):

    bbc-json             a JSON list of BBC export records (bd_code, ap_code, ac_code, titles,
                         categories, yearly_amounts): the structure and the yearly amounts
    plan-table           CSV/XLSX with one item per line (type, code, parent, titles, …) and
                         optional year columns (planned amounts)
    budget-registration  CSV/XLSX budget lines of a finance package (actie, beleidsitem, algemene
                         rekening, investeringsenveloppe, uitgave/ontvangst, year columns): amounts
                         only

`read_plan_files` reads several files into one draft (e.g. a structure file plus a budget file)
and reports every problem of every file in one `ImportRejected`. Whether the draft makes sense as
a plan (parents, kinds, cycles, years) is `obmi.plans.validate`'s business.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from obmi.errors import ImportRejected, ValidationError
from obmi.imports.readers import ImportReader, read_table
from obmi.plans.bbc import domain_of, parse_beleidsitem
from obmi.plans.model import AmountLine, ItemDraft, ItemKind, PlanDraft
from obmi.plans.validate import a_kind, kind_name

KIND = "plan"
BBC_JSON = "bbc-json"
PLAN_TABLE = "plan-table"
BUDGET_REGISTRATION = "budget-registration"

Problem = tuple[int, str]

# Header names per field, after `normal_header` (lower case, `_`/`-` as spaces, no spaces
# around `/`). The first name of each field is the documented one.
PLAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("type", "soort", "niveau"),
    "code": ("code",),
    "parent": ("parent", "ouder", "bovenliggend", "bovenliggende code", "parent code"),
    "title_short": ("title short", "title", "titel", "korte titel", "titel kort"),
    "title_long": ("title long", "lange titel", "titel lang"),
    "description": ("description", "omschrijving", "beschrijving"),
    "beleidsdomein": ("beleidsdomein", "domein"),
    "beleidsveld": ("beleidsveld", "beleidsitem"),
    "priority": ("priority", "prioriteit", "prioritair"),
    "owner": ("owner", "eigenaar", "verantwoordelijke"),
    "department": ("department", "dienst", "afdeling"),
    "mandataris": ("mandataris", "schepen", "bevoegd mandataris"),
    "start": ("start", "begin", "startdatum", "begindatum", "start date"),
    "end": ("end", "einde", "einddatum", "end date"),
    "tags": ("tags", "tag", "trefwoorden", "labels"),
}

BUDGET_COLUMNS: dict[str, tuple[str, ...]] = {
    "actie": ("actie", "actiecode", "actie code", "code actie"),
    "beleidsitem": ("beleidsitem", "beleidsveld"),
    "account": ("algemene rekening", "algemenerekening", "ar", "rekening"),
    "envelope": ("investeringsenveloppe", "investeringsenvelop", "enveloppe", "ie"),
    "direction": ("uitgave/ontvangst", "ontvangst/uitgave", "uitgave of ontvangst", "uitgave ontvangst", "u/o", "uo"),
}
BUDGET_REQUIRED = ("actie", "beleidsitem", "account", "direction")

KIND_NAMES: dict[str, ItemKind] = {
    **{kind.value.replace("_", " "): kind for kind in ItemKind},
    "bd": ItemKind.BELEIDSDOELSTELLING, "ap": ItemKind.ACTIEPLAN, "ac": ItemKind.ACTIE,
    "pr": ItemKind.PROJECT, "rw": ItemKind.REGULIERE_WERKING,
}
DIRECTIONS = {"u": "uitgave", "uitgave": "uitgave", "uitgaven": "uitgave",
              "o": "ontvangst", "ontvangst": "ontvangst", "ontvangsten": "ontvangst"}
TRUE_WORDS = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
FALSE_WORDS = {"nee", "n", "no", "false", "onwaar", "0"}

_YEAR_HEADER = re.compile(r"^(\d{4})(?:\.0)?$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?$", re.IGNORECASE)
_BELGIAN_THOUSANDS = re.compile(r"^[-+]?\d{1,3}\.\d{3}$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ACCOUNT = re.compile(r"^\d{7}$")


# --- the public entry point -------------------------------------------------------------------

def plan_readers() -> list[ImportReader]:
    """The built-in plan layouts, registered by `obmi.imports.readers.obmi_import_readers`."""
    return [
        ImportReader(KIND, BBC_JSON, "JSON list of BBC export records with bd_code, ap_code, ac_code and yearly_amounts",
                     accepts_bbc_json, read_bbc_json),
        ImportReader(KIND, PLAN_TABLE, "CSV/XLSX with one item per line: type, code, parent, title_short, … and year "
                     "columns", accepts_plan_table, read_plan_table),
        ImportReader(KIND, BUDGET_REGISTRATION, "CSV/XLSX budget lines: actie, beleidsitem, algemene rekening, "
                     "investeringsenveloppe, uitgave/ontvangst and year columns", accepts_budget_registration,
                     read_budget_registration),
    ]


def read_plan_files(paths: Sequence[Path]) -> PlanDraft:
    """One draft from one or more plan files, each recognised by its content. Every problem of
    every file is collected into one `ImportRejected`; nothing is returned half-read."""
    from obmi.plugins import import_readers
    if not paths:
        raise ValidationError("no plan file given")
    readers = import_readers(KIND)
    results = [_read_one(Path(path), readers) for path in paths]
    problems = [p for result in results for p in result.problems]
    drafts = [(result.path, result.draft) for result in results if result.draft is not None]
    merged, merge_problems = _merge(drafts)
    problems += merge_problems
    if problems:
        unit = _common_unit(results)
        rejected = [_located(p, unit, many=len(results) > 1) for p in problems]
        raise ImportRejected(f"the plan {'files have' if len(results) > 1 else 'file has'} {len(rejected)} "
                             f"problem{'s' if len(rejected) != 1 else ''}; nothing was read", rejected, unit=unit)
    return merged


# --- one file ---------------------------------------------------------------------------------

@dataclass
class _FileProblem:
    path: Path
    unit: str  # "record" or "line": what `position` counts in this file
    position: int  # 0: the file as a whole
    message: str


@dataclass
class _FileResult:
    path: Path
    draft: PlanDraft | None = None
    problems: list[_FileProblem] = field(default_factory=list)


def _read_one(path: Path, readers: list[ImportReader]) -> _FileResult:
    result = _FileResult(path)
    if not path.is_file():
        result.problems.append(_FileProblem(path, "line", 0, "file not found" if not path.exists() else "not a file"))
        return result
    reader = next((r for r in readers if _accepts(r, path)), None)
    if reader is None:
        position, message = diagnose(path)
        expected = "; ".join(f"{r.name} ({r.description})" for r in readers)
        result.problems.append(_FileProblem(path, "line", position, f"{message} — expected one of: {expected}"))
        return result
    try:
        result.draft = reader.read(path)
    except ImportRejected as exc:
        result.problems += [_FileProblem(path, exc.unit, line, reason) for line, reason in exc.rejected]
    except ValidationError as exc:
        result.problems.append(_FileProblem(path, "line", 0, str(exc)))
    except OSError as exc:
        result.problems.append(_FileProblem(path, "line", 0, f"cannot be read ({exc.strerror or exc})"))
    return result


def _accepts(reader: ImportReader, path: Path) -> bool:
    # Sniffing is asking "is this file mine?": a reader that trips over a file says no, and the
    # next one is asked; `diagnose` explains a file nobody takes.
    try:
        return bool(reader.accepts(path))
    except Exception:
        return False


def _common_unit(results: list[_FileResult]) -> str:
    """What the report's positions count: the unit of the refused files when they agree."""
    units = {problem.unit for result in results for problem in result.problems}
    return units.pop() if len(units) == 1 else "line"


def _located(problem: _FileProblem, unit: str, *, many: bool) -> Problem:
    """(position, reason); with several files the reason names the file (and the record or line
    when this file counts positions differently from the report)."""
    if not many:
        return problem.position, problem.message
    where = problem.path.name
    if problem.position and problem.unit != unit:
        where += f", {problem.unit} {problem.position}"
    return problem.position, f"{where}: {problem.message}"


def _merge(drafts: list[tuple[Path, PlanDraft]]) -> tuple[PlanDraft, list[_FileProblem]]:
    """A structure file and budget files read together are one plan: items and amounts side by
    side. It is amounts-only only when every file is."""
    merged = PlanDraft(layout="+".join(dict.fromkeys(d.layout for _, d in drafts)),
                       amounts_only=bool(drafts) and all(d.amounts_only for _, d in drafts))
    problems: list[_FileProblem] = []
    hint_from: Path | None = None
    for path, draft in drafts:
        merged.items += draft.items
        merged.amounts += draft.amounts
        merged.notes += [f"{path.name}: {note}" for note in draft.notes] if len(drafts) > 1 else draft.notes
        if draft.organisation_hint is None:
            continue
        if merged.organisation_hint is None:
            merged.organisation_hint, hint_from = draft.organisation_hint, path
        elif draft.organisation_hint != merged.organisation_hint and hint_from is not None:
            problems.append(_FileProblem(path, "line", 0, f"is the plan of {draft.organisation_hint}, but "
                                         f"{hint_from.name} is the plan of {merged.organisation_hint}"))
    return merged, problems


def diagnose(path: Path) -> Problem:
    """Why no layout took the file: (line, reason) for a user, without the list of layouts."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return 0, f"cannot be read ({exc.strerror or exc})"
    if not raw.strip():
        return 0, "the file is empty"
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return _diagnose_json(raw)
    header = _header(path)
    if header is None:
        return 0, "not a readable JSON, CSV or XLSX file (a binary file, or text in another encoding than UTF-8?)"
    if any("\x00" in name for name in header):
        return 0, "a binary file, not a JSON, CSV or XLSX plan file"
    return 1, f"the columns ({', '.join(h for h in header if h) or 'none'}) match no plan layout"


def _diagnose_json(raw: bytes) -> Problem:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return 0, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return exc.lineno, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if isinstance(data, dict):
        return 1, ("a JSON object, not a list: a BBC export is a list [ … ] of records with bd_code, ap_code "
                   "and ac_code")
    if not data:
        return 1, "the JSON list holds no records"
    return 1, "the JSON records have no ac_code (a BBC export lists one actie per record)"


# --- cells ------------------------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """A cell as trimmed text; Excel's whole floats (12.0) without their decimals."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_amount(value: Any) -> float:
    """A finite amount from a number or from text such as 1234.5, 1.234,56 or 1 234,56 (Belgian
    exports write a decimal comma and thousands dots); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        number = float(_normal_number(str(value)))
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _normal_number(text: str) -> str:
    original = text
    text = re.sub(r"[\s\u00a0\u202f€']", "", text)
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1 or _BELGIAN_THOUSANDS.match(text):
        # Plan amounts have at most two decimals: "1.234" is a thousand and more, not one.
        text = text.replace(".", "")
    if not _NUMBER.match(text):
        raise ValueError(f"{original.strip()!r} is not a number")
    return text


def parse_date(value: Any) -> str:
    """An ISO date from a date cell, 2026-03-31 or 31/03/2026; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = cell_text(value)
    match = _DAY_FIRST.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day).isoformat()
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write 2026-03-31 or 31/03/2026)") from None


def parse_priority(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if not text:
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not ja/nee, true/false or 1/0")


def parse_beleidsveld(value: Any) -> tuple[str, str | None]:
    """(beleidsveld, beleidsitem or None) of a cell holding either; Excel turns 0200 into 200."""
    text = cell_text(value)
    if text.isdigit() and len(text) < 4:
        text = text.zfill(4)
    veld, given = parse_beleidsitem(text)
    return veld, (given if given != veld else None)


def _truncate(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


# --- bbc-json ---------------------------------------------------------------------------------

def _json_list(path: Path) -> Any:
    raw = path.read_bytes()
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"[":
        return None
    return json.loads(raw.decode("utf-8-sig"))


def accepts_bbc_json(path: Path) -> bool:
    try:
        data = _json_list(path)
    except (OSError, ValueError):  # ValueError covers JSONDecodeError and UnicodeDecodeError
        return False
    return isinstance(data, list) and any(isinstance(r, dict) and "ac_code" in r for r in data[:10])


def read_bbc_json(path: Path) -> PlanDraft:
    """Each record is one actie with its actieplan and beleidsdoelstelling; the beleidsdoelstellingen
    and actieplannen repeated across records are merged. Positions are record numbers (1-based)."""
    try:
        records = _json_list(path)
    except ValueError:
        raise ImportRejected("not a BBC JSON export", [diagnose(path)]) from None
    if not isinstance(records, list):
        raise ImportRejected("not a BBC JSON export", [diagnose(path)])
    plan = _JsonPlan()
    for number, record in enumerate(records, start=1):
        plan.add(number, record)
    if plan.problems:
        raise ImportRejected(f"{len(plan.problems)} records cannot be read", plan.problems, unit="record")
    return PlanDraft(items=list(plan.items.values()), amounts=plan.amounts, layout=BBC_JSON,
                     organisation_hint=plan.organisation_hint, notes=plan.notes)


@dataclass
class _JsonPlan:
    items: dict[str, ItemDraft] = field(default_factory=dict)
    amounts: list[AmountLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    organisation_hint: str | None = None
    nis_code: str = ""
    nis_record: int = 0

    # Source code → the distinct items it names, in file order (see _resolve).
    variants: dict[str, list[ItemDraft]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, number: int, record: Any) -> None:
        before = len(self.problems)
        if not isinstance(record, dict):
            self.problems.append((number, "not a record ({ … } with bd_code, ap_code, ac_code)"))
            return
        self._check_organisation(number, record)
        items = self._items_of(number, record)
        if items and items[-1].code in self.items:
            seen = self.items[items[-1].code]
            self.problems.append((number, f"actie {seen.code} is already record {seen.line}: each actie has one record"))
        if len(self.problems) > before:  # a refused record adds nothing: no follow-up problems
            return
        resolved = self._resolve(number, items)
        amounts = self._amounts_of(number, record, resolved[-1].code if resolved else "")
        if len(self.problems) == before:
            for item in resolved:
                self.items.setdefault(item.code, item)
            self.amounts += amounts

    def _resolve(self, number: int, items: list[ItemDraft]) -> list[ItemDraft]:
        """The record's items with their codes in this plan. The BBC exports bundle the plans of
        several budget entities (the gemeente with an AGB or an OCMW association) without saying
        which record is whose, and each entity numbers its own items: one code can name two
        different items. The first item (in file order) keeps the code, a different one gets
        `CODE/2`, `CODE/3`… — deterministic, so the same file imports the same way again."""
        out: list[ItemDraft] = []
        for item in items:
            if out:
                item.parent = out[-1].code
            same = self.variants.setdefault(item.code, [])
            match = next((v for v in same if not _differences(item, v)), None)
            if match is None:
                source = item.code
                if same:
                    item.code = f"{source}/{len(same) + 1}"
                    self.notes.append(f"record {number}: {source} names another {kind_name(item.kind)} than in record "
                                      f"{same[0].line} (the export bundles budget entities): imported as {item.code}")
                same.append(item)
                match = item
            out.append(match)
        return out

    def _check_organisation(self, number: int, record: dict[str, Any]) -> None:
        nis, name = cell_text(record.get("nis_code")), cell_text(record.get("municipality"))
        if not nis:
            return
        if not self.nis_code:
            self.nis_code, self.nis_record = nis, number
            self.organisation_hint = f"{nis} {name}".strip()
        elif nis != self.nis_code:
            self.problems.append((number, f"nis_code {nis} differs from {self.nis_code} in record {self.nis_record}: "
                                          "one file is the plan of one organisation"))

    def _items_of(self, number: int, record: dict[str, Any]) -> list[ItemDraft]:
        """The record's beleidsdoelstelling (if any), actieplan and actie, top first."""
        bd, ap, ac = (cell_text(record.get(f"{level}_code")) for level in ("bd", "ap", "ac"))
        if not ac:
            self.problems.append((number, "ac_code is empty: each record is one actie"))
            return []
        if not ap:
            self.problems.append((number, f"actie {ac} has no actieplan (ap_code is empty)"))
            return []
        items = []
        if bd:
            items.append(ItemDraft(bd, ItemKind.BELEIDSDOELSTELLING, number, None, *_titles(record, "bd")))
        # An actieplan without beleidsdoelstelling: the exports' "Reguliere werking" stands at the top.
        items.append(ItemDraft(ap, ItemKind.ACTIEPLAN, number, bd or None, *_titles(record, "ap")))
        items.append(ItemDraft(ac, ItemKind.ACTIE, number, ap, *_titles(record, "ac"),
                               beleidsdomein=self._domain_of(number, record)))
        return items

    def _domain_of(self, number: int, record: dict[str, Any]) -> str | None:
        categories = record.get("categories") or []
        if not isinstance(categories, list):
            self.problems.append((number, f"categories: {categories!r} is not a list"))
            return None
        if not categories:
            return None
        try:
            return domain_of(str(categories[0]))
        except ValueError as exc:
            self.problems.append((number, f"categories: {exc}"))
            return None

    def _amounts_of(self, number: int, record: dict[str, Any], code: str) -> list[AmountLine]:
        yearly = record.get("yearly_amounts") or {}
        if not isinstance(yearly, dict):
            self.problems.append((number, "yearly_amounts is not an object of year: amount"))
            return []
        lines = []
        for year, value in yearly.items():
            if not _YEAR_HEADER.match(str(year).strip()):
                self.problems.append((number, f"yearly_amounts: {year!r} is not a year"))
                continue
            if value is None:
                continue
            try:
                lines.append(AmountLine(code, int(str(year).strip()[:4]), parse_amount(value), number))
            except ValueError as exc:
                self.problems.append((number, f"yearly_amounts {year}: {exc}"))
        return lines


def _titles(record: dict[str, Any], level: str) -> tuple[str, str]:
    return cell_text(record.get(f"{level}_short")), cell_text(record.get(f"{level}_long"))


def _differences(item: ItemDraft, seen: ItemDraft) -> list[str]:
    """How `item` (this record) differs from `seen` (an earlier record), in words naming both."""
    there = f"in record {seen.line}"
    found = []
    if item.kind != seen.kind:
        found.append(f"{a_kind(item.kind)} here but {a_kind(seen.kind)} {there}")
    if item.parent != seen.parent:
        found.append(f"under {item.parent or 'nothing'} here but under {seen.parent or 'nothing'} {there}")
    if item.title_short != seen.title_short:
        found.append(f"titled '{_truncate(item.title_short)}' here but '{_truncate(seen.title_short)}' {there}")
    elif item.title_long != seen.title_long:
        found.append(f"described as '{_truncate(item.title_long)}' here but '{_truncate(seen.title_long)}' {there}")
    return found


# --- tables (plan-table, budget-registration) ---------------------------------------------------

def normal_header(name: Any) -> str:
    text = re.sub(r"[_\-\s]+", " ", cell_text(name).lower()).strip()
    return re.sub(r"\s*/\s*", "/", text)


def _header_year(name: str) -> int | None:
    match = _YEAR_HEADER.match(name)
    return int(match.group(1)) if match else None


def field_of(name: str, columns: dict[str, tuple[str, ...]]) -> str | None:
    return next((key for key, names in columns.items() if name in names), None)


def _header(path: Path) -> list[str] | None:
    """The header of a table file, or None when no table reader can read it."""
    try:
        header, rows = read_table(path)
        close_rows(rows)
    except Exception:  # sniffing: any failure means "not a table"
        return None
    return [cell_text(h) for h in header]


def close_rows(rows: Any) -> None:
    # read_table's CSV rows hold the file open until iterated: start and stop to release it.
    if isinstance(rows, Iterator):
        next(rows, None)
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def fields_in(path: Path, columns: dict[str, tuple[str, ...]]) -> set[str]:
    header = _header(path) or []
    return {f for f in (field_of(normal_header(h), columns) for h in header) if f}


def accepts_plan_table(path: Path) -> bool:
    return {"type", "code"} <= fields_in(path, PLAN_COLUMNS)


def accepts_budget_registration(path: Path) -> bool:
    return {"actie", "account"} <= fields_in(path, BUDGET_COLUMNS)


@dataclass
class Columns:
    """Where each field and year is in a table's header, and what is wrong with the header."""
    fields: dict[str, int] = field(default_factory=dict)
    years: dict[int, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, header: list[str], columns: dict[str, tuple[str, ...]]) -> Columns:
        found = cls()
        for index, name in enumerate(header):
            normal = normal_header(name)
            key, year = field_of(normal, columns), _header_year(normal)
            if key is not None:
                duplicate = found.fields.setdefault(key, index) != index
            elif year is not None:
                duplicate = found.years.setdefault(year, index) != index
            else:
                if normal:
                    found.unknown.append(cell_text(name))
                continue
            if duplicate:
                found.problems.append((1, f"column '{cell_text(name)}' appears twice"))
        return found

    def get(self, row: tuple[Any, ...], key: str) -> Any:
        index = self.fields.get(key)
        return row[index] if index is not None and index < len(row) else None


def table_rows(path: Path, problems: list[Problem]) -> tuple[list[str], Iterable[tuple[int, tuple[Any, ...]]]]:
    header, rows = read_table(path)
    return [cell_text(h) for h in header], guarded_rows(rows, problems)


def guarded_rows(rows: Iterable[tuple[int, tuple[Any, ...]]], problems: list[Problem]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows, stopping with a problem (not a stack trace) where the file turns unreadable."""
    import csv
    last = 1
    try:
        for line, row in rows:
            last = line
            yield line, row
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append((last + 1, f"the file cannot be read after line {last} ({exc.__class__.__name__}: "
                                   "binary data, or text in another encoding than UTF-8?)"))


def check_width(line: int, row: tuple[Any, ...], width: int, problems: list[Problem]) -> bool:
    extra = [v for v in row[width:] if cell_text(v)]
    if extra:
        problems.append((line, f"{len(row)} cells but the header has {width} columns (a decimal comma in a "
                               "comma-separated file? use ; as separator or quote the amounts)"))
    return not extra


def _row_amounts(line: int, row: tuple[Any, ...], columns: Columns, make: Callable[[int, float], AmountLine],
                 problems: list[Problem]) -> list[AmountLine]:
    amounts = []
    for year, index in sorted(columns.years.items()):
        value = row[index] if index < len(row) else None
        if not cell_text(value):
            continue  # an empty cell is no amount, not zero
        try:
            amounts.append(make(year, parse_amount(value)))
        except ValueError as exc:
            problems.append((line, f"column {year}: {exc}"))
    return amounts


def parsed_cell(line: int, column: str, parse: Callable[[Any], Any], value: Any, problems: list[Problem]) -> Any:
    """parse(value), or None with a problem naming the column."""
    try:
        return parse(value)
    except ValueError as exc:
        problems.append((line, f"{column}: {exc}"))
        return None


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: parse(value) if cell_text(value) or isinstance(value, (date, bool)) else None


# --- plan-table -------------------------------------------------------------------------------

def read_plan_table(path: Path) -> PlanDraft:
    """One item per line; year columns hold its planned amounts (uitgave)."""
    problems: list[Problem] = []
    header, rows = table_rows(path, problems)
    columns = Columns.of(header, PLAN_COLUMNS)
    problems += columns.problems
    if columns.unknown:
        known = ", ".join(names[0].replace(" ", "_") for names in PLAN_COLUMNS.values())
        problems.append((1, f"unknown column{'s' if len(columns.unknown) > 1 else ''} "
                            f"{', '.join(repr(u) for u in columns.unknown)} (the columns are {known} and years "
                            "such as 2026)"))
    draft = PlanDraft(layout=PLAN_TABLE)
    # The lines are read even under a wrong header: unknown columns are left out, and the user
    # gets every problem of the file at once.
    for line, row in rows:
        if check_width(line, row, len(header), problems):
            _plan_row(line, row, columns, draft, problems)
    if problems:
        raise ImportRejected(f"{len(problems)} problems in the plan table", problems)
    return draft


def _plan_row(line: int, row: tuple[Any, ...], columns: Columns, draft: PlanDraft, problems: list[Problem]) -> None:
    before = len(problems)
    kind = parsed_cell(line, "type", _kind, columns.get(row, "type"), problems)
    item = ItemDraft(cell_text(columns.get(row, "code")), kind or ItemKind.ACTIE, line,
                     parent=cell_text(columns.get(row, "parent")) or None,
                     title_short=cell_text(columns.get(row, "title_short")),
                     title_long=cell_text(columns.get(row, "title_long")),
                     description=cell_text(columns.get(row, "description")),
                     owner=cell_text(columns.get(row, "owner")) or None,
                     department=cell_text(columns.get(row, "department")) or None,
                     mandataris=cell_text(columns.get(row, "mandataris")) or None,
                     tags=_tags(columns.get(row, "tags")))
    item.beleidsdomein = parsed_cell(line, "beleidsdomein", optional(lambda v: domain_of(cell_text(v))),
                                 columns.get(row, "beleidsdomein"), problems)
    veld = parsed_cell(line, "beleidsveld", optional(parse_beleidsveld), columns.get(row, "beleidsveld"), problems)
    if veld:
        item.beleidsveld, item.beleidsitem = veld
    item.priority = parsed_cell(line, "priority", parse_priority, columns.get(row, "priority"), problems)
    item.start = parsed_cell(line, "start", optional(parse_date), columns.get(row, "start"), problems)
    item.end = parsed_cell(line, "end", optional(parse_date), columns.get(row, "end"), problems)
    amounts = _row_amounts(line, row, columns, lambda year, amount: AmountLine(item.code, year, amount, line), problems)
    if len(problems) == before:
        draft.items.append(item)
        draft.amounts += amounts


def _kind(value: Any) -> ItemKind:
    text = normal_header(value)
    if text not in KIND_NAMES:
        names = ", ".join(kind_name(kind) for kind in ItemKind)
        raise ValueError(f"{cell_text(value)!r} is not a kind of item ({names}, or BD/AP/AC/PR/RW)")
    return KIND_NAMES[text]


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in re.split(r"[;,]", cell_text(value)) if tag.strip())


# --- budget-registration ----------------------------------------------------------------------

def read_budget_registration(path: Path) -> PlanDraft:
    """Budget lines (actie × beleidsitem × algemene rekening × enveloppe × direction) with one
    amount per year column: the amounts of the plan's acties, its structure left as it is."""
    problems: list[Problem] = []
    header, rows = table_rows(path, problems)
    columns = Columns.of(header, BUDGET_COLUMNS)
    problems += columns.problems
    missing = [BUDGET_COLUMNS[key][0] for key in BUDGET_REQUIRED if key not in columns.fields]
    if missing:
        problems.append((1, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"))
    if not columns.years:
        problems.append((1, "no year columns (such as 2026): a budget registration gives amounts per year"))
    draft = PlanDraft(layout=BUDGET_REGISTRATION, amounts_only=True)
    if problems:
        close_rows(rows)  # the header is wrong: every line would only repeat it
    if columns.unknown:
        # Finance packages add descriptive columns (omschrijving, …): read past them, but say so.
        draft.notes.append(f"columns not read: {', '.join(columns.unknown)}")
    if not problems:
        for line, row in rows:
            if check_width(line, row, len(header), problems):
                draft.amounts += _budget_row(line, row, columns, problems)
    if problems:
        raise ImportRejected(f"{len(problems)} problems in the budget registration", problems)
    return draft


def _budget_row(line: int, row: tuple[Any, ...], columns: Columns, problems: list[Problem]) -> list[AmountLine]:
    before = len(problems)
    actie = cell_text(columns.get(row, "actie"))
    if not actie:
        problems.append((line, "actie is empty"))
    veld = parsed_cell(line, "beleidsitem", parse_beleidsveld, columns.get(row, "beleidsitem"), problems)
    account = parsed_cell(line, "algemene rekening", parse_account, columns.get(row, "account"), problems)
    direction = parsed_cell(line, "uitgave/ontvangst", parse_direction, columns.get(row, "direction"), problems)
    envelope = cell_text(columns.get(row, "envelope")) or None
    template = AmountLine(actie, 0, 0.0, line, direction or "uitgave",
                          (veld[1] or veld[0]) if veld else None, account, envelope)
    amounts = _row_amounts(line, row, columns, lambda year, amount: replace(template, year=year, amount=amount),
                           problems)
    return amounts if len(problems) == before else []


def parse_account(value: Any) -> str:
    text = cell_text(value)
    if not _ACCOUNT.match(text):
        raise ValueError(f"{text!r} is not an algemene rekening (seven digits, e.g. 6479999)")
    return text


def parse_direction(value: Any) -> str:
    text = cell_text(value).lower()
    if text not in DIRECTIONS:
        raise ValueError(f"{cell_text(value)!r} is not U/O, uitgave or ontvangst")
    return DIRECTIONS[text]
