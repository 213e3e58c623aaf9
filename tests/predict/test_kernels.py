"""The kernels mnprof says onnxruntime runs are the ones onnxruntime runs.

The oracle is onnxruntime itself: each graph is exported and optimised by a real
session (level ``all``, as the bench runs it) and its optimised graph is read back.
Every node there must be one emulated kernel (same op, same layout, same fused
activation, a layer it covers) and every emulated kernel one node, reorders
included. The layout parameters come from probing this onnxruntime, not assumed.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from pathlib import Path

import onnx
import pytest

import mnprof
from mnprof.bench.profile import by_length, layer_of
from mnprof.bench.runner import OptLevel, create_session, session_options
from mnprof.core.yamlsrc import load_yaml
from mnprof.onnxio.export import OUTPUT, build_model
from mnprof.predict.kernels import kernels_of
from mnprof.predict.probe import probe_layout
from mnprof.predict.synth import calibration_graph
from mnprof.spec.build import build
from mnprof.spec.parse import parse_spec

NCHWC = "com.microsoft.nchwc"
LAYOUT = probe_layout()


def optimised(graph) -> onnx.ModelProto:
    model = build_model(graph, opset=17, batch=1, check=False).model.SerializeToString()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "o.onnx")
        session = create_session(model, session_options(1, OptLevel.ALL, optimized_path=path))
        del session
        return onnx.load(path)


def real_nodes(graph) -> list[tuple]:
    """(op, blocked, activation, layer) of every node onnxruntime runs, by its names."""
    longest = by_length([n.name for n in graph.nodes])
    out = []
    for n in optimised(graph).graph.node:
        op = {"FusedConv": "Conv", "FusedGemm": "Gemm"}.get(n.op_type, n.op_type)
        if op in ("ReorderInput", "ReorderOutput"):
            t = n.input[0] if op == "ReorderInput" else n.output[0]
            out.append((op, True, "", graph.output if t == OUTPUT else layer_of(t, longest,
                                                                               ".:_/")))
            continue
        act = next((a.s.decode() for a in n.attribute if a.name == "activation"), "")
        blocked = n.domain == NCHWC or any(i.startswith("reorder") for i in n.input)
        name = n.name.removesuffix("_nchwc")
        layer = (layer_of(name, longest, ".:_/") if name else None) or \
            layer_of(n.output[0], longest, ".:_/")
        out.append((op, blocked, act, layer))
    return out


def emulated(graph) -> list[tuple]:
    out = []
    for k in kernels_of(graph, LAYOUT):
        if k.kind.startswith("reorder"):
            out.append((k.op, True, "", {k.src}))
        else:
            out.append((k.op, k.kind.endswith(".nchwc"), k.act, {*k.layers, k.dst}))
    return out


def assert_same_kernels(graph) -> None:
    left = emulated(graph)
    missing = []
    for op, blocked, act, layer in real_nodes(graph):
        hit = next((i for i, e in enumerate(left) if e[:3] == (op, blocked, act)
                    and (layer in e[3] or layer is None and op not in ("Conv", "Gemm"))), None)
        if hit is None:
            missing.append((op, blocked, act, layer))
        else:
            left.pop(hit)
    assert not missing and not left, f"onnxruntime only: {missing}; mnprof only: {left}"


@pytest.mark.parametrize("name,alpha,res", [
    ("mobilenet_v1", 0.37, 130),           # int(c * alpha): NCHW convs, reorders
    ("mobilenet_v1", 1.0, 224),
    ("mobilenet_v2", 0.5, 131),
    ("mobilenet_v3_small", 0.75, 160),     # squeeze-and-excite, h-swish, residual adds
    ("mobilenet_v3_large", 0.35, 96),
    ("mobilenet_v4_conv_small", 0.6, 160),
    ("efficientnet_b0", 0.5, 128),         # SiLU (QuickGelu), sigmoid-gated SE
    ("resnet18", 1.3, 112),                # an add folded into a blocked conv, one into NCHW
    ("shufflenet_v2_x1_0", 1.0, 128),      # channel split: slices fused into one Split
    ("alexnet", 0.5, 134),                 # adaptive pooling: shared slices, Split
])
def test_builtins(name, alpha, res):
    assert_same_kernels(build(mnprof.load_spec(name), alpha, res))


@pytest.mark.parametrize("seed", [0, 4, 6])
def test_calibration_networks(seed):
    rng = random.Random(seed * 1_000_003)
    assert_same_kernels(calibration_graph(rng, max_macs=300_000_000))


def spec_graph(text: str):
    return build(parse_spec(load_yaml(text, file="t.yaml"), file="t.yaml"))


ACTIVATIONS = """
name: acts
input: {resolution: 32, channels: 3}
classes: 10
layers:
  - {name: c1, kind: conv, kernel: 3, out: 16, bn: true, act: relu6}
  - {name: c2, kind: conv, kernel: 3, out: 16, bn: true, act: silu}      # QuickGelu
  - {name: c3, kind: conv, kernel: 3, out: 16, bn: true, act: gelu}      # Gelu
  - {name: c4, kind: conv, kernel: 3, out: 16}
  - {name: r4, kind: relu}                                               # folds into c4
  - {name: c5, kind: conv, kernel: 3, out: 16}
  - {name: b5, kind: batchnorm}
  - {name: h5, kind: hswish}                                             # folds (blocked)
  - {name: mp, kind: maxpool, kernel: 3, stride: 2}
  - {name: c6, kind: conv, kernel: 3, out: 12, bn: true, act: relu}      # padded to 16
  - {name: mp2, kind: maxpool, kernel: 2, stride: 2}                     # 12: NCHW
  - {name: pool, kind: global_avgpool}
  - {name: fc1, kind: fc, out: 64, act: relu}                            # FusedGemm
  - {name: fc2, kind: fc, out: 64, act: hswish}                          # HardSigmoid, Mul
  - {name: fc3, kind: fc, out: 64, act: relu6}                           # Clip apart
  - {name: fc, kind: fc}
  - {name: sm, kind: softmax}
