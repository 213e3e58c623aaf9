"""The spec language's small, safe expression evaluator.

A string value that starts with ``$`` is an expression: ``$out`` names a block
parameter, ``$(cin * t)`` computes one. Only arithmetic, comparisons, ``and``/``or``/
``not``, ``a if c else b`` and the functions in ``FUNCTIONS`` are allowed; the
text is parsed with :mod:`ast` and walked here, never handed to ``eval``.

Values stay in bounds: constants are numbers, booleans or strings; every
intermediate result is a finite float or an integer of at most ``MAX_INT``; any
arithmetic failure (overflow, division by zero, comparing a number with a
string) is an ``ExprError`` naming it, never an exception of Python's own.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ..core.values import MAX_INT
from ..model.width import make_divisible

MAX_LENGTH = 200

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}

class NoEntry(ValueError):
    """``lookup`` found no key equal to the one asked for; the evaluator names it."""

    def __init__(self, key: Any, keys: str) -> None:
        super().__init__(f"no entry for {key!r:.40} (entries: {keys})")
        self.key, self.keys = key, keys


def lookup(key: Any, *pairs: Any) -> Any:
    """``lookup(x, k1, v1, k2, v2, ...)``: the v of the k equal to x; an error naming the
    keys otherwise (a per-width table, as ShuffleNetV2's stage channels)."""
    if len(pairs) % 2 or not pairs:
        raise ValueError("takes a key, then pairs of (key, value)")
    table = dict(zip(pairs[::2], pairs[1::2], strict=True))
    if key not in table:
        raise NoEntry(key, ", ".join(f"{k:g}" if isinstance(k, float) else str(k)
                                     for k in table))
    return table[key]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "make_divisible": make_divisible,
    "min": min, "max": max, "int": int, "round": round,
    "ceil": math.ceil, "floor": math.floor, "lookup": lookup,
}
# Functions a spec binds per block (the width-scaled channel count, ``ch``).
BOUND_FUNCTIONS = ("ch",)


class ExprError(ValueError):
    """An expression that does not parse or does not evaluate."""


def is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def names_in(text: str) -> set[str]:
    """Names an expression refers to (for checking them before any evaluation)."""
    tree = _parse(text)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Value of the expression ``text`` (with its leading ``$``) in ``env``."""
    try:
        return _Eval(env).visit(_parse(text).body)
    except (OverflowError, ZeroDivisionError, ArithmeticError) as exc:
        raise ExprError(f"arithmetic failed in {text!r:.80}: {exc}") from None
    except RecursionError:
        raise ExprError(f"expression {text!r:.80} nests too deeply") from None


def _bounded(value: Any) -> Any:
    """``value`` if it is in bounds (see the module docstring)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"the result {value!r} is not a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ExprError(f"the result is too large (more than {MAX_INT:,})")
    return value


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.Expression:
    """The checked tree of ``text`` (cached: a sweep builds one spec thousands of times,
    and trees are only read, never changed)."""
    body = text[1:].strip() if text.startswith("$") else text
    if not body:
        raise ExprError("empty expression after '$'")
    if len(body) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError:
        raise ExprError(f"cannot parse expression {text!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
            raise ExprError(f"constant {node.value!r:.40} is not allowed in expression "
                            f"{text!r:.80} (numbers, true/false and strings only)")
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{type(node).__name__} is not allowed in expression {text!r}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                               and node.func.id in (*FUNCTIONS, *BOUND_FUNCTIONS)):
            names = ", ".join((*FUNCTIONS, *BOUND_FUNCTIONS))
            raise ExprError(f"only these functions may be called: {names}")
    return tree


_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp,
            ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.And, ast.Or, ast.Not,
            ast.USub, ast.UAdd, *_BINOPS, *_CMPOPS)


class _Eval:
    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return _bounded(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in FUNCTIONS:
                raise ExprError(f"{node.id} is a function; call it as {node.id}(...)")
            raise ExprError(f"unknown name {node.id!r} (known: {', '.join(sorted(self.env))})")
        if isinstance(node, ast.BinOp):
            left, right = self.visit(node.left), self.visit(node.right)
            if not (_is_number(left) and _is_number(right)):
                raise ExprError(f"arithmetic needs numbers, got {left!r} and {right!r}")
            try:
                return _bounded(_BINOPS[type(node.op)](left, right))
            except (TypeError, ZeroDivisionError, OverflowError) as exc:
                raise ExprError(str(exc)) from None
        if isinstance(node, ast.UnaryOp):
            value = self.visit(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            if not _is_number(value):
                raise ExprError(f"sign of a non-number {value!r}")
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            values = (self.visit(v) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.visit(comp)
                try:
                    holds = _CMPOPS[type(op)](left, right)
                except TypeError:
                    raise ExprError(f"cannot compare {left!r:.40} with {right!r:.40}") from None
                if not holds:
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)
        if isinstance(node, ast.Call):
            fn = node.func.id  # type: ignore[attr-defined]
            args = [self.visit(a) for a in node.args]
            kwargs = {k.arg: self.visit(k.value) for k in node.keywords if k.arg}
            func = self.env.get(fn) if callable(self.env.get(fn)) else FUNCTIONS.get(fn)
            if func is None:
                raise ExprError(f"{fn}() is not available here")
            try:
                return _bounded(func(*args, **kwargs))
            except NoEntry as exc:      # name what was looked up: "alpha = 0.75"
                asked = f"{ast.unparse(node.args[0])} = {exc.key!r:.40}"
                raise ExprError(f"{fn}(): no entry for {asked} (entries: {exc.keys})") from None
            except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
                raise ExprError(f"{fn}(): {exc}") from None
        raise ExprError(f"{type(node).__name__} is not allowed")  # unreachable: checked in _parse


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
