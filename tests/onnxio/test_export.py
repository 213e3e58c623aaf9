"""ONNX export: the graph computes what the spec says, and counts what `cost` counts.

- numerics: onnxruntime's output, and every layer's output, equals an independent
  numpy forward pass (tests/numpy_reference.py) with the same weights, with and
  without batch-norm folding, for every built-in spec and for a test network that
  uses every layer kind (tests/data/export_all_kinds.yaml);
- structure: onnx's checker (full) and strict shape inference pass, and the shape
  onnx infers for each layer equals mnprof's;
- counts: initializer elements add up to the analytic parameter counts, and MACs
  recounted from the ONNX graph by mnprof.onnx_reader equal the analytic MACs;
- the file: opset and IR version, metadata, names, the CLI, atomic writes.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnprof.analysis.cost import analyze
from mnprof.core.errors import MnprofError
from mnprof.core.version import __version__
from mnprof.model.graph import Graph
from mnprof.model.kinds import Role, kind_of
from mnprof.onnxio.export import build_model, export_model, save_model
from mnprof.onnxio.reader import count
from mnprof.onnxio.weights import generate_weights
from mnprof.spec.build import build
from mnprof.spec.builtins import builtin_names, load_spec

from ..oracles.classic import TABLE_ALPHAS
from ..oracles.mobilenet import calculate
from ..oracles.numpy_forward import forward
from ..paths import DATA, ROOT

ALL_KINDS = str(DATA / "export_all_kinds.yaml")
FAMILY_KINDS = str(DATA / "export_family_kinds.yaml")
BUILTINS = builtin_names()
TOL = 1e-4          # max abs difference allowed between onnxruntime and the reference

MAX_TEST_PARAMS = 8_000_000     # a built-in too big for a quick test runs thinner


@functools.cache
def thin_alpha(spec: str, alpha: float) -> float:
    """``alpha``, halved until the model has at most MAX_TEST_PARAMS parameters (VGG16's
    138M would take minutes through the numpy reference; its structure is the same).
    A spec whose alpha picks a row of a width table (ShuffleNetV2) takes the nearest row."""
    table = TABLE_ALPHAS.get(Path(spec).stem)
    if table:
        return min(table, key=lambda row: abs(row - alpha))
    s = load_spec(spec)
    while alpha > 1 / 64 and analyze(build(s, alpha, 64)).totals.params_framework \
            > MAX_TEST_PARAMS:
        alpha /= 2
    return alpha


# (spec, alpha, resolution): every built-in at a small and an odd resolution, one
# of them with alpha != 1 (thinner for the largest); the test networks at their sizes.
NUMERIC_CASES = ([(s, thin_alpha(s, 1.0), 64) for s in BUILTINS]
                 + [(s, thin_alpha(s, 0.5), 97) for s in BUILTINS]
                 + [(ALL_KINDS, 1.0, 33), (ALL_KINDS, 0.5, 40),
                    (FAMILY_KINDS, 1.0, 37), (FAMILY_KINDS, 2.0, 50)])
SPECS = [*BUILTINS, ALL_KINDS, FAMILY_KINDS]


def _id(case: object) -> str:
    return Path(str(case)).stem if str(case).endswith(".yaml") else str(case)


@functools.cache
def graph_of(spec: str, alpha: float, res: int) -> Graph:
    return build(load_spec(spec), alpha, res)


@functools.lru_cache(maxsize=8)
def reference(spec: str, alpha: float, res: int):
    """(graph, input, every layer's reference output) for a batch of 2 random images."""
    g = graph_of(spec, alpha, res)
    x = np.random.default_rng(12345).standard_normal((2, *g.input_shape)).astype(np.float32)
    return g, x, forward(g, generate_weights(g, seed=0), x)


def session(model: onnx.ModelProto, optimize: bool = True) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    if not optimize:     # each ONNX op as written, no fusion
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def run(model: onnx.ModelProto, x: np.ndarray, optimize: bool = True) -> dict[str, np.ndarray]:
    s = session(model, optimize)
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, {"input": x}), strict=True))


def bn_channels(g: Graph) -> int:
    """Channels carrying a batch-norm (each has a running mean and a variance)."""
    return sum(n.output_shape[0] for n in g.nodes
               if n.attrs.get("bn") or n.kind == "batchnorm")


# ---------------------------------------------------------------------------
# Numerics


