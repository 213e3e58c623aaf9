"""``mnprof bench MODEL.onnx``: the file itself timed, its profile joined with its import.

Each node of the file belongs to the layer its import made of it; shape computations
belong to none. The measured time of every onnxruntime node lands on a layer row or on
an ``ort:*`` row, and the rows add up to the end-to-end median.
"""

from __future__ import annotations

import json

import onnx
import pytest

from mnprof import api
from mnprof.bench.onnxfile import bench_onnx_file
from mnprof.onnxio.importer import import_model

from ..onnxio.foreign import dynamo_style, keras_style, legacy_style
from .test_bench import CLI_QUICK, QUICK, cached_ceiling  # noqa: F401  (a fixture)


@pytest.mark.parametrize("make", [legacy_style, dynamo_style, keras_style])
def test_per_layer_rows_of_a_foreign_file(cached_ceiling, tmp_path, make):  # noqa: F811
    path = make(tmp_path)
    r = bench_onnx_file(path, **QUICK, per_layer=True)
    imp = import_model(path)
    assert [x.name for x in r.layers] == [n.name for n in imp.graph.nodes]
    cost = api.cost(str(path))
    assert [x.macs for x in r.layers] == [c.macs for c in cost.layers]   # the import's theory
    assert r.total.time_ms == pytest.approx(r.latency_ms.median)
    layered = sum(x.time_ms or 0 for x in r.layers)
    assert layered == pytest.approx(r.latency_ms.median - sum(x.time_ms or 0
                                                              for x in r.non_layer))
    for x in r.non_layer:                       # what no layer owns: onnxruntime's own nodes
        assert f"ort:{x.type_key}" in r.by_type
    convs = [x for x in r.layers if x.macs]
    assert all(x.time_ms or x.fused_into for x in convs)   # every conv measured
    assert r.resolution == 16 and r.input_shape == (3, 16, 16)


def test_shape_computations_belong_to_no_layer(tmp_path):
    path = legacy_style(tmp_path)
    imp = import_model(path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    for op, layer in zip(ops, imp.node_layers, strict=True):
        assert (layer is None) == (op in ("Constant", "Identity", "Shape", "Gather",
                                         "Unsqueeze", "Concat")), op


def test_cli_bench_per_layer_of_an_onnx_file(run, cached_ceiling, tmp_path):  # noqa: F811
    path = dynamo_style(tmp_path)
    result = run("bench", str(path), *CLI_QUICK, "--per-layer", "--format", "json")
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["source"] == "onnx" and len(d["layers"]) == 10
    assert {"conv3x3", "gconv3x3", "fc", "channel_shuffle"} <= set(d["by_type"])
    table = run("bench", str(path), *CLI_QUICK, "--per-layer")
    assert table.exit_code == 0 and "node_Conv_0" in table.stdout
    bad = run("bench", str(path), *CLI_QUICK, "--alpha", "0.5")
    assert bad.exit_code == 2 and "--alpha applies to specs" in bad.stderr


def test_bench_of_an_onnx_file_in_a_fresh_process(cached_ceiling, tmp_path):  # noqa: F811
    """The import loads onnx's classes alone, then onnxruntime and onnx itself come in:
    the same process must time and profile the file."""
    import subprocess
    import sys

    from ..paths import ROOT
    path = legacy_style(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mnprof", "bench", str(path), *CLI_QUICK,
                           "--per-layer", "--format", "json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    assert [r["name"] for r in d["layers"]] == [n.name for n in import_model(path).graph.nodes]
    assert d["environment"]["batch"] == 1 and d["input_shape"] == [3, 16, 16]
