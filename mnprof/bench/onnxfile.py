"""Benching an ONNX file the user has: the file itself is timed, never a re-export.

The end-to-end latency is that of the original file. Per layer and per type, its
profile is joined with the graph mnprof imports from it
(``mnprof.onnxio.importer``): each node of the file belongs to the layer the import
made of it (shape computations to none, so onnxruntime's layout reorders and such
stay ``ort:*`` rows), and the layers carry the imported graph's theory, so the
roofline columns work as for a spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..analysis.cost import analyze
from ..core.errors import MnprofError
from ..core.progress import Progress
from .machine import Ceiling, cpu_info, load_average
from .measure import (
    Settings,
    check_memory,
    environment_of,
    explain,
    graph_memory,
    resolve_ceiling,
    time_model,
)
from .notes import spread_notes
from .profile import GraphView
from .result import BenchInterrupted, BenchReport, LatencyReport, latency_stats
from .settings import DEFAULT_MIN_TIME, DEFAULT_PROFILE_RUNS, DEFAULT_RUNS, DEFAULT_WARMUP


def _load(path: str | Path, per_layer: bool | None, dims: Mapping[str, int] | None,
          resolution: int | None) -> tuple[Any, Any, str]:
    """The file's model (weights read), its import (None if not wanted or, when not
    required, not possible) and why not."""
    from ..onnxio.importer import import_model
    from ..onnxio.load import load_model

    proto = load_model(path)
    if per_layer is False:
        return proto, None, ""
    try:
        return proto, import_model(proto, dims=dims, resolution=resolution,
                                   name=str(path)), ""
    except MnprofError as exc:
        if per_layer:
            raise
        return proto, None, str(exc)


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


def _batch(path: str | Path, proto: Any, batch: int | None) -> int:
    file_batch = _fixed_batch(proto)
    if batch is not None and file_batch not in (None, batch):
        raise MnprofError(f"{path}: the model's batch is fixed at {file_batch}; --batch "
                          f"{batch} cannot change it")
    return file_batch or batch or 1


def _settings(proto: Any, used_batch: int, **timing: Any) -> Settings:
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return Settings.of(batch=used_batch, opset=opset, **timing)


def _run(proto: Any, s: Settings, path: str | Path, dims: Mapping[str, int],
         progress: Progress | None) -> tuple[bytes, dict[str, Any], Any, Any, bool]:
    """Time the file: its bytes, the feed, the latency statistics, the environment, and
    whether Ctrl-C stopped it."""
    load = load_average()
    model = proto.SerializeToString()
    samples, interrupted, feed = time_model(model, s, progress=progress, what=str(path),
                                            dims=dims)
    stats = latency_stats(samples, s.batch)
    env = environment_of(cpu_info(), s, runs=stats.runs, opset=s.opset, load=load)
    return model, feed, stats, env, interrupted


def bench_onnx_file(path: str | Path, *, threads: int | None = None, runs: int = DEFAULT_RUNS,
                    warmup: int = DEFAULT_WARMUP, min_time: float = DEFAULT_MIN_TIME,
                    opt_level: str = "all", batch: int | None = None,
                    per_layer: bool | None = None, dims: Mapping[str, int] | None = None,
                    resolution: int | None = None,
                    profile_runs: int = DEFAULT_PROFILE_RUNS, ceiling: Ceiling | None = None,
                    remeasure: bool = False, progress: Progress | None = None) -> BenchReport:
    """Time the ONNX file ``path`` end to end and, through its import, per layer.

    A batch the file fixes is used as it is; ``batch`` sets a symbolic one (default 1).
    ``per_layer``: True requires the per-layer figures (an import that fails is an
    error), False skips them, None (default) gives them when the import succeeds.
    ``dims`` and ``resolution`` bind symbolic dimensions as ``mnprof cost`` does.
    """
    proto, imported, why = _load(path, per_layer, dims, resolution)
    used_batch = _batch(path, proto, batch)
    s = _settings(proto, used_batch, threads=threads, runs=runs, warmup=warmup,
                  min_time=min_time, opt_level=opt_level, profile_runs=profile_runs)
    costs = analyze(imported.graph) if imported else None
    if costs is not None:
        check_memory(graph_memory(costs, used_batch), f"{path} at batch {used_batch}")
    roof = resolve_ceiling(s, ceiling, remeasure, progress)
    view = GraphView.of(proto) if imported else None
    model, feed, stats, env, interrupted = _run(
        proto, s, path, dict(imported.dims) if imported else dict(dims or {}), progress)
    notes = spread_notes(stats, env, roof)
    if imported:
        notes = (*imported.graph.notes, *notes)
    elif why:
        notes = (*notes, f"no per-layer figures: {why}")
    shape = next(iter(feed.values())).shape[1:] if len(feed) == 1 else ()
    report = BenchReport(model=imported.graph.model if imported else
                         (proto.graph.name or Path(path).stem), spec=str(path), source="onnx",
                         alpha=None, resolution=imported.graph.resolution if imported else None,
                         input_shape=imported.graph.input_shape if imported else
                         tuple(int(d) for d in shape),
                         environment=env, latency_ms=stats, machine=roof, profile=None,
                         layers=(), by_type=MappingProxyType({}), non_layer=(), total=None,
                         notes=notes, interrupted=interrupted)
    if interrupted:
        raise BenchInterrupted(report)
    if imported is None or costs is None or view is None:
        return report
    return explain(report, costs, model, view, imported.node_layers, s, feed, profile_runs,
                   progress, siblings=imported.siblings)


def measure_file_latency(path: str | Path, *, threads: int | None = None,
                         runs: int = DEFAULT_RUNS, warmup: int = DEFAULT_WARMUP,
                         min_time: float = DEFAULT_MIN_TIME, opt_level: str = "all",
                         dims: Mapping[str, int] | None = None, resolution: int | None = None,
                         progress: Progress | None = None) -> LatencyReport:
    """End-to-end latency of the ONNX file ``path`` only (a budget's latency limit on an
    ONNX model): no profile, no machine ceiling."""
    from ..onnxio.importer.source import load_source
    from ..onnxio.load import load_model

    proto = load_model(path)
    bound = load_source(proto, dims=dims, resolution=resolution, name=str(path)).symbolic
    s = _settings(proto, _batch(path, proto, None), threads=threads, runs=runs, warmup=warmup,
                  min_time=min_time, opt_level=opt_level)
    _, _, stats, env, interrupted = _run(proto, s, path, bound, progress)
    return LatencyReport(stats, s.threads, env, interrupted)


def measure_each_resolution(path: str | Path, resolutions: list[int], *,
                            dims: Mapping[str, int] | None = None,
                            progress: Progress | None = None, **options: Any
                            ) -> tuple[list[Any], int, bool]:
    """The file's end-to-end latency at each resolution in turn (``sweep MODEL.onnx
    --bench``): (the LatencyStats measured, the threads used, whether Ctrl-C stopped it).
    A point stopped part-way is dropped, never reported as if complete."""
    out: list[Any] = []
    used = 0
    for i, res in enumerate(resolutions):
        if progress:
            progress(f"timing {Path(path).name} at resolution {res}", i, len(resolutions))
        try:
            r = measure_file_latency(path, dims=dims, resolution=res, **options)
        except (BenchInterrupted, KeyboardInterrupt):
            return out, used, True
        if r.interrupted:
            return out, used, True
        out.append(r.latency_ms)
        used = r.threads
    return out, used, False


__all__ = ["bench_onnx_file", "measure_each_resolution", "measure_file_latency"]
