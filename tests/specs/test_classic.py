"""SqueezeNet 1.0 / 1.1, AlexNet, GoogLeNet, VGG16, ResNet-18 / 50: exact counts.

Three independent anchors:
- the calculator in tests/oracles/classic.py (plain Python from torchvision's
  modules), per type key, at odd and even resolutions and at other widths;
- torch's own figures for torchvision's models, pinned below;
- the MobileNetV1 paper's Tables 8 and 9 (as printed), with where and why they differ.
"""

from __future__ import annotations

import pytest

import mnprof

from ..oracles.classic import alexnet_original, calculate, googlenet, resnet

MODELS = ["squeezenet1_0", "squeezenet1_1", "alexnet", "googlenet", "vgg16", "resnet18",
          "resnet50"]
RESOLUTIONS = (96, 97, 193, 227, 320)


def by_type(report) -> dict[str, list[int]]:
    return {k: [v.macs, v.params, v.params_framework, v.elementwise_ops]
            for k, v in report.by_type.items()}


@pytest.mark.parametrize("res", RESOLUTIONS)
@pytest.mark.parametrize("model", MODELS)
def test_exact_counts_match_the_calculator(model, res):
    assert by_type(mnprof.cost(model, 1.0, res)) == calculate(model, 1.0, res).by_type


@pytest.mark.parametrize("alpha, res", [(0.5, 224), (0.75, 193), (0.35, 97), (1.3, 160)])
@pytest.mark.parametrize("model", MODELS)
def test_width_multiplier_matches_the_calculator(model, alpha, res):
    """--alpha, which torchvision does not have: int(c * alpha) for every conv and hidden
    linear layer (the specs' header comments), the logits never scaled."""
    assert by_type(mnprof.cost(model, alpha, res)) == calculate(model, alpha, res).by_type


# torch's figures for torchvision 0.29.1's models (weights=None; googlenet with
# aux_logits=False), computed outside the project (torch 2.14.1): MACs are
# torch.utils.flop_counter.FlopCounterMode's conv + linear FLOPs / 2 for one image,
# params sum(p.numel() for p in model.parameters()), weights the .weight of every
# Conv2d and Linear. model: (params, weights, {resolution: MACs}).
TORCH = {
    "squeezenet1_0": (1_248_424, 1_244_448, {97: 138_906_240, 193: 602_550_912,
                                             224: 818_924_576, 227: 832_667_936,
                                             320: 1_712_597_024}),
    "squeezenet1_1": (1_235_496, 1_231_552, {97: 71_147_520, 193: 284_590_080,
                                             224: 349_151_936, 227: 387_747_520,
                                             320: 735_419_072}),
    "alexnet": (61_100_840, 61_090_496, {97: 161_535_680, 193: 531_161_792,
                                         224: 714_188_480, 227: 716_767_232,
                                         320: 1_442_722_496}),
    "googlenet": (6_624_904, 6_609_344, {97: 276_960_448, 193: 1_102_935_232,
                                         224: 1_498_376_192, 227: 1_515_588_352,
                                         320: 3_056_844_800}),
    "vgg16": (138_357_544, 138_344_128, {97: 2_949_850_816, 193: 11_413_567_168,
                                         224: 15_470_264_320, 227: 15_572_245_696,
                                         320: 31_443_288_064}),
    "resnet18": (11_689_512, 11_678_912, {97: 440_843_456, 193: 1_536_214_208,
                                          224: 1_814_073_344, 227: 2_051_519_232,
                                          320: 3_701_657_600}),
    "resnet50": (25_557_032, 25_502_912, {97: 996_519_104, 193: 3_468_932_288,
                                          224: 4_089_184_256, 227: 4_628_849_408,
                                          320: 8_343_142_400}),
}
# The same counter's per-module split at 224 (forward hooks on Conv2d / Linear):
# pointwise = 1x1 convs (groups 1, any stride), other_conv = any other ungrouped conv.
TORCH_SPLIT_224 = {
    "squeezenet1_0": {"pointwise": 209_795_072, "other_conv": 609_129_504},
    "squeezenet1_1": {"pointwise": 140_481_536, "other_conv": 208_670_400},
    "alexnet": {"other_conv": 655_566_528, "fc": 58_621_952},
    "googlenet": {"pointwise": 369_144_832, "other_conv": 1_128_207_360, "fc": 1_024_000},
    "vgg16": {"other_conv": 15_346_630_656, "fc": 123_633_664},
    "resnet18": {"pointwise": 19_267_584, "other_conv": 1_794_293_760, "fc": 512_000},
    "resnet50": {"pointwise": 2_119_434_240, "other_conv": 1_967_702_016, "fc": 2_048_000},
}