@pytest.mark.parametrize("fold_bn", [False, True], ids=["bn", "folded"])
@pytest.mark.parametrize("spec,alpha,res", NUMERIC_CASES, ids=_id)
def test_onnxruntime_matches_numpy_reference(spec, alpha, res, fold_bn):
    g, x, ref = reference(spec, alpha, res)
    if not fold_bn:
        check_order_one(g, ref)
    # Every layer's output exposed as a graph output, so that a softmax output
    # (values near 1/classes) cannot hide an error in the logits; run op by op,
    # unoptimized. Layers of magnitude above 1 get the tolerance relative to their size.
    ex = build_model(g, fold_bn=fold_bn, batch=None, expose_layers=True)
    outs = run(ex.model, x, optimize=False)
    for node in g.nodes:
        want = ref[node.name]
        got = outs[ex.layer_outputs[node.name]]
        err = np.abs(got - want).max()
        assert err < TOL * max(1.0, np.abs(want).max()), (node.name, err)
    # The model as shipped (only `output`), optimized as onnxruntime deploys it.
    shipped = onnx.ModelProto()
    shipped.CopyFrom(ex.model)
    del shipped.graph.output[1:]
    assert [o.name for o in shipped.graph.output] == ["output"]
    out = run(shipped, x)["output"]
    assert out.shape == (2, *g.node(g.output).output_shape)
    assert np.abs(out - ref[g.output]).max() < TOL


def check_order_one(g: Graph, ref: dict[str, np.ndarray]) -> None:
    """The synthetic weights neither blow the signal up nor kill it (see weights.py),
    so that the absolute tolerance on the output means something. Measured over the
    built-ins, seeds 0-2 and several (alpha, res): layer RMS 0.014-4.8, output
    (logits) max |.| 0.4-9.3; at the cases below, 0.043-1.8 and 0.5-4.6. Before
    linear layers got gain 1, V3-Large's logits reached 20 at resolution 64 and 113
    at 224; before residual branches got a tenth of theirs, MobileNetV4's logits
    reached 12-34 at the cases below and MnasNet's 12."""
    layers = [n for n in g.nodes if n.kind != "softmax"]   # softmax: about 1 / classes
    for node in layers:
        rms = float(np.sqrt((ref[node.name] ** 2).mean()))
        assert 0.02 < rms < 20, (node.name, rms)
    logits = float(np.abs(ref[layers[-1].name]).max())
    assert 0.1 < logits < 20, (layers[-1].name, logits)


@pytest.mark.parametrize("res", [3, 4, 5])
def test_adaptive_pool_larger_than_its_input(write_spec, res):
    """An adaptive pool whose output is larger than its input repeats windows (AlexNet's
    6x6 pool sees a 1x1 map at resolution 64): from 1x1 every window is the one element
    (not an AveragePool of stride 0, which ONNX forbids), from 2x2 and 3x3 they overlap."""
    g = build(load_spec(write_spec(
        f"input: {{resolution: {res}, channels: 2}}\nclasses: 5\nlayers:\n"
        "  - {kind: conv, kernel: 3, out: 4, padding: valid, act: relu}\n"
        "  - {kind: adaptive_avgpool, output: [3, 2]}\n  - {kind: fc}\n")))
    assert g.nodes[0].output_shape[1] == res - 2
    x = np.random.default_rng(5).standard_normal((2, *g.input_shape)).astype(np.float32)
    ref = forward(g, generate_weights(g, seed=0), x)
    got = run(export_model(g, batch=None), x)["output"]
    assert np.abs(got - ref[g.output]).max() < TOL


def test_tolerance_detects_a_wrong_batchnorm():
    """Negative control: a classic folding mistake, dividing by the variance instead
    of its square root, moves the logits by far more than the tolerance."""
    g, x, ref = reference("mobilenet_v1", 1.0, 64)
    w = generate_weights(g, seed=0)
    for n in g.nodes:
        if n.attrs.get("bn"):
            var = f"{n.name}.bn.var"
            w[var] = w[var] ** 2        # sqrt(var ** 2) = var
    wrong = forward(g, w, x)
    logits = g.nodes[-2].name
    assert g.nodes[-1].kind == "softmax" and g.nodes[-2].kind == "fc"
    assert np.abs(wrong[logits] - ref[logits]).max() > 100 * TOL


# ---------------------------------------------------------------------------
# Structure: checker, shape inference, names, opsets, metadata

SHAPE_POINTS = [(1.0, 224), (0.5, 160), (0.35, 97)]


