"""Fitting a device's models from calibration samples, and scoring them held out.

Samples are grouped by the network they were measured in; cross-validation holds
out whole networks (``FOLDS`` groups), so a kernel is always predicted by a model
that never saw its network, as it will be for a user's model. The held-out errors
drive adaptive sampling (more networks near the kernels predicted worst) and give
the profile's own accuracy figures; the final models are fitted on everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .device import KernelModel, Overhead
from .estimate import GENERIC
from .features import LINEAR, features
from .model import Trees, fit, predict

MIN_SAMPLES = 12            # fewer: the type borrows a relative's model
FOLDS = 4
CV_TREES = 120              # lighter models for cross-validation
GENERIC_KINDS = ("reorder_in", "reorder_out", "act", "act.nchwc", "add", "add.nchwc", "mul",
                 "mul.nchwc", "concat", "concat.nchwc", "gap", "gap.nchwc", "maxpool",
                 "avgpool", "maxpool.nchwc", "avgpool.nchwc", "flatten", "softmax",
                 "batchnorm", "other")


@dataclass
class Samples:
    """Kernel samples: type, raw row (``features.RAW``), time (us), network index."""

    kinds: list[str]
    raw: list[list[float]]
    times_us: list[float]
    network: list[int]

    @classmethod
    def empty(cls) -> Samples:
        return cls([], [], [], [])

    def add(self, kind: str, raw: list[float], time_us: float, network: int) -> None:
        self.kinds.append(kind)
        self.raw.append(raw)
        self.times_us.append(time_us)
        self.network.append(network)

    def arrays(self, kind: str | None) -> tuple[Any, Any, Any, Any]:
        """(indices, raw, log2 times, networks) of one type (None: the generic set)."""
        import numpy as np
        kinds = np.asarray(self.kinds)
        mask = np.isin(kinds, GENERIC_KINDS) if kind is None else kinds == kind
        idx = np.nonzero(mask & (np.asarray(self.times_us) > 0))[0]
        raw = np.asarray(self.raw, dtype=np.float64)[idx] if len(idx) else np.zeros((0, 16))
        return idx, raw, np.log2(np.asarray(self.times_us)[idx]), np.asarray(self.network)[idx]


def _fit_kind(raw: Any, y: Any, kind: str, trees: int) -> Trees:
    return fit(features(raw, kind), y, trees=trees, linear=LINEAR)


def cross_validate(samples: Samples, kind: str | None, trees: int = CV_TREES) -> Any:
    """Held-out log2 errors (predicted - measured) of one type's samples, by network."""
    import numpy as np

    idx, raw, y, nets = samples.arrays(kind)
    err = np.full(len(idx), np.nan)
    if len(idx) < MIN_SAMPLES:
        return idx, err
    fold = nets % FOLDS
    for f in range(FOLDS):
        test = fold == f
        if test.all() or not test.any():
            continue
        name = GENERIC if kind is None else kind
        model = _fit_kind(raw[~test], y[~test], name, trees)
        err[test] = predict(model, features(raw[test], name)) - y[test]
    return idx, err


def fit_models(samples: Samples, trees: int, held_out: Any) -> dict[str, KernelModel]:
    """A model for every kernel type with enough samples, and the generic one;
    ``held_out``: each sample's held-out log2 error (``held_out_kernel_errors``)."""
    import numpy as np

    out = {}
    for kind in [*dict.fromkeys(samples.kinds), None]:
        name = GENERIC if kind is None else kind
        idx, raw, y, _ = samples.arrays(kind)
        err = held_out[idx] if kind is not None else cross_validate(samples, None)[1]
        ok = err[np.isfinite(err)]
        cv = float(np.median(np.abs(np.exp2(ok) - 1)) * 100) if len(ok) else None
        model = _fit_kind(raw, y, name, trees) if len(idx) >= MIN_SAMPLES else None
        out[name] = KernelModel(name, int(len(idx)), cv, model)
    return out


def held_out_kernel_errors(samples: Samples) -> Any:
    """log2 error of every sample predicted by a model that never saw its network."""
    import numpy as np

    err = np.full(len(samples.kinds), np.nan)
    for kind in dict.fromkeys(samples.kinds):
        idx, e = cross_validate(samples, kind)
        err[idx] = e
    return err


PER_NODE_US = (-20.0, 50.0)


def fit_overhead(kernel_sums_us: Sequence[float], nodes: Sequence[int],
                 e2e_ms: Sequence[float]) -> Overhead:
    """End to end = scale x kernel sum + per node x nodes + fixed, least relative squares.

    The kernel sums are profiled times, and onnxruntime's profiler costs a few
    microseconds per node that the unprofiled end-to-end runs do not pay, so the
    per-node term may be negative (within ``PER_NODE_US``); a fit outside those bounds
    falls back to a scale alone."""
    import numpy as np

    s = np.asarray(kernel_sums_us, dtype=np.float64)
    n = np.asarray(nodes, dtype=np.float64)
    e = np.asarray(e2e_ms, dtype=np.float64) * 1000.0
    if len(s) < 4:
        return Overhead()
    a = np.stack([s, n, np.ones_like(s)], axis=1) / e[:, None]
    coef, *_ = np.linalg.lstsq(a, np.ones_like(e), rcond=None)
    scale, per_node, fixed = (float(c) for c in coef)
    if not (0.5 < scale < 2.0 and PER_NODE_US[0] < per_node < PER_NODE_US[1]):
        coef, *_ = np.linalg.lstsq(a[:, :1], np.ones_like(e), rcond=None)
        return Overhead(float(coef[0]), 0.0, 0.0)
    return Overhead(scale, per_node, fixed)
