"""Charts of a sweep: the Pareto front of the grid, and the grid as heat maps.

The front needs one axis where more is better, and a width x resolution grid has
no accuracy: MACs stand in for it, as the MobileNet paper's Figure 4 shows
accuracy rising log-linearly with MACs across exactly this grid. So the y axis is
MACs (more is better) and the x axis a cost, fewer being better: the measured (or
predicted) median latency when the sweep has one, else the parameters. A point is
on the front when no other point has at most its cost and at least its MACs
(``mnprof.viz.pareto``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.report import SweepReport
from ..core.units import human
from .colors import FRONT, INK, MUTED, OFF_FRONT
from .draw import compact, count_axis, plain_log_axis
from .figure import figure
from .labels import Labeller
from .pareto import HIGHER, LOWER, front


@dataclass(frozen=True)
class Axes:
    """The front's two axes over the sweep's rows (rows without a value are left out)."""

    rows: tuple[int, ...]              # indices into the report's rows
    x: tuple[float, ...]
    y: tuple[float, ...]
    x_label: str
    y_label: str
    x_key: str                         # the JSON row field of x
    on_front: tuple[int, ...]          # indices into ``rows``


LATENCY_KEYS = ("latency_ms", "predicted_latency_ms")


def latencies(r: Any) -> list[float | None]:
    """Each row's latency in ms (None: not measured): the median of a measured row, the
    figure of a predicted one."""
    lat = list(r.latencies) + [None] * (len(r.rows) - len(r.latencies))
    return [None if v is None else float(getattr(v, "median", v)) for v in lat]


def latency_label(r: Any) -> str:
    return "PREDICTED latency" if r.latency_kind == "predicted" else "measured median latency"


def axes(r: Any) -> Axes:
    """Of a sweep, or of any report with ``rows`` (``totals``) and ``latencies``."""
    if r.latencies:
        lat = latencies(r)
        rows = tuple(i for i in range(len(r.rows)) if lat[i] is not None)
        x = tuple(float(lat[i]) for i in rows)      # type: ignore[arg-type]
        if r.latency_kind == "predicted":
            x_label, key = "PREDICTED latency (ms)", "predicted_latency_ms"
        else:
            x_label, key = "measured median latency (ms)", "latency_ms"
    else:
        rows = tuple(range(len(r.rows)))
        x = tuple(float(r.rows[i].totals.params) for i in rows)
        x_label, key = "params (conv + fc weights)", "params"
    y = tuple(float(r.rows[i].totals.macs) for i in rows)
    on = tuple(front(list(zip(x, y, strict=True)), (LOWER, HIGHER)))
    return Axes(rows, x, y, x_label, "MACs", key, on)


def label(r: Any, i: int) -> str:
    """A point's name: a compared model's label, or a grid point's alpha-resolution."""
    row = r.rows[i]
    return getattr(row, "label", "") or f"{row.alpha:g}-{row.resolution}"


