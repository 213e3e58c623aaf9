"""MACs and parameters of any ONNX model, counted from the graph itself.

This is an independent recount: it reads only the ONNX file (it does not know
mnprof's layer kinds or cost engine), runs onnx's shape inference and applies
one formula per operator:

- ``Conv``: N * M * prod(output spatial) * (C / groups) * prod(kernel)
  (the weight tensor is [M, C / groups, k...]);
- ``ConvTranspose``: N * C * prod(input spatial) * (M / groups) * prod(kernel)
  (the weight tensor is [C, M / groups, k...]);
- ``Gemm``: M * K * N for A [M, K] and B [K, N] after ``transA`` / ``transB``;
- ``MatMul``: prod(output shape) * K, K the shared (reduced) dimension.

A MAC is one multiply plus one add; a bias adds no MAC. Every other operator is
listed with 0 MACs, never silently dropped. Counts are for one run of the graph
as given: with a batch of N they are N times the per-image counts. A symbolic
dimension must be given a value (``dims``); a Conv, Gemm or MatMul whose shapes
cannot be inferred is an error, not a zero. Parameters are the elements of the
initializers, each credited to the first node that reads it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import MnprofError
from .load import load_model

if TYPE_CHECKING:
    import onnx

Shape = tuple[int, ...]
COUNTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


@dataclass(frozen=True)
class OnnxNodeRow:
    name: str
    op_type: str
    output_shape: Shape | None      # of the first output; None if shape inference could not
    macs: int
    params: int                     # elements of the initializers first read here


@dataclass(frozen=True)
class OnnxCount:
    graph: str
    rows: tuple[OnnxNodeRow, ...]
    initializers: int               # how many initializer tensors
    unused_params: int              # initializer elements no node reads

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def params(self) -> int:
        """Elements of all initializers (read or not)."""
        return sum(r.params for r in self.rows) + self.unused_params

    def by_op_type(self) -> dict[str, tuple[int, int, int]]:
        """op_type -> (nodes, macs, params), in order of first appearance."""
        out: dict[str, tuple[int, int, int]] = {}
        for r in self.rows:
            n, m, p = out.get(r.op_type, (0, 0, 0))
            out[r.op_type] = (n + 1, m + r.macs, p + r.params)
        return out


def count(model: onnx.ModelProto | str | os.PathLike[str], *,
          dims: Mapping[str, int] | None = None) -> OnnxCount:
    """Per-node and total MACs and parameters of ``model`` (a path or a ModelProto)."""
    import onnx

    proto = load_model(model)
    if proto is model:                          # the caller's model: work on a copy
        proto = onnx.ModelProto()
        proto.CopyFrom(model)
    g = proto.graph
    _bind_dims(g, dict(dims or {}))
    try:
        proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise MnprofError(f"shape inference failed: {str(exc).splitlines()[0]}") from None
    g = proto.graph
    shapes = _shapes(g)
    sizes = {t.name: math.prod(t.dims) for t in g.initializer}
    credited: set[str] = set()
    rows = []
    for i, node in enumerate(g.node):
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in node.attribute):
            raise MnprofError(f"node {node.name or i!r} ({node.op_type}) has a subgraph; "
                              f"control flow is not supported")
        params = 0
        for name in node.input:
            if name in sizes and name not in credited:
                credited.add(name)
                params += sizes[name]
        out_shape = shapes.get(node.output[0]) if node.output else None
        rows.append(OnnxNodeRow(name=node.name or f"#{i}", op_type=node.op_type,
                                output_shape=out_shape, macs=_macs(node, shapes, i),
                                params=params))
    unused = sum(s for n, s in sizes.items() if n not in credited)
    return OnnxCount(graph=g.name, rows=tuple(rows), initializers=len(sizes),
                     unused_params=unused)


def _bind_dims(g: Any, dims: dict[str, int]) -> None:
    """Give every symbolic dimension of the graph inputs a value, or fail naming it."""
    initializer_names = {t.name for t in g.initializer}
    for vi in g.input:
        if vi.name in initializer_names:
            continue
        for axis, d in enumerate(vi.type.tensor_type.shape.dim):
            if d.HasField("dim_value"):
                continue
            label = d.dim_param or "?"
            if d.dim_param not in dims:
                raise MnprofError(f"input {vi.name!r} dimension {axis} is symbolic ({label!r}); "
                                  f"give it a value (dims={{{label!r}: N}})")
            value = dims[d.dim_param]
            if not isinstance(value, int) or value < 1:
                raise MnprofError(f"dimension {label!r} must be an integer >= 1, got {value!r}")
            d.dim_value = value


def _shapes(g: Any) -> dict[str, Shape]:
    """Fully known shapes of the graph's tensors (values, inputs, outputs, initializers)."""
    out: dict[str, Shape] = {t.name: tuple(t.dims) for t in g.initializer}
    for vi in (*g.input, *g.value_info, *g.output):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            continue
        dims = tt.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            out[vi.name] = tuple(d.dim_value for d in dims)
    return out


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _macs(node: Any, shapes: Mapping[str, Shape], index: int) -> int:
    op = node.op_type
    if op not in COUNTED_OPS or node.domain not in ("", "ai.onnx"):
        return 0
    label = f"node {node.name or index!r} ({op})"

    def shape(name: str, what: str) -> Shape:
        if name not in shapes:
            raise MnprofError(f"{label}: the shape of its {what} {name!r} is unknown after "
                              f"shape inference, so its MACs cannot be counted")
        return shapes[name]

    if op == "Conv":
        w = shape(node.input[1], "weight")
        y = shape(node.output[0], "output")
        return y[0] * y[1] * math.prod(y[2:]) * w[1] * math.prod(w[2:])
    if op == "ConvTranspose":
        x = shape(node.input[0], "input")
        w = shape(node.input[1], "weight")
        return x[0] * x[1] * math.prod(x[2:]) * w[1] * math.prod(w[2:])
    if op == "Gemm":
        a = shape(node.input[0], "input A")
        b = shape(node.input[1], "input B")
        m, k = (a[1], a[0]) if _attr(node, "transA", 0) else (a[0], a[1])
        n = b[0] if _attr(node, "transB", 0) else b[1]
        return m * k * n
    # MatMul (numpy semantics): K is A's last dimension.
    a = shape(node.input[0], "input A")
    y = shape(node.output[0], "output")
    return math.prod(y) * a[-1]
