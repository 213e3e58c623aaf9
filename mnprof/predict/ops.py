"""A built graph as the ONNX operators the exporter writes, recorded without onnx.

The exporter writes each layer through the ``Emitter`` protocol; ``record_ops``
plays the same layers into a recording emitter, so the operators seen here are
exactly the ones ``mnprof export`` writes (for every kind, present and future),
with the shapes of the tensors they read and write. Weights are not generated:
only their shapes are kept. ``mnprof.predict.fusion`` then rewrites these
operators as onnxruntime's optimiser would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import MnprofError
from ..model.graph import INPUT, Graph, Node, Shape, numel
from ..model.kinds import kind_of
from ..model.kinds.base import BN_SUFFIXES

# Ops whose output has the shape of their first input.
SAME_SHAPE = frozenset({
    "Relu", "Clip", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh", "LeakyRelu", "Mul",
    "Add", "Sub", "Div", "Erf", "BatchNormalization", "Softmax", "LRN", "QuickGelu",
    "Gelu", "Identity"})


# A tensor's shape as a layer's output shape, flattened or not: ("conv1", False) is
# conv1's output; ("pool", True) is pool's output as a vector. None: neither.
Ref = tuple[str, bool]


@dataclass
class Op:
    """One ONNX operator (mutable while the optimiser passes rewrite it)."""

    op: str                              # ONNX op type
    name: str
    inputs: list[str]                    # data tensors read (no initializers)
    output: str
    layer: str                           # the graph layer that wrote it
    shape: Shape                         # output shape, per image
    in_shape: Shape                      # the first data input's shape
    weight: tuple[int, ...] = ()         # Conv: (cout, cin / group, kh, kw); Gemm: (out, in)
    attrs: dict[str, Any] = field(default_factory=dict)
    bias: bool = False
    act: str = ""                        # an activation op fused in
    fused_add: str = ""                  # a tensor added in (residual Add fused into a conv)
    layers: list[str] = field(default_factory=list)   # the graph layers it covers
    consts: int = 0                      # constant (initializer) inputs
    params: tuple[str, ...] = ()         # the initializers it reads: weights and constants
    ref: Ref | None = None               # how the output's shape follows from a layer's


def _ref(node: Node, shape: Shape) -> Ref | None:
    if shape == node.output_shape:
        return node.name, False
    src = node.inputs[0] if node.inputs else INPUT
    if node.input_shapes and shape == node.input_shapes[0]:
        return src, False
    if node.input_shapes and shape == (numel(node.input_shapes[0]),):
        return src, True
    return None


class _Recorder:
    """Implements ``mnprof.model.emit.Emitter`` by recording ops and tensor shapes."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.ops: list[Op] = []
        self.shapes: dict[str, Shape] = {}
        self.consts: set[str] = set()
        self.values: dict[str, Any] = {}         # constant name -> its value
        self.params: dict[str, tuple[int, ...]] = {}
        self.node: Node | None = None
        self.names: set[str] = {INPUT}
        self.declared: tuple[str, dict[str, tuple[int, ...]]] = ("", {})

    def _fresh(self, name: str) -> str:
        out, k = name, 0
        while out in self.names:
            k += 1
            out = f"{name}:{k}"
        self.names.add(out)
        return out

    def op(self, op_type: str, inputs: Sequence[str], *, name: str, **attrs: Any) -> str:
        node = self.node
        assert node is not None
        data = [t for t in inputs if t not in self.consts and t not in self.params]
        weights = [self.params[t] for t in inputs if t in self.params]
        in_shape = self.shapes.get(data[0], node.input_shapes[0]) if data else ()
        if op_type == "Flatten":
            shape: Shape = (numel(in_shape),)
        elif op_type in SAME_SHAPE and data:
            shape = in_shape
        else:
            shape = node.output_shape
        out = self._fresh(name)
        self.shapes[out] = shape
        self.ops.append(Op(op_type, name, data, out, node.name, shape, in_shape,
                           weight=weights[0] if weights else (), attrs=dict(attrs),
                           bias=len(weights) > 1, layers=[node.name],
                           consts=len(inputs) - len(data), ref=_ref(node, shape),
                           params=tuple(t for t in inputs if t not in data)))
        return out

    def param(self, node: Node, suffix: str) -> str:
        if self.declared[0] != node.name:
            self.declared = (node.name, {t.suffix: t.shape for t in kind_of(node).tensors(
                dict(node.attrs), node.input_shapes, node.output_shape)})
        if suffix not in self.declared[1]:
            raise AssertionError(f"{node.kind} emits {suffix!r} but declares no such tensor")
        name = f"{node.name}.{suffix}"
        self.params[name] = self.declared[1][suffix]
        return name

    def const(self, name: str, value: Any, *, dtype: str = "float32") -> str:
        full = f"const.{name}"
        self.consts.add(full)
        self.values[full] = value
        return full

    def batchnorm(self, node: Node, x: str, *, fused: bool) -> str:
        params = [self.param(node, BN_SUFFIXES[r]) for r in BN_SUFFIXES]
        name = f"{node.name}.bn" if fused else node.name
        return self.op("BatchNormalization", [x, *params], name=name)


@dataclass(frozen=True)
class Recorded:
    ops: list[Op]
    outputs: dict[str, str]              # layer -> the tensor holding its output
    final: str                           # the graph's output tensor
    values: dict[str, Any]               # constant name -> value (Slice bounds, axes)


def record_ops(graph: Graph, opset: int = 17) -> Recorded:
    """The ONNX operators ``mnprof export`` writes for ``graph`` (at ``opset``)."""
    r = _Recorder(opset)
    r.shapes[INPUT] = graph.input_shape
    tensor_of = {INPUT: INPUT}
    for node in graph.nodes:
        r.node = node
        xs = [tensor_of[i] for i in node.inputs]
        if node.kind.startswith("onnx:"):       # not exportable: one op of its own
            tensor_of[node.name] = r.op(node.kind.removeprefix("onnx:"), xs, name=node.name)
            continue
        try:
            tensor_of[node.name] = kind_of(node).emit(r, node, xs)
        except MnprofError:
            tensor_of[node.name] = r.op(node.kind, xs, name=node.name)
    return Recorded(r.ops, {n.name: tensor_of[n.name] for n in graph.nodes},
                    tensor_of[graph.output], r.values)
