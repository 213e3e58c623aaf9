"""Kernel times and end-to-end latency from a device profile (no session, no run).

Each kernel's time comes from the model of its type; a type the profile has no
model for (too few calibration samples, or an operator calibration never met)
borrows the model of its nearest relative (``FALLBACK``), ending at ``generic``,
a model of all the memory-bound kernels by their bytes; the prediction names every
kernel type predicted that way. End to end = the overhead model applied to the sum
of kernel times and the number of kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .device import DeviceProfile
from .features import features, raw_matrix
from .kernels import Kernel
from .model import predict

GENERIC = "generic"
FALLBACK = {
    "gconv.nchwc": "conv.nchwc", "gconv.nchw": "conv.nchw", "conv_in.nchwc": "conv.nchwc",
    "conv.nchwc": "pw.nchwc", "conv.nchw": "pw.nchw", "pw.nchw": "pw.nchwc",
    "dw.nchw": "dw.nchwc", "maxpool.nchwc": "avgpool.nchwc", "avgpool.nchwc": "maxpool.nchwc",
    "maxpool": "avgpool", "avgpool": "maxpool", "gap": "gap.nchwc", "gap.nchwc": "gap",
    "add": "add.nchwc", "add.nchwc": "add", "mul.nchwc": "mul", "concat": "concat.nchwc",
    "concat.nchwc": "concat", "act": "act.nchwc", "act.nchwc": "act",
}


def model_for(profile: DeviceProfile, kind: str) -> tuple[str, Any]:
    """(the kernel type whose model predicts ``kind``, that model's trees)."""
    seen = set()
    k = kind
    while k not in seen:
        seen.add(k)
        m = profile.kernels.get(k)
        if m is not None and m.trees is not None:
            return k, m.trees
        k = FALLBACK.get(k, GENERIC)
    m = profile.kernels.get(GENERIC)
    return GENERIC, m.trees if m is not None else None


def times_of_raw(profile: DeviceProfile, kinds: Sequence[str], raw: Any) -> Any:
    """Predicted time (microseconds) of each row of ``raw`` (``features.RAW``)."""
    import numpy as np

    kinds_arr = np.asarray(kinds)
    out = np.zeros(len(kinds_arr))
    for kind in dict.fromkeys(kinds):
        rows = np.nonzero(kinds_arr == kind)[0]
        used, trees = model_for(profile, kind)
        if trees is None:
            out[rows] = np.nan
            continue
        out[rows] = np.exp2(predict(trees, features(raw[rows], used)))
    return out


def kernel_times(profile: DeviceProfile, kernels: Sequence[Kernel]) -> Any:
    """Predicted time of each kernel, in microseconds."""
    return times_of_raw(profile, [k.kind for k in kernels], raw_matrix(kernels))


def borrowed(profile: DeviceProfile, kernels: Sequence[Kernel]) -> dict[str, str]:
    """Kernel types predicted with another type's model: {type: the model's type}."""
    out = {}
    for kind in dict.fromkeys(k.kind for k in kernels):
        used, _ = model_for(profile, kind)
        if used != kind:
            out[kind] = used
    return out


def end_to_end_ms(profile: DeviceProfile, kernel_sum_us: Any, nodes: Any) -> Any:
    return profile.overhead.total_us(kernel_sum_us, nodes) / 1000.0
