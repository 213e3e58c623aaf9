"""The machine's drift since calibration: anchor timings kept in the profile, timed again
by ``mnprof calibrate --check`` and around ``predict --validate``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from mnprof.predict.device import this_device
from mnprof.predict.drift import ANCHORS, Anchor, Timed, calibrated_anchors, median_drift, verdict
from mnprof.predict.validate import Point, ValidationReport, summary

from ..paths import ROOT
from .fake import fake_profile, install


def _anchors(ms: float) -> list[dict]:
    return [{"spec": s, "alpha": a, "resolution": r, "median_ms": ms, "spread": 0.01}
            for s, a, r in ANCHORS]


def test_kept_anchors_are_read_and_bad_entries_skipped():
    profile = fake_profile(this_device(1))
    good = _anchors(4.0)
    bad = [{"spec": "x"}, {"spec": "y", "alpha": 1, "resolution": 224, "median_ms": "nan"},
           {"spec": "z", "alpha": 1, "resolution": 224, "median_ms": -1}, "not a mapping"]
    kept = calibrated_anchors(replace(profile, calibration={"anchors": [*good, *bad]}))
    assert kept == {(s, a, r): 4.0 for s, a, r in ANCHORS}
    assert calibrated_anchors(profile) == {}


def test_drift_and_verdict_by_hand():
    def anchor(now, then):
        return Anchor(Timed("m", 1.0, 224, now, 0.0), then, predicted_ms=10.0)
    a = [anchor(12.0, 10.0), anchor(9.0, 10.0), anchor(11.5, 10.0), anchor(5.0, None)]
    assert [x.drift for x in a[:3]] == pytest.approx([0.2, -0.1, 0.15])
    assert a[3].drift is None and a[0].error == pytest.approx(10 / 12 - 1)
    assert median_drift(a) == pytest.approx(0.15)          # of -0.1, 0.15, 0.2
    assert "takes 15% longer" in verdict(0.15) and "13% low" in verdict(0.15)  # 0.15 / 1.15
    assert "20% less time" in verdict(-0.2) and "25% high" in verdict(-0.2)   # 0.2 / 0.8
    assert "as when calibrated" in verdict(0.03)


def test_drift_adjusted_errors_by_hand():
    pts = (Point("m", 1, 224, 1, 9.0, 10.0, 0.0), Point("m", 1, 224, 1, 12.0, 10.0, 0.0))
    r = ValidationReport(this_device(1), "p.json", pts, 0, 2, None, None,
                         drift_start=0.08, drift_end=0.12)
    assert r.drift == pytest.approx(0.10)
    adjusted = r.drift_adjusted()                        # 9.9 and 13.2 against 10
    assert [p.error for p in adjusted] == pytest.approx([-0.01, 0.32])
    assert summary(adjusted)["within_5pct"] == 0.5
    none = replace(r, drift_start=None, drift_end=None)
    assert none.drift is None and none.drift_adjusted() == ()


def _check(cache, *args):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "mnprof", "calibrate", "--check",
                           "--threads", "1", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_check_of_a_profile_without_anchors_says_how_to_make_one(tmp_path):
    install(fake_profile(this_device(1)), tmp_path)
    proc = _check(tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "keeps no anchor timings" in proc.stderr and "--restart" in proc.stderr
    bad = _check(tmp_path, "--budget", "3")
    assert bad.returncode == 2 and "--check calibrates nothing: --budget" in bad.stderr
    both = _check(tmp_path, "--export", str(tmp_path / "p.json"))
    assert both.returncode == 2 and "give one of --import, --export and --check" in both.stderr
    assert not (tmp_path / "p.json").exists()


def test_check_times_the_anchors_against_calibration(tmp_path):
    """Anchors 'calibrated' at 1 s each: the machine now runs far faster, and says so."""
    profile = fake_profile(this_device(1))
    install(replace(profile, calibration={**profile.calibration,
                                          "anchors": _anchors(1000.0)}), tmp_path)
    proc = _check(tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["schema"] == "mnprof.drift/1"
    assert [(a["spec"], a["alpha"], a["resolution"]) for a in out["anchors"]] == \
        [tuple(a) for a in ANCHORS]
    for a in out["anchors"]:
        assert 0 < a["median_ms"] < 1000 and a["calibrated_ms"] == 1000.0
        assert a["drift"] == pytest.approx(a["median_ms"] / 1000.0 - 1)
        assert a["prediction_error"] == pytest.approx(a["predicted_ms"] / a["median_ms"] - 1)
    assert out["drift"] == pytest.approx(sorted(a["drift"] for a in out["anchors"])[1])
    assert "less time than when calibrated" in out["verdict"]
