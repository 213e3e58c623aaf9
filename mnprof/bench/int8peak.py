"""The int8 roof: the fastest integer GEMM onnxruntime runs on this CPU.

An int8 layer's roofline uses this peak instead of the fp32 MatMul's (the memory
roof is the same machine's). It is measured like the fp32 peak
(``mnprof.bench.machine``): an onnxruntime ``MatMulInteger`` (u8 x s8 and s8 x s8
into int32, square 512 and 1024) at the bench's thread count, best run kept, and
cached in the same file under its own key (CPU model, threads, onnxruntime
version). On x86 without VNNI, MLAS multiplies u8 x s8 pairs with ``vpmaddubsw``;
with AVX-512 VNNI, AVX-VNNI or AMX it uses their dot-product instructions.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..core.contracts import MACHINE_SCHEMA as CACHE_SCHEMA
from ..core.errors import MnprofError
from ..core.files import atomic_write
from ..core.progress import Progress
from .machine import (
    _GEMM_SECONDS,
    GEMM_SIZES,
    Ceiling,
    _load_cache,
    cache_key,
    cache_path,
    cpu_info,
    load_average,
)
from .runner import fastest_run


@dataclass(frozen=True)
class Int8Peak:
    """The fastest int8 GEMM onnxruntime runs here: the roof of int8 layers."""

    peak_gmacs_per_s: float
    method: str
    measured_at: str           # UTC, ISO 8601
    load_average: float | None = None
    cached: bool = False

    def ceiling(self, fp32: Ceiling) -> Ceiling:
        """``fp32``'s roofline with this peak: int8 layers meet the same memory."""
        return replace(fp32, peak_gmacs_per_s=self.peak_gmacs_per_s, gemm_method=self.method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def int8_cache_key(cpu_model: str, threads: int, ort_version: str) -> str:
    return cache_key(cpu_model, threads, ort_version) + " | int8 MatMulInteger"


def int8_peak(threads: int, *, remeasure: bool = False, progress: Progress | None = None,
              path: Path | None = None) -> Int8Peak:
    """The int8 GEMM peak at ``threads``: from the machine cache, or measured (and cached)."""
    import onnxruntime as ort

    path = path or cache_path()
    key = int8_cache_key(cpu_info().model, threads, ort.__version__)
    entries = _load_cache(path)
    if not remeasure and isinstance(entries.get(key), dict):
        try:
            cached = Int8Peak(**{**entries[key], "cached": True})
        except TypeError:
            cached = None
        if cached is not None and isinstance(cached.peak_gmacs_per_s, (int, float)) \
                and cached.peak_gmacs_per_s > 0:
            return cached
    peak = measure_int8_peak(threads, progress=progress)
    entries = _load_cache(path)             # the float entry may have been written meanwhile
    entries[key] = {k: v for k, v in peak.to_dict().items() if k != "cached"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"schema": CACHE_SCHEMA, "entries": entries},
                                      indent=2).encode())
    except (OSError, MnprofError):
        pass
    return peak


def measure_int8_peak(threads: int, *, progress: Progress | None = None) -> Int8Peak:
    """Best of u8 x s8 and s8 x s8 MatMulInteger (int32 out), square 512 and 1024."""
    load = load_average()
    best = (0.0, 0, "", 0)
    cases = [(n, a) for a in ("uint8", "int8") for n in GEMM_SIZES]
    for k, (n, a_type) in enumerate(cases):
        if progress:
            progress("machine ceiling: int8 GEMM", k, len(cases))
        gmacs, runs = _int8_gemm(n, threads, a_type)
        if gmacs > best[0]:
            best = (gmacs, n, a_type, runs)
    gmacs, n, a_type, runs = best
    a_name = "u8" if a_type == "uint8" else "s8"
    return Int8Peak(
        peak_gmacs_per_s=gmacs,
        method=f"onnxruntime MatMulInteger ({a_name} x s8 -> int32), square "
               f"{' and '.join(map(str, GEMM_SIZES))}, u8 and s8 inputs, {threads} intra-op "
               f"thread(s); best: {n} {a_name}, fastest of {runs} runs",
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), load_average=load)


def _int8_gemm(n: int, threads: int, a_type: str) -> tuple[float, int]:
    """GMAC/s of the fastest n x n x n MatMulInteger run, and the number of runs."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    b = numpy_helper.from_array(rng.integers(-128, 128, (n, n), dtype=np.int8), "B")
    elem = TensorProto.UINT8 if a_type == "uint8" else TensorProto.INT8
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["C"], name="gemm")], "ceiling",
        [helper.make_tensor_value_info("A", elem, [n, n])],
        [helper.make_tensor_value_info("C", TensorProto.INT32, [n, n])], [b])
    opset = helper.make_opsetid("", 13)
    model = helper.make_model(graph, opset_imports=[opset],
                              ir_version=helper.find_min_ir_version_for([opset]))
    low, high = (0, 256) if a_type == "uint8" else (-128, 128)
    feed = {"A": rng.integers(low, high, (n, n)).astype(a_type)}
    best, runs = fastest_run(model.SerializeToString(), feed, threads=threads,
                             what="the int8 GEMM micro-benchmark", min_time=_GEMM_SECONDS)
    return n ** 3 / best / 1e9, runs
