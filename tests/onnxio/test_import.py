"""Importing ONNX files: the files people have (legacy torch, dynamo, Keras/tf2onnx, mnprof's).

Expected counts are worked out here from the layer shapes ``foreign.py`` writes
(MACs of a conv = output elements x kernel elements x input channels per group;
of an fc = inputs x outputs), never from mnprof's output. The independent recount
``mnprof.onnxio.reader`` (which knows no layer kinds) must agree on every file.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mnprof import api
from mnprof.core.errors import MnprofError
from mnprof.onnxio.importer import import_model
from mnprof.onnxio.reader import count

from .foreign import dynamo_style, keras_style, legacy_style, model, weight


def conv(out_hw: int, cout: int, cin_per_group: int, k: int) -> int:
    return out_hw * out_hw * cout * cin_per_group * k * k


def split(report) -> dict[str, int]:
    """depthwise / pointwise (1x1, one group) / other conv / fc MACs, as counts.json splits."""
    dw = sum(v.macs for k, v in report.by_type.items() if k.startswith("dw"))
    pw = report.by_type["conv1x1"].macs if "conv1x1" in report.by_type else 0
    fc = report.by_type["fc"].macs if "fc" in report.by_type else 0
    return {"dw": dw, "pw": pw, "other": report.totals.macs - dw - pw - fc, "fc": fc}


# ---------------------------------------------------------------------------
# Legacy torch.onnx (TorchScript) style


def test_legacy_torch_style(tmp_path):
    path = legacy_style(tmp_path)
    r = api.cost(str(path))
    stem = conv(8, 8, 3, 3)                  # 16x16 -> 8x8 (stride 2, pad 1)
    dw = conv(8, 8, 1, 3)
    se = 8 * 4 + 4 * 8                       # two 1x1 convs on a 1x1 map
    pw = conv(8, 16, 8, 1)
    expand = conv(8, 16, 16, 1)
    fc = 16 * 10
    assert split(r) == {"dw": dw, "pw": se + pw + expand, "other": stem, "fc": fc}
    assert r.totals.macs == stem + dw + se + pw + expand + fc == 43_232
    weights = 8 * 27 + 8 * 9 + 32 + 32 + 16 * 8 + 16 * 16 + 160
    assert r.totals.params == weights == 896
    biases = 8 + 8 + 4 + 8 + 16 + 16 + 10   # the shared bias once per conv reading it
    assert r.totals.bias_params == biases and r.totals.bn_params == 0
    kinds = {c.name: (c.kind, c.type_key) for c in r.layers}
    assert kinds["/features/0/Conv"] == ("conv", "conv3x3")
    assert kinds["/features/1/dw/Conv"] == ("dwconv", "dw3x3")
    assert kinds["/features/3/Add"] == ("add", "add")
    g = api.load_model(str(path))
    node = {n.name: n for n in g.nodes}
    # Clip(0, 6) with Constant-node bounds is relu6, fused; the SE gate's hard-sigmoid too
    assert node["/features/0/Conv"].attrs["act"] == "relu6"
    assert node["/features/1/se/fc1/Conv"].attrs["act"] == "relu"
    assert node["/features/1/se/fc2/Conv"].attrs["act"] == "hsigmoid"
    assert node["/features/3/Conv"].attrs["act"] == "hswish"
    # the SE multiply reads the map first, the gate second, whatever the file's order
    assert node["/features/1/se/Mul"].inputs == ("/features/1/dw/Conv", "/features/1/se/fc2/Conv")
    # no layer for Constant, Identity, Shape, Gather, Unsqueeze, Concat, Reshape, Clip
    assert len(g.nodes) == 11 and not any(n.kind.startswith("onnx:") for n in g.nodes)
    assert g.source == "onnx" and g.file == str(path) and g.model == "legacy"
    assert g.input_shape == (3, 16, 16) and g.batch == 1


def test_legacy_node_layers_cover_every_computing_node(tmp_path):
    path = legacy_style(tmp_path)
    imp = import_model(path)
    nodes = onnx.load(str(path)).graph.node
    by_op: dict[str, set] = {}
    for n, layer in zip(nodes, imp.node_layers, strict=True):
        by_op.setdefault(n.op_type, set()).add(layer)
    for op in ("Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Concat"):
        assert by_op[op] == {None}, op                  # shape-only: no layer
    clip_layers = {lay for n, lay in zip(nodes, imp.node_layers, strict=True)
                   if n.op_type == "Clip"}
    assert clip_layers == {"/features/0/Conv", "/features/1/dw/Conv"}
    reshape = next(lay for n, lay in zip(nodes, imp.node_layers, strict=True)
                   if n.op_type == "Reshape")
    assert reshape == "/classifier/Gemm"                # the flatten folds into the fc


# ---------------------------------------------------------------------------
# torch.onnx dynamo style


def test_dynamo_style(tmp_path):
    path = dynamo_style(tmp_path)
    assert (tmp_path / "dynamo.onnx.data").stat().st_size > 1000    # weights beside it
    r = api.cost(str(path))
    stem = conv(16, 8, 3, 3)
    branch = conv(16, 4, 4, 1)
    grouped = conv(8, 8, 4, 3)               # 8 -> 8 channels in 2 groups, stride 2
    fc = 8 * 12 + 12 * 10
    assert split(r) == {"dw": 0, "pw": branch, "other": stem + grouped, "fc": fc}
    assert r.totals.macs == 78_040
    assert r.totals.params == 8 * 27 + 16 + 8 * 4 * 9 + 96 + 120 == 736
    assert r.totals.bn_params == 2 * 8 and r.totals.bias_params == 12
    g = api.load_model(str(path))
    node = {n.name: n for n in g.nodes}
    stem_node = node["node_Conv_0"]
    assert (stem_node.attrs["bn"], stem_node.attrs["act"]) == (True, "silu")
    assert stem_node.attrs["bn_eps"] == pytest.approx(1e-3)
    assert node["node_Split_1"].attrs["index"] == 0
    assert node["node_Split_1:1"].attrs["index"] == 1
    assert node["node_transpose"].kind == "channel_shuffle"
    assert node["node_transpose"].attrs["groups"] == 2
    assert node["node_Conv_3"].type_key == "gconv3x3"
    assert node["node_linear"].attrs["act"] == "gelu"          # the erf form, fused
    assert [n.kind for n in g.nodes].count("global_avgpool") == 1
    assert len(g.nodes) == 10 and g.batch == 1 and g.notes == ()


# ---------------------------------------------------------------------------
# Keras / tf2onnx style


def test_keras_tf2onnx_style(tmp_path):
    path = keras_style(tmp_path)
    r = api.cost(str(path))
    stem = conv(8, 8, 3, 3)                  # 16 + 1 (Pad) -> (17 - 3) / 2 + 1 = 8
    dw = conv(8, 8, 1, 3)
    pw = conv(8, 16, 8, 1)
    assert split(r) == {"dw": dw, "pw": pw, "other": stem, "fc": 160}
    assert r.totals.macs == 26_784 and r.totals.params == 576
    assert r.totals.bias_params == 8 + 8 + 16 + 10     # the dense bias is its Add
    assert r.input_shape == (3, 16, 16)
    g = api.load_model(str(path))
    first = g.nodes[0]
    assert first.inputs == ("input",) and first.attrs["padding"] == (0, 0, 1, 1)
    assert [n.kind for n in g.nodes] == ["conv", "dwconv", "pwconv", "global_avgpool", "fc",
                                        "softmax"]
    assert g.nodes[1].attrs["act"] == "relu6"
    assert any("NHWC" in n for n in g.notes)
    imp = import_model(path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    layer = dict(zip(ops, imp.node_layers, strict=True))
    assert layer["Transpose"] is None and layer["Pad"] == "model/conv1/Conv2D"
    assert layer["Add"] == "model/dense/MatMul"


# ---------------------------------------------------------------------------
# Every style against the independent recount


@pytest.mark.parametrize("make", [legacy_style, dynamo_style, keras_style])
def test_the_independent_recount_agrees(tmp_path, make):
    path = make(tmp_path)
    r = api.cost(str(path))
    dims = {"batch": 1} if make is legacy_style else {"unk__6": 1} \
        if make is keras_style else None
    assert r.totals.macs == count(str(path), dims=dims).macs
    # weights: the elements of every initializer a Conv, Gemm or MatMul multiplies by
    m = onnx.load(str(path))
    sizes = {t.name: int(np.prod(t.dims)) for t in m.graph.initializer}
    assert r.totals.params == sum(sizes[n.input[1]] for n in m.graph.node
                                  if n.op_type in ("Conv", "Gemm", "MatMul"))


# ---------------------------------------------------------------------------
# Dimensions


def _sym_model(tmp_path, dims: list) -> str:
    n = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3],
                          pads=[1, 1, 1, 1])]
    m = model(n, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, "h", "w"])],
              [weight("w", 4, 3, 3, 3)], 17)
    path = tmp_path / "sym.onnx"
    onnx.save(m, str(path))
    return str(path)


def test_symbolic_dimensions(tmp_path):
    path = _sym_model(tmp_path, ["n", 3, "h", "w"])
    with pytest.raises(MnprofError, match=r"dimension 2 \(height\) is symbolic \('h'\); "
                                          r"give it a value with --dim h=N or --res N"):
        api.cost(path)
    assert api.cost(path, resolution=10).totals.macs == conv(10, 4, 3, 3)
    r = api.cost(path, dims={"h": 6, "w": 8})
    assert r.totals.macs == 6 * 8 * 4 * 27 and r.input_shape == (3, 6, 8)
    four = api.cost(path, dims={"n": 4}, resolution=5)
    assert four.totals.macs == conv(5, 4, 3, 3) and four.batch == 4    # counts per image
    assert any("bound to a batch of 4" in n for n in four.notes)
    with pytest.raises(MnprofError, match="no symbolic dimension named 'bogus'"):
        api.cost(path, dims={"bogus": 1}, resolution=5)
    rows = api.sweep(path, None, [8, 16]).rows
    assert [x.totals.macs for x in rows] == [conv(8, 4, 3, 3), conv(16, 4, 3, 3)]
    with pytest.raises(MnprofError, match="alpha applies to specs"):
        api.sweep(path, [0.5], [8])


def test_fixed_dimensions_and_batch(tmp_path):
    path = _sym_model(tmp_path, [2, 3, 8, 8])
    r = api.cost(path)
    assert r.totals.macs == conv(8, 4, 3, 3) and r.batch == 2     # per image
    assert any("fixes the batch at 2" in n for n in r.notes)
    with pytest.raises(MnprofError, match="fixed in the file"):
        api.cost(path, resolution=16)
    with pytest.raises(MnprofError, match="alpha applies to specs"):
        api.cost(path, 0.5)


# ---------------------------------------------------------------------------
# Nothing silent; never 0 MACs for an op that multiplies


def _one_op(tmp_path, nodes, inits, rank=4, name="m.onnx") -> str:
    out = [f"d{k}" for k in range(rank)]
    if any("seq" in n.input for n in nodes):       # a sequence made from the image
        shape = onnx.numpy_helper.from_array(np.array([1, 64, 4], dtype=np.int64), "s")
        nodes = [helper.make_node("Reshape", ["x", "s"], ["seq"], name="to_seq"), *nodes]
        inits = [*inits, shape]
    m = model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out)],
              inits, 17)
    path = tmp_path / name
    onnx.save(m, str(path))
    return str(path)


def test_an_op_not_modelled_is_a_layer_and_a_note(tmp_path):
    scales = onnx.numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    path = _one_op(tmp_path, [
        helper.make_node("LeakyRelu", ["x"], ["a"], name="leaky"),
        helper.make_node("Resize", ["a", "", "scales"], ["b"], name="up", mode="nearest"),
        helper.make_node("Conv", ["b", "w"], ["y"], name="conv", kernel_shape=[1, 1])],
        [scales, weight("w", 2, 4, 1, 1)])
    r = api.cost(path)
    rows = {c.name: c for c in r.layers}
    assert rows["leaky"].type_key == "onnx:LeakyRelu" and rows["leaky"].macs == 0
    assert rows["up"].output_shape == (4, 16, 16) and rows["up"].activations == 4 * 16 * 16
    assert rows["conv"].macs == 16 * 16 * 2 * 4
    assert r.not_modelled == {"LeakyRelu": 1, "Resize": 1}
    assert any("LeakyRelu x1, Resize x1" in n for n in r.notes)
    with pytest.raises(MnprofError, match="LeakyRelu, Resize are not modelled"):
        api.import_spec(path)


@pytest.mark.parametrize("node, inits, rank, why", [
    (helper.make_node("ConvTranspose", ["x", "x"], ["y"], name="up", kernel_shape=[8, 8]),
     [], 4, "convolutions of computed weights"),
    (helper.make_node("LSTM", ["seq", "lw", "lr"], ["y"], name="rnn", hidden_size=2),
     [weight("lw", 1, 8, 4), weight("lr", 1, 8, 2)], 4, "LSTM multiplies"),
    (helper.make_node("Einsum", ["x", "x"], ["y"], name="e", equation="nchw,nchw->nc"), [], 2,
     "Einsum multiplies"),
    (helper.make_node("MatMul", ["x", "x"], ["y"], name="mm"), [], 4, "two computed tensors"),
    (helper.make_node("Conv", ["x", "x"], ["y"], name="c", kernel_shape=[8, 8]), [], 4,
     "convolutions of computed weights"),
])
def test_an_op_that_multiplies_is_counted_or_refused(tmp_path, node, inits, rank, why):
    path = _one_op(tmp_path, [node], inits, rank)
    with pytest.raises(MnprofError, match=why):
        api.cost(path)


def test_layer_names_are_node_names_made_unique(tmp_path):
    path = _one_op(tmp_path, [
        helper.make_node("Relu", ["x"], ["a"], name="same"),
        helper.make_node("Sigmoid", ["a"], ["b"], name="same"),
        helper.make_node("Tanh", ["b"], ["unnamed_out"]),
        helper.make_node("Relu", ["unnamed_out"], ["input"], name="")], [])
    names = [n.name for n in api.load_model(path).nodes]
    assert names == ["same", "same_2", "unnamed_out", "input_2"]


def test_mnprof_exports_show_their_metadata(tmp_path):
    out = tmp_path / "v1.onnx"
    api.export_onnx("mobilenet_v1", out, alpha=0.25, resolution=64)
    r = api.cost(str(out))
    assert dict(r.metadata)["spec"] == "mobilenet_v1" and r.alpha == 0.25
    assert r.model == "mobilenet_v1" and r.resolution == 64
    from mnprof.analysis.report import cost_header, cost_to_dict
    assert "exported by mnprof from mobilenet_v1 at alpha 0.25, resolution 64" in \
        cost_header(r)
    doc = cost_to_dict(r)
    assert doc["source"] == "onnx" and doc["metadata"]["alpha"] == "0.25"
    assert doc["not_modelled"] == {} and doc["totals"]["macs"] == \
        api.cost("mobilenet_v1", 0.25, 64).totals.macs


def test_the_import_loads_neither_onnx_helpers_nor_ml_dtypes(tmp_path):
    """The import uses onnx's protobuf classes and C++ extension alone (start-up cost);
    a later ``import onnx`` in the same process gets those very modules."""
    import subprocess
    import sys

    from ..paths import ROOT
    path = legacy_style(tmp_path)
    probe = (
        "import sys\n"
        "from mnprof import api\n"
        f"g = api.load_model({str(path)!r})\n"
        "assert 'onnx' not in sys.modules and 'ml_dtypes' not in sys.modules\n"
        "from mnprof.onnxio.proto import pb\n"
        "import onnx\n"
        "from onnx import numpy_helper, shape_inference\n"
        f"m = onnx.load({str(path)!r})\n"
        "assert pb().ModelProto is onnx.ModelProto\n"
        "shape_inference.infer_shapes(m, strict_mode=True)\n"
        "onnx.checker.check_model(m, full_check=True)\n"
        "print(sum(n.kind == 'pwconv' for n in g.nodes), numpy_helper.to_array("
        "m.graph.initializer[0]).shape)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4", "(8,", "3,", "3,", "3)"]
