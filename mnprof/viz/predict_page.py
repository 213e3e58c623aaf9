"""The page of a prediction (``mnprof predict``): the predicted latency and where it
comes from, % MACs next to % predicted time per type, predicted time along the
network, and every table; each title says PREDICTED."""

from __future__ import annotations

from typing import Any

from ..core.contracts import PREDICT_SCHEMA
from ..core.units import human
from ..predict.predictor import PredictReport
from ..predict.report import block_table, latency_table, layer_table, predict_header, type_table
from . import bench_charts
from .colors import color_of
from .draw import layer_ticks, layer_tip
from .figure import figure
from .page import Block, Card, Page, Section, chart


def _cards(r: PredictReport) -> tuple[Card, ...]:
    held = dict(r.calibration).get("held_out") or {}
    rest = (f"+ per-node overhead {r.overhead_ms:.3f} ms" if r.overhead_ms >= 0 else
             f"less the profiler's own cost {-r.overhead_ms:.3f} ms")
    cards = [Card("predicted latency", f"{r.median_ms:.3f} ms",
                  f"kernels {r.kernel_sum_ms:.3f} ms {rest} · {len(r.kernels)} kernels"),
             Card("device", r.device.cpu_model,
                  f"{r.device.threads} thread(s) · onnxruntime {r.device.onnxruntime_version}",
                  "" if r.this_machine else "warn")]
    if held:
        cards.append(Card("profile's held-out accuracy",
                          f"{100 * held.get('within_10pct', 0):.0f}% within 10%",
                          f"on {held.get('networks')} calibration networks"))
    if r.total is not None and r.total.macs:
        cards.append(Card("MACs", human(r.total.macs), "exact, from the architecture"))
    return tuple(cards)


def time_along(r: PredictReport) -> tuple[Any, dict[str, str]]:
    """Each layer's predicted time in network order."""
    rows = [*r.layers, *r.non_layer]
    fig, ax = figure(4.6)
    keys = [row.type_key if row.layers else f"ort:{row.type_key}" for row in rows]
    bars = ax.bar(range(len(rows)), [row.time_ms or 0.0 for row in rows], width=0.8,
                  color=[color_of(k) for k in keys])
    tips = {}
    for i, (row, key) in enumerate(zip(rows, keys, strict=True)):
        bars.patches[i].set_gid(f"pa-{i}")
        tips[f"pa-{i}"] = layer_tip(i + 1, row.name, key, [
            f"{row.time_ms or 0:.3f} ms predicted, {row.time_pct or 0:.1f}% of the latency",
            f"{human(row.macs)} MACs" if row.macs else ""])
    ax.set_ylabel("ms (predicted)")
    layer_ticks(ax, [row.name for row in rows], max_labels=min(90, max(1, len(rows))))
    ax.set_title("Predicted time per layer, in network order")
    return fig, tips


def page(r: PredictReport) -> Page:
    sections = [
        Section("types", "Per layer type: MACs against predicted time",
                charts=(chart("chart-predict-types", "% MACs and % predicted time per type",
                              lambda x: bench_charts.type_shares(x, predicted=True), r),),
                tables=(Block("table-predict-types", type_table(r)),)),
        Section("network", "Along the network",
                charts=(chart("chart-predict-layers", "Predicted time per layer",
                              time_along, r),)),
        Section("layers", "Per layer", tables=(Block("table-predict-layers",
                                                     layer_table(r)),)),
    ]
    if r.by_block and len(r.by_block) < len(r.layers):
        sections.append(Section("blocks", "Per block", tables=(
            Block("table-predict-blocks", block_table(r), collapsed=True),)))
    sections.append(Section("latency", "Prediction and device profile",
                            tables=(Block("table-predict-latency", latency_table(r)),),
                            notes=r.notes))
    types = tuple(dict.fromkeys([x.type_key for x in r.layers]
                                + [f"ort:{x.type_key}" for x in r.non_layer]))
    return Page("predict", f"{r.model}: predicted latency", predict_header(r), PREDICT_SCHEMA,
                _cards(r), tuple(sections), legend=types)


def main_figure(r: PredictReport) -> Any:
    """``--plot``: % MACs against % predicted time per type."""
    return bench_charts.type_shares(r, predicted=True)[0]
