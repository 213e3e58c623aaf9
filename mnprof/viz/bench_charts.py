"""Charts of a bench report: the cache-aware roofline, % MACs next to % time per
type, and time per layer along the network.

Each function returns ``(figure, tooltips)`` (see ``mnprof.viz.figure.to_svg``).
"""

from __future__ import annotations

import math
from typing import Any

from ..bench.result import BenchReport, TimeRow
from ..core.units import human, human_bytes
from .colors import FAIL, INK, MUTED, color_of
from .draw import layer_ticks, layer_tip, plain_log_axis, present_types, type_legend
from .figure import figure, short
from .labels import Labeller

TOP = 5                     # slowest layers named on the charts


def placed(r: BenchReport) -> list[TimeRow]:
    """Layers that have a place on the roofline: MACs, a time, an achieved rate."""
    return [x for x in r.layers if x.macs and x.time_ms and x.gmacs_per_s]


def slowest(rows: list[TimeRow] | tuple[TimeRow, ...], n: int = TOP) -> list[TimeRow]:
    return sorted(rows, key=lambda x: (-(x.time_ms or 0.0), x.name))[:n]


def roof_time_ms(x: TimeRow, batch: int) -> float | None:
    """The least time the row could take at its roof."""
    if not x.macs or not x.attainable_gmacs_per_s:
        return None
    return batch * x.macs / (x.attainable_gmacs_per_s * 1e6)


def row_tip(i: int | None, x: TimeRow, r: BenchReport) -> str:
    total = r.total.macs if r.total else 0
    parts = [f"{x.time_ms:.3f} ms, {x.time_pct:.1f}% of the time" if x.time_ms is not None
             and x.time_pct is not None else "",
             f"{human(x.macs)} MACs ({100 * x.macs / total:.2f}%)" if x.macs and total else "",
             f"{x.gmacs_per_s:.1f} GMAC/s at {x.intensity:.2f} MAC/B" if x.gmacs_per_s else "",
             (f"roof {x.attainable_gmacs_per_s:.1f} GMAC/s ("
              + (f"{x.roof} {x.roof_bandwidth_gb_per_s:.0f} GB/s" if x.roof else "compute")
              + f"), efficiency {100 * x.efficiency:.0f}%")
             if x.attainable_gmacs_per_s and x.efficiency is not None else "",
             f"{human_bytes(x.bytes)} moved" if x.bytes else ""]
    return layer_tip(i if i is not None else 0, x.name, x.type_key, parts)


def _limits(values: list[float], extra: list[float], pad: float) -> tuple[float, float]:
    allv = [v for v in values + extra if v > 0]
    return min(allv) / pad, max(allv) * pad


def roofline(r: BenchReport) -> tuple[Any, dict[str, str]]:
    """Every layer at (MACs per byte, achieved GMAC/s) under the compute and memory roofs."""
    import numpy as np

    m = r.machine
    rows = placed(r)
    fig, ax = figure(6.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    tips: dict[str, str] = {}
    if m is None or not rows:
        ax.text(0.5, 0.5, "no layer has a measured time to place (timed end to end only)"
                if m is not None else "no machine ceiling", transform=ax.transAxes,
                ha="center", color=MUTED)
    roofs = list(m.memory_roofs) if m and m.memory_roofs else \
        ([m.memory_roof(None)] if m else [])
    peak = m.peak_gmacs_per_s if m else 1.0
    ridges = [peak / roof.bandwidth_gb_per_s for roof in roofs]
    xs = [x.intensity for x in rows]
    ys = [x.gmacs_per_s or 0.0 for x in rows]
    xlo, xhi = _limits(xs or [1.0], ridges, 3.0)
    xhi = max(xhi, max(xs or [1.0]) * 8)        # room for the labels right of the points
    ylo, _ = _limits(ys or [peak / 10], [peak / 30], 2.5)
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, max([peak * 2.2] + [y * 1.6 for y in ys]))
    labels = _draw_roofs(ax, roofs, peak, xlo, xhi, np) if m is not None else []
    for i, x in enumerate(rows):
        gid = f"rl-{i}"
        dot = ax.scatter([x.intensity], [x.gmacs_per_s], s=28 + 14 * (x.time_pct or 0.0),
                         color=color_of(x.type_key), edgecolor="white", linewidth=0.8,
                         alpha=0.92, zorder=4)
        dot.set_gid(gid)
        tips[gid] = row_tip(r.layers.index(x) + 1, x, r)
    for x in slowest(rows):
        if x.attainable_gmacs_per_s:
            ax.plot([x.intensity, x.intensity], [x.gmacs_per_s, x.attainable_gmacs_per_s],
                    color=FAIL, linestyle=(0, (2, 2)), linewidth=1.1, zorder=3)
    _label_slowest(ax, slowest(rows), rows, labels)
    plain_log_axis(ax.xaxis)
    plain_log_axis(ax.yaxis)
    ax.set_xlabel("arithmetic intensity: MACs per byte of input, weights and output")
    ax.set_ylabel("achieved GMAC/s")
    ax.grid(which="minor", visible=False)
    threads = r.environment.threads
    ax.set_title(f"Roofline: every layer under this CPU's roofs ({threads} thread"
                 f"{'s' if threads != 1 else ''})")
    if rows:
        type_legend(fig, present_types([x.type_key for x in rows]))
    return fig, tips


