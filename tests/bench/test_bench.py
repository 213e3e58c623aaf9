"""``mnprof bench``: structure and consistency, never speed.

No test here asserts how fast anything runs. They check that the statistics are
the textbook ones, that profiled onnxruntime nodes land on the right spec layers
(hand-made graphs shaped like what onnxruntime 1.x produces at each optimisation
level), that per-type and per-layer times add up to the end-to-end median, that
every layer appears, the JSON contract, and the error exits. Expected MACs and
bytes are worked out from the formulas in the test. A fake machine ceiling (in a
temporary cache) keeps the real GEMM and copy benchmarks out of the tests.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from mnprof import analyze, build, load_spec
from mnprof.bench import machine
from mnprof.bench import measure as bench_core
from mnprof.bench.attribute import NOT_EXPORTED, ProfiledNode, attribute
from mnprof.bench.machine import Ceiling
from mnprof.bench.measure import bench_graph, measure_latency
from mnprof.bench.notes import spread_notes
from mnprof.bench.onnxfile import bench_onnx_file
from mnprof.bench.profile import (
    GraphView,
    NodeTiming,
    OnnxNode,
    executed_macs,
    map_nodes,
    match_timings,
    parse_profile,
)
from mnprof.bench.report import bench_to_dict
from mnprof.bench.result import latency_stats
from mnprof.bench.runner import Timing, time_runs
from mnprof.core.contracts import BENCH_SCHEMA
from mnprof.core.errors import MnprofError

from ..paths import ROOT

FAKE_PEAK, FAKE_BW = 100.0, 10.0     # GMAC/s, GB/s


def fake_ceiling(threads: int = 1) -> Ceiling:
    import onnxruntime as ort
    return Ceiling(FAKE_PEAK, FAKE_BW, threads, machine.cpu_info().model, ort.__version__,
                   "fake GEMM", "fake copy", "2000-01-01T00:00:00Z")


@pytest.fixture
def cached_ceiling(tmp_path, monkeypatch):
    """A machine cache holding a fake ceiling for every thread count; measuring fails."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    entries = {}
    for t in range(1, (os.cpu_count() or 1) + 2):
        c = fake_ceiling(t)
        entries[machine.cache_key(c.cpu_model, t, c.onnxruntime_version)] = {
            k: v for k, v in c.to_dict().items() if k != "cached"}
    path = machine.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": machine.CACHE_SCHEMA, "entries": entries}))

    def no_measuring(*args, **kwargs):
        raise AssertionError("the machine ceiling must come from the cache in tests")
    monkeypatch.setattr(machine, "measure_ceiling", no_measuring)
    return path


QUICK = dict(threads=1, runs=3, warmup=1, min_time=0.0)
CLI_QUICK = ("--threads", "1", "--runs", "3", "--warmup", "1", "--min-time", "0")


# ---------------------------------------------------------------------------
# Statistics


def test_latency_stats_are_the_textbook_ones():
    s = latency_stats([10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0], batch=4)
    assert s.runs == 10 and s.min == 1.0 and s.max == 10.0
    assert s.median == 5.5 and s.mean == 5.5
    # linear interpolation between closest ranks: position q * (n - 1)
    assert s.p10 == pytest.approx(1.0 + 0.9 * (2.0 - 1.0))
    assert s.p90 == pytest.approx(9.0 + 0.1 * (10.0 - 9.0))
    stdev = math.sqrt(sum((x - 5.5) ** 2 for x in range(1, 11)) / 9)      # n - 1
    assert s.stdev == pytest.approx(stdev) and s.cv == pytest.approx(stdev / 5.5)
    assert s.throughput == pytest.approx(4 * 1000 / 5.5)                  # images/s
    assert s.samples[0] == 10.0                                          # run order kept


def test_one_run_has_no_spread():
    s = latency_stats([2.5])
    assert (s.median, s.p10, s.p90, s.stdev, s.cv, s.runs) == (2.5, 2.5, 2.5, 0.0, 0.0, 1)


# ---------------------------------------------------------------------------
# The machine


CPUINFO = """\
processor\t: 0
model name\t: Example CPU @ 2.00GHz
flags\t\t: fpu sse2 avx2 fma avx512f
physical id\t: 0
core id\t\t: 0

processor\t: 1
model name\t: Example CPU @ 2.00GHz
physical id\t: 0
core id\t\t: 0

processor\t: 2
physical id\t: 0
core id\t\t: 1

processor\t: 3
physical id\t: 1
core id\t\t: 0
"""


