"""fp32 against int8 in one invocation: what quantization buys, per layer and per type.

``compare_precisions`` benches the float model, then its int8 quantization
(``bench_graph`` twice, one session alive at a time, the same timing options),
and joins the two per-layer attributions: for each layer and each layer type the
fp32 time, the int8 time and the speed-up (fp32 time / int8 time: above 1, int8
is faster). The rows of onnxruntime nodes outside any layer (layout reorders,
quantize and dequantize nodes) are compared per op type. Theory in both
precisions goes alongside: model size on disk (serialized bytes), peak activation
memory and activation bytes moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.cost import FP32, INT8, CostReport, analyze
from ..core.progress import Progress
from ..model.graph import Graph
from .measure import bench_graph
from .result import BenchReport, TimeRow

NOTE_SEQUENTIAL = ("fp32 and int8 are timed one after the other with the same options, "
                   "not interleaved: on a busy machine, repeat and compare the spread.")


@dataclass(frozen=True)
class PrecisionRow:
    name: str
    type_key: str
    layers: int
    macs: int
    fp32_ms: float | None
    int8_ms: float | None
    kernel: str = ""                    # what the int8 kernels computed on: int8, fp32, or
                                        # for a type "12 int8, 3 fp32"

    @property
    def speedup(self) -> float | None:
        """fp32 time / int8 time (above 1: int8 is faster)."""
        if self.fp32_ms and self.int8_ms:
            return self.fp32_ms / self.int8_ms
        return None


@dataclass(frozen=True)
class Footprint:
    """Theory of one precision: what the model and its activations take."""

    model_bytes: int                    # the serialized ONNX model
    peak_activation_bytes: int
    activation_bytes: int               # moved by all layers: inputs and outputs


@dataclass(frozen=True)
class PrecisionReport:
    fp32: BenchReport
    int8: BenchReport
    by_type: tuple[PrecisionRow, ...]
    layers: tuple[PrecisionRow, ...]
    fp32_footprint: Footprint
    int8_footprint: Footprint
    notes: tuple[str, ...] = ()

    @property
    def speedup(self) -> float:
        return self.fp32.latency_ms.median / self.int8.latency_ms.median

    @property
    def interrupted(self) -> bool:
        return self.fp32.interrupted or self.int8.interrupted


def footprint(costs: CostReport, model_bytes: int) -> Footprint:
    moved = sum(c.bytes - c.weight_bytes for c in costs.layers)
    return Footprint(model_bytes, costs.peak_activation_bytes, moved)


def compare_precisions(graph: Graph, *, quant: Any = None, spec: str = "",
                       progress: Progress | None = None, **options: Any) -> PrecisionReport:
    """Bench ``graph`` at fp32 and at int8 (``quant``: the quantization options) with the
    same ``bench_graph`` options, per layer; join the two."""
    options = {**options, "per_layer": True}
    fp32 = bench_graph(graph, spec=spec, progress=progress, precision="fp32", **options)
    int8 = bench_graph(graph, spec=spec, progress=progress, precision="int8", quant=quant,
                       **options)
    assert int8.int8 is not None
    kinds = {x: _kernel(int8, [x]) for x in (r.name for r in int8.layers)}
    layers = tuple(_row(a, b, kinds.get(a.name, "")) for a, b in
                   zip(fp32.layers, int8.layers, strict=True))
    by_type = []
    for key, a in fp32.by_type.items():
        b = int8.by_type.get(key)
        members = [r.name for r in fp32.layers if r.type_key == key]
        by_type.append(_row(a, b, _kernel(int8, members)))
    by_type += [_row(None, b, "") for key, b in int8.by_type.items() if key not in fp32.by_type]
    if fp32.total is not None and int8.total is not None:
        by_type.append(_row(fp32.total, int8.total, ""))
    notes = [NOTE_SEQUENTIAL]
    return PrecisionReport(
        fp32=fp32, int8=int8, by_type=tuple(by_type), layers=layers,
        fp32_footprint=footprint(analyze(graph, FP32), int8.int8.fp32_model_bytes),
        int8_footprint=footprint(analyze(graph, INT8), int8.int8.model_bytes),
        notes=tuple(notes))


def _row(a: TimeRow | None, b: TimeRow | None, kernel: str) -> PrecisionRow:
    x = a or b
    assert x is not None
    return PrecisionRow(x.name, x.type_key, x.layers, x.macs,
                        a.time_ms if a is not None else None,
                        b.time_ms if b is not None else None, kernel)


def _kernel(r: BenchReport, layers: list[str]) -> str:
    """What the int8 model's kernels computed on for these layers."""
    s = r.int8
    if s is None:
        return ""
    ran = ["fp32" if x in s.float_kernels or x in s.excluded else "int8"
           for x in layers if x in s.kernels]
    if len(set(ran)) > 1:
        return f"{ran.count('int8')} int8, {ran.count('fp32')} fp32"
    return ran[0] if ran else ""
