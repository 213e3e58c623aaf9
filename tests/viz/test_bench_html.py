"""``mnprof bench --format html`` and ``--plot``: the roofline places every layer where
its measured GMAC/s and intensity say, under the roofs of a (fake, cached) machine
ceiling; the tables carry the JSON report's numbers.

A bench is timed once (tiny model, three runs) and rendered both ways from the same
report: two separate runs would time differently. One CLI run in a fresh process
checks the command itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mnprof import api
from mnprof.bench import machine
from mnprof.bench.caches import MemoryRoof
from mnprof.bench.machine import Ceiling
from mnprof.output import render
from mnprof.viz import bench_charts

from ..paths import ROOT
from .page import external_references, parse

KIB, MIB = 1024, 1024 * 1024
PEAK = 40.0
ROOFS = (MemoryRoof("L1", 300.0, 64 * KIB, 32 * KIB), MemoryRoof("L2", 150.0, MIB, 256 * KIB),
         MemoryRoof("L3", 60.0, 8 * MIB, 2 * MIB), MemoryRoof("DRAM", 8.0, None, 512 * MIB))
BW = {r.level: r.bandwidth_gb_per_s for r in ROOFS}
QUICK = dict(threads=1, runs=3, warmup=1, min_time=0.0)
CLI_QUICK = ("-a", "0.25", "-r", "32", "--runs", "3", "--min-time", "0", "--warmup", "1",
             "--threads", "1")


def _fake_cache(root) -> dict[str, str]:
    import onnxruntime as ort
    env = {"XDG_CACHE_HOME": str(root)}
    path = root / "mnprof" / "machine.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = {}
    for t in range(1, (os.cpu_count() or 1) + 2):
        c = Ceiling(PEAK, BW["DRAM"], t, machine.cpu_info().model, ort.__version__, "fake GEMM",
                    "fake copy", "2000-01-01T00:00:00Z", memory_roofs=ROOFS,
                    cache_method="fake levels")
        entries[machine.cache_key(c.cpu_model, t, c.onnxruntime_version)] = {
            k: v for k, v in c.to_dict().items() if k != "cached"}
    path.write_text(json.dumps({"schema": machine.CACHE_SCHEMA, "entries": entries}))
    return env


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        _fake_cache(root)
        mp.setattr(machine, "measure_ceiling",
                   lambda *a, **k: pytest.fail("the ceiling must come from the cache"))
        report = api.benchmark("mobilenet_v1", 0.25, 32, profile_runs=2, **QUICK)
    html = render(report, "html")
    return report, html, parse(html), json.loads(render(report, "json"))


def _f(text: str | None) -> float:
    assert text is not None
    return float(text)


def test_every_bench_chart_is_there_and_nothing_is_fetched(bench):
    _, html, page, _ = bench
    assert {"chart-roofline", "chart-bench-types", "chart-bench-layers"} <= set(page.svg_ids)
    assert not external_references(html, page)


def test_roofline_points_sit_at_their_intensity_and_achieved_rate(bench):
    report, _, _, data = bench
    fig = bench_charts.roofline(report)[0]
    ax = fig.axes[0]
    points = {c.get_gid(): tuple(c.get_offsets()[0]) for c in ax.collections if c.get_gid()}
    placed = [x for x in data["layers"] if x["macs"] and x["time_ms"]]
    assert len(points) == len(placed) > 0
    for i, x in enumerate(placed):
        px, py = points[f"rl-{i}"]
        assert px == pytest.approx(x["intensity"], rel=1e-9, abs=1e-6)   # JSON: 6 decimals
        assert py == pytest.approx(x["gmacs_per_s"], rel=1e-9, abs=1e-6)
    # the roofs: a flat one at the peak, a diagonal of slope (bandwidth) per level
    lines = [line.get_xydata() for line in ax.lines if len(line.get_xydata()) >= 2]
    assert any(all(y == PEAK for _, y in xy) for xy in lines)
    slopes = {round(float(xy[-1][1] / xy[-1][0]), 6) for xy in lines if xy[0][1] != xy[-1][1]
              and abs(xy[-1][1] / xy[-1][0] - xy[0][1] / xy[0][0]) < 1e-9}
    assert set(BW.values()) <= slopes


def test_each_layer_has_the_roof_of_the_smallest_level_holding_its_bytes(bench):
    _, _, _, data = bench
    for x in data["layers"]:
        if not x["macs"]:
            continue
        level = next((r.level for r in ROOFS if r.capacity_bytes and x["bytes"] <=
                      r.capacity_bytes), "DRAM")
        attainable = min(PEAK, x["intensity"] * BW[level])
        assert x["attainable_gmacs_per_s"] == pytest.approx(   # intensity: 6 decimals
            attainable, rel=1e-9, abs=5e-7 * BW[level] + 1e-6), x["name"]
        memory = x["intensity"] * BW[level] < PEAK
        assert x["bound"] == ("memory" if memory else "compute")
        assert x["roof_level"] == (level if memory else None)


def test_layer_and_type_tables_equal_the_json(bench):
    _, _, page, data = bench
    rows = page.rows("table-bench-layers")
    layers = [r for r in rows if r["index"].value is not None]
    assert [r["name"].value for r in layers] == [x["name"] for x in data["layers"]]
    for row, x in zip(layers, data["layers"], strict=True):
        assert row["type"].value == x["type"]
        assert int(_f(row["macs"].value)) == x["macs"]
        assert _f(row["time_ms"].value) == pytest.approx(x["time_ms"], abs=1e-6)
        for key in ("time_pct", "gmacs_per_s", "attainable_gmacs_per_s", "efficiency"):
            if x[key] is None:
                assert row[key].value is None
            else:
                assert _f(row[key].value) == pytest.approx(x[key], abs=1e-6), (x["name"], key)
        assert row["bound"].value == (x["roof_level"] if x["bound"] == "memory"
                                      else x["bound"])
    types = {r["type"].value: r for r in page.rows("table-bench-types")}
    assert list(types) == list(data["by_type"])
    for key, v in data["by_type"].items():
        assert _f(types[key]["time_ms"].value) == pytest.approx(v["time_ms"], abs=1e-6)
        if v["efficiency"] is not None:
            assert _f(types[key]["efficiency"].value) == pytest.approx(v["efficiency"],
                                                                        abs=1e-6)


def test_slowest_layers_come_first_with_a_reason(bench):
    _, _, page, data = bench
    rows = page.rows("table-bench-slowest")
    everything = data["layers"] + [{**x, "type": f"ort:{x['op_type']}"}
                                   for x in data["non_layer"]]
    by_time = sorted(everything, key=lambda x: (-x["time_ms"], x["name"]))[:len(rows)]
    assert [r["name"].value for r in rows] == [x["name"] for x in by_time]
    for r, x in zip(rows, by_time, strict=True):
        assert _f(r["time_ms"].value) == pytest.approx(x["time_ms"], abs=1e-6)
        assert r["why"].text
    first = by_time[0]
    assert f"The slowest layer is {first['name']}" in page.text
    if first["bound"] == "memory" and first["efficiency"] <= 1:
        assert f"x {first['roof_level']} " in rows[0]["why"].text


def test_bench_html_and_roofline_plot_in_a_fresh_process(tmp_path):
    env = {**os.environ, **_fake_cache(tmp_path / "xdg")}
    out, plot = tmp_path / "bench.html", tmp_path / "roofline.svg"
    done = subprocess.run([sys.executable, "-m", "mnprof", "bench", "mobilenet_v1", *CLI_QUICK,
                           "--format", "html", "-o", str(out), "--plot", str(plot)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    page = parse(html)
    assert "chart-roofline" in page.svg_ids and not external_references(html, page)
    assert "Roofline" in plot.read_text()


def test_an_imported_onnx_file_has_the_same_page(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _fake_cache(tmp_path / "xdg")
    model = tmp_path / "m.onnx"
    api.export_onnx("mobilenet_v1", model, alpha=0.25, resolution=32)
    report = api.benchmark(str(model), **QUICK)              # layers from the import
    html = render(report, "html")
    page, data = parse(html), json.loads(render(report, "json"))
    assert {"chart-roofline", "chart-bench-types"} <= set(page.svg_ids)
    assert not external_references(html, page)
    rows = [r for r in page.rows("table-bench-layers") if r["index"].value is not None]
    assert [r["name"].value for r in rows] == [x["name"] for x in data["layers"]]
    placed = [x for x in data["layers"] if x["macs"] and x["time_ms"]]
    points = [c for c in bench_charts.roofline(report)[0].axes[0].collections if c.get_gid()]
    assert len(points) == len(placed) > 0
    # timed end to end only: latency, machine and environment, and the roofs alone
    bare = api.benchmark(str(model), per_layer=False, **QUICK)
    page = parse(render(bare, "html"))
    assert "table-bench-latency" in page.tables and "chart-roofline" not in page.svg_ids
    median = next(r for r in page.rows("table-bench-latency")
                  if r["metric"].value == "median (ms)")
    assert _f(median["value"].value) == pytest.approx(bare.latency_ms.median, abs=5e-4)
    assert bench_charts.roofline(bare)[0] is not None        # --plot: the roofs alone


def test_text_and_json_use_the_same_roofs(bench):
    report, _, _, data = bench
    text = render(report, "table", layers=True)
    for roof in ROOFS[:-1]:
        assert f"{roof.level} bandwidth GB/s" in text
    assert [r["level"] for r in data["machine"]["memory_roofs"]] == ["L1", "L2", "L3", "DRAM"]
    lines = {line.split()[1]: line for line in text.splitlines()
             if line.strip()[:1].isdigit() and len(line.split()) > 2}
    for x in data["layers"]:
        if x["bound"] == "memory":
            assert f" {x['roof_level']} " in lines[x["name"]], lines[x["name"]]
        elif x["bound"] == "compute":
            assert " compute " in lines[x["name"]]