@pytest.mark.parametrize("alpha,res", SHAPE_POINTS)
@pytest.mark.parametrize("spec", BUILTINS)
def test_checker_and_shape_inference(spec, alpha, res):
    alpha = thin_alpha(spec, alpha)
    g = graph_of(spec, alpha, res)
    ex = build_model(g, fold_bn=(alpha != 1.0))
    model = ex.model            # build_model has run the checker with full_check
    # Drop mnprof's own shapes and let onnx infer every tensor from scratch.
    bare = onnx.ModelProto()
    bare.CopyFrom(model)
    del bare.graph.value_info[:]
    inferred = onnx.shape_inference.infer_shapes(bare, strict_mode=True)
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in (*inferred.graph.value_info, *inferred.graph.output)}
    for node in g.nodes:
        assert shapes[ex.layer_outputs[node.name]] == [1, *node.output_shape], node.name
    inp = model.graph.input[0]
    assert inp.name == "input"
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim] == [1, 3, res, res]
    assert inp.type.tensor_type.elem_type == TensorProto.FLOAT
    assert [o.name for o in model.graph.output] == ["output"]


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_names_follow_the_spec(spec):
    g = graph_of(spec, thin_alpha(spec, 0.25), 64)
    layers = {n.name for n in g.nodes}
    models = {fold_bn: export_model(g, fold_bn=fold_bn) for fold_bn in (False, True)}
    for model in models.values():
        for node in model.graph.node:
            assert node.name in layers or any(node.name.startswith(f"{layer}.")
                                              for layer in layers), node.name
        for init in model.graph.initializer:
            assert init.name.startswith("const.") or any(
                init.name == f"{n}.{s}" for n in layers
                for s in ("weight", "bias", "bn.scale", "bn.shift", "bn.mean", "bn.var")
            ), init.name
    # Each conv / fc layer is one Conv / Gemm node carrying the layer's own name.
    by_name = {n.name: n.op_type for n in models[False].graph.node}
    for n in g.nodes:
        if n.kind in ("conv", "pwconv", "dwconv"):
            assert by_name[n.name] == "Conv"
        elif n.kind == "fc":
            assert by_name[n.name] == "Gemm"


# Minimum IR version of each opset, from the ONNX versioning table (docs/Versioning.md).
IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


@pytest.mark.parametrize("opset", sorted(IR_FOR_OPSET))
def test_opsets_run_with_the_ir_version_they_need(opset):
    g, x, ref = reference(ALL_KINDS, 1.0, 33)
    model = export_model(g, opset=opset, batch=None)
    assert model.ir_version == IR_FOR_OPSET[opset]
    assert [(o.domain, o.version) for o in model.opset_import] == [("", opset)]
    assert np.abs(run(model, x)["output"] - ref[g.output]).max() < TOL


def test_default_opset_is_17():
    model = export_model(graph_of("mobilenet_v1", 1.0, 64))
    assert model.opset_import[0].version == 17 and model.ir_version == 8


def test_opset_13_writes_hswish_as_x_times_hardsigmoid():
    g, x, ref = reference("mobilenet_v3_small", 1.0, 64)
    hswish = [n for n in g.nodes if n.attrs.get("act") == "hswish"]
    assert hswish
    for opset, want in ((13, "Mul"), (14, "HardSwish")):
        model = export_model(g, opset=opset, batch=None)
        ops = [n.op_type for n in model.graph.node]
        names = {n.name: n for n in model.graph.node}
        for n in hswish:
            node = names[f"{n.name}.hswish"]
            assert node.op_type == want
            if opset == 13:
                gate = names[f"{n.name}.hswish.gate"]
                assert gate.op_type == "HardSigmoid" and gate.output[0] in node.input
        assert ("HardSwish" in ops) == (opset >= 14)
        assert np.abs(run(model, x)["output"] - ref[g.output]).max() < TOL


@pytest.mark.parametrize("bad", [12, 0, 1000, "17", 17.0, True])
def test_bad_opset_is_an_error(bad):
    with pytest.raises(MnprofError, match="opset"):
        export_model(graph_of("mobilenet_v1", 1.0, 64), opset=bad)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_batch_is_an_error(bad):
    with pytest.raises(MnprofError, match="batch"):
        export_model(graph_of("mobilenet_v1", 1.0, 64), batch=bad)


def test_batch_dimension():
    g = graph_of("mobilenet_v1", 1.0, 64)
    dims = {b: [(d.dim_value, d.dim_param) for d in
                export_model(g, batch=b).graph.input[0].type.tensor_type.shape.dim][0]
            for b in (1, 4, None)}
    assert dims == {1: (1, ""), 4: (4, ""), None: (0, "batch")}


