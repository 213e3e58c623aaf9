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
    if r.latencies and r.latency_kind == "predicted":
        from ..predict.report import with_prediction
        table, _ = with_prediction(table, sweep_to_dict(r), r)
    elif r.latencies:
        from ..bench.report import with_latency
        table, _ = with_latency(table, sweep_to_dict(r), r)
    return table


def front_table(r: SweepReport) -> Table:
    a = sweep_charts.axes(r)
    cols = [Column("alpha", lambda v: f"{v:g}"), Column("resolution"),
            Column("MACs", human, "macs"),
            Column("params", human, "params")]
    latency = a.x_key in sweep_charts.LATENCY_KEYS
    if latency:
        cols.append(Column("predicted ms" if r.latency_kind == "predicted" else "median ms",
                           lambda v: f"{v:.3f}", "predicted_latency_ms"
                           if r.latency_kind == "predicted" else "latency_median_ms"))
    rows = []
    for k in sorted(a.on_front, key=lambda k: a.x[k]):
        row = r.rows[a.rows[k]]
        cells: list[Any] = [row.alpha, row.resolution, row.totals.macs, row.totals.params]
        if latency:
            cells.append(a.x[k])
        rows.append(tuple(cells))
    return Table(f"On the Pareto front ({len(rows)} of {len(a.rows)} points)", tuple(cols),
                 tuple(rows))


def page(r: SweepReport) -> Page:
    a = sweep_charts.axes(r)
    latency = a.x_key in sweep_charts.LATENCY_KEYS
    macs = [row.totals.macs for row in r.rows]
    params = [row.totals.params for row in r.rows]
    alphas = list(dict.fromkeys(row.alpha for row in r.rows))
    res = list(dict.fromkeys(row.resolution for row in r.rows))
    cards = [Card("grid", f"{len(r.rows)} points", f"{len(alphas)} widths x {len(res)} "
                  "resolutions"),
             Card("MACs", f"{human(min(macs))} – {human(max(macs))}" if macs else "-"),
             Card("params", f"{human(min(params))} – {human(max(params))}" if params else "-"),
             Card("on the front", f"{len(a.on_front)} of {len(a.rows)}",
                  f"MACs against {'latency' if latency else 'params'}")]
    lat = [v for v in sweep_charts.latencies(r) if v is not None] if r.latencies else []
    if lat:
        cards.append(Card(sweep_charts.latency_label(r), f"{min(lat):.2f} – {max(lat):.2f} ms",
                          f"{r.latency_threads} thread(s)" if r.latency_threads else "",
                          "warn" if r.interrupted else ""))
    cost = f"the {sweep_charts.latency_label(r)}" if latency else "the parameters"
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
