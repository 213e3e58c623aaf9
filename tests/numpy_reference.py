"""An independent numpy forward pass of a built graph, for checking the ONNX export.

Written from the layer definitions (the papers and the spec language), not from
``mnprof.export`` nor ``Kind.emit``: it shares only the graph (names, attributes,
shapes) and the weights of ``mnprof.weights.generate_weights``. It computes in
float64, so the difference from onnxruntime's float32 is onnxruntime's rounding.

Conventions restated here on purpose:
- padding ``same``: output = ceil(input / stride); odd kernels pad (k-1)/2 on both
  sides, even kernels pad the total (out-1)*s + k - in, the odd one at the end;
- batch-norm at inference: gamma * (x - mean) / sqrt(var + eps) + beta;
- hswish(x) = x * relu6(x + 3) / 6, hsigmoid(x) = relu6(x + 3) / 6;
- average pooling divides by the number of real (not padded) elements.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mnprof.graph import INPUT, Graph, Node
from mnprof.weights import BN_EPSILON


def pads(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    if kernel % 2:
        return (kernel - 1) // 2, (kernel - 1) // 2
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, k: int, s: int, padding: str, fill: float) -> np.ndarray:
    """(N, C, Ho, Wo, k, k) windows of the padded input x (N, C, H, W)."""
    (t, b), (lft, r) = pads(x.shape[2], k, s, padding), pads(x.shape[3], k, s, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (lft, r)), constant_values=fill)
    return sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]


def conv(x: np.ndarray, w: np.ndarray, stride: int, padding: str, groups: int) -> np.ndarray:
    n, c = x.shape[:2]
    m, cg, k, _ = w.shape
    win = _windows(x, k, stride, padding, 0.0)
    ho, wo = win.shape[2:4]
    win = win.reshape(n, groups, c // groups, ho, wo, k, k)
    wg = w.reshape(groups, m // groups, cg, k, k)
    y = np.einsum("ngchwij,gmcij->ngmhw", win, wg, optimize=True)
    return y.reshape(n, m, ho, wo)


def batchnorm(x: np.ndarray, p: Mapping[str, np.ndarray], prefix: str) -> np.ndarray:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    g, b, m, v = (p[f"{prefix}.bn.{s}"].astype(np.float64).reshape(shape)
                  for s in ("scale", "shift", "mean", "var"))
    return g * (x - m) / np.sqrt(v + BN_EPSILON) + b


def relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 6.0)


ACTIVATIONS = {
    "none": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": relu6,
    "hswish": lambda x: x * relu6(x + 3.0) / 6.0,
    "hsigmoid": lambda x: relu6(x + 3.0) / 6.0,
}


def pool(x: np.ndarray, kind: str, k: int, s: int, padding: str) -> np.ndarray:
    if kind == "maxpool":
        return _windows(x, k, s, padding, -np.inf).max(axis=(4, 5))
    total = _windows(x, k, s, padding, 0.0).sum(axis=(4, 5))
    count = _windows(np.ones((1, 1) + x.shape[2:]), k, s, padding, 0.0).sum(axis=(4, 5))
    return total / count


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _post(node: Node, y: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    a = node.attrs
    if a.get("bias"):
        y = y + p[f"{node.name}.bias"].astype(np.float64).reshape((1, -1) + (1,) * (y.ndim - 2))
    if a.get("bn"):
        y = batchnorm(y, p, node.name)
    return ACTIVATIONS[str(getattr(a.get("act"), "value", a.get("act") or "none"))](y)


def layer(node: Node, xs: list[np.ndarray], p: Mapping[str, np.ndarray]) -> np.ndarray:
    a, kind = node.attrs, node.kind
    if kind in ("conv", "pwconv", "dwconv"):
        # The definitions restated here on purpose (pwconv: 1x1, "same"; a pool's stride
        # defaults to its kernel), rather than trusting the attributes mnprof filled in.
        x = xs[0]
        w = p[f"{node.name}.weight"].astype(np.float64)
        k = 1 if kind == "pwconv" else a["kernel"]
        groups = x.shape[1] if kind == "dwconv" else a.get("groups", 1)
        padding = "same" if kind == "pwconv" else a["padding"]
        assert w.shape[2:] == (k, k)
        return _post(node, conv(x, w, a["stride"], padding, groups), p)
    if kind == "fc":
        x = xs[0].reshape(xs[0].shape[0], -1)
        return _post(node, x @ p[f"{node.name}.weight"].astype(np.float64).T, p)
    if kind == "batchnorm":
        return batchnorm(xs[0], p, node.name)
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind](xs[0])
    if kind in ("avgpool", "maxpool"):
        stride = a["stride"] if a["stride"] is not None else a["kernel"]
        return pool(xs[0], kind, a["kernel"], stride, a["padding"])
    if kind == "global_avgpool":
        return xs[0].mean(axis=(2, 3), keepdims=True)
    if kind == "flatten":
        return xs[0].reshape(xs[0].shape[0], -1)
    if kind == "softmax":
        return softmax(xs[0])
    if kind == "dropout":
        return xs[0]
    if kind == "add":
        return sum(xs[1:], xs[0])
    if kind == "concat":
        return np.concatenate(xs, axis=1)
    if kind == "mul":
        return xs[0] * xs[1]
    raise NotImplementedError(f"numpy reference: no definition for kind {kind!r}")


def forward(graph: Graph, weights: Mapping[str, np.ndarray],
            x: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's output (float64, with the batch axis) for input x (N, C, R, R)."""
    values: dict[str, np.ndarray] = {INPUT: x.astype(np.float64)}
    for node in graph.nodes:
        y = layer(node, [values[i] for i in node.inputs], weights)
        if y.shape[1:] != tuple(node.output_shape):
            raise AssertionError(f"{node.name}: reference shape {y.shape[1:]} != graph "
                                 f"{node.output_shape}")
        values[node.name] = y
    return values