def torch_split(report) -> dict[str, int]:
    """mnprof's per-type MACs in torch's split: dw* depthwise, gconv* grouped, conv1x1
    pointwise, other convKxK other_conv, fc fc; every other type has no MACs."""
    out: dict[str, int] = {}
    for key, row in report.by_type.items():
        if key.startswith("dw"):
            part = "depthwise"
        elif key.startswith("gconv"):
            part = "grouped"
        elif key == "conv1x1":
            part = "pointwise"
        elif key.startswith("conv"):
            part = "other_conv"
        elif key == "fc":
            part = "fc"
        else:
            assert row.macs == 0, key
            continue
        out[part] = out.get(part, 0) + row.macs
    return {k: v for k, v in out.items() if v}


@pytest.mark.parametrize("model", MODELS)
def test_torch_figures(model):
    params, weights, macs = TORCH[model]
    for res, want in macs.items():
        t = mnprof.cost(model, 1.0, res).totals
        assert (t.macs, t.params, t.params_framework) == (want, weights, params), res
        assert calculate(model, 1.0, res).totals() == (want, weights, params), res


@pytest.mark.parametrize("model", MODELS)
def test_torch_split_at_224(model):
    assert torch_split(mnprof.cost(model)) == TORCH_SPLIT_224[model]


def test_what_torchvision_builds():
    """The construction details the header comments name, read off the built graphs."""
    def nodes(model):
        return {n.name: n for n in mnprof.build(mnprof.load_spec(model)).nodes}

    for model in ("squeezenet1_0", "squeezenet1_1", "googlenet"):
        pools = [n for n in nodes(model).values() if n.kind == "maxpool"]
        assert pools and all(n.attrs["ceil_mode"] for n in pools), model
    sq = nodes("squeezenet1_0")
    assert not [n for n in sq.values() if n.kind == "fc"]
    assert sq["conv10"].kind == "pwconv" and sq["conv10"].output_shape == (1000, 13, 13)
    alex = nodes("alexnet")
    assert alex["conv1"].attrs["padding"] == (2, 2, 2, 2)
    assert alex["avgpool"].output_shape == (256, 6, 6)
    assert nodes("vgg16")["avgpool"].output_shape == (512, 7, 7)
    goog = nodes("googlenet")
    assert not [name for name in goog if "aux" in name]
    assert all(n.attrs["bn"] and n.attrs["bn_eps"] == 0.001 and not n.attrs["bias"]
               for n in goog.values() if n.kind in ("conv", "pwconv"))
    r50 = nodes("resnet50")
    assert r50["layer2_1.conv2"].attrs["stride"] == (2, 2)            # v1.5
    assert r50["layer2_1.conv1"].attrs["stride"] == (1, 1)
    downsamples = {m: sorted(n for n in nodes(m) if n.endswith(".downsample"))
                   for m in ("resnet18", "resnet50")}
    assert downsamples == {
        "resnet18": ["layer2_1.downsample", "layer3_1.downsample", "layer4_1.downsample"],
        "resnet50": ["layer1_1.downsample", "layer2_1.downsample", "layer3_1.downsample",
                     "layer4_1.downsample"]}