def test_cpuinfo_counts_physical_cores_and_reads_the_simd_width():
    model, cores, flags = machine.parse_cpuinfo(CPUINFO)
    assert model == "Example CPU @ 2.00GHz"
    assert cores == 3           # (0,0) twice (hyper-threads), (0,1), (1,0)
    assert machine.simd_of(flags) == ("avx512", 16)
    assert machine.simd_of({"avx2", "fma"}) == ("avx2", 8)
    assert machine.simd_of(set()) == ("other", 1)


def test_roofline_is_the_lower_roof():
    c = fake_ceiling()
    assert c.attainable(2.0) == 2.0 * FAKE_BW          # memory-bound: 20 < 100
    assert c.attainable(50.0) == FAKE_PEAK             # compute-bound: 500 > 100


def test_ceiling_is_cached_per_machine_and_remeasured_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def measure(threads, progress=None):
        calls.append(threads)
        return fake_ceiling(threads)
    monkeypatch.setattr(machine, "measure_ceiling", measure)
    first = machine.machine_ceiling(1)
    assert calls == [1] and not first.cached
    assert machine.cache_path() == tmp_path / "mnprof" / "machine.json"
    again = machine.machine_ceiling(1)
    assert calls == [1] and again.cached and again.peak_gmacs_per_s == FAKE_PEAK
    machine.machine_ceiling(2)                          # another thread count: its own entry
    machine.machine_ceiling(1, remeasure=True)
    assert calls == [1, 2, 1]
    machine.cache_path().write_text("not json")          # a broken cache is remeasured
    machine.machine_ceiling(1)
    assert calls == [1, 2, 1, 1]


# ---------------------------------------------------------------------------
# Profile parsing and node mapping (hand-made graphs, no onnxruntime)


def _n(name, op, ins, outs):
    return OnnxNode(name, op, tuple(ins), tuple(outs))


# Layers: conv1 (conv + bn + relu), expand (pwconv + bn + relu6), project (pwconv + bn),
# add (conv1 + project), pool, fc. Tensors are named after their nodes, as exported.
ORIGINAL = GraphView((
    _n("conv1", "Conv", ["input", "conv1.weight"], ["conv1"]),
    _n("conv1.bn", "BatchNormalization", ["conv1", "conv1.bn.scale"], ["conv1.bn"]),
    _n("conv1.relu", "Relu", ["conv1.bn"], ["conv1.relu"]),
    _n("expand", "Conv", ["conv1.relu", "expand.weight"], ["expand"]),
    _n("expand.bn", "BatchNormalization", ["expand", "expand.bn.scale"], ["expand.bn"]),
    _n("expand.relu6", "Clip", ["expand.bn", "const.min", "const.max"], ["expand.relu6"]),
    _n("project", "Conv", ["expand.relu6", "project.weight"], ["project"]),
    _n("project.bn", "BatchNormalization", ["project", "project.bn.scale"], ["project.bn"]),
    _n("add", "Add", ["conv1.relu", "project.bn"], ["add"]),
    _n("pool", "GlobalAveragePool", ["add"], ["pool"]),
    _n("fc.flatten", "Flatten", ["pool"], ["fc.flatten"]),
    _n("fc", "Gemm", ["fc.flatten", "fc.weight", "fc.bias"], ["output"]),
), ("input",), {name: (1,) for name in (
    "conv1.weight", "conv1.bn.scale", "expand.weight", "expand.bn.scale", "const.min",
    "const.max", "project.weight", "project.bn.scale", "fc.weight", "fc.bias")})
LAYERS = ["conv1", "expand", "project", "add", "pool", "fc"]

# Level "all" on an AVX-512 CPU: NCHWc convs named after their output tensor + _nchwc,
# the residual Add folded into the project conv (its 4th input), a reorder back to NCHW.
OPTIMIZED_ALL = GraphView((
    _n("conv1.relu_nchwc", "Conv", ["input", "w0", "b0"], ["reorder_token_0"]),
    _n("expand.relu6_nchwc", "Conv", ["reorder_token_0", "w1", "b1"], ["reorder_token_1"]),
    _n("project.bn_nchwc", "Conv", ["reorder_token_1", "w2", "b2", "reorder_token_0"],
       ["reorder_token_2"]),
    _n("ReorderOutput", "ReorderOutput", ["reorder_token_2"], ["add"]),
    _n("pool", "GlobalAveragePool", ["add"], ["pool"]),
    _n("fc.flatten", "Flatten", ["pool"], ["fc.flatten"]),
    _n("fc", "Gemm", ["fc.flatten", "fc.weight", "fc.bias"], ["output"]),
), ("input",), {"w0": (16, 3, 3, 3), "b0": (16,), "w1": (32, 16, 1, 1), "b1": (32,),
                "w2": (16, 32, 1, 1), "b2": (16,), "fc.weight": (10, 16), "fc.bias": (10,)})


