"""The bench itself: time a built graph (or an ONNX file), then explain the time.

Order of work, one onnxruntime session alive at a time:

1. the machine ceiling (cached; its GEMM session is gone before the model's starts);
2. the timing session: warm-up, then timed runs (at least ``runs`` and at least
   ``min_time`` seconds), each ``session.run`` between two ``perf_counter`` calls;
3. a separate profiled session (never the timed one), whose per-node kernel times
   are mapped onto the spec's layers and scaled to the end-to-end median.
"""

from __future__ import annotations

import gc
import math
import os
import platform
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..cost import analyze
from ..errors import MnprofError
from ..export import DEFAULT_OPSET
from ..graph import Graph
from ..machine import Ceiling, CpuInfo, Progress, cpu_info, default_threads, machine_ceiling
from ..timing import DEFAULT_MIN_TIME, DEFAULT_RUNS, DEFAULT_WARMUP  # re-exported
from . import runner
from .attribute import ProfiledNode, attribute
from .profile import (
    GraphView,
    by_length,
    executed_macs,
    layer_of,
    map_nodes,
    match_timings,
    parse_profile,
)
from .result import (
    BenchInterrupted,
    BenchReport,
    Environment,
    LatencyReport,
    LatencyStats,
    ProfileSummary,
    latency_stats,
)
from .runner import SPINNING, OptLevel, create_session, make_feed, session_options, time_runs

DEFAULT_PROFILE_RUNS = 20


NOTE_ONNX = ("Per-layer theory for arbitrary ONNX files is not available yet (a later "
             "version maps ONNX nodes to layer kinds): end-to-end latency only.")
NOTE_EXECUTED = ("Executed MACs come from the weight shapes in onnxruntime's optimised graph: "
                 "NCHWc convs pad channel counts to blocks of {block} floats (assumed from the "
                 "CPU's {simd} flags), so e.g. 24 channels run as 32. An estimate of the work "
                 "given to the kernels, not a hardware count.")
NOTE_NO_BLOCKS = ("Executed MACs come from the weight shapes in onnxruntime's optimised graph; "
                  "no channel blocking is expected on this CPU (no AVX2 or AVX-512 flags).")
NOTE_ROOFLINE = ("Roofline: attainable = min(peak, intensity x bandwidth); intensity = "
                 "theoretical MACs per fp32 byte of input, weights and output (the cost "
                 "report's estimate, caches ignored); efficiency = achieved / attainable.")


NOISY_SPREAD = 0.15         # (p90 - p10) / median; robust to a few outliers, unlike the cv


def spread_notes(stats: LatencyStats, env: Environment) -> tuple[str, ...]:
    """A warning when the runs vary a lot (a busy machine, frequency changes)."""
    if stats.runs < 2 or (stats.p90 - stats.p10) <= NOISY_SPREAD * stats.median:
        return ()
    return (f"Runs vary a lot ((p90 - p10) / median = "
            f"{100 * (stats.p90 - stats.p10) / stats.median:.0f}%, coefficient of variation "
            f"{100 * stats.cv:.0f}%): other processes may be sharing the cores "
            f"(load average {_load(env)} at the start). The median resists this, but time "
            f"on an idle machine for figures to compare.",)


def _load(env: Environment) -> str:
    return "unknown" if env.load_average is None else f"{env.load_average:.2f}"


