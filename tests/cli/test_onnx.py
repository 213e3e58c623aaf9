"""ONNX files through the command line: cost, sweep and their options.

Expected MACs are worked out here from the shapes of the hand-built files.
"""

from __future__ import annotations

import json
import subprocess
import sys

import onnx
from onnx import TensorProto, helper

from ..conftest import run_json
from ..onnxio.foreign import legacy_style, model, weight
from ..paths import ROOT

LEGACY_MACS = 43_232          # tests/onnxio/test_import.py works it out layer by layer


def symbolic(tmp_path) -> str:
    """A 3x3 conv of 4 filters on an input [n, 3, h, w]."""
    n = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3],
                          pads=[1, 1, 1, 1])]
    m = model(n, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, "h", "w"])],
              [weight("w", 4, 3, 3, 3)], 17)
    path = tmp_path / "sym.onnx"
    onnx.save(m, str(path))
    return str(path)


def test_cost_of_an_onnx_file_in_a_fresh_process(tmp_path):
    path = legacy_style(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mnprof", "cost", str(path), "--format",
                           "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "mnprof.cost/1" and doc["totals"]["macs"] == LEGACY_MACS
    assert (doc["source"], doc["batch"], doc["not_modelled"]) == ("onnx", 1, {})
    assert doc["spec"] == str(path) and doc["model"] == "legacy"
    assert doc["layers"][0]["name"] == "/features/0/Conv"
    assert doc["notes"] == ["symbolic dimensions bound: batch=1"]


def test_cost_table_says_what_is_not_modelled(run, tmp_path):
    n = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
         helper.make_node("LeakyRelu", ["c"], ["y"], name="leaky")]
    m = model(n, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
              [weight("w", 2, 3, 1, 1)], 17)
    path = tmp_path / "leaky.onnx"
    onnx.save(m, str(path))
    table = run("cost", str(path))
    assert table.exit_code == 0
    assert f"leaky · ONNX {path} · input 4x4x3" in table.stdout
    assert "onnx:LeakyRelu" in table.stdout
    assert "not modelled by mnprof: 1 node(s) of 1 op type(s) (LeakyRelu x1)" in table.stdout
    md = run("cost", str(path), "--format", "markdown")
    assert "- not modelled by mnprof" in md.stdout


def test_dims_and_resolution_options(run, tmp_path):
    path = symbolic(tmp_path)
    assert run_json(run, "cost", path, "--res", "8")["totals"]["macs"] == 8 * 8 * 4 * 27
    doc = run_json(run, "cost", path, "--dim", "h=4", "--dim", "w=6", "--dim", "n=3")
    assert doc["totals"]["macs"] == 4 * 6 * 4 * 27 and doc["input_shape"] == [3, 4, 6]
    missing = run("cost", path)
    assert missing.exit_code == 2 and "--dim h=N or --res N" in missing.stderr
    for args, why in ((("--dim", "h"), "expected NAME=N"), (("--dim", "h=0"), "NAME=N"),
                      (("--dim", "h=2", "--dim", "h=3", "--res", "5"), "gives 'h' twice"),
                      (("--alpha", "0.5", "--res", "8"), "--alpha applies to specs"),
                      (("--depth", "2", "--res", "8"), "--depth applies to specs")):
        bad = run("cost", path, *args)
        assert bad.exit_code == 2 and why in bad.stderr, (args, bad.stderr)
    spec = run("cost", "mobilenet_v1", "--dim", "h=2")
    assert spec.exit_code == 2 and "--dim applies to ONNX models" in spec.stderr


def test_sweep_over_resolutions(run, tmp_path):
    path = symbolic(tmp_path)
    doc = run_json(run, "sweep", path, "--res", "8,16")
    assert [(r["alpha"], r["resolution"], r["macs"]) for r in doc["rows"]] == \
        [(1.0, 8, 8 * 8 * 4 * 27), (1.0, 16, 16 * 16 * 4 * 27)]
    bad = run("sweep", path, "--res", "8", "--alpha", "0.5")
    assert bad.exit_code == 2 and "--alpha applies to specs" in bad.stderr


def test_sweep_and_check_of_an_onnx_file_in_fresh_processes(tmp_path):
    path = symbolic(tmp_path)
    sweep = subprocess.run([sys.executable, "-m", "mnprof", "sweep", path, "--res", "8,16",
                            "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert sweep.returncode == 0, sweep.stderr
    assert [r["macs"] for r in json.loads(sweep.stdout)["rows"]] == \
        [8 * 8 * 4 * 27, 16 * 16 * 4 * 27]
    check = subprocess.run([sys.executable, "-m", "mnprof", "check", path, "--res", "8",
                            "--max-macs", str(8 * 8 * 4 * 27 - 1)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "FAILED: 1 of 1 limit exceeded" in check.stdout


def test_compare_takes_onnx_files(run, tmp_path):
    legacy = str(legacy_style(tmp_path))
    sym = symbolic(tmp_path)
    doc = run_json(run, "compare", legacy, f"{sym}:res=8")
    assert [r["macs"] for r in doc["rows"]] == [LEGACY_MACS, 8 * 8 * 4 * 27]
    for args, why in (((legacy, "--alpha", "0.5"), "alpha applies to specs"),
                      ((legacy, "mobilenet_v1", "--bench"), "compare --bench times specs")):
        bad = run("compare", *args)
        assert bad.exit_code == 2 and why in bad.stderr, bad.stderr
