"""``mnprof cost --format html`` and ``--plot``: the charts are there, the tables carry
the JSON report's numbers, nothing is fetched, colours are one per type.

Independent numbers: MobileNetV1 at 224 is a chain of layers, so while layer i runs
exactly its input and its output are alive; the peak is pw1 (separable1.pw), which
reads 32x112x112 and writes 64x112x112 floats: (401,408 + 802,816) x 4 = 4,816,896
bytes (worked out by hand in mnprof-budget.yaml too).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from mnprof import api
from mnprof.output import render
from mnprof.viz.colors import BLUE, GREEN, ORANGE, PURPLE, RED, color_of

from ..paths import ROOT
from .page import external_references, parse

COST_CHARTS = {"chart-cost-types", "chart-cost-layers", "chart-cost-memory"}


@pytest.fixture(scope="module")
def v2():
    """MobileNetV2 at 0.5, 160 (residual adds: not a chain) as HTML and as JSON."""
    report = api.cost("mobilenet_v2", 0.5, 160)
    return parse(render(report, "html")), json.loads(render(report, "json")), report


def _num(text: str | None) -> float:
    assert text is not None
    return float(text)


def test_every_cost_chart_is_there_and_nothing_is_fetched(v2):
    page, _, report = v2
    assert COST_CHARTS <= set(page.svg_ids)
    assert page.svg_titles["chart-cost-types"] == "MACs and params per layer type"
    assert not external_references(render(report, "html"), page)
    assert "script" in page.tags and "style" in page.tags      # inline, both


def test_layer_table_equals_the_json_layers(v2):
    page, data, _ = v2
    rows = page.rows("table-cost-layers")
    assert len(rows) == len(data["layers"])
    for row, layer in zip(rows, data["layers"], strict=True):
        assert row["name"].value == layer["name"]
        assert row["type"].value == layer["type"]
        for key in ("macs", "params", "params_framework", "activations", "bytes"):
            assert int(_num(row[key].value)) == layer[key], (layer["name"], key)
        assert _num(row["intensity"].value) == pytest.approx(layer["intensity"], abs=1e-6)
        assert row["input_shape"].value == "x".join(map(str, layer["input_shape"]))


def test_type_and_totals_tables_equal_the_json(v2):
    page, data, _ = v2
    rows = {r["type"].value: r for r in page.rows("table-cost-types")}
    assert list(rows) == list(data["by_type"])
    for key, v in data["by_type"].items():
        row = rows[key]
        assert int(_num(row["layers"].value)) == v["layers"]
        for field in ("macs", "params", "params_framework"):
            assert int(_num(row[field].value)) == v[field]
        for field in ("macs_pct", "params_pct"):
            assert _num(row[field].value) == pytest.approx(v[field], abs=1e-6)
    totals = {r["metric"].value: int(_num(r["exact"].value))
              for r in page.rows("table-cost-totals")}
    t = data["totals"]
    assert totals["MACs"] == t["macs"] and totals["FLOPs (2 x MACs)"] == t["flops"]
    assert totals["peak activation memory (fp32)"] == t["peak_activation_bytes"]
    assert totals["params, framework (+ bias, BN scale/shift)"] == t["params_framework"]


def test_shown_text_agrees_with_the_raw_value(v2):
    page, _, _ = v2
    for row in page.rows("table-cost-layers"):
        exact, shown = int(_num(row["macs"].value)), row["macs"].text
        scale = {"K": 1e3, "M": 1e6, "G": 1e9}.get(shown[-1:], 1)
        value = float(shown.rstrip("KMG")) * scale
        assert value == pytest.approx(exact, rel=5e-4, abs=0.5), (shown, exact)


def test_memory_along_the_network_and_its_peak():
    report = api.cost("mobilenet_v1")
    # a chain: while a layer runs, its input and its output are alive (fp32)
    by_hand = [4 * (math.prod(c.input_shape) + math.prod(c.output_shape)) for c in report.layers]
    assert list(report.live_bytes) == by_hand
    assert max(by_hand) == 4 * (32 * 112 * 112 + 64 * 112 * 112) == 4_816_896
    assert report.layers[by_hand.index(max(by_hand))].name == "separable1.pw"
    html = render(report, "html")
    page = parse(html)
    chart = html[html.index('id="chart-cost-memory"'):]
    chart = chart[:chart.index("</svg>")]
    assert "peak 4.59 MiB" in chart and "at separable1.pw" in chart
    peak_card = page.text[page.text.index("peak activation memory"):]
    assert "4.59 MiB" in peak_card[:80] and "separable1.pw" in peak_card[:120]


def test_one_colour_per_type_everywhere(v2):
    _, data, report = v2
    html = render(report, "html")
    for key in data["by_type"]:
        colour = color_of(key)
        assert f'class="sw" style="background:{colour}"' in html      # table and key
    types_svg = html[html.index('id="chart-cost-types"'):]
    types_svg = types_svg[:types_svg.index("</svg>")]
    layers_svg = html[html.index('id="chart-cost-layers"'):]
    layers_svg = layers_svg[:layers_svg.index("</svg>")]
    for key, v in data["by_type"].items():
        if v["macs"]:
            assert f"fill: {color_of(key)}" in types_svg, key
            assert f"fill: {color_of(key)}" in layers_svg, key


def test_colours_are_fixed_per_family_and_stable_for_others():
    assert color_of("conv1x1") == BLUE and color_of("fc") == PURPLE and color_of("se") == RED
    assert color_of("dw3x3") == ORANGE and color_of("conv3x3") == GREEN
    dws = {color_of(k) for k in ("dw3x3", "dw5x5", "dw7x7")}
    assert len(dws) == 3
    others = ["onnx:Einsum", "onnx:GridSample", "my_kind"]
    here = [color_of(k) for k in others]
    code = ("from mnprof.viz.colors import color_of\n"
            f"print(' '.join(color_of(k) for k in {others!r}))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env={"PYTHONHASHSEED": "123", "PATH": ""}, check=True)
    assert there.stdout.split() == here                 # not Python's salted hash


def test_cost_html_and_plot_in_a_fresh_process(tmp_path):
    page_file, svg, png = tmp_path / "cost.html", tmp_path / "t2.svg", tmp_path / "t2.png"
    for plot in (svg, png):
        done = subprocess.run([sys.executable, "-m", "mnprof", "cost", "mobilenet_v3_small",
                               "--format", "html", "-o", str(page_file), "--plot", str(plot)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
    html = page_file.read_text()
    page = parse(html)
    assert COST_CHARTS <= set(page.svg_ids) and not external_references(html, page)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))             # written atomically, nothing left


def test_plain_cost_never_loads_matplotlib():
    code = ("import sys\n"
            "from mnprof.cli import main\n"
            "try:\n"
            "    main(['cost', '--res', '96'])\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'PIL', 'numpy', 'mnprof') and (m.startswith('mnprof.viz') "
            "or not m.startswith('mnprof')))\n"
            "print('LOADED', loaded, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr


@pytest.mark.parametrize("name, message", [
    ("chart.pdf", "--plot writes a .svg or .png file (got '.pdf')"),
    ("chart", "--plot writes a .svg or .png file (got no extension)"),
    ("missing/chart.svg", "does not exist"),
])
def test_a_bad_plot_target_is_one_line_and_exit_2(run, tmp_path, name, message):
    for command in (["cost"], ["sweep", "--res", "96"]):
        result = run(*command, "--plot", str(tmp_path / name))
        assert result.exit_code == 2, result.output
        assert message in result.stderr and result.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_bench_refuses_a_bad_plot_before_measuring(run, tmp_path, monkeypatch):
    import mnprof.api
    monkeypatch.setattr(mnprof.api, "benchmark", lambda *a, **k: pytest.fail("it ran"))
    result = run("bench", "--plot", str(tmp_path / "roofline.jpg"))
    assert result.exit_code == 2 and "got '.jpg'" in result.stderr


def test_a_report_without_a_page_is_one_line():
    from mnprof.core.errors import MnprofError
    with pytest.raises(MnprofError, match="no HTML page or chart for a specs report"):
        render(api.builtin_summaries(), "html")
