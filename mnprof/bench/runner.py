"""onnxruntime sessions and the timing loop: the only module here that runs a model.

Every session option that affects timing is set explicitly: intra-op threads,
one inter-op thread, sequential execution, the graph optimisation level, the CPU
provider. Spinning of idle intra-op threads is left at onnxruntime's default (on):
it is what deployments run with, and it is harmless because only one session is
alive at a time here; a session is deleted before the next one is created, since
an idle session's spinning threads would compete for the cores.
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..errors import MnprofError
from ..machine import Progress


class OptLevel(str, Enum):
    DISABLED = "disabled"
    BASIC = "basic"
    EXTENDED = "extended"
    LAYOUT = "layout"
    ALL = "all"


_ORT_LEVEL = {OptLevel.DISABLED: "ORT_DISABLE_ALL", OptLevel.BASIC: "ORT_ENABLE_BASIC",
              OptLevel.EXTENDED: "ORT_ENABLE_EXTENDED", OptLevel.LAYOUT: "ORT_ENABLE_LAYOUT",
              OptLevel.ALL: "ORT_ENABLE_ALL"}
SPINNING = "onnxruntime default (intra-op threads spin while waiting)"


def opt_level(value: str | OptLevel) -> OptLevel:
    try:
        return OptLevel(value)
    except ValueError:
        names = ", ".join(o.value for o in OptLevel)
        raise MnprofError(f"graph optimisation level must be one of {names}, "
                          f"got {value!r}") from None


def session_options(threads: int, level: OptLevel, *, profile_dir: str | None = None,
                    optimized_path: str | None = None) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    ort_level = getattr(ort.GraphOptimizationLevel, _ORT_LEVEL[level], None)
    if ort_level is None:
        raise MnprofError(f"this onnxruntime ({ort.__version__}) has no optimisation level "
                          f"{level.value!r}")
    so.graph_optimization_level = ort_level
    so.log_severity_level = 3          # errors only: keep stderr for mnprof's own lines
    if profile_dir is not None:
        so.enable_profiling = True
        so.profile_file_prefix = str(Path(profile_dir) / "profile")
    if optimized_path is not None:
        so.optimized_model_filepath = optimized_path
    return so


def create_session(model: bytes, options: Any, *, what: str = "the model") -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:            # onnxruntime raises its own exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MnprofError(f"onnxruntime cannot load {what}: {first}") from None


_NUMPY_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64",
                "tensor(float16)": "float16", "tensor(int64)": "int64",
                "tensor(int32)": "int32", "tensor(int8)": "int8", "tensor(uint8)": "uint8",
                "tensor(bool)": "bool"}


def make_feed(session: Any, batch: int, *, what: str = "the model", seed: int = 0
              ) -> dict[str, Any]:
    """Deterministic inputs for every graph input; a leading symbolic dim is the batch."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feed = {}
    for inp in session.get_inputs():
        dtype = _NUMPY_TYPES.get(inp.type)
        if dtype is None:
            raise MnprofError(f"{what}: input {inp.name!r} has type {inp.type}, which mnprof "
                              f"cannot generate data for")
        shape = []
        for i, d in enumerate(inp.shape):
            if isinstance(d, int) and d > 0:
                shape.append(d)
            elif i == 0:
                shape.append(batch)
            else:
                raise MnprofError(f"{what}: input {inp.name!r} has a free dimension {d!r} at "
                                  f"axis {i}; only the first (batch) axis may be free")
        if dtype.startswith("float"):
            feed[inp.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feed[inp.name] = np.zeros(shape, dtype=dtype)
    return feed


@dataclass
class Timing:
    """Samples of a timing loop (ms); ``interrupted`` if Ctrl-C ended it."""

    samples_ms: list[float]
    interrupted: bool = False


def time_runs(session: Any, feed: dict[str, Any], *, warmup: int, runs: int,
              min_time: float, progress: Progress | None = None,
              label: str = "timing") -> Timing:
    """Warm up, then time runs until at least ``runs`` runs and ``min_time`` seconds.

    Each sample is one ``session.run`` between two ``time.perf_counter`` calls.
    Ctrl-C stops the loop and keeps what was measured.
    """
    out = Timing([])
    run = session.run
    try:
        for i in range(warmup):
            run(None, feed)
            if progress:
                progress(f"{label}: warm-up", i + 1, warmup)
        start = time.perf_counter()
        samples = out.samples_ms
        clock = time.perf_counter
        while True:
            t0 = clock()
            run(None, feed)
            t1 = clock()
            samples.append((t1 - t0) * 1000.0)
            done = len(samples) >= runs and t1 - start >= min_time
            if progress:
                expected = max(runs, int(min_time * 1000.0 / max(samples[-1], 1e-6)))
                progress(f"{label}: timed runs", len(samples), max(expected, len(samples)))
            if done:
                break
    except KeyboardInterrupt:
        out.interrupted = True
    return out


@dataclass(frozen=True)
class Profiled:
    events: list[dict[str, Any]]
    optimized: Any                     # onnx.ModelProto of the graph onnxruntime ran
    wall_ms: list[float]               # perf_counter time of each profiled run


def profile_runs(model: bytes, *, threads: int, level: OptLevel, feed: dict[str, Any],
                 warmup: int, runs: int, progress: Progress | None = None) -> Profiled:
    """A separate profiled session: ``warmup`` + ``runs`` runs, events and optimised graph."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="mnprof-profile-") as tmp:
        opt_path = str(Path(tmp) / "optimized.onnx")
        so = session_options(threads, level, profile_dir=tmp, optimized_path=opt_path)
        session = create_session(model, so)
        try:
            timing = time_runs(session, feed, warmup=warmup, runs=runs, min_time=0.0,
                               progress=progress, label="profiling")
        finally:
            path = session.end_profiling()
            del session                # its threads must be gone before the next session
            gc.collect()
        if timing.interrupted:
            raise KeyboardInterrupt
        events = json.loads(Path(path).read_text())
        optimized = onnx.load(opt_path)
    return Profiled(events, optimized, timing.samples_ms)
