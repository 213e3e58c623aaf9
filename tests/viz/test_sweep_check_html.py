"""Sweep and check pages: the Pareto front is the true front (checked by brute force
here), the grid and limit tables carry the JSON reports' numbers, and the
definition of the front holds on hand-made and random points."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from mnprof import api
from mnprof.bench.result import latency_stats
from mnprof.output import render
from mnprof.viz.pareto import HIGHER, LOWER, dominates, front

from ..paths import ROOT
from .page import external_references, parse


def brute_front(points, senses):
    """On the front: no other point at least as good everywhere and better somewhere."""
    out = []
    for i, p in enumerate(points):
        beaten = False
        for j, q in enumerate(points):
            if i == j:
                continue
            diffs = [(a - b) * s for a, b, s in zip(q, p, senses, strict=True)]
            if min(diffs) >= 0 and max(diffs) > 0:
                beaten = True
        if not beaten:
            out.append(i)
    return out


def test_front_by_hand():
    # cost (lower) and MACs (higher): (1, 10) beats (2, 10) and (1, 5); (3, 20) stands;
    # duplicates of a front point are both on it
    points = [(1, 10), (2, 10), (1, 5), (3, 20), (3, 20), (4, 15)]
    assert front(points, (LOWER, HIGHER)) == [0, 3, 4]
    assert dominates((1, 10), (2, 10), (LOWER, HIGHER))
    assert not dominates((3, 20), (3, 20), (LOWER, HIGHER))
    assert front([], (LOWER, HIGHER)) == []


def test_front_equals_brute_force_on_random_points():
    rng = random.Random(7)
    for senses in itertools.product((LOWER, HIGHER), repeat=2):
        for _ in range(50):
            pts = [(rng.randint(0, 6), rng.randint(0, 6)) for _ in range(rng.randint(1, 25))]
            assert front(pts, senses) == brute_front(pts, senses), (pts, senses)


def _front_rows(page):
    return [(float(r["alpha"].value), int(r["resolution"].value))
            for r in page.rows("table-sweep-front")]


def test_sweep_page_front_and_grid_equal_the_json(run):
    args = ("sweep", "--alpha", "1,0.75,0.5,0.35", "--res", "224,160,128,97")
    html = run(*args, "--format", "html").stdout
    data = json.loads(run(*args, "--format", "json").stdout)
    page = parse(html)
    assert {"chart-sweep-pareto", "chart-sweep-grid"} <= set(page.svg_ids)
    assert not external_references(html, page)
    rows = page.rows("table-sweep-rows")
    assert len(rows) == len(data["rows"]) == 16
    for r, d in zip(rows, data["rows"], strict=True):
        assert (float(r["alpha"].value), int(r["resolution"].value)) == \
            (d["alpha"], d["resolution"])
        for key in ("macs", "params", "params_framework", "peak_activation_bytes"):
            assert int(r[key].value) == d[key]
    # without latency, the front is fewest params for the most MACs
    pts = [(d["params"], d["macs"]) for d in data["rows"]]
    expected = {(data["rows"][i]["alpha"], data["rows"][i]["resolution"])
                for i in brute_front(pts, (LOWER, HIGHER))}
    assert set(_front_rows(page)) == expected
    assert len(_front_rows(page)) == len(expected)


def test_sweep_front_with_latency_is_the_true_front():
    report = api.sweep("mobilenet_v1", [1, 0.75, 0.5], [224, 192, 160])
    rng = random.Random(3)
    # made-up medians with ties and one row not measured (an interrupted sweep)
    medians = [rng.choice([2.0, 3.0, 3.0, 5.0, 8.0]) for _ in report.rows[:-1]]
    lats = tuple(latency_stats([m, m, m]) for m in medians)
    report = replace(report, latencies=lats, latency_threads=1, latency_kind="measured",
                     interrupted=True)
    html = render(report, "html")
    data = json.loads(render(report, "json"))
    page = parse(html)
    measured = [d for d in data["rows"] if d["latency_ms"] is not None]
    assert len(measured) == len(report.rows) - 1
    pts = [(d["latency_ms"]["median"], d["macs"]) for d in measured]
    expected = {(measured[i]["alpha"], measured[i]["resolution"])
                for i in brute_front(pts, (LOWER, HIGHER))}
    assert set(_front_rows(page)) == expected
    for r in page.rows("table-sweep-front"):
        d = next(x for x in measured if (x["alpha"], x["resolution"]) ==
                 (float(r["alpha"].value), int(r["resolution"].value)))
        assert float(r["latency_median_ms"].value) == pytest.approx(d["latency_ms"]["median"])
    assert "interrupted" in page.text


BUDGET = """\
models:
  - name: small
    spec: mobilenet_v1
    alpha: 0.5
    resolution: 160
    limits:
      macs: 80M
      params: {max}
"""


@pytest.mark.parametrize("params, status", [("1.4M", 0), ("1.3M", 1)])
def test_check_page_verdict_and_limits_equal_the_json(tmp_path, params, status):
    budget = tmp_path / "budget.yaml"
    budget.write_text(textwrap.dedent(BUDGET.format(max=params)))
    out = tmp_path / "check.html"
    done = subprocess.run([sys.executable, "-m", "mnprof", "check", str(budget), "--format",
                           "html", "-o", str(out), "--report", f"json={tmp_path / 'c.json'}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == status, done.stderr
    html = out.read_text()
    page = parse(html)
    data = json.loads((tmp_path / "c.json").read_text())
    assert "chart-check" in page.svg_ids and not external_references(html, page)
    assert ('class="banner pass"' in html) == (status == 0)
    assert ('class="banner fail"' in html) == (status == 1)
    rows = page.rows("table-check-limits")
    assert len(rows) == len(data["results"]) == 2
    for r, d in zip(rows, data["results"], strict=True):
        assert (r["model"].value, r["metric"].value) == (d["model"], d["metric"])
        for key in ("limit", "threshold", "actual", "headroom"):
            assert float(r[key].value) == d[key], key
        assert float(r["headroom_pct"].value) == pytest.approx(d["headroom_pct"], abs=1e-6)
        assert (r["passed"].value == "FAIL") == (not d["passed"])
    # 0.5 MobileNet-160 has 1,319,648 params (by hand in mnprof-budget.yaml)
    assert rows[1]["actual"].value == "1319648"
    assert rows[1]["passed"].value == ("pass" if status == 0 else "FAIL")


def test_compare_page_table_and_front_equal_the_json(run):
    models = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small",
              "mobilenet_v1:alpha=0.5,res=160", "mobilenet_v1_shallow")
    html = run("compare", *models, "--format", "html").stdout
    data = json.loads(run("compare", *models, "--format", "json").stdout)
    page = parse(html)
    assert {"chart-compare-models", "chart-compare-pareto"} <= set(page.svg_ids)
    assert not external_references(html, page)
    rows = page.rows("table-compare")
    assert [r["label"].value for r in rows] == [d["label"] for d in data["rows"]]
    for r, d in zip(rows, data["rows"], strict=True):
        for key in ("macs", "params", "params_framework", "peak_activation_bytes"):
            assert int(r[key].value) == d[key]
        assert float(r["macs_ratio"].value) == pytest.approx(d["macs_ratio"], abs=1e-6)
    pts = [(d["params"], d["macs"]) for d in data["rows"]]
    expected = [data["rows"][i]["label"] for i in brute_front(pts, (LOWER, HIGHER))]
    assert sorted(r["label"].value for r in page.rows("table-compare-front")) == \
        sorted(expected)
