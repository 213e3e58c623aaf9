"""An independent calculator of EfficientNet-B0/B1, MnasNet and MobileNetV4-Conv counts.

Each network is re-derived in plain Python from its reference implementation's
construction rules, written out here from the reference code, not from mnprof:

- EfficientNet (torchvision ``efficientnet.py``): the ``bneck_conf`` table, channels
  ``_make_divisible(c * width, 8)``, repeats ``ceil(n * depth)``, MBConv = optional 1x1
  expansion to ``_make_divisible(cin * t, 8)``, depthwise, squeeze-and-excite to
  ``max(1, cin // 4)`` (block input) with biased 1x1 convs, linear 1x1 projection;
  last conv ``4 * last out``; Linear with a bias.
- MnasNet (torchvision ``mnasnet.py``): ``_get_depths`` (``_round_to_multiple_of``),
  the ``_stack`` table, expansion ``cin * t`` unrounded, a 1280 head conv.
- MobileNetV4 (timm ``mobilenetv3.py`` ``_gen_mobilenet_v4``): the block strings
  themselves, decoded here (``cn`` conv + BN + act, ``er`` fused IB, ``uir`` universal
  inverted bottleneck), timm's static padding ``((s - 1) + (k - 1)) // 2``, the stem
  fixed below width 1, ``conv_head`` 960 -> 1280 after the pool.

Per layer: KxK conv M -> N at output HxW: K*K*M*N*H*W MACs and K*K*M*N weights;
depthwise KxK on M channels: K*K*M*H*W and K*K*M; fc M -> N: M*N. Framework params
add 2 per batch-norm channel and 1 per bias. Elementwise ops: one per output element
of each activation, residual add and SE multiply; a global pool one per input element.
Results are {mnprof type key: [MACs, weights, framework params, elementwise ops]}.
"""

from __future__ import annotations

import math
import re


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible`` / timm's ``make_divisible`` (round_limit 0.9)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """torchvision mnasnet's ``_round_to_multiple_of``, as written there."""
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def out_size(size: int, kernel: int, stride: int, padding: int | None = None) -> int:
    pad = (kernel - 1) // 2 if padding is None else padding
    return (size + 2 * pad - kernel) // stride + 1


class Net:
    """Accumulates {type: [MACs, weights, framework params, elementwise ops]}."""

    def __init__(self) -> None:
        self.by_type: dict[str, list[int]] = {}

    def add_row(self, key: str, macs: int = 0, weights: int = 0, extra: int = 0,
                ew: int = 0) -> None:
        row = self.by_type.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate((macs, weights, weights + extra, ew)):
            row[i] += v

    def conv(self, k: int, cin: int, cout: int, h: int, *, act: bool = True,
             key: str | None = None) -> None:
        """KxK conv + batch-norm, no bias; h = output size."""
        self.add_row(key or f"conv{k}x{k}", k * k * cin * cout * h * h, k * k * cin * cout,
                     2 * cout, cout * h * h if act else 0)

    def dw(self, k: int, c: int, h: int, *, act: bool = True) -> None:
        self.add_row(f"dw{k}x{k}", k * k * c * h * h, k * k * c, 2 * c, c * h * h if act else 0)

    def se(self, c: int, squeeze: int, h: int) -> None:
        """torchvision's SqueezeExcitation: pool, 1x1 + bias + SiLU, 1x1 + bias + sigmoid, mul."""
        self.add_row("se", ew=c * h * h)
        self.add_row("se", c * squeeze, c * squeeze, squeeze, squeeze)
        self.add_row("se", squeeze * c, squeeze * c, c, c)
        self.add_row("se", ew=c * h * h)

    def add(self, c: int, h: int) -> None:
        self.add_row("add", ew=c * h * h)

    def pool(self, c: int, h: int) -> None:
        self.add_row("global_avgpool", ew=c * h * h)

    def fc(self, cin: int, cout: int) -> None:
        """Linear with bias, no activation."""
        self.add_row("fc", cin * cout, cin * cout, cout)

    def view(self, key: str) -> None:
        self.add_row(key)

    def totals(self) -> tuple[int, int, int]:
        """(MACs, weights, framework params)."""
        return tuple(sum(v[i] for v in self.by_type.values()) for i in range(3))


