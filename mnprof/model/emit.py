"""What a layer kind or an activation needs in order to write itself to ONNX.

``mnprof.onnxio.export`` implements this protocol; kinds and activations call it
(``Kind.emit``, ``Activation.emit``), so onnx itself is imported only by the
exporter. Every method returns the name of the tensor it made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .graph import Node


class Emitter(Protocol):
    opset: int

    def op(self, op_type: str, inputs: Sequence[str], *, name: str, **attrs: Any) -> str:
        """A node of ``op_type`` named ``name`` (its output tensor takes the name too)."""

    def param(self, node: Node, suffix: str) -> str:
        """The initializer ``<node>.<suffix>`` that ``node``'s kind declared."""

    def const(self, name: str, value: float | Sequence[float] | Sequence[int], *,
              dtype: str = "float32") -> str:
        """A constant initializer (shared by name; an int64 list for shapes)."""

    def batchnorm(self, node: Node, x: str, *, fused: bool) -> str:
        """``node``'s batch-norm on ``x`` (folded into ``x``'s producer when asked)."""
