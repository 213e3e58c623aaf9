"""Operators of an imported ONNX model that mnprof does not model: ``kind: onnx:<OpType>``.

Nothing is silent: such a node is still a layer, with its output shape (from ONNX
shape inference), its output elements counted as activations and their bytes, and
0 MACs; reports list these ops by name. An operator that multiplies and
accumulates (Conv, Gemm, MatMul, Einsum, attention) never becomes one: the
importer either counts it or stops with an error. It cannot be written back to
ONNX by mnprof (``mnprof export`` of such a graph says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..emit import Emitter
from ..graph import Node, Shape
from .base import Attrs, Kind

PREFIX = "onnx:"


class Opaque(Kind):
    name = "onnx"
    doc = "an ONNX operator mnprof does not model (imported models only)"
    arity = (0, None)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return tuple(attrs["shape"])

    def type_key(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> str:
        return f"{PREFIX}{attrs['op_type']}"

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> Any:
        from ...core.errors import MnprofError
        raise MnprofError(f"{node.name}: ONNX operator {node.attrs['op_type']} is not modelled "
                          "by mnprof, so this graph cannot be exported again")


OPAQUE = Opaque()
