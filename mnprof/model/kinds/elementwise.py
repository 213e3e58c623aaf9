"""Kinds that keep the shape and have no MACs: batch-norm, activations, softmax, LRN.

Each registered activation (``mnprof.model.activations``) is also a kind of its
own (``kind: relu``), made here from the registry, so a new activation needs no
change in this file.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...core.values import MAX_CHANNELS
from ..activations import NONE, Activation, on_register
from ..emit import Emitter
from ..fields import FloatField, IntField
from ..graph import Node, Shape, numel
from .base import Attrs, Kind, Tensor, bn_tensors
from .conv import BN_EPS_FIELD
from .registry import KINDS, register


@register
class BatchNorm(Kind):
    name = "batchnorm"
    doc = "batch-norm on its own (usually written as `bn: true` on a conv instead)"
    fields = (BN_EPS_FIELD,)

    def tensors(self, attrs: Attrs, input_shapes: Sequence[Shape],
                output_shape: Shape) -> list[Tensor]:
        return bn_tensors(output_shape[0])

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.batchnorm(node, inputs[0], fused=False)


class ActivationKind(Kind):
    """``kind: <activation>``: an activation as a layer of its own."""

    act: Activation

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return self.act.ops * numel(output_shape)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return self.act.emit(e, inputs[0], node.name)


def _activation_kind(act: Activation) -> None:
    if act.name == NONE or act.name in KINDS:
        return
    cls = type(f"Act_{act.name}", (ActivationKind,),
               {"name": act.name, "doc": f"{act.name} activation: {act.doc}", "act": act})
    register(cls)


on_register(_activation_kind)


@register
class Softmax(Kind):
    name = "softmax"
    doc = "softmax over the channels (the classes)"

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return numel(output_shape)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        return e.op("Softmax", [inputs[0]], name=node.name, axis=1)


@register
class LocalResponseNorm(Kind):
    name = "lrn"
    doc = ("local response normalisation across channels (AlexNet, GoogLeNet's original): "
           "x / (k + alpha / size * sum of x^2 over `size` channels) ^ beta")
    fields = (IntField("size", doc="channels in each window", maximum=MAX_CHANNELS),
              FloatField("alpha", 1e-4, minimum=0.0, maximum=1e6),
              FloatField("beta", 0.75, minimum=0.0, maximum=1e6),
              FloatField("k", 1.0, "the additive bias", minimum=0.0, maximum=1e6))

    def elementwise_ops(self, attrs: Attrs, input_shapes: Sequence[Shape],
                        output_shape: Shape) -> int:
        return numel(output_shape) * attrs["size"]     # one per element of each window

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        a = node.attrs
        return e.op("LRN", [inputs[0]], name=node.name, size=a["size"], alpha=a["alpha"],
                    beta=a["beta"], bias=a["k"])
