"""How well ``mnprof bench`` measures: prints figures, asserts nothing (see README, "Bench").

1. Harness overhead: mnprof's median vs a bare ``session.run`` loop written here with
   onnxruntime directly (same model, same session options), in alternating rounds.
2. Repeatability: two back-to-back default ``mnprof bench`` runs (fresh processes)
   and the difference of their medians.
3. Wall time of a default ``mnprof bench`` on MobileNetV1 at 224: with an empty
   machine cache (the ceiling measured) and with it cached.
4. The exported graph vs the same architecture as a mainstream framework exporter
   writes it: PyTorch's exporter in eval mode folds batch-norm into the conv and
   writes Conv(+bias) -> Relu per layer, GlobalAveragePool, Flatten, Gemm, Softmax
   (torch is not installed here, so that graph is built node by node below with the
   same weights as mnprof's, batch-norm folded). Compared: node counts by op type
   before and after onnxruntime's optimiser, that every Conv + BN + ReLU was fused,
   and both latencies in alternating rounds.

The machine may be shared: every figure comes with its spread and the load average.
Run: python benchmarks/bench_harness.py [--rounds N] [--runs N]
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from mnprof import build, load_spec
from mnprof.bench.machine import default_threads
from mnprof.bench.measure import measure_latency
from mnprof.onnxio.export import export_model
from mnprof.onnxio.weights import generate_weights

BN_EPSILON = 1e-5          # PyTorch's BatchNorm2d default, as mnprof's specs use it

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def options(threads: int, optimized: str | None = None) -> ort.SessionOptions:
    """Written out here, not taken from mnprof: the bare loop must be independent."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if optimized:
        so.optimized_model_filepath = optimized
    return so


def bare_loop(model: bytes, threads: int, warmup: int, runs: int) -> list[float]:
    session = ort.InferenceSession(model, options(threads), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    feed = {"input": x}
    for _ in range(warmup):
        session.run(None, feed)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feed)
        out.append((time.perf_counter() - t0) * 1000)
    del session
    gc.collect()
    return out


def spread(xs: list[float]) -> str:
    return (f"median {statistics.median(xs):.3f} ms (min {min(xs):.3f}, max {max(xs):.3f}, "
            f"n={len(xs)})")


def harness_overhead(graph, threads: int, rounds: int, runs: int) -> None:
    model = export_model(graph).SerializeToString()
    ours, bare = [], []
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                rep = measure_latency(graph, threads=threads, runs=runs, warmup=10,
                                      min_time=0.0)
                ours.append(rep.latency_ms.median)
            else:
                bare.append(statistics.median(bare_loop(model, threads, 10, runs)))
    a, b = statistics.median(ours), statistics.median(bare)
    print(f"1. harness overhead ({rounds} alternating rounds x {runs} runs, {threads} threads)")
    print(f"   mnprof measure_latency: per-round medians {spread(ours)}")
    print(f"   bare session.run loop:  per-round medians {spread(bare)}")
    print(f"   mnprof / bare = {a / b:.4f} ({100 * (a / b - 1):+.2f}%)   load avg {load()}")


