"""Map classes (obmi.publish.classify): the number of classes, manual breaks, the ColorBrewer
scheme of each size, diverging classes around the reference, and reading a request from a URL
without ever failing (a Problem per unusable part, the default in its place)."""

from __future__ import annotations

import pytest

from obmi.publish.classify import (
    DEFAULT_CLASSES,
    MANUAL,
    MAX_CLASSES,
    MIN_CLASSES,
    NO_DATA,
    PALETTES,
    SCHEMES,
    classify,
    parse_breaks,
    parse_choice,
)

VALUES = [float(v) for v in range(1, 101)] + [None]


@pytest.mark.parametrize("count", range(MIN_CLASSES, MAX_CLASSES + 1))
@pytest.mark.parametrize("method", ["quantile", "equal", "jenks"])
def test_count_classes_with_that_many_colourbrewer_colours(method, count):
    classes = classify(VALUES, method, "blues", count=count)
    assert len(classes.breaks) == count
    assert classes.colours == SCHEMES["blues"][1][count]
    assert classes.breaks == sorted(classes.breaks) and classes.breaks[-1] == 100
    # Every value lands in a class; the lowest in the first, the highest in the last.
    assert classes.colour_of(1) == classes.colours[0] and classes.colour_of(100) == classes.colours[-1]
    assert classes.colour_of(None) == NO_DATA


def test_the_default_is_five_classes_with_the_palette_the_selector_shows():
    classes = classify(VALUES)
    assert len(classes.breaks) == DEFAULT_CLASSES
    assert classes.colours == PALETTES["blues"][1] == ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]


def test_few_distinct_values_give_fewer_classes_never_an_empty_one():
    classes = classify([1.0, 1.0, 2.0, 2.0, None], "jenks", count=7)
    assert classes.breaks == [1.0, 2.0]
    assert len(classes.colours) == 2


def test_manual_breaks_bound_the_classes_and_the_last_runs_to_the_maximum():
    classes = classify(VALUES, MANUAL, "ylgnbu", breaks=(10, 20, 30))
    assert classes.breaks == [10, 20, 30, 100]
    assert classes.colours == SCHEMES["ylgnbu"][1][4]
    assert [classes.colour_of(v) for v in (10, 10.5, 30, 31)] == [classes.colours[i] for i in (0, 1, 2, 3)]
    assert classes.legend()[0] == (1.0, 10, classes.colours[0])
    # Breaks above every value: the classes stay as asked, the legend starts at the lowest value.
    high = classify([1.0, 2.0], MANUAL, breaks=(50, 60, 70))
    assert high.breaks == [50, 60, 70] and high.lower == 1.0


def test_diverging_palette_splits_below_and_above_the_reference():
    classes = classify(VALUES, "quantile", "rdbu", reference=40.0, count=6)
    below = [b for b in classes.breaks if b <= 40]
    assert below[-1] == 40 and len(below) == 3 and len(classes.breaks) == 6
    assert classes.colours == SCHEMES["rdbu"][1][6]  # 3 warm, 3 cool: no neutral class
    assert classes.colour_of(40) in SCHEMES["rdbu"][1][6][:3]
    assert classes.colour_of(40.5) in SCHEMES["rdbu"][1][6][3:]
    # The default (5) gives two classes each side, as before custom classes existed.
    default = classify(VALUES, "quantile", "rdbu", reference=40.0)
    assert default.colours == ["#ca0020", "#f4a582", "#92c5de", "#0571b0"]


def test_same_breaks_for_values_of_all_periods_colour_every_period_alike():
    first, later = [1.0, 2.0, 3.0], [7.0, 8.0, 9.0]
    shared = classify(first + later, count=3)
    assert shared.colour_of(first[0]) != shared.colour_of(later[-1])
    assert classify(first, count=3).colour_of(3.0) == classify(later, count=3).colour_of(9.0)  # per period: alike


def test_classify_refuses_what_parse_choice_would_have_set_aside():
    with pytest.raises(ValueError):
        classify(VALUES, count=12)
    with pytest.raises(ValueError):
        classify(VALUES, MANUAL)
    assert classify([None], MANUAL).breaks == []  # nothing to classify: no classes, no error
    with pytest.raises(ValueError):
        classify(VALUES, palette="rainbow")


@pytest.mark.parametrize("text, expected", [
    ("10;20;30", (10.0, 20.0, 30.0)), (" 2,5 ; 7,5 ", (2.5, 7.5)), ("-1;0;1.5", (-1.0, 0.0, 1.5)), ("5", (5.0,)),
])
def test_parse_breaks_reads_numbers_with_a_decimal_point_or_comma(text, expected):
    assert parse_breaks(text) == (expected, None)


@pytest.mark.parametrize("text, words", [
    ("10;twintig;30", "twintig"), ("30;20", "van klein naar groot"), ("10;10", "van klein naar groot"),
    ("1;2;3;4;5;6;7;8;9", "1 tot 8"), (";;", "1 tot 8"), ("nan", "geen getal"), ("1e999", "geen getal"),
])
def test_parse_breaks_says_what_is_wrong(text, words):
    breaks, problem = parse_breaks(text)
    assert breaks == () and problem is not None
    assert words in problem.message % problem.values


def test_parse_choice_keeps_what_it_can_and_explains_the_rest():
    choice = parse_choice("jenks", "purples", "7", "", True)
    assert (choice.method, choice.palette, choice.count, choice.same_for_all_periods, choice.problems) == \
        ("jenks", "purples", 7, True, ())
    assert parse_choice("equal", "blues", None, "10;20").method == MANUAL
    bad = parse_choice("rainbow", "neon", "12", "1;x")
    assert (bad.method, bad.palette, bad.count, bad.breaks) == ("quantile", "blues", DEFAULT_CLASSES, ())
    texts = [p.message % p.values for p in bad.problems]
    assert len(texts) == 4
    assert any("rainbow" in t for t in texts) and any("neon" in t for t in texts)
    assert any("12" in t for t in texts) and any("x" in t for t in texts)
    assert parse_choice(MANUAL, None).method == "quantile" and parse_choice(MANUAL, None).problems
    assert parse_choice(None, None, "drie").count == DEFAULT_CLASSES