def pareto(r: Any, what: str = "the width x resolution grid") -> tuple[Any, dict[str, str]]:
    """MACs against latency (or params), every point, the front drawn."""
    a = axes(r)
    fig, ax = figure(5.6)
    tips = {}
    front_set = set(a.on_front)
    for k, i in enumerate(a.rows):
        on = k in front_set
        dot = ax.scatter([a.x[k]], [a.y[k]], s=70 if on else 40, zorder=4,
                         color=FRONT if on else "white",
                         edgecolor=FRONT if on else OFF_FRONT, linewidth=1.4)
        dot.set_gid(f"sw-{k}")
        row = r.rows[i]
        tips[f"sw-{k}"] = (f"{label(r, i)}: alpha {row.alpha:g}, resolution {row.resolution}\n"
                           f"{human(row.totals.macs)} MACs, {human(row.totals.params)} params"
                           + (f"\n{a.x[k]:.3f} ms" if a.x_key in LATENCY_KEYS else "")
                           + ("\non the Pareto front" if on else ""))
    if _spread(a.x) > 10 and _spread(a.y) > 10:        # a wide grid: log axes, as the papers
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(which="minor", visible=False)
    ax.margins(x=0.1, y=0.1)
    _labels(ax, r, a)
    if a.on_front:
        pts = sorted((a.x[k], a.y[k]) for k in a.on_front)
        # the front as a staircase: from each point, the MACs it gives hold until the next
        sx, sy = [pts[0][0]], [pts[0][1]]
        for (_, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            sx += [x1, x1]
            sy += [y0, y1]
        ax.plot(sx, sy, color=FRONT, linewidth=1.8, zorder=3,
                label=f"Pareto front ({len(a.on_front)} of {len(a.rows)} points)")
        ax.legend(loc="lower right")
    ax.set_xlabel(a.x_label + " — fewer is better")
    ax.set_ylabel("MACs — more is better (the papers' accuracy proxy)")
    count_axis(ax.yaxis, log=ax.get_yscale() == "log")
    if a.x_key == "params":
        count_axis(ax.xaxis, log=ax.get_xscale() == "log")
    elif ax.get_xscale() == "log":
        plain_log_axis(ax.xaxis, (1.0, 2.0, 5.0))
    model = getattr(r, "model", "")
    ax.set_title(f"{model + ': ' if model else ''}MACs against "
                 f"{'latency' if a.x_key in LATENCY_KEYS else 'params'} over {what} "
                 "(filled: on the front)")
    return fig, tips


def _spread(values: tuple[float, ...]) -> float:
    positive = [v for v in values if v > 0]
    return max(positive) / min(positive) if positive else 1.0


def _labels(ax: Any, r: Any, a: Axes) -> None:
    """alpha-resolution next to the points: every point on the front, the others where
    their label has room."""
    lab = Labeller(ax)
    for k in range(len(a.rows)):
        lab.block_point(a.x[k], a.y[k], 5.0)
    for k in sorted(a.on_front, key=lambda k: a.x[k]):
        lab.place(a.x[k], a.y[k], label(r, a.rows[k]), fontsize=9.5)
    for k in range(len(a.rows)):
        if k not in a.on_front:
            lab.place(a.x[k], a.y[k], label(r, a.rows[k]), fontsize=8.5, bold=False,
                      color=MUTED, move=False)


def _grid(r: SweepReport, values: list[float | None]) -> tuple[list[float], list[int], Any]:
    import numpy as np
    alphas = list(dict.fromkeys(row.alpha for row in r.rows))
    res = list(dict.fromkeys(row.resolution for row in r.rows))
    grid = np.full((len(alphas), len(res)), np.nan)
    for row, v in zip(r.rows, values, strict=True):
        if v is not None:
            grid[alphas.index(row.alpha), res.index(row.resolution)] = v
    return alphas, res, grid


def heatmap(r: SweepReport) -> tuple[Any, dict[str, str]]:
    """The alpha x resolution grid: MACs, and the latency when the sweep has one."""
    panels: list[tuple[str, list[float | None], Any]] = [
        ("MACs", [float(row.totals.macs) for row in r.rows], compact)]
    if r.latencies:
        panels.append((f"{latency_label(r)}, ms", latencies(r), lambda v: f"{v:.2f}"))
    alphas, res, _ = _grid(r, panels[0][1])
    on = {axes(r).rows[k] for k in axes(r).on_front}
    fig, axs = figure(0.9 + 0.5 * len(alphas), ncols=len(panels), squeeze=False)
    for ax, (title, values, show) in zip(axs[0], panels, strict=True):
        _, _, grid = _grid(r, values)
        import numpy as np
        ax.pcolormesh(np.arange(len(res) + 1) - 0.5, np.arange(len(alphas) + 1) - 0.5,
                      np.ma.masked_invalid(grid), cmap="Blues", edgecolors="white",
                      linewidth=1.0)        # vector cells, not an embedded image
        ax.set_ylim(len(alphas) - 0.5, -0.5)
        top = float(max((v for v in values if v is not None), default=1.0))
        for i, row in enumerate(r.rows):
            v = values[i]
            if v is None:
                continue
            ai, ri = alphas.index(row.alpha), res.index(row.resolution)
            ax.text(ri, ai, show(v), ha="center", va="center", fontsize=9.5,
                    color="white" if v > 0.55 * top else INK,
                    fontweight="bold" if i in on else "normal")
            if i in on:
                ax.add_patch(_box(ri, ai))
        ax.set_xticks(range(len(res)), [str(x) for x in res])
        ax.set_yticks(range(len(alphas)), [f"{x:g}" for x in alphas])
        ax.set_xlabel("resolution")
        ax.set_ylabel("alpha (width)")
        ax.grid(False)
        ax.set_title(title)
    return fig, {}


def _box(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle
    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=FRONT, linewidth=2.2)