def _int_at_least(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise MnprofError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def check_settings(*, threads: int | None, runs: int, warmup: int, min_time: float,
                   batch: int, profile_runs: int = 1) -> int:
    """Validate the bench settings; return the thread count to use."""
    if threads is None:
        threads = default_threads()
    _int_at_least("threads", threads, 1)
    _int_at_least("runs", runs, 1)
    _int_at_least("warmup", warmup, 0)
    _int_at_least("batch", batch, 1)
    _int_at_least("profile runs", profile_runs, 1)
    if isinstance(min_time, bool) or not isinstance(min_time, (int, float)) \
            or not math.isfinite(min_time) or min_time < 0:
        raise MnprofError(f"min-time must be a number of seconds >= 0, got {min_time!r}")
    return threads


def _environment(cpu: CpuInfo, *, threads: int, level: OptLevel, opset: int | None,
                 batch: int, runs: int, warmup: int, min_time: float) -> Environment:
    import numpy
    import onnxruntime as ort

    try:
        load: float | None = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = None
    return Environment(
        cpu_model=cpu.model, logical_cpus=cpu.logical_cpus, physical_cores=cpu.physical_cores,
        cores_used=min(threads, cpu.usable_cpus), onnxruntime_version=ort.__version__,
        threads=threads, inter_op_threads=1, execution_mode="sequential",
        opt_level=level.value, opset=opset, batch=batch, runs=runs, warmup=warmup,
        min_time_s=float(min_time), simd=cpu.simd, nchwc_block=cpu.nchwc_block,
        spinning=SPINNING, python=platform.python_version(), numpy=numpy.__version__,
        platform=f"{platform.system()} {platform.machine()}", load_average=load)


def _time(model: bytes | str, *, threads: int, level: OptLevel, batch: int, warmup: int,
          runs: int, min_time: float, progress: Progress | None, what: str
          ) -> tuple[list[float], bool, dict[str, Any]]:
    if progress:
        progress("loading the model into onnxruntime", 0, 1)
    session = create_session(model, session_options(threads, level), what=what)
    try:
        feed = make_feed(session, batch, what=what)
        timing = time_runs(session, feed, warmup=warmup, runs=runs, min_time=min_time,
                           progress=progress)
    finally:
        del session             # gone (threads included) before any other session starts
        gc.collect()
    return timing.samples_ms, timing.interrupted, feed


def measure_latency(graph: Graph, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                    warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                    opt_level: str = "all", batch: int = 1, opset: int = DEFAULT_OPSET,
                    progress: Progress | None = None) -> LatencyReport:
    """End-to-end latency of ``graph`` only: no profile, no machine ceiling."""
    from ..export import export_model

    threads = check_settings(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                             batch=batch)
    level = runner.opt_level(opt_level)
    model = export_model(graph, opset=opset, batch=batch).SerializeToString()
    samples, interrupted, _ = _time(model, threads=threads, level=level, batch=batch,
                                    warmup=warmup, runs=runs, min_time=min_time,
                                    progress=progress, what=graph.model)
    if not samples:
        raise BenchInterrupted(None)
    env = _environment(cpu_info(), threads=threads, level=level, opset=opset, batch=batch,
                       runs=len(samples), warmup=warmup, min_time=min_time)
    return LatencyReport(latency_stats(samples, batch), threads, env, interrupted)


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
    from ..export import export_model

    threads = check_settings(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                             batch=batch, profile_runs=profile_runs)
    level = runner.opt_level(opt_level)
    cpu = cpu_info()
    costs = analyze(graph)
    try:
        ceiling = ceiling or machine_ceiling(threads, remeasure=remeasure, progress=progress)
    except KeyboardInterrupt:
        raise BenchInterrupted(None) from None
    if progress:
        progress("exporting the model to ONNX", 0, 1)
    exported = export_model(graph, opset=opset, batch=batch, totals=costs.totals)
    model = exported.SerializeToString()
    samples, interrupted, feed = _time(model, threads=threads, level=level, batch=batch,
                                       warmup=warmup, runs=runs, min_time=min_time,
                                       progress=progress, what=graph.model)
    if not samples:
        raise BenchInterrupted(None)
    stats = latency_stats(samples, batch)
    env = _environment(cpu, threads=threads, level=level, opset=opset, batch=batch,
                       runs=stats.runs, warmup=warmup, min_time=min_time)
    base = dict(model=graph.model, spec=spec, source="spec", alpha=graph.alpha,
                resolution=graph.resolution, input_shape=graph.input_shape,
                environment=env, latency_ms=stats, machine=ceiling)
    noise = spread_notes(stats, env)
    bare = BenchReport(**base, profile=None, layers=(), by_type=MappingProxyType({}),
                       non_layer=(), total=None, notes=noise, interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(bare)
    if not per_layer:
        return bare
    try:
        prof = runner.profile_runs(model, threads=threads, level=level, feed=feed, warmup=warmup,
                            runs=profile_runs, progress=progress)
    except KeyboardInterrupt:
        raise BenchInterrupted(replace(bare, interrupted=True)) from None  # while profiling

    timings, _ = parse_profile(prof.events, skip_runs=warmup)
    if not any(t.median_us > 0 for t in timings):
        return replace(bare, notes=(*noise, "onnxruntime's profiler recorded no node times: "
                                    "no per-layer or per-type figures."))
    optimized = GraphView.of(prof.optimized)
    original = GraphView.of(exported)
    names = [n.name for n in graph.nodes]
    covers = map_nodes(original, optimized, names)
    longest = by_length(names)
    with_nodes = {layer_of(n.name, longest) for n in original.nodes}
    index = match_timings(timings, optimized)
    nodes = [ProfiledNode(
        t.name, t.op_type, t.median_us, covers[i] if i is not None else (),
        executed_macs(optimized.nodes[i], optimized.initializers, t.output_shape)
        if i is not None else None) for t, i in zip(timings, index, strict=True)]
    att = attribute(costs, nodes, e2e_median_ms=stats.median, batch=batch, ceiling=ceiling,
                    exported={n for n in with_nodes if n})
    summary = ProfileSummary(runs=len(prof.wall_ms),
                             profiled_median_ms=latency_stats(prof.wall_ms).median,
                             unprofiled_median_ms=stats.median,
                             kernel_sum_ms=att.kernel_sum_ms, nodes=len(optimized.nodes))
    executed = NOTE_EXECUTED.format(block=cpu.nchwc_block, simd=cpu.simd) \
        if cpu.nchwc_block > 1 else NOTE_NO_BLOCKS
    notes = (*noise, _normalisation_note(summary), executed, NOTE_ROOFLINE)
    if any(r.fused_into for r in att.layers):
        notes += ("A layer marked 'fused into X' runs inside X's onnxruntime node; its time "
                  "is in X's row.",)
    return BenchReport(**base, profile=summary, layers=att.layers,
                       by_type=MappingProxyType(att.by_type), non_layer=att.non_layer,
                       total=att.total, notes=notes)


def _normalisation_note(p: ProfileSummary) -> str:
    return (f"Per-layer and per-type times: onnxruntime profiler kernel times (median of "
            f"{p.runs} runs of a separate profiled session), scaled by {p.scale:.3f} so that "
            f"they sum to the end-to-end median. Profiling made a run "
            f"{p.overhead_pct:+.1f}% slower ({p.profiled_median_ms:.3f} ms vs "
            f"{p.unprofiled_median_ms:.3f} ms); kernels account for "
            f"{100.0 * p.kernel_sum_ms / p.profiled_median_ms:.1f}% of a profiled run.")


def bench_onnx_file(path: str | Path, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                    warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                    opt_level: str = "all", batch: int = 1, ceiling: Ceiling | None = None,
                    remeasure: bool = False, progress: Progress | None = None) -> BenchReport:
    """End-to-end latency of an existing ONNX file (no per-layer theory yet)."""
    threads = check_settings(threads=threads, runs=runs, warmup=warmup, min_time=min_time,
                             batch=batch)
    level = runner.opt_level(opt_level)
    name, opset = _onnx_header(path)
    try:
        ceiling = ceiling or machine_ceiling(threads, remeasure=remeasure, progress=progress)
    except KeyboardInterrupt:
        raise BenchInterrupted(None) from None
    samples, interrupted, feed = _time(str(path), threads=threads, level=level, batch=batch,
                                       warmup=warmup, runs=runs, min_time=min_time,
                                       progress=progress, what=str(path))
    if not samples:
        raise BenchInterrupted(None)
    stats = latency_stats(samples, batch)
    env = _environment(cpu_info(), threads=threads, level=level, opset=opset, batch=batch,
                       runs=stats.runs, warmup=warmup, min_time=min_time)
    shape = next(iter(feed.values())).shape[1:] if len(feed) == 1 else ()
    report = BenchReport(model=name, spec=str(path), source="onnx", alpha=None,
                         resolution=None, input_shape=tuple(int(d) for d in shape),
                         environment=env, latency_ms=stats, machine=ceiling, profile=None,
                         layers=(), by_type=MappingProxyType({}), non_layer=(), total=None,
                         notes=(*spread_notes(stats, env), NOTE_ONNX),
                         interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(report)
    return report


def _onnx_header(path: str | Path) -> tuple[str, int | None]:
    """The model's name and default-domain opset; a one-line error if it does not load."""
    from ..onnx_reader import load

    p = Path(path)
    model = load(p, load_external_data=False)
    if not model.graph.node:
        raise MnprofError(f"{path}: not a readable ONNX model (its graph has no nodes)")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return model.graph.name or p.stem, opset
