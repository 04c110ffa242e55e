"""Reading finance-package exports (CSV/XLSX) into a `FinanceDraft` through a layout
(obmi.finance.layouts). Pure: no database. Every problem of the file is collected with its line
and reported at once; nothing is returned half-read. Whether the lines fit the plan is
obmi.finance.validate's business."""

from __future__ import annotations

import math
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from obmi.errors import ImportRejected
from obmi.finance.accounts import check_account, class_of
from obmi.finance.layouts import Layout, builtin_layouts
from obmi.finance.model import BudgetLine, Category, FinanceDraft, Flow, LineKind
from obmi.imports.readers import ImportReader
from obmi.plans.readers import (
    Columns,
    Problem,
    cell_text,
    check_width,
    close_rows,
    fields_in,
    parse_account,
    parse_amount,
    parse_beleidsveld,
    parse_date,
    table_rows,
)

KIND = "finance"
YEARS = range(1990, 2101)


def finance_readers() -> list[ImportReader]:
    """One reader per shipped layout, registered by obmi.imports.readers."""
    return [reader_of(layout) for layout in builtin_layouts()]


def reader_of(layout: Layout) -> ImportReader:
    return ImportReader(KIND, layout.name, layout.description, partial(accepts, layout=layout),
                        partial(read_finance_file, layout=layout))


def accepts(path: Path, *, layout: Layout) -> bool:
    return set(layout.detect) <= fields_in(path, layout.columns)


def read_finance_file(path: Path, *, layout: Layout) -> FinanceDraft:
    problems: list[Problem] = []
    header, rows = table_rows(path, problems)
    columns = Columns.of(header, layout.columns)
    problems += columns.problems
    missing = [layout.columns[f][0] for f in layout.required if f not in columns.fields and f not in layout.fixed]
    if missing:
        problems.append((1, f"missing column{'s' if len(missing) > 1 else ''} for layout {layout.name}: "
                            f"{', '.join(missing)}"))
        close_rows(rows)
        raise ImportRejected(f"{len(problems)} problems in the finance file", problems)
    draft = FinanceDraft(layout=layout.name)
    if columns.unknown or columns.years:
        ignored = columns.unknown + [str(y) for y in columns.years]
        draft.notes.append(f"columns not read: {', '.join(ignored)}")
    for line, row in rows:
        if not any(cell_text(v) for v in row):
            continue  # blank lines at the end of exports
        if check_width(line, row, len(header), problems):
            budget_line = _line(line, row, columns, layout, problems)
            if budget_line is not None:
                draft.lines.append(budget_line)
    if problems:
        raise ImportRejected(f"{len(problems)} problems in the finance file; nothing was imported", problems)
    if not draft.lines:
        raise ImportRejected("the finance file holds no budget lines", [(1, "no lines after the header")])
    return draft


class _Row:
    """One row's cells by field name, collecting what is wrong with them."""

    def __init__(self, line: int, row: tuple[Any, ...], columns: Columns, layout: Layout, problems: list[Problem]):
        self.line, self.row, self.columns, self.layout, self.problems = line, row, columns, layout, problems

    def raw(self, name: str) -> Any:
        if name in self.columns.fields:
            return self.columns.get(self.row, name)
        return self.layout.fixed.get(name)

    def text(self, name: str) -> str:
        return cell_text(self.raw(name))

    def fail(self, message: str) -> None:
        self.problems.append((self.line, message))

    def coded(self, name: str, label: str) -> str | None:
        text = self.text(name)
        if not text:
            return None
        value = self.layout.value(name, text)
        if value is None:
            known = ", ".join(sorted({*self.layout.values.get(name, {}), *_defaults(name)}))
            self.fail(f"{label}: {text!r} is not one of {known}")
        return value

    def whole(self, name: str, label: str, allowed: range) -> int | None:
        raw, text = self.raw(name), self.text(name)
        if not text:
            return None
        try:
            number = float(parse_amount(raw))
        except ValueError:
            number = math.nan
        if not number.is_integer() or int(number) not in allowed:
            self.fail(f"{label}: {text!r} is not a whole number from {allowed.start} to {allowed.stop - 1}")
            return None
        return int(number)


def _defaults(name: str) -> set[str]:
    from obmi.finance.layouts import DEFAULT_VALUES
    return set(DEFAULT_VALUES.get(name, {}))


