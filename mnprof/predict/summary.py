"""What ``mnprof calibrate`` prints: the profile it saved and how good it is.

Accuracy figures here are the calibration's own, on held-out networks (each
kernel predicted by a model fitted without its network): an estimate made before
any validation on the built-ins (``mnprof predict --validate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.render import Column, Table
from .device import DeviceProfile


@dataclass(frozen=True)
class CalibrationReport:
    profile: DeviceProfile
    saved_to: str
    exported_to: str = ""


def calibration_to_dict(r: CalibrationReport) -> dict[str, Any]:
    p = r.profile
    return {"schema": "mnprof.calibration/1", "saved_to": r.saved_to,
            "exported_to": r.exported_to or None, "device": p.device.__dict__,
            "layout": {"block": p.layout.block, "align": p.layout.align},
            "overhead": p.overhead.__dict__, "calibration": p.calibration,
            "kernels": {k: {"samples": m.samples, "cv_error_pct": m.cv_error_pct,
                            "model": m.trees is not None} for k, m in p.kernels.items()}}


def calibration_header(r: CalibrationReport) -> str:
    return f"Device profile of {r.profile.device.describe()} · saved to {r.saved_to}"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}%"


def calibration_tables(r: CalibrationReport) -> list[Table]:
    p = r.profile
    c = p.calibration
    held = c.get("held_out") or {}
    load = c.get("load_average") or {}
    info = (("networks measured (refined)", f"{c.get('networks')} ({c.get('refined_networks')})"),
            ("kernel samples", str(c.get("kernel_samples"))),
            ("time (budget)", f"{c.get('elapsed_s', 0):.0f} s ({c.get('budget_s', 0):.0f} s)"),
            ("NCHWc layout", f"block {p.layout.block}, channels aligned to {p.layout.align}"),
            ("onnxruntime nodes not foreseen",
             f"{c.get('unmatched_nodes')} of {c.get('profiled_nodes')}"),
            ("end to end", f"{p.overhead.scale:.3f} x kernels + {p.overhead.per_node_us:.2f} "
                           f"us per kernel + {p.overhead.fixed_us:.1f} us"),
            ("held-out networks within 10% / 5%",
             f"{100 * held.get('within_10pct', 0):.0f}% / {100 * held.get('within_5pct', 0):.0f}%"
             f" (mean error {held.get('mape_pct', 0):.1f}%)"),
            ("load average (1 min) while measuring",
             f"{load.get('min', 0):.2f} to {load.get('max', 0):.2f}" if load else "unknown"))
    first = Table("Calibration", (Column("", numeric=False, key="what"),
                                  Column("value", numeric=False)), info,
                  note="held-out: each network predicted by models fitted without it")
    cols = (Column("kernel type", numeric=False, key="kind"), Column("samples"),
            Column("held-out median error", _pct, "cv_error_pct"),
            Column("model", numeric=False))
    rows = tuple((k, m.samples, m.cv_error_pct, "trees" if m.trees else "borrowed")
                 for k, m in sorted(p.kernels.items(), key=lambda kv: -kv[1].samples))
    return [first, Table("Kernel models", cols, rows,
                         note="a type with too few samples borrows a relative's model")]
