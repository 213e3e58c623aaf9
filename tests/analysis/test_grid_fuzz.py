"""Fuzzing the grid path (``mnprof.analysis.grid``) against building every point.

The claim under test: for any spec, widths and resolutions, ``grid_rows`` gives rows
equal (every field of the totals, and the peak of live bytes) to analysing
``build(spec, alpha, resolution)`` at each point, width-major, or raises the same
error as the first point (in that order) the builder refuses.

Specs are generated at random from a seed (``random_case``): every layer kind, most of
their options (rectangular kernels and strides, dilation, explicit and ``same``
padding, ceil mode, count_include_pad, output padding, groups, ``scale``, ``rounding``),
blocks with parameters, ``when`` conditions on ``cin``, ``ch()`` and ``alpha``,
``repeat`` (written and computed), branches joined by add, concat and mul, heads through
flatten and fc, and now and then an expression that reads the resolution. Resolutions
are small, odd and unsorted, so that layers collapse or branches disagree at some
points only. The seeds are fixed; a failure prints the spec to reproduce it.

Run longer from the command line: ``python -m tests.analysis.test_grid_fuzz N [first seed]
[big]`` (N cases; ``big``: channel counts and resolutions near the limits).
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
from typing import Any

import pytest

from mnprof.analysis.cost import analyze
from mnprof.analysis.grid import Spatial, grid_rows
from mnprof.core.errors import MnprofError
from mnprof.core.yamlsrc import load_yaml
from mnprof.spec.build import build
from mnprof.spec.parse import parse_spec

ACTS = ["none", "relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu", "gelu"]
ALPHAS = [0.25, 0.35, 0.5, 0.6, 0.75, 1.0, 1.3, 1.5, 2.0]


# ---------------------------------------------------------------------------
# The generator


class _Gen:
    """One random spec; ``params`` are the names the block being written defines."""

    def __init__(self, rng: random.Random, big: bool = False) -> None:
        self.rng = rng
        self.big = big                      # channel counts up to MAX_CHANNELS
        self.n = 0
        self.params: list[str] = []         # the current block's parameters
        self.res_reads = rng.random() < 0.08  # let some expressions read the resolution

    # -- values -----------------------------------------------------------------

    def p(self, prob: float) -> bool:
        return self.rng.random() < prob

    def choice(self, seq: list[Any]) -> Any:
        return self.rng.choice(seq)

    def large(self, factors: list[int]) -> int:
        return self.choice(factors) if self.big else 1

    def name(self, stem: str = "l") -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def pair(self, lo: int, hi: int, square: float = 0.6) -> Any:
        a = self.rng.randint(lo, hi)
        if self.p(square):
            return a
        return [a, self.rng.randint(lo, hi)]

    def channels(self) -> tuple[Any, dict[str, Any]]:
        """An ``out`` value, and the ``scale``/``rounding`` that go with it."""
        r = self.rng.random()
        extra: dict[str, Any] = {}
        if r < 0.35:
            out: Any = self.rng.randint(1, 24) * self.large([1, 4096, 43690])
        elif r < 0.5:
            out = self.choice(["$cin", "$(cin * 2)", "$(max(1, cin // 2))",
                               "$(make_divisible(cin * 1.5, 8))"])
            extra["scale"] = False
        elif r < 0.6:
            out = self.choice(["$(ch(16))", "$(ch(8) + 3)", "$(int(12 * alpha) + 1)"])
            extra["scale"] = False
        elif r < 0.7 and self.params:
            out = "$" + self.choice(self.params)
        elif r < 0.75 and self.res_reads:
            out = self.choice(["$(min(hin, 20))", "$(max(1, resolution // 4))"])
        else:
            out = self.rng.randint(4, 40) * self.large([1, 4096, 26214])
        if "scale" not in extra and self.p(0.3):
            extra["scale"] = self.choice([True, False, "no_shrink"])
        if self.p(0.25):
            extra["rounding"] = self.choice(["truncate", "multiple_of_8", None])
        return out, extra

    def padding(self, pool: bool = False, kernel: Any = 3) -> Any:
        r = self.rng.random()
        if r < 0.3:
            return "same"
        if r < 0.45:
            return "valid"
        k = min(kernel) if isinstance(kernel, list) else kernel
        hi = k // 2 if pool and self.p(0.9) else max(k // 2 + 1, 1)
        if r < 0.7:
            return self.rng.randint(0, hi)
        if r < 0.85:
            return [self.rng.randint(0, hi), self.rng.randint(0, hi)]
        return [self.rng.randint(0, hi) for _ in range(4)]

    def post(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.p(0.3):
            d["bias"] = self.p(0.5)
        if self.p(0.5):
            d["bn"] = True
            if self.p(0.1):
                d["bn_eps"] = 0.001
        if self.p(0.6):
            d["act"] = self.choice(ACTS)
        return d

    def when(self) -> Any:
        opts = ["$(alpha > 0.6)", "$(alpha <= 1)", "$(cin >= 4)", "$(cin % 2 == 0)",
                "$(ch(16) > 8)", "$(ch(10) != cin)", True, False, "$(depth >= 1)"]
        if self.params:
            opts.append(f"$({self.choice(self.params)} > 4)")
        if self.res_reads:
            opts += ["$(hin > 10)", "$(resolution % 2 == 1)"]
        return self.choice(opts)

    def repeat(self) -> Any:
        return self.choice([1, 2, 3, "$(2 if alpha > 1 else 1)", "$(1 + int(alpha))",
                            "$(max(1, min(cin // 8, 4)))" if self.big else "$(max(1, cin // 8))"])

    # -- layers on a map ----------------------------------------------------------

    def conv(self) -> dict[str, Any]:
        kernel = self.pair(1, 5)
        d: dict[str, Any] = {"kind": "conv", "kernel": kernel}
        out, extra = self.channels()
        d["out"] = out
        d.update(extra)
        if self.p(0.5):
            d["stride"] = self.pair(1, 3, 0.7)
        if self.p(0.3):
            d["dilation"] = self.pair(1, 3, 0.7)
        if self.p(0.6):
            d["padding"] = self.padding(kernel=kernel)
        return self.post(d)

    def pwconv(self) -> dict[str, Any]:
        out, extra = self.channels()
        d = {"kind": "pwconv", "out": out, **extra}
        if self.p(0.3):
            d["stride"] = self.pair(1, 2, 0.7)
        return self.post(d)

    def dwconv(self) -> dict[str, Any]:
        kernel = self.pair(1, 5)
        d: dict[str, Any] = {"kind": "dwconv", "kernel": kernel}
        if self.p(0.4):
            d["stride"] = self.pair(1, 3, 0.7)
        if self.p(0.2):
            d["multiplier"] = self.rng.randint(1, 3)
        if self.p(0.3):
            d["dilation"] = self.pair(1, 3, 0.7)
        if self.p(0.6):
            d["padding"] = self.padding(kernel=kernel)
        return self.post(d)

    def deconv(self) -> dict[str, Any]:
        kernel = self.pair(1, 4)
        out, extra = self.channels()
        d: dict[str, Any] = {"kind": "deconv", "kernel": kernel, "out": out, **extra}
        stride = self.pair(1, 3, 0.7)
        d["stride"] = stride
        if self.p(0.3):
            d["dilation"] = self.pair(1, 2, 0.7)
        if self.p(0.5):
            d["padding"] = self.choice(["valid", 0, 1, [1, 0], [0, 1, 1, 0], 2])
        if self.p(0.4):
            s = min(stride) if isinstance(stride, list) else stride
            d["output_padding"] = self.rng.randint(0, max(s - 1, 0))
        return self.post(d)

    def pool(self) -> dict[str, Any]:
        kind = self.choice(["maxpool", "avgpool"])
        kernel = self.pair(1, 4)
        d: dict[str, Any] = {"kind": kind, "kernel": kernel}
        if self.p(0.6):
            d["stride"] = self.choice([None, 1, 2, 3, [1, 2], [2, 1]])
        if self.p(0.6):
            d["padding"] = self.padding(pool=True, kernel=kernel)
        if self.p(0.4):
            d["ceil_mode"] = self.p(0.7)
        if kind == "avgpool" and self.p(0.4):
            d["count_include_pad"] = self.p(0.5)
        return d

    def same_size(self) -> dict[str, Any]:
        """A layer that keeps H, W and the channels (for branches that join)."""
        r = self.rng.random()
        if r < 0.2:
            return {"kind": self.choice(ACTS[1:])}
        if r < 0.3:
            return {"kind": "batchnorm"}
        if r < 0.4:
            return {"kind": "dropout", "p": self.choice([0.0, 0.1, 0.5])}
        if r < 0.5:
            return {"kind": "lrn", "size": self.rng.randint(1, 5), "alpha": 0.0001,
                    "beta": 0.75, "k": 2.0}
        if r < 0.6:
            return {"kind": "channel_shuffle", "groups": self.choice([1, 2])}
        if r < 0.75:
            return self.post({"kind": "dwconv", "kernel": self.choice([1, 3, 5, [1, 3]]),
                              "padding": "same"})
        if r < 0.85:
            return self.post({"kind": "conv", "kernel": self.choice([3, [3, 1], 1]),
                              "out": "$cin", "scale": False, "padding": "same"})
        if r < 0.93:
            return {"kind": self.choice(["maxpool", "avgpool"]), "kernel": 3, "stride": 1,
                    "padding": self.choice([1, "same"])}
        return {"kind": "softmax"}

    def map_layer(self) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.22:
            return self.conv()
        if r < 0.32:
            return self.pwconv()
        if r < 0.44:
            return self.dwconv()
        if r < 0.5:
            return self.deconv()
        if r < 0.64:
            return self.pool()
        if r < 0.66:
            return {"kind": "split", "parts": self.choice([2, 2, 3]), "index": 1}
        if r < 0.7:
            return {"kind": "adaptive_avgpool", "output": self.pair(1, 4)}
        return self.same_size()

    # -- blocks -----------------------------------------------------------------

    def block_residual(self) -> dict[str, Any]:
        self.params = ["k", "e"]
        layers: list[dict[str, Any]] = []
        if self.p(0.6):
            layers.append(self.post({"name": "expand", "kind": "pwconv", "out": "$(cin * e)",
                                     "scale": False, "when": "$(e > 1)"}))
        layers.append(self.post({"name": "dw", "kind": "dwconv", "kernel": "$k",
                                 "padding": "same"}))
        for _ in range(self.rng.randint(0, 2)):
            layers.append(self.same_size())
        if self.p(0.3):
            layers.append(self.map_layer())     # may break the residual: an error then
        layers.append({"name": "project", "kind": "pwconv", "out": "$cin", "scale": False,
                       "bn": True})
        add: dict[str, Any] = {"name": "add", "kind": "add", "inputs": ["in", "project"]}
        if self.p(0.4):
            add["when"] = self.choice(["$(cin > 2)", "$(e != 2)", "$(alpha >= 0.5)"])
        layers.append(add)
        return {"params": {"k": 3, "e": 1}, "layers": layers}

    def block_se(self) -> dict[str, Any]:
        self.params = []
        squeeze = self.choice(["global_avgpool", "adaptive1", "adaptive_same"])
        first: dict[str, Any]
        if squeeze == "global_avgpool":
            first = {"name": "pool", "kind": "global_avgpool"}
        elif squeeze == "adaptive1":
            first = {"name": "pool", "kind": "adaptive_avgpool", "output": 1}
        else:   # a gate as large as the map: 3x3 stride-1 same pool
            first = {"name": "pool", "kind": "avgpool", "kernel": 3, "stride": 1,
                     "padding": 1, "count_include_pad": self.p(0.5)}
        return {"type": "se", "layers": [
            first,
            {"name": "fc1", "kind": "pwconv", "out": "$(max(1, cin // 4))", "scale": False,
             "bias": True, "act": "relu"},
            {"name": "fc2", "kind": "pwconv", "out": "$cin", "scale": False, "bias": True,
             "act": self.choice(["hsigmoid", "sigmoid"])},
            {"name": "scale", "kind": "mul", "inputs": ["in", "fc2"]},
        ]}

    def block_branches(self) -> dict[str, Any]:
        """Branches from ``in`` at one stride, concatenated (or added): with ``same``
        padding they agree at every size; other paddings agree at some sizes only."""
        self.params = ["s", "out"]
        layers: list[dict[str, Any]] = []
        names = []
        for i in range(self.rng.randint(2, 4)):
            r = self.rng.random()
            b: dict[str, Any]
            if r < 0.4:
                b = {"kind": "conv", "kernel": self.choice([1, 3, 5, [1, 3], [3, 1]]),
                     "stride": "$s", "out": "$out", "padding": self.choice(
                         ["same", "same", 1, 0, [1, 0], [0, 1, 1, 0]])}
                b = self.post(b)
            elif r < 0.7:
                b = {"kind": self.choice(["maxpool", "avgpool"]), "kernel": self.choice([1, 2, 3]),
                     "stride": "$s", "padding": self.choice(["same", 0, 1]),
                     "ceil_mode": self.p(0.4)}
            elif r < 0.85:
                b = self.post({"kind": "dwconv", "kernel": 3, "stride": "$s",
                               "padding": self.choice(["same", 1, "valid"]),
                               "dilation": self.choice([1, 2])})
            else:
                b = {"kind": "pwconv", "stride": "$s", "out": "$out"}
            b["name"] = f"b{i}"
            b["input"] = "in"
            layers.append(b)
            names.append(f"b{i}")
            if self.p(0.3):
                layers.append({**self.same_size(), "name": f"b{i}x"})
                names[-1] = f"b{i}x"
        join = self.choice(["concat", "concat", "add"])
        layers.append({"name": "join", "kind": join, "inputs": names})
        if self.p(0.4):
            layers.append({"name": "shuffle", "kind": "channel_shuffle",
                           "groups": self.choice([1, 2])})
        return {"params": {"s": 1, "out": 8}, "layers": layers}

    def block_shuffle(self) -> dict[str, Any]:
        self.params = []
        return {"layers": [
            {"name": "pw0", "kind": "pwconv", "out": "$(2 * ch(8))", "scale": False},
            {"name": "x1", "kind": "split", "parts": 2, "index": 0},
            {"name": "x2", "kind": "split", "parts": 2, "index": 1, "input": "pw0"},
            {"name": "pw1", "kind": "pwconv", "out": "$(ch(8))", "scale": False,
             "bn": True, "act": "relu"},
            {"name": "dw", "kind": "dwconv", "kernel": 3, "padding": 1, "bn": True},
            {"name": "pw2", "kind": "pwconv", "out": "$(ch(8))", "scale": False,
             "bn": True, "act": "relu"},
            {"name": "cat", "kind": "concat", "inputs": ["x1", "pw2"]},
            {"name": "shuffle", "kind": "channel_shuffle", "groups": 2},
        ]}

    def block_random(self) -> dict[str, Any]:
        self.params = ["out", "s"]
        layers = []
        for _ in range(self.rng.randint(1, 4)):
            d = self.map_layer()
            if d["kind"] in ("conv", "dwconv", "pwconv") and self.p(0.5):
                d["stride"] = "$s"
            if self.p(0.2):
                d["when"] = self.when()
            layers.append(d)
        return {"params": {"out": 16, "s": 1}, "layers": layers}

    def block_grouped(self) -> dict[str, Any]:
        """Grouped conv and deconv where ``cin`` is their input's channels."""
        self.params = ["g", "m"]
        first: dict[str, Any]
        if self.p(0.7):
            first = self.conv()
        else:
            first = self.deconv()
        first.update(name="g", groups="$(cin if g == 0 else g if cin % g == 0 else 1)",
                     out="$(cin * m)", scale=False)
        layers = [first]
        if self.p(0.5):
            layers.append({"name": "shuffle", "kind": "channel_shuffle",
                           "groups": "$(g if g > 0 and cin % g == 0 else 1)"})
        if self.p(0.5):
            layers.append(self.same_size())
        return {"params": {"g": 1, "m": 1}, "layers": layers}

    def block_nested(self, inner: list[str]) -> dict[str, Any]:
        self.params = ["n"]
        layers = [{"kind": "conv", "kernel": 3, "out": "$(ch(8))", "scale": False,
                   "stride": self.choice([1, 2])}]
        use: dict[str, Any] = {"block": self.choice(inner), "repeat": "$n"}
        layers.append(use)
        return {"params": {"n": 1}, "layers": layers}

    # -- the spec -----------------------------------------------------------------

    def spec(self) -> str:
        rng = self.rng
        blocks: dict[str, dict[str, Any]] = {}
        makers = {"res": self.block_residual, "se": self.block_se,
                  "br": self.block_branches, "shuf": self.block_shuffle,
                  "rnd": self.block_random, "grp": self.block_grouped}
        for name in rng.sample(sorted(makers), rng.randint(0, 4)):
            blocks[name] = makers[name]()
        if blocks and self.p(0.3):
            blocks["nest"] = self.block_nested(sorted(blocks))
        if self.p(0.15):    # used on a vector: cin is its length, read from the resolution
            blocks["vec"] = {"layers": [
                {"name": "fc", "kind": "fc", "out": "$(max(1, cin // 16))", "scale": False},
                {"name": "act", "kind": self.choice(ACTS[1:])}]}
        self.vec_block = "vec" in blocks
        self.params = []

        top: dict[str, Any] = {"name": "fuzz",
                               "input": {"resolution": 32,
                                         "channels": self.choice([1, 2, 3, 4, 6, 8])
                                         * self.large([1, 1024, 131072])}}
        if self.p(0.5):
            top["rounding"] = self.choice(["truncate", "multiple_of_8"])
        if self.p(0.5):
            top["classes"] = rng.randint(1, 20)
        if self.p(0.15):
            top["depth"] = self.choice([0.5, 1.5, 2.0])

        layers: list[dict[str, Any]] = []
        maps: list[str] = []                 # names of earlier top-level maps
        stem = self.conv() if self.p(0.8) else self.map_layer()
        stem["name"] = self.name("stem")
        layers.append(stem)
        maps.append(stem["name"])
        for _ in range(rng.randint(0, 7)):
            r = rng.random()
            d: dict[str, Any]
            if r < 0.4 and blocks:
                bname = self.choice(sorted(blocks))
                d = {"block": bname}
                for p, default in blocks[bname].get("params", {}).items():
                    if self.p(0.6):
                        d[p] = self.block_arg(p, default)
            elif r < 0.44 and len(maps) >= 2:
                a = self.choice(maps[:-1])
                d = {"kind": self.choice(["concat", "add", "mul", "concat"]),
                     "inputs": [a, maps[-1]]}
            else:
                d = self.map_layer()
                if self.p(0.1):
                    d["input"] = self.choice(maps + ["in"])
            if self.p(0.2):
                d["when"] = self.when()
            if self.p(0.15):            # with a stride too (a builder bug, fixed)
                d["repeat"] = self.repeat()
            if self.p(0.1):
                d["type"] = "custom"
            d["name"] = self.name()
            layers.append(d)
            if d.get("when") is not False:
                maps.append(d["name"])
        layers += self.head(maps)
        top["layers"] = layers
        if blocks:
            top["blocks"] = blocks
        return _to_yaml(top)

    def block_arg(self, param: str, default: Any) -> Any:
        if param == "s":
            return self.choice([1, 2, [1, 2], "$(2 if alpha > 1 else 1)"])
        if param == "k":
            return self.choice([1, 3, 5, [3, 1]])
        if param == "e":
            return self.choice([1, 2, 3, "$(2 if cin < 8 else 1)"])
        if param == "g":
            return self.choice([0, 1, 2, 3, "$(2 if alpha > 1 else 0)"])
        if param == "m":
            return self.choice([1, 2, 3])
        if param == "n":
            return self.choice([1, 2, "$(1 + int(alpha))"])
        if param == "out":
            opts = [4, 8, 12, 16, "$(ch(16))", "$cin", "$(make_divisible(ch(12), 4))"]
            if self.res_reads:
                opts.append("$(min(hin, 12))")
            return self.choice(opts)
        return default

    def head(self, maps: list[str]) -> list[dict[str, Any]]:
        r = self.rng.random()
        out: list[dict[str, Any]] = []
        if r < 0.2:
            return out
        if r < 0.45:
            out.append({"kind": "global_avgpool"})
        elif r < 0.6:
            out.append({"kind": "adaptive_avgpool", "output": self.pair(1, 3)})
        elif r < 0.7:
            out.append({"kind": "avgpool", "kernel": self.choice([2, 3, 7]),
                        "ceil_mode": self.p(0.5)})
        flat = self.name("flat")
        if self.p(0.6) or r >= 0.7:
            out.append({"kind": "flatten", "name": flat})
            if self.p(0.3):     # layers of one kind, attributes and input: shared counts
                out.append({"kind": "fc", "input": flat, "scale": False, "name": self.name(),
                            "out": self.rng.randint(1, 30) * (1 << 15 if self.big else 1),
                            "repeat": self.choice(["$(1 if alpha <= 1 else 40)", 2,
                                                   "$(4 if alpha < 1 else 1)"])})
                out.append({"kind": "relu", "input": flat, "name": self.name()})
        if self.vec_block and out and out[-1]["kind"] == "flatten" and self.p(0.7):
            out.append({"block": "vec", "name": self.name("v")})
        fc1 = self.name("fc")
        fc: dict[str, Any] = {"name": fc1, "kind": "fc"}
        if self.p(0.5):
            fc["out"], extra = self.channels()
            fc.update({k: v for k, v in extra.items() if k != "rounding" or self.p(0.5)})
        if self.p(0.3):
            fc["bias"] = self.p(0.5)
        if self.p(0.3):
            fc["act"] = self.choice(ACTS)
        out.append(fc)
        for _ in range(self.rng.randint(0, 3)):
            r = self.rng.random()
            if r < 0.2:
                out.append({"kind": "dropout", "p": 0.2})
            elif r < 0.35:
                out.append({"kind": self.choice(ACTS[1:])})
            elif r < 0.45:
                out.append({"kind": "batchnorm"})
            elif r < 0.65:
                out.append({"kind": "fc", "out": self.rng.randint(1, 30),
                            "scale": self.choice([True, False, "no_shrink"])})
            elif r < 0.75:
                out.append({"kind": "add", "inputs": [fc1, fc1]})
            elif r < 0.85:
                out.append({"kind": "concat", "inputs": [fc1, fc1]})
            elif r < 0.9:
                out.append({"kind": "split", "parts": 2, "index": 0})
            else:
                out.append({"kind": "channel_shuffle", "groups": self.choice([1, 2])})
            out[-1]["name"] = self.name("h")
        if self.p(0.5):
            out.append({"kind": "softmax"})
        for d in out:
            d.setdefault("name", self.name("h"))
        return out


