"""An independent calculator of the MobileNetV1 paper's baselines and a few classics.

SqueezeNet 1.0 / 1.1, AlexNet, GoogLeNet, VGG16, ResNet-18 / 50 and ShuffleNetV2,
re-derived in plain Python from torchvision's modules (squeezenet.py, alexnet.py,
googlenet.py, vgg.py, resnet.py, shufflenetv2.py) as read, not from the specs. It
uses nothing of mnprof's: its own output-size rules (PyTorch's), its own width rule
(``int(c * alpha)``; ShuffleNetV2: torchvision's per-width table) and these formulas:

- KxK conv, M in, N out, G groups, output HxW: K*K*(M/G)*N*H*W MACs and K*K*(M/G)*N
  weights; a bias adds N framework params, a batch-norm 2N (running mean and
  variance are buffers);
- Linear M -> N: M*N MACs and weights, N biases;
- elementwise ops (mnprof's convention, restated): one per output element of each
  activation and residual add; a pool one per window element of each output
  (``k*k`` even where a ceil-mode window hangs over the edge); a global average
  pool one per input element; an adaptive average pool the sum of its windows.

Results are per mnprof type key (``conv3x3``, ``dw3x3``, ``conv1x1``, ``fc``, or the
layer kind) as ``[MACs, weights, framework params, elementwise ops]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def out_size(size: int, k: int, s: int, p: int, ceil_mode: bool = False) -> int:
    """PyTorch's Conv2d / MaxPool2d output size (ceil_mode: the last window must start
    inside the input or its left padding)."""
    if not ceil_mode:
        return (size + 2 * p - k) // s + 1
    n = math.ceil((size + 2 * p - k) / s) + 1
    return n - 1 if (n - 1) * s >= size + p else n


def adaptive_elements(size: int, out: int) -> int:
    """Input elements summed along one axis by AdaptiveAvgPool: windows
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    return sum(math.ceil((i + 1) * size / out) - math.floor(i * size / out)
               for i in range(out))


