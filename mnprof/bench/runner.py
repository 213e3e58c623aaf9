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
import math
import tempfile
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..core.errors import MnprofError
from ..core.progress import Progress

MAX_FEED_BYTES = 4 << 30        # generated input data, all inputs together


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


def ort_message(exc: BaseException) -> str:
    """The first line of an onnxruntime error, without its source-location prefix."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:300]


def create_session(model: bytes | str, options: Any, *, what: str = "the model") -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001  onnxruntime raises its own exception types
        raise MnprofError(f"onnxruntime cannot load {what}: {ort_message(exc)}") from None


_NUMPY_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64",
                "tensor(float16)": "float16", "tensor(int64)": "int64",
                "tensor(int32)": "int32", "tensor(int8)": "int8", "tensor(uint8)": "uint8",
                "tensor(bool)": "bool"}


def make_feed(session: Any, batch: int, *, what: str = "the model", seed: int = 0,
              dims: Any = None) -> dict[str, Any]:
    """Deterministic inputs for every graph input; a leading symbolic dim is the batch,
    another symbolic dim takes its value in ``dims`` (name -> value), if any."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feed = {}
    total = 0
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
            elif dims and isinstance(d, str) and d in dims:
                shape.append(int(dims[d]))
            else:
                raise MnprofError(f"{what}: input {inp.name!r} has a free dimension {d!r} at "
                                  f"axis {i}; give it a value (--dim NAME=N, or --res for "
                                  "height and width)")
        total += math.prod(shape) * np.dtype(dtype).itemsize
        if total > MAX_FEED_BYTES:
            raise MnprofError(f"{what}: input {inp.name!r} {shape} needs {total / 2**30:.1f} GiB "
                              f"of data; mnprof generates at most {MAX_FEED_BYTES >> 30} GiB")
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
    run = _checked_run(session)
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
            if progress:        # runs expected in all, from the pace so far
                pace = len(samples) / max(t1 - start, 1e-9)
                expected = max(runs, math.ceil(pace * min_time), len(samples) + (not done))
                progress(f"{label}: timed runs", len(samples), expected)
            if done:
                break
    except KeyboardInterrupt:
        out.interrupted = True
    return out


def _checked_run(session: Any) -> Any:
    """``session.run`` whose onnxruntime failures become one-line errors."""
    run = session.run

    def checked(names: Any, feed: dict[str, Any]) -> Any:
        try:
            return run(names, feed)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001  onnxruntime's Fail, InvalidArgument, ...
            raise MnprofError(f"onnxruntime failed while running the model: "
                              f"{ort_message(exc)}") from None

    return checked


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
        optimized = onnx.load(opt_path, load_external_data=False)
    return Profiled(events, optimized, timing.samples_ms)
