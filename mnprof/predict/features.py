"""Kernels as numbers: the raw shape columns of each kernel and the features a
timing model reads, computed on numpy arrays so that a sweep evaluates a whole
grid of resolutions at once.

Raw columns (``RAW``) are what a kernel is: channels as run (padded to the NCHWc
block), kernel and stride, input and output spatial sizes, groups, the fused
activation, a fused residual add, the number of inputs, logical channels.
Features (``FEATURES``) are what the time depends on: log2 of channels, of MACs
as executed (padded channels included), of the bytes read and written and of the
weights, the output width (MLAS tiles rows), the activation's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model.graph import numel
from .kernels import Kernel

RAW = ("cin", "cout", "kh", "kw", "sh", "sw", "hin", "win", "hout", "wout", "groups",
       "act", "fused_add", "inputs", "cin_logical", "cout_logical")
COL = {name: i for i, name in enumerate(RAW)}
SPATIAL = ("hin", "win", "hout", "wout")

FEATURES = ("log_cin", "log_cout", "kh", "stride", "log_hw_out", "log_w_out", "log_macs",
            "log_in_bytes", "log_out_bytes", "log_weights", "act", "fused_add", "inputs",
            "log_c_logical", "log_hw_in")

# The power law's columns: log2 of MACs, bytes in and out, weights, channels in and
# out, output area (``model.fit``'s ``linear``).
LINEAR = (6, 7, 8, 9, 0, 1, 4)

# Activations (fused or on their own) and other elementwise ops, as codes.
ACT_CODES = {"": 0, "Relu": 1, "Clip": 2, "LeakyRelu": 3, "HardSigmoid": 4, "HardSwish": 5,
             "Sigmoid": 6, "Tanh": 7, "QuickGelu": 8, "Gelu": 9, "Mul": 10, "Erf": 11,
             "Div": 12, "Sub": 13}
OTHER_CODE = 15


def _spatial(shape: Sequence[int]) -> tuple[int, int, int]:
    """(channels, height, width) of a per-image shape; a vector is (n, 1, 1)."""
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    return numel(tuple(shape)) if shape else 1, 1, 1


def raw_row(k: Kernel) -> list[float]:
    """The raw columns of one kernel (``RAW``)."""
    cin_l, hin, win = _spatial(k.in_shape)
    cout_l, hout, wout = _spatial(k.out_shape)
    act = k.act if k.kind.startswith(("conv", "pw", "dw", "gconv", "gemm")) else k.op
    return [k.cin or cin_l, k.cout or cout_l, k.kernel[0], k.kernel[1], k.stride[0],
            k.stride[-1], hin, win, hout, wout, k.groups, ACT_CODES.get(act, OTHER_CODE),
            float(k.fused_add), k.inputs, cin_l, cout_l]


def raw_matrix(kernels: Sequence[Kernel]) -> Any:
    import numpy as np
    return np.array([raw_row(k) for k in kernels], dtype=np.float64).reshape(-1, len(RAW))


def features(raw: Any, kind: str) -> Any:
    """The feature matrix (``FEATURES``) of raw rows of one kernel type."""
    import numpy as np

    r = {name: raw[..., i] for i, name in enumerate(RAW)}
    hw_out = r["hout"] * r["wout"]
    hw_in = r["hin"] * r["win"]
    is_gemm = kind == "gemm"
    macs_per = r["cout"] * np.maximum(r["cin"] / np.maximum(r["groups"], 1), 1) \
        * r["kh"] * r["kw"]
    if is_gemm:
        macs = r["cout"] * r["cin"]
        weights = macs
    elif kind.startswith(("conv", "pw", "dw", "gconv")):
        macs = macs_per * hw_out
        weights = macs_per
    else:
        macs = np.zeros_like(hw_out)
        weights = macs
    in_bytes = 4.0 * r["cin_logical"] * hw_in * np.maximum(r["inputs"], 1)
    out_bytes = 4.0 * r["cout_logical"] * hw_out
    cols = (np.log2(r["cin"]), np.log2(r["cout"]), r["kh"], r["sh"], np.log2(hw_out),
            np.log2(r["wout"]), np.log2(macs + 1), np.log2(in_bytes), np.log2(out_bytes),
            np.log2(weights + 1), r["act"], r["fused_add"], r["inputs"],
            np.log2(r["cin_logical"]), np.log2(hw_in))
    return np.stack(cols, axis=-1)
