"""``mnprof cost --precision int8``: bytes as an int8 deployment moves them.

Expected figures are worked out here from MobileNetV1's Table 1 (channels
int(c * alpha), "same" padding) and the int8 rule: one byte per activation and
weight element, four per (int32) bias, and 4 + 1 per output channel of a conv or
fc (an fp32 scale and an int8 zero point). fp32 output must not change at all;
``test_golden.py`` holds it to the released documents.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mnprof import analyze, build, load_spec
from mnprof.analysis.cost import INT8, layer_cost
from mnprof.core.errors import MnprofError

from ..conftest import run_json
from ..paths import ROOT


def v1():
    return build(load_spec("mobilenet_v1"), 1.0, 224)


def test_a_conv_at_int8_by_hand():
    conv1 = v1().node("conv1")           # 3x3 conv, 3 -> 32, stride 2, BN, ReLU
    c = layer_cost(conv1, INT8)
    weights, bias, channels = 32 * 3 * 3 * 3, 32, 32
    inputs, outputs = 3 * 224 * 224, 32 * 112 * 112
    assert c.weight_bytes == weights * 1 + bias * 4 + channels * (4 + 1)
    assert c.bytes == inputs + outputs + weights + bias * 4 + channels * 5
    fp32 = layer_cost(conv1)
    assert fp32.bytes == 4 * (inputs + outputs + weights + bias)   # the fp32 rule, unchanged
    assert c.macs == fp32.macs and c.params == fp32.params        # only bytes change


def test_the_classifier_at_int8_by_hand():
    fc = layer_cost(v1().node("fc"), INT8)    # 1024 -> 1000 with bias
    assert fc.bytes == 1024 + 1000 + 1024 * 1000 + 1000 * 4 + 1000 * 5
    assert fc.intensity == pytest.approx(1024 * 1000 / fc.bytes)


def test_layers_without_weights_move_one_byte_per_element():
    dw = v1().node("separable1.dw")
    relu_free = layer_cost(dw, INT8)          # 32 channels, 112x112, 3x3, BN folded
    assert relu_free.bytes == 2 * 32 * 112 * 112 + 32 * 9 + 32 * 4 + 32 * 5
    pool = layer_cost(v1().node("pool"), INT8)
    assert pool.bytes == 1024 * 7 * 7 + 1024 and pool.weight_bytes == 0


def test_peak_activation_memory_at_int8():
    # By hand: the largest live set is at separable1.pw (64 x 112 x 112 written while its
    # 32 x 112 x 112 input is read), 1,204,224 elements: one byte each at int8.
    assert 32 * 112 * 112 + 64 * 112 * 112 == 1_204_224
    assert analyze(v1(), "int8").peak_activation_bytes == 1_204_224
    assert analyze(v1()).peak_activation_bytes == 4 * 1_204_224


def test_an_unknown_precision_is_refused():
    with pytest.raises(MnprofError, match="precision must be one of fp32, int8"):
        analyze(v1(), "int4")


def test_the_cli_says_int8_and_fp32_stays_as_it_was(run):
    d = run_json(run, "cost", "--precision", "int8", "--res", "96")
    assert d["precision"] == "int8" and "int8" in d["units"]["bytes"]
    f = run_json(run, "cost", "--res", "96")
    assert "precision" not in f and f["units"]["bytes"] == "bytes at fp32"
    assert d["totals"]["macs"] == f["totals"]["macs"]
    assert d["totals"]["peak_activation_bytes"] * 4 == f["totals"]["peak_activation_bytes"]
    text = run("cost", "--precision", "int8", "--res", "96", "--no-layers").stdout
    assert "peak activation memory (int8)" in text and "bytes at int8" in text


def test_cost_at_int8_imports_nothing_heavy():
    code = ("import sys\n"
            "from mnprof.cli import main\n"
            "try:\n"
            "    main(['cost', '--precision', 'int8', '--format', 'json'])\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "heavy = sorted(m for m in sys.modules\n"
            "               if m.split('.')[0] in ('onnx', 'onnxruntime', 'numpy'))\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["precision"] == "int8"
    assert "HEAVY []" in done.stderr
