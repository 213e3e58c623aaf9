"""Running a budget: every limit of every model against the model's real figures.

``check_budget(budget)`` first reads every model's spec, builds its graph and reads
its baselines, so a bad file fails before any measuring, with a one-line error
(exit 2): a gate that could not run never looks like a pass or a budget failure.
Counts come from ``mnprof.cost`` and are exact; latencies come from
``mnprof.bench.measure_latency``, imported only when a budget has a latency limit.

A limit holds when ``actual <= threshold``. For counts the threshold is the limit
itself; a latency limit adds its tolerance (``max * (1 + tolerance)``) because a
measured median moves between runs. A relative limit (``max_increase``) is first
resolved against its baseline: ``floor(baseline * (1 + pct/100))`` for counts
(exact, with fractions), ``baseline + amount`` for an absolute increase.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .budget import (
    COMMAND_LINE,
    METRICS,
    BenchSettings,
    Budget,
    Limit,
    ModelBudget,
    Rule,
    Unit,
    load_budget,
)
from .cost import analyze
from .errors import MnprofError, SpecError
from .graph import Graph, build
from .report import BENCH_SCHEMA, COST_SCHEMA, SWEEP_SCHEMA
from .spec import load_spec
from .yamlsrc import read_text

if TYPE_CHECKING:
    from .bench.result import LatencyStats

MAX_REPORT_BYTES = 64 << 20     # a saved report's cap (a spec's is 1 MiB)
CHECK_SCHEMA = "mnprof.check/1"


@dataclass(frozen=True)
class Measurement:
    """One latency measurement: how it was taken, and the bench's statistics (ms)."""

    settings: BenchSettings
    stats: LatencyStats             # runs actually made, median, p10, p90, stdev


@dataclass(frozen=True)
class BaselineValue:
    file: str
    value: int | float


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


Progress = Callable[[str], None]


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


def _prepare(budget: Budget, model: ModelBudget) -> _Prepared:
    where = f"{budget.file}:{model.where.line}" if model.where.line else budget.file
    try:
        spec = load_spec(model.spec)
        graph = build(spec, model.alpha, model.resolution)
    except MnprofError as exc:
        if budget.file == COMMAND_LINE:
            raise
        raise MnprofError(f"{exc} (the spec of {model.where.path}, {where})") from None
    label = model.name or f"{spec.name}-{model.alpha:g}-{graph.resolution}"
    reports = [_read_report(path, model, graph) for path in model.baselines]
    baselines = {}
    for i, limit in enumerate(model.limits):
        if limit.rule is Rule.MAX_INCREASE:
            baselines[i] = _baseline_for(limit, reports, model)
    return _Prepared(model, label, graph, baselines)


@dataclass(frozen=True)
class _Report:
    file: str
    values: Mapping[str, int | float]           # metric -> value
    threads: int | None                         # a bench report's thread count


def _baseline_for(limit: Limit, reports: list[_Report], model: ModelBudget) -> BaselineValue:
    for r in reports:
        if limit.metric in r.values:
            if limit.bench and r.threads is not None and r.threads != limit.bench.threads:
                raise SpecError(f"{r.file} was measured with {r.threads} threads; this limit "
                                f"runs with {limit.bench.threads}", file=model.where.file,
                                line=limit.line, field=limit.field)
            return BaselineValue(r.file, r.values[limit.metric])
    m = METRICS[limit.metric]
    saved_by = "mnprof bench" if m.unit is Unit.MS else "mnprof cost"
    raise SpecError(f"no baseline report of this model gives {m.baseline_key} (save one with "
                    f"{saved_by} --format json --output FILE)", file=model.where.file,
                    line=limit.line, field=limit.field)


