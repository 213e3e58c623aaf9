"""Measured time joined with theory: per-layer and per-type rows (pure functions).

Input: the cost report of the built graph, and each profiled onnxruntime node with
its median kernel time and the spec layers it covers (``mnprof.bench.profile``).

- Kernel times are scaled by one factor so that all rows sum to the end-to-end
  median: the profiled pass gives the *shares*, the unprofiled pass the total.
- A node covering several layers (conv + batch-norm + ReLU in one layer is one
  layer; a residual Add folded into the conv before it is two) gives its time to
  the layer with the most MACs; the others are marked ``fused_into`` it with no
  time of their own.
- Nodes covering no layer (layout reorders, copies) keep their own rows, so
  nothing measured is dropped.
- Roofline per layer: achieved GMAC/s on the theoretical MACs, attainable =
  min(peak, intensity x the bandwidth of the smallest memory level holding the
  layer's working set: its input, weights and output bytes), efficiency =
  achieved / attainable.
- Roofline per type and in total: attainable = the rows' MACs over the time they
  would take at their own roofs, so efficiency = (time at the roofs) / (time
  measured), summed over the layers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..analysis.cost import CostReport, LayerCost, block_key
from .machine import Ceiling
from .result import TimeRow

NOT_SEEN = "not in onnxruntime's profile: removed by its optimiser"
NOT_EXPORTED = "no ONNX node: an identity at inference"


@dataclass(frozen=True)
class ProfiledNode:
    name: str
    op_type: str
    median_us: float
    layers: tuple[str, ...]            # the spec layers it covers; () for a non-layer node
    executed_macs: int | None          # for the whole batch


@dataclass(frozen=True)
class Attribution:
    layers: tuple[TimeRow, ...]
    by_type: dict[str, TimeRow]
    by_block: dict[str, TimeRow]
    non_layer: tuple[TimeRow, ...]
    total: TimeRow
    kernel_sum_ms: float


def layer_bytes(c: LayerCost, batch: int) -> int:
    """fp32 bytes a layer moves for a batch: activations per image, weights once."""
    return batch * (c.bytes - c.weight_bytes) + c.weight_bytes


def make_row(name: str, type_: str, *, layers: int, macs: int, executed: int | None,
             nbytes: int, time_ms: float | None, total_ms: float, batch: int,
             ceiling: Ceiling | None, group_roof: tuple[float | None, str] | None = None,
             **extra: object) -> TimeRow:
    """One row with its roofline figures (``macs`` and ``executed`` per image).

    A layer's roof comes from ``ceiling`` and its working set (``nbytes``); a sum of
    rows passes its own (``group_roof``: attainable GMAC/s and bound).
    """
    intensity = batch * macs / nbytes if nbytes else 0.0
    achieved = batch * macs / (time_ms * 1e6) if macs and time_ms else None
    if group_roof is not None:
        attainable, bound = group_roof
    elif ceiling and macs:
        roof = ceiling.memory_roof(nbytes)
        attainable, bound = ceiling.attainable(intensity, nbytes), \
            ceiling.bound(intensity, nbytes)
        if bound == "memory":
            extra.update(roof=roof.level, roof_bandwidth_gb_per_s=roof.bandwidth_gb_per_s)
    else:
        attainable, bound = None, ""
    return TimeRow(
        name=name, type_key=type_, layers=layers, macs=macs, executed_macs=executed,
        bytes=nbytes, intensity=intensity, time_ms=time_ms,
        time_pct=100.0 * time_ms / total_ms if time_ms is not None and total_ms else None,
        gmacs_per_s=achieved, attainable_gmacs_per_s=attainable,
        efficiency=achieved / attainable if achieved is not None and attainable else None,
        bound=bound, **extra)  # type: ignore[arg-type]


def attribute(costs: CostReport, nodes: Sequence[ProfiledNode], *, e2e_median_ms: float,
              batch: int, ceiling: Ceiling | None,
              exported: Collection[str] | None = None) -> Attribution:
    """Rows for every layer, type and non-layer node; ``exported``: the layers that have
    ONNX nodes (default: all), so a layer with none is told apart from one ORT removed."""
    kernel_sum_ms = sum(n.median_us for n in nodes) / 1000.0
    scale = e2e_median_ms / kernel_sum_ms if kernel_sum_ms else 0.0
    by_name = {c.name: c for c in costs.layers}
    time: dict[str, float] = {}
    executed: dict[str, int] = {}
    ort_nodes: dict[str, list[str]] = {}
    fused_into: dict[str, str] = {}
    other: list[ProfiledNode] = []
    for n in nodes:
        layers = [name for name in n.layers if name in by_name]
        if not layers:
            other.append(n)
            continue
        # the most MACs takes the time; on a tie, the last (the node's output layer)
        primary = max(layers, key=lambda name: (by_name[name].macs, layers.index(name)))
        time[primary] = time.get(primary, 0.0) + n.median_us / 1000.0 * scale
        ort_nodes.setdefault(primary, []).append(n.name)
        if n.executed_macs is not None:
            executed[primary] = executed.get(primary, 0) + n.executed_macs // batch
        for name in layers:
            if name != primary:
                fused_into.setdefault(name, primary)

    rows = []
    for c in costs.layers:
        t = time.get(c.name)
        into = fused_into.get(c.name) if t is None else None
        note = "" if t is not None or into else \
            NOT_SEEN if exported is None or c.name in exported else NOT_EXPORTED
        ex = executed.get(c.name)
        rows.append(make_row(
            c.name, c.type_key, layers=1, macs=c.macs,
            executed=ex if ex is not None else (None if c.macs else 0),
            nbytes=layer_bytes(c, batch), time_ms=t if t is not None else 0.0,
            total_ms=e2e_median_ms, batch=batch, ceiling=ceiling,
            ort_nodes=tuple(ort_nodes.get(c.name, ())), fused_into=into, note=note))

    non_layer = tuple(make_row(
        n.name, n.op_type, layers=0, macs=0, executed=None, nbytes=0,
        time_ms=n.median_us / 1000.0 * scale, total_ms=e2e_median_ms, batch=batch,
        ceiling=ceiling, ort_nodes=(n.name,), note="onnxruntime node outside any layer")
        for n in other)

    by_type, by_block = _rollups(costs, rows, non_layer, e2e_median_ms, batch, ceiling)
    total = _sum_rows("total", [*rows, *non_layer], e2e_median_ms, batch, ceiling)
    return Attribution(tuple(rows), by_type, by_block, non_layer, total, kernel_sum_ms)


def _rollups(costs: CostReport, rows: Sequence[TimeRow], non_layer: Sequence[TimeRow],
             total_ms: float, batch: int, ceiling: Ceiling | None
             ) -> tuple[dict[str, TimeRow], dict[str, TimeRow]]:
    """Rows summed per layer type (non-layer nodes as ``ort:<op>``) and per block."""
    groups: dict[str, list[TimeRow]] = {}
    for r in rows:
        groups.setdefault(r.type_key, []).append(r)
    for r in non_layer:
        groups.setdefault(f"ort:{r.type_key}", []).append(r)
    blocks: dict[str, list[TimeRow]] = {}
    for c, r in zip(costs.layers, rows, strict=True):
        blocks.setdefault(block_key(c), []).append(r)
    return ({key: _sum_rows(key, g, total_ms, batch, ceiling) for key, g in groups.items()},
            {key: _sum_rows(key, g, total_ms, batch, ceiling) for key, g in blocks.items()})


def _sum_rows(name: str, rows: Sequence[TimeRow], total_ms: float, batch: int,
              ceiling: Ceiling | None) -> TimeRow:
    known = all(r.executed_macs is not None or not r.macs for r in rows)
    return make_row(
        name, name, layers=sum(r.layers for r in rows), macs=sum(r.macs for r in rows),
        executed=sum(r.executed_macs or 0 for r in rows) if known else None,
        nbytes=sum(r.bytes for r in rows),
        time_ms=sum(r.time_ms or 0.0 for r in rows), total_ms=total_ms, batch=batch,
        ceiling=ceiling, group_roof=_group_roof(rows, batch))


def _group_roof(rows: Sequence[TimeRow], batch: int) -> tuple[float | None, str]:
    """Attainable GMAC/s and bound of a sum of rows: their MACs over the time they would
    take at their own roofs; bound by the roof that most of that time is spent under."""
    roofed = [r for r in rows if r.macs and r.attainable_gmacs_per_s]
    if not roofed:
        return None, ""
    at_roof = {b: sum(batch * r.macs / (r.attainable_gmacs_per_s * 1e6)  # type: ignore[operator]
                      for r in roofed if r.bound == b) for b in ("memory", "compute")}
    total = at_roof["memory"] + at_roof["compute"]
    return (batch * sum(r.macs for r in roofed) / (total * 1e6),
            "memory" if at_roof["memory"] >= at_roof["compute"] else "compute")
