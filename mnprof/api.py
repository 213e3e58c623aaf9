"""The library API: each function is what one CLI command calls.

No public name here equals a subpackage of mnprof (``mnprof.bench`` is the package,
``mnprof.benchmark`` the function), so importing a subpackage can never shadow a
function or the other way round. onnx, onnxruntime and numpy are imported only
inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.compare import CompareReport, CompareRow
from .analysis.cost import CostReport, analyze
from .analysis.report import SpecsReport, SpecSummary, SweepReport, SweepRow
from .core.errors import MnprofError
from .core.progress import Progress
from .model.graph import Graph
from .spec.build import build
from .spec.builtins import builtin_names, load_spec
from .spec.document import Spec

if TYPE_CHECKING:
    from .bench.result import BenchReport, LatencyReport
    from .gate.budget import Budget
    from .gate.check import CheckReport
    from .onnxio.export import ExportSummary
    from .predict.predictor import PredictReport
    from .predict.summary import CalibrationReport
    from .predict.validate import ValidationReport

SpecLike = Spec | str | Path | None


def _as_spec(spec: SpecLike) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)


def cost(spec: SpecLike = None, alpha: float | None = None, resolution: int | None = None, *,
         depth: float | None = None, classes: int | None = None) -> CostReport:
    """Exact cost of ``spec`` (a Spec, a path or a built-in name) at alpha, depth and
    resolution (each default: the spec's own)."""
    return analyze(build(_as_spec(spec), alpha, resolution, depth=depth, classes=classes))


def sweep(spec: SpecLike, alphas: Iterable[float], resolutions: Iterable[int], *,
          depth: float | None = None, classes: int | None = None,
          bench: dict[str, Any] | None = None, progress: Progress | None = None,
          predict: dict[str, Any] | None = None) -> SweepReport:
    """Totals for every (alpha, resolution) pair, alpha-major; with ``bench`` (the options
    of ``measure_latency``), each point's measured latency too; with ``predict``
    (``threads``, ``device``: a profile file), each point's predicted latency."""
    s = _as_spec(spec)
    if predict is not None:
        return _predicted_sweep(s, list(alphas), list(resolutions), depth, classes, predict)
    rows, graphs = [], []
    res_list = list(resolutions)
    for a in alphas:
        for res in res_list:
            graph = build(s, a, res, depth=depth, classes=classes)
            r = analyze(graph)
            rows.append(SweepRow(r.alpha, r.resolution, r.totals, r.peak_activation_bytes))
            graphs.append(graph)
    report = SweepReport(s.name, s.file, tuple(rows), depth=s.depth if depth is None else depth)
    if bench is None:
        return report
    return _timed(report, graphs, bench, progress,
                  [f"alpha {r.alpha:g}, resolution {r.resolution}" for r in rows])


def _predicted_sweep(s: Spec, alphas: list[float], resolutions: list[int],
                     depth: float | None, classes: int | None,
                     options: dict[str, Any]) -> SweepReport:
    from .predict.device import resolve_profile
    from .predict.grid import predict_grid

    profile, _ = resolve_profile(options.get("threads"), options.get("device"))
    if not alphas or not resolutions:
        raise MnprofError("a sweep needs at least one alpha and one resolution")
    rows = []
    for a in alphas:
        for res in resolutions:
            r = analyze(build(s, a, res, depth=depth, classes=classes))
            rows.append(SweepRow(r.alpha, r.resolution, r.totals, r.peak_activation_bytes))
    latencies, note = predict_grid(
        lambda a, r: build(s, a, r, depth=depth, classes=classes), alphas, resolutions,
        profile)
    info = {"device": profile.device.describe(), "profile": profile.path,
            "threads": profile.device.threads, "note": note}
    return SweepReport(s.name, s.file, tuple(rows), depth=s.depth if depth is None else depth,
                       latencies=tuple(latencies), latency_threads=profile.device.threads,
                       latency_kind="predicted", prediction=info)


def predict_latency(target: SpecLike | Graph = None, alpha: float | None = None,
                    resolution: int | None = None, *, depth: float | None = None,
                    classes: int | None = None, threads: int | None = None,
                    device: str | Path | None = None) -> PredictReport:
    """Predicted latency of a spec (or a built graph) on this machine at ``threads``
    (its calibrated device profile), or on the device of the profile file ``device``."""
    from .predict.device import resolve_profile
    from .predict.predictor import predict_graph

    profile, here = resolve_profile(threads, None if device is None else str(device))
    if isinstance(target, Graph):
        graph = target
    elif isinstance(target, (str, Path)) and str(target).lower().endswith(".onnx"):
        loader = globals().get("load_model")
        if loader is None:
            raise MnprofError(f"{target}: predicting an ONNX file needs the ONNX importer, "
                              "which this version of mnprof does not have; predict its spec")
        graph = loader(target, resolution=resolution)
    else:
        graph = build(_as_spec(target), alpha, resolution, depth=depth, classes=classes)
    return predict_graph(graph, profile, here=here, spec=graph.file)


def calibrate(*, threads: int | None = None, budget_minutes: float = 10.0,
              restart: bool = False, seed: int = 0, export: str | Path | None = None,
              blocks: Iterable[str] | None = None,
              progress: Progress | None = None) -> CalibrationReport:
    """Calibrate this machine's kernel models at ``threads`` (default: physical cores)
    within ``budget_minutes``; save the device profile in the user cache (and a copy
    to ``export``). Resumes an interrupted calibration unless ``restart``. ``blocks``
    restricts the calibration networks to some block kinds (a quick, partial profile)."""
    from .bench.machine import default_threads
    from .predict.calibrate import run_calibration
    from .predict.device import save_profile, this_device
    from .predict.summary import CalibrationReport
    from .predict.synth import BLOCKS

    chosen = tuple(blocks) if blocks else BLOCKS
    unknown = sorted(set(chosen) - set(BLOCKS))
    if unknown:
        raise MnprofError(f"unknown calibration block kind(s) {', '.join(unknown)}; kinds: "
                          f"{', '.join(BLOCKS)}")
    here = this_device(default_threads() if threads is None else threads)
    profile = run_calibration(here, budget_s=60.0 * budget_minutes, seed=seed,
                              restart=restart, progress=progress, blocks=chosen)
    saved = str(save_profile(profile))
    out = str(save_profile(profile, export)) if export is not None else ""
    return CalibrationReport(profile, saved, out)


def device_profile_io(*, import_from: str | Path | None = None, export_to: str | Path | None = None,
                      threads: int | None = None) -> str:
    """Install a profile file into this machine's cache (it must be of this CPU), or
    copy this machine's profile at ``threads`` to a file; the path written."""
    from .bench.machine import default_threads
    from .predict.device import find_profile, import_profile, save_profile, this_device

    here = this_device(default_threads() if threads is None else threads)
    if import_from is not None:
        return str(import_profile(import_from, here))
    assert export_to is not None
    return str(save_profile(find_profile(here), export_to))


def validate_predictions(n: int, *, threads: int | None = None, device: str | Path | None = None,
                         specs: Iterable[str] | None = None, seed: int = 0,
                         timing: dict[str, Any] | None = None,
                         progress: Progress | None = None) -> ValidationReport:
    """Predict and measure ``n`` random configurations of the built-ins (default: the
    MobileNet family) on this machine; the error distribution."""
    from .predict.device import resolve_profile
    from .predict.validate import validate

    profile, here = resolve_profile(threads, None if device is None else str(device))
    return validate(profile, here, n, specs=list(specs) if specs else None, seed=seed,
                    progress=progress, timing=timing)


def compare(models: Iterable[SpecLike | tuple[SpecLike, dict[str, Any]]], *,
            bench: dict[str, Any] | None = None, progress: Progress | None = None
            ) -> CompareReport:
    """Models side by side (the V1 paper's Tables 8 and 9). Each item is a spec, or a
    (spec, {alpha, resolution, depth, classes}) pair; ratios are to the first."""
    rows, graphs = [], []
    for item in models:
        spec, given = item if isinstance(item, tuple) else (item, {})
        s = _as_spec(spec)
        graph = build(s, given.get("alpha"), given.get("resolution"), depth=given.get("depth"),
                      classes=given.get("classes"))
        rows.append(CompareRow.of(given.get("label") or s.name, analyze(graph)))
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
    stats, threads, interrupted = measure_each(graphs, progress=progress, labels=labels,
                                               **options)
    return replace(report, latencies=tuple(stats), latency_threads=threads,
                   latency_kind="measured", interrupted=interrupted)


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
                fold_bn: bool = False, batch: int | None = 1) -> ExportSummary:
    """Write the ONNX model of ``spec`` to ``output`` atomically (never over the spec's
    own file); return what was written."""
    from .onnxio.export import DEFAULT_OPSET, ExportSummary, export_model, save_model

    s = _as_spec(spec)
    graph = build(s, alpha, resolution, depth=depth, classes=classes)
    opset = DEFAULT_OPSET if opset is None else opset
    model = export_model(graph, opset=opset, seed=seed, fold_bn=fold_bn, batch=batch,
                         check=False)
    size = save_model(model, output, protect=[s.path] if s.path else [])
    return ExportSummary(path=str(output), model=graph.model, alpha=graph.alpha,
                         resolution=graph.resolution, opset=opset,
                         nodes=len(model.graph.node),
                         initializers=len(model.graph.initializer), bytes=size)