def _to_yaml(top: dict[str, Any]) -> str:
    """YAML text, one flow mapping per layer (JSON values are YAML)."""
    lines = []
    for key in ("name", "input", "classes", "rounding", "depth"):
        if key in top:
            lines.append(f"{key}: {json.dumps(top[key])}")
    if "blocks" in top:
        lines.append("blocks:")
        for name, b in top["blocks"].items():
            lines.append(f"  {name}:")
            for key in ("type", "params"):
                if key in b:
                    lines.append(f"    {key}: {json.dumps(b[key])}")
            lines.append("    layers:")
            lines += [f"      - {json.dumps(d)}" for d in b["layers"]]
    lines.append("layers:")
    lines += [f"  - {json.dumps(d)}" for d in top["layers"]]
    return "\n".join(lines) + "\n"


def random_case(seed: int, big: bool = False) -> tuple[str, list[float], list[int]]:
    """(spec YAML, alphas, resolutions) for ``seed``; ``big``: counts beyond int64."""
    rng = random.Random(seed)
    text = _Gen(rng, big).spec()
    alphas = sorted(rng.sample(ALPHAS, rng.randint(1, 3)), key=lambda _: rng.random())
    first = rng.choice([8, 9, 15, 16, 17, 23, 31, 32, 33, 48, 63])
    res = [first] + [rng.choice([rng.randint(1, 12), rng.randint(5, 70), first + 1, first])
                     for _ in range(rng.randint(1, 4))]
    if big:
        scale = rng.choice([1, 16, 128, 256])
        res = [min(r * scale, 16384) for r in res]
    return text, alphas, res


