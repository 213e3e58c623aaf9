"""An independent numpy forward pass of a built graph, for checking the ONNX export.

Written from the layer definitions (the papers, PyTorch's documented semantics and
the spec language), not from ``mnprof.onnxio.export`` nor ``Kind.emit``: it
shares only the graph (names, attributes, shapes) and the weights of
``mnprof.onnxio.weights.generate_weights``. It computes in float64, so the
difference from onnxruntime's float32 is onnxruntime's rounding.

Conventions restated here on purpose:
- padding ``same``: output = ceil(input / stride); an odd (dilated) kernel pads
  (k-1)/2 on both sides, an even one pads the total (out-1)*s + k - in, the odd one
  at the end; explicit padding is (top, left, bottom, right);
- ``ceil_mode``: the output size rounds up, less one when the last window would
  start in the end padding (PyTorch); the extra windows see no padding values;
- batch-norm at inference: gamma * (x - mean) / sqrt(var + eps) + beta;
- hswish(x) = x * relu6(x + 3) / 6, hsigmoid(x) = relu6(x + 3) / 6,
  silu(x) = x * sigmoid(x), gelu(x) = x * Phi(x) (the erf form);
- average pooling divides by the number of real (not padded) elements, or with
  ``count_include_pad`` by the window clipped to the padded input (PyTorch);
- an activation or a kind this file does not define is an error, never skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mnprof.model.graph import INPUT, Graph, Node

BN_EPS_DEFAULT = 1e-5       # PyTorch's BatchNorm2d default


def pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[-1])


def resolve_pads(size: int, k: int, s: int, d: int, padding: Any, axis: int) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    if padding == "same":
        keff = d * (k - 1) + 1
        if keff % 2:
            return (keff - 1) // 2, (keff - 1) // 2
        out = -(-size // s)
        total = max((out - 1) * s + keff - size, 0)
        return total // 2, total - total // 2
    t, left, b, r = padding
    return (t, b) if axis == 0 else (left, r)


def out_size(size: int, k: int, s: int, d: int, p0: int, p1: int, ceil_mode: bool) -> int:
    span = size + p0 + p1 - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    n = math.ceil(span / s) + 1
    return n - 1 if (n - 1) * s >= size + p0 else n


def windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], d: tuple[int, int],
            padding: Any, fill: float, ceil_mode: bool = False) -> np.ndarray:
    """(N, C, Ho, Wo, kh, kw) windows of x (N, C, H, W), padded with ``fill``."""
    h, w = x.shape[2:]
    (t, b), (lft, r) = (resolve_pads(h, k[0], s[0], d[0], padding, 0),
                        resolve_pads(w, k[1], s[1], d[1], padding, 1))
    ho = out_size(h, k[0], s[0], d[0], t, b, ceil_mode)
    wo = out_size(w, k[1], s[1], d[1], lft, r, ceil_mode)
    # room for the ceil-mode windows that run past the end padding
    need_h = (ho - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (wo - 1) * s[1] + d[1] * (k[1] - 1) + 1
    xp = np.pad(x, ((0, 0), (0, 0), (t, max(b, need_h - h - t)), (lft, max(r, need_w - w - lft))),
                constant_values=fill)
    span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    win = sliding_window_view(xp, span, axis=(2, 3))[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]
    return win[:, :, :ho, :wo]


def conv(x: np.ndarray, w: np.ndarray, stride: Any, dilation: Any, padding: Any,
         groups: int) -> np.ndarray:
    n, c = x.shape[:2]
    m, cg, kh, kw = w.shape
    win = windows(x, (kh, kw), pair(stride), pair(dilation), padding, 0.0)
    ho, wo = win.shape[2:4]
    win = win.reshape(n, groups, c // groups, ho, wo, kh, kw)
    wg = w.reshape(groups, m // groups, cg, kh, kw)
    y = np.einsum("ngchwij,gmcij->ngmhw", win, wg, optimize=True)
    return y.reshape(n, m, ho, wo)


def deconv(x: np.ndarray, w: np.ndarray, stride: Any, dilation: Any, pads: Any,
           output_padding: Any, groups: int) -> np.ndarray:
    """Transposed convolution by its definition: input element (i, j) adds x[c, i, j] *
    w[c, m, ki, kj] to output (i * s + ki * d - top, j * s + kj * d - left); the output
    has output_padding more rows and columns at the end, and the pads cut from its
    borders."""
    n, c, h, wd = x.shape
    _, mg, kh, kw = w.shape
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    (oph, opw) = pair(output_padding)
    t, left, b, r = (pads,) * 4 if isinstance(pads, int) else pads
    full_h, full_w = (h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    y = np.zeros((n, mg * groups, full_h, full_w))
    cg = c // groups
    for g in range(groups):
        xg, wg = x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg]
        for ki in range(kh):
            for kj in range(kw):
                part = np.einsum("nchw,cm->nmhw", xg, wg[:, :, ki, kj])
                y[:, g * mg:(g + 1) * mg, ki * dh:ki * dh + (h - 1) * sh + 1:sh,
                  kj * dw:kj * dw + (wd - 1) * sw + 1:sw] += part
    return y[:, :, t:full_h - b, left:full_w - r]


def batchnorm(x: np.ndarray, p: Mapping[str, np.ndarray], prefix: str, eps: float) -> np.ndarray:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    g, b, m, v = (p[f"{prefix}.bn.{s}"].astype(np.float64).reshape(shape)
                  for s in ("scale", "shift", "mean", "var"))
    return g * (x - m) / np.sqrt(v + eps) + b


def relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 6.0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_erf = np.vectorize(math.erf, otypes=[np.float64])

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": relu6,
    "hswish": lambda x: x * relu6(x + 3.0) / 6.0,
    "hsigmoid": lambda x: relu6(x + 3.0) / 6.0,
    "sigmoid": sigmoid,
    "silu": lambda x: x * sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
}


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name not in ACTIVATIONS:
        raise AssertionError(f"numpy reference: no definition for activation {name!r}; "
                             "add one here (tests must not skip it)")
    return ACTIVATIONS[name]


def pool(x: np.ndarray, kind: str, a: Mapping[str, Any]) -> np.ndarray:
    k = pair(a["kernel"])
    s = pair(a["stride"]) if a["stride"] is not None else k
    ceil_mode = bool(a.get("ceil_mode"))
    if kind == "maxpool":
        return windows(x, k, s, (1, 1), a["padding"], -np.inf, ceil_mode).max(axis=(4, 5))
    total = windows(x, k, s, (1, 1), a["padding"], 0.0, ceil_mode).sum(axis=(4, 5))
    ones = np.ones((1, 1) + x.shape[2:])
    if a.get("count_include_pad"):      # the window clipped to the padded input
        h, w = x.shape[2:]
        (t, b), (lft, r) = (resolve_pads(h, k[0], s[0], 1, a["padding"], 0),
                            resolve_pads(w, k[1], s[1], 1, a["padding"], 1))
        ones = np.pad(ones, ((0, 0), (0, 0), (t, b), (lft, r)), constant_values=1.0)
        count = windows(ones, k, s, (1, 1), "valid", 0.0, ceil_mode).sum(axis=(4, 5))
        count = count[:, :, :total.shape[2], :total.shape[3]]
    else:
        count = windows(ones, k, s, (1, 1), a["padding"], 0.0, ceil_mode).sum(axis=(4, 5))
    return total / count


def adaptive_avgpool(x: np.ndarray, out: Any) -> np.ndarray:
    """PyTorch's rule: window i spans [floor(i*in/out), ceil((i+1)*in/out))."""
    oh, ow = pair(out)
    h, w = x.shape[2:]
    y = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
        for j in range(ow):
            c0, c1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


