"""mnprof: exact cost and measured latency of MobileNet-family networks.

The library API (the CLI only wraps it):

- ``load_spec(spec)``: read and validate a YAML spec (a path or a built-in name);
- ``build(spec, alpha, resolution)``: the concrete layer graph;
- ``analyze(graph)``: exact per-layer, per-type and total cost;
- ``cost(spec, alpha, resolution)``: the three above in one call;
- ``sweep(spec, alphas, resolutions)``: totals over a grid;
- ``export_onnx(spec, output, alpha=, resolution=)``: write the ONNX model;
- ``bench(spec, alpha, resolution)``: onnxruntime latency, end to end and per layer;
- ``check_budget(budget)``: every limit of a budget file, as a ``CheckReport``.

onnx and onnxruntime are imported only by the export and bench paths.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .api import (  # noqa: E402
    analyze,
    bench,
    build,
    check_budget,
    cost,
    export_onnx,
    load_spec,
    sweep,
)

__all__ = ["__version__", "analyze", "bench", "build", "check_budget", "cost", "export_onnx",
           "load_spec", "sweep"]