# ---------------------------------------------------------------------------
# The comparison


def parse(text: str):
    return parse_spec(load_yaml(text, file="f.yaml"), file="f.yaml")


def per_point(spec, alphas, res):
    return [(c.alpha, c.resolution, c.totals, c.peak_activation_bytes)
            for c in (analyze(build(spec, a, r)) for a in alphas for r in res)]


def grid(spec, alphas, res):
    widths = [build(spec, a, res[0]) for a in alphas]
    rows, slow = grid_rows(lambda a, r: build(spec, a, r), widths, Spatial(res))
    return [(x.alpha, x.resolution, x.totals, x.peak_activation_bytes) for x in rows], slow


def _outcome(fn, *args):
    try:
        return fn(*args), None
    except Exception as exc:     # noqa: BLE001 - any exception: both paths must agree
        return None, f"{type(exc).__name__}: {exc}"


def check_case(text: str, alphas: list[float], res: list[int]) -> str:
    """Compare both paths on one case; return what happened: ``invalid`` (the spec does
    not parse), ``widths`` (a width does not build at the first resolution), ``error``
    (both raise the same), ``fast`` (no width point by point), ``mixed`` or ``slow``."""
    spec, err = _outcome(parse, text)
    if err:
        return "invalid"
    want, want_err = _outcome(per_point, spec, alphas, res)
    assert want_err is None or want_err.startswith("SpecError"), want_err
    try:
        widths = [build(spec, a, res[0]) for a in alphas]
    except MnprofError:
        assert want_err is not None, "a width fails at the first resolution, every point built"
        return "widths"
    try:
        got_rows, slow = grid_rows(lambda a, r: build(spec, a, r), widths, Spatial(res))
    except Exception as exc:     # noqa: BLE001
        got_err = f"{type(exc).__name__}: {exc}"
        assert got_err == want_err, f"grid raised {got_err}\nper point: {want_err}"
        return "error"
    got = [(x.alpha, x.resolution, x.totals, x.peak_activation_bytes) for x in got_rows]
    assert want_err is None, f"grid gave rows, per point raised {want_err}"
    for g, w in zip(got, want, strict=True):
        assert g == w, f"grid {g}\nper point {w}"
        assert all(type(v) is int for v in dataclasses.astuple(g[2])), g   # not numpy
        assert type(g[3]) is int
    return "fast" if slow == 0 else "slow" if slow == len(alphas) else "mixed"


