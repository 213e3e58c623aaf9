"""An independent calculator of MobileNetV2 and V3 (Large, Small) counts.


The calculator below re-derives every count in plain Python from the papers'
tables (papers.md) and the torchvision construction rules written in the specs'
header comments. It uses nothing of mnprof's: its own ``make_divisible``, its own
output-size rule (torchvision's: padding (k-1)/2, floor((h + 2p - k) / s) + 1),
and these per-layer formulas:

- KxK conv, M in, N out, output HxW: K*K*M*N*H*W MACs, K*K*M*N weights;
- depthwise KxK, M channels: K*K*M*H*W MACs, K*K*M weights;
- fully-connected M -> N: M*N MACs and weights;
- framework params add 2 per channel for each batch-norm and 1 per bias;
- elementwise ops: one per output element of each activation, residual add and
  SE channel multiply; a global average pool one per input element.
"""

from __future__ import annotations


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: nearest multiple of 8, never 10% below value."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def conv_out(size: int, kernel: int, stride: int) -> int:
    pad = (kernel - 1) // 2
    return (size + 2 * pad - kernel) // stride + 1


class Net:
    """Accumulates {type: [MACs, weights, framework params, elementwise ops]}."""

    def __init__(self) -> None:
        self.by_type: dict[str, list[int]] = {}

    def _add(self, key: str, macs: int = 0, weights: int = 0, extra: int = 0,
             ew: int = 0) -> None:
        row = self.by_type.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate((macs, weights, weights + extra, ew)):
            row[i] += v

    def conv(self, k: int, cin: int, cout: int, h: int, *, act: bool = True) -> None:
        """KxK conv + batch-norm (no bias), h = output size."""
        self._add(f"conv{k}x{k}", k * k * cin * cout * h * h, k * k * cin * cout, 2 * cout,
                  cout * h * h if act else 0)

    def dw(self, k: int, c: int, h: int) -> None:
        """Depthwise KxK + batch-norm + activation."""
        self._add(f"dw{k}x{k}", k * k * c * h * h, k * k * c, 2 * c, c * h * h)

    def se(self, c: int, h: int) -> None:
        """Squeeze-and-excite on a c x h x h map (torchvision's SqueezeExcitation)."""
        s = make_divisible(c // 4)
        self._add("se", ew=c * h * h)                                # global average pool
        self._add("se", c * s, c * s, s, s)                          # 1x1 conv + bias, ReLU
        self._add("se", s * c, s * c, c, c)                          # 1x1 conv + bias, h-sigmoid
        self._add("se", ew=c * h * h)                                # channel multiply

    def add(self, c: int, h: int) -> None:
        self._add("add", ew=c * h * h)

    def pool(self, c: int, h: int) -> None:
        self._add("global_avgpool", ew=c * h * h)

    def fc(self, cin: int, cout: int, *, act: bool) -> None:
        """Linear with bias."""
        self._add("fc", cin * cout, cin * cout, cout, cout if act else 0)

    def dropout(self) -> None:
        self._add("dropout")

    def totals(self) -> tuple[int, int, int]:
        """(MACs, weights, framework params)."""
        return tuple(sum(v[i] for v in self.by_type.values()) for i in range(3))


# MobileNetV2, Table 2: expansion t, output channels c, repeats n, first stride s.
V2_ROWS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]


def v2(alpha: float, res: int, classes: int = 1000) -> Net:
    ch = lambda c: make_divisible(c * alpha)  # noqa: E731
    net = Net()
    h, cin = conv_out(res, 3, 2), ch(32)
    net.conv(3, 3, cin, h)
    for t, c, n, s in V2_ROWS:
        cout = ch(c)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(cin * t))             # not re-rounded
            if t != 1:
                net.conv(1, cin, hidden, h)
            h = conv_out(h, 3, stride)
            net.dw(3, hidden, h)
            net.conv(1, hidden, cout, h, act=False)  # linear bottleneck
            if stride == 1 and cin == cout:
                net.add(cout, h)
            cin = cout
    last = make_divisible(1280 * max(1.0, alpha))    # never below 1280
    net.conv(1, cin, last, h)
    net.pool(last, h)
    net.dropout()
    net.fc(last, classes, act=False)
    return net


# MobileNetV3, Tables 1 and 2: kernel, exp, out, SE, NL, stride.
V3_LARGE = [(3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2),
            (3, 72, 24, False, "RE", 1), (5, 72, 40, True, "RE", 2),
            (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
            (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1),
            (3, 184, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
            (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
            (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1),
            (5, 960, 160, True, "HS", 1)]
V3_SMALL = [(3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2),
            (3, 88, 24, False, "RE", 1), (5, 96, 40, True, "HS", 2),
            (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
            (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1),
            (5, 288, 96, True, "HS", 2), (5, 576, 96, True, "HS", 1),
            (5, 576, 96, True, "HS", 1)]
# Width of the first classifier layer at alpha 1 (scaled with make_divisible).
V3_HIDDEN = {"mobilenet_v3_large": 1280, "mobilenet_v3_small": 1024}
V3_ROWS = {"mobilenet_v3_large": V3_LARGE, "mobilenet_v3_small": V3_SMALL}


def v3(model: str, alpha: float, res: int, classes: int = 1000) -> Net:
    ch = lambda c: make_divisible(c * alpha)  # noqa: E731
    net = Net()
    h, cin = conv_out(res, 3, 2), ch(16)
    net.conv(3, 3, cin, h)
    for k, exp, out, se, _nl, s in V3_ROWS[model]:
        exp, out = ch(exp), ch(out)
        if exp != cin:
            net.conv(1, cin, exp, h)
        h = conv_out(h, k, s)
        net.dw(k, exp, h)
        if se:
            net.se(exp, h)
        net.conv(1, exp, out, h, act=False)
        if s == 1 and cin == out:
            net.add(out, h)
        cin = out
    last = 6 * cin                       # no SE here, in either model (see the specs)
    net.conv(1, cin, last, h)
    net.pool(last, h)
    hidden = ch(V3_HIDDEN[model])
    net.fc(last, hidden, act=True)       # h-swish
    net.dropout()
    net.fc(hidden, classes, act=False)
    return net


def calculate(model: str, alpha: float, res: int) -> Net:
    return v2(alpha, res) if model == "mobilenet_v2" else v3(model, alpha, res)


