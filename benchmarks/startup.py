"""Speed of the cost path: prints figures, asserts nothing (see README, "Speed").

- wall time of `mnprof cost --alpha 0.5 --res 160` as a fresh process (what a user
  waits for), median and spread over N runs;
- that the cost path imports neither onnx nor onnxruntime;
- a 100-point sweep (10 alphas x 10 resolutions) through the library and the CLI.

Run: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

# As installed by pip, modules are byte-compiled: let the processes write and use .pyc
# files even where the environment says not to (the first, untimed run writes them).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)     # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
    return times


def show(label: str, times: list[float]) -> None:
    qs = statistics.quantiles(times, n=10) if len(times) > 1 else times * 9
    print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, "
          f"p10 {qs[0] * 1000:.0f} ms, p90 {qs[-1] * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, n={len(times)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    py = sys.executable
    print(f"python {sys.version.split()[0]}; {args.runs} runs per figure after one warm-up "
          f"run; wall time of a fresh process, output to /dev/null; load average "
          f"{os.getloadavg()[0]:.2f}")
    show("python -c pass (interpreter floor)", wall([py, "-c", "pass"], args.runs))
    show("mnprof cost --alpha 0.5 --res 160", wall(
        [py, "-m", "mnprof", "cost", "--alpha", "0.5", "--res", "160"], args.runs))
    show("mnprof cost --format json", wall([py, "-m", "mnprof", "cost", "--format", "json"],
                                           args.runs))

    probe = ("import sys, runpy; sys.argv=['mnprof','cost','--format','json'];\n"
             "import io, contextlib\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    try: runpy.run_module('mnprof', run_name='__main__')\n"
             "    except SystemExit: pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('onnx','onnxruntime','numpy')))")
    out = subprocess.run([py, "-c", probe], check=True, capture_output=True, text=True,
                         env=ENV).stdout
    print(f"heavy modules imported by `mnprof cost`: {out.strip()}")

    import mnprof
    alphas = [0.25 + 0.125 * i for i in range(10)]
    resolutions = [96 + 16 * i for i in range(10)]
    spec = mnprof.load_spec("mobilenet_v1")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        rows = mnprof.sweep(spec, alphas, resolutions)
        times.append(time.perf_counter() - start)
    assert len(rows.rows) == 100
    show("100-point sweep, library (spec parsed once)", times)
    a = ",".join(f"{x:g}" for x in alphas)
    r = ",".join(str(x) for x in resolutions)
    show("100-point sweep, CLI process", wall([py, "-m", "mnprof", "sweep", "--alpha", a,
                                               "--res", r], 5))


if __name__ == "__main__":
    main()
