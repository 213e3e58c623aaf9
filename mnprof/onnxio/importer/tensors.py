"""Every tensor of an imported graph: a constant, or an activation with a known shape.

This module holds them (``Tensors``, ``Const``); ``mnprof.onnxio.importer.propagate``
fills them in one pass over the nodes in topological order:

- ``Constant`` nodes and initializers are constants. Their values are read only
  when needed (shapes, axes, clip bounds): weights are never loaded, and external
  data is read one small tensor at a time.
- A node whose inputs are all constants is evaluated (``fold``): a shape
  computation is not a layer. Identity, Cast, Transpose, Reshape... of a large
  constant (a weight seen another way) stays a constant whose value is computed
  only if asked.
- Any other node's output shapes come from ONNX's own shape inference
  (``mnprof.onnxio.importer.infer``: the whole graph at once, then that node alone
  where needed, given its inputs' shapes and its constant inputs' values).

Shapes here are whole tensors, batch included.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import MnprofError
from ..load import read_external
from .fold import MAX_FOLD_ELEMENTS
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
        from ..proto import elem_of
        return cls(array.shape, elem_of(array.dtype), value=array)

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
    from ..proto import pb, to_array
    TensorProto = pb().TensorProto

    def get() -> Any:
        if tensor.name in src.refs:
            inline = TensorProto()
            inline.CopyFrom(tensor)
            del inline.external_data[:]
            inline.data_location = TensorProto.DEFAULT
            inline.raw_data = read_external(src.refs[tensor.name], src.name)
            return to_array(inline)
        return to_array(tensor)

    return Const(tuple(tensor.dims), tensor.data_type, get=get)


def constant(node: Any) -> Const:
    from ..proto import attribute_value, to_array
    np = __import__("numpy")
    for a in node.attribute:
        value = attribute_value(a)
        if a.name == "value":
            return Const(tuple(value.dims), value.data_type,
                         get=lambda v=value: to_array(v))
        if a.name in ("value_float", "value_floats"):
            return Const.of(np.array(value, dtype="float32"))
        if a.name in ("value_int", "value_ints"):
            return Const.of(np.array(value, dtype="int64"))
    raise MnprofError(f"Constant node {node.name or node.output[0]!r:.80} has no value mnprof "
                      "reads (value, value_float(s), value_int(s))")
