"""Views: layers whose output is their input seen another way (no work at inference)."""

from __future__ import annotations

from collections.abc import Sequence

from ..emit import Emitter
from ..fields import FloatField
from ..graph import Node, Shape, numel
from .base import Attrs, Kind
from .registry import register


@register
class Flatten(Kind):
    name = "flatten"
    doc = "(C, H, W) -> (C*H*W,)"
    is_view = True

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return (numel(input_shapes[0]),)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.op("Flatten", [inputs[0]], name=node.name, axis=1)


@register
class Dropout(Kind):
    name = "dropout"
    doc = "dropout: an identity at inference; costs nothing and is not exported"
    is_view = True
    fields = (FloatField("p", 0.2, "drop probability", minimum=0.0, maximum=1.0),)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return inputs[0]
