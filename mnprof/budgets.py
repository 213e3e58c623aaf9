"""The library API of budgets and the gate (``mnprof check``): read a budget, make one
from command-line limits, check it, and say the verdict. Kept apart from
``mnprof.api`` so that each stays a short list of thin entry points."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import Dims, _spec_only, is_onnx_path
from .core.errors import MnprofError
from .core.progress import Progress

if TYPE_CHECKING:
    from .gate.budget import Budget
    from .gate.check import CheckReport


def load_budget(path: str | Path | None = None) -> Budget:
    """Read and validate a budget file (default ./mnprof-budget.yaml)."""
    from .gate.budget import load_budget as run
    return run(path)


def one_off_budget(spec: str | None, alpha: float | None, resolution: int | None,
                   limits: list[tuple[str, dict[str, Any]]],
                   baselines: tuple[str, ...] = (), depth: float | None = None,
                   dims: Dims = None) -> Budget:
    """The budget of ``mnprof check SPEC --max-...``: one model, limits as a file writes
    them, e.g. ``[("macs", {"max": "80M"})]``. SPEC may be an ONNX file (``dims`` and
    ``resolution`` bind its symbolic dimensions)."""
    from .gate.budget import command_line_budget
    from .spec.builtins import DEFAULT_SPEC
    if is_onnx_path(spec):
        _spec_only(spec, alpha=alpha, depth=depth)
    elif dims:
        raise MnprofError("dims apply to ONNX models")
    return command_line_budget(spec or DEFAULT_SPEC, alpha, resolution, limits, baselines,
                               depth=depth, dims=tuple((dims or {}).items()))


def is_budget_file(path: str) -> bool:
    """Whether ``path`` reads as a budget (``models:``, no ``layers:``), not a spec."""
    from .gate.budget import is_budget_file as run
    return run(path)


def budget_inputs(budget: Budget) -> list[str]:
    """Files a check's reports must never overwrite: the budget, its specs and baselines."""
    from .gate.budget import budget_inputs as run
    return run(budget)


def verdict(report: CheckReport) -> str:
    """"PASSED: all 8 limits hold" or "FAILED: 1 of 8 limits exceeded"."""
    from .gate.report import verdict as run
    return run(report)


def check_budget(budget: Budget | str | Path | None = None, *,
                 progress: Progress | None = None) -> CheckReport:
    """Check a budget (a ``Budget`` or a budget file's path; default ./mnprof-budget.yaml)."""
    from .gate.check import check_budget as run
    return run(budget, progress=progress)


__all__ = ["budget_inputs", "check_budget", "is_budget_file", "load_budget", "one_off_budget",
           "verdict"]