# torchvision _efficientnet_conf: bneck_conf(expand_ratio, kernel, stride, input_channels,
# out_channels, num_layers)
EFFICIENTNET_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                   (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                   (6, 3, 1, 192, 320, 1)]
# (width, depth, resolution of the weights' crop) of torchvision's constructors
EFFICIENTNET = {"efficientnet_b0": (1.0, 1.0, 224), "efficientnet_b1": (1.0, 1.1, 240)}


def efficientnet(width: float, depth: float, res: int, classes: int = 1000) -> Net:
    adjust = lambda c: make_divisible(c * width)  # noqa: E731
    net = Net()
    h = out_size(res, 3, 2)
    cin = adjust(EFFICIENTNET_B0[0][3])
    net.conv(3, 3, cin, h)
    for t, k, s, c_in, c_out, n in EFFICIENTNET_B0:
        assert adjust(c_in) == cin
        cout = adjust(c_out)
        for i in range(int(math.ceil(n * depth))):
            stride = s if i == 0 else 1
            expanded = make_divisible(cin * t)
            if expanded != cin:
                net.conv(1, cin, expanded, h)
            h = out_size(h, k, stride)
            net.dw(k, expanded, h)
            net.se(expanded, max(1, cin // 4), h)
            net.conv(1, expanded, cout, h, act=False)
            if stride == 1 and cin == cout:
                net.add(cout, h)
            cin = cout
    last = 4 * cin
    net.conv(1, cin, last, h)
    net.pool(last, h)
    net.view("dropout")
    net.fc(last, classes)
    return net


# torchvision MNASNet: _stack(in, out = depths[i], kernel, stride, exp_factor, repeats)
MNASNET_DEPTHS = [32, 16, 24, 40, 80, 96, 192, 320]
MNASNET_STACKS = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4),
                  (3, 1, 6, 1)]


