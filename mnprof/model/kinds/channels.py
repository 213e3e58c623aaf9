"""Kinds that move channels around without arithmetic: channel split and channel shuffle.

ShuffleNetV2's unit splits the channels in two, runs one half through convolutions,
concatenates the halves and shuffles the channels so the next unit mixes them.
Both move data (onnxruntime copies it), so they count their output as activations
and its bytes, but no MACs and no elementwise ops.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...core.values import MAX_CHANNELS
from ..emit import Emitter
from ..fields import IntField
from ..graph import Node, Shape
from .base import Attrs, Kind, ShapeError
from .registry import register


@register
class Split(Kind):
    name = "split"
    doc = "one of `parts` equal parts of the input's channels (part `index`, from 0)"
    fields = (IntField("parts", 2, "how many equal parts", minimum=2, maximum=MAX_CHANNELS),
              IntField("index", doc="which part this layer outputs (0-based)", minimum=0,
                       maximum=MAX_CHANNELS))

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        c, *rest = input_shapes[0]
        parts, index = attrs["parts"], attrs["index"]
        if c % parts:
            raise ShapeError(f"{c} channels do not split into {parts} equal parts")
        if index >= parts:
            raise ShapeError(f"index {index} is not one of the {parts} parts (0 to {parts - 1})")
        return (c // parts, *rest)

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        size = node.output_shape[0]
        lo, hi = node.attrs["index"] * size, (node.attrs["index"] + 1) * size
        start = e.const(f"split.start{lo}", [lo], dtype="int64")
        stop = e.const(f"split.stop{hi}", [hi], dtype="int64")
        axis = e.const("split.axis", [1], dtype="int64")
        return e.op("Slice", [inputs[0], start, stop, axis], name=node.name)


@register
class ChannelShuffle(Kind):
    name = "channel_shuffle"
    doc = "channel shuffle: (g, C/g) channels read as (C/g, g), as ShuffleNet mixes groups"
    fields = (IntField("groups", 2, "groups to interleave", minimum=1, maximum=MAX_CHANNELS),)

    def output_shape(self, attrs: Attrs, input_shapes: Sequence[Shape]) -> Shape:
        c = input_shapes[0][0]
        if c % attrs["groups"]:
            raise ShapeError(f"groups={attrs['groups']} must divide the {c} channels")
        return input_shapes[0]

    def emit(self, e: Emitter, node: Node, inputs: list[str]) -> str:
        """Reshape to (N, g, C/g, ...), swap the two channel axes, reshape back."""
        c, *rest = node.input_shapes[0]
        g = node.attrs["groups"]
        split = e.const(f"shuffle.split{g}x{c // g}.{'x'.join(map(str, rest))}",
                        [0, g, c // g, *rest], dtype="int64")
        whole = e.const(f"shuffle.whole{c}.{'x'.join(map(str, rest))}", [0, c, *rest],
                        dtype="int64")
        x = e.op("Reshape", [inputs[0], split], name=f"{node.name}.split")
        perm = [0, 2, 1, *range(3, 3 + len(rest))]
        x = e.op("Transpose", [x], name=f"{node.name}.transpose", perm=perm)
        return e.op("Reshape", [x, whole], name=node.name)
