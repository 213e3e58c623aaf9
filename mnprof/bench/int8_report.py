"""An int8 bench report's own parts: how the model was quantized, what ran in int8.

Rendered only for an int8 bench (``BenchReport.int8``); a float bench's JSON and
tables are unchanged.
"""

from __future__ import annotations

from typing import Any

from ..core.render import Column, Table
from ..core.units import human_bytes
from .result import BenchReport, Int8Summary

NO_VNNI = ("This CPU has no int8 dot-product instructions (no AVX-512 VNNI, AVX-VNNI or AMX): "
           "onnxruntime's x86 int8 kernels multiply u8 x s8 pairs into 16-bit sums "
           "(vpmaddubsw), so int8 gains less here than on a CPU with VNNI or AMX.")


def int8_dict(s: Int8Summary) -> dict[str, Any]:
    return {
        "quantization": dict(s.quantization), "described": s.described,
        "quantized_by": "onnxruntime.quantization (quant_pre_process, quantize_static)",
        "isa": list(s.isa), "int8_isa": list(s.int8_isa),
        "model_bytes": s.model_bytes, "fp32_model_bytes": s.fp32_model_bytes,
        "quantizer_left_float": list(s.quantizer_float),
        "kept_float_on_purpose": list(s.excluded),
        "ran_as_float_kernels": list(s.float_kernels),
        "kernels": {k: list(v) for k, v in s.kernels.items()},
        "int8_peak": s.peak.to_dict() if s.peak is not None else None,
        "fidelity": s.fidelity.to_dict() if s.fidelity is not None else None,
    }


def int8_header(r: BenchReport) -> str:
    return f" · int8 ({r.int8.described})" if r.int8 else ""


def kernel_of(r: BenchReport, layer: str) -> str | None:
    """"int8" or "fp32": what a layer's onnxruntime kernels computed on (int8 reports)."""
    if r.int8 is None or layer not in r.int8.kernels:
        return None
    return "fp32" if layer in r.int8.float_kernels or layer in r.int8.excluded else "int8"


def int8_table(r: BenchReport) -> Table:
    s = r.int8
    assert s is not None
    cols = (Column("int8 model", numeric=False, key="metric"),
            Column("value", numeric=False, key="value"))
    rows = [("quantization", s.described + " (onnxruntime quantize_static)"),
            ("CPU instruction sets", " ".join(s.isa) or "unknown"),
            ("int8 dot-product extensions", " ".join(s.int8_isa) or "none (no VNNI, no AMX)"),
            ("model size, int8 / fp32", f"{human_bytes(s.model_bytes)} / "
                                        f"{human_bytes(s.fp32_model_bytes)}")]
    if s.peak is not None:
        rows.append(("int8 peak GMAC/s", f"{s.peak.peak_gmacs_per_s:.1f} ({s.peak.method})"))
    if s.fidelity is not None:
        rows.append(("outputs vs fp32", s.fidelity.describe()))
    rows.append(("kept float on purpose", ", ".join(s.excluded) or "none"))
    rows.append(("quantizer left float", ", ".join(s.quantizer_float) or "none"))
    ran = s.float_kernels
    rows.append(("ran as float kernels", f"{len(ran)} layer(s), named in the notes" if ran
                 else "none"))
    return Table("int8", cols, tuple(rows))


def int8_notes(r: BenchReport) -> tuple[str, ...]:
    s = r.int8
    if s is None:
        return ()
    notes = []
    if not s.int8_isa and any(f in s.isa for f in ("avx2", "avx512f")):
        notes.append(NO_VNNI)
    if s.float_kernels:
        notes.append(
            f"{len(s.float_kernels)} layer(s) ran as float kernels between DequantizeLinear "
            f"and QuantizeLinear nodes: {', '.join(s.float_kernels)}. onnxruntime fuses a "
            "quantized "
            "group into an int8 kernel only when its types allow, and on x86 it converts "
            "int8 activations to uint8 only where a tensor has one consumer."
            + (" With uint8 activations (--activation-type uint8, U8S8) they may run in "
               "int8." if s.quantization.get("activations") == "int8" else ""))
    notes.append("int8 theory: a layer that ran int8 kernels is costed at 1 byte per "
                 "activation and weight (int32 bias, per-channel scale and zero point) under "
                 "the int8 roof (the integer GEMM peak); a layer that ran float kernels at "
                 "fp32 under the float roof; per-type and total rows use the int8 roof. "
                 "ort:QuantizeLinear / ort:DequantizeLinear rows are the quantize and "
                 "dequantize nodes onnxruntime kept; ort:Transpose rows its layout changes.")
    return tuple(notes)
