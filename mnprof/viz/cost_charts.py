"""Charts of a cost report: Table 2 (per type), MACs and params along the network,
activation memory along the network with its peak.

Each function returns ``(figure, tooltips)``; tooltips map an artist's gid to the
text a browser shows on hover (``mnprof.viz.figure.to_svg``).
"""

from __future__ import annotations

from typing import Any

from ..analysis.cost import CostReport
from ..core.units import human, human_bytes
from .colors import FAIL, INK, MUTED, color_of
from .draw import byte_unit, count_axis, layer_ticks, layer_tip, present_types, type_legend
from .figure import figure


def type_order(r: CostReport) -> list[str]:
    """Types by MACs, then params (the largest first)."""
    return sorted(r.by_type, key=lambda k: (-r.by_type[k].macs, -r.by_type[k].params, k))


def table2(r: CostReport) -> tuple[Any, dict[str, str]]:
    """% of MACs and % of params per layer type, as the MobileNet paper's Table 2."""
    t = r.totals
    types = [k for k in type_order(r) if r.by_type[k].macs or r.by_type[k].params]
    n = max(1, len(types))
    fig, ax = figure(1.0 + 0.42 * n)
    tips = {}
    for i, key in enumerate(types):
        v = r.by_type[key]
        macs, params = r.pct(v.macs, t.macs), r.pct(v.params, t.params)
        for j, (value, count, whole, label) in enumerate(((macs, v.macs, t.macs, "MACs"),
                                                          (params, v.params, t.params,
                                                           "params"))):
            bar = ax.barh(i + (j - 0.5) * 0.38, value, height=0.36, color=color_of(key),
                          alpha=1.0 if j == 0 else 0.45, linewidth=0)
            gid = f"t2-{i}-{j}"
            bar.patches[0].set_gid(gid)
            tips[gid] = f"{key}: {value:.2f}% of {label} ({human(count)} of {human(whole)})"
            ax.text(value + 0.6, i + (j - 0.5) * 0.38, f"{value:.2f}% {label}", va="center",
                    fontsize=9, color=INK if j == 0 else MUTED)
    ax.set_yticks(range(n))
    ax.set_yticklabels(types or ["(none)"])
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xlabel("% of the model's total (dark: MACs, light: params)")
    ax.grid(axis="y", visible=False)
    ax.set_title(f"Share of MACs and params per layer type — {human(t.macs)} MACs, "
                 f"{human(t.params)} params")
    return fig, tips


def along(r: CostReport) -> tuple[Any, dict[str, str]]:
    """MACs and params of every layer, in network order, coloured by type."""
    layers = r.layers
    n = max(1, len(layers))
    fig, (top, bottom) = figure(5.6, nrows=2, sharex=True)
    x = list(range(len(layers)))
    colors = [color_of(c.type_key) for c in layers]
    macs = top.bar(x, [c.macs for c in layers], color=colors, width=0.8)
    params = bottom.bar(x, [c.params for c in layers], color=colors, width=0.8)
    tips = {}
    for i, c in enumerate(layers):
        text = layer_tip(i + 1, c.name, c.type_key,
                         [f"{human(c.macs)} MACs ({r.pct(c.macs, r.totals.macs):.2f}%)",
                          f"{human(c.params)} params ({r.pct(c.params, r.totals.params):.2f}%)",
                          f"output {'x'.join(map(str, c.output_shape))}"])
        for bars, part in ((macs, "m"), (params, "p")):
            bars.patches[i].set_gid(f"al-{part}{i}")
            tips[f"al-{part}{i}"] = text
    top.set_ylabel("MACs")
    top.grid(axis="x", visible=False)
    bottom.set_ylabel("params (weights)")
    count_axis(top.yaxis)
    count_axis(bottom.yaxis)
    layer_ticks(bottom, [c.name for c in layers], max_labels=min(90, n))
    top.set_title("MACs and params of each layer, in network order")
    type_legend(fig, present_types([c.type_key for c in layers]))
    return fig, tips


def memory(r: CostReport) -> tuple[Any, dict[str, str]]:
    """Bytes of the tensors alive at each layer, the peak marked; each layer's output."""
    layers = r.layers
    live = list(r.live_bytes) or [0] * len(layers)
    unit, unit_name = byte_unit(max(live + [4 * c.activations for c in layers] + [1]))
    x = list(range(len(layers)))
    fig, ax = figure(3.9)
    outs = ax.bar(x, [4 * c.activations / unit for c in layers], width=0.8,
                  color=[color_of(c.type_key) for c in layers], alpha=0.55,
                  label="the layer's output")
    ax.step(x, [v / unit for v in live], where="mid", color=INK, linewidth=1.6,
            label="alive while it runs")
    tips = {}
    for i, c in enumerate(layers):
        outs.patches[i].set_gid(f"mem-{i}")
        tips[f"mem-{i}"] = layer_tip(i + 1, c.name, c.type_key, [
            f"output {human_bytes(4 * c.activations)}",
            f"alive while it runs: {human_bytes(live[i])}" if r.live_bytes else ""])
    if r.live_bytes:
        peak = max(range(len(live)), key=lambda i: live[i])
        ax.plot([peak], [live[peak] / unit], "o", color=FAIL, markersize=8, zorder=5)
        right = peak < 0.75 * len(layers)
        ax.annotate(f"peak {human_bytes(r.peak_activation_bytes)}\nat {layers[peak].name}",
                    (peak, live[peak] / unit), xytext=(14 if right else -14, 0),
                    textcoords="offset points", color=FAIL, fontsize=10, fontweight="bold",
                    va="center", ha="left" if right else "right")
    ax.set_ylabel(f"fp32 activations ({unit_name})")
    ax.set_ylim(0, max(live + [1]) / unit * 1.15)
    layer_ticks(ax, [c.name for c in layers], max_labels=min(90, max(1, len(layers))))
    ax.legend(loc="upper right", handlelength=1.4, labelcolor=MUTED)
    ax.set_title("Activation memory along the network (tensors alive at once, batch 1)")
    return fig, tips
