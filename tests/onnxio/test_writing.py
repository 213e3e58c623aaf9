"""Writing an ONNX model without holding several copies of its weights (issue 9, section 4).

`export --alpha 11` peaked at 10.8 GB for a 1.46 GiB file. The writer now builds the
weights straight into the model's graph and drops the model once serialized, before
onnx's checker parses the bytes; the file is byte for byte what it was.
"""

from __future__ import annotations

import mnprof
from mnprof.onnxio.export import export_model, serialize, write_model
from mnprof.spec.build import build


def test_write_model_writes_the_same_bytes_and_counts(tmp_path):
    graph = build(mnprof.load_spec("mobilenet_v3_small"), 0.5, 32)
    reference = export_model(graph, check=False)
    size, nodes, inits = write_model(lambda: export_model(graph, check=False),
                                     tmp_path / "m.onnx")
    data = (tmp_path / "m.onnx").read_bytes()
    assert data == serialize(reference) and size == len(data)
    assert (nodes, inits) == (len(reference.graph.node), len(reference.graph.initializer))
    summary = mnprof.export_onnx("mobilenet_v3_small", tmp_path / "api.onnx", alpha=0.5,
                                 resolution=32)
    assert (tmp_path / "api.onnx").read_bytes() == data
    assert (summary.nodes, summary.initializers, summary.bytes) == (nodes, inits, size)
