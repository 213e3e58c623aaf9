"""What a bench report says in words: how to read it, and when not to trust it."""

from __future__ import annotations

from ..core.units import human_bytes
from .machine import Ceiling, CpuInfo, is_busy
from .result import Environment, LatencyStats, ProfileSummary, TimeRow

NOTE_ROOFLINE = ("Roofline (cache-aware): attainable = min(peak, intensity x bandwidth), the "
                 "bandwidth that of the smallest memory level (L1, L2, L3, DRAM, each measured) "
                 "that holds the layer's bytes; intensity = theoretical MACs per fp32 byte of "
                 "input, weights and output (the cost report's estimate); efficiency = "
                 "achieved / attainable. Per type and in total: the time the layers would take "
                 "at their roofs over the time they took.")
OVER_ROOF = 1.0             # efficiency above this is explained, layer by layer
NEAR_LEVEL = 2.0            # a working set within this factor of a level's capacity
NOISY_SPREAD = 0.15         # (p90 - p10) / median; robust to a few outliers, unlike the cv
SCALE_RANGE = (0.8, 1.25)   # profile scale factors outside this make per-layer times doubtful
OLD_CEILING_DAYS = 30


def spread_notes(stats: LatencyStats, env: Environment,
                 ceiling: Ceiling | None = None) -> tuple[str, ...]:
    """Warnings when the runs vary a lot, the machine was busy, or the ceiling is doubtful."""
    notes = []
    if stats.runs >= 2 and (stats.p90 - stats.p10) > NOISY_SPREAD * stats.median:
        notes.append(
            f"Runs vary a lot ((p90 - p10) / median = "
            f"{100 * (stats.p90 - stats.p10) / stats.median:.0f}%, coefficient of variation "
            f"{100 * stats.cv:.0f}%): other processes may be sharing the cores (load "
            f"average {_load(env.load_average)} at the start). The median resists this, but "
            f"time on an idle machine for figures to compare.")
    elif is_busy(env.load_average, env.logical_cpus):
        notes.append(f"The machine looked busy when the bench started (load average "
                     f"{_load(env.load_average)} on {env.logical_cpus} CPUs): figures may be "
                     "slower than on an idle machine.")
    if ceiling is not None:
        notes += ceiling_notes(ceiling)
    return tuple(notes)


def ceiling_notes(c: Ceiling) -> list[str]:
    notes = []
    if c.measured_busy:
        notes.append(f"The machine ceiling was measured while the machine was busy (load "
                     f"average {_load(c.load_average)}): its peak and bandwidth may be low, "
                     "so efficiencies read high. Redo it on an idle machine with --remeasure.")
    age = c.age_days
    if age is not None and age > OLD_CEILING_DAYS:
        notes.append(f"The machine ceiling was measured {age:.0f} days ago; --remeasure "
                     "redoes it.")
    return notes


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def normalisation_notes(p: ProfileSummary) -> tuple[str, ...]:
    change = "slower" if p.overhead_pct >= 0 else "faster"
    notes = [f"Per-layer and per-type times: onnxruntime profiler kernel times (median of "
             f"{p.runs} runs of a separate profiled session), scaled by {p.scale:.3f} so that "
             f"they sum to the end-to-end median. A profiled run was "
             f"{abs(p.overhead_pct):.1f}% {change} than an unprofiled one "
             f"({p.profiled_median_ms:.3f} ms vs {p.unprofiled_median_ms:.3f} ms); kernels "
             f"account for {100.0 * p.kernel_sum_ms / p.profiled_median_ms:.1f}% of a "
             "profiled run."]
    if not SCALE_RANGE[0] <= p.scale <= SCALE_RANGE[1]:
        notes.append(f"UNRELIABLE per-layer times: the scale factor {p.scale:.3f} is far from "
                     "1, so the profiled session ran very differently from the timed one "
                     "(other processes, frequency changes, or time spent outside kernels). "
                     "Compare shares between layers, not absolute times; rerun on an idle "
                     "machine.")
    return tuple(notes)


def executed_note(cpu: CpuInfo) -> str:
    if cpu.nchwc_block > 1:
        return ("Executed MACs come from the weight shapes in onnxruntime's optimised graph: "
                f"NCHWc convs pad channel counts to blocks of {cpu.nchwc_block} floats "
                f"(assumed from the CPU's {cpu.simd} flags), so e.g. 24 channels run as 32. "
                "An estimate of the work given to the kernels, not a hardware count.")
    return ("Executed MACs come from the weight shapes in onnxruntime's optimised graph; no "
            "channel blocking is expected on this CPU (no AVX2 or AVX-512 flags).")


def over_roof_reason(row: TimeRow, ceiling: Ceiling) -> str:
    """Why a layer runs above its roof (efficiency > 100%): the likeliest cause."""
    if ceiling.measured_busy:
        return "the roofs were measured on a busy machine, so they read low"
    if row.bound != "memory":
        return ("above the measured GEMM peak: onnxruntime's kernel for this shape beats "
                "the MatMul that sets the peak")
    faster = [r for r in ceiling.memory_roofs
              if r.capacity_bytes is not None and r.capacity_bytes < row.bytes]
    if faster and row.bytes <= NEAR_LEVEL * faster[-1].capacity_bytes:  # type: ignore[operator]
        return (f"its {human_bytes(row.bytes)} are within {NEAR_LEVEL:g}x of what "
                f"{faster[-1].level} holds ({human_bytes(faster[-1].capacity_bytes or 0)}): "
                f"part of them is served from {faster[-1].level}")
    return ("part of its bytes come from a faster level than all of them fit in (the input "
            "the layer before just wrote, weights reused across rows of the output)")


def over_roof_notes(rows: tuple[TimeRow, ...], ceiling: Ceiling | None) -> tuple[str, ...]:
    """One note naming the layers above 100% of their roof, each with its likely reason."""
    over = [r for r in rows if r.efficiency is not None and r.efficiency > OVER_ROOF]
    if not over or ceiling is None:
        return ()
    items = "; ".join(f"{r.name} {100 * r.efficiency:.0f}% ({over_roof_reason(r, ceiling)})"
                      for r in sorted(over, key=lambda r: -(r.efficiency or 0)))
    return (f"{len(over)} layer(s) run above their roof: {items}.",)
