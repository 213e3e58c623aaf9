"""mnprof's int8 export against onnxruntime's quantize_static on a reference export.

The reference is an ONNX file of the same architecture written by another exporter
(torchvision's MobileNetV2 / V3-Large, timm's MobileNetV1 with ReLU, exported with
``torch.onnx.export(..., dynamo=False, opset_version=17)``: batch-norm folded); it is
given on the command line, never downloaded. Both float models go through the same
onnxruntime calls written out here (quant_pre_process, then quantize_static: QDQ,
per-channel weights, S8S8 by default, MinMax), calibrated on the same synthetic
images. Then the four models (mnprof int8, reference int8, and both fp32) are timed
in alternating rounds, one session alive at a time: each round creates a session,
warms up, times ``--runs`` runs and deletes it, so drift and other processes hit all
four alike. Printed: per model the median of the round medians, their range, and the
ratio of mnprof's int8 latency to the reference's per round, with the load average.

Run: python benchmarks/int8_vs_ort.py mobilenet_v2 REF.onnx [--res 224] [--rounds 8]
     [--runs 100] [--threads 1] [--activations int8|uint8]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from mnprof import build, load_spec
from mnprof.onnxio.export import build_model, serialize
from mnprof.onnxio.quantize import QuantOptions, calibration_inputs, quantize_graph


def load() -> float:
    return os.getloadavg()[0]


def reference_int8(path: str, images: list[np.ndarray], activations: str, tmp: Path) -> bytes:
    """onnxruntime's documented recipe, written out here (independent of mnprof)."""
    pre, out = str(tmp / "ref_pre.onnx"), str(tmp / "ref_int8.onnx")
    quant_pre_process(path, pre, skip_symbolic_shape=True)
    name = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(images)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.items, None)
            return None if x is None else {name: x}

    quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8 if activations == "int8"
                    else QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return Path(out).read_bytes()


def session(model: bytes, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def time_round(model: bytes, x: np.ndarray, threads: int, warmup: int, runs: int) -> float:
    s = session(model, threads)
    feed = {s.get_inputs()[0].name: x}
    for _ in range(warmup):
        s.run(None, feed)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, feed)
        samples.append((time.perf_counter() - t0) * 1000)
    del s
    gc.collect()
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("reference")
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--activations", choices=("int8", "uint8"), default="int8")
    a = ap.parse_args()

    graph = build(load_spec(a.spec), 1.0, a.res)
    fp32 = build_model(graph, check=False).model
    options = QuantOptions(samples=a.samples, activations=a.activations)
    images = calibration_inputs((1, *graph.input_shape), a.samples)
    with tempfile.TemporaryDirectory() as tmp:
        models = {"mnprof int8": quantize_graph(graph, options, fp32=fp32).model
                  .SerializeToString(),
                  "reference int8": reference_int8(a.reference, images, a.activations,
                                                   Path(tmp)),
                  "mnprof fp32": serialize(fp32),
                  "reference fp32": Path(a.reference).read_bytes()}
    x = np.random.default_rng(0).standard_normal((1, *graph.input_shape)).astype(np.float32)
    print(f"{a.spec} at {a.res}, {a.threads} thread(s), {options.describe()}; "
          f"{a.rounds} rounds x {a.runs} runs after {a.warmup} warm-up, alternating; "
          f"onnxruntime {ort.__version__}")
    medians: dict[str, list[float]] = {k: [] for k in models}
    loads = [load()]
    for r in range(a.rounds):
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for k in order:
            medians[k].append(time_round(models[k], x, a.threads, a.warmup, a.runs))
        loads.append(load())
    for k, v in medians.items():
        print(f"  {k:15s} median {statistics.median(v):7.3f} ms  rounds "
              f"{min(v):.3f}-{max(v):.3f}  ({a.rounds * a.runs} runs)")
    ratio = [m / r for m, r in zip(medians["mnprof int8"], medians["reference int8"],
                                   strict=True)]
    print(f"  mnprof int8 / reference int8: median {statistics.median(ratio):.3f} "
          f"(rounds {min(ratio):.3f}-{max(ratio):.3f})")
    for who in ("mnprof", "reference"):
        s = [f / i for f, i in zip(medians[f"{who} fp32"], medians[f"{who} int8"], strict=True)]
        print(f"  {who} fp32 / int8 speed-up: median {statistics.median(s):.2f}x "
              f"(rounds {min(s):.2f}-{max(s):.2f})")
    print(f"  load average (1 min) over the rounds: {min(loads):.2f}-{max(loads):.2f}")


if __name__ == "__main__":
    main()
