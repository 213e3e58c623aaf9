"""The page of a cost report: Table 2 as a chart, the network layer by layer, memory."""

from __future__ import annotations

from typing import Any

from ..analysis.cost import CostReport
from ..analysis.report import (
    block_table,
    cost_header,
    layer_table,
    totals_table,
    type_table,
)
from ..core.contracts import COST_SCHEMA
from ..core.units import human, human_bytes
from . import cost_charts
from .page import Block, Card, Page, Section, chart


def page(r: CostReport) -> Page:
    t = r.totals
    peak_at = max(range(len(r.live_bytes)), key=lambda i: r.live_bytes[i]) \
        if r.live_bytes else None
    cards = (
        Card("MACs", human(t.macs), f"{t.macs:,} multiply-accumulates"),
        Card("params", human(t.params), f"{t.params:,} conv + fc weights"),
        Card("framework params", human(t.params_framework),
             f"{t.params_framework:,} with biases and BN"),
        Card("peak activation memory", human_bytes(r.peak_activation_bytes),
             f"at {r.layers[peak_at].name}" if peak_at is not None else "fp32, batch 1"),
        Card("bytes moved", human_bytes(t.bytes), f"{t.intensity:.1f} MACs per byte"),
        Card("layers", str(t.layers), f"{len(r.by_type)} types"),
    )
    top = cost_charts.type_order(r)[0] if r.by_type else ""
    sections = (
        Section("types", "Per layer type (the paper's Table 2)",
                intro=(f"Where the MACs and the weights are. {top} layers hold "
                       f"{r.pct(r.by_type[top].macs, t.macs):.1f}% of the MACs."
                       if top else ""),
                charts=(chart("chart-cost-types", "MACs and params per layer type",
                              cost_charts.table2, r),),
                tables=(Block("table-cost-types", type_table(r)),)),
        Section("network", "Along the network",
                intro="Each bar is a layer, in the order the network runs them, coloured "
                      "by type. Hover a bar for its figures.",
                charts=(chart("chart-cost-layers", "MACs and params per layer",
                              cost_charts.along, r),
                        chart("chart-cost-memory", "Activation memory along the network",
                              cost_charts.memory, r,
                              caption="The line is the fp32 memory of every tensor alive "
                                      "while a layer runs (its inputs still to be read, its "
                                      "output); the peak is the report's peak activation "
                                      "memory."))),
        Section("totals", "Totals", tables=(Block("table-cost-totals", totals_table(r)),)),
        Section("layers", "Per layer", tables=(Block("table-cost-layers", layer_table(r)),)),
    )
    if r.by_block and len(r.by_block) < len(r.layers):
        sections += (Section("blocks", "Per block", tables=(
            Block("table-cost-blocks", block_table(r), collapsed=True),)),)
    return Page("cost", f"{r.model}: cost", cost_header(r), COST_SCHEMA, cards, sections,
                legend=tuple(dict.fromkeys(c.type_key for c in r.layers)))


def main_figure(r: CostReport) -> Any:
    """``--plot``: Table 2 as a chart."""
    return cost_charts.table2(r)[0]
