"""Strict value checks and the bounds mnprof works within.

One place says what "an integer" is (an ``int`` that is not a ``bool``), what a
usable number is (finite), and how large a model, a value or a file may be.
Past a bound, mnprof stops with a one-line error naming the bound, instead of
running out of time, memory or float range. The README lists these bounds.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import MnprofError

# Widths, depths, resolutions and sizes: far beyond any real network, far below
# what would overflow a float or take minutes.
MAX_ALPHA = 10.0             # width multiplier
MAX_DEPTH = 10.0             # depth multiplier (repeats scale as ceil(n * depth))
MAX_RESOLUTION = 16384       # input height and width
MAX_CHANNELS = 1 << 20       # channels (or features) of one layer
MAX_KERNEL = 1024            # kernel, stride, dilation and padding of one layer
MAX_CLASSES = 1 << 24
MAX_BATCH = 4096             # images in one run (bench, export, an imported file's batch)
MAX_REPEAT = 10_000          # one entry's repeat
MAX_LAYERS = 20_000          # layers of a built graph
MAX_BLOCKS = 1_000           # block definitions in one spec
MAX_NESTING = 32             # blocks inside blocks
MAX_INT = 1 << 62            # any integer a spec or an expression may hold
MAX_TENSOR_ELEMENTS = 1 << 40   # elements of one tensor of an imported model, per image
MAX_YAML_DEPTH = 64          # nested mappings and lists in a YAML file
MAX_SWEEP_POINTS = 100_000   # (alpha, resolution) points of one sweep: 10x the 100 x 100 grid


def is_int(value: Any) -> bool:
    """An integer that is not a bool (YAML's ``true`` is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) if isinstance(value, float) else abs(value) <= MAX_INT


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` if it is an integer in [low, high]; a one-line error otherwise."""
    if not is_int(value) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise MnprofError(f"{name} must be an integer {bound}, got {value!r:.60}")
    return value


def check_multiplier(name: str, value: Any, high: float) -> float:
    """A width or depth multiplier: a finite number in (0, high]."""
    if not is_number(value) or not 0 < value <= high:
        raise MnprofError(f"{name} must be a number > 0 and <= {high:g}, got {value!r:.60}")
    return float(value)


def check_alpha(value: Any) -> float:
    """The width multiplier, checked the same way for the library and the CLI."""
    return check_multiplier("alpha", value, MAX_ALPHA)


def check_depth(value: Any) -> float:
    return check_multiplier("depth", value, MAX_DEPTH)


def check_resolution(value: Any) -> int:
    return check_int("resolution", value, 1, MAX_RESOLUTION)


def check_grid(widths: int, resolutions: int) -> None:
    """A sweep's size, before any point is built: at least one of each, and at most
    ``MAX_SWEEP_POINTS`` points."""
    if widths < 1 or resolutions < 1:
        raise MnprofError("a sweep needs at least one alpha and one resolution")
    if widths * resolutions > MAX_SWEEP_POINTS:
        raise MnprofError(f"a sweep of {widths:,} alphas x {resolutions:,} resolutions is "
                          f"{widths * resolutions:,} points; at most {MAX_SWEEP_POINTS:,}")
