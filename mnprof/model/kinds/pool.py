"""Pooling: windowed max and average, and global average pooling.

Pools have no MACs; each output element counts one elementwise op per element of
its window (the convention in ``mnprof.model.kinds.base``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..emit import Emitter
from ..fields import BoolField
from ..graph import Node, Shape, numel
from .base import Attrs, Kind, feature_map
from .registry import register
from .window import PaddingField, PairField, Window


class WindowPool(Kind):
    onnx_op: ClassVar[str]
    fields = (PairField("kernel", doc="window size: k or [kh, kw]"),
              PairField("stride", None, "default: the kernel size"),
              PaddingField("padding", "valid", "valid (default): no padding; same: output = "
                                               "ceil(input / stride); or explicit padding"),
              BoolField("ceil_mode", False, "round the output size up (PyTorch's ceil_mode)"))

    def complete(self, attrs: dict[str, Any]) -> None:
        if attrs["stride"] is None:
            attrs["stride"] = attrs["kernel"]

    def window(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Window:
        _, h, w = feature_map(input_shapes[0], self.name)
        return Window.of(attrs, h, w)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        window = self.window(attrs, input_shapes)
        window.check_pool_pads()
        return (input_shapes[0][0], *window.output_hw(input_shapes[0]))

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        kh, kw = attrs["kernel"]
        return numel(output_shape) * kh * kw

    def extra_onnx(self, attrs: Attrs) -> dict[str, Any]:
        return {}

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        window = self.window(node.attrs, node.input_shapes)
        return e.op(self.onnx_op, [inputs[0]], name=node.name, **window.onnx_attrs(),
                    **self.extra_onnx(node.attrs))


@register
class AvgPool(WindowPool):
    name = "avgpool"
    doc = "average pooling (padding is left out of the average unless count_include_pad)"
    onnx_op = "AveragePool"
    fields = (*WindowPool.fields,
              BoolField("count_include_pad", False, "average over padded elements too "
                                                    "(PyTorch's default when it pads)"))

    def extra_onnx(self, attrs: Attrs) -> dict[str, Any]:
        return {"count_include_pad": 1} if attrs.get("count_include_pad") else {}


@register
class MaxPool(WindowPool):
    name = "maxpool"
    doc = "max pooling"
    onnx_op = "MaxPool"


@register
class GlobalAvgPool(Kind):
    name = "global_avgpool"
    doc = "average over the whole feature map: (C, H, W) -> (C, 1, 1)"

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return feature_map(input_shapes[0], self.name)[0], 1, 1

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return numel(input_shapes[0])

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.op("GlobalAveragePool", [inputs[0]], name=node.name)
