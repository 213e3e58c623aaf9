"""The bench itself: time a built graph (or an ONNX file), then explain the time.

Order of work, one onnxruntime session alive at a time:

1. the settings, checked within their bounds, and the memory the run needs, checked
   against what the machine has (before anything is allocated);
2. the machine ceiling (cached; its GEMM session is gone before the model's starts);
3. the timing session: warm-up, then timed runs (at least ``runs`` and at least
   ``min_time`` seconds), each ``session.run`` between two ``perf_counter`` calls;
4. a separate profiled session (never the timed one), whose per-node kernel times
   are mapped onto the graph's layers and scaled to the end-to-end median.
"""

from __future__ import annotations

import gc
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from ..analysis.cost import CostReport, analyze
from ..core.errors import MnprofError
from ..core.progress import Progress
from ..model.graph import Graph
from ..onnxio.export import DEFAULT_OPSET, build_model, serialize
from . import runner
from .attribute import ProfiledNode, attribute
from .int8 import Int8Run, peak_for, prepare, with_fidelity
from .machine import (
    Ceiling,
    CpuInfo,
    available_memory,
    cpu_info,
    default_threads,
    is_busy,
    load_average,
    machine_ceiling,
)
from .notes import (
    NOTE_ROOFLINE,
    executed_note,
    normalisation_notes,
    over_roof_notes,
    spread_notes,
)
from .profile import (
    GraphView,
    executed_macs,
    layers_by_name,
    map_nodes,
    match_timings,
    parse_profile,
)
from .qmap import int8_executed_macs, map_quantized, quantized_node_layers
from .result import (
    BenchInterrupted,
    BenchReport,
    Environment,
    LatencyReport,
    ProfileSummary,
    latency_stats,
)
from .runner import SPINNING, OptLevel, create_session, make_feed, session_options, time_runs
from .settings import (
    DEFAULT_MIN_TIME,
    DEFAULT_PROFILE_RUNS,
    DEFAULT_RUNS,
    DEFAULT_WARMUP,
    check_settings,
)

MEMORY_HEADROOM = 0.8       # use at most this share of the available memory
# Nodes that serve a layer without computing it (see profile._charge_helpers).
HELPER_OPS = frozenset({"ReorderInput", "ReorderOutput", "Shape", "Gather", "Unsqueeze",
                        "Cast", "Range", "ConstantOfShape"})


@dataclass(frozen=True)
class Settings:
    """A bench's settings, checked, with the thread count resolved."""

    threads: int
    runs: int
    warmup: int
    min_time: float
    batch: int
    level: OptLevel
    opset: int | None = DEFAULT_OPSET

    @classmethod
    def of(cls, *, threads: int | None, runs: int, warmup: int, min_time: float, batch: int,
           opt_level: str, opset: int | None = DEFAULT_OPSET,
           profile_runs: int = 1) -> Settings:
        threads = default_threads() if threads is None else threads
        check_settings(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                       batch=batch, profile_runs=profile_runs)
        return cls(threads, runs, warmup, float(min_time), batch, runner.opt_level(opt_level),
                   opset)


def check_memory(needed: int, what: str) -> None:
    """A one-line error, before any allocation, when a run would not fit in memory."""
    available = available_memory()
    if available is not None and needed > MEMORY_HEADROOM * available:
        raise MnprofError(f"{what} needs about {needed / 2**30:.1f} GiB of memory; this "
                          f"machine has {available / 2**30:.1f} GiB available")


def graph_memory(costs: CostReport, batch: int) -> int:
    """Bytes a run of the graph needs: activations per image times the batch, and the
    weights three times over (the model bytes, onnxruntime's copy, a prepacked copy)."""
    weights = sum(c.weight_bytes for c in costs.layers)
    return batch * costs.peak_activation_bytes + 3 * weights


