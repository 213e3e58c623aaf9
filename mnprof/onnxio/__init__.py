"""Stage 5, onnxio: mnprof's graphs to ONNX and back (named so as not to shadow ``onnx``).

``export`` (a graph to an ONNX model, through ``Kind.emit``), ``weights``
(deterministic synthetic weights), ``load`` (reading ONNX files safely), ``reader``
(an independent MAC and parameter recount of any ONNX model), ``importer`` (any
ONNX model to mnprof's layer graph). onnx is imported only inside functions, so
importing this package costs nothing on the ``mnprof cost`` path.
"""
