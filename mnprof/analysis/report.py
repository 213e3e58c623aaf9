"""Cost, sweep and built-in-spec reports as data: the JSON contracts and the tables.

The JSON documents are versioned contracts that CI scripts parse (their names are
in ``mnprof.core.contracts``): ``mnprof.cost/1``, ``mnprof.sweep/1`` and
``mnprof.specs/1``. Add fields freely; never rename or remove one without bumping
the version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.contracts import COST_SCHEMA, SPECS_SCHEMA, SWEEP_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, human_bytes, pct, shape
from ..core.version import __version__
from .cost import CONVENTION, CostReport, LayerCost, Totals


def _totals_dict(t: Totals) -> dict[str, int]:
    return {"macs": t.macs, "flops": 2 * t.macs, "params": t.params,
            "params_framework": t.params_framework, "bias_params": t.bias_params,
            "bn_params": t.bn_params, "activations": t.activations, "bytes": t.bytes,
            "elementwise_ops": t.elementwise_ops, "layers": t.layers}


def _layer_dict(c: LayerCost) -> dict[str, Any]:
    return {"name": c.name, "type": c.type_key, "kind": c.kind, "inputs": list(c.inputs),
            "input_shape": list(c.input_shape), "output_shape": list(c.output_shape),
            "macs": c.macs, "params": c.params, "params_framework": c.params_framework,
            "bias_params": c.bias_params, "bn_params": c.bn_params,
            "activations": c.activations, "bytes": c.bytes,
            "intensity": round(c.intensity, 6), "elementwise_ops": c.elementwise_ops}


INT8_BYTES = ("bytes at int8 as deployed: 1 per activation and weight element, 4 per "
              "(int32) bias, 4 + 1 per output channel of a conv or fc (fp32 scale, int8 "
              "zero point)")


def cost_to_dict(r: CostReport) -> dict[str, Any]:
    t = r.totals
    totals = _totals_dict(t)
    totals["peak_activation_bytes"] = r.peak_activation_bytes
    out = _cost_dict(r, t, totals)
    if r.precision != "fp32":       # fp32 documents stay exactly as they were
        out = {**out, "precision": r.precision}
        out["units"] = {**out["units"], "bytes": INT8_BYTES}
    return out


def _cost_dict(r: CostReport, t: Totals, totals: dict[str, int]) -> dict[str, Any]:
    return {
        "schema": COST_SCHEMA,
        "mnprof_version": __version__,
        "model": r.model,
        "spec": r.spec,
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
        "by_block": {key: {**_totals_dict(v), "macs_pct": round(r.pct(v.macs, t.macs), 6)}
                     for key, v in r.by_block.items()},
        "source": r.source,
        "batch": r.batch,
        "metadata": dict(r.metadata),
        "not_modelled": r.not_modelled,
        "notes": list(r.notes),
    }


def _intensity(v: float) -> str:
    return f"{v:.1f}"


def cost_header(r: CostReport) -> str:
    c, h, w = r.input_shape
    if r.source == "onnx":
        meta = dict(r.metadata)
        made = (f" · exported by mnprof from {meta['spec']} at alpha {meta.get('alpha', '1')}"
                f", resolution {meta.get('resolution', h)}" if "spec" in meta else "")
        batch = f" · batch {r.batch} (counts per image)" if r.batch != 1 else ""
        return f"{r.model} · ONNX {r.spec} · input {h}x{w}x{c}{batch}{made}"
    depth = f" · depth {r.depth:g}" if r.depth != 1 else ""
    precision = f" · bytes at {r.precision}" if r.precision != "fp32" else ""
    return (f"{r.model} · alpha {r.alpha:g}{depth} · input {h}x{w}x{c}"
            + (f" · {r.spec}" if r.spec else "") + precision)


def notes_lines(r: CostReport, *, markdown: bool = False) -> str:
    """The report's notes as a list under the tables ("" when there are none)."""
    if not r.notes:
        return ""
    bullet = "- " if markdown else "* "
    return "\nNotes:\n" + "\n".join(bullet + n for n in r.notes) + "\n"


