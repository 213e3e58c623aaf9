"""The library API: each function is what one CLI command calls."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cost import CostReport, analyze
from .graph import build
from .report import SpecSummary, SweepRow
from .spec import Spec, builtin_names, load_spec

if TYPE_CHECKING:
    from .bench.result import BenchReport
    from .budget import Budget
    from .check import CheckReport, Progress
    from .export import ExportSummary


def _as_spec(spec: Spec | str | Path | None) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)


def cost(spec: Spec | str | Path | None = None, alpha: float = 1.0,
         resolution: int | None = None) -> CostReport:
    """Exact cost of ``spec`` (a Spec, a path or a built-in name) at alpha and resolution."""
    return analyze(build(_as_spec(spec), alpha, resolution))


def sweep(spec: Spec | str | Path | None, alphas: Iterable[float],
          resolutions: Iterable[int]) -> list[SweepRow]:
    """Totals for every (alpha, resolution) pair, alpha-major."""
    s = _as_spec(spec)
    rows = []
    res_list = list(resolutions)
    for a in alphas:
        for res in res_list:
            r = analyze(build(s, a, res))
            rows.append(SweepRow(r.alpha, r.resolution, r.totals, r.peak_activation_bytes))
    return rows


def builtin_summaries() -> list[SpecSummary]:
    """Each built-in spec with its totals at alpha 1 and its own resolution."""
    out = []
    for name in builtin_names():
        s = load_spec(name)
        r = cost(s)
        out.append(SpecSummary(s.name, s.description, r.resolution, r.totals))
    return out


def export_onnx(spec: Spec | str | Path | None, output: str | Path, *, alpha: float = 1.0,
                resolution: int | None = None, **options: Any) -> ExportSummary:
    """Write the ONNX model of ``spec`` to ``output`` (options: opset, seed, fold_bn, batch).

    See ``mnprof.export`` (onnx is imported only here).
    """
    from .export import export_onnx as run
    return run(_as_spec(spec), output, alpha=alpha, resolution=resolution, **options)


def bench(spec: Spec | str | Path | None = None, alpha: float = 1.0,
          resolution: int | None = None, **options: Any) -> BenchReport:
    """Time ``spec`` with onnxruntime on this CPU, end to end and per layer.

    Options are those of ``mnprof.bench.bench_graph`` (threads, runs, warmup,
    min_time, opt_level, batch, ...); onnxruntime is imported only here.
    """
    from .bench import bench_graph
    s = _as_spec(spec)
    return bench_graph(build(s, alpha, resolution), spec=s.file, **options)


def check_budget(budget: Budget | str | Path | None = None, *,
                 progress: Progress | None = None) -> CheckReport:
    """Check a budget (a ``Budget`` or a budget file's path; default ./mnprof-budget.yaml).

    Returns a ``mnprof.check.CheckReport``; see ``mnprof.check`` (imported only here).
    """
    from .check import check_budget as run
    return run(budget, progress=progress)


__all__ = ["analyze", "bench", "build", "builtin_summaries", "check_budget", "cost",
           "export_onnx", "load_spec", "sweep"]
