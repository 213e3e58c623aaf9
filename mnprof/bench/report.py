"""Bench reports as data: the ``mnprof.bench/1`` JSON contract and the tables.

Add fields freely; never rename or remove one without bumping the version.
Units: latencies and times in milliseconds; MACs per image; bytes and intensity
for the whole batch; GMAC/s = 10^9 multiply-accumulates per second; GB/s = 10^9
bytes per second; efficiency a fraction (0.5 = 50% of the attainable roof).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..core.contracts import BENCH_SCHEMA
from ..core.render import Column, Table
from ..core.units import human, human_bytes, ms, pct, shape
from ..core.version import __version__
from .int8_report import int8_dict, int8_header, int8_table, kernel_of
from .result import BenchReport, LatencyStats, TimeRow

UNITS = {"time": "milliseconds", "macs": "multiply-accumulates per image (1 MAC = 2 FLOPs)",
         "executed_macs": "MACs per image onnxruntime's kernels are given (padded channels)",
         "bytes": "fp32 bytes per batch: activations per image, weights once",
         "intensity": "MACs per byte", "gmacs_per_s": "10^9 MACs per second",
         "bandwidth": "10^9 bytes per second (read + written)",
         "efficiency": "achieved / attainable GMAC/s, a fraction",
         "roof_level": "the memory level whose bandwidth roof limits a memory-bound layer: "
                       "the smallest of L1, L2, L3, DRAM that holds its bytes",
         "throughput": "images per second at the batch size"}


def _r(v: float | None, digits: int = 6) -> float | None:
    return None if v is None else round(v, digits)


def latency_dict(s: LatencyStats) -> dict[str, Any]:
    return {"median": s.median, "p10": s.p10, "p90": s.p90, "mean": s.mean, "stdev": s.stdev,
            "cv": s.cv, "min": s.min, "max": s.max, "runs": s.runs, "batch": s.batch,
            "throughput_per_s": s.throughput}


def _row_dict(r: TimeRow) -> dict[str, Any]:
    return {"macs": r.macs, "executed_macs": r.executed_macs, "bytes": r.bytes,
            "intensity": _r(r.intensity), "time_ms": _r(r.time_ms, 9),
            "time_pct": _r(r.time_pct), "gmacs_per_s": _r(r.gmacs_per_s),
            "attainable_gmacs_per_s": _r(r.attainable_gmacs_per_s),
            "efficiency": _r(r.efficiency), "bound": r.bound or None,
            "roof_level": r.roof or None,
            "roof_bandwidth_gb_per_s": _r(r.roof_bandwidth_gb_per_s)}


def bench_to_dict(r: BenchReport) -> dict[str, Any]:
    out = _bench_dict(r)
    if r.int8 is not None:          # a float bench's document stays as it was
        out = {**out, "precision": r.precision, "int8": int8_dict(r.int8)}
        for row in out["layers"]:
            row["kernel"] = kernel_of(r, row["name"])
    return out


def _bench_dict(r: BenchReport) -> dict[str, Any]:
    total_macs = r.total.macs if r.total else 0
    p = r.profile
    return {
        "schema": BENCH_SCHEMA,
        "mnprof_version": __version__,
        "model": r.model,
        "spec": r.spec,
        "source": r.source,
        "alpha": r.alpha,
        "resolution": r.resolution,
        "input_shape": list(r.input_shape),
        "interrupted": r.interrupted,
        "units": UNITS,
        "environment": asdict(r.environment),
        "latency_ms": latency_dict(r.latency_ms),
        "machine": r.machine.to_dict() if r.machine else None,
        "profile": None if p is None else {
            "runs": p.runs, "profiled_median_ms": p.profiled_median_ms,
            "unprofiled_median_ms": p.unprofiled_median_ms,
            "overhead_pct": p.overhead_pct, "kernel_sum_ms": p.kernel_sum_ms,
            "scale": p.scale, "onnxruntime_nodes": p.nodes,
            "normalised_to": "end-to-end median"},
        "total": None if r.total is None else {**_row_dict(r.total), "layers": r.total.layers},
        "by_type": {k: {"layers": v.layers, **_row_dict(v),
                        "macs_pct": _r(100.0 * v.macs / total_macs if total_macs else 0.0)}
                    for k, v in r.by_type.items()},
        "layers": [{"name": x.name, "type": x.type_key, **_row_dict(x),
                    "onnxruntime_nodes": list(x.ort_nodes), "fused_into": x.fused_into,
                    "note": x.note or None} for x in r.layers],
        "by_block": {k: {"layers": v.layers, **_row_dict(v)} for k, v in r.by_block.items()},
        "non_layer": [{"name": x.name, "op_type": x.type_key, "time_ms": _r(x.time_ms, 9),
                       "time_pct": _r(x.time_pct)} for x in r.non_layer],
        "notes": list(r.notes),
    }


# ---------------------------------------------------------------------------
# Tables



def _one_decimal(v: float) -> str:
    return f"{v:.1f}"


def _eff(v: float) -> str:
    return f"{100 * v:.0f}%"


def bench_header(r: BenchReport) -> str:
    e = r.environment
    what = r.model
    if r.alpha is not None:
        what += f" · alpha {r.alpha:g}"
    if r.input_shape:
        what += f" · input {shape(r.input_shape)}"
    return (f"{what} · batch {e.batch} · onnxruntime {e.onnxruntime_version} · "
            f"{e.threads} thread(s) · optimisation {e.opt_level}" + int8_header(r)
            + (" · INTERRUPTED (partial)" if r.interrupted else ""))


def latency_table(r: BenchReport) -> Table:
    s = r.latency_ms
    cols = (Column("end to end", numeric=False, key="metric"), Column("value", key="value"))
    rows = (("median (ms)", ms(s.median)), ("p10 (ms)", ms(s.p10)), ("p90 (ms)", ms(s.p90)),
            ("mean (ms)", ms(s.mean)), ("stdev (ms)", ms(s.stdev)),
            ("coefficient of variation", pct(100 * s.cv)), ("min / max (ms)",
                                                             f"{ms(s.min)} / {ms(s.max)}"),
            ("timed runs", str(s.runs)), (f"throughput (images/s, batch {s.batch})",
                                          f"{s.throughput:.1f}"))
    return Table("Latency", cols, rows)


def _time_cols(first: tuple[Column, ...]) -> tuple[Column, ...]:
    return (*first, Column("MACs", human, "macs"), Column("% MACs", pct, "macs_pct"),
            Column("exec MACs", human, "executed_macs"), Column("time ms", ms, "time_ms"),
            Column("% time", pct, "time_pct"), Column("GMAC/s", _one_decimal, "gmacs_per_s"),
            Column("MAC/B", _one_decimal, "intensity"),
            Column("roof GMAC/s", _one_decimal, "attainable_gmacs_per_s"),
            Column("eff.", _eff, "efficiency"))


def _cells(x: TimeRow, total_macs: int) -> tuple[Any, ...]:
    executed = x.executed_macs if x.executed_macs != x.macs else None
    return (x.macs if x.layers else None,
            100.0 * x.macs / total_macs if total_macs and x.layers else None, executed,
            x.time_ms, x.time_pct, x.gmacs_per_s, x.intensity if x.macs else None,
            x.attainable_gmacs_per_s, x.efficiency)


def type_table(r: BenchReport) -> Table:
    assert r.total is not None
    t = r.total
    cols = _time_cols((Column("type", numeric=False), Column("layers")))
    rows = tuple((k, v.layers or None, *_cells(v, t.macs)) for k, v in r.by_type.items())
    footer = ("total", t.layers, *_cells(t, t.macs))
    return Table("Per layer type (measured vs theory)", cols, rows, footer,
                 note="exec MACs shown where onnxruntime runs more than the theory "
                      "(padded channels); ort:* rows are onnxruntime nodes outside any layer")


def layer_table(r: BenchReport) -> Table:
    assert r.total is not None
    t = r.total
    cols = _time_cols((Column("#", key="index"), Column("layer", numeric=False, key="name"),
                       Column("type", numeric=False)))
    cols += (Column("bound", numeric=False), Column("onnxruntime", numeric=False,
                                                    key="onnxruntime_nodes"))
    kernel = r.int8 is not None         # int8: which layers ran int8 kernels
    cols += (Column("kernel", numeric=False),) if kernel else ()
    rows = []
    for i, x in enumerate(r.layers, 1):
        where = (f"fused into {x.fused_into}" if x.fused_into else
                 ", ".join(x.ort_nodes) if x.ort_nodes else x.note or "(not seen)")
        rows.append((i, x.name, x.type_key, *_cells(x, t.macs), bound_text(x) or None, where)
                    + ((kernel_of(r, x.name),) if kernel else ()))
    for x in r.non_layer:
        rows.append((None, x.name, f"ort:{x.type_key}", *_cells(x, t.macs), None, "not a layer")
                    + ((None,) if kernel else ()))
    footer = (None, "total", None, *_cells(t, t.macs), None, None) + ((None,) if kernel else ())
    return Table("Per layer (measured vs theory)", cols, tuple(rows), footer)


def bound_text(x: TimeRow) -> str:
    """"compute", or the memory level whose roof limits the row ("L2", "DRAM")."""
    return x.roof or x.bound if x.bound == "memory" else x.bound


def machine_table(r: BenchReport) -> Table:
    m = r.machine
    assert m is not None
    cols = (Column("machine ceiling", numeric=False, key="metric"),
            Column("value", key="value"), Column("how", numeric=False, key="method"))
    origin = f"cached, measured {m.measured_at} ({_age(m.age_days)}" if m.cached \
        else f"measured now ({m.measured_at}"
    origin += ", load average " + ("unknown" if m.load_average is None
                                   else f"{m.load_average:.2f}") + ")"
    rows = [("peak GMAC/s", _one_decimal(m.peak_gmacs_per_s), m.gemm_method),
            ("memory bandwidth GB/s", f"{m.bandwidth_gb_per_s:.1f}", m.copy_method)]
    for roof in m.memory_roofs:
        if roof.capacity_bytes is not None:
            rows.append((f"{roof.level} bandwidth GB/s", f"{roof.bandwidth_gb_per_s:.1f}",
                         f"the roof of layers whose bytes fit in "
                         f"{human_bytes(roof.capacity_bytes)}"))
    if m.cache_method:
        rows.append(("cache roofs", "", m.cache_method))
    rows.append(("source", "", origin + "; `--remeasure` to redo"))
    return Table("Machine ceiling", cols, tuple(rows))


def _age(days: float | None) -> str:
    if days is None:
        return "age unknown"
    if days < 1:
        return f"{24 * days:.0f} hours ago" if days >= 1 / 24 else "less than an hour ago"
    return f"{days:.0f} day{'s' if round(days) != 1 else ''} ago"


def environment_table(r: BenchReport) -> Table:
    e = r.environment
    cols = (Column("environment", numeric=False, key="key"),
            Column("value", numeric=False, key="value"))
    rows = (("CPU", e.cpu_model),
            ("cores used / physical / logical",
             f"{e.cores_used} / {e.physical_cores} / {e.logical_cpus}"),
            ("onnxruntime", f"{e.onnxruntime_version} ({e.provider})"),
            ("threads (intra-op / inter-op)", f"{e.threads} / {e.inter_op_threads}"),
            ("execution mode", e.execution_mode), ("graph optimisation", e.opt_level),
            ("opset", "" if e.opset is None else str(e.opset)), ("batch", str(e.batch)),
            ("runs (timed / warm-up / min time)",
             f"{e.runs} / {e.warmup} / {e.min_time_s:g} s"),
            ("SIMD (NCHWc block, assumed)", f"{e.simd} ({e.nchwc_block} floats)"),
            ("thread spinning", e.spinning),
            ("python / numpy / platform", f"{e.python} / {e.numpy} / {e.platform}"),
            ("load average at start", "unknown" if e.load_average is None
             else f"{e.load_average:.2f} (1 min)"))
    return Table("Environment", cols, rows)


def block_table(r: BenchReport) -> Table:
    assert r.total is not None
    t = r.total
    cols = _time_cols((Column("block", numeric=False, key="name"), Column("layers")))
    rows = tuple((k, v.layers, *_cells(v, t.macs)) for k, v in r.by_block.items())
    return Table("Per block (measured vs theory)", cols, rows, ("total", t.layers,
                                                                  *_cells(t, t.macs)))


def bench_tables(r: BenchReport, *, layers: bool = False, by: str = "layer") -> list[Table]:
    tables = [latency_table(r)]
    if r.total is not None:
        tables.append(type_table(r))
        if by == "block" and r.by_block:
            tables.append(block_table(r))
        elif layers:
            tables.append(layer_table(r))
    if r.machine is not None:
        tables.append(machine_table(r))
    if r.int8 is not None:
        tables.append(int8_table(r))
    tables.append(environment_table(r))
    return tables


def notes_text(r: BenchReport, *, markdown: bool = False) -> str:
    if not r.notes:
        return ""
    bullet = "- " if markdown else "* "
    return ("\n" if markdown else "") + "\n".join(bullet + n for n in r.notes) + "\n"


# ---------------------------------------------------------------------------
# ``mnprof sweep --bench``: latency columns added to the sweep grid


def with_latency(table: Table, data: dict[str, Any], r: Any, *, ratios: bool = False
                 ) -> tuple[Table, dict[str, Any]]:
    """A sweep grid or a comparison with a latency column per row (a report whose
    ``latencies`` hold the bench's LatencyStats; ``ratios``: also latency / the first row's).

    A row not measured (Ctrl-C stopped the run) shows no latency; a row stopped inside
    its timed runs is marked PARTIAL; noisy rows and a busy machine are named.
    """
    lats = list(r.latencies) + [None] * (len(table.rows) - len(r.latencies))
    partial = len(r.latencies) - 1 if r.latency_partial else -1
    cols = (*table.columns, Column("median ms", ms, "latency_median_ms"),
            Column("p90 ms", ms, "latency_p90_ms"), Column("runs", key="latency_runs"))
    first = lats[0].median if lats and lats[0] and partial != 0 else None
    if ratios:
        cols += (Column("latency vs first", lambda v: f"{v:.2f}x", "latency_ratio"),)

    def cells(s: Any) -> tuple[Any, ...]:
        out = (s.median, s.p90, s.runs) if s else (None, None, None)
        if ratios:
            out += (s.median / first if s and first else None,)
        return out

    rows = tuple((*row, *cells(s)) for row, s in zip(table.rows, lats, strict=True))
    if r.interrupted:
        cols += (Column("latency", numeric=False, key="latency_status"),)
        rows = tuple((*row, "PARTIAL" if i == partial else "measured" if s else "not measured")
                     for i, (row, s) in enumerate(zip(rows, lats, strict=True)))
    labels = [f"{x.alpha:g}/{x.resolution}" if hasattr(x, "resolution") else str(x.label)
              for x in r.rows]
    notes = latency_notes(r, lats, partial, labels)
    precision = getattr(r, "latency_precision", "")
    note = (f"{table.note}; " if table.note else "") + \
        f"latency: onnxruntime on this CPU, {r.latency_threads} thread(s), median of timed runs" \
        + (f", model at {precision}" if precision else "")
    note += "".join(f"\n{n}" for n in notes)
    noisy = sum(1 for s in lats if _noisy(s))
    out = {**data, "rows": [{**row, "latency_ms": {**latency_dict(s), "partial": i == partial}
                             if s else None}
                            for i, (row, s) in enumerate(zip(data["rows"], lats, strict=True))],
           "bench": {"threads": r.latency_threads, "interrupted": r.interrupted,
                     "noisy_points": noisy, "load_average": r.latency_load, "notes": notes,
                     "units": {"latency_ms": "milliseconds"}}}
    if precision:           # a float run's document stays as it was
        out["bench"]["precision"] = precision
    return Table(table.title, cols, rows, table.footer, note), out


def _noisy(s: Any) -> bool:
    from .notes import NOISY_SPREAD
    return bool(s) and s.runs > 1 and s.median > 0 and s.p90 - s.p10 > NOISY_SPREAD * s.median


def latency_notes(r: Any, lats: list[Any], partial: int, labels: list[str]) -> list[str]:
    """What not to trust in timed rows: a Ctrl-C, noisy rows, a busy machine."""
    from .machine import is_busy
    from .notes import NOISY_SPREAD
    notes = []
    if r.interrupted:
        notes.append("INTERRUPTED (Ctrl-C): rows marked 'not measured' have no latency"
                     + (f"; the PARTIAL row was stopped after {lats[partial].runs} timed "
                        "runs, before its measurement was complete" if partial >= 0 else ""))
    noisy = [f"{label} ({100 * (s.p90 - s.p10) / s.median:.0f}%)"
             for label, s in zip(labels, lats, strict=False) if _noisy(s)]
    if noisy:
        what = "alpha/resolution " if labels and "/" in labels[0] else ""
        notes.append(f"NOISY: runs vary a lot ((p90 - p10) / median over "
                     f"{100 * NOISY_SPREAD:.0f}%) at {what}{', '.join(noisy)}: other "
                     "processes may share the cores, so latencies of different rows may "
                     "not compare; time on an idle machine, or with more --runs and "
                     "--min-time.")
    if r.latency_load is not None and is_busy(r.latency_load):
        notes.append(f"BUSY: the load average was {r.latency_load:.2f} when a row started: "
                     "latencies may be slower than on an idle machine and may not compare "
                     "between rows.")
    return notes