def benchmark(target: SpecLike | Graph = None, alpha: float | None = None,
              resolution: int | None = None, *, depth: float | None = None,
              classes: int | None = None, **options: Any) -> BenchReport:
    """Time a spec, a built graph, or an ONNX file (a path ending in .onnx) with
    onnxruntime on this CPU, end to end and per layer.

    Options are those of ``mnprof.bench.measure.bench_graph`` (threads, runs, warmup,
    min_time, per_layer, opt_level, batch, progress, ...).
    """
    from .bench.measure import bench_graph, bench_onnx_file

    if isinstance(target, (str, Path)) and str(target).lower().endswith(".onnx"):
        return bench_onnx_file(target, **options)
    if isinstance(target, Graph):
        return bench_graph(target, spec=target.file, **options)
    graph = build(_as_spec(target), alpha, resolution, depth=depth, classes=classes)
    return bench_graph(graph, spec=graph.file, **options)


def measure_latency(target: SpecLike | Graph = None, alpha: float | None = None,
                    resolution: int | None = None, **options: Any) -> LatencyReport:
    """End-to-end latency only (what latency limits and ``sweep --bench`` use)."""
    from .bench.measure import measure_latency as run

    graph = target if isinstance(target, Graph) else build(_as_spec(target), alpha, resolution)
    return run(graph, **options)