def _read_report(path: str, model: ModelBudget, graph: Graph) -> _Report:
    def bad(message: str) -> SpecError:
        return model.where.error(f"{path}: {message}", "baseline")

    try:
        data = json.loads(read_text(path, what="baseline", max_bytes=MAX_REPORT_BYTES),
                          parse_constant=_no_constant)
    except SpecError as exc:
        raise bad(exc.message) from None
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), str):
        raise bad("not an mnprof report (no `schema` field); save one with mnprof cost "
                  "--format json --output FILE")
    schema = data["schema"]
    values: dict[str, int | float] = {}
    if schema == SWEEP_SCHEMA:
        rows = data.get("rows")
        row = next((r for r in rows if isinstance(r, dict) and r.get("alpha") == graph.alpha
                    and r.get("resolution") == graph.resolution), None) \
            if isinstance(rows, list) else None
        if row is None:
            raise bad(f"the sweep has no row for alpha {graph.alpha:g}, resolution "
                      f"{graph.resolution}")
        for m in METRICS.values():
            if m.unit is not Unit.MS and m.name in row:
                values[m.name] = _count(row[m.name], f"rows[].{m.name}", bad)
        return _Report(path, values, None)
    if schema not in (COST_SCHEMA, BENCH_SCHEMA):
        raise bad(f"unsupported report schema {schema!r}; a baseline is a {COST_SCHEMA}, "
                  f"{SWEEP_SCHEMA} or {BENCH_SCHEMA} report")
    alpha, res = data.get("alpha"), data.get("resolution")
    if alpha != graph.alpha or res != graph.resolution:
        raise bad(f"is a report at alpha {alpha}, resolution {res}; this model is at alpha "
                  f"{graph.alpha:g}, resolution {graph.resolution}")
    section = "totals" if schema == COST_SCHEMA else "latency_ms"
    figures = data.get(section)
    if not isinstance(figures, dict):
        raise bad(f"has no `{section}` object")
    for m in METRICS.values():
        top, _, key = m.baseline_key.partition(".")
        if top == section and key in figures:
            read = _ms if m.unit is Unit.MS else _count
            values[m.name] = read(figures[key], m.baseline_key, bad)
    threads = None
    if schema == BENCH_SCHEMA:
        env = data.get("environment")
        got = env.get("threads") if isinstance(env, dict) else None
        threads = got if isinstance(got, int) and not isinstance(got, bool) else None
    return _Report(path, values, threads)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a report may hold")


def _count(value: Any, key: str, bad: Callable[[str], SpecError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def _ms(value: Any, key: str, bad: Callable[[str], SpecError]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise bad(f"{key} must be a number of milliseconds > 0, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------
# Checking a prepared model


def _check_model(p: _Prepared, progress: Progress | None) -> list[CheckResult]:
    needs_cost = any(lim.bench is None for lim in p.model.limits)
    cost = analyze(p.graph) if needs_cost else None
    measured: dict[BenchSettings, Measurement] = {}
    results = []
    for i, limit in enumerate(p.model.limits):
        metric = METRICS[limit.metric]
        measurement = None
        if limit.bench is None:             # a count: from the cost report
            value = metric.read(cost)
        else:                               # a latency: limits with equal settings share one
            if limit.bench not in measured:
                if progress:
                    b = limit.bench
                    progress(f"measuring the latency of {p.label}: {b.threads} thread"
                             f"{'s' if b.threads != 1 else ''}, at least {b.runs} runs "
                             f"and {b.min_time:g} s")
                measured[limit.bench] = measure(p.graph, limit.bench)
            measurement = measured[limit.bench]
            value = metric.read(measurement.stats)
        results.append(evaluate(limit, value, p.baselines.get(i), measurement=measurement,
                                model=p.label, spec=p.model.spec, alpha=p.graph.alpha,
                                resolution=p.graph.resolution))
    return results


def evaluate(limit: Limit, actual: int | float, baseline: BaselineValue | None, *,
             measurement: Measurement | None = None, model: str = "", spec: str = "",
             alpha: float = 1.0, resolution: int = 0) -> CheckResult:
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
                       line=limit.line, field=limit.field)


# ---------------------------------------------------------------------------
# Latency, through the bench (imported only here)


def measure(graph: Graph, settings: BenchSettings) -> Measurement:
    """The latency of ``graph`` from ``mnprof.bench.measure_latency``."""
    from . import bench  # loaded only when a budget has a latency limit

    try:
        report = bench.measure_latency(graph, threads=settings.threads, runs=settings.runs,
                                       warmup=settings.warmup, min_time=settings.min_time)
    except ImportError as exc:
        raise MnprofError(f"latency limits need onnx and onnxruntime, which cannot be "
                          f"loaded ({exc})") from None
    if report.interrupted:      # Ctrl-C after some runs: a part of a measurement is no verdict
        raise bench.BenchInterrupted(report)
    return Measurement(settings, report.latency_ms)
