"""Formula indicators such as `(pop_0_17 + pop_65plus) / pop_18_64 * 100`.

Parsed with Python's `ast` into a whitelisted tree and evaluated by walking it: no `eval`, no
names other than indicator codes, no calls, no attributes.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    inputs: frozenset[str]

    def evaluate(self, values: dict[str, float | None]) -> float | None:
        """Value for one area and period; None when an input is missing or a division by zero."""
        return _eval(self.tree, values)


def _eval(node: ast.expr, values: dict[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # _check admits only int and float constants
    if isinstance(node, ast.Name):
        return values.get(node.id)
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


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return
    if isinstance(node, ast.Name):
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, names)
        _check(node.right, names)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, names)
        return
    raise ValueError(f"not allowed in a formula: {ast.unparse(node) if hasattr(ast, 'unparse') else node}")


def parse_formula(text: str) -> Formula:
    """Raise ValueError with the reason when the text is not a formula of + - * / ( ) numbers and codes."""
    if len(text) > 1000:
        raise ValueError("formula longer than 1000 characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"formula syntax error: {exc.msg}") from None
    names: set[str] = set()
    _check(tree, names)
    if not names:
        raise ValueError("a formula must use at least one indicator code")
    return Formula(text.strip(), tree, frozenset(names))