def test_metadata():
    g = graph_of("mobilenet_v2", 0.5, 160)
    model = export_model(g, seed=7, fold_bn=True)
    meta = {p.key: p.value for p in model.metadata_props}
    # The independent calculator of the V2/V3 tests, not mnprof's own engine.
    macs, params, framework = calculate("mobilenet_v2", 0.5, 160).totals()
    assert meta["mnprof_version"] == __version__
    assert (meta["spec"], meta["alpha"], meta["resolution"]) == ("mobilenet_v2", "0.5", "160")
    assert (meta["seed"], meta["fold_bn"], meta["opset"]) == ("7", "true", "17")
    assert (int(meta["macs"]), int(meta["params"]), int(meta["params_framework"])) == (
        macs, params, framework)
    assert model.producer_name == "mnprof"


# ---------------------------------------------------------------------------
# Counts: initializers and MACs


def _initializer_elements(model: onnx.ModelProto) -> tuple[int, int]:
    """(elements of parameter initializers, elements of const.* initializers): a constant
    is a float scalar (a Clip bound, a gelu factor) or an int64 vector (a shape, a slice)."""
    params = consts = 0
    for t in model.graph.initializer:
        size = int(np.prod(t.dims)) if t.dims else 1
        if t.name.startswith("const."):
            assert size == 1 or t.data_type == TensorProto.INT64, t.name
            consts += size
        else:
            params += size
    return params, consts


@pytest.mark.parametrize("alpha,res", [(1.0, 224), (0.5, 97)])
@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_initializers_and_recounted_macs_equal_the_analytic_counts(spec, alpha, res):
    g = graph_of(spec, thin_alpha(spec, alpha), res)
    report = analyze(g)
    t = report.totals
    models = {fold_bn: export_model(g, fold_bn=fold_bn) for fold_bn in (False, True)}
    # BN kept: weights + biases + BN scale and shift (the framework count), plus
    # the running mean and variance (buffers, not parameters): 2 per BN channel.
    params, _ = _initializer_elements(models[False])
    assert params == t.params_framework + 2 * bn_channels(g)
    # BN folded: weights (the paper's count) + one bias per output channel of each
    # conv / fc with a bias or a batch-norm; a stand-alone batchnorm layer stays.
    biases = sum(n.output_shape[0] for n in g.nodes
                 if n.kind in ("conv", "pwconv", "dwconv", "fc")
                 and (n.attrs.get("bias") or n.attrs.get("bn")))
    alone = sum(4 * n.output_shape[0] for n in g.nodes if n.kind == "batchnorm")
    params, _ = _initializer_elements(models[True])
    assert params == t.params + biases + alone
    bn_nodes = [n.name for n in models[True].graph.node if n.op_type == "BatchNormalization"]
    assert bn_nodes == [n.name for n in g.nodes if n.kind == "batchnorm"]
    # MACs recounted from the ONNX graph alone, in total and per layer.
    for model in models.values():
        counted = count(model)
        assert counted.macs == t.macs
        params, consts = _initializer_elements(model)
        assert counted.params == params + consts
        rows = {r.name: r for r in counted.rows}
        for layer in report.layers:
            if layer.macs:
                assert rows[layer.name].macs == layer.macs, layer.name


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_recount_of_a_batch(spec):
    g = graph_of(spec, thin_alpha(spec, 0.25), 64)
    macs = analyze(g).totals.macs
    assert count(export_model(g, batch=3)).macs == 3 * macs
    assert count(export_model(g, batch=None), dims={"batch": 2}).macs == 2 * macs


# ---------------------------------------------------------------------------
# Weights


def test_weights_are_deterministic_per_tensor():
    a = generate_weights(graph_of("mobilenet_v1", 1.0, 64), seed=0)
    b = generate_weights(graph_of("mobilenet_v1_shallow", 1.0, 224), seed=0)
    c = generate_weights(graph_of("mobilenet_v1", 1.0, 64), seed=1)
    shared = set(a) & set(b)
    assert "conv1.weight" in shared and len(shared) > 20
    for name in shared:     # same name and shape in another network: same values
        if a[name].shape == b[name].shape:
            assert np.array_equal(a[name], b[name]), name
    assert not np.array_equal(a["conv1.weight"], c["conv1.weight"])
    assert all(v.dtype == np.float32 for v in a.values())


