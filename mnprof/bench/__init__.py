"""Stage 6, bench: onnxruntime latency on this CPU, per layer and per type, against theory.

- ``settings``: defaults and bounds of a measurement (no heavy imports: budgets read it);
- ``machine``: this CPU, and its ceilings (peak GMAC/s, bandwidth per cache level);
- ``runner``: onnxruntime sessions and the timing loop (the only module that runs a model);
- ``profile``: onnxruntime's profile read back onto the graph's layers;
- ``attribute``: measured time joined with theory, per layer and per type;
- ``measure``: the bench itself (``bench_graph``, ``bench_onnx``, ``measure_latency``);
- ``result`` and ``report``: what a bench measured, as data and as text;
- int8: ``int8`` (the quantized model, its theory and roofs), ``qmap`` (its profile
  mapped to layers by name), ``int8peak`` (the integer GEMM roof), ``fidelity``
  (outputs against fp32), ``int8_report``; ``precision`` and ``precision_report``:
  fp32 against int8 in one report.

Importing this package imports nothing heavy; onnx and onnxruntime are imported
inside the functions that run a model. The library API is ``mnprof.benchmark``.
"""