SEEDS = range(500)
BIG_SEEDS = range(1_000_000, 1_000_080)     # channels and resolutions near the limits
_SEEN: dict[tuple[int, bool], str] = {}


def _run(seed: int, big: bool) -> str:
    if (seed, big) not in _SEEN:
        text, alphas, res = random_case(seed, big)
        try:
            _SEEN[seed, big] = check_case(text, alphas, res)
        except AssertionError as exc:
            _SEEN[seed, big] = "FAIL"
            raise AssertionError(f"seed {seed}, big {big}, alphas {alphas}, resolutions "
                                 f"{res}\n{text}\n{exc}") from None
    return _SEEN[seed, big]


@pytest.mark.parametrize("seed", SEEDS)
def test_grid_equals_point_by_point_on_random_specs(seed):
    _run(seed, False)


@pytest.mark.parametrize("seed", BIG_SEEDS)
def test_grid_equals_point_by_point_on_random_specs_with_large_counts(seed):
    _run(seed, True)


def test_the_fuzz_mostly_takes_the_grid_path():
    """Not just the fallback: a good share of the cases is costed without building any
    point beyond the first resolution, some fall back, and some fail as the builder
    does at a point past the first resolution."""
    seen: dict[str, int] = {}
    for seed in SEEDS:
        kind = _run(seed, False)
        seen[kind] = seen.get(kind, 0) + 1
    assert seen.get("fast", 0) >= len(SEEDS) // 3, seen
    assert seen.get("slow", 0) + seen.get("mixed", 0) >= len(SEEDS) // 100, seen
    assert seen.get("error", 0) >= len(SEEDS) // 30, seen
    assert seen.get("invalid", 0) <= len(SEEDS) // 10, seen