def lrn(x: np.ndarray, size: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """ONNX's and PyTorch's definition: the window of channels c-floor((size-1)/2) to
    c+ceil((size-1)/2), zero outside the channels."""
    c = x.shape[1]
    sq = x * x
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    padded = np.pad(sq, ((0, 0), (lo, hi), (0, 0), (0, 0)))
    window = sum(padded[:, i:i + c] for i in range(size))
    return x / (k + alpha / size * window) ** beta


def channel_shuffle(x: np.ndarray, groups: int) -> np.ndarray:
    """Channel j of the output is channel (j % groups) * (C / groups) + j // groups."""
    n, c = x.shape[:2]
    index = [(j % groups) * (c // groups) + j // groups for j in range(c)]
    return x[:, index]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _post(node: Node, y: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    a = node.attrs
    if a.get("bias"):
        y = y + p[f"{node.name}.bias"].astype(np.float64).reshape((1, -1) + (1,) * (y.ndim - 2))
    if a.get("bn"):
        y = batchnorm(y, p, node.name, a.get("bn_eps", BN_EPS_DEFAULT))
    return activation(str(a.get("act") or "none"))(y)


def _conv_layer(node: Node, x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    # The definitions restated here on purpose (pwconv: 1x1, "same"), rather than
    # trusting the attributes mnprof filled in.
    a, kind = node.attrs, node.kind
    w = p[f"{node.name}.weight"].astype(np.float64)
    k = (1, 1) if kind == "pwconv" else pair(a["kernel"])
    groups = x.shape[1] if kind == "dwconv" else a.get("groups", 1)
    padding = "same" if kind == "pwconv" else a["padding"]
    dilation = (1, 1) if kind == "pwconv" else a.get("dilation", 1)
    assert w.shape[2:] == k
    return _post(node, conv(x, w, a["stride"], dilation, padding, groups), p)


def layer(node: Node, xs: list[np.ndarray], p: Mapping[str, np.ndarray]) -> np.ndarray:
    a, kind = node.attrs, node.kind
    if kind in ("conv", "pwconv", "dwconv"):
        return _conv_layer(node, xs[0], p)
    if kind == "deconv":
        w = p[f"{node.name}.weight"].astype(np.float64)
        pads = (0, 0, 0, 0) if a["padding"] == "valid" else a["padding"]
        return _post(node, deconv(xs[0], w, a["stride"], a["dilation"], pads,
                                  a["output_padding"], a["groups"]), p)
    if kind == "fc":
        x = xs[0].reshape(xs[0].shape[0], -1)
        return _post(node, x @ p[f"{node.name}.weight"].astype(np.float64).T, p)
    if kind == "batchnorm":
        return batchnorm(xs[0], p, node.name, a.get("bn_eps", BN_EPS_DEFAULT))
    if kind in ("avgpool", "maxpool"):
        return pool(xs[0], kind, a)
    simple: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
        "global_avgpool": lambda v: v[0].mean(axis=(2, 3), keepdims=True),
        "flatten": lambda v: v[0].reshape(v[0].shape[0], -1),
        "softmax": lambda v: softmax(v[0]),
        "dropout": lambda v: v[0],
        "add": lambda v: sum(v[1:], v[0]),
        "concat": lambda v: np.concatenate(v, axis=1),
        "mul": lambda v: v[0] * v[1],
        "adaptive_avgpool": lambda v: adaptive_avgpool(v[0], a["output"]),
        "lrn": lambda v: lrn(v[0], a["size"], a["alpha"], a["beta"], a["k"]),
        "channel_shuffle": lambda v: channel_shuffle(v[0], a["groups"]),
        "split": lambda v: np.split(v[0], a["parts"], axis=1)[a["index"]],
    }
    if kind in simple:
        return simple[kind](xs)
    if kind in EXTRA_KINDS:
        return EXTRA_KINDS[kind](node, xs, p)
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind](xs[0])
    raise AssertionError(f"numpy reference: no definition for kind {kind!r}; add one here "
                         "(tests must not skip it)")


# Definitions tests add for kinds they register themselves (a throwaway kind).
EXTRA_KINDS: dict[str, Callable[[Node, list[np.ndarray], Mapping[str, np.ndarray]],
                                np.ndarray]] = {}


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
