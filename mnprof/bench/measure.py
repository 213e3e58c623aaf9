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
from dataclasses import dataclass, replace
from pathlib import Path
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
from .notes import NOTE_ROOFLINE, executed_note, normalisation_notes, spread_notes
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


def _environment(cpu: CpuInfo, s: Settings, *, runs: int, opset: int | None,
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


def _time(model: bytes | str, s: Settings, *, progress: Progress | None, what: str
          ) -> tuple[list[float], bool, dict[str, Any]]:
    if progress:
        progress("loading the model into onnxruntime", 0, 1)
    session = create_session(model, session_options(s.threads, s.level), what=what)
    try:
        feed = make_feed(session, s.batch, what=what)
        timing = time_runs(session, feed, warmup=s.warmup, runs=s.runs, min_time=s.min_time,
                           progress=progress)
    finally:
        del session             # gone (threads included) before any other session starts
        gc.collect()
    if not timing.samples_ms:
        raise BenchInterrupted(None)
    return timing.samples_ms, timing.interrupted, feed


def _ceiling(s: Settings, ceiling: Ceiling | None, remeasure: bool,
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
    samples, interrupted, _ = _time(model, s, progress=progress, what=graph.model)
    env = _environment(cpu_info(), s, runs=len(samples), opset=opset, load=load)
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
    roof = _ceiling(s, ceiling, remeasure, progress)
    if progress:
        progress("exporting the model to ONNX", 0, 1)
    exported = build_model(graph, opset=opset, batch=s.batch, totals=costs.totals, check=False)
    model = serialize(exported.model)
    samples, interrupted, feed = _time(model, s, progress=progress, what=graph.model)
    stats = latency_stats(samples, s.batch)
    env = _environment(cpu_info(), s, runs=stats.runs, opset=opset, load=load)
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
    return _explain(bare, costs, model, exported.model, layers_by_name(graph), s, feed,
                    profile_runs, progress)


def _explain(bare: BenchReport, costs: CostReport, model: bytes, original: Any,
             layer_of_node: Any, s: Settings, feed: dict[str, Any], profile_runs: int,
             progress: Progress | None) -> BenchReport:
    """``bare`` with per-layer and per-type rows from a separate profiled session."""
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
    view = GraphView.of(original)
    names = [c.name for c in costs.layers]
    node_layers = [layer_of_node(n.name) for n in view.nodes]
    covers = map_nodes(view, optimized, names, node_layers)
    index = match_timings(timings, optimized)
    nodes = [ProfiledNode(
        t.name, t.op_type, t.median_us, covers[i] if i is not None else (),
        executed_macs(optimized.nodes[i], optimized.initializers, t.output_shape)
        if i is not None else None) for t, i in zip(timings, index, strict=True)]
    stats = bare.latency_ms
    att = attribute(costs, nodes, e2e_median_ms=stats.median, batch=s.batch,
                    ceiling=bare.machine, exported={x for x in node_layers if x})
    summary = ProfileSummary(runs=len(prof.wall_ms),
                             profiled_median_ms=latency_stats(prof.wall_ms).median,
                             unprofiled_median_ms=stats.median,
                             kernel_sum_ms=att.kernel_sum_ms, nodes=len(optimized.nodes))
    cpu = cpu_info()
    notes = (*bare.notes, *normalisation_notes(summary), executed_note(cpu), NOTE_ROOFLINE)
    if any(r.fused_into for r in att.layers):
        notes += ("A layer marked 'fused into X' runs inside X's onnxruntime node; its time "
                  "is in X's row.",)
    return replace(bare, profile=summary, layers=att.layers,
                   by_type=MappingProxyType(att.by_type), non_layer=att.non_layer,
                   total=att.total, notes=notes, by_block=MappingProxyType(att.by_block))


def bench_onnx_file(path: str | Path, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                    warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                    opt_level: str = "all", batch: int | None = None,
                    ceiling: Ceiling | None = None, remeasure: bool = False,
                    progress: Progress | None = None) -> BenchReport:
    """End-to-end latency of an existing ONNX file (a fixed batch in the file is used
    as it is; ``batch`` sets a symbolic one, default 1)."""
    from ..onnxio.load import load_model

    proto = load_model(path)
    name = proto.graph.name or Path(path).stem
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    file_batch = _fixed_batch(proto)
    if batch is not None and file_batch not in (None, batch):
        raise MnprofError(f"{path}: the model's batch is fixed at {file_batch}; --batch "
                          f"{batch} cannot change it")
    used_batch = file_batch or batch or 1
    s = Settings.of(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                    batch=used_batch, opt_level=opt_level, opset=opset)
    load = load_average()
    roof = _ceiling(s, ceiling, remeasure, progress)
    model = proto.SerializeToString()
    del proto
    samples, interrupted, feed = _time(model, s, progress=progress, what=str(path))
    stats = latency_stats(samples, used_batch)
    env = _environment(cpu_info(), s, runs=stats.runs, opset=opset, load=load)
    shape = next(iter(feed.values())).shape[1:] if len(feed) == 1 else ()
    report = BenchReport(model=name, spec=str(path), source="onnx", alpha=None,
                         resolution=None, input_shape=tuple(int(d) for d in shape),
                         environment=env, latency_ms=stats, machine=roof, profile=None,
                         layers=(), by_type=MappingProxyType({}), non_layer=(), total=None,
                         notes=spread_notes(stats, env, roof), interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(report)
    return report


def _fixed_batch(model: Any) -> int | None:
    """The first input's leading dimension when the file fixes it, else None."""
    inits = {t.name for t in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value") and dims[0].dim_value > 0:
            return int(dims[0].dim_value)
        return None
    return None


__all__ = ["DEFAULT_PROFILE_RUNS", "bench_graph", "bench_onnx_file", "check_memory",
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
