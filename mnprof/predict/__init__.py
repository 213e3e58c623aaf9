"""Stage 7, predict: latency without running the model, from kernel models calibrated
on a CPU.

- ``ops``, ``fusion``, ``kernels``: the kernels onnxruntime runs for a built graph
  (its fusions and NCHWc layout, emulated; checked against onnxruntime in tests);
- ``features``, ``model``: kernels as numbers, and the per-type timing model
  (gradient-boosted oblivious trees in numpy);
- ``synth``, ``measure``, ``probe``, ``fitting``, ``calibrate``: calibration:
  random family-like networks profiled in context, adaptive sampling, fitting;
- ``device``: the versioned device profile (JSON, in the user cache);
- ``estimate``, ``predictor``, ``grid``: predictions for a graph and for a grid;
- ``validate``: predictions against measurement; ``report``: what is printed.

Importing this package imports nothing heavy; numpy and onnxruntime are imported
inside the functions that need them.
"""