def mnasnet(alpha: float, res: int, classes: int = 1000) -> Net:
    depths = [round_to_multiple_of(d * alpha, 8) for d in MNASNET_DEPTHS]
    net = Net()
    h = out_size(res, 3, 2, padding=1)
    net.conv(3, 3, depths[0], h)
    net.dw(3, depths[0], h)
    net.conv(1, depths[0], depths[1], h, act=False)        # no ReLU, no residual
    cin = depths[1]
    for (k, s, t, n), cout in zip(MNASNET_STACKS, depths[2:], strict=True):
        for i in range(n):
            stride = s if i == 0 else 1
            mid = cin * t
            net.conv(1, cin, mid, h)
            h = out_size(h, k, stride, padding=k // 2)
            net.dw(k, mid, h)
            net.conv(1, mid, cout, h, act=False)
            if cin == cout and stride == 1:
                net.add(cout, h)
            cin = cout
    net.conv(1, cin, 1280, h)
    net.pool(1280, h)                                       # x.mean([2, 3])
    net.view("dropout")
    net.fc(1280, classes)
    return net


# timm _gen_mobilenet_v4 (non-hybrid): stem size and arch_def, stage by stage
MNV4 = {
    "mobilenet_v4_conv_small": (32, [
        ["cn_r1_k3_s2_e1_c32", "cn_r1_k1_s1_e1_c32"],
        ["cn_r1_k3_s2_e1_c96", "cn_r1_k1_s1_e1_c64"],
        ["uir_r1_a5_k5_s2_e3_c96", "uir_r4_a0_k3_s1_e2_c96", "uir_r1_a3_k0_s1_e4_c96"],
        ["uir_r1_a3_k3_s2_e6_c128", "uir_r1_a5_k5_s1_e4_c128", "uir_r1_a0_k5_s1_e4_c128",
         "uir_r1_a0_k5_s1_e3_c128", "uir_r2_a0_k3_s1_e4_c128"],
        ["cn_r1_k1_s1_c960"]]),
    "mobilenet_v4_conv_medium": (32, [
        ["er_r1_k3_s2_e4_c48"],
        ["uir_r1_a3_k5_s2_e4_c80", "uir_r1_a3_k3_s1_e2_c80"],
        ["uir_r1_a3_k5_s2_e6_c160", "uir_r2_a3_k3_s1_e4_c160", "uir_r1_a3_k5_s1_e4_c160",
         "uir_r1_a3_k3_s1_e4_c160", "uir_r1_a3_k0_s1_e4_c160", "uir_r1_a0_k0_s1_e2_c160",
         "uir_r1_a3_k0_s1_e4_c160"],
        ["uir_r1_a5_k5_s2_e6_c256", "uir_r1_a5_k5_s1_e4_c256", "uir_r2_a3_k5_s1_e4_c256",
         "uir_r1_a0_k0_s1_e4_c256", "uir_r1_a3_k0_s1_e4_c256", "uir_r1_a3_k5_s1_e2_c256",
         "uir_r1_a5_k5_s1_e4_c256", "uir_r2_a0_k0_s1_e4_c256", "uir_r1_a5_k0_s1_e2_c256"],
        ["cn_r1_k1_s1_c960"]]),
    "mobilenet_v4_conv_large": (24, [
        ["er_r1_k3_s2_e4_c48"],
        ["uir_r1_a3_k5_s2_e4_c96", "uir_r1_a3_k3_s1_e4_c96"],
        ["uir_r1_a3_k5_s2_e4_c192", "uir_r3_a3_k3_s1_e4_c192", "uir_r1_a3_k5_s1_e4_c192",
         "uir_r5_a5_k3_s1_e4_c192", "uir_r1_a3_k0_s1_e4_c192"],
        ["uir_r4_a5_k5_s2_e4_c512", "uir_r1_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512",
         "uir_r2_a5_k0_s1_e4_c512", "uir_r1_a5_k3_s1_e4_c512", "uir_r1_a5_k5_s1_e4_c512",
         "uir_r3_a5_k0_s1_e4_c512"],
        ["cn_r1_k1_s1_c960"]]),
}
MNV4_HEAD = 1280        # num_features, never scaled


def decode(block: str) -> tuple[str, dict[str, int]]:
    """timm's block string: type, then options key + number (`uir_r2_a3_k5_s1_e4_c80`)."""
    kind, *ops = block.split("_")
    return kind, {re.match(r"[a-z]+", op).group(): int(re.search(r"\d+", op).group())
                  for op in ops}


def timm_out(size: int, k: int, s: int) -> int:
    """timm's create_conv2d with pad_type '': symmetric padding ((s - 1) + (k - 1)) // 2."""
    return out_size(size, k, s, padding=((s - 1) + (k - 1)) // 2)


def _uir(net: Net, o: dict[str, int], cin: int, cout: int, stride: int, h: int) -> int:
    start, mid_k = o["a"], o["k"]
    if start:                                   # dw_start: BN, no activation
        h = timm_out(h, start, 1 if mid_k else stride)
        net.dw(start, cin, h, act=False)
    mid = make_divisible(cin * o["e"])
    net.conv(1, cin, mid, h)                    # pw_exp
    if mid_k:
        h = timm_out(h, mid_k, stride)
        net.dw(mid_k, mid, h)
    net.conv(1, mid, cout, h, act=False)        # pw_proj
    return h


def mobilenet_v4(model: str, alpha: float, res: int, classes: int = 1000) -> Net:
    stem, stages = MNV4[model]
    round_chs = lambda c: make_divisible(c * alpha)  # noqa: E731
    net = Net()
    cin = stem if alpha < 1.0 else round_chs(stem)   # fix_stem below 1
    h = timm_out(res, 3, 2)
    net.conv(3, 3, cin, h)
    for stage in stages:
        blocks = [b for b in stage for _ in range(decode(b)[1]["r"])]
        for i, block in enumerate(blocks):
            kind, o = decode(block)
            stride = o["s"] if i == 0 else 1        # only a stage's first block strides
            cout = round_chs(o["c"])
            if kind == "cn":                        # ConvBnAct, no skip
                h = timm_out(h, o["k"], stride)
                net.conv(o["k"], cin, cout, h)
            elif kind == "er":                      # EdgeResidual
                mid = make_divisible(cin * o["e"])
                h = timm_out(h, o["k"], stride)
                net.conv(o["k"], cin, mid, h)
                net.conv(1, mid, cout, h, act=False)
            else:
                assert kind == "uir", block
                h = _uir(net, o, cin, cout, stride, h)
            if kind != "cn" and cin == cout and stride == 1:
                net.add(cout, h)
            cin = cout
    net.pool(cin, h)
    net.conv(1, cin, MNV4_HEAD, 1)                  # conv_head + norm_head (ReLU)
    net.view("flatten")
    net.fc(MNV4_HEAD, classes)
    return net


def calculate(model: str, alpha: float, res: int, depth: float | None = None) -> Net:
    if model in EFFICIENTNET:
        width, own_depth, _ = EFFICIENTNET[model]
        return efficientnet(width * alpha, own_depth if depth is None else depth, res)
    assert depth is None
    if model == "mnasnet1_0":
        return mnasnet(alpha, res)
    return mobilenet_v4(model, alpha, res)
