"""The built layer graph: named nodes in execution order, with their shapes.

Shapes are per image, without the batch: ``(C, H, W)`` for feature maps and
``(F,)`` for vectors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]
INPUT = "input"             # the name a node uses to read the network's input


def numel(shape: Shape) -> int:
    return math.prod(shape)


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


@dataclass(frozen=True)
class Node:
    name: str
    kind: str                          # a key of mnprof.model.kinds.KINDS
    attrs: Mapping[str, Any]           # the kind's fields, resolved
    inputs: tuple[str, ...]            # names of producing nodes; INPUT is the network input
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    type_key: str                      # the per-type key of reports: conv1x1, dw3x3, fc, se
    block: str = ""                    # the top-level block instance it belongs to ("": none)


@dataclass(frozen=True)
class Graph:
    model: str
    alpha: float
    resolution: int
    input_shape: Shape
    nodes: tuple[Node, ...]
    output: str
    depth: float = 1.0
    source: str = "spec"               # "spec" | "onnx"
    file: str = ""                     # the spec or ONNX file it was built from, as shown
    notes: tuple[str, ...] = field(default=(), compare=False)   # what the builder wants said
    batch: int = 1                     # images per run the source fixes (counts are per image)
    # what an imported file says about itself (mnprof's exports: spec, alpha, resolution)
    metadata: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # an expression of the spec read the resolution (``resolution``, ``hin``, a vector's
    # length): its layers and attributes may change with it (``analysis.grid``)
    reads_resolution: bool = field(default=False, compare=False)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)
