"""Formula indicators such as `(pop_0_17 + pop_65plus) / pop_18_64 * 100`.

Parsed with Python's `ast` into a whitelisted tree and evaluated by walking it: no `eval`, no
names other than indicator codes, no attributes, and one call form only — Swing's
`data_from_period(code, "-1")`: the value of `code` in another period, the offset counted in
periods of the period's own type ("-1" the year before, "+1" the year after, "-4" four years
before), so that two-year averages `(x + data_from_period(x, "-1")) / 2` and five-year sums
can be written as in Swing.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from obmi.indicators.periods import period_type_of

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
PERIOD_FUNCTION = "data_from_period"
_OFFSET = re.compile(r"^[+-]?\d{1,3}$")

Reference = tuple[str, int]  # (indicator code, period offset); offset 0: the period being computed
Values = Mapping[str | Reference, float | None]


@dataclass(frozen=True)
class RatioShape:
    """A formula `numerator / denominator × scale` whose denominator is one indicator."""
    numerator: str | None  # the numerator's code when it is one indicator of the same period
    numerator_text: str
    denominator: str
    scale: float


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    inputs: frozenset[str]  # every indicator code used, in any period (what it depends on)
    references: frozenset[Reference]  # (code, offset) of every value used

    @property
    def offsets(self) -> frozenset[Reference]:
        """References to other periods than the one computed (data_from_period)."""
        return frozenset(r for r in self.references if r[1])

    def evaluate(self, values: Values) -> float | None:
        """Value for one area and period; None when an input is missing or a division by zero.
        `values` maps a code (or `(code, 0)`) to its value in the period computed, and
        `(code, offset)` to its value in the offset period."""
        return _eval(self.tree, values)

    def ratio(self) -> RatioShape | None:
        """The formula as numerator / one indicator × constant, or None when it is no such ratio."""
        node, scale = _constant_factor(self.tree, 1.0)
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name)):
            return None
        numerator, scale = _constant_factor(node.left, scale)
        return RatioShape(numerator.id if isinstance(numerator, ast.Name) else None, ast.unparse(numerator),
                          node.right.id, scale)


def _constant_factor(node: ast.expr, scale: float) -> tuple[ast.expr, float]:
    """`x * 100` or `100 * x` → (x, scale × 100); anything else unchanged."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for const, other in ((node.right, node.left), (node.left, node.right)):
            if isinstance(const, ast.Constant):
                return other, scale * float(const.value)  # type: ignore[arg-type]  # _check: numbers only
    return node, scale


def _lookup(values: Values, code: str, offset: int) -> float | None:
    if offset:
        return values.get((code, offset))
    return values[code] if code in values else values.get((code, 0))


def _eval(node: ast.expr, values: Values) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # _check admits only int and float constants
    if isinstance(node, ast.Name):
        return _lookup(values, node.id, 0)
    if isinstance(node, ast.Call):
        return _lookup(values, *_period_reference(node))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return None if operand is None else float(_UNARY[type(node.op)](operand))  # type: ignore[operator]
    assert isinstance(node, ast.BinOp)  # _check admits nothing else
    left, right = _eval(node.left, values), _eval(node.right, values)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Div) and right == 0:
        return None
    return _BINARY[type(node.op)](left, right)


def _period_reference(node: ast.Call) -> Reference:
    """(code, offset) of `data_from_period(code, "-1")`; ValueError for any other call."""
    if not (isinstance(node.func, ast.Name) and node.func.id == PERIOD_FUNCTION):
        raise ValueError(f"not allowed in a formula: {ast.unparse(node)} "
                         f'(the only function is {PERIOD_FUNCTION}(code, "-1"))')
    if node.keywords or len(node.args) != 2:
        raise ValueError(f'{PERIOD_FUNCTION} takes two arguments, an indicator code and an offset such as "-1": '
                         f"{ast.unparse(node)}")
    code, offset = node.args
    if not isinstance(code, ast.Name):
        raise ValueError(f"{PERIOD_FUNCTION}: the first argument must be an indicator code, not {ast.unparse(code)}")
    if not (isinstance(offset, ast.Constant) and isinstance(offset.value, str) and _OFFSET.match(offset.value.strip())):
        raise ValueError(f'{PERIOD_FUNCTION}: the offset must be a quoted whole number of periods such as "-1" or '
                         f'"+1", not {ast.unparse(offset)}')
    return code.id, int(offset.value.strip())


def _check(node: ast.AST, refs: set[Reference]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return
    if isinstance(node, ast.Name):
        refs.add((node.id, 0))
        return
    if isinstance(node, ast.Call):
        refs.add(_period_reference(node))
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, refs)
        _check(node.right, refs)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, refs)
        return
    raise ValueError(f"not allowed in a formula: {ast.unparse(node)}")


@lru_cache(maxsize=4096)  # the catalogue asks for every indicator's inputs many times per write
def parse_formula(text: str) -> Formula:
    """Raise ValueError with the reason when the text is not a formula of + - * / ( ), numbers,
    codes and `data_from_period(code, "±n")`."""
    if len(text) > 1000:
        raise ValueError("formula longer than 1000 characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"formula syntax error: {exc.msg}") from None
    refs: set[Reference] = set()
    _check(tree, refs)
    if not refs:
        raise ValueError("a formula must use at least one indicator code")
    return Formula(text.strip(), tree, frozenset(code for code, _ in refs), frozenset(refs))


def shift_period(text: str, offset: int) -> str | None:
    """The period `offset` periods of the same type after `text` (before, when negative): years,
    quarters and months; None for dates and survey editions (no regular next period) and for
    what falls outside the years 1000–9999."""
    if not offset:
        return text
    try:
        kind = period_type_of(text)
    except ValueError:
        return None
    if kind == "year":
        year = int(text) + offset
        return str(year) if 1000 <= year <= 9999 else None
    if kind in ("quarter", "month"):
        per_year = 4 if kind == "quarter" else 12
        index = int(text[:4]) * per_year + int(text[-1] if kind == "quarter" else text[5:7]) - 1 + offset
        year, within = divmod(index, per_year)
        if not 1000 <= year <= 9999:
            return None
        return f"{year}-Q{within + 1}" if kind == "quarter" else f"{year}-{within + 1:02d}"
    return None
