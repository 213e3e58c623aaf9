"""Accuracy and throughput of latency prediction: prints figures, asserts nothing.

For each thread count: N random variants of the MobileNet-family built-ins (alpha in
[0.25, 1.4], resolution in [96, 288], depth in [0.5, 1.5] where the spec repeats
blocks; seeded) are predicted from this machine's device profile and measured with
the bench's timing loop; printed: the share within 5% and 10%, the mean absolute
percentage error, Kendall's tau, the worst cases, per spec; the load average before
and after (measure on an idle machine); and prediction throughput.

Needs device profiles of this machine (``mnprof calibrate --threads N``).
Run: python benchmarks/predict_accuracy.py [--points 100] [--threads 1,2] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

import mnprof
from mnprof.predict.validate import family


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--specs", default=",".join(family()))
    ap.add_argument("--runs", type=int, default=30, help="timed runs per variant, at least")
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--json", default=None, help="also save every report to this file")
    args = ap.parse_args()
    saved = {}
    for threads in (int(t) for t in args.threads.split(",")):
        start = time.perf_counter()
        report = mnprof.validate_predictions(
            args.points, threads=threads, specs=args.specs.split(","), seed=args.seed,
            timing={"runs": args.runs, "warmup": 10, "min_time": args.min_time})
        took = time.perf_counter() - start
        print(mnprof.render(report, "table"))
        print(f"({took:.0f} s for {len(report.points)} variants)\n")
        saved[threads] = json.loads(mnprof.render(report, "json"))
        t0 = time.perf_counter()
        n = 0
        for p in report.points[:20]:
            mnprof.predict_latency(p.spec, p.alpha, p.resolution, depth=p.depth,
                                   threads=threads)
            n += 1
        if n:
            print(f"prediction throughput: {n / (time.perf_counter() - t0):.1f} full reports/s "
                  f"(build, emulate, predict, attribute per layer)\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(saved, fh, indent=1)


if __name__ == "__main__":
    main()
