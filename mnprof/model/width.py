"""Channel counts under the width multiplier alpha: the two rounding rules.

- ``truncate``: ``int(c * alpha)``, as the MobileNetV1 reference code does.
- ``multiple_of_8``: the V2/V3 reference code's ``_make_divisible(c * alpha, 8)``:
  the nearest multiple of 8, but never below 90% of the exact value.

Both use the same float arithmetic as the reference implementations, so mnprof
builds exactly the channel counts they build (``int(0.29 * 100)`` is 28 there too).
"""

from __future__ import annotations

from enum import Enum


class Rounding(str, Enum):
    TRUNCATE = "truncate"
    MULTIPLE_OF_8 = "multiple_of_8"


class Scale(str, Enum):
    """Whether a layer's channel count follows alpha."""

    YES = "yes"              # c -> round(c * alpha)
    NO = "no"                # c as written (input channels, class count, ...)
    NO_SHRINK = "no_shrink"  # c -> round(c * max(alpha, 1)): V2's last 1x1 conv


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``_make_divisible`` of the V2/V3 reference implementations, verbatim in effect."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:       # do not round down by more than 10%
        new_value += divisor
    return new_value


def scale_channels(channels: int, alpha: float, rounding: Rounding, scale: Scale) -> int:
    """Channel count a layer declared with ``channels`` has at width ``alpha``."""
    if scale is Scale.NO:
        return channels
    factor = max(alpha, 1.0) if scale is Scale.NO_SHRINK else alpha
    if rounding is Rounding.TRUNCATE:
        return int(channels * factor)
    return make_divisible(channels * factor, 8)
