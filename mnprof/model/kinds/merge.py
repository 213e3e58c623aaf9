"""Kinds that join branches: residual add, channel concatenation, channel-wise multiply."""

from __future__ import annotations

from collections.abc import Sequence

from ..emit import Emitter
from ..graph import Node, Shape, fmt_shape, numel
from .base import Attrs, Kind, ShapeError
from .registry import register


@register
class Add(Kind):
    name = "add"
    doc = "elementwise sum of inputs of one shape (a residual connection)"
    arity = (2, None)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        if any(s != input_shapes[0] for s in input_shapes[1:]):
            raise ShapeError("inputs must have the same shape, got "
                             + " and ".join(fmt_shape(s) for s in input_shapes))
        return input_shapes[0]

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return numel(output_shape) * (len(input_shapes) - 1)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        y = inputs[0]
        last = len(inputs) - 2
        for i, x in enumerate(inputs[1:]):
            y = e.op("Add", [y, x], name=node.name if i == last else f"{node.name}.{i}")
        return y


@register
class Concat(Kind):
    name = "concat"
    doc = "concatenation along the channels of maps with the same H and W"
    arity = (2, None)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        first = input_shapes[0]
        if any(len(s) != len(first) or s[1:] != first[1:] for s in input_shapes):
            raise ShapeError("inputs must agree in all but channels, got "
                             + " and ".join(fmt_shape(s) for s in input_shapes))
        return (sum(s[0] for s in input_shapes), *first[1:])

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.op("Concat", inputs, name=node.name, axis=1)


@register
class Mul(Kind):
    name = "mul"
    doc = "channel-wise multiply of a map (C, H, W) by a gate (C, 1, 1) or a map (SE)"
    arity = (2, 2)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        x, g = input_shapes
        if len(x) != 3 or len(g) != 3 or g[0] != x[0] or g[1:] not in ((1, 1), x[1:]):
            raise ShapeError(f"needs a map and a gate of the same channels, (C, H, W) and "
                             f"(C, 1, 1) or (C, H, W); got {fmt_shape(x)} and {fmt_shape(g)}")
        return x

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return numel(output_shape)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.op("Mul", inputs, name=node.name)
