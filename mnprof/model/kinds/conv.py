"""Convolutions and fully-connected layers: the kinds that have MACs.

- ``conv``: kh x kw x (C_in / groups) MACs per output element;
- ``dwconv``: one kh x kw filter (or ``multiplier`` filters) per input channel;
- ``pwconv``: a 1x1 conv;
- ``fc``: in_features x out_features over the flattened input.

Weights are [C_out, C_in / groups, kh, kw] (conv) and [out, in] (fc), as in ONNX.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...core.values import MAX_CHANNELS
from ..emit import Emitter
from ..fields import BoolField, FloatField, IntField
from ..graph import Node, Shape, numel
from .base import (
    ACT_FIELD,
    BIAS_FIELD,
    BN_FIELD,
    ROUNDING_FIELD,
    SCALE_FIELD,
    Attrs,
    PostOps,
    Role,
    ShapeError,
    Tensor,
    channels_field,
    feature_map,
)
from .registry import register
from .window import PaddingField, PairField, Window

BN_EPS_FIELD = FloatField("bn_eps", 1e-5, "batch-norm epsilon (PyTorch's default 1e-5)",
                          minimum=0.0, maximum=1.0)
_POST = (BIAS_FIELD, BN_FIELD, BN_EPS_FIELD, ACT_FIELD)
_KERNEL = PairField("kernel", doc="kernel size: k or [kh, kw]")
_STRIDE = PairField("stride", 1, "stride: s or [sh, sw]")
_DILATION = PairField("dilation", 1, "dilation: d or [dh, dw]")
_PADDING = PaddingField("padding", "same", "same (output = ceil(input / stride)), valid, or "
                                            "explicit: p, [h, w] or [top, left, bottom, right]")


class ConvBase(PostOps):
    def window(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Window:
        _, h, w = feature_map(input_shapes[0], self.name)
        return Window.of(attrs, h, w)

    def conv_shape(self, attrs: Attrs, input_shapes: Sequence[Shape], out_ch: int) -> Shape:
        return (out_ch, *self.window(attrs, input_shapes).output_hw(input_shapes[0]))

    def groups(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> int:
        return attrs.get("groups", 1)

    def tensors(self, attrs: Attrs, input_shapes: Sequence[Shape],
                output_shape: Shape) -> list[Tensor]:
        (kh, kw), g = attrs["kernel"], self.groups(attrs, input_shapes)
        cin_per_group = input_shapes[0][0] // g
        weight = Tensor("weight", Role.WEIGHT, (output_shape[0], cin_per_group, kh, kw),
                        fan_in=cin_per_group * kh * kw)
        return [weight, *self.post_tensors(attrs, output_shape[0])]

    def macs(self, attrs: Attrs, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), g = attrs["kernel"], self.groups(attrs, input_shapes)
        return kh * kw * (input_shapes[0][0] // g) * numel(output_shape)

    def type_key(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> str:
        (kh, kw), g, cin = attrs["kernel"], self.groups(attrs, input_shapes), input_shapes[0][0]
        if g > 1 and g == cin:
            return f"dw{kh}x{kw}"
        return f"{'g' if g > 1 else ''}conv{kh}x{kw}"

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        args = [inputs[0], e.param(node, "weight")]
        if node.attrs.get("bias"):
            args.append(e.param(node, "bias"))
        window = self.window(node.attrs, node.input_shapes)
        y = e.op("Conv", args, name=node.name, **window.onnx_attrs(),
                 group=self.groups(node.attrs, node.input_shapes))
        return self.emit_post(e, node, y)


@register
class Conv(ConvBase):
    name = "conv"
    doc = "standard (or grouped) convolution"
    channel_field = "out"
    fields = (_KERNEL, _STRIDE, channels_field(), IntField("groups", 1, maximum=MAX_CHANNELS),
              _DILATION, _PADDING, *_POST, SCALE_FIELD, ROUNDING_FIELD)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        g, cin = attrs["groups"], feature_map(input_shapes[0], self.name)[0]
        if cin % g or attrs["out"] % g:
            raise ShapeError(f"groups={g} must divide input channels ({cin}) and "
                             f"output channels ({attrs['out']})")
        return self.conv_shape(attrs, input_shapes, attrs["out"])


@register
class PointwiseConv(ConvBase):
    name = "pwconv"
    doc = "1x1 convolution"
    channel_field = "out"
    fields = (_STRIDE, channels_field(), *_POST, SCALE_FIELD, ROUNDING_FIELD)

    def complete(self, attrs: dict[str, Any]) -> None:
        attrs.update(kernel=(1, 1), padding="same")

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return self.conv_shape(attrs, input_shapes, attrs["out"])


@register
class DepthwiseConv(ConvBase):
    name = "dwconv"
    doc = "depthwise convolution: one filter (or `multiplier` filters) per channel"
    fields = (_KERNEL, _STRIDE, IntField("multiplier", 1, "filters per input channel",
                                         maximum=MAX_CHANNELS),
              _DILATION, _PADDING, *_POST)

    def groups(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> int:
        return input_shapes[0][0]

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        channels = feature_map(input_shapes[0], self.name)[0] * attrs["multiplier"]
        return self.conv_shape(attrs, input_shapes, channels)

    def type_key(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> str:
        kh, kw = attrs["kernel"]
        return f"dw{kh}x{kw}"


@register
class FullyConnected(PostOps):
    name = "fc"
    doc = "fully-connected layer over the flattened input (default output: the classes)"
    channel_field = "out"
    fields = (channels_field(None, "output features at alpha = 1 (default: the spec's "
                                   "classes, never scaled)"),
              BoolField("bias", True, "a bias per output (default true)"),
              ACT_FIELD, SCALE_FIELD, ROUNDING_FIELD)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return (attrs["out"],)

    def tensors(self, attrs: Attrs, input_shapes: Sequence[Shape],
                output_shape: Shape) -> list[Tensor]:
        fan_in = numel(input_shapes[0])
        return [Tensor("weight", Role.WEIGHT, (output_shape[0], fan_in), fan_in=fan_in),
                *self.post_tensors(attrs, output_shape[0])]

    def macs(self, attrs: Attrs, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return numel(input_shapes[0]) * output_shape[0]

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        x = inputs[0]
        if len(node.input_shapes[0]) != 1:
            x = e.op("Flatten", [x], name=f"{node.name}.flatten", axis=1)
        args = [x, e.param(node, "weight")]
        if node.attrs.get("bias"):
            args.append(e.param(node, "bias"))
        y = e.op("Gemm", args, name=node.name, transB=1)
        return self.emit_post(e, node, y)
