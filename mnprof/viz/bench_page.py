"""The page of a bench report: the slowest layers and why, the cache-aware roofline,
% MACs next to % time per type, time along the network, and every table."""

from __future__ import annotations

from typing import Any

from ..bench.notes import over_roof_reason
from ..bench.report import (
    bench_header,
    block_table,
    bound_text,
    environment_table,
    latency_table,
    layer_table,
    machine_table,
    type_table,
)
from ..bench.result import BenchReport, TimeRow
from ..core.contracts import BENCH_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, human_bytes, pct
from . import bench_charts
from .page import Block, Card, Page, Section, chart

SLOWEST = 10


def why(x: TimeRow, r: BenchReport) -> str:
    """What makes a row take its time, in one line."""
    m = r.machine
    total = r.total.macs if r.total else 0
    if not x.layers:
        return "onnxruntime node outside any layer (a layout reorder)"
    if not x.macs:
        return f"no MACs: elementwise or pooling work over {human_bytes(x.bytes)}"
    share = f"{100 * x.macs / total:.1f}% of the MACs" if total else ""
    if m is None or x.efficiency is None or x.attainable_gmacs_per_s is None:
        return share
    if x.efficiency > 1:
        limit = f"above its roof ({100 * x.efficiency:.0f}%): {over_roof_reason(x, m)}"
    elif x.bound == "memory":
        limit = (f"memory-bound: {x.intensity:.2f} MAC/B x {x.roof or 'DRAM'} "
                 f"{x.roof_bandwidth_gb_per_s or m.bandwidth_gb_per_s:.0f} GB/s = "
                 f"{x.attainable_gmacs_per_s:.1f} GMAC/s roof; runs at "
                 f"{100 * x.efficiency:.0f}% of it")
    else:
        limit = (f"compute-bound ({x.intensity:.1f} MAC/B): runs at "
                 f"{100 * x.efficiency:.0f}% of the {m.peak_gmacs_per_s:.0f} GMAC/s peak")
    padded = ""
    if x.executed_macs and x.executed_macs > x.macs:
        padded = f"; executes {x.executed_macs / x.macs:.2f}x the MACs (padded channels)"
    return f"{share}; {limit}{padded}"


def slowest_table(r: BenchReport) -> Table:
    rows = bench_charts.slowest([*r.layers, *r.non_layer], SLOWEST)
    index = {x.name: i for i, x in enumerate(r.layers, 1)}
    cols = (Column("rank"), Column("#", key="index"), Column("layer", numeric=False, key="name"),
            Column("type", numeric=False), Column("time ms", lambda v: f"{v:.3f}", "time_ms"),
            Column("% time", pct, "time_pct"),
            Column("GMAC/s", lambda v: f"{v:.1f}", "gmacs_per_s"),
            Column("MAC/B", lambda v: f"{v:.2f}", "intensity"),
            Column("eff.", lambda v: f"{100 * v:.0f}%", "efficiency"),
            Column("why", numeric=False))
    body = tuple((rank, index.get(x.name) if x.layers else None, x.name,
                  x.type_key if x.layers else f"ort:{x.type_key}", x.time_ms, x.time_pct,
                  x.gmacs_per_s, x.intensity if x.macs else None, x.efficiency, why(x, r))
                 for rank, x in enumerate(rows, 1))
    return Table(f"The {len(rows)} slowest layers", cols, body)


def _cards(r: BenchReport) -> tuple[Card, ...]:
    s = r.latency_ms
    cards = [Card("median latency", f"{s.median:.3f} ms",
                  f"p10 {s.p10:.3f} · p90 {s.p90:.3f} ms · {s.runs} runs",
                  "warn" if s.median and (s.p90 - s.p10) > 0.15 * s.median else ""),
             Card("throughput", f"{s.throughput:.1f}/s", f"images per second, batch {s.batch}")]
    top = bench_charts.slowest(list(r.layers), 1)
    if top and top[0].time_ms:
        x = top[0]
        cards.append(Card("slowest layer", x.name, f"{x.type_key} · {x.time_pct:.1f}% of the "
                          f"time · {bound_text(x) or 'no MACs'}"))
    if r.total is not None and r.total.gmacs_per_s:
        t = r.total
        eff = f" · {100 * t.efficiency:.0f}% of the roofs" if t.efficiency else ""
        cards.append(Card("achieved", f"{t.gmacs_per_s:.1f} GMAC/s",
                          f"{human(t.macs)} MACs in {s.median:.3f} ms{eff}"))
    if r.machine is not None:
        m = r.machine
        cards.append(Card("this CPU's peak", f"{m.peak_gmacs_per_s:.1f} GMAC/s",
                          f"DRAM {m.bandwidth_gb_per_s:.1f} GB/s · {r.environment.threads} "
                          f"thread(s)", "warn" if m.measured_busy else ""))
    return tuple(cards)


