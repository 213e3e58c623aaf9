"""The page of ``mnprof compare``: models side by side (the V1 paper's Tables 8 and 9),
their Pareto front, and MACs and params against the first model."""

from __future__ import annotations

from typing import Any

from ..analysis.compare import CompareReport, compare_table, compare_to_dict
from ..core.contracts import COMPARE_SCHEMA
from ..core.render import Column, Table
from ..core.units import human
from . import sweep_charts
from .colors import INK, MUTED
from .draw import count_axis
from .figure import figure
from .page import Block, Card, Page, Section, chart

SLATE = "#4a5a6a"           # not a layer type's colour: these bars are whole models


def table(r: CompareReport) -> Table:
    """The comparison as the text format prints it (with latency when measured)."""
    t = compare_table(r)
    if r.latencies:
        from ..bench.report import with_latency
        t, _ = with_latency(t, compare_to_dict(r), r, ratios=True)
    return t


def front_table(r: CompareReport) -> Table:
    a = sweep_charts.axes(r)
    cols = [Column("model", numeric=False, key="label"), Column("MACs", human, "macs"),
            Column("params", human, "params")]
    if a.x_key == "latency_ms":
        cols.append(Column("median ms", lambda v: f"{v:.3f}", "latency_median_ms"))
    rows = []
    for k in sorted(a.on_front, key=lambda k: a.x[k]):
        x = r.rows[a.rows[k]]
        rows.append((x.label, x.totals.macs, x.totals.params,
                     *([a.x[k]] if a.x_key == "latency_ms" else [])))
    return Table(f"On the Pareto front ({len(rows)} of {len(a.rows)} models)", tuple(cols),
                 tuple(rows))


def side_by_side(r: CompareReport) -> tuple[Any, dict[str, str]]:
    """MACs and params of each model (log scale: models differ by orders of magnitude)."""
    n = len(r.rows)
    fig, ax = figure(1.0 + 0.55 * n)
    tips = {}
    first = r.rows[0].totals
    for i, x in enumerate(r.rows):
        for j, (value, base, what, color) in enumerate((
                (x.totals.macs, first.macs, "MACs", SLATE),
                (x.totals.params, first.params, "params", SLATE))):
            bar = ax.barh(i + (j - 0.5) * 0.38, max(value, 1), height=0.36, color=color,
                          alpha=1.0 if j == 0 else 0.45)
            bar.patches[0].set_gid(f"cmp-{i}-{j}")
            ratio = f" ({value / base:.2f}x the first)" if base and i else ""
            tips[f"cmp-{i}-{j}"] = f"{x.label}: {human(value)} {what}{ratio}"
            ax.text(max(value, 1) * 1.08, i + (j - 0.5) * 0.38, f"{human(value)} {what}{ratio}",
                    va="center", fontsize=9, color=INK if j == 0 else MUTED)
    ax.set_xscale("log")
    count_axis(ax.xaxis, log=True)
    ax.set_yticks(range(n), [x.label for x in r.rows])
    ax.invert_yaxis()
    lo = min(min(x.totals.macs, x.totals.params) for x in r.rows) or 1
    hi = max(max(x.totals.macs, x.totals.params) for x in r.rows)
    ax.set_xlim(lo / 2, hi * 60)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("count (log scale; dark: MACs, light: params)")
    ax.set_title("MACs and params per model (ratios to the first, as the paper's Tables 8 "
                 "and 9)")
    return fig, tips


def page(r: CompareReport) -> Page:
    a = sweep_charts.axes(r)
    cheapest = min(r.rows, key=lambda x: x.totals.macs)
    smallest = min(r.rows, key=lambda x: x.totals.params)
    cards = [Card("models", str(len(r.rows))),
             Card("fewest MACs", cheapest.label, human(cheapest.totals.macs)),
             Card("fewest params", smallest.label, human(smallest.totals.params)),
             Card("on the front", f"{len(a.on_front)} of {len(a.rows)}",
                  f"MACs against {'latency' if a.x_key == 'latency_ms' else 'params'}")]
    if r.latencies and any(r.latencies):
        measured = [(s.median, x.label) for s, x in zip(r.latencies, r.rows, strict=False)
                    if s is not None]
        fastest = min(measured)
        cards.append(Card("fastest", fastest[1], f"{fastest[0]:.3f} ms median, "
                          f"{r.latency_threads} thread(s)", "warn" if r.interrupted else ""))
    cost = "the median latency" if a.x_key == "latency_ms" else "the parameters"
    sections = (
        Section("models", "Side by side",
                charts=(chart("chart-compare-models", "MACs and params per model",
                              side_by_side, r),),
                tables=(Block("table-compare", table(r)),)),
        Section("front", "Pareto front",
                intro=f"A model is on the front when no other has at most its cost ({cost}) "
                      "and at least its MACs. A comparison has no accuracy: MACs stand in for "
                      "the work a model does, a fair proxy within one family's width x "
                      "resolution grid but a weak one across architectures (MobileNetV3 "
                      "beats V1 with fewer MACs), so read the front as the most work for "
                      "the cost.",
                charts=(chart("chart-compare-pareto", "Pareto front", sweep_charts.pareto, r,
                              "the models"),),
                tables=(Block("table-compare-front", front_table(r)),)),
    )
    labels = ", ".join(x.label for x in r.rows)
    return Page("compare", "Models compared", labels, COMPARE_SCHEMA, tuple(cards), sections)


def main_figure(r: CompareReport) -> Any:
    """``--plot``: the models side by side."""
    return side_by_side(r)[0]
