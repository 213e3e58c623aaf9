"""The page of a sweep: the Pareto front, the grid as heat maps, every point."""

from __future__ import annotations

from typing import Any

from ..analysis.report import SweepReport, sweep_table, sweep_to_dict
from ..core.contracts import SWEEP_SCHEMA
from ..core.render import Column, Table
from ..core.units import human
from . import sweep_charts
from .page import Block, Card, Page, Section, chart


def grid_table(r: SweepReport) -> Table:
    """The sweep's own table (with its latency columns when it has them)."""
    table = sweep_table(r)
    if r.latencies:
        from ..bench.report import with_latency
        table, _ = with_latency(table, sweep_to_dict(r), r)
    return table


def front_table(r: SweepReport) -> Table:
    a = sweep_charts.axes(r)
    cols = [Column("alpha", lambda v: f"{v:g}"), Column("resolution"),
            Column("MACs", human, "macs"),
            Column("params", human, "params")]
    if a.x_key == "latency_ms":
        cols.append(Column("median ms", lambda v: f"{v:.3f}", "latency_median_ms"))
    rows = []
    for k in sorted(a.on_front, key=lambda k: a.x[k]):
        row = r.rows[a.rows[k]]
        cells: list[Any] = [row.alpha, row.resolution, row.totals.macs, row.totals.params]
        if a.x_key == "latency_ms":
            cells.append(a.x[k])
        rows.append(tuple(cells))
    return Table(f"On the Pareto front ({len(rows)} of {len(a.rows)} points)", tuple(cols),
                 tuple(rows))


def page(r: SweepReport) -> Page:
    a = sweep_charts.axes(r)
    macs = [row.totals.macs for row in r.rows]
    params = [row.totals.params for row in r.rows]
    alphas = list(dict.fromkeys(row.alpha for row in r.rows))
    res = list(dict.fromkeys(row.resolution for row in r.rows))
    cards = [Card("grid", f"{len(r.rows)} points", f"{len(alphas)} widths x {len(res)} "
                  "resolutions"),
             Card("MACs", f"{human(min(macs))} – {human(max(macs))}" if macs else "-"),
             Card("params", f"{human(min(params))} – {human(max(params))}" if params else "-"),
             Card("on the front", f"{len(a.on_front)} of {len(a.rows)}",
                  f"MACs against {'latency' if a.x_key == 'latency_ms' else 'params'}")]
    if r.latencies:
        lat = [s.median for s in r.latencies if s is not None]
        cards.append(Card(f"{r.latency_kind or 'measured'} latency",
                          f"{min(lat):.2f} – {max(lat):.2f} ms",
                          f"median, {r.latency_threads} thread(s)",
                          "warn" if r.interrupted else ""))
    cost = "the median latency" if a.x_key == "latency_ms" else "the parameters"
    sections = (
        Section("front", "Pareto front",
                intro=f"A point is on the front when no other point has at most its cost "
                      f"({cost}) and at least its MACs. MACs stand in for accuracy, which "
                      "rises log-linearly with them across a width x resolution grid "
                      "(MobileNet paper, Figure 4); up and to the left is better.",
                charts=(chart("chart-sweep-pareto", "Pareto front", sweep_charts.pareto, r),),
                tables=(Block("table-sweep-front", front_table(r)),)),
        Section("grid", "The grid",
                intro="Rows are widths (alpha), columns resolutions; boxed cells are on the "
                      "front.",
                charts=(chart("chart-sweep-grid", "alpha x resolution heat map",
                              sweep_charts.heatmap, r),)),
        Section("points", "Every point", tables=(Block("table-sweep-rows", grid_table(r)),)),
    )
    title = f"{r.model}: sweep" + (" (interrupted, partial)" if r.interrupted else "")
    sub = f"{r.model} · {len(alphas)} widths x {len(res)} resolutions" + \
        (f" · depth {r.depth:g}" if r.depth != 1 else "") + (f" · {r.spec}" if r.spec else "")
    return Page("sweep", title, sub, SWEEP_SCHEMA, tuple(cards), sections)


def main_figure(r: SweepReport) -> Any:
    """``--plot``: the Pareto front."""
    return sweep_charts.pareto(r)[0]
