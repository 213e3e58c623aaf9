"""Kills and interrupts (issue 9, section 6): SIGTERM is handled like Ctrl-C (clean up,
exit 143), Ctrl-C exits 130, and nothing temporary is left behind, in fresh processes.

Each test waits until the process is inside the slow part (its progress line, or the
temporary file appearing) before sending the signal, so it does not depend on timing.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..fresh import env_for

_RUNNING: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_process_left():
    """A failed test must not leave its mnprof running (it may time for 10 minutes)."""
    yield
    while _RUNNING:
        proc = _RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


class _Run:
    """A fresh mnprof process whose stderr is a terminal, so it draws its progress bar:
    the test reads the bar to know which part of the work is running."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        (tmp_path / "tmp").mkdir(exist_ok=True)
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "mnprof", *args], cwd=tmp_path,
                                     text=True, stdout=subprocess.PIPE, stderr=slave,
                                     env=env_for(tmp_path, TMPDIR=str(tmp_path / "tmp")))
        os.close(slave)
        _RUNNING.append(self.proc)
        self.master, self.seen = master, ""

    def read(self, timeout: float) -> None:
        if select.select([self.master], [], [], timeout)[0]:
            try:
                self.seen += os.read(self.master, 65536).decode(errors="replace")
            except OSError:              # the child closed the terminal
                time.sleep(timeout)

    def wait_for(self, text: str | None = None, predicate=None, seconds: float = 90) -> None:
        end = time.monotonic() + seconds
        while not (text in self.seen if text else predicate()):
            assert self.proc.poll() is None, (self.proc.returncode, self.seen[-2000:])
            assert time.monotonic() < end, f"never saw {text!r}: {self.seen[-2000:]}"
            self.read(0.05)

    def stop(self, sig: int) -> tuple[str, str]:
        """Send ``sig``; (stdout, the terminal's text after it) once the process ended."""
        before = len(self.seen)
        self.proc.send_signal(sig)
        out = self.proc.stdout.read() if self.proc.stdout else ""
        self.proc.wait(timeout=60)
        for _ in range(20):
            self.read(0.01)
        os.close(self.master)
        return out, self.seen[before:]


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.name.startswith(("mnprof-profile-", ".")) and p.name != ".cache-home"
                  and ".cache-home" not in p.parts)


def test_sigterm_during_an_export_leaves_no_temporary_file(tmp_path):
    (tmp_path / "m.onnx").write_text("the old file")
    run = _Run(tmp_path, "export", "mobilenet_v1", "-a", "3", "-o", "m.onnx")
    run.wait_for(predicate=lambda: any(p.name.startswith(".m.onnx.")
                                       for p in tmp_path.iterdir()))
    _, err = run.stop(signal.SIGTERM)
    assert run.proc.returncode == 143, err
    assert "mnprof: error: terminated" in err and "Traceback" not in err
    assert _leftovers(tmp_path) == []
    assert (tmp_path / "m.onnx").read_text() == "the old file"


def _bench_args(*extra: str) -> list[str]:
    return ["bench", "mobilenet_v1", "-a", "0.25", "-r", "32", "--warmup", "1", *extra]


def test_sigterm_during_the_profiled_runs_removes_the_profile_folder(tmp_path):
    """The profiled session writes into a `mnprof-profile-*` folder: SIGTERM while it
    runs (the folder exists) must remove it."""
    run = _Run(tmp_path, *_bench_args("--runs", "3", "--min-time", "0"))
    tmp = tmp_path / "tmp"
    run.wait_for(predicate=lambda: any(p.name.startswith("mnprof-profile-")
                                       for p in tmp.iterdir()))
    _, err = run.stop(signal.SIGTERM)
    assert run.proc.returncode == 143, err
    assert "Traceback" not in err
    assert list(tmp.iterdir()) == [] and _leftovers(tmp_path) == []


def test_sigterm_and_ctrl_c_during_the_timed_runs(tmp_path):
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        run = _Run(tmp_path, *_bench_args("--runs", "100000", "--min-time", "600"))
        run.wait_for("timing: timed runs")
        run.wait_for(predicate=lambda r=run: r.seen.count("timed runs") >= 3)
        bar = run.seen.rsplit("timed runs", 1)[1]
        done, expected = (int(x) for x in re.search(r"(\d+)/(\d+)", bar).groups())
        assert done < expected, bar              # the bar is not N/N while runs remain
        out, err = run.stop(sig)
        assert run.proc.returncode == code, err
        assert "Traceback" not in err
        if sig == signal.SIGINT:         # what was measured so far, marked partial
            assert "INTERRUPTED (partial)" in out and "the report is partial" in err
        assert list((tmp_path / "tmp").iterdir()) == [] and _leftovers(tmp_path) == []


def test_ctrl_c_during_sweep_bench_marks_the_partial_point(tmp_path):
    run = _Run(tmp_path, "sweep", "-a", "0.25,0.5", "-r", "32", "--bench", "--runs",
               "100000", "--min-time", "600", "--warmup", "1")
    run.wait_for("timed runs")
    out, err = run.stop(signal.SIGINT)
    assert run.proc.returncode == 130, err
    assert "mnprof: error: interrupted; the sweep is partial" in err
    rows = [x for x in out.splitlines() if x.strip().startswith(("0.25", "0.5"))]
    assert "PARTIAL" in rows[0] and rows[1].endswith("not measured"), out
    assert "INTERRUPTED (Ctrl-C)" in out
