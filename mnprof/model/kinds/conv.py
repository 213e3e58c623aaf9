"""Convolutions and fully-connected layers: the kinds that have MACs.

- ``conv``: kh x kw x (C_in / groups) MACs per output element;
- ``dwconv``: one kh x kw filter (or ``multiplier`` filters) per input channel;
- ``pwconv``: a 1x1 conv;
- ``fc``: in_features x out_features over the flattened input;
- ``deconv``: a transposed convolution (ONNX ConvTranspose, PyTorch ConvTranspose2d):
  each input element times kh x kw x (C_out / groups) weights, so
  kh x kw x (C_out / groups) MACs per *input* element.

Weights are [C_out, C_in / groups, kh, kw] (conv), [C_in, C_out / groups, kh, kw]
(deconv) and [out, in] (fc), as in ONNX.
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


_OUTPUT_PADDING = PairField("output_padding", 0, "extra rows and columns at the end of the "
                                                 "output (PyTorch's output_padding)", minimum=0)


@register
class TransposedConv(PostOps):
    name = "deconv"
    doc = ("transposed convolution (upsampling): output = (input - 1) x stride - padding + "
           "dilation x (kernel - 1) + output_padding + 1")
    channel_field = "out"
    fields = (_KERNEL, _STRIDE, channels_field(), IntField("groups", 1, maximum=MAX_CHANNELS),
              _DILATION, PaddingField("padding", 0, "valid, or explicit: p, [h, w] or [top, "
                                                    "left, bottom, right] (removed from the "
                                                    "output's borders)"),
              _OUTPUT_PADDING, *_POST, SCALE_FIELD, ROUNDING_FIELD)

    def pads(self, attrs: Attrs) -> tuple[int, int, int, int]:
        padding = attrs["padding"]
        if padding == "same":
            raise ShapeError("a deconv's padding is valid or explicit, not same")
        return (0, 0, 0, 0) if padding == "valid" else padding

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        cin, h, w = feature_map(input_shapes[0], self.name)
        g, out = attrs["groups"], attrs["out"]
        if cin % g or out % g:
            raise ShapeError(f"groups={g} must divide input channels ({cin}) and output "
                             f"channels ({out})")
        t, left, b, r = self.pads(attrs)
        sizes = []
        for axis, (size, p0, p1) in enumerate(((h, t, b), (w, left, r))):
            k, s, d = attrs["kernel"][axis], attrs["stride"][axis], attrs["dilation"][axis]
            op = attrs["output_padding"][axis]
            if op >= max(s, d):
                raise ShapeError(f"output_padding {op} must be smaller than the stride or "
                                 "the dilation")
            sizes.append((size - 1) * s - p0 - p1 + d * (k - 1) + op + 1)
        return (out, *sizes)

    def tensors(self, attrs: Attrs, input_shapes: Sequence[Shape],
                output_shape: Shape) -> list[Tensor]:
        (kh, kw), g = attrs["kernel"], attrs["groups"]
        per_group = output_shape[0] // g
        weight = Tensor("weight", Role.WEIGHT, (input_shapes[0][0], per_group, kh, kw),
                        fan_in=per_group * kh * kw)
        return [weight, *self.post_tensors(attrs, output_shape[0])]

    def macs(self, attrs: Attrs, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        kh, kw = attrs["kernel"]
        return numel(input_shapes[0]) * kh * kw * (output_shape[0] // attrs["groups"])

    def type_key(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> str:
        kh, kw = attrs["kernel"]
        return f"{'g' if attrs['groups'] > 1 else ''}deconv{kh}x{kw}"

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        a = node.attrs
        args = [inputs[0], e.param(node, "weight")]
        if a.get("bias"):
            args.append(e.param(node, "bias"))
        extra: dict[str, Any] = {}
        if a["dilation"] != (1, 1):
            extra["dilations"] = list(a["dilation"])
        if a["output_padding"] != (0, 0):
            extra["output_padding"] = list(a["output_padding"])
        y = e.op("ConvTranspose", args, name=node.name, kernel_shape=list(a["kernel"]),
                 strides=list(a["stride"]), pads=list(self.pads(a)), group=a["groups"],
                 **extra)
        return self.emit_post(e, node, y)
