"""``mnprof predict --format html`` / ``--plot`` and the validation page: the charts are
there and say PREDICTED, the tables carry the JSON report's numbers, nothing is
fetched. A tiny fake device profile stands in for a calibration (its figures mean
nothing about this CPU: the page's plumbing is what is checked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mnprof.output import render
from mnprof.predict.device import this_device
from mnprof.predict.predictor import predict_graph
from mnprof.predict.validate import Point, ValidationReport
from mnprof.spec.build import build
from mnprof.spec.builtins import load_spec

from ..paths import ROOT
from ..predict.fake import fake_profile, install
from .page import external_references, parse


@pytest.fixture(scope="module")
def predicted():
    graph = build(load_spec("mobilenet_v2"), 0.5, 160)
    report = predict_graph(graph, fake_profile(this_device(1)), here=this_device(1))
    html = render(report, "html")
    return parse(html), json.loads(render(report, "json")), html


def test_every_predict_chart_is_there_says_predicted_and_fetches_nothing(predicted):
    page, _, html = predicted
    assert {"chart-predict-types", "chart-predict-layers"} <= set(page.svg_ids)
    assert not external_references(html, page)
    assert "PREDICTED" in page.text and "predicted" in page.svg_titles["chart-predict-types"]


def test_predict_tables_equal_the_json(predicted):
    page, data, _ = predicted
    rows = page.rows("table-predict-layers")
    names = [x["name"] for x in data["layers"]]
    assert [r["name"].value for r in rows][:len(names)] == names
    by_name = {x["name"]: x for x in data["layers"]}
    for row in rows:
        if row["name"].value in by_name:
            want = by_name[row["name"].value]
            assert float(row["time_ms"].value) == pytest.approx(want["time_ms"], abs=1e-6)
    types = {r["type"].value: r for r in page.rows("table-predict-types")}
    assert set(data["by_type"]) <= set(types)
    for key, x in data["by_type"].items():
        assert float(types[key]["time_ms"].value) == pytest.approx(x["time_ms"], abs=1e-6)


def test_validation_page_scatter_and_summary_by_hand():
    # 4 points: errors +4%, +9%, +20%, -20% -> 50% within 10%, 25% within 5%
    points = tuple(Point("mobilenet_v2", 1.0, 224, 1.0, p, 10.0, 0.01)
                   for p in (10.4, 10.9, 12.0, 8.0))
    report = ValidationReport(this_device(1), "profile.json", points, 0, 4, 0.1, 0.1)
    html = render(report, "html")
    page = parse(html)
    assert "chart-validation" in page.svg_ids and not external_references(html, page)
    (summary,) = [r for r in page.rows("table-validation-summary")] or [None]
    foot = page.tables["table-validation-summary"].footer
    assert foot is not None
    assert float(foot["within_10pct"].value) == pytest.approx(50.0)
    assert float(foot["within_5pct"].value) == pytest.approx(25.0)
    assert summary is not None and summary["points"].value == "4"
    assert len(page.rows("table-validation-points")) == 4


def test_predict_html_and_plot_in_a_fresh_process(tmp_path):
    install(fake_profile(this_device(1)), tmp_path / "cache")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out, svg = tmp_path / "p.html", tmp_path / "types.svg"
    proc = subprocess.run([sys.executable, "-m", "mnprof", "predict", "mobilenet_v3_small",
                           "--threads", "1", "--format", "html", "-o", str(out), "--plot",
                           str(svg)], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = parse(out.read_text())
    assert "chart-predict-types" in page.svg_ids
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_predicted_sweep_page_fronts_the_predicted_latency(tmp_path):
    from mnprof import api
    from mnprof.predict.device import save_profile

    device = save_profile(fake_profile(this_device(1)), tmp_path / "fake.json")
    report = api.sweep("mobilenet_v2", [0.35, 0.5, 1.0], [96, 160, 224],
                       predict={"threads": 1, "device": str(device)})
    data = json.loads(render(report, "json"))
    page = parse(render(report, "html"))
    assert "PREDICTED" in page.text
    rows = data["rows"]
    # brute force: on the front when no other point is as fast or faster with as many
    # MACs or more, and strictly better in one of the two
    want = {(p["alpha"], p["resolution"]) for p in rows
            if not any(q["predicted_latency_ms"] <= p["predicted_latency_ms"]
                       and q["macs"] >= p["macs"] and (q["predicted_latency_ms"],
                                                       q["macs"]) != (p["predicted_latency_ms"],
                                                                      p["macs"])
                       for q in rows)}
    shown = {(float(r["alpha"].value), int(r["resolution"].value))
             for r in page.rows("table-sweep-front")}
    assert shown == want and 0 < len(want) < 9


def test_reorders_are_charged_to_the_layer_they_serve_as_the_bench_does():
    """V3-Large's squeeze-and-excite runs its Mul in NCHW between blocked convs: the
    reorders of the depthwise output and of the gate go to the Mul's layer (se.scale),
    the reorder back to the blocked layout to the projection that reads it; no
    onnxruntime-only rows remain, and the layer rows still sum to the total."""
    from mnprof.predict.kernels import kernels_of
    from mnprof.predict.predictor import _served

    graph = build(load_spec("mobilenet_v3_large"), 1.0, 224)
    profile = fake_profile(this_device(1))
    kernels = list(kernels_of(graph, profile.layout))
    charged = {(k.kind, k.dst): layers for k, layers in zip(kernels, _served(graph, kernels),
                                                            strict=True) if not k.layers}
    assert charged[("reorder_out", "bneck4.dw")] == ("bneck4.se.scale",)
    assert charged[("reorder_out", "bneck4.se.fc2")] == ("bneck4.se.scale",)
    assert charged[("reorder_in", "bneck4.se.scale")][0] == "bneck4.project"
    report = predict_graph(graph, profile, here=this_device(1))
    assert report.non_layer == ()
    assert sum(x.time_ms for x in report.layers) == pytest.approx(report.median_ms, rel=1e-9)
    assert any("Layout reorders are charged" in n for n in report.notes)
