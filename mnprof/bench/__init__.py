"""``mnprof bench``: onnxruntime latency on this CPU, per layer and per type, against theory.

The library API (the CLI only wraps it):

- ``bench_graph(graph, ...)``: end-to-end latency statistics, then (``per_layer``)
  a separate profiled pass mapped onto the spec's layers, with executed vs
  theoretical MACs and a roofline against this machine's ceiling;
- ``bench_onnx_file(path, ...)``: end-to-end latency of an existing ONNX file;
- ``measure_latency(graph, ...)``: end-to-end latency only (what ``mnprof check`` uses).

How it measures is written once, in ``mnprof.bench.core`` and ``mnprof.bench.runner``;
how profiled nodes find their layers, in ``mnprof.bench.profile``. onnx and
onnxruntime are imported only inside the functions that run a model.
"""

from __future__ import annotations

from .core import (
    DEFAULT_MIN_TIME,
    DEFAULT_PROFILE_RUNS,
    DEFAULT_RUNS,
    DEFAULT_WARMUP,
    bench_graph,
    bench_onnx_file,
    check_settings,
    measure_latency,
)
from .result import (
    BenchInterrupted,
    BenchReport,
    Environment,
    LatencyReport,
    LatencyStats,
    ProfileSummary,
    TimeRow,
    latency_stats,
)

__all__ = ["DEFAULT_MIN_TIME", "DEFAULT_PROFILE_RUNS", "DEFAULT_RUNS", "DEFAULT_WARMUP",
           "BenchInterrupted", "BenchReport", "Environment", "LatencyReport", "LatencyStats",
           "ProfileSummary", "TimeRow", "bench_graph", "bench_onnx_file", "check_settings",
           "latency_stats", "measure_latency"]