def environment_of(cpu: CpuInfo, s: Settings, *, runs: int, opset: int | None,
                 load: float | None) -> Environment:
    import numpy
    import onnxruntime as ort

    return Environment(
        cpu_model=cpu.model, logical_cpus=cpu.logical_cpus, physical_cores=cpu.physical_cores,
        cores_used=min(s.threads, cpu.usable_cpus), onnxruntime_version=ort.__version__,
        threads=s.threads, inter_op_threads=1, execution_mode="sequential",
        opt_level=s.level.value, opset=opset, batch=s.batch, runs=runs, warmup=s.warmup,
        min_time_s=s.min_time, simd=cpu.simd, nchwc_block=cpu.nchwc_block,
        spinning=SPINNING, python=platform.python_version(), numpy=numpy.__version__,
        platform=f"{platform.system()} {platform.machine()}", load_average=load,
        isa=cpu.isa)


def time_model(model: bytes | str, s: Settings, *, progress: Progress | None, what: str,
          dims: Any = None) -> tuple[list[float], bool, dict[str, Any]]:
    if progress:
        progress("loading the model into onnxruntime", 0, 1)
    session = create_session(model, session_options(s.threads, s.level), what=what)
    try:
        feed = make_feed(session, s.batch, what=what, dims=dims)
        timing = time_runs(session, feed, warmup=s.warmup, runs=s.runs, min_time=s.min_time,
                           progress=progress)
    finally:
        del session             # gone (threads included) before any other session starts
        gc.collect()
    if not timing.samples_ms:
        raise BenchInterrupted(None)
    return timing.samples_ms, timing.interrupted, feed


def resolve_ceiling(s: Settings, ceiling: Ceiling | None, remeasure: bool,
             progress: Progress | None) -> Ceiling:
    try:
        return ceiling or machine_ceiling(s.threads, remeasure=remeasure, progress=progress)
    except KeyboardInterrupt:
        raise BenchInterrupted(None) from None


def measure_latency(graph: Graph, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                    warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                    opt_level: str = "all", batch: int = 1, opset: int = DEFAULT_OPSET,
                    precision: str = "fp32", quant: Any = None,
                    progress: Progress | None = None) -> LatencyReport:
    """End-to-end latency of ``graph`` only: no profile, no machine ceiling. ``precision``
    "int8" times the model quantized with ``quant`` (``mnprof.onnxio.quantize``)."""
    s = Settings.of(threads=threads, runs=runs, warmup=warmup, min_time=min_time, batch=batch,
                    opt_level=opt_level, opset=opset)
    costs = analyze(graph)
    check_memory(graph_memory(costs, s.batch), f"{graph.model} at batch {s.batch}")
    load = load_average()
    exported = build_model(graph, opset=opset, batch=s.batch, totals=costs.totals, check=False)
    model = serialize(exported.model)
    if check_precision(precision) == "int8":
        model = prepare(graph, exported.model, model, batch=s.batch, opset=opset,
                        quant=quant).model
    del exported
    samples, interrupted, _ = time_model(model, s, progress=progress, what=graph.model)
    env = environment_of(cpu_info(), s, runs=len(samples), opset=opset, load=load)
    return LatencyReport(latency_stats(samples, s.batch), s.threads, env, interrupted,
                         precision=precision)


def check_precision(precision: str) -> str:
    if precision not in ("fp32", "int8"):
        raise MnprofError(f"precision must be fp32 or int8, got {precision!r:.40}")
    return precision


