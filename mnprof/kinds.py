"""The registry of layer kinds: the one place that knows each kind.

Each kind says, next to each other:

- its fields (types and defaults; the validator and the JSON Schema come from these),
- its shape rule (``output_shape``),
- the parameter tensors it owns (``tensors``: weights, bias, batch-norm),
- its cost (``macs`` and ``elementwise_ops``),
- its per-type key (``type_key``, e.g. ``conv1x1``, ``dw3x3``, ``fc``),
- how it is written to ONNX (``emit``, through a builder so that onnx itself is only
  imported by the exporter).

Shapes are per image, without the batch: ``(C, H, W)`` for feature maps and
``(F,)`` for vectors. Padding ``same`` means output = ceil(input / stride).

Counting convention (written once, here and in the README):

- A MAC is one multiply plus one add. Only convolutions and fully-connected layers
  have MACs, as in the papers. One FLOP is taken to be half a MAC nowhere: mnprof
  reports MACs, and FLOPs only as "2 x MACs" where it says so.
- ``params`` are conv and fc weights (the papers' count). Biases and batch-norm
  scale and shift are counted apart (``bias_params``, ``bn_params``); their sum with
  ``params`` is the framework count. Batch-norm running mean and variance are
  buffers, not parameters, and are not counted.
- ``elementwise_ops``, reported apart from MACs: one per output element for each
  activation function, residual add, channel multiply and softmax; pooling counts
  one per element of each window. Bias and batch-norm count nothing here: at
  inference batch-norm folds into the preceding conv's weights and bias.
- Views (flatten; dropout, an identity at inference) write and move nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from .graph import Node

Shape = tuple[int, ...]
REQUIRED: Any = object()


class Activation(str, Enum):
    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"
    HSWISH = "hswish"
    HSIGMOID = "hsigmoid"


class Role(str, Enum):
    """What a parameter tensor is, for counting and for weight generation."""

    WEIGHT = "weight"
    BIAS = "bias"
    BN_SCALE = "bn_scale"
    BN_SHIFT = "bn_shift"
    BN_MEAN = "bn_mean"     # buffer: exported, never counted as a parameter
    BN_VAR = "bn_var"       # buffer


@dataclass(frozen=True)
class Tensor:
    """A parameter tensor a layer owns; ``fan_in`` drives He initialisation."""

    suffix: str
    role: Role
    shape: tuple[int, ...]
    fan_in: int = 1

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Field:
    """One field a kind accepts in a spec."""

    name: str
    type: str                      # int | bool | enum | scale | rounding | float
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    doc: str = ""
    minimum: float = 1             # for int / float
    maximum: float | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Builder(Protocol):
    """What ``Kind.emit`` needs from the ONNX exporter (see ``mnprof.export``)."""

    opset: int

    def op(self, op_type: str, inputs: Sequence[str], *, name: str, **attrs: Any) -> str: ...

    def param(self, node: Node, suffix: str) -> str: ...

    def const(self, name: str, value: float) -> str: ...

    def batchnorm(self, node: Node, x: str, *, fused: bool) -> str: ...


class ShapeError(ValueError):
    """A shape rule that cannot be met (e.g. an add of mismatched inputs)."""


KINDS: dict[str, Kind] = {}


def register(cls: type[Kind]) -> type[Kind]:
    kind = cls()
    if kind.name in KINDS:
        raise RuntimeError(f"layer kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return cls


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Begin/end padding giving ceil(size / stride) outputs.

    Odd kernels pad (k-1)/2 on both sides (what PyTorch models do, and always
    enough); even kernels pad the TF way, the extra one at the end.
    """
    if kernel % 2 == 1:
        return (kernel - 1) // 2, (kernel - 1) // 2
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def spatial_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def _map(shape: Shape, what: str) -> Shape:
    if len(shape) != 3:
        raise ShapeError(f"{what} needs a feature map (C, H, W) input, got a vector {shape}")
    return shape


def numel(shape: Shape) -> int:
    return math.prod(shape)


# ---------------------------------------------------------------------------
# Base classes