def _label_slowest(ax: Any, top: list[TimeRow], rows: list[TimeRow],
                   roof_labels: list[tuple[float, float, int]]) -> None:
    """Number and name the slowest layers; layers drawn at (nearly) one spot share a
    label; labels keep clear of each other, of the points and of the roofs' labels."""
    lab = Labeller(ax)
    for x in rows:
        lab.block_point(x.intensity, x.gmacs_per_s or 1.0)
    for lx, ly, chars in roof_labels:
        lab.block_diagonal(lx, ly, chars)
    groups: list[list[tuple[int, TimeRow]]] = []
    for rank, x in enumerate(top, 1):
        px, py = lab.pt(x.intensity, x.gmacs_per_s or 1.0)
        for g in groups:
            gx, gy = lab.pt(g[0][1].intensity, g[0][1].gmacs_per_s or 1.0)
            if abs(gx - px) < 14 and abs(gy - py) < 14:
                g.append((rank, x))
                break
        else:
            groups.append([(rank, x)])
    for g in sorted(groups, key=lambda g: -(g[0][1].gmacs_per_s or 0.0)):
        x = g[0][1]
        lab.place(x.intensity, x.gmacs_per_s or 1.0,
                  "\n".join(f"{rank}. {short(y.name, 24)} ({y.time_pct:.0f}%)"
                            for rank, y in g))


def _draw_roofs(ax: Any, roofs: list[Any], peak: float, xlo: float, xhi: float,
                np: Any) -> list[tuple[float, float, int]]:
    """The compute roof and one diagonal per memory level (levels of equal bandwidth
    share one); returns where each diagonal's label starts and how long it is."""
    labels = []
    fastest = max(roof.bandwidth_gb_per_s for roof in roofs)
    ax.plot([peak / fastest, xhi], [peak, peak], color=INK, linewidth=2.2, zorder=2)
    ax.text(xhi / 1.08, peak * 1.1, f"compute: {peak:.1f} GMAC/s (fp32 MatMul peak)",
            ha="right", va="bottom", fontsize=10, color=INK, fontweight="bold")
    shown: dict[float, list[str]] = {}
    for roof in roofs:
        shown.setdefault(round(roof.bandwidth_gb_per_s, 1), []).append(roof.level)
    for k, (bw, levels) in enumerate(sorted(shown.items(), reverse=True)):
        ridge = peak / bw
        xs = np.geomspace(xlo, ridge, 16)
        dram = "DRAM" in levels
        ax.plot(xs, xs * bw, color=INK if dram else MUTED, linewidth=2.0 if dram else 1.3,
                linestyle="-" if dram else (0, (6, 3)), zorder=2)
        at = max(xlo * 1.25, min(ridge / 6, xlo * 3 ** (k + 1)))
        text = f"{' = '.join(levels)}: {bw:.1f} GB/s"
        labels.append((at, at * bw * 1.12, len(text)))
        ax.text(at, at * bw * 1.12, text,
                rotation=math.degrees(math.atan2(bw, 1)), rotation_mode="anchor",
                transform_rotates_text=True, fontsize=9.5, color=INK if dram else MUTED,
                ha="left", va="bottom")
    return labels


