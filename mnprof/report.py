"""Cost and sweep reports as data: the JSON contract and the tables.

The JSON documents are versioned contracts that CI scripts parse:
``mnprof.cost/1`` and ``mnprof.sweep/1``. Add fields freely; never rename or
remove one without bumping the version. The bench's ``mnprof.bench/1`` is named
here too, so that ``mnprof check`` knows a bench report without loading the bench.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import __version__
from .cost import CONVENTION, CostReport, LayerCost, Totals
from .render import Column, Table
from .units import human, human_bytes, pct, shape

COST_SCHEMA = "mnprof.cost/1"
SWEEP_SCHEMA = "mnprof.sweep/1"
BENCH_SCHEMA = "mnprof.bench/1"        # written by mnprof.bench.report


def _totals_dict(t: Totals) -> dict[str, int]:
    return {"macs": t.macs, "flops": 2 * t.macs, "params": t.params,
            "params_framework": t.params_framework, "bias_params": t.bias_params,
            "bn_params": t.bn_params, "activations": t.activations, "bytes": t.bytes,
            "elementwise_ops": t.elementwise_ops, "layers": t.layers}


def _layer_dict(c: LayerCost) -> dict[str, Any]:
    return {"name": c.name, "type": c.type, "kind": c.kind, "inputs": list(c.inputs),
            "input_shape": list(c.input_shape), "output_shape": list(c.output_shape),
            "macs": c.macs, "params": c.params, "params_framework": c.params_framework,
            "bias_params": c.bias_params, "bn_params": c.bn_params,
            "activations": c.activations, "bytes": c.bytes,
            "intensity": round(c.intensity, 6), "elementwise_ops": c.elementwise_ops}


def cost_to_dict(r: CostReport, *, spec: str = "") -> dict[str, Any]:
    t = r.totals
    totals = _totals_dict(t)
    totals["peak_activation_bytes"] = r.peak_activation_bytes
    return {
        "schema": COST_SCHEMA,
        "mnprof_version": __version__,
        "model": r.model,
        "spec": spec,
        "alpha": r.alpha,
        "resolution": r.resolution,
        "input_shape": list(r.input_shape),
        "units": {"macs": "multiply-accumulates (1 MAC = 2 FLOPs)",
                  "params": "count", "activations": "elements",
                  "bytes": "bytes at fp32", "shapes": "[C, H, W] per image"},
        "convention": CONVENTION,
        "totals": totals,
        "by_type": {
            key: {**_totals_dict(v), "macs_pct": round(r.pct(v.macs, t.macs), 6),
                  "params_pct": round(r.pct(v.params, t.params), 6),
                  "params_framework_pct": round(r.pct(v.params_framework,
                                                      t.params_framework), 6)}
            for key, v in r.by_type.items()},
        "layers": [_layer_dict(c) for c in r.layers],
    }


def _intensity(v: float) -> str:
    return f"{v:.1f}"


def cost_header(r: CostReport, spec: str) -> str:
    c, h, w = r.input_shape
    return (f"{r.model} · alpha {r.alpha:g} · input {h}x{w}x{c}"
            + (f" · {spec}" if spec else ""))


def layer_table(r: CostReport) -> Table:
    cols = (Column("#", key="index"), Column("layer", key="name", numeric=False),
            Column("type", numeric=False), Column("input", shape, "input_shape", False),
            Column("output", shape, "output_shape", False), Column("MACs", human, "macs"),
            Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("activations", human, "activations"), Column("bytes", human, "bytes"),
            Column("MAC/B", _intensity, "intensity"))
    rows = tuple((i, c.name, c.type, c.input_shape, c.output_shape, c.macs, c.params,
                  c.params_framework, c.activations, c.bytes, c.intensity)
                 for i, c in enumerate(r.layers, 1))
    t = r.totals
    footer = (None, "total", None, None, None, t.macs, t.params, t.params_framework,
              t.activations, t.bytes, t.intensity)
    return Table("Per layer", cols, rows, footer)


def type_table(r: CostReport) -> Table:
    t = r.totals
    cols = (Column("type", numeric=False), Column("layers"), Column("MACs", human, "macs"),
            Column("% MACs", pct, "macs_pct"), Column("params", human, "params"),
            Column("% params", pct, "params_pct"),
            Column("fw params", human, "params_framework"),
            Column("MAC/B", _intensity, "intensity"))
    rows = tuple((k, v.layers, v.macs, r.pct(v.macs, t.macs), v.params,
                  r.pct(v.params, t.params), v.params_framework,
                  v.intensity) for k, v in r.by_type.items())
    footer = ("total", t.layers, t.macs, 100.0 if t.macs else 0.0, t.params,
              100.0 if t.params else 0.0, t.params_framework,
              t.intensity)
    return Table("Per layer type", cols, rows, footer,
                 note="MACs: conv and fc multiply-accumulates (1 MAC = 2 FLOPs); params: "
                      "conv and fc weights; fw params add biases and batch-norm scale/shift")


def totals_table(r: CostReport) -> Table:
    t = r.totals
    cols = (Column("total", numeric=False, key="metric"),
            Column("value", "{:,}".format, "exact"),
            Column("readable", numeric=True, key="readable"))
    rows = (
        ("MACs", t.macs, human(t.macs)),
        ("FLOPs (2 x MACs)", 2 * t.macs, human(2 * t.macs)),
        ("params (conv + fc weights)", t.params, human(t.params)),
        ("params, framework (+ bias, BN scale/shift)", t.params_framework,
         human(t.params_framework)),
        ("activations (output elements)", t.activations, human(t.activations)),
        ("peak activation memory (fp32)", r.peak_activation_bytes,
         human_bytes(r.peak_activation_bytes)),
        ("bytes moved (fp32)", t.bytes, human_bytes(t.bytes)),
        ("elementwise ops (not MACs)", t.elementwise_ops, human(t.elementwise_ops)),
    )
    return Table("Totals", cols, tuple(rows))


def cost_tables(r: CostReport, *, layers: bool = True) -> list[Table]:
    return [*([layer_table(r)] if layers else []), type_table(r), totals_table(r)]


# ---------------------------------------------------------------------------
# Sweep


@dataclass(frozen=True)
class SweepRow:
    alpha: float
    resolution: int
    totals: Totals
    peak_activation_bytes: int


def sweep_to_dict(model: str, rows: Sequence[SweepRow], *, spec: str = "") -> dict[str, Any]:
    return {
        "schema": SWEEP_SCHEMA, "mnprof_version": __version__, "model": model, "spec": spec,
        "units": {"macs": "multiply-accumulates (1 MAC = 2 FLOPs)", "params": "count"},
        "rows": [{"alpha": r.alpha, "resolution": r.resolution, "macs": r.totals.macs,
                  "params": r.totals.params, "params_framework": r.totals.params_framework,
                  "activations": r.totals.activations,
                  "peak_activation_bytes": r.peak_activation_bytes} for r in rows],
    }


def sweep_table(model: str, rows: Sequence[SweepRow]) -> Table:
    cols = (Column("alpha"), Column("resolution"), Column("MACs", human, "macs"),
            Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("peak act. memory", human_bytes, "peak_activation_bytes"))
    body = tuple((f"{r.alpha:g}", r.resolution, r.totals.macs, r.totals.params,
                  r.totals.params_framework, r.peak_activation_bytes) for r in rows)
    return Table(f"{model}: width x resolution", cols, body,
                 note="MACs: conv and fc multiply-accumulates; params: conv and fc weights")


# ---------------------------------------------------------------------------
# Built-in specs


@dataclass(frozen=True)
class SpecSummary:
    name: str
    description: str
    resolution: int
    totals: Totals


def specs_to_dict(rows: Sequence[SpecSummary]) -> dict[str, Any]:
    return {"schema": "mnprof.specs/1", "mnprof_version": __version__,
            "specs": [{"name": r.name, "description": r.description, "alpha": 1.0,
                       "resolution": r.resolution, "macs": r.totals.macs,
                       "params": r.totals.params,
                       "params_framework": r.totals.params_framework} for r in rows]}


def specs_table(rows: Sequence[SpecSummary]) -> Table:
    cols = (Column("spec", numeric=False, key="name"), Column("res", key="resolution"),
            Column("MACs", human, "macs"), Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("description", numeric=False))
    body = tuple((r.name, r.resolution, r.totals.macs, r.totals.params,
                  r.totals.params_framework, r.description) for r in rows)
    return Table("Built-in specs (alpha 1)", cols, body,
                 note="Use one by name: mnprof cost NAME --alpha A --res R")
