"""A longer fuzzer: mutated specs, budgets, baselines, ONNX files and options, each run
through mnprof's command line in worker processes, with a timeout per case.

    python benchmarks/fuzz.py --minutes 10 [--seed 1] [--workers 1] [--out fuzz-out]

Every case is a command line plus the files it reads (a spec, a budget, a baseline,
an ONNX file), written into the worker's own empty folder. A worker runs cases one
after the other through ``mnprof.cli.main`` (a fresh worker every few thousand cases
and after any failure) and reports the exit status and what was printed. The parent
gives each case a deadline and classifies it:

- clean: exit 0, a check verdict (exit 1 with a failed limit in the report), or exit
  2 with exactly one ``mnprof: error:`` line that is not an "unexpected" one;
- crash: anything else: a traceback or an "unexpected" error, exit 1 where no check
  ran, any other status, a worker killed by a signal, output of native code on the
  worker's stderr;
- hang: no answer before the deadline (the worker is killed);
- wrong acceptance: exit 0 for an input made to be invalid (a value past a bound, a
  non-ASCII digit, a baseline of another model, a truncated ONNX file, a FIFO ...).

Each crash, hang and wrong acceptance is saved under ``--out`` with its files and a
``repro.sh``. The figures printed at the end are the ones the issue asks for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = {p.stem: p.read_text() for p in sorted((ROOT / "mnprof" / "specs").glob("*.yaml"))}
QUICK = ["--runs", "1", "--min-time", "0", "--warmup", "0"]
TIMEOUT = 30.0                  # seconds per case
FRESH_EVERY = 3000              # cases per worker before a fresh one
MAX_TIMED_PARAMS = 20_000_000   # a mutated spec larger than this is costed, not exported

NASTY = ["0", "-1", "1e308", "1.0e308", "-1.0e308", ".nan", ".inf", "-.inf", "9" * 400,
         "9" * 5000, "4611686018427387905", "0.0000001K", "1e999", '"1e-999"', "８０M",
         "١٤٠٠K", "!!bool relu", "!!float x", "!!int 3", "!!binary aGk=", "[" * 400,
         "{", "~", "true", "''", '"$(int(1e308*10))"', '"$(make_divisible(cin, 0))"',
         '"$(cin < \'a\')"', '"$(floor(1e308*1e10))"', '"$(ch(10**8))"', '"$(1j)"',
         '"$(2**62*2)"', '"$(round(1e300*1e300))"', '"$(lookup(cin))"', '"$(max())"',
         "3000000", "10000", "16385", "1048577", "\x01", "\x7f", "\u2028", "x" * 300,
         "&a [*a]", "*nosuch", "1.5", "0.5", "2", "1", "3", "224", "-0.0", "1.4M", "80M",
         "2MiB", "5%", "{max: 1e999}", "{max_increase: 1%}", "[1, 2]", "!!python/name:os"]
KEYS = ["kind", "out", "kernel", "stride", "repeat", "when", "name", "input", "inputs",
        "block", "alpha", "resolution", "channels", "classes", "p", "groups", "padding",
        "act", "bn", "bias", "scale", "rounding", "type", "params", "layers", "blocks",
        "macs", "max", "max_increase", "tolerance", "runs", "threads", "spec", "baseline"]
SMALL_SPEC = """name: small
input: {resolution: 16, channels: 3}
classes: 10
blocks:
  b:
    params: {out: null, stride: 1, t: 2}
    layers:
      - {name: e, kind: pwconv, out: "$(cin * t)", bn: true, act: relu6}
      - {name: d, kind: dwconv, kernel: 3, stride: $stride, bn: true, act: relu6}
      - {name: p, kind: pwconv, out: $out, bn: true}
      - {kind: add, inputs: [in, p], when: "$(stride == 1 and cin == out)"}
layers:
  - {name: c1, kind: conv, kernel: 3, stride: 2, out: 8, bn: true, act: relu}
  - {block: b, out: 8}
  - {block: b, out: 16, stride: 2, repeat: 2}
  - {kind: global_avgpool}
  - {kind: dropout, p: 0.2}
  - {kind: fc}
