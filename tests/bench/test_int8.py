"""The int8 bench: onnxruntime's int8 kernels mapped back to layers, int8 theory and roofs,
fp32 against int8 in one report. Structure and consistency only, never speed.

The mapping is tested on hand-made graphs shaped like what onnxruntime 1.x makes of a
QDQ model on x86 (QLinearConv named ``<conv>_token_<n>`` whose output tensor is the
float conv's, NHWC Transposes, duplicated DequantizeLinear nodes, an unnamed node),
and end to end on tiny built-ins with a fake machine ceiling and int8 peak in a
temporary cache (the real GEMM benchmarks never run in tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mnprof import build, load_spec
from mnprof.analysis.cost import FP32, INT8, layer_cost
from mnprof.bench import int8peak, machine
from mnprof.bench.machine import Ceiling
from mnprof.bench.measure import bench_graph
from mnprof.bench.precision import compare_precisions
from mnprof.bench.profile import GraphView, OnnxNode, map_nodes
from mnprof.bench.qmap import (
    QDQ_OPS,
    int8_executed_macs,
    is_int8_kernel,
    map_quantized,
    quantized_node_layers,
)
from mnprof.bench.report import bench_to_dict
from mnprof.core.contracts import PRECISION_SCHEMA
from mnprof.onnxio.quantopts import QuantOptions

from ..paths import ROOT

FAKE_PEAK, FAKE_BW, FAKE_INT8 = 100.0, 10.0, 400.0
QUICK = dict(threads=1, runs=3, warmup=1, min_time=0.0, profile_runs=2)
FAST = QuantOptions(samples=2)
ROWS_OF_THEIR_OWN = QDQ_OPS | {"Transpose", "ReorderInput", "ReorderOutput"}


@pytest.fixture
def fake_roofs(tmp_path, monkeypatch):
    """A machine cache with a fake fp32 ceiling and int8 peak; measuring either fails."""
    import onnxruntime as ort
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    model = machine.cpu_info().model
    entries = {}
    for t in range(1, (os.cpu_count() or 1) + 2):
        c = Ceiling(FAKE_PEAK, FAKE_BW, t, model, ort.__version__, "fake GEMM", "fake copy",
                    "2000-01-01T00:00:00Z")
        entries[machine.cache_key(model, t, ort.__version__)] = {
            k: v for k, v in c.to_dict().items() if k != "cached"}
        entries[int8peak.int8_cache_key(model, t, ort.__version__)] = {
            "peak_gmacs_per_s": FAKE_INT8, "method": "fake int8 GEMM",
            "measured_at": "2000-01-01T00:00:00Z", "load_average": None}
    path = machine.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": machine.CACHE_SCHEMA, "entries": entries}))

    def no_measuring(*args, **kwargs):
        raise AssertionError("roofs must come from the cache in tests")
    monkeypatch.setattr(machine, "measure_ceiling", no_measuring)
    monkeypatch.setattr(int8peak, "measure_int8_peak", no_measuring)
    return path


# ---------------------------------------------------------------------------
# Mapping onnxruntime's int8 graph back to layers


def node(name, op, ins, outs):
    return OnnxNode(name, op, tuple(ins), tuple(outs))


# The int8 model as quantized: conv1 (conv + relu6) then pw (a 1x1 conv) then an add
# reading both, each output quantized; hswish's inside left unnamed by onnxruntime.
MODEL = GraphView((
    node("input_QuantizeLinear", "QuantizeLinear", ["input", "s", "z"], ["input_q"]),
    node("input_DequantizeLinear", "DequantizeLinear", ["input_q", "s", "z"], ["input_dq"]),
    node("conv1.weight_DequantizeLinear", "DequantizeLinear", ["w1", "ws", "wz"], ["w1_dq"]),
    node("conv1", "Conv", ["input_dq", "w1_dq"], ["conv1"]),
    node("conv1.relu6", "Clip", ["conv1"], ["conv1.relu6"]),
    node("conv1.relu6_QuantizeLinear", "QuantizeLinear", ["conv1.relu6", "s", "z"], ["c1_q"]),
    node("conv1.relu6_DequantizeLinear", "DequantizeLinear", ["c1_q", "s", "z"], ["c1_dq"]),
    node("pw.weight_DequantizeLinear", "DequantizeLinear", ["w2", "ws", "wz"], ["w2_dq"]),
    node("pw", "Conv", ["c1_dq", "w2_dq"], ["pw"]),
    node("pw_QuantizeLinear", "QuantizeLinear", ["pw", "s", "z"], ["pw_q"]),
    node("pw_DequantizeLinear", "DequantizeLinear", ["pw_q", "s", "z"], ["pw_dq"]),
    node("add", "Add", ["pw_dq", "c1_dq"], ["add"]),
    node("add.hswish.hardsigmoid", "HardSigmoid", ["add"], ["gate"]),
    node("add.hswish", "Mul", ["add", "gate"], ["output"]),
), ("input",), {"w1": (8, 3, 3, 3), "w2": (16, 8, 1, 1), "ws": (8,), "wz": (8,)})

# What onnxruntime runs: conv1 fused into a QLinearConv named after it, whose output
# tensor is the float conv's ("conv1") though it holds the quantized relu6 output; NHWC
# Transposes it added; pw left a float Conv on dequantized data (its int8 output has
# two consumers), a duplicated DequantizeLinear; the add's gate unnamed.
OPTIMIZED = GraphView((
    node("input_QuantizeLinear", "QuantizeLinear", ["input", "s", "zu"], ["q_u8"]),
    node("Transpose", "Transpose", ["q_u8"], ["t0"]),
    node("conv1_token_7", "QLinearConv", ["t0", "s", "zu", "w1", "ws", "wz", "s", "zu"],
         ["conv1"]),
    node("Transpose_token_9", "Transpose", ["conv1"], ["t1"]),
    node("conv1.relu6_DequantizeLinear", "DequantizeLinear", ["t1", "s", "zu"], ["c1_dq"]),
    node("conv1.relu6_DequantizeLinear/duplicated", "DequantizeLinear", ["t1", "s", "zu"],
         ["c1_dq2"]),
    node("pw.weight_DequantizeLinear", "DequantizeLinear", ["w2", "ws", "wz"], ["w2_dq"]),
    node("pw", "Conv", ["c1_dq", "w2_dq"], ["pw"]),
    node("pw_QuantizeLinear", "QuantizeLinear", ["pw", "s", "z"], ["pw_q"]),
    node("pw_DequantizeLinear", "DequantizeLinear", ["pw_q", "s", "z"], ["pw_dq"]),
    node("add", "Add", ["pw_dq", "c1_dq2"], ["add"]),
    node("", "HardSigmoid", ["add"], ["gate"]),
    node("add.hswish", "Mul", ["add", "gate"], ["output"]),
), ("input",), {"w1": (8, 3, 3, 3), "w2": (16, 8, 1, 1), "ws": (8,), "wz": (8,)})

LAYERS = ["conv1", "pw", "add"]


def layer_by_name(name):
    return next((x for x in LAYERS if name == x or name.startswith(x + ".")), None)


def test_the_model_nodes_layers():
    got = quantized_node_layers(MODEL, layer_by_name)
    assert got == [None, None, None, "conv1", "conv1", None, None, None, "pw", None, None,
                   "add", "add", "add"]


def test_int8_kernels_land_on_their_layers_and_qdq_keep_rows():
    covers = map_quantized(MODEL, OPTIMIZED, LAYERS, quantized_node_layers(MODEL, layer_by_name))
    assert covers == [(), (), ("conv1",), (), (), (), (), ("pw",), (), (), ("add",), ("add",),
                      ("add",)]
    # tracing data (the float models' mapping) would hand conv1's relu6 to the dequantize
    # node after it, and its layout change to conv1: here names decide
    traced = map_nodes(MODEL, OPTIMIZED, LAYERS, quantized_node_layers(MODEL, layer_by_name))
    assert traced[1] == ("conv1",) and traced[4] == ("conv1",)


def test_executed_macs_of_int8_and_dequantized_nodes():
    q = OPTIMIZED.nodes[2]
    # NHWC output [1, 14, 14, 8]: 8 x 3 x 3 x 3 weights per output pixel
    assert int8_executed_macs(q, OPTIMIZED, (1, 14, 14, 8)) == 8 * 27 * 14 * 14
    pw = OPTIMIZED.nodes[7]        # a float Conv whose weight is dequantized
    assert int8_executed_macs(pw, OPTIMIZED, (1, 16, 14, 14)) == 16 * 8 * 14 * 14
    assert int8_executed_macs(OPTIMIZED.nodes[10], OPTIMIZED, (1, 16, 14, 14)) is None
    assert is_int8_kernel("QLinearConv") and is_int8_kernel("QGemm")
    assert not is_int8_kernel("QuantizeLinear") and not is_int8_kernel("Conv")


# ---------------------------------------------------------------------------
# The int8 bench, end to end


def int8_bench(name="mobilenet_v2", quant=FAST, **kw):
    return bench_graph(build(load_spec(name), 0.25, 64), **QUICK, precision="int8",
                       quant=quant, **kw)


def test_all_int8_time_lands_on_layers_or_named_rows(fake_roofs):
    r = int8_bench()
    total = sum(x.time_ms for x in r.layers) + sum(x.time_ms for x in r.non_layer)
    assert total == pytest.approx(r.latency_ms.median)
    assert {x.type_key for x in r.non_layer} <= ROWS_OF_THEIR_OWN
    assert sum(r.by_type[k].time_ms for k in r.by_type) == pytest.approx(r.latency_ms.median)
    s = r.int8
    for c in r.layers:
        if c.macs:                            # every conv and fc has a kernel and a time
            assert c.time_ms > 0 and c.name in s.kernels, c
            assert c.executed_macs == c.macs   # int8 kernels pad no channels
        ops = s.kernels.get(c.name, ())
        if c.name in s.float_kernels:
            assert not any(is_int8_kernel(op) for op in ops)
        elif c.macs:
            assert any(is_int8_kernel(op) for op in ops), (c.name, ops)


def test_int8_theory_and_roofs_follow_the_kernels(fake_roofs):
    r = int8_bench()
    graph = build(load_spec("mobilenet_v2"), 0.25, 64)
    s = r.int8
    assert s.peak.peak_gmacs_per_s == FAKE_INT8
    for row in r.layers:
        if not row.macs:
            continue
        ran_float = row.name in s.float_kernels
        c = layer_cost(graph.node(row.name), FP32 if ran_float else INT8)
        assert row.bytes == c.bytes
        peak = FAKE_PEAK if ran_float else FAKE_INT8
        assert row.attainable_gmacs_per_s == pytest.approx(min(peak, row.intensity * FAKE_BW))


def test_uint8_activations_run_every_layer_in_int8_here(fake_roofs):
    # On x86, onnxruntime turns int8 activations into uint8 only where a tensor has one
    # consumer: with uint8 activations from the start, V2's convs and adds all fuse.
    r = int8_bench(quant=QuantOptions(samples=2, activations="uint8"))
    assert r.int8.float_kernels == ()
    assert r.int8.quantization["scheme"] == "U8S8"


def test_int8_json_and_fp32_json(fake_roofs):
    r = int8_bench("mobilenet_v1")
    d = json.loads(json.dumps(bench_to_dict(r)))
    assert d["precision"] == "int8" and d["int8"]["quantization"]["format"] == "qdq"
    assert d["int8"]["kept_float_on_purpose"] == ["softmax"]
    assert d["int8"]["fidelity"]["images"] >= 1 and d["int8"]["int8_peak"]["peak_gmacs_per_s"]
    assert {x["kernel"] for x in d["layers"] if x["macs"]} == {"int8"}
    f = bench_to_dict(bench_graph(build(load_spec("mobilenet_v1"), 0.25, 64), **QUICK))
    assert "precision" not in f and "int8" not in f
    assert all("kernel" not in x for x in f["layers"])


def test_fp32_against_int8(fake_roofs):
    graph = build(load_spec("mobilenet_v1"), 0.25, 64)
    r = compare_precisions(graph, quant=FAST, **QUICK)
    assert r.speedup == pytest.approx(r.fp32.latency_ms.median / r.int8.latency_ms.median)
    assert [x.name for x in r.layers] == [n.name for n in graph.nodes]
    for x, a, b in zip(r.layers, r.fp32.layers, r.int8.layers, strict=True):
        assert (x.fp32_ms, x.int8_ms) == (a.time_ms, b.time_ms)
        if a.time_ms and b.time_ms:
            assert x.speedup == pytest.approx(a.time_ms / b.time_ms)
    total = next(x for x in r.by_type if x.name == "total")
    assert total.fp32_ms == pytest.approx(r.fp32.latency_ms.median)
    assert total.int8_ms == pytest.approx(r.int8.latency_ms.median)
    assert r.int8_footprint.peak_activation_bytes * 4 == r.fp32_footprint.peak_activation_bytes
    assert r.int8_footprint.activation_bytes * 4 == r.fp32_footprint.activation_bytes
    assert r.int8_footprint.model_bytes < r.fp32_footprint.model_bytes / 2


def test_compare_precision_from_a_fresh_process(fake_roofs):
    done = subprocess.run(
        [sys.executable, "-m", "mnprof", "bench", "mobilenet_v1", "--alpha", "0.25", "--res",
         "64", "--compare-precision", "--threads", "1", "--runs", "3", "--warmup", "1",
         "--min-time", "0", "--calibration-samples", "2", "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    assert d["schema"] == PRECISION_SCHEMA
    assert d["end_to_end"]["speedup"] == pytest.approx(
        d["end_to_end"]["fp32"]["median"] / d["end_to_end"]["int8"]["median"])
    assert d["quantization"]["calibration"] == "minmax" and d["quantization"]["samples"] == 2
    assert "avx2" in d["isa"] or d["isa"] == [] or "asimd" in d["isa"]
    assert d["footprint"]["int8"]["model_bytes"] < d["footprint"]["fp32"]["model_bytes"]


def test_compare_precision_tables(fake_roofs, run):
    result = run("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "64",
                 "--compare-precision", "--per-layer", "--threads", "1", "--runs", "3",
                 "--warmup", "1", "--min-time", "0", "--calibration-samples", "2")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("fp32 vs int8", "Per layer type: fp32 vs int8", "Per layer: fp32 vs int8",
                 "model size on disk", "peak activation memory", "speed-up", "int8 model",
                 "int8 dot-product extensions"):
        assert text in out, text


@pytest.mark.parametrize("args, message", [
    (["bench", "--calibration", "entropy"], "--calibration applies with --precision int8"),
    (["bench", "m.onnx", "--precision", "int8"], "apply to specs"),
    (["bench", "--compare-precision", "--precision", "int8"], "drop --precision"),
    (["bench", "--compare-precision", "--format", "html"], "table, json or markdown"),
    (["sweep", "--precision", "int8"], "--precision applies to --bench"),
    (["compare", "mobilenet_v1", "--precision", "int8"], "--precision applies to --bench"),
])
def test_precision_usage_errors(run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_the_int8_peak_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = []

    def fake(threads, progress=None):
        made.append(threads)
        return int8peak.Int8Peak(123.0, "fake", "2000-01-01T00:00:00Z")
    monkeypatch.setattr(int8peak, "measure_int8_peak", fake)
    first = int8peak.int8_peak(1)
    assert first.peak_gmacs_per_s == 123.0 and not first.cached and made == [1]
    again = int8peak.int8_peak(1)
    assert again.cached and again.peak_gmacs_per_s == 123.0 and made == [1]
    int8peak.int8_peak(1, remeasure=True)
    assert made == [1, 1]
    roof = again.ceiling(Ceiling(10.0, 5.0, 1, "cpu", "v", "g", "c", "t"))
    assert roof.attainable(1000.0) == 123.0 and roof.attainable(1.0) == 5.0
