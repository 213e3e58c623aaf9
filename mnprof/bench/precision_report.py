"""The fp32-vs-int8 report as data: the ``mnprof.precision/1`` JSON contract and tables.

Add fields freely; never rename or remove one without bumping the version. Times in
milliseconds (each precision's kernel times scaled to its own end-to-end median);
speed-up = fp32 time / int8 time (above 1: int8 is faster); bytes are bytes.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..core.contracts import PRECISION_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, human_bytes
from ..core.version import __version__
from .int8_report import int8_table
from .precision import PrecisionReport, PrecisionRow
from .report import bench_to_dict, latency_dict, ms

UNITS = {"time": "milliseconds", "speedup": "fp32 time / int8 time (above 1: int8 faster)",
         "macs": "multiply-accumulates per image", "bytes": "bytes"}


def _speed(v: float) -> str:
    return f"{v:.2f}x"


def _row_dict(x: PrecisionRow) -> dict[str, Any]:
    return {"name": x.name, "type": x.type_key, "layers": x.layers, "macs": x.macs,
            "fp32_ms": x.fp32_ms, "int8_ms": x.int8_ms, "speedup": x.speedup,
            "int8_kernels": x.kernel or None}


def precision_to_dict(r: PrecisionReport) -> dict[str, Any]:
    a, b = r.fp32, r.int8
    assert b.int8 is not None
    return {
        "schema": PRECISION_SCHEMA, "mnprof_version": __version__, "model": a.model,
        "spec": a.spec, "alpha": a.alpha, "resolution": a.resolution,
        "input_shape": list(a.input_shape), "interrupted": r.interrupted, "units": UNITS,
        "quantization": dict(b.int8.quantization), "isa": list(b.int8.isa),
        "int8_isa": list(b.int8.int8_isa),
        "end_to_end": {"fp32": latency_dict(a.latency_ms), "int8": latency_dict(b.latency_ms),
                       "speedup": r.speedup},
        "footprint": {"fp32": asdict(r.fp32_footprint), "int8": asdict(r.int8_footprint)},
        "ran_as_float_kernels": list(b.int8.float_kernels),
        "fidelity": b.int8.fidelity.to_dict() if b.int8.fidelity else None,
        "by_type": [_row_dict(x) for x in r.by_type],
        "layers": [_row_dict(x) for x in r.layers],
        "benches": {"fp32": bench_to_dict(a), "int8": bench_to_dict(b)},
        "notes": list(r.notes),
    }


def precision_header(r: PrecisionReport) -> str:
    a = r.fp32
    e = a.environment
    what = a.model + (f" · alpha {a.alpha:g}" if a.alpha is not None else "")
    return (f"{what} · fp32 vs int8 · batch {e.batch} · onnxruntime {e.onnxruntime_version}"
            f" · {e.threads} thread(s)" + (" · INTERRUPTED (partial)" if r.interrupted else ""))


def summary_table(r: PrecisionReport) -> Table:
    a, b = r.fp32.latency_ms, r.int8.latency_ms
    f, g = r.fp32_footprint, r.int8_footprint
    cols = (Column("end to end", numeric=False, key="metric"),
            Column("fp32", numeric=False), Column("int8", numeric=False),
            Column("fp32 / int8", numeric=False, key="ratio"))

    def ratio(x: float, y: float) -> str:
        return _speed(x / y) if y else ""

    rows = (("median latency (ms)", ms(a.median), ms(b.median), ratio(a.median, b.median)),
            ("p10 - p90 (ms)", f"{ms(a.p10)} - {ms(a.p90)}", f"{ms(b.p10)} - {ms(b.p90)}", ""),
            ("timed runs", str(a.runs), str(b.runs), ""),
            ("model size on disk", human_bytes(f.model_bytes), human_bytes(g.model_bytes),
             ratio(f.model_bytes, g.model_bytes)),
            ("peak activation memory", human_bytes(f.peak_activation_bytes),
             human_bytes(g.peak_activation_bytes),
             ratio(f.peak_activation_bytes, g.peak_activation_bytes)),
            ("activation bytes moved", human_bytes(f.activation_bytes),
             human_bytes(g.activation_bytes), ratio(f.activation_bytes, g.activation_bytes)))
    return Table("fp32 vs int8", cols, rows,
                 note="speed-up = fp32 time / int8 time: above 1, int8 is faster")


def _cols(first: tuple[Column, ...]) -> tuple[Column, ...]:
    return (*first, Column("MACs", human, "macs"), Column("fp32 ms", ms, "fp32_ms"),
            Column("int8 ms", ms, "int8_ms"), Column("speed-up", _speed, "speedup"),
            Column("int8 kernels", numeric=False, key="int8_kernels"))


def type_table(r: PrecisionReport) -> Table:
    cols = _cols((Column("type", numeric=False), Column("layers")))
    body = [x for x in r.by_type if x.name != "total"]
    rows = tuple((x.type_key, x.layers or None, x.macs or None, x.fp32_ms, x.int8_ms, x.speedup,
                  x.kernel or None) for x in body)
    total = next((x for x in r.by_type if x.name == "total"), None)
    footer = ("total", total.layers, total.macs, total.fp32_ms, total.int8_ms, total.speedup,
              None) if total else None
    return Table("Per layer type: fp32 vs int8", cols, rows, footer,
                 note="ort:* rows: onnxruntime nodes outside any layer (layout reorders, "
                      "Transposes, QuantizeLinear / DequantizeLinear)")


def layer_table(r: PrecisionReport) -> Table:
    cols = _cols((Column("#", key="index"), Column("layer", numeric=False, key="name"),
                  Column("type", numeric=False)))
    rows = tuple((i, x.name, x.type_key, x.macs or None, x.fp32_ms, x.int8_ms, x.speedup,
                  x.kernel or None) for i, x in enumerate(r.layers, 1))
    return Table("Per layer: fp32 vs int8", cols, rows)


def precision_tables(r: PrecisionReport, *, layers: bool = False) -> list[Table]:
    tables = [summary_table(r), type_table(r)]
    if layers:
        tables.append(layer_table(r))
    if r.int8.int8 is not None:
        tables.append(int8_table(r.int8))
    return tables


def precision_notes(r: PrecisionReport, *, markdown: bool = False) -> str:
    notes = [*r.notes, *(f"fp32: {n}" for n in r.fp32.notes),
             *(f"int8: {n}" for n in r.int8.notes)]
    bullet = "- " if markdown else "* "
    return ("\n" if markdown else "") + "\n".join(bullet + n for n in notes) + "\n"