class Net:
    """Walks a network, tracking the current map (c, h), and totals per type key."""

    def __init__(self, c: int, h: int) -> None:
        self.c, self.h = c, h
        self.by_type: dict[str, list[int]] = {}

    def count(self, key: str, macs: int = 0, weights: int = 0, extra: int = 0,
              ew: int = 0) -> None:
        row = self.by_type.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate((macs, weights, weights + extra, ew)):
            row[i] += v

    def conv(self, k: int, cout: int, *, s: int = 1, p: int = 0, groups: int = 1,
             bias: bool = False, bn: bool = False, act: bool = True) -> None:
        h = out_size(self.h, k, s, p)
        w = k * k * (self.c // groups) * cout
        if groups > 1 and groups == self.c:
            key = f"dw{k}x{k}"
        else:
            key = f"{'g' if groups > 1 else ''}conv{k}x{k}"
        self.count(key, w * h * h, w, cout * (bias + 2 * bn), cout * h * h if act else 0)
        self.c, self.h = cout, h

    def maxpool(self, k: int, s: int, p: int = 0, ceil_mode: bool = False) -> None:
        self.h = out_size(self.h, k, s, p, ceil_mode)
        self.count("maxpool", ew=self.c * self.h * self.h * k * k)

    def global_pool(self) -> None:
        self.count("global_avgpool", ew=self.c * self.h * self.h)
        self.h = 1

    def adaptive_pool(self, out: int) -> None:
        self.count("adaptive_avgpool", ew=self.c * adaptive_elements(self.h, out) ** 2)
        self.h = out

    def fc(self, cout: int, *, act: bool) -> None:
        cin = self.c * self.h * self.h          # flattened
        self.count("fc", cin * cout, cin * cout, cout, cout if act else 0)
        self.c, self.h = cout, 1

    def elementwise(self, key: str, per_element: int = 1) -> None:
        self.count(key, ew=per_element * self.c * self.h * self.h)

    def view(self, key: str) -> None:
        """A layer with no cost (dropout, flatten, concat, split, channel shuffle)."""
        self.count(key)

    def totals(self) -> tuple[int, int, int]:
        """(MACs, weights, framework params)."""
        return tuple(sum(v[i] for v in self.by_type.values()) for i in range(3))


def _truncate(alpha: float) -> Callable[[int], int]:
    return lambda c: int(c * alpha)


# ---------------------------------------------------------------------------
# SqueezeNet (squeezenet.py): Fire(inplanes, squeeze, expand1x1, expand3x3)

FIRES_1_0 = [(16, 64, 64), (16, 64, 64), (32, 128, 128), "M", (32, 128, 128),
             (48, 192, 192), (48, 192, 192), (64, 256, 256), "M", (64, 256, 256)]
FIRES_1_1 = [(16, 64, 64), (16, 64, 64), "M", (32, 128, 128), (32, 128, 128), "M",
             (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]


def squeezenet(version: str, alpha: float, res: int, classes: int = 1000) -> Net:
    ch = _truncate(alpha)
    net = Net(3, res)
    stem_k, stem_c, fires = (7, 96, FIRES_1_0) if version == "1_0" else (3, 64, FIRES_1_1)
    net.conv(stem_k, ch(stem_c), s=2, bias=True)            # no padding
    net.maxpool(3, 2, ceil_mode=True)
    for fire in fires:
        if fire == "M":
            net.maxpool(3, 2, ceil_mode=True)
            continue
        sq, e1, e3 = fire
        net.conv(1, ch(sq), bias=True)
        squeezed = net.c
        net.conv(1, ch(e1), bias=True)
        net.c = squeezed
        net.conv(3, ch(e3), p=1, bias=True)
        net.c = ch(e1) + ch(e3)
        net.view("concat")
    net.view("dropout")
    net.conv(1, classes, bias=True)                        # final_conv + ReLU
    net.global_pool()
    net.view("flatten")
    return net


# ---------------------------------------------------------------------------
# AlexNet (alexnet.py) and VGG16 (vgg.py, cfg "D")

def _classifier(net: Net, ch: Callable[[int], int], classes: int, *,
                dropout_first: bool) -> None:
    """Linear -> 4096 (ReLU), Linear -> 4096 (ReLU), Linear -> classes, two dropouts."""
    for _ in range(2):
        if dropout_first:
            net.view("dropout")
        net.fc(ch(4096), act=True)
        if not dropout_first:
            net.view("dropout")
    net.fc(classes, act=False)


def alexnet(alpha: float, res: int, classes: int = 1000) -> Net:
    ch = _truncate(alpha)
    net = Net(3, res)
    net.conv(11, ch(64), s=4, p=2, bias=True)
    net.maxpool(3, 2)
    net.conv(5, ch(192), p=2, bias=True)
    net.maxpool(3, 2)
    for c in (384, 256, 256):
        net.conv(3, ch(c), p=1, bias=True)
    net.maxpool(3, 2)
    net.adaptive_pool(6)
    _classifier(net, ch, classes, dropout_first=True)
    return net


def alexnet_original(res: int = 227, classes: int = 1000) -> Net:
    """The paper's two-tower AlexNet (Krizhevsky et al. 2012, Figure 2): 96-256-384-384-256
    channels, conv2, conv4 and conv5 split into 2 groups (one per GPU), no padding on
    conv1, pools 3x3/2, classifier 9216 -> 4096 -> 4096 -> classes; LRN (no MACs) left
    out. Every layer has a bias."""
    net = Net(3, res)
    net.conv(11, 96, s=4, bias=True)
    net.maxpool(3, 2)
    net.conv(5, 256, p=2, groups=2, bias=True)
    net.maxpool(3, 2)
    net.conv(3, 384, p=1, bias=True)
    net.conv(3, 384, p=1, groups=2, bias=True)
    net.conv(3, 256, p=1, groups=2, bias=True)
    net.maxpool(3, 2)
    _classifier(net, lambda c: c, classes, dropout_first=True)
    return net


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M"]


def vgg16(alpha: float, res: int, classes: int = 1000) -> Net:
    ch = _truncate(alpha)
    net = Net(3, res)
    for v in VGG16_CFG:
        if v == "M":
            net.maxpool(2, 2)
        else:
            net.conv(3, ch(v), p=1, bias=True)
    net.adaptive_pool(7)
    _classifier(net, ch, classes, dropout_first=False)
    return net


# ---------------------------------------------------------------------------
# GoogLeNet (googlenet.py, aux_logits=False): BasicConv2d = conv (no bias) + BN + ReLU;
# Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)

INCEPTIONS = [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), "M3",
              (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
              (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
              (256, 160, 320, 32, 128, 128), "M2",
              (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]


def googlenet(alpha: float, res: int, classes: int = 1000, *, k5: int = 3,
              bn: bool = True) -> Net:
    """``k5=5, bn=False``: the paper's design (5x5 branch, biases, no batch-norm) for
    comparison with its printed figures; LRN, which costs no MACs, is left out."""
    ch = _truncate(alpha)
    net = Net(3, res)
    basic = dict(bn=bn, bias=not bn)
    net.conv(7, ch(64), s=2, p=3, **basic)
    net.maxpool(3, 2, ceil_mode=True)
    net.conv(1, ch(64), **basic)
    net.conv(3, ch(192), p=1, **basic)
    net.maxpool(3, 2, ceil_mode=True)
    for row in INCEPTIONS:
        if isinstance(row, str):
            net.maxpool(int(row[1]), 2, ceil_mode=True)
            continue
        c1, c3r, c3, c5r, c5, proj = (ch(c) for c in row)
        cin, h = net.c, net.h
        for branch in ([(1, c1)], [(1, c3r), (3, c3)], [(1, c5r), (k5, c5)], ["pool", (1, proj)]):
            net.c, net.h = cin, h
            for layer in branch:
                if layer == "pool":
                    net.maxpool(3, 1, p=1, ceil_mode=True)
                else:
                    k, c = layer
                    net.conv(k, c, p=(k - 1) // 2, **basic)
        net.c, net.h = c1 + c3 + c5 + proj, h
        net.view("concat")
    net.global_pool()
    net.view("dropout")
    net.fc(classes, act=False)
    return net


# ---------------------------------------------------------------------------
# ResNet (resnet.py): BasicBlock (expansion 1) and Bottleneck (expansion 4, stride
# on the 3x3: v1.5); a 1x1 conv + BN shortcut where stride != 1 or channels change.

RESNET_LAYERS = {"resnet18": (False, [2, 2, 2, 2]), "resnet50": (True, [3, 4, 6, 3])}


def resnet(model: str, alpha: float, res: int, classes: int = 1000, *,
           stride_on_1x1: bool = False) -> Net:
    """``stride_on_1x1``: the original (v1) bottleneck, for comparison with the paper."""
    ch = _truncate(alpha)
    bottleneck, layers = RESNET_LAYERS[model]
    net = Net(3, res)
    net.conv(7, ch(64), s=2, p=3, bn=True)
    net.maxpool(3, 2, p=1)
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
        for b in range(blocks):
            stride = 2 if stage > 0 and b == 0 else 1
            cin, h = net.c, net.h
            out = ch(planes * 4) if bottleneck else ch(planes)
            if bottleneck:
                s1, s3 = (stride, 1) if stride_on_1x1 else (1, stride)
                net.conv(1, ch(planes), s=s1, bn=True)
                net.conv(3, ch(planes), s=s3, p=1, bn=True)
                net.conv(1, out, bn=True, act=False)
            else:
                net.conv(3, out, s=stride, p=1, bn=True)
                net.conv(3, out, p=1, bn=True, act=False)
            if stride != 1 or cin != out:
                main = (net.c, net.h)
                net.c, net.h = cin, h
                net.conv(1, out, s=stride, bn=True, act=False)
                net.c, net.h = main
            net.elementwise("add")
            net.elementwise("relu")
    net.global_pool()
    net.fc(classes, act=False)
    return net


# ---------------------------------------------------------------------------
# ShuffleNetV2 (shufflenetv2.py): stages_repeats [4, 8, 4]; stages_out_channels by width

SHUFFLE_WIDTHS = {0.5: [24, 48, 96, 192, 1024], 1.0: [24, 116, 232, 464, 1024],
                  1.5: [24, 176, 352, 704, 1024], 2.0: [24, 244, 488, 976, 2048]}


# Built-ins whose --alpha picks a row of a width table rather than scaling channels:
# the widths they accept (any other alpha is an error).
TABLE_ALPHAS = {"shufflenet_v2_x1_0": tuple(SHUFFLE_WIDTHS)}


def shufflenet_v2(alpha: float, res: int, classes: int = 1000) -> Net:
    widths = SHUFFLE_WIDTHS[alpha]
    net = Net(3, res)
    net.conv(3, widths[0], s=2, p=1, bn=True)
    net.maxpool(3, 2, p=1)
    for repeats, oup in zip((4, 8, 4), widths[1:4], strict=True):
        half = oup // 2
        for i in range(repeats):
            cin, h = net.c, net.h
            if i == 0:                                          # stride 2, two branches
                net.conv(3, cin, s=2, p=1, groups=cin, bn=True, act=False)
                net.conv(1, half, bn=True)
                net.c, net.h = cin, h
                net.conv(1, half, bn=True)
                net.conv(3, half, s=2, p=1, groups=half, bn=True, act=False)
                net.conv(1, half, bn=True)
            else:                                               # split, one branch
                net.view("split")
                net.view("split")
                net.c = half
                net.conv(1, half, bn=True)
                net.conv(3, half, p=1, groups=half, bn=True, act=False)
                net.conv(1, half, bn=True)
            net.c = oup
            net.view("concat")
            net.view("channel_shuffle")
    net.conv(1, widths[4], bn=True)
    net.global_pool()
    net.fc(classes, act=False)
    return net


def calculate(model: str, alpha: float, res: int) -> Net:
    if model.startswith("squeezenet"):
        return squeezenet(model[-3:], alpha, res)
    if model.startswith("resnet"):
        return resnet(model, alpha, res)
    if model.startswith("shufflenet_v2"):
        return shufflenet_v2(alpha, res)
    return {"alexnet": alexnet, "vgg16": vgg16, "googlenet": googlenet}[model](alpha, res)