def bench_graph(graph: Graph, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                per_layer: bool = True, opt_level: str = "all", batch: int = 1,
                opset: int = DEFAULT_OPSET, profile_runs: int = DEFAULT_PROFILE_RUNS,
                ceiling: Ceiling | None = None, remeasure: bool = False,
                progress: Progress | None = None, spec: str = "", precision: str = "fp32",
                quant: Any = None) -> BenchReport:
    """Time ``graph`` end to end; with ``per_layer``, also per layer and per type.

    ``ceiling``: the machine ceiling to use (default: the cached one, measured if
    missing or when ``remeasure``). ``precision`` "int8": the model quantized by
    onnxruntime with ``quant`` (``mnprof.onnxio.quantize.QuantOptions``; default
    QDQ, per-channel, S8S8), against int8 theory and roofs. Ctrl-C raises
    ``BenchInterrupted`` carrying the report of what was measured so far.
    """
    s = Settings.of(threads=threads, runs=runs, warmup=warmup, min_time=min_time, batch=batch,
                    opt_level=opt_level, opset=opset, profile_runs=profile_runs)
    costs = analyze(graph)
    check_memory(graph_memory(costs, s.batch), f"{graph.model} at batch {s.batch}")
    load = load_average()
    roof = resolve_ceiling(s, ceiling, remeasure, progress)
    if progress:
        progress("exporting the model to ONNX", 0, 1)
    exported = build_model(graph, opset=opset, batch=s.batch, totals=costs.totals, check=False)
    model, original = serialize(exported.model), exported.model
    run = None
    if check_precision(precision) == "int8":
        if progress:
            progress("quantizing the model with onnxruntime", 0, 1)
        run = prepare(graph, original, model, batch=s.batch, opset=opset, quant=quant)
        model, original = run.model, run.quantized.model
    samples, interrupted, feed = time_model(model, s, progress=progress, what=graph.model)
    stats = latency_stats(samples, s.batch)
    env = environment_of(cpu_info(), s, runs=stats.runs, opset=opset, load=load)
    base = dict(model=graph.model, spec=spec, source=graph.source, alpha=graph.alpha,
                resolution=graph.resolution, input_shape=graph.input_shape,
                environment=env, latency_ms=stats, machine=roof, precision=precision,
                int8=run.summary() if run else None)
    noise = spread_notes(stats, env, roof)
    bare = BenchReport(**base, profile=None, layers=(), by_type=MappingProxyType({}),
                       non_layer=(), total=None, notes=noise, interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(bare)
    report = bare
    if per_layer:
        view = GraphView.of(original)
        layer_of_node = layers_by_name(graph)
        node_layers = quantized_node_layers(view, layer_of_node) if run else \
            [layer_of_node(n.name) for n in view.nodes]
        report = explain(bare, costs, model, view, node_layers, s, feed, profile_runs,
                         progress, run=run, remeasure=remeasure)
    return with_fidelity(report, run, batch=s.batch, threads=s.threads) if run else report


def explain(bare: BenchReport, costs: CostReport, model: bytes, view: GraphView,
            node_layers: Sequence[str | None], s: Settings, feed: dict[str, Any],
            profile_runs: int, progress: Progress | None,
            siblings: Mapping[str, tuple[str, ...]] | None = None,
            run: Int8Run | None = None, remeasure: bool = False) -> BenchReport:
    """``bare`` with per-layer and per-type rows from a separate profiled session.

    ``view`` is the ONNX graph that was timed and ``node_layers`` the layer each of its
    nodes belongs to; ``siblings``: layers made by one node with another (a Split's
    parts), covered whenever it is; ``run``: the int8 model, mapped by names and
    costed against int8 roofs."""
    try:
        prof = runner.profile_runs(model, threads=s.threads, level=s.level, feed=feed,
                                   warmup=s.warmup, runs=profile_runs, progress=progress)
    except KeyboardInterrupt:
        raise BenchInterrupted(replace(bare, interrupted=True)) from None  # while profiling
    timings, _ = parse_profile(prof.events, skip_runs=s.warmup)
    if not any(t.median_us > 0 for t in timings):
        return replace(bare, notes=(*bare.notes, "onnxruntime's profiler recorded no node "
                                    "times: no per-layer or per-type figures."))
    optimized = GraphView.of(prof.optimized)
    siblings = siblings or {}

    def with_siblings(layers: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(y for x in layers if x for y in (x, *siblings.get(x, ()))))

    nodes = _profiled_nodes(optimized, view, [c.name for c in costs.layers], node_layers,
                            timings, with_siblings, quantized=run is not None)
    stats = bare.latency_ms
    roof, ceilings = bare.machine, None
    if run is not None:
        peak = peak_for(s.threads, remeasure=remeasure, progress=progress)
        costs, roof, ceilings, fields = run.explain(costs, nodes, roof, peak)
        bare = replace(bare, int8=replace(bare.int8, **fields))
    att = attribute(costs, nodes, e2e_median_ms=stats.median, batch=s.batch, ceiling=roof,
                    exported=set(with_siblings(node_layers)), ceilings=ceilings)
    summary = ProfileSummary(runs=len(prof.wall_ms),
                             profiled_median_ms=latency_stats(prof.wall_ms).median,
                             unprofiled_median_ms=stats.median,
                             kernel_sum_ms=att.kernel_sum_ms, nodes=len(optimized.nodes))
    notes = (*bare.notes, *normalisation_notes(summary), executed_note(cpu_info()),
             NOTE_ROOFLINE, *over_roof_notes(att.layers, roof), *_mapping_notes(att, nodes))
    return replace(bare, profile=summary, layers=att.layers,
                   by_type=MappingProxyType(att.by_type), non_layer=att.non_layer,
                   total=att.total, notes=notes, by_block=MappingProxyType(att.by_block))


def _profiled_nodes(optimized: GraphView, view: GraphView, names: list[str],
                    node_layers: Sequence[str | None], timings: list[Any],
                    with_siblings: Any, *, quantized: bool) -> list[ProfiledNode]:
    """Each profiled node with the layers it covers. An int8 model maps by names
    (``mnprof.bench.qmap``), a float one by the tensors each node reads and writes."""
    covers = (map_quantized if quantized else map_nodes)(view, optimized, names,
                                                         list(node_layers))
    covers = [with_siblings(c) for c in covers]
    index = match_timings(timings, optimized)

    def executed(i: int, shape: Any) -> int | None:
        node = optimized.nodes[i]
        return int8_executed_macs(node, optimized, shape) if quantized else \
            executed_macs(node, optimized.initializers, shape)

    return [ProfiledNode(t.name, t.op_type, t.median_us, covers[i] if i is not None else (),
                         executed(i, t.output_shape) if i is not None else None)
            for t, i in zip(timings, index, strict=True)]


def _mapping_notes(att: Any, nodes: list[ProfiledNode]) -> tuple[str, ...]:
    notes: tuple[str, ...] = ()
    if any(r.fused_into for r in att.layers):
        notes += ("A layer marked 'fused into X' runs inside X's onnxruntime node; its time "
                  "is in X's row.",)
    helpers = {n.op_type for n in nodes if n.layers} & HELPER_OPS
    if helpers:
        notes += (f"onnxruntime's {', '.join(sorted(helpers))} nodes (layout changes, shape "
                  "arithmetic) are charged to the layer that reads their output (listed "
                  "among its onnxruntime nodes): they are what running that layer costs.",)
    return notes


__all__ = ["DEFAULT_PROFILE_RUNS", "bench_graph", "check_memory", "explain",
           "is_busy", "measure_latency"]


def measure_each(graphs: list[Graph], *, progress: Progress | None = None,
                 labels: list[str] | None = None, **options: Any) -> Measured:
    """The end-to-end latency of each graph in turn (``sweep --bench``, ``compare --bench``).
    Ctrl-C stops it: a point stopped inside its timed runs is kept and marked partial
    (``Measured.partial``), never passed off as complete; the points after it are absent."""
    out: list[Any] = []
    used, loads = 0, []
    for i, graph in enumerate(graphs):
        label = labels[i] if labels else graph.model
        if progress:
            progress(f"timing {label}", i, len(graphs))
        try:
            r = measure_latency(graph, progress=_within(progress, label, i, len(graphs)),
                                **options)
        except (BenchInterrupted, KeyboardInterrupt):
            return Measured(out, used, True, False, max(loads, default=None))
        out.append(r.latency_ms)
        used = r.threads
        if r.environment.load_average is not None:
            loads.append(r.environment.load_average)
        if r.interrupted:
            return Measured(out, used, True, True, max(loads, default=None))
    return Measured(out, used, False, False, max(loads, default=None))


@dataclass(frozen=True)
class Measured:
    """What ``measure_each`` measured: each point's LatencyStats, the threads, whether
    Ctrl-C stopped it, whether the last point is partial, the highest load average."""

    stats: list[Any]
    threads: int
    interrupted: bool
    partial: bool
    load: float | None


def _within(progress: Progress | None, label: str, i: int, n: int) -> Progress | None:
    """The progress of one point's own measurement (warm-up, timed runs), labelled."""
    if progress is None:
        return None

    def update(what: str, done: int, total: int) -> None:
        progress(f"{i + 1}/{n} {label}: {what}", done, total)

    return update
