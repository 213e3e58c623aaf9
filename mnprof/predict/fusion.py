"""What onnxruntime runs for a graph: its fusions and its NCHWc layout, emulated.

onnxruntime rewrites the exported operators before running them (level ``all``,
the bench's default). This module applies the same rewrites to the operators
``mnprof.predict.ops`` recorded, in onnxruntime's order, so a prediction needs no
session (a sweep of 10,000 points could not afford one each):

1. batch-norm after a conv folds into it (the conv gains a bias);
2. ``x * Sigmoid(x)`` becomes one QuickGelu; the erf pattern one Gelu;
3. a residual Add folds into a conv that feeds it (a conv with a bias, no
   activation, no other reader; the earliest such input), with a ReLU, Clip,
   HardSigmoid, Sigmoid, Tanh or LeakyRelu after the Add folded in too;
4. an activation after a conv it alone reads folds into it; one after a Gemm
   (ReLU, Sigmoid, HardSigmoid, Tanh, LeakyRelu) into the Gemm; HardSwish folds
   only into a blocked conv (step 5), and runs as HardSigmoid then Mul elsewhere;
5. the NCHWc layout (``Layout``): a conv runs on channel blocks when its input
   channels are aligned (``align``) or fewer than a block (it then reads NCHW
   directly), a depthwise conv when its channels are aligned, a grouped conv when
   each group's channels fill whole blocks; output channels are padded up to the
   block. Pooling follows when the channels fill whole blocks (global pooling only
   from a blocked input); Add, Mul (same shapes), Concat (block-aligned inputs),
   ReLU, Sigmoid, Tanh and batch-norm follow a blocked input. Reorders are
   inserted where a blocked tensor meets an NCHW reader (once per tensor) and
   where an NCHW tensor feeds a blocked conv or pool.

The block and the alignment depend on the CPU and the onnxruntime version: the
device profile records them as calibration found them (``mnprof.predict.probe``).
Tests check the result against onnxruntime's own optimised graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ops import Op

CONV_ACTS = frozenset({"Relu", "Clip", "HardSigmoid", "Sigmoid", "Tanh", "LeakyRelu"})
ADD_ACTS = CONV_ACTS
GEMM_ACTS = frozenset({"Relu", "Sigmoid", "HardSigmoid", "Tanh", "LeakyRelu"})
# Unary ops that run on blocked data as they are; the first three can fold into a
# blocked conv before them.
NCHWC_ACTS = frozenset({"Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "QuickGelu",
                        "Gelu"})
NCHWC_FOLDS = frozenset({"Relu", "Sigmoid", "Tanh", "HardSwish"})
POOLS = frozenset({"MaxPool", "AveragePool"})
GLOBAL_POOLS = frozenset({"GlobalAveragePool", "GlobalMaxPool"})
GRAPH_OUTPUT = -1


@dataclass(frozen=True)
class Layout:
    """onnxruntime's NCHWc rules on a CPU: the block (floats) and the input-channel
    alignment a blocked conv accepts (padded up to the block)."""

    block: int = 8
    align: int = 4

    def pad(self, channels: int) -> int:
        return -(-channels // self.block) * self.block if self.block > 1 else channels


def _users(ops: list[Op | None], final: str) -> dict[str, list[int]]:
    users: dict[str, list[int]] = {final: [GRAPH_OUTPUT]}
    for i, op in enumerate(ops):
        if op is None:
            continue
        for t in op.inputs + ([op.fused_add] if op.fused_add else []):
            users.setdefault(t, []).append(i)
    return users


def _merge(into: Op, other: Op) -> None:
    into.output = other.output
    into.layers += [x for x in other.layers if x not in into.layers]


def optimise(ops: list[Op], final: str, values: dict[str, Any] | None = None) -> list[Op]:
    """The operators after onnxruntime's fusions before its layout pass, in order
    (``values``: the constants, for Slice bounds)."""
    ops = _slices_to_split(_common(ops, final), values or {})
    work: list[Op | None] = list(ops)
    producer = {op.output: i for i, op in enumerate(ops)}
    for step in (_fold_bn, _quick_gelu, _gelu, _activations):
        step(work, producer, _users(work, final))
        producer = {op.output: i for i, op in enumerate(work) if op is not None}
    return [op for op in work if op is not None]


def _common(ops: list[Op], final: str) -> list[Op]:
    """Common subexpressions merged: an op equal to an earlier one (type, inputs,
    initializers, attributes) is dropped and its readers read the earlier one's output."""
    seen: dict[Any, str] = {}
    alias: dict[str, str] = {}
    out = []
    for op in ops:
        op.inputs = [alias.get(t, t) for t in op.inputs]
        key = (op.op, tuple(op.inputs), op.params, repr(sorted(op.attrs.items())))
        if key in seen and op.output != final:
            alias[op.output] = seen[key]
            continue
        seen[key] = op.output
        out.append(op)
    return out