def test_nchwc_nodes_map_to_layers_and_a_folded_add_to_its_conv():
    covers = map_nodes(ORIGINAL, OPTIMIZED_ALL, LAYERS)
    # the reorder back to NCHW is charged to the layer that needs it: the pool reading it
    assert covers == [("conv1",), ("expand",), ("project", "add"), ("pool",), ("pool",),
                      ("fc",), ("fc",)]


def test_a_fusion_named_after_its_last_node_stays_with_that_nodes_layer():
    """x * Sigmoid(x) after an NCHWc conv becomes QuickGelu, named after the Mul with a
    ``/QuickGeluFusion/`` suffix and writing only a reorder token (as a legacy torch
    export of EfficientNet runs in onnxruntime 1.2x and 1.3x)."""
    original = GraphView((
        _n("/c0/Conv", "Conv", ["input", "w0"], ["a"]),
        _n("/c0/Sigmoid", "Sigmoid", ["a"], ["s"]),
        _n("/c0/Mul", "Mul", ["a", "s"], ["y"]),
        _n("/c1/Conv", "Conv", ["y", "w1"], ["z"]),
        _n("/c1/Sigmoid", "Sigmoid", ["z"], ["t"]),
        _n("/c1/Mul", "Mul", ["z", "t"], ["output"]),
    ), ("input",), {"w0": (8, 3, 3, 3), "w1": (8, 8, 1, 1)})
    optimized = GraphView((
        _n("a_nchwc", "Conv", ["input", "w0"], ["reorder_token_0"]),
        _n("/c0/Mul/QuickGeluFusion/", "QuickGelu", ["reorder_token_0"], ["reorder_token_1"]),
        _n("z_nchwc", "Conv", ["reorder_token_1", "w1"], ["reorder_token_2"]),
        _n("/c1/Mul/QuickGeluFusion/", "QuickGelu", ["reorder_token_2"], ["reorder_token_3"]),
        _n("ReorderOutput", "ReorderOutput", ["reorder_token_3"], ["output"]),
    ), ("input",), {"w0": (8, 3, 3, 3), "w1": (8, 8, 1, 1)})
    layers = ["/c0/Conv", "/c1/Conv"]
    node_layers = ["/c0/Conv"] * 3 + ["/c1/Conv"] * 3
    # the last reorder feeds only the graph output: charged to the layer that made its input
    assert map_nodes(original, optimized, layers, node_layers) == \
        [("/c0/Conv",), ("/c0/Conv",), ("/c1/Conv",), ("/c1/Conv",), ("/c1/Conv",)]


@pytest.mark.parametrize("hswish", ["one node", "opset 13"])
def test_an_activation_fused_after_naming_stays_with_its_conv(hswish):
    # onnxruntime names an NCHWc conv after its output at the time (the batch-norm's),
    # then fuses the HardSwish that follows: the next layer must not inherit it.
    # Before opset 14 the exporter writes HardSwish as x * HardSigmoid(x).
    act = ([_n("c1.hswish", "HardSwish", ["c1.bn"], ["c1.hswish"])] if hswish == "one node"
           else [_n("c1.hswish.gate", "HardSigmoid", ["c1.bn"], ["c1.hswish.gate"]),
                 _n("c1.hswish", "Mul", ["c1.bn", "c1.hswish.gate"], ["c1.hswish"])])
    original = GraphView((
        _n("c1", "Conv", ["input", "c1.weight"], ["c1"]),
        _n("c1.bn", "BatchNormalization", ["c1", "c1.bn.scale"], ["c1.bn"]),
        *act,
        _n("dw", "Conv", ["c1.hswish", "dw.weight"], ["dw"]),
        _n("dw.bn", "BatchNormalization", ["dw", "dw.bn.scale"], ["dw.bn"]),
        _n("dw.relu", "Relu", ["dw.bn"], ["output"]),
    ), ("input",), {t: (1,) for t in ("c1.weight", "c1.bn.scale", "dw.weight", "dw.bn.scale")})
    optimized = GraphView((
        OnnxNode("c1.bn_nchwc", "Conv", ("input", "w", "b"), ("t0",), "HardSwish"),
        OnnxNode("output_nchwc", "Conv", ("t0", "w2", "b2"), ("t1",), "Relu"),
        _n("ReorderOutput", "ReorderOutput", ["t1"], ["output"]),
    ), ("input",), {"w": (16, 3, 3, 3), "b": (16,), "w2": (16, 1, 3, 3), "b2": (16,)})
    assert map_nodes(original, optimized, ["c1", "dw"]) == [("c1",), ("dw",), ("dw",)]


