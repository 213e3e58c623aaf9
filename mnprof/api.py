"""The library API: each function is what one CLI command calls.

No public name here equals a subpackage of mnprof (``mnprof.bench`` is the package,
``mnprof.benchmark`` the function), so importing a subpackage can never shadow a
function or the other way round. onnx, onnxruntime and numpy are imported only
inside the functions that need them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.cost import CostReport, analyze
from .analysis.report import SpecsReport, SpecSummary, SweepReport, SweepRow, sweep_row
from .core.errors import MnprofError
from .core.progress import Progress
from .core.values import MAX_SWEEP_POINTS, check_grid
from .model.graph import Graph
from .spec.build import build
from .spec.builtins import builtin_names, load_spec
from .spec.document import Spec

if TYPE_CHECKING:
    from .analysis.compare import CompareReport
    from .bench.precision import PrecisionReport
    from .bench.result import BenchReport, LatencyReport
    from .onnxio.export import ExportSummary
    from .predict.drift import DriftReport
    from .predict.predictor import PredictReport
    from .predict.summary import CalibrationReport
    from .predict.validate import ValidationReport

SpecLike = Spec | str | Path | None
Dims = Mapping[str, int] | None


def _as_spec(spec: SpecLike) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)


def is_onnx_path(target: Any) -> bool:
    """Whether ``target`` names an ONNX file (a path ending in .onnx), not a spec."""
    return isinstance(target, (str, Path)) and str(target).lower().endswith(".onnx")


def _spec_only(target: Any, **given: Any) -> None:
    """An error when an option that changes a spec is given for an ONNX model."""
    for name, value in given.items():
        if value is not None:
            raise MnprofError(f"{name} applies to specs; the ONNX model {target} has its own "
                              f"{'widths' if name == 'alpha' else 'layers'}")


def load_model(path: str | Path, *, dims: Dims = None, resolution: int | None = None
               ) -> Graph:
    """The layer graph of the ONNX file ``path``: the same ``Graph`` a spec builds.

    ``dims`` gives symbolic dimensions values by name (a symbolic batch is 1 unless
    given); ``resolution`` sets symbolic height and width."""
    from .onnxio.importer import import_model
    return import_model(path, dims=dims, resolution=resolution).graph


def cost(spec: SpecLike | Graph = None, alpha: float | None = None,
         resolution: int | None = None, *, depth: float | None = None,
         classes: int | None = None, dims: Dims = None, precision: str = "fp32") -> CostReport:
    """Exact cost of ``spec`` (a Spec, a path or a built-in name) at alpha, depth and
    resolution (each default: the spec's own); of a built ``Graph``; or of an ONNX file
    (a path ending in .onnx, with ``dims`` and ``resolution`` for symbolic dimensions).
    Bytes are counted at ``precision`` (fp32 or int8)."""
    return analyze(_graph_of(spec, alpha, resolution, depth=depth, classes=classes, dims=dims),
                   precision)


def _graph_of(target: SpecLike | Graph, alpha: float | None, resolution: int | None, *,
              depth: float | None, classes: int | None, dims: Dims) -> Graph:
    """The graph of a built graph, an ONNX file or a spec (at alpha, resolution, ...)."""
    if isinstance(target, Graph):
        return target
    if is_onnx_path(target):
        _spec_only(target, alpha=alpha, depth=depth, classes=classes)
        return load_model(target, dims=dims, resolution=resolution)  # type: ignore[arg-type]
    if dims:
        raise MnprofError("dims apply to ONNX models; a spec's input is its resolution")
    return build(_as_spec(target), alpha, resolution, depth=depth, classes=classes)


def _sweep_onnx(path: str | Path, alphas: Iterable[float] | None, resolutions: Iterable[int],
                dims: Dims, bench: dict[str, Any] | None,
                progress: Progress | None) -> SweepReport:
    from .onnxio.importer import import_model
    from .onnxio.load import load_model as read_onnx
    if alphas is not None and set(alphas) - {1}:
        raise MnprofError(f"alpha applies to specs; the ONNX model {path} has its own widths")
    proto = read_onnx(path, external_data=False)
    rows = []
    graph = None
    for res in resolutions:
        graph = import_model(proto, dims=dims, resolution=res, name=str(path)).graph
        r = analyze(graph)
        rows.append(SweepRow(1.0, r.resolution, r.totals, r.peak_activation_bytes))
    report = SweepReport(graph.model if graph else Path(path).stem, str(path), tuple(rows))
    if bench is None:
        return report
    from .bench.onnxfile import measure_each_resolution
    stats, threads, interrupted = measure_each_resolution(
        path, [r.resolution for r in rows], dims=dims, progress=progress, **bench)
    return replace(report, latencies=tuple(stats), latency_threads=threads,
                   latency_kind="measured", interrupted=interrupted)


def _bounded_list(values: Iterable[Any]) -> list[Any]:
    """``values`` as a list, reading no more than a sweep can take (check_grid refuses
    the rest)."""
    return list(itertools.islice(values, MAX_SWEEP_POINTS + 1))


def sweep(spec: SpecLike, alphas: Iterable[float] | None, resolutions: Iterable[int], *,
          depth: float | None = None, classes: int | None = None,
          bench: dict[str, Any] | None = None, progress: Progress | None = None,
          dims: Dims = None, predict: dict[str, Any] | None = None) -> SweepReport:
    """Totals for every (alpha, resolution) pair, alpha-major; with ``bench`` (the options
    of ``measure_latency``), each point's measured latency too; with ``predict``
    (``threads``, ``device``: a profile file), each point's predicted latency instead.
    For an ONNX file, over ``resolutions`` only (its height and width must be symbolic;
    ``dims`` binds the rest)."""
    alphas = None if alphas is None else _bounded_list(alphas)
    resolutions = _bounded_list(resolutions)
    check_grid(1 if alphas is None else len(alphas), len(resolutions))
    if is_onnx_path(spec):
        _spec_only(spec, depth=depth, classes=classes)
        if predict is not None:
            raise MnprofError("a predicted sweep takes a spec; predict an ONNX file with "
                              "predict_latency at each resolution")
        return _sweep_onnx(spec, alphas, resolutions, dims, bench,  # type: ignore[arg-type]
                           progress)
    if alphas is None:
        raise MnprofError("a spec's sweep needs alphas")
    s = _as_spec(spec)
    if predict is not None:
        from .predict.entry import predicted_sweep
        return predicted_sweep(s, alphas, resolutions, depth=depth, classes=classes,
                               threads=predict.get("threads"), device=predict.get("device"))
    if bench is None:
        from .analysis.grid import sweep_rows
        rows = sweep_rows(lambda a, r: build(s, a, r, depth=depth, classes=classes),
                          alphas, resolutions)
        return SweepReport(s.name, s.file, tuple(rows), depth=s.depth if depth is None else depth)
    rows, graphs = [], []
    for a in alphas:
        for res in resolutions:
            graph = build(s, a, res, depth=depth, classes=classes)
            rows.append(sweep_row(analyze(graph)))
            graphs.append(graph)
    report = SweepReport(s.name, s.file, tuple(rows), depth=s.depth if depth is None else depth)
    return _timed(report, graphs, bench, progress,
                  [f"alpha {r.alpha:g}, resolution {r.resolution}" for r in rows])


def predict_latency(target: SpecLike | Graph = None, alpha: float | None = None,
                    resolution: int | None = None, *, depth: float | None = None,
                    classes: int | None = None, threads: int | None = None,
                    device: str | Path | None = None, dims: Dims = None) -> PredictReport:
    """Predicted latency of a spec, a built graph or an ONNX file (a path ending in
    .onnx, with ``dims`` and ``resolution`` for symbolic dimensions) on this machine at
    ``threads`` (its calibrated device profile), or on the device of the profile file
    ``device``."""
    from .predict.device import resolve_profile
    from .predict.predictor import predict_graph

    graph = _graph_of(target, alpha, resolution, depth=depth, classes=classes, dims=dims)
    profile, here = resolve_profile(threads, None if device is None else str(device))
    return predict_graph(graph, profile, here=here, spec=graph.file)


def calibrate(*, threads: int | None = None, budget_minutes: float = 10.0,
              restart: bool = False, seed: int = 0, export: str | Path | None = None,
              blocks: Iterable[str] | None = None,
              progress: Progress | None = None) -> CalibrationReport:
    """Calibrate this machine's kernel models at ``threads`` (default: physical cores)
    within ``budget_minutes``; save the device profile in the user cache (and a copy
    to ``export``). Resumes an interrupted calibration unless ``restart``. ``blocks``
    restricts the calibration networks to some block kinds (a quick, partial profile)."""
    from .predict.entry import calibrate_here
    return calibrate_here(threads=threads, budget_minutes=budget_minutes, restart=restart,
                          seed=seed, export=export, blocks=blocks, progress=progress)


def device_profile_io(*, import_from: str | Path | None = None,
                      export_to: str | Path | None = None, threads: int | None = None) -> str:
    """Install a profile file into this machine's cache (it must be of this CPU), or
    copy this machine's profile at ``threads`` to a file; the path written."""
    from .predict.entry import profile_io
    return profile_io(import_from=import_from, export_to=export_to, threads=threads)


def check_drift(*, threads: int | None = None, progress: Progress | None = None
                ) -> DriftReport:
    """Time the anchor networks on this machine now, against its profile at ``threads``
    (their medians at calibration and their predictions): how far its speed drifted."""
    from .predict.device import resolve_profile
    from .predict.drift import check_drift as run
    profile, here = resolve_profile(threads, None)
    return run(profile, here, progress=progress)


def validate_predictions(n: int, *, threads: int | None = None,
                         device: str | Path | None = None, specs: Iterable[str] | None = None,
                         seed: int = 0, timing: dict[str, Any] | None = None,
                         progress: Progress | None = None, passes: int = 2
                         ) -> ValidationReport:
    """Predict and measure ``n`` random configurations of the built-ins (default: the
    MobileNet family) on this machine, each in ``passes`` passes; the error distribution
    and how often the passes agree."""
    from .predict.device import resolve_profile
    from .predict.validate import validate
    profile, here = resolve_profile(threads, None if device is None else str(device))
    return validate(profile, here, n, specs=list(specs) if specs else None, seed=seed,
                    progress=progress, timing=timing, passes=passes)


def compare(models: Iterable[SpecLike | tuple[SpecLike, dict[str, Any]]], *,
            bench: dict[str, Any] | None = None, progress: Progress | None = None
            ) -> CompareReport:
    """Models side by side (the V1 paper's Tables 8 and 9). Each item is a spec, or a
    (spec, {alpha, resolution, depth, classes}) pair; ratios are to the first. An ONNX
    file (a path ending in .onnx) takes only a resolution (for symbolic H and W)."""
    from .analysis.compare import CompareReport, CompareRow
    rows, graphs = [], []
    for item in models:
        spec, given = item if isinstance(item, tuple) else (item, {})
        if is_onnx_path(spec) and bench is not None:
            raise MnprofError(f"compare --bench times specs; time the ONNX file {spec} with "
                              "mnprof bench")
        graph = _graph_of(spec, given.get("alpha"), given.get("resolution"),
                          depth=given.get("depth"), classes=given.get("classes"), dims=None)
        rows.append(CompareRow.of(given.get("label") or graph.model, analyze(graph)))
        graphs.append(graph)
    if not rows:
        raise MnprofError("compare needs at least one model")
    report = CompareReport(tuple(rows))
    if bench is None:
        return report
    return _timed(report, graphs, bench, progress, [r.label for r in rows])


def _timed(report: Any, graphs: list[Graph], options: dict[str, Any],
           progress: Progress | None, labels: list[str]) -> Any:
    from .bench.measure import measure_each
    m = measure_each(graphs, progress=progress, labels=labels, **options)
    precision = ""
    if options.get("precision", "fp32") != "fp32":
        from .onnxio.quantopts import QuantOptions
        precision = f"int8 ({(options.get('quant') or QuantOptions()).describe()})"
    return replace(report, latencies=tuple(m.stats), latency_threads=m.threads,
                   latency_kind="measured", interrupted=m.interrupted,
                   latency_partial=m.partial, latency_load=m.load,
                   latency_precision=precision)


def builtin_summaries() -> SpecsReport:
    """Each built-in spec with its totals at its own alpha, depth and resolution."""
    out = []
    for name in builtin_names():
        s = load_spec(name)
        r = cost(s)
        out.append(SpecSummary(s.name, s.description, r.resolution, r.totals, r.alpha))
    return SpecsReport(tuple(out))


def export_onnx(spec: SpecLike, output: str | Path, *, alpha: float | None = None,
                resolution: int | None = None, depth: float | None = None,
                classes: int | None = None, opset: int | None = None, seed: int = 0,
                fold_bn: bool = False, batch: int | None = 1, precision: str = "fp32",
                quant: Any = None) -> ExportSummary:
    """Write the ONNX model of ``spec`` to ``output`` atomically (never over the spec's
    own file); return what was written. ``precision="int8"``: the model quantized by
    onnxruntime with ``quant`` (``mnprof.onnxio.quantopts.QuantOptions``)."""
    from .onnxio.export import DEFAULT_OPSET, ExportSummary, export_model, save_model, write_model

    s = _as_spec(spec)
    graph = build(s, alpha, resolution, depth=depth, classes=classes)
    opset = DEFAULT_OPSET if opset is None else opset
    protect = [s.path] if s.path else []
    if precision == "fp32":         # the lean path: the weights held at most twice
        size, nodes, initializers = write_model(
            lambda: export_model(graph, opset=opset, seed=seed, fold_bn=fold_bn, batch=batch,
                                 check=False), output, protect=protect)
        return ExportSummary(path=str(output), model=graph.model, alpha=graph.alpha,
                             resolution=graph.resolution, opset=opset, nodes=nodes,
                             initializers=initializers, bytes=size)
    if precision != "int8":
        raise MnprofError(f"precision must be fp32 or int8, got {precision!r:.40}")
    from .bench.int8 import quantized_export
    model, extra = quantized_export(graph, export_model(graph, opset=opset, seed=seed,
                                                        fold_bn=fold_bn, batch=batch,
                                                        check=False),
                                    opset=opset, seed=seed, batch=batch, quant=quant)
    size = save_model(model, output, protect=protect)
    return ExportSummary(path=str(output), model=graph.model, alpha=graph.alpha,
                         resolution=graph.resolution, opset=opset,
                         nodes=len(model.graph.node),
                         initializers=len(model.graph.initializer), bytes=size,
                         precision=precision, **extra)


def benchmark(target: SpecLike | Graph = None, alpha: float | None = None,
              resolution: int | None = None, *, depth: float | None = None,
              classes: int | None = None, **options: Any) -> BenchReport:
    """Time a spec, a built graph, or an ONNX file (a path ending in .onnx) with
    onnxruntime on this CPU, end to end and per layer.

    Options are those of ``mnprof.bench.measure.bench_graph`` (threads, runs, warmup,
    min_time, per_layer, opt_level, batch, progress, ...).
    """
    from .bench.measure import bench_graph
    from .bench.onnxfile import bench_onnx_file

    if is_onnx_path(target):
        _spec_only(target, alpha=alpha, depth=depth, classes=classes)
        if options.pop("precision", "fp32") != "fp32" or options.pop("quant", None):
            raise MnprofError("--precision int8 applies to specs: an ONNX file is timed as "
                              "it is")
        return bench_onnx_file(target, resolution=resolution, **options)  # type: ignore
    graph = _graph_of(target, alpha, resolution, depth=depth, classes=classes, dims=None)
    return bench_graph(graph, spec=graph.file, **options)


def compare_precision(target: SpecLike | Graph = None, alpha: float | None = None,
                      resolution: int | None = None, *, depth: float | None = None,
                      classes: int | None = None, **options: Any) -> PrecisionReport:
    """fp32 and int8 of one spec in one call: end to end, per layer type and per layer,
    with model size and activation bytes in each precision. Options are those of
    ``benchmark`` (``quant``: the int8 quantization options)."""
    from .bench.precision import compare_precisions

    graph = target if isinstance(target, Graph) else \
        build(_as_spec(target), alpha, resolution, depth=depth, classes=classes)
    return compare_precisions(graph, spec=graph.file, **options)


def measure_latency(target: SpecLike | Graph = None, alpha: float | None = None,
                    resolution: int | None = None, **options: Any) -> LatencyReport:
    """End-to-end latency only (what latency limits and ``sweep --bench`` use); of the
    file itself for an ONNX path (``dims`` may be among the options)."""
    from .bench.measure import measure_latency as run

    if is_onnx_path(target):
        from .bench.onnxfile import measure_file_latency
        _spec_only(target, alpha=alpha)
        return measure_file_latency(target, resolution=resolution, **options)  # type: ignore

    graph = target if isinstance(target, Graph) else build(_as_spec(target), alpha, resolution)
    return run(graph, **options)


def import_spec(path: str | Path, *, dims: Dims = None, resolution: int | None = None
                ) -> str:
    """A flat spec (YAML text) of the ONNX file ``path``: every layer explicit, so that
    ``cost`` of the spec gives the totals and per-type rows of ``cost`` of the file."""
    from .spec.write import graph_to_spec
    return graph_to_spec(load_model(path, dims=dims, resolution=resolution))


__all__ = ["analyze", "benchmark", "build", "builtin_names", "builtin_summaries", "calibrate",
           "check_drift", "compare", "compare_precision", "cost", "device_profile_io",
           "export_onnx", "import_spec", "is_onnx_path", "load_model", "load_spec",
           "measure_latency", "predict_latency", "sweep", "validate_predictions"]