def layer_table(r: CostReport) -> Table:
    cols = (Column("#", key="index"), Column("layer", key="name", numeric=False),
            Column("type", numeric=False), Column("input", shape, "input_shape", False),
            Column("output", shape, "output_shape", False), Column("MACs", human, "macs"),
            Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("activations", human, "activations"), Column("bytes", human, "bytes"),
            Column("MAC/B", _intensity, "intensity"))
    rows = tuple((i, c.name, c.type_key, c.input_shape, c.output_shape, c.macs, c.params,
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
        (f"peak activation memory ({r.precision})", r.peak_activation_bytes,
         human_bytes(r.peak_activation_bytes)),
        (f"bytes moved ({r.precision})", t.bytes, human_bytes(t.bytes)),
        ("elementwise ops (not MACs)", t.elementwise_ops, human(t.elementwise_ops)),
    )
    note = INT8_BYTES if r.precision == "int8" else ""
    return Table("Totals", cols, tuple(rows), note=note)


def block_table(r: CostReport) -> Table:
    """One row per top-level block instance (a layer outside any block is its own row)."""
    t = r.totals
    cols = (Column("#", key="index"), Column("block", numeric=False, key="name"),
            Column("layers"), Column("MACs", human, "macs"), Column("% MACs", pct, "macs_pct"),
            Column("params", human, "params"), Column("fw params", human, "params_framework"),
            Column("activations", human, "activations"), Column("bytes", human, "bytes"),
            Column("MAC/B", _intensity, "intensity"))
    rows = tuple((i, k, v.layers, v.macs, r.pct(v.macs, t.macs), v.params, v.params_framework,
                  v.activations, v.bytes, v.intensity)
                 for i, (k, v) in enumerate(r.by_block.items(), 1))
    footer = (None, "total", t.layers, t.macs, 100.0 if t.macs else 0.0, t.params,
              t.params_framework, t.activations, t.bytes, t.intensity)
    return Table("Per block", cols, rows, footer)


def csv_table(r: CostReport) -> Table:
    """Every row for a spreadsheet: layers, then one row per type, then the total.

    The first column, ``section`` (layer, type or total), tells them apart, so a
    script summing a column over the layers filters on it.
    """
    cols = (Column("section", numeric=False), Column("#", key="index"),
            Column("layer", key="name", numeric=False), Column("type", numeric=False),
            Column("input", shape, "input_shape", False),
            Column("output", shape, "output_shape", False), Column("MACs", human, "macs"),
            Column("params", human, "params"), Column("fw params", human, "params_framework"),
            Column("activations", human, "activations"), Column("bytes", human, "bytes"),
            Column("MAC/B", _intensity, "intensity"),
            Column("elementwise", human, "elementwise_ops"), Column("layers"))

    def sums(section: str, name: str | None, key: str | None, t: Totals) -> tuple[Any, ...]:
        return (section, None, name, key, None, None, t.macs, t.params, t.params_framework,
                t.activations, t.bytes, t.intensity, t.elementwise_ops, t.layers)

    rows = [("layer", i, c.name, c.type_key, c.input_shape, c.output_shape, c.macs, c.params,
             c.params_framework, c.activations, c.bytes, c.intensity, c.elementwise_ops, 1)
            for i, c in enumerate(r.layers, 1)]
    rows += [sums("type", None, k, v) for k, v in r.by_type.items()]
    rows.append(sums("total", None, None, r.totals))
    return Table("Cost", cols, tuple(rows))


def cost_tables(r: CostReport, *, layers: bool = True, by: str = "layer") -> list[Table]:
    """The tables of a cost report: per layer (or per block), per type, totals."""
    first = [block_table(r)] if by == "block" else [layer_table(r)] if layers else []
    return [*first, type_table(r), totals_table(r)]


# ---------------------------------------------------------------------------
# Sweep


@dataclass(frozen=True)
class SweepRow:
    alpha: float
    resolution: int
    totals: Totals
    peak_activation_bytes: int


def sweep_row(c: CostReport) -> SweepRow:
    """The sweep row of one point's cost report."""
    return SweepRow(c.alpha, c.resolution, c.totals, c.peak_activation_bytes)


@dataclass(frozen=True)
class SweepReport:
    """Totals over a grid of widths and resolutions (alpha-major)."""

    model: str
    spec: str
    rows: tuple[SweepRow, ...]
    depth: float = 1.0
    # Latency per row, when measured (``sweep --bench``: the bench's LatencyStats,
    # rendered by ``mnprof.bench.report``) or predicted (``sweep --predict``: floats in
    # ms, rendered by ``mnprof.predict.report``).
    latencies: tuple[Any, ...] = ()
    latency_threads: int = 0
    latency_kind: str = ""              # "measured" | "predicted"
    interrupted: bool = False           # a measured sweep stopped by Ctrl-C
    latency_precision: str = ""         # "" (fp32) or how the int8 model timed was made
    latency_partial: bool = False       # ... inside its last measured row (fewer runs)
    latency_load: float | None = None   # the highest load average seen at a row's start
    prediction: Mapping[str, Any] | None = None     # predicted: the device profile used


def sweep_to_dict(r: SweepReport) -> dict[str, Any]:
    return {
        "schema": SWEEP_SCHEMA, "mnprof_version": __version__, "model": r.model,
        "spec": r.spec,
        "units": {"macs": "multiply-accumulates (1 MAC = 2 FLOPs)", "params": "count"},
        "rows": [{"alpha": x.alpha, "resolution": x.resolution, "macs": x.totals.macs,
                  "params": x.totals.params, "params_framework": x.totals.params_framework,
                  "activations": x.totals.activations,
                  "peak_activation_bytes": x.peak_activation_bytes} for x in r.rows],
    }


def sweep_table(r: SweepReport) -> Table:
    cols = (Column("alpha"), Column("resolution"), Column("MACs", human, "macs"),
            Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("peak act. memory", human_bytes, "peak_activation_bytes"))
    body = tuple((f"{x.alpha:g}", x.resolution, x.totals.macs, x.totals.params,
                  x.totals.params_framework, x.peak_activation_bytes) for x in r.rows)
    return Table(f"{r.model}: width x resolution", cols, body,
                 note="MACs: conv and fc multiply-accumulates; params: conv and fc weights")


# ---------------------------------------------------------------------------
# Built-in specs


@dataclass(frozen=True)
class SpecSummary:
    name: str
    description: str
    resolution: int
    totals: Totals
    alpha: float = 1.0


@dataclass(frozen=True)
class SpecsReport:
    """The built-in specs, each at its own alpha and resolution."""

    specs: tuple[SpecSummary, ...]


def specs_to_dict(r: SpecsReport) -> dict[str, Any]:
    return {"schema": SPECS_SCHEMA, "mnprof_version": __version__,
            "specs": [{"name": x.name, "description": x.description, "alpha": x.alpha,
                       "resolution": x.resolution, "macs": x.totals.macs,
                       "params": x.totals.params,
                       "params_framework": x.totals.params_framework} for x in r.specs]}


def specs_table(r: SpecsReport) -> Table:
    cols = (Column("spec", numeric=False, key="name"), Column("res", key="resolution"),
            Column("MACs", human, "macs"), Column("params", human, "params"),
            Column("fw params", human, "params_framework"),
            Column("description", numeric=False))
    body = tuple((x.name, x.resolution, x.totals.macs, x.totals.params,
                  x.totals.params_framework, x.description) for x in r.specs)
    return Table("Built-in specs", cols, body,
                 note="Use one by name: mnprof cost NAME --alpha A --res R")