TWO_TOWER_ALEXNET = """\
name: alexnet_two_towers
input: {resolution: 227, channels: 3}
layers:
  - {kind: conv, kernel: 11, stride: 4, padding: valid, out: 96, bias: true, act: relu}
  - {kind: lrn, size: 5, alpha: 0.0001, beta: 0.75, k: 2.0}
  - {kind: maxpool, kernel: 3, stride: 2}
  - {kind: conv, kernel: 5, padding: 2, groups: 2, out: 256, bias: true, act: relu}
  - {kind: lrn, size: 5, alpha: 0.0001, beta: 0.75, k: 2.0}
  - {kind: maxpool, kernel: 3, stride: 2}
  - {kind: conv, kernel: 3, padding: 1, out: 384, bias: true, act: relu}
  - {kind: conv, kernel: 3, padding: 1, groups: 2, out: 384, bias: true, act: relu}
  - {kind: conv, kernel: 3, padding: 1, groups: 2, out: 256, bias: true, act: relu}
  - {kind: maxpool, kernel: 3, stride: 2}
  - {kind: fc, out: 4096, act: relu}
  - {kind: fc, out: 4096, act: relu}
  - {kind: fc}
"""


def test_v1_paper_baselines(write_spec):
    """Tables 8 and 9 of the MobileNetV1 paper print Mult-Adds and parameters of its
    baselines; the exact counts (computed, not copied) and why they differ."""
    def exact(model, res=224):
        t = mnprof.cost(model, 1.0, res).totals
        assert (t.macs, t.params, t.params_framework) == calculate(model, 1.0, res).totals()
        return t

    # SqueezeNet, "1700M, 1.25M": no MAC count gives 1700M; 2 x MACs (FLOPs) at the 227
    # input SqueezeNet was trained at is 1,665M, 1.7G to two digits (1,638M at 224).
    t224, t227 = exact("squeezenet1_0"), exact("squeezenet1_0", 227)
    assert (t224.macs, t227.macs) == (818_924_576, 832_667_936)
    assert round(2 * t227.macs, -8) == 1_700_000_000 != round(2 * t224.macs, -8)
    assert round(t224.params_framework, -4) == 1_250_000

    # AlexNet, "720M, 60M": the paper's two-tower network at 227 is 724.4M (60.95M
    # weights); torchvision's single tower is 714.2M at 224 and 716.8M at 227
    # (61.1M params). 720M is 724.4M or 716.8M to two digits, not 714.2M.
    two_towers = mnprof.cost(write_spec(TWO_TOWER_ALEXNET)).totals
    assert (two_towers.macs, two_towers.params) == alexnet_original(227).totals()[:2] == (
        724_406_816, 60_954_656)
    t224, t227 = exact("alexnet"), exact("alexnet", 227)
    assert (t224.macs, t227.macs, t224.params_framework) == (714_188_480, 716_767_232,
                                                            61_100_840)
    assert round(two_towers.macs, -7) == round(t227.macs, -7) == 720_000_000 \
        != round(t224.macs, -7)

    # GoogLeNet, "1550M, 6.8M": between torchvision's variant (batch-norm, a 3x3 where
    # the paper has a 5x5: 1,498.4M, 6.62M) and the paper's own design (5x5, biases,
    # no batch-norm: 1,582.7M, 7.00M).
    t = exact("googlenet")
    paper = googlenet(1.0, 224, k5=5, bn=False).totals()
    assert (t.macs, t.params_framework) == (1_498_376_192, 6_624_904)
    assert (paper[0], paper[2]) == (1_582_671_872, 6_998_552)
    assert t.macs < 1_550_000_000 < paper[0] and t.params_framework < 6_800_000 < paper[2]

    # VGG16, "15300M, 138M": the exact count is 15,470.3M, 1.1% more; the 13 convs
    # alone are 15,346.6M (15.3G truncated), the three linear layers 123.6M.
    t = exact("vgg16")
    assert t.macs == 15_470_264_320 and round(t.params_framework, -6) == 138_000_000
    assert mnprof.cost("vgg16").by_type["conv3x3"].macs // 10**8 == 153

    # ResNet-50 (not in the V1 paper; He et al. print 3.8 x 10^9 "FLOPs", multiply-adds):
    # torchvision's v1.5 strides the 3x3 and costs 4,089.2M; the paper's v1 strides
    # the first 1x1: 3,858.0M, 3.8G truncated, with the same 25.6M parameters.
    t = exact("resnet50")
    v1 = resnet("resnet50", 1.0, 224, stride_on_1x1=True).totals()
    assert (t.macs, v1[0]) == (4_089_184_256, 3_857_973_248) and v1[2] == t.params_framework
    assert round(exact("resnet18").macs, -8) == 1_800_000_000        # paper: 1.8 x 10^9
