"""Measuring one calibration network: its kernels' times in context, and its total.

The network is exported and run in one session with the bench's session options
(one session alive at a time, as the bench does):

- profiled runs give each onnxruntime node's kernel time (median over the kept
  runs); each node is matched to the kernel ``mnprof.predict.kernels`` emulated for
  it (same layer, same op type, same layout, same fused activation), so the sample
  carries the emulated kernel's shapes. A node the emulation did not foresee is
  counted, never used;
- then, with the profiler switched off, timed runs give the end-to-end median, which
  the per-node overhead model is fitted on (end to end = a x kernel time + a cost
  per node + a constant).
"""

from __future__ import annotations

import gc
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..bench import runner
from ..bench.profile import GraphView, by_length, layer_of, match_timings, parse_profile
from ..bench.result import latency_stats
from ..model.graph import Graph
from ..onnxio.export import DEFAULT_OPSET, OUTPUT, build_model
from .kernels import Kernel, Layout, kernels_of

NORMAL_OP = {"FusedConv": "Conv", "FusedGemm": "Gemm"}
SEPS = ".:_/"


@dataclass(frozen=True)
class NetworkSample:
    """One calibration network's measurement."""

    kernels: tuple[Kernel, ...]          # matched kernels
    times_us: tuple[float, ...]          # their median kernel times
    nodes: int                           # onnxruntime nodes profiled
    unmatched: int                       # nodes the emulation did not foresee
    kernel_sum_us: float                 # all profiled nodes' medians
    e2e_ms: float                        # unprofiled end-to-end median


def _signature(node: Any, longest: Sequence[str], output_layer: str
               ) -> tuple[str, str, bool, str]:
    """(op type, layer, runs blocked, fused activation) of an optimised node."""
    op = NORMAL_OP.get(node.op_type, node.op_type)
    act = ""
    for a in node.attribute:
        if a.name == "activation":
            act = a.s.decode("utf-8", "replace")
    if op in ("ReorderInput", "ReorderOutput"):
        tensor = node.input[0] if op == "ReorderInput" else node.output[0]
        if tensor == OUTPUT:
            return op, output_layer, True, ""
        return op, layer_of(tensor, longest, SEPS) or "", True, ""
    blocked = node.domain == "com.microsoft.nchwc" or \
        any(t.startswith("reorder") for t in node.input)
    name = node.name.removesuffix("_nchwc")
    layer = (layer_of(name, longest, SEPS) if name else None) or \
        layer_of(node.output[0], longest, SEPS) or ""
    return op, layer, blocked, act


def _emulated(k: Kernel) -> tuple[str, set[str], bool, str]:
    if k.kind.startswith("reorder"):
        return k.op, {k.src}, True, ""
    return k.op, set(k.layers) | {k.dst}, k.kind.endswith(".nchwc"), k.act


def match_kernels(kernels: Sequence[Kernel], optimized: Any, graph: Graph
                  ) -> list[int | None]:
    """For each node of the optimised ONNX model, the index of its emulated kernel."""
    longest = by_length([n.name for n in graph.nodes])
    emulated = [_emulated(k) for k in kernels]
    free = set(range(len(kernels)))
    out: list[int | None] = []
    for node in optimized.graph.node:
        op, layer, blocked, act = _signature(node, longest, graph.output)
        hit = None
        for i in sorted(free):
            e_op, e_layers, e_blocked, e_act = emulated[i]
            if e_op == op and e_blocked == blocked and e_act == act and \
                    (layer in e_layers or (not layer and op not in ("Conv", "Gemm"))):
                hit = i
                break
        if hit is not None:
            free.discard(hit)
        out.append(hit)
    return out


def measure_network(graph: Graph, *, threads: int, layout: Layout, warmup: int = 5,
                    runs: int = 15, timed_runs: int = 20) -> NetworkSample:
    """Profile ``graph``, then time it end to end, in one session (the bench's options):
    profiling is switched off (``end_profiling``) before the timed runs."""
    import onnx

    level = runner.OptLevel.ALL
    kernels = kernels_of(graph, layout)
    model = build_model(graph, opset=DEFAULT_OPSET, batch=1, check=False).model
    data = model.SerializeToString()      # not re-checked: the exporter's tests prove it
    del model
    with tempfile.TemporaryDirectory(prefix="mnprof-calibrate-") as tmp:
        opt_path = str(Path(tmp) / "optimized.onnx")
        options = runner.session_options(threads, level, profile_dir=tmp,
                                         optimized_path=opt_path)
        session = runner.create_session(data, options, what=graph.model)
        try:
            feed = runner.make_feed(session, 1, what=graph.model)
            profiled = runner.time_runs(session, feed, warmup=warmup, runs=runs, min_time=0.0)
            events = json.loads(Path(session.end_profiling()).read_text())
            timing = runner.time_runs(session, feed, warmup=2, runs=timed_runs, min_time=0.0)
        finally:
            del session
            gc.collect()                  # its threads gone before the next session
        if profiled.interrupted or timing.interrupted:
            raise KeyboardInterrupt
        optimized = onnx.load(opt_path, load_external_data=False)
    timings, _ = parse_profile(events, skip_runs=warmup)
    index = match_timings(timings, GraphView.of(optimized))
    which = match_kernels(kernels, optimized, graph)
    got: dict[int, float] = {}
    unmatched = 0
    for t, i in zip(timings, index, strict=True):
        k = which[i] if i is not None else None
        if k is None:
            unmatched += 1
        else:
            got[k] = got.get(k, 0.0) + t.median_us
    order = sorted(got)
    return NetworkSample(tuple(kernels[i] for i in order), tuple(got[i] for i in order),
                         len(timings), unmatched, sum(t.median_us for t in timings),
                         latency_stats(timing.samples_ms).median)
