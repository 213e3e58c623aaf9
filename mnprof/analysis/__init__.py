"""Stage 4, analysis: exact cost of a built graph, and the cost, sweep and specs reports.

``cost`` (the engine: integers per layer, per type and in total, peak memory) and
``report`` (the versioned JSON documents and the tables). Pure Python: no onnx,
onnxruntime or numpy.
"""
