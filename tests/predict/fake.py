"""A tiny fake device profile for tests: every kernel type's time grows with its work.

The models are fitted here on random kernel rows whose "time" is a formula of the
rows (a microsecond per 100 MACs plus a nanosecond per byte, plus 2 us): small,
fast, and dependent on every shape column, so predictions move with width and
resolution as real ones do. No figure from it is a claim about any CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mnprof.predict.device import Device, DeviceProfile, KernelModel, Overhead, profile_dir
from mnprof.predict.device import profile_path as cache_path
from mnprof.predict.estimate import FALLBACK, GENERIC
from mnprof.predict.features import RAW, features
from mnprof.predict.fusion import Layout
from mnprof.predict.model import fit

KINDS = sorted(set(FALLBACK) | set(FALLBACK.values()) | {"gemm", "reorder_in", "reorder_out",
                                                        "flatten", "softmax", GENERIC})


def formula_us(raw: np.ndarray, kind: str) -> np.ndarray:
    f = features(raw, kind)
    macs, in_b, out_b = (np.exp2(f[:, i]) for i in (6, 7, 8))
    return 2.0 + macs / 100.0 + (in_b + out_b) / 1000.0


def random_raw(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = np.zeros((n, len(RAW)))
    col = {name: i for i, name in enumerate(RAW)}
    c_in, c_out = rng.integers(3, 512, n), rng.integers(8, 512, n)
    hw = rng.integers(1, 150, n)
    raw[:, col["cin"]], raw[:, col["cout"]] = c_in, c_out
    raw[:, col["cin_logical"]], raw[:, col["cout_logical"]] = c_in, c_out
    raw[:, col["kh"]] = raw[:, col["kw"]] = rng.choice([1, 3, 5, 7], n)
    raw[:, col["sh"]] = raw[:, col["sw"]] = rng.choice([1, 2], n)
    raw[:, col["hin"]] = raw[:, col["win"]] = hw
    raw[:, col["hout"]] = raw[:, col["wout"]] = np.maximum(1, hw // raw[:, col["sh"]])
    raw[:, col["groups"]] = 1
    raw[:, col["inputs"]] = 1
    return raw


def fake_profile(device: Device, *, trees: int = 15) -> DeviceProfile:
    rng = np.random.default_rng(0)
    raw = random_raw(rng, 400)
    kernels = {}
    for kind in KINDS:
        y = np.log2(formula_us(raw, kind))
        kernels[kind] = KernelModel(kind, len(y), 1.0, fit(features(raw, kind), y,
                                                           trees=trees, depth=4))
    return DeviceProfile(device, Layout(8, 4), kernels, Overhead(1.0, 5.0, 20.0),
                         {"calibrated_at": "2026-01-01T00:00:00Z", "networks": 0,
                          "held_out": {"networks": 0, "within_10pct": 0.0}})


def install(profile: DeviceProfile, cache: Path) -> Path:
    """Write ``profile`` where mnprof looks for it with XDG_CACHE_HOME=cache."""
    import os
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        path = cache_path(profile.device)
        assert path.parent == profile_dir()
    finally:
        if old is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = old
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(profile.to_dict()))
    return path