def test_a_node_serving_no_layer_keeps_a_row_of_its_own():
    original = GraphView((_n("c1", "Conv", ["input", "w"], ["output"]),), ("input",),
                         {"w": (4, 3, 1, 1)})
    optimized = GraphView((
        _n("c1", "Conv", ["input", "w"], ["output"]),
        _n("Probe_0", "MemcpyFromHost", ["other"], ["unused"]),      # reads and feeds nothing
    ), ("input",), {"w": (4, 3, 1, 1)})
    assert map_nodes(original, optimized, ["c1"]) == [("c1",), ()]


def test_extended_level_fused_conv_and_an_inlined_function_map_by_their_tensors():
    # c1: conv + bn + hswish (inlined by onnxruntime into two unnamed nodes);
    # c2: a conv with no activation, followed by a separate relu layer `r`.
    original = GraphView((
        _n("c1", "Conv", ["input", "c1.weight"], ["c1"]),
        _n("c1.bn", "BatchNormalization", ["c1", "c1.bn.scale"], ["c1.bn"]),
        _n("c1.hswish", "HardSwish", ["c1.bn"], ["c1.hswish"]),
        _n("c2", "Conv", ["c1.hswish", "c2.weight"], ["c2"]),
        _n("r", "Relu", ["c2"], ["output"]),
    ), ("input",), {"c1.weight": (8, 3, 3, 3), "c1.bn.scale": (8,), "c2.weight": (8, 8, 1, 1)})
    optimized = GraphView((
        _n("c1", "Conv", ["input", "w", "b"], ["c1.bn"]),                # conv + bn
        _n("", "HardSigmoid", ["c1.bn"], ["_inlfunc_HardSwish_X"]),
        _n("", "Mul", ["c1.bn", "_inlfunc_HardSwish_X"], ["c1.hswish"]),
        _n("c2", "FusedConv", ["c1.hswish", "w2"], ["output"]),           # conv + relu layer
    ), ("input",), {"w": (8, 3, 3, 3), "b": (8,), "w2": (8, 8, 1, 1)})
    assert map_nodes(original, optimized, ["c1", "c2", "r"]) == [
        ("c1",), ("c1",), ("c1",), ("c2", "r")]
    timings = [NodeTiming(name, op, (1.0,), None) for name, op in (
        ("c1", "Conv"), ("HardSigmoid_7", "HardSigmoid"), ("Mul_8", "Mul"),
        ("c2", "FusedConv"), ("Memcpy", "Memcpy"))]
    assert match_timings(timings, optimized) == [0, 1, 2, 3, None]


def test_profile_events_are_split_by_run_and_warm_up_runs_dropped():
    def run(ts):
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": 100}

    def node(name, ts, dur):
        return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur,
                "args": {"op_name": "Conv", "output_type_shape": [{"float": [1, 8, 4, 4]}]}}
    events = [run(0), node("a", 10, 500),                           # warm-up
              run(200), node("a", 210, 30), node("b", 250, 20),
              run(400), node("a", 410, 40), node("b", 450, 10),
              {"cat": "Node", "name": "a_fence_before", "ts": 405, "dur": 0}]
    nodes, run_ms = parse_profile(events, skip_runs=1)
    assert [(n.name, n.times_us, n.median_us) for n in nodes] == [
        ("a", (30.0, 40.0), 35.0), ("b", (20.0, 10.0), 15.0)]
    assert nodes[0].output_shape == (1, 8, 4, 4) and nodes[0].op_type == "Conv"
    assert run_ms == [0.1, 0.1]


