"""A prediction as a report: end to end, per kernel, per layer, per type, per block.

``predict_graph(graph, profile)`` emulates the kernels onnxruntime would run,
predicts each one's time with the device profile, adds the per-node overhead for
the end-to-end figure, and gives the kernels' times to the layers they cover the
way the bench does with measured ones (``mnprof.bench.attribute``: a fused kernel's
time goes to its layer with the most MACs; reorders keep rows of their own; the
overhead is spread over the kernels in proportion, so rows sum to the total).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..analysis.cost import analyze
from ..bench.attribute import ProfiledNode, attribute
from ..bench.result import TimeRow
from ..model.graph import Graph
from .device import Device, DeviceProfile
from .estimate import borrowed, end_to_end_ms, kernel_times
from .kernels import Kernel, kernels_of


@dataclass(frozen=True)
class KernelRow:
    name: str
    kind: str                         # the kernel type
    layers: tuple[str, ...]
    time_ms: float                    # predicted kernel time (before the overhead)
    model: str                        # the type whose model predicted it


@dataclass(frozen=True)
class PredictReport:
    model: str
    spec: str
    source: str
    alpha: float | None
    resolution: int | None
    depth: float
    input_shape: tuple[int, ...]
    device: Device
    profile_path: str
    this_machine: bool                # the profile is of this machine's CPU and onnxruntime
    calibration: Mapping[str, Any]
    median_ms: float                  # predicted end-to-end latency
    kernel_sum_ms: float
    kernels: tuple[KernelRow, ...]
    layers: tuple[TimeRow, ...]
    by_type: Mapping[str, TimeRow]
    by_block: Mapping[str, TimeRow]
    non_layer: tuple[TimeRow, ...]
    total: TimeRow
    notes: tuple[str, ...] = ()
    borrowed: Mapping[str, str] = field(default_factory=dict)

    @property
    def overhead_ms(self) -> float:
        return self.median_ms - self.kernel_sum_ms

    @property
    def threads(self) -> int:
        return self.device.threads


def executed(k: Kernel) -> int | None:
    """MACs the kernel is given (padded channels), per image; None if not a conv/gemm."""
    if k.kind == "gemm":
        return k.cin * k.cout
    if k.kind.startswith(("conv", "pw", "dw", "gconv")) and len(k.out_shape) == 3:
        _, h, w = k.out_shape
        return k.cout * max(1, k.cin // max(1, k.groups)) * k.kernel[0] * k.kernel[1] * h * w
    return None


def _signed(v: float, digits: int = 2) -> str:
    return f"{'-' if v < 0 else '+'} {abs(v):.{digits}f}"


def _served(graph: Graph, kernels: list[Kernel]) -> list[tuple[str, ...]]:
    """Each kernel's layers; a reorder (no layers of its own) gets those of a kernel that
    reads the reordered tensor in the reorder's target layout (blocked after
    ``reorder_in``, plain after ``reorder_out``), else of the kernel that made it, as
    ``mnprof.bench.profile`` charges measured reorders."""
    runs = {layer: k.layers for k in kernels for layer in k.layers}
    inputs = {n.name: n.inputs for n in graph.nodes}
    out = []
    for k in kernels:
        if k.layers:
            out.append(k.layers)
            continue
        blocked = k.kind == "reorder_in"
        readers = [r for r in kernels if r.layers and (
            r.src == k.dst or any(k.dst in inputs.get(layer, ()) for layer in r.layers))]
        fit = [r for r in readers if r.kind.endswith(".nchwc") == blocked]
        near = fit or readers
        out.append(near[0].layers if near else runs.get(k.dst, ()))
    return out


def predict_graph(graph: Graph, profile: DeviceProfile, *, here: Device | None = None,
                  spec: str = "") -> PredictReport:
    """The predicted latency of ``graph`` on the profile's device."""
    import numpy as np

    kernels = kernels_of(graph, profile.layout)
    times_us = kernel_times(profile, kernels)
    lent = borrowed(profile, kernels)
    if np.isnan(times_us).any():
        from ..core.errors import MnprofError
        missing = sorted({k.kind for k, t in zip(kernels, times_us, strict=True)
                          if np.isnan(t)})
        raise MnprofError(f"{profile.path or 'the device profile'} has no model for kernel "
                          f"types {', '.join(missing)}: calibrate again")
    kernel_sum_ms = float(np.sum(times_us)) / 1000.0
    median = float(end_to_end_ms(profile, kernel_sum_ms * 1000.0, len(kernels)))
    costs = analyze(graph)
    served = _served(graph, list(kernels))
    nodes = [ProfiledNode(k.name, k.op, float(t), served[i], executed(k))
             for i, (k, t) in enumerate(zip(kernels, times_us, strict=True))]
    att = attribute(costs, nodes, e2e_median_ms=median, batch=1, ceiling=None)
    rows = tuple(KernelRow(k.name, k.kind, k.layers, float(t) / 1000.0,
                           lent.get(k.kind, k.kind))
                 for k, t in zip(kernels, times_us, strict=True))
    notes = [f"Predicted, not measured: kernel models of {profile.device.describe()} "
             f"({profile.path or 'this profile'}); end to end = "
             f"{profile.overhead.scale:.3f} x kernel sum {_signed(profile.overhead.per_node_us)} "
             f"us x {len(kernels)} kernels {_signed(profile.overhead.fixed_us, 1)} us (a "
             "negative per-kernel term takes out the profiler's own cost, which the "
             "calibrated kernel times include)."]
    if any(not k.layers and served[i] for i, k in enumerate(kernels)):
        notes.append("Layout reorders are charged to the layer that reads their output (else "
                     "the one that made it), as mnprof bench charges them: they are what "
                     "running that layer costs.")
    if lent:
        notes.append("Kernel types without a calibrated model of their own, predicted with "
                     "a relative's: " + ", ".join(f"{k} (as {v})" for k, v in lent.items()))
    this = here is not None and profile.device.same_machine(here) \
        and profile.device.threads == here.threads
    if not this:
        notes.append(f"The profile is of {profile.device.describe()}, not of this machine: "
                     "the figures are for that device.")
    return PredictReport(
        model=graph.model, spec=spec or graph.file, source=graph.source,
        alpha=None if graph.source == "onnx" else graph.alpha,
        resolution=graph.resolution, depth=graph.depth, input_shape=graph.input_shape,
        device=profile.device, profile_path=profile.path, this_machine=this,
        calibration=MappingProxyType(dict(profile.calibration)), median_ms=median,
        kernel_sum_ms=kernel_sum_ms, kernels=rows, layers=att.layers,
        by_type=MappingProxyType(att.by_type), by_block=MappingProxyType(att.by_block),
        non_layer=att.non_layer, total=att.total, notes=tuple(notes),
        borrowed=MappingProxyType(lent))
