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
                    progress: Progress | None = None) -> LatencyReport:
    """End-to-end latency of ``graph`` only: no profile, no machine ceiling."""
    s = Settings.of(threads=threads, runs=runs, warmup=warmup, min_time=min_time, batch=batch,
                    opt_level=opt_level, opset=opset)
    costs = analyze(graph)
    check_memory(graph_memory(costs, s.batch), f"{graph.model} at batch {s.batch}")
    load = load_average()
    model = serialize(build_model(graph, opset=opset, batch=s.batch, totals=costs.totals,
                                  check=False).model)
    samples, interrupted, _ = time_model(model, s, progress=progress, what=graph.model)
    env = environment_of(cpu_info(), s, runs=len(samples), opset=opset, load=load)
    return LatencyReport(latency_stats(samples, s.batch), s.threads, env, interrupted)


def bench_graph(graph: Graph, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                per_layer: bool = True, opt_level: str = "all", batch: int = 1,
                opset: int = DEFAULT_OPSET, profile_runs: int = DEFAULT_PROFILE_RUNS,
                ceiling: Ceiling | None = None, remeasure: bool = False,
                progress: Progress | None = None, spec: str = "") -> BenchReport:
    """Time ``graph`` end to end; with ``per_layer``, also per layer and per type.

    ``ceiling``: the machine ceiling to use (default: the cached one, measured if
    missing or when ``remeasure``). Ctrl-C raises ``BenchInterrupted`` carrying the
    report of what was measured so far.
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
    model = serialize(exported.model)
    samples, interrupted, feed = time_model(model, s, progress=progress, what=graph.model)
    stats = latency_stats(samples, s.batch)
    env = environment_of(cpu_info(), s, runs=stats.runs, opset=opset, load=load)
    base = dict(model=graph.model, spec=spec, source=graph.source, alpha=graph.alpha,
                resolution=graph.resolution, input_shape=graph.input_shape,
                environment=env, latency_ms=stats, machine=roof)
    noise = spread_notes(stats, env, roof)
    bare = BenchReport(**base, profile=None, layers=(), by_type=MappingProxyType({}),
                       non_layer=(), total=None, notes=noise, interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(bare)
    if not per_layer:
        return bare
    view = GraphView.of(exported.model)
    layer_of_node = layers_by_name(graph)
    return explain(bare, costs, model, view, [layer_of_node(n.name) for n in view.nodes], s,
                   feed, profile_runs, progress)


def explain(bare: BenchReport, costs: CostReport, model: bytes, view: GraphView,
            node_layers: Sequence[str | None], s: Settings, feed: dict[str, Any],
            profile_runs: int, progress: Progress | None,
            siblings: Mapping[str, tuple[str, ...]] | None = None) -> BenchReport:
    """``bare`` with per-layer and per-type rows from a separate profiled session.

    ``view`` is the ONNX graph that was timed and ``node_layers`` the layer each of its
    nodes belongs to; ``siblings``: layers made by one node with another (a Split's
    parts), covered whenever it is."""
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
    names = [c.name for c in costs.layers]
    covers = map_nodes(view, optimized, names, node_layers)
    siblings = siblings or {}

    def with_siblings(layers: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(y for x in layers if x for y in (x, *siblings.get(x, ()))))

    covers = [with_siblings(c) for c in covers]
    index = match_timings(timings, optimized)
    nodes = [ProfiledNode(
        t.name, t.op_type, t.median_us, covers[i] if i is not None else (),
        executed_macs(optimized.nodes[i], optimized.initializers, t.output_shape)
        if i is not None else None) for t, i in zip(timings, index, strict=True)]
    stats = bare.latency_ms
    att = attribute(costs, nodes, e2e_median_ms=stats.median, batch=s.batch,
                    ceiling=bare.machine, exported=set(with_siblings(node_layers)))
    summary = ProfileSummary(runs=len(prof.wall_ms),
                             profiled_median_ms=latency_stats(prof.wall_ms).median,
                             unprofiled_median_ms=stats.median,
                             kernel_sum_ms=att.kernel_sum_ms, nodes=len(optimized.nodes))
    cpu = cpu_info()
    notes = (*bare.notes, *normalisation_notes(summary), executed_note(cpu), NOTE_ROOFLINE,
             *over_roof_notes(att.layers, bare.machine))
    if any(r.fused_into for r in att.layers):
        notes += ("A layer marked 'fused into X' runs inside X's onnxruntime node; its time "
                  "is in X's row.",)
    helpers = {n.op_type for n in nodes if n.layers} & HELPER_OPS
    if helpers:
        notes += (f"onnxruntime's {', '.join(sorted(helpers))} nodes (layout changes, shape "
                  "arithmetic) are charged to the layer that reads their output (listed "
                  "among its onnxruntime nodes): they are what running that layer costs.",)
    return replace(bare, profile=summary, layers=att.layers,
                   by_type=MappingProxyType(att.by_type), non_layer=att.non_layer,
                   total=att.total, notes=notes, by_block=MappingProxyType(att.by_block))


__all__ = ["DEFAULT_PROFILE_RUNS", "bench_graph", "check_memory", "explain",
           "is_busy", "measure_latency"]


def measure_each(graphs: list[Graph], *, progress: Progress | None = None,
                 labels: list[str] | None = None, **options: Any) -> tuple[list[Any], int, bool]:
    """The end-to-end latency of each graph in turn (``sweep --bench``, ``compare --bench``):
    (the LatencyStats measured, the threads used, whether Ctrl-C stopped it). A point
    stopped part-way is dropped, never reported as if complete."""
    out: list[Any] = []
    used = 0
    for i, graph in enumerate(graphs):
        if progress:
            progress(f"timing {labels[i] if labels else graph.model}", i, len(graphs))
        try:
            r = measure_latency(graph, **options)
        except (BenchInterrupted, KeyboardInterrupt):
            return out, used, True
        if r.interrupted:
            return out, used, True
        out.append(r.latency_ms)
        used = r.threads
    return out, used, False