class Kind:
    """A layer kind. Subclasses fill in the class attributes and the rules."""

    name: ClassVar[str]
    doc: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    inputs: ClassVar[tuple[int, int | None]] = (1, 1)   # min, max (None: any)
    # The field holding an output channel count that the width multiplier scales.
    channel_field: ClassVar[str | None] = None
    # The output is the input seen another way (a view): nothing is computed, written
    # or moved at inference, so it costs no bytes and holds no memory of its own.
    aliases_input: ClassVar[bool] = False

    def complete(self, a: dict[str, Any]) -> None:
        """Fill in attributes implied by others (e.g. a pool's stride defaults to its kernel)."""

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return ins[0]

    def tensors(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> list[Tensor]:
        return []

    def macs(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return 0

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return 0

    def type_key(self, a: dict[str, Any], ins: Sequence[Shape]) -> str:
        return self.name

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        raise NotImplementedError(f"{self.name} has no ONNX emission")


_ACT_FIELD = Field("act", "enum", "none", tuple(a.value for a in Activation),
                   "activation after the layer (and after its batch-norm)")
_BN_FIELD = Field("bn", "bool", False, doc="batch-norm after the layer")
_SCALE_FIELD = Field("scale", "scale", True,
                     doc="whether alpha scales the output channels: true, false or "
                         "no_shrink (scaled only when alpha > 1)")
_ROUNDING_FIELD = Field("rounding", "rounding", None, ("truncate", "multiple_of_8"),
                        "rounding of scaled channels (default: the spec's)")
_PADDING_FIELD = Field("padding", "enum", "same", ("same", "valid"),
                       "same: output = ceil(input / stride); valid: no padding")


class _WithPostOps(Kind):
    """A layer followed by optional bias, batch-norm and activation (fused in the spec)."""

    def post_tensors(self, a: dict[str, Any], channels: int) -> list[Tensor]:
        ts = []
        if a.get("bias"):
            ts.append(Tensor("bias", Role.BIAS, (channels,)))
        if a.get("bn"):
            ts += [Tensor("bn.scale", Role.BN_SCALE, (channels,)),
                   Tensor("bn.shift", Role.BN_SHIFT, (channels,)),
                   Tensor("bn.mean", Role.BN_MEAN, (channels,)),
                   Tensor("bn.var", Role.BN_VAR, (channels,))]
        return ts

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(out) if a.get("act", Activation.NONE) is not Activation.NONE else 0

    def emit_post(self, b: Builder, node: Node, y: str) -> str:
        if node.attrs.get("bn"):
            y = b.batchnorm(node, y, fused=True)
        return emit_activation(b, node.attrs.get("act", Activation.NONE), y, node.name)


def emit_activation(b: Builder, act: Activation, x: str, name: str) -> str:
    if act is Activation.NONE:
        return x
    if act is Activation.RELU:
        return b.op("Relu", [x], name=f"{name}.relu")
    if act is Activation.RELU6:
        lo, hi = b.const("relu6.min", 0.0), b.const("relu6.max", 6.0)
        return b.op("Clip", [x, lo, hi], name=f"{name}.relu6")
    if act is Activation.HSIGMOID:
        return b.op("HardSigmoid", [x], name=f"{name}.hsigmoid", alpha=1.0 / 6, beta=0.5)
    if act is Activation.HSWISH:
        if b.opset >= 14:
            return b.op("HardSwish", [x], name=f"{name}.hswish")
        gate = b.op("HardSigmoid", [x], name=f"{name}.hswish.gate", alpha=1.0 / 6, beta=0.5)
        return b.op("Mul", [x, gate], name=f"{name}.hswish")
    raise AssertionError(act)


# ---------------------------------------------------------------------------
# Convolutions and fully-connected


class _ConvBase(_WithPostOps):
    def conv_shape(self, a: dict[str, Any], ins: Sequence[Shape], out_ch: int) -> Shape:
        c, h, w = _map(ins[0], self.name)
        k, s, pad = a["kernel"], a["stride"], a["padding"]
        return out_ch, spatial_out(h, k, s, pad), spatial_out(w, k, s, pad)

    def groups(self, a: dict[str, Any], ins: Sequence[Shape]) -> int:
        return a.get("groups", 1)

    def tensors(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> list[Tensor]:
        k, g = a["kernel"], self.groups(a, ins)
        cin_per_group = ins[0][0] // g
        weight = Tensor("weight", Role.WEIGHT, (out[0], cin_per_group, k, k),
                        fan_in=cin_per_group * k * k)
        return [weight, *self.post_tensors(a, out[0])]

    def macs(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        k, g = a["kernel"], self.groups(a, ins)
        return k * k * (ins[0][0] // g) * numel(out)

    def type_key(self, a: dict[str, Any], ins: Sequence[Shape]) -> str:
        k, g, cin = a["kernel"], self.groups(a, ins), ins[0][0]
        if g > 1 and g == cin:
            return f"dw{k}x{k}"
        return f"{'g' if g > 1 else ''}conv{k}x{k}"

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        a = node.attrs
        _, h, w = node.input_shapes[0]
        k, s = a["kernel"], a["stride"]
        if a["padding"] == "same":
            (ht, hb), (wl, wr) = same_pads(h, k, s), same_pads(w, k, s)
        else:
            ht = hb = wl = wr = 0
        inputs = [xs[0], b.param(node, "weight")]
        if a.get("bias"):
            inputs.append(b.param(node, "bias"))
        y = b.op("Conv", inputs, name=node.name, kernel_shape=[k, k], strides=[s, s],
                 pads=[ht, wl, hb, wr], group=self.groups(a, node.input_shapes))
        return self.emit_post(b, node, y)


_CONV_POST = (Field("bias", "bool", False, doc="a bias per output channel"), _BN_FIELD,
              _ACT_FIELD)


@register
class Conv(_ConvBase):
    name = "conv"
    doc = "standard (or grouped) KxK convolution"
    channel_field = "out"
    fields = (Field("kernel", "int", REQUIRED), Field("stride", "int", 1),
              Field("out", "int", REQUIRED, doc="output channels at alpha = 1"),
              Field("groups", "int", 1), _PADDING_FIELD, *_CONV_POST, _SCALE_FIELD,
              _ROUNDING_FIELD)

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        g, cin = a["groups"], _map(ins[0], self.name)[0]
        if cin % g or a["out"] % g:
            raise ShapeError(f"groups={g} must divide input channels ({cin}) and "
                             f"output channels ({a['out']})")
        return self.conv_shape(a, ins, a["out"])


@register
class PointwiseConv(_ConvBase):
    name = "pwconv"
    doc = "1x1 convolution"
    channel_field = "out"
    fields = (Field("stride", "int", 1),
              Field("out", "int", REQUIRED, doc="output channels at alpha = 1"),
              *_CONV_POST, _SCALE_FIELD, _ROUNDING_FIELD)

    def complete(self, a: dict[str, Any]) -> None:
        a.update(kernel=1, padding="same")

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return self.conv_shape(a, ins, a["out"])


@register
class DepthwiseConv(_ConvBase):
    name = "dwconv"
    doc = "depthwise KxK convolution: one filter (or `multiplier` filters) per channel"
    fields = (Field("kernel", "int", REQUIRED), Field("stride", "int", 1),
              Field("multiplier", "int", 1, doc="filters per input channel"),
              _PADDING_FIELD, *_CONV_POST)

    def groups(self, a: dict[str, Any], ins: Sequence[Shape]) -> int:
        return ins[0][0]

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return self.conv_shape(a, ins, _map(ins[0], self.name)[0] * a["multiplier"])

    def type_key(self, a: dict[str, Any], ins: Sequence[Shape]) -> str:
        return f"dw{a['kernel']}x{a['kernel']}"


@register
class FullyConnected(_WithPostOps):
    name = "fc"
    doc = "fully-connected layer over the flattened input (default output: the classes)"
    channel_field = "out"
    fields = (Field("out", "int", None, doc="output features at alpha = 1 "
                                              "(default: the spec's classes, never scaled)"),
              Field("bias", "bool", True, doc="a bias per output (default true)"),
              _ACT_FIELD, _SCALE_FIELD, _ROUNDING_FIELD)

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return (a["out"],)

    def tensors(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> list[Tensor]:
        fan_in = numel(ins[0])
        return [Tensor("weight", Role.WEIGHT, (out[0], fan_in), fan_in=fan_in),
                *self.post_tensors(a, out[0])]

    def macs(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(ins[0]) * out[0]

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        x = xs[0]
        if len(node.input_shapes[0]) != 1:
            x = b.op("Flatten", [x], name=f"{node.name}.flatten", axis=1)
        inputs = [x, b.param(node, "weight")]
        if node.attrs.get("bias"):
            inputs.append(b.param(node, "bias"))
        y = b.op("Gemm", inputs, name=node.name, transB=1)
        return self.emit_post(b, node, y)


# ---------------------------------------------------------------------------
# Normalisation and activations


@register
class BatchNorm(Kind):
    name = "batchnorm"
    doc = "batch-norm on its own (usually written as `bn: true` on a conv instead)"

    def tensors(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> list[Tensor]:
        c = out[0]
        return [Tensor("bn.scale", Role.BN_SCALE, (c,)), Tensor("bn.shift", Role.BN_SHIFT, (c,)),
                Tensor("bn.mean", Role.BN_MEAN, (c,)), Tensor("bn.var", Role.BN_VAR, (c,))]

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.batchnorm(node, xs[0], fused=False)


def _activation_kind(act: Activation) -> type[Kind]:
    class _Act(Kind):
        name = act.value
        doc = f"{act.value} activation"

        def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
            return numel(out)

        def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
            return emit_activation(b, act, xs[0], node.name)

    _Act.__name__ = f"Act_{act.value}"
    return _Act


for _act in Activation:
    if _act is not Activation.NONE:
        register(_activation_kind(_act))


# ---------------------------------------------------------------------------
# Pooling, reshaping, classifier head


class _Pool(Kind):
    onnx_op: ClassVar[str]
    fields = (Field("kernel", "int", REQUIRED),
              Field("stride", "int", None, doc="default: the kernel size"),
              Field("padding", "enum", "valid", ("same", "valid"),
                    "valid (default): no padding; same: output = ceil(input / stride)"))

    def complete(self, a: dict[str, Any]) -> None:
        if a["stride"] is None:
            a["stride"] = a["kernel"]

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        c, h, w = _map(ins[0], self.name)
        k, s, p = a["kernel"], a["stride"], a["padding"]
        return c, spatial_out(h, k, s, p), spatial_out(w, k, s, p)

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(out) * a["kernel"] * a["kernel"]

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        a = node.attrs
        _, h, w = node.input_shapes[0]
        k, s = a["kernel"], a["stride"]
        (ht, hb), (wl, wr) = ((same_pads(h, k, s), same_pads(w, k, s))
                              if a["padding"] == "same" else ((0, 0), (0, 0)))
        return b.op(self.onnx_op, [xs[0]], name=node.name, kernel_shape=[k, k],
                    strides=[s, s], pads=[ht, wl, hb, wr])


@register
class AvgPool(_Pool):
    name = "avgpool"
    doc = "average pooling (padding, if any, is excluded from the average)"
    onnx_op = "AveragePool"


@register
class MaxPool(_Pool):
    name = "maxpool"
    doc = "max pooling"
    onnx_op = "MaxPool"


@register
class GlobalAvgPool(Kind):
    name = "global_avgpool"
    doc = "average over the whole feature map: (C, H, W) -> (C, 1, 1)"

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return _map(ins[0], self.name)[0], 1, 1

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(ins[0])

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.op("GlobalAveragePool", [xs[0]], name=node.name)


@register
class Flatten(Kind):
    name = "flatten"
    doc = "(C, H, W) -> (C*H*W,)"
    aliases_input = True

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        return (numel(ins[0]),)

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.op("Flatten", [xs[0]], name=node.name, axis=1)


@register
class Softmax(Kind):
    name = "softmax"
    doc = "softmax over the channels (the classes)"

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(out)

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.op("Softmax", [xs[0]], name=node.name, axis=1)


@register
class Dropout(Kind):
    name = "dropout"
    doc = "dropout: an identity at inference; costs nothing and is not exported"
    aliases_input = True
    fields = (Field("p", "float", 0.2, minimum=0, maximum=1, doc="drop probability"),)

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return xs[0]


# ---------------------------------------------------------------------------
# Merging branches


@register
class Add(Kind):
    name = "add"
    doc = "elementwise sum of inputs of one shape (a residual connection)"
    inputs = (2, None)

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        if any(s != ins[0] for s in ins[1:]):
            raise ShapeError("inputs must have the same shape, got "
                             + " and ".join(_fmt(s) for s in ins))
        return ins[0]

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(out) * (len(ins) - 1)

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        y = xs[0]
        for i, x in enumerate(xs[1:]):
            y = b.op("Add", [y, x], name=node.name if i == len(xs) - 2 else f"{node.name}.{i}")
        return y


@register
class Concat(Kind):
    name = "concat"
    doc = "concatenation along the channels of maps with the same H and W"
    inputs = (2, None)

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        if any(len(s) != len(ins[0]) or s[1:] != ins[0][1:] for s in ins):
            raise ShapeError("inputs must agree in all but channels, got "
                             + " and ".join(_fmt(s) for s in ins))
        return (sum(s[0] for s in ins), *ins[0][1:])

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.op("Concat", xs, name=node.name, axis=1)


@register
class Mul(Kind):
    name = "mul"
    doc = "channel-wise multiply of a map (C, H, W) by a gate (C, 1, 1) or a map (SE)"
    inputs = (2, 2)

    def output_shape(self, a: dict[str, Any], ins: Sequence[Shape]) -> Shape:
        x, g = ins
        if len(x) != 3 or len(g) != 3 or g[0] != x[0] or g[1:] not in ((1, 1), x[1:]):
            raise ShapeError(f"needs a map and a gate of the same channels, (C, H, W) and "
                             f"(C, 1, 1) or (C, H, W); got {_fmt(x)} and {_fmt(g)}")
        return x

    def elementwise_ops(self, a: dict[str, Any], ins: Sequence[Shape], out: Shape) -> int:
        return numel(out)

    def emit(self, b: Builder, node: Node, xs: list[str]) -> str:
        return b.op("Mul", xs, name=node.name)


def _fmt(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


