"""Activations, and the patterns exporters spell them out in.

- ``Relu``; ``Clip`` to [0, 6] (bounds given as inputs, attributes or ``Constant``
  nodes) is ``relu6``, to [0, inf) ``relu``; ``HardSwish``; ``HardSigmoid`` with
  alpha 1/6 and beta 0.5 (PyTorch's) is ``hsigmoid``; ``Sigmoid``; ``Gelu`` (exact).
- Gated forms, where the gate alone reads the gate's input x: x * Sigmoid(x) is
  ``silu``, x * HardSigmoid(x) is ``hswish`` (opset 13 has no HardSwish).
- GELU's erf form, as PyTorch exports it before opset 20:
  ``Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5`` (the two Muls in either
  order; ``Mul(x, 1/sqrt 2)`` for the Div).

A Clip or HardSigmoid with other constants is another function: an ``onnx:`` layer.
The assembly folds an activation into the conv or fc before it when that layer's
output is read by the activation alone (the spec convention: a conv carries its
batch-norm and activation).
"""

from __future__ import annotations

import math

from .context import Ctx, Draft
from .registry import op, opaque

TOL = 1e-5


def _close(value: float | None, want: float) -> bool:
    return value is not None and abs(value - want) <= TOL * max(1.0, abs(want))


def _act(ctx: Ctx, i: int, name: str) -> list[Draft]:
    data = ctx.data_inputs(i)
    if len(data) != 1:
        return opaque(ctx, i)
    return [ctx.draft(name, i)]


def _gated(ctx: Ctx, i: int, gate: str, gated: str) -> list[Draft]:
    """``gated`` when x * gate(x) (the Mul alone reading the gate), else ``gate``."""
    data = ctx.data_inputs(i)
    if len(data) != 1:
        return opaque(ctx, i)
    x, out = data[0], ctx.nodes[i].output[0]
    mul = ctx.sole_user(out)
    if mul is not None and ctx.is_op(mul, "Mul") and \
            sorted(ctx.resolve(y) for y in ctx.nodes[mul].input) == sorted([x, out]):
        ctx.claimed.add(mul)
        return [ctx.draft(gated, i, output=ctx.nodes[mul].output[0], nodes=[i, mul])]
    return [ctx.draft(gate, i)]


@op("Relu")
def relu(ctx: Ctx, i: int) -> list[Draft]:
    return _act(ctx, i, "relu")


@op("HardSwish")
def hswish(ctx: Ctx, i: int) -> list[Draft]:
    return _act(ctx, i, "hswish")


@op("Sigmoid")
def sigmoid(ctx: Ctx, i: int) -> list[Draft]:
    return _gated(ctx, i, "sigmoid", "silu")


@op("HardSigmoid")
def hsigmoid(ctx: Ctx, i: int) -> list[Draft]:
    a = ctx.attrs(i)
    if not (_close(a.get("alpha", 0.2), 1 / 6) and _close(a.get("beta", 0.5), 0.5)):
        return opaque(ctx, i)
    return _gated(ctx, i, "hsigmoid", "hswish")


@op("Clip")
def clip(ctx: Ctx, i: int) -> list[Draft]:
    node, a = ctx.nodes[i], ctx.attrs(i)
    if ctx.src.opset < 11 or "min" in a or "max" in a:
        lo, hi = a.get("min"), a.get("max")
    else:
        lo = ctx.scalar(node.input[1]) if len(node.input) > 1 and node.input[1] else None
        hi = ctx.scalar(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        for k in (1, 2):            # a bound that is given but computed: not a known Clip
            if len(node.input) > k and node.input[k] and ctx.const(node.input[k]) is None:
                return opaque(ctx, i)
    big = hi is None or math.isinf(hi) or hi >= 3.4e38
    if _close(lo, 0.0) and _close(hi, 6.0):
        return _act(ctx, i, "relu6")
    if _close(lo, 0.0) and big:
        return _act(ctx, i, "relu")
    return opaque(ctx, i)


@op("Gelu")
def gelu(ctx: Ctx, i: int) -> list[Draft]:
    approx = ctx.attrs(i).get("approximate", b"none")
    if approx not in (b"none", "none"):
        return opaque(ctx, i)           # the tanh approximation is another function
    return _act(ctx, i, "gelu")


def gelu_erf(ctx: Ctx, i: int) -> list[Draft] | None:
    """The erf form of GELU starting at node ``i`` (Div or Mul of x), or None."""
    node = ctx.nodes[i]
    data = ctx.data_inputs(i)
    if len(data) != 1 or len(node.input) != 2:
        return None
    x = data[0]
    c = ctx.scalar(next(y for y in node.input if ctx.resolve(y) != x))
    if not (_close(c, math.sqrt(2.0)) if node.op_type == "Div" else _close(c, 1 / math.sqrt(2))):
        return None
    erf = ctx.sole_user(node.output[0])
    if not ctx.is_op(erf, "Erf"):
        return None
    add = ctx.sole_user(ctx.nodes[erf].output[0])          # type: ignore[index]
    if not ctx.is_op(add, "Add") or not _has_const(ctx, add, 1.0):  # type: ignore[arg-type]
        return None
    chain, seen, tensor = [], set(), ctx.nodes[add].output[0]      # type: ignore[index]
    for _ in range(2):
        m = ctx.sole_user(tensor)
        if not ctx.is_op(m, "Mul"):
            return None
        others = [y for y in ctx.nodes[m].input if y != tensor]   # type: ignore[index]
        if len(others) != 1:
            return None
        other = ctx.resolve(others[0])
        seen.add("x" if other == x else "half" if _close(ctx.scalar(other), 0.5) else "?")
        chain.append(m)
        tensor = ctx.nodes[m].output[0]                            # type: ignore[index]
    if seen != {"x", "half"}:
        return None
    nodes = [i, erf, add, *chain]
    ctx.claimed.update(nodes[1:])                                  # type: ignore[arg-type]
    return [ctx.draft("gelu", i, inputs=[x], output=tensor, nodes=nodes)]  # type: ignore


def _has_const(ctx: Ctx, i: int, value: float) -> bool:
    return any(_close(ctx.scalar(y), value) for y in ctx.nodes[i].input
               if ctx.const(y) is not None)
