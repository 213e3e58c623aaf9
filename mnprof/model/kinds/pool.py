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


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: [floor(i * in / out), ceil((i + 1) * in / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


@register
class AdaptiveAvgPool(Kind):
    name = "adaptive_avgpool"
    doc = ("average pooling to a fixed output size, PyTorch's window rule (VGG's and "
           "AlexNet's classifier input at any resolution)")
    fields = (PairField("output", doc="output size: n or [h, w]"),)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        c, _, _ = feature_map(input_shapes[0], self.name)
        return (c, *attrs["output"])

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        c, h, w = input_shapes[0]
        oh, ow = attrs["output"]
        rows = sum(e - s for s, e in adaptive_windows(h, oh))
        cols = sum(e - s for s, e in adaptive_windows(w, ow))
        return c * rows * cols

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        """One AveragePool where the windows are uniform (or GlobalAveragePool for 1x1);
        otherwise, exactly: each output row (then column) a ReduceMean of its slice."""
        _, h, w = node.input_shapes[0]
        oh, ow = node.attrs["output"]
        if (oh, ow) == (1, 1):
            return e.op("GlobalAveragePool", [inputs[0]], name=node.name)
        uniform = [_uniform(adaptive_windows(size, out)) for size, out in ((h, oh), (w, ow))]
        if all(uniform):
            (kh, sh), (kw, sw) = uniform   # type: ignore[misc]
            return e.op("AveragePool", [inputs[0]], name=node.name, kernel_shape=[kh, kw],
                        strides=[sh, sw], pads=[0, 0, 0, 0])
        x = _reduce_axis(e, inputs[0], node.name, 2, adaptive_windows(h, oh), "rows")
        return _reduce_axis(e, x, node.name, 3, adaptive_windows(w, ow), "cols", last=True)


def _uniform(windows: list[tuple[int, int]]) -> tuple[int, int] | None:
    """(kernel, stride) when every window has one size and they start a stride apart.

    Windows that repeat (an output larger than its input, e.g. AlexNet's 6x6 pool
    over a 1x1 map at resolution 64) start 0 apart: no AveragePool has stride 0."""
    sizes = {e - s for s, e in windows}
    steps = {b[0] - a[0] for a, b in zip(windows, windows[1:], strict=False)} or {1}
    if len(sizes) == 1 and len(steps) == 1 and windows[0][0] == 0 and min(steps) > 0:
        return sizes.pop(), steps.pop()
    return None


def _reduce_axis(e: Emitter, x: str, name: str, axis: int, windows: list[tuple[int, int]],
                 what: str, last: bool = False) -> str:
    axes = e.const(f"adaptive.axis{axis}", [axis], dtype="int64")
    parts = []
    for i, (s, end) in enumerate(windows):
        start = e.const(f"adaptive.start{s}", [s], dtype="int64")
        stop = e.const(f"adaptive.stop{end}", [end], dtype="int64")
        part = e.op("Slice", [x, start, stop, axes], name=f"{name}.{what}{i}.slice")
        parts.append(e.op("ReduceMean", [part], name=f"{name}.{what}{i}", axes=[axis],
                          keepdims=1) if e.opset < 18 else
                     e.op("ReduceMean", [part, axes], name=f"{name}.{what}{i}", keepdims=1))
    return e.op("Concat", parts, name=name if last else f"{name}.{what}", axis=axis)
