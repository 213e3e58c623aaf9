"""``mnprof sweep``: totals over a grid of widths and resolutions, optionally timed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from .. import api
from ..core.render import Format
from . import EXIT_INTERRUPTED, fail, main
from ._options import (
    ALPHA_LIST,
    DEPTH,
    RESOLUTION_LIST,
    dim_option,
    dims_of,
    emit,
    format_option,
    is_onnx,
    load_spec,
    output_option,
    spec_argument,
    spec_only,
    timing_options,
)
from ._progress import progress_bar

_DEFAULT_ALPHAS = "1,0.75,0.5,0.25"
_DEFAULT_RESOLUTIONS = "224,192,160,128"
SWEEP_BENCH = {"runs": 20, "warmup": 5, "min_time": 0.5}    # per grid point: a quick look


@main.command()
@spec_argument
@click.option("--alpha", "-a", "alphas", type=ALPHA_LIST, default=_DEFAULT_ALPHAS,
              show_default=True, help="Comma-separated width multipliers.")
@click.option("--res", "-r", "resolutions", type=RESOLUTION_LIST, default=_DEFAULT_RESOLUTIONS,
              show_default=True, help="Comma-separated input resolutions.")
@click.option("--depth", "-d", type=DEPTH, default=None, help="Depth multiplier (default: "
              "the spec's).")
@format_option(Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML)
@output_option
@click.option("--bench", "with_bench", is_flag=True,
              help="Add onnxruntime median latency columns (times every grid point).")
@timing_options(threads_default=None, threads_help="--bench: onnxruntime intra-op threads "
                "(default: physical cores).", scope="--bench: ")
@dim_option
@click.pass_context
def sweep(ctx: click.Context, spec: str | None, alphas: list[float], resolutions: list[int],
          depth: float | None, fmt: str, output: str | None, with_bench: bool,
          threads: int | None, runs: int, min_time: float, warmup: int,
          dims: tuple[tuple[str, int], ...]) -> None:
    """MACs and parameters of SPEC over a grid of widths and resolutions.

    The defaults reproduce Tables 6 and 7 of the MobileNetV1 paper in one grid.
    With --bench every point is timed (by default 20 runs and 0.5 s each, after 5
    warm-up runs: a quick look; the timing options change that). An ONNX file
    (MODEL.onnx) with symbolic height and width sweeps over --res only.
    """
    if is_onnx(spec):
        assert spec is not None
        spec_only(ctx, spec, "alphas", "depth")
        report = api.sweep(spec, None, resolutions, dims=dims_of(dims))
        if with_bench:
            timing = _sweep_timing(ctx, runs=runs, warmup=warmup, min_time=min_time)
            report = _with_latency(report, spec, None, threads,
                                   {**timing, "dims": dims_of(dims)})
        emit(report, fmt, output, protect=[spec])
        if report.interrupted:
            fail("interrupted; the sweep is partial")
            ctx.exit(EXIT_INTERRUPTED)
        return
    if dims:
        raise click.UsageError("--dim applies to ONNX models")
    spec_obj = load_spec(spec)
    report = api.sweep(spec_obj, alphas, resolutions, depth=depth)
    if with_bench:
        timing = _sweep_timing(ctx, runs=runs, warmup=warmup, min_time=min_time)
        report = _with_latency(report, spec_obj, depth, threads, timing)
        if report.interrupted:
            emit(report, fmt, output, protect=[spec_obj.path])
            fail("interrupted; the sweep is partial")
            ctx.exit(EXIT_INTERRUPTED)
    emit(report, fmt, output, protect=[spec_obj.path])


def _sweep_timing(ctx: click.Context, **given: Any) -> dict[str, Any]:
    """The quick per-point defaults, unless an option was given on the command line."""
    return {k: v if ctx.get_parameter_source(k.replace("-", "_")) is
            click.core.ParameterSource.COMMANDLINE else SWEEP_BENCH[k]
            for k, v in given.items()}


def _with_latency(report: Any, spec_obj: Any, depth: float | None, threads: int | None,
                  timing: dict[str, Any]) -> Any:
    """``report`` with each row's measured latency (Ctrl-C: the rows measured so far)."""
    from ..bench.result import BenchInterrupted
    out: list[Any] = []
    used, interrupted = 0, False
    with progress_bar() as progress:
        for i, row in enumerate(report.rows):
            if progress:
                progress(f"sweep: alpha {row.alpha:g}, resolution {row.resolution}", i,
                         len(report.rows))
            try:
                target = spec_obj if isinstance(spec_obj, str) else \
                    api.build(spec_obj, row.alpha, row.resolution, depth=depth)
                r = api.measure_latency(target, resolution=row.resolution if
                                        isinstance(spec_obj, str) else None, threads=threads,
                                        **timing)
            except (BenchInterrupted, KeyboardInterrupt):
                interrupted = True
                break
            used = r.threads
            if r.interrupted:         # stopped inside this point: not a full measurement
                interrupted = True
                break
            out.append(r.latency_ms)
    return replace(report, latencies=tuple(out), latency_threads=used,
                   latency_kind="measured", interrupted=interrupted)
