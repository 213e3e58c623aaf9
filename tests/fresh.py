"""Running mnprof as a user does: a fresh ``python -m mnprof`` process, with a timeout.

A fresh process is the only way to see what a user sees: no module pre-imported by
another test, the real exit status, the real stderr. Each run gets its own cache
folder holding a machine-ceiling entry for this machine, so a bench never spends
seconds measuring the ceiling (nor writes the user's cache); the entry says it was
measured on an idle machine a moment ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .paths import ROOT

# Timing that keeps a latency measurement of a tiny model well under a second.
QUICK = ("--runs", "3", "--min-time", "0", "--warmup", "1")
TINY = ("-a", "0.25", "-r", "32")


def seed_ceiling(cache_home: Path, *, load: float | None = 0.1,
                 measured_at: str | None = None) -> Path:
    """A machine.json with this CPU's entry at every thread count; returns its path."""
    from mnprof.bench.machine import cache_key, cpu_info
    from mnprof.bench.settings import max_threads
    from mnprof.core.contracts import MACHINE_SCHEMA

    model, ort = cpu_info().model, version("onnxruntime")
    stamp = measured_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    entries = {cache_key(model, t, ort): {
        "peak_gmacs_per_s": 50.0, "bandwidth_gb_per_s": 10.0, "threads": t,
        "cpu_model": model, "onnxruntime_version": ort, "gemm_method": "seeded by the tests",
        "copy_method": "seeded by the tests", "measured_at": stamp, "load_average": load}
        for t in range(1, max_threads() + 1)}
    path = cache_home / "mnprof" / "machine.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema": MACHINE_SCHEMA, "entries": entries}))
    return path


def env_for(cwd: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh run: a seeded cache beside ``cwd``, no debug switch."""
    cache = cwd / ".cache-home"
    if not (cache / "mnprof" / "machine.json").exists():
        seed_ceiling(cache)
    env = {k: v for k, v in os.environ.items() if k not in ("MNPROF_DEBUG", "NO_COLOR")}
    env.update(XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT), **extra)
    return env


def mnprof(*args: str, cwd: Path, timeout: float = 60, stdin: str | None = None,
           **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m mnprof ARGS`` in ``cwd``; a hang fails the test at ``timeout``."""
    return subprocess.run([sys.executable, "-m", "mnprof", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout, env=env_for(cwd, **env),
                          input=stdin if stdin is not None else "")


_MANY = """
import contextlib, io, json, sys
from mnprof.cli import main
out = []
for args in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            main(args, prog_name="mnprof")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out.append([code, std.getvalue()[-4000:], err.getvalue()[-4000:]])
print(json.dumps(out))
"""


def mnprof_many(cases: list[list[str]], *, cwd: Path, timeout: float = 60,
                preexec_fn: Any = None) -> list[subprocess.CompletedProcess[str]]:
    """Each of ``cases`` through the CLI's entry point, one after the other in ONE fresh
    process (cheaper than a process each; still nothing pre-imported by the tests).
    Only Python's stderr is captured per case: a check of what native code prints on
    file descriptor 2 needs a process of its own (``mnprof``)."""
    proc = subprocess.run([sys.executable, "-c", _MANY, json.dumps(cases)], cwd=cwd,
                          text=True, capture_output=True, timeout=timeout, env=env_for(cwd),
                          preexec_fn=preexec_fn)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [subprocess.CompletedProcess(args, code, out, err)
            for args, (code, out, err) in zip(cases, json.loads(proc.stdout), strict=True)]


def one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Assert the run failed cleanly: exit 2, one ``mnprof: error:`` line naming ``words``."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("mnprof: error: "), result.stderr[-2000:]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]
