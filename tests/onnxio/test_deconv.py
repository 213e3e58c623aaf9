"""The transposed convolution (``deconv``, ONNX ConvTranspose): shape, MACs, export, import.

MACs are worked out here from the definition (each input element times kh x kw x
C_out / groups weights); the numerics are checked against the independent numpy
definition in tests/oracles/numpy_forward.py; the import against the independent
recount (mnprof.onnxio.reader).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from mnprof import api
from mnprof.analysis.cost import analyze
from mnprof.core.errors import MnprofError
from mnprof.onnxio.export import build_model, save_model
from mnprof.onnxio.reader import count
from mnprof.onnxio.weights import generate_weights
from mnprof.spec.build import build
from mnprof.spec.builtins import load_spec

from ..oracles.numpy_forward import forward
from ..paths import DATA
from .foreign import model, weight

SPEC = str(DATA / "export_deconv.yaml")


def test_shapes_and_macs_by_hand():
    r = api.cost(SPEC)
    rows = {c.name: c for c in r.layers}
    # up: 5x5 -> (5 - 1) * 2 - 2 + 3 + 1 = 10; 25 inputs x 8 channels x 4x4 x 8 outputs
    assert rows["up"].output_shape == (8, 10, 10) and rows["up"].macs == 25 * 8 * 16 * 8
    # grouped: (10 - 1) * 2 - (1 + 2) + 2 * 2 + 1 + 1 = 21 rows, 18 - 1 + 4 + 2 = 23 columns;
    # 2 groups: each input element meets 3x3 x 6/2 weights
    assert rows["grouped"].output_shape == (6, 21, 23)
    assert rows["grouped"].macs == 100 * 8 * 9 * 3 and rows["grouped"].params == 8 * 3 * 9
    assert rows["grouped"].type_key == "gdeconv3x3" and rows["up"].type_key == "deconv4x4"
    # valid, stride 3: (21 - 1) * 3 + 1 + 1 = 62, (23 - 1) * 3 + 2 + 1 = 69
    assert rows["valid"].output_shape == (4, 62, 69)
    assert rows["valid"].macs == 21 * 23 * 6 * 6 * 4


def test_onnxruntime_matches_the_numpy_definition():
    g = build(load_spec(SPEC))
    x = np.random.default_rng(1).standard_normal((2, *g.input_shape)).astype(np.float32)
    ref = forward(g, generate_weights(g, seed=0), x)
    ex = build_model(g, batch=None, expose_layers=True)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(ex.model.SerializeToString(), opts,
                             providers=["CPUExecutionProvider"])
    outs = dict(zip([o.name for o in s.get_outputs()], s.run(None, {"input": x}), strict=True))
    for node in g.nodes:
        want = ref[node.name]
        err = np.abs(outs[ex.layer_outputs[node.name]] - want).max()
        assert err < 1e-4 * max(1.0, np.abs(want).max()), (node.name, err)


def test_export_then_import_and_the_recount(tmp_path):
    g = build(load_spec(SPEC))
    path = tmp_path / "deconv.onnx"
    save_model(build_model(g).model, path)
    got, want = api.cost(str(path)), analyze(g)
    assert got.totals == want.totals and dict(got.by_type) == dict(want.by_type)
    assert got.totals.macs == count(str(path)).macs
    imported = {n.name: n for n in api.load_model(str(path)).nodes}
    assert imported["grouped"].attrs["padding"] == (1, 0, 2, 1)
    assert imported["grouped"].attrs["output_padding"] == (1, 1)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_a_hand_built_convtranspose(tmp_path, auto_pad):
    n = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="up",
                          kernel_shape=[3, 3], strides=[2, 2], auto_pad=auto_pad)]
    out = 14 if auto_pad != "VALID" else 15      # SAME: 7 x 2; VALID: (7 - 1) * 2 + 3
    m = model(n, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 7, 7])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, out, out])],
              [weight("w", 4, 6, 3, 3), weight("b", 6)], 17)
    path = tmp_path / "t.onnx"
    onnx.save(m, str(path))
    r = api.cost(str(path))
    (layer,) = r.layers
    assert layer.kind == "deconv" and layer.output_shape == (6, out, out)
    assert layer.macs == 49 * 4 * 9 * 6 == count(str(path)).macs
    assert (layer.params, layer.bias_params) == (4 * 6 * 9, 6)


def test_same_padding_is_refused(write_spec):
    path = write_spec("""
        name: bad
        input: {resolution: 8, channels: 3}
        layers:
          - {kind: deconv, kernel: 2, stride: 2, out: 4, padding: same}
        """)
    with pytest.raises(MnprofError, match="padding is valid or explicit, not same"):
        api.cost(path)
