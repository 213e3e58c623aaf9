"""What a bench measures, as data: latency statistics, time rows, the whole report.

Latencies are floats in milliseconds (never formatted text); counts are integers.
Rendering lives in ``mnprof.bench.report``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..core.errors import MnprofError
from .machine import Ceiling


@dataclass(frozen=True)
class LatencyStats:
    """End-to-end latency of ``runs`` timed runs, in milliseconds."""

    runs: int
    median: float
    p10: float
    p90: float
    mean: float
    stdev: float              # sample standard deviation (n - 1); 0 for one run
    cv: float                 # stdev / mean
    min: float
    max: float
    batch: int = 1
    samples: tuple[float, ...] = field(default=(), repr=False)

    @property
    def throughput(self) -> float:
        """Images per second at the batch size, from the median."""
        return self.batch * 1000.0 / self.median if self.median > 0 else 0.0


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, R's type 7)."""
    n = len(sorted_values)
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_stats(samples_ms: Sequence[float], batch: int = 1) -> LatencyStats:
    if not samples_ms:
        raise ValueError("no timed runs")
    s = sorted(samples_ms)
    mean = statistics.fmean(s)
    stdev = statistics.stdev(s) if len(s) > 1 else 0.0
    return LatencyStats(runs=len(s), median=statistics.median(s), p10=quantile(s, 0.1),
                        p90=quantile(s, 0.9), mean=mean, stdev=stdev,
                        cv=stdev / mean if mean > 0 else 0.0, min=s[0], max=s[-1],
                        batch=batch, samples=tuple(samples_ms))


@dataclass(frozen=True)
class Environment:
    cpu_model: str
    logical_cpus: int
    physical_cores: int
    cores_used: int
    onnxruntime_version: str
    threads: int              # intra-op threads
    inter_op_threads: int
    execution_mode: str
    opt_level: str
    opset: int | None
    batch: int
    runs: int                 # timed runs made
    warmup: int
    min_time_s: float
    simd: str
    nchwc_block: int          # assumed from the CPU flags
    spinning: str
    provider: str = "CPUExecutionProvider"
    python: str = ""
    numpy: str = ""
    platform: str = ""
    load_average: float | None = None     # 1-minute load average when the bench started
    isa: tuple[str, ...] = ()              # instruction sets of the CPU that matter here


@dataclass(frozen=True)
class TimeRow:
    """Time and roofline figures of one spec layer, one layer type, or one non-layer node.

    ``macs`` and ``executed_macs`` are per image, as in the cost report; ``bytes``
    and ``intensity`` are for the whole batch (activations per image, weights read
    once). ``time_ms`` is the row's share of the end-to-end median (``None``
    without a profile).
    """

    name: str
    type_key: str                     # the layer type (or onnxruntime op of a non-layer row)
    layers: int                       # spec layers in the row (0: not a layer)
    macs: int
    executed_macs: int | None         # what onnxruntime's kernels are given (padded)
    bytes: int
    intensity: float                  # MACs per byte at the batch
    time_ms: float | None
    time_pct: float | None
    gmacs_per_s: float | None         # achieved, on the theoretical MACs
    attainable_gmacs_per_s: float | None
    efficiency: float | None          # achieved / attainable (0..1), None without MACs
    bound: str = ""                   # "memory" or "compute": the roof that limits the row
    ort_nodes: tuple[str, ...] = ()
    fused_into: str | None = None
    note: str = ""
    # a memory-bound layer: the memory level whose roof limits it (L1, L2, L3, DRAM)
    roof: str = ""
    roof_bandwidth_gb_per_s: float | None = None


@dataclass(frozen=True)
class ProfileSummary:
    """The separate profiled pass: how many runs, what profiling itself cost."""

    runs: int
    profiled_median_ms: float         # wall time of a profiled run (perf_counter)
    unprofiled_median_ms: float       # the end-to-end median
    kernel_sum_ms: float              # sum of per-node kernel medians (before scaling)
    nodes: int                        # onnxruntime nodes after graph optimisation

    @property
    def overhead_pct(self) -> float:
        return 100.0 * (self.profiled_median_ms / self.unprofiled_median_ms - 1.0)

    @property
    def scale(self) -> float:
        """Factor from kernel times to shares of the end-to-end median."""
        return self.unprofiled_median_ms / self.kernel_sum_ms if self.kernel_sum_ms else 0.0


@dataclass(frozen=True)
class BenchReport:
    model: str
    spec: str                          # the spec file, or the ONNX file timed
    source: str                        # "spec" | "onnx"
    alpha: float | None
    resolution: int | None
    input_shape: tuple[int, ...]       # per image
    environment: Environment
    latency_ms: LatencyStats
    machine: Ceiling | None
    profile: ProfileSummary | None
    layers: tuple[TimeRow, ...]
    by_type: Mapping[str, TimeRow]     # layer types, then ``ort:<op>`` rows for non-layer nodes
    non_layer: tuple[TimeRow, ...]
    total: TimeRow | None
    notes: tuple[str, ...] = ()
    interrupted: bool = False
    by_block: Mapping[str, TimeRow] = field(default_factory=dict)   # per block instance

    @property
    def threads(self) -> int:
        return self.environment.threads


@dataclass(frozen=True)
class LatencyReport:
    """What ``measure_latency`` returns (the budget gate reads it)."""

    latency_ms: LatencyStats
    threads: int
    environment: Environment
    interrupted: bool = False


class BenchInterrupted(MnprofError):
    """Ctrl-C during measuring; ``report`` holds what was measured so far (or None)."""

    exit_code = 130

    def __init__(self, report: BenchReport | LatencyReport | None) -> None:
        runs = report.latency_ms.runs if report else 0
        super().__init__(f"interrupted after {runs} timed run(s)")
        self.report = report
