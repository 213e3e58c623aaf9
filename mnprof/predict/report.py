"""Prediction reports as data: the ``mnprof.predict/1`` JSON contract and the tables,
and the predicted-latency columns of a sweep.

Every figure here is labelled predicted: the JSON carries ``"predicted": true``
and the device profile it came from; table titles and notes say "predicted".
Add fields freely; never rename or remove one without bumping the version.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..core.contracts import PREDICT_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, ms, pct, shape
from ..core.version import __version__
from .predictor import PredictReport

UNITS = {"time": "milliseconds, predicted", "macs": "multiply-accumulates per image",
         "executed_macs": "MACs per image onnxruntime's kernels are given (padded channels)"}


def _r(v: float | None, digits: int = 6) -> float | None:
    return None if v is None else round(v, digits)


def _row(x: Any, total_macs: int) -> dict[str, Any]:
    return {"macs": x.macs, "executed_macs": x.executed_macs, "time_ms": _r(x.time_ms, 9),
            "time_pct": _r(x.time_pct),
            "macs_pct": _r(100.0 * x.macs / total_macs if total_macs else 0.0),
            "gmacs_per_s": _r(x.gmacs_per_s)}


def device_dict(r: PredictReport) -> dict[str, Any]:
    cal = dict(r.calibration)
    return {**asdict(r.device), "profile": r.profile_path, "this_machine": r.this_machine,
            "calibrated_at": cal.get("calibrated_at"), "held_out": cal.get("held_out"),
            "networks": cal.get("networks"), "kernel_samples": cal.get("kernel_samples")}


def predict_to_dict(r: PredictReport) -> dict[str, Any]:
    total = r.total.macs
    return {
        "schema": PREDICT_SCHEMA, "mnprof_version": __version__, "predicted": True,
        "model": r.model, "spec": r.spec, "source": r.source, "alpha": r.alpha,
        "resolution": r.resolution, "depth": r.depth, "input_shape": list(r.input_shape),
        "units": UNITS,
        "latency_ms": {"median": r.median_ms, "kernel_sum": r.kernel_sum_ms,
                       "overhead": r.overhead_ms, "kernels": len(r.kernels),
                       "batch": 1},
        "device": device_dict(r),
        "total": {**_row(r.total, total), "layers": r.total.layers},
        "by_type": {k: {"layers": v.layers, **_row(v, total)} for k, v in r.by_type.items()},
        "layers": [{"name": x.name, "type": x.type_key, **_row(x, total),
                    "kernels": list(x.ort_nodes), "fused_into": x.fused_into,
                    "note": x.note or None} for x in r.layers],
        "by_block": {k: {"layers": v.layers, **_row(v, total)} for k, v in r.by_block.items()},
        "non_layer": [{"name": x.name, "op_type": x.type_key, "time_ms": _r(x.time_ms, 9),
                       "time_pct": _r(x.time_pct)} for x in r.non_layer],
        "kernels": [{"name": k.name, "kind": k.kind, "layers": list(k.layers),
                     "time_ms": _r(k.time_ms, 9), "model": k.model} for k in r.kernels],
        "borrowed_models": dict(r.borrowed),
        "notes": list(r.notes),
    }



def _gmacs(v: float) -> str:
    return f"{v:.1f}"


def predict_header(r: PredictReport) -> str:
    what = r.model
    if r.alpha is not None:
        what += f" · alpha {r.alpha:g}"
    if r.depth != 1:
        what += f" · depth {r.depth:g}"
    return (f"{what} · input {shape(r.input_shape)} · PREDICTED for {r.device.cpu_model}, "
            f"{r.device.threads} thread(s), onnxruntime {r.device.onnxruntime_version}")


def latency_table(r: PredictReport) -> Table:
    cal = dict(r.calibration)
    held = cal.get("held_out") or {}
    cols = (Column("predicted end to end", numeric=False, key="metric"),
            Column("value", numeric=False, key="value"))
    rows = [("median (ms)", ms(r.median_ms)), ("kernels (ms)", ms(r.kernel_sum_ms)),
            ("per-node overhead (ms)", ms(r.overhead_ms)),
            ("onnxruntime kernels", str(len(r.kernels))),
            ("device profile", r.profile_path or "(in memory)")]
    if held:
        rows.append(("profile's held-out accuracy",
                     f"{100 * held.get('within_10pct', 0):.0f}% of {held.get('networks')} "
                     f"calibration networks within 10%"))
    return Table("Latency (predicted)", cols, tuple(rows))


def _time_cols(first: tuple[Column, ...]) -> tuple[Column, ...]:
    return (*first, Column("MACs", human, "macs"), Column("% MACs", pct, "macs_pct"),
            Column("pred ms", ms, "time_ms"), Column("% time", pct, "time_pct"),
            Column("GMAC/s", _gmacs, "gmacs_per_s"))


def _cells(x: Any, total_macs: int) -> tuple[Any, ...]:
    return (x.macs if x.layers else None,
            100.0 * x.macs / total_macs if total_macs and x.layers else None,
            x.time_ms, x.time_pct, x.gmacs_per_s)


def type_table(r: PredictReport) -> Table:
    t = r.total
    cols = _time_cols((Column("type", numeric=False), Column("layers")))
    rows = tuple((k, v.layers or None, *_cells(v, t.macs)) for k, v in r.by_type.items())
    return Table("Per layer type (predicted)", cols, rows, ("total", t.layers,
                                                            *_cells(t, t.macs)),
                 note="ort:* rows are onnxruntime kernels outside any layer (layout reorders)"
                 if r.non_layer else "")


def layer_table(r: PredictReport) -> Table:
    t = r.total
    cols = _time_cols((Column("#", key="index"), Column("layer", numeric=False, key="name"),
                       Column("type", numeric=False)))
    cols += (Column("kernel", numeric=False, key="kernels"),)
    rows = []
    for i, x in enumerate(r.layers, 1):
        where = f"fused into {x.fused_into}" if x.fused_into else ", ".join(x.ort_nodes) \
            or x.note or "(none)"
        rows.append((i, x.name, x.type_key, *_cells(x, t.macs), where))
    for x in r.non_layer:
        rows.append((None, x.name, f"ort:{x.type_key}", *_cells(x, t.macs), "not a layer"))
    return Table("Per layer (predicted)", cols, tuple(rows),
                 (None, "total", None, *_cells(t, t.macs), None))


def block_table(r: PredictReport) -> Table:
    t = r.total
    cols = _time_cols((Column("block", numeric=False, key="name"), Column("layers")))
    rows = tuple((k, v.layers, *_cells(v, t.macs)) for k, v in r.by_block.items())
    return Table("Per block (predicted)", cols, rows, ("total", t.layers, *_cells(t, t.macs)))


def predict_tables(r: PredictReport, *, layers: bool = False, by: str = "layer") -> list[Table]:
    tables = [latency_table(r), type_table(r)]
    if by == "block":
        tables.append(block_table(r))
    elif layers:
        tables.append(layer_table(r))
    return tables


def notes_text(r: PredictReport, *, markdown: bool = False) -> str:
    bullet = "- " if markdown else "* "
    return ("\n" if markdown else "") + "\n".join(bullet + n for n in r.notes) + "\n"


# ---------------------------------------------------------------------------
# ``mnprof sweep --predict``: a predicted-latency column on the sweep grid


def with_prediction(table: Table, data: dict[str, Any], r: Any) -> tuple[Table, dict[str, Any]]:
    """A sweep grid with a predicted-latency column (``r.latencies``: floats, ms)."""
    cols = (*table.columns, Column("predicted ms", ms, "predicted_latency_ms"))
    rows = tuple((*row, v) for row, v in zip(table.rows, r.latencies, strict=True))
    info = dict(r.prediction or {})
    note = (f"{table.note}; " if table.note else "") + \
        (f"latency: PREDICTED (not measured) from the device profile of "
         f"{info.get('device', '?')} ({info.get('profile', '?')})")
    if info.get("note"):
        note += f"; {info['note']}"
    out = {**data, "rows": [{**row, "predicted_latency_ms": v}
                            for row, v in zip(data["rows"], r.latencies, strict=True)],
           "prediction": {**info, "predicted": True, "units": {"predicted_latency_ms":
                                                                "milliseconds, predicted"}}}
    return Table(table.title, cols, rows, table.footer, note), out
