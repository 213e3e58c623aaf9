"""``mnprof predict --validate``: the error statistics, the random variants, and a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from mnprof.predict.device import save_profile, this_device
from mnprof.predict.validate import Point, configurations, family, kendall_tau, summary

from ..paths import ROOT
from .fake import fake_profile, install


def test_kendall_tau_by_hand():
    # 4 points, 6 pairs: (1,2) (1,3) (1,4) (2,3) (2,4) agree, (3,4) disagrees: (5-1)/6
    assert kendall_tau([1, 2, 3, 4], [10, 20, 40, 30]) == pytest.approx(4 / 6)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert kendall_tau([1], [1]) is None


def test_summary_counts_the_shares():
    pts = [Point("m", 1, 224, 1, p, 10.0, 0.0) for p in (10.4, 10.9, 12.0, 8.0)]
    s = summary(pts)        # errors: 4%, 9%, 20%, -20%
    assert s["within_5pct"] == 0.25 and s["within_10pct"] == 0.5
    assert s["mape_pct"] == pytest.approx((4 + 9 + 20 + 20) / 4)
    assert s["max_ape_pct"] == pytest.approx(20)
    assert s["median_error_pct"] == pytest.approx((4 + 9) / 2)    # of -20, 4, 9, 20


def test_repeatability_counts_agreeing_passes_by_hand():
    # second pass against the first: +4%, -9%, +20%, and one point measured once
    pts = [Point("m", 1, 224, 1, 10.0, 10.0, 0.0, passes)
           for passes in ((10.0, 10.4), (10.0, 9.1), (10.0, 12.0), (10.0,))]
    rep = summary(pts)["repeatability"]
    assert rep["points"] == 3
    assert rep["within_5pct"] == pytest.approx(1 / 3)
    assert rep["within_10pct"] == pytest.approx(2 / 3)
    assert rep["mape_pct"] == pytest.approx(100 * (0.04 + 0.09 + 0.20) / 3)
    assert summary(pts[3:])["repeatability"] is None


def test_variants_cover_the_asked_ranges_and_repeat_with_the_seed():
    configs = configurations(200, family(), seed=3)
    assert configs == configurations(200, family(), seed=3)
    assert {c[0] for c in configs} == set(family())
    assert all(0.25 <= a <= 1.4 and 96 <= r <= 288 and 0.5 <= d <= 1.5
               for _, a, r, d in configs)
    assert any(d != 1 for *_, d in configs)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    install(fake_profile(this_device(1)), root)
    return root


def run(cache, *args):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "mnprof", "predict", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def test_validate_measures_and_reports(cache, tmp_path):
    svg = tmp_path / "validation.svg"
    proc = run(cache, "--validate", "2", "--specs", "mobilenet_v3_small", "--threads", "1",
               "--format", "json", "--plot", str(svg))
    assert proc.returncode == 0, proc.stderr
    assert "Predicted vs measured" in svg.read_text()        # the scatter's title
    out = json.loads(proc.stdout)
    assert out["schema"] == "mnprof.validation/1" and len(out["points"]) == 2
    p = out["points"][0]
    assert p["spec"] == "mobilenet_v3_small" and p["measured_ms"] > 0
    assert p["error_pct"] == pytest.approx(100 * (p["predicted_ms"] / p["measured_ms"] - 1))
    assert out["summary"]["points"] == 2 and "kendall_tau" in out["summary"]
    for p in out["points"]:             # two passes by default: measured is their mean
        assert len(p["measured_passes_ms"]) == 2
        assert p["measured_ms"] == pytest.approx(sum(p["measured_passes_ms"]) / 2)
    assert out["summary"]["repeatability"]["points"] == 2


def test_validate_refuses_a_profile_of_another_cpu(cache, tmp_path):
    other = replace(this_device(1), cpu_model="Elsewhere CPU")
    file = save_profile(fake_profile(other), tmp_path / "else.json")
    proc = run(cache, "--validate", "1", "--device", str(file))
    assert proc.returncode == 2 and "validation measures this machine" in proc.stderr
    assert run(cache, "mobilenet_v1", "--validate", "1").returncode == 2


def test_specs_that_name_nothing_or_without_validate_are_refused(cache):
    """--specs ',,' once validated the default family silently; --specs without
    --validate was ignored."""
    for args in (("--validate", "1", "--specs", ",,"), ("mobilenet_v1", "--specs", "x")):
        proc = run(cache, *args)
        assert proc.returncode == 2 and "--specs names the built-ins" in proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr


def test_validate_times_the_anchors_around_the_variants(tmp_path):
    """A profile keeping anchor timings (here 1 s each: this machine is far faster): the
    report names the drift before and after, and scales the predictions by it."""
    from .test_drift import _anchors
    profile = fake_profile(this_device(1))
    install(replace(profile, calibration={**profile.calibration,
                                          "anchors": _anchors(1000.0)}), tmp_path)
    proc = run(tmp_path, "--validate", "1", "--passes", "1", "--specs", "mobilenet_v1",
               "--threads", "1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    start, end = out["machine_drift"]["start"], out["machine_drift"]["end"]
    assert -1 < start < -0.9 and -1 < end < -0.9           # milliseconds, not seconds
    (p,) = out["points"]
    adjusted = out["summary_drift_adjusted"]
    want = abs(p["predicted_ms"] * (1 + (start + end) / 2) / p["measured_ms"] - 1)
    assert adjusted["mape_pct"] == pytest.approx(100 * want)
