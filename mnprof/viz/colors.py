"""One colour per layer type, the same in every chart, table and report.

Known families get fixed hues (Tableau 10, distinguishable by most colour-blind
readers): pointwise 1x1 convs blue, depthwise oranges, full convs greens, grouped
convs teals, fc purple, squeeze-and-excite red, pooling browns, merges (add, mul,
concat, ...) yellows, activations and other elementwise layers greys. Within a
family, a larger kernel is a darker shade. Any other type (an imported model's
``onnx:<Op>``, a new kind) gets a palette colour chosen by a CRC of its name: the
same in every process and on every machine, unlike Python's ``hash``.
"""

from __future__ import annotations

import re
import zlib

BLUE, ORANGE, RED, TEAL, GREEN = "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"
YELLOW, PURPLE, PINK, BROWN, GREY = "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"

# shades of a family, lightest (smallest kernel) first
_SHADES = {
    "dw": ("#f28e2b", "#d0651a", "#a9500f", "#ffbe7d"),
    "conv": ("#59a14f", "#3d7f35", "#2a5f24", "#8cd17d"),
    "gconv": ("#76b7b2", "#4b958f", "#2f7570", "#a8d8d4"),
    "pool": ("#9c755f", "#7b5a47", "#c29d85", "#5e4333"),
    "merge": ("#edc948", "#c9a62a", "#f5dd8a", "#a88a1c"),
    "elementwise": ("#bab0ac", "#8f8582", "#d7d2cf", "#6f6563"),
}
_FIXED = {"conv1x1": BLUE, "pwconv": BLUE, "fc": PURPLE, "se": RED, "softmax": "#8f8582",
          "flatten": "#d7d2cf", "dropout": "#d7d2cf"}
_POOL = {"global_avgpool": 0, "avgpool": 1, "adaptive_avgpool": 2, "maxpool": 3}
_MERGE = {"add": 0, "mul": 1, "concat": 2, "split": 3, "channel_shuffle": 3}
_ELEMENTWISE = {"relu": 0, "relu6": 0, "hswish": 1, "hsigmoid": 1, "batchnorm": 2, "lrn": 3}
_KERNEL = re.compile(r"^(dw|gconv|conv)(\d+)x(\d+)$")
# for everything else; none of them is a family's hue
_PALETTE = ("#ff9da7", "#8e6c8a", "#d4a6c8", "#499894", "#86bcb6", "#e19d9a", "#b6992d",
            "#79706e", "#d37295", "#fabfd2", "#a0cbe8", "#f1ce63")
NON_LAYER = "#79706e"       # onnxruntime nodes outside any layer (ort:*)


def _kernel_shade(family: str, k: int) -> str:
    shades = _SHADES[family]
    return shades[{3: 0, 5: 1, 7: 2}.get(k, 3)]


def color_of(type_key: str) -> str:
    """The colour of a layer type (a report's per-type key), as ``#rrggbb``."""
    if type_key in _FIXED:
        return _FIXED[type_key]
    if type_key.startswith("ort:"):
        return NON_LAYER
    m = _KERNEL.match(type_key)
    if m:
        family, k = m.group(1), int(m.group(2))
        if family == "conv" and k == 1:
            return BLUE
        if family == "gconv" and k == 1:
            return _SHADES["gconv"][3]
        return _kernel_shade(family, k)
    for table, family in ((_POOL, "pool"), (_MERGE, "merge"), (_ELEMENTWISE, "elementwise")):
        if type_key in table:
            return _SHADES[family][table[type_key]]
    return _PALETTE[zlib.crc32(type_key.encode("utf-8")) % len(_PALETTE)]


def colors_of(type_keys: list[str] | tuple[str, ...]) -> dict[str, str]:
    return {k: color_of(k) for k in type_keys}


# verdicts (check), fronts (sweep)
PASS, FAIL, WARN = "#3d7f35", "#c0392b", "#d0651a"
FRONT, OFF_FRONT = "#2a5f24", "#9aa3ab"
INK, MUTED, GRID = "#1d2329", "#5f6b76", "#e3e7eb"
