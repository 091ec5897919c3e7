"""Expressions written as text in a graph (MLRun's handler ``"(event + 1)"``, a remote step's
``url_expression``, a merge's ``key_path``), run by a small evaluator over Python's AST.

Nothing is ever passed to ``eval``: the text is parsed once, every node is checked against
what is allowed when the graph is built (a node outside it is a ``ConfigError`` naming the
node), and evaluation walks the tree. Allowed: the names given (``event``, ``endpoint``),
literals, lists/tuples/dicts/sets, arithmetic, comparisons, ``and``/``or``/``not``,
conditional expressions, subscripts and slices, and calls of a few pure built-ins
(``len``, ``str``, ``int``, ``float``, ``bool``, ``abs``, ``min``, ``max``, ``round``,
``sum``, ``sorted``, ``list``, ``dict``, ``tuple``). No attribute access, no comprehensions,
no lambdas, so the text cannot reach objects it was not handed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from typing import Any

from nuserve.errors import BadRequest, ConfigError

BUILTINS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (len, str, int, float, bool, abs, min, max, round, sum, sorted, list, dict, tuple)
}
BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
MAX_POWER = 10_000
"""Largest exponent allowed (``9 ** 9 ** 9`` would hang the worker)."""


def is_expression(text: Any) -> bool:
    """MLRun's rule: a handler written ``"( ... )"`` is an expression, not a name."""
    return isinstance(text, str) and text.startswith("(") and text.endswith(")")


class Expression:
    """A checked expression of ``names``; call it with their values."""

    def __init__(self, text: str, names: Iterable[str] = ("event",), where: str = "") -> None:
        self.text = text
        self.names = tuple(names)
        where = where or "expression"
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ConfigError(f"{where} {text!r} is not a valid expression: {exc.msg}") from None
        for node in ast.walk(tree):
            problem = self._refused(node)
            if problem:
                raise ConfigError(
                    f"{where} {text!r} is not a safe expression: {problem} "
                    f"(allowed: the names {', '.join(self.names)}, literals, arithmetic, "
                    f"comparisons, subscripts, calls of {', '.join(sorted(BUILTINS))})"
                )
        self.tree = tree.body

    def _refused(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            if node.id not in self.names and node.id not in BUILTINS:
                return f"unknown name {node.id!r}"
            return ""
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in BUILTINS:
                return f"call of {ast.unparse(node.func)!r} (only built-ins may be called)"
            return ""
        if isinstance(node, ast.BinOp) and type(node.op) not in BINARY:
            return f"operator {type(node.op).__name__}"
        allowed = (
            ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.BinOp,
            ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice,
            ast.Load, ast.keyword, ast.And, ast.Or, ast.operator, ast.unaryop, ast.cmpop,
        )  # fmt: skip
        if not isinstance(node, allowed):
            return f"{type(node).__name__} node {ast.unparse(node)!r}"
        return ""

    def __call__(self, *values: Any) -> Any:
        scope = dict(zip(self.names, values, strict=False))
        try:
            return _eval(self.tree, scope)
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise BadRequest(
                f"expression {self.text!r} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _eval(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope[node.id] if node.id in scope else BUILTINS[node.id]
    if isinstance(node, ast.Subscript):
        return _eval(node.value, scope)[_eval(node.slice, scope)]
    if isinstance(node, ast.Slice):
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else _eval(p, scope) for p in parts))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float) and right > MAX_POWER:
            raise ValueError(f"exponent {right} is over {MAX_POWER}")
        return BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_eval(node.operand, scope))
    if isinstance(node, ast.BoolOp):
        value: Any = None
        for item in node.values:
            value = _eval(item, scope)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, scope)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, scope)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, scope) else node.orelse, scope)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_eval(e, scope) for e in node.elts]
        kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
        return kind(items)
    if isinstance(node, ast.Dict):
        return {
            _eval(k, scope): _eval(v, scope) for k, v in zip(node.keys, node.values, strict=True)
            if k is not None
        }  # fmt: skip
    if isinstance(node, ast.Call):
        func = BUILTINS[node.func.id]  # type: ignore[attr-defined]
        args = [_eval(a, scope) for a in node.args]
        kwargs = {k.arg: _eval(k.value, scope) for k in node.keywords if k.arg}
        return func(*args, **kwargs)
    raise ConfigError(f"expression node {type(node).__name__} is not allowed")


def expression_step(text: str, where: str) -> Callable[[Any], Any]:
    """A one-argument step function from MLRun's handler text ``"(event ...)"``."""
    expression = Expression(text, ("event",), where)

    def run(event: Any) -> Any:
        return expression(event)

    run.__name__ = "expression"
    run.__qualname__ = f"expression {text}"
    return run