def test_executed_macs_come_from_the_padded_weight_shape():
    conv = _n("x_nchwc", "Conv", ["x", "w", "b"], ["y"])
    # 24 output channels padded to 32 (block 16): 32 * 24 * 1 * 1 weights, 8 x 8 outputs
    assert executed_macs(conv, {"w": (32, 24, 1, 1)}, (1, 32, 8, 8)) == 32 * 24 * 8 * 8
    assert executed_macs(conv, {"w": (32, 1, 3, 3)}, (2, 32, 4, 4)) == 32 * 9 * 2 * 16
    gemm = _n("fc", "Gemm", ["x", "w", "b"], ["y"])
    assert executed_macs(gemm, {"w": (10, 40)}, (3, 10)) == 3 * 40 * 10
    assert executed_macs(_n("r", "Relu", ["x"], ["y"]), {}, (1, 8)) is None
    assert executed_macs(conv, {}, (1, 32, 8, 8)) is None        # weights not constant


# ---------------------------------------------------------------------------
# Attribution: the rows add up, every layer appears, the roofline is the formula


NET = """\
name: tiny
input: {resolution: 16, channels: 3}
classes: 10
layers:
  - {name: conv1, kind: conv, kernel: 3, stride: 2, out: 16, bn: true, act: relu}
  - {name: expand, kind: pwconv, out: 32, bn: true, act: relu6}
  - {name: project, kind: pwconv, out: 16, bn: true}
  - {name: add, kind: add, inputs: [conv1, project]}
  - {name: pool, kind: global_avgpool}
  - {name: fc, kind: fc}
"""


def test_attribution_sums_to_the_median_and_keeps_every_layer(write_spec):
    costs = analyze(build(load_spec(write_spec(NET)), 1.0, 16))
    covers = map_nodes(ORIGINAL, OPTIMIZED_ALL, LAYERS)
    us = [40.0, 30.0, 20.0, 5.0, 2.0, 1.0, 2.0]             # kernel medians, as profiled
    nodes = [ProfiledNode(n.name or n.op_type, n.op_type, t, c, None)
             for n, t, c in zip(OPTIMIZED_ALL.nodes, us, covers, strict=True)]
    att = attribute(costs, nodes, e2e_median_ms=10.0, batch=1, ceiling=fake_ceiling())
    assert [r.name for r in att.layers] == LAYERS
    scale = 10.0 / (sum(us) / 1000)                        # kernel ms -> share of 10 ms
    times = {r.name: r.time_ms for r in att.layers}
    assert times["conv1"] == pytest.approx(0.040 * scale)
    assert times["project"] == pytest.approx(0.020 * scale)
    assert times["fc"] == pytest.approx((0.001 + 0.002) * scale)        # flatten + gemm
    add = next(r for r in att.layers if r.name == "add")
    assert add.fused_into == "project" and add.time_ms == 0.0
    assert times["pool"] == pytest.approx((0.005 + 0.002) * scale)   # reorder + pool
    assert "ReorderOutput" in next(r for r in att.layers if r.name == "pool").ort_nodes
    assert att.non_layer == ()
    # every way of adding up gives the end-to-end median
    assert sum(r.time_ms for r in att.by_type.values()) == pytest.approx(10.0)
    assert sum(r.time_ms for r in (*att.layers, *att.non_layer)) == pytest.approx(10.0)
    assert att.total.time_ms == pytest.approx(10.0) and att.total.time_pct == pytest.approx(100)
    assert set(att.by_type) == {"conv3x3", "conv1x1", "add", "global_avgpool", "fc"}
    assert att.by_type["conv1x1"].layers == 2

    # expand: 1x1 conv 16 -> 32 on the 8x8 map; bytes: fp32 input, weights, folded bias, output
    macs = 16 * 32 * 8 * 8
    nbytes = 4 * (16 * 8 * 8 + 16 * 32 + 32 + 32 * 8 * 8)
    expand = next(r for r in att.layers if r.name == "expand")
    assert (expand.macs, expand.bytes) == (macs, nbytes)
    achieved = macs / (times["expand"] * 1e-3) / 1e9
    attainable = min(FAKE_PEAK, macs / nbytes * FAKE_BW)
    assert expand.gmacs_per_s == pytest.approx(achieved)
    assert expand.attainable_gmacs_per_s == pytest.approx(attainable)
    assert expand.efficiency == pytest.approx(achieved / attainable)
    assert expand.bound == "memory"                        # 9.06 MAC/B x 10 GB/s < 100
    assert add.gmacs_per_s is None and add.efficiency is None           # no MACs, no roofline


# ---------------------------------------------------------------------------
# The timing loop


