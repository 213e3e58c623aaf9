"""ShuffleNetV2: exact counts at every width of torchvision's table, and --alpha as a row
picker (0.5, 1, 1.5, 2; anything else is an error naming them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mnprof

from ..oracles.classic import SHUFFLE_WIDTHS, calculate
from ..paths import ROOT
from .test_classic import by_type, torch_split

MODEL = "shufflenet_v2_x1_0"


@pytest.mark.parametrize("res", (96, 97, 193, 224, 227, 320))
@pytest.mark.parametrize("alpha", sorted(SHUFFLE_WIDTHS))
def test_exact_counts_match_the_calculator(alpha, res):
    assert by_type(mnprof.cost(MODEL, alpha, res)) == calculate(MODEL, alpha, res).by_type


# torch's figures for torchvision 0.29.1's shufflenet_v2_x1_0 and _x0_5 (weights=None),
# computed outside the project (torch 2.14.1): MACs are torch.utils.flop_counter's conv
# + linear FLOPs / 2 for one image, params sum(p.numel() for p in model.parameters()),
# weights the .weight of every Conv2d and Linear; the split at 224 from forward hooks.
# alpha: (params, weights, {resolution: MACs}, split at 224).
TORCH = {
    1.0: (2_278_604, 2_261_424,
          {97: 38_634_120, 193: 127_862_160, 224: 144_907_992, 227: 169_497_568,
           320: 294_664_800},
          {"depthwise": 4_159_512, "pointwise": 131_595_968, "other_conv": 8_128_512,
           "fc": 1_024_000}),
    0.5: (1_366_792, 1_357_840,
          {97: 11_133_424, 193: 35_401_744, 224: 40_476_448, 227: 46_858_888,
           320: 81_539_200},
          {"depthwise": 1_820_448, "pointwise": 29_503_488, "other_conv": 8_128_512,
           "fc": 1_024_000}),
}


@pytest.mark.parametrize("alpha", sorted(TORCH))
def test_torch_figures(alpha):
    params, weights, macs, split = TORCH[alpha]
    for res, want in macs.items():
        t = mnprof.cost(MODEL, alpha, res).totals
        assert (t.macs, t.params, t.params_framework) == (want, weights, params), res
        assert calculate(MODEL, alpha, res).totals() == (want, weights, params), res
    assert torch_split(mnprof.cost(MODEL, alpha)) == split


def test_units_split_shuffle_and_concatenate():
    nodes = {n.name: n for n in mnprof.build(mnprof.load_spec(MODEL)).nodes}
    assert [nodes[f"stage2.unit_1.{x}"].attrs["index"] for x in ("x1", "x2")] == [0, 1]
    assert nodes["stage2.unit_1.concat"].inputs == ("stage2.unit_1.x1",
                                                    "stage2.unit_1.branch2_pw2")
    assert nodes["stage2.down.concat"].inputs == ("stage2.down.branch1_pw",
                                                  "stage2.down.branch2_pw2")
    assert nodes["stage2.down.branch2_pw1"].inputs == ("maxpool",)   # no split: whole input
    shuffles = [n for n in nodes.values() if n.kind == "channel_shuffle"]
    assert len(shuffles) == 16 and {n.attrs["groups"] for n in shuffles} == {2}
    # The depthwise convs have batch-norm but no activation.
    assert {n.attrs["act"] for n in nodes.values() if n.kind == "dwconv"} == {"none"}
    stages = [nodes[f"stage{i}.down.shuffle"].output_shape[0] for i in (2, 3, 4)]
    assert stages == SHUFFLE_WIDTHS[1.0][1:4]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnprof", "cost", MODEL, *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_alpha_picks_a_width_row_or_names_the_rows():
    """In a fresh process: --alpha 0.5 is torchvision's shufflenet_v2_x0_5; 0.75 has no
    row, and the error is one line naming the widths there are."""
    done = _cli("--alpha", "0.5", "--format", "json")
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)["totals"]
    assert (t["macs"], t["params_framework"]) == (40_476_448, 1_366_792)
    done = _cli("--alpha", "0.75")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("mnprof: error: specs/shufflenet_v2_x1_0.yaml:")
    assert "out: lookup(): no entry for alpha = 0.75 (entries: 0.5, 1, 1.5, 2)" in done.stderr


def test_sweep_sweeps_the_specs_own_widths_in_a_fresh_process():
    """`widths: [0.5, 1.0, 1.5, 2.0]`: the default --alpha list (0.75 among it) is not
    one of the table's rows, so a sweep without --alpha takes the spec's widths; a
    given --alpha is kept (and 0.75 is the error naming the rows)."""
    def sweep(*args):
        return subprocess.run([sys.executable, "-m", "mnprof", "sweep", MODEL, "-r",
                               "160,97", "-f", "json", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    done = sweep()
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["alpha"], r["resolution"]) for r in rows] == \
        [(a, r) for a in (0.5, 1.0, 1.5, 2.0) for r in (160, 97)]
    for r in rows:
        want = calculate(MODEL, r["alpha"], r["resolution"]).totals()
        assert (r["macs"], r["params"], r["params_framework"]) == want
    assert [r["alpha"] for r in json.loads(sweep("-a", "2").stdout)["rows"]] == [2.0, 2.0]
    bad = sweep("-a", "0.75")
    assert bad.returncode == 2 and "entries: 0.5, 1, 1.5, 2" in bad.stderr