def _slices_to_split(ops: list[Op], values: dict[str, Any]) -> list[Op]:
    """Slices of one tensor along one axis that tile it become one Split."""
    groups: dict[tuple[str, Any], list[int]] = {}
    for i, op in enumerate(ops):
        if op.op == "Slice" and len(op.params) >= 3 and op.inputs:
            axes = tuple(values.get(op.params[2], ()) or ())
            groups.setdefault((op.inputs[0], axes), []).append(i)
    drop: set[int] = set()
    for (_, axes), members in groups.items():
        if len(members) < 2 or len(axes) != 1:
            continue
        dim = ops[members[0]].in_shape
        axis = int(axes[0]) - 1                     # per image: no batch axis
        windows = sorted((int(values[ops[i].params[0]][0]), int(values[ops[i].params[1]][0]))
                         for i in members)
        # contiguous from 0 (the end is not checked: an intermediate tensor's recorded
        # shape is its layer's, which a multi-op layer can differ from)
        if not 0 <= axis < len(dim) or windows[0][0] != 0 or \
                any(a[1] != b[0] for a, b in zip(windows, windows[1:], strict=False)):
            continue
        first = ops[members[0]]
        first.op, first.shape = "Split", first.in_shape
        first.layers = list(dict.fromkeys(x for i in members for x in ops[i].layers))
        drop |= set(members[1:])
    return [op for i, op in enumerate(ops) if i not in drop]


def _single(users: dict[str, list[int]], tensor: str) -> int | None:
    u = users.get(tensor, [])
    return u[0] if len(u) == 1 and u[0] != GRAPH_OUTPUT else None


def _fold_bn(work: list[Op | None], producer: dict[str, int],
             users: dict[str, list[int]]) -> None:
    for i, op in enumerate(work):
        if op is None or op.op != "BatchNormalization" or not op.inputs:
            continue
        p = producer.get(op.inputs[0])
        conv = work[p] if p is not None else None
        if conv is not None and conv.op == "Conv" and not conv.act and not conv.fused_add \
                and _single(users, conv.output) == i:
            conv.bias = True
            _merge(conv, op)
            work[i] = None


def _quick_gelu(work: list[Op | None], producer: dict[str, int],
                users: dict[str, list[int]]) -> None:
    for i, op in enumerate(work):
        if op is None or op.op != "Mul" or len(op.inputs) != 2:
            continue
        for x, s in (op.inputs, op.inputs[::-1]):
            g = producer.get(s)
            gate = work[g] if g is not None else None
            if gate is not None and gate.op == "Sigmoid" and gate.inputs == [x] \
                    and _single(users, s) == i:
                gate.op = "QuickGelu"
                _merge(gate, op)
                work[i] = None
                break


def _gelu(work: list[Op | None], producer: dict[str, int],
          users: dict[str, list[int]]) -> None:
    """Div -> Erf -> Add -> Mul -> Mul (the erf form) as one Gelu."""
    for i, op in enumerate(work):
        if op is None or op.op != "Erf":
            continue
        d = producer.get(op.inputs[0]) if op.inputs else None
        chain = [d, i]
        t = op.output
        for want in ("Add", "Mul", "Mul"):
            j = _single(users, t)
            nxt = work[j] if j is not None else None
            if nxt is None or nxt.op != want:
                break
            chain.append(j)
            t = nxt.output
        else:
            first = work[d] if d is not None else None
            if first is not None and first.op == "Div":
                first.op = "Gelu"
                for j in chain[1:]:
                    _merge(first, work[j])     # type: ignore[arg-type]
                    work[j] = None


def conv_add(work: list[Op | None], blocked: set[int], final: str) -> None:
    """Residual Adds folded into the NCHW convs that feed them (onnxruntime does this
    after its layout pass, for the convs that stayed NCHW); ``blocked``: the indices
    of ops that run blocked. Folded ops become None."""
    producer = {op.output: i for i, op in enumerate(work) if op is not None}
    users = _users(work, final)
    for i, op in enumerate(work):
        if op is None or i in blocked or op.op != "Add" or len(op.inputs) != 2 \
                or len(op.in_shape) != 3 or op.shape != op.in_shape:
            continue
        for p, t in sorted((producer[t], t) for t in op.inputs if t in producer):
            conv = work[p]
            if conv is not None and p not in blocked and conv.op == "Conv" and conv.bias \
                    and not conv.act and not conv.fused_add and _single(users, t) == i \
                    and conv.shape == op.shape:
                conv.fused_add = op.inputs[1] if op.inputs[0] == t else op.inputs[0]
                _merge(conv, op)
                work[i] = None
                j = _single(users, op.output)
                act = work[j] if j is not None else None
                if act is not None and j not in blocked and act.op in ADD_ACTS \
                        and _clip_ok(act):
                    conv.act = act.op
                    _merge(conv, act)
                    work[j] = None          # type: ignore[index]
                break


def _clip_ok(op: Op) -> bool:
    return op.op != "Clip" or op.consts == 2


def _activations(work: list[Op | None], producer: dict[str, int],
                 users: dict[str, list[int]]) -> None:
    for op in work:
        if op is None or op.op not in ("Conv", "Gemm") or op.act:
            continue
        j = _single(users, op.output)
        act = work[j] if j is not None else None
        if act is None or not _clip_ok(act) or (op.op == "Conv" and op.fused_add):
            continue
        if act.op in (CONV_ACTS if op.op == "Conv" else GEMM_ACTS):
            op.act = act.op
            _merge(op, act)
            work[j] = None                  # type: ignore[index]
