"""mnprof: exact cost and measured latency of MobileNet-family networks.

The library API (the CLI only wraps it):

- ``load_spec(spec)``: read and validate a YAML spec (a path or a built-in name);
- ``build(spec, alpha, resolution)``: the concrete layer graph;
- ``analyze(graph)``: exact per-layer, per-type and total cost;
- ``cost(spec, alpha, resolution)``: the three above in one call;
- ``sweep(spec, alphas, resolutions)``: totals over a grid;
- ``check_budget(budget)``: every limit of a budget file, as a ``CheckReport``.

onnx and onnxruntime are imported only by the export and bench paths.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import analyze, build, check_budget, cost, load_spec, sweep  # noqa: E402

__all__ = ["__version__", "analyze", "build", "check_budget", "cost", "load_spec", "sweep"]
