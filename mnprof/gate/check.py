"""Running a budget: every limit of every model against the model's real figures.

``check_budget(budget)`` first reads every model's spec, builds its graph and reads
its baselines, so a bad file fails before any measuring, with a one-line error
(exit 2): a gate that could not run never looks like a pass or a budget failure.
Counts come from ``mnprof.cost`` and are exact; latencies come from
``mnprof.bench.measure.measure_latency``, imported only when a budget has a latency
limit; predicted latencies from a device profile (``mnprof.predict``), which runs
nothing. A failure inside the check (a spec that does not build, onnxruntime refusing
the model) is a one-line error naming the budget's file, line and field.

A limit holds when ``actual <= threshold``. For counts the threshold is the limit
itself; a latency limit adds its tolerance (``max * (1 + tolerance)``) because a
measured median moves between runs. A relative limit (``max_increase``) is first
resolved against its baseline: ``floor(baseline * (1 + pct/100))`` for counts
(exact, with fractions), ``baseline + amount`` for an absolute increase.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis.cost import analyze
from ..core.contracts import CHECK_SCHEMA  # noqa: F401  (re-exported for readers)
from ..core.errors import MnprofError, SpecError
from ..core.progress import Progress
from ..model.graph import Graph
from ..spec.build import build
from ..spec.builtins import load_spec
from .amounts import Unit
from .baseline import BaselineValue, baseline_for, read_report
from .budget import METRICS, Budget, Limit, ModelBudget, Rule, load_budget
from .settings import COMMAND_LINE, BenchSettings, PredictSettings

if TYPE_CHECKING:
    from ..bench.result import LatencyStats


@dataclass(frozen=True)
class Measurement:
    """One latency measurement: how it was taken, and the bench's statistics (ms)."""

    settings: BenchSettings
    stats: LatencyStats             # runs actually made, median, p10, p90, stdev


@dataclass(frozen=True)
class Prediction:
    """One predicted latency: the settings, the device profile it came from."""

    settings: PredictSettings
    median_ms: float
    device: str                     # the profile's device, described
    profile: str                    # the profile file


@dataclass(frozen=True)
class CheckResult:
    model: str
    spec: str
    alpha: float
    resolution: int
    metric: str
    rule: Rule
    text: str                       # the limit as written: "80M", "1%"
    limit: int | float              # in the metric's unit, relative limits resolved
    threshold: int | float          # what ``actual`` must not exceed (limit + tolerance)
    actual: int | float
    passed: bool
    baseline: BaselineValue | None = None
    tolerance: float | None = None  # a fraction: 0.05 is 5%
    measurement: Measurement | None = None
    line: int | None = None
    field: str = ""
    # Wall time of the work that produced ``actual``, for JUnit's ``time``: work shared by
    # several limits (a model's cost, one latency measurement) counts in the first.
    seconds: float = dataclasses.field(default=0.0, compare=False)
    prediction: Prediction | None = None

    @property
    def predicted(self) -> bool:
        return METRICS[self.metric].predicted

    @property
    def unit(self) -> str:
        return METRICS[self.metric].label

    @property
    def headroom(self) -> int | float:
        """How far below the limit the model is (negative: over it)."""
        return self.limit - self.actual

    @property
    def headroom_pct(self) -> float | None:
        return 100.0 * self.headroom / self.limit if self.limit else None

    @property
    def change_pct(self) -> float | None:
        """Change against the baseline, in percent (relative limits only)."""
        if self.baseline is None or not self.baseline.value:
            return None
        return 100.0 * (self.actual - self.baseline.value) / self.baseline.value


@dataclass(frozen=True)
class CheckReport:
    budget: str                     # the budget file, or "<command line>"
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def n_failed(self) -> int:
        return len(self.failed)

    @property
    def n_passed(self) -> int:
        return len(self.results) - self.n_failed


def check_budget(budget: Budget | str | Path | None = None, *,
                 progress: Progress | None = None) -> CheckReport:
    """Check every limit of ``budget`` (a Budget, or a budget file's path)."""
    if not isinstance(budget, Budget):
        budget = load_budget(budget)
    prepared = [_prepare(budget, m) for m in budget.models]
    first: dict[str, ModelBudget] = {}
    for p in prepared:          # names given, and the default <spec>-<alpha>-<resolution>
        if p.label in first:
            was = first[p.label].where
            raise p.model.where.error(f"model name {p.label!r} is used twice (first: "
                                      f"{was.path}, line {was.line}); give each model its "
                                      "own `name:`", "name")
        first[p.label] = p.model
    results: list[CheckResult] = []
    for p in prepared:
        results += _check_model(p, progress)
    return CheckReport(budget=budget.file, results=tuple(results))


