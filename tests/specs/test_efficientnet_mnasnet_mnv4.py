"""EfficientNet-B0/B1, MnasNet (torchvision's mnasnet1_0) and MobileNetV4-Conv S/M/L.

Three independent sources:
- the calculator in tests/oracles/efficientnet_mnasnet_mnv4.py, written from the
  reference code's construction rules, at odd and even resolutions and several widths;
- torch's own figures for the reference models, computed outside the project and
  pinned below;
- the papers' printed figures, against which the exact counts are compared.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import mnprof

from ..oracles.efficientnet_mnasnet_mnv4 import EFFICIENTNET, MNV4, calculate, decode
from ..paths import ROOT

MODELS = ["efficientnet_b0", "efficientnet_b1", "mnasnet1_0", *MNV4]


@pytest.mark.parametrize("res", [96, 97, 193, 227, 320])
@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.75, 1.25])
@pytest.mark.parametrize("model", MODELS)
def test_exact_counts_match_the_calculator(model, alpha, res):
    r = mnprof.cost(model, alpha, res)
    expected = calculate(model, alpha, res)
    assert (r.totals.macs, r.totals.params, r.totals.params_framework) == expected.totals()
    got = {k: [v.macs, v.params, v.params_framework, v.elementwise_ops]
           for k, v in r.by_type.items()}
    assert got == expected.by_type


@pytest.mark.parametrize("depth", [1.0, 1.1, 1.2, 1.4, 2.0])
def test_efficientnet_depth_multiplier(depth):
    """Every stage row is ceil(n * depth) blocks (torchvision's adjust_depth)."""
    for model in EFFICIENTNET:
        r = mnprof.cost(model, 1.0, 193, depth=depth)
        expected = calculate(model, 1.0, 193, depth=depth)
        assert (r.totals.macs, r.totals.params_framework) == expected.totals()[::2]
    b0 = mnprof.build(mnprof.load_spec("efficientnet_b0"), depth=depth)
    assert sum(1 for n in b0.nodes if n.name.endswith(".dw")) == sum(
        math.ceil(n * depth) for n in (1, 2, 2, 3, 3, 4, 1))


def test_b1_is_b0_at_depth_1_1_and_240():
    b0 = mnprof.cost("efficientnet_b0", 1.0, 240, depth=1.1)
    b1 = mnprof.cost("efficientnet_b1")
    assert b1.resolution == 240
    assert b0.totals == b1.totals
    # torchvision's efficientnet_b1: stages of 2, 3, 3, 4, 4, 5, 2 blocks
    g = mnprof.build(mnprof.load_spec("efficientnet_b1"))
    assert sum(1 for n in g.nodes if n.name.endswith(".dw")) == 23


# torch's figures for the reference models: MACs are torch.utils.flop_counter's
# FlopCounterMode total over conv and linear ops, halved; params are
# sum(p.numel() for p in model.parameters()). Computed outside the project (torch
# 2.14.1, torchvision 0.29.1, timm 1.0.31) for torchvision's efficientnet_b0,
# efficientnet_b1, mnasnet1_0 and mnasnet0_5 (weights=None) and timm's
# mobilenetv4_conv_small / _medium / _large (pretrained=False).
TORCH_MACS = {
    ("efficientnet_b0", 1.0): {97: 101_615_680, 193: 339_022_432, 224: 385_814_752,
                               320: 785_392_000},
    ("efficientnet_b1", 1.0): {97: 152_096_080, 193: 504_857_584, 240: 686_802_832,
                               320: 1_160_068_480},
    ("mnasnet1_0", 1.0): {97: 84_434_888, 193: 279_554_888, 224: 314_415_872,
                          320: 640_332_800},
    ("mnasnet1_0", 0.5): {97: 28_008_696, 193: 91_721_880, 224: 104_455_968,    # mnasnet0_5
                          320: 211_843_200},
    ("mobilenet_v4_conv_small", 1.0): {97: 48_102_432, 193: 159_863_904, 224: 186_005_568,
                                       320: 376_992_000},
    ("mobilenet_v4_conv_medium", 1.0): {97: 217_603_152, 193: 728_672_784,
                                        256: 1_080_244_224, 320: 1_686_470_400},
    ("mobilenet_v4_conv_large", 1.0): {97: 634_167_544, 193: 2_032_608_760,
                                       256: 2_835_269_632, 320: 4_428_697_600},
}
TORCH_PARAMS = {
    ("efficientnet_b0", 1.0): 5_288_548, ("efficientnet_b1", 1.0): 7_794_184,
    ("mnasnet1_0", 1.0): 4_383_312, ("mnasnet1_0", 0.5): 2_218_512,
    ("mobilenet_v4_conv_small", 1.0): 3_774_024,
    ("mobilenet_v4_conv_medium", 1.0): 9_715_512,
    ("mobilenet_v4_conv_large", 1.0): 32_590_864,
}


@pytest.mark.parametrize("model, alpha, res", [(m, a, r) for (m, a), by_res in
                                               TORCH_MACS.items() for r in by_res])
def test_torch_figures(model, alpha, res):
    t = mnprof.cost(model, alpha, res).totals
    assert (t.macs, t.params_framework) == (TORCH_MACS[model, alpha][res],
                                            TORCH_PARAMS[model, alpha])


# The same counter's split of the MACs at 224 by module (forward hooks on Conv2d and
# Linear): depthwise (groups == in_channels), pointwise (1x1, groups 1: squeeze-and-
# excite's convs and timm's conv_head included), other conv, fc.
TORCH_SPLIT_224 = {   # depthwise, pointwise, other conv, fc
    "efficientnet_b0": (34_532_064, 339_164_672, 10_838_016, 1_280_000),
    "efficientnet_b1": (51_504_096, 506_029_568, 10_838_016, 1_280_000),
    "mnasnet1_0": (28_336_896, 273_960_960, 10_838_016, 1_280_000),
    "mobilenet_v4_conv_small": (6_475_840, 116_834_304, 61_415_424, 1_280_000),
    "mobilenet_v4_conv_medium": (26_941_376, 672_985_088, 126_443_520, 1_280_000),
    "mobilenet_v4_conv_large": (53_312_000, 2_043_592_704, 73_156_608, 1_280_000),
}


@pytest.mark.parametrize("model", TORCH_SPLIT_224)
def test_torch_split_by_type_at_224(model):
    by_type = {k: v.macs for k, v in mnprof.cost(model, 1.0, 224).by_type.items()}
    dw = sum(v for k, v in by_type.items() if k.startswith("dw"))
    other = sum(v for k, v in by_type.items() if k.startswith("conv") and k != "conv1x1")
    assert (dw, by_type["conv1x1"] + by_type.get("se", 0), other, by_type["fc"]) \
        == TORCH_SPLIT_224[model]
    assert sum(by_type.values()) == sum(TORCH_SPLIT_224[model])


def test_paper_headlines():
    """The papers' rounded figures against the exact counts (computed above, not copied)."""
    def exact(model):
        t = mnprof.cost(model).totals
        assert (t.macs, t.params, t.params_framework) == calculate(
            model, 1.0, mnprof.load_spec(model).resolution).totals()
        return t

    # EfficientNet-B0: "0.39B FLOPS, 5.3M params": 385.8M multiply-adds and 5,288,548
    # parameters (batch-norm and biases included), both as printed once rounded.
    t = exact("efficientnet_b0")
    assert (round(t.macs / 10**7), round(t.params_framework / 10**5)) == (39, 53)
    # B1 at 240: "0.70B, 7.8M": 686.8M rounds to 0.69B, 1.9% below the printed 0.70B.
    t = exact("efficientnet_b1")
    assert round(t.macs / 10**7) == 69 and 0.98 < t.macs / 700e6 < 0.985
    assert round(t.params_framework / 10**5) == 78
    # MnasNet-A1 "312M, 3.9M" is not torchvision's mnasnet1_0 (MnasNet-B1, no SE):
    # 314.4M multiply-adds and 4.38M parameters.
    t = exact("mnasnet1_0")
    assert (round(t.macs / 10**6), round(t.params_framework / 10**4)) == (314, 438)
    # MNv4-Conv-S "0.2G, 3.8M" at 224: 186.0M and 3,774,024, as printed once rounded.
    t = exact("mobilenet_v4_conv_small")
    assert (round(t.macs / 10**8), round(t.params_framework / 10**5)) == (2, 38)
    # MNv4-Conv-M "1.0G, 9.2M" at 256 and -L "5.9G, 31M" at 384: the architecture as
    # timm builds it gives 8% more MACs and 5-6% more parameters than printed.
    t = exact("mobilenet_v4_conv_medium")
    assert (round(t.macs / 10**7), round(t.params_framework / 10**5)) == (108, 97)
    t = exact("mobilenet_v4_conv_large")
    assert (round(t.macs / 10**8), round(t.params_framework / 10**5)) == (64, 326)


def _nodes(model):
    return {n.name: n for n in mnprof.build(mnprof.load_spec(model)).nodes}


def test_efficientnet_structure():
    nodes = _nodes("efficientnet_b0")
    assert "mbconv1.expand" not in nodes                    # t = 1
    for i in range(1, 17):
        first = nodes.get(f"mbconv{i}.expand") or nodes[f"mbconv{i}.dw"]
        block_in = first.input_shapes[0][0]
        # the squeeze width comes from the block's input, not the expanded channels
        assert nodes[f"mbconv{i}.se.fc1"].output_shape[0] == max(1, block_in // 4), i
        assert nodes[f"mbconv{i}.se.fc1"].attrs["act"] == "silu"
        assert nodes[f"mbconv{i}.se.fc2"].attrs["act"] == "sigmoid"
        assert nodes[f"mbconv{i}.dw"].attrs["act"] == "silu"
        assert nodes[f"mbconv{i}.project"].attrs["act"] == "none"
    assert nodes["conv1"].attrs["act"] == nodes["conv_last"].attrs["act"] == "silu"
    # residuals: every block after the first of its stage (16 blocks in 7 stages)
    assert sum(1 for n in nodes.values() if n.kind == "add") == 16 - 7


def test_mnasnet_structure():
    nodes = _nodes("mnasnet1_0")
    assert nodes["sep_pw"].attrs["act"] == "none"
    assert {n.attrs["act"] for name, n in nodes.items() if "act" in n.attrs
            and not name.endswith(("project", "sep_pw", "fc"))} == {"relu"}
    assert sum(1 for n in nodes.values() if n.kind == "add") == 16 - 6
    assert not any(".se." in name for name in nodes)


@pytest.mark.parametrize("model", MNV4)
def test_mobilenet_v4_block_forms(model):
    """Each timm `uir` row: a start dw conv iff a > 0 (no activation), a middle one iff
    k > 0 (ReLU), the stride on the middle one when there is one."""
    nodes = _nodes(model)
    uibs = [o for stage in MNV4[model][1] for kind, o in map(decode, stage)
            if kind == "uir" for _ in range(o["r"])]
    assert sum(1 for n in nodes if n.endswith(".project") and n.startswith("uib")) \
        == len(uibs)
    for i, o in enumerate(uibs, 1):
        a, k = o["a"], o["k"]
        start, mid = nodes.get(f"uib{i}.dw_start"), nodes.get(f"uib{i}.dw_mid")
        assert (start is not None, mid is not None) == (a > 0, k > 0), (i, o)
        if start:
            assert (start.attrs["kernel"][0], start.attrs["act"]) == (a, "none")
        if mid:
            assert (mid.attrs["kernel"][0], mid.attrs["act"]) == (k, "relu")
        assert nodes[f"uib{i}.project"].attrs["act"] == "none"
    assert nodes["conv_head"].input_shapes[0] == (960, 1, 1)
    assert nodes["conv_head"].output_shape == (1280, 1, 1)


def test_cli_mnasnet0_5_and_b1_by_depth_in_a_fresh_process():
    """`mnprof cost mnasnet1_0 --alpha 0.5` is torchvision's mnasnet0_5, and
    `mnprof cost efficientnet_b0 --depth 1.1 --res 240` is efficientnet_b1."""
    def cost(*args):
        done = subprocess.run([sys.executable, "-m", "mnprof", "cost", *args, "--format",
                               "json"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["totals"]

    t = cost("mnasnet1_0", "--alpha", "0.5", "--res", "193")
    assert (t["macs"], t["params_framework"]) == (TORCH_MACS["mnasnet1_0", 0.5][193],
                                                  TORCH_PARAMS["mnasnet1_0", 0.5])
    t = cost("efficientnet_b0", "--depth", "1.1", "--res", "240")
    assert (t["macs"], t["params_framework"]) == (TORCH_MACS["efficientnet_b1", 1.0][240],
                                                  TORCH_PARAMS["efficientnet_b1", 1.0])
