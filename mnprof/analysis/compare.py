"""Models side by side: the V1 paper's Tables 8 and 9 for any set of models.

Each row is one model at its own width, depth and resolution; ratios are to the
first row (the paper's way: "MobileNet is 27x cheaper than VGG16"). ``mnprof
compare --bench`` adds measured latency (rendered by ``mnprof.bench.report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.contracts import COMPARE_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, human_bytes
from ..core.version import __version__
from .cost import CostReport, Totals


@dataclass(frozen=True)
class CompareRow:
    label: str                  # as the user wrote it
    model: str
    spec: str
    alpha: float
    depth: float
    resolution: int
    totals: Totals
    peak_activation_bytes: int

    @classmethod
    def of(cls, label: str, r: CostReport) -> CompareRow:
        return cls(label, r.model, r.spec, r.alpha, r.depth, r.resolution, r.totals,
                   r.peak_activation_bytes)


@dataclass(frozen=True)
class CompareReport:
    rows: tuple[CompareRow, ...]
    latencies: tuple[Any, ...] = ()     # measured LatencyStats per row (--bench)
    latency_threads: int = 0
    latency_kind: str = ""
    interrupted: bool = False
    latency_precision: str = ""         # "" (fp32) or how the int8 model timed was made
    latency_partial: bool = False       # Ctrl-C inside the last measured row (fewer runs)
    latency_load: float | None = None   # the highest load average seen at a row's start


def ratio(a: int | float, b: int | float) -> float | None:
    return a / b if b else None


def _ratio_text(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}x"


def compare_to_dict(r: CompareReport) -> dict[str, Any]:
    first = r.rows[0].totals
    return {
        "schema": COMPARE_SCHEMA, "mnprof_version": __version__,
        "units": {"macs": "multiply-accumulates (1 MAC = 2 FLOPs)", "params": "count",
                  "ratios": "this model / the first"},
        "rows": [{"label": x.label, "model": x.model, "spec": x.spec, "alpha": x.alpha,
                  "depth": x.depth, "resolution": x.resolution, "macs": x.totals.macs,
                  "params": x.totals.params, "params_framework": x.totals.params_framework,
                  "activations": x.totals.activations,
                  "peak_activation_bytes": x.peak_activation_bytes,
                  "macs_ratio": ratio(x.totals.macs, first.macs),
                  "params_ratio": ratio(x.totals.params, first.params)} for x in r.rows],
    }


def compare_table(r: CompareReport) -> Table:
    first = r.rows[0].totals
    cols = (Column("model", numeric=False, key="label"), Column("alpha"),
            Column("resolution"), Column("MACs", human, "macs"),
            Column("params", human, "params"), Column("fw params", human, "params_framework"),
            Column("peak act. memory", human_bytes, "peak_activation_bytes"),
            Column("MACs vs first", _ratio_text, "macs_ratio"),
            Column("params vs first", _ratio_text, "params_ratio"))
    rows = tuple((x.label, f"{x.alpha:g}", x.resolution, x.totals.macs, x.totals.params,
                  x.totals.params_framework, x.peak_activation_bytes,
                  ratio(x.totals.macs, first.macs), ratio(x.totals.params, first.params))
                 for x in r.rows)
    return Table("Models compared", cols, rows,
                 note=f"ratios: each model / {r.rows[0].label}; MACs: conv and fc "
                      "multiply-accumulates; params: conv and fc weights")