def test_weights_cover_every_declared_tensor_with_nontrivial_bn():
    g = graph_of("mobilenet_v2", 1.0, 224)
    w = generate_weights(g)
    declared = {f"{n.name}.{t.suffix}": t for n in g.nodes
                for t in kind_of(n).tensors(dict(n.attrs), n.input_shapes, n.output_shape)}
    assert set(w) == set(declared)
    for name, t in declared.items():
        assert w[name].shape == t.shape
        if t.role is Role.BN_VAR:
            assert w[name].min() >= 0.5 and w[name].max() <= 2 and w[name].std() > 0.2
        if t.role is Role.BN_SCALE:
            assert w[name].std() > 0.1 and abs(w[name].mean() - 1) < 0.2
        if t.role in (Role.BN_MEAN, Role.BN_SHIFT) and t.size >= 64:
            assert w[name].std() > 0.05
    # He initialisation: std sqrt(2 / fan_in) before a rectifier (relu6 here),
    # sqrt(1 / fan_in) for a linear layer (the projection), a tenth of that gain for
    # the last layer of a residual branch (bottleneck8 adds its input back,
    # bottleneck7 has stride 2 and no residual): 1x1 convs, fan_in = cin.
    assert {"bottleneck7.add", "bottleneck8.add"} & {n.name for n in g.nodes} == {
        "bottleneck8.add"}
    for name, gain in (("bottleneck8.expand", 2.0), ("bottleneck7.project", 1.0),
                       ("bottleneck8.project", 0.1)):
        node = g.node(name)
        std = float(w[f"{node.name}.weight"].std())
        assert std == pytest.approx(np.sqrt(gain / node.input_shapes[0][0]), rel=0.05)


def test_bad_seed_is_an_error():
    with pytest.raises(MnprofError, match="seed"):
        generate_weights(graph_of("mobilenet_v1", 1.0, 64), seed=-1)


# ---------------------------------------------------------------------------
# The ONNX reader on hand-built graphs


