"""mnprof: exact cost and measured latency of MobileNet-family networks.

The library API (the CLI only wraps it; see ``mnprof.api``):

- ``load_spec(spec)``: read and validate a YAML spec (a path or a built-in name);
- ``build(spec, alpha, resolution, depth=)``: the concrete layer graph;
- ``analyze(graph)``: exact per-layer, per-type and total cost;
- ``cost(spec, alpha, resolution)``: the three above in one call;
- ``load_model(path, dims=, resolution=)``: the layer graph of an ONNX file (``cost``,
  ``sweep``, ``benchmark`` and budgets take a path ending in .onnx too);
- ``sweep(spec, alphas, resolutions)``: totals over a grid (``bench=`` times each point);
- ``compare([spec, (spec, {alpha, resolution}), ...])``: models side by side;
- ``export_onnx(spec, output, alpha=, resolution=)``: write the ONNX model;
- ``benchmark(spec, alpha, resolution)``: onnxruntime latency, end to end and per layer
  (``precision="int8"``: the model quantized by onnxruntime);
- ``compare_precision(spec, alpha, resolution)``: fp32 against int8, per layer and type;
- ``check_budget(budget)``: every limit of a budget file, as a ``CheckReport``;
- ``calibrate()``: this CPU's kernel models, saved as a device profile;
- ``predict_latency(spec, alpha, resolution)``: latency predicted from the profile,
  end to end and per layer (``sweep(..., predict={})`` for a grid);
- ``validate_predictions(n)``: predictions against measurement on random variants;
- ``check_drift()``: how far this machine's speed drifted since its calibration;
- ``render(report, fmt)``: any report as table, json, csv, markdown, junit or html.

onnx, onnxruntime and numpy are imported only by the paths that need them.
"""

from __future__ import annotations

from .api import (
    analyze,
    benchmark,
    build,
    builtin_names,
    builtin_summaries,
    calibrate,
    check_drift,
    compare,
    compare_precision,
    cost,
    export_onnx,
    load_model,
    load_spec,
    measure_latency,
    predict_latency,
    sweep,
    validate_predictions,
)
from .budgets import check_budget
from .core.version import __version__
from .output import render

__all__ = ["__version__", "analyze", "benchmark", "build", "builtin_names",
           "builtin_summaries", "calibrate", "check_budget", "check_drift", "compare",
           "compare_precision", "cost", "export_onnx", "load_model", "load_spec",
           "measure_latency", "predict_latency", "render", "sweep", "validate_predictions"]