class FakeSession:
    def __init__(self, interrupt_at: int | None = None):
        self.calls, self.interrupt_at = 0, interrupt_at

    def run(self, outputs, feed):
        self.calls += 1
        if self.interrupt_at is not None and self.calls >= self.interrupt_at:
            raise KeyboardInterrupt


def test_timing_loop_makes_the_runs_asked_for_after_warm_up():
    s = FakeSession()
    t = time_runs(s, {}, warmup=4, runs=7, min_time=0.0)
    assert (len(t.samples_ms), s.calls, t.interrupted) == (7, 11, False)
    assert all(x >= 0.0 for x in t.samples_ms)


def test_ctrl_c_keeps_the_runs_already_timed():
    t = time_runs(FakeSession(interrupt_at=6), {}, warmup=2, runs=100, min_time=0.0)
    assert (len(t.samples_ms), t.interrupted) == (3, True)     # calls 3, 4, 5 were timed


# ---------------------------------------------------------------------------
# onnxruntime for real, at tiny sizes


def _check_report(r, graph):
    costs = analyze(graph)
    assert [x.name for x in r.layers] == [n.name for n in graph.nodes]
    assert [x.macs for x in r.layers] == [c.macs for c in costs.layers]
    median = r.latency_ms.median
    assert sum(x.time_ms for x in r.by_type.values()) == pytest.approx(median, rel=1e-9)
    assert sum(x.time_ms for x in (*r.layers, *r.non_layer)) == pytest.approx(median, rel=1e-9)
    assert r.total.macs == costs.totals.macs
    for x in r.layers:
        assert x.time_ms >= 0.0
        if x.note:                                        # an identity has no node
            assert (x.note, x.time_ms, x.type_key) == (NOT_EXPORTED, 0.0, "dropout"), x
        else:                                             # every other layer was found
            assert x.time_ms > 0.0 or x.fused_into in {y.name for y in r.layers}, x
        if x.macs:                      # onnxruntime never merges two convs into one node
            assert x.fused_into is None and x.time_ms > 0.0, x
        if x.executed_macs is not None:
            assert x.executed_macs >= x.macs
    assert r.non_layer == ()      # reorders are charged to the layers they serve
    assert any("Reorder" in n for x in r.layers for n in x.ort_nodes) == \
        any("charged to the layer" in n for n in r.notes)


def test_bench_v2_per_layer_and_per_type_add_up(cached_ceiling):
    graph = build(load_spec("mobilenet_v2"), 0.5, 32)
    r = bench_graph(graph, **QUICK, profile_runs=2)
    assert r.latency_ms.runs == 3 and r.environment.threads == 1 and r.threads == 1
    assert r.machine.cached and r.machine.peak_gmacs_per_s == FAKE_PEAK
    assert r.profile.runs == 2 and r.profile.nodes > 0
    _check_report(r, graph)
    assert any(n.startswith("Per-layer and per-type times") for n in r.notes)


@pytest.mark.parametrize("opset", [13, 17])
def test_v3_layers_keep_their_own_kernels_at_every_opset(cached_ceiling, opset):
    # h-swish is one HardSwish node from opset 14, x * HardSigmoid(x) before
    graph = build(load_spec("mobilenet_v3_small"), 1.0, 32)
    _check_report(bench_graph(graph, **QUICK, profile_runs=1, opset=opset), graph)


def test_padded_channels_show_as_executed_macs(cached_ceiling):
    # alpha 0.75 gives 24-channel layers; NCHWc blocks of 16 floats run them as 32.
    graph = build(load_spec("mobilenet_v1"), 0.75, 32)
    r = bench_graph(graph, **QUICK, profile_runs=2)
    _check_report(r, graph)
    if machine.cpu_info().nchwc_block != 16:
        pytest.skip("this CPU has no AVX-512: onnxruntime's blocks are not 16 floats")
    padded = [x for x in r.layers if x.executed_macs and x.executed_macs > x.macs]
    assert padded, "no layer shows padded channels"
    conv1 = r.layers[0]                                    # 3 -> 24 channels, run as 32
    assert conv1.executed_macs == conv1.macs * 32 // 24


def test_without_per_layer_only_the_end_to_end_figures(cached_ceiling):
    graph = build(load_spec("mobilenet_v1"), 0.25, 32)
    r = bench_graph(graph, **QUICK, per_layer=False)
    assert r.profile is None and r.layers == () and r.total is None
    assert r.latency_ms.runs == 3


