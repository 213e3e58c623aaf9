"""Evaluating the shape-only part of a graph: the ops exporters write to compute shapes.

Legacy torch exports compute a Reshape's target shape at run time (``Shape``,
``Gather``, ``Unsqueeze``, ``Concat``, integer ``Div``...); dynamo exports and
others use ``Constant``, ``ConstantOfShape``, ``Range``, ``Cast``. Once the
image's dimensions are bound these are all constants: each op here is evaluated
with numpy on small arrays (at most ``MAX_FOLD_ELEMENTS`` elements), so none of
them becomes a layer. Integer division truncates toward zero, as ONNX says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MAX_FOLD_ELEMENTS = 1 << 16        # a shape computation never needs more

Array = Any                        # numpy.ndarray
Folder = Callable[[Any, list[Array], dict[str, Any]], list[Array]]
FOLDERS: dict[str, Folder] = {}


def folder(*ops: str) -> Callable[[Folder], Folder]:
    def register(fn: Folder) -> Folder:
        for op in ops:
            FOLDERS[op] = fn
        return fn
    return register


def _np() -> Any:
    import numpy
    return numpy


def _axes(attrs: dict[str, Any], xs: list[Array], index: int) -> list[int] | None:
    """Axes given as an input (newer opsets) or as an attribute (older ones)."""
    if len(xs) > index and xs[index] is not None:
        return [int(a) for a in xs[index].reshape(-1)]
    return list(attrs["axes"]) if "axes" in attrs else None


@folder("Identity")
def _identity(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [xs[0]]


@folder("Cast")
def _cast(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    from ..proto import NUMPY_OF
    return [xs[0].astype(NUMPY_OF[attrs["to"]])]


@folder("Gather")
def _gather(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [_np().take(xs[0], xs[1].astype("int64"), axis=attrs.get("axis", 0))]


@folder("Unsqueeze")
def _unsqueeze(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    x = xs[0]
    axes = _axes(attrs, xs, 1) or []
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = _np().expand_dims(x, a)
    return [x]


@folder("Squeeze")
def _squeeze(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    axes = _axes(attrs, xs, 1)
    np = _np()
    return [np.squeeze(xs[0]) if axes is None else
            np.squeeze(xs[0], axis=tuple(a % xs[0].ndim for a in axes))]


@folder("Concat")
def _concat(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [_np().concatenate([x for x in xs if x is not None], axis=attrs["axis"])]


@folder("Reshape")
def _reshape(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    x, target = xs[0], [int(v) for v in xs[1]]
    if not attrs.get("allowzero", 0):
        target = [x.shape[i] if v == 0 else v for i, v in enumerate(target)]
    return [x.reshape(target)]


@folder("Flatten")
def _flatten(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    x, axis = xs[0], attrs.get("axis", 1) % max(xs[0].ndim, 1)
    return [x.reshape(int(_np().prod(x.shape[:axis])), -1)]


@folder("Transpose")
def _transpose(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [_np().transpose(xs[0], attrs.get("perm"))]


@folder("ConstantOfShape")
def _constant_of_shape(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    from ..proto import to_array
    np = _np()
    shape = [int(v) for v in xs[0]]
    if np.prod(shape, dtype=object) > MAX_FOLD_ELEMENTS:
        raise ValueError("too large to fold")
    value = to_array(attrs["value"]) if "value" in attrs else \
        np.zeros(1, dtype="float32")
    return [np.full(shape, value.reshape(-1)[0], dtype=value.dtype)]


@folder("Range")
def _range(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    start, limit, delta = (x.reshape(()) for x in xs[:3])
    np = _np()
    if delta == 0 or abs((limit - start) / delta) > MAX_FOLD_ELEMENTS:
        raise ValueError("too large to fold")
    return [np.arange(start, limit, delta, dtype=np.result_type(start, limit, delta))]


@folder("Slice")
def _slice(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    x = xs[0]
    if len(xs) > 1:
        starts, ends = list(xs[1].reshape(-1)), list(xs[2].reshape(-1))
        axes = _axes({}, xs, 3) or list(range(len(starts)))
        steps = list(xs[4].reshape(-1)) if len(xs) > 4 and xs[4] is not None else \
            [1] * len(starts)
    else:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        index[int(a) % x.ndim] = slice(int(s), int(e), int(st))
    return [x[tuple(index)]]


def _int_div(a: Array, b: Array) -> Array:
    np = _np()
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        q = np.abs(a) // np.abs(b)               # ONNX integer Div truncates toward zero
        return (q * np.sign(a) * np.sign(b)).astype(np.result_type(a, b))
    return a / b


_BINARY: dict[str, Callable[[Array, Array], Array]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": _int_div, "Equal": lambda a, b: a == b, "Less": lambda a, b: a < b,
    "Greater": lambda a, b: a > b, "Mod": lambda a, b: a % b,
    "Pow": lambda a, b: a ** b,
}


@folder(*_BINARY)
def _binary(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    out = _BINARY[node.op_type](xs[0], xs[1])
    np = _np()
    return [out if node.op_type in ("Equal", "Less", "Greater") else
            np.asarray(out).astype(np.result_type(xs[0], xs[1]))]


_UNARY = {"Neg": "negative", "Abs": "abs", "Floor": "floor", "Ceil": "ceil", "Sqrt": "sqrt",
          "Not": "logical_not", "Reciprocal": "reciprocal"}


@folder(*_UNARY)
def _unary(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [getattr(_np(), _UNARY[node.op_type])(xs[0])]


@folder("Min", "Max")
def _min_max(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    np = _np()
    fn = np.minimum if node.op_type == "Min" else np.maximum
    out = xs[0]
    for x in xs[1:]:
        out = fn(out, x)
    return [out]


@folder("Where")
def _where(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    return [_np().where(xs[0], xs[1], xs[2])]


@folder("Expand")
def _expand(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    np = _np()
    shape = np.broadcast_shapes(xs[0].shape, tuple(int(v) for v in xs[1]))
    if np.prod(shape, dtype=object) > MAX_FOLD_ELEMENTS:
        raise ValueError("too large to fold")
    return [np.broadcast_to(xs[0], shape).copy()]


@folder("ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin")
def _reduce(node: Any, xs: list[Array], attrs: dict[str, Any]) -> list[Array]:
    np = _np()
    fn = {"ReduceProd": np.prod, "ReduceSum": np.sum, "ReduceMax": np.max,
          "ReduceMin": np.min}[node.op_type]
    axes = _axes(attrs, xs, 1)
    keep = bool(attrs.get("keepdims", 1))
    out = fn(xs[0], axis=None if not axes else tuple(axes), keepdims=keep)
    return [np.asarray(out, dtype=xs[0].dtype)]


def shape_values(shape: Sequence[int], attrs: dict[str, Any]) -> Array:
    """``Shape``'s output for a tensor of ``shape`` (with opset 15's start and end)."""
    np = _np()
    dims = list(shape)
    start, end = attrs.get("start", 0), attrs.get("end", len(dims))
    return np.array(dims[start:end], dtype="int64")