"""
BUDGET = """models:
  - name: m
    spec: mobilenet_v1
    alpha: 0.25
    resolution: 32
    baseline: base.json
    limits:
      macs: {max: 1.2M, max_increase: 1%}
      params: 500K
      params_framework: 480K
      activations: 30K
      peak_activation_bytes: 24KiB
"""

# ---------------------------------------------------------------------------
# Making cases


class Maker:
    def __init__(self, seed: int, onnx_seeds: dict[str, bytes], baseline: str,
                 work: Path) -> None:
        self.r = random.Random(seed)
        self.work = work
        self.onnx = onnx_seeds
        self.baseline = baseline

    def mutate_text(self, text: str) -> str:
        r = self.r
        lines = text.splitlines(keepends=True) or [""]
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(lines))
            line = lines[i]
            op = r.choice(["value"] * 4 + ["drop", "dup", "chars", "cut", "key", "indent"])
            if op == "value" and ":" in line:
                head, _, tail = line.partition(":")
                if "{" in tail and r.random() < 0.6:          # a field inside a flow map
                    parts = tail.split(",")
                    j = r.randrange(len(parts))
                    k, sep, _ = parts[j].partition(":")
                    end = "}" if parts[j].rstrip().endswith("}") else ""
                    parts[j] = f"{k}{sep or ':'} {r.choice(NASTY)}{end}"
                    lines[i] = head + ":" + ",".join(parts) + ("\n" if "\n" not in
                                                               parts[-1] else "")
                else:
                    lines[i] = f"{head}: {r.choice(NASTY)}\n"
            elif op == "drop":
                lines.pop(i)
            elif op == "dup":
                lines.insert(i, line)
            elif op == "chars":
                at = r.randint(0, len(line))
                junk = "".join(chr(r.choice([r.randint(0, 0x7f), r.randint(0x80, 0xffff)]))
                               for _ in range(r.randint(1, 3)))
                lines[i] = line[:at] + junk.replace("\ud800", "") + line[at:]
            elif op == "cut":
                lines = lines[:i + 1]
                lines[-1] = line[:r.randint(0, len(line))]
            elif op == "key" and ":" in line:
                k = line.split(":")[0].strip(" -{")
                lines[i] = line.replace(k, r.choice(KEYS), 1) if k else line
            elif op == "indent":
                lines[i] = " " * r.randint(0, 6) + line.lstrip()
            lines = lines or [""]
        return "".join(lines)

    def too_big(self, text: str) -> bool:
        """Whether a mutated spec builds a legal model too large to export or time in a
        case's deadline (`classes: 1048577` makes a 1 GB fc): its time is proportional
        to its size, so it is slow, not hung; such a case is costed instead."""
        import mnprof
        from mnprof.core.errors import MnprofError
        path = self.work / "probe.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            return mnprof.cost(str(path), 0.25, 16).totals.params_framework > MAX_TIMED_PARAMS
        except (MnprofError, RecursionError, MemoryError):
            return False            # an error: quick whatever the command

    def model_args(self, timed: bool = False) -> list[str]:
        """--alpha, --res, ...: a model that is timed or exported stays small (a legal
        but large one, such as alpha 10 at 224, takes minutes: slow, not a hang)."""
        r = self.r
        args = []
        alphas = ["0.25", "0.5", "1e-9", "nan", "1e308", "-1", "0", "１", "11"]
        if r.random() < 0.5:
            args += ["-a", r.choice(alphas + ([] if timed else ["1", "0.35", "10", "7.5"]))]
        if r.random() < 0.5 or timed:
            args += ["-r", r.choice(["16", "1", "7", "0", "100000", "-5"] +
                                    ([] if timed else ["32", "97", "224"]))]
        if r.random() < 0.1:
            args += ["-d", r.choice(["0.5", "2", "11", "0"] + ([] if timed else ["10"]))]
        if r.random() < 0.1:
            args += ["--classes", r.choice(["1", "10", "0", "99999999999"])]
        return args

    def spec_case(self) -> dict:
        r = self.r
        name = r.choice([*SPECS, "small", "small"])
        text = SMALL_SPEC if name == "small" else SPECS[name]
        files = {"s.yaml": self.mutate_text(text)}
        command = r.choices(["cost", "sweep", "export", "check", "bench"],
                            [60, 20, 6, 13, 1])[0]
        if command in ("export", "bench") and self.too_big(files["s.yaml"]):
            command = "cost"
        args = [command, "s.yaml"]
        if command == "cost":
            args += ["-f", r.choice(["table", "json", "csv", "markdown"])] + self.model_args()
        elif command == "sweep":
            args += ["-a", r.choice(["1,0.5", "0.25", "0.5,1e-9", "10,0.1"]),
                     "-r", r.choice(["32", "16,32", "1", "97,7"])]
        elif command == "export":
            args += ["-a", "0.25", "-r", "16", "-o", "m.onnx"]
            args += r.choice([[], ["--fold-bn"], ["--opset", "13"], ["--batch", "2"],
                              ["--dynamic-batch"]])
        elif command == "check":
            args += ["-a", "0.25", "-r", "32", "--max-macs", r.choice(["80M", "1", "1e999"]),
                     "--max-params", "10M"]
        else:
            args += ["-a", "0.25", "-r", "16", "--threads", "1", *QUICK]
        return {"kind": "spec", "argv": args, "files": files, "invalid": False}

    def budget_case(self) -> dict:
        r = self.r
        files = {"b.yaml": self.mutate_text(BUDGET), "base.json": self.baseline}
        if r.random() < 0.2:
            files["base.json"] = self.mutate_text(self.baseline)
        if r.random() < 0.05:
            files["b.yaml"] = files["b.yaml"].replace(
                "      params: 500K", "      latency_median_ms: {max: 1000, threads: 1, "
                "runs: 2, warmup: 0, min_time: 0}")
        args = ["check", "b.yaml", "-f", r.choice(["table", "json", "markdown", "junit"])]
        return {"kind": "budget", "argv": args, "files": files, "invalid": False}

    def onnx_case(self) -> dict:
        r = self.r
        raw = bytearray(self.onnx[r.choice(sorted(self.onnx))])
        for _ in range(r.randint(1, 4)):
            at = r.randint(0, len(raw))
            op = r.choice(["flip", "cut", "insert", "zero", "dup"])
            if op == "flip" and at < len(raw):
                raw[at] ^= r.randint(1, 255)
            elif op == "cut":
                raw = raw[:at]
            elif op == "insert":
                raw[at:at] = bytes(r.randint(0, 255) for _ in range(r.randint(1, 8)))
            elif op == "zero":
                raw[at:at + 16] = bytes(len(raw[at:at + 16]))
            elif op == "dup":
                raw[at:at] = raw[at:at + r.randint(1, 64)]
        argv = ["__count__", "m.onnx"] if r.random() < 0.85 else \
            ["bench", "m.onnx", "--threads", "1", *QUICK]
        return {"kind": "onnx", "argv": argv, "files": {"m.onnx": bytes(raw)}, "invalid": False}

    def option_case(self) -> dict:
        r = self.r
        command = r.choice(["cost", "sweep", "export", "bench", "check", "specs", "schema"])
        args = [command] + self.model_args(timed=command in ("bench", "export", "check"))
        extra = [["-o", r.choice(["", "/dev/null", "fifo", "ro.txt", "dir", "x" * 300,
                                  "nodir/x", "out.txt", "link"])],
                 ["-f", r.choice(["table", "json", "csv", "xml", "junit", "html"])],
                 ["--threads", r.choice(["0", "1", "10000", "x"])],
                 ["--runs", r.choice(["0", "1000000000", "2"])],
                 ["--min-time", r.choice(["nan", "-1", "1e9", "0"])],
                 ["--batch", r.choice(["0", "100000", "2"])],
                 ["--opset", r.choice(["12", "99", "17", "x"])], ["--per-layer"],
                 ["--max-latency-ms", r.choice(["1e-999", "1e999", "nan", "0"])],
                 ["--baseline", "nope.json"], ["--no-layers"], ["--bogus"]]
        for _ in range(r.randint(1, 3)):
            args += r.choice(extra)
        if command in ("bench", "check") and "--runs" not in args:
            args += QUICK
        return {"kind": "options", "argv": args, "files": {}, "invalid": False,
                "setup": ["fifo", "ro.txt", "dir", "link"]}

    # Inputs that are invalid by construction: exit 0 is a wrong acceptance.

    def invalid_case(self) -> dict:
        r = self.r
        pick = r.randrange(6)
        if pick == 0:
            field, value = r.choice([("alpha", r.choice(["11", "0", "-1", ".nan", "1e308"])),
                                     ("repeat", r.choice(["3000000", "0", "10001"])),
                                     ("p", r.choice([".nan", "1", "-0.1", ".inf"])),
                                     ("resolution", r.choice(["0", "16385", "-3"])),
                                     ("out", r.choice(["0", "1048577", "-8"]))])
            text = SMALL_SPEC.replace("{kind: dropout, p: 0.2}",
                                      f"{{kind: dropout, p: {value}}}") if field == "p" else \
                SMALL_SPEC.replace("out: 8}", f"out: {value}}}", 1) if field == "out" else \
                SMALL_SPEC.replace("{resolution: 16,", f"{{resolution: {value},") \
                if field == "resolution" else \
                SMALL_SPEC.replace("repeat: 2}", f"repeat: {value}}}") if field == "repeat" \
                else SMALL_SPEC + f"alpha: {value}\n"
            return {"kind": "invalid-spec", "argv": ["cost", "s.yaml"],
                    "files": {"s.yaml": text}, "invalid": True}
        if pick == 1:
            bad = r.choice(['"８０M"', '"١٤٠٠K"', '"1e999"', '"0.0000001K"', "-1", '"1.5"',
                            '"12Q"', ".nan"])
            text = BUDGET.replace("params: 500K", f"params: {bad}")
            return {"kind": "invalid-budget", "argv": ["check", "b.yaml"],
                    "files": {"b.yaml": text, "base.json": self.baseline}, "invalid": True}
        if pick == 2:
            lat = r.choice(['{max: "1e-999"}', '{max: "1e999"}', "{max: 5, runs: 1000000000}",
                            "{max: 5, threads: 10000}", "{max: .inf}", "{max: 0}"])
            text = BUDGET.replace("params: 500K", f"latency_median_ms: {lat}")
            return {"kind": "invalid-budget", "argv": ["check", "b.yaml"],
                    "files": {"b.yaml": text, "base.json": self.baseline}, "invalid": True}
        if pick == 3:                 # a baseline of another model, alpha or resolution
            other = json.loads(self.baseline)
            key, value = r.choice([("model", "mobilenet_v2"), ("alpha", 0.5),
                                   ("resolution", 64)])
            other[key] = value
            return {"kind": "invalid-baseline", "argv": ["check", "b.yaml"],
                    "files": {"b.yaml": BUDGET, "base.json": json.dumps(other)},
                    "invalid": True}
        if pick == 4:
            good = self.onnx["conv"]
            data = r.choice([b"", good[:10], good[:len(good) // 2], self.onnx["cyclic"]])
            argv = r.choice([["__count__", "m.onnx"], ["bench", "m.onnx", *QUICK]])
            return {"kind": "invalid-onnx", "argv": argv, "files": {"m.onnx": data},
                    "invalid": True}
        args = r.choice([["cost", "-a", "11"], ["bench", "--threads", "10000"],
                         ["bench", "--runs", "1000000000"], ["bench", "--batch", "100000"],
                         ["bench", "--res", "100000"], ["cost", "-o", "fifo"],
                         ["cost", "-o", "ro.txt"], ["cost", "-o", "/dev/null"],
                         ["cost", "-o", ""], ["export", "-o", "link"], ["cost", "fifo"],
                         ["check", "fifo"], ["cost", "/dev/zero"]])
        return {"kind": "invalid-options", "argv": args, "files": {}, "invalid": True,
                "setup": ["fifo", "ro.txt", "dir", "link"]}

    def case(self) -> dict:
        kind = self.r.choices(["spec", "budget", "onnx", "option", "invalid"],
                              [45, 20, 15, 8, 12])[0]
        return getattr(self, f"{kind}_case")()


# ---------------------------------------------------------------------------
# The worker: cases in, results out, one JSON line each

WORKER = r'''
import base64, contextlib, io, json, os, shutil, stat, sys, traceback
from mnprof.cli import main
root = os.getcwd()
for n, line in enumerate(sys.stdin):
    case = json.loads(line)
    here = os.path.join(root, f"c{n}")
    os.mkdir(here)
    for name, data in case["files"].items():
        with open(os.path.join(here, name), "wb") as fh:
            fh.write(base64.b64decode(data))
    for name in case.get("setup", ()):
        path = os.path.join(here, name)
        if name == "fifo": os.mkfifo(path)
        elif name == "dir": os.mkdir(path)
        elif name == "link": os.symlink("/proc/self/fd/1", path)
        elif name == "ro.txt":
            open(path, "w").write("keep"); os.chmod(path, 0o444)
    os.chdir(here)
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if case["argv"][0] == "__count__":
                from mnprof.core.errors import MnprofError
                from mnprof.onnxio.reader import count
                try:
                    count(case["argv"][1])
                except MnprofError as exc:
                    print(f"mnprof: error: {exc}", file=sys.stderr)
                    code = 2
            else:
                main(case["argv"], prog_name="mnprof")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 99
    os.chdir(root)
    kept = os.path.join(here, "ro.txt")
    if os.path.exists(kept) and open(kept).read() != "keep":
        err.write("FUZZ: the read-only file was replaced\n"); code = 98
    shutil.rmtree(here, ignore_errors=True)
    sys.stdout.write(json.dumps({"code": code, "out": out.getvalue()[-3000:],
                                 "err": err.getvalue()[-3000:]}) + "\n")
    sys.stdout.flush()
'''


class Worker:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="w", dir=folder))
        env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache"), "PYTHONPATH": str(ROOT),
               "ORT_DISABLE_TELEMETRY": "1", "TMPDIR": str(self.folder)}
        env.pop("MNPROF_DEBUG", None)
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=self.folder,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.buffer, self.done, self.case, self.started = b"", 0, None, 0.0

    def send(self, case: dict) -> None:
        import base64
        files = {k: base64.b64encode(v if isinstance(v, bytes) else
                                     v.encode("utf-8", "surrogatepass")).decode()
                 for k, v in case["files"].items()}
        self.case, self.started = case, time.monotonic()
        self.proc.stdin.write((json.dumps({**case, "files": files}) + "\n").encode())
        self.proc.stdin.flush()

    def poll(self) -> dict | None:
        """The result of the case at hand, if it has come in."""
        chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
        if not chunk:
            raise EOFError
        self.buffer += chunk
        if b"\n" not in self.buffer:
            return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        result = json.loads(line)
        result["native"] = self.native_stderr()
        self.done += 1
        return result

    def native_stderr(self) -> str:
        try:
            return (self.proc.stderr.read() or b"").decode(errors="replace")
        except (BlockingIOError, TypeError):
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def is_bug(line: str) -> bool:
    """The CLI's catch-all wording for an exception it did not foresee."""
    return "(a bug in mnprof;" in line or line in ("mnprof: error: out of memory",
                                                   "mnprof: error: the input nests too deeply "
                                                   "(recursion limit)")