# ---------------------------------------------------------------------------
# What the fuzz found (each a bug, fixed)


def test_counts_shared_between_widths_of_different_layer_counts_stay_exact():
    """Eight fcs of one input at alpha 2, one at alpha 1: the alpha-1 width (2 layers'
    int64 bound) stores each fc's counts as int64, the alpha-2 width (9 layers) reuses
    them, and the sum of bytes wraps past 2^63."""
    spec = parse("""
input: {resolution: 560, channels: 1048576}
layers:
  - {kind: fc, out: 1048576, scale: false, input: in, repeat: "$(1 if alpha <= 1 else 8)"}
""")
    alphas, res = [1.0, 2.0], [560, 561]
    got, slow = grid(spec, alphas, res)
    assert slow == 0
    assert got == per_point(spec, alphas, res)


def test_a_large_sweep_names_the_first_point_the_builder_refuses():
    """Width-major, the first point refused is (alpha 1, resolution 4): conv2 collapses.
    The grid sweep (64 points or more) builds alpha 0.1 at 32 first, and names that."""
    spec = parse("""
input: {resolution: 32, channels: 3}
layers:
  - {kind: conv, kernel: 3, out: 4, stride: 2, padding: 0}
  - {kind: conv, kernel: 3, out: 4, stride: 2, padding: 0}
""")
    from mnprof.analysis.grid import sweep_rows
    alphas, res = [1.0] * 15 + [0.1], [32, 16, 8, 4]
    with pytest.raises(MnprofError) as alone:
        per_point(spec, alphas, res)
    with pytest.raises(MnprofError) as swept:
        sweep_rows(lambda a, r: build(spec, a, r), alphas, res)
    assert "collapses" in str(alone.value)
    assert str(swept.value) == str(alone.value)


