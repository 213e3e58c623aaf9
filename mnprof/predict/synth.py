"""Random networks for calibration, drawn from the ranges the built-in family spans.

Each calibration network is an ordinary spec (built, exported and profiled like
any other), made of the blocks the family is made of: separable pairs (V1),
inverted residuals with 3x3 to 7x7 depthwise convs, optional squeeze-and-excite
and residual adds (V2, V3, MnasNet, EfficientNet), full 3x3 convs with or without
residuals (V1's conv variant, VGG, ResNet), fused expansions (MobileNetV4),
pooling and two-branch concats (GoogLeNet, SqueezeNet), then a head of a wide 1x1
conv, global pooling and fully-connected layers. Channel counts are drawn as the
width multiplier makes them: mostly multiples of 8, some of 4, some arbitrary
(V1 truncates ``c * alpha``), since onnxruntime runs each differently. Input
resolutions span 96 to 288, as the predictions asked for do.

``Target`` asks for a network built around one kernel shape (adaptive sampling:
more samples where the model's error is large).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

ACTS = ("relu", "relu6", "hswish", "silu")
RES_RANGE = (96, 288)
MAX_CHANNELS = 1800        # V2's last conv at alpha 1.4 is 1792


@dataclass(frozen=True)
class Target:
    """A kernel shape to sample near: its type, input and output channels, input
    spatial size, kernel and stride."""

    kind: str
    channels: int
    out: int
    size: int
    kernel: int = 3
    stride: int = 1


def channels(rng: random.Random, c: float) -> int:
    """``c`` rounded as a width multiplier would: to 8, to 4, or not at all."""
    c = max(4.0, min(float(MAX_CHANNELS), c))
    r = rng.random()
    if r < 0.6:
        return max(8, int(c / 8 + 0.5) * 8)
    if r < 0.75:
        return max(4, int(c / 4 + 0.5) * 4)
    return max(3, int(c))


class _Net:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.layers: list[dict[str, Any]] = []
        self.c = 3
        self.n = 0

    def name(self, what: str) -> str:
        self.n += 1
        return f"{what}{self.n}"

    def add(self, **layer: Any) -> str:
        layer.setdefault("name", self.name(layer["kind"]))
        self.layers.append(layer)
        return layer["name"]

    def conv(self, out: int, k: int = 3, s: int = 1, act: str = "relu", **kw: Any) -> str:
        kind = "pwconv" if k == 1 and "groups" not in kw else "conv"
        extra = {"kernel": k} if kind == "conv" else {}
        name = self.add(kind=kind, out=out, stride=s, bn=True, act=act, **extra, **kw)
        self.c = out
        return name

    # -- blocks -------------------------------------------------------------------

    def separable(self, out: int, k: int, s: int, act: str) -> None:
        self.add(kind="dwconv", kernel=k, stride=s, bn=True, act=act)
        self.conv(out, 1, act=act)

    def inverted(self, out: int, k: int, s: int, act: str, t: float, se: bool) -> None:
        cin, start = self.c, self.layers[-1]["name"]
        mid = channels(self.rng, cin * t) if t != 1 else cin
        if mid != cin:
            self.conv(mid, 1, act=act)
        dw = self.add(kind="dwconv", kernel=k, stride=s, bn=True, act=act)
        if se:
            squeeze = max(8, channels(self.rng, mid / 4))
            self.add(kind="global_avgpool")
            self.add(kind="pwconv", out=squeeze, bias=True, act="relu" if act != "silu" else act)
            gate = self.add(kind="pwconv", out=mid, bias=True,
                            act="hsigmoid" if act != "silu" else "sigmoid")
            self.add(kind="mul", inputs=[dw, gate])
        proj = self.conv(out, 1, act="none")
        if s == 1 and cin == out:
            self.add(kind="add", inputs=[start, proj])

    def plain(self, out: int, k: int, s: int, act: str, residual: bool) -> None:
        cin, start = self.c, self.layers[-1]["name"]
        first = self.conv(out, k, s, act=act)
        if residual and s == 1 and cin == out:
            second = self.conv(out, k, act="none")
            self.add(kind="add", inputs=[start, second])
            self.add(kind="relu")
        elif residual:
            del first
            self.conv(out, k, act=act)

    def fused(self, out: int, s: int, act: str, t: float) -> None:
        self.conv(channels(self.rng, self.c * t), 3, s, act=act)
        self.conv(out, 1, act="none")

    def branches(self, out: int, act: str) -> None:
        start = self.layers[-1]["name"]
        a = channels(self.rng, out * self.rng.uniform(0.3, 0.7))
        left = self.conv(a, 1, act=act, input=start)
        right = self.conv(max(3, out - a), 3, act=act, input=start)
        self.add(kind="concat", inputs=[left, right])
        self.c = a + max(3, out - a)

    def block(self, kind: str, out: int, s: int, act: str, size: int) -> None:
        rng = self.rng
        k = rng.choice((3, 3, 3, 5, 5, 7))
        if kind == "separable":
            self.separable(out, 3 if k == 7 else k, s, act)
        elif kind == "inverted":
            t = rng.choice((1, 2.5, 3, 4, 6, 6, 6))
            self.inverted(out, k, s, act, t, rng.random() < 0.4)
        elif kind == "plain":
            self.plain(out, 3 if rng.random() < 0.85 else 1, s, act, rng.random() < 0.4)
        elif kind == "fused":
            self.fused(out, s, act, rng.choice((1, 2, 4)))
        elif kind == "pool":
            if size < 4:
                return self.block("separable", out, s, act, size)
            self.add(kind=rng.choice(("maxpool", "avgpool")), kernel=rng.choice((2, 3)),
                     stride=s)
        else:
            self.branches(out, act)

    def head(self) -> None:
        rng = self.rng
        act = rng.choice(ACTS)
        if rng.random() < 0.8:
            self.conv(channels(rng, min(MAX_CHANNELS, self.c * rng.uniform(2, 6))), 1, act=act)
        self.add(kind="global_avgpool")
        if rng.random() < 0.3:
            self.add(kind="fc", out=channels(rng, rng.uniform(256, 1536)),
                     act=rng.choice(("relu", "hswish", "none")))
            self.add(kind="dropout")
        self.add(kind="fc", out=rng.choice((1000, 1000, 1000, 100, 10)))
        if rng.random() < 0.2:
            self.add(kind="softmax")


BLOCKS = ("separable", "inverted", "plain", "fused", "branches", "pool")
_WEIGHTS = (1, 2, 1, 1, 1, 1)


def random_network(rng: random.Random, target: Target | None = None,
                   blocks: tuple[str, ...] = BLOCKS) -> dict[str, Any]:
    """A spec document (the YAML structure) of a random family-like network made of
    ``blocks``; with a ``target``, one whose blocks reach the target's input size and
    then make it."""
    net = _Net(rng)
    pool = [b for b, w in zip(BLOCKS, _WEIGHTS, strict=True) for _ in range(w) if b in blocks]
    style = rng.choice([b for b in pool if b != "pool"] or pool)
    act = rng.choice(ACTS)
    width = rng.uniform(8, 48)
    res = rng.randint(*RES_RANGE) if target is None else _resolution_for(rng, target.size)
    net.conv(channels(rng, width), 3, 2, act=act)
    size, stage = -(-res // 2), 0
    if target is not None:
        while size > target.size:
            width = min(MAX_CHANNELS, width * rng.uniform(1.4, 2.1), target.channels)
            net.block(rng.choice([b for b in ("separable", "inverted", "plain") if b in blocks]
                                 or ["separable"]), channels(rng, width), 2, act, size)
            size, stage = -(-size // 2), stage + 1
        _place(net, target, act)
        size, width = -(-size // target.stride), float(target.out)
    while size > 4 and stage < 6:
        stage += 1
        width = min(MAX_CHANNELS, width * rng.uniform(1.4, 2.1))
        kind = style if rng.random() < 0.7 else rng.choice(pool)
        for i in range(rng.randint(1, 3)):
            s = 2 if i == 0 and stage > 1 or (i == 0 and rng.random() < 0.3) else 1
            net.block(kind, channels(rng, width), s, act, size)
            size = -(-size // s)
    net.head()
    return {"name": f"calibration-{rng.getrandbits(32):08x}",
            "input": {"resolution": res, "channels": 3}, "classes": 1000,
            "layers": net.layers}


def _resolution_for(rng: random.Random, size: int) -> int:
    """An input resolution whose stride-2 halvings reach ``size`` (near the range)."""
    options = [size * 2 ** m for m in range(1, 7) if 64 <= size * 2 ** m <= 320]
    return rng.choice(options) if options else max(2, size * 2)


def _place(net: _Net, t: Target, act: str) -> None:
    """Blocks that produce a kernel like ``t`` (channels jittered by up to 10%)."""
    rng = net.rng
    jitter = rng.uniform(0.9, 1.1)
    cin = channels(rng, t.channels * jitter)
    out = channels(rng, t.out * jitter)
    if net.c != cin:
        net.conv(cin, 1, act=act)
    if t.kind.startswith("dw"):
        net.add(kind="dwconv", kernel=t.kernel, stride=t.stride, bn=True, act=act)
        net.conv(out, 1, act=act)
    elif t.kind.startswith(("conv", "gconv")):
        net.conv(out, t.kernel, t.stride, act=act)
    else:
        net.conv(out, 1, t.stride, act=rng.choice((act, "none")))


def network_text(doc: dict[str, Any]) -> str:
    """The document as text the spec reader takes (JSON is YAML)."""
    return json.dumps(doc)


def calibration_graph(rng: random.Random, target: Target | None = None, *,
                      max_macs: int = 1_500_000_000, tries: int = 50,
                      blocks: tuple[str, ...] = BLOCKS) -> Any:
    """A built random network of at most ``max_macs`` MACs (``mnprof.model.graph.Graph``)."""
    from ..analysis.cost import analyze
    from ..core.errors import MnprofError
    from ..core.yamlsrc import load_yaml
    from ..spec.build import build
    from ..spec.parse import parse_spec

    for _ in range(tries):
        doc = random_network(rng, target, blocks)
        try:
            graph = build(parse_spec(load_yaml(network_text(doc), file="<calibration>"),
                                     file="<calibration>"))
        except MnprofError:
            continue                # a shape the rules refuse (a map shrunk to nothing)
        if analyze(graph).totals.macs <= max_macs:
            return graph
    raise MnprofError("could not draw a calibration network within the MAC limit")
