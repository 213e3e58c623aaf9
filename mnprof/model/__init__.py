"""Stage 2, model: what a network is, independent of how it was described.

The built graph (``Node``, ``Graph``, shapes), width rounding, typed fields, the
activation registry and the layer-kind registry (``mnprof.model.kinds``), and the
``Emitter`` protocol through which kinds write themselves to ONNX. A graph comes
from a YAML spec (``mnprof.spec``) or from an ONNX file (``mnprof.onnxio``); the
stages after this one see only the graph.
"""