def load_budget(path: str | Path | None = None) -> Budget:
    """Read and validate a budget file (default ./mnprof-budget.yaml)."""
    from .gate.budget import load_budget as run
    return run(path)


def one_off_budget(spec: str | None, alpha: float | None, resolution: int | None,
                   limits: list[tuple[str, dict[str, Any]]],
                   baselines: tuple[str, ...] = (), depth: float | None = None) -> Budget:
    """The budget of ``mnprof check SPEC --max-...``: one model, limits as a file writes
    them, e.g. ``[("macs", {"max": "80M"})]``."""
    from .gate.budget import command_line_budget
    from .spec.builtins import DEFAULT_SPEC
    return command_line_budget(spec or DEFAULT_SPEC, alpha, resolution, limits, baselines,
                               depth=depth)


def is_budget_file(path: str) -> bool:
    """Whether ``path`` reads as a budget (``models:``, no ``layers:``), not a spec."""
    from .core.yamlsrc import load_file
    try:
        data = load_file(path, what="budget")
    except Exception:  # noqa: BLE001  not readable as YAML: loading it as a spec says why
        return False
    return isinstance(data, dict) and "models" in data and "layers" not in data


def budget_inputs(budget: Budget) -> list[str]:
    """Files a check's reports must never overwrite: the budget, its specs and baselines."""
    from .spec.builtins import resolve_spec_path
    files = [] if budget.file.startswith("<") else [budget.file]
    for m in budget.models:
        files += m.baselines
        try:
            files.append(str(resolve_spec_path(m.spec)[0]))
        except MnprofError:
            pass
    return files


def verdict(report: CheckReport) -> str:
    """"PASSED: all 8 limits hold" or "FAILED: 1 of 8 limits exceeded"."""
    from .gate.report import verdict as run
    return run(report)


def check_budget(budget: Budget | str | Path | None = None, *,
                 progress: Progress | None = None) -> CheckReport:
    """Check a budget (a ``Budget`` or a budget file's path; default ./mnprof-budget.yaml)."""
    from .gate.check import check_budget as run
    return run(budget, progress=progress)


__all__ = ["analyze", "benchmark", "budget_inputs", "build", "builtin_names", "calibrate",
           "compare", "builtin_summaries", "check_budget", "cost", "device_profile_io",
           "export_onnx", "is_budget_file", "load_budget", "load_spec", "measure_latency",
           "one_off_budget", "predict_latency", "sweep", "validate_predictions", "verdict"]
