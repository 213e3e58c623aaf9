"""Which page and which main chart each report kind has: one entry per kind.

A report kind (the class name of the report) maps to the module of ``mnprof.viz``
that draws it. That module has ``page(report) -> Page`` (the ``--format html``
document) and ``main_figure(report) -> Figure`` (what ``--plot`` writes), and is
imported only when such a report is drawn. Adding a report kind is one entry here
and one module.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..core.errors import MnprofError
from .page import Page

PAGES = {
    "CostReport": "cost_page",
    "BenchReport": "bench_page",
    "SweepReport": "sweep_page",
    "CompareReport": "compare_page",
    "CheckReport": "check_page",
    "PredictReport": "predict_page",
    "ValidationReport": "validation_page",
}


def _module(report: Any) -> Any:
    kind = type(report).__name__
    if kind not in PAGES:
        raise MnprofError(f"no HTML page or chart for a {kind.removesuffix('Report').lower()} "
                          "report")
    return importlib.import_module(f"{__package__}.{PAGES[kind]}")


def page_of(report: Any) -> Page:
    return _module(report).page(report)


def main_figure(report: Any) -> Any:
    return _module(report).main_figure(report)