def test_measure_latency_gives_what_the_budget_gate_reads():
    r = measure_latency(build(load_spec("mobilenet_v1"), 0.25, 32), **QUICK)
    assert r.latency_ms.runs == 3 and r.threads == 1
    assert 0 < r.latency_ms.p10 <= r.latency_ms.median <= r.latency_ms.p90
    assert r.latency_ms.stdev >= 0


def test_bench_settings_are_checked_before_any_work():
    graph = build(load_spec("mobilenet_v1"), 0.25, 32)
    for bad, word in ((dict(threads=0), "threads"), (dict(runs=0), "runs"),
                      (dict(warmup=-1), "warmup"), (dict(batch=0), "batch"),
                      (dict(min_time=-1.0), "min-time"), (dict(opt_level="max"), "level")):
        with pytest.raises(MnprofError, match=word):
            bench_graph(graph, **{**QUICK, **bad})


@pytest.fixture
def onnx_file(tmp_path):
    from mnprof.onnxio.export import export_model, save_model
    path = tmp_path / "tiny.onnx"
    save_model(export_model(build(load_spec("mobilenet_v1"), 0.25, 32), batch=None), path)
    return path


def test_an_onnx_file_is_timed_end_to_end(cached_ceiling, onnx_file):
    r = bench_onnx_file(onnx_file, **QUICK, batch=2, per_layer=False)
    assert r.source == "onnx" and r.latency_ms.runs == 3 and r.layers == ()
    assert r.input_shape == (3, 32, 32) and r.environment.batch == 2


# ---------------------------------------------------------------------------
# The command line


def _json(run, *args):
    result = run("bench", *args, *CLI_QUICK, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_json_has_the_contract_fields(run, cached_ceiling):
    d = _json(run, "mobilenet_v2", "--alpha", "0.35", "--res", "32")
    assert d["schema"] == BENCH_SCHEMA and d["model"] == "mobilenet_v2"
    assert (d["alpha"], d["resolution"]) == (0.35, 32)
    for key in ("cpu_model", "cores_used", "onnxruntime_version", "threads", "opt_level",
                "opset", "batch", "runs"):
        assert key in d["environment"], key
    for key in ("median", "p10", "p90", "mean", "stdev", "cv", "runs", "throughput_per_s"):
        assert key in d["latency_ms"], key
    assert d["environment"]["threads"] == 1 and d["latency_ms"]["runs"] == 3
    assert d["machine"]["peak_gmacs_per_s"] == FAKE_PEAK
    assert d["machine"]["bandwidth_gb_per_s"] == FAKE_BW
    for row in d["by_type"].values():
        for key in ("macs", "macs_pct", "time_ms", "time_pct", "gmacs_per_s"):
            assert key in row
    assert sum(r["time_ms"] for r in d["by_type"].values()) == pytest.approx(
        d["latency_ms"]["median"], rel=1e-6)
    assert sum(r["macs_pct"] for r in d["by_type"].values()) == pytest.approx(100)
    graph = build(load_spec("mobilenet_v2"), 0.35, 32)
    assert [x["name"] for x in d["layers"]] == [n.name for n in graph.nodes]
    for x in d["layers"]:
        assert {"name", "type", "macs", "time_ms"} <= set(x)
    assert d["profile"]["normalised_to"] == "end-to-end median"


def test_cli_tables_show_every_layer_with_per_layer(run, cached_ceiling):
    result = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32", *CLI_QUICK,
                 "--per-layer")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for title in ("Latency", "Per layer type", "Per layer (measured", "Machine ceiling",
                  "Environment"):
        assert title in out
    for node in build(load_spec("mobilenet_v1"), 0.25, 32).nodes:
        assert f" {node.name} " in out
    plain = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32", *CLI_QUICK)
    assert "Per layer (measured" not in plain.stdout and "Per layer type" in plain.stdout
    md = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32", *CLI_QUICK,
             "--format", "markdown")
    assert md.exit_code == 0 and "| type | layers |" in md.stdout