# ---------------------------------------------------------------------------
# Preparing a model: everything that can fail on bad input, before any work


@dataclass(frozen=True)
class _Prepared:
    model: ModelBudget
    label: str
    graph: Graph
    baselines: Mapping[int, BaselineValue]      # index of a relative limit -> its baseline
    seconds: float = 0.0                        # reading and building it


def _prepare(budget: Budget, model: ModelBudget) -> _Prepared:
    start = time.perf_counter()
    where = f"{budget.file}:{model.where.line}" if model.where.line else budget.file
    try:
        if model.onnx:
            from ..onnxio.importer import import_model
            graph = import_model(model.spec, dims=dict(model.dims),
                                 resolution=model.resolution).graph
            label = model.name or f"{graph.model}-{graph.resolution}"
        else:
            spec = load_spec(model.spec)
            graph = build(spec, model.alpha, model.resolution, depth=model.depth)
            label = model.name or f"{spec.name}-{graph.alpha:g}-{graph.resolution}"
    except MnprofError as exc:
        if budget.file == COMMAND_LINE:
            raise
        what = "ONNX model" if model.onnx else "spec"
        raise MnprofError(f"{exc} (the {what} of {model.where.path}, {where})") from None
    reports = [read_report(path, model, graph) for path in model.baselines]
    baselines = {}
    for i, limit in enumerate(model.limits):
        if limit.rule is Rule.MAX_INCREASE:
            baselines[i] = baseline_for(limit, reports, model)
    return _Prepared(model, label, graph, baselines, time.perf_counter() - start)


# ---------------------------------------------------------------------------
# Checking a prepared model


def _check_model(p: _Prepared, progress: Progress | None) -> list[CheckResult]:
    needs_cost = any(lim.bench is None and lim.predict is None for lim in p.model.limits)
    start = time.perf_counter()
    cost = analyze(p.graph) if needs_cost else None
    unclaimed = p.seconds + time.perf_counter() - start     # the first limit's time
    measured: dict[BenchSettings, Measurement] = {}
    predicted: dict[PredictSettings, Prediction] = {}
    results = []
    for i, limit in enumerate(p.model.limits):
        metric = METRICS[limit.metric]
        measurement = prediction = None
        start = time.perf_counter()
        if limit.predict is not None:       # predicted: from a device profile, nothing runs
            if limit.predict not in predicted:
                predicted[limit.predict] = _predict_located(p, limit)
            prediction = predicted[limit.predict]
            value = prediction.median_ms
        elif limit.bench is None:           # a count: from the cost report
            value = metric.read(cost)
        else:                               # a latency: limits with equal settings share one
            if limit.bench not in measured:
                if progress:
                    b = limit.bench
                    progress(f"measuring the {b.precision} latency of {p.label}: {b.threads} "
                             f"thread"
                             f"{'s' if b.threads != 1 else ''}, at least {b.runs} runs "
                             f"and {b.min_time:g} s", 0, 0)
                measured[limit.bench] = _measure_located(p, limit)
            measurement = measured[limit.bench]
            value = metric.read(measurement.stats)
        result = evaluate(limit, value, p.baselines.get(i), measurement=measurement,
                          model=p.label, spec=p.model.spec, alpha=p.graph.alpha,
                          resolution=p.graph.resolution, prediction=prediction)
        seconds, unclaimed = unclaimed + time.perf_counter() - start, 0.0
        results.append(replace(result, seconds=seconds))
    return results


def _predict_located(p: _Prepared, limit: Limit) -> Prediction:
    """The predicted latency of the model; a missing or bad device profile is a one-line
    error naming the budget's file, line and field of the limit (exit 2)."""
    from ..predict.device import resolve_profile
    from ..predict.predictor import predict_graph

    settings = limit.predict
    assert settings is not None
    try:
        profile, here = resolve_profile(settings.threads, settings.device)
        median = predict_graph(p.graph, profile, here=here).median_ms
    except MnprofError as exc:
        if p.model.where.file == COMMAND_LINE:
            raise
        raise SpecError(f"the latency could not be predicted: {exc}", file=p.model.where.file,
                        line=limit.line, field=limit.field) from None
    return Prediction(settings, median, profile.device.describe(), profile.path)