def _line(line: int, row: tuple[Any, ...], columns: Columns, layout: Layout, problems: list[Problem]) -> BudgetLine | None:
    before = len(problems)
    cells = _Row(line, row, columns, layout, problems)
    actie = cells.text("actie")
    if not actie:
        cells.fail("actie is empty")
    kind = cells.coded("kind", "raming/realisatie")
    if kind is None and not cells.text("kind"):
        cells.fail("raming/realisatie is empty")
    year, quarter = _when(cells, kind)
    amount, direction = _amount(cells)
    category = _category(cells, direction)
    beleidsitem = None
    if cells.text("beleidsitem"):
        try:
            veld, item = parse_beleidsveld(cells.raw("beleidsitem"))
            beleidsitem = item or veld
        except ValueError as exc:
            cells.fail(f"beleidsitem: {exc}")
    version = cells.whole("version", "planversie", range(1, 1000))
    if len(problems) > before or kind is None or year is None or amount is None or direction is None or category is None:
        return None
    return BudgetLine(actie, LineKind(kind), year, category, direction, amount, line, quarter, beleidsitem,
                      cells.text("account") or None, cells.text("envelope") or None, cells.text("entity") or None,
                      version)


def _when(cells: _Row, kind: str | None) -> tuple[int | None, int | None]:
    """(year, quarter): a quarter from the quarter, month or booking-date column, checked against
    the year. Ramingen are yearly; a realisatie needs its quarter."""
    year = cells.whole("year", "jaar", YEARS)
    if year is None and not cells.text("year"):
        cells.fail("jaar is empty")
    quarter = cells.whole("quarter", "kwartaal", range(1, 5))
    month = cells.whole("month", "maand", range(1, 13))
    if month is not None:
        quarter = (month - 1) // 3 + 1
    if cells.text("date"):
        try:
            booked = date.fromisoformat(parse_date(cells.raw("date")))
        except ValueError as exc:
            cells.fail(f"boekdatum: {exc}")
        else:
            if year is not None and booked.year != year:
                cells.fail(f"boekdatum {booked.isoformat()} lies outside boekjaar {year}")
            quarter = quarter or (booked.month - 1) // 3 + 1
    if kind == LineKind.REALISATIE and quarter is None and not cells.text("quarter"):
        cells.fail("a realisatie needs its quarter (kwartaal 1-4, a month or a booking date)")
    if kind == LineKind.RAMING:
        quarter = None
    return year, quarter


def _amount(cells: _Row) -> tuple[float | None, Flow | None]:
    """(amount ≥ 0, direction) under the layout's sign convention."""
    direction_text = cells.coded("direction", "uitgave/ontvangst")
    direction = Flow(direction_text) if direction_text else None
    text = cells.text("amount")
    if not text:
        cells.fail("bedrag is empty")
        return None, direction
    try:
        amount = parse_amount(cells.raw("amount"))
    except ValueError as exc:
        cells.fail(f"bedrag: {exc}")
        return None, direction
    if cells.layout.sign == "positive":
        if amount < 0:
            cells.fail(f"bedrag {text} is negative: in layout {cells.layout.name} amounts are positive and "
                       "uitgave/ontvangst gives the direction (book a correction in the opposite direction)")
            return None, direction
        if direction is None and not cells.text("direction"):
            cells.fail("uitgave/ontvangst is empty")
        return amount, direction
    signed = Flow.UITGAVE if amount >= 0 else Flow.ONTVANGST
    if direction is not None and direction != signed:
        cells.fail(f"bedrag {text} has the wrong sign for a {direction.value} (layout {cells.layout.name}: "
                   "uitgaven positive, ontvangsten negative)")
        return None, direction
    return abs(amount), signed


def _category(cells: _Row, direction: Flow | None) -> Category | None:
    category_text = cells.coded("category", "exploitatie/investering/financiering")
    category = Category(category_text) if category_text else None
    account_text = cells.text("account")
    if not account_text:
        if category is None and not cells.text("category"):
            cells.fail("no algemene rekening and no exploitatie/investering/financiering: the category is unknown")
        return category
    try:
        account = parse_account(cells.raw("account"))
    except ValueError as exc:
        cells.fail(f"algemene rekening: {exc}")
        return None
    if direction is None:
        found = class_of(account)
        return category or (found.category if found else None)
    fitting, why = check_account(account, category, direction)
    if why:
        cells.fail(why)
    return fitting
