"""Bad and hostile ONNX files: each a one-line error and exit 2, in bounded time and memory.

External data outside the model's folder, a file over 2 GiB, a cycle, a tensor no
node or initializer makes, dimensions past mnprof's bounds (declared in the input,
in a weight, or reached inside the graph), a non-float input, control flow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnprof import api
from mnprof.core.errors import MnprofError

from ..paths import ROOT
from .foreign import model, weight


def conv_model(x_shape=(1, 3, 8, 8), w=None, elem=TensorProto.FLOAT) -> onnx.ModelProto:
    w = w if w is not None else weight("w", 4, 3, 3, 3)
    n = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3],
                          pads=[1, 1, 1, 1])]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", elem, list(x_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=[w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def save(m: onnx.ModelProto, path) -> str:
    path.write_bytes(m.SerializeToString())
    return str(path)


def external(m: onnx.ModelProto, location: str) -> onnx.ModelProto:
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value=location)
    return m


@pytest.mark.parametrize("location", ["../w.bin", "/etc/passwd", "sub/../../w.bin"])
def test_external_data_only_from_the_models_folder(tmp_path, location):
    (tmp_path / "w.bin").write_bytes(b"\0" * 432)
    inner = tmp_path / "models"
    inner.mkdir()
    path = save(external(conv_model(), location), inner / "m.onnx")
    with pytest.raises(MnprofError, match="outside the model's folder"):
        api.cost(path)


def test_external_data_past_the_end_of_its_file(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"\0" * 10)
    m = external(conv_model(), "w.bin")
    m.graph.initializer[0].external_data.add(key="length", value="432")
    with pytest.raises(MnprofError, match="reads bytes 0-432 of w.bin, which has 10"):
        api.cost(save(m, tmp_path / "m.onnx"))


def test_a_file_over_2_gib_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.onnx"
    with open(path, "wb") as fh:            # sparse: no disk used, nothing read
        fh.truncate(2**31 + 10)
    start = time.perf_counter()
    with pytest.raises(MnprofError, match="file is 2147483658 bytes; a ONNX model may be "
                                          "at most 2147483647"):
        api.cost(str(path))
    assert time.perf_counter() - start < 5


def test_a_cycle(tmp_path):
    n = [helper.make_node("Relu", ["x", ], ["a"], name="r"),
         helper.make_node("Add", ["a", "c"], ["b"], name="add"),
         helper.make_node("Relu", ["b"], ["c"], name="back")]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", 1, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("c", 1, [1, 3, 4, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(MnprofError, match="the graph has a cycle"):
        api.cost(save(m, tmp_path / "m.onnx"))


def test_a_missing_initializer(tmp_path):
    m = conv_model()
    del m.graph.initializer[:]
    with pytest.raises(MnprofError, match="tensor 'w' is read by a node but no node, input "
                                          "or initializer makes it"):
        api.cost(save(m, tmp_path / "m.onnx"))


@pytest.mark.parametrize("shape, why", [
    ((1, 3, 100_000, 100_000), "height must be an integer from 1 to 16384"),
    ((1, 3_000_000, 8, 8), "channels must be an integer from 1 to 1048576"),
    ((100_000, 3, 8, 8), "batch must be an integer from 1 to 4096"),
])
def test_declared_input_dimensions_past_the_bounds(tmp_path, shape, why):
    with pytest.raises(MnprofError, match=why):
        api.cost(save(conv_model(shape), tmp_path / "m.onnx"))


def test_a_weight_declared_too_large_is_refused_without_reading_it(tmp_path):
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 22, 3, 3, 3])
    with pytest.raises(MnprofError, match=r"cannot be a conv layer: out must be an "
                                          r"integer <= 1048576"):
        api.cost(save(conv_model(w=huge), tmp_path / "m.onnx"))


def test_a_tensor_grown_past_the_bounds_inside_the_graph(tmp_path):
    shape = numpy_helper.from_array(np.array([1, 1 << 20, 16384, 16384], dtype=np.int64), "s")
    n = [helper.make_node("Expand", ["x", "s"], ["y"], name="grow")]
    m = model(n, [helper.make_tensor_value_info("x", 1, [1, 1, 16384, 16384])],
              [helper.make_tensor_value_info("y", 1, ["a", "b", "c", "d"])], [shape], 17)
    start = time.perf_counter()
    with pytest.raises(MnprofError, match="more than mnprof counts"):
        api.cost(save(m, tmp_path / "m.onnx"))
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("elem", [TensorProto.INT64, TensorProto.UINT8])
def test_a_non_float_input(tmp_path, elem):
    with pytest.raises(MnprofError, match="whose input is a float image"):
        api.cost(save(conv_model(elem=elem), tmp_path / "m.onnx"))


def test_control_flow_and_several_inputs(tmp_path):
    then = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", 1, None)])
    n = [helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then,
                          else_branch=then)]
    g = helper.make_graph(n, "g", [helper.make_tensor_value_info("x", 1, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", 1, None)],
                          initializer=[numpy_helper.from_array(np.array(True), "cond")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(MnprofError, match="runs a subgraph; control flow is not supported"):
        api.cost(save(m, tmp_path / "if.onnx"))
    two = conv_model()
    two.graph.input.append(helper.make_tensor_value_info("z", 1, [1, 3, 8, 8]))
    with pytest.raises(MnprofError, match="2 graph inputs \\('x', 'z'\\)"):
        api.cost(save(two, tmp_path / "two.onnx"))


def test_errors_are_one_line_and_exit_2(tmp_path, run):
    (tmp_path / "w.bin").write_bytes(b"\0" * 432)
    inner = tmp_path / "models"
    inner.mkdir()
    path = save(external(conv_model(), "../w.bin"), inner / "m.onnx")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mnprof", "cost", path], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "outside the model's folder" in done.stderr
    for args in (["cost", path, "--format", "json"], ["import", path],
                 ["check", path, "--max-macs", "1M"], ["bench", path, "--per-layer"]):
        result = run(*args)
        assert result.exit_code == 2, args
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert "outside the model's folder" in result.stderr
