"""Every tensor of an imported graph: a constant, or an activation with a known shape.

One pass over the nodes in topological order (``propagate``):

- ``Constant`` nodes and initializers are constants. Their values are read only
  when needed (shapes, axes, clip bounds): weights are never loaded, and external
  data is read one small tensor at a time.
- A node whose inputs are all constants is evaluated (``fold``): a shape
  computation is not a layer. Identity, Cast, Transpose, Reshape... of a large
  constant (a weight seen another way) stays a constant whose value is computed
  only if asked.
- Any other node's output shapes come from ONNX's own shape inference for that
  node, given its inputs' shapes and the values of its constant inputs.

Shapes here are whole tensors, batch included.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import MnprofError
from ...core.values import MAX_TENSOR_ELEMENTS
from ..load import read_external
from .fold import FOLDERS, MAX_FOLD_ELEMENTS, shape_values
from .source import Source

Shape = tuple[int, ...]
# Ops that only look at a constant another way: their output stays a constant, even
# when the input is a weight too large to load (its value is computed if ever asked).
VIEW_OPS = frozenset({"Identity", "Cast", "Transpose", "Reshape", "Unsqueeze", "Squeeze",
                      "Flatten", "DequantizeLinear"})
DATA_INPUT_ELEMENTS = 1 << 12      # constants whose values shape inference is given


class Const:
    """A constant tensor: its shape and type now, its value when asked."""

    __slots__ = ("shape", "elem", "_value", "_get")

    def __init__(self, shape: Shape, elem: int, value: Any = None,
                 get: Callable[[], Any] | None = None) -> None:
        self.shape, self.elem, self._value, self._get = tuple(shape), elem, value, get

    @classmethod
    def of(cls, array: Any) -> Const:
        from onnx import helper
        return cls(array.shape, helper.np_dtype_to_tensor_dtype(array.dtype), value=array)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def small(self) -> bool:
        return self.size <= MAX_FOLD_ELEMENTS

    def value(self) -> Any:
        if self._value is None:
            assert self._get is not None
            self._value = self._get()
        return self._value


@dataclass
class Tensors:
    consts: dict[str, Const] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)     # activations
    elems: dict[str, int] = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)              # node indices evaluated
    failures: dict[str, str] = field(default_factory=dict)     # tensor -> why unknown

    def shape(self, name: str) -> Shape | None:
        c = self.consts.get(name)
        return c.shape if c is not None else self.shapes.get(name)


def topological_order(nodes: Any) -> list[int]:
    """Node indices in a topological order, the file's order wherever it is one."""
    producer = {t: i for i, n in enumerate(nodes) for t in n.output if t}
    deps = [{producer[t] for t in n.input if t in producer and producer[t] != i}
            for i, n in enumerate(nodes)]
    users: list[list[int]] = [[] for _ in nodes]
    for i, ds in enumerate(deps):
        for d in ds:
            users[d].append(i)
    pending = [len(ds) for ds in deps]
    ready = [i for i, p in enumerate(pending) if p == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    return order                    # load_model has checked that the graph is acyclic


def initializer_const(tensor: Any, src: Source) -> Const:
    from onnx import TensorProto, numpy_helper

    def get() -> Any:
        if tensor.name in src.refs:
            inline = TensorProto()
            inline.CopyFrom(tensor)
            del inline.external_data[:]
            inline.data_location = TensorProto.DEFAULT
            inline.raw_data = read_external(src.refs[tensor.name], src.name)
            return numpy_helper.to_array(inline)
        return numpy_helper.to_array(tensor)

    return Const(tuple(tensor.dims), tensor.data_type, get=get)


def propagate(src: Source, order: list[int]) -> Tensors:
    """Constants and activation shapes of every tensor (see the module docstring)."""
    g = src.proto.graph
    t = Tensors()
    for tensor in g.initializer:
        t.consts[tensor.name] = initializer_const(tensor, src)
    t.shapes[src.input] = src.shape
    t.elems[src.input] = src.elem
    inference = _Inference(src, t)
    for i in order:
        node = g.node[i]
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            t.consts[node.output[0]] = _constant(node)
            t.folded.add(i)
        elif _fold(node, t, src):
            t.folded.add(i)
        else:
            inference.run(node, i)
    return t


def _constant(node: Any) -> Const:
    from onnx import helper, numpy_helper
    np = __import__("numpy")
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.name == "value":
            return Const(tuple(value.dims), value.data_type,
                         get=lambda v=value: numpy_helper.to_array(v))
        if a.name in ("value_float", "value_floats"):
            return Const.of(np.array(value, dtype="float32"))
        if a.name in ("value_int", "value_ints"):
            return Const.of(np.array(value, dtype="int64"))
    raise MnprofError(f"Constant node {node.name or node.output[0]!r:.80} has no value mnprof "
                      "reads (value, value_float(s), value_int(s))")


def _fold(node: Any, t: Tensors, src: Source) -> bool:
    """Evaluate ``node`` if its inputs are constants (or, for Shape, known shapes)."""
    from onnx import helper

    ins = [x for x in node.input if x]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.domain not in ("", "ai.onnx") or not node.output:
        return False
    if node.op_type in ("Shape", "Size") and len(ins) == 1:
        shape = t.shape(ins[0])
        if shape is None:
            return False
        np = __import__("numpy")
        value = shape_values(shape, attrs) if node.op_type == "Shape" else \
            np.array(int(np.prod(shape, dtype=object)), dtype="int64")
        t.consts[node.output[0]] = Const.of(value)
        return True
    if not ins or not all(x in t.consts for x in ins):
        return False
    inputs = [t.consts[x] if x else None for x in node.input]
    fn = FOLDERS.get(node.op_type)
    if fn is not None and all(c is None or c.small for c in inputs):
        try:
            outs = fn(node, [c.value() if c is not None else None for c in inputs], attrs)
        except (ValueError, TypeError, IndexError, KeyError, ArithmeticError):
            outs = None
        if outs is not None and all(getattr(o, "size", 0) <= MAX_FOLD_ELEMENTS for o in outs):
            for name, value in zip(node.output, outs, strict=False):
                t.consts[name] = Const.of(value)
            return True
    if node.op_type in VIEW_OPS and len(node.output) == 1:
        return _lazy_view(node, inputs, attrs, t, src)
    return False


def _lazy_view(node: Any, inputs: list[Const | None], attrs: dict[str, Any], t: Tensors,
               src: Source) -> bool:
    """A view of a (large) constant: its shape from ONNX's inference, its value on demand."""
    out = _infer_one(node, {x: (c.elem, c.shape) for x, c in zip(node.input, inputs,
                                                                   strict=False) if c},
                     {x: c for x, c in zip(node.input, inputs, strict=False)
                      if c and c.size <= DATA_INPUT_ELEMENTS}, src)
    typ = out.get(node.output[0]) if out else None
    if typ is None or typ[1] is None:
        return False
    fn = FOLDERS.get(node.op_type)

    def get() -> Any:
        if fn is None:
            raise MnprofError(f"the value of {node.output[0]!r} is not computed by mnprof")
        from onnx import helper
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        return fn(node, [c.value() if c is not None else None for c in inputs], a)[0]

    t.consts[node.output[0]] = Const(typ[1], typ[0], get=get)
    return True


TypeInfo = tuple[int, Shape | None]
_SCHEMAS: dict[tuple[str, str, int], Any] = {}


def _schema(op: str, domain: str, version: int) -> Any:
    key = (op, domain, version)
    if key not in _SCHEMAS:
        from onnx import defs
        try:
            _SCHEMAS[key] = defs.get_schema(op, version, domain)
        except defs.SchemaError:
            _SCHEMAS[key] = None
    return _SCHEMAS[key]


def _infer_one(node: Any, types: dict[str, tuple[int, Shape]], data: dict[str, Const],
               src: Source) -> dict[str, TypeInfo] | None:
    """ONNX's shape inference for one node: output name -> (elem type, shape or None)."""
    from onnx import helper, numpy_helper, shape_inference

    domain = "" if node.domain == "ai.onnx" else node.domain
    version = src.opset if not domain else next(
        (o.version for o in src.proto.opset_import if o.domain == domain), 1)
    schema = _schema(node.op_type, domain, version)
    if schema is None:
        return None
    in_types = {x: helper.make_tensor_type_proto(e, s) for x, (e, s) in types.items()}
    in_data = {x: numpy_helper.from_array(c.value(), x) for x, c in data.items()}
    result = shape_inference.infer_node_outputs(schema, node, in_types, in_data,
                                                opset_imports=src.proto.opset_import,
                                                ir_version=src.proto.ir_version)
    out: dict[str, TypeInfo] = {}
    for name, typ in result.items():
        tt = typ.tensor_type
        dims = tt.shape.dim if tt.HasField("shape") else None
        known = dims is not None and all(d.HasField("dim_value") for d in dims)
        out[name] = (tt.elem_type, tuple(d.dim_value for d in dims) if known else None)
    return out


class _Inference:
    """Shapes of one node's outputs from its inputs (see ``_infer_one``)."""

    def __init__(self, src: Source, t: Tensors) -> None:
        self.src, self.t = src, t

    def run(self, node: Any, index: int) -> None:
        t = self.t
        types: dict[str, tuple[int, Shape]] = {}
        data: dict[str, Const] = {}
        for x in node.input:
            if not x:
                continue
            if x in t.consts:
                c = t.consts[x]
                types[x] = (c.elem, c.shape)
                if c.size <= DATA_INPUT_ELEMENTS:
                    data[x] = c
            elif x in t.shapes:
                types[x] = (t.elems.get(x, 1), t.shapes[x])
            else:                           # an input whose shape is unknown
                self.unknown(node, f"the shape of its input {x!r:.60} is unknown")
                return
        label = f"node {node.name or node.output[0]!r:.80} ({node.op_type})"
        try:
            out = _infer_one(node, types, data, self.src)
        except Exception as exc:  # noqa: BLE001  onnx's InferenceError and friends
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MnprofError(f"{self.src.name}: {label}: ONNX shape inference fails: "
                              f"{first[:200]}") from None
        if out is None:
            self.unknown(node, f"ONNX has no schema for {node.domain or 'ai.onnx'}."
                               f"{node.op_type}")
            return
        for name in node.output:
            elem, shape = out.get(name, (0, None))
            if shape is None:
                t.failures[name] = "ONNX's shape inference leaves it unknown"
                continue
            n = 1
            for d in shape:
                n *= d
            if n > MAX_TENSOR_ELEMENTS * max(self.src.batch, 1):
                raise MnprofError(f"{self.src.name}: {label}: output {list(shape)} has {n:,} "
                                  f"elements, more than mnprof counts "
                                  f"({MAX_TENSOR_ELEMENTS:,} per image)")
            t.shapes[name], t.elems[name] = shape, elem

    def unknown(self, node: Any, why: str) -> None:
        for name in node.output:
            self.t.failures[name] = why
