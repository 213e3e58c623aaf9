"""``--plot FILE.svg|FILE.png``: the command's main chart, alone, for a paper or a slide.

The chart is the page's main one (``mnprof.viz.registry``): Table 2 for ``cost``,
the roofline for ``bench``, the Pareto front for ``sweep``. The format follows the
file's extension; the file is written atomically. A bad extension or an unwritable
path is a one-line error before any work (``check_plot``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..core.errors import MnprofError
from ..core.files import atomic_write, check_target

FORMATS = ("svg", "png")


def plot_format(path: str) -> str:
    """``svg`` or ``png`` from the file's extension; a one-line error otherwise."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        got = f"'.{ext}'" if ext else "no extension"
        raise MnprofError(f"{path}: --plot writes a .svg or .png file (got {got})")
    return ext


def check_plot(path: str) -> None:
    """Refuse a bad ``--plot`` path before the work starts."""
    plot_format(path)
    check_target(path)


def save_plot(report: Any, path: str, *, protect: Sequence[str] = ()) -> None:
    """Draw ``report``'s main chart into ``path`` (.svg or .png), atomically."""
    from .figure import to_bytes
    from .registry import main_figure
    fmt = plot_format(path)
    atomic_write(path, to_bytes(main_figure(report), fmt), protect=protect)