def test_cli_times_an_onnx_file_and_writes_output_atomically(run, cached_ceiling, onnx_file,
                                                              tmp_path):
    out = tmp_path / "report.json"
    result = run("bench", str(onnx_file), *CLI_QUICK, "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    d = json.loads(out.read_text())
    assert d["source"] == "onnx" and d["latency_ms"]["runs"] == 3
    # the file's layers, from its import (the per-layer figures come by default)
    from mnprof import load_model
    assert [r["name"] for r in d["layers"]] == [n.name for n in load_model(onnx_file).nodes]
    refused = run("bench", str(onnx_file), *CLI_QUICK, "-o", str(onnx_file))
    assert refused.exit_code == 2 and "input file" in refused.stderr


@pytest.mark.parametrize("args, message", [
    (("--threads", "0"), "--threads"),
    (("--runs", "0"), "--runs"),
    (("--warmup", "-1"), "--warmup"),
    (("--opt-level", "max"), "--opt-level"),
    (("no_such_spec",), "no_such_spec"),
])
def test_cli_bad_input_is_one_line_and_exit_2(run, args, message):
    result = run("bench", *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stdout == ""


def test_cli_bad_onnx_files_are_one_line_and_exit_2(run, tmp_path, onnx_file):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00 this is not a protobuf \xff" * 10)
    for path, message in ((garbage, "not a readable ONNX model"),
                          (tmp_path / "missing.onnx", "no such ONNX model file")):
        result = run("bench", str(path))
        assert result.exit_code == 2 and message in result.stderr
        assert result.stderr.count("\n") == 1
    result = run("bench", str(onnx_file), "--alpha", "0.5")
    assert result.exit_code == 2 and "--alpha applies to specs" in result.stderr


def test_cli_ctrl_c_prints_what_was_measured_and_exits_130(run, cached_ceiling, monkeypatch):
    monkeypatch.setattr(bench_core, "time_runs",
                        lambda *a, **k: Timing([1.0, 3.0, 2.0], interrupted=True))
    result = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32", "-f", "json")
    assert result.exit_code == 130
    d = json.loads(result.stdout)
    assert d["interrupted"] is True and d["latency_ms"]["runs"] == 3
    assert d["latency_ms"]["median"] == 2.0
    assert "interrupted after 3 timed run(s)" in result.stderr
    monkeypatch.setattr(bench_core, "time_runs", lambda *a, **k: Timing([], interrupted=True))
    nothing = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32")
    assert nothing.exit_code == 130 and nothing.stdout == ""


def test_sweep_bench_adds_latency_columns(run, monkeypatch):
    from mnprof.cli import sweep as cli_sweep
    monkeypatch.setattr(cli_sweep, "SWEEP_BENCH", {"runs": 2, "warmup": 0, "min_time": 0.0})
    result = run("sweep", "--alpha", "0.25,0.5", "--res", "32", "--bench", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [(r["alpha"], r["resolution"]) for r in rows] == [(0.25, 32), (0.5, 32)]
    assert all(r["latency_ms"]["runs"] == 2 and r["latency_ms"]["median"] > 0 for r in rows)
    table = run("sweep", "--alpha", "0.25", "--res", "32", "--bench")
    assert "median ms" in table.stdout


def test_bench_to_dict_is_json_serialisable(cached_ceiling):
    r = bench_graph(build(load_spec("mobilenet_v1"), 0.25, 32), **QUICK, profile_runs=1)
    d = json.loads(json.dumps(bench_to_dict(r)))
    assert d["total"]["time_ms"] == pytest.approx(r.latency_ms.median)


def test_cost_and_the_cli_never_import_onnx():
    code = ("import sys; import mnprof.bench, mnprof.bench.machine, mnprof.cli.bench\n"
            "from click.testing import CliRunner\n"
            "from mnprof.cli import main\n"
            "assert CliRunner().invoke(main, ['cost', '--res', '32']).exit_code == 0\n"
            "assert CliRunner().invoke(main, ['sweep', '--res', '32']).exit_code == 0\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime')]\n"
            "assert not heavy, heavy\n")
    root = ROOT
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_a_noisy_run_says_so():
    settings = bench_core.Settings.of(threads=1, runs=4, warmup=0, min_time=0.0, batch=1,
                                      opt_level="all")
    env = bench_core.environment_of(machine.cpu_info(), settings, runs=4, opset=17, load=0.0)
    assert spread_notes(latency_stats([10.0, 10.1, 9.9, 10.0]), env) == ()
    # one slow run in twenty moves the cv (0.67 here), not p10 or p90: no warning
    assert spread_notes(latency_stats([10.0] * 19 + [40.0]), env) == ()
    noisy = spread_notes(latency_stats([10.0, 20.0, 10.0, 30.0]), env)
    assert len(noisy) == 1 and "vary a lot" in noisy[0]
