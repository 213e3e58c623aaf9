"""Drawing pieces every chart shares: axis formatters, the layer-type key, layer ticks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .colors import MUTED, color_of
from .figure import short


def compact(v: float) -> str:
    """A tick label in the reports' units, without trailing zeros: 50M, 1.5M, 800K."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= size:
            return f"{v / size:.4g}{suffix}"
    return f"{v:.4g}"


def count_axis(axis: Any, *, log: bool = False) -> None:
    """Tick labels in the reports' units (50M), not 5e7 (on a log axis: 1, 2, 5 steps)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
    if log:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=True))
    axis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))


def byte_unit(largest: float) -> tuple[float, str]:
    """The binary unit to plot bytes in: (bytes per unit, its name)."""
    for size, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if largest >= size:
            return float(size), name
    return 1.0, "B"


def plain_log_axis(axis: Any, subs: tuple[float, ...] = (1.0,)) -> None:
    """A log axis labelled 0.1, 1, 10, 100 rather than 10^-1 ... 10^2."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def type_legend(fig: Any, types: Sequence[str], **kwargs: Any) -> Any:
    """A key of the layer types' colours, in rows under the axes."""
    from matplotlib.patches import Patch
    handles = [Patch(facecolor=color_of(t), edgecolor="none", label=t) for t in types]
    return fig.legend(handles=handles, loc="outside lower center",
                      ncol=max(1, min(len(handles), 10)), handlelength=1.0,
                      handletextpad=0.4, columnspacing=1.1, fontsize=9.5, **kwargs)


def layer_ticks(ax: Any, names: Sequence[str], *, max_labels: int = 70) -> None:
    """Layer names under a per-layer axis (every k-th when there are many)."""
    n = len(names)
    step = max(1, -(-n // max_labels))
    idx = list(range(0, n, step))
    ax.set_xticks(idx)
    ax.set_xticklabels([short(names[i], 22) for i in idx], rotation=90, fontsize=8)
    ax.set_xlim(-0.7, n - 0.3)
    ax.grid(axis="x", visible=False)
    ax.tick_params(axis="x", length=2, colors=MUTED)


def present_types(type_keys: Sequence[str]) -> list[str]:
    """The distinct types in order of first appearance."""
    return list(dict.fromkeys(type_keys))


def layer_tip(i: int, name: str, type_key: str, parts: Sequence[str]) -> str:
    return f"#{i} {name} · {type_key}" + "".join(f"\n{p}" for p in parts if p)