def _measure_located(p: _Prepared, limit: Limit) -> Measurement:
    """``measure`` whose failures name the budget's file, line and field of the limit."""
    assert limit.bench is not None
    try:
        if p.model.onnx:
            return measure_file(p.model, limit.bench)
        return measure(p.graph, limit.bench)
    except SpecError:
        raise
    except Exception as exc:  # noqa: BLE001  whatever went wrong, say where: exit 2
        if isinstance(exc, MnprofError) and exc.exit_code != 2:
            raise
        what = str(exc) if isinstance(exc, MnprofError) else f"{type(exc).__name__}: {exc}"
        raise SpecError(f"the latency could not be measured: {what}",
                        file=p.model.where.file, line=limit.line, field=limit.field) from None


def evaluate(limit: Limit, actual: int | float, baseline: BaselineValue | None, *,
             measurement: Measurement | None = None, model: str = "", spec: str = "",
             alpha: float = 1.0, resolution: int = 0,
             prediction: Prediction | None = None) -> CheckResult:
    """One limit against one actual value (a pure function)."""
    if limit.rule is Rule.MAX:
        lim: int | float = limit.amount     # parsed: an int for counts, a float for ms
    else:
        if baseline is None:
            raise ValueError("a relative limit needs its baseline")
        if limit.percent:
            value = Fraction(baseline.value) * (100 + Fraction(limit.amount)) / 100
        else:
            value = Fraction(baseline.value) + Fraction(limit.amount)
        # counts are integers, so "<= x" and "<= floor(x)" agree: keep the limit exact
        lim = float(value) if METRICS[limit.metric].unit is Unit.MS else math.floor(value)
    tolerance = float(limit.tolerance) if limit.tolerance is not None else None
    threshold = lim * (1 + tolerance) if tolerance is not None else lim
    return CheckResult(model=model, spec=spec, alpha=alpha, resolution=resolution,
                       metric=limit.metric, rule=limit.rule, text=limit.text, limit=lim,
                       threshold=threshold, actual=actual, passed=actual <= threshold,
                       baseline=baseline, tolerance=tolerance, measurement=measurement,
                       line=limit.line, field=limit.field, prediction=prediction)


# ---------------------------------------------------------------------------
# Latency, through the bench (imported only here)


def measure_file(model: ModelBudget, settings: BenchSettings) -> Measurement:
    """The latency of a budget's ONNX model: the file itself, timed end to end."""
    try:
        import onnxruntime  # noqa: F401

        from ..bench.onnxfile import measure_file_latency
        from ..bench.result import BenchInterrupted
    except ImportError as exc:
        raise MnprofError(f"latency limits need onnx and onnxruntime, which cannot be "
                          f"loaded ({exc})") from None
    report = measure_file_latency(model.spec, threads=settings.threads, runs=settings.runs,
                                  warmup=settings.warmup, min_time=settings.min_time,
                                  dims=dict(model.dims), resolution=model.resolution)
    if report.interrupted:
        raise BenchInterrupted(report)
    return Measurement(settings, report.latency_ms)


def measure(graph: Graph, settings: BenchSettings) -> Measurement:
    """The latency of ``graph`` from ``mnprof.bench.measure.measure_latency``."""
    try:     # loaded only when a budget has a latency limit
        import onnxruntime  # noqa: F401  (the bench needs it; say so if it cannot load)

        from ..bench.measure import measure_latency
        from ..bench.result import BenchInterrupted
    except ImportError as exc:
        raise MnprofError(f"latency limits need onnx and onnxruntime, which cannot be "
                          f"loaded ({exc})") from None
    report = measure_latency(graph, threads=settings.threads, runs=settings.runs,
                             warmup=settings.warmup, min_time=settings.min_time,
                             **({"precision": settings.precision}
                                if settings.precision != "fp32" else {}))
    if report.interrupted:      # Ctrl-C after some runs: a part of a measurement is no verdict
        raise BenchInterrupted(report)
    return Measurement(settings, report.latency_ms)
