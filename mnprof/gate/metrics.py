"""The metrics a budget can limit: what each counts, its unit, where a saved report
holds it, and where the check reads it (counts from the cost report, latencies from
the bench, predicted latencies from a device profile)."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .amounts import Unit


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    label: str              # what the number counts, for reports
    baseline_key: str       # the field of a saved JSON report holding it
    source: str             # the attribute holding it: of a CostReport (counts), of the
                            # bench's LatencyStats (latencies), of a PredictReport (predicted)
    doc: str
    predicted: bool = False  # from a device profile (mnprof calibrate), not measured

    def read(self, figures: Any) -> int | float:
        """The metric's value in a ``CostReport`` or, for a latency, a ``LatencyStats``."""
        return attrgetter(self.source)(figures)


_METRICS = (
    Metric("macs", Unit.COUNT, "MACs", "totals.macs", "totals.macs",
           "multiply-accumulates of conv and fc layers"),
    Metric("params", Unit.COUNT, "params", "totals.params", "totals.params",
           "conv and fc weights (the papers' count)"),
    Metric("params_framework", Unit.COUNT, "params", "totals.params_framework",
           "totals.params_framework", "weights + biases + batch-norm scale and shift"),
    Metric("activations", Unit.COUNT, "elements", "totals.activations", "totals.activations",
           "output elements of every layer, summed"),
    Metric("peak_activation_bytes", Unit.BYTES, "bytes", "totals.peak_activation_bytes",
           "peak_activation_bytes", "largest fp32 activation memory alive at once"),
    Metric("latency_median_ms", Unit.MS, "ms", "latency_ms.median", "median",
           "median onnxruntime latency on this machine"),
    Metric("latency_p90_ms", Unit.MS, "ms", "latency_ms.p90", "p90",
           "90th-percentile onnxruntime latency on this machine"),
    Metric("predicted_latency_ms", Unit.MS, "ms (predicted)", "latency_ms.median", "median_ms",
           "median latency PREDICTED from a device profile (mnprof calibrate); nothing runs",
           predicted=True),
)
METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}