def test_a_repeated_layer_with_a_stride_builds():
    """The stride applies to the first repetition: the second is stride 1 (it was a bare
    1 where the rules index a pair, a TypeError)."""
    spec = parse("""
input: {resolution: 16, channels: 3}
layers:
  - {kind: conv, kernel: 3, out: 4, stride: 2, repeat: 2}
  - {kind: maxpool, kernel: 2, stride: 2, repeat: 2}
""")
    # by hand: 16 -> 8 (pad 1, stride 2) -> 8 (stride 1); pool 8 -> 4 -> 3 (2x2, stride 1)
    assert [n.output_shape for n in build(spec, 1.0, 16).nodes] == \
        [(4, 8, 8), (4, 8, 8), (4, 4, 4), (4, 3, 3)]


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 2000
    start = int(argv[1]) if len(argv) > 1 else 10_000
    big = len(argv) > 2 and argv[2] == "big"
    seen: dict[str, int] = {}
    t = time.perf_counter()
    for seed in range(start, start + n):
        text, alphas, res = random_case(seed, big)
        try:
            kind = check_case(text, alphas, res)
        except AssertionError as exc:
            print(f"FAIL seed {seed} alphas {alphas} res {res}\n{text}\n{exc}\n", flush=True)
            kind = "FAIL"
        seen[kind] = seen.get(kind, 0) + 1
    print(n, "cases", seen, f"{time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
