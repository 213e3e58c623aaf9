"""``mnprof calibrate`` in a fresh process: a budget of seconds, networks of one block
kind, interrupted by SIGTERM and resumed; and the state file it resumes from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from mnprof.predict.calibrate import State, _append, load_state
from mnprof.predict.device import Device, load_profile, profile_path
from mnprof.predict.drift import ANCHORS
from mnprof.predict.fitting import Samples
from mnprof.predict.fusion import Layout

from ..paths import ROOT

ARGS = ["calibrate", "--threads", "1", "--budget", "0.3", "--blocks", "separable",
        "--seed", "7", "--format", "json"]


def test_interrupted_calibration_resumes_and_finishes(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code = "from mnprof.predict.device import this_device, profile_path; " \
           "print(profile_path(this_device(1), '.partial.jsonl'))"
    state = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    proc = subprocess.Popen([sys.executable, "-m", "mnprof", *ARGS], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if os.path.exists(state) and open(state).read().count("\n") >= 3:
            break                       # the header and two networks are on disk
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "run the same `mnprof calibrate` again to resume" in err
    lines = open(state).read().splitlines()
    before = len(lines) - 1
    first = json.loads(lines[1])["model"]
    assert before >= 2

    done = subprocess.run([sys.executable, "-m", "mnprof", *ARGS], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["calibration"]["networks"] > before      # kept the first ones, added more
    assert report["calibration"]["seed"] == 7
    assert not os.path.exists(state)
    profile = load_profile(report["saved_to"])
    assert profile.kernels["dw.nchwc"].trees is not None
    assert profile.calibration["networks"] == report["calibration"]["networks"]
    # it ends by timing the anchor networks, for `calibrate --check` to compare with
    assert [(a["spec"], a["alpha"], a["resolution"]) for a in
            profile.calibration["anchors"]] == [tuple(a) for a in ANCHORS]
    assert all(a["median_ms"] > 0 for a in profile.calibration["anchors"])
    # the resumed run drew the same first network an uninterrupted one would have
    assert first.startswith("calibration-")


DEVICE = Device("Test CPU", 2, 2, "avx2", "1.32.0", 1)


def _record(i: int) -> dict:
    return {"phase": "explore", "model": f"net{i}", "nodes": 3, "unmatched": 0,
            "kernel_sum_us": 10.0 + i, "e2e_ms": 0.02, "load": 0.1, "elapsed_s": 1.0 + i,
            "kernels": [["pw.nchwc", [8.0] * 16, 5.0 + i]]}


def test_state_file_resumes_only_the_same_calibration(tmp_path):
    path = tmp_path / "state.jsonl"
    state = State(DEVICE, Layout(8, 4), 7, Samples.empty(), [])
    for i in range(3):
        _append(path, state, _record(i))
    again = load_state(DEVICE, path, state.blocks, 7)
    assert again is not None and again.count == 3 and again.elapsed_s == 3.0
    assert again.samples.times_us == [5.0, 6.0, 7.0] and again.samples.network == [0, 1, 2]
    assert load_state(DEVICE, path, state.blocks, 8) is None             # another seed
    assert load_state(Device("Other", 2, 2, "avx2", "1.32.0", 1), path) is None
    assert load_state(DEVICE, path, ("plain",), 7) is None               # other networks
    with open(path, "a") as fh:
        fh.write('{"phase": "explore", "model": "cut sh')                # killed mid-write
    cut = load_state(DEVICE, path, state.blocks, 7)
    assert cut is not None and cut.count == 3


def test_profile_path_is_per_device_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    p = profile_path(DEVICE)
    assert p.parent == tmp_path / "mnprof" / "devices" and "t1" in p.name


def test_a_target_no_network_can_hold_gives_way_to_an_untargeted_network():
    """Refinement asked for a 1792-channel pointwise conv on a 288x288 map (over 900
    GMACs alone): calibration goes on with a network of the seeded sequence instead of
    stopping with 'could not draw a calibration network'."""
    from mnprof.analysis.cost import analyze
    from mnprof.predict.calibrate import HEAVY_MACS, _network
    from mnprof.predict.synth import Target

    state = State(DEVICE, Layout(8, 4), 0, Samples.empty(), [])
    graph = _network(state, "refine", [Target("pw.nchwc", 1792, 1792, 288, 1, 1)])
    assert 0 < analyze(graph).totals.macs <= HEAVY_MACS


def test_explored_networks_include_built_ins_of_the_family_within_the_limit():
    """About FAMILY_SHARE of the explored networks are MobileNet-family built-ins at a
    random width, resolution and depth (never over HEAVY_MACS); the rest are random."""
    import random

    from mnprof.analysis.cost import analyze
    from mnprof.predict.calibrate import FAMILY_SHARE, HEAVY_MACS, _network, family_graph
    from mnprof.predict.validate import family

    names = set(family())
    rng = random.Random(3)
    for _ in range(5):
        graph = family_graph(rng)
        assert graph.model in names and analyze(graph).totals.macs <= HEAVY_MACS
        assert 96 <= graph.resolution <= 288 and 0.25 <= graph.alpha <= 1.4
    state = State(DEVICE, Layout(8, 4), 0, Samples.empty(), [])
    models = []
    for i in range(40):
        state.networks = [{}] * i         # the i-th network of the seeded sequence
        models.append(_network(state, "explore", []).model)
    built_in = sum(m in names for m in models)
    assert 0.1 * 40 <= built_in <= 0.55 * 40, (built_in, FAMILY_SHARE)
    assert all(m in names or m.startswith("calibration-") for m in models)
