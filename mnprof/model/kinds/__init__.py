"""The layer kinds, by family, and the registry that holds them.

``KINDS`` maps a spec's ``kind:`` name to its ``Kind`` (``kind_of(node)`` finds a
node's). Families: ``conv`` (convolutions, fc), ``elementwise`` (batch-norm,
activations, softmax, LRN), ``pool`` (windowed, global, adaptive), ``views``
(flatten, dropout), ``merge`` (add, concat, mul), ``channels`` (split, channel
shuffle); ``opaque`` stands for ONNX operators mnprof does not model
(``onnx:<OpType>``, imported models only). To add a kind, write its class in the
family it belongs to with ``@register`` (``docs/architecture.md``).
"""

from __future__ import annotations

from ..graph import Node
from . import channels, conv, elementwise, merge, pool, views  # noqa: F401  (they register)
from .base import Kind, Role, ShapeError, Tensor
from .opaque import OPAQUE, PREFIX
from .registry import KINDS, register


def kind_of(node: Node) -> Kind:
    if node.kind.startswith(PREFIX):
        return OPAQUE
    return KINDS[node.kind]


__all__ = ["KINDS", "Kind", "Role", "ShapeError", "Tensor", "kind_of", "register"]
