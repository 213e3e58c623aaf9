"""`mnprof cost MODEL.onnx` against onnx-tool's profile of the same file, end to end.

Each run is a fresh process (interpreter start, imports, loading the file, counting,
printing), timed from outside: wall time, and the CPU time (user + system) the process
used, which other processes on a shared machine disturb less. The two tools alternate,
so both see the same machine load. Prints each tool's medians, the ratios mnprof /
onnx-tool (below 1: mnprof is faster), and both totals (onnx-tool counts differently:
it adds bias, activation and pooling work into its MACs). onnx-tool is not a
dependency of mnprof: it is run by the Python given with --onnx-tool-python (default:
this one) when it can import it, and skipped with a message otherwise.

Run: python benchmarks/onnx_tool_ratio.py MODEL.onnx [MODEL.onnx ...] [--runs N]
     [--onnx-tool-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# onnx-tool needs a concrete input shape for files with a symbolic batch; this is the
# call that works on them (model_profile alone raises on a symbolic dimension).
ONNX_TOOL = r"""
import sys, numpy, onnx, onnx_tool
path = sys.argv[1]
m = onnx.load(path, load_external_data=False)
inits = {t.name for t in m.graph.initializer}
shapes = {}
for vi in m.graph.input:
    if vi.name in inits:
        continue
    dims = [d.dim_value if d.dim_value > 0 else 1 for d in vi.type.tensor_type.shape.dim]
    shapes[vi.name] = numpy.zeros(dims, dtype=numpy.float32)
del m
onnx_tool.model_profile(path, dynamic_shapes=shapes)
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stdout of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed: {done.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu, done.stdout


def has_onnx_tool(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import onnx_tool"], capture_output=True, env=ENV)
    return probe.returncode == 0


def total_line(out: str) -> str:
    lines = [x for x in out.splitlines() if x.startswith("Total")]
    return " ".join(lines[-1].split()) if lines else "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--onnx-tool-python", default=sys.executable)
    args = ap.parse_args()
    tool = has_onnx_tool(args.onnx_tool_python)
    print(f"{args.runs} runs per tool and file after one warm-up run, alternating; fresh "
          f"processes; load average {os.getloadavg()[0]:.2f}")
    if not tool:
        print(f"onnx-tool cannot be imported by {args.onnx_tool_python}: timing mnprof only "
              "(give --onnx-tool-python)")
    ours = [sys.executable, "-m", "mnprof", "cost", "--format", "json"]
    ratios: list[tuple[float, float]] = []
    for path in args.models:
        timed([*ours, path])                                     # warm-up (byte code, cache)
        if tool:
            timed([args.onnx_tool_python, "-c", ONNX_TOOL, path])
        mine, theirs = [], []
        out_mine = out_theirs = ""
        for _ in range(args.runs):
            *t, out_mine = timed([*ours, path])
            mine.append(t)
            if tool:
                *t, out_theirs = timed([args.onnx_tool_python, "-c", ONNX_TOOL, path])
                theirs.append(t)
        macs = json.loads(out_mine)["totals"]["macs"]
        wall, cpu = (statistics.median(x[k] for x in mine) for k in (0, 1))
        line = f"{os.path.basename(path)}: mnprof wall {wall:.2f} s, cpu {cpu:.2f} s " \
               f"({macs:,} MACs)"
        if tool:
            w2, c2 = (statistics.median(x[k] for x in theirs) for k in (0, 1))
            ratios.append((wall / w2, cpu / c2))
            line += (f"; onnx-tool wall {w2:.2f} s, cpu {c2:.2f} s ({total_line(out_theirs)})"
                     f"; mnprof / onnx-tool: wall {wall / w2:.2f}, cpu {cpu / c2:.2f}")
        print(line, flush=True)
    if len(ratios) > 1:
        print(f"median ratio over {len(ratios)} files: wall "
              f"{statistics.median(r[0] for r in ratios):.2f}, cpu "
              f"{statistics.median(r[1] for r in ratios):.2f}")


if __name__ == "__main__":
    main()
