"""Pure parsing helpers: formulas, periods, area codes and numbers from spreadsheets."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from obmi.geo.codes import normalise_code
from obmi.imports.long_format import parse_number
from obmi.indicators.formula import parse_formula
from obmi.indicators.periods import parse_period

DEPENDENCY_RATIO = "(pop_0_17 + pop_65plus) / pop_18_64 * 100"


# --- formulas -----------------------------------------------------------------------------------

def test_formula_inputs_are_the_indicator_codes():
    assert parse_formula(DEPENDENCY_RATIO).inputs == {"pop_0_17", "pop_65plus", "pop_18_64"}


def test_formula_evaluates_with_operator_precedence():
    formula = parse_formula(DEPENDENCY_RATIO)
    assert formula.evaluate({"pop_0_17": 2500, "pop_65plus": 3500, "pop_18_64": 8000}) == pytest.approx(75.0)


def test_formula_supports_constants_and_unary_minus():
    assert parse_formula("-a + 2 * b - 1.5").evaluate({"a": 1, "b": 3}) == pytest.approx(3.5)


def test_formula_division_by_zero_gives_none():
    assert parse_formula(DEPENDENCY_RATIO).evaluate({"pop_0_17": 10, "pop_65plus": 5, "pop_18_64": 0}) is None


def test_formula_with_a_missing_input_gives_none():
    assert parse_formula(DEPENDENCY_RATIO).evaluate({"pop_0_17": 10, "pop_18_64": 60}) is None


def test_formula_with_an_input_explicitly_none_gives_none():
    assert parse_formula("a / b").evaluate({"a": None, "b": 4}) is None


def test_formula_text_is_stripped():
    assert parse_formula("  a / b \n").text == "a / b"


@pytest.mark.parametrize("text", [
    "__import__('os').system('x')",
    "a.b",
    "f(x)",
    "a ** 2",
    "a if b else c",
    "[1]",
    "'text'",
    "",
    "   ",
    "lambda: a",
    "lambda a: a",
    "a // b",
    "a % b",
    "a and b",
    "a < b",
    "a[0]",
    "True",
    "a = 1",
    "1 + 2",  # no indicator code at all
    "a" * 1001,
], ids=lambda t: repr(t[:30]))
def test_formula_refuses_anything_but_arithmetic_on_codes(text):
    with pytest.raises(ValueError):
        parse_formula(text)


def test_formula_refusal_says_what_is_not_allowed():
    with pytest.raises(ValueError, match="not allowed in a formula"):
        parse_formula("__import__('os').system('x')")


# --- periods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (2015, ("2015", "year")),
    (2015.0, ("2015", "year")),
    ("2015", ("2015", "year")),
    (" 2015 ", ("2015", "year")),
    ("2015-Q1", ("2015-Q1", "quarter")),
    ("2015-q1", ("2015-Q1", "quarter")),
    ("2015-Q4", ("2015-Q4", "quarter")),
    ("2015-03", ("2015-03", "month")),
    ("2015-12", ("2015-12", "month")),
    ("2015-03-01", ("2015-03-01", "date")),
    ("2016-02-29", ("2016-02-29", "date")),
    (date(2015, 3, 1), ("2015-03-01", "date")),
    (datetime(2015, 3, 1, 14, 30), ("2015-03-01", "date")),
    ("stadsmonitor-2023", ("stadsmonitor-2023", "edition")),
    ("gemeentemonitor-2024", ("gemeentemonitor-2024", "edition")),  # 20 characters: the column width
], ids=repr)
def test_period_is_normalised_with_its_type(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize("raw", [
    "2015-13", "2015-00", "2015-02-30", "2015-Q5", "2015-1-1", "12345", "", "   ", None, True, 2015.5,
    "2015/16", "stadsmonitor 2023", "gemeentemonitor-20245",  # 21 characters
], ids=repr)
def test_invalid_period_is_refused(raw):
    with pytest.raises(ValueError):
        parse_period(raw)


def test_invalid_period_reason_lists_the_accepted_forms():
    with pytest.raises(ValueError, match=r"year \(2015\), quarter \(2015-Q1\)"):
        parse_period("2015-13")


@pytest.mark.parametrize("raw", ["twenty", "Q1"])
def test_word_that_is_no_edition_is_refused(raw):
    with pytest.raises(ValueError):
        parse_period(raw)


# --- area codes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (11001, "11001"),
    (11001.0, "11001"),
    ("11001 ", "11001"),
    ("11001.0", "11001"),
    ("11001A00-", "11001A00-"),
    ("44021W01", "44021W01"),
    (None, None),
    ("", None),
    ("   ", None),
], ids=repr)
def test_normalise_code(raw, expected):
    assert normalise_code(raw) == expected


@pytest.mark.parametrize("raw", [11001.5, True], ids=repr)
def test_normalise_code_refuses_what_is_no_code(raw):
    with pytest.raises(ValueError, match="not an area code"):
        normalise_code(raw)


# --- numbers in the long format -----------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1234,5", 1234.5),
    ("1.234,5", 1234.5),
    ("-1.234,5", -1234.5),
    ("1.234.567,25", 1234567.25),
    ("1234.5", 1234.5),
    (" 1234.5 ", 1234.5),
    ("1\u00a0234,5", 1234.5),
    ("0,5", 0.5),
    (1234, 1234.0),
    (12.25, 12.25),
    ("", None),
    ("  ", None),
    (None, None),
], ids=repr)
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "nan", "NaN", "inf", "-inf", "12 apples", "1,234.5", True], ids=repr)
def test_parse_number_refuses_what_is_no_number(raw):
    with pytest.raises(ValueError, match="is not a number"):
        parse_number(raw)