def classify(case: dict, result: dict) -> str:
    code, out, err = result["code"], result["out"], result["err"]
    lines = err.splitlines()
    errors = [x for x in lines if x.startswith("mnprof: error:")]
    stray = [x for x in lines if not x.startswith(("mnprof: error:", "mnprof: warning:",
                                                   "mnprof check:", "wrote "))]
    if stray or result.get("native", "").strip():
        return "crash"
    if code == 0:
        return "wrong acceptance" if case["invalid"] else "success"
    if code == 1:
        verdict = case["argv"][0] == "check" and any(
            x in out for x in ("FAILED", "<failure", '"passed": false'))
        return "verdict" if verdict and not errors else "crash"
    if code == 2 and len(errors) == 1 and not is_bug(errors[0]):
        return "clean error"
    return "crash"


def save(out: Path, label: str, n: int, case: dict, result: dict) -> None:
    import shlex
    d = out / f"{label.replace(' ', '-')}-{n:04d}"
    d.mkdir(parents=True, exist_ok=True)
    for name, data in case["files"].items():
        (d / name).write_bytes(data if isinstance(data, bytes) else
                               data.encode("utf-8", "surrogatepass"))
    argv = case["argv"]
    command = (f"python -c 'import sys, mnprof.onnxio.reader as r; r.count(sys.argv[1])' "
               f"{shlex.quote(argv[1])}" if argv[0] == "__count__" else
               "python -m mnprof " + " ".join(shlex.quote(a) for a in argv))
    setup = "".join(f"# setup: {s}\n" for s in case.get("setup", ()))
    (d / "repro.sh").write_text(f"#!/bin/sh\n# {label}: {case['kind']}\n{setup}"
                                f"cd \"$(dirname \"$0\")\"\n{command}\n")
    (d / "result.json").write_text(json.dumps(result, indent=2))


