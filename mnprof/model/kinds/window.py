"""Sliding windows (convolutions and pools): kernel, stride, dilation, padding, ceil mode.

Fields take one integer or a pair ``[h, w]`` (a 1x7 kernel is ``kernel: [1, 7]``);
they are stored as pairs. ``padding`` is

- ``same``: output = ceil(input / stride); an odd (dilated) kernel pads (k - 1) / 2 on
  both sides, as PyTorch models write it; an even one pads the TensorFlow way, the
  extra row or column at the end;
- ``valid``: no padding;
- an integer (all sides), ``[h, w]`` (top and bottom h, left and right w, PyTorch's
  ``padding=(h, w)``) or ``[top, left, bottom, right]`` (ONNX's order).

Output size with explicit padding, PyTorch's and ONNX's rule:
floor((in + begin + end - dilation * (k - 1) - 1) / stride) + 1; with ``ceil_mode``
the ceiling instead, less one if the last window would start in the end padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...core.values import MAX_KERNEL, is_int
from ..emit import Emitter
from ..fields import Field, FieldError
from ..graph import Shape
from .base import ShapeError

Pair = tuple[int, int]
Pads = tuple[int, int, int, int]          # top, left, bottom, right


@dataclass(frozen=True)
class PairField(Field):
    """An integer or ``[h, w]`` in [minimum, MAX_KERNEL], stored as ``(h, w)``."""

    minimum: int = 1

    def coerce(self, value: Any) -> Pair:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) not in (1, 2) or not all(is_int(v) and self.minimum <= v <= MAX_KERNEL
                                                for v in items):
            raise self.bad(f"an integer from {self.minimum} to {MAX_KERNEL} or a pair "
                           "[h, w] of them", value)
        return (items[0], items[-1])

    def value_schema(self) -> dict[str, Any]:
        one = {"type": "integer", "minimum": self.minimum, "maximum": MAX_KERNEL}
        return {"anyOf": [one, {"type": "array", "items": one, "minItems": 2, "maxItems": 2}]}


@dataclass(frozen=True)
class PaddingField(Field):
    """``same``, ``valid``, or explicit padding; stored as the word or (t, l, b, r)."""

    def coerce(self, value: Any) -> str | Pads:
        if value in ("same", "valid"):
            return value
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) not in (1, 2, 4) or not all(is_int(v) and 0 <= v <= MAX_KERNEL
                                                   for v in items):
            raise FieldError(f"must be same, valid, an integer >= 0, [h, w] or [top, left, "
                             f"bottom, right], got {value!r:.80}")
        if len(items) == 1:
            return (items[0],) * 4          # type: ignore[return-value]
        if len(items) == 2:
            return (items[0], items[1], items[0], items[1])
        return tuple(items)                 # type: ignore[return-value]

    def value_schema(self) -> dict[str, Any]:
        side = {"type": "integer", "minimum": 0, "maximum": MAX_KERNEL}
        return {"anyOf": [{"enum": ["same", "valid"]}, side,
                          {"type": "array", "items": side, "minItems": 2, "maxItems": 2},
                          {"type": "array", "items": side, "minItems": 4, "maxItems": 4}]}


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Begin/end padding giving ceil(size / stride) outputs (see the module docstring)."""
    k = dilation * (kernel - 1) + 1
    if k % 2 == 1:
        return (k - 1) // 2, (k - 1) // 2
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class Window:
    """A window's geometry over an (H, W) input, pads resolved."""

    kernel: Pair
    stride: Pair
    dilation: Pair
    pads: Pads
    ceil_mode: bool = False

    @classmethod
    def of(cls, attrs: Any, height: int, width: int) -> Window:
        k, s = attrs["kernel"], attrs["stride"]
        d = attrs.get("dilation", (1, 1))
        padding = attrs.get("padding", "valid")
        if padding == "same":
            (t, b), (left, r) = same_pads(height, k[0], s[0], d[0]), same_pads(width, k[1], s[1],
                                                                             d[1])
            pads: Pads = (t, left, b, r)
        elif padding == "valid":
            pads = (0, 0, 0, 0)
        else:
            pads = padding
        return cls(k, s, d, pads, bool(attrs.get("ceil_mode", False)))

    def out(self, axis: int, size: int) -> int:
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        begin, end = self.pads[axis], self.pads[axis + 2]
        span = size + begin + end - d * (k - 1) - 1
        if span < 0:
            return 0
        if not self.ceil_mode:
            return span // s + 1
        n = -(-span // s) + 1
        if (n - 1) * s >= size + begin:      # the last window would start in the end padding
            n -= 1
        return n

    def output_hw(self, shape: Shape) -> tuple[int, int]:
        _, h, w = shape
        return self.out(0, h), self.out(1, w)

    def check_pool_pads(self) -> None:
        """Pools pad at most half the kernel (PyTorch's rule; onnxruntime needs pad < kernel)."""
        kernels = (*self.kernel, *self.kernel)
        if any(p > k // 2 for p, k in zip(self.pads, kernels, strict=True)):
            raise ShapeError(f"padding {list(self.pads)} is more than half the kernel "
                             f"{list(self.kernel)}")

    def onnx_attrs(self) -> dict[str, Any]:
        """kernel_shape, strides, pads (and dilations, ceil_mode where not the default)."""
        out: dict[str, Any] = {"kernel_shape": list(self.kernel), "strides": list(self.stride),
                               "pads": list(self.pads)}
        if self.dilation != (1, 1):
            out["dilations"] = list(self.dilation)
        if self.ceil_mode:
            out["ceil_mode"] = 1
        return out

    def elements(self) -> int:
        return self.kernel[0] * self.kernel[1]


def emit_window(e: Emitter, op: str, inputs: Sequence[str], name: str, window: Window,
                **extra: Any) -> str:
    return e.op(op, list(inputs), name=name, **window.onnx_attrs(), **extra)