def _tiny_model() -> onnx.ModelProto:
    f = TensorProto.FLOAT

    def init(name, *shape):
        return numpy_helper.from_array(np.zeros(shape, np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="gconv", group=2,
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["c1", "wt"], ["ct"], name="up", strides=[2, 2]),
        helper.make_node("Relu", ["ct"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flat", axis=1),
        helper.make_node("Gemm", ["f", "g"], ["y"], name="gemm", transB=1),
        helper.make_node("Reshape", ["y", "shape"], ["y3"], name="reshape"),
        helper.make_node("MatMul", ["y3", "m"], ["z"], name="matmul"),
    ]
    inits = [init("w1", 8, 2, 3, 3), init("wt", 8, 3, 2, 2), init("g", 10, 3 * 10 * 10),
             numpy_helper.from_array(np.array([-1, 2, 5], np.int64), "shape"),
             init("m", 5, 7), init("unused", 4)]
    x = helper.make_tensor_value_info("x", f, ["N", 4, 10, 10])
    z = helper.make_tensor_value_info("z", f, None)
    graph = helper.make_graph(nodes, "tiny", [x], [z], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_reader_formulas_on_a_hand_built_graph():
    c = count(_tiny_model(), dims={"N": 3})
    rows = {r.name: r for r in c.rows}
    # Conv, 2 groups: x [3,4,10,10] -> [3,8,5,5]; each output: 2 in-channels x 3x3.
    assert rows["gconv"].output_shape == (3, 8, 5, 5)
    assert rows["gconv"].macs == 3 * 8 * 5 * 5 * 2 * 9
    # ConvTranspose 2x2 stride 2: each of 3x8x5x5 inputs feeds 3 out-channels x 2x2.
    assert rows["up"].output_shape == (3, 3, 10, 10)
    assert rows["up"].macs == 3 * 8 * 5 * 5 * 3 * 4
    assert rows["gemm"].macs == 3 * 300 * 10           # [3,300] x [300,10]
    assert rows["matmul"].macs == 3 * 2 * 7 * 5        # [3,2,5] x [5,7]
    assert rows["relu"].macs == rows["flat"].macs == rows["reshape"].macs == 0
    assert c.macs == 3 * 8 * 5 * 5 * 2 * 9 + 3 * 8 * 5 * 5 * 3 * 4 + 3 * 300 * 10 + 3 * 2 * 7 * 5
    assert rows["gconv"].params == 8 * 2 * 9 and rows["gemm"].params == 3000
    assert rows["reshape"].params == 3 and c.unused_params == 4
    assert c.params == 144 + 96 + 3000 + 3 + 35 + 4
    assert c.by_op_type()["Conv"] == (1, rows["gconv"].macs, 144)


def test_reader_refuses_unknown_shapes():
    with pytest.raises(MnprofError, match="symbolic"):
        count(_tiny_model())
    m = _tiny_model()
    m.graph.input[0].type.tensor_type.ClearField("shape")    # rank unknown: no shapes
    with pytest.raises(MnprofError, match=r"gconv.*unknown"):
        count(m)


def test_reader_reads_files_and_rejects_garbage(tmp_path):
    g = graph_of("mobilenet_v1", 0.25, 64)
    path = tmp_path / "m.onnx"
    save_model(export_model(g), path)
    assert count(path).macs == count(str(path)).macs == analyze(g).totals.macs
    (tmp_path / "bad.onnx").write_bytes(b"not a protobuf \xff\xfe")
    with pytest.raises(MnprofError, match="bad.onnx"):
        count(tmp_path / "bad.onnx")
    with pytest.raises(MnprofError, match="no such ONNX model file"):
        count(tmp_path / "missing.onnx")


# ---------------------------------------------------------------------------
# Files and the CLI


def test_save_model_errors(tmp_path):
    model = export_model(graph_of("mobilenet_v1", 0.25, 64))
    with pytest.raises(MnprofError, match="is a directory"):
        save_model(model, tmp_path)
    with pytest.raises(MnprofError, match="does not exist"):
        save_model(model, tmp_path / "no" / "m.onnx")


def test_a_model_over_2gib_is_refused_before_its_weights_exist(write_spec):
    # 1024 input channels at resolution 1, then an fc to 1,000,000 outputs: 1.024e9
    # weights + 1e6 biases = 4.1 GB at fp32, over protobuf's 2 GiB; refused without
    # allocating them.
    spec = load_spec(write_spec("input: {resolution: 1, channels: 1024}\n"
                                "layers:\n  - {kind: fc, out: 1000000}\n"))
    with pytest.raises(MnprofError, match=r"1,025,000,000 parameters .* more than one ONNX"):
        export_model(build(spec))


def test_cli_writes_a_loadable_model(run, tmp_path):
    out = tmp_path / "v1.onnx"
    result = run("export", "--alpha", "0.25", "--res", "96", "-o", str(out), "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and str(out) in line and "nodes" in line and "initializers" in line
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert (meta["alpha"], meta["resolution"], meta["seed"]) == ("0.25", "96", "3")
    assert sorted(os.listdir(tmp_path)) == ["v1.onnx"]          # no temporary left behind
    # Written again (folded, another batch): replaced whole.
    result = run("export", "--alpha", "0.25", "--res", "96", "-o", str(out), "--fold-bn",
                 "--dynamic-batch", "--opset", "13")
    assert result.exit_code == 0, result.stderr
    model = onnx.load(str(out))
    assert "BatchNormalization" not in {n.op_type for n in model.graph.node}
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.opset_import[0].version == 13 and model.ir_version == 7
    assert sorted(os.listdir(tmp_path)) == ["v1.onnx"]


@pytest.mark.parametrize("args,message", [
    (["-o", "{dir}"], "is a directory"),
    (["-o", "{dir}/missing/m.onnx"], "does not exist"),
    (["--opset", "12", "-o", "{dir}/m.onnx"], "opset"),
    (["--batch", "2", "--dynamic-batch", "-o", "{dir}/m.onnx"], "exclude each other"),
    (["--batch", "0", "-o", "{dir}/m.onnx"], "--batch"),
    (["no_such_spec", "-o", "{dir}/m.onnx"], "no built-in spec"),
    ([], "--output"),
])
def test_cli_errors_are_one_line_and_exit_2(run, tmp_path, args, message):
    result = run("export", *[a.format(dir=tmp_path) for a in args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnprof: error:") and message in lines[0]
    assert not list(tmp_path.iterdir())


def test_cli_never_overwrites_the_spec(run, tmp_path):
    spec = tmp_path / "net.yaml"
    text = Path(ALL_KINDS).read_text()
    spec.write_text(text)
    result = run("export", str(spec), "-o", str(spec))
    assert result.exit_code == 2 and "input file" in result.stderr
    assert spec.read_text() == text


def test_cost_does_not_import_onnx():
    code = ("import sys\n"
            "from mnprof.cli import main\n"
            "try:\n"
            "    main(['cost', '--format', 'json'])\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime'))\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"macs"' in done.stdout
    assert "HEAVY []" in done.stderr
