"""``mnprof predict``, ``sweep --predict`` and predicted limits in ``mnprof check``, each
run in a fresh process against a tiny fake profile of this machine.

The fake profile's numbers mean nothing about this CPU; what is checked here is
the plumbing: which profile is used and named, what the report holds and how it
is labelled, that rows sum to the total, and every error path (exit 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from mnprof.predict.device import save_profile, this_device

from ..paths import ROOT
from .fake import fake_profile, install


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    install(fake_profile(this_device(1)), root)
    return root


def mnprof(cache, *args, check=None):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "mnprof", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stderr
    return proc


def test_predict_json_is_labelled_and_adds_up(cache):
    out = json.loads(mnprof(cache, "predict", "mobilenet_v3_small", "--alpha", "0.75",
                            "--res", "160", "--threads", "1", "--format", "json",
                            check=0).stdout)
    assert out["schema"] == "mnprof.predict/1" and out["predicted"] is True
    assert out["alpha"] == 0.75 and out["resolution"] == 160
    lat = out["latency_ms"]
    # the fake overhead: 1.0 x kernels + 5 us per kernel + 20 us
    assert lat["median"] == pytest.approx(lat["kernel_sum"] + (5 * lat["kernels"] + 20) / 1000)
    assert sum(k["time_ms"] for k in out["kernels"]) == pytest.approx(lat["kernel_sum"])
    rows = [x["time_ms"] for x in out["layers"]] + [x["time_ms"] for x in out["non_layer"]]
    assert sum(rows) == pytest.approx(lat["median"])
    assert out["device"]["this_machine"] is True and out["device"]["threads"] == 1
    assert out["device"]["profile"].startswith(str(cache))
    se = out["by_type"]["se"]
    assert se["layers"] > 0 and se["time_ms"] > 0


def test_predict_table_says_predicted_and_names_the_profile(cache):
    text = mnprof(cache, "predict", "mobilenet_v1", "--threads", "1", "--per-layer",
                  check=0).stdout
    assert "PREDICTED for" in text and "Per layer (predicted)" in text
    assert "Predicted, not measured" in text and str(cache) in text


def test_predict_without_a_profile_says_how_to_make_one(cache):
    proc = mnprof(cache, "predict", "mobilenet_v1", "--threads", "3", check=2)
    assert "mnprof calibrate --threads 3" in proc.stderr and proc.stderr.count("\n") == 1


def test_predict_for_another_device_from_its_file(cache, tmp_path):
    other = replace(this_device(2), cpu_model="Target CPU X")
    file = save_profile(fake_profile(other), tmp_path / "target.json")
    out = json.loads(mnprof(cache, "predict", "mobilenet_v2", "--device", str(file),
                            "--format", "json", check=0).stdout)
    assert out["device"]["cpu_model"] == "Target CPU X" and out["device"]["threads"] == 2
    assert out["device"]["this_machine"] is False
    assert any("not of this machine" in n for n in out["notes"])
    proc = mnprof(cache, "predict", "--device", str(file), "--threads", "1", check=2)
    assert "for 2 thread(s)" in proc.stderr


def test_a_corrupt_device_file_is_exit_2(cache, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "mnprof.device/1", "device": 3}')
    proc = mnprof(cache, "predict", "--device", str(bad), check=2)
    assert str(bad) in proc.stderr and proc.stderr.count("\n") == 1


def test_sweep_predict_column(cache):
    out = json.loads(mnprof(cache, "sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res",
                            "224,128", "--predict", "--threads", "1", "--format", "json",
                            check=0).stdout)
    lat = [r["predicted_latency_ms"] for r in out["rows"]]
    assert len(lat) == 4 and out["prediction"]["predicted"] is True
    assert lat[0] > lat[1] and lat[0] > lat[2]          # alpha 1 at 224 is the largest
    single = json.loads(mnprof(cache, "predict", "mobilenet_v1", "--alpha", "0.5", "--res",
                               "128", "--threads", "1", "--format", "json",
                               check=0).stdout)
    assert lat[3] == pytest.approx(single["latency_ms"]["median"], rel=1e-9)
    text = mnprof(cache, "sweep", "--predict", "--threads", "1", check=0).stdout
    assert "PREDICTED (not measured)" in text and "predicted ms" in text


def test_sweep_predict_and_bench_are_exclusive(cache):
    assert "not both" in mnprof(cache, "sweep", "--predict", "--bench", check=2).stderr


def test_check_predicted_limit_passes_fails_and_is_labelled(cache, tmp_path):
    pred = json.loads(mnprof(cache, "predict", "mobilenet_v3_small", "--threads", "1",
                             "--format", "json", check=0).stdout)["latency_ms"]["median"]
    high, low = f"{pred * 1.5:.3f}", f"{pred * 0.5:.3f}"
    ok = json.loads(mnprof(cache, "check", "mobilenet_v3_small", "--max-predicted-ms", high,
                           "--format", "json", check=0).stdout)
    res = ok["results"][0]
    assert res["metric"] == "predicted_latency_ms" and res["predicted"] is True
    assert res["actual"] == pytest.approx(pred, rel=1e-6) and res["prediction"]["threads"] == 1
    fail = mnprof(cache, "check", "mobilenet_v3_small", "--max-predicted-ms", low, check=1)
    assert "(predicted)" in fail.stdout and "FAIL" in fail.stdout
    junit = mnprof(cache, "check", "mobilenet_v3_small", "--max-predicted-ms", low,
                   "--format", "junit", check=1).stdout
    assert "PREDICTED (not measured)" in junit


def test_budget_file_with_predicted_limits(cache, tmp_path):
    budget = tmp_path / "budget.yaml"
    budget.write_text("models:\n  - spec: mobilenet_v1\n    alpha: 0.5\n    limits:\n"
                      "      predicted_latency_ms: {max: 100000, threads: 1}\n"
                      "      macs: 200M\n")
    md = mnprof(cache, "check", str(budget), "--format", "markdown", check=0).stdout
    assert "(predicted)" in md
    budget.write_text("models:\n  - spec: mobilenet_v1\n    limits:\n"
                      "      predicted_latency_ms: {max: 10, runs: 5}\n")
    proc = mnprof(cache, "check", str(budget), check=2)
    assert "runs nothing" in proc.stderr and "budget.yaml:4" in proc.stderr
    budget.write_text("models:\n  - spec: mobilenet_v1\n    limits:\n"
                      "      predicted_latency_ms: {max: 10, threads: 3}\n")
    proc = mnprof(cache, "check", str(budget), check=2)
    assert "mnprof calibrate --threads 3" in proc.stderr and "budget.yaml:4" in proc.stderr


def test_export_then_import_round_trip(cache, tmp_path):
    out = tmp_path / "exported.json"
    mnprof(cache, "calibrate", "--threads", "1", "--export", str(out), check=0)
    data = json.loads(out.read_text())
    assert data["schema"] == "mnprof.device/1"
    proc = mnprof(tmp_path / "fresh", "calibrate", "--import", str(out), check=0)
    assert "installed as" in proc.stdout
    mnprof(tmp_path / "fresh", "predict", "--threads", "1", check=0)


def test_import_of_another_cpu_is_exit_2(cache, tmp_path):
    other = replace(this_device(1), cpu_model="Somebody Else's CPU")
    file = save_profile(fake_profile(other), tmp_path / "theirs.json")
    proc = mnprof(cache, "calibrate", "--import", str(file), check=2)
    assert "not of this machine" in proc.stderr and proc.stderr.count("\n") == 1


def test_a_budget_that_never_runs_out_is_refused_before_any_work(cache):
    """--budget nan passed click's FloatRange (every comparison with nan is false) and
    calibrated forever; now nan, inf and out-of-range budgets are one line, exit 2."""
    for bad in ("nan", "inf", "-1", "0.05", "1441", "ten"):
        proc = mnprof(cache, "calibrate", "--threads", "1", "--budget", bad, check=2)
        assert proc.stderr.count("\n") == 1 and "budget must be a number of minutes" in \
            proc.stderr, proc.stderr
    import mnprof as lib
    with pytest.raises(lib.core.errors.MnprofError, match="budget_minutes"):
        lib.calibrate(threads=1, budget_minutes=float("nan"))


def test_predict_an_onnx_file_in_a_fresh_process(cache, tmp_path):
    """An exported file is imported and predicted like its spec: the same layers and
    MACs (the import is exact), its own widths (no alpha), the profile named."""
    model = tmp_path / "v1.onnx"
    mnprof(cache, "export", "mobilenet_v1", "--alpha", "0.25", "--res", "64", "-o",
           str(model), check=0)
    got = json.loads(mnprof(cache, "predict", str(model), "--threads", "1", "--format",
                            "json", check=0).stdout)
    spec = json.loads(mnprof(cache, "predict", "mobilenet_v1", "--alpha", "0.25", "--res",
                             "64", "--threads", "1", "--format", "json", check=0).stdout)
    assert got["alpha"] is None and got["predicted"] is True
    assert got["latency_ms"]["median"] > 0 and got["device"]["profile"]
    # the import is exact: the file has the total MACs of the spec it was exported from
    assert got["total"]["macs"] == spec["total"]["macs"]
    assert mnprof(cache, "predict", str(model), "--alpha", "0.5", check=2).returncode == 2