def cli_bench(args: list[str], env: dict[str, str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mnprof", "bench", *args, "-f", "json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, json.loads(done.stdout)


def repeatability_and_wall_time() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        cold, r0 = cli_bench([], env)                    # measures the ceiling too
        warm1, r1 = cli_bench([], env)
        warm2, r2 = cli_bench([], env)
    m1, m2 = r1["latency_ms"]["median"], r2["latency_ms"]["median"]
    print("2. repeatability: default `mnprof bench` (mobilenet_v1, 224), back to back")
    for name, r in (("run A", r1), ("run B", r2)):
        lat = r["latency_ms"]
        print(f"   {name}: median {lat['median']:.3f} ms, p10 {lat['p10']:.3f}, "
              f"p90 {lat['p90']:.3f}, cv {100 * lat['cv']:.1f}%, runs {lat['runs']}")
    print(f"   |A - B| / A = {100 * abs(m1 - m2) / m1:.2f}%   (the cold run before them: "
          f"{r0['latency_ms']['median']:.3f} ms)   load avg {load()}")
    print("3. wall time of default `mnprof bench` on mobilenet_v1 at 224 (fresh process)")
    print(f"   empty machine cache (ceiling measured): {cold:.2f} s")
    print(f"   ceiling cached: {warm1:.2f} s and {warm2:.2f} s")
    print(f"   threads {r1['environment']['threads']}, timed runs {r1['latency_ms']['runs']}, "
          f"profiled runs {r1['profile']['runs']}")


def framework_style(graph) -> onnx.ModelProto:
    """MobileNetV1 as PyTorch's exporter writes it in eval mode (BN folded into convs)."""
    w = generate_weights(graph, 0)
    nodes, inits = [], []
    x = "input"
    for node in graph.nodes:
        a = node.attrs
        if node.kind in ("conv", "pwconv", "dwconv"):
            k, s = a["kernel"], a["stride"]
            cin = node.input_shapes[0][0]
            group = cin if node.kind == "dwconv" else 1
            gamma, beta = w[f"{node.name}.bn.scale"], w[f"{node.name}.bn.shift"]
            mean, var = w[f"{node.name}.bn.mean"], w[f"{node.name}.bn.var"]
            scale = gamma / np.sqrt(var + BN_EPSILON)
            weight = w[f"{node.name}.weight"] * scale.reshape(-1, 1, 1, 1)
            bias = beta - mean * scale
            inits += [numpy_helper.from_array(weight.astype(np.float32), f"{node.name}.w"),
                      numpy_helper.from_array(bias.astype(np.float32), f"{node.name}.b")]
            pad = (k - 1) // 2
            y = f"/{node.name}/Conv_output_0"
            nodes.append(helper.make_node("Conv", [x, f"{node.name}.w", f"{node.name}.b"], [y],
                                          name=f"/{node.name}/Conv", kernel_shape=[k, k],
                                          strides=[s, s], pads=[pad] * 4, group=group))
            x = y
            nodes.append(helper.make_node("Relu", [x], [f"/{node.name}/Relu_output_0"],
                                          name=f"/{node.name}/Relu"))
            x = f"/{node.name}/Relu_output_0"
        elif node.kind == "global_avgpool":
            nodes.append(helper.make_node("GlobalAveragePool", [x], ["/pool/out"], name="/pool"))
            nodes.append(helper.make_node("Flatten", ["/pool/out"], ["/flat/out"], name="/flat",
                                          axis=1))
            x = "/flat/out"
        elif node.kind == "fc":
            inits += [numpy_helper.from_array(w["fc.weight"], "fc.w"),
                      numpy_helper.from_array(w["fc.bias"], "fc.b")]
            nodes.append(helper.make_node("Gemm", [x, "fc.w", "fc.b"], ["/fc/out"], name="/fc",
                                          transB=1))
            x = "/fc/out"
        elif node.kind == "softmax":
            nodes.append(helper.make_node("Softmax", [x], ["output"], name="/softmax", axis=1))
            x = "output"
        else:
            raise SystemExit(f"framework_style: no rule for {node.kind}")
    g = helper.make_graph(nodes, "framework_style",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                         [1, 3, 224, 224])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                                         [1, 1000])], inits)
    opset = helper.make_opsetid("", 17)
    model = helper.make_model(g, opset_imports=[opset],
                              ir_version=helper.find_min_ir_version_for([opset]))
    onnx.checker.check_model(model)
    return model


def optimized_ops(model: onnx.ModelProto, threads: int) -> tuple[collections.Counter, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "opt.onnx")
        session = ort.InferenceSession(model.SerializeToString(), options(threads, path),
                                       providers=["CPUExecutionProvider"])
        del session
        gc.collect()
        opt = onnx.load(path)
    ops = collections.Counter(f"{n.domain + ':' if n.domain else ''}{n.op_type}"
                              for n in opt.graph.node)
    fused = sum(1 for n in opt.graph.node if n.op_type in ("Conv", "FusedConv")
                and any(a.name == "activation" for a in n.attribute))
    return ops, fused


def compare_with_framework(graph, threads: int, rounds: int, runs: int) -> None:
    ours = export_model(graph)
    theirs = framework_style(graph)
    print("4. exported graph vs a PyTorch-style export of the same MobileNetV1 (224)")
    for name, m in (("mnprof export", ours), ("PyTorch-style", theirs)):
        ops = collections.Counter(n.op_type for n in m.graph.node)
        extra = {k: ops[k] for k in ("Transpose", "Reshape", "Cast", "Identity") if ops[k]}
        print(f"   {name:14s} as exported:   {dict(sorted(ops.items()))}; "
              f"Transpose/Reshape/Cast/Identity: {extra or 'none'}")
    convs = sum(1 for n in graph.nodes if n.kind in ("conv", "pwconv", "dwconv"))
    for name, m in (("mnprof export", ours), ("PyTorch-style", theirs)):
        ops, fused = optimized_ops(m, threads)
        print(f"   {name:14s} after ORT all: {dict(sorted(ops.items()))}; "
              f"convs with a fused activation: {fused} of {convs}")
    a_bytes, b_bytes = ours.SerializeToString(), theirs.SerializeToString()
    a, b = [], []
    for r in range(rounds):
        for which in ((0, 1) if r % 2 == 0 else (1, 0)):
            xs = bare_loop(a_bytes if which == 0 else b_bytes, threads, 10, runs)
            (a if which == 0 else b).append(statistics.median(xs))
    print(f"   latency, same bare loop, {rounds} alternating rounds x {runs} runs:")
    print(f"   mnprof export: per-round medians {spread(a)}")
    print(f"   PyTorch-style: per-round medians {spread(b)}")
    ratio = statistics.median(a) / statistics.median(b)
    print(f"   mnprof / PyTorch-style = {ratio:.4f} ({100 * (ratio - 1):+.2f}%)   "
          f"load avg {load()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=default_threads())
    args = ap.parse_args()
    graph = build(load_spec("mobilenet_v1"), 1.0, 224)
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, "
          f"{os.cpu_count()} logical CPUs, load avg at start {load()}")
    harness_overhead(graph, args.threads, args.rounds, args.runs)
    repeatability_and_wall_time()
    compare_with_framework(graph, args.threads, args.rounds, args.runs)


if __name__ == "__main__":
    main()
