"""The bench within bounds, and what it tells (issue 9, sections 1, 4 and 7).

Settings past their bounds are refused before any work; a run that would not fit
in memory is refused before anything is allocated; onnxruntime's own failures are
one line; the report says when its figures are doubtful.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mnprof
from mnprof.bench.machine import Ceiling
from mnprof.bench.notes import ceiling_notes, normalisation_notes
from mnprof.bench.report import machine_table
from mnprof.bench.result import ProfileSummary
from mnprof.bench.runner import time_runs
from mnprof.bench.settings import MAX_BATCH, MAX_RUNS, MAX_WARMUP, max_threads
from mnprof.core.errors import MnprofError

from ..fresh import QUICK, env_for, mnprof_many, one_error_line
from ..fresh import mnprof as fresh
from .onnx_files import big_input_model, failing_model


@pytest.mark.parametrize("args, words", [
    (["--threads", "10000"], ["--threads", f"1<=x<={max_threads()}"]),
    (["--threads", "0"], ["--threads"]),
    (["--runs", "1000000000"], ["--runs", str(MAX_RUNS)]),
    (["--warmup", "100000000"], ["--warmup", str(MAX_WARMUP)]),
    (["--min-time", "0.01", "--runs", str(MAX_RUNS + 1)], ["--runs"]),
    (["--min-time", "1e9"], ["--min-time", "3600"]),
    (["--min-time", "inf"], ["--min-time"]),
    (["--batch", "100000"], ["--batch", str(MAX_BATCH)]),
    (["--res", "100000"], ["--res", "16384"]),
    (["--alpha", "11"], ["--alpha", "<= 10"]),
])
def test_bench_options_past_their_bounds(run, args, words):
    result = run("bench", *args)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("mnprof: error:")
    for w in words:
        assert w in line, line


@pytest.mark.parametrize("option, value", [("threads", 10_000), ("runs", 10**9),
                                           ("warmup", -1), ("min_time", float("nan")),
                                           ("batch", 100_000), ("threads", True)])
def test_the_library_checks_the_same_bounds(option, value):
    with pytest.raises(MnprofError, match=option.replace("_", "-") if option == "min_time"
                       else option):
        mnprof.benchmark("mobilenet_v1", 0.25, 32, **{option: value})


def _limited(gib: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, resource.RLIM_INFINITY))
    return limit


def test_a_huge_input_is_refused_before_allocating(tmp_path):
    """An ONNX input of 1x3x100000x100000 tried to allocate 224 GiB (numpy traceback);
    `bench --res 16384` at width 10 likewise. Under a 6 GiB address-space limit both
    are one line naming the memory, and nothing is allocated."""
    big_input_model(tmp_path / "big.onnx", [1, 3, 100_000, 100_000])
    cases = [["bench", "big.onnx"], ["bench", "-r", "16384", "-a", "10"],
             ["check", "mobilenet_v1", "-r", "16384", "--max-latency-ms", "9"]]
    results = mnprof_many(cases, cwd=tmp_path, timeout=120, preexec_fn=_limited(6))
    one_error_line(results[0], "big.onnx", "[1, 3, 100000, 100000]", "GiB")
    one_error_line(results[1], "needs about", "GiB of memory")
    check = results[2]           # the check says what it measures, then the error
    assert check.stderr.splitlines()[0].startswith("mnprof check: measuring")
    check.stderr = "\n".join(check.stderr.splitlines()[1:])
    one_error_line(check, "latency_median_ms", "GiB of memory")


@pytest.mark.parametrize("kind, words", [
    ("reshape", ["FAIL", "cannot be reshaped", "{5,7}"]),
    ("gather", ["INVALID_ARGUMENT", "indices"]),
])
def test_onnxruntime_failures_while_timing_are_one_line(tmp_path, kind, words):
    """A model that loads but fails at run time escaped as a traceback; onnxruntime's
    logger also printed its own lines. Now: exit 2, exactly one line, onnxruntime's
    message without its C++ source location."""
    failing_model(tmp_path / "bad.onnx", kind)
    line = one_error_line(fresh("bench", "bad.onnx", *QUICK, cwd=tmp_path),
                          "onnxruntime failed while running the model", *words)
    assert "onnxruntime_src" not in line and ".h:" not in line


def test_a_fixed_batch_onnx_file_is_timed_and_reported_at_its_batch(tmp_path):
    """`export --batch 4` then `bench` printed "batch 1" and a throughput 4x too low."""
    mnprof.export_onnx("mobilenet_v1", tmp_path / "b4.onnx", alpha=0.25, resolution=32, batch=4)
    result = fresh("bench", "b4.onnx", *QUICK, "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lat = report["latency_ms"]
    assert report["environment"]["batch"] == 4 and lat["batch"] == 4
    assert lat["throughput_per_s"] == pytest.approx(4 * 1000.0 / lat["median"])
    # onnxruntime's telemetry (a session file, a database beside the cache) is off
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache-home", "b4.onnx"]
    assert [p.name for p in (tmp_path / ".cache-home").iterdir()] == ["mnprof"]
    with pytest.raises(MnprofError, match="fixed at 4"):
        mnprof.benchmark(str(tmp_path / "b4.onnx"), batch=2, runs=1, warmup=0, min_time=0)


def test_benchmark_twice_after_importing_the_bench_package(tmp_path):
    """`mnprof.bench` (the function) shadowed the subpackage: after any
    `mnprof.bench.*` import the second call raised TypeError. Now the function is
    `mnprof.benchmark`, and `mnprof.bench` is always the package."""
    code = ("import types, mnprof, mnprof.bench.measure, mnprof.bench.runner\n"
            "from mnprof.bench import settings\n"
            "assert isinstance(mnprof.bench, types.ModuleType)\n"
            "for _ in range(2):\n"
            "    r = mnprof.benchmark('mobilenet_v1', 0.25, 32, runs=3, warmup=1, "
            "min_time=0, per_layer=False)\n"
            "    print(r.latency_ms.runs)\n"
            "print(mnprof.measure_latency('mobilenet_v1', 0.25, 32, runs=3, warmup=1, "
            "min_time=0).latency_ms.runs)\n"
            "import mnprof.api\n"
            "import pkgutil\n"
            "subs = {m.name for m in pkgutil.iter_modules(mnprof.__path__)}\n"
            "assert not subs & set(mnprof.__all__), subs & set(mnprof.__all__)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=env_for(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "3", "3"]


# ---------------------------------------------------------------------------
# What the report says about its own figures


def _ceiling(load: float | None, measured_at: str, cached: bool = True) -> Ceiling:
    return Ceiling(peak_gmacs_per_s=50.0, bandwidth_gb_per_s=10.0, threads=2, cpu_model="x",
                   onnxruntime_version="1", gemm_method="g", copy_method="c",
                   measured_at=measured_at, cached=cached, load_average=load)


def _days_ago(days: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days * 86400))


def test_the_ceiling_shows_its_age_and_load_and_warns_when_doubtful():
    """The ceiling measured under load was cached forever without a word."""
    busy = _ceiling(50.0, _days_ago(40))
    notes = ceiling_notes(busy)
    assert any("busy (load average 50.00)" in n for n in notes)
    assert any("40 days ago" in n for n in notes)
    source = dict((r[0], r[2]) for r in machine_table(_report_with(busy)).rows)["source"]
    assert "40 days ago" in source and "load average 50.00" in source
    fresh_idle = _ceiling(0.0, _days_ago(0.2))
    assert ceiling_notes(fresh_idle) == []
    source = dict((r[0], r[2]) for r in machine_table(_report_with(fresh_idle)).rows)["source"]
    assert "5 hours ago" in source and "load average 0.00" in source


def _report_with(ceiling: Ceiling):
    from types import SimpleNamespace
    return SimpleNamespace(machine=ceiling)


def test_measuring_the_ceiling_records_its_load_and_time(tmp_path, monkeypatch):
    from mnprof.bench import machine
    monkeypatch.setattr(machine, "_gemm_peak", lambda n, threads: (40.0 + n / 1000, n, 5))
    monkeypatch.setattr(machine, "_copy_bandwidth", lambda threads: 9.5)
    monkeypatch.setattr(machine, "load_average", lambda: 3.25)
    path = tmp_path / "machine.json"
    c = machine.machine_ceiling(2, path=path)
    assert (c.load_average, c.cached) == (3.25, False)
    entry = next(iter(json.loads(path.read_text())["entries"].values()))
    assert entry["load_average"] == 3.25 and entry["measured_at"] == c.measured_at
    again = machine.machine_ceiling(2, path=path)
    assert again.cached and again.load_average == 3.25 and again.age_days < 0.01


@pytest.mark.parametrize("kernel_sum, profiled, unprofiled, flagged", [
    (0.479 * 16.2, 16.2, 16.2 * 0.479 * 2.166, True),     # the 2.166
    (10.0, 10.0, 10.0, False), (10.0, 10.5, 8.5, False), (10.0, 10.0, 13.0, True),
    (10.0, 10.0, 7.0, True),
])
def test_a_profile_scale_far_from_1_is_flagged(kernel_sum, profiled, unprofiled, flagged):
    p = ProfileSummary(runs=20, profiled_median_ms=profiled, unprofiled_median_ms=unprofiled,
                       kernel_sum_ms=kernel_sum, nodes=30)
    notes = normalisation_notes(p)
    assert any("UNRELIABLE" in n for n in notes) == flagged
    assert f"scaled by {p.scale:.3f}" in notes[0]
    assert "-" not in notes[0].split("A profiled run was ")[1].split("%")[0]
    word = "slower" if profiled >= unprofiled else "faster"
    assert f"% {word} than an unprofiled one" in notes[0]


class _FakeSession:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self, names, feed):
        time.sleep(self.seconds)


def test_the_progress_of_timed_runs_is_not_always_complete():
    """The bar always showed N/N: the expected count now follows the pace, so it is
    N/M with M > N until the last run, then M/M."""
    calls: list[tuple[int, int]] = []
    time_runs(_FakeSession(0.002), {}, warmup=0, runs=3, min_time=0.05,
              progress=lambda label, done, total: calls.append((done, total)))
    assert len(calls) > 5
    assert all(done < total for done, total in calls[:-1]), calls
    assert calls[-1][0] == calls[-1][1]
    assert calls[-1][0] >= 3


def test_sweep_bench_takes_timing_options_and_names_noise(run, monkeypatch):
    """`sweep --bench` had no options and no noise warning (0.5/224 at 7.49 ms,
    0.5/160 at 6.56 ms on a busy machine, said nothing)."""
    import mnprof.bench.measure as measure
    from tests.gate.test_check import LatencyReport, LatencyStats
    calls = []

    def fake(graph, *, threads=None, runs, warmup, min_time, **_):
        calls.append((graph.resolution, threads, runs, warmup, min_time))
        spread = 3.0 if graph.resolution == 224 else 0.1
        stats = LatencyStats(runs=runs, median=7.0, p10=6.9, p90=6.9 + spread, mean=7.0,
                             stdev=0.1, cv=0.01, min=6.8, max=10.0)
        return LatencyReport(stats, threads or 2, _env(load=9.0), interrupted=False)

    monkeypatch.setattr(measure, "measure_latency", fake)
    result = run("sweep", "-a", "0.5", "-r", "224,160", "--bench", "--runs", "7",
                 "--warmup", "2", "--min-time", "0.25", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert calls == [(224, 1, 7, 2, 0.25), (160, 1, 7, 2, 0.25)]
    assert "NOISY" in result.stdout and "0.5/224 (43%)" in result.stdout
    assert "0.5/160" not in result.stdout.split("NOISY")[1].split("\n")[0]
    assert "BUSY: the load average was 9.00" in result.stdout
    calls.clear()
    result = run("sweep", "-a", "0.5", "-r", "160", "--bench", "-f", "json")
    assert calls == [(160, None, 20, 5, 0.5)]              # the quick per-point defaults
    data = json.loads(result.stdout)
    assert data["bench"]["notes"] and data["rows"][0]["latency_ms"]["partial"] is False


def _env(load: float):
    from mnprof.bench.result import Environment
    return Environment(cpu_model="t", logical_cpus=2, physical_cores=2, cores_used=2,
                       onnxruntime_version="-", threads=2, inter_op_threads=1,
                       execution_mode="sequential", opt_level="all", opset=17, batch=1,
                       runs=1, warmup=1, min_time_s=0, simd="", nchwc_block=0, spinning="",
                       load_average=load)


def test_sweep_bench_interrupted_marks_the_partial_point(run, monkeypatch):
    """Ctrl-C during `sweep --bench` exited 0 with a complete-looking table where one
    point had 8 runs instead of 20: now exit 130, that point PARTIAL, the rest 'not
    measured', in every format."""
    import mnprof.bench.measure as measure
    from tests.gate.test_check import LatencyReport, LatencyStats

    def fake(graph, *, runs, **_):
        stats = LatencyStats(runs=8 if graph.resolution == 160 else runs, median=5.0, p10=5.0,
                             p90=5.0, mean=5.0, stdev=0.0, cv=0.0, min=5.0, max=5.0)
        return LatencyReport(stats, 2, _env(load=0.0), interrupted=graph.resolution == 160)

    monkeypatch.setattr(measure, "measure_latency", fake)
    result = run("sweep", "-a", "0.5", "-r", "224,160,128", "--bench")
    assert result.exit_code == 130
    assert result.stderr.strip().startswith("mnprof: error: interrupted; the sweep is partial")
    rows = [x for x in result.stdout.splitlines() if x.strip().startswith("0.5")]
    assert rows[0].endswith("measured") and "PARTIAL" in rows[1] and " 8 " in rows[1]
    assert rows[2].endswith("not measured")
    assert "stopped after 8 timed runs" in result.stdout
    data = json.loads(run("sweep", "-a", "0.5", "-r", "224,160,128", "--bench",
                          "-f", "json").stdout)
    assert [r["latency_ms"] and r["latency_ms"]["partial"] for r in data["rows"]] == \
        [False, True, None]
    assert data["bench"]["interrupted"] is True


def test_a_sweep_interrupted_before_any_point_still_says_so(run, monkeypatch):
    import mnprof.bench.measure as measure

    def fake(graph, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(measure, "measure_latency", fake)
    result = run("sweep", "-a", "0.5", "-r", "224", "--bench")
    assert result.exit_code == 130
    assert "not measured" in result.stdout and "INTERRUPTED" in result.stdout


def test_the_onnx_test_files_are_what_they_claim(tmp_path):
    """The helper files: the failing ones load (they fail only when run)."""
    import onnxruntime as ort
    for kind in ("reshape", "gather"):
        failing_model(tmp_path / f"{kind}.onnx", kind)
        ort.InferenceSession(str(tmp_path / f"{kind}.onnx"), providers=["CPUExecutionProvider"])
    big_input_model(tmp_path / "big.onnx", [1, 3, 100_000, 100_000])
    assert Path(tmp_path / "big.onnx").stat().st_size < 1000