"""

RESIDUALS = """
name: residuals
input: {resolution: 16, channels: 3}
classes: 10
layers:
  - {name: c0, kind: conv, kernel: 3, out: 20, bn: true, act: relu}
  - {name: x1, kind: pwconv, out: 16, bn: true, act: relu, input: c0}
  - {name: x2, kind: pwconv, out: 18, bn: true, act: hswish, input: c0}  # NCHW + HardSwish
  - {name: a, kind: pwconv, out: 24, bn: true, input: x1}                # blocked
  - {name: b, kind: pwconv, out: 24, bn: true, input: x2}                # NCHW: takes the add
  - {name: s, kind: add, inputs: [a, b]}
  - {name: r, kind: relu}
  - {name: d, kind: dwconv, kernel: 3, bn: true, act: relu}
  - {name: p, kind: pwconv, out: 16, bn: true, act: relu}
  - {name: q, kind: pwconv, out: 24, bn: true, input: d}
  - {name: cat, kind: concat, inputs: [p, q]}                            # blocked concat
  - {name: e, kind: pwconv, out: 20, bn: true, act: relu}
  - {name: f, kind: pwconv, out: 12, bn: true, act: relu, input: cat}
  - {name: cat2, kind: concat, inputs: [e, f]}                           # 20 + 12: NCHW
  - {name: pool, kind: global_avgpool}
  - {name: fc, kind: fc}
"""


@pytest.mark.parametrize("text", [ACTIVATIONS, RESIDUALS], ids=["activations", "residuals"])
def test_fusions_and_layouts(text):
    assert_same_kernels(spec_graph(text))


def test_probe_finds_a_block_and_an_alignment_that_divides_it():
    assert LAYOUT.block >= 1 and LAYOUT.block % LAYOUT.align == 0


def test_emulation_is_checked_by_real_differences():
    """The comparison can fail: a wrong layout (no NCHWc) disagrees with onnxruntime."""
    from mnprof.predict.fusion import Layout
    graph = build(mnprof.load_spec("mobilenet_v2"), 0.5, 96)
    real = Counter(n[1] for n in real_nodes(graph))
    wrong = Counter(k.kind.endswith(".nchwc") for k in kernels_of(graph, Layout(1, 1)))
    if LAYOUT.block > 1:
        assert real != wrong