def seed_files(folder: Path) -> tuple[dict[str, bytes], str]:
    """Valid and broken ONNX files to mutate, and a valid baseline report."""
    sys.path.insert(0, str(ROOT))
    import mnprof
    from tests.bench.onnx_files import conv_model, cyclic_model, failing_model

    files = {"conv": conv_model(folder / "conv.onnx").read_bytes(),
             "cyclic": cyclic_model(folder / "cyc.onnx").read_bytes(),
             "reshape": failing_model(folder / "rs.onnx", "reshape").read_bytes()}
    mnprof.export_onnx("mobilenet_v1", folder / "v1.onnx", alpha=0.25, resolution=16)
    files["mobilenet"] = (folder / "v1.onnx").read_bytes()
    baseline = mnprof.render(mnprof.cost("mobilenet_v1", 0.25, 32), "json")
    return files, baseline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("fuzz-out"))
    ap.add_argument("--max-cases", type=int, default=0, help="stop after this many (0: none)")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mnprof-fuzz-"))
    try:
        run(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(a: argparse.Namespace, work: Path) -> None:
    onnx, baseline = seed_files(work)
    (work / "cache").mkdir()
    maker = Maker(a.seed, onnx, baseline, work)
    counts: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    spent: Counter[str] = Counter()         # seconds per kind of case
    kinds: Counter[str] = Counter()
    start = time.monotonic()
    end = start + 60 * a.minutes
    workers = [Worker(work) for _ in range(a.workers)]
    try:
        while True:
            stopping = time.monotonic() > end or (a.max_cases and counts.total() + sum(
                w.case is not None for w in workers) >= a.max_cases)
            for w in workers:
                if w.case is None and not stopping:
                    w.send(maker.case())
            busy = [w for w in workers if w.case is not None]
            if not busy:
                break
            ready, _, _ = select.select([w.proc.stdout for w in busy], [], [], 0.5)
            for i, w in enumerate(workers):
                if w.case is None:
                    continue
                label, result = None, None
                if w.proc.stdout in ready:
                    try:
                        result = w.poll()
                    except EOFError:
                        result = {"code": w.proc.wait(), "out": "", "err": "",
                                  "native": w.native_stderr(), "died": True}
                        label = "crash"
                    if result is not None and label is None:
                        label = classify(w.case, result)
                elif time.monotonic() - w.started > TIMEOUT:
                    result, label = {"code": None, "out": "", "err": "", "hang": TIMEOUT}, "hang"
                if label is None:
                    continue
                counts[label] += 1
                spent[w.case["kind"]] += time.monotonic() - w.started
                kinds[w.case["kind"]] += 1
                if label in ("crash", "hang", "wrong acceptance"):
                    bad[label] += 1
                    save(a.out, label, bad[label], w.case, result)
                case, w.case = w.case, None
                if label in ("crash", "hang") or w.done >= FRESH_EVERY:
                    w.stop()
                    workers[i] = Worker(work)
                del case
    finally:
        for w in workers:
            w.stop()
    report(counts, time.monotonic() - start, a)
    print("  by kind: " + ", ".join(f"{k} {kinds[k]} ({1000 * spent[k] / kinds[k]:.0f} ms)"
                                    for k in sorted(kinds)))


def report(counts: Counter[str], seconds: float, a: argparse.Namespace) -> None:
    n = counts.total()
    print(f"mnprof fuzz: seed {a.seed}, {a.workers} worker(s), {seconds / 60:.1f} min, "
          f"{n} cases ({n / max(seconds, 1e-9):.0f}/s)")
    for label in ("success", "verdict", "clean error", "crash", "hang", "wrong acceptance"):
        print(f"  {label:<17} {counts[label]}")
    if any(counts[x] for x in ("crash", "hang", "wrong acceptance")):
        print(f"reproducers in {a.out}/")


if __name__ == "__main__":
    main()
