"""Speed of predictions: prints figures, asserts nothing (see README, "Predicting latency").

- a 10,000-point grid (100 widths in [0.25, 1.4] x 100 resolutions in [96, 294]) of
  each MobileNet-family built-in through ``mnprof.sweep(..., predict=...)``, the
  library call behind ``mnprof sweep --predict`` (goal: under 10 s), and the same
  sweep through the command line in a fresh process, writing JSON (start-up, imports
  and rendering included);
- the exact cost rows alone (``mnprof.sweep`` without ``predict``), next to what
  building and costing every point would take (measured on 100 of the points);
- one ``mnprof predict`` through the library (per layer, per type, end to end).

Needs a device profile of this machine at the given threads (``mnprof calibrate``).
Run: python benchmarks/predict_speed.py [--threads N] [--specs a,b] [--points 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import mnprof
from mnprof.predict.validate import family


def _cli_seconds(name: str, alphas: list[float], resolutions: list[int],
                 threads: int, device: str | None) -> float:
    """Wall time of ``mnprof sweep NAME --predict ... -f json -o FILE``, fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "mnprof", "sweep", name, "--predict", "--threads",
               str(threads), "-a", ",".join(map(str, alphas)), "-r",
               ",".join(map(str, resolutions)), "-f", "json", "-o", f"{tmp}/sweep.json"]
        if device:
            cmd += ["--device", device]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - start


def _per_point_ms(name: str, alphas: list[float], resolutions: list[int]) -> float:
    """Median ms to build and cost one point on its own (100 points of the grid)."""
    times = []
    for i in range(100):
        a, r = alphas[(i * 37) % len(alphas)], resolutions[(i * 53) % len(resolutions)]
        t0 = time.perf_counter()
        mnprof.analyze(mnprof.build(name, a, r))
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--specs", default=",".join(family()))
    ap.add_argument("--points", type=int, default=100, help="widths and resolutions each")
    ap.add_argument("--device", default=None, help="a device profile file")
    args = ap.parse_args()
    n = args.points
    alphas = [round(0.25 + i * (1.4 - 0.25) / (n - 1), 4) for i in range(n)]
    resolutions = [96 + 2 * i for i in range(n)]
    print(f"{n * n}-point grids ({n} widths x {n} resolutions), {args.threads} thread(s); "
          f"load average {os.getloadavg()[0]:.2f}")
    options = {"threads": args.threads, "device": args.device}
    for name in args.specs.split(","):
        start = time.perf_counter()
        report = mnprof.sweep(name, alphas, resolutions, predict=options)
        grid = time.perf_counter() - start
        note = (report.prediction or {}).get("note") or ""
        start = time.perf_counter()
        mnprof.sweep(name, alphas, resolutions)
        rows = time.perf_counter() - start
        cli = _cli_seconds(name, alphas, resolutions, args.threads, args.device)
        point = _per_point_ms(name, alphas, resolutions)
        times = []
        for a, r in ((0.5, 160), (1.0, 224), (1.4, 288)):
            t0 = time.perf_counter()
            mnprof.predict_latency(name, a, r, threads=args.threads, device=args.device)
            times.append(time.perf_counter() - t0)
        print(f"{name}: predicted grid {grid:.2f} s ({n * n / grid:,.0f} points/s)"
              f"{' [' + note + ']' if note else ''}, from the command line {cli:.2f} s; "
              f"exact rows alone {rows:.2f} s (building every point: {point:.1f} ms a "
              f"point, {n * n * point / 1000:.0f} s); one prediction with its report "
              f"{1000 * statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
