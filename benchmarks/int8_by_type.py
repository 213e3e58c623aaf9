"""What int8 buys per layer type: ``mnprof bench --compare-precision`` repeated.

Each round is one ``mnprof.compare_precision`` call (fp32 then int8, each timed and
profiled in its own sessions); the figures are the median over rounds of each
type's fp32 time, int8 time and speed-up, with the speed-up's range across rounds,
and the same end to end. The load average is printed with every round.

Run: python benchmarks/int8_by_type.py mobilenet_v2 [--res 224] [--rounds 5]
     [--threads 1] [--activations int8|uint8]
"""

from __future__ import annotations

import argparse
import os
import statistics

import mnprof
from mnprof.onnxio.quantopts import QuantOptions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--res", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--activations", choices=("int8", "uint8"), default="int8")
    a = ap.parse_args()
    quant = QuantOptions(activations=a.activations)
    rows: dict[str, list[tuple[float | None, float | None, float | None, str, int]]] = {}
    e2e: list[tuple[float, float, int, int]] = []
    for r in range(a.rounds):
        before = os.getloadavg()[0]
        rep = mnprof.compare_precision(a.spec, 1.0, a.res, quant=quant, threads=a.threads)
        e2e.append((rep.fp32.latency_ms.median, rep.int8.latency_ms.median,
                    rep.fp32.latency_ms.runs, rep.int8.latency_ms.runs))
        for x in rep.by_type:
            rows.setdefault(x.type_key, []).append((x.fp32_ms, x.int8_ms, x.speedup,
                                                    x.kernel, x.layers))
        print(f"round {r + 1}: fp32 {e2e[-1][0]:.3f} ms, int8 {e2e[-1][1]:.3f} ms, load "
              f"{before:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    f, i = [x[0] for x in e2e], [x[1] for x in e2e]
    s = [x[0] / x[1] for x in e2e]
    print(f"\n{a.spec} at {a.res}, {a.threads} thread(s), {quant.describe()}, "
          f"{a.rounds} rounds ({sum(x[2] for x in e2e)} fp32 and {sum(x[3] for x in e2e)} "
          f"int8 timed runs)")
    print(f"end to end: fp32 {statistics.median(f):.3f} ms, int8 {statistics.median(i):.3f} "
          f"ms, speed-up {statistics.median(s):.2f}x (rounds {min(s):.2f}-{max(s):.2f})\n")
    print("| type | layers | fp32 ms | int8 ms | speed-up (range) | int8 kernels |")
    print("|---|---:|---:|---:|---:|---|")
    for key, vals in rows.items():
        fp = [v[0] for v in vals if v[0] is not None]
        q = [v[1] for v in vals if v[1] is not None]
        sp = [v[2] for v in vals if v[2] is not None]
        speed = (f"{statistics.median(sp):.2f}x ({min(sp):.2f}-{max(sp):.2f})" if sp else "")
        print(f"| {key} | {vals[0][4] or ''} | {_ms(fp)} | {_ms(q)} | {speed} | "
              f"{vals[0][3]} |")


def _ms(v: list[float]) -> str:
    return f"{statistics.median(v):.3f}" if v else ""


if __name__ == "__main__":
    main()