def type_shares(r: Any, *, predicted: bool = False) -> tuple[Any, dict[str, str]]:
    """% of the MACs next to % of the time, per layer type (Table 2 on this CPU) of a
    bench report, or of a prediction (``predicted``: its times are predicted)."""
    total = r.total.macs if r.total else 0
    types = sorted(r.by_type, key=lambda k: -(r.by_type[k].time_pct or 0.0))
    types = [k for k in types if (r.by_type[k].time_pct or 0) > 0 or r.by_type[k].macs]
    n = max(1, len(types))
    fig, ax = figure(1.0 + 0.44 * n)
    tips = {}
    for i, key in enumerate(types):
        v = r.by_type[key]
        macs = 100 * v.macs / total if total else 0.0
        time = v.time_pct or 0.0
        for j, (value, label) in enumerate(((time, "time"), (macs, "MACs"))):
            bar = ax.barh(i + (j - 0.5) * 0.38, value, height=0.36, color=color_of(key),
                          alpha=1.0 if j == 0 else 0.42, linewidth=0)
            gid = f"ts-{i}-{j}"
            bar.patches[0].set_gid(gid)
            tips[gid] = (f"{key}: {time:.2f}% of the time ({v.time_ms or 0:.3f} ms), "
                         f"{macs:.2f}% of the MACs")
            text = f"{value:.1f}% {label}"
            if j == 0 and macs > 0 and time > 0:
                text += f"  ({time / macs:.1f}x its MAC share)"
            ax.text(value + 0.6, i + (j - 0.5) * 0.38, text, va="center", fontsize=9,
                    color=INK if j == 0 else MUTED, fontweight="bold" if j == 0 else "normal")
    ax.set_yticks(range(n))
    ax.set_yticklabels(types or ["(none)"])
    ax.invert_yaxis()
    ax.set_xlim(0, 125)
    ax.grid(axis="y", visible=False)
    what = "predicted end-to-end latency" if predicted else "end-to-end median"
    ax.set_xlabel(f"% of the {what} (dark) and of the MACs (light)")
    ax.set_title(("Where the time would go (PREDICTED)" if predicted else
                  "Where the time goes") + ", per layer type, next to where the MACs are")
    return fig, tips


def time_along(r: BenchReport) -> tuple[Any, dict[str, str]]:
    """Each layer's time in network order; a tick at the least time its roof allows."""
    rows = [*r.layers, *r.non_layer]
    batch = r.environment.batch
    fig, ax = figure(4.6)
    x = list(range(len(rows)))
    bars = ax.bar(x, [row.time_ms or 0.0 for row in rows], width=0.8,
                  color=[color_of(row.type_key if row.layers else f"ort:{row.type_key}")
                         for row in rows])
    tips = {}
    for i, row in enumerate(rows):
        bars.patches[i].set_gid(f"ta-{i}")
        tips[f"ta-{i}"] = row_tip(i + 1 if row.layers else None, row, r)
    floor = [(i, roof_time_ms(row, batch)) for i, row in enumerate(rows)]
    floor = [(i, t) for i, t in floor if t is not None]
    if floor:
        ax.scatter([i for i, _ in floor], [t for _, t in floor], marker="_", s=60,
                   color=INK, linewidth=1.6, zorder=4, label="time at its roof")
        ax.legend(loc="upper right", labelcolor=MUTED)
    top = max([row.time_ms or 0.0 for row in rows] + [1e-9])
    for rank, row in enumerate(slowest(list(rows)), 1):
        i = rows.index(row)
        ax.annotate(f"{rank}", (i, row.time_ms or 0.0), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=9, fontweight="bold")
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("ms (share of the end-to-end median)")
    layer_ticks(ax, [row.name for row in rows], max_labels=min(90, max(1, len(rows))))
    ax.set_title("Time per layer, in network order (numbered: the slowest; tick: the least "
                 "time its roof allows)")
    return fig, tips