def page(r: BenchReport) -> Page:
    sections: list[Section] = []
    if r.total is not None and r.layers:
        first = bench_charts.slowest(list(r.layers), 1)[0]
        sections += [
            Section("slowest", "Where the time goes",
                    intro=f"The slowest layer is {first.name} ({first.type_key}, "
                          f"{first.time_pct or 0:.1f}% of the time): {why(first, r)}.",
                    tables=(Block("table-bench-slowest", slowest_table(r)),)),
            Section("roofline", "Roofline",
                    charts=(chart("chart-roofline", "Roofline", bench_charts.roofline, r,
                                  caption=_roofline_caption(r)),),
                    tables=(Block("table-bench-machine", machine_table(r)),)
                    if r.machine else ()),
            Section("types", "Per layer type: MACs against time",
                    charts=(chart("chart-bench-types", "% MACs and % time per type",
                                  bench_charts.type_shares, r),),
                    tables=(Block("table-bench-types", type_table(r)),)),
            Section("network", "Along the network",
                    charts=(chart("chart-bench-layers", "Time per layer",
                                  bench_charts.time_along, r),)),
            Section("layers", "Per layer", tables=(Block("table-bench-layers",
                                                         layer_table(r)),)),
        ]
        if r.by_block and len(r.by_block) < len(r.layers):
            sections.append(Section("blocks", "Per block", tables=(
                Block("table-bench-blocks", block_table(r), collapsed=True),)))
    elif r.machine is not None:
        sections.append(Section("machine", "Machine ceiling", tables=(
            Block("table-bench-machine", machine_table(r)),)))
    sections.append(Section(
        "latency", "Latency and environment",
        tables=(Block("table-bench-latency", latency_table(r)),
                Block("table-bench-environment", environment_table(r))),
        notes=r.notes + (() if r.layers else (
            "No per-layer figures: an ONNX file is timed end to end.",))))
    types = tuple(dict.fromkeys([x.type_key for x in r.layers]
                                + [f"ort:{x.type_key}" for x in r.non_layer]))
    title = f"{r.model}: bench" + (" (interrupted, partial)" if r.interrupted else "")
    return Page("bench", title, bench_header(r), BENCH_SCHEMA, _cards(r), tuple(sections),
                legend=types)


def _roofline_caption(r: BenchReport) -> str:
    placed = bench_charts.placed(r)
    off = [x for x in r.layers if x not in placed and (x.time_ms or 0) > 0]
    off_pct = sum(x.time_pct or 0.0 for x in off) + sum(x.time_pct or 0.0 for x in r.non_layer)
    return (f"x: the MACs per byte a layer moves (fp32 input, weights, output); y: the GMAC/s "
            f"it achieved. The flat roof is the compute peak; each diagonal is a memory "
            f"level's bandwidth, and a layer's roof is the smallest level that holds its "
            f"bytes. {len(placed)} layers are placed; {len(off)} without MACs (pooling, "
            f"adds, activations) and onnxruntime's own nodes take {off_pct:.1f}% of the time "
            f"and have no place on a MAC roofline." + _over_text(placed))


def _over_text(rows: list[TimeRow]) -> str:
    over = [x for x in rows if x.efficiency is not None and x.efficiency > 1]
    if not over:
        return " No layer runs above its roof."
    return (f" {len(over)} layer(s) run above their roof ({', '.join(x.name for x in over)}):"
            " the notes at the end say why.")


def main_figure(r: BenchReport) -> Any:
    """``--plot``: the roofline."""
    return bench_charts.roofline(r)[0]
