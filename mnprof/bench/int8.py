"""The int8 side of a bench: the model timed, its theory, its roofs, what ran in int8.

- ``prepare``: the float export quantized by onnxruntime (``mnprof.onnxio.quantize``);
- ``Int8Run.explain``: once the profile is mapped onto layers, the theory each layer
  is compared with. A layer whose kernels computed on integers is costed at int8
  (one byte per activation and weight, ``mnprof.analysis.cost.INT8``) under the int8
  roof (the integer GEMM peak); a layer onnxruntime ran as a float kernel between a
  DequantizeLinear and a QuantizeLinear is costed at fp32 under the float roof, since
  that is what it moved and computed. Per-type and total rows use the int8 roof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from ..analysis.cost import INT8, CostReport, analyze, summarize
from ..analysis.cost import by_block as block_totals
from ..model.graph import Graph
from ..onnxio.quantize import Quantized, QuantOptions, evaluation_inputs, quantize_graph
from .attribute import ProfiledNode
from .fidelity import DEFAULT_INPUTS, Fidelity, fidelity
from .int8_report import int8_notes
from .int8peak import Int8Peak, int8_peak
from .machine import Ceiling, cpu_info
from .qmap import FLOAT_MAC_OPS, is_int8_kernel
from .result import INT8_ISA, BenchInterrupted, BenchReport, Int8Summary

FLOAT_OPS_IN_LAYER = FLOAT_MAC_OPS | {"Add", "Mul", "HardSigmoid", "HardSwish", "Relu", "Clip",
                                      "GlobalAveragePool", "AveragePool", "MaxPool", "Softmax",
                                      "Sigmoid", "Concat"}


@dataclass(frozen=True)
class Int8Run:
    graph: Graph
    quantized: Quantized
    model: bytes               # the int8 model as timed
    fp32_model: bytes          # the float export it was quantized from

    def summary(self, **extra: Any) -> Int8Summary:
        q = self.quantized
        return Int8Summary(
            quantization=MappingProxyType(q.options.to_dict()), described=q.options.describe(),
            isa=cpu_info().isa, model_bytes=len(self.model),
            fp32_model_bytes=len(self.fp32_model), quantizer_float=q.float_layers,
            excluded=q.excluded, **extra)

    def explain(self, costs: CostReport, nodes: Sequence[ProfiledNode], roof: Ceiling | None,
                peak: Int8Peak | None) -> tuple[CostReport, Ceiling | None,
                                                 dict[str, Ceiling], dict[str, Any]]:
        """(the theory per layer, the int8 roof, the float roof of each layer that ran
        float, the summary's kernel fields) for the profiled ``nodes``."""
        kernels: dict[str, list[str]] = {}
        for n in nodes:
            for layer in n.layers[:1]:
                kernels.setdefault(layer, []).append(n.op_type)
        float_run = [c.name for c in costs.layers if _ran_float(kernels.get(c.name, []))]
        int8_costs = analyze(self.graph, INT8)
        fp32_by_name = {c.name: c for c in costs.layers}
        layers = tuple(fp32_by_name[c.name] if c.name in float_run else c
                       for c in int8_costs.layers)
        totals, by_type = summarize(layers)
        mixed = replace(int8_costs, layers=layers, totals=totals,
                        by_type=MappingProxyType(by_type),
                        by_block=MappingProxyType(block_totals(layers)))
        int8_roof = peak.ceiling(roof) if peak and roof else roof
        ceilings = {name: roof for name in float_run} if roof else {}
        fields = {"kernels": MappingProxyType({k: tuple(v) for k, v in kernels.items()}),
                  "float_kernels": tuple(x for x in float_run
                                         if x not in self.quantized.excluded), "peak": peak}
        return mixed, int8_roof, ceilings, fields


def _ran_float(ops: Sequence[str]) -> bool:
    """A layer ran in float when none of its kernels is an integer one and one computes."""
    return bool(ops) and not any(is_int8_kernel(op) for op in ops) and \
        any(op in FLOAT_OPS_IN_LAYER for op in ops)


def prepare(graph: Graph, fp32_model: Any, fp32_bytes: bytes, *, batch: int | None,
            opset: int, quant: QuantOptions | None, seed: int = 0) -> Int8Run:
    """The int8 model of ``graph`` from its float export (quantized once)."""
    q = quantize_graph(graph, quant, opset=opset, batch=batch, fp32=fp32_model, seed=seed)
    return Int8Run(graph, q, q.model.SerializeToString(), fp32_bytes)


def quantized_export(graph: Graph, fp32_model: Any, *, opset: int, seed: int,
                     batch: int | None, quant: QuantOptions | None
                     ) -> tuple[Any, dict[str, Any]]:
    """``mnprof export --precision int8``: the int8 model, and what the summary says of it
    (how it was quantized, the CPU's int8 instruction sets, its outputs against fp32)."""
    from ..onnxio.export import serialize

    run = prepare(graph, fp32_model, serialize(fp32_model), batch=batch, opset=opset,
                  quant=quant, seed=seed)
    fid = check_fidelity(run, batch=batch or 1)
    isa = cpu_info().isa
    int8_isa = [f for f in isa if f in INT8_ISA]
    notes = [f"int8: {run.quantized.options.describe()} (onnxruntime quantize_static)",
             f"CPU: {' '.join(isa) or 'unknown'}; int8 dot-product extensions: "
             f"{' '.join(int8_isa) or 'none (no VNNI, no AMX)'}",
             f"outputs vs fp32 on {fid.images} synthetic images: {fid.describe()}"]
    if run.quantized.excluded:
        notes.append(f"kept float on purpose: {', '.join(run.quantized.excluded)}")
    if run.quantized.float_layers:
        notes.append(f"quantizer left float: {', '.join(run.quantized.float_layers)}")
    return run.quantized.model, {"quantization": run.quantized.options.describe(),
                                 "notes": tuple(notes)}


def peak_for(threads: int, *, remeasure: bool = False, progress: Any = None) -> Int8Peak | None:
    try:
        return int8_peak(threads, remeasure=remeasure, progress=progress)
    except KeyboardInterrupt:
        raise
    except Exception:  # noqa: BLE001  a missing int8 roof leaves int8 rows on the float one
        return None


def check_fidelity(run: Int8Run, *, batch: int, images: int = DEFAULT_INPUTS,
                   threads: int = 1) -> Fidelity:
    """The int8 model's outputs against the float model's on synthetic images."""
    shape = (batch, *run.graph.input_shape)
    softmax = bool(run.quantized.excluded) or \
        run.graph.node(run.graph.output).kind == "softmax"
    inputs = evaluation_inputs(shape, max(1, -(-images // batch)))
    return fidelity(run.fp32_model, run.model, inputs, softmax=softmax, threads=threads)


def with_fidelity(report: BenchReport, run: Int8Run, *, batch: int, threads: int
                  ) -> BenchReport:
    """``report`` with the int8 model's outputs compared to the float model's."""
    try:
        fid = check_fidelity(run, batch=batch, threads=threads)
    except KeyboardInterrupt:
        raise BenchInterrupted(replace(report, interrupted=True)) from None
    assert report.int8 is not None
    report = replace(report, int8=replace(report.int8, fidelity=fid))
    return replace(report, notes=(*report.notes, *int8_notes(report)))
