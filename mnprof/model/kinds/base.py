"""What a layer kind is: the base class every kind fills in, and what kinds share.

Each kind says, next to each other:

- its fields (``Field`` objects: the validator and the JSON Schema come from them),
- its shape rule (``output_shape``),
- the parameter tensors it owns (``tensors``: weights, bias, batch-norm),
- its cost (``macs`` and ``elementwise_ops``),
- its per-type key (``type_key``, e.g. ``conv1x1``, ``dw3x3``, ``fc``),
- how it is written to ONNX (``emit``, through an ``Emitter``).

Counting convention (written once, here and in the README):

- A MAC is one multiply plus one add. Only convolutions and fully-connected layers
  have MACs, as in the papers. mnprof reports MACs, and FLOPs only as "2 x MACs"
  where it says so.
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from ...core.values import MAX_CHANNELS
from ..activations import NONE, activation, names
from ..emit import Emitter
from ..fields import REQUIRED, BoolField, ChoiceField, Field, IntField, RoundingField, ScaleField
from ..graph import Node, Shape, fmt_shape, numel

Attrs = Mapping[str, Any]


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
        return numel(self.shape)


# Batch-norm as the exporter writes it: its tensors' suffixes, in ONNX input order.
BN_SUFFIXES = {Role.BN_SCALE: "bn.scale", Role.BN_SHIFT: "bn.shift",
               Role.BN_MEAN: "bn.mean", Role.BN_VAR: "bn.var"}


def bn_tensors(channels: int) -> list[Tensor]:
    return [Tensor(suffix, role, (channels,)) for role, suffix in BN_SUFFIXES.items()]


class ShapeError(ValueError):
    """A shape rule that cannot be met (e.g. an add of mismatched inputs)."""


def feature_map(shape: Shape, what: str) -> Shape:
    """``shape`` if it is a (C, H, W) map; a ShapeError naming ``what`` otherwise."""
    if len(shape) != 3:
        raise ShapeError(f"{what} needs a feature map (C, H, W) input, got a vector "
                         f"{fmt_shape(shape)}")
    return shape


class Kind:
    """A layer kind. Subclasses fill in the class attributes and the rules."""

    name: ClassVar[str]
    doc: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    arity: ClassVar[tuple[int, int | None]] = (1, 1)    # inputs: min, max (None: any)
    # The field holding an output channel count that the width multiplier scales.
    channel_field: ClassVar[str | None] = None
    # The output is the input seen another way: nothing is computed, written or moved
    # at inference, so it costs no bytes and holds no memory of its own.
    is_view: ClassVar[bool] = False

    def complete(self, attrs: dict[str, Any]) -> None:
        """Fill in attributes implied by others (e.g. a pool's stride defaults to its kernel)."""

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        return input_shapes[0]

    def tensors(self, attrs: Attrs, input_shapes: Sequence[Shape],
                output_shape: Shape) -> list[Tensor]:
        return []

    def macs(self, attrs: Attrs, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return 0

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return 0

    def type_key(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> str:
        return self.name

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        raise NotImplementedError(f"{self.name} has no ONNX emission")


# ---------------------------------------------------------------------------
# Fields several kinds share

ACT_FIELD = ChoiceField("act", NONE, "activation after the layer (and after its batch-norm)",
                        choices=names)
BN_FIELD = BoolField("bn", False, "batch-norm after the layer")
BIAS_FIELD = BoolField("bias", False, "a bias per output channel")
SCALE_FIELD = ScaleField("scale", True, "whether alpha scales the output channels: true, "
                                        "false or no_shrink (scaled only when alpha > 1)")
ROUNDING_FIELD = RoundingField("rounding", None, "rounding of scaled channels (default: the "
                                                 "spec's)")


def channels_field(default: Any = REQUIRED, doc: str = "output channels at alpha = 1"
                   ) -> IntField:
    return IntField("out", default, doc, maximum=MAX_CHANNELS)


class PostOps(Kind):
    """A layer followed by optional bias, batch-norm and activation (fused in the spec)."""

    def post_tensors(self, attrs: Attrs, channels: int) -> list[Tensor]:
        ts = []
        if attrs.get("bias"):
            ts.append(Tensor("bias", Role.BIAS, (channels,)))
        if attrs.get("bn"):
            ts += bn_tensors(channels)
        return ts

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return activation(attrs.get("act", NONE)).ops * numel(output_shape)

    def emit_post(self, e: Emitter, node: Node, y: str) -> str:
        if node.attrs.get("bn"):
            y = e.batchnorm(node, y, fused=True)
        return activation(node.attrs.get("act", NONE)).emit(e, y, node.name)
